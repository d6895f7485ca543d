#!/usr/bin/env bash
# AI answers through our route, next to the local AI twin asked directly.
#
#   bench/ai.sh <server-binary> <site-root>
#
# A release server on a fresh database, its local AI twin answering without delay, and one
# signed-up person on ULTIMATE (rate limit lifted):
#  1. SAMPLES times in turn, the time to the first byte of a streamed chat answer through
#     `POST /api/ai/chat` (session, message, quota reservation, rate limit, the conversation
#     kept, the provider's stream opened) and straight from the twin's
#     `/openai/v1/chat/completions`; p50 and p95 of each and of the difference;
#  2. STREAMS answers held open at once (the twin at 50 ms a token, so each lasts about a
#     minute): how many stream, and the process's memory before and while they do (the twin
#     runs in the same process, so its side of every stream is counted too).
# Prints Markdown. Called by ./scripts/bench; needs curl, psql and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1 site=$2
SAMPLES=${SAMPLES:-200}
STREAMS=${STREAMS:-500}
db=kilat_bench_ai
source bench/server-on-fresh-database.sh
twin_port=$(port_of)
start_server LOCAL_SUPABASE_PORT="$twin_port" LOCAL_AUTH_EMAIL_CONFIRMATION=false \
  RATE_LIMIT_AI_ULTIMATE=1000000/5m DATABASE_POOL_SIZE=20
site_url="http://127.0.0.1:$port"
twin="http://127.0.0.1:$twin_port/openai/v1"

# The person: signed up through the sign-up form (signed in at once), then on ULTIMATE.
action=$(curl -fs "$site_url/auth/sign-up" | grep -o 'action="/api/sign_up[^"]*"' | head -1 | cut -d'"' -f2)
curl -fs -o /dev/null -c "$work/jar" -b "$work/jar" -H "Origin: $site_url" -H 'Accept: text/html' \
  --data-urlencode email=bench-ai@kilat.test --data-urlencode password=rahasia-123 \
  --data-urlencode full_name=Bench "$site_url$action"
psql -q "$db_url" -c "update public.subscriptions set plan = 'ULTIMATE', status = 'active',
  current_period_start = now(), current_period_end = now() + interval '1 month'
  where user_id = (select id from auth.users where email = 'bench-ai@kilat.test')"
session=$(awk '$6 == "kilat_session" {print $7}' "$work/jar")
[ -n "$session" ] || { echo "the bench person did not get a session" >&2; exit 1; }
set_delay() {
  curl -fs -o /dev/null -X POST "$twin/_twin/delay" -H 'content-type: application/json' \
    -d "{\"ms_per_token\": $1}"
}
set_delay 0

for _ in $(seq "$SAMPLES"); do
  curl -s -o /dev/null -w '%{time_starttransfer}\n' -H "Cookie: kilat_session=$session" -H "Origin: $site_url" \
    -H 'content-type: application/json' -d '{"message": "halo"}' "$site_url/api/ai/chat" >>"$work/ours.txt"
  curl -s -o /dev/null -w '%{time_starttransfer}\n' -H 'Authorization: Bearer sk-kilat-local-twin' \
    -H 'content-type: application/json' \
    -d '{"model": "twin", "stream": true, "messages": [{"role": "user", "content": "halo"}]}' \
    "$twin/chat/completions" >>"$work/twin.txt"
done
read -r ours50 ours95 twin50 twin95 added50 added95 < <(python3 - "$work/ours.txt" "$work/twin.txt" <<'PY'
import sys
ours = [float(x) * 1000 for x in open(sys.argv[1]) if x.strip()]
twin = [float(x) * 1000 for x in open(sys.argv[2]) if x.strip()]
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]
added = [a - b for a, b in zip(ours, twin)]
print(" ".join(f"{v:.2f}" for v in (pct(ours, .5), pct(ours, .95), pct(twin, .5), pct(twin, .95), pct(added, .5), pct(added, .95))))
PY
)

rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }
idle_rss=$(rss)
set_delay 50
python3 - "$port" "$session" "$STREAMS" "$site_url" "$work" <<'PY' &
import asyncio, os, sys
port, session, streams, origin, work = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
body = b'{"message": "long-answer please"}'
request = (
    f"POST /api/ai/chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: kilat_session={session}\r\n"
    f"Origin: {origin}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
).encode() + body

async def one(started, release):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        await writer.drain()
        seen = b""
        while b"event: text" not in seen:
            chunk = await asyncio.wait_for(reader.read(4096), 60)
            if not chunk:
                return
            seen += chunk
        started.append(1)
        await release.wait()
        writer.close()
    except (OSError, asyncio.TimeoutError):
        return

async def main():
    started, release = [], asyncio.Event()
    tasks = [asyncio.create_task(one(started, release)) for _ in range(streams)]
    for _ in range(600):
        if len(started) == streams or all(t.done() for t in tasks):
            break
        await asyncio.sleep(0.1)
    with open(f"{work}/held", "w") as out:
        out.write(f"{len(started)}\n")
    while not os.path.exists(f"{work}/release"):
        await asyncio.sleep(0.1)
    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)

asyncio.run(main())
PY
holder=$!
until [ -s "$work/held" ]; do sleep 0.2; done
busy_rss=$(rss)
held=$(cat "$work/held")
touch "$work/release"
wait "$holder"

cat <<MD
| first byte of a streamed answer (${SAMPLES} in turn, the twin without delay) | p50 | p95 |
|---|---|---|
| through Kilat: \`POST /api/ai/chat\` (session, quota hold, rate limit, conversation kept, provider stream opened) | ${ours50} ms | ${ours95} ms |
| the AI twin asked directly | ${twin50} ms | ${twin95} ms |
| **added by Kilat** (target ≤ 5 ms at p50) | **${added50} ms** | ${added95} ms |

Concurrent answers: ${held} of ${STREAMS} streams held open at once by one process (the twin at
50 ms a token, in the same process); memory ${idle_rss} MiB idle, ${busy_rss} MiB while they stream.
MD
