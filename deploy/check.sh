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
EXPECTED_SERVICES="assignment intake nats postgres reporting"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok:   $*"; }

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
  services=$("${COMPOSE[@]}" -f "$COMPOSE_FILE" config --services | sort | xargs)
  [ "$services" = "$EXPECTED_SERVICES" ] || fail "services are '$services', expected '$EXPECTED_SERVICES'"
  ok "services: $services"
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
' "$DOCKERFILE")
[ -z "$bad" ] || fail "$DOCKERFILE has lines that are not instructions:
$bad"
ok "$DOCKERFILE: every line is a known instruction"

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

# --- deploy/nats/nats.conf, deploy/postgres ----------------------------------
nats_bin=$(command -v nats-server || true)
[ -n "$nats_bin" ] || { [ -x .venv/bin/nats-server ] && nats_bin=.venv/bin/nats-server; } || true
if [ -n "$nats_bin" ]; then
  out=$("$nats_bin" -t -c "$NATS_CONF" 2>&1) || fail "$NATS_CONF rejected by $nats_bin: $out"
  ok "$NATS_CONF valid ($("$nats_bin" --version))"
else
  echo "skip: no nats-server binary to test $NATS_CONF"
fi
grep -Eq '^[[:space:]]*jetstream' "$NATS_CONF" || fail "$NATS_CONF does not enable JetStream"
ls deploy/postgres/*.sql >/dev/null 2>&1 || fail "no init SQL in deploy/postgres"
grep -qi 'CREATE DATABASE petitions' deploy/postgres/*.sql || fail "init SQL does not create database petitions"
ok "$NATS_CONF enables JetStream; deploy/postgres creates database petitions"

echo "deploy/check.sh: all checks passed"
