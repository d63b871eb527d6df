"""`python -m petitions.identity`: the development issuer's tools.

    mint --key KEY.pem --user u001 --role registrar --bureau 330102 [--name 张三] [--hours 8]
        prints a token (only the token, so `TOKEN=$(...)` works)
    jwks --key KEY.pem
        prints the public JWKS for PETITIONS_JWKS_FILE

--create makes the key file if it is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import timedelta

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
            sub.add_argument("--hours", type=float, default=8.0)
            sub.add_argument("--issuer", default=DEV_ISSUER)
            sub.add_argument("--audience", default=DEV_AUDIENCE)
    args = parser.parse_args(argv)
    try:
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
                )
            )
    except (OSError, ValueError) as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
