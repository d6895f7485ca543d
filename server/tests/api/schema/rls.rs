//! Row-level security and privileges, as a matrix: every public table and the avatars part of
//! `storage.objects`, against `anon`, another signed-in user and the owner.
//!
//! Sessions that must change nothing are *committed*, and the tables are then compared, as the
//! superuser, with a snapshot taken before: a write that slipped through would show.

use sqlx::PgPool;
use uuid::Uuid;

use super::{
    INSUFFICIENT_PRIVILEGE, Who, assert_blocked, assert_nothing_visible, assert_sqlstate,
    create_user, session,
};
use crate::helpers::TestDb;

/// Two members with data in every table: A (the target) and B (the other user).
struct World {
    db: TestDb,
    a: Uuid,
    b: Uuid,
}

async fn world() -> World {
    let db = TestDb::migrated().await;
    let a = create_user(
        &db.pool,
        "a@test.local",
        serde_json::json!({ "full_name": "Ana" }),
    )
    .await;
    let b = create_user(
        &db.pool,
        "b@test.local",
        serde_json::json!({ "full_name": "Budi" }),
    )
    .await;
    let seed = format!(
        "
        insert into public.payments (user_id, plan, amount, provider, external_id, status, paid_at) values
          ('{a}', 'BASIC', 49000, 'MIDTRANS', 'KK-A-1', 'PAID', now()),
          ('{a}', 'PRO', 99000, 'MIDTRANS', 'KK-A-2', 'PENDING', null),
          ('{b}', 'BASIC', 49000, 'DOKU', 'KK-B-1', 'PAID', now());
        insert into public.ai_usage (user_id, provider, model, kind, prompt_tokens, completion_tokens) values
          ('{a}', 'openai', 'gpt-4o-mini', 'chat', 10, 20),
          ('{a}', 'openai', 'gpt-4o-mini', 'generate', 1, 2),
          ('{b}', 'anthropic', 'claude-3-5-haiku', 'chat', 5, 5);
        insert into public.ai_conversations (user_id, title) values ('{a}', 'A chat'), ('{b}', 'B chat');
        insert into public.ai_messages (conversation_id, user_id, role, content)
          select id, user_id, 'user', 'hello from ' || title from public.ai_conversations;
        insert into public.ai_reservations (user_id, tokens, expires_at)
          values ('{a}', 100, now() + interval '10 minutes'), ('{b}', 50, now() + interval '10 minutes');
        insert into public.waitlist (email, name, source) values
          ('a@test.local', 'Ana', 'landing'),
          ('b@test.local', 'Budi', 'pricing');
        select public.claim_webhook_event('MIDTRANS', 'evt-A', 'settlement', 'KK-A-1', '{{\"email\": \"a@test.local\"}}');
        select public.claim_webhook_event('DOKU', 'evt-B', 'SUCCESS', 'KK-B-1', '{{\"email\": \"b@test.local\"}}');
        select public.consume_rate_limit('ai:user:{a}', 5, 3600);
        select public.consume_rate_limit('ai:user:{b}', 5, 3600);
        insert into public.audit_logs (actor_id, actor_email, action, target_type, target_id) values
          ('{a}', 'a@test.local', 'profile.updated', 'user', '{a}'),
          ('{b}', 'b@test.local', 'profile.updated', 'user', '{b}');
        insert into storage.buckets (id, name, public) values ('other', 'other', false);
        insert into storage.objects (bucket_id, name, owner_id) values
          ('avatars', '{a}/avatar', '{a}'),
          ('avatars', '{b}/avatar', '{b}'),
          ('other', '{a}/notes.txt', '{a}');
        "
    );
    sqlx::raw_sql(&seed)
        .execute(&db.pool)
        .await
        .expect("the world is seeded");
    World { db, a, b }
}

/// One table of the matrix: which of its rows are A's, and statements that would read or
/// change them.
struct Table {
    name: &'static str,
    of_a: String,
    set: &'static str,
    insert_for_a: String,
    /// Whether API roles are refused truncate (storage.objects keeps Supabase's own grants:
    /// there only policies guard it, and the API cannot express truncate).
    truncate_refused: bool,
}

fn tables(a: Uuid) -> Vec<Table> {
    let table = |name, of_a: String, set, insert_for_a: String| Table {
        name,
        of_a,
        set,
        insert_for_a,
        truncate_refused: name.starts_with("public."),
    };
    vec![
        table(
            "public.profiles",
            format!("id = '{a}'"),
            "full_name = 'hacked'",
            format!("insert into public.profiles (id, full_name) values ('{a}', 'forged')"),
        ),
        table(
            "public.subscriptions",
            format!("user_id = '{a}'"),
            "plan = 'ULTIMATE', current_period_end = now() + interval '1 year'",
            format!(
                "insert into public.subscriptions (user_id, plan, status, current_period_end)
                 values ('{a}', 'ULTIMATE', 'active', now() + interval '1 year')"
            ),
        ),
        table(
            "public.payments",
            format!("user_id = '{a}'"),
            "amount = 1",
            format!(
                "insert into public.payments (user_id, plan, amount, provider, external_id, status, paid_at)
                 values ('{a}', 'ULTIMATE', 1, 'DOKU', 'KK-forged', 'PAID', now())"
            ),
        ),
        table(
            "public.waitlist",
            "email = 'a@test.local'".into(),
            "name = 'hacked'",
            "insert into public.waitlist (email) values ('forged@test.local')".into(),
        ),
        table(
            "public.ai_usage",
            format!("user_id = '{a}'"),
            "prompt_tokens = 0, completion_tokens = 0",
            format!(
                "insert into public.ai_usage (user_id, provider, model, kind)
                 values ('{a}', 'openai', 'gpt-4o-mini', 'chat')"
            ),
        ),
        table(
            "public.ai_conversations",
            format!("user_id = '{a}'"),
            "title = 'hacked'",
            format!("insert into public.ai_conversations (user_id, title) values ('{a}', 'forged')"),
        ),
        table(
            "public.ai_messages",
            format!("user_id = '{a}'"),
            "content = 'hacked'",
            format!(
                "insert into public.ai_messages (conversation_id, user_id, role, content)
                 select id, user_id, 'assistant', 'forged' from public.ai_conversations where user_id = '{a}'"
            ),
        ),
        table(
            "public.ai_reservations",
            format!("user_id = '{a}'"),
            "tokens = 1",
            format!(
                "insert into public.ai_reservations (user_id, tokens, expires_at)
                 values ('{a}', 1, now() + interval '1 minute')"
            ),
        ),
        table(
            "public.user_roles",
            format!("user_id = '{a}'"),
            "role = 'admin'",
            format!("insert into public.user_roles (user_id, role) values ('{a}', 'admin')"),
        ),
        table(
            "public.webhook_events",
            "order_id = 'KK-A-1'".into(),
            "status = 'processed', processed_at = now()",
            "insert into public.webhook_events (provider, event_id, event_type, payload, status, processed_at)
             values ('DOKU', 'forged', 'SUCCESS', '{}', 'processed', now())"
                .into(),
        ),
        table(
            "public.rate_limit_buckets",
            format!("key = 'ai:user:{a}'"),
            "count = 0",
            "insert into public.rate_limit_buckets (key, window_start, window_seconds, count)
             values ('forged', now(), 60, 0)"
                .into(),
        ),
        table(
            "public.audit_logs",
            format!("actor_id = '{a}'"),
            "action = 'profile.hacked'",
            format!("insert into public.audit_logs (actor_id, action) values ('{a}', 'role.changed')"),
        ),
        table(
            "storage.objects",
            format!("bucket_id = 'avatars' and name like '{a}/%'"),
            "metadata = '{\"hacked\": true}'",
            format!("insert into storage.objects (bucket_id, name) values ('avatars', '{a}/forged')"),
        ),
    ]
}

/// Every row of every matrix table, as the superuser sees it.
async fn everything(pool: &PgPool) -> Vec<String> {
    let mut all = Vec::new();
    for table in tables(Uuid::nil()) {
        let rows: String = sqlx::query_scalar(&format!(
            "select coalesce(string_agg(row_to_json(t)::text, E'\\n' order by row_to_json(t)::text), '')
             from {} t",
            table.name
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        all.push(format!("{}:\n{rows}", table.name));
    }
    all
}

/// `who` (not A) tries to read, change, delete, forge and wipe A's rows in every table; the
/// session is committed and nothing may have changed.
async fn nothing_of_a_can_be_read_or_changed_by(world: &World, who: Who) {
    let before = everything(&world.db.pool).await;
    assert!(
        before.iter().all(|t| t.lines().count() > 1),
        "every table has rows to protect: {before:#?}"
    );

    let mut s = session(&world.db.pool, who).await;
    for t in tables(world.a) {
        let what = |op: &str| format!("{who:?} {op} {}", t.name);
        assert_nothing_visible(
            s.count(&format!("select * from {} where {}", t.name, t.of_a))
                .await,
            &what("select A's rows"),
        );
        assert_blocked(
            s.exec(&format!("update {} set {} where {}", t.name, t.set, t.of_a))
                .await,
            &what("update A's rows"),
        );
        assert_blocked(
            s.exec(&format!("delete from {} where {}", t.name, t.of_a))
                .await,
            &what("delete A's rows"),
        );
        assert_sqlstate(
            s.exec(&t.insert_for_a).await,
            INSUFFICIENT_PRIVILEGE,
            &what("insert a row for A into"),
        );
        if t.truncate_refused {
            assert_sqlstate(
                s.exec(&format!("truncate {}", t.name)).await,
                INSUFFICIENT_PRIVILEGE,
                &what("truncate"),
            );
        }
    }
    s.commit().await;

    assert_eq!(everything(&world.db.pool).await, before);
}

#[tokio::test]
async fn anon_can_read_or_change_nothing_of_user_a() {
    let world = world().await;
    nothing_of_a_can_be_read_or_changed_by(&world, Who::Anon).await;

    // Nor anything of anyone: every table is empty or closed to anon, whole-table writes too.
    let before = everything(&world.db.pool).await;
    let mut s = session(&world.db.pool, Who::Anon).await;
    for t in tables(world.a) {
        assert_nothing_visible(
            s.count(&format!("select * from {}", t.name)).await,
            &format!("anon select * from {}", t.name),
        );
        assert_blocked(
            s.exec(&format!("update {} set {}", t.name, t.set)).await,
            &format!("anon update every row of {}", t.name),
        );
        assert_blocked(
            s.exec(&format!("delete from {}", t.name)).await,
            &format!("anon delete every row of {}", t.name),
        );
    }
    s.commit().await;
    assert_eq!(everything(&world.db.pool).await, before);
}

#[tokio::test]
async fn another_signed_in_user_can_read_or_change_nothing_of_user_a() {
    let world = world().await;
    nothing_of_a_can_be_read_or_changed_by(&world, Who::User(world.b)).await;

    // B still sees their own rows (the policies do not simply hide everything), and only those.
    let b = world.b;
    let mut s = session(&world.db.pool, Who::User(b)).await;
    for (query, own) in [
        ("select * from public.profiles".to_string(), 1),
        (format!("select * from public.profiles where id = '{b}'"), 1),
        ("select * from public.subscriptions".into(), 1),
        ("select * from public.payments".into(), 1),
        ("select * from public.ai_usage".into(), 1),
        ("select * from public.ai_conversations".into(), 1),
        ("select * from public.ai_messages".into(), 1),
        ("select * from public.user_roles".into(), 1),
        ("select * from storage.objects".into(), 1),
        (
            format!("select * from storage.objects where name = '{b}/avatar'"),
            1,
        ),
    ] {
        assert_eq!(s.count(&query).await.unwrap(), own, "B: {query}");
    }
}

#[tokio::test]
async fn the_owner_reads_exactly_their_own_rows() {
    let world = world().await;
    let a = world.a;
    let owned = [
        ("public.profiles", "id", format!("id = '{a}'")),
        ("public.subscriptions", "id", format!("user_id = '{a}'")),
        ("public.payments", "id", format!("user_id = '{a}'")),
        ("public.ai_usage", "id", format!("user_id = '{a}'")),
        ("public.ai_conversations", "id", format!("user_id = '{a}'")),
        ("public.ai_messages", "id", format!("user_id = '{a}'")),
        ("public.user_roles", "user_id", format!("user_id = '{a}'")),
        (
            "storage.objects",
            "id",
            format!("bucket_id = 'avatars' and name like '{a}/%'"),
        ),
    ];
    let ids = |table: &str, column: &str, filter: &str| {
        format!(
            "select coalesce(array_agg({column}::text order by {column}::text), '{{}}')
             from {table} where {filter}"
        )
    };

    let mut s = session(&world.db.pool, Who::User(a)).await;
    for (table, column, of_a) in &owned {
        let visible: Vec<String> = s.scalar(&ids(table, column, "true")).await.unwrap();
        let theirs: Vec<String> = sqlx::query_scalar(&ids(table, column, of_a))
            .fetch_one(&world.db.pool)
            .await
            .unwrap();
        assert!(!theirs.is_empty(), "A has rows in {table}");
        assert_eq!(visible, theirs, "A sees exactly their own rows of {table}");
    }
    let payments: i64 = s
        .scalar("select count(*) from public.payments")
        .await
        .unwrap();
    assert_eq!(payments, 2);
    // A's file in another bucket is not covered by the avatars policies.
    assert_eq!(
        s.count("select * from storage.objects where bucket_id = 'other'")
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn the_owner_updates_only_the_editable_profile_columns() {
    let world = world().await;
    let (a, b) = (world.a, world.b);
    let editable: Vec<String> = sqlx::query_scalar(
        "select column_name::text from information_schema.column_privileges
         where grantee = 'authenticated' and table_schema = 'public' and table_name = 'profiles'
           and privilege_type = 'UPDATE'
         order by 1",
    )
    .fetch_all(&world.db.pool)
    .await
    .unwrap();
    assert_eq!(
        editable,
        ["avatar_path", "avatar_updated_at", "full_name", "locale"]
    );
    let b_before = everything(&world.db.pool).await;

    let mut s = session(&world.db.pool, Who::User(a)).await;
    assert_eq!(
        s.exec(&format!(
            "update public.profiles set full_name = 'Ana P.' where id = '{a}'"
        ))
        .await
        .unwrap(),
        1
    );
    // Without a where clause it still reaches only A's own row.
    assert_eq!(
        s.exec("update public.profiles set full_name = 'Ana Putri'")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.exec(&format!(
            "update public.profiles set avatar_path = '{a}/avatar', avatar_updated_at = now()"
        ))
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        s.exec("update public.profiles set locale = 'en'")
            .await
            .unwrap(),
        1
    );
    for set in [
        "id = gen_random_uuid()".to_string(),
        format!("id = '{b}'"),
        "created_at = now() - interval '1 year'".into(),
        "updated_at = now()".into(),
        "metadata = '{\"plan\": \"ULTIMATE\"}'".into(),
    ] {
        assert_sqlstate(
            s.exec(&format!(
                "update public.profiles set {set} where id = '{a}'"
            ))
            .await,
            INSUFFICIENT_PRIVILEGE,
            &format!("A: update profiles set {set}"),
        );
    }
    assert_sqlstate(
        s.exec(&format!("delete from public.profiles where id = '{a}'"))
            .await,
        INSUFFICIENT_PRIVILEGE,
        "A deletes their profile",
    );
    // The editable columns keep their checks: a name is not an essay, and an avatar path
    // cannot point into someone else's folder.
    assert_sqlstate(
        s.exec(&format!(
            "update public.profiles set full_name = '{}'",
            "y".repeat(121)
        ))
        .await,
        "23514",
        "A: a 121-character name",
    );
    assert_sqlstate(
        s.exec(&format!(
            "update public.profiles set avatar_path = '{b}/avatar', avatar_updated_at = now()"
        ))
        .await,
        "23514",
        "A: an avatar path in B's folder",
    );
    assert_sqlstate(
        s.exec("update public.profiles set locale = 'fr'").await,
        "23514",
        "A: a language Kilat does not speak",
    );
    s.commit().await;

    let profile: (Option<String>, Option<String>, serde_json::Value, bool) = sqlx::query_as(
        "select full_name, avatar_path, metadata, avatar_updated_at is not null
         from public.profiles where id = $1",
    )
    .bind(a)
    .fetch_one(&world.db.pool)
    .await
    .unwrap();
    assert_eq!(
        profile,
        (
            Some("Ana Putri".into()),
            Some(format!("{a}/avatar")),
            serde_json::json!({}),
            true
        )
    );
    // Only A's profile changed: every other table, and B's profile, are as before.
    let after = everything(&world.db.pool).await;
    for (before, after) in b_before.iter().zip(&after) {
        if before.starts_with("public.profiles:") {
            let b_row = |all: &str| {
                all.lines()
                    .filter(|l| l.contains(&b.to_string()))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(b_row(before), b_row(after));
        } else {
            assert_eq!(before, after);
        }
    }
}

#[tokio::test]
async fn the_owner_cannot_write_their_subscription_payments_role_or_usage() {
    let world = world().await;
    let a = world.a;
    let before = everything(&world.db.pool).await;

    let mut s = session(&world.db.pool, Who::User(a)).await;
    let refused = [
        "update public.subscriptions set plan = 'ULTIMATE', current_period_end = now() + interval '1 year'".to_string(),
        "update public.subscriptions set cancel_at_period_end = true".into(),
        format!("insert into public.subscriptions (user_id, plan) values ('{a}', 'FREE')"),
        "delete from public.subscriptions".into(),
        format!(
            "insert into public.payments (user_id, plan, amount, provider, external_id, status, paid_at)
             values ('{a}', 'ULTIMATE', 1, 'DOKU', 'KK-self', 'PAID', now())"
        ),
        "update public.payments set status = 'PAID', paid_at = now() where status = 'PENDING'".into(),
        "update public.payments set amount = 1".into(),
        "delete from public.payments".into(),
        "update public.user_roles set role = 'admin'".into(),
        format!("insert into public.user_roles (user_id, role) values ('{a}', 'admin')"),
        "delete from public.user_roles".into(),
        format!(
            "insert into public.ai_usage (user_id, provider, model, kind) values ('{a}', 'x', 'y', 'chat')"
        ),
        "update public.ai_usage set prompt_tokens = 0, completion_tokens = 0".into(),
        "delete from public.ai_usage".into(),
        "truncate public.subscriptions".into(),
        "truncate public.payments".into(),
        "truncate public.user_roles".into(),
        "truncate public.ai_usage".into(),
        "truncate public.profiles".into(),
    ];
    for statement in &refused {
        assert_sqlstate(
            s.exec(statement).await,
            INSUFFICIENT_PRIVILEGE,
            &format!("A: {statement}"),
        );
    }
    s.commit().await;

    assert_eq!(everything(&world.db.pool).await, before);
}

#[tokio::test]
async fn waitlist_webhook_events_rate_limit_buckets_and_audit_logs_are_invisible_to_api_users() {
    let world = world().await;
    let before = everything(&world.db.pool).await;

    for who in [Who::Anon, Who::User(world.a), Who::User(world.b)] {
        let mut s = session(&world.db.pool, who).await;
        for table in [
            "public.waitlist",
            "public.webhook_events",
            "public.rate_limit_buckets",
            "public.audit_logs",
        ] {
            assert_nothing_visible(
                s.count(&format!("select * from {table}")).await,
                &format!("{who:?} select * from {table}"),
            );
            assert_blocked(
                s.exec(&format!("delete from {table}")).await,
                &format!("{who:?} delete from {table}"),
            );
        }
        assert_sqlstate(
            s.exec("insert into public.waitlist (email) values ('new@test.local')")
                .await,
            INSUFFICIENT_PRIVILEGE,
            &format!("{who:?} joins the waitlist directly"),
        );
        assert_sqlstate(
            s.exec("select * from public.audit_logs_id_seq").await,
            INSUFFICIENT_PRIVILEGE,
            &format!("{who:?} reads the audit log sequence"),
        );
        s.commit().await;
    }

    assert_eq!(everything(&world.db.pool).await, before);
}

#[tokio::test]
async fn in_the_avatars_bucket_the_owner_uses_only_their_own_folder() {
    let world = world().await;
    let (a, b) = (world.a, world.b);

    let mut s = session(&world.db.pool, Who::User(a)).await;
    assert_eq!(
        s.count("select * from storage.objects").await.unwrap(),
        1,
        "A sees their avatar"
    );
    // Upload, upsert (update) and delete in the own folder.
    assert_eq!(
        s.exec(&format!(
            "insert into storage.objects (bucket_id, name, owner_id) values ('avatars', '{a}/avatar-2', '{a}')"
        ))
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        s.exec(&format!(
            "update storage.objects set metadata = '{{\"size\": 1}}' where name = '{a}/avatar-2'"
        ))
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        s.exec(&format!(
            "delete from storage.objects where name = '{a}/avatar-2'"
        ))
        .await
        .unwrap(),
        1
    );
    for (statement, what) in [
        (
            format!("insert into storage.objects (bucket_id, name) values ('avatars', '{b}/evil')"),
            "upload into B's folder",
        ),
        (
            "insert into storage.objects (bucket_id, name) values ('avatars', 'avatar')".into(),
            "upload outside any folder",
        ),
        (
            format!("insert into storage.objects (bucket_id, name) values ('other', '{a}/x')"),
            "upload into another bucket",
        ),
        (
            format!("update storage.objects set name = '{b}/stolen' where name = '{a}/avatar'"),
            "move the own avatar into B's folder",
        ),
        (
            format!("update storage.objects set bucket_id = 'other' where name = '{a}/avatar'"),
            "move the own avatar into another bucket",
        ),
    ] {
        assert_sqlstate(
            s.exec(&statement).await,
            INSUFFICIENT_PRIVILEGE,
            &format!("A: {what}"),
        );
    }
    assert_blocked(
        s.exec(&format!(
            "delete from storage.objects where name = '{b}/avatar'"
        ))
        .await,
        "A deletes B's avatar",
    );
    assert_blocked(
        s.exec(&format!(
            "delete from storage.objects where bucket_id = 'other' and name = '{a}/notes.txt'"
        ))
        .await,
        "A deletes their file in another bucket",
    );
    s.commit().await;

    let names: Vec<String> =
        sqlx::query_scalar("select bucket_id || ':' || name from storage.objects order by 1")
            .fetch_all(&world.db.pool)
            .await
            .unwrap();
    let mut expected = vec![
        format!("avatars:{a}/avatar"),
        format!("avatars:{b}/avatar"),
        format!("other:{a}/notes.txt"),
    ];
    expected.sort();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn row_level_security_is_enabled_on_every_table_in_public() {
    let db = TestDb::migrated().await;
    let (with_rls, without): (Vec<String>, Vec<String>) = sqlx::query_as(
        "select
           coalesce(array_agg(relname::text order by relname) filter (where relrowsecurity), '{}'),
           coalesce(array_agg(relname::text order by relname) filter (where not relrowsecurity), '{}')
         from pg_class
         where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    for table in [
        "ai_conversations",
        "ai_messages",
        "ai_reservations",
        "ai_usage",
        "audit_logs",
        "payments",
        "profiles",
        "rate_limit_buckets",
        "subscriptions",
        "user_roles",
        "waitlist",
        "webhook_events",
    ] {
        assert!(
            with_rls.iter().any(|t| t == table),
            "{table} has RLS: {with_rls:?}"
        );
    }
    // Including the migrator's own record, which the migrations do not create.
    assert_eq!(without, Vec::<String>::new());
}

#[tokio::test]
async fn every_policy_names_authenticated_and_reads_auth_uid_once_per_statement() {
    let db = TestDb::migrated().await;
    let policies: Vec<(String, String, Vec<String>, String)> = sqlx::query_as(
        "select schemaname || '.' || tablename, policyname::text, roles::text[],
                coalesce(qual, '') || ' ' || coalesce(with_check, '')
         from pg_policies
         where schemaname = 'public' or (schemaname = 'storage' and policyname like 'avatars\\_%')
         order by 1, 2",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(policies.len(), 12, "{policies:#?}");
    for (table, name, roles, expressions) in &policies {
        assert_eq!(roles, &["authenticated"], "{table} {name}");
        assert!(
            expressions.contains("( SELECT auth.uid() AS uid)"),
            "{table} {name} uses (select auth.uid()): {expressions}"
        );
        assert!(
            !expressions
                .replace("( SELECT auth.uid() AS uid)", "")
                .contains("auth.uid()"),
            "{table} {name} calls auth.uid() per row: {expressions}"
        );
    }
}

#[tokio::test]
async fn every_security_definer_function_in_public_pins_an_empty_search_path() {
    let db = TestDb::migrated().await;
    let functions: Vec<(String, bool, Vec<String>)> = sqlx::query_as(
        "select p.oid::regprocedure::text, p.prosecdef, coalesce(p.proconfig, '{}')
         from pg_proc p
         where p.pronamespace = 'public'::regnamespace
         order by 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let definers: Vec<&str> = functions
        .iter()
        .filter(|(_, definer, _)| *definer)
        .map(|(name, _, _)| name.as_str())
        .collect();
    assert!(
        definers.len() >= 10,
        "the signup triggers and RPCs are security definer: {definers:?}"
    );
    for (name, _, config) in functions.iter().filter(|(_, definer, _)| *definer) {
        assert!(
            config.iter().any(|c| c == "search_path=\"\""),
            "{name} has search_path='': {config:?}"
        );
    }
    // The invoker functions (triggers) pin it too.
    for (name, _, config) in &functions {
        assert!(
            config.iter().any(|c| c.starts_with("search_path=")),
            "{name} pins its search_path: {config:?}"
        );
    }
}

#[tokio::test]
async fn only_is_admin_is_executable_by_api_users() {
    let db = TestDb::migrated().await;
    let executable: Vec<(String, String)> = sqlx::query_as(
        "select r.role, p.oid::regprocedure::text
         from pg_proc p, unnest(array['anon', 'authenticated', 'public']) as r(role)
         where p.pronamespace = 'public'::regnamespace
           and case r.role
                 when 'public' then exists (
                   select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
                   where x.grantee = 0 and x.privilege_type = 'EXECUTE')
                 else has_function_privilege(r.role, p.oid, 'execute')
               end
         order by 1, 2",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        executable,
        [("authenticated".to_string(), "is_admin(uuid)".to_string())]
    );
}
