//! ADMIN_EMAILS: a listed email becomes admin at its first sign-in, once; user_roles stays the
//! source of truth afterwards.

use app::{
    domain::AppRole,
    identity::api::{SignIn, SignUp},
};
use kilat_server::admin::roles::{RequestedBy, is_admin, set_user_role};
use leptos::server_fn::ServerFn;
use reqwest::header;
use uuid::Uuid;

use crate::helpers::{TestApp, TestDb, spawn_app_on};

const NO_CONFIRMATION: (&str, &str) = ("LOCAL_AUTH_EMAIL_CONFIRMATION", "false");

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::StatusCode {
    client
        .post(format!("{}{path}", app.address))
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, &app.address)
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_listed_email_becomes_admin_once_even_when_signing_in_twice_at_once_and_stays_demoted() {
    let db = TestDb::migrated().await;
    let pool = db.pool.clone();
    // The account exists before the email is listed.
    let unlisted = spawn_app_on(db.pool.clone(), &[NO_CONFIRMATION]).await;
    let status = post(
        &unlisted,
        &unlisted.client,
        SignUp::PATH,
        &[
            ("email", "boss@kilat.id"),
            ("password", "rahasia-123"),
            ("full_name", ""),
        ],
    )
    .await;
    assert!(status.is_redirection(), "{status}");
    let user: Uuid = sqlx::query_scalar("select id from auth.users where email = 'boss@kilat.id'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!is_admin(&pool, user).await.unwrap());

    let listed = spawn_app_on(
        db.pool,
        &[NO_CONFIRMATION, ("ADMIN_EMAILS", "Boss@Kilat.id")],
    )
    .await;
    let credentials = [("email", "boss@kilat.id"), ("password", "rahasia-123")];
    let (first, second) = (browser(), browser());
    let (a, b) = tokio::join!(
        post(&listed, &first, SignIn::PATH, &credentials),
        post(&listed, &second, SignIn::PATH, &credentials)
    );
    assert!(a.is_redirection() && b.is_redirection(), "{a} {b}");
    assert!(is_admin(&pool, user).await.unwrap());
    let (roles, entries): (i64, i64) = sqlx::query_as(
        "select (select count(*) from public.user_roles where user_id = $1),
                (select count(*) from public.audit_logs where action = 'role.changed' and target_id = $1::text)",
    )
    .bind(user)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((roles, entries), (1, 1), "one role row, one audit entry");

    // Another admin demotes them; the list does not promote them again.
    set_user_role(&pool, user, AppRole::Member, &RequestedBy::default())
        .await
        .unwrap();
    assert!(
        post(&listed, &browser(), SignIn::PATH, &credentials)
            .await
            .is_redirection()
    );
    assert!(
        !is_admin(&pool, user).await.unwrap(),
        "a demoted admin stays demoted"
    );
}
