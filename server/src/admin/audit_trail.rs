//! The audit trail an admin reads (`public.audit_logs`): filtered by actor, action, target and
//! dates, newest first, paged by keyset over `(created_at, id)`; and the same entries as CSV.
//!
//! The filters combine freely, so the statement is put together from the ones in use
//! ([`AuditQuery::push_conditions`]): each combination is its own prepared statement with its
//! own plan, and each filter meets an index that leads with it and ends `created_at desc, id desc`
//! (`20261204000020_index_admin_records.sql`), so a page is an index scan whatever is set. A
//! single statement with `$1 is null or …` for every filter would leave the planner one generic
//! plan for all of them.

use app::admin::{
    AdminError, Page,
    records::{AuditFilter, AuditRecord},
};
use futures_util::TryStreamExt;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    FilterRefused,
    access::Admin,
    csv::{CsvWriter, ReaderGone},
    cursor::{self, Cursor},
    day_range, failed, given,
};

/// Longest values the table accepts (its check constraints); anything longer matches nothing,
/// so it is refused rather than looked up.
const MAX_EMAIL: usize = 320;
const MAX_ACTION: usize = 64;
const MAX_TARGET_ID: usize = 255;

/// Whose entries: the actor's id, or their address at the time (any case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Id(Uuid),
    /// Lowercased.
    Email(String),
}

/// What the entries were about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `type:id`.
    Typed { kind: String, id: String },
    /// An id of any type.
    Id(String),
}

/// The filters, read: only values that can match something get this far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<Actor>,
    pub action: Option<String>,
    pub target: Option<Target>,
    /// First and last day, both included, in the business's zone.
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// `subject.verb` as the table's check constraint has it: `^[a-z][a-z_]*\.[a-z][a-z_]*$`.
fn is_action(text: &str) -> bool {
    let word = |w: &str| {
        w.starts_with(|c: char| c.is_ascii_lowercase())
            && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    };
    text.len() <= MAX_ACTION
        && text
            .split_once('.')
            .is_some_and(|(s, v)| word(s) && word(v))
}

/// A target type as the table's check constraint has it: `^[a-z][a-z_]{0,31}$`.
fn is_target_type(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

fn day_text(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

impl AuditQuery {
    pub fn parse(filter: &AuditFilter) -> Result<Self, FilterRefused> {
        let actor = match given(&filter.actor) {
            None => None,
            Some(text) => Some(if let Ok(id) = text.parse::<Uuid>() {
                Actor::Id(id)
            } else if text.contains('@') && text.chars().count() <= MAX_EMAIL {
                Actor::Email(text.to_lowercase())
            } else {
                return Err(FilterRefused("actor is neither an email nor a user id"));
            }),
        };
        let action = match given(&filter.action) {
            None => None,
            Some(text) if is_action(text) => Some(text.to_string()),
            Some(_) => return Err(FilterRefused("action is not subject.verb")),
        };
        let target = match given(&filter.target) {
            None => None,
            Some(text) => {
                let target = match text.split_once(':') {
                    Some((kind, id)) if is_target_type(kind) && !id.is_empty() => Target::Typed {
                        kind: kind.to_string(),
                        id: id.to_string(),
                    },
                    _ => Target::Id(text.to_string()),
                };
                let id = match &target {
                    Target::Typed { id, .. } | Target::Id(id) => id,
                };
                if id.chars().count() > MAX_TARGET_ID {
                    return Err(FilterRefused("target id is too long"));
                }
                Some(target)
            }
        };
        let (from, to) = day_range(&filter.from, &filter.to)?;
        Ok(Self {
            actor,
            action,
            target,
            from,
            to,
        })
    }

    /// ` where …` for these filters; days start at midnight in `zone`.
    fn push_conditions(&self, sql: &mut QueryBuilder<'static, Postgres>, zone: &str) {
        sql.push(" where true");
        match &self.actor {
            Some(Actor::Id(id)) => {
                sql.push(" and actor_id = ").push_bind(*id);
            }
            // `is not null` lets the planner use the partial index on lower(actor_email).
            Some(Actor::Email(email)) => {
                sql.push(" and actor_email is not null and lower(actor_email) = ")
                    .push_bind(email.clone());
            }
            None => {}
        }
        if let Some(action) = &self.action {
            sql.push(" and action = ").push_bind(action.clone());
        }
        match &self.target {
            Some(Target::Typed { kind, id }) => {
                sql.push(" and target_type = ")
                    .push_bind(kind.clone())
                    .push(" and target_id = ")
                    .push_bind(id.clone());
            }
            Some(Target::Id(id)) => {
                sql.push(" and target_id = ").push_bind(id.clone());
            }
            None => {}
        }
        if let Some(from) = self.from {
            sql.push(" and created_at >= (")
                .push_bind(day_text(from))
                .push("::date::timestamp at time zone ")
                .push_bind(zone.to_string())
                .push(")");
        }
        if let Some(to) = self.to {
            sql.push(" and created_at < ((")
                .push_bind(day_text(to))
                .push("::date + 1)::timestamp at time zone ")
                .push_bind(zone.to_string())
                .push(")");
        }
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    created_at: OffsetDateTime,
    actor_id: Option<Uuid>,
    actor_email: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    metadata: serde_json::Value,
    ip: Option<String>,
    user_agent: Option<String>,
}

/// One page of entries matching `filter`, newest first, after cursor `after`. Days are calendar
/// days in `zone`.
pub async fn list(
    pool: &PgPool,
    _admin: &Admin,
    zone: &str,
    filter: &AuditFilter,
    after: Option<&str>,
) -> Result<Page<AuditRecord>, AdminError> {
    let query = AuditQuery::parse(filter)?;
    let after = Cursor::<i64>::decode(after).map_err(|_| AdminError::BadRequest)?;
    let mut sql = QueryBuilder::new(
        "select id, created_at, actor_id, actor_email, action, target_type, target_id, metadata,
                host(ip) as ip, user_agent
         from public.audit_logs",
    );
    query.push_conditions(&mut sql, zone);
    if let Some(after) = after {
        sql.push(" and (created_at, id) < (")
            .push_bind(after.at)
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
    sql.push(" order by created_at desc, id desc limit ")
        .push_bind(cursor::PAGE_QUERY_LIMIT);
    let rows: Vec<EntryRow> = sql.build_query_as().fetch_all(pool).await.map_err(failed)?;
    cursor::page(
        rows,
        |row| Cursor {
            at: row.created_at,
            id: row.id,
        },
        |row| {
            Ok(AuditRecord {
                id: row.id,
                at: row.created_at.unix_timestamp(),
                actor_id: row.actor_id.map(|id| id.to_string()),
                actor_email: row.actor_email,
                action: row.action,
                target_type: row.target_type,
                target_id: row.target_id,
                metadata: serde_json::to_string_pretty(&row.metadata).unwrap_or_default(),
                ip: row.ip,
                user_agent: row.user_agent,
            })
        },
    )
}

/// The export's columns, in order.
pub const CSV_HEADER: [&str; 10] = [
    "id",
    "created_at",
    "actor_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "metadata",
    "ip",
    "user_agent",
];

/// Why an export stopped before its last row.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    ReaderGone(#[from] ReaderGone),
    #[error("reading the rows failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Every entry `query` matches, newest first, as CSV into `out` (header first), read row by row
/// from one statement: the table is never in memory, however long. Times are UTC (RFC 3339),
/// metadata is compact JSON.
pub async fn write_csv(
    conn: &mut PgConnection,
    _admin: &Admin,
    zone: &str,
    query: &AuditQuery,
    out: &mut CsvWriter,
) -> Result<(), ExportError> {
    let mut sql = QueryBuilder::new(
        r#"select id::text as id,
                  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at,
                  actor_id::text as actor_id, actor_email, action, target_type, target_id,
                  metadata::text as metadata, host(ip) as ip, user_agent
           from public.audit_logs"#,
    );
    query.push_conditions(&mut sql, zone);
    sql.push(" order by created_at desc, id desc");
    out.record(CSV_HEADER.map(Some)).await?;
    let mut rows = sql.build().fetch(conn);
    while let Some(row) = rows.try_next().await? {
        let mut fields: [Option<String>; 10] = Default::default();
        for (i, field) in fields.iter_mut().enumerate() {
            *field = row.try_get(i)?;
        }
        out.record(fields.iter().map(Option::as_deref)).await?;
    }
    out.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(actor: &str, action: &str, target: &str, from: &str, to: &str) -> AuditFilter {
        let some = |v: &str| Some(v.to_string());
        AuditFilter {
            actor: some(actor),
            action: some(action),
            target: some(target),
            from: some(from),
            to: some(to),
        }
    }

    #[test]
    fn empty_and_blank_filters_are_no_filter() {
        assert_eq!(
            AuditQuery::parse(&AuditFilter::default()),
            Ok(AuditQuery::default())
        );
        assert_eq!(
            AuditQuery::parse(&filter(" ", "", "\t", "", " ")),
            Ok(AuditQuery::default())
        );
    }

    #[test]
    fn each_filter_reads_as_what_it_names() {
        let id = Uuid::new_v4();
        let query = AuditQuery::parse(&filter(
            &format!(" {id} "),
            "payment.success",
            "payment:KK-1",
            "2026-12-01",
            "2026-12-31",
        ))
        .unwrap();
        assert_eq!(query.actor, Some(Actor::Id(id)));
        assert_eq!(query.action.as_deref(), Some("payment.success"));
        assert_eq!(
            query.target,
            Some(Target::Typed {
                kind: "payment".into(),
                id: "KK-1".into()
            })
        );
        assert_eq!(query.from.map(day_text).as_deref(), Some("2026-12-01"));
        assert_eq!(query.to.map(day_text).as_deref(), Some("2026-12-31"));

        let query = AuditQuery::parse(&filter(
            "Ana@Kilat.ID",
            "",
            "KK-1",
            "2026-12-04",
            "2026-12-04",
        ))
        .unwrap();
        assert_eq!(query.actor, Some(Actor::Email("ana@kilat.id".into())));
        assert_eq!(query.target, Some(Target::Id("KK-1".into())));
        assert_eq!(query.from, query.to, "one day");
    }

    #[test]
    fn a_target_is_typed_only_when_its_type_could_be_one() {
        for (text, expected) in [
            (
                "user:0b9f",
                Target::Typed {
                    kind: "user".into(),
                    id: "0b9f".into(),
                },
            ),
            (
                "mail:a:b",
                Target::Typed {
                    kind: "mail".into(),
                    id: "a:b".into(),
                },
            ),
            ("Payment:KK-1", Target::Id("Payment:KK-1".into())),
            ("user:", Target::Id("user:".into())),
            (":x", Target::Id(":x".into())),
            ("KK-1", Target::Id("KK-1".into())),
        ] {
            let query = AuditQuery::parse(&AuditFilter {
                target: Some(text.into()),
                ..AuditFilter::default()
            })
            .unwrap();
            assert_eq!(query.target, Some(expected), "{text}");
        }
    }

    #[test]
    fn what_cannot_match_is_refused() {
        let refused = |f: AuditFilter| AuditQuery::parse(&f).is_err();
        let only = |field: &str, value: &str| {
            let mut f = AuditFilter::default();
            let slot = match field {
                "actor" => &mut f.actor,
                "action" => &mut f.action,
                "target" => &mut f.target,
                "from" => &mut f.from,
                _ => &mut f.to,
            };
            *slot = Some(value.to_string());
            f
        };
        for actor in [
            "ana",
            "not-a-uuid",
            &format!("{}@kilat.id", "a".repeat(320)),
        ] {
            assert!(refused(only("actor", actor)), "{actor}");
        }
        for action in [
            "payment",
            "Payment.Success",
            "payment.success!",
            "payment..success",
            ".success",
            "payment.",
            "1payment.success",
            "payment.success.extra",
            "payment success",
            "payment.succ3ss",
            &format!("a.{}", "b".repeat(63)),
        ] {
            assert!(refused(only("action", action)), "{action}");
        }
        assert!(!refused(only("action", "email.change_requested")));
        assert!(refused(only("target", &"x".repeat(256))));
        for day in [
            "2026-13-01",
            "2026-02-30",
            "2026-2-3",
            "26-12-01",
            "2026/12/01",
            "2026-12-01T00:00",
            "yesterday",
            "+2026-12-01",
        ] {
            assert!(refused(only("from", day)), "{day}");
            assert!(refused(only("to", day)), "{day}");
        }
        assert!(refused(filter("", "", "", "2026-12-02", "2026-12-01")));
        assert!(!refused(only("from", "2028-02-29")), "a leap day");
    }
}
