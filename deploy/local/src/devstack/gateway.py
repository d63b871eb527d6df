"""The workbench's one address under `make up`: the built front end (web/dist) and the three
APIs behind it on the same origin, so the browser needs no CORS and the intranet no CDN.

    /intake/...      -> intake      (its own paths: /intake/api/v1/submissions -> /api/v1/...)
    /assignment/...  -> assignment
    /reporting/...   -> reporting
    /reference.json  -> bureaus, categories, leaders from the bureau configuration (public)
    /auth-config.json -> how the workbench signs people in: "dev" (development sign-in) or
                         "oidc" (an identity provider, when PETITIONS_WEB_OIDC_CLIENT_ID is set)
    /dev/users, /dev/token  -> development sign-in, only when given the development issuer's key
                               and no identity provider is configured
    anything else    -> a file of web/dist, or index.html (the front end's own routes: deep links)

A deployment does the same with a real reverse proxy (nginx or Caddy) and signs people in at the
bureau's identity provider; this process is for one machine and is never part of an image.
"""

from __future__ import annotations

import argparse
import json
import os
import tomllib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from petitions.bureaus import BureauConfig, load_config
from petitions.identity import LocalIssuer, Role
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_DIST = REPO_ROOT / "web" / "dist"
DEMO_USERS = REPO_ROOT / "deploy" / "config" / "users.demo.toml"
UPSTREAMS = ("intake", "assignment", "reporting")
# Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are not forwarded; the body's
# length and encoding are set again by whoever sends it on.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


def demo_users(path: Path, config: BureauConfig) -> list[dict[str, str]]:
    """The development sign-in list, each user with the name of their bureau."""
    with path.open("rb") as handle:
        entries = tomllib.load(handle).get("users", [])
    users = []
    for entry in entries:
        role = Role(entry["role"])  # a typo fails at start-up, not at sign-in
        users.append(
            {
                "user": str(entry["user"]),
                "role": str(role),
                "role_label": role.label,
                "bureau": str(entry["bureau"]),
                "bureau_name": config.bureau_name(str(entry["bureau"])),
                "department": str(entry.get("department", "")),
                "name": str(entry["name"]),
            }
        )
    return users


def reference(config: BureauConfig) -> dict[str, Any]:
    """What the forms need to offer choices: public organisation data only."""

    def category(node: Any) -> dict[str, Any]:
        return {
            "code": node.code,
            "name": node.name,
            "name_en": node.name_en,
            "children": [category(child) for child in node.children],
        }

    return {
        "city": {"code": config.city.code, "name": config.city.name},
        "sub_bureaus": [
            {"code": s.code, "name": s.name, "name_en": s.name_en} for s in config.sub_bureaus
        ],
        "departments": [
            {"code": d.code, "name": d.name, "name_en": d.name_en} for d in config.departments
        ],
        # The city's leaders and each sub-bureau's (who own its cases, 包案), with their bureau.
        "leaders": [
            {"id": x.id, "name": x.name, "title": x.title, "bureau": bureau}
            for bureau in config.bureau_codes
            for x in config.leaders_of(bureau)
        ],
        "categories": [category(c) for c in config.categories],
        "collective_threshold": config.collective_threshold,
    }


def web_oidc_from_env(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The workbench's identity-provider settings (the same variables the deployment's proxy
    renders into /auth-config.json), or None when no web client is configured."""
    client_id = environ.get("PETITIONS_WEB_OIDC_CLIENT_ID")
    if not client_id:
        return None
    issuer = environ.get("PETITIONS_WEB_OIDC_ISSUER") or environ.get("PETITIONS_OIDC_ISSUER")
    if not issuer:
        raise SystemExit(
            "PETITIONS_WEB_OIDC_CLIENT_ID is set but no issuer: set PETITIONS_OIDC_ISSUER"
        )
    return {
        "mode": "oidc",
        "issuer": issuer,
        "client_id": client_id,
        "scope": environ.get("PETITIONS_WEB_OIDC_SCOPE", "openid profile"),
        "claims": {
            name: environ.get(f"PETITIONS_OIDC_{name.upper()}_CLAIM", name)
            for name in ("role", "bureau", "department", "name")
        },
    }


def create_app(
    upstreams: dict[str, str],
    dist: Path,
    config: BureauConfig,
    issuer_key: Path | None = None,
    users_file: Path = DEMO_USERS,
    web_oidc: dict[str, Any] | None = None,
) -> Starlette:
    # An identity provider switches the development sign-in off, whatever else is given: a
    # configuration that names a provider is a production-like one.
    issuer = LocalIssuer(issuer_key) if issuer_key is not None and web_oidc is None else None
    auth_config = web_oidc or ({"mode": "dev"} if issuer is not None else None)
    users = demo_users(users_file, config) if issuer is not None else []
    by_id = {u["user"]: u for u in users}
    reference_data = reference(config)
    # Idle connections are dropped well before uvicorn closes its side (5 s): reusing one just as
    # the service closes it fails the request with a ReadError (seen once in CI, on a POST after
    # the workbench had spent ~5 s on another service).
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(120, connect=5), limits=httpx.Limits(keepalive_expiry=2.0)
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    async def proxy(request: Request) -> Response:
        service = request.url.path.split("/", 2)[1]
        path = "/" + request.path_params["path"]
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        forwarded_for = request.client.host if request.client else ""
        headers.append(("x-forwarded-for", forwarded_for))
        headers.append(("x-forwarded-prefix", f"/{service}"))
        upstream = client.build_request(
            request.method,
            upstreams[service] + path,
            params=request.url.query,
            headers=headers,
            content=request.stream(),  # streamed through: an upload is never held whole here
        )
        try:
            answer = await client.send(upstream, stream=True)
        except httpx.TransportError as exc:
            return JSONResponse(
                {
                    "error": "upstream_unavailable",
                    "message": f"服务 {service} 暂不可用 / the {service} service is unavailable "
                    f"({type(exc).__name__})",
                },
                status_code=502,
            )
        return StreamingResponse(
            answer.aiter_raw(),
            status_code=answer.status_code,
            headers={k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP},
            background=BackgroundTask(answer.aclose),
        )

    async def list_users(_: Request) -> Response:
        if issuer is None:
            return JSONResponse({"error": "not_found", "message": "无开发登录"}, status_code=404)
        return JSONResponse({"users": users})

    async def mint(request: Request) -> Response:
        if issuer is None:
            return JSONResponse({"error": "not_found", "message": "无开发登录"}, status_code=404)
        try:
            body = await request.json()
            chosen = by_id[str(body["user"])]
        except (ValueError, KeyError, TypeError):
            return JSONResponse(
                {"error": "unknown_user", "message": "没有这个演示用户 / no such demo user"},
                status_code=422,
            )
        token = issuer.mint(chosen["user"], chosen["role"], chosen["bureau"], name=chosen["name"])
        return JSONResponse({"token": token, "user": chosen})

    async def reference_json(_: Request) -> Response:
        return JSONResponse(reference_data)

    async def auth_config_json(_: Request) -> Response:
        if auth_config is None:
            return JSONResponse(
                {"mode": "none", "problem": "neither an identity provider nor development sign-in"}
            )
        return JSONResponse(auth_config, headers={"Cache-Control": "no-cache"})

    async def health(_: Request) -> Response:
        return JSONResponse(
            {"service": "gateway", "ok": True, "dist": (dist / "index.html").is_file()}
        )

    root = dist.resolve()

    async def static(request: Request) -> Response:
        relative = request.path_params.get("path", "")
        candidate = (root / relative).resolve()
        # Only files under dist; "..", or a path to a folder, falls back to the app itself.
        if relative and candidate.is_relative_to(root) and candidate.is_file():
            # Vite names assets by content hash: they can be cached for good.
            cache = (
                "public, max-age=31536000, immutable"
                if relative.startswith("assets/")
                else "no-cache"
            )
            return FileResponse(candidate, headers={"Cache-Control": cache})
        index = root / "index.html"
        if not index.is_file():
            return Response(
                "工作台尚未构建 the workbench is not built: run `make web`\n",
                status_code=503,
                media_type="text/plain; charset=utf-8",
            )
        # index.html is never cached, so a rebuilt workbench is picked up on the next load.
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    routes = [
        Route("/health", health),
        Route("/reference.json", reference_json),
        Route("/auth-config.json", auth_config_json),
        Route("/dev/users", list_users),
        Route("/dev/token", mint, methods=["POST"]),
        # Only the three services are proxied; any other first segment is the front end's.
        *[Route(f"/{name}/{{path:path}}", proxy, methods=methods) for name in upstreams],
        Route("/{path:path}", static),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m devstack.gateway")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PETITIONS_GATEWAY_PORT", "8000"))
    )
    parser.add_argument("--dist", type=Path, default=DEFAULT_DIST)
    parser.add_argument("--issuer-key", type=Path, default=None, help="enables development sign-in")
    parser.add_argument(
        "--print-reference",
        action="store_true",
        help="print /reference.json for the bureau configuration and exit (the deployment's "
        "reverse proxy serves it as a file: deploy/web/reference.json)",
    )
    args = parser.parse_args(argv)
    upstreams = {
        name: os.environ.get(f"PETITIONS_{name.upper()}_URL", f"http://127.0.0.1:{port}")
        for name, port in zip(UPSTREAMS, (8001, 8002, 8003), strict=True)
    }
    config = load_config(
        os.environ.get("PETITIONS_BUREAU_CONFIG")
        or REPO_ROOT / "deploy" / "config" / "bureaus.demo.toml"
    )
    if args.print_reference:
        print(json.dumps(reference(config), ensure_ascii=False, indent=1))
        return 0
    app = create_app(
        upstreams, args.dist, config, args.issuer_key, web_oidc=web_oidc_from_env(os.environ)
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
