//! The admin's people pages: the list and its search, a person's page, role changes and manual
//! plan grants — through the service and through HTTP as a browser without JavaScript.

use app::admin::api::{GrantPlan, SetUserRole};
use app::admin::people::PersonLine;
use app::domain::{AppRole, Plan};
use kilat_server::admin::{access::Admin, people};
use leptos::server_fn::ServerFn;
use reqwest::{Response, header};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TestApp, TestDb, spawn_app_with};

async fn make_admin(pool: &PgPool, email: &str) -> Admin {
    let id: Uuid = sqlx::query_scalar("select id from auth.users where email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap();
    sqlx::query("update public.user_roles set role = 'admin' where user_id = $1")
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    Admin::verify(pool, id, email.to_string()).await.unwrap()
}

async fn all_pages(pool: &PgPool, admin: &Admin, search: &str) -> Vec<PersonLine> {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = people::list(pool, admin, search, after.as_deref())
            .await
            .unwrap();
        assert!(page.items.len() <= app::admin::PAGE_SIZE);
        seen.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn people_are_found_by_email_or_name_and_paged_without_gaps_or_repeats() {
    let db = TestDb::migrated().await;
    db.add_user("boss@kilat.id").await;
    let admin = make_admin(&db.pool, "boss@kilat.id").await;
    // 120 people, forty of them made at the very same instant (the cursor's tie-breaker).
    sqlx::raw_sql(
        "insert into auth.users (id, email, aud, role, created_at)
         select gen_random_uuid(), 'person' || n || '@kilat.id', 'authenticated', 'authenticated', now()
         from generate_series(1, 120) n;
         update public.profiles p set created_at = case when u.email ~ '^person([1-9]|[1-3][0-9]|40)@'
                                                       then timestamptz '2026-01-01 00:00:00+00'
                                                       else u.created_at end,
                                      full_name = case when u.email = 'person7@kilat.id' then 'Siti Rahayu'
                                                       when u.email = 'person8@kilat.id' then '100% Kopi_Nusantara' end
         from auth.users u where u.id = p.id;",
    )
    .execute(&db.pool)
    .await
    .unwrap();

    let everyone = all_pages(&db.pool, &admin, "").await;
    assert_eq!(everyone.len(), 121);
    let mut ids: Vec<_> = everyone.iter().map(|person| person.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 121, "no one twice");
    assert!(
        everyone
            .windows(2)
            .all(|pair| pair[0].joined_at >= pair[1].joined_at),
        "newest first"
    );
    assert_eq!(
        everyone.last().unwrap().joined_at,
        1_767_225_600,
        "the forty of 2026-01-01 last"
    );

    let by_name = all_pages(&db.pool, &admin, "  RAHAYU ").await;
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0].email, "person7@kilat.id");
    assert_eq!(by_name[0].plan, Plan::Free);
    assert_eq!(by_name[0].role, AppRole::Member);
    let by_email = all_pages(&db.pool, &admin, "Person11").await;
    let emails: Vec<_> = by_email
        .iter()
        .map(|person| person.email.as_str())
        .collect();
    assert_eq!(emails.len(), 11, "person11 and person110-119: {emails:?}");
    // The admin's `%` and `_` are letters, not wildcards.
    let literal = all_pages(&db.pool, &admin, "100% kopi_").await;
    assert_eq!(literal.len(), 1);
    assert!(all_pages(&db.pool, &admin, "%").await.len() == 1);
    assert!(all_pages(&db.pool, &admin, "nobody-here").await.is_empty());

    for cursor in ["garbage", "1.2", "\r\n", "99999999999999999999999.x"] {
        assert_eq!(
            people::list(&db.pool, &admin, "", Some(cursor)).await,
            Err(app::admin::AdminError::BadRequest),
            "{cursor:?}"
        );
    }
}

/// Posts `form` to server function `path` as a browser without JavaScript on the page
/// `from`; returns the answer (a redirect back to `from`).
async fn post_from(browser: &TestApp, from: &str, path: &str, form: &[(&str, &str)]) -> Response {
    browser
        .client
        .post(format!("{}{path}", browser.address))
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, &browser.address)
        .header(header::REFERER, format!("{}{from}", browser.address))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Where a redirect sends the browser, on this site.
fn back_to(response: &Response, browser: &TestApp) -> String {
    let location = response
        .headers()
        .get(header::LOCATION)
        .unwrap_or_else(|| panic!("a redirect, got {}", response.status()))
        .to_str()
        .unwrap();
    // Leptos sends a form's browser back to the page it came from, with an empty query when
    // nothing went wrong.
    location
        .strip_prefix(&browser.address)
        .unwrap_or(location)
        .trim_end_matches('?')
        .to_string()
}

async fn user_id(pool: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar("select id from auth.users where email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn entries(pool: &PgPool, action: &str) -> Vec<(Option<String>, serde_json::Value)> {
    sqlx::query_as(
        "select actor_email, metadata from public.audit_logs where action = $1 order by id",
    )
    .bind(action)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_admin_finds_a_person_grants_a_plan_and_changes_roles_all_audited() {
    let (owner, pool) = spawn_app_with(&[("ADMIN_EMAILS", "owner@kilat.id")]).await;
    owner.sign_up_confirmed("owner@kilat.id", "Owner").await;
    let member = owner.other_browser();
    member
        .sign_up_confirmed("ana@kilat.id", "Ana Lestari")
        .await;
    let ana = user_id(&pool, "ana@kilat.id").await;
    let person_page = format!("/admin/users/{ana}");

    let list = owner.page("/admin/users?q=lestari").await;
    assert!(
        list.contains("ana@kilat.id") && !list.contains("owner@kilat.id"),
        "{list}"
    );
    assert!(owner.page(&person_page).await.contains("Ana Lestari"));
    let missing = owner.get(&format!("/admin/users/{}", Uuid::new_v4())).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(owner.get("/admin/users/not-a-uuid").await.status(), 404);

    // A grant without a reason is refused in the admin's language, and changes nothing.
    let id = ana.to_string();
    let refused = post_from(
        &owner,
        &person_page,
        GrantPlan::PATH,
        &[("id", &id), ("plan", "PRO"), ("reason", " \r\n ")],
    )
    .await;
    let back = back_to(&refused, &owner);
    assert!(back.starts_with(&person_page), "{back}");
    let shown = owner.page(&back).await;
    assert!(shown.contains("Say why you grant this plan"), "{shown}");
    let refused = post_from(
        &owner,
        &person_page,
        GrantPlan::PATH,
        &[("id", &id), ("plan", "FREE"), ("reason", "x")],
    )
    .await;
    assert!(
        owner
            .page(&back_to(&refused, &owner))
            .await
            .contains("Choose a paid plan")
    );
    assert!(entries(&pool, "subscription.changed").await.is_empty());

    // Granted: a month of PRO now, then a second month from the period's end.
    for _ in 0..2 {
        let granted = post_from(
            &owner,
            &person_page,
            GrantPlan::PATH,
            &[
                ("id", &id),
                ("plan", "PRO"),
                ("reason", "Goodwill after the outage on 3 December"),
            ],
        )
        .await;
        assert_eq!(back_to(&granted, &owner), person_page);
    }
    let (plan, days): (String, f64) = sqlx::query_as(
        "select plan::text, (extract(epoch from current_period_end - now()) / 86400)::float8 from public.subscriptions where user_id = $1",
    )
    .bind(ana)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(plan, "PRO");
    assert!((55.0..63.0).contains(&days), "two months: {days}");
    let grants = entries(&pool, "subscription.changed").await;
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[0].0.as_deref(), Some("owner@kilat.id"));
    assert_eq!(grants[0].1["how"], "started");
    assert_eq!(grants[1].1["how"], "extended");
    assert_eq!(
        grants[1].1["reason"],
        "Goodwill after the outage on 3 December"
    );
    assert!(grants[1].1["payment_id"].is_null(), "no payment was made");
    let shown = owner.page(&person_page).await;
    assert!(
        shown.contains("Goodwill after the outage"),
        "the grant is on the person's trail"
    );

    // Roles: Ana becomes admin, the owner cannot demote themselves.
    let promoted = post_from(
        &owner,
        &person_page,
        SetUserRole::PATH,
        &[("id", &id), ("role", "admin")],
    )
    .await;
    assert_eq!(back_to(&promoted, &owner), person_page);
    let owner_id = user_id(&pool, "owner@kilat.id").await.to_string();
    let own_page = format!("/admin/users/{owner_id}");
    let refused = post_from(
        &owner,
        &own_page,
        SetUserRole::PATH,
        &[("id", &owner_id), ("role", "member")],
    )
    .await;
    assert!(
        owner
            .page(&back_to(&refused, &owner))
            .await
            .contains("cannot remove your own admin role")
    );
    let roles: Vec<(String, String)> = sqlx::query_as(
        "select u.email, r.role::text from public.user_roles r join auth.users u on u.id = r.user_id order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        roles,
        [
            ("ana@kilat.id".into(), "admin".into()),
            ("owner@kilat.id".into(), "admin".into())
        ]
    );
    let changes = entries(&pool, "role.changed").await;
    let by_owner: Vec<_> = changes
        .iter()
        .filter(|(actor, _)| actor.as_deref() == Some("owner@kilat.id"))
        .collect();
    assert_eq!(by_owner.len(), 1, "{changes:?}");

    // Ana, now an admin, demotes the owner; the owner's very next call is refused.
    let demoted = post_from(
        &member,
        &own_page,
        SetUserRole::PATH,
        &[("id", &owner_id), ("role", "member")],
    )
    .await;
    assert_eq!(back_to(&demoted, &member), own_page);
    assert_eq!(owner.get("/admin/users").await.status(), 404);
    let after = post_from(
        &owner,
        &person_page,
        GrantPlan::PATH,
        &[("id", &id), ("plan", "ULTIMATE"), ("reason", "sneaky")],
    )
    .await;
    assert_eq!(
        after.status(),
        404,
        "a member's post is answered as if nothing were there"
    );
    assert_eq!(entries(&pool, "subscription.changed").await.len(), 2);
}
