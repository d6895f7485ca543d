//! The migrations in `migrations/` and how the database compares to them.

use std::collections::BTreeMap;

use sqlx::{
    PgPool,
    migrate::{Migrate, MigrateError, Migrator},
};

/// The migrations compiled into this binary; `serve` and `migrate` apply them.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// How the applied migrations differ from a set of migration files.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied: usize,
    /// In the files, not applied yet: (version, description).
    pub pending: Vec<(i64, String)>,
    /// Applied, but no file has that version any more.
    pub unknown_applied: Vec<i64>,
    /// Applied from a file whose content has changed since: (version, description).
    pub changed: Vec<(i64, String)>,
}

impl MigrationReport {
    pub fn has_drift(&self) -> bool {
        !(self.pending.is_empty() && self.unknown_applied.is_empty() && self.changed.is_empty())
    }
}

/// Compares `migrator`'s files with the `_sqlx_migrations` record of the database.
pub async fn compare(pool: &PgPool, migrator: &Migrator) -> Result<MigrationReport, MigrateError> {
    let mut conn = pool.acquire().await?;
    let recorded: bool = sqlx::query_scalar("select to_regclass('_sqlx_migrations') is not null")
        .fetch_one(&mut *conn)
        .await?;
    let applied = if recorded {
        conn.list_applied_migrations().await?
    } else {
        Vec::new()
    };
    let mut applied: BTreeMap<i64, Vec<u8>> = applied
        .into_iter()
        .map(|m| (m.version, m.checksum.into_owned()))
        .collect();

    let mut report = MigrationReport {
        applied: applied.len(),
        ..Default::default()
    };
    for migration in migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
    {
        match applied.remove(&migration.version) {
            None => report
                .pending
                .push((migration.version, migration.description.to_string())),
            Some(checksum) if checksum != *migration.checksum => report
                .changed
                .push((migration.version, migration.description.to_string())),
            Some(_) => {}
        }
    }
    report.unknown_applied = applied.into_keys().collect();
    Ok(report)
}
