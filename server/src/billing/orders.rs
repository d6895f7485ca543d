//! Orders as their owners see them, and the news that one changed. A payment changed by any
//! instance is announced with PostgreSQL's `NOTIFY` by the payments table's status trigger
//! (migration 16; sent on commit), and every instance relays it to the order pages it is serving, so the page
//! turns PAID whichever server took the webhook.

use std::time::Duration;

use app::domain::{PaymentProvider, PaymentStatus, Plan};
use sqlx::{PgPool, postgres::PgListener};
use time::OffsetDateTime;
use tokio::sync::broadcast;
use uuid::Uuid;

/// The `NOTIFY` channel; the payload is the payment's id.
pub const CHANNEL: &str = "kilat_payment_changed";

/// An order (one payment) as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: Uuid,
    pub order_id: String,
    pub plan: Plan,
    pub amount: i64,
    pub status: PaymentStatus,
    pub provider: PaymentProvider,
    /// The gateway's page, while the order can still be paid there.
    pub checkout_url: Option<String>,
    pub created_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
}

impl Order {
    /// Whether the order can still change by itself (it waits for the gateway).
    pub fn is_open(&self) -> bool {
        self.status == PaymentStatus::Pending
    }
}

/// `owner`'s order `id`; `None` when there is none, or it is someone else's.
pub async fn order_of(pool: &PgPool, owner: Uuid, id: Uuid) -> Result<Option<Order>, sqlx::Error> {
    Ok(orders(pool, owner, Some(id), 1).await?.pop())
}

/// `owner`'s orders, newest first (at most `limit`).
pub async fn history(pool: &PgPool, owner: Uuid, limit: i64) -> Result<Vec<Order>, sqlx::Error> {
    orders(pool, owner, None, limit).await
}

async fn orders(
    pool: &PgPool,
    owner: Uuid,
    id: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select id, external_id, plan::text as "plan!", amount, status::text as "status!",
                  provider::text as "provider!",
                  case when status = 'PENDING' and expires_at > now() then checkout_url end as checkout_url,
                  created_at, paid_at, expires_at
           from public.payments
           where user_id = $1 and ($2::uuid is null or id = $2)
           order by created_at desc, id desc
           limit $3"#,
        owner,
        id,
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(Order {
                id: row.id,
                order_id: row.external_id,
                plan: row.plan.parse().ok()?,
                amount: row.amount,
                status: row.status.parse().ok()?,
                provider: row.provider.parse().ok()?,
                checkout_url: row.checkout_url,
                created_at: row.created_at,
                paid_at: row.paid_at,
                expires_at: row.expires_at,
            })
        })
        .collect())
}

/// Payment changes from every instance, relayed to this one's listeners.
#[derive(Clone)]
pub struct OrderWatch {
    changes: broadcast::Sender<Uuid>,
}

impl OrderWatch {
    /// Listens on [`CHANNEL`] for as long as the process runs, reconnecting after a lost
    /// connection (an order page also re-reads its order every few seconds, so a change
    /// announced while reconnecting is still seen).
    pub fn start(pool: PgPool) -> Self {
        let (changes, _) = broadcast::channel(256);
        let sender = changes.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = relay(&pool, &sender).await {
                    tracing::warn!(%error, "payment change listener lost its connection; reconnecting");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Self { changes }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.changes.subscribe()
    }
}

async fn relay(pool: &PgPool, changes: &broadcast::Sender<Uuid>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    loop {
        let notification = listener.recv().await?;
        if let Ok(payment) = notification.payload().parse::<Uuid>() {
            // No listeners is fine: nobody is watching an order page right now.
            let _ = changes.send(payment);
        }
    }
}
