//! `/admin/payments` (filtered by status, gateway and plan, paged), `/admin/payments/:id` (the
//! payment, what the gateway said, every event for its order) and `/admin/webhooks` (the ledger,
//! by gateway and status; a failed event can be replayed). Server-rendered; the filters are GET
//! forms and the replay a plain POST form.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    AdminNav, AdminSection, AdminTable, CELL, Head, INPUT_CLASS, TextFilter, admin_error_for,
    list_href, loaded, loading,
};
use crate::admin::api::{ReplayWebhook, load_payment, load_payments, load_webhook_events};
use crate::admin::payments::{
    PaymentDetail, PaymentFilter, PaymentLine, WebhookEventLine, WebhookFilter,
};
use crate::components::form::{Alert, AlertKind, TextLink};
use crate::components::layout::PageMeta;
use crate::components::ui::{Card, button_class};
use crate::domain::{PaymentProvider, PaymentStatus, Plan, WebhookEventStatus};
use crate::i18n::{Locale, format_date, format_datetime, format_idr, use_locale};
use crate::pages::billing::StatusBadge;
use crate::t;

const PAYMENTS_PATH: &str = "/admin/payments";
const WEBHOOKS_PATH: &str = "/admin/webhooks";

/// A query value read as one of a database enum's labels; anything else is no filter.
fn chosen<T: std::str::FromStr>(value: Option<String>) -> Option<T> {
    value.and_then(|value| value.parse().ok())
}

/// A `<select>` of `options` (their database labels) with an "any" choice first.
#[component]
fn FilterSelect(
    name: &'static str,
    label: &'static str,
    options: Vec<(&'static str, &'static str)>,
    selected: Option<&'static str>,
) -> impl IntoView {
    let locale = use_locale();
    view! {
        <label class="text-sm font-medium">
            {label}
            <select name=name class=format!("mt-1 {INPUT_CLASS}")>
                <option value="">{t!(locale, admin.any)}</option>
                {options.into_iter().map(|(value, text)| view! {
                    <option value=value selected=Some(value) == selected>{text}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

fn gateway_name(provider: PaymentProvider) -> &'static str {
    match provider {
        PaymentProvider::Midtrans => "Midtrans",
        PaymentProvider::Doku => "DOKU",
    }
}

fn event_status_label(status: WebhookEventStatus, locale: Locale) -> &'static str {
    match status {
        WebhookEventStatus::Processing => t!(locale, admin.event_processing),
        WebhookEventStatus::Processed => t!(locale, admin.event_processed),
        WebhookEventStatus::Failed => t!(locale, admin.event_failed),
    }
}

/// `/admin/payments?status=&provider=&plan=&from=&to=&after=`.
#[component]
pub fn AdminPaymentsPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let filter = move || {
        query.with(|q| PaymentFilter {
            status: chosen(q.get("status")),
            provider: chosen(q.get("provider")),
            plan: chosen(q.get("plan")),
            from: q.get("from"),
            to: q.get("to"),
        })
    };
    let after = move || query.with(|q| q.get("after"));
    let payments = Resource::new(
        move || (filter(), after()),
        |(filter, after)| load_payments(filter, after),
    );
    view! {
        <PageMeta title=t!(locale, admin.nav_payments)/>
        <Suspense fallback=move || loading(locale)>
            {move || payments.get().map(|answer| {
                let filter = filter();
                let params = [
                    ("status", filter.status.map_or("", |s| s.as_db()).to_string()),
                    ("provider", filter.provider.map_or("", |p| p.as_db()).to_string()),
                    ("plan", filter.plan.map_or("", |p| p.as_db()).to_string()),
                    ("from", filter.from.clone().unwrap_or_default()),
                    ("to", filter.to.clone().unwrap_or_default()),
                ];
                let href = move |after: &str| {
                    let mut pairs: Vec<(&str, &str)> = params.iter().map(|(name, value)| (*name, value.as_str())).collect();
                    pairs.push(("after", after));
                    list_href(PAYMENTS_PATH, &pairs)
                };
                // The form stays above a refusal (a date typed wrong), to be corrected in place.
                view! {
                    <section class="py-12">
                        <AdminNav current=AdminSection::Payments/>
                        <h1 class="text-3xl font-bold tracking-tight">{t!(locale, admin.nav_payments)}</h1>
                        <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, admin.payments_lead)}</p>
                        <form method="get" action=PAYMENTS_PATH class="mt-6 grid max-w-5xl grid-cols-2 items-end gap-3 sm:grid-cols-3 lg:grid-cols-6" data-testid="payment-filters">
                            <FilterSelect name="status" label=t!(locale, admin.status)
                                options=PaymentStatus::ALL.iter().map(|s| (s.as_db(), s.as_db())).collect()
                                selected=filter.status.map(|s| s.as_db())/>
                            <FilterSelect name="provider" label=t!(locale, admin.gateway)
                                options=PaymentProvider::ALL.iter().map(|p| (p.as_db(), gateway_name(*p))).collect()
                                selected=filter.provider.map(|p| p.as_db())/>
                            <FilterSelect name="plan" label=t!(locale, admin.plan)
                                options=Plan::PAID.iter().map(|p| (p.as_db(), p.name())).collect()
                                selected=filter.plan.map(|p| p.as_db())/>
                            <TextFilter name="from" label=t!(locale, admin.filter_from) value=filter.from.clone() kind="date"/>
                            <TextFilter name="to" label=t!(locale, admin.filter_to) value=filter.to.clone() kind="date"/>
                            <button type="submit" class=button_class(true)>{t!(locale, admin.filter_button)}</button>
                        </form>
                        {loaded(answer, locale, move |page| view! {
                            <PaymentsTable payments=page.items/>
                            <nav class="mt-4 flex gap-6 text-sm">
                                {after().map(|_| view! { <TextLink href=href("")>{t!(locale, admin.first_page)}</TextLink> })}
                                {page.next.map(|next| view! {
                                    <span data-testid="payments-next"><TextLink href=href(&next)>{t!(locale, admin.next_page)}</TextLink></span>
                                })}
                            </nav>
                        }.into_any())}
                    </section>
                }
            })}
        </Suspense>
    }
}

/// A payment as a row of an admin table, linked to its page; with `customer`, a column for
/// whose it is.
#[component]
pub(super) fn PaymentRow(
    id: String,
    order_id: String,
    created_at: i64,
    #[prop(optional)] customer: Option<String>,
    provider: PaymentProvider,
    plan: Plan,
    amount: i64,
    status: PaymentStatus,
) -> impl IntoView {
    let locale = use_locale();
    view! {
        <tr>
            <td class=format!("{CELL} whitespace-nowrap")>{format_date(created_at, locale)}</td>
            <td class=format!("{CELL} font-mono text-xs")>
                <TextLink href=format!("{PAYMENTS_PATH}/{id}")>{order_id}</TextLink>
            </td>
            {customer.map(|customer| view! { <td class=CELL>{customer}</td> })}
            <td class=CELL>{gateway_name(provider)}</td>
            <td class=CELL>{plan.name()}</td>
            <td class=format!("{CELL} whitespace-nowrap text-right")>{format_idr(amount, locale)}</td>
            <td class=CELL><StatusBadge status/></td>
        </tr>
    }
}

#[component]
fn PaymentsTable(payments: Vec<PaymentLine>) -> impl IntoView {
    let locale = use_locale();
    if payments.is_empty() {
        return view! { <p class="mt-8 text-slate-600 dark:text-slate-300">{t!(locale, admin.no_payments)}</p> }
            .into_any();
    }
    view! {
        <AdminTable test_id="payments" heads=vec![Head::text(t!(locale, admin.date)), Head::text(t!(locale, admin.order)), Head::text(t!(locale, admin.customer)), Head::text(t!(locale, admin.gateway)), Head::text(t!(locale, admin.plan)), Head::figure(t!(locale, admin.amount)), Head::text(t!(locale, admin.status))]>
            {payments.into_iter().map(|payment| view! {
                <PaymentRow
                    id=payment.id
                    order_id=payment.order_id
                    created_at=payment.created_at
                    customer=payment.email.unwrap_or_default()
                    provider=payment.provider
                    plan=payment.plan
                    amount=payment.amount
                    status=payment.status
                />
            }).collect_view()}
        </AdminTable>
    }
    .into_any()
}

/// `/admin/payments/:id`.
#[component]
pub fn AdminPaymentPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let payment = Resource::new(
        move || params.with(|p| p.get("id").unwrap_or_default()),
        load_payment,
    );
    view! {
        <PageMeta title=t!(locale, admin.payment_title)/>
        <Suspense fallback=move || loading(locale)>
            {move || payment.get().map(|answer| loaded(answer, locale, |detail| {
                view! { <PaymentView detail/> }.into_any()
            }))}
        </Suspense>
    }
}

#[component]
fn PaymentView(detail: PaymentDetail) -> impl IntoView {
    let locale = use_locale();
    let payment = detail.payment;
    let dash = || "—".to_string();
    view! {
        <section class="py-12" data-testid="payment">
            <AdminNav current=AdminSection::Payments/>
            <TextLink href=PAYMENTS_PATH>{t!(locale, admin.back_to_payments)}</TextLink>
            <h1 class="mt-6 font-mono text-2xl font-bold tracking-tight">{payment.order_id.clone()}</h1>
            <Card class="mt-6">
                <dl class="grid grid-cols-2 gap-y-3 text-sm sm:grid-cols-4">
                    <dt class="text-slate-500 dark:text-slate-400">{t!(locale, admin.status)}</dt>
                    <dd><StatusBadge status=payment.status/></dd>
                    <dt class="text-slate-500 dark:text-slate-400">{t!(locale, admin.amount)}</dt>
                    <dd class="font-medium">{format_idr(payment.amount, locale)}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">{t!(locale, admin.plan)}</dt>
                    <dd class="font-medium">{payment.plan.name()}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">{t!(locale, admin.gateway)}</dt>
                    <dd class="font-medium">{gateway_name(payment.provider)}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">{t!(locale, admin.customer)}</dt>
                    <dd class="min-w-0 break-all font-medium">
                        {match (payment.user_id, payment.email) {
                            (Some(id), email) => view! { <TextLink href=format!("/admin/users/{id}")>{email.unwrap_or(id)}</TextLink> }.into_any(),
                            (None, _) => dash().into_any(),
                        }}
                    </dd>
                    <dt class="text-slate-500 dark:text-slate-400">{t!(locale, admin.date)}</dt>
                    <dd class="font-medium">{format_datetime(payment.created_at, locale)}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">{t!(locale, admin.paid_at)}</dt>
                    <dd class="font-medium">{payment.paid_at.map_or_else(dash, |at| format_datetime(at, locale))}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">{t!(locale, admin.expires)}</dt>
                    <dd class="font-medium">{detail.expires_at.map_or_else(dash, |at| format_datetime(at, locale))}</dd>
                    <dt class="text-slate-500 dark:text-slate-400">{t!(locale, admin.payment_type)}</dt>
                    <dd class="font-medium">{detail.payment_type.unwrap_or_else(dash)}</dd>
                </dl>
            </Card>
            <Card class="mt-6">
                <h2 class="font-semibold">{t!(locale, admin.gateway_data)}</h2>
                <pre class="mt-3 overflow-x-auto rounded bg-slate-100 p-3 text-xs dark:bg-slate-950" data-testid="gateway-metadata">{detail.gateway_metadata}</pre>
            </Card>
            <Card class="mt-6">
                <h2 class="font-semibold">{t!(locale, admin.events_title)}</h2>
                {if detail.events.is_empty() {
                    view! { <p class="mt-3 text-sm text-slate-600 dark:text-slate-300">{t!(locale, admin.no_events)}</p> }.into_any()
                } else {
                    view! { <EventsTable events=detail.events/> }.into_any()
                }}
            </Card>
        </section>
    }
}

/// `/admin/webhooks?provider=&status=&after=`.
#[component]
pub fn AdminWebhooksPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let filter = move || {
        query.with(|q| WebhookFilter {
            provider: chosen(q.get("provider")),
            status: chosen(q.get("status")),
        })
    };
    let after = move || query.with(|q| q.get("after"));
    let events = Resource::new(
        move || (filter(), after()),
        |(filter, after)| load_webhook_events(filter, after),
    );
    view! {
        <PageMeta title=t!(locale, admin.webhooks_title)/>
        <Suspense fallback=move || loading(locale)>
            {move || events.get().map(|answer| loaded(answer, locale, |page| {
                let filter = filter();
                let href = |after: &str| list_href(WEBHOOKS_PATH, &[
                    ("provider", filter.provider.map_or("", |p| p.as_db())),
                    ("status", filter.status.map_or("", |s| s.as_db())),
                    ("after", after),
                ]);
                view! {
                    <section class="py-12">
                        <AdminNav current=AdminSection::Webhooks/>
                        <h1 class="text-3xl font-bold tracking-tight">{t!(locale, admin.webhooks_title)}</h1>
                        <p class="mt-2 max-w-3xl text-slate-600 dark:text-slate-300">{t!(locale, admin.webhooks_lead)}</p>
                        <form method="get" action=WEBHOOKS_PATH class="mt-6 grid max-w-xl grid-cols-3 items-end gap-3" data-testid="webhook-filters">
                            <FilterSelect name="provider" label=t!(locale, admin.gateway)
                                options=PaymentProvider::ALL.iter().map(|p| (p.as_db(), gateway_name(*p))).collect()
                                selected=filter.provider.map(|p| p.as_db())/>
                            <FilterSelect name="status" label=t!(locale, admin.status)
                                options=WebhookEventStatus::ALL.iter().map(|s| (s.as_db(), event_status_label(*s, locale))).collect()
                                selected=filter.status.map(|s| s.as_db())/>
                            <button type="submit" class=button_class(true)>{t!(locale, admin.filter_button)}</button>
                        </form>
                        {if page.items.is_empty() {
                            view! { <p class="mt-8 text-slate-600 dark:text-slate-300">{t!(locale, admin.no_events)}</p> }.into_any()
                        } else {
                            view! { <div class="mt-8"><EventsTable events=page.items/></div> }.into_any()
                        }}
                        <nav class="mt-4 flex gap-6 text-sm">
                            {after().map(|_| view! { <TextLink href=href("")>{t!(locale, admin.first_page)}</TextLink> })}
                            {page.next.map(|next| view! {
                                <span data-testid="webhooks-next"><TextLink href=href(&next)>{t!(locale, admin.next_page)}</TextLink></span>
                            })}
                        </nav>
                    </section>
                }.into_any()
            }))}
        </Suspense>
    }
}

/// Ledger entries, each with its payload folded under it and, when failed, a replay button.
#[component]
fn EventsTable(events: Vec<WebhookEventLine>) -> impl IntoView {
    let locale = use_locale();
    let refused = admin_error_for::<ReplayWebhook>().map(|error| error.message(locale));
    view! {
        {refused.map(|message| view! { <Alert kind=AlertKind::Error testid="replay-error">{message}</Alert> })}
        <AdminTable test_id="webhook-events" class="mt-3" heads=vec![Head::text(t!(locale, admin.received)), Head::text(t!(locale, admin.event)), Head::text(t!(locale, admin.status)), Head::text(t!(locale, admin.attempts)), Head::text(t!(locale, admin.last_error)), Head::text(t!(locale, admin.payload))]>
            {events.into_iter().map(|event| view! {
                <tr data-testid="webhook-event" data-status=event.status.as_db()>
                    <td class=format!("{CELL} whitespace-nowrap")>{format_datetime(event.received_at, locale)}</td>
                    <td class=format!("{CELL} font-mono text-xs")>
                        <span class="block">{gateway_name(event.provider)}" · "{event.event_type}</span>
                        {match event.payment_id {
                            Some(payment) => view! { <TextLink href=format!("{PAYMENTS_PATH}/{payment}")>{event.event_id}</TextLink> }.into_any(),
                            None => event.event_id.into_any(),
                        }}
                    </td>
                    <td class=CELL>{event_status_label(event.status, locale)}</td>
                    <td class=CELL>{event.attempts}</td>
                    <td class=format!("{CELL} max-w-xs break-words text-xs")>{event.last_error.unwrap_or_default()}</td>
                    <td class=CELL>
                        <details>
                            <summary class="cursor-pointer text-slate-500 dark:text-slate-400">{t!(locale, admin.payload)}</summary>
                            <pre class="mt-2 max-w-lg overflow-x-auto rounded bg-slate-100 p-2 text-xs dark:bg-slate-950">{event.payload}</pre>
                        </details>
                        {event.replayable.then(|| view! {
                            <form method="post" action=ReplayWebhook::url() class="mt-2">
                                <input type="hidden" name="id" value=event.id.clone()/>
                                <button type="submit" class=button_class(false) title=t!(locale, admin.replay_hint) data-testid="replay">
                                    {t!(locale, admin.replay)}
                                </button>
                            </form>
                        })}
                    </td>
                </tr>
            }).collect_view()}
        </AdminTable>
    }
}
