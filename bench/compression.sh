#!/usr/bin/env bash
# What compressing pages costs and saves, per encoding and level, for ./scripts/bench (which
# appends its table to bench/results.md); runs on its own too, in about a minute.
#
# Usage: bench/compression.sh SERVER_BIN LEVELS_BIN SITE_ROOT
#   SERVER_BIN  a release build of the server
#   LEVELS_BIN  the release build of server/examples/compression_levels.rs
#   SITE_ROOT   the site root that build serves (target/site)
#
# The landing page as the release server renders it is compressed at every level through the
# server's own compression layer (bytes, and CPU µs per response). wrk then loads the real
# server three times — plain, brotli, gzip at the shipped level — while the server's CPU time
# is read from /proc: CPU per page is what a level costs whatever else the machine is doing
# (wrk's req/s is also recorded, but sinks whenever the machine is busy). The other levels'
# CPU per page is the plain page's plus their compression, so no rebuild per level is needed;
# the measured shipped rows show how close that estimate is. Prints Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 3 ] || { echo "usage: $0 SERVER_BIN LEVELS_BIN SITE_ROOT" >&2; exit 64; }
bin=$1 levels_bin=$2 site=$3
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }
work=$(mktemp -d)
# Stops the server if it is still running, and leaves nothing behind.
stop_server() { if [ -n "${pid:-}" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true; fi; pid=; }
trap 'stop_server; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
LEPTOS_OUTPUT_NAME=kilat LEPTOS_SITE_ROOT="$site" LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_RELOAD_PORT=3001 LEPTOS_ENV=PROD LEPTOS_HASH_FILES=true \
  LOCAL_SUPABASE_PORT="$(free_port)" "$bin" >"$work/server.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$port/"
until curl -fs "http://127.0.0.1:$port/api/health" >/dev/null; do
  kill -0 "$pid" 2>/dev/null || { tail -20 "$work/server.log" >&2; echo "the server exited" >&2; exit 1; }
  sleep 0.05
done

curl -fs -H 'Accept-Encoding: identity' "$url" -o "$work/landing.html"
# Bytes on the wire for one landing page, as the server sends it.
wire() { curl -fs -H "Accept-Encoding: $1" "$url" -o /dev/null -w '%{size_download}'; }
tick=$(getconf CLK_TCK)
# The server's CPU time so far, in clock ticks (user + system).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# Landing pages per second under wrk -t2 -c32 for 10 s (after a 2 s warm-up), and the server's
# CPU µs per page over those 10 s.
load() {
  local header=(-H "Accept-Encoding: $1") before after out
  wrk -t2 -c32 -d2s "${header[@]}" "$url" >/dev/null
  before=$(cpu_ticks)
  out=$(wrk -t2 -c32 -d10s "${header[@]}" "$url")
  after=$(cpu_ticks)
  awk -v used=$((after - before)) -v tick="$tick" '
    /requests in/ { pages = $1 }
    /Requests\/sec/ { rps = $2 }
    END { printf "%.0f %.0f\n", rps, used / tick / pages * 1e6 }' <<<"$out"
}
read -r plain_rps plain_cpu < <(load identity)
read -r br_rps br_cpu < <(load br)
read -r gzip_rps gzip_cpu < <(load gzip)
br_wire=$(wire br)
gzip_wire=$(wire gzip)
stop_server

"$levels_bin" "$work/landing.html" 300 >"$work/levels.tsv"

python3 - "$work/levels.tsv" "$plain_rps" "$plain_cpu" "$br_rps" "$br_cpu" "$gzip_rps" "$gzip_cpu" \
  "$br_wire" "$gzip_wire" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
plain_rps, plain_cpu, br_rps, br_cpu, gzip_rps, gzip_cpu, br_wire, gzip_wire = (
    float(v) for v in sys.argv[2:10])
measured = {"br": (br_rps, br_cpu, br_wire), "gzip": (gzip_rps, gzip_cpu, gzip_wire)}
plain_bytes = next(int(r[2]) for r in rows if r[0] == "identity")
print("| encoding | level | landing page bytes | of plain | compression CPU per page "
      "| server CPU per page | pages/s per core | wrk -c32 req/s |")
print("|---|---|---|---|---|---|---|---|")
print(f"| none | — | {plain_bytes:,} | 100% | — | {plain_cpu:,.0f} µs | {1e6 / plain_cpu:,.0f} "
      f"| {plain_rps:,.0f} |")
for encoding, level, size, micros, shipped in rows:
    if encoding == "identity":
        continue
    size, micros = int(size), float(micros)
    estimate = plain_cpu + micros
    if shipped:
        rps, cpu, wire = measured[encoding]
        label = f"**{level} (shipped)**"
        bytes_ = f"{size:,} ({int(wire):,} from the server)"
        server = f"{cpu:,.0f} µs (est. {estimate:,.0f})"
        per_core = f"{1e6 / cpu:,.0f}"
        rps = f"{rps:,.0f}"
    else:
        label, bytes_ = level, f"{size:,}"
        server, per_core, rps = f"~{estimate:,.0f} µs est.", f"~{1e6 / estimate:,.0f}", "—"
    print(f"| {encoding} | {label} | {bytes_} | {100 * size / plain_bytes:.0f}% "
          f"| {micros:,.0f} µs | {server} | {per_core} | {rps} |")
PY
