"""Admin page latencies and the CSV export's throughput, for bench/admin.sh.

Usage: python3 bench/admin_pages.py http://127.0.0.1:PORT SERVER_PID
  1. signs a new account up (the server must run with LOCAL_AUTH_EMAIL_CONFIRMATION=false),
     prints `ADMIN <email>` on stderr and waits for a line on stdin: the caller makes the
     account admin meanwhile (`server admin grant`);
  2. times each admin page over one keep-alive connection and prints Markdown table rows
     (p50 / p95), then streams the audit trail's CSV export and prints its rate and the
     server's memory while it streamed.
"""

import re
import sys
import time
import uuid

from requests import connect, request, server_fn_path, session_cookie, timed

ROUNDS = 100


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def first_link(conn, base, cookie, page, pattern):
    _, html = request(conn, base, "GET", page, cookie)
    found = re.search(pattern, html)
    if not found:
        sys.exit(f"no link matching {pattern} on {page}")
    return found.group(1)


def export(conn, base, cookie, path, pid):
    """Streams `path`, reading as it comes: rows, MiB, seconds, and the server's RSS at most."""
    headers = {"Accept": "text/csv", "Cookie": cookie}
    before = rss_mib(pid)
    highest = before
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        sys.exit(f"{path} answered {response.status}")
    rows, size = 0, 0
    while True:
        chunk = response.read(1 << 16)
        if not chunk:
            break
        rows += chunk.count(b"\n")
        size += len(chunk)
        highest = max(highest, rss_mib(pid))
    seconds = time.perf_counter() - start
    return rows - 1, size / (1 << 20), seconds, before, highest


def main():
    base, pid = sys.argv[1].rstrip("/"), int(sys.argv[2])
    conn = connect(base)
    email = f"admin-{uuid.uuid4().hex[:8]}@bench.kilat.test"
    sign_up = server_fn_path(conn, base, "/auth/sign-up", "sign_up")
    response, _ = request(
        conn, base, "POST", sign_up,
        form={"email": email, "password": "rahasia-bench-123", "full_name": "Bench Admin"},
    )
    cookie = session_cookie(response)
    if response.status not in (302, 303) or not cookie:
        sys.exit(f"sign-up did not sign in ({response.status}); is email confirmation off?")
    print(f"ADMIN {email}", file=sys.stderr, flush=True)
    sys.stdin.readline()

    # The overview's first view computes and keeps the months that are over (and all time
    # before this month); every later view reads them.
    start = time.perf_counter()
    response, _ = request(conn, base, "GET", "/admin", cookie)
    if response.status != 200:
        sys.exit(f"/admin answered {response.status}")
    first_view = (time.perf_counter() - start) * 1000
    print(f"| overview's first view (computes and keeps 11 closed months and all time before this one) "
          f"| {first_view:.2f} ms, once |", flush=True)
    person = first_link(conn, base, cookie, "/admin/users", r'href="(/admin/users/[0-9a-f-]{36})"')
    payment = first_link(conn, base, cookie, "/admin/payments?status=REFUNDED",
                         r'href="(/admin/payments/[0-9a-f-]{36})"')
    older = first_link(conn, base, cookie, "/admin/payments", r'data-testid="payments-next"><a href="([^"]+)"')
    pages = [
        ("overview `/admin` (revenue, MRR, plans, 12 months of charts)", "/admin"),
        ("people `/admin/users`", "/admin/users"),
        ("people search `/admin/users?q=rahayu` (email or name)", "/admin/users?q=rahayu"),
        ("a person `/admin/users/:id`", person),
        ("payments `/admin/payments`", "/admin/payments"),
        ("payments, second page (keyset)", older.replace("&amp;", "&")),
        ("payments filtered `?status=FAILED&provider=DOKU&plan=PRO`",
         "/admin/payments?status=FAILED&provider=DOKU&plan=PRO"),
        ("a payment `/admin/payments/:id` (its events)", payment),
        ("webhooks `/admin/webhooks?status=failed`", "/admin/webhooks?status=failed"),
        ("audit `/admin/audit`", "/admin/audit"),
        ("audit `?action=payment.success`", "/admin/audit?action=payment.success"),
        ("waitlist `/admin/waitlist`", "/admin/waitlist"),
        ("AI usage `/admin/ai`", "/admin/ai"),
        ("mail `/admin/mail?status=dead`", "/admin/mail?status=dead"),
        ("system `/admin/system` (migration drift, features, jobs)", "/admin/system"),
    ]
    for label, path in pages:
        print(f"| {label} | {timed(conn, base, 'GET', path, ROUNDS, cookie)} |", flush=True)
    rows, mib, seconds, before, highest = export(conn, base, cookie, "/admin/audit.csv", pid)
    print(f"| CSV export `/admin/audit.csv`, every entry | {rows:,} rows, {mib:.1f} MiB in "
          f"{seconds:.2f} s: **{rows / seconds:,.0f} rows/s**; server RSS {before:.0f} MiB before, "
          f"{highest:.0f} MiB at most while streaming (peak of the process {peak_rss_mib(pid):.0f} MiB) |")


if __name__ == "__main__":
    main()
