//! Billing through HTTP against the local gateway twins: checkout, the gateways'
//! notifications, the ledger's exactly-once promise, reconciliation and the subscription rules.

use std::time::Duration;

use app::billing::{CANCEL_PATH, CHECKOUT_PATH, RESUME_PATH};
use kilat_server::billing::{
    CLAIM_STALE_AFTER, MIDTRANS_WEBHOOK_PATH, settings::LOCAL_MIDTRANS_SERVER_KEY,
    signatures::midtrans_signature_key, subscriptions,
};
use reqwest::{Response, header};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{
    NO_CONFIRMATION, TestApp, TestDb, location, server_process, spawn_app_on, spawn_app_with,
};

/// A server where sign-up signs in at once, and Ana signed in on it.
async fn ana(vars: &[(&str, &str)]) -> (TestApp, PgPool, Uuid) {
    let mut all = vec![NO_CONFIRMATION];
    all.extend_from_slice(vars);
    let (app, pool) = spawn_app_with(&all).await;
    app.sign_up_signed_in("ana@kilat.test", "Ana Putri").await;
    let id = sqlx::query_scalar("select id from auth.users where email = 'ana@kilat.test'")
        .fetch_one(&pool)
        .await
        .unwrap();
    (app, pool, id)
}

/// The checkout as the page's script asks for it: JSON with the gateway's URL.
async fn checkout(app: &TestApp, plan: &str) -> Response {
    app.client
        .post(format!("{}{CHECKOUT_PATH}", app.address))
        .header(header::ORIGIN, &app.address)
        .header(header::ACCEPT, "application/json")
        .form(&[("plan", plan)])
        .send()
        .await
        .unwrap()
}

/// An open checkout: the payment, its order id and the twin's control address.
struct Opened {
    payment: Uuid,
    order: String,
    url: String,
}

impl Opened {
    /// The gateway twin's own address (`…/midtrans` or `…/doku`).
    fn twin(&self) -> String {
        let at = self
            .url
            .find("/snap/")
            .or_else(|| self.url.find("/checkout-link"))
            .expect("a twin checkout URL");
        self.url[..at].to_string()
    }

    /// Calls a control endpoint of the twin for this order.
    async fn control(&self, action: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(format!(
                "{}/_twin/transactions/{}/{action}",
                self.twin(),
                self.order
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{action}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }
}

async fn open(app: &TestApp, plan: &str) -> Opened {
    let response = checkout(app, plan).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    Opened {
        payment: body["payment_id"].as_str().unwrap().parse().unwrap(),
        order: body["order_id"].as_str().unwrap().to_string(),
        url: body["url"].as_str().unwrap().to_string(),
    }
}

async fn payment_status(pool: &PgPool, payment: Uuid) -> String {
    sqlx::query_scalar("select status::text from public.payments where id = $1")
        .bind(payment)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Waits (up to 15 s) for the payment to reach `status`: notifications arrive on their own.
async fn until_status(pool: &PgPool, payment: Uuid, status: &str) {
    for _ in 0..300 {
        if payment_status(pool, payment).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the payment stayed {}, never {status}",
        payment_status(pool, payment).await
    );
}

async fn audit_count(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from public.audit_logs where action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Plan and seconds until the period ends.
async fn subscription(pool: &PgPool, user: Uuid) -> (String, Option<f64>) {
    sqlx::query_as(
        "select plan::text, extract(epoch from current_period_end - now())::float8
         from public.subscriptions where user_id = $1",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .unwrap()
}

const MONTH_SECS: f64 = 28.0 * 86_400.0;

/// A Midtrans notification signed with the local key, as the gateway would send it.
fn midtrans_notification(order: &str, status: &str, code: &str, amount: &str) -> Value {
    json!({
        "order_id": order,
        "status_code": code,
        "gross_amount": amount,
        "transaction_status": status,
        "fraud_status": "accept",
        "payment_type": "qris",
        "transaction_id": Uuid::new_v4().to_string(),
        "currency": "IDR",
        "signature_key": midtrans_signature_key(order, code, amount, LOCAL_MIDTRANS_SERVER_KEY),
    })
}

async fn notify(app: &TestApp, body: &Value) -> Response {
    reqwest::Client::new()
        .post(format!("{}{MIDTRANS_WEBHOOK_PATH}", app.address))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn upgrading_to_pro_through_the_midtrans_twin_grants_a_month_once() {
    let (app, pool, ana) = ana(&[]).await;
    let first = open(&app, "PRO").await;
    // A double click, a retry, a second tab: the same open payment.
    let again = open(&app, "PRO").await;
    assert_eq!(again.payment, first.payment);
    assert_eq!(again.url, first.url);
    let (count, amount): (i64, i64) =
        sqlx::query_as("select count(*), max(amount) from public.payments where user_id = $1")
            .bind(ana)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (count, amount),
        (1, 99_000),
        "one payment, at the catalogue's price"
    );
    assert!(first.order.starts_with("KK-"), "{}", first.order);

    first.control("pay", json!({ "method": "qris" })).await;
    until_status(&pool, first.payment, "PAID").await;
    let (plan, left) = subscription(&pool, ana).await;
    assert_eq!(plan, "PRO");
    assert!(left.unwrap() > MONTH_SECS, "{left:?}");
    assert_eq!(audit_count(&pool, "payment.success").await, 1);
    assert_eq!(audit_count(&pool, "subscription.changed").await, 1);
    let payment_type: Option<String> =
        sqlx::query_scalar("select payment_type from public.payments where id = $1")
            .bind(first.payment)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(payment_type.as_deref(), Some("qris"));

    // The same settlement fifty times at once: every delivery answered 2xx, one effect.
    let sent = first.control("notify", json!({ "times": 50 })).await;
    let deliveries = sent["deliveries"]
        .as_array()
        .expect("the twin lists its deliveries");
    assert_eq!(deliveries.len(), 50);
    // (A delivery racing the one that holds the event may be told 409, retry later.)
    assert!(
        deliveries.iter().all(|delivery| {
            let status = delivery["status"].as_u64().unwrap_or(0);
            (200..300).contains(&status) || status == 409
        }),
        "{sent}"
    );
    // An older status after the newer one: recorded, still PAID.
    first
        .control("notify", json!({ "status": "pending" }))
        .await;
    assert_eq!(payment_status(&pool, first.payment).await, "PAID");
    assert_eq!(audit_count(&pool, "payment.success").await, 1);
    assert_eq!(audit_count(&pool, "subscription.changed").await, 1);
    let (_, still_left) = subscription(&pool, ana).await;
    assert!((still_left.unwrap() - left.unwrap()).abs() < 60.0);

    // Paying for the plan one has again extends it from the period's end.
    let renewal = open(&app, "PRO").await;
    assert_ne!(renewal.payment, first.payment);
    renewal
        .control("pay", json!({ "method": "credit_card" }))
        .await;
    until_status(&pool, renewal.payment, "PAID").await;
    let (plan, extended) = subscription(&pool, ana).await;
    assert_eq!(plan, "PRO");
    assert!(
        extended.unwrap() > left.unwrap() + MONTH_SECS,
        "{extended:?} vs {left:?}"
    );
    // The trail says how each grant went, each naming its payment.
    let grants: Vec<Value> = sqlx::query_scalar(
        "select metadata from public.audit_logs where action = 'subscription.changed' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[0]["from_plan"], "FREE");
    assert_eq!(grants[0]["how"], "started");
    assert_eq!(grants[0]["payment_id"], first.payment.to_string());
    assert_eq!(grants[1]["from_plan"], "PRO");
    assert_eq!(grants[1]["how"], "extended");
    assert_eq!(grants[1]["from_period_end"], grants[0]["to_period_end"]);
    assert_eq!(grants[1]["payment_id"], renewal.payment.to_string());
}

#[tokio::test]
async fn declined_and_expired_checkouts_grant_nothing() {
    let (app, pool, ana) = ana(&[]).await;
    let declined = open(&app, "BASIC").await;
    declined.control("deny", json!({})).await;
    until_status(&pool, declined.payment, "FAILED").await;
    let lapsed = open(&app, "BASIC").await;
    assert_ne!(
        lapsed.payment, declined.payment,
        "a failed order is not handed back"
    );
    // The person took a bank transfer's payment code, then never paid.
    lapsed
        .control("expire", json!({ "method": "bank_transfer" }))
        .await;
    until_status(&pool, lapsed.payment, "EXPIRED").await;
    assert_eq!(subscription(&pool, ana).await.0, "FREE");
    assert_eq!(audit_count(&pool, "payment.failed").await, 1);
    assert_eq!(audit_count(&pool, "payment.expired").await, 1);
    assert_eq!(audit_count(&pool, "payment.success").await, 0);
}

#[tokio::test]
async fn forged_malformed_and_unknown_notifications_change_nothing() {
    let (app, pool, ana) = ana(&[]).await;
    let order = open(&app, "PRO").await;

    let mut forged = midtrans_notification(&order.order, "settlement", "200", "99000.00");
    forged["signature_key"] =
        midtrans_signature_key(&order.order, "200", "99000.00", "SB-Mid-server-guess").into();
    assert_eq!(notify(&app, &forged).await.status(), 401);
    let mut tampered = midtrans_notification(&order.order, "settlement", "200", "99000.00");
    tampered["gross_amount"] = "99.00".into();
    assert_eq!(notify(&app, &tampered).await.status(), 401);
    let malformed = reqwest::Client::new()
        .post(format!("{}{MIDTRANS_WEBHOOK_PATH}", app.address))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let ledger: i64 = sqlx::query_scalar("select count(*) from public.webhook_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(ledger, 0, "nothing unverified is recorded");

    let unknown = midtrans_notification("KK-1-deadbeef", "settlement", "200", "99000.00");
    let answer = notify(&app, &unknown).await;
    assert_eq!(answer.status(), 404);
    let kept: (String, Option<String>) = sqlx::query_as(
        "select status::text, last_error from public.webhook_events where order_id = 'KK-1-deadbeef'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(kept.0, "failed");

    // Paid the wrong amount: not granted, the payment failed with the reason, audited.
    let wrong = midtrans_notification(&order.order, "settlement", "200", "9900.00");
    assert_eq!(notify(&app, &wrong).await.status(), 200);
    assert_eq!(payment_status(&pool, order.payment).await, "FAILED");
    let reason: String = sqlx::query_scalar(
        "select gateway_metadata->>'failure_reason' from public.payments where id = $1",
    )
    .bind(order.payment)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        reason.contains("9900") && reason.contains("99000"),
        "{reason}"
    );
    assert_eq!(subscription(&pool, ana).await.0, "FREE");
    assert_eq!(audit_count(&pool, "payment.failed").await, 1);
}

#[tokio::test]
async fn a_repeat_is_answered_duplicate_and_the_payment_row_stops_a_second_grant() {
    let (app, pool, ana) = ana(&[]).await;
    let order = open(&app, "ULTIMATE").await;
    let settlement = midtrans_notification(&order.order, "settlement", "200", "249000.00");
    let first: Value = notify(&app, &settlement).await.json().await.unwrap();
    assert_eq!(first["payment_status"], "PAID");
    let repeat: Value = notify(&app, &settlement).await.json().await.unwrap();
    assert_eq!(repeat["duplicate"], true);
    // The same outcome under another event (capture instead of settlement): no second month.
    let capture = midtrans_notification(&order.order, "capture", "200", "249000.00");
    assert_eq!(notify(&app, &capture).await.status(), 200);
    assert_eq!(audit_count(&pool, "subscription.changed").await, 1);
    let (plan, left) = subscription(&pool, ana).await;
    assert_eq!(plan, "ULTIMATE");
    assert!(left.unwrap() < 32.0 * 86_400.0);

    // A full refund: REFUNDED, audited, flagged for an admin to decide about the plan.
    let refund = midtrans_notification(&order.order, "refund", "200", "249000.00");
    assert_eq!(notify(&app, &refund).await.status(), 200);
    assert_eq!(payment_status(&pool, order.payment).await, "REFUNDED");
    assert_eq!(audit_count(&pool, "payment.refunded").await, 1);
    let flagged: bool = sqlx::query_scalar(
        "select (gateway_metadata->>'needs_review')::boolean from public.payments where id = $1",
    )
    .bind(order.payment)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(flagged);
}

#[tokio::test]
async fn two_servers_on_one_database_apply_concurrent_duplicates_once() {
    let db = TestDb::migrated().await;
    let a = spawn_app_on(db.pool.clone(), &[NO_CONFIRMATION]).await;
    // The second server has its own connection pool, as another process would.
    let other_pool = sqlx::PgPool::connect(&db.url()).await.unwrap();
    let b = spawn_app_on(other_pool, &[NO_CONFIRMATION]).await;
    a.sign_up_signed_in("ana@kilat.test", "Ana").await;
    let order = open(&a, "PRO").await;
    let settlement = midtrans_notification(&order.order, "settlement", "200", "99000.00");
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..40 {
        let target = if i % 2 == 0 { &a } else { &b };
        let url = format!("{}{MIDTRANS_WEBHOOK_PATH}", target.address);
        let body = settlement.clone();
        sends.spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let answers = sends.join_all().await;
    for status in &answers {
        assert!(*status == 200 || *status == 409, "{status}");
    }
    assert!(answers.iter().any(|status| *status == 200));
    assert_eq!(payment_status(&db.pool, order.payment).await, "PAID");
    assert_eq!(audit_count(&db.pool, "payment.success").await, 1);
    assert_eq!(audit_count(&db.pool, "subscription.changed").await, 1);
}

#[tokio::test]
async fn a_claim_left_by_a_killed_process_is_taken_over_by_the_next_delivery() {
    let (app, pool, ana) = ana(&[]).await;
    let order = open(&app, "PRO").await;
    let settlement = midtrans_notification(&order.order, "settlement", "200", "99000.00");
    let event_id = format!("{}:settlement:200", order.order);
    // A process claimed the event, then died before applying it.
    sqlx::query(
        "select * from public.claim_webhook_event('MIDTRANS', $1, 'settlement', $2, '{}'::jsonb)",
    )
    .bind(&event_id)
    .bind(&order.order)
    .execute(&pool)
    .await
    .unwrap();
    // While the claim is fresh, a retry is told to come back later.
    assert_eq!(notify(&app, &settlement).await.status(), 409);
    assert_eq!(payment_status(&pool, order.payment).await, "PENDING");
    // After the stale timeout, the gateway's retry completes it, once.
    sqlx::query(
        "update public.webhook_events set locked_at = now() - $1::interval where event_id = $2",
    )
    .bind(format!("{} seconds", CLAIM_STALE_AFTER.as_secs() + 1))
    .bind(&event_id)
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(notify(&app, &settlement).await.status(), 200);
    assert_eq!(notify(&app, &settlement).await.status(), 200);
    assert_eq!(payment_status(&pool, order.payment).await, "PAID");
    assert_eq!(subscription(&pool, ana).await.0, "PRO");
    assert_eq!(audit_count(&pool, "payment.success").await, 1);
    let attempts: i32 =
        sqlx::query_scalar("select attempts from public.webhook_events where event_id = $1")
            .bind(&event_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(attempts, 2);
}

#[tokio::test]
async fn cancelling_keeps_the_plan_to_the_period_end_and_resuming_undoes_it() {
    let (app, pool, ana) = ana(&[]).await;
    // Nothing to cancel on FREE.
    let refused = app.post_form(CANCEL_PATH, &[]).await;
    assert_eq!(location(&refused), "/dashboard/billing?error=no_paid_plan");
    let order = open(&app, "BASIC").await;
    order.control("pay", json!({ "method": "gopay" })).await;
    until_status(&pool, order.payment, "PAID").await;

    let canceled = app.post_form(CANCEL_PATH, &[]).await;
    assert_eq!(location(&canceled), "/dashboard/billing?notice=canceled");
    let again = app.post_form(CANCEL_PATH, &[]).await;
    assert_eq!(location(&again), "/dashboard/billing?notice=canceled");
    let flag: bool = sqlx::query_scalar(
        "select cancel_at_period_end from public.subscriptions where user_id = $1",
    )
    .bind(ana)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(flag);
    assert_eq!(
        subscription(&pool, ana).await.0,
        "BASIC",
        "kept to the period's end"
    );
    assert_eq!(audit_count(&pool, "subscription.canceled").await, 1);

    let resumed = app.post_form(RESUME_PATH, &[]).await;
    assert_eq!(location(&resumed), "/dashboard/billing?notice=resumed");
    assert_eq!(audit_count(&pool, "subscription.resumed").await, 1);
}

#[tokio::test]
async fn the_lapse_job_run_by_two_processes_moves_each_ended_plan_to_free_once() {
    let db = TestDb::migrated().await;
    let mut users = Vec::new();
    for i in 0..30 {
        let user = db.add_user(&format!("p{i}@kilat.test")).await;
        sqlx::query(
            "update public.subscriptions set plan = 'PRO', status = 'active',
               current_period_start = now() - interval '32 days',
               current_period_end = now() - interval '1 day',
               cancel_at_period_end = $2
             where user_id = $1",
        )
        .bind(user)
        .bind(i % 3 == 0)
        .execute(&db.pool)
        .await
        .unwrap();
        users.push(user);
    }
    let other = sqlx::PgPool::connect(&db.url()).await.unwrap();
    let (a, b) = tokio::join!(
        subscriptions::lapse_due(&db.pool),
        subscriptions::lapse_due(&other)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 30);
    assert_eq!(subscriptions::lapse_due(&db.pool).await.unwrap(), 0);
    assert_eq!(audit_count(&db.pool, "subscription.lapsed").await, 30);
    let free: i64 = sqlx::query_scalar(
        "select count(*) from public.subscriptions where plan = 'FREE' and current_period_end is null",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(free, 30);
}

#[tokio::test]
async fn only_paid_plans_are_sold_and_a_visitor_is_sent_to_sign_in() {
    let (app, _pool, _) = ana(&[]).await;
    for plan in ["FREE", "GOLD", "", "PRO\r\nX-Injected: 1"] {
        let response = checkout(&app, plan).await;
        assert_eq!(response.status(), 400, "{plan:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "plan_not_for_sale");
    }
    let visitor = app.other_browser();
    let response = visitor.post_form(CHECKOUT_PATH, &[("plan", "PRO")]).await;
    assert_eq!(
        location(&response),
        "/checkout?plan=PRO&error=not_signed_in"
    );
}

#[tokio::test]
async fn paying_through_the_doku_twin_grants_the_plan_and_a_failure_grants_nothing() {
    let (app, pool, ana) = ana(&[("PAYMENT_PROVIDER", "doku")]).await;
    let failed = open(&app, "BASIC").await;
    assert!(failed.url.contains("/doku/"), "{}", failed.url);
    failed.control("fail", json!({})).await;
    until_status(&pool, failed.payment, "FAILED").await;

    let paid = open(&app, "PRO").await;
    paid.control("pay", json!({ "method": "QRIS" })).await;
    until_status(&pool, paid.payment, "PAID").await;
    assert_eq!(subscription(&pool, ana).await.0, "PRO");
    // Fifty resends of the same notification (same Request-Id) at once: one effect.
    paid.control("notify", json!({ "times": 50 })).await;
    assert_eq!(audit_count(&pool, "payment.success").await, 1);
    assert_eq!(audit_count(&pool, "subscription.changed").await, 1);
    let ledger: Vec<(String, String)> = sqlx::query_as(
        "select event_type, status::text from public.webhook_events where order_id = $1",
    )
    .bind(&paid.order)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        ledger.iter().all(|(_, status)| status == "processed"),
        "{ledger:?}"
    );
}

#[tokio::test]
async fn a_notification_that_never_came_is_settled_by_reconciliation_once() {
    let (app, pool, ana) = ana(&[]).await;
    let order = open(&app, "PRO").await;
    // Paid at the gateway, but the notification is lost.
    order
        .control("pay", json!({ "method": "bank_transfer", "notify": false }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(payment_status(&pool, order.payment).await, "PENDING");

    let billing = kilat_server::billing::Billing {
        pool: pool.clone(),
        gateway: kilat_server::billing::gateway::GatewayClient::Midtrans(
            kilat_server::billing::midtrans::MidtransClient::new(
                kilat_server::outbound::http_client(),
                LOCAL_MIDTRANS_SERVER_KEY,
                &order.twin(),
                &order.twin(),
            ),
        ),
        catalogue: Default::default(),
        checkout_ttl: Duration::from_secs(3600),
        site_url: app.address.clone(),
        orders: kilat_server::billing::orders::OrderWatch::start(pool.clone()),
    };
    // Two instances reconciling at once, then again: one grant.
    let (a, b) = tokio::join!(
        kilat_server::billing::reconcile::run_once(&billing, Duration::ZERO, Duration::ZERO),
        kilat_server::billing::reconcile::run_once(&billing, Duration::ZERO, Duration::ZERO),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.changed + b.changed, 1, "{a:?} {b:?}");
    kilat_server::billing::reconcile::run_once(&billing, Duration::ZERO, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(payment_status(&pool, order.payment).await, "PAID");
    assert_eq!(subscription(&pool, ana).await.0, "PRO");
    assert_eq!(audit_count(&pool, "payment.success").await, 1);
    // The late notification, when it finally comes, is a duplicate of what was applied.
    order.control("notify", json!({})).await;
    assert_eq!(audit_count(&pool, "subscription.changed").await, 1);
}

/// A pending PRO payment with order id `order` for a new account; the account's id.
async fn pending_payment(db: &TestDb, order: &str) -> Uuid {
    let user = db
        .add_user(&format!("{}@kilat.test", order.to_lowercase()))
        .await;
    sqlx::query(
        "insert into public.payments (user_id, plan, amount, provider, external_id, status, expires_at)
         values ($1, 'PRO', 99000, 'MIDTRANS', $2, 'PENDING', now() + interval '1 hour')",
    )
    .bind(user)
    .bind(order)
    .execute(&db.pool)
    .await
    .unwrap();
    user
}

async fn post_many(targets: &[&str], body: &Value, times: usize) -> Vec<u16> {
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..times {
        let url = format!("{}{MIDTRANS_WEBHOOK_PATH}", targets[i % targets.len()]);
        let body = body.clone();
        sends.spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .map_or(0, |answer| answer.status().as_u16())
        });
    }
    sends.join_all().await
}

#[tokio::test]
async fn two_server_processes_settle_the_same_notifications_once() {
    let db = TestDb::migrated().await;
    let user = pending_payment(&db, "KK-PROC-1").await;
    let (a, b) = tokio::join!(server_process(&db), server_process(&db));
    let settlement = midtrans_notification("KK-PROC-1", "settlement", "200", "99000.00");
    let answers = post_many(&[&a.address, &b.address], &settlement, 50).await;
    assert!(
        answers.iter().all(|s| *s == 200 || *s == 409),
        "{answers:?}"
    );
    assert!(answers.contains(&200));
    assert_eq!(audit_count(&db.pool, "payment.success").await, 1);
    assert_eq!(audit_count(&db.pool, "subscription.changed").await, 1);
    assert_eq!(subscription(&db.pool, user).await.0, "PRO");
}

#[tokio::test]
async fn a_process_killed_mid_webhook_leaves_work_the_next_delivery_completes_once() {
    let db = TestDb::migrated().await;
    let user = pending_payment(&db, "KK-KILL-1").await;
    let mut doomed = server_process(&db).await;
    let survivor = server_process(&db).await;
    let settlement = midtrans_notification("KK-KILL-1", "settlement", "200", "99000.00");
    // Deliveries in flight to the first process when it is killed.
    let in_flight = {
        let doomed = doomed.address.clone();
        let settlement = settlement.clone();
        tokio::spawn(async move { post_many(&[&doomed], &settlement, 20).await })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    doomed.child.kill().unwrap();
    doomed.child.wait().unwrap();
    let _ = in_flight.await;
    // Whatever it left behind: a claim it held is taken over once stale, as the gateway's
    // retry after minutes would find it.
    sqlx::query("update public.webhook_events set locked_at = now() - interval '1 hour' where status = 'processing'")
        .execute(&db.pool)
        .await
        .unwrap();
    let retry = post_many(&[&survivor.address], &settlement, 1).await;
    assert_eq!(retry, vec![200]);
    assert_eq!(audit_count(&db.pool, "payment.success").await, 1);
    assert_eq!(subscription(&db.pool, user).await.0, "PRO");
    let status: String = sqlx::query_scalar(
        "select status::text from public.webhook_events where order_id = 'KK-KILL-1'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(status, "processed");
}

#[tokio::test]
async fn an_order_is_its_owners_alone() {
    let (app, _pool, _) = ana(&[]).await;
    let order = open(&app, "PRO").await;
    let path = app::billing::order_status_path(&order.payment.to_string());
    let own: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(own["status"], "PENDING");
    assert_eq!(own["final"], false);
    assert_eq!(own["order_id"], order.order.as_str());
    let page = app
        .page(&app::billing::order_page(&order.payment.to_string()))
        .await;
    assert!(
        page.contains(&order.order),
        "the owner sees the order number"
    );

    let budi = app.other_browser();
    budi.sign_up_signed_in("budi@kilat.test", "Budi").await;
    for path in [
        path.clone(),
        app::billing::order_events_path(&order.payment.to_string()),
        app::billing::order_status_path("not-a-uuid"),
    ] {
        let answer = budi.get(&path).await;
        assert_eq!(answer.status(), 404, "{path}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "order_missing");
    }
    let order_page = budi
        .get(&app::billing::order_page(&order.payment.to_string()))
        .await;
    assert_eq!(order_page.status(), 404);
    assert!(!order_page.text().await.unwrap().contains(&order.order));
    assert_eq!(app.other_browser().get(&path).await.status(), 401);
}

#[tokio::test]
async fn checkouts_are_limited_per_person() {
    let (app, _pool, _) = ana(&[("RATE_LIMIT_CHECKOUT", "2/15m")]).await;
    assert_eq!(checkout(&app, "PRO").await.status(), 200);
    assert_eq!(checkout(&app, "PRO").await.status(), 200);
    let refused = checkout(&app, "PRO").await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Another person has a budget of their own.
    let budi = app.other_browser();
    budi.sign_up_signed_in("budi@kilat.test", "Budi").await;
    assert_eq!(checkout(&budi, "BASIC").await.status(), 200);
}
