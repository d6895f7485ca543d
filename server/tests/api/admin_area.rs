//! `/admin/**` and its server functions: admins (by `user_roles`, read on every request) see the
//! overview; anyone else gets the ordinary 404 page and no data.

use app::admin::api::LoadAdminOverview;
use leptos::server_fn::ServerFn;
use reqwest::header;

use crate::helpers::{TestApp, spawn_app_with};

const NOT_FOUND: &str = "This page does not exist";

async fn admin_page(browser: &TestApp) -> (u16, String) {
    let response = browser.get("/admin").await;
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn overview_call_status(browser: &TestApp) -> u16 {
    browser
        .client
        .post(format!("{}{}", browser.address, LoadAdminOverview::PATH))
        .header(header::ORIGIN, &browser.address)
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn only_admins_see_the_admin_area_and_a_demotion_closes_it_at_once() {
    let (owner, pool) = spawn_app_with(&[("ADMIN_EMAILS", "owner@kilat.id")]).await;

    let anonymous = owner.other_browser();
    for path in ["/admin", "/admin/", "/admin/payments"] {
        let response = anonymous.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains(NOT_FOUND) && !html.contains("Admin overview"),
            "{html}"
        );
    }
    assert_eq!(overview_call_status(&anonymous).await, 404);
    let posted = anonymous.post_form("/admin", &[("role", "admin")]).await;
    assert_eq!(posted.status(), 404, "no 405 that would betray the route");

    let member = owner.other_browser();
    member.sign_up_confirmed("member@kilat.id", "Member").await;
    let (status, html) = admin_page(&member).await;
    assert_eq!(status, 404);
    assert!(
        html.contains(NOT_FOUND) && !html.contains("Revenue"),
        "{html}"
    );
    assert_eq!(overview_call_status(&member).await, 404);

    owner.sign_up_confirmed("owner@kilat.id", "Owner").await;
    sqlx::query(
        "insert into public.payments (user_id, plan, amount, provider, external_id, status, paid_at)
         select id, 'PRO', 99000, 'MIDTRANS', 'KK-1', 'PAID', now() from auth.users
         where email = 'member@kilat.id'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (status, html) = admin_page(&owner).await;
    assert_eq!(status, 200);
    assert!(html.contains("Admin overview"), "{html}");
    assert!(
        html.contains("IDR 99,000"),
        "revenue counts the paid payment: {html}"
    );
    assert_eq!(overview_call_status(&owner).await, 200);
    let dashboard = owner.get("/dashboard").await.text().await.unwrap();
    assert!(dashboard.contains("href=\"/admin\""), "admins get a way in");

    // Demoted in the database: the very next request is refused.
    sqlx::query(
        "update public.user_roles set role = 'member'
         where user_id = (select id from auth.users where email = 'owner@kilat.id')",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(admin_page(&owner).await.0, 404);
    assert_eq!(overview_call_status(&owner).await, 404);
}

/// A server function's answer to a JavaScript caller posting `body`.
async fn call_status(browser: &TestApp, path: &str, body: &str) -> u16 {
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
        .status()
        .as_u16()
}

#[tokio::test]
async fn every_admin_page_and_call_is_404_to_anonymous_and_members_and_open_to_admins() {
    use app::admin::api::{
        GrantPlan, LoadPayment, LoadPayments, LoadPeople, LoadPerson, LoadWebhookEvents,
        ReplayWebhook, SetUserRole,
    };
    use app::admin::records_api::{
        LoadAiUsage, LoadAuditTrail, LoadMailOutbox, LoadWaitlist, RetryMail,
    };
    use app::admin::system::LoadSystemReport;

    let (owner, pool) = spawn_app_with(&[("ADMIN_EMAILS", "owner@kilat.id")]).await;
    owner.sign_up_confirmed("owner@kilat.id", "Owner").await;
    let member = owner.other_browser();
    member.sign_up_confirmed("member@kilat.id", "Member").await;
    let anonymous = owner.other_browser();
    let person: uuid::Uuid =
        sqlx::query_scalar("select id from auth.users where email = 'member@kilat.id'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let payment: uuid::Uuid = sqlx::query_scalar(
        "insert into public.payments (user_id, plan, amount, provider, external_id, status)
         values ($1, 'PRO', 99000, 'MIDTRANS', 'KK-1764000000000-00aa11bb', 'PENDING') returning id",
    )
    .bind(person)
    .fetch_one(&pool)
    .await
    .unwrap();

    let pages = [
        "/admin".to_string(),
        "/admin/users".into(),
        "/admin/users?q=member".into(),
        format!("/admin/users/{person}"),
        "/admin/payments".into(),
        "/admin/payments?status=PENDING".into(),
        format!("/admin/payments/{payment}"),
        "/admin/webhooks".into(),
        "/admin/audit".into(),
        "/admin/waitlist".into(),
        "/admin/ai".into(),
        "/admin/mail".into(),
        "/admin/system".into(),
        "/admin/audit.csv".into(),
        "/admin/waitlist.csv".into(),
    ];
    for export in ["/admin/audit.csv", "/admin/waitlist.csv"] {
        // As a browser asks: compressed, which streams the file through the compression layer.
        let answer = owner
            .client
            .get(format!("{}{export}", owner.address))
            .header(header::ACCEPT_ENCODING, "gzip, br")
            .send()
            .await
            .expect("a browser's download is answered");
        assert_eq!(answer.status(), 200, "{export}");
        assert!(!answer.bytes().await.unwrap().is_empty(), "{export}");
    }
    for page in &pages {
        assert_eq!(anonymous.get(page).await.status(), 404, "anonymous {page}");
        assert_eq!(member.get(page).await.status(), 404, "member {page}");
        assert_eq!(owner.get(page).await.status(), 200, "admin {page}");
    }
    let id = format!("id={person}");
    let calls = [
        (LoadAdminOverview::PATH, String::new()),
        (LoadPeople::PATH, "search=&after=".into()),
        (LoadPerson::PATH, id.clone()),
        // The admin keeps the member a member: allowed, and changes nothing.
        (SetUserRole::PATH, format!("{id}&role=member")),
        (GrantPlan::PATH, format!("{id}&plan=BASIC&reason=matrix")),
        (LoadPayments::PATH, "filter[status]=PENDING".into()),
        (LoadPayment::PATH, format!("id={payment}")),
        (LoadWebhookEvents::PATH, "filter[status]=failed".into()),
        (ReplayWebhook::PATH, format!("id={}", uuid::Uuid::nil())),
        (LoadAuditTrail::PATH, "filter[action]=role.changed".into()),
        (LoadWaitlist::PATH, String::new()),
        (LoadMailOutbox::PATH, "status=Dead".into()),
        (RetryMail::PATH, format!("id={}", uuid::Uuid::nil())),
        (LoadAiUsage::PATH, String::new()),
        (LoadSystemReport::PATH, String::new()),
    ];
    for (path, body) in &calls {
        assert_eq!(
            call_status(&anonymous, path, body).await,
            404,
            "anonymous {path}"
        );
        assert_eq!(call_status(&member, path, body).await, 404, "member {path}");
    }
    let granted: i64 = sqlx::query_scalar(
        "select count(*) from public.audit_logs where action = 'subscription.changed'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(granted, 0, "nobody but an admin changed anything");
    for (path, body) in &calls {
        let status = call_status(&owner, path, body).await;
        // A replay of an event that does not exist is the one 404 an admin gets.
        let expected = if *path == ReplayWebhook::PATH {
            404
        } else {
            200
        };
        assert_eq!(status, expected, "admin {path}");
    }
}
