//! The signed-in billing routes:
//! - `POST /api/billing/checkout` (form `plan=PRO`): opens or hands back the checkout and
//!   sends the person on to the gateway's page through the order page (303 to
//!   `/order/{id}?pay=1`), or answers `{url, payment_id}` to `Accept: application/json`. Limited per person (`RATE_LIMIT_CHECKOUT`, 5 per 15 minutes).
//! - `POST /api/billing/cancel` and `/api/billing/resume`: back to the billing page with a
//!   notice, or the refusal's code.
//! - `GET /api/billing/orders/{id}`: an order's status as JSON (the order page's fallback), and
//!   `GET /api/billing/orders/{id}/events`: the same as server-sent events, one per change,
//!   until the order is final. Someone else's order, or none, is 404 either way.
//!
//! Form bodies are held to the form class's limit (`http_layers::FORM_BODY_LIMIT`).

use std::{convert::Infallible, sync::Arc, time::Duration};

use app::{
    billing::{
        BILLING_PAGE, BillingError, CANCEL_PATH, CHECKOUT_PATH, RESUME_PATH, order_events_path,
        order_page, order_status_path,
    },
    domain::Plan,
    identity::IdentityError,
};
use axum::{
    Json, Router,
    extract::{Form, Path, State},
    http::{HeaderMap, Uri, header},
    response::{
        IntoResponse, Redirect, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    Billing,
    checkout::{Buyer, CheckoutError},
    orders::{self, Order},
    subscriptions::{self, CancelError},
};
use crate::{
    audit::{self, AuditContext},
    auth::{identity::IdentityService, session::SignedIn},
    net::ClientIp,
    ratelimit::{Policy, Subject},
    reply::Reply,
};

/// The longest an order page's event stream stays open; the page reconnects if it is still
/// open (browsers' `EventSource` does that by itself).
const STREAM_LIFETIME: Duration = Duration::from_secs(15 * 60);

#[derive(Clone)]
struct BillingRoutes {
    identity: Arc<IdentityService>,
    billing: Arc<Billing>,
    checkout_limit: [Policy; 1],
    status_limit: [Policy; 1],
}

pub fn router<S: Clone + Send + Sync + 'static>(
    identity: Arc<IdentityService>,
    billing: Arc<Billing>,
    checkout_limit: Policy,
    status_limit: Policy,
) -> Router<S> {
    Router::new()
        .route(CHECKOUT_PATH, post(checkout))
        .route(
            CANCEL_PATH,
            post(|state, ip, session, uri, headers| {
                change_plan(true, state, ip, session, uri, headers)
            }),
        )
        .route(
            RESUME_PATH,
            post(|state, ip, session, uri, headers| {
                change_plan(false, state, ip, session, uri, headers)
            }),
        )
        .route(&order_status_path("{id}"), get(order_status))
        .route(&order_events_path("{id}"), get(order_events))
        .with_state(BillingRoutes {
            identity,
            billing,
            checkout_limit: [checkout_limit],
            status_limit: [status_limit],
        })
}

async fn signed_in(
    identity: &IdentityService,
    session: &Session,
) -> Result<(SignedIn, crate::auth::jwt::AccessClaims), BillingError> {
    identity.access(session).await.map_err(|error| match error {
        IdentityError::NotSignedIn => BillingError::NotSignedIn,
        _ => BillingError::Unavailable,
    })
}

#[derive(Deserialize)]
struct CheckoutForm {
    plan: String,
}

async fn checkout(
    State(routes): State<BillingRoutes>,
    ClientIp(ip): ClientIp,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<CheckoutForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let answer = Reply::to(&uri, &headers, routes.identity.default_locale);
    let requested = form.map(|Form(form)| form.plan).unwrap_or_default();
    // Only a plan's name is worth echoing back into the page's address.
    let requested: String = requested.chars().take(16).collect();
    let back = format!(
        "/checkout?plan={}",
        url::form_urlencoded::byte_serialize(requested.as_bytes()).collect::<String>()
    );
    let (person, claims) = match signed_in(&routes.identity, &session).await {
        Ok(person) => person,
        Err(error) => return answer.refused(error, &back),
    };
    let plan = match requested.trim().parse::<Plan>() {
        Ok(plan) if plan != Plan::Free => plan,
        _ => return answer.refused(BillingError::NotForSale, "/pricing"),
    };
    let limit = routes
        .identity
        .limiter
        .check(&routes.checkout_limit, &Subject::user(ip, person.user_id))
        .await;
    if !limit.allowed {
        return answer.refused(
            BillingError::RateLimited {
                retry_after_secs: limit.retry_after_secs(),
            },
            &back,
        );
    }
    let name = claims.user_metadata["full_name"]
        .as_str()
        .filter(|name| !name.trim().is_empty());
    let opened = routes
        .billing
        .checkout(
            Buyer {
                user_id: person.user_id,
                email: Some(&person.email),
                name,
            },
            plan,
        )
        .await;
    let mut response = match opened {
        Ok(open) if answer.json => Json(json!({
            "url": open.url,
            "payment_id": open.payment_id,
            "order_id": open.order_id,
            "reused": open.reused,
        }))
        .into_response(),
        // Via the order page, which moves on to the gateway's: the page's `form-action 'self'`
        // forbids a form's redirect to another site.
        Ok(open) => Redirect::to(&format!(
            "{}?pay=1",
            order_page(&open.payment_id.to_string())
        ))
        .into_response(),
        Err(CheckoutError::NotForSale) => answer.refused(BillingError::NotForSale, "/pricing"),
        Err(CheckoutError::Gateway(error)) => {
            tracing::error!(%error, "the payment gateway did not open a checkout");
            answer.refused(BillingError::GatewayUnavailable, &back)
        }
        Err(CheckoutError::Database(error)) => {
            tracing::error!(%error, "opening a checkout failed");
            answer.refused(BillingError::Unavailable, &back)
        }
    };
    limit.apply(response.headers_mut());
    response
}

/// Cancel (`cancel`) or resume the signed-in person's plan.
async fn change_plan(
    cancel: bool,
    State(routes): State<BillingRoutes>,
    ClientIp(ip): ClientIp,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let answer = Reply::to(&uri, &headers, routes.identity.default_locale);
    let (person, _) = match signed_in(&routes.identity, &session).await {
        Ok(person) => person,
        Err(error) => return answer.refused(error, BILLING_PAGE),
    };
    let user_agent = audit::user_agent(&headers);
    let context = AuditContext {
        actor: Some((person.user_id, &person.email)),
        ip: Some(ip),
        user_agent: user_agent.as_deref(),
    };
    let pool = &routes.billing.pool;
    let changed = if cancel {
        subscriptions::cancel_at_period_end(pool, person.user_id, &context).await
    } else {
        subscriptions::resume(pool, person.user_id, &context).await
    };
    match changed {
        Ok(()) => answer.done(
            json!({ "status": "ok" }),
            BILLING_PAGE,
            if cancel { "canceled" } else { "resumed" },
        ),
        Err(CancelError::Refused(_)) => answer.refused(BillingError::NoPaidPlan, BILLING_PAGE),
        Err(CancelError::Database(error)) => {
            tracing::error!(%error, "changing a subscription failed");
            answer.refused(BillingError::Unavailable, BILLING_PAGE)
        }
    }
}

fn order_json(order: &Order) -> serde_json::Value {
    json!({
        "id": order.id,
        "order_id": order.order_id,
        "plan": order.plan.as_db(),
        "amount": order.amount,
        "status": order.status.as_db(),
        "final": !order.is_open(),
    })
}

/// The caller's order `id` and the caller, or the refusal to answer instead (JSON, in the
/// caller's language): someone else's order is as missing as one that never was.
async fn owned_order(
    routes: &BillingRoutes,
    ip: std::net::IpAddr,
    session: &Session,
    reply: &Reply,
    id: &str,
) -> Result<(Order, Uuid), Response> {
    let refused = |error| reply.refused(error, "");
    let (person, _) = signed_in(&routes.identity, session)
        .await
        .map_err(refused)?;
    let limit = routes
        .identity
        .limiter
        .check(&routes.status_limit, &Subject::user(ip, person.user_id))
        .await;
    if !limit.allowed {
        return Err(refused(BillingError::RateLimited {
            retry_after_secs: limit.retry_after_secs(),
        }));
    }
    let id = id
        .parse::<Uuid>()
        .map_err(|_| refused(BillingError::OrderMissing))?;
    match orders::order_of(&routes.billing.pool, person.user_id, id).await {
        Ok(Some(order)) => Ok((order, person.user_id)),
        Ok(None) => Err(refused(BillingError::OrderMissing)),
        Err(error) => {
            tracing::error!(%error, "reading an order failed");
            Err(refused(BillingError::Unavailable))
        }
    }
}

/// The answers of the order routes are always JSON (or events), whatever `Accept` says.
fn json_reply(routes: &BillingRoutes, uri: &Uri, headers: &HeaderMap) -> Reply {
    Reply {
        json: true,
        ..Reply::to(uri, headers, routes.identity.default_locale)
    }
}

async fn order_status(
    State(routes): State<BillingRoutes>,
    ClientIp(ip): ClientIp,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let reply = json_reply(&routes, &uri, &headers);
    match owned_order(&routes, ip, &session, &reply, &id).await {
        Ok((order, _)) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(order_json(&order)),
        )
            .into_response(),
        Err(response) => response,
    }
}

async fn order_events(
    State(routes): State<BillingRoutes>,
    ClientIp(ip): ClientIp,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let reply = json_reply(&routes, &uri, &headers);
    let (order, owner) = match owned_order(&routes, ip, &session, &reply, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let changes = routes.billing.orders.subscribe();
    let pool = routes.billing.pool.clone();
    let deadline = tokio::time::Instant::now() + STREAM_LIFETIME;
    // State: the last order sent (`None` once the stream should end) and the change feed.
    let first = Some((Some(order), true));
    let stream = futures_util::stream::unfold((first, changes), move |(state, mut changes)| {
        let pool = pool.clone();
        async move {
            let (order, send_now) = state?;
            let order = order?;
            if send_now {
                let event = Event::default()
                    .event("status")
                    .json_data(order_json(&order))
                    .ok()?;
                let next = if order.is_open() {
                    Some((Some(order), false))
                } else {
                    None
                };
                return Some((Ok::<_, Infallible>(event), (next, changes)));
            }
            // Wait for this order to change (any instance's `NOTIFY`), re-reading every
            // few seconds too, so a change announced while the listener reconnected is
            // not missed.
            loop {
                let wait = tokio::time::timeout(Duration::from_secs(5), changes.recv());
                let timed_out = match tokio::time::timeout_at(deadline, wait).await {
                    Err(_) => return None,
                    Ok(Ok(Ok(changed))) if changed != order.id => continue,
                    Ok(Ok(Err(tokio::sync::broadcast::error::RecvError::Closed))) => return None,
                    Ok(Ok(_)) => false,
                    Ok(Err(_)) => true,
                };
                let fresh = orders::order_of(&pool, owner, order.id)
                    .await
                    .ok()
                    .flatten()?;
                if fresh.status != order.status || !timed_out {
                    let event = Event::default()
                        .event("status")
                        .json_data(order_json(&fresh))
                        .ok()?;
                    let next = if fresh.is_open() {
                        Some((Some(fresh), false))
                    } else {
                        None
                    };
                    return Some((Ok(event), (next, changes)));
                }
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
