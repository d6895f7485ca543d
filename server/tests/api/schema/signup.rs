//! The signup triggers on `auth.users`: every new account gets its profile, its FREE/active
//! subscription and the member role, whatever gotrue put in `raw_user_meta_data`.

use sqlx::PgPool;
use uuid::Uuid;

use super::create_user;
use crate::helpers::TestDb;

/// (profiles, subscriptions, FREE/active subscriptions, roles, member roles) of `user`.
async fn rows_of(pool: &PgPool, user: Uuid) -> (i64, i64, i64, i64, i64) {
    sqlx::query_as(
        "select
           (select count(*) from public.profiles where id = $1),
           (select count(*) from public.subscriptions where user_id = $1),
           (select count(*) from public.subscriptions
             where user_id = $1 and plan = 'FREE' and status = 'active'
               and current_period_end is null and not cancel_at_period_end),
           (select count(*) from public.user_roles where user_id = $1),
           (select count(*) from public.user_roles where user_id = $1 and role = 'member')",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn full_name_of(pool: &PgPool, user: Uuid) -> Option<String> {
    sqlx::query_scalar("select full_name from public.profiles where id = $1")
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_auth_user_gets_one_profile_one_free_active_subscription_and_the_member_role() {
    let db = TestDb::migrated().await;
    let user = create_user(
        &db.pool,
        "ana@test.local",
        serde_json::json!({ "full_name": "Ana Putri" }),
    )
    .await;

    assert_eq!(rows_of(&db.pool, user).await, (1, 1, 1, 1, 1));
    assert_eq!(
        full_name_of(&db.pool, user).await.as_deref(),
        Some("Ana Putri")
    );
    let metadata: serde_json::Value =
        sqlx::query_scalar("select metadata from public.profiles where id = $1")
            .bind(user)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(metadata, serde_json::json!({}));
}

#[tokio::test]
async fn users_created_in_one_statement_each_get_exactly_their_own_rows() {
    let db = TestDb::migrated().await;
    let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    sqlx::query(
        "insert into auth.users (id, email, raw_user_meta_data, created_at, updated_at)
         select id, id::text || '@test.local', jsonb_build_object('full_name', 'User ' || n), now(), now()
         from unnest($1::uuid[]) with ordinality as t(id, n)",
    )
    .bind(&ids)
    .execute(&db.pool)
    .await
    .unwrap();

    for (n, id) in ids.iter().enumerate() {
        assert_eq!(rows_of(&db.pool, *id).await, (1, 1, 1, 1, 1), "user {n}");
        assert_eq!(
            full_name_of(&db.pool, *id).await,
            Some(format!("User {}", n + 1))
        );
    }
    let totals: (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from public.profiles),
                (select count(*) from public.subscriptions),
                (select count(*) from public.user_roles)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(totals, (3, 3, 3));
}

#[tokio::test]
async fn the_full_name_is_trimmed_falls_back_to_name_and_is_cut_rather_than_failing_signup() {
    let db = TestDb::migrated().await;
    let cases = [
        (
            serde_json::json!({ "full_name": "  Ana Putri  " }),
            Some("Ana Putri".to_string()),
        ),
        // Google sends "name".
        (
            serde_json::json!({ "name": "Budi" }),
            Some("Budi".to_string()),
        ),
        (
            serde_json::json!({ "full_name": "   ", "name": "Citra" }),
            Some("Citra".to_string()),
        ),
        (
            serde_json::json!({ "full_name": "x".repeat(500) }),
            Some("x".repeat(120)),
        ),
        (serde_json::json!({}), None),
        (serde_json::Value::Null, None),
    ];
    for (n, (meta, expected)) in cases.into_iter().enumerate() {
        let user = create_user(&db.pool, &format!("case{n}@test.local"), meta.clone()).await;
        assert_eq!(rows_of(&db.pool, user).await, (1, 1, 1, 1, 1), "{meta}");
        assert_eq!(full_name_of(&db.pool, user).await, expected, "{meta}");
    }
}

#[tokio::test]
async fn the_locale_signed_up_with_is_kept_and_an_unknown_one_ignored_rather_than_failing_signup() {
    let db = TestDb::migrated().await;
    let cases = [
        (serde_json::json!({ "locale": "id" }), Some("id")),
        (serde_json::json!({ "locale": "en" }), Some("en")),
        (serde_json::json!({ "locale": "fr" }), None),
        (serde_json::json!({ "locale": 7 }), None),
        (serde_json::json!({}), None),
    ];
    for (n, (meta, expected)) in cases.into_iter().enumerate() {
        let user = create_user(&db.pool, &format!("lang{n}@test.local"), meta.clone()).await;
        assert_eq!(rows_of(&db.pool, user).await, (1, 1, 1, 1, 1), "{meta}");
        let locale: Option<String> =
            sqlx::query_scalar("select locale from public.profiles where id = $1")
                .bind(user)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(locale.as_deref(), expected, "{meta}");
    }
}

#[tokio::test]
async fn deleting_an_account_removes_its_rows_but_keeps_its_payments_unlinked() {
    let db = TestDb::migrated().await;
    let user = create_user(&db.pool, "gone@test.local", serde_json::json!({})).await;
    sqlx::query(
        "insert into public.payments (user_id, plan, amount, provider, external_id, status, paid_at)
         values ($1, 'PRO', 99000, 'MIDTRANS', 'KK-gone-1', 'PAID', now())",
    )
    .bind(user)
    .execute(&db.pool)
    .await
    .unwrap();

    sqlx::query("delete from auth.users where id = $1")
        .bind(user)
        .execute(&db.pool)
        .await
        .unwrap();

    assert_eq!(rows_of(&db.pool, user).await, (0, 0, 0, 0, 0));
    let unlinked: i64 = sqlx::query_scalar(
        "select count(*) from public.payments where external_id = 'KK-gone-1' and user_id is null",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(unlinked, 1);
}
