//! The waitlist as an admin reads it (`public.waitlist`): newest first, paged by keyset over
//! `(created_at, id)`, searched by any part of the address; its size; and all of it as CSV.
//!
//! A search matches anywhere in the address, which no b-tree index serves; the list is read
//! newest first through `waitlist_created_at_idx` and filtered on the way, which stops as soon as
//! a page is full. A search that matches little reads the whole list: about 25 ms at a hundred
//! thousand signups, not worth a trigram extension on every install. It is a plain substring
//! test of the lowercased address (`strpos`, not `ilike`, whose locale-aware case folding costs
//! twice as much): the server stores addresses lowercased already (`EmailAddress`), and folding
//! ASCII (`collate "C"`) covers rows written some other way.

use app::admin::{
    AdminError,
    people::clean_search,
    records::{WaitlistEntry, WaitlistView},
};
use futures_util::TryStreamExt;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    access::Admin,
    audit_trail::ExportError,
    csv::CsvWriter,
    cursor::{self, Cursor},
    failed,
};

/// A page of signups whose address contains `search` (any case; empty: everyone), newest
/// first, after cursor `after`, with how many signed up in all.
pub async fn list(
    pool: &PgPool,
    _admin: &Admin,
    search: &str,
    after: Option<&str>,
) -> Result<WaitlistView, AdminError> {
    // The first page starts before every row (nobody joins in the year 9999), so the keyset
    // condition is always there and always an index condition.
    let after = Cursor::<Uuid>::decode(after)
        .map_err(|_| AdminError::BadRequest)?
        .unwrap_or(Cursor {
            at: OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT),
            id: Uuid::max(),
        });
    let search = clean_search(search).to_lowercase();
    let rows = sqlx::query!(
        r#"select id, email, name, source, created_at
           from public.waitlist
           where ($1 = '' or strpos(lower(email collate "C"), $1) > 0)
             and (created_at, id) < ($2, $3)
           order by created_at desc, id desc
           limit $4"#,
        search,
        after.at,
        after.id,
        cursor::PAGE_QUERY_LIMIT,
    )
    .fetch_all(pool)
    .await
    .map_err(failed)?;
    let total = sqlx::query_scalar!(r#"select count(*) as "total!" from public.waitlist"#)
        .fetch_one(pool)
        .await
        .map_err(failed)?;
    let page = cursor::page(
        rows,
        |row| Cursor {
            at: row.created_at,
            id: row.id,
        },
        |row| {
            Ok::<_, AdminError>(WaitlistEntry {
                id: row.id.to_string(),
                email: row.email,
                name: row.name,
                source: row.source,
                joined_at: row.created_at.unix_timestamp(),
            })
        },
    )?;
    Ok(WaitlistView { total, page })
}

/// The export's columns, in order.
pub const CSV_HEADER: [&str; 4] = ["joined_at", "email", "name", "source"];

/// Every signup, newest first, as CSV into `out` (header first), read row by row from one
/// statement. Times are UTC (RFC 3339).
pub async fn write_csv(
    conn: &mut PgConnection,
    _admin: &Admin,
    out: &mut CsvWriter,
) -> Result<(), ExportError> {
    out.record(CSV_HEADER.map(Some)).await?;
    let mut rows = sqlx::query!(
        r#"select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "joined_at!",
                  email, name, source
           from public.waitlist
           order by created_at desc, id desc"#
    )
    .fetch(conn);
    while let Some(row) = rows.try_next().await? {
        out.record([
            Some(row.joined_at.as_str()),
            Some(row.email.as_str()),
            row.name.as_deref(),
            row.source.as_deref(),
        ])
        .await?;
    }
    out.flush().await?;
    Ok(())
}
