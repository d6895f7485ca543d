use kilat_server::{
    audit::{self, AuditAction, AuditContext, AuditEntry},
    db::user_scope::begin_as_user,
};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

use crate::helpers::TestDb;

async fn sign_up(db: &TestDb, email: &str, name: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into auth.users (id, email, aud, role, raw_user_meta_data)
         values (gen_random_uuid(), $1, 'authenticated', 'authenticated', jsonb_build_object('full_name', $2::text))
         returning id",
    )
    .bind(email)
    .bind(name)
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

fn claims(user: Uuid) -> serde_json::Value {
    json!({"sub": user, "role": "authenticated", "aud": "authenticated"})
}

#[tokio::test]
async fn a_user_scoped_query_cannot_see_or_change_another_users_profile_even_if_the_code_asks() {
    let db = TestDb::migrated().await;
    let ana = sign_up(&db, "ana@kilat.id", "Ana").await;
    let budi = sign_up(&db, "budi@kilat.id", "Budi").await;

    // One connection only, so the checks after the transaction look at the very connection
    // the transaction ran on.
    let pinned = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(db.options.clone())
        .await
        .unwrap();
    let mut tx = begin_as_user(&pinned, &claims(ana)).await.unwrap();
    let (uid, sub): (Option<Uuid>, String) = sqlx::query_as(
        "select auth.uid(), current_setting('request.jwt.claims', true)::jsonb ->> 'sub'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(
        (uid, sub),
        (Some(ana), ana.to_string()),
        "the claims are Ana's"
    );
    let names: Vec<Option<String>> =
        sqlx::query_scalar("select full_name from public.profiles where id = any($1)")
            .bind(vec![ana, budi])
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    assert_eq!(
        names,
        vec![Some("Ana".to_string())],
        "only Ana's own row is visible to Ana"
    );
    let changed = sqlx::query("update public.profiles set full_name = 'hacked' where id = $1")
        .bind(budi)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(changed, 0);
    let role: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(role, "authenticated");
    tx.commit().await.unwrap();

    let budi_name: Option<String> =
        sqlx::query_scalar("select full_name from public.profiles where id = $1")
            .bind(budi)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(budi_name.as_deref(), Some("Budi"));
    let (role, claims_after): (String, Option<String>) = sqlx::query_as(
        "select current_user::text, nullif(current_setting('request.jwt.claims', true), '')",
    )
    .fetch_one(&pinned)
    .await
    .unwrap();
    assert_ne!(role, "authenticated", "the role ends with the transaction");
    assert_eq!(claims_after, None, "and so do the claims");
}

#[tokio::test]
async fn an_audit_entry_records_actor_target_details_and_origin() {
    let db = TestDb::migrated().await;
    let ana = sign_up(&db, "ana@kilat.id", "Ana").await;
    let long_agent = "Mozilla/5.0 ".repeat(200);
    let context = AuditContext {
        actor: Some((ana, "ana@kilat.id")),
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some(&long_agent),
    };
    let entry = AuditEntry {
        action: AuditAction::ProfileUpdated,
        target_type: "user",
        target_id: &ana.to_string(),
        metadata: json!({"before": {"full_name": "Ana"}, "after": {"full_name": "Ana Lestari"}}),
    };
    let id = audit::record(&db.pool, &context, entry).await.unwrap();

    let (actor, email, action, target, metadata, ip, agent_len): (Uuid, String, String, String, serde_json::Value, String, i32) =
        sqlx::query_as(
            "select actor_id, actor_email, action, target_id, metadata, host(ip), char_length(user_agent)
             from public.audit_logs where id = $1",
        )
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        (actor, email.as_str(), action.as_str()),
        (ana, "ana@kilat.id", "profile.updated")
    );
    assert_eq!(target, ana.to_string());
    assert_eq!(metadata["after"]["full_name"], "Ana Lestari");
    assert_eq!(ip, "203.0.113.7");
    assert_eq!(
        agent_len, 1024,
        "an overlong user agent is cut, not refused"
    );
}
