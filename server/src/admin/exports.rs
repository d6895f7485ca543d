//! The admin CSV exports:
//! - `GET /admin/audit.csv?actor=…&action=…&target=…&from=…&to=…`: the audit entries the audit
//!   page's filters show (the same names, see `app::admin::records::AuditFilter`), newest first;
//! - `GET /admin/waitlist.csv`: every waitlist signup, newest first.
//!
//! Every row, with no limit, streamed as it is read: a task reads the rows from one statement
//! and writes them in chunks to a small channel the answer's body drains ([`CsvWriter`]), so a
//! slow client holds the query back instead of the server buffering the table, and a client
//! that leaves stops the query. The answer is chunked (no `Content-Length`: its size is not
//! known until the last row); a failure after the first chunk breaks the download rather than
//! end it like a complete file.
//!
//! Each handler checks the admin role itself (the area's guard runs first, but a handler never
//! relies on it): anyone else gets a bare 404. Limited per admin (`RATE_LIMIT_ADMIN_EXPORT`).
//! Every export is audited `data.exported` (target `export:audit` or `export:waitlist`, the
//! filters in the metadata) before its first row is read: who took a copy of personal data is a
//! question investigations ask.
//! GET only: the body is never read, and the server-wide layers (`http_layers`) hold every
//! request's body to its class's limit.

use std::sync::Arc;

use app::{
    admin::{
        AdminError,
        records::{AUDIT_CSV_PATH, AuditFilter, WAITLIST_CSV_PATH},
    },
    i18n::{Locale, request_locale},
    t,
};
use axum::{
    Router,
    body::Body,
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::get,
};
use futures_util::StreamExt;
use sqlx::pool::PoolConnection;
use tokio::sync::mpsc;
use tower_sessions::Session;

use super::{
    access::{Admin, signed_in_admin},
    audit_trail::{self, AuditQuery, ExportError},
    csv::{Chunk, CsvWriter},
    waitlist,
};
use crate::{
    audit::{self, AuditAction, AuditEntry},
    auth::identity::IdentityService,
    net::ClientIp,
    ratelimit::{Policy, RateLimit, Subject},
};

#[derive(Clone)]
struct Exports {
    identity: Arc<IdentityService>,
    limit: [Policy; 1],
    /// The business's zone: the audit filter's days and the file name's date.
    zone: Arc<str>,
}

/// The export routes, limited by `limit` per admin; days in `zone`.
pub fn router<S: Clone + Send + Sync + 'static>(
    identity: Arc<IdentityService>,
    limit: Policy,
    zone: Arc<str>,
) -> Router<S> {
    Router::new()
        .route(AUDIT_CSV_PATH, get(audit_csv))
        .route(WAITLIST_CSV_PATH, get(waitlist_csv))
        .with_state(Exports {
            identity,
            limit: [limit],
            zone,
        })
}

/// A request the export may answer: an admin, within their limit.
struct Admitted {
    admin: Admin,
    limit: RateLimit,
    locale: Locale,
}

impl Exports {
    /// The admin behind `session` within the limit, or the answer to give instead.
    async fn admit(
        &self,
        session: &Session,
        ip: std::net::IpAddr,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<Admitted, Response> {
        let locale = request_locale(uri, headers, self.identity.default_locale);
        let admin = match signed_in_admin(&self.identity, session).await {
            Ok(admin) => admin,
            // As if the address did not exist: no body, nothing confirmed.
            Err(AdminError::NotFound) => return Err(StatusCode::NOT_FOUND.into_response()),
            Err(_) => return Err(unavailable(locale)),
        };
        let limit = self
            .identity
            .limiter
            .check(&self.limit, &Subject::user(ip, admin.user_id()))
            .await;
        if !limit.allowed {
            let minutes = limit.retry_after_secs().div_ceil(60);
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                t!(locale, errors.rate_limited)(minutes),
            )
                .into_response();
            limit.apply(response.headers_mut());
            return Err(response);
        }
        Ok(Admitted {
            admin: admin.with_origin(Some(ip), audit::user_agent(headers)),
            limit,
            locale,
        })
    }

    /// Today in the business's zone, `YYYYMMDD`, for the file's name.
    async fn today(&self) -> Result<String, sqlx::Error> {
        sqlx::query_scalar!(
            r#"select to_char(now() at time zone $1, 'YYYYMMDD') as "today!""#,
            &*self.zone
        )
        .fetch_one(&self.identity.pool)
        .await
    }
}

fn unavailable(locale: Locale) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        t!(locale, errors.admin_unavailable),
    )
        .into_response()
}

async fn audit_csv(
    State(exports): State<Exports>,
    ClientIp(ip): ClientIp,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    filter: Result<Query<AuditFilter>, QueryRejection>,
) -> Response {
    let admitted = match exports.admit(&session, ip, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let parsed = filter
        .map_err(|_| AdminError::BadRequest)
        .and_then(|Query(filter)| {
            let query = AuditQuery::parse(&filter)?;
            Ok((filter, query))
        });
    let (filter, query) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            return (
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
                error.message(admitted.locale),
            )
                .into_response();
        }
    };
    let details = serde_json::json!({ "filter": filter });
    let zone = exports.zone.clone();
    let admin = admitted.admin.clone();
    stream_export(&exports, admitted, "audit", details, move |conn, out| {
        Box::pin(async move { audit_trail::write_csv(conn, &admin, &zone, &query, out).await })
    })
    .await
}

async fn waitlist_csv(
    State(exports): State<Exports>,
    ClientIp(ip): ClientIp,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let admitted = match exports.admit(&session, ip, &uri, &headers).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let admin = admitted.admin.clone();
    let details = serde_json::json!({});
    stream_export(&exports, admitted, "waitlist", details, move |conn, out| {
        Box::pin(async move { waitlist::write_csv(conn, &admin, out).await })
    })
    .await
}

type Writing<'a> = std::pin::Pin<Box<dyn Future<Output = Result<(), ExportError>> + Send + 'a>>;

/// Audits the export (`details` in its metadata), then answers with the CSV `write` produces,
/// named `<name>-YYYYMMDD.csv`: `write` runs in a task of its own on a connection of its own,
/// and the answer streams what it writes. Nothing is sent before the first chunk is written, so
/// a database that fails at once is a 503, not a broken download.
async fn stream_export<W>(
    exports: &Exports,
    admitted: Admitted,
    name: &str,
    details: serde_json::Value,
    write: W,
) -> Response
where
    W: for<'a> FnOnce(&'a mut sqlx::PgConnection, &'a mut CsvWriter) -> Writing<'a>
        + Send
        + 'static,
{
    let locale = admitted.locale;
    let today = match exports.today().await {
        Ok(today) => today,
        Err(error) => {
            tracing::error!(%error, "an admin export could not start");
            return unavailable(locale);
        }
    };
    let audited = audit::record(
        &exports.identity.pool,
        &admitted.admin.audit_context(),
        AuditEntry {
            action: AuditAction::DataExported,
            target_type: "export",
            target_id: name,
            metadata: details,
        },
    )
    .await;
    if let Err(error) = audited {
        tracing::error!(%error, "an admin export could not be audited, so it was not made");
        return unavailable(locale);
    }
    let conn = match exports.identity.pool.acquire().await {
        Ok(conn) => conn,
        Err(error) => {
            tracing::error!(%error, "an admin export could not start");
            return unavailable(locale);
        }
    };
    let (writer, mut chunks) = CsvWriter::channel();
    let export = name.to_string();
    tokio::spawn(run_export(conn, writer, export, write));
    let first = match chunks.recv().await {
        Some(Ok(first)) => first,
        // The task logged why.
        Some(Err(_)) | None => return unavailable(locale),
    };
    let rest = futures_util::stream::unfold(chunks, |mut chunks: mpsc::Receiver<Chunk>| async {
        chunks.recv().await.map(|chunk| (chunk, chunks))
    });
    // Fused: the compression layer polls a body once more after its end, and an unfold polled
    // after its end panics (a browser asking for gzip got an empty answer).
    let body = Body::from_stream(
        futures_util::stream::once(async { Ok(first) })
            .chain(rest)
            .fuse(),
    );
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("attachment; filename=\"{name}-{today}.csv\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    // Private data: never kept by a browser or a proxy (the server's default for addresses
    // that look like files would let them cache it for an hour).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    admitted.limit.apply(headers);
    response
}

/// Runs `write` on `conn`, then tells the reader how it ended.
async fn run_export<W>(
    mut conn: PoolConnection<sqlx::Postgres>,
    mut writer: CsvWriter,
    export: String,
    write: W,
) where
    W: for<'a> FnOnce(&'a mut sqlx::PgConnection, &'a mut CsvWriter) -> Writing<'a>,
{
    match write(&mut conn, &mut writer).await {
        Ok(()) => {}
        Err(ExportError::ReaderGone(_)) => {
            // The statement may still be sending rows: closing the connection stops it,
            // where handing it back to the pool would read them all first.
            conn.close_on_drop();
            tracing::info!(export, "an admin export was abandoned by its reader");
        }
        Err(ExportError::Database(error)) => {
            conn.close_on_drop();
            tracing::error!(export, %error, "an admin export failed while reading rows");
            writer.fail("the export failed while reading rows").await;
        }
    }
}
