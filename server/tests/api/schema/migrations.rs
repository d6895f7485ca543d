//! The migration set as a whole: it applies to plain PostgreSQL from nothing, applying it again is
//! a no-op, and on a database that already looks like Supabase the compatibility migration
//! changes nothing while the ten after it still apply.

use kilat_server::db::migrations::{MIGRATOR, compare};
use sqlx::{PgPool, migrate::Migrate};

use crate::helpers::TestDb;

/// What a database prepared like hosted Supabase holds before kilat's migrations run.
const SUPABASE_LIKE: &str = include_str!("fixtures/supabase_like.sql");

/// One line per catalog fact the compatibility migration could create or change.
const CATALOG_SNAPSHOT: &str = include_str!("fixtures/catalog_snapshot.sql");

/// The user `SUPABASE_LIKE` creates before the migrations (they must backfill it).
const EARLY_USER: &str = "00000000-0000-0000-0000-0000000000ee";

async fn catalog(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(CATALOG_SNAPSHOT)
        .fetch_all(pool)
        .await
        .expect("the catalog snapshot query runs")
}

async fn recorded_migrations(pool: &PgPool) -> Vec<(i64, bool)> {
    sqlx::query_as("select version, success from _sqlx_migrations order by version")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn compat_migration() -> &'static sqlx::migrate::Migration {
    let first = MIGRATOR.iter().next().expect("there are migrations");
    assert_eq!(first.description.as_ref(), "supabase compat");
    first
}

/// Asserts the catalog is equal, listing only the lines that differ.
#[track_caller]
fn assert_same_catalog(before: &[String], after: &[String], what: &str) {
    let gone: Vec<_> = before.iter().filter(|l| !after.contains(l)).collect();
    let new: Vec<_> = after.iter().filter(|l| !before.contains(l)).collect();
    assert!(
        gone.is_empty() && new.is_empty() && before.len() == after.len(),
        "{what} changed the catalog.\n--- only before:\n{gone:#?}\n+++ only after:\n{new:#?}"
    );
}

#[tokio::test]
async fn the_whole_set_applies_to_a_fresh_database_and_running_it_again_is_a_no_op() {
    let db = TestDb::empty().await;
    MIGRATOR.run(&db.pool).await.expect("the migrations apply");

    let expected: Vec<(i64, bool)> = MIGRATOR.iter().map(|m| (m.version, true)).collect();
    assert!(
        expected.len() >= 11,
        "the compat migration and the ten, then later changes"
    );
    let recorded = recorded_migrations(&db.pool).await;
    assert_eq!(recorded, expected);
    let report = compare(&db.pool, &MIGRATOR).await.unwrap();
    assert_eq!(report.applied, expected.len());
    assert!(!report.has_drift(), "{report:?}");

    let catalog_before = catalog(&db.pool).await;
    MIGRATOR
        .run(&db.pool)
        .await
        .expect("running the migrator again succeeds");

    assert_eq!(recorded_migrations(&db.pool).await, recorded);
    let report = compare(&db.pool, &MIGRATOR).await.unwrap();
    assert!(
        report.pending.is_empty() && !report.has_drift(),
        "{report:?}"
    );
    assert_same_catalog(&catalog_before, &catalog(&db.pool).await, "a second run");
}

#[tokio::test]
async fn the_compat_migration_run_again_on_a_migrated_database_changes_nothing() {
    let db = TestDb::migrated().await;
    let before = catalog(&db.pool).await;

    let mut tx = db.pool.begin().await.unwrap();
    sqlx::raw_sql(compat_migration().sql.as_ref())
        .execute(&mut *tx)
        .await
        .expect("the compat file runs again");
    tx.commit().await.unwrap();

    assert_same_catalog(&before, &catalog(&db.pool).await, "the compat file");
}

#[tokio::test]
async fn compare_reports_a_migration_missing_from_the_record_as_pending() {
    let db = TestDb::migrated().await;
    let last = MIGRATOR.iter().last().unwrap();
    sqlx::query("delete from _sqlx_migrations where version = $1")
        .bind(last.version)
        .execute(&db.pool)
        .await
        .unwrap();

    let report = compare(&db.pool, &MIGRATOR).await.unwrap();
    assert!(report.has_drift());
    assert_eq!(report.applied, MIGRATOR.iter().count() - 1);
    assert_eq!(
        report.pending,
        vec![(last.version, last.description.to_string())]
    );
    assert!(report.unknown_applied.is_empty() && report.changed.is_empty());
}

/// A fresh database prepared like hosted Supabase, with the sqlx record table already there (the
/// migrator creates it before the first migration).
async fn supabase_like() -> TestDb {
    let db = TestDb::empty().await;
    sqlx::raw_sql(SUPABASE_LIKE)
        .execute(&db.pool)
        .await
        .expect("the Supabase-like preparation runs");
    db.pool
        .acquire()
        .await
        .unwrap()
        .ensure_migrations_table()
        .await
        .unwrap();
    db
}

#[tokio::test]
async fn on_a_database_prepared_like_supabase_the_compat_migration_changes_nothing() {
    let db = supabase_like().await;
    let before = catalog(&db.pool).await;
    // The preparation is what the snapshot must see: a foreign-owned auth schema and its users.
    assert!(
        before
            .iter()
            .any(|l| l.starts_with("schema auth owner=kilat_test_supabase_admin ")),
        "auth is owned by the Supabase-like admin role"
    );
    assert!(
        before
            .iter()
            .any(|l| l.starts_with("column auth.users.raw_user_meta_data "))
    );
    assert!(before.iter().any(|l| l.starts_with("function auth.uid() ")));
    let users_before: i64 = sqlx::query_scalar("select count(*) from auth.users")
        .fetch_one(&db.pool)
        .await
        .unwrap();

    let mut conn = db.pool.acquire().await.unwrap();
    conn.apply(compat_migration())
        .await
        .expect("the compat migration applies");
    drop(conn);

    assert_same_catalog(&before, &catalog(&db.pool).await, "the compat migration");
    let (users_after, buckets): (i64, i64) = sqlx::query_as(
        "select (select count(*) from auth.users), (select count(*) from storage.buckets)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((users_after, buckets), (users_before, 0));
    assert_eq!(
        recorded_migrations(&db.pool).await,
        vec![(compat_migration().version, true)]
    );
}

#[tokio::test]
async fn on_a_database_prepared_like_supabase_the_ten_apply_and_backfill_existing_users() {
    let db = supabase_like().await;
    MIGRATOR
        .run(&db.pool)
        .await
        .expect("the migrations apply to a Supabase-like database");
    assert!(!compare(&db.pool, &MIGRATOR).await.unwrap().has_drift());

    let early: (Option<String>, String, String, String) = sqlx::query_as(
        "select p.full_name, s.plan::text, s.status::text, r.role::text
         from public.profiles p
         join public.subscriptions s on s.user_id = p.id
         join public.user_roles r on r.user_id = p.id
         where p.id = $1::uuid",
    )
    .bind(EARLY_USER)
    .fetch_one(&db.pool)
    .await
    .expect("the early user was backfilled");
    assert_eq!(
        early,
        (
            Some("Early Bird".into()),
            "FREE".into(),
            "active".into(),
            "member".into()
        )
    );

    // The triggers, bucket and storage policies landed on the foreign-owned auth and storage
    // tables too.
    let user = super::create_user(&db.pool, "late@test.local", serde_json::json!({})).await;
    let rows: i64 = sqlx::query_scalar(
        "select (select count(*) from public.profiles where id = $1)
              + (select count(*) from public.subscriptions where user_id = $1)
              + (select count(*) from public.user_roles where user_id = $1)",
    )
    .bind(user)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(rows, 3);
    let avatars: i64 = sqlx::query_scalar(
        "select count(*) from storage.buckets where id = 'avatars' and not public and file_size_limit = 2097152",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(avatars, 1);
    let policies: Vec<String> = sqlx::query_scalar(
        "select policyname::text from pg_policies where schemaname = 'storage' and tablename = 'objects' order by 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        policies,
        [
            "avatars_delete_own_folder",
            "avatars_insert_own_folder",
            "avatars_select_own_folder",
            "avatars_update_own_folder"
        ]
    );
}

/// Every table in `public` is either protected by RLS or not reachable by the API roles at all —
/// including the migrator's own `_sqlx_migrations`, which Supabase's default privileges would
/// otherwise expose (`20260318000011_protect_migration_record.sql`).
const API_REACHABLE_WITHOUT_RLS: &str = "
    select c.relname::text
    from pg_class c
    where c.relnamespace = 'public'::regnamespace
      and c.relkind in ('r', 'p')
      and not c.relrowsecurity
      and exists (
        select 1 from unnest(array['anon', 'authenticated']) as r(role),
                      unnest(array['select', 'insert', 'update', 'delete', 'truncate']) as p(privilege)
        where has_table_privilege(r.role, c.oid, p.privilege)
      )
    order by 1";

#[tokio::test]
async fn on_plain_postgres_no_public_table_is_reachable_by_api_roles_without_rls() {
    let db = TestDb::migrated().await;
    let exposed: Vec<String> = sqlx::query_scalar(API_REACHABLE_WITHOUT_RLS)
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(exposed, Vec::<String>::new());
}

#[tokio::test]
async fn on_a_database_prepared_like_supabase_no_public_table_is_reachable_by_api_roles_without_rls()
 {
    let db = supabase_like().await;
    MIGRATOR.run(&db.pool).await.unwrap();
    let exposed: Vec<String> = sqlx::query_scalar(API_REACHABLE_WITHOUT_RLS)
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(exposed, Vec::<String>::new());
}
