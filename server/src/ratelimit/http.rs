//! The limiter over HTTP: the headers, the 429 answer, and a layer for routes limited by address.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    extract::{FromRequestParts, Request},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use tower::{Layer, Service};

use super::{Policy, RateLimit, RateLimiter, Subject};
use crate::net::ClientIp;

pub const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

impl RateLimit {
    /// `X-RateLimit-*`, and `Retry-After` when refused.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![
            (LIMIT, HeaderValue::from(self.limit)),
            (REMAINING, HeaderValue::from(self.remaining)),
            (RESET, HeaderValue::from(self.reset_secs)),
        ];
        if !self.allowed {
            headers.push((
                header::RETRY_AFTER,
                HeaderValue::from(self.retry_after_secs()),
            ));
        }
        headers
    }

    /// Adds [`RateLimit::headers`] to a response's headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in self.headers() {
            headers.insert(name, value);
        }
    }
}

/// A refused request: answered 429 with the headers and a short text saying when to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused(pub RateLimit);

impl Refused {
    pub fn retry_after_secs(&self) -> u64 {
        self.0.retry_after_secs()
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let minutes = self.retry_after_secs().div_ceil(60);
        let wait = if minutes == 1 {
            "1 minute".to_string()
        } else {
            format!("{minutes} minutes")
        };
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many requests. Try again in {wait}.\n"),
        )
            .into_response();
        self.0.apply(response.headers_mut());
        response
    }
}

/// Limits every request to a route by client address under its policies; see
/// [`RateLimiter::per_ip`].
#[derive(Clone)]
pub struct LimitLayer {
    limiter: Arc<RateLimiter>,
    policies: Arc<[Policy]>,
}

impl LimitLayer {
    pub fn new(limiter: Arc<RateLimiter>, policies: &[Policy]) -> Self {
        Self {
            limiter,
            policies: policies.into(),
        }
    }
}

impl<S> Layer<S> for LimitLayer {
    type Service = LimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LimitService {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct LimitService<S> {
    inner: S,
    layer: LimitLayer,
}

impl<S> Service<Request> for LimitService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The service that was polled ready handles this request; a clone waits for the next.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let ip = match ClientIp::from_request_parts(&mut parts, &()).await {
                Ok(ClientIp(ip)) => ip,
                Err(unknown) => return Ok(unknown.into_response()),
            };
            let limit = match layer
                .limiter
                .check(&layer.policies, &Subject::ip(ip))
                .await
                .admit()
            {
                Ok(limit) => limit,
                Err(refused) => return Ok(refused.into_response()),
            };
            let mut response = inner.call(Request::from_parts(parts, body)).await?;
            limit.apply(response.headers_mut());
            Ok(response)
        })
    }
}
