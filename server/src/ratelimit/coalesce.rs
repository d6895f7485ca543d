//! Concurrent checks share round trips: while the database is busy with earlier checks, new ones
//! queue, and the next free slot counts everything queued in one [`consume_many`] statement.
//!
//! A lone check goes straight to the database (a channel hop, no waiting for company); under
//! load a statement counts dozens of requests, so the database commits once for all of them
//! instead of once each. Every key is still counted by its own atomic upsert, in sorted order,
//! and a key queued twice is counted twice in queue order, so the limits stay exact across
//! requests and across server instances.

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{RateLimitDecision, consume_many};

/// The most keys one statement counts.
const MAX_KEYS: usize = 64;

/// One request's checks, `(key, limit, window)`, and where to send their decisions.
struct Job {
    checks: Vec<(String, u32, Duration)>,
    reply: oneshot::Sender<Result<Vec<RateLimitDecision>, Arc<sqlx::Error>>>,
}

/// The queue in front of the database. The dispatching task ends when this is dropped.
pub(super) struct Coalescer {
    queue: mpsc::UnboundedSender<Job>,
}

/// Why a check got no decision from the database.
#[derive(Debug)]
pub(super) enum Failure {
    Database(Arc<sqlx::Error>),
    /// The dispatcher is gone (the runtime is shutting down).
    Stopped,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Database(error) => error.fmt(f),
            Failure::Stopped => f.write_str("the rate-limit dispatcher has stopped"),
        }
    }
}

impl Coalescer {
    /// Counts against `pool` with at most half its connections (at least one) at a time, so
    /// the rest of the app always finds a connection. Needs a Tokio runtime.
    pub(super) fn start(pool: PgPool) -> Self {
        let slots = (pool.options().get_max_connections() as usize / 2).max(1);
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(dispatch(pool, jobs, slots));
        Self { queue }
    }

    /// One decision per check, in order.
    pub(super) async fn consume(
        &self,
        checks: Vec<(String, u32, Duration)>,
    ) -> Result<Vec<RateLimitDecision>, Failure> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { checks, reply })
            .map_err(|_| Failure::Stopped)?;
        match answer.await {
            Ok(decided) => decided.map_err(Failure::Database),
            Err(_) => Err(Failure::Stopped),
        }
    }
}

async fn dispatch(pool: PgPool, mut jobs: mpsc::UnboundedReceiver<Job>, slots: usize) {
    let slots = Arc::new(Semaphore::new(slots));
    loop {
        // A slot first: while every slot is busy, jobs gather in the queue for the next one.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = jobs.recv().await else {
            return;
        };
        let mut keys = first.checks.len();
        let mut batch = vec![first];
        while keys < MAX_KEYS {
            match jobs.try_recv() {
                Ok(job) => {
                    keys += job.checks.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            count(&pool, batch).await;
            drop(slot);
        });
    }
}

/// Counts a batch in one statement and hands each job its decisions.
async fn count(pool: &PgPool, batch: Vec<Job>) {
    let checks: Vec<(&str, u32, Duration)> = batch
        .iter()
        .flat_map(|job| job.checks.iter())
        .map(|(key, limit, window)| (key.as_str(), *limit, *window))
        .collect();
    match consume_many(pool, &checks).await {
        Ok(decisions) => {
            let mut decisions = decisions.into_iter();
            for job in batch {
                let mine = decisions.by_ref().take(job.checks.len()).collect();
                // A request that gave up waiting has dropped its receiver; its count stands.
                let _ = job.reply.send(Ok(mine));
            }
        }
        Err(error) => {
            let error = Arc::new(error);
            for job in batch {
                let _ = job.reply.send(Err(error.clone()));
            }
        }
    }
}
