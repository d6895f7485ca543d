# Sourced by the load benchmarks (bench/webhooks.sh, bench/outreach.sh): a fresh database
# `$db` on the local cluster and the release server `$bin` serving `$site` on it.
#
#   db=kilat_bench_x; source bench/server-on-fresh-database.sh; start_server [VAR=value ...]
#
# Sets `work` (a scratch folder), `db_url`, and, once started, `port` and `pid`; removes the
# database, the folder and the server on exit. Needs psql, curl and python3.

# PostgreSQL's own programs, as the local cluster finds them.
pg_bin=${PG_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -n "$pg_bin" ] && export PATH="$pg_bin:$PATH"
port_of() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pid=

# The local cluster the app uses (started by `server migrate`).
"$bin" migrate >/dev/null
cluster_port=${LOCAL_POSTGRES_PORT:-54322}
admin_url="postgres://postgres@127.0.0.1:$cluster_port/postgres"
psql -q "$admin_url" -c "drop database if exists $db with (force)" -c "create database $db"
db_url="postgres://postgres@127.0.0.1:$cluster_port/$db"
cleanup() {
  [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  psql -q "$admin_url" -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts the server with the extra `VAR=value` settings given and waits until it is healthy.
start_server() {
  port=$(port_of)
  env LEPTOS_OUTPUT_NAME=kilat LEPTOS_SITE_ROOT="$site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_HASH_FILES=true \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_RELOAD_PORT="$(port_of)" LEPTOS_ENV=PROD \
    LOCAL_SUPABASE_PORT="$(port_of)" DATABASE_URL="$db_url" RUST_LOG=warn "$@" \
    "$bin" >"$work/server.log" 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/api/health" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
}
