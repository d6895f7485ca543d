//! An admin's payments and webhook pages, and the replay of a failed notification: applied
//! once however often (and however concurrently) it is replayed, a processed one changes
//! nothing, and each replay is audited.

use app::admin::api::ReplayWebhook;
use leptos::server_fn::ServerFn;
use reqwest::header;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// A pending PRO payment for `email`'s account and a Midtrans settlement for it that failed in
/// the ledger (the database was down when it came), as a delivery would have left it.
async fn failed_settlement(pool: &PgPool, email: &str, order: &str) -> (Uuid, Uuid) {
    let payment: Uuid = sqlx::query_scalar(
        "insert into public.payments (user_id, plan, amount, provider, external_id, status, expires_at)
         select id, 'PRO', 99000, 'MIDTRANS', $2, 'PENDING', now() + interval '1 hour'
         from auth.users where email = $1 returning id",
    )
    .bind(email)
    .bind(order)
    .fetch_one(pool)
    .await
    .unwrap();
    let body = json!({
        "order_id": order, "status_code": "200", "gross_amount": "99000.00",
        "transaction_status": "settlement", "fraud_status": "accept", "payment_type": "qris",
        "transaction_id": "tx-1", "currency": "IDR", "signature_key": "checked-on-arrival",
    });
    let event: Uuid = sqlx::query_scalar(
        "insert into public.webhook_events (provider, event_id, event_type, order_id, payload, status, attempts, last_error, processed_at)
         values ('MIDTRANS', $1 || ':settlement:200', 'settlement', $1, $2, 'failed', 3, 'connection reset by peer', now())
         returning id",
    )
    .bind(order)
    .bind(json!({ "body": body, "headers": { "content-type": "application/json" } }))
    .fetch_one(pool)
    .await
    .unwrap();
    (payment, event)
}

async fn replay(browser: &TestApp, event: Uuid) -> u16 {
    browser
        .client
        .post(format!("{}{}", browser.address, ReplayWebhook::PATH))
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, &browser.address)
        .header(
            header::REFERER,
            format!("{}/admin/webhooks", browser.address),
        )
        .form(&[("id", event.to_string())])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_failed_notification_replayed_many_times_at_once_is_applied_once_and_audited() {
    let (owner, pool) = spawn_app_with(&[("ADMIN_EMAILS", "owner@kilat.id")]).await;
    owner.sign_up_confirmed("owner@kilat.id", "Owner").await;
    let member = owner.other_browser();
    member.sign_up_confirmed("ana@kilat.id", "Ana").await;
    let (payment, event) =
        failed_settlement(&pool, "ana@kilat.id", "KK-1764000000000-0a1b2c3d").await;

    // The admin sees the failed event, its error and payload, on the ledger and the payment.
    let ledger = owner.page("/admin/webhooks?status=failed").await;
    assert!(
        ledger.contains("connection reset by peer") && ledger.contains("data-testid=\"replay\""),
        "{ledger}"
    );
    let page = owner.page(&format!("/admin/payments/{payment}")).await;
    assert!(
        page.contains("KK-1764000000000-0a1b2c3d") && page.contains("checked-on-arrival"),
        "{page}"
    );
    let listed = owner
        .page("/admin/payments?status=PENDING&provider=MIDTRANS&plan=PRO")
        .await;
    assert!(listed.contains("ana@kilat.id"), "{listed}");
    let none = owner.page("/admin/payments?status=PAID").await;
    assert!(!none.contains("KK-1764000000000-0a1b2c3d"));

    // A member's replay is answered as if nothing were there, and does nothing.
    assert_eq!(replay(&member, event).await, 404);
    assert_eq!(
        count(
            &pool,
            "select count(*) from public.payments where status = 'PAID'"
        )
        .await,
        0
    );

    let answers = futures_util::future::join_all((0..10).map(|_| replay(&owner, event))).await;
    assert!(
        answers
            .iter()
            .all(|status| *status == 302 || *status == 303),
        "{answers:?}"
    );
    assert_eq!(
        count(
            &pool,
            "select count(*) from public.payments where status = 'PAID'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "select count(*) from public.audit_logs where action = 'payment.success'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "select count(*) from public.audit_logs where action = 'subscription.changed'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "select count(*) from public.mail_outbox where kind = 'invoice'"
        )
        .await,
        1
    );
    let plan: String = sqlx::query_scalar(
        "select s.plan::text from public.subscriptions s join auth.users u on u.id = s.user_id where u.email = 'ana@kilat.id'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(plan, "PRO");
    let (status, attempts): (String, i32) =
        sqlx::query_as("select status::text, attempts from public.webhook_events where id = $1")
            .bind(event)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "processed");
    assert!(attempts >= 4, "the replay took the event over: {attempts}");

    // Every replay is on the trail with what came of it: one applied, the rest changed nothing.
    let outcomes: Vec<String> = sqlx::query_scalar(
        "select metadata->>'outcome' from public.audit_logs
         where action = 'webhook.replayed' and actor_email = 'owner@kilat.id' and target_id = $1::text",
    )
    .bind(event)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(outcomes.len(), 10, "{outcomes:?}");
    assert_eq!(
        outcomes.iter().filter(|o| *o == "Applied").count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| ["Applied", "AlreadyProcessed", "InProgress"].contains(&o.as_str())),
        "{outcomes:?}"
    );

    // Replaying the processed event again changes nothing.
    assert_eq!(replay(&owner, event).await, 302);
    assert_eq!(
        count(
            &pool,
            "select count(*) from public.audit_logs where action = 'payment.success'"
        )
        .await,
        1
    );
    let processed = owner.page("/admin/webhooks?status=processed").await;
    assert!(
        processed.contains("KK-1764000000000-0a1b2c3d")
            && !processed.contains("data-testid=\"replay\"")
    );
}

#[tokio::test]
async fn payments_are_filtered_by_whole_days_in_wib_and_a_bad_date_is_refused() {
    use app::admin::{AdminError, payments::PaymentFilter};
    use kilat_server::admin::{access::Admin, payments};

    let db = crate::helpers::TestDb::migrated().await;
    let id = db.add_user("ops@kilat.id").await;
    sqlx::query("update public.user_roles set role = 'admin' where user_id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
    let admin = Admin::verify(&db.pool, id, "ops@kilat.id".into())
        .await
        .unwrap();
    // Around the WIB day 2026-11-10 (UTC+7): 16:59:59Z on the 9th is 23:59:59 WIB on the 9th,
    // 17:00Z is midnight of the 10th, 16:59:59Z on the 10th its last second.
    sqlx::query(
        "insert into public.payments (user_id, plan, amount, provider, external_id, status, created_at)
         select $1, 'PRO', 99000, 'MIDTRANS', order_id, 'FAILED', at::timestamptz
         from (values ('KK-before', '2026-11-09T16:59:59Z'), ('KK-first', '2026-11-09T17:00:00Z'),
                      ('KK-last', '2026-11-10T16:59:59Z'), ('KK-after', '2026-11-10T17:00:00Z')) v(order_id, at)",
    )
    .bind(id)
    .execute(&db.pool)
    .await
    .unwrap();
    let shown = |from: &str, to: &str| {
        let filter = PaymentFilter {
            from: Some(from.to_string()),
            to: Some(to.to_string()),
            ..PaymentFilter::default()
        };
        let (pool, admin) = (db.pool.clone(), admin.clone());
        async move {
            payments::list(&pool, &admin, &filter, "Asia/Jakarta", None)
                .await
                .map(|page| {
                    page.items
                        .into_iter()
                        .map(|line| line.order_id)
                        .collect::<Vec<_>>()
                })
        }
    };
    assert_eq!(
        shown("2026-11-10", "2026-11-10").await.unwrap(),
        ["KK-last", "KK-first"]
    );
    assert_eq!(
        shown("2026-11-11", "").await.unwrap(),
        ["KK-after"],
        "an empty bound is no bound"
    );
    assert_eq!(shown("", "2026-11-09").await.unwrap(), ["KK-before"]);
    for (from, to) in [
        ("2026-11-31", ""),
        ("10-11-2026", ""),
        ("", "2026-11-10T00:00"),
        ("2026-11-11", "2026-11-10"),
    ] {
        assert_eq!(
            shown(from, to).await.err(),
            Some(AdminError::InvalidFilter),
            "{from:?} {to:?}"
        );
    }
}

#[tokio::test]
async fn a_bad_date_in_the_address_is_explained_above_the_form_to_correct_it() {
    let (owner, _pool) = spawn_app_with(&[("ADMIN_EMAILS", "owner@kilat.id")]).await;
    owner.sign_up_confirmed("owner@kilat.id", "Owner").await;
    for query in [
        "from=2026-11-31",
        "to=31-11-2026",
        "from=2026-11-10&to=2026-11-09",
    ] {
        let response = owner.get(&format!("/admin/payments?{query}")).await;
        assert!(response.status().as_u16() < 500, "{query}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("data-testid=\"payment-filters\"")
                && html.contains("That filter cannot be used")
                && !html.contains("data-testid=\"payments\""),
            "{query}: {html}"
        );
    }
    let html = owner
        .page("/admin/payments?from=2026-11-01&to=2026-11-30")
        .await;
    assert!(html.contains("value=\"2026-11-01\"") && html.contains("value=\"2026-11-30\""));
}
