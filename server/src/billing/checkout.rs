//! Starting a payment: a PENDING row for the chosen plan at the catalogue's price, the gateway's
//! hosted checkout opened for it, and the person sent there. One open checkout per person and
//! plan: a double click, a retry or a second tab gets the same payment back.

use app::domain::Plan;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::gateway::{CheckoutOrder, GatewayClient, GatewayError};

/// Who is paying.
#[derive(Debug, Clone, Copy)]
pub struct Buyer<'a> {
    pub user_id: Uuid,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// The payment the person is sent to pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCheckout {
    pub payment_id: Uuid,
    pub order_id: String,
    /// The gateway's hosted page.
    pub url: String,
    /// Whether an open checkout was handed back instead of a new one.
    pub reused: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("FREE is not sold")]
    NotForSale,
    #[error("the gateway did not open a checkout: {0}")]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A new order id in the original format, `KK-<epoch ms>-<8 hex>`.
pub fn new_order_id(now: OffsetDateTime) -> String {
    let millis = now.unix_timestamp_nanos() / 1_000_000;
    // A v4 UUID's bytes come from the operating system's random source.
    let random = Uuid::new_v4();
    format!(
        "KK-{millis}-{}",
        random.as_bytes()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// What opening a checkout needs.
pub struct CheckoutSettings<'a> {
    pub gateway: &'a GatewayClient,
    pub price_idr: i64,
    pub expires_in: std::time::Duration,
    /// Where the gateway sends the person back, without the payment id (`{SITE_URL}/order/`).
    pub return_base: &'a str,
}

/// Opens (or hands back) `buyer`'s checkout for `plan`.
///
/// The person's subscription row is locked for the whole call, the gateway's included: a
/// second request for the same person (another tab, another server) waits, then finds the
/// open payment. A gateway failure rolls everything back, so nothing half-made is left.
pub async fn open(
    pool: &PgPool,
    settings: &CheckoutSettings<'_>,
    buyer: Buyer<'_>,
    plan: Plan,
) -> Result<OpenCheckout, CheckoutError> {
    if plan == Plan::Free {
        return Err(CheckoutError::NotForSale);
    }
    let provider = settings.gateway.provider();
    let mut tx = pool.begin().await?;
    let subscription = sqlx::query_scalar!(
        "select id from public.subscriptions where user_id = $1 for update",
        buyer.user_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let open = sqlx::query!(
        r#"select id, external_id, checkout_url, provider::text as "provider!",
                  (expires_at > now() + interval '1 minute') as "fresh!"
           from public.payments
           where user_id = $1 and plan = ($2::text)::public.subscription_plan and status = 'PENDING'
           for update"#,
        buyer.user_id,
        plan.as_db(),
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(open) = open {
        match open.checkout_url {
            Some(url) if open.fresh && open.provider == provider.as_db() => {
                tx.commit().await?;
                return Ok(OpenCheckout {
                    payment_id: open.id,
                    order_id: open.external_id,
                    url,
                    reused: true,
                });
            }
            // Lapsed (or opened with a gateway no longer configured): closed here, so a
            // new one can open. A payment the gateway still confirms later is honoured.
            _ => {
                sqlx::query!(
                    "update public.payments set status = 'EXPIRED' where id = $1",
                    open.id
                )
                .execute(&mut *tx)
                .await?;
            }
        }
    }

    let payment_id = Uuid::new_v4();
    let order_id = new_order_id(OffsetDateTime::now_utc());
    let expires_in_secs = i64::try_from(settings.expires_in.as_secs()).unwrap_or(i64::MAX / 2);
    sqlx::query!(
        r#"insert into public.payments
             (id, user_id, subscription_id, plan, amount, provider, external_id, status, expires_at)
           values ($1, $2, $3, ($4::text)::public.subscription_plan, $5,
                   ($6::text)::public.payment_provider, $7, 'PENDING',
                   now() + make_interval(secs => $8::double precision))"#,
        payment_id,
        buyer.user_id,
        subscription,
        plan.as_db(),
        settings.price_idr,
        provider.as_db(),
        order_id,
        expires_in_secs as f64,
    )
    .execute(&mut *tx)
    .await?;
    let finish_url = format!("{}{payment_id}", settings.return_base);
    let customer_id = buyer.user_id.to_string();
    let hosted = settings
        .gateway
        .open_checkout(&CheckoutOrder {
            order_id: &order_id,
            plan,
            amount: settings.price_idr,
            customer_id: &customer_id,
            customer_email: buyer.email,
            customer_name: buyer.name,
            finish_url: &finish_url,
            expires_in: settings.expires_in,
        })
        .await?;
    sqlx::query!(
        "update public.payments set checkout_url = $2, gateway_metadata = gateway_metadata || $3 where id = $1",
        payment_id,
        hosted.url,
        json!({ "checkout_token": hosted.token }),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(OpenCheckout {
        payment_id,
        order_id,
        url: hosted.url,
        reused: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_have_the_original_shape_and_never_repeat() {
        let at = OffsetDateTime::from_unix_timestamp(1_710_000_000).unwrap();
        let a = new_order_id(at);
        let b = new_order_id(at);
        assert!(a.starts_with("KK-1710000000000-"), "{a}");
        assert_eq!(a.len(), "KK-1710000000000-".len() + 8);
        assert!(
            a.rsplit('-')
                .next()
                .unwrap()
                .bytes()
                .all(|c| c.is_ascii_hexdigit())
        );
        assert_ne!(a, b);
    }
}
