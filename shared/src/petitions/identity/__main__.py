"""`python -m petitions.identity`: the development issuer's tools.

    mint --key KEY.pem --user u001 --role registrar --bureau 330102 [--name 张三] [--hours 8]
         [--department zhian --config bureaus.toml]
        prints a token (only the token, so `TOKEN=$(...)` works); a department must be one of
        the bureau configuration's (--config, default $PETITIONS_BUREAU_CONFIG), and the city
        bureau's
    jwks --key KEY.pem
        prints the public JWKS for PETITIONS_JWKS_FILE

--create makes the key file if it is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from petitions.identity.local_issuer import DEV_AUDIENCE, DEV_ISSUER, LocalIssuer
from petitions.identity.principal import Role

DEFAULT_KEY = ".devstack/data/issuer-key.pem"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m petitions.identity", description="开发用令牌签发 development token issuer"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in ("mint", "jwks"):
        sub = commands.add_parser(command)
        sub.add_argument("--key", default=DEFAULT_KEY, help=f"EC P-256 PEM (default {DEFAULT_KEY})")
        sub.add_argument("--create", action="store_true", help="generate the key if missing")
        if command == "mint":
            sub.add_argument("--user", required=True)
            sub.add_argument("--role", required=True, choices=[str(r) for r in Role])
            sub.add_argument("--bureau", required=True, help="e.g. 3301 (city) or 330102")
            sub.add_argument("--name")
            sub.add_argument("--department", help="city department code, e.g. zhian")
            sub.add_argument(
                "--config",
                default=os.environ.get("PETITIONS_BUREAU_CONFIG"),
                help="bureau configuration the department is checked against "
                "(default: $PETITIONS_BUREAU_CONFIG)",
            )
            sub.add_argument("--hours", type=float, default=8.0)
            sub.add_argument("--issuer", default=DEV_ISSUER)
            sub.add_argument("--audience", default=DEV_AUDIENCE)
    args = parser.parse_args(argv)
    try:
        if args.command == "mint" and args.department is not None:
            _check_department(args.department, args.bureau, args.config)
        issuer = LocalIssuer(args.key, create=args.create)
        if args.command == "jwks":
            print(json.dumps(issuer.jwks(), indent=2))
        else:
            print(
                issuer.mint(
                    args.user,
                    args.role,
                    args.bureau,
                    name=args.name,
                    ttl=timedelta(hours=args.hours),
                    audience=args.audience,
                    issuer=args.issuer,
                    department=args.department,
                )
            )
    except (OSError, ValueError) as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 1
    return 0


def _check_department(department: str, bureau: str, config_path: str | None) -> None:
    """A token naming a department the services do not know would only be refused there: say
    so here, where it can be fixed."""
    # Imported here: the key tools need no bureau configuration.
    from petitions.bureaus import ConfigError, load_config

    if not config_path:
        raise ValueError(
            "要校验部门代码，请用 --config 或 PETITIONS_BUREAU_CONFIG 指定单位配置文件 / give the "
            "bureau configuration (--config or PETITIONS_BUREAU_CONFIG) to check the department"
        )
    try:
        config = load_config(Path(config_path))
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    if not config.is_department(department):
        known = ", ".join(d.code for d in config.departments)
        raise ValueError(
            f"部门代码 {department!r} 不在单位配置中 / unknown department {department!r} "
            f"(configured: {known})"
        )
    if bureau != config.city.code:
        raise ValueError(
            f"部门属于市局 {config.city.code}，请用 --bureau {config.city.code} / departments "
            f"belong to the city bureau: use --bureau {config.city.code}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
