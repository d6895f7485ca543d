//! The database: where it is, the connection pool, and the migrations applied to it.

pub mod job_runs;
pub mod local_cluster;
pub mod maintenance;
pub mod migrations;
pub mod user_scope;

use std::time::Duration;

use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::DatabaseSource;
use local_cluster::{LocalCluster, LocalClusterError};

/// The database the local cluster serves the app from.
pub const LOCAL_DATABASE: &str = "kilat";

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("the local PostgreSQL cluster could not start: {0}")]
    LocalCluster(#[from] LocalClusterError),
    #[error("DATABASE_URL is not a valid connection string: {0}")]
    InvalidUrl(sqlx::Error),
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(sqlx::Error),
    #[error("cannot create database {name:?}: {source}")]
    CreateDatabase { name: String, source: sqlx::Error },
}

/// Connection options for the configured database, starting the local cluster (and creating its
/// database) when no `DATABASE_URL` is set.
pub async fn connect_options(source: &DatabaseSource) -> Result<PgConnectOptions, DatabaseError> {
    match source {
        DatabaseSource::Url(url) => url.parse().map_err(DatabaseError::InvalidUrl),
        DatabaseSource::LocalCluster { data_dir, port } => {
            let cluster = LocalCluster::new(data_dir, *port);
            cluster.ensure_running().await?;
            let server: PgConnectOptions = cluster
                .url("postgres")
                .parse()
                .map_err(DatabaseError::InvalidUrl)?;
            create_database_if_missing(&server, LOCAL_DATABASE).await?;
            Ok(server.database(LOCAL_DATABASE))
        }
    }
}

/// The one pool the server shares, of at most `size` connections. Statements are prepared and
/// cached per connection. A connection taken from the pool is not pinged first: that would be a
/// second round trip for every one-statement request (a rate-limit check, a duplicate webhook);
/// a connection the database dropped fails its next statement and is closed instead.
pub async fn connect(source: &DatabaseSource, size: u32) -> Result<PgPool, DatabaseError> {
    let options = connect_options(source).await?;
    PgPoolOptions::new()
        .max_connections(size)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(DatabaseError::Connect)
}

/// Creates `name` on the server `server` points at; a concurrent creation is not an error.
pub async fn create_database_if_missing(
    server: &PgConnectOptions,
    name: &str,
) -> Result<(), DatabaseError> {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = server.connect().await.map_err(DatabaseError::Connect)?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .map_err(DatabaseError::Connect)?;
    if !exists {
        let statement = format!("create database \"{}\"", name.replace('"', "\"\""));
        match sqlx::raw_sql(&statement).execute(&mut conn).await {
            Ok(_) => {}
            // Another process created it between our check and now: 42P04 duplicate_database,
            // or 23505 when both inserts race into pg_database.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
            Err(source) => {
                return Err(DatabaseError::CreateDatabase {
                    name: name.to_string(),
                    source,
                });
            }
        }
    }
    let _ = conn.close().await;
    Ok(())
}
