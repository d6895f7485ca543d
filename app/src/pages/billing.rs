//! The paying person's pages: `/checkout?plan=` (confirm, then go to the gateway),
//! `/order/:id` (where the gateway sends them back; live until the order is final) and
//! `/dashboard/billing` (plan, period, cancel / resume, history). Every form is a plain form
//! the server answers with a redirect; only the order page's live status runs in the browser.

use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::hooks::use_params_map;

use crate::billing::api::{load_billing, load_order};
use crate::billing::{
    BILLING_PAGE, BillingError, BillingOverview, CANCEL_PATH, CHECKOUT_PATH, OrderView, RESUME_PATH,
};
use crate::components::auth::SignInPrompt;
use crate::components::form::{Alert, AlertKind, FormError, FormSuccess, TextLink};
use crate::components::island::query_value;
use crate::components::layout::PageMeta;
use crate::components::ui::{ButtonLink, Card, button_class};
use crate::domain::{PaymentStatus, Plan, PlanCatalogue};
use crate::i18n::{Locale, format_date, format_datetime, format_idr, use_locale};
use crate::t;

/// A refusal or a sign-in prompt for a page that could not load the person's billing.
fn refused_view(error: BillingError, next: &'static str, locale: Locale) -> AnyView {
    match error {
        BillingError::NotSignedIn => view! { <SignInPrompt next/> }.into_any(),
        error => view! { <Alert kind=AlertKind::Error>{error.message(locale)}</Alert> }.into_any(),
    }
}

/// The `?error=` a billing route sent the person back with, in their language.
fn refusal_in_query(locale: Locale) -> Option<String> {
    query_value("error")
        .and_then(|code| BillingError::from_code(&code))
        .map(|error| error.message(locale))
}

fn status_label(status: PaymentStatus, locale: Locale) -> &'static str {
    match status {
        PaymentStatus::Pending => t!(locale, billing.status_pending),
        PaymentStatus::Paid => t!(locale, billing.status_paid),
        PaymentStatus::Failed => t!(locale, billing.status_failed),
        PaymentStatus::Expired => t!(locale, billing.status_expired),
        PaymentStatus::Refunded => t!(locale, billing.status_refunded),
    }
}

/// A payment's status as a coloured label (`data-testid="order-status"` carries the code).
#[component]
pub(crate) fn StatusBadge(status: PaymentStatus) -> impl IntoView {
    let locale = use_locale();
    let look = match status {
        PaymentStatus::Paid => {
            "bg-emerald-100 text-emerald-900 dark:bg-emerald-400/15 dark:text-emerald-300"
        }
        PaymentStatus::Pending => {
            "bg-amber-100 text-amber-900 dark:bg-amber-400/15 dark:text-amber-300"
        }
        _ => "bg-slate-200 text-slate-900 dark:bg-slate-800 dark:text-slate-200",
    };
    view! {
        <span
            data-testid="order-status"
            data-status=status.as_db()
            class=format!("inline-flex items-center rounded-full px-2.5 py-0.5 text-xs font-semibold {look}")
        >
            {status_label(status, locale)}
        </span>
    }
}

/// `/checkout?plan=PRO`: what is bought, for how much and how long, then on to the gateway.
#[component]
pub fn CheckoutPage() -> impl IntoView {
    let locale = use_locale();
    let plan = query_value("plan")
        .and_then(|name| name.parse::<Plan>().ok())
        .filter(|plan| *plan != Plan::Free);
    let billing = Resource::new(|| (), |_| load_billing());
    let problem = refusal_in_query(locale);
    view! {
        <PageMeta title=t!(locale, billing.checkout_title)/>
        <section class="mx-auto max-w-xl py-12">
            <h1 class="text-3xl font-bold tracking-tight">{t!(locale, billing.checkout_title)}</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, billing.checkout_lead)}</p>
            <div class="mt-6 space-y-4">
                <FormError message=Signal::stored(problem)/>
                {match plan {
                    None => view! {
                        <Alert kind=AlertKind::Info>{t!(locale, billing.choose_plan)}</Alert>
                        <ButtonLink href="/pricing" primary=true>{t!(locale, billing.see_plans)}</ButtonLink>
                    }.into_any(),
                    Some(plan) => view! {
                        <Suspense fallback=move || view! { <p class="text-slate-500 dark:text-slate-400">{t!(locale, common.loading_account)}</p> }>
                            {move || billing.get().map(|answer| match answer {
                                Ok(overview) => view! { <CheckoutCard plan overview/> }.into_any(),
                                Err(error) => refused_view(error, "/pricing", locale),
                            })}
                        </Suspense>
                    }.into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
fn CheckoutCard(plan: Plan, overview: BillingOverview) -> impl IntoView {
    let locale = use_locale();
    let price = PlanCatalogue::current().monthly_price_idr(plan);
    let when = match overview.period_end {
        Some(end) if overview.plan == plan => {
            t!(locale, billing.extends)(plan.name(), &format_date(end, locale))
        }
        _ => t!(locale, billing.starts_now).to_string(),
    };
    view! {
        <Card>
            <dl class="grid grid-cols-2 gap-y-3 text-sm" data-testid="checkout-summary">
                <dt class="text-slate-500 dark:text-slate-400">{t!(locale, billing.plan)}</dt>
                <dd class="text-right font-semibold">{plan.name()}</dd>
                <dt class="text-slate-500 dark:text-slate-400">{t!(locale, billing.period)}</dt>
                <dd class="text-right">{t!(locale, billing.one_month)}</dd>
                <dt class="text-slate-500 dark:text-slate-400">{t!(locale, billing.price)}</dt>
                <dd class="text-right text-lg font-bold" data-testid="checkout-price">{format_idr(price, locale)}</dd>
            </dl>
            <p class="mt-4 text-sm text-slate-600 dark:text-slate-300">{when}</p>
            <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">{t!(locale, billing.pay_on)(&overview.gateway)}</p>
            <form method="post" action=CHECKOUT_PATH class="mt-6">
                <input type="hidden" name="plan" value=plan.as_db()/>
                <button type="submit" data-testid="checkout-submit" class=format!("{} w-full", button_class(true))>
                    {t!(locale, billing.to_payment)}
                </button>
            </form>
        </Card>
    }
}

/// `/order/:id`: the owner's order. While it waits for the gateway it follows the order's
/// events and reloads itself when the order settles; without JavaScript it refreshes itself.
#[component]
pub fn OrderPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let id = params.with_untracked(|params| params.get("id").unwrap_or_default());
    let order = Resource::new(move || id.clone(), load_order);
    view! {
        <PageMeta title=t!(locale, billing.order_title)/>
        <section class="mx-auto max-w-xl py-12">
            <h1 class="text-3xl font-bold tracking-tight">{t!(locale, billing.order_title)}</h1>
            <div class="mt-6">
                <Suspense fallback=move || view! { <p class="text-slate-500 dark:text-slate-400">{t!(locale, common.loading_account)}</p> }>
                    {move || order.get().map(|answer| match answer {
                        Ok(Some(order)) => view! { <OrderCard order/> }.into_any(),
                        Ok(None) => view! { <Alert kind=AlertKind::Error>{t!(locale, billing.order_missing)}</Alert> }.into_any(),
                        Err(error) => refused_view(error, BILLING_PAGE, locale),
                    })}
                </Suspense>
            </div>
        </section>
    }
}

#[component]
fn OrderCard(order: OrderView) -> impl IntoView {
    let locale = use_locale();
    let lead = match order.status {
        PaymentStatus::Pending => t!(locale, billing.pending_lead),
        PaymentStatus::Paid => t!(locale, billing.paid_lead),
        PaymentStatus::Failed => t!(locale, billing.failed_lead),
        PaymentStatus::Expired => t!(locale, billing.expired_lead),
        PaymentStatus::Refunded => t!(locale, billing.refunded_lead),
    };
    let pending = order.status == PaymentStatus::Pending;
    // Just made at checkout: on to the gateway's page. The checkout form comes here first
    // because a form's redirect to another site is blocked by the page's `form-action 'self'`;
    // this is a plain navigation, and the address is the order's own, never the query's.
    let onward = query_value("pay")
        .filter(|_| pending)
        .and(order.checkout_url.clone())
        .map(|url| {
            view! {
                <Meta http_equiv="refresh" content=format!("0;url={url}")/>
                <Alert kind=AlertKind::Info testid="to-gateway">{t!(locale, billing.to_gateway)}</Alert>
            }
        });
    let retry = format!("/checkout?plan={}", order.plan.as_db());
    let next_steps = match order.status {
        PaymentStatus::Pending => order
            .checkout_url
            .clone()
            .map(|url| {
                let before = order
                    .expires_at
                    .map(|at| t!(locale, billing.pay_before)(&format_datetime(at, locale)));
                view! {
                    <a href=url rel="external" data-testid="continue-paying" class=button_class(true)>{t!(locale, billing.continue_paying)}</a>
                    <p class="text-sm text-slate-600 dark:text-slate-300">{before}</p>
                }
                .into_any()
            })
            .unwrap_or_else(|| ().into_any()),
        PaymentStatus::Failed | PaymentStatus::Expired => {
            view! { <ButtonLink href=retry primary=true>{t!(locale, billing.try_again)}</ButtonLink> }.into_any()
        }
        PaymentStatus::Paid | PaymentStatus::Refunded => {
            view! { <ButtonLink href=BILLING_PAGE primary=true>{t!(locale, billing.to_billing)}</ButtonLink> }.into_any()
        }
    };
    view! {
        {onward}
        <Card class="mt-4">
            <div class="flex items-center justify-between gap-4">
                <p class="text-lg font-semibold">{order.plan.name()}</p>
                <StatusBadge status=order.status/>
            </div>
            <dl class="mt-4 grid grid-cols-2 gap-y-2 text-sm">
                <dt class="text-slate-500 dark:text-slate-400">{t!(locale, billing.order_number)}</dt>
                <dd class="break-all text-right font-mono text-xs" data-testid="order-number">{order.order_id.clone()}</dd>
                <dt class="text-slate-500 dark:text-slate-400">{t!(locale, billing.amount)}</dt>
                <dd class="text-right font-semibold">{format_idr(order.amount, locale)}</dd>
                <dt class="text-slate-500 dark:text-slate-400">{t!(locale, billing.date)}</dt>
                <dd class="text-right">{format_datetime(order.created_at, locale)}</dd>
            </dl>
            <p class="mt-4 text-sm text-slate-700 dark:text-slate-200" role="status" data-testid="order-lead">{lead}</p>
            <div class="mt-6 flex flex-wrap items-center gap-3">{next_steps}</div>
        </Card>
        {pending.then(|| view! {
            <noscript><meta http-equiv="refresh" content="10"/></noscript>
            <script nonce=use_nonce()>{ORDER_LIVE_SCRIPT}</script>
        })}
    }
}

/// Follows a pending order's events (`/api/billing/orders/{id}/events`, every instance's
/// changes) and reloads the page once the order is final, so the server draws the outcome; if
/// the stream cannot be kept open it reloads every 10 seconds. A dozen lines of browser script
/// inline with the page's nonce rather than a lazy island: an island's code shared with the
/// other islands splits their chunks, and every page with an island would download more.
const ORDER_LIVE_SCRIPT: &str = "(function(){var reload=function(){location.reload()};\
var id=location.pathname.split('/')[2];\
try{var events=new EventSource('/api/billing/orders/'+encodeURIComponent(id)+'/events');\
events.addEventListener('status',function(e){try{if(JSON.parse(e.data).status!=='PENDING'){events.close();reload()}}catch(_){}});\
events.addEventListener('error',function(){if(events.readyState===2)setTimeout(reload,10000)})}\
catch(_){setTimeout(reload,10000)}})()";

/// `/dashboard/billing`: the plan in force, until when, cancel or resume, and every payment.
#[component]
pub fn BillingPage() -> impl IntoView {
    let locale = use_locale();
    let billing = Resource::new(|| (), |_| load_billing());
    let notice = query_value("notice").and_then(|code| match code.as_str() {
        "canceled" => Some(t!(locale, billing.canceled_notice).to_string()),
        "resumed" => Some(t!(locale, billing.resumed_notice).to_string()),
        _ => None,
    });
    let problem = refusal_in_query(locale);
    view! {
        <PageMeta title=t!(locale, billing.billing_title)/>
        <section class="mx-auto max-w-3xl py-12">
            <TextLink href="/dashboard">{t!(locale, settings.back)}</TextLink>
            <h1 class="mt-4 text-3xl font-bold tracking-tight">{t!(locale, billing.billing_title)}</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, billing.billing_lead)}</p>
            <div class="mt-6 space-y-4">
                <FormError message=Signal::stored(problem)/>
                <FormSuccess message=Signal::stored(notice)/>
                <Suspense fallback=move || view! { <p class="text-slate-500 dark:text-slate-400">{t!(locale, common.loading_account)}</p> }>
                    {move || billing.get().map(|answer| match answer {
                        Ok(overview) => view! { <PlanCard overview=overview.clone()/> <History orders=overview.orders/> }.into_any(),
                        Err(error) => refused_view(error, BILLING_PAGE, locale),
                    })}
                </Suspense>
            </div>
        </section>
    }
}

#[component]
fn PlanCard(overview: BillingOverview) -> impl IntoView {
    let locale = use_locale();
    let paid = overview.plan != Plan::Free;
    let until = match (overview.period_end, overview.cancel_at_period_end) {
        (Some(end), true) => t!(locale, billing.canceled_note)(&format_date(end, locale)),
        (Some(end), false) => t!(locale, billing.paid_until)(&format_date(end, locale)),
        (None, _) => t!(locale, billing.free_forever).to_string(),
    };
    let actions = if paid {
        let renew = format!("/checkout?plan={}", overview.plan.as_db());
        let change = if overview.cancel_at_period_end {
            view! {
                <form method="post" action=RESUME_PATH>
                    <button type="submit" data-testid="resume" class=button_class(false)>{t!(locale, billing.resume)}</button>
                </form>
            }
            .into_any()
        } else {
            view! {
                <details data-testid="cancel">
                    <summary class=format!("{} cursor-pointer list-none [&::-webkit-details-marker]:hidden", button_class(false))>
                        {t!(locale, billing.cancel)}
                    </summary>
                    <form method="post" action=CANCEL_PATH class="mt-3 space-y-3 rounded-lg border border-red-200 p-4 dark:border-red-900">
                        <p class="text-sm">{t!(locale, billing.cancel_question)}</p>
                        <button type="submit" data-testid="cancel-yes" class="rounded-md bg-red-700 px-4 py-2 text-sm font-semibold text-white hover:bg-red-600 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500">
                            {t!(locale, billing.cancel_yes)}
                        </button>
                    </form>
                </details>
            }
            .into_any()
        };
        view! {
            <ButtonLink href=renew primary=true>{t!(locale, billing.renew)}</ButtonLink>
            <ButtonLink href="/pricing">{t!(locale, billing.change_plan)}</ButtonLink>
            {change}
        }
        .into_any()
    } else {
        view! { <ButtonLink href="/pricing" primary=true>{t!(locale, billing.upgrade)}</ButtonLink> }.into_any()
    };
    view! {
        <Card>
            <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{t!(locale, billing.current_plan)}</h2>
            <p class="mt-2 text-2xl font-bold" data-testid="billing-plan">{overview.plan.name()}</p>
            <p class="mt-2 text-sm text-slate-600 dark:text-slate-300" data-testid="billing-until">{until}</p>
            <div class="mt-4 flex flex-wrap items-start gap-3">{actions}</div>
        </Card>
    }
}

#[component]
fn History(orders: Vec<OrderView>) -> impl IntoView {
    let locale = use_locale();
    if orders.is_empty() {
        return view! {
            <Card>
                <h2 class="text-lg font-semibold">{t!(locale, billing.history_title)}</h2>
                <p class="mt-2 text-sm text-slate-600 dark:text-slate-300" data-testid="payment-history">{t!(locale, billing.history_empty)}</p>
            </Card>
        }
        .into_any();
    }
    let rows = orders
        .into_iter()
        .map(|order| {
            let href = crate::billing::order_page(&order.id);
            view! {
                <tr class="border-t border-slate-200 dark:border-slate-800">
                    <td class="py-2 pr-4 whitespace-nowrap">{format_date(order.created_at, locale)}</td>
                    <td class="py-2 pr-4">{order.plan.name()}</td>
                    <td class="py-2 pr-4 whitespace-nowrap text-right">{format_idr(order.amount, locale)}</td>
                    <td class="py-2 pr-4"><StatusBadge status=order.status/></td>
                    <td class="py-2"><TextLink href=href>{order.order_id}</TextLink></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Card>
            <h2 class="text-lg font-semibold">{t!(locale, billing.history_title)}</h2>
            <div class="mt-4 overflow-x-auto">
                <table class="w-full text-left text-sm" data-testid="payment-history">
                    <thead class="text-slate-500 dark:text-slate-400">
                        <tr>
                            <th scope="col" class="pb-2 pr-4 font-medium">{t!(locale, billing.date)}</th>
                            <th scope="col" class="pb-2 pr-4 font-medium">{t!(locale, billing.plan)}</th>
                            <th scope="col" class="pb-2 pr-4 text-right font-medium">{t!(locale, billing.amount)}</th>
                            <th scope="col" class="pb-2 pr-4 font-medium">{t!(locale, billing.status)}</th>
                            <th scope="col" class="pb-2 font-medium">{t!(locale, billing.order_number)}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </Card>
    }
    .into_any()
}
