"""Request latencies of a running Kilat server, for ./scripts/bench.

Signs a new account up (the server must run with LOCAL_AUTH_EMAIL_CONFIRMATION=false), then
times requests over one keep-alive connection and prints Markdown table rows:
the anonymous landing page, the signed-in dashboard (session lookup, token check and a
user-scoped query under RLS, then SSR), the same with an avatar (its signed URL reused from the
cache), the rate-limited Google start, and a password sign-in
(dominated by bcrypt in the Auth twin, as on Supabase). The server must run with rate-limit
budgets large enough for these rounds (./scripts/bench sets them).

With WHERE (where the limiter counts, e.g. "in memory"), only the two rate-limited rows are
timed, named with it: the bench runs them again against a server whose limiter counts in
memory, to show what PostgreSQL adds.

Usage: python3 bench/requests.py http://127.0.0.1:PORT [WHERE]
"""

import http.client
import re
import statistics
import sys
import time
import urllib.parse
import uuid

ROUNDS = 300
SIGN_INS = 50


def connect(base):
    url = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def request(conn, base, method, path, cookie=None, form=None):
    headers = {"Origin": base, "Accept": "text/html"}
    if cookie:
        headers["Cookie"] = cookie
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    return response, text


def session_cookie(response):
    for name, value in response.getheaders():
        if name.lower() == "set-cookie" and value.startswith("kilat_session="):
            return value.split(";")[0]
    return None


def server_fn_path(conn, base, page, name):
    _, html = request(conn, base, "GET", page)
    found = re.search(rf'action="(/api/{name}\d*)"', html)
    if not found:
        sys.exit(f"no {name} form on {page}")
    return found.group(1)


def upload_avatar(conn, base, cookie):
    """Makes the share picture (public/og.png) the signed-in person's avatar."""
    with open("public/og.png", "rb") as picture:
        body = picture.read()
    headers = {"Origin": base, "Accept": "application/json", "Content-Type": "image/png",
               "Cookie": cookie}
    conn.request("POST", "/api/profile/avatar", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"the avatar upload answered {response.status}")


def with_avatar(conn, base, cookie):
    upload_avatar(conn, base, cookie)
    return timed(conn, base, "GET", "/dashboard", ROUNDS, cookie)


def timed(conn, base, method, path, rounds, cookie=None, form=None, expect=(200,)):
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response, _ = request(conn, base, method, path, cookie, form)
        samples.append((time.perf_counter() - start) * 1000)
        if response.status not in expect:
            sys.exit(f"{method} {path} answered {response.status}, expected {expect}")
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    return f"{p50:.2f} ms / {p95:.2f} ms"


def main():
    base = sys.argv[1].rstrip("/")
    only_limited_where = sys.argv[2] if len(sys.argv) > 2 else None
    conn = connect(base)
    email = f"bench-{uuid.uuid4().hex[:12]}@kilat.id"
    password = "rahasia-bench-123"

    sign_up = server_fn_path(conn, base, "/auth/sign-up", "sign_up")
    response, _ = request(
        conn, base, "POST", sign_up,
        form={"email": email, "password": password, "full_name": "Bench"},
    )
    cookie = session_cookie(response)
    if response.status not in (302, 303) or response.getheader("location") != "/dashboard" or not cookie:
        sys.exit(f"sign-up did not sign in ({response.status}); is email confirmation off?")

    sign_in = server_fn_path(conn, base, "/auth/login", "sign_in")

    pages = [
        (f"anonymous landing page `/`, p50 / p95 of {ROUNDS}",
         lambda: timed(conn, base, "GET", "/", ROUNDS)),
        (f"signed-in `/dashboard` (session + token check + RLS query + SSR), p50 / p95 of {ROUNDS}",
         lambda: timed(conn, base, "GET", "/dashboard", ROUNDS, cookie)),
        (f"signed-in `/dashboard` with an avatar (signed URL from the cache), p50 / p95 of {ROUNDS}",
         lambda: with_avatar(conn, base, cookie)),
    ]
    where = only_limited_where or "in PostgreSQL"
    limited = [
        (f"rate-limited Google start `/auth/google` (limit check {where} + session write + redirect), p50 / p95 of {ROUNDS}",
         lambda: timed(conn, base, "GET", "/auth/google", ROUNDS, cookie, expect=(302, 303))),
        (f"password sign-in through the Auth twin (bcrypt; two limit checks {where}), p50 / p95 of {SIGN_INS}",
         lambda: timed(conn, base, "POST", sign_in, SIGN_INS,
                       form={"email": email, "password": password}, expect=(302, 303))),
    ]
    for name, measure in (limited if only_limited_where else pages + limited):
        print(f"| {name} | {measure()} |")


if __name__ == "__main__":
    main()
