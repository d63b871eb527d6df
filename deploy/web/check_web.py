"""Static checks of the workbench's reverse proxy (deploy/check.sh runs this; no Docker engine and
no nginx binary here, so `nginx -t` cannot run: this parses what can be parsed).

    python3 deploy/web/check_web.py docker-compose.yml

Checks the nginx template's syntax (balanced blocks, every directive ended, only directives this
file is known to use), that its ${...} variables are PETITIONS_* ones the compose "web" service
hands over, that /auth-config.json renders to the JSON the workbench reads (never "dev"), that
/dev/ answers 404, that the three APIs are proxied on the same paths as devstack's gateway to
their compose services (prefix stripped), the deep-link fallback, one port throughout, the images
pinned, and that deploy/web/reference.json matches the demo bureau configuration.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy/web/default.conf.template"
DOCKERFILE = ROOT / "deploy/web/Dockerfile"
GATEWAY = ROOT / "deploy/local/src/devstack/gateway.py"
REFERENCE = ROOT / "deploy/web/reference.json"
# Directives this configuration may use, by where they may stand; a typo fails here.
KNOWN = {
    "upstream", "server", "listen", "server_name", "root", "server_tokens",
    "client_max_body_size", "add_header", "location", "default_type", "return", "access_log",
    "proxy_pass", "proxy_http_version", "proxy_set_header", "proxy_read_timeout", "try_files",
}  # fmt: skip
NGINX_VARIABLES = {"uri", "host", "scheme", "proxy_add_x_forwarded_for"}
CLAIMS = ("role", "bureau", "department", "name")


@dataclass
class Directive:
    name: str
    args: list[str]
    line: int
    block: list[Directive] | None = None
    children: list[Directive] = field(default_factory=list)


def tokens(text: str) -> list[tuple[str, int, bool]]:
    """(token, line, quoted): nginx's lexer in small: words, quoted strings, { } ;, # comments."""
    out: list[tuple[str, int, bool]] = []
    i, line = 0, 1
    while i < len(text):
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        elif c in "{};":
            out.append((c, line, False))
            i += 1
        elif c in "'\"":
            end = text.find(c, i + 1)
            while end > 0 and text[end - 1] == "\\":
                end = text.find(c, end + 1)
            if end < 0:
                raise SyntaxError(f"line {line}: unterminated {c}string")
            out.append((text[i + 1 : end], line, True))
            line += text.count("\n", i, end)
            i = end + 1
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in "{};'\"":
                i += 1
            out.append((text[start:i], line, False))
    return out


def parse(text: str) -> list[Directive]:
    stack: list[list[Directive]] = [[]]
    current: list[tuple[str, int, bool]] = []
    for word, line, quoted in tokens(text):
        if quoted or word not in "{};":
            current.append((word, line, quoted))
            continue
        if word == "}":
            if current:
                raise SyntaxError(f"line {line}: '{current[0][0]}' is not ended with ';'")
            if len(stack) == 1:
                raise SyntaxError(f"line {line}: '}}' without a block")
            stack.pop()
            continue
        if not current:
            raise SyntaxError(f"line {line}: '{word}' without a directive")
        name, first_line, _ = current[0]
        if name not in KNOWN:
            raise SyntaxError(f"line {first_line}: unknown directive {name!r}")
        directive = Directive(name, [t for t, _, _ in current[1:]], first_line)
        stack[-1].append(directive)
        current = []
        if word == "{":
            directive.block = directive.children
            stack.append(directive.children)
    if current:
        raise SyntaxError(f"line {current[0][1]}: '{current[0][0]}' is not ended with ';'")
    if len(stack) != 1:
        raise SyntaxError("a block is not closed with '}'")
    return stack[0]


def render(text: str, env: dict[str, str]) -> str:
    """As the nginx image's 20-envsubst-on-templates.sh with NGINX_ENVSUBST_FILTER=^PETITIONS_."""
    return re.sub(r"\$\{(PETITIONS_[A-Z0-9_]+)\}", lambda m: env.get(m.group(1), ""), text)


def find(directives: list[Directive], name: str, *args: str) -> list[Directive]:
    return [d for d in directives if d.name == name and d.args[: len(args)] == list(args)]


def one(directives: list[Directive], name: str, *args: str) -> Directive:
    found = find(directives, name, *args)
    if len(found) != 1:
        raise AssertionError(f"expected one '{name} {' '.join(args)}', found {len(found)}")
    return found[0]


def check(compose_path: Path) -> list[str]:
    import yaml  # check.sh picks a python with PyYAML

    ok: list[str] = []
    text = TEMPLATE.read_text(encoding="utf-8")
    compose = yaml.safe_load(compose_path.read_text(encoding="utf-8"))
    web = compose["services"]["web"]
    web_env = web.get("environment") or {}

    # -- variables --------------------------------------------------------------------------
    template_vars = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", text))
    wrong = sorted(v for v in template_vars if not v.startswith("PETITIONS_"))
    assert not wrong, f"${{...}} that envsubst (filter ^PETITIONS_) would not fill: {wrong}"
    missing = sorted(template_vars - set(web_env))
    assert not missing, f"compose service web does not pass {missing}"
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())  # comments out
    nginx_vars = set(re.findall(r"\$([a-z_]+)", re.sub(r"\$\{[^}]*\}", "", code)))
    unknown = sorted(nginx_vars - NGINX_VARIABLES)
    assert not unknown, f"nginx variables not in the known list (typo?): {unknown}"
    assert "NGINX_ENVSUBST_FILTER=^PETITIONS_" in DOCKERFILE.read_text(), (
        f"{DOCKERFILE.name} must set NGINX_ENVSUBST_FILTER=^PETITIONS_"
    )
    ok.append(f"template variables {sorted(template_vars)} all passed by compose service web")

    # -- syntax -----------------------------------------------------------------------------
    sample = {v: f"check-{v.lower()}" for v in template_vars}
    top = parse(render(text, sample))
    server = one(top, "server")
    assert server.block is not None
    ok.append(
        f"{TEMPLATE.name}: blocks balanced, directives ended, all known (parsed, not nginx -t)"
    )

    # -- one port ---------------------------------------------------------------------------
    port = one(server.children, "listen").args[0]
    published = [str(p).rsplit(":", 1)[-1] for p in web.get("ports", [])]
    assert published == [port], f"compose web publishes {published}, nginx listens on {port}"
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert f"EXPOSE {port}" in dockerfile, f"{DOCKERFILE.name} does not EXPOSE {port}"
    assert f"127.0.0.1:{port}/healthz" in dockerfile, f"HEALTHCHECK does not ask port {port}"
    one(server.children, "location", "=", "/healthz")
    ok.append(f"one port {port}: listen, compose ports, EXPOSE, HEALTHCHECK /healthz")

    # -- sign-in ----------------------------------------------------------------------------
    auth = one(server.children, "location", "=", "/auth-config.json")
    status, body = one(auth.children, "return").args
    assert status == "200", f"/auth-config.json returns {status}"
    config = json.loads(body)
    assert config["mode"] == "oidc", f"/auth-config.json mode {config['mode']!r}"
    assert config["issuer"] == sample["PETITIONS_OIDC_ISSUER"]
    assert config["client_id"] == sample["PETITIONS_WEB_OIDC_CLIENT_ID"]
    assert set(config["claims"]) == set(CLAIMS), config["claims"]
    assert '"dev"' not in code, "the deployment's proxy must never offer development sign-in"
    dev = one(server.children, "location", "^~", "/dev/")
    assert one(dev.children, "return").args == ["404"], "/dev/ must answer 404"
    ok.append("/auth-config.json renders to valid JSON (mode oidc, issuer, client_id, claims)")
    ok.append("/dev/ answers 404 (no development sign-in behind the proxy)")

    # -- the APIs, as devstack's gateway serves them ------------------------------------------
    found = re.search(r"^UPSTREAMS = \(([^)]*)\)", GATEWAY.read_text(encoding="utf-8"), re.M)
    assert found, f"no UPSTREAMS in {GATEWAY}"
    upstreams = re.findall(r'"([a-z]+)"', found.group(1))
    for name in upstreams:
        assert name in compose["services"], f"{name} is not a compose service"
        block = one(top, "upstream", name)
        servers = [d.args for d in block.children if d.name == "server"]
        assert servers == [[f"{name}:8000"]], f"upstream {name}: {servers}"
        location = one(server.children, "location", f"/{name}/")
        target = one(location.children, "proxy_pass").args
        assert target == [f"http://{name}/"], f"/{name}/ proxies to {target} (prefix kept?)"
        prefix = find(location.children, "proxy_set_header", "X-Forwarded-Prefix")
        assert prefix, f"/{name}/ lacks X-Forwarded-Prefix"
        assert prefix[0].args[1] == f"/{name}", f"/{name}/ forwards prefix {prefix[0].args}"
    ok.append(f"/{{{','.join(upstreams)}}}/ proxied to the compose services, prefix stripped")

    root = one(server.children, "location", "/")
    fallback = one(root.children, "try_files").args
    assert fallback[-1] == "/index.html", f"location / falls back to {fallback[-1]}"
    ok.append("deep links fall back to /index.html; /assets/ cached for good")

    # -- images pinned ------------------------------------------------------------------------
    for arg, image in re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", dockerfile, re.M):
        assert re.search(r":\d+\.\d+\.\d+-", image), f"{arg}={image} is not pinned to x.y.z"
    ok.append(f"{DOCKERFILE.name}: base images pinned")

    # -- the build stage copies what the build reads ------------------------------------------
    copied = set(re.findall(r"^COPY (?!--)(.+) \S+$", dockerfile, re.M))
    sources = {s for line in copied for s in line.split()}
    needed = {"web/package.json", "web/package-lock.json", "web/index.html", "web/vite.config.ts",
              "web/tsconfig.json", "web/src", "web/openapi"}  # fmt: skip
    lacking = sorted(needed - sources)
    assert not lacking, f"{DOCKERFILE.name} does not copy {lacking}"
    tracked = subprocess.run(
        ["git", "ls-files", "web"],  # noqa: S607 (git from PATH, as check.sh uses it)
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    present = {"/".join(path.split("/")[:2]) for path in tracked}
    unknown_files = sorted(present - needed - {"web/README.md", "web/scripts", "web/.gitignore"})
    assert not unknown_files, f"new in web/, decide whether the image build needs: {unknown_files}"
    ok.append(f"{DOCKERFILE.name} copies what `npm run build` reads")
    return ok


def reference_current() -> str:
    """deploy/web/reference.json == what the gateway serves for the demo configuration."""
    from devstack.gateway import reference
    from petitions.bureaus import load_config

    want = reference(load_config(ROOT / "deploy/config/bureaus.demo.toml"))
    have = json.loads(REFERENCE.read_text(encoding="utf-8"))
    assert have == want, (
        f"{REFERENCE} is stale: python -m devstack.gateway --print-reference > {REFERENCE}"
    )
    return f"{REFERENCE.relative_to(ROOT)} matches the demo bureau configuration"


if __name__ == "__main__":
    mode = sys.argv[1]
    try:
        lines = [reference_current()] if mode == "--reference" else check(Path(mode))
    except (AssertionError, SyntaxError, KeyError, ValueError) as exc:
        sys.exit(f"{type(exc).__name__}: {exc}")
    for line in lines:
        print(f"ok:   {line}")
