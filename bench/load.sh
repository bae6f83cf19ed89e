#!/usr/bin/env bash
# Load test: gunicorn (gthread workers) with production settings on 127.0.0.1, driven by wrk on
# the main pages and, for scale, on whitenoise serving a static file of the same size as each
# page in the same run (the physical limit of this machine and server). Writes the results into
# docs/benchmarks.md (between its result markers; the text around them is kept).
#
#   bench/load.sh                                  # 30 s per URL, 16 connections
#   DURATION=5s bench/load.sh                      # a quick look
#
# Settings (environment): DURATION (30s), CONNECTIONS (16), WRK_THREADS (2), WORKERS (2),
# THREADS (8), LOAD_DATABASE_URL (postgres://postgres@127.0.0.1:5432/palimpsest_load: dropped
# and recreated, so its name must contain "load"), OUT (docs/benchmarks.md).
# Installs Debian's wrk when it is missing. Only loopback traffic; every wrk run is bounded by
# DURATION, so the whole script takes about 10 x DURATION plus a minute of setup.
# Exit status 1 when any page answered anything but 2xx.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-16}
WRK_THREADS=${WRK_THREADS:-2}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-8}
DB_URL=${LOAD_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/palimpsest_load}
OUT=${OUT:-docs/benchmarks.md}
PY=.venv/bin/python
HEADER="X-Forwarded-Proto: https"  # as a TLS-terminating proxy sends it; SSL redirect stays on

# label|path[|reviewer]: the pages measured, anonymously unless "reviewer" (signed in as a
# user with the Reviewer role, with a session and CSRF cookie as a browser has them after
# signing in). A page whose route does not exist (404) is skipped.
PAGES=(
  "home|/"
  "company (psiphon3.com, 3 captures)|/companies/psiphon3.com/"
  "capture (livejournal.com, 2017)|/companies/livejournal.com/2017-04-03/"
  "capture (live.com, 34,000 words)|/companies/live.com/2019-12-31/"
  "compare (psiphon3.com, 2018 vs 2019)|/companies/psiphon3.com/compare/2018-07-21...2019-12-09/"
  "capture signed in as a reviewer (livejournal.com, 2017)|/companies/livejournal.com/2017-04-03/|reviewer"
  "search (\"third parties\")|/search/?q=third+parties"
)

db_name=${DB_URL##*/}
db_name=${db_name%%\?*}
if [[ $db_name != *load* ]]; then
  echo "refusing to recreate database '$db_name': its name must contain 'load'" >&2
  exit 2
fi

if ! command -v wrk >/dev/null 2>&1; then
  echo "Installing wrk (Debian package)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
fi

work=$(mktemp -d)
server_pid=""
stop_server() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

export DEBUG=0 ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=$DB_URL STATIC_ROOT=$work/static LOG_LEVEL=ERROR
SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export SECRET_KEY

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "Database $db_name: recreating, migrating, importing sample_data"
psql -q "${DB_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS \"$db_name\"" \
  -c "CREATE DATABASE \"$db_name\""
$PY manage.py migrate --no-input -v 0
$PY manage.py import_policies --no-progress sample_data | tail -n 1
$PY manage.py collectstatic --no-input -v 0
# A reviewer's session, made directly (signing in through the form would meet the throttling).
REVIEWER_COOKIE=$($PY manage.py shell -v 0 -c '
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.middleware.csrf import _get_new_csrf_string
user = get_user_model().objects.create_user("bench-reviewer")
user.groups.add(Group.objects.get(name="Reviewer"))
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(f"sessionid={session.session_key}; csrftoken={_get_new_csrf_string()}")
')

port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

start_server() {
  .venv/bin/gunicorn config.wsgi -k gthread --workers "$WORKERS" --threads "$THREADS" \
    --bind "127.0.0.1:$port" --log-level warning &
  server_pid=$!
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null -H "$HEADER" "$base/static/css/palimpsest.css" 2>/dev/null; then
      return
    fi
    sleep 0.1
  done
  echo "gunicorn did not start on $base" >&2
  exit 1
}

# Warm each page (its first render is cached in the database) and keep its body: the static
# twin served by whitenoise is that same body, byte for byte.
start_server
mkdir -p "$STATIC_ROOT/bench"
measured=()
# The page's label, path and who asks for it (label, path, cookie header for curl and wrk).
page_fields() {
  IFS='|' read -r label path who <<<"${PAGES[$1]}"
  cookie=()
  if [[ $who == reviewer ]]; then
    cookie=(-H "Cookie: $REVIEWER_COOKIE")
  fi
}

for n in "${!PAGES[@]}"; do
  page_fields "$n"
  status=$(curl -sS -o "$work/page-$n.html" -w '%{http_code}' -H "$HEADER" "${cookie[@]}" \
    "$base$path")
  if [[ $status == 404 ]]; then
    echo "skipped $label: $path is not a page here (404)"
    continue
  fi
  if [[ $status != 200 ]]; then
    echo "$label: $path answered $status while warming" >&2
    exit 1
  fi
  curl -sS -o "$work/page-$n.html" -H "$HEADER" "${cookie[@]}" "$base$path"  # from the cache
  cp "$work/page-$n.html" "$STATIC_ROOT/bench/page-$n.html"
  measured+=("$n")
done
stop_server
start_server  # whitenoise lists STATIC_ROOT once, at start-up

results=$work/results.tsv
: >"$results"
for n in "${measured[@]}"; do
  page_fields "$n"
  bytes=$(stat -c %s "$work/page-$n.html")
  echo "wrk $DURATION, $CONNECTIONS connections: $label ($bytes bytes), then its static twin"
  page=$(wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "$DURATION" --timeout 10s -H "$HEADER" \
    "${cookie[@]}" -s bench/wrk_report.lua "$base$path" | tail -n 1)
  static=$(wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "$DURATION" --timeout 10s -H "$HEADER" \
    -s bench/wrk_report.lua "$base/static/bench/page-$n.html" | tail -n 1)
  printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$path" "$bytes" "$page" "$static" >>"$results"
done
stop_server

$PY bench/load_report.py "$results" --out "$OUT" --duration "$DURATION" \
  --connections "$CONNECTIONS" --wrk-threads "$WRK_THREADS" --workers "$WORKERS" \
  --threads "$THREADS" --load-before "$load_before" --load-after "$(cut -d' ' -f1-3 /proc/loadavg)"
