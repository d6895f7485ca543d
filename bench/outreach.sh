#!/usr/bin/env bash
# The visitors' forms under load, next to what the database alone manages, and the mail outbox's
# drain rate.
#
#   bench/outreach.sh <server-binary> <site-root>
#
# On a fresh database on the local cluster, after an uncounted WARMUP-second round of each
# side, ROUNDS rounds of 1 then 2 in turn (medians compared), then 3:
#  1. wrk -t2 -c32 posts the waitlist form from KEYS client addresses (X-Forwarded-For, the
#     server trusting loopback) with RATE_LIMIT_WAITLIST=1/1h: each address's first post is
#     let through (the address is already listed, so nothing new is written), every later
#     one is refused 429 after its limit check — so nearly every request is the route's
#     parsing, validation, one `consume_rate_limit` and the answer with its headers;
#  2. pgbench -c32 -j2 runs the same `consume_rate_limit` for a random one of the same number
#     of keys (the keys the server uses, `waitlist:ip:<address>`), on the same database;
#  3. DRAIN messages are queued in the outbox at once and the server's worker sends them to
#     the local mail twin: messages per second from the first queued to the last sent.
# Prints Markdown. Called by ./scripts/bench; needs wrk, pgbench and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1 site=$2
KEYS=${KEYS:-1000}
SECONDS_EACH=${SECONDS_EACH:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-5}
DRAIN=${DRAIN:-2000}
CLIENTS=32
db=kilat_bench_outreach
source bench/server-on-fresh-database.sh
start_server TRUSTED_PROXIES=127.0.0.1/32 RATE_LIMIT_WAITLIST=1/1h

# The address every post names is listed once beforehand: an allowed post writes nothing new.
psql -q "$db_url" -c "insert into public.waitlist (email) values ('bench@kilat.test')"

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.body = "email=bench%40kilat.test&page=waitlist"
request = function()
  local n = math.random($KEYS) - 1
  wrk.headers["X-Forwarded-For"] = "10.7." .. math.floor(n / 256) .. "." .. (n % 256)
  return wrk.format()
end
LUA
cat >"$work/limit.sql" <<'SQL'
\set n random(0, :keys - 1)
select * from public.consume_rate_limit('waitlist:ip:10.8.' || (:n / 256) || '.' || (:n % 256), 1, 3600);
SQL
p99_of_log() {
  cat "$@" 2>/dev/null | python3 -c '
import sys
lat = sorted(int(line.split()[2]) for line in sys.stdin if line.strip())
print(f"{lat[int(len(lat) * 0.99) - 1] / 1000:.2f}ms" if lat else "n/a")'
}
# An uncounted warm-up round of each side, then ROUNDS rounds taking turns (the machine is
# shared: a slow spell falls on both sides); the medians are compared.
rounds_md=""
http_rates=() db_rates=()
for round in $(seq 0 "$ROUNDS"); do
  seconds=$SECONDS_EACH
  [ "$round" = 0 ] && seconds=$WARMUP
  wrk -t2 -c"$CLIENTS" -d"${seconds}s" --latency -s "$work/post.lua" \
    "http://127.0.0.1:$port/api/waitlist" >"$work/wrk-$round.txt"
  (cd "$work" && pgbench -n -c "$CLIENTS" -j 2 -T "$seconds" -D keys="$KEYS" -f limit.sql -l \
    --log-prefix="latency-$round" "$db_url" >"pgbench-$round.txt" 2>&1)
  [ "$round" = 0 ] && continue
  http_rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$round.txt")
  http_p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-$round.txt")
  http_non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk-$round.txt")
  http_total=$(awk '/requests in/ {print $1}' "$work/wrk-$round.txt")
  db_rate=$(awk '/^tps = / {print $3; exit}' "$work/pgbench-$round.txt")
  db_p99=$(p99_of_log "$work"/latency-"$round".*)
  http_rates+=("$http_rate") db_rates+=("$db_rate")
  rounds_md+="| round $round | $(printf '%.0f' "$http_rate") req/s, p99 ${http_p99} (${http_non2xx:-0} of ${http_total} refused 429) | $(printf '%.0f' "$db_rate") tx/s, p99 ${db_p99} | $(python3 -c "print(f'{$http_rate / $db_rate:.2f}')") |"$'\n'
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
http_rate=$(median "${http_rates[@]}")
db_rate=$(median "${db_rates[@]}")
ratio=$(python3 -c "print(f'{float(\"$http_rate\") / float(\"$db_rate\"):.2f}')")

# The drain: DRAIN rendered messages queued in one statement, as after a busy minute.
psql -q "$db_url" -c "
  insert into public.mail_outbox (kind, recipient, locale, subject, html, text)
  select 'waitlist_confirmation', 'drain-' || n || '@kilat.test', 'id', 'Bench ' || n,
         '<p>Bench ' || n || '</p>', 'Bench ' || n
  from generate_series(1, $DRAIN) n"
deadline=$(( $(date +%s) + 600 ))
until [ "$(psql -qtA "$db_url" -c "select count(*) from public.mail_outbox where status = 'pending'")" = 0 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "the outbox did not drain in 10 minutes" >&2; exit 1; }
  sleep 0.2
done
read -r sent dead drain_secs < <(psql -qtA -F ' ' "$db_url" -c "
  select count(*) filter (where status = 'sent'), count(*) filter (where status = 'dead'),
         extract(epoch from max(sent_at) - min(created_at))
  from public.mail_outbox where recipient like 'drain-%'")
drain_rate=$(python3 -c "print(f'{$sent / $drain_secs:.0f}')")

cat <<MD
| rate-limited route (${CLIENTS} concurrent clients, ${SECONDS_EACH} s per side and round, ${KEYS} client addresses, limit 1/1h) | Kilat: \`POST /api/waitlist\` (parse, validate, \`consume_rate_limit\`, answer with headers) | PostgreSQL alone: the same \`consume_rate_limit\` (\`pgbench\`) | ratio |
|---|---|---|---|
${rounds_md}| **median** | **$(printf '%.0f' "$http_rate") req/s** | **$(printf '%.0f' "$db_rate") tx/s** | **${ratio}** (target ≥ 0.8) |

Outbox drain: ${DRAIN} queued messages sent to the local mail twin (Resend's protocol, one
\`POST /emails\` each with its \`Idempotency-Key\`) in ${drain_secs} s — **${drain_rate} messages/s**
(${sent} sent, ${dead} dead).
MD
