//! How the payment gateway twins deliver their notifications, the way Midtrans and DOKU
//! deliver theirs: a `POST` of JSON to the merchant's notification URL, answered within
//! [`DELIVERY_TIMEOUT`]; any 2xx ends it, anything else (another status, a timeout, a refused
//! connection) is tried again after each of the gateway's retry delays, then given up (and
//! logged). Each notification is delivered in a task of its own, so a slow or failing
//! receiver never holds up the page or API call that caused it.
//!
//! A notification's body is fixed when it is made and sent byte for byte the same on every
//! attempt; its headers are made anew for each attempt (DOKU signs every attempt with a fresh
//! `Request-Timestamp` but keeps the notification's `Request-Id`).

use std::{fmt, sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, StatusCode, header},
};
use serde::Serialize;
use tokio::task::JoinSet;

/// How long the receiver has to answer one attempt (Midtrans documents 5 seconds).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The most deliveries one burst ([`Notifier::burst`]) sends.
pub const MAX_BURST: usize = 100;

/// Makes the headers of one attempt.
type HeaderSource = Arc<dyn Fn() -> HeaderMap + Send + Sync>;

/// One notification for one URL.
#[derive(Clone)]
pub struct Notification {
    pub url: String,
    pub body: Bytes,
    /// What the log calls it, e.g. `KK-1 settlement`.
    pub label: String,
    headers: HeaderSource,
}

impl Notification {
    /// `headers` is called for each attempt; `Content-Type: application/json` and the
    /// gateway's `User-Agent` are added to what it returns.
    pub fn new(
        url: impl Into<String>,
        body: impl Into<Bytes>,
        label: impl Into<String>,
        headers: impl Fn() -> HeaderMap + Send + Sync + 'static,
    ) -> Self {
        Self {
            url: url.into(),
            body: body.into(),
            label: label.into(),
            headers: Arc::new(headers),
        }
    }
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("url", &self.url)
            .field("label", &self.label)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// What one attempt got: the receiver's HTTP status, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DeliveryReport {
    /// Whether the receiver took it (any 2xx).
    pub fn delivered(&self) -> bool {
        self.status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .is_some_and(|s| s.is_success())
    }
}

/// A gateway's notification sender. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    http: reqwest::Client,
    retry_delays: Arc<[Duration]>,
    /// The gateway's name, for the log.
    gateway: &'static str,
    user_agent: HeaderValue,
}

impl Notifier {
    /// `retry_delays` are the waits before each retry (the gateway's schedule, or a compressed
    /// one for local runs and tests).
    pub fn new(
        gateway: &'static str,
        user_agent: &'static str,
        http: reqwest::Client,
        retry_delays: Vec<Duration>,
    ) -> Self {
        Self {
            http,
            retry_delays: retry_delays.into(),
            gateway,
            user_agent: HeaderValue::from_static(user_agent),
        }
    }

    /// Sends `notifications` to their URLs in the background, in order: each one's first
    /// attempt finishes before the next one's starts (so a `pending` reaches a working
    /// receiver before its `settlement`), and each one's retries run on their own.
    pub fn dispatch(&self, notifications: Vec<Notification>) {
        if notifications.is_empty() {
            return;
        }
        let notifier = self.clone();
        tokio::spawn(async move {
            for notification in notifications {
                let first = notifier.attempt(&notification).await;
                if !first.delivered() {
                    let retrying = notifier.clone();
                    tokio::spawn(async move { retrying.retry(notification, first).await });
                }
            }
        });
    }

    /// Sends `notification` `times` times at once, concurrently, without retries, and
    /// reports each attempt in the order they were started.
    pub async fn burst(&self, notification: &Notification, times: usize) -> Vec<DeliveryReport> {
        let mut attempts = JoinSet::new();
        for index in 0..times.min(MAX_BURST) {
            let notifier = self.clone();
            let notification = notification.clone();
            attempts.spawn(async move { (index, notifier.attempt(&notification).await) });
        }
        let mut reports = Vec::with_capacity(times);
        while let Some(joined) = attempts.join_next().await {
            match joined {
                Ok(report) => reports.push(report),
                Err(error) => tracing::error!(%error, "a notification attempt task failed"),
            }
        }
        reports.sort_by_key(|(index, _)| *index);
        reports.into_iter().map(|(_, report)| report).collect()
    }

    /// One attempt.
    pub async fn attempt(&self, notification: &Notification) -> DeliveryReport {
        let mut headers = (notification.headers)();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::USER_AGENT, self.user_agent.clone());
        let sent = self
            .http
            .post(&notification.url)
            .headers(headers)
            .timeout(DELIVERY_TIMEOUT)
            .body(notification.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => DeliveryReport {
                url: notification.url.clone(),
                status: Some(response.status().as_u16()),
                error: None,
            },
            Err(error) => DeliveryReport {
                url: notification.url.clone(),
                status: None,
                error: Some(without_url(&error)),
            },
        }
    }

    /// The retries after a failed first attempt.
    async fn retry(self, notification: Notification, first: DeliveryReport) {
        let mut last = first;
        for (retry, delay) in self.retry_delays.iter().enumerate() {
            tracing::warn!(
                gateway = self.gateway,
                notification = %notification.label,
                url = %notification.url,
                status = ?last.status,
                error = ?last.error,
                retry_in = ?delay,
                "local {} twin: notification not accepted; retrying",
                self.gateway
            );
            tokio::time::sleep(*delay).await;
            last = self.attempt(&notification).await;
            if last.delivered() {
                tracing::info!(
                    gateway = self.gateway,
                    notification = %notification.label,
                    retry = retry + 1,
                    "local {} twin: notification delivered on retry",
                    self.gateway
                );
                return;
            }
        }
        tracing::error!(
            gateway = self.gateway,
            notification = %notification.label,
            url = %notification.url,
            status = ?last.status,
            error = ?last.error,
            "local {} twin: notification given up after {} retries",
            self.gateway,
            self.retry_delays.len()
        );
    }
}

/// reqwest's error text without the URL it appends (the report carries the URL already).
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_builder() {
        "not a usable URL"
    } else {
        "request failed"
    };
    match std::error::Error::source(error) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_string(),
    }
}

/// A notification receiver for the twins' tests: records every request and answers 500 to
/// the first `failures` of them, 200 after.
#[cfg(test)]
pub(crate) mod test_receiver {
    use std::{
        sync::{
            Arc, Mutex,
            atomic::{AtomicUsize, Ordering},
        },
        time::Duration,
    };

    use axum::{
        Router,
        body::Bytes,
        extract::{Request, State},
        http::{HeaderMap, StatusCode},
    };

    /// One request the receiver got, and what it answered.
    #[derive(Debug, Clone)]
    pub struct Received {
        pub path: String,
        pub headers: HeaderMap,
        pub body: Bytes,
        pub answered: StatusCode,
    }

    impl Received {
        pub fn json(&self) -> serde_json::Value {
            serde_json::from_slice(&self.body).expect("a JSON notification body")
        }

        pub fn header(&self, name: &str) -> &str {
            self.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
        }
    }

    #[derive(Default)]
    struct Log {
        received: Mutex<Vec<Received>>,
        failures_left: AtomicUsize,
    }

    #[derive(Clone)]
    pub struct Receiver {
        base_url: String,
        log: Arc<Log>,
    }

    impl Receiver {
        /// A receiver on a free loopback port.
        pub async fn start(failures: usize) -> Self {
            let log = Arc::new(Log {
                failures_left: AtomicUsize::new(failures),
                ..Log::default()
            });
            let router = Router::new().fallback(record).with_state(log.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base_url = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, router).await });
            Self { base_url, log }
        }

        pub fn url(&self, path: &str) -> String {
            format!("{}{path}", self.base_url)
        }

        pub fn received(&self) -> Vec<Received> {
            self.log.received.lock().unwrap().clone()
        }

        /// Waits (up to 5 s) until `count` requests arrived, and returns them.
        pub async fn wait_for(&self, count: usize) -> Vec<Received> {
            for _ in 0..500 {
                let received = self.received();
                if received.len() >= count {
                    return received;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("expected {count} notifications, got {:#?}", self.received());
        }
    }

    async fn record(State(log): State<Arc<Log>>, request: Request) -> StatusCode {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, 1024 * 1024)
            .await
            .unwrap_or_default();
        let failing = log
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        let answered = if failing {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        };
        log.received.lock().unwrap().push(Received {
            path: parts.uri.path().to_string(),
            headers: parts.headers,
            body,
            answered,
        });
        answered
    }
}

#[cfg(test)]
mod tests {
    use super::{test_receiver::Receiver, *};

    fn notifier(delays_ms: &[u64]) -> Notifier {
        Notifier::new(
            "Test",
            "test-gateway/1.0",
            reqwest::Client::new(),
            delays_ms
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
        )
    }

    fn notification(url: String, body: &'static str) -> Notification {
        Notification::new(url, body, "test", || {
            let mut headers = HeaderMap::new();
            headers.insert("x-attempt-header", HeaderValue::from_static("yes"));
            headers
        })
    }

    #[tokio::test]
    async fn a_refused_notification_is_retried_until_a_2xx_and_then_never_again() {
        let receiver = Receiver::start(2).await;
        notifier(&[5, 5, 5, 5]).dispatch(vec![notification(receiver.url("/hook"), "{\"a\":1}")]);
        let received = receiver.wait_for(3).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
        let received_later = receiver.received();
        assert_eq!(received_later.len(), 3, "no attempt after the 2xx");
        let answers: Vec<u16> = received.iter().map(|r| r.answered.as_u16()).collect();
        assert_eq!(answers, [500, 500, 200]);
        for attempt in &received {
            assert_eq!(attempt.body.as_ref(), b"{\"a\":1}");
            assert_eq!(attempt.header("content-type"), "application/json");
            assert_eq!(attempt.header("user-agent"), "test-gateway/1.0");
            assert_eq!(attempt.header("x-attempt-header"), "yes");
        }
    }

    #[tokio::test]
    async fn delivery_gives_up_after_the_last_retry() {
        let receiver = Receiver::start(usize::MAX).await;
        notifier(&[5, 5]).dispatch(vec![notification(receiver.url("/hook"), "{}")]);
        receiver.wait_for(3).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(receiver.received().len(), 3, "one attempt and two retries");
    }

    #[tokio::test]
    async fn notifications_dispatched_together_arrive_in_order() {
        let receiver = Receiver::start(0).await;
        notifier(&[]).dispatch(vec![
            notification(receiver.url("/hook"), "first"),
            notification(receiver.url("/hook"), "second"),
        ]);
        let received = receiver.wait_for(2).await;
        assert_eq!(received[0].body.as_ref(), b"first");
        assert_eq!(received[1].body.as_ref(), b"second");
    }

    #[tokio::test]
    async fn a_burst_reports_every_attempt_and_does_not_retry() {
        let receiver = Receiver::start(1).await;
        let reports = notifier(&[5])
            .burst(&notification(receiver.url("/hook"), "{}"), 4)
            .await;
        assert_eq!(reports.len(), 4);
        let mut statuses: Vec<u16> = reports.iter().filter_map(|r| r.status).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 200, 200, 500]);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(receiver.received().len(), 4);
    }

    #[tokio::test]
    async fn an_unreachable_receiver_is_reported_not_panicked_on() {
        let report = notifier(&[])
            .attempt(&notification("http://127.0.0.1:9/hook".into(), "{}"))
            .await;
        assert!(!report.delivered());
        assert_eq!(report.status, None);
        assert!(report.error.is_some());
        let report = notifier(&[])
            .attempt(&notification("not a url".into(), "{}"))
            .await;
        assert!(report.error.is_some());
    }
}
