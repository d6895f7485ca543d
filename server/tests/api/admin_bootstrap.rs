//! ADMIN_EMAILS: a listed email becomes admin at its first sign-in that proves the person owns
//! the address, once; user_roles stays the source of truth afterwards.

use app::{domain::AppRole, identity::api::SignIn};
use kilat_server::auth::roles::{RequestedBy, is_admin, set_user_role};
use leptos::server_fn::ServerFn;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{
    NO_CONFIRMATION, PASSWORD, TestDb, google_consent, location, spawn_app_on, spawn_app_with,
};

async fn user_id(pool: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar("select id from auth.users where email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_auto_confirmed_sign_up_with_a_listed_address_stays_a_member() {
    // Confirmation off: Supabase confirms every sign-up at once, so nobody proved they own
    // the address, and whoever signs up first with it must not become admin.
    let (app, pool) = spawn_app_with(&[NO_CONFIRMATION, ("ADMIN_EMAILS", "boss@kilat.id")]).await;
    app.sign_up_signed_in("boss@kilat.id", "Not the boss").await;
    let again = app
        .other_browser()
        .post_form(
            SignIn::PATH,
            &[("email", "boss@kilat.id"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&again), "/dashboard");
    let user = user_id(&pool, "boss@kilat.id").await;
    assert!(!is_admin(&pool, user).await.unwrap(), "left a member");
    assert_eq!(app.get("/admin").await.status(), 404);
}

#[tokio::test]
async fn a_listed_address_confirmed_through_the_emailed_link_becomes_admin() {
    let (app, pool) = spawn_app_with(&[("ADMIN_EMAILS", "boss@kilat.id")]).await;
    app.sign_up_confirmed("boss@kilat.id", "Boss").await;
    let user = user_id(&pool, "boss@kilat.id").await;
    assert!(is_admin(&pool, user).await.unwrap());
    assert_eq!(app.get("/admin").await.status(), 200);
}

#[tokio::test]
async fn a_listed_address_google_vouches_for_becomes_admin() {
    let (app, pool) = spawn_app_with(&[NO_CONFIRMATION, ("ADMIN_EMAILS", "boss@gmail.test")]).await;
    let callback = google_consent(&app, "boss@gmail.test", "/dashboard/settings").await;
    let signed_in = app.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&signed_in), "/dashboard/settings");
    let user = user_id(&pool, "boss@gmail.test").await;
    assert!(is_admin(&pool, user).await.unwrap());
}

#[tokio::test]
async fn a_listed_email_becomes_admin_once_even_when_signing_in_twice_at_once_and_stays_demoted() {
    let db = TestDb::migrated().await;
    let pool = db.pool.clone();
    // The account exists, confirmed by its link, before the email is listed.
    let unlisted = spawn_app_on(db.pool.clone(), &[]).await;
    unlisted.sign_up_confirmed("boss@kilat.id", "").await;
    let user = user_id(&pool, "boss@kilat.id").await;
    assert!(!is_admin(&pool, user).await.unwrap());

    // A password sign-in proves ownership here: the address was confirmed while the project
    // requires confirmation.
    let listed = spawn_app_on(db.pool, &[("ADMIN_EMAILS", "Boss@Kilat.id")]).await;
    let credentials = [("email", "boss@kilat.id"), ("password", PASSWORD)];
    let (first, second) = (listed.other_browser(), listed.other_browser());
    let (a, b) = tokio::join!(
        first.post_form(SignIn::PATH, &credentials),
        second.post_form(SignIn::PATH, &credentials)
    );
    assert_eq!(
        (location(&a), location(&b)),
        ("/dashboard".into(), "/dashboard".into())
    );
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
    let again = listed
        .other_browser()
        .post_form(SignIn::PATH, &credentials)
        .await;
    assert_eq!(location(&again), "/dashboard");
    assert!(
        !is_admin(&pool, user).await.unwrap(),
        "a demoted admin stays demoted"
    );
}
