//! `/admin/audit` (filtered trail, CSV of what is shown), `/admin/waitlist` (search, count,
//! CSV), `/admin/mail` (the outbox by status; retry a dead message) and `/admin/ai` (tokens per
//! day and per model, this month's top users). Server-rendered; GET forms filter, plain POST
//! forms act.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::people::AuditTable;
use super::{
    AdminNav, AdminSection, AdminTable, CELL, Head, TextFilter, admin_error_for, list_href, loaded,
    loading,
};
use crate::admin::Page;
use crate::admin::records::{
    AiUsageReport, AuditFilter, MailStatus, OutboxMessage, WAITLIST_CSV_PATH, WaitlistEntry,
};
use crate::admin::records_api::{
    RetryMail, load_ai_usage, load_audit_trail, load_mail_outbox, load_waitlist,
};
use crate::components::chart::{Bar, BarChart};
use crate::components::form::{Alert, AlertKind, TextLink};
use crate::components::layout::PageMeta;
use crate::components::ui::{Card, button_class};
use crate::i18n::{
    Locale, format_calendar_day, format_count, format_date, format_datetime, use_locale,
};
use crate::t;

const AUDIT_PATH: &str = "/admin/audit";
const WAITLIST_PATH: &str = "/admin/waitlist";
const MAIL_PATH: &str = "/admin/mail";

fn count(n: i64, locale: Locale) -> String {
    format_count(n.max(0).unsigned_abs(), locale)
}

/// Paging links: back to the newest, and on to the page after `next`.
#[component]
fn Pager(
    first: Option<String>,
    next: Option<String>,
    #[prop(optional)] test_id: &'static str,
) -> impl IntoView {
    let locale = use_locale();
    view! {
        <nav class="mt-4 flex gap-6 text-sm">
            {first.map(|href| view! { <TextLink href>{t!(locale, admin.first_page)}</TextLink> })}
            {next.map(|href| view! { <span data-testid=test_id><TextLink href>{t!(locale, admin.next_page)}</TextLink></span> })}
        </nav>
    }
}

/// `/admin/audit?actor=&action=&target=&from=&to=&after=`.
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let filter = move || {
        query.with(|q| AuditFilter {
            actor: q.get("actor"),
            action: q.get("action"),
            target: q.get("target"),
            from: q.get("from"),
            to: q.get("to"),
        })
    };
    let after = move || query.with(|q| q.get("after"));
    let trail = Resource::new(
        move || (filter(), after()),
        |(filter, after)| load_audit_trail(filter, after),
    );
    view! {
        <PageMeta title=t!(locale, admin.nav_audit)/>
        <Suspense fallback=move || loading(locale)>
            {move || trail.get().map(|answer| {
                let filter = filter();
                let value = |field: &Option<String>| field.clone().unwrap_or_default();
                let params = [
                    ("actor", value(&filter.actor)),
                    ("action", value(&filter.action)),
                    ("target", value(&filter.target)),
                    ("from", value(&filter.from)),
                    ("to", value(&filter.to)),
                ];
                let href = move |after: &str| {
                    let mut pairs: Vec<(&str, &str)> = params.iter().map(|(name, value)| (*name, value.as_str())).collect();
                    pairs.push(("after", after));
                    list_href(AUDIT_PATH, &pairs)
                };
                let form = view! {
                    <form method="get" action=AUDIT_PATH class="mt-6 grid grid-cols-2 items-end gap-3 md:grid-cols-6" data-testid="audit-filters">
                        <TextFilter name="actor" label=t!(locale, admin.filter_actor) value=filter.actor.clone() placeholder=t!(locale, admin.filter_actor_hint)/>
                        <TextFilter name="action" label=t!(locale, admin.filter_action) value=filter.action.clone() placeholder="payment.success"/>
                        <TextFilter name="target" label=t!(locale, admin.filter_target) value=filter.target.clone() placeholder=t!(locale, admin.filter_target_hint)/>
                        <TextFilter name="from" label=t!(locale, admin.filter_from) value=filter.from.clone() kind="date"/>
                        <TextFilter name="to" label=t!(locale, admin.filter_to) value=filter.to.clone() kind="date"/>
                        <button type="submit" class=button_class(true)>{t!(locale, admin.filter_button)}</button>
                    </form>
                };
                let csv = filter.csv_href();
                view! {
                    <section class="py-12">
                        <AdminNav current=AdminSection::Audit/>
                        <h1 class="text-3xl font-bold tracking-tight">{t!(locale, admin.nav_audit)}</h1>
                        <p class="mt-2 max-w-3xl text-slate-600 dark:text-slate-300">{t!(locale, admin.audit_lead)}</p>
                        {form}
                        <p class="mt-4 text-sm"><a href=csv rel="external" class="font-medium text-amber-700 hover:underline dark:text-amber-300" data-testid="audit-csv">{t!(locale, admin.download_csv)}</a></p>
                        {loaded(answer, locale, move |page: Page<_>| if page.items.is_empty() {
                            view! {
                                <p class="mt-8 text-slate-600 dark:text-slate-300">{t!(locale, admin.no_audit)}</p>
                            }.into_any()
                        } else {
                            view! {
                                <div class="mt-6"><AuditTable entries=page.items/></div>
                                <Pager first=after().map(|_| href("")) next=page.next.map(|next| href(&next)) test_id="audit-next"/>
                            }.into_any()
                        })}
                    </section>
                }
            })}
        </Suspense>
    }
}

/// `/admin/waitlist?q=&after=`.
#[component]
pub fn AdminWaitlistPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let search = move || query.with(|q| q.get("q").unwrap_or_default());
    let after = move || query.with(|q| q.get("after"));
    let waitlist = Resource::new(
        move || (search(), after()),
        |(search, after)| load_waitlist(Some(search), after),
    );
    view! {
        <PageMeta title=t!(locale, admin.nav_waitlist)/>
        <Suspense fallback=move || loading(locale)>
            {move || waitlist.get().map(|answer| loaded(answer, locale, |view| {
                let search = search();
                let href = |after: &str| list_href(WAITLIST_PATH, &[("q", &search), ("after", after)]);
                view! {
                    <section class="py-12">
                        <AdminNav current=AdminSection::Waitlist/>
                        <h1 class="text-3xl font-bold tracking-tight">{t!(locale, admin.nav_waitlist)}</h1>
                        <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, admin.waitlist_lead)}" "
                            <span data-testid="waitlist-total">{t!(locale, admin.waitlist_total)(&count(view.total, locale))}</span>
                        </p>
                        <div class="mt-6 flex flex-wrap items-end gap-6">
                            <form method="get" action=WAITLIST_PATH class="flex max-w-xl flex-1 items-end gap-3" role="search">
                                <TextFilter name="q" label=t!(locale, admin.email) value=Some(search.clone()) kind="search"/>
                                <button type="submit" class=button_class(true)>{t!(locale, admin.search_button)}</button>
                            </form>
                            <a href=WAITLIST_CSV_PATH rel="external" class="text-sm font-medium text-amber-700 hover:underline dark:text-amber-300" data-testid="waitlist-csv">{t!(locale, admin.download_csv)}</a>
                        </div>
                        <WaitlistTable entries=view.page.items/>
                        <Pager first=after().map(|_| href("")) next=view.page.next.map(|next| href(&next)) test_id="waitlist-next"/>
                    </section>
                }.into_any()
            }))}
        </Suspense>
    }
}

#[component]
fn WaitlistTable(entries: Vec<WaitlistEntry>) -> impl IntoView {
    let locale = use_locale();
    if entries.is_empty() {
        return view! { <p class="mt-8 text-slate-600 dark:text-slate-300">{t!(locale, admin.no_waitlist)}</p> }
            .into_any();
    }
    view! {
        <AdminTable test_id="waitlist" heads=vec![Head::text(t!(locale, admin.email)), Head::text(t!(locale, admin.name)), Head::text(t!(locale, admin.source)), Head::text(t!(locale, admin.joined))]>
            {entries.into_iter().map(|entry| view! {
                <tr>
                    <td class=CELL>{entry.email}</td>
                    <td class=CELL>{entry.name.unwrap_or_default()}</td>
                    <td class=CELL>{entry.source.unwrap_or_default()}</td>
                    <td class=format!("{CELL} whitespace-nowrap")>{format_date(entry.joined_at, locale)}</td>
                </tr>
            }).collect_view()}
        </AdminTable>
    }
    .into_any()
}

fn mail_status_label(status: MailStatus, locale: Locale) -> &'static str {
    match status {
        MailStatus::Pending => t!(locale, admin.mail_pending),
        MailStatus::Sent => t!(locale, admin.mail_sent),
        MailStatus::Dead => t!(locale, admin.mail_dead),
    }
}

/// `/admin/mail?status=&after=`.
#[component]
pub fn AdminMailPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let status = move || query.with(|q| q.get("status").and_then(|word| MailStatus::parse(&word)));
    let after = move || query.with(|q| q.get("after"));
    let outbox = Resource::new(
        move || (status(), after()),
        |(status, after)| load_mail_outbox(status, after),
    );
    view! {
        <PageMeta title=t!(locale, admin.nav_mail)/>
        <Suspense fallback=move || loading(locale)>
            {move || outbox.get().map(|answer| loaded(answer, locale, |page| {
                let status = status();
                let href = |after: &str| list_href(MAIL_PATH, &[("status", status.map_or("", MailStatus::as_db)), ("after", after)]);
                view! {
                    <section class="py-12">
                        <AdminNav current=AdminSection::Mail/>
                        <h1 class="text-3xl font-bold tracking-tight">{t!(locale, admin.nav_mail)}</h1>
                        <p class="mt-2 max-w-3xl text-slate-600 dark:text-slate-300">{t!(locale, admin.mail_lead)}</p>
                        <nav class="mt-6 flex gap-2 text-sm" aria-label=t!(locale, admin.status)>
                            {std::iter::once(None).chain(MailStatus::ALL.into_iter().map(Some)).map(|choice| {
                                let here = choice == status;
                                let label = choice.map_or(t!(locale, admin.any), |s| mail_status_label(s, locale));
                                view! {
                                    <a href=list_href(MAIL_PATH, &[("status", choice.map_or("", MailStatus::as_db))])
                                       aria-current=here.then_some("page")
                                       class=if here { "rounded-full bg-amber-400 px-3 py-1 font-medium text-slate-950" } else { "rounded-full border border-slate-300 px-3 py-1 dark:border-slate-700" }>
                                        {label}
                                    </a>
                                }
                            }).collect_view()}
                        </nav>
                        <MailTable messages=page.items/>
                        <Pager first=after().map(|_| href("")) next=page.next.map(|next| href(&next)) test_id="mail-next"/>
                    </section>
                }.into_any()
            }))}
        </Suspense>
    }
}

#[component]
fn MailTable(messages: Vec<OutboxMessage>) -> impl IntoView {
    let locale = use_locale();
    if messages.is_empty() {
        return view! { <p class="mt-8 text-slate-600 dark:text-slate-300">{t!(locale, admin.no_mail)}</p> }
            .into_any();
    }
    let refused = admin_error_for::<RetryMail>().map(|error| error.message(locale));
    view! {
        {refused.map(|message| view! { <Alert kind=AlertKind::Error testid="retry-error">{message}</Alert> })}
        <AdminTable test_id="mail" heads=vec![Head::text(t!(locale, admin.queued)), Head::text(t!(locale, admin.kind)), Head::text(t!(locale, admin.recipient)), Head::text(t!(locale, admin.status)), Head::text(t!(locale, admin.attempts)), Head::text(t!(locale, admin.last_error))]>
            {messages.into_iter().map(|message| view! {
                <tr data-testid="mail-message" data-status=message.status.as_db()>
                    <td class=format!("{CELL} whitespace-nowrap")>{format_datetime(message.queued_at, locale)}</td>
                    <td class=format!("{CELL} font-mono text-xs")>{message.kind}</td>
                    <td class=CELL>
                        <span class="block">{message.recipient}</span>
                        <span class="block text-xs text-slate-500 dark:text-slate-400">{message.subject.unwrap_or_default()}</span>
                    </td>
                    <td class=CELL>{mail_status_label(message.status, locale)}</td>
                    <td class=CELL>{message.attempts}</td>
                    <td class=format!("{CELL} max-w-xs break-words text-xs")>
                        {message.last_error.unwrap_or_default()}
                        {(message.status == MailStatus::Dead).then(|| view! {
                            <form method="post" action=RetryMail::url() class="mt-2">
                                <input type="hidden" name="id" value=message.id.clone()/>
                                <button type="submit" class=button_class(false) data-testid="retry">{t!(locale, admin.retry)}</button>
                            </form>
                        })}
                    </td>
                </tr>
            }).collect_view()}
        </AdminTable>
    }
    .into_any()
}

/// `/admin/ai`.
#[component]
pub fn AdminAiPage() -> impl IntoView {
    let locale = use_locale();
    let usage = Resource::new(|| (), |_| load_ai_usage());
    view! {
        <PageMeta title=t!(locale, admin.ai_title)/>
        <Suspense fallback=move || loading(locale)>
            {move || usage.get().map(|answer| loaded(answer, locale, |report| view! { <AiUsage report/> }.into_any()))}
        </Suspense>
    }
}

#[component]
fn AiUsage(report: AiUsageReport) -> impl IntoView {
    let locale = use_locale();
    let bars = report
        .days
        .iter()
        .map(|day| Bar {
            label: day
                .day
                .rsplit('-')
                .next()
                .unwrap_or_default()
                .trim_start_matches('0')
                .to_string(),
            value: day.tokens,
            tooltip: t!(locale, admin.month_figure)(
                &format_calendar_day(&day.day, locale),
                &format!(
                    "{} {}",
                    count(day.tokens, locale),
                    t!(locale, admin.tokens).to_lowercase()
                ),
            ),
        })
        .collect();
    view! {
        <section class="py-12">
            <AdminNav current=AdminSection::Ai/>
            <h1 class="text-3xl font-bold tracking-tight">{t!(locale, admin.ai_title)}</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, admin.ai_lead)}</p>
            <Card class="mt-8">
                <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{t!(locale, admin.ai_tokens_by_day)}</h2>
                <BarChart title=t!(locale, admin.ai_tokens_by_day) bars axis=count locale test_id="chart-ai-days"/>
            </Card>
            <div class="mt-6 grid gap-6 lg:grid-cols-2">
                <Card>
                    <h2 class="font-semibold">{t!(locale, admin.ai_by_model)}</h2>
                    {if report.models.is_empty() {
                        view! { <p class="mt-3 text-sm text-slate-600 dark:text-slate-300">{t!(locale, admin.ai_nothing)}</p> }.into_any()
                    } else {
                        view! {
                            <AdminTable test_id="ai-models" class="mt-3" heads=vec![Head::text(t!(locale, admin.model)), Head::figure(t!(locale, admin.tokens)), Head::figure(t!(locale, admin.calls))]>
                            {report.models.into_iter().map(|model| view! {
                                <tr>
                                    <td class=CELL><span class="font-mono text-xs">{model.model}</span>" "<span class="text-xs text-slate-500 dark:text-slate-400">{model.provider}</span></td>
                                    <td class=format!("{CELL} text-right")>{count(model.tokens, locale)}</td>
                                    <td class=format!("{CELL} text-right")>{count(model.calls, locale)}</td>
                                </tr>
                            }).collect_view()}
                            </AdminTable>
                        }.into_any()
                    }}
                </Card>
                <Card>
                    <h2 class="font-semibold">{t!(locale, admin.ai_top_users)}</h2>
                    {if report.top_users.is_empty() {
                        view! { <p class="mt-3 text-sm text-slate-600 dark:text-slate-300">{t!(locale, admin.ai_nothing)}</p> }.into_any()
                    } else {
                        view! {
                            <AdminTable test_id="ai-top-users" class="mt-3" heads=vec![Head::text(t!(locale, admin.customer)), Head::text(t!(locale, admin.plan)), Head::figure(t!(locale, admin.tokens))]>
                            {report.top_users.into_iter().map(|user| view! {
                                <tr>
                                    <td class=CELL><TextLink href=format!("/admin/users/{}", user.user_id)>{user.name.unwrap_or(user.email)}</TextLink></td>
                                    <td class=CELL>{user.plan.name()}</td>
                                    <td class=format!("{CELL} text-right")>{count(user.tokens, locale)}</td>
                                </tr>
                            }).collect_view()}
                            </AdminTable>
                        }.into_any()
                    }}
                </Card>
            </div>
        </section>
    }
}
