//! The waitlist and the contact form: what is kept, what is mailed, what is refused and how it
//! reads, with and without JavaScript, on one server and across two.

use std::time::Duration;

use app::outreach::{CONTACT_PATH, WAITLIST_PATH};
use reqwest::{Response, header};
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{TestApp, TestDb, location, server_process_with, spawn_app_with};

/// Posts `form` as the pages' script does (JSON answer), in `language`.
async fn post_json(app: &TestApp, path: &str, form: &[(&str, &str)], language: &str) -> Response {
    app.client
        .post(format!("{}{path}", app.address))
        .header(header::ACCEPT, "application/json")
        .header(header::ACCEPT_LANGUAGE, language)
        .header(header::ORIGIN, &app.address)
        .form(form)
        .send()
        .await
        .expect("request is answered")
}

/// A contact form as a person sends it: the page was rendered a minute ago.
fn contact_form<'a>(
    name: &'a str,
    email: &'a str,
    message: &'a str,
    started: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("email", email),
        ("message", message),
        ("started", started),
        ("website", ""),
    ]
}

fn a_minute_ago() -> String {
    (chrono::Utc::now().timestamp_millis() - 60_000).to_string()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The mails the local mail twin received for `to`, waiting (at most a minute) until there are
/// `expected` of them: the outbox worker sends in the background.
async fn mails_to(app: &TestApp, to: &str, expected: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let html = app.get("/dev/mailbox").await.text().await.unwrap();
        let found: Vec<String> = html
            .split("data-testid=\"mail\"")
            .skip(1)
            .filter(|mail| mail.contains(to))
            .map(str::to_string)
            .collect();
        if found.len() >= expected || std::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_waitlist_address_is_kept_once_however_it_is_written_and_answered_alike() {
    let (app, pool) = spawn_app_with(&[]).await;
    let first = post_json(
        &app,
        WAITLIST_PATH,
        &[
            ("email", "Ana@Kilat.ID"),
            ("name", "Ana"),
            ("source", "newsletter:dec"),
        ],
        "en",
    )
    .await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = post_json(&app, WAITLIST_PATH, &[("email", "ana@kilat.id ")], "en").await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        first, again,
        "nobody learns whether an address was already listed"
    );

    let (email, name, source): (String, Option<String>, Option<String>) =
        sqlx::query_as("select email, name, source from public.waitlist")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (email.as_str(), name.as_deref(), source.as_deref()),
        ("ana@kilat.id", Some("Ana"), Some("newsletter:dec"))
    );
    assert_eq!(
        count(
            &pool,
            "select count(*) from public.mail_outbox where kind = 'waitlist_confirmation'"
        )
        .await,
        1,
        "one confirmation, queued with the signup"
    );
    let mails = mails_to(&app, "ana@kilat.id", 1).await;
    assert_eq!(mails.len(), 1, "the confirmation arrives once");
}

#[tokio::test]
async fn a_plain_form_post_comes_back_to_the_page_it_came_from() {
    let (app, pool) = spawn_app_with(&[]).await;
    let joined = app
        .post_form(
            WAITLIST_PATH,
            &[("email", "budi@kilat.id"), ("page", "landing")],
        )
        .await;
    assert_eq!(joined.status(), 303);
    assert_eq!(location(&joined), "/?lang=en&notice=joined#waitlist");
    let landing = app.page("/?notice=joined").await;
    assert!(landing.contains("data-testid=\"waitlist-joined\""));
    assert!(
        landing.contains("on its way to your inbox"),
        "the joined notice shows"
    );

    let refused = app
        .post_form(
            WAITLIST_PATH,
            &[("email", "budi@"), ("page", "https://evil.example/")],
        )
        .await;
    assert_eq!(
        location(&refused),
        "/waitlist?lang=en&error=email_invalid",
        "only our pages"
    );
    let page = app.page("/waitlist?error=email_invalid").await;
    let field = page.split("id=\"waitlist-email\"").nth(1).unwrap();
    assert!(
        field
            .split('>')
            .next()
            .unwrap()
            .contains("aria-invalid=\"true\""),
        "{field}"
    );
    assert!(page.contains("id=\"waitlist-email-error\""));
    assert_eq!(
        count(&pool, "select count(*) from public.waitlist").await,
        1
    );

    // A code the server never sends shows nothing.
    let forged = app.page("/waitlist?error=%3Cscript%3E").await;
    assert!(!forged.contains("<script>"));
}

#[tokio::test]
async fn contact_refusals_name_the_field_in_the_persons_language() {
    let (app, pool) = spawn_app_with(&[]).await;
    let started = a_minute_ago();
    let cases = [
        (
            contact_form("", "ana@kilat.id", "Halo, saya mau bertanya.", &started),
            "name_missing",
            "name",
        ),
        (
            contact_form(
                "Ana\r\nBcc: all@x.id",
                "ana@kilat.id",
                "Halo, saya mau bertanya.",
                &started,
            ),
            "name_invalid",
            "name",
        ),
        (
            contact_form("Ana", "ana@kilat", "Halo, saya mau bertanya.", &started),
            "email_invalid",
            "email",
        ),
        (
            contact_form("Ana", "", "Halo, saya mau bertanya.", &started),
            "email_missing",
            "email",
        ),
        (
            contact_form("Ana", "ana@kilat.id", "Halo", &started),
            "message_too_short",
            "message",
        ),
        (
            contact_form("Ana", "ana@kilat.id", "  ", &started),
            "message_missing",
            "message",
        ),
    ];
    for (form, code, field) in &cases {
        let answer = post_json(&app, CONTACT_PATH, form, "id").await;
        assert_eq!(answer.status(), 400, "{code}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], *code);
        assert_eq!(body["field"], *field);
        let english: Value = post_json(&app, CONTACT_PATH, form, "en")
            .await
            .json()
            .await
            .unwrap();
        assert_ne!(
            body["message"], english["message"],
            "{code} reads in Indonesian and English"
        );
    }
    let long = "x".repeat(5001);
    let too_long: Value = post_json(
        &app,
        CONTACT_PATH,
        &contact_form("Ana", "ana@kilat.id", &long, &started),
        "en",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(too_long["code"], "message_too_long");
    assert_eq!(
        count(&pool, "select count(*) from public.contact_messages").await,
        0
    );
    assert_eq!(
        count(&pool, "select count(*) from public.mail_outbox").await,
        0
    );
}

#[tokio::test]
async fn a_contact_message_is_kept_and_delivered_to_the_operator_with_reply_to_the_sender() {
    let (app, pool) = spawn_app_with(&[("CONTACT_TO_EMAIL", "halo@kilat.id")]).await;
    let message = "Halo tim Kilat,\nbagaimana cara membayar dengan QRIS?";
    let answer = post_json(
        &app,
        CONTACT_PATH,
        &contact_form(
            "Citra <b>Lestari</b>",
            "citra@kilat.id",
            message,
            &a_minute_ago(),
        ),
        "id",
    )
    .await;
    assert_eq!(answer.status(), 200);
    let (name, email, kept, locale): (String, String, String, String) =
        sqlx::query_as("select name, email, message, locale from public.contact_messages")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (
            name.as_str(),
            email.as_str(),
            kept.as_str(),
            locale.as_str()
        ),
        ("Citra <b>Lestari</b>", "citra@kilat.id", message, "id")
    );
    let (recipient, reply_to, html): (String, Option<String>, String) = sqlx::query_as(
        "select recipient, reply_to, html from public.mail_outbox where kind = 'contact_message'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(recipient, "halo@kilat.id");
    assert_eq!(reply_to.as_deref(), Some("citra@kilat.id"));
    assert!(
        html.contains("Citra &lt;b&gt;Lestari&lt;/b&gt;"),
        "the sender's words are escaped: {html}"
    );
    assert!(!html.contains("<b>Lestari"));
    let mails = mails_to(&app, "halo@kilat.id", 1).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("bagaimana cara membayar dengan QRIS?"));
}

#[tokio::test]
async fn bots_are_answered_as_people_are_and_their_forms_dropped() {
    let (app, pool) = spawn_app_with(&[]).await;
    let mut honeypot = contact_form(
        "Bot",
        "bot@spam.example",
        "Cheap watches, click here now!",
        "0",
    );
    honeypot[4] = ("website", "https://spam.example");
    let just_now = chrono::Utc::now().timestamp_millis().to_string();
    let too_fast = contact_form(
        "Bot",
        "bot@spam.example",
        "Cheap watches, click here now!",
        &just_now,
    );
    let no_time = &too_fast[..3];
    for form in [&honeypot[..], &too_fast[..], no_time] {
        let answer = post_json(&app, CONTACT_PATH, form, "en").await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.json::<Value>().await.unwrap()["status"], "ok");
    }
    let waitlist_bot = post_json(
        &app,
        WAITLIST_PATH,
        &[("email", "bot@spam.example"), ("website", "x")],
        "en",
    )
    .await;
    assert_eq!(waitlist_bot.status(), 200);
    assert_eq!(
        count(&pool, "select count(*) from public.contact_messages").await,
        0
    );
    assert_eq!(
        count(&pool, "select count(*) from public.waitlist").await,
        0
    );
    assert_eq!(
        count(&pool, "select count(*) from public.mail_outbox").await,
        0
    );
}

#[tokio::test]
async fn switched_off_forms_answer_503_and_their_pages_say_so() {
    let (app, pool) =
        spawn_app_with(&[("ENABLE_WAITLIST", "false"), ("ENABLE_CONTACT", "off")]).await;
    let waitlist = post_json(&app, WAITLIST_PATH, &[("email", "ana@kilat.id")], "en").await;
    assert_eq!(waitlist.status(), 503);
    assert_eq!(
        waitlist.json::<Value>().await.unwrap()["code"],
        "feature_off"
    );
    let contact = post_json(
        &app,
        CONTACT_PATH,
        &contact_form(
            "Ana",
            "ana@kilat.id",
            "Halo, saya mau bertanya.",
            &a_minute_ago(),
        ),
        "en",
    )
    .await;
    assert_eq!(contact.status(), 503);
    assert!(
        app.page("/waitlist")
            .await
            .contains("data-testid=\"waitlist-off\"")
    );
    assert!(
        app.page("/contact")
            .await
            .contains("data-testid=\"contact-off\"")
    );
    assert!(
        !app.page("/")
            .await
            .contains("data-testid=\"waitlist-form\"")
    );
    assert_eq!(
        count(&pool, "select count(*) from public.waitlist").await,
        0
    );
}

#[tokio::test]
async fn at_most_the_limit_of_signups_from_one_address_across_two_server_processes() {
    let db = TestDb::migrated().await;
    let vars = [("RATE_LIMIT_WAITLIST", "5/1h")];
    let (a, b) = tokio::join!(
        server_process_with(&db, &vars),
        server_process_with(&db, &vars)
    );
    let client = reqwest::Client::new();
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..100 {
        let url = format!(
            "{}{WAITLIST_PATH}",
            if i % 2 == 0 { &a.address } else { &b.address }
        );
        let client = client.clone();
        posts.spawn(async move {
            let answer = client
                .post(url)
                .header(header::ACCEPT, "application/json")
                .form(&[("email", format!("person-{i}@kilat.id"))])
                .send()
                .await
                .unwrap();
            let header = |name: &str| -> Option<u64> {
                answer.headers().get(name)?.to_str().ok()?.parse().ok()
            };
            (
                answer.status().as_u16(),
                header("x-ratelimit-limit"),
                header("x-ratelimit-remaining"),
                header("retry-after"),
            )
        });
    }
    let answers = posts.join_all().await;
    let mut remaining: Vec<u64> = answers
        .iter()
        .filter(|(status, ..)| *status == 200)
        .map(|(_, limit, left, _)| {
            assert_eq!(*limit, Some(5));
            left.unwrap()
        })
        .collect();
    remaining.sort_unstable();
    assert_eq!(
        remaining,
        [0, 1, 2, 3, 4],
        "exactly five accepted, each its own count"
    );
    for (status, limit, _, retry_after) in answers.iter().filter(|(status, ..)| *status != 200) {
        assert_eq!(*status, 429);
        assert_eq!(*limit, Some(5));
        assert!(retry_after.is_some_and(|secs| secs >= 1));
    }
    assert_eq!(
        count(&db.pool, "select count(*) from public.waitlist").await,
        5
    );
}
