//! The state a payment gateway twin's handlers share (its configuration, notifier and book of
//! transactions), the timers that expire its transactions, and the limit on its request bodies.

use std::{
    ops::Deref,
    sync::{Arc, Weak},
    time::Duration,
};

use axum::{Router, extract::DefaultBodyLimit};
use chrono::{DateTime, Utc};

use crate::local::{hosted_checkout::TransactionBook, payment_notifier::Notifier};

/// The largest request body a twin reads.
const BODY_LIMIT: usize = 64 * 1024;

/// A twin configured by `C`, keeping transactions `T`. Cheap to clone.
pub struct PaymentTwinState<C, T>(Arc<Parts<C, T>>);

pub struct Parts<C, T> {
    pub config: C,
    pub notifier: Notifier,
    pub book: TransactionBook<T>,
}

impl<C, T> Clone for PaymentTwinState<C, T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<C, T> Deref for PaymentTwinState<C, T> {
    type Target = Parts<C, T>;

    fn deref(&self) -> &Parts<C, T> {
        &self.0
    }
}

impl<C, T> PaymentTwinState<C, T>
where
    C: Send + Sync + 'static,
    T: Send + 'static,
{
    /// A twin with an empty book.
    pub fn new(config: C, notifier: Notifier) -> Self {
        Self(Arc::new(Parts {
            config,
            notifier,
            book: TransactionBook::default(),
        }))
    }

    /// `routes` with this state, refusing bodies over [`BODY_LIMIT`].
    pub fn serve_routes(&self, routes: Router<Self>) -> Router {
        routes
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(self.clone())
    }

    /// Calls `expire` with `reference` at `expires_at`. The timer holds the twin weakly: a
    /// dropped router leaves nothing to expire.
    pub fn schedule_expiry(
        &self,
        reference: String,
        expires_at: DateTime<Utc>,
        expire: fn(&Self, &str),
    ) {
        let twin = Arc::downgrade(&self.0);
        let wait = (expires_at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            if let Some(parts) = Weak::upgrade(&twin) {
                expire(&Self(parts), &reference);
            }
        });
    }
}
