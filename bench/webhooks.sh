#!/usr/bin/env bash
# Webhook ingestion under load, next to what the database alone manages with the same SQL.
#
#   bench/webhooks.sh <server-binary> <site-root>
#
# The server may open as many database connections as pgbench has clients (DATABASE_POOL_SIZE).
# Makes a fresh database on the local cluster with ORDERS pending payments per side and round,
# then, after a WARMUP-second round of each side that is not counted (a fresh server's and
# database's caches, connections and prepared statements), ROUNDS times in turn (the machine is
# shared: taking turns lets a slow spell hit both sides alike; the medians are compared):
#  1. wrk -t2 -c32 posts signed Midtrans settlement notifications to a release server, each
#     for a random order of its set (so some orders come more than once: duplicates, a few of
#     them concurrent — a delivery racing another of the same event is answered 409, retry
#     later, and counted as non-2xx);
#  2. pgbench -c32 -j2 runs, per notification, the SQL the server runs (the ledger claim, then
#     in one transaction the payment locked and `settle_payment` — the payment (whose status
#     trigger sends the NOTIFY), subscription, audit entries, the receipt queued in the mail
#     outbox — with the ledger finish) for a random order of the other set.
# The server also sends the receipts it queued (its mail worker, to the local mail twin) while
# it is measured: that is part of what a notification costs it.
# Prints a Markdown table: each side's rate and p99, their ratio, and a check that every paid
# order was granted exactly once. Called by ./scripts/bench; needs wrk, pgbench and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1 site=$2
ORDERS=${ORDERS:-10000}
SECONDS_EACH=${SECONDS_EACH:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-5}
CLIENTS=32
key=SB-Mid-server-kilat-local-twin
db=kilat_bench_webhooks
source bench/server-on-fresh-database.sh
start_server DATABASE_POOL_SIZE="$CLIENTS"

# People and their pending PRO payments: KK-HTTP-<round>-<n> for the server, KK-PGB-<round>-<n>
# for pgbench.
psql -q "$db_url" <<SQL
insert into auth.users (id, email, aud, role)
select gen_random_uuid(), 'bench-' || side || '-' || r || '-' || n || '@kilat.test', 'authenticated', 'authenticated'
from generate_series(0, $ROUNDS) r, generate_series(1, $ORDERS) n, unnest(array['HTTP', 'PGB']) side;
insert into public.payments (user_id, plan, amount, provider, external_id, status, expires_at)
select u.id, 'PRO', 99000, 'MIDTRANS', 'KK-' || split_part(u.email, '-', 2) || '-' || split_part(u.email, '-', 3)
       || '-' || split_part(split_part(u.email, '-', 4), '@', 1), 'PENDING', now() + interval '1 hour'
from auth.users u;
SQL

# The signed notifications, one per order of a round, for wrk to pick from at random.
for round in $(seq 0 "$ROUNDS"); do
python3 - "$ORDERS" "$key" "$round" >"$work/bodies-$round.txt" <<'PY'
import hashlib, json, sys
orders, key, round = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for n in range(1, orders + 1):
    order = f"KK-HTTP-{round}-{n}"
    signature = hashlib.sha512(f"{order}200" f"99000.00{key}".encode()).hexdigest()
    print(json.dumps({
        "order_id": order, "status_code": "200", "gross_amount": "99000.00",
        "transaction_status": "settlement", "fraud_status": "accept", "payment_type": "qris",
        "transaction_id": f"bench-{round}-{n}", "currency": "IDR", "signature_key": signature,
    }))
PY
cat >"$work/post-$round.lua" <<LUA
local bodies = {}
for line in io.lines("$work/bodies-$round.txt") do bodies[#bodies + 1] = line end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- Each thread its own random sequence (by default they share one, so every order would come
-- twice at the same moment).
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
init = function()
  math.randomseed(seed * 7919 + $round)
end
request = function()
  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
end
LUA
done

# The same work in SQL, as the server does it (billing::settle): claim in its own
# transaction, then the effects and the finish in one; prepared statements, as the server's.
# (A colon inside a literal would be taken for a pgbench variable: chr(58) spells it.)
cat >"$work/settle.sql" <<'SQL'
\set n random(1, :orders)
select (outcome = 'claimed')::int as claimed, claim_token as token
  from public.claim_webhook_event('MIDTRANS', 'KK-PGB-' || :round::text || '-' || :n::text || chr(58) || 'settlement' || chr(58) || '200',
                                  'settlement', 'KK-PGB-' || :round::text || '-' || :n::text, '{"bench": true}'::jsonb) \gset
\if :claimed
begin;
select id as payment from public.payments
  where provider = 'MIDTRANS' and external_id = 'KK-PGB-' || :round::text || '-' || :n::text for update \gset
select public.finish_webhook_event('MIDTRANS', 'KK-PGB-' || :round::text || '-' || :n::text || chr(58) || 'settlement' || chr(58) || '200', :token, true, null)
  from public.settle_payment(:payment, 'PAID', 'qris', '{"transaction_id": "bench"}'::jsonb,
                             'payment.success', '{"source": "bench"}'::jsonb);
commit;
\endif
SQL
# Each round: the server, then the database alone, each on orders of its own.
p99_of_log() {
  cat "$@" 2>/dev/null | python3 -c '
import sys
lat = sorted(int(line.split()[2]) for line in sys.stdin if line.strip())
print(f"{lat[int(len(lat) * 0.99) - 1] / 1000:.2f}ms" if lat else "n/a")'
}
rounds_md=""
http_rates=() db_rates=()
http_non2xx=0
for round in $(seq 0 "$ROUNDS"); do
  seconds=$SECONDS_EACH
  [ "$round" = 0 ] && seconds=$WARMUP
  wrk -t2 -c"$CLIENTS" -d"${seconds}s" --latency -s "$work/post-$round.lua" \
    "http://127.0.0.1:$port/api/webhooks/midtrans" >"$work/wrk-$round.txt"
  http_rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$round.txt")
  http_p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-$round.txt")
  (cd "$work" && pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$seconds" -D orders="$ORDERS" -D round="$round" \
    -f settle.sql -l --log-prefix="latency-$round" "$db_url" >"pgbench-$round.txt" 2>&1) \
    || { grep -m5 -i error "$work/pgbench-$round.txt" >&2; exit 1; }
  db_rate=$(awk '/^tps = / {print $3; exit}' "$work/pgbench-$round.txt")
  db_p99=$(p99_of_log "$work"/latency-"$round".*)
  [ "$round" = 0 ] && continue
  http_non2xx=$(( http_non2xx + $(awk '/Non-2xx/ {print $NF}' "$work/wrk-$round.txt" | grep . || echo 0) ))
  http_rates+=("$http_rate") db_rates+=("$db_rate")
  rounds_md+="| round $round | ${http_rate} req/s, p99 ${http_p99} | $(printf '%.0f' "$db_rate") tx/s, p99 ${db_p99} | $(python3 -c "print(f'{$http_rate / $db_rate:.2f}')") |"$'\n'
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
http_rate=$(median "${http_rates[@]}")
db_rate=$(median "${db_rates[@]}")

# Exactly once under load: every paid order has one payment.success and one subscription row
# change, however many times its notification came.
read -r paid granted < <(psql -qtA -F ' ' "$db_url" -c "
  select (select count(*) from public.payments where external_id like 'KK-HTTP-%' and status = 'PAID'),
         (select count(*) from public.audit_logs a join public.payments p on p.id::text = a.target_id
          where a.action = 'payment.success' and p.external_id like 'KK-HTTP-%')")
ratio=$(python3 -c "print(f'{float(\"$http_rate\") / float(\"$db_rate\"):.2f}')")

cat <<MD
| webhook ingestion (${CLIENTS} concurrent senders, ${SECONDS_EACH} s per side and round, random orders of ${ORDERS} per round) | Kilat: signed Midtrans notifications over HTTP (\`wrk\`), duplicates answered \`duplicate: true\` | PostgreSQL alone: the same claim + effect SQL (\`pgbench\`) | ratio |
|---|---|---|---|
${rounds_md}| **median** | **${http_rate} req/s** | **$(printf '%.0f' "$db_rate") tx/s** | **${ratio}** (target ≥ 0.7) |

Non-2xx answers: ${http_non2xx:-0}. Paid orders ${paid}, \`payment.success\` entries ${granted}
(equal: each order granted once, however often and concurrently its notification came).
MD
