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
