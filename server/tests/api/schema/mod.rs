//! The database schema (`migrations/`) proven against a real PostgreSQL: migrations apply and
//! re-apply cleanly, signup triggers, row-level security, privileged RPCs, the webhook ledger,
//! persistent rate limits, the avatars bucket and the append-only audit log.
//!
//! The connecting role is a superuser (it bypasses RLS and privileges), so everything that must
//! be *refused* runs through [`Session`]: a transaction that `set local role`s into `anon`,
//! `authenticated` or `service_role` with the JWT claims PostgREST (and kilat's user-scoped
//! transactions) would set.

mod migrations;
mod rate_limits;
mod rls;
mod rpcs;
mod signup;
mod storage_and_audit;
mod webhook_ledger;

use std::fmt::Debug;

use sqlx::{
    FromRow, PgPool, Postgres, Transaction,
    postgres::{PgPoolOptions, PgRow},
};
use uuid::Uuid;

/// `insufficient_privilege`: a missing privilege, or a row refused by a policy's `with check`.
pub const INSUFFICIENT_PRIVILEGE: &str = "42501";

/// Creates an auth user the way gotrue does (an insert into `auth.users`), so the signup
/// triggers run. Returns the new user's id.
pub async fn create_user(pool: &PgPool, email: &str, user_meta: serde_json::Value) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into auth.users (id, aud, role, email, raw_user_meta_data, created_at, updated_at)
         values ($1, 'authenticated', 'authenticated', $2, $3, now(), now())",
    )
    .bind(id)
    .bind(email)
    .bind(user_meta)
    .execute(pool)
    .await
    .expect("an auth user is created");
    id
}

/// Makes `user` an admin directly (as the superuser; no audit entry).
pub async fn make_admin(pool: &PgPool, user: Uuid) {
    let done = sqlx::query("update public.user_roles set role = 'admin' where user_id = $1")
        .bind(user)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1, "the user has a role row");
}

/// Who a [`Session`] runs as.
#[derive(Debug, Clone, Copy)]
pub enum Who {
    /// An unauthenticated API request.
    Anon,
    /// A request carrying this user's JWT.
    User(Uuid),
    /// The service key (bypasses RLS by design).
    ServiceRole,
}

impl Who {
    fn role(self) -> &'static str {
        match self {
            Who::Anon => "anon",
            Who::User(_) => "authenticated",
            Who::ServiceRole => "service_role",
        }
    }

    fn claims(self) -> serde_json::Value {
        match self {
            Who::User(id) => serde_json::json!({
                "sub": id,
                "role": "authenticated",
                "email": format!("{id}@test.local"),
            }),
            other => serde_json::json!({ "role": other.role() }),
        }
    }
}

/// A transaction running as an API role with that role's JWT claims. Every statement runs in a
/// savepoint, so a refused statement does not abort the rest of the session. Dropped sessions
/// roll back; [`Session::commit`] makes whatever got through permanent (so a test can then check,
/// as the superuser, that nothing did).
pub struct Session {
    tx: Transaction<'static, Postgres>,
}

/// Starts a [`Session`] as `who` on `pool`.
pub async fn session(pool: &PgPool, who: Who) -> Session {
    let mut tx = pool.begin().await.expect("a transaction starts");
    // The role name comes from the fixed set above, never from input.
    sqlx::raw_sql(&format!("set local role {}", who.role()))
        .execute(&mut *tx)
        .await
        .expect("the superuser can become an API role");
    sqlx::query("select set_config('request.jwt.claims', $1, true)")
        .bind(who.claims().to_string())
        .execute(&mut *tx)
        .await
        .expect("the JWT claims are set");
    Session { tx }
}

impl Session {
    /// Runs one statement; rows affected, or the database's refusal.
    pub async fn exec(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        self.savepoint().await;
        let result = sqlx::query(sql)
            .execute(&mut *self.tx)
            .await
            .map(|done| done.rows_affected());
        self.settle(result.is_ok()).await;
        result
    }

    /// The single value of a one-row, one-column query.
    pub async fn scalar<T>(&mut self, sql: &str) -> Result<T, sqlx::Error>
    where
        (T,): for<'r> FromRow<'r, PgRow>,
        T: Send + Unpin,
    {
        self.savepoint().await;
        let result = sqlx::query_scalar(sql).fetch_one(&mut *self.tx).await;
        self.settle(result.is_ok()).await;
        result
    }

    /// How many rows `query` returns as this role.
    pub async fn count(&mut self, query: &str) -> Result<i64, sqlx::Error> {
        self.scalar(&format!("select count(*) from ({query}) as visible"))
            .await
    }

    pub async fn commit(self) {
        self.tx.commit().await.expect("the session commits");
    }

    async fn savepoint(&mut self) {
        sqlx::raw_sql("savepoint probe")
            .execute(&mut *self.tx)
            .await
            .expect("a savepoint is taken");
    }

    async fn settle(&mut self, ok: bool) {
        let statement = if ok {
            "release savepoint probe"
        } else {
            "rollback to savepoint probe"
        };
        sqlx::raw_sql(statement)
            .execute(&mut *self.tx)
            .await
            .expect("the savepoint is settled");
    }
}

/// The SQLSTATE of a database error.
pub fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|code| code.into_owned())
}

/// Asserts that `result` is the database refusing with SQLSTATE `code`.
#[track_caller]
pub fn assert_sqlstate<T: Debug>(result: Result<T, sqlx::Error>, code: &str, what: &str) {
    match result {
        Ok(value) => panic!("{what}: expected SQLSTATE {code}, but it succeeded with {value:?}"),
        Err(error) => assert_eq!(
            sqlstate(&error).as_deref(),
            Some(code),
            "{what}: expected SQLSTATE {code}, got {error}"
        ),
    }
}

/// Asserts that a statement aimed at someone else's rows did nothing: either it was refused
/// outright (42501) or row-level security left it no row to touch.
#[track_caller]
pub fn assert_blocked(result: Result<u64, sqlx::Error>, what: &str) {
    match result {
        Ok(0) => {}
        Ok(n) => panic!("{what}: expected to be blocked, but it affected {n} row(s)"),
        Err(error) => assert_eq!(
            sqlstate(&error).as_deref(),
            Some(INSUFFICIENT_PRIVILEGE),
            "{what}: expected 0 rows or SQLSTATE 42501, got {error}"
        ),
    }
}

/// Like [`assert_blocked`] for reads: nothing visible, or no privilege to look.
#[track_caller]
pub fn assert_nothing_visible(result: Result<i64, sqlx::Error>, what: &str) {
    match result {
        Ok(0) => {}
        Ok(n) => panic!("{what}: expected nothing visible, but {n} row(s) were"),
        Err(error) => assert_eq!(
            sqlstate(&error).as_deref(),
            Some(INSUFFICIENT_PRIVILEGE),
            "{what}: expected no rows or SQLSTATE 42501, got {error}"
        ),
    }
}

/// Serialises the tests that open dozens of connections at once, so that together with the
/// other tests they stay well below the cluster's `max_connections`.
pub static MANY_CONNECTIONS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A pool of exactly `size` connections to `db`, all opened up front. Checks that the server
/// leaves room for them (and some to spare for the other tests running meanwhile).
pub async fn wide_pool(db: &crate::helpers::TestDb, size: u32) -> PgPool {
    let (max, used): (i32, i64) = sqlx::query_as(
        "select current_setting('max_connections')::int, (select count(*) from pg_stat_activity)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(
        i64::from(size) + used + 20 <= i64::from(max),
        "max_connections {max} with {used} in use leaves no room for {size} more"
    );
    PgPoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        .acquire_timeout(std::time::Duration::from_secs(30))
        .connect_with(db.options.clone())
        .await
        .expect("the wide pool connects")
}
