"""Write each service's OpenAPI document to a folder, without starting anything: `make web-types`
feeds them to openapi-typescript so the workbench's API types follow the services' code.

The apps are built with throwaway settings (no connection is made before start-up) and the demo
bureau configuration, which only shapes enumerations the documents may mention."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import tempfile
from pathlib import Path

from devstack.cli import DEMO_BUREAU_CONFIG, SERVICES


def document(service: str) -> dict[str, object]:
    main = importlib.import_module(f"{service}.main")
    app = main.create_app()
    return dict(app.openapi())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.openapi")
    parser.add_argument("out", type=Path, help="folder for <service>.json")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        # A token verifier needs an issuer and a key set to be built; a throwaway key will do,
        # since nothing is ever verified here.
        from petitions.identity import LocalIssuer

        jwks = Path(scratch) / "jwks.json"
        jwks.write_text(json.dumps(LocalIssuer(Path(scratch) / "k.pem", create=True).jwks()))
        os.environ["PETITIONS_OIDC_ISSUER"] = "http://127.0.0.1/openapi-dump"
        os.environ["PETITIONS_JWKS_FILE"] = str(jwks)
        os.environ.pop("PETITIONS_JWKS_URL", None)
        os.environ.setdefault("PETITIONS_BUREAU_CONFIG", str(DEMO_BUREAU_CONFIG))
        for service in SERVICES:
            path = args.out / f"{service}.json"
            text = json.dumps(document(service), ensure_ascii=False, indent=2, sort_keys=True)
            path.write_text(text + "\n", encoding="utf-8")
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
