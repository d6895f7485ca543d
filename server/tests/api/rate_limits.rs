//! The rate limiter: exact across two servers on one database, the headers every limited answer
//! carries, the auth routes it guards, and limits that hold while the database is down.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use app::identity::api::{SignIn, SignUp};
use axum::{Router, routing::get};
use kilat_server::ratelimit::{KeyKind, Policy, Quota, RateLimiter, Subject};
use leptos::server_fn::ServerFn;
use reqwest::Response;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp, TestDb, spawn_app_on, spawn_app_with, unreachable_pool};

/// A header as a number; panics with the header's name when it is missing.
fn number(response: &Response, name: &str) -> u64 {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} on a {} answer", response.status()))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// `(limit, remaining, reset)` from the `X-RateLimit-*` headers.
fn limit_headers(response: &Response) -> (u64, u64, u64) {
    (
        number(response, "x-ratelimit-limit"),
        number(response, "x-ratelimit-remaining"),
        number(response, "x-ratelimit-reset"),
    )
}

async fn buckets(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from public.rate_limit_buckets")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_limit_is_exact_under_100_parallel_requests_to_two_servers_on_one_database() {
    let db = TestDb::migrated().await;
    let vars = [("RATE_LIMIT_GOOGLE", "37/15m")];
    let first = spawn_app_on(db.pool.clone(), &vars).await;
    let second = spawn_app_on(db.pool.clone(), &vars).await;
    let requests = (0..100).map(|i| {
        let app = if i % 2 == 0 { &first } else { &second };
        // A browser each: no shared cookies, every request starts its own sign-in.
        let browser = app.other_browser();
        async move { browser.get("/auth/google").await }
    });
    let answers = futures_join_all(requests).await;
    let mut remaining: Vec<u64> = Vec::new();
    let mut refused = 0;
    for answer in &answers {
        match answer.status().as_u16() {
            303 => {
                let (limit, left, reset) = limit_headers(answer);
                assert_eq!(limit, 37);
                assert!((1..=900).contains(&reset), "{reset}");
                remaining.push(left);
            }
            429 => {
                refused += 1;
                assert!(number(answer, "retry-after") >= 1);
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(remaining.len(), 37, "exactly the limit is allowed");
    assert_eq!(refused, 63);
    remaining.sort_unstable();
    assert_eq!(
        remaining,
        (0..37).collect::<Vec<_>>(),
        "every allowed request saw its own count"
    );
}

/// `futures::future::join_all` without the crate: every request runs concurrently.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("a request task panicked"));
    }
    outputs
}

#[tokio::test]
async fn limited_answers_count_down_and_a_refusal_says_when_to_retry() {
    let (app, pool) = spawn_app_with(&[("RATE_LIMIT_GOOGLE", "3/15m")]).await;
    let mut last_reset = u64::MAX;
    for expected_remaining in [2, 1, 0] {
        let allowed = app.get("/auth/google").await;
        assert_eq!(allowed.status(), 303);
        let (limit, remaining, reset) = limit_headers(&allowed);
        assert_eq!((limit, remaining), (3, expected_remaining));
        assert!((1..=900).contains(&reset), "{reset}");
        assert!(reset <= last_reset, "the window does not move");
        last_reset = reset;
        assert!(allowed.headers().get("retry-after").is_none());
    }
    let refused = app.get("/auth/google").await;
    assert_eq!(refused.status(), 429);
    let (limit, remaining, reset) = limit_headers(&refused);
    assert_eq!((limit, remaining), (3, 0));
    let retry_after = number(&refused, "retry-after");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert!(reset.abs_diff(retry_after) <= 1);
    let body = refused.text().await.unwrap();
    assert!(body.contains("Try again in 15 minutes"), "{body}");
    assert_eq!(buckets(&pool).await, 1, "counted in the database");
}

/// A password sign-in as a form post; the answer, whatever it is.
async fn sign_in(app: &TestApp, email: &str) -> Response {
    app.post_form(
        SignIn::PATH,
        &[("email", email), ("password", "wrong-password")],
    )
    .await
}

#[tokio::test]
async fn password_sign_in_is_limited_per_address_and_email_and_per_address() {
    let (app, _) = spawn_app_with(&[
        ("RATE_LIMIT_SIGN_IN", "2/15m"),
        ("RATE_LIMIT_SIGN_IN_PER_IP", "4/15m"),
    ])
    .await;
    for expected_remaining in [1, 0] {
        let answer = sign_in(&app, "ana@kilat.id").await;
        // Let through: back to the form (a 500 would fail here too).
        assert!(answer.status().is_redirection(), "{}", answer.status());
        assert_eq!(limit_headers(&answer).1, expected_remaining);
    }
    let refused = sign_in(&app, "ana@kilat.id").await;
    assert_eq!(refused.status(), 429);
    assert!((1..=900).contains(&number(&refused, "retry-after")));
    assert_eq!(limit_headers(&refused).0, 2, "the per-email policy refused");
    let body = refused.text().await.unwrap();
    assert!(body.contains("Too many attempts"), "{body}");
    assert!(body.contains("15 minutes"), "{body}");

    // Another address from the same client still has its own budget, until the per-address
    // limit (the refused attempt counted there too) runs out.
    let other = sign_in(&app, "budi@kilat.id").await;
    assert!(other.status().is_redirection(), "{}", other.status());
    assert_eq!(
        (limit_headers(&other).0, limit_headers(&other).1),
        (4, 0),
        "the headers follow the stricter policy"
    );
    let refused = sign_in(&app, "citra@kilat.id").await;
    assert_eq!(refused.status(), 429);
    assert_eq!(
        limit_headers(&refused).0,
        4,
        "the per-address policy refused"
    );
}

#[tokio::test]
async fn sign_up_is_limited_per_address_and_a_refused_sign_up_creates_nothing() {
    let (app, pool) = spawn_app_with(&[("RATE_LIMIT_SIGN_UP", "2/1h")]).await;
    for email in ["ana@kilat.id", "budi@kilat.id"] {
        let answer = app
            .post_form(
                SignUp::PATH,
                &[("email", email), ("password", PASSWORD), ("full_name", "A")],
            )
            .await;
        // Let through: back to the form (a 500 would fail here too).
        assert!(answer.status().is_redirection(), "{}", answer.status());
        assert_eq!(number(&answer, "x-ratelimit-limit"), 2);
    }
    let refused = app
        .post_form(
            SignUp::PATH,
            &[
                ("email", "citra@kilat.id"),
                ("password", PASSWORD),
                ("full_name", "C"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 429);
    let retry_after = number(&refused, "retry-after");
    assert!((3000..=3600).contains(&retry_after), "{retry_after}");
    let accounts: i64 = sqlx::query_scalar("select count(*) from auth.users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(accounts, 2);
}

async fn post_email(app: &TestApp, path: &str, email: &str) -> Response {
    app.post_form(path, &[("email", email)]).await
}

#[tokio::test]
async fn emailed_links_share_one_budget_per_address_and_email() {
    let (app, _) = spawn_app_with(&[
        ("RATE_LIMIT_EMAIL_LINK", "2/1h"),
        ("RATE_LIMIT_EMAIL_LINK_PER_IP", "4/1h"),
    ])
    .await;
    let magic = |email| post_email(&app, "/auth/magic-link", email);
    let recover = |email| post_email(&app, "/auth/forgot-password", email);
    // Links in the mailbox; mail is delivered in the background, so wait for `at_least`.
    let links = |at_least: usize| {
        let app = &app;
        async move {
            for _ in 0..50 {
                let html = app.get("/dev/mailbox").await.text().await.unwrap();
                let found = html.matches("/auth/v1/verify").count();
                if found >= at_least {
                    return found;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("fewer than {at_least} links arrived in the mailbox");
        }
    };

    let sent = magic("ana@kilat.id").await;
    assert_eq!(sent.status(), 303);
    assert_eq!(limit_headers(&sent).1, 1);
    let per_mail = links(1).await;
    let sent = recover("ana@kilat.id").await;
    assert_eq!(sent.status(), 303);
    assert_eq!(limit_headers(&sent).1, 0);
    assert_eq!(links(2 * per_mail).await, 2 * per_mail);
    let refused = magic("ana@kilat.id").await;
    assert_eq!(refused.status(), 429);
    assert!(number(&refused, "retry-after") > 3000);
    let body = refused.text().await.unwrap();
    assert!(body.contains("Try again in 60 minutes"), "{body}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        links(0).await,
        2 * per_mail,
        "no mail is sent for a refused request"
    );

    assert_eq!(recover("budi@kilat.id").await.status(), 303);
    let refused = recover("citra@kilat.id").await;
    assert_eq!(refused.status(), 429, "the per-address limit");
}

#[tokio::test]
async fn the_memory_store_counts_per_process_and_leaves_the_database_alone() {
    let db = TestDb::migrated().await;
    let vars = [
        ("RATE_LIMIT_STORE", "memory"),
        ("RATE_LIMIT_GOOGLE", "2/15m"),
    ];
    let first = spawn_app_on(db.pool.clone(), &vars).await;
    let second = spawn_app_on(db.pool.clone(), &vars).await;
    for app in [&first, &second] {
        assert_eq!(app.get("/auth/google").await.status(), 303);
        assert_eq!(app.get("/auth/google").await.status(), 303);
        assert_eq!(app.get("/auth/google").await.status(), 429);
    }
    assert_eq!(buckets(&db.pool).await, 0);
}

const TWO_PER_MINUTE: Policy = Policy::new("test", KeyKind::Ip, Quota::new(2, 60));

#[tokio::test]
async fn an_unreachable_database_still_limits_in_memory_without_waiting_long() {
    let limiter = RateLimiter::postgres(unreachable_pool()).with_db_timeout(Duration::from_secs(1));
    let subject = Subject::ip("203.0.113.9".parse().unwrap());
    let started = Instant::now();
    let answers: Vec<bool> = {
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(limiter.check(&[TWO_PER_MINUTE], &subject).await.allowed);
        }
        answers
    };
    assert_eq!(answers, [true, true, false]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_database_lost_mid_window_keeps_the_count_it_had() {
    let db = TestDb::migrated().await;
    let limiter = RateLimiter::postgres(db.pool.clone()).with_db_timeout(Duration::from_secs(2));
    let subject = Subject::ip("203.0.113.9".parse().unwrap());
    assert!(limiter.check(&[TWO_PER_MINUTE], &subject).await.allowed);
    assert!(limiter.check(&[TWO_PER_MINUTE], &subject).await.allowed);
    assert_eq!(buckets(&db.pool).await, 1);

    // The database goes away: connections are cut and it no longer exists.
    let name = db.options.get_database().unwrap().to_string();
    let admin = sqlx::PgPool::connect_with(db.options.clone().database("postgres"))
        .await
        .unwrap();
    db.pool.close().await;
    sqlx::raw_sql(&format!("drop database \"{name}\" with (force)"))
        .execute(&admin)
        .await
        .unwrap();

    let refused = limiter.check(&[TWO_PER_MINUTE], &subject).await;
    assert!(
        !refused.allowed,
        "the outage does not hand out a fresh budget"
    );
    assert!((1..=60).contains(&refused.retry_after_secs()));
    let other = Subject::ip("198.51.100.1".parse().unwrap());
    assert!(limiter.check(&[TWO_PER_MINUTE], &other).await.allowed);
}

#[tokio::test]
async fn a_limited_route_still_answers_while_the_database_is_down() {
    let limiter =
        Arc::new(RateLimiter::postgres(unreachable_pool()).with_db_timeout(Duration::from_secs(1)));
    let router = Router::new().route(
        "/limited",
        get(|| async { "hello" }).route_layer(limiter.per_ip(&[TWO_PER_MINUTE])),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let client = reqwest::Client::new();
    let url = format!("http://{address}/limited");
    for remaining in [1, 0] {
        let answer = client.get(&url).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(limit_headers(&answer).1, remaining);
        assert_eq!(answer.text().await.unwrap(), "hello");
    }
    let refused = client.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!((1..=60).contains(&number(&refused, "retry-after")));
}

#[tokio::test]
async fn counting_returns_to_the_database_when_it_answers_again() {
    let db = TestDb::migrated().await;
    let limiter = RateLimiter::postgres(db.pool.clone()).with_db_timeout(Duration::from_secs(2));
    const POLICY: Policy = Policy::new("test", KeyKind::Ip, Quota::new(10, 600));
    let subject = Subject::ip("203.0.113.9".parse().unwrap());
    let counted_in_database = || async {
        sqlx::query_scalar::<_, i32>("select count from public.rate_limit_buckets")
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    assert_eq!(limiter.check(&[POLICY], &subject).await.remaining, 9);
    assert_eq!(counted_in_database().await, 1);

    // The database refuses connections for a while.
    let name = db.options.get_database().unwrap().to_string();
    let admin = sqlx::PgPool::connect_with(db.options.clone().database("postgres"))
        .await
        .unwrap();
    let allow =
        |allowed: bool| format!("alter database \"{name}\" with allow_connections {allowed}");
    sqlx::raw_sql(&allow(false)).execute(&admin).await.unwrap();
    sqlx::query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1")
        .bind(&name)
        .execute(&admin)
        .await
        .unwrap();
    let started = Instant::now();
    for remaining in [8, 7] {
        assert_eq!(
            limiter.check(&[POLICY], &subject).await.remaining,
            remaining,
            "counted in memory, from the database's last count"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    sqlx::raw_sql(&allow(true)).execute(&admin).await.unwrap();
    tokio::time::sleep(kilat_server::ratelimit::DB_RETRY_AFTER).await;
    limiter.check(&[POLICY], &subject).await;
    assert_eq!(
        counted_in_database().await,
        2,
        "counted in the database again"
    );
}

#[tokio::test]
async fn with_the_database_down_the_server_still_refuses_past_the_limit_and_answers() {
    let db = TestDb::migrated().await;
    let app = spawn_app_on(db.pool.clone(), &[("RATE_LIMIT_GOOGLE", "2/15m")]).await;
    let name = db.options.get_database().unwrap().to_string();
    let admin = sqlx::PgPool::connect_with(db.options.clone().database("postgres"))
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        "alter database \"{name}\" with allow_connections false"
    ))
    .execute(&admin)
    .await
    .unwrap();
    sqlx::query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1")
        .bind(&name)
        .execute(&admin)
        .await
        .unwrap();

    let started = Instant::now();
    for _ in 0..2 {
        // Let through by the limiter (counting in memory); the sign-in itself then needs the
        // session store, on the same database, which fails on its own account.
        let through = app.get("/auth/google").await;
        assert_ne!(through.status(), 429);
    }
    let refused = app.get("/auth/google").await;
    assert_eq!(refused.status(), 429, "the limit holds through the outage");
    assert!(number(&refused, "retry-after") > 800);
    assert_eq!(limit_headers(&refused).1, 0);
    assert_eq!(
        app.get("/auth/login").await.status(),
        200,
        "pages still render"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn two_policies_in_one_check_are_exact_across_two_limiters_on_one_database() {
    let db = TestDb::migrated().await;
    let limiters = [
        Arc::new(RateLimiter::postgres(db.pool.clone())),
        Arc::new(RateLimiter::postgres(db.pool.clone())),
    ];
    // Per address + email 37, per address 50: 100 attempts at one account allow 37, and each
    // counted against the address too.
    const POLICIES: [Policy; 2] = [
        Policy::new("sign-in", KeyKind::IpEmail, Quota::new(37, 900)),
        Policy::new("sign-in", KeyKind::Ip, Quota::new(50, 900)),
    ];
    let checks = (0..100).map(|i| {
        let limiter = limiters[i % 2].clone();
        async move {
            let subject = Subject::ip_and_email("203.0.113.9".parse().unwrap(), "ana@kilat.id");
            limiter.check(&POLICIES, &subject).await
        }
    });
    let answers = futures_join_all(checks).await;
    assert_eq!(answers.iter().filter(|a| a.allowed).count(), 37);
    let counts: Vec<i32> =
        sqlx::query_scalar("select count from public.rate_limit_buckets order by key")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    // The count stops just past the limit: 38 of 37, 51 of 50.
    assert_eq!(counts.len(), 2);
    assert!(counts.contains(&38) && counts.contains(&51), "{counts:?}");
}

#[tokio::test]
async fn several_keys_in_one_round_trip_count_like_one_at_a_time() {
    use kilat_server::ratelimit::{consume, consume_many};
    let db = TestDb::migrated().await;
    let minute = Duration::from_secs(60);
    let batch = [
        ("a", 2, minute),
        ("b", 1, minute),
        ("c", 5, Duration::from_secs(10)),
    ];
    let first = consume_many(&db.pool, &batch).await.unwrap();
    assert_eq!(
        first
            .iter()
            .map(|d| (d.allowed, d.remaining))
            .collect::<Vec<_>>(),
        [(true, 1), (true, 0), (true, 4)],
        "answered in order"
    );
    let second = consume_many(&db.pool, &batch).await.unwrap();
    assert_eq!(
        second
            .iter()
            .map(|d| (d.allowed, d.remaining))
            .collect::<Vec<_>>(),
        [(true, 0), (false, 0), (true, 3)]
    );
    let single = consume(&db.pool, "b", 2, minute).await.unwrap();
    assert!(!single.allowed, "the same counters as consume");
    assert_eq!(consume_many(&db.pool, &[]).await.unwrap(), []);
}
