//! The mail outbox's promise: every queued message is delivered exactly once — through an
//! outage of the provider, a worker killed between sending and recording, several workers on
//! one table — or visibly given up. Workers are driven run by run against the local Resend twin
//! (which keeps `Idempotency-Key`s as Resend does); the hooks (receipt, welcome, reminders) run
//! through the server.

use std::{collections::HashMap, time::Duration};

use app::i18n::Locale;
use kilat_server::{
    local::{self, StandIns},
    mail::{
        Mailer,
        outbox::{self, MailKind, OutgoingMail},
        templates,
        worker::{MailWorker, RetryPolicy, Run},
    },
    outbound::http_client,
};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{NO_CONFIRMATION, TestApp, TestDb, spawn_app_with};

const FROM: &str = "Kilat <no-reply@kilat.local>";

/// The mail twin alone, on a free port.
async fn twin() -> StandIns {
    local::start(0, None, None).await.unwrap()
}

fn mailer(twin: &StandIns) -> Mailer {
    Mailer::new(
        http_client(),
        format!("{}/resend", twin.base_url),
        "re_test",
    )
}

/// Retries at once (the wait is not what these tests are about), giving up after 12 hours.
fn no_waiting() -> RetryPolicy {
    RetryPolicy {
        first_retry: Duration::ZERO,
        max_retry: Duration::ZERO,
        ..RetryPolicy::new(Duration::from_secs(12 * 3600))
    }
}

fn worker(pool: &PgPool, twin: &StandIns) -> MailWorker {
    MailWorker::new(
        pool.clone(),
        mailer(twin),
        FROM,
        "http://127.0.0.1:3000",
        Locale::En,
    )
    .with_policy(no_waiting())
}

/// Runs `worker` until a run finds nothing to do; what the runs did together.
async fn drain(worker: &MailWorker) -> Run {
    let mut total = Run::default();
    for _ in 0..200 {
        let run = worker.run_once().await.unwrap();
        if run == Run::default() {
            return total;
        }
        total.sent += run.sent;
        total.retried += run.retried;
        total.dead += run.dead;
    }
    panic!("the outbox never emptied: {total:?}");
}

/// Switches the twin's outage on, as a test or a developer does.
async fn outage(twin: &StandIns, body: Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/resend/_twin/outage", twin.base_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

/// Queues `count` contact messages to `to-<i>@kilat.test`; their ids.
async fn queue(pool: &PgPool, count: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..count {
        let mail = OutgoingMail::new(
            MailKind::ContactMessage,
            format!("to-{i}@kilat.test"),
            templates::contact_message(Locale::Id, "Ana", "ana@kilat.test", &format!("pesan {i}")),
            Locale::Id,
        )
        .reply_to("ana@kilat.test");
        ids.push(outbox::enqueue(pool, &mail).await.unwrap().unwrap());
    }
    ids
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: Uuid,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    provider_message_id: Option<String>,
}

async fn rows(pool: &PgPool) -> Vec<Row> {
    sqlx::query_as(
        "select id, status, attempts, last_error, provider_message_id
         from public.mail_outbox order by created_at, id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// How many messages the twin holds for each recipient.
fn delivered(twin: &StandIns) -> HashMap<String, usize> {
    let mut by_recipient = HashMap::new();
    for message in twin.mailbox.messages() {
        *by_recipient.entry(message.email.to.join(",")).or_default() += 1;
    }
    by_recipient
}

#[tokio::test]
async fn through_an_outage_every_message_arrives_once_after_the_provider_recovers() {
    let db = TestDb::migrated().await;
    let twin = twin().await;
    let ids = queue(&db.pool, 5).await;
    outage(&twin, json!({ "failures": 12 })).await;

    let run = drain(&worker(&db.pool, &twin)).await;

    assert_eq!(run.sent, 5, "{run:?}");
    assert_eq!(run.retried, 12, "every refused send is retried: {run:?}");
    assert_eq!(run.dead, 0);
    let by_recipient = delivered(&twin);
    assert_eq!(by_recipient.len(), 5, "{by_recipient:?}");
    assert!(by_recipient.values().all(|n| *n == 1), "{by_recipient:?}");
    let rows = rows(&db.pool).await;
    assert!(rows.iter().all(|row| row.status == "sent"), "{rows:?}");
    assert_eq!(rows.iter().map(|row| row.attempts).sum::<i32>(), 17);
    for row in &rows {
        assert_eq!(
            twin.mailbox.requests_with_key(&row.id.to_string()),
            row.attempts as u32,
            "each attempt is one send under the row's key"
        );
        if row.attempts > 1 {
            let error = row.last_error.as_deref().unwrap_or_default();
            assert!(error.contains("500"), "{error}");
        }
    }
    let accepted: Vec<String> = twin
        .mailbox
        .messages()
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    for row in &rows {
        assert!(
            accepted.contains(row.provider_message_id.as_ref().unwrap()),
            "{row:?}"
        );
    }
    assert_eq!(ids.len(), rows.len());
}

#[tokio::test]
async fn a_send_whose_answer_was_lost_is_retried_without_mailing_twice() {
    let db = TestDb::migrated().await;
    let twin = twin().await;
    queue(&db.pool, 3).await;
    // The twin keeps each message but the answer never arrives.
    outage(&twin, json!({ "failures": 3, "delivered": true })).await;
    let worker = worker(&db.pool, &twin);

    let first = worker.run_once().await.unwrap();
    assert_eq!(first.retried, 3, "{first:?}");
    assert_eq!(twin.mailbox.messages().len(), 3);
    let run = drain(&worker).await;
    assert_eq!(run.sent, 3, "{run:?}");

    assert_eq!(
        twin.mailbox.messages().len(),
        3,
        "the retries mailed nothing new"
    );
    for row in rows(&db.pool).await {
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 2), "{row:?}");
    }
}

#[tokio::test]
async fn a_worker_killed_between_sending_and_recording_never_mails_twice() {
    let db = TestDb::migrated().await;
    let twin = twin().await;
    let [contact] = queue(&db.pool, 1).await[..] else {
        unreachable!()
    };
    // A message rendered by the worker, too: a retry must send the bytes of the first send.
    let ana = db.add_user("ana@kilat.test").await;
    assert!(outbox::enqueue_welcome(&db.pool, ana).await.unwrap());
    assert_eq!(drain(&worker(&db.pool, &twin)).await.sent, 2);
    let first_ids: Vec<Option<String>> = rows(&db.pool)
        .await
        .into_iter()
        .map(|row| row.provider_message_id)
        .collect();

    // The process died after the provider accepted, before the outcome was written: the row
    // is still pending, and comes due again when its lease runs out.
    sqlx::query(
        "update public.mail_outbox
         set status = 'pending', sent_at = null, provider_message_id = null, next_attempt_at = now()",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    // Another instance picks it up, with another SITE_URL: it sends what was rendered.
    let other = MailWorker::new(
        sqlx::PgPool::connect(&db.url()).await.unwrap(),
        mailer(&twin),
        FROM,
        "https://elsewhere.example",
        Locale::Id,
    )
    .with_policy(no_waiting());
    let again = drain(&other).await;

    assert_eq!(again.sent, 2, "{again:?}");
    assert_eq!(twin.mailbox.messages().len(), 2, "nothing mailed twice");
    assert_eq!(twin.mailbox.requests_with_key(&contact.to_string()), 2);
    let rows = rows(&db.pool).await;
    assert!(rows.iter().all(|row| row.status == "sent"), "{rows:?}");
    let ids: Vec<Option<String>> = rows
        .into_iter()
        .map(|row| row.provider_message_id)
        .collect();
    assert_eq!(ids, first_ids, "the provider answered with the first sends");
}

#[tokio::test]
async fn two_workers_on_one_outbox_send_each_of_fifty_messages_once() {
    let db = TestDb::migrated().await;
    let twin = twin().await;
    queue(&db.pool, 50).await;
    // A provider slow enough that the two workers' sends overlap.
    let answer = reqwest::Client::new()
        .post(format!("{}/resend/_twin/latency", twin.base_url))
        .json(&json!({ "ms": 150 }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    // Two instances: each its own connection pool, as another process would have.
    let other_pool = sqlx::PgPool::connect(&db.url()).await.unwrap();
    let (a, b) = (worker(&db.pool, &twin), worker(&other_pool, &twin));

    let (ran_a, ran_b) = tokio::join!(drain(&a), drain(&b));

    assert_eq!(ran_a.sent + ran_b.sent, 50, "{ran_a:?} {ran_b:?}");
    assert_eq!(twin.mailbox.requests(), 50, "no message was sent twice");
    assert_eq!(twin.mailbox.messages().len(), 50);
    let rows = rows(&db.pool).await;
    assert!(
        rows.iter()
            .all(|row| row.status == "sent" && row.attempts == 1),
        "{rows:?}"
    );
    let by_recipient = delivered(&twin);
    assert_eq!(by_recipient.len(), 50);
}

#[tokio::test]
async fn a_message_refused_for_good_goes_dead_at_once_and_a_rate_limit_is_retried() {
    let db = TestDb::migrated().await;
    let twin = twin().await;
    queue(&db.pool, 1).await;
    outage(&twin, json!({ "failures": 1, "status": 422 })).await;
    let worker = worker(&db.pool, &twin);

    let run = worker.run_once().await.unwrap();
    assert_eq!(
        run,
        Run {
            sent: 0,
            retried: 0,
            dead: 1
        }
    );
    let [row] = &rows(&db.pool).await[..] else {
        unreachable!()
    };
    assert_eq!((row.status.as_str(), row.attempts), ("dead", 1));
    let error = row.last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("422") && error.contains("validation_error"),
        "{error}"
    );
    assert_eq!(
        worker.run_once().await.unwrap(),
        Run::default(),
        "never tried again"
    );
    assert!(twin.mailbox.messages().is_empty());

    sqlx::query("delete from public.mail_outbox")
        .execute(&db.pool)
        .await
        .unwrap();
    queue(&db.pool, 1).await;
    outage(&twin, json!({ "failures": 1, "status": 429 })).await;
    assert_eq!(
        drain(&worker).await,
        Run {
            sent: 1,
            retried: 1,
            dead: 0
        }
    );
}

#[tokio::test]
async fn mail_still_unsent_at_the_give_up_bound_goes_dead_and_is_never_sent() {
    let db = TestDb::migrated().await;
    let twin = twin().await;
    let [stale, closing, fresh] = queue(&db.pool, 3).await[..] else {
        unreachable!()
    };
    // Queued two hours ago (every instance was down), and just inside the bound.
    for (id, age) in [(stale, "2 hours"), (closing, "59 minutes 58 seconds")] {
        sqlx::query(
            "update public.mail_outbox set created_at = now() - $2::interval where id = $1",
        )
        .bind(id)
        .bind(age)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    outage(&twin, json!({ "failures": 2 })).await;
    // The ordinary backoff (a first retry after 5 to 10 s), giving up after an hour.
    let worker = MailWorker::new(db.pool.clone(), mailer(&twin), FROM, "http://x", Locale::En)
        .with_policy(RetryPolicy::new(Duration::from_secs(3600)));

    let run = worker.run_once().await.unwrap();

    assert_eq!(
        run,
        Run {
            sent: 0,
            retried: 1,
            dead: 2
        },
        "{:?}",
        rows(&db.pool).await
    );
    let by_id: HashMap<Uuid, Row> = rows(&db.pool)
        .await
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    assert_eq!(by_id[&stale].status, "dead");
    assert_eq!(by_id[&stale].attempts, 0, "given up unsent");
    assert!(
        by_id[&stale]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("gave up: still unsent 1h"),
        "{:?}",
        by_id[&stale]
    );
    assert_eq!(twin.mailbox.requests_with_key(&stale.to_string()), 0);
    assert_eq!(
        (by_id[&closing].status.as_str(), by_id[&closing].attempts),
        ("dead", 1),
        "its retry would come after the bound"
    );
    assert_eq!(by_id[&fresh].status, "pending");
    assert!(twin.mailbox.messages().is_empty());
}

#[tokio::test]
async fn renewal_reminders_are_queued_once_per_period_however_many_instances_run_the_job() {
    let db = TestDb::migrated().await;
    let twin = twin().await;
    let mut ending = None;
    for (email, ends_in_days, canceled) in [
        ("ending@kilat.test", 2, false),
        ("later@kilat.test", 10, false),
        ("canceled@kilat.test", 2, true),
    ] {
        let user = db.add_user(email).await;
        sqlx::query(
            "update public.subscriptions set plan = 'PRO', status = 'active',
               current_period_start = now() - interval '28 days',
               current_period_end = now() + make_interval(days => $2),
               cancel_at_period_end = $3, canceled_at = case when $3 then now() end
             where user_id = $1",
        )
        .bind(user)
        .bind(ends_in_days)
        .bind(canceled)
        .execute(&db.pool)
        .await
        .unwrap();
        if email.starts_with("ending") {
            ending = Some(user);
        }
    }
    let three_days = Duration::from_secs(3 * 86_400);
    let other_pool = sqlx::PgPool::connect(&db.url()).await.unwrap();
    let (a, b) = tokio::join!(
        outbox::enqueue_renewal_reminders(&db.pool, three_days),
        outbox::enqueue_renewal_reminders(&other_pool, three_days),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(
        outbox::enqueue_renewal_reminders(&db.pool, three_days)
            .await
            .unwrap(),
        0
    );
    assert_eq!(drain(&worker(&db.pool, &twin)).await.sent, 1);
    let [message] = &twin.mailbox.messages()[..] else {
        panic!("one reminder")
    };
    assert_eq!(message.email.to, ["ending@kilat.test"]);
    assert!(
        message
            .email
            .text
            .contains("http://127.0.0.1:3000/checkout?plan=PRO"),
        "{}",
        message.email.text
    );

    // Paid again: the new period's end gets its own reminder when it comes near.
    sqlx::query(
        "update public.subscriptions set current_period_end = current_period_end + interval '1 day'
         where user_id = $1",
    )
    .bind(ending.unwrap())
    .execute(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        outbox::enqueue_renewal_reminders(&db.pool, three_days)
            .await
            .unwrap(),
        1
    );
}

/// Waits (up to 30 s) until the server's worker has sent every queued `kind` mail; how many
/// there are.
async fn until_sent(pool: &PgPool, kind: &str) -> i64 {
    for _ in 0..300 {
        let (all, sent): (i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where status = 'sent')
             from public.mail_outbox where kind = $1",
        )
        .bind(kind)
        .fetch_one(pool)
        .await
        .unwrap();
        if all > 0 && all == sent {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the {kind} mail was never sent");
}

/// How many messages with `subject` the server's local mailbox shows.
async fn in_mailbox(app: &TestApp, subject: &str) -> (usize, String) {
    let page = app.page("/dev/mailbox").await;
    (page.matches(&format!(">{subject}</h2>")).count(), page)
}

#[tokio::test]
async fn a_paid_order_mails_one_receipt_with_its_amount_in_the_buyers_language() {
    let (app, pool) = spawn_app_with(&[NO_CONFIRMATION]).await;
    app.sign_up_signed_in("ana@kilat.test", "Ana Putri").await;
    // Ana reads Indonesian; the server's default (the tests') is English.
    sqlx::query(
        "update public.profiles set locale = 'id'
         where id = (select id from auth.users where email = 'ana@kilat.test')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let checkout: Value = app
        .client
        .post(format!("{}{}", app.address, app::billing::CHECKOUT_PATH))
        .header(reqwest::header::ORIGIN, &app.address)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[("plan", "PRO")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order = checkout["order_id"].as_str().unwrap().to_string();
    let url = checkout["url"].as_str().unwrap();
    let midtrans = &url[..url.find("/snap/").unwrap()];
    let control = |action: &str, body: Value| {
        let url = format!("{midtrans}/_twin/transactions/{order}/{action}");
        async move {
            let answer = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success(), "{}", answer.status());
        }
    };
    control("pay", json!({ "method": "qris" })).await;
    // The gateway repeats itself: still one receipt.
    control("notify", json!({ "times": 10 })).await;

    assert_eq!(until_sent(&pool, "invoice").await, 1);
    let subject = format!("Bukti pembayaran Kilat untuk pesanan {order}");
    let (count, page) = in_mailbox(&app, &subject).await;
    assert_eq!(count, 1, "{page}");
    assert!(page.contains("Rp 99.000"), "{page}");
    assert!(!page.contains("IDR 99,000"), "{page}");
    let (to, dedupe_key): (String, String) = sqlx::query_as(
        "select recipient, dedupe_key from public.mail_outbox where kind = 'invoice'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(to, "ana@kilat.test");
    let payment: Uuid = sqlx::query_scalar("select id from public.payments where external_id = $1")
        .bind(&order)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(dedupe_key, format!("invoice:{payment}"));
}

#[tokio::test]
async fn the_welcome_is_mailed_once_however_often_a_person_signs_in() {
    let (app, pool) = spawn_app_with(&[NO_CONFIRMATION]).await;
    app.sign_up_signed_in("budi@kilat.test", "Budi").await;
    for _ in 0..2 {
        let browser = app.other_browser();
        let signed_in = browser
            .post_form(
                <app::identity::api::SignIn as leptos::server_fn::ServerFn>::PATH,
                &[
                    ("email", "budi@kilat.test"),
                    ("password", crate::helpers::PASSWORD),
                ],
            )
            .await;
        assert_eq!(crate::helpers::location(&signed_in), "/dashboard");
    }

    assert_eq!(until_sent(&pool, "welcome").await, 1);
    let (count, page) = in_mailbox(&app, "Welcome to Kilat").await;
    assert_eq!(count, 1, "{page}");
    assert!(page.contains("Hi Budi,"), "{page}");
}
