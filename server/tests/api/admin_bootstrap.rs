//! ADMIN_EMAILS: a listed email becomes admin at its first sign-in, once; user_roles stays the
//! source of truth afterwards.

use app::{domain::AppRole, identity::api::SignIn};
use kilat_server::admin::roles::{RequestedBy, is_admin, set_user_role};
use leptos::server_fn::ServerFn;
use uuid::Uuid;

use crate::helpers::{NO_CONFIRMATION, PASSWORD, TestDb, location, spawn_app_on};

#[tokio::test]
async fn a_listed_email_becomes_admin_once_even_when_signing_in_twice_at_once_and_stays_demoted() {
    let db = TestDb::migrated().await;
    let pool = db.pool.clone();
    // The account exists before the email is listed.
    let unlisted = spawn_app_on(db.pool.clone(), &[NO_CONFIRMATION]).await;
    unlisted.sign_up_signed_in("boss@kilat.id", "").await;
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
