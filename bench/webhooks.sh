#!/usr/bin/env bash
# Webhook ingestion under load, next to what the database alone manages with the same SQL.
#
#   bench/webhooks.sh <server-binary> <site-root>
#
# Makes a fresh database on the local cluster with ORDERS pending payments for each side, then:
#  1. wrk -t2 -c32 posts signed Midtrans settlement notifications to a release server, each
#     for a random order of its set (so most orders are hit several times: duplicates, many
#     of them concurrent, since wrk's threads draw the same sequence; a delivery racing another
#     of the same event is answered 409, retry later, and counted as non-2xx);
#  2. pgbench -c32 -j2 runs, per notification, the SQL the server runs (the ledger claim, then
#     the payment, subscription, audit entries, NOTIFY and ledger finish in one transaction)
#     for a random order of the other set.
# Prints a Markdown table: each side's rate and p99, their ratio, and a check that every paid
# order was granted exactly once. Called by ./scripts/bench; needs wrk, pgbench and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1 site=$2
ORDERS=${ORDERS:-5000}
SECONDS_EACH=${SECONDS_EACH:-15}
CLIENTS=32
key=SB-Mid-server-kilat-local-twin
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
db="kilat_bench_webhooks"
psql -q "$admin_url" -c "drop database if exists $db with (force)" -c "create database $db"
db_url="postgres://postgres@127.0.0.1:$cluster_port/$db"
cleanup() {
  [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  psql -q "$admin_url" -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(port_of)
LEPTOS_OUTPUT_NAME=kilat LEPTOS_SITE_ROOT="$site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_HASH_FILES=true \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_RELOAD_PORT="$(port_of)" LEPTOS_ENV=PROD \
  LOCAL_SUPABASE_PORT="$(port_of)" DATABASE_URL="$db_url" RUST_LOG=warn \
  "$bin" >"$work/server.log" 2>&1 &
pid=$!
until curl -fs "http://127.0.0.1:$port/api/health" >/dev/null; do
  kill -0 "$pid" 2>/dev/null || { tail -20 "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

# People and their pending PRO payments: KK-HTTP-<n> for the server, KK-PGB-<n> for pgbench.
psql -q "$db_url" <<SQL
insert into auth.users (id, email, aud, role)
select gen_random_uuid(), 'bench-' || n || '@kilat.test', 'authenticated', 'authenticated'
from generate_series(1, 2 * $ORDERS) n;
insert into public.payments (user_id, plan, amount, provider, external_id, status, expires_at)
select u.id, 'PRO', 99000, 'MIDTRANS',
       case when u.n <= $ORDERS then 'KK-HTTP-' || u.n else 'KK-PGB-' || (u.n - $ORDERS) end,
       'PENDING', now() + interval '1 hour'
from (select id, row_number() over (order by email) as n from auth.users) u;
SQL

# The signed notifications, one per order, for wrk to pick from at random.
python3 - "$ORDERS" "$key" >"$work/bodies.txt" <<'PY'
import hashlib, json, sys
orders, key = int(sys.argv[1]), sys.argv[2]
for n in range(1, orders + 1):
    order = f"KK-HTTP-{n}"
    signature = hashlib.sha512(f"{order}200" f"99000.00{key}".encode()).hexdigest()
    print(json.dumps({
        "order_id": order, "status_code": "200", "gross_amount": "99000.00",
        "transaction_status": "settlement", "fraud_status": "accept", "payment_type": "qris",
        "transaction_id": f"bench-{n}", "currency": "IDR", "signature_key": signature,
    }))
PY
cat >"$work/post.lua" <<LUA
local bodies = {}
for line in io.lines("$work/bodies.txt") do bodies[#bodies + 1] = line end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
end
LUA
wrk -t2 -c"$CLIENTS" -d"${SECONDS_EACH}s" --latency -s "$work/post.lua" \
  "http://127.0.0.1:$port/api/webhooks/midtrans" >"$work/wrk.txt"
http_rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
http_p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
http_non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")

# The same work in SQL, as the server does it (billing::settle): claim in its own
# transaction, then the effects and the finish in one.
cat >"$work/settle.sql" <<'SQL'
\set n random(1, :orders)
select (outcome = 'claimed')::int as claimed, claim_token as token
  from public.claim_webhook_event('MIDTRANS', 'KK-PGB-' || :n || ':settlement:200', 'settlement',
                                  'KK-PGB-' || :n, '{"bench": true}'::jsonb) \gset
\if :claimed
begin;
select id as payment, user_id as person from public.payments
  where provider = 'MIDTRANS' and external_id = 'KK-PGB-' || :n for update \gset
update public.payments set status = 'PAID', paid_at = now(), payment_type = 'qris',
  gateway_metadata = gateway_metadata || '{"transaction_id": "bench"}'::jsonb
  where id = ':payment' and status = 'PENDING';
insert into public.audit_logs (action, target_type, target_id, metadata)
  values ('payment.success', 'payment', ':payment', '{"source": "bench"}'::jsonb);
select id as subscription from public.subscriptions where user_id = ':person' for update \gset
update public.subscriptions set plan = 'PRO', status = 'active', current_period_start = now(),
  current_period_end = now() + interval '1 month', cancel_at_period_end = false, canceled_at = null
  where id = ':subscription';
update public.payments set subscription_id = ':subscription' where id = ':payment';
insert into public.audit_logs (action, target_type, target_id, metadata)
  values ('subscription.changed', 'subscription', ':person', '{"source": "bench"}'::jsonb);
select pg_notify('kilat_payment_changed', ':payment');
select public.finish_webhook_event('MIDTRANS', 'KK-PGB-' || :n || ':settlement:200', ':token', true, null);
commit;
\endif
SQL
(cd "$work" && pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" -D orders="$ORDERS" -f settle.sql -l \
  --log-prefix=latency "$db_url" >pgbench.txt 2>&1)
db_rate=$(awk '/^tps = / {print $3; exit}' "$work/pgbench.txt")
db_p99=$(cat "$work"/latency.* 2>/dev/null | python3 -c '
import sys
lat = sorted(int(line.split()[2]) for line in sys.stdin if line.strip())
print(f"{lat[int(len(lat) * 0.99) - 1] / 1000:.2f}ms" if lat else "n/a")')

# Exactly once under load: every paid order has one payment.success and one subscription row
# change, however many times its notification came.
read -r paid granted < <(psql -qtA -F ' ' "$db_url" -c "
  select (select count(*) from public.payments where external_id like 'KK-HTTP-%' and status = 'PAID'),
         (select count(*) from public.audit_logs a join public.payments p on p.id::text = a.target_id
          where a.action = 'payment.success' and p.external_id like 'KK-HTTP-%')")
ratio=$(python3 -c "print(f'{float(\"$http_rate\") / float(\"$db_rate\"):.2f}')")

cat <<MD
| webhook ingestion (${CLIENTS} concurrent senders, ${SECONDS_EACH} s, random orders of ${ORDERS}) | rate | p99 |
|---|---|---|
| Kilat: signed Midtrans notifications over HTTP (\`wrk\`), duplicates answered \`duplicate: true\` | ${http_rate} req/s | ${http_p99} |
| PostgreSQL alone: the same claim + effect SQL (\`pgbench\`) | ${db_rate} tx/s | ${db_p99} |
| ratio Kilat / database (target ≥ 0.7) | ${ratio} | |

Non-2xx answers: ${http_non2xx:-0}. Paid orders ${paid}, \`payment.success\` entries ${granted}
(equal: each order granted once, however often and concurrently its notification came).
MD
