//! The avatars bucket as the seed specifies it, and the audit log's append-only guarantee.

use sqlx::PgPool;

use super::{INSUFFICIENT_PRIVILEGE, Who, assert_sqlstate, session};
use crate::helpers::TestDb;

/// SQLSTATE the audit log's triggers raise: refused by design, not by a privilege.
const APPEND_ONLY: &str = "KL002";

#[tokio::test]
async fn the_avatars_bucket_is_private_2_mib_and_accepts_exactly_four_image_types() {
    let db = TestDb::migrated().await;
    let (name, public, size_limit, mut types): (String, Option<bool>, Option<i64>, Vec<String>) =
        sqlx::query_as(
            "select name, public, file_size_limit, allowed_mime_types
             from storage.buckets where id = 'avatars'",
        )
        .fetch_one(&db.pool)
        .await
        .expect("the avatars bucket exists");

    assert_eq!(name, "avatars");
    assert_eq!(public, Some(false));
    assert_eq!(size_limit, Some(2_097_152));
    let listed = types.len();
    types.sort();
    types.dedup();
    assert_eq!(listed, types.len(), "no type listed twice");
    assert_eq!(
        types,
        ["image/gif", "image/jpeg", "image/png", "image/webp"]
    );
    let buckets: i64 = sqlx::query_scalar("select count(*) from storage.buckets")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(buckets, 1, "the migrations create no other bucket");
}

/// Writes one audit entry and returns the whole log as text.
async fn seeded_log(pool: &PgPool) -> String {
    sqlx::raw_sql(
        "insert into public.audit_logs (actor_email, action, target_type, target_id, metadata, ip, user_agent)
         values ('ops@test.local', 'payment.success', 'payment', 'KK-1', '{\"amount\": 99000}', '203.0.113.9', 'test');
         insert into public.audit_logs (action) values ('subscription.changed');",
    )
    .execute(pool)
    .await
    .expect("audit entries are written");
    log(pool).await
}

async fn log(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "select coalesce(string_agg(row_to_json(a)::text, E'\\n' order by a.id), '') from public.audit_logs a",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn audit_log_rows_cannot_be_updated_deleted_or_truncated_even_by_the_superuser() {
    let db = TestDb::migrated().await;
    let before = seeded_log(&db.pool).await;
    assert_eq!(before.lines().count(), 2);

    for statement in [
        "update public.audit_logs set action = 'payment.failed'",
        "update public.audit_logs set metadata = '{}' where action = 'payment.success'",
        "delete from public.audit_logs",
        "delete from public.audit_logs where action = 'subscription.changed'",
        "truncate public.audit_logs",
    ] {
        assert_sqlstate(
            sqlx::query(statement).execute(&db.pool).await,
            APPEND_ONLY,
            &format!("superuser: {statement}"),
        );
    }

    assert_eq!(log(&db.pool).await, before);
}

#[tokio::test]
async fn service_role_may_append_and_read_the_audit_log_but_not_change_it() {
    let db = TestDb::migrated().await;
    let before = seeded_log(&db.pool).await;

    let mut s = session(&db.pool, Who::ServiceRole).await;
    assert_eq!(
        s.count("select * from public.audit_logs").await.unwrap(),
        2,
        "service_role reads the log"
    );
    for statement in [
        "update public.audit_logs set action = 'payment.failed'",
        "delete from public.audit_logs",
        "truncate public.audit_logs",
    ] {
        assert_sqlstate(
            s.exec(statement).await,
            INSUFFICIENT_PRIVILEGE,
            &format!("service_role: {statement}"),
        );
    }
    assert_eq!(
        s.exec("insert into public.audit_logs (action, target_type, target_id) values ('role.changed', 'user', 'x')")
            .await
            .unwrap(),
        1,
        "service_role appends"
    );
    s.commit().await;

    let after = log(&db.pool).await;
    assert!(after.starts_with(&before), "the old entries are untouched");
    assert_eq!(after.lines().count(), 3);
}

#[tokio::test]
async fn audit_log_actions_must_be_dotted_lowercase() {
    let db = TestDb::migrated().await;
    for action in [
        "Role Changed!",
        "role",
        "role.",
        ".changed",
        "role.changed.twice",
    ] {
        assert_sqlstate(
            sqlx::query("insert into public.audit_logs (action) values ($1)")
                .bind(action)
                .execute(&db.pool)
                .await,
            "23514",
            action,
        );
    }
    sqlx::query("insert into public.audit_logs (action) values ('role.changed')")
        .execute(&db.pool)
        .await
        .expect("a well-formed action is accepted");
}
