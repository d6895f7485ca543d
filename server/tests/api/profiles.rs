//! Profile editing called directly, without Leptos or HTTP: the service takes the signed-in
//! user's claims and the audit context as arguments.

use app::identity::FullName;
use kilat_server::{audit::AuditContext, profiles};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::TestDb;

#[tokio::test]
async fn a_name_change_runs_as_the_user_and_is_audited_once_with_before_and_after() {
    let db = TestDb::migrated().await;
    let ana = db.add_user("ana@kilat.id").await;
    let claims = json!({"sub": ana, "role": "authenticated", "aud": "authenticated"});
    let context = AuditContext {
        actor: Some((ana, "ana@kilat.id")),
        ip: Some("203.0.113.9".parse().unwrap()),
        user_agent: Some("test"),
    };
    let name = FullName::parse("Ana Lestari").unwrap();

    assert!(
        profiles::update_full_name(&db.pool, &claims, &context, name.as_ref())
            .await
            .unwrap()
    );
    // The same name again changes nothing, so it is not audited again.
    assert!(
        profiles::update_full_name(&db.pool, &claims, &context, name.as_ref())
            .await
            .unwrap()
    );

    let (full_name, entries, metadata): (Option<String>, i64, serde_json::Value) = sqlx::query_as(
        "select (select full_name from public.profiles where id = $1),
                (select count(*) from public.audit_logs where action = 'profile.updated'),
                (select metadata from public.audit_logs where action = 'profile.updated' limit 1)",
    )
    .bind(ana)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(full_name.as_deref(), Some("Ana Lestari"));
    assert_eq!(entries, 1);
    assert_eq!(metadata["before"]["full_name"], serde_json::Value::Null);
    assert_eq!(metadata["after"]["full_name"], "Ana Lestari");

    // Claims of someone without a profile change nothing.
    let stranger = json!({"sub": Uuid::new_v4(), "role": "authenticated", "aud": "authenticated"});
    assert!(
        !profiles::update_full_name(&db.pool, &stranger, &context, None)
            .await
            .unwrap()
    );
}
