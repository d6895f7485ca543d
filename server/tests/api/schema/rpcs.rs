//! The RPCs: the privileged ones are closed to API users, `is_admin` only answers users about
//! themselves, `set_user_role` keeps an admin in charge and audits every change, and the
//! dashboard counts only money actually received.

use sqlx::PgPool;
use uuid::Uuid;

use super::{INSUFFICIENT_PRIVILEGE, Who, assert_sqlstate, create_user, make_admin, session};
use crate::helpers::TestDb;

/// One call of every privileged RPC.
fn privileged_calls(target: Uuid) -> Vec<String> {
    vec![
        format!("select * from public.set_user_role('{target}', 'admin', null)"),
        "select * from public.admin_dashboard_metrics()".into(),
        "select * from public.admin_monthly_figures('Asia/Jakarta', 12)".into(),
        "select * from public.claim_webhook_event('DOKU', 'rpc-evt', 'SUCCESS', null, '{}')".into(),
        "select public.finish_webhook_event('DOKU', 'rpc-evt', gen_random_uuid(), true)".into(),
        "select * from public.consume_rate_limit('rpc:key', 1, 60)".into(),
        "select public.cleanup_rate_limit_buckets(interval '1 day')".into(),
    ]
}

async fn role_of(pool: &PgPool, user: Uuid) -> String {
    sqlx::query_scalar("select role::text from public.user_roles where user_id = $1")
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn audit_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from public.audit_logs")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn privileged_rpcs_raise_42501_for_anon_and_authenticated_even_for_an_admin() {
    let db = TestDb::migrated().await;
    let member = create_user(&db.pool, "member@test.local", serde_json::json!({})).await;
    let admin = create_user(&db.pool, "admin@test.local", serde_json::json!({})).await;
    make_admin(&db.pool, admin).await;

    for who in [Who::Anon, Who::User(member), Who::User(admin)] {
        let mut s = session(&db.pool, who).await;
        for call in privileged_calls(member) {
            assert_sqlstate(
                s.exec(&call).await,
                INSUFFICIENT_PRIVILEGE,
                &format!("{who:?}: {call}"),
            );
        }
        // Also with the actor naming an admin: the privilege check comes first.
        assert_sqlstate(
            s.exec(&format!(
                "select * from public.set_user_role('{member}', 'admin', '{admin}')"
            ))
            .await,
            INSUFFICIENT_PRIVILEGE,
            &format!("{who:?}: set_user_role with an admin actor"),
        );
        s.commit().await;
    }

    // Nothing happened.
    let effects: (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from public.webhook_events),
                (select count(*) from public.rate_limit_buckets),
                (select count(*) from public.audit_logs)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(effects, (0, 0, 0));
    assert_eq!(role_of(&db.pool, member).await, "member");

    // The server's service role may call every one of them.
    let mut s = session(&db.pool, Who::ServiceRole).await;
    for call in privileged_calls(member) {
        s.exec(&call)
            .await
            .unwrap_or_else(|e| panic!("service_role: {call}: {e}"));
    }
    s.commit().await;
    assert_eq!(role_of(&db.pool, member).await, "admin");
}

#[tokio::test]
async fn is_admin_answers_api_users_only_about_themselves() {
    let db = TestDb::migrated().await;
    let admin = create_user(&db.pool, "admin@test.local", serde_json::json!({})).await;
    let member = create_user(&db.pool, "member@test.local", serde_json::json!({})).await;
    make_admin(&db.pool, admin).await;
    let ask = |user: Uuid| format!("select public.is_admin('{user}')");

    {
        let mut s = session(&db.pool, Who::Anon).await;
        assert_sqlstate(
            s.scalar::<bool>(&ask(admin)).await,
            INSUFFICIENT_PRIVILEGE,
            "anon asks is_admin",
        );
    }
    {
        let mut s = session(&db.pool, Who::User(admin)).await;
        assert!(
            s.scalar::<bool>(&ask(admin)).await.unwrap(),
            "admin about self"
        );
        assert!(!s.scalar::<bool>(&ask(member)).await.unwrap());
    }
    {
        let mut s = session(&db.pool, Who::User(member)).await;
        assert!(!s.scalar::<bool>(&ask(member)).await.unwrap());
        assert!(
            !s.scalar::<bool>(&ask(admin)).await.unwrap(),
            "a member cannot probe who the admins are"
        );
    }
    {
        let mut s = session(&db.pool, Who::ServiceRole).await;
        assert!(s.scalar::<bool>(&ask(admin)).await.unwrap());
        assert!(!s.scalar::<bool>(&ask(member)).await.unwrap());
    }

    // The server's own connection (no claims) gets the truth too.
    let truth: bool = sqlx::query_scalar("select public.is_admin($1)")
        .bind(admin)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(truth);
}

#[tokio::test]
async fn set_user_role_refuses_an_admin_demoting_themselves() {
    let db = TestDb::migrated().await;
    let admin = create_user(&db.pool, "admin@test.local", serde_json::json!({})).await;
    make_admin(&db.pool, admin).await;

    let result =
        sqlx::query("select * from public.set_user_role($1, 'member', $1, 'admin@test.local')")
            .bind(admin)
            .execute(&db.pool)
            .await;

    assert_sqlstate(result, "KL001", "an admin demotes themselves");
    assert_eq!(role_of(&db.pool, admin).await, "admin");
    assert_eq!(audit_count(&db.pool).await, 0);
}

#[tokio::test]
async fn set_user_role_refuses_members_unknown_users_and_missing_arguments() {
    let db = TestDb::migrated().await;
    let admin = create_user(&db.pool, "admin@test.local", serde_json::json!({})).await;
    let member = create_user(&db.pool, "member@test.local", serde_json::json!({})).await;
    let other = create_user(&db.pool, "other@test.local", serde_json::json!({})).await;
    make_admin(&db.pool, admin).await;
    let call = |target: Option<Uuid>, role: Option<&str>, actor: Option<Uuid>| {
        sqlx::query("select * from public.set_user_role($1, $2::public.app_role, $3)")
            .bind(target)
            .bind(role.map(str::to_owned))
            .bind(actor)
            .execute(&db.pool)
    };

    assert_sqlstate(
        call(Some(member), Some("admin"), Some(member)).await,
        INSUFFICIENT_PRIVILEGE,
        "a member promotes themselves",
    );
    assert_sqlstate(
        call(Some(other), Some("admin"), Some(member)).await,
        INSUFFICIENT_PRIVILEGE,
        "a member promotes someone",
    );
    assert_sqlstate(
        call(Some(admin), Some("member"), Some(member)).await,
        INSUFFICIENT_PRIVILEGE,
        "a member demotes an admin",
    );
    assert_sqlstate(
        call(Some(Uuid::new_v4()), Some("admin"), Some(admin)).await,
        "P0002",
        "an unknown user",
    );
    assert_sqlstate(
        call(None, Some("admin"), Some(admin)).await,
        "22004",
        "no target",
    );
    assert_sqlstate(
        call(Some(member), None, Some(admin)).await,
        "22004",
        "no role",
    );

    for (user, role) in [(admin, "admin"), (member, "member"), (other, "member")] {
        assert_eq!(role_of(&db.pool, user).await, role);
    }
    assert_eq!(audit_count(&db.pool).await, 0);
}

/// (actor id, actor email, action, target type, target id, metadata, ip, user agent)
type AuditEntry = (
    Option<Uuid>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    serde_json::Value,
    Option<String>,
    Option<String>,
);

#[tokio::test]
async fn set_user_role_writes_one_audit_entry_per_real_change() {
    let db = TestDb::migrated().await;
    let admin = create_user(&db.pool, "admin@test.local", serde_json::json!({})).await;
    let member = create_user(&db.pool, "member@test.local", serde_json::json!({})).await;
    make_admin(&db.pool, admin).await;
    let set = |target: Uuid, role: &'static str, actor: Uuid, email: &'static str| {
        sqlx::query_as::<_, (String, String, bool)>(
            "select previous_role::text, assigned_role::text, changed
             from public.set_user_role($1, $2::public.app_role, $3, $4, '203.0.113.9', 'test-agent')",
        )
        .bind(target)
        .bind(role)
        .bind(actor)
        .bind(email)
        .fetch_one(&db.pool)
    };

    let promoted = set(member, "admin", admin, "admin@test.local")
        .await
        .unwrap();
    assert_eq!(promoted, ("member".into(), "admin".into(), true));
    assert_eq!(role_of(&db.pool, member).await, "admin");
    assert_eq!(audit_count(&db.pool).await, 1);
    let entry: AuditEntry = sqlx::query_as(
        "select actor_id, actor_email, action, target_type, target_id, metadata,
                host(ip), user_agent
         from public.audit_logs",
    )
    .fetch_one(&db.pool)
    .await
    .expect("the audit entry is there");
    assert_eq!(
        entry,
        (
            Some(admin),
            Some("admin@test.local".into()),
            "role.changed".into(),
            Some("user".into()),
            Some(member.to_string()),
            serde_json::json!({ "from": "member", "to": "admin" }),
            Some("203.0.113.9".into()),
            Some("test-agent".into()),
        )
    );

    // Asking for the role a user already has changes nothing and audits nothing.
    let again = set(member, "admin", admin, "admin@test.local")
        .await
        .unwrap();
    assert_eq!(again, ("admin".into(), "admin".into(), false));
    assert_eq!(audit_count(&db.pool).await, 1);

    // The new admin may demote the old one (not themselves).
    let demoted = set(admin, "member", member, "member@test.local")
        .await
        .unwrap();
    assert_eq!(demoted, ("admin".into(), "member".into(), true));
    assert_eq!(audit_count(&db.pool).await, 2);
    let last: (Option<Uuid>, String, serde_json::Value) = sqlx::query_as(
        "select actor_id, target_id, metadata from public.audit_logs order by id desc limit 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        last,
        (
            Some(member),
            admin.to_string(),
            serde_json::json!({ "from": "admin", "to": "member" })
        )
    );
}

type Metrics = (i64, i64, i64, i64, i64, i64, i64);

async fn metrics(pool: &PgPool) -> Metrics {
    sqlx::query_as(
        "select revenue_idr, paid_payments, pending_payments,
                active_free, active_basic, active_pro, active_ultimate
         from public.admin_dashboard_metrics()",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn admin_dashboard_metrics_counts_only_paid_revenue_and_subscriptions_in_force() {
    let db = TestDb::migrated().await;
    assert_eq!(metrics(&db.pool).await, (0, 0, 0, 0, 0, 0, 0));

    let mut users = Vec::new();
    for n in 0..5 {
        users.push(create_user(&db.pool, &format!("u{n}@test.local"), serde_json::json!({})).await);
    }
    let [u0, u1, u2, u3, _stays_free] = users[..] else {
        unreachable!()
    };
    let seed = format!(
        "
        insert into public.payments (user_id, plan, amount, provider, external_id, status, paid_at) values
          ('{u0}', 'BASIC', 49000, 'MIDTRANS', 'KK-1', 'PAID', now()),
          ('{u1}', 'PRO', 99000, 'DOKU', 'KK-2', 'PAID', now()),
          ('{u2}', 'ULTIMATE', 150000, 'MIDTRANS', 'KK-3', 'PENDING', null),
          ('{u0}', 'PRO', 10000, 'MIDTRANS', 'KK-4', 'FAILED', null),
          ('{u1}', 'BASIC', 20000, 'DOKU', 'KK-5', 'EXPIRED', null),
          ('{u2}', 'PRO', 99000, 'MIDTRANS', 'KK-6', 'REFUNDED', now());
        -- u0 BASIC and u1 PRO in force; u2's ULTIMATE period has passed (not swept yet);
        -- u3 canceled; u4 stays FREE.
        update public.subscriptions set plan = 'BASIC', current_period_start = now(),
          current_period_end = now() + interval '30 days' where user_id = '{u0}';
        update public.subscriptions set plan = 'PRO', current_period_start = now(),
          current_period_end = now() + interval '30 days' where user_id = '{u1}';
        update public.subscriptions set plan = 'ULTIMATE', current_period_start = now() - interval '40 days',
          current_period_end = now() - interval '10 days' where user_id = '{u2}';
        update public.subscriptions set plan = 'PRO', status = 'canceled', canceled_at = now(),
          current_period_start = now() - interval '40 days', current_period_end = now() - interval '10 days'
          where user_id = '{u3}';
        "
    );
    sqlx::raw_sql(&seed).execute(&db.pool).await.unwrap();

    // PAID only: 49000 + 99000. PENDING, FAILED, EXPIRED and REFUNDED bring nothing in.
    assert_eq!(metrics(&db.pool).await, (148_000, 2, 1, 1, 1, 1, 0));

    // A refund takes the money back out; a late settlement of a failed checkout brings it in.
    sqlx::raw_sql(
        "update public.payments set status = 'REFUNDED' where external_id = 'KK-2';
         update public.payments set status = 'PAID', paid_at = now() where external_id = 'KK-4';",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    assert_eq!(metrics(&db.pool).await, (59_000, 2, 1, 1, 1, 1, 0));
}
