//! What every response gets: a request id, a trace span, compression, security and cache
//! headers; what every request is held to: a body limit for its route class, the same-origin
//! rule for writes; and a panic anywhere below becomes a logged 500, never a dropped connection.

use app::i18n::{Locale, request_locale};
use app::t;
use std::{any::Any, pin::Pin};

use axum::{
    Router,
    body::{Body, Bytes, HttpBody},
    extract::{DefaultBodyLimit, Request},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderName, HeaderValue, StatusCode, header};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{CompressionLayer, CompressionLevel},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::config::Environment;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Pages are compressed per response (each carries its own CSP nonce) at brotli/gzip level 3:
/// about half the CPU of level 4 for 6% more bytes, still one round trip on 3G (README,
/// "Compression"; bench/results.md). Build assets come precompressed from the build instead.
pub const HTML_COMPRESSION: CompressionLevel = CompressionLevel::Precise(3);

/// For responses that did not set their own policy (JSON, files): allow nothing to run or frame.
/// Pages set a nonce-based policy of their own while rendering (`app::shell`).
const FALLBACK_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Forms and server functions: a sign-in, a profile edit. Far above any honest form.
pub const FORM_BODY_LIMIT: usize = 64 * 1024;
/// Payment providers' notifications (Midtrans, DOKU) are a few KiB of JSON.
pub const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;
/// An avatar upload: the picture's 2 MiB (`app::avatar::MAX_BYTES`, which the route holds the
/// file itself to) and room for a form's multipart envelope around it.
pub const AVATAR_BODY_LIMIT: usize = app::avatar::MAX_BYTES as usize + 16 * 1024;
/// Where webhook routes live: every route under it gets [`WEBHOOK_BODY_LIMIT`].
pub const WEBHOOK_PATH_PREFIX: &str = "/api/webhooks/";

/// The classes of request body, each with its own limit. A route that needs another limit
/// gets a class here, so every limit is in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyClass {
    Form,
    Webhook,
    Avatar,
}

impl BodyClass {
    pub fn for_path(path: &str) -> Self {
        if path.starts_with(WEBHOOK_PATH_PREFIX) {
            BodyClass::Webhook
        } else if path == app::avatar::UPLOAD_PATH {
            BodyClass::Avatar
        } else {
            BodyClass::Form
        }
    }

    pub fn limit(self) -> usize {
        match self {
            BodyClass::Form => FORM_BODY_LIMIT,
            BodyClass::Webhook => WEBHOOK_BODY_LIMIT,
            BodyClass::Avatar => AVATAR_BODY_LIMIT,
        }
    }
}

/// The layers every response and request goes through. `site_url` is `SITE_URL`: writes must
/// come from its origin.
pub fn apply<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    environment: Environment,
    hashed_assets: bool,
    site_url: &str,
    default_locale: Locale,
) -> Router<S> {
    let site_origin = origin_of(site_url);
    let mut router = router
        // Innermost, so the 500 for a panicking handler gets every header below; the outer
        // one catches what panics in these layers themselves.
        .layer(CatchPanicLayer::custom(answer_panic))
        // axum's own extractors (Form, Json, Bytes) never read more than the largest class;
        // `limit_body` below has already held each request to its own class's limit.
        .layer(DefaultBodyLimit::max(AVATAR_BODY_LIMIT))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| limit_body(req, next, default_locale),
        ))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| cache_headers(req, next, hashed_assets),
        ))
        .layer(axum::middleware::from_fn(page_policy))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(FALLBACK_CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), interest-cohort=()",
            ),
        ));
    if environment == Environment::Production {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ));
    }
    router
        .layer(axum::middleware::from_fn(move |req: Request, next: Next| {
            refuse_cross_site_writes(req, next, site_origin.clone(), default_locale)
        }))
        // Files served precompressed already carry `Content-Encoding`: the layer leaves them be.
        .layer(CompressionLayer::new().quality(HTML_COMPRESSION))
        // Inside the request-id layers, so the 500 carries the request's id, and inside the
        // trace span, so the log line has it too.
        .layer(CatchPanicLayer::custom(answer_panic))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let request_id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", id = %request_id, method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Sends the Content-Security-Policy a rendered page asked for (`app::PagePolicy`: the page
/// knows its nonce); anything else gets the fallback policy outside.
async fn page_policy(mut req: Request, next: Next) -> Response {
    let slot = app::PagePolicy::default();
    req.extensions_mut().insert(slot.clone());
    let mut response = next.run(req).await;
    if let Some(value) = slot
        .take()
        .and_then(|policy| HeaderValue::from_str(&policy).ok())
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// A panic while answering: logged (inside the request's span, so with its id) and answered
/// 500 like any other fault, instead of a connection closed without an answer.
fn answer_panic(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    tracing::error!(panic = %message, "a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        // No request here to ask for its language: both.
        "Terjadi kesalahan di pihak kami. Silakan coba lagi; jika terus terjadi, sebutkan \
         request id kepada kami.\n\nSomething went wrong on our side. Please try again; if it \
         keeps happening, tell us the request id.",
    )
        .into_response()
}

/// Holds a request body to its class's limit ([`BodyClass`]): a declared length over it is
/// answered 413 before anything is read, and a chunked body is read only up to the limit, then
/// refused 413 the moment it goes past it. What passes is handed on in full, so every handler
/// (server functions included, which do not honour axum's `DefaultBodyLimit`) sees a body that
/// already fits.
async fn limit_body(req: Request, next: Next, default_locale: Locale) -> Response {
    if matches!(
        *req.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    ) {
        return next.run(req).await;
    }
    // Only a refusal needs the language: worked out then, not for every request.
    let locale =
        |uri: &http::Uri, headers: &http::HeaderMap| request_locale(uri, headers, default_locale);
    let limit = BodyClass::for_path(req.uri().path()).limit();
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large(limit, locale(req.uri(), req.headers()));
    }
    let (parts, body) = req.into_parts();
    match read_at_most(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(BodyError::TooLarge) => too_large(limit, locale(&parts.uri, &parts.headers)),
        Err(BodyError::Broken) => {
            let locale = locale(&parts.uri, &parts.headers);
            (StatusCode::BAD_REQUEST, t!(locale, errors.body_unreadable)).into_response()
        }
    }
}

enum BodyError {
    TooLarge,
    Broken,
}

async fn read_at_most(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut read = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if read.len() + data.len() > limit {
                return Err(BodyError::TooLarge);
            }
            read.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(read))
}

fn too_large(limit: usize, locale: Locale) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        [(header::CONNECTION, "close")],
        t!(locale, errors.body_too_large)(limit / 1024),
    )
        .into_response()
}

/// `scheme://host[:port]` of a URL (the default port left out, as browsers send `Origin`), or
/// `None` when it has no such origin (`null`, garbage).
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let origin = url::Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Server functions and form posts change state on behalf of whoever holds the session cookie,
/// so they must come from our own pages. Browsers name the page's origin in `Origin`; it must
/// be `SITE_URL`'s origin — not whatever `Host` says, which a reverse proxy rewrites, and which
/// HTTP/2 does not even send. `Origin: null` (sandboxed frames, some redirects) is refused.
/// Without `Origin`, `Sec-Fetch-Site` decides: only `same-origin` and `none` (typed by the
/// person) are ours; a request with neither header is not from a browser page and carries no
/// ambient authority worth forging.
async fn refuse_cross_site_writes(
    req: Request,
    next: Next,
    site_origin: Option<String>,
    default_locale: Locale,
) -> Response {
    if matches!(
        *req.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    ) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let cross_site = match headers.get(header::ORIGIN) {
        Some(origin) => {
            let origin = origin.to_str().ok().and_then(origin_of);
            origin.is_none() || origin != site_origin
        }
        None => headers
            .get("sec-fetch-site")
            .is_some_and(|v| v != "same-origin" && v != "none"),
    };
    if cross_site {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "refused a cross-site write");
        let locale = request_locale(req.uri(), headers, default_locale);
        return (StatusCode::FORBIDDEN, t!(locale, errors.cross_site)).into_response();
    }
    next.run(req).await
}

/// Hashed build output never changes under its name: cache it for a year. Everything else
/// from `public/` may change between deploys: cache briefly. A file served from its
/// precompressed copy says it varies with `Accept-Encoding`.
async fn cache_headers(req: Request, next: Next, hashed_assets: bool) -> Response {
    let policy = match req.uri().path() {
        path if path.starts_with("/pkg/") && hashed_assets => {
            Some("public, max-age=31536000, immutable")
        }
        path if path.starts_with("/pkg/") => Some("no-cache"),
        path if path
            .rsplit('/')
            .next()
            .is_some_and(|file| file.contains('.'))
            && !path.starts_with("/api/") =>
        {
            Some("public, max-age=3600")
        }
        _ => None,
    };
    let mut response = next.run(req).await;
    if let Some(policy) = policy
        && response.status().is_success()
        && !response.headers().contains_key(header::CACHE_CONTROL)
    {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    // The compression layer adds `Vary` only to what it compresses itself, and leaves alone what
    // arrives with `Content-Encoding` (the `.br`/`.gz` copies). Without it a shared cache would
    // hand the brotli copy, kept for a year, to a browser that cannot read it.
    let headers = response.headers_mut();
    if headers.contains_key(header::CONTENT_ENCODING)
        && !headers.get_all(header::VARY).iter().any(|value| {
            value
                .to_str()
                .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
        })
    {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::routing::{get, post};
    use tower::ServiceExt;

    use super::*;

    const SITE: &str = "https://kilat.id";

    fn app() -> Router {
        let router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if true {
                        panic!("a handler bug");
                    }
                    "unreachable"
                }),
            )
            .route(
                "/write",
                post(|body: Bytes| async move { body.len().to_string() }),
            );
        apply(router, Environment::Production, false, SITE, Locale::En)
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_the_request_id() {
        let response = app()
            .oneshot(
                Request::get("/boom")
                    .header(REQUEST_ID, "panic-test-1")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .expect("the panic becomes an answer");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[REQUEST_ID], "panic-test-1");
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );

        // Without an id from the client, the generated one is on the answer too.
        let response = app()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().contains_key(REQUEST_ID));
    }

    async fn write(headers: &[(&str, &str)]) -> StatusCode {
        let mut request = Request::post("/write").header(header::HOST, "internal:8080");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        app()
            .oneshot(request.body(Body::from("x=1")).unwrap())
            .await
            .unwrap()
            .status()
    }

    #[tokio::test]
    async fn writes_must_come_from_the_site_origin_whatever_the_host() {
        assert_eq!(write(&[("origin", SITE)]).await, StatusCode::OK);
        assert_eq!(
            write(&[("origin", "https://kilat.id:443")]).await,
            StatusCode::OK
        );
        for refused in [
            "https://evil.example",
            "http://kilat.id",
            "https://kilat.id.evil.example",
            "https://kilat.id:8443",
            "null",
            "internal:8080",
            "http://internal:8080",
        ] {
            assert_eq!(
                write(&[("origin", refused)]).await,
                StatusCode::FORBIDDEN,
                "{refused}"
            );
        }
        for (site, expected) in [
            ("same-origin", StatusCode::OK),
            ("none", StatusCode::OK),
            ("same-site", StatusCode::FORBIDDEN),
            ("cross-site", StatusCode::FORBIDDEN),
        ] {
            assert_eq!(write(&[("sec-fetch-site", site)]).await, expected, "{site}");
        }
        assert_eq!(write(&[]).await, StatusCode::OK, "not from a browser page");
    }

    #[test]
    fn each_route_class_has_its_limit() {
        assert_eq!(BodyClass::for_path("/auth/magic-link"), BodyClass::Form);
        assert_eq!(BodyClass::for_path("/api/sign_in123"), BodyClass::Form);
        assert_eq!(
            BodyClass::for_path("/api/webhooks/midtrans"),
            BodyClass::Webhook
        );
        assert_eq!(
            BodyClass::for_path(app::avatar::UPLOAD_PATH),
            BodyClass::Avatar
        );
        assert_eq!(BodyClass::Form.limit(), 64 * 1024);
        assert_eq!(BodyClass::Webhook.limit(), 64 * 1024);
        // The picture's 2 MiB and a form's envelope around it.
        assert_eq!(BodyClass::Avatar.limit(), (2048 + 16) * 1024);
    }
}
