//! What every response gets: a request id, a trace span, compression, security and cache headers.

use axum::{Router, extract::Request, middleware::Next, response::Response};
use http::{HeaderName, HeaderValue, header};
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::config::Environment;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// For responses that did not set their own policy (JSON, files): allow nothing to run or frame.
/// Pages set a nonce-based policy of their own while rendering (`app::shell`).
const FALLBACK_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

pub fn apply<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    environment: Environment,
    hashed_assets: bool,
) -> Router<S> {
    let mut router = router
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| cache_headers(req, next, hashed_assets),
        ))
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
        .layer(axum::middleware::from_fn(refuse_cross_site_writes))
        .layer(CompressionLayer::new())
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

/// Server functions and form posts change state on behalf of whoever holds the session cookie,
/// so they must come from our own pages: browsers name the page's origin in `Origin` (and say
/// `Sec-Fetch-Site: cross-site` otherwise), and a write from another site is refused.
async fn refuse_cross_site_writes(req: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    if matches!(
        *req.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    ) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let cross_site = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => {
            let origin_host = origin
                .split_once("://")
                .map(|(_, rest)| rest.trim_end_matches('/'));
            origin_host.is_none() || origin_host != host
        }
        None => headers
            .get("sec-fetch-site")
            .is_some_and(|v| v == "cross-site"),
    };
    if cross_site {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "refused a cross-site write");
        return (
            http::StatusCode::FORBIDDEN,
            "Cross-site requests are refused: submit the form from this site.",
        )
            .into_response();
    }
    next.run(req).await
}

/// Hashed build output never changes under its name: cache it for a year. Everything else
/// from `public/` may change between deploys: cache briefly.
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
    response
}
