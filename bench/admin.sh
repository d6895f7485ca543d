#!/usr/bin/env bash
# The admin area on a large database: p50 / p95 of each admin page and the CSV export's
# throughput, with the server's memory while it streams.
#
#   bench/admin.sh <server-binary> <site-root>
#
# Makes a fresh database on the local cluster, fills it with `server seed-demo` at USERS
# people, PAYMENTS payments and AUDIT audit entries (20,000 / 100,000 / 500,000 by default;
# about a minute), starts the release server on it, signs an admin in and times ROUNDS
# (bench/admin_pages.py: 100) requests of each page one after another over one connection,
# then downloads `/admin/audit.csv` whole. Prints Markdown. Needs psql, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1 site=$2
USERS=${USERS:-20000}
PAYMENTS=${PAYMENTS:-100000}
AUDIT=${AUDIT:-500000}
db=kilat_bench_admin
source bench/server-on-fresh-database.sh

seeded=$(DATABASE_URL="$db_url" "$bin" seed-demo --users "$USERS" --payments "$PAYMENTS" \
  --audit-entries "$AUDIT" --waitlist 5000)
start_server LOCAL_AUTH_EMAIL_CONFIRMATION=false
coproc pages { python3 bench/admin_pages.py "http://127.0.0.1:$port" "$pid" 2>&1; }
read -r line <&"${pages[0]}"
case $line in
  "ADMIN "*) DATABASE_URL="$db_url" "$bin" admin grant "${line#ADMIN }" >/dev/null ;;
  *) echo "$line" >&2; exit 1 ;;
esac
echo >&"${pages[1]}"
rows=$(cat <&"${pages[0]}")

cat <<MD
| admin area on ${USERS} people, ${PAYMENTS} payments, ${AUDIT} audit entries (\`server seed-demo\`) | p50 / p95 of 100 in a row (target p95 < 50 ms) |
|---|---|
${rows}

${seeded}
MD
