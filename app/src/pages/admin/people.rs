//! `/admin/users` (search, newest first, paged) and `/admin/users/:id` (a person: profile, plan,
//! payments, AI usage, audit trail; role change and a manual plan grant). Rendered on the server
//! only; the forms are plain forms posting to the admin server functions, which send the
//! browser back here.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    AdminNav, AdminSection, AdminTable, CELL, Head, INPUT_CLASS, admin_error_for, list_href,
    loaded, loading, payments::PaymentRow,
};
use crate::admin::api::{GrantPlan, SetUserRole, load_people, load_person};
use crate::admin::people::{Person, PersonLine, PersonPayment, REASON_MAX_CHARS};
use crate::admin::records::AuditRecord;
use crate::components::form::{Alert, AlertKind, TextLink};
use crate::components::layout::PageMeta;
use crate::components::ui::{Card, button_class};
use crate::domain::{AppRole, Plan};
use crate::i18n::{Locale, format_count, format_date, format_datetime, use_locale};
use crate::t;

const PEOPLE_PATH: &str = "/admin/users";

fn role_name(role: AppRole, locale: Locale) -> &'static str {
    match role {
        AppRole::Admin => t!(locale, admin.role_admin),
        AppRole::Member => t!(locale, admin.role_member),
    }
}

/// A link to the people list for `search`, from cursor `after`.
fn people_href(search: &str, after: Option<&str>) -> String {
    list_href(
        PEOPLE_PATH,
        &[("q", search), ("after", after.unwrap_or_default())],
    )
}

/// `/admin/users?q=&after=`.
#[component]
pub fn AdminPeoplePage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let search = move || query.with(|q| q.get("q").unwrap_or_default());
    let after = move || query.with(|q| q.get("after"));
    let people = Resource::new(
        move || (search(), after()),
        |(search, after)| load_people(search, after),
    );
    view! {
        <PageMeta title=t!(locale, admin.people_title)/>
        <Suspense fallback=move || loading(locale)>
            {move || people.get().map(|answer| loaded(answer, locale, |page| view! {
                    <section class="py-12">
                        <AdminNav current=AdminSection::People/>
                        <h1 class="text-3xl font-bold tracking-tight">{t!(locale, admin.people_title)}</h1>
                        <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, admin.people_lead)}</p>
                        <form method="get" action=PEOPLE_PATH class="mt-6 flex max-w-xl items-end gap-3" role="search">
                            <label class="flex-1 text-sm font-medium">
                                {t!(locale, admin.search_label)}
                                <input
                                    type="search"
                                    name="q"
                                    value=search()
                                    maxlength=crate::admin::people::SEARCH_MAX_CHARS
                                    placeholder=t!(locale, admin.search_placeholder)
                                    class=format!("mt-1 {INPUT_CLASS}")
                                    data-testid="people-search"
                                />
                            </label>
                            <button type="submit" class=button_class(true)>{t!(locale, admin.search_button)}</button>
                        </form>
                        <PeopleTable people=page.items/>
                        <nav class="mt-4 flex gap-6 text-sm">
                            {after().map(|_| view! { <TextLink href=people_href(&search(), None)>{t!(locale, admin.first_page)}</TextLink> })}
                            {page.next.map(|next| view! {
                                <span data-testid="people-next"><TextLink href=people_href(&search(), Some(&next))>{t!(locale, admin.next_page)}</TextLink></span>
                            })}
                        </nav>
                    </section>
                }.into_any()))}
        </Suspense>
    }
}

#[component]
fn PeopleTable(people: Vec<PersonLine>) -> impl IntoView {
    let locale = use_locale();
    if people.is_empty() {
        return view! { <p class="mt-8 text-slate-600 dark:text-slate-300">{t!(locale, admin.no_people)}</p> }
            .into_any();
    }
    view! {
        <AdminTable test_id="people" heads=vec![Head::text(t!(locale, admin.email)), Head::text(t!(locale, admin.name)), Head::text(t!(locale, admin.plan)), Head::text(t!(locale, admin.role)), Head::text(t!(locale, admin.joined))]>
            {people.into_iter().map(|person| view! {
                <tr>
                    <td class=CELL><TextLink href=format!("{PEOPLE_PATH}/{}", person.id)>{person.email}</TextLink></td>
                    <td class=CELL>{person.name.unwrap_or_default()}</td>
                    <td class=CELL>{person.plan.name()}</td>
                    <td class=CELL>{role_name(person.role, locale)}</td>
                    <td class=format!("{CELL} whitespace-nowrap")>{format_date(person.joined_at, locale)}</td>
                </tr>
            }).collect_view()}
        </AdminTable>
    }
    .into_any()
}

/// `/admin/users/:id`.
#[component]
pub fn AdminPersonPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let person = Resource::new(
        move || params.with(|p| p.get("id").unwrap_or_default()),
        load_person,
    );
    view! {
        <PageMeta title=t!(locale, admin.person_title)/>
        <Suspense fallback=move || loading(locale)>
            {move || person.get().map(|answer| loaded(answer, locale, |person| view! { <PersonView person/> }.into_any()))}
        </Suspense>
    }
}

#[component]
fn Fact(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <dt class="text-slate-500 dark:text-slate-400">{label}</dt>
        <dd class="min-w-0 break-words font-medium">{children()}</dd>
    }
}

#[component]
fn PersonView(person: Person) -> impl IntoView {
    let locale = use_locale();
    let initial = person
        .name
        .as_deref()
        .unwrap_or(&person.email)
        .chars()
        .next()
        .unwrap_or('?')
        .to_uppercase()
        .to_string();
    let allowance = person.ai_allowance.map_or_else(
        || t!(locale, admin.unlimited).to_string(),
        |tokens| format_count(tokens, locale),
    );
    let used = format_count(person.ai_tokens_this_month.max(0).unsigned_abs(), locale);
    view! {
        <section class="py-12" data-testid="person">
            <AdminNav current=AdminSection::People/>
            <TextLink href=PEOPLE_PATH>{t!(locale, admin.back_to_people)}</TextLink>
            <div class="mt-6 flex items-center gap-4">
                {match person.avatar_url.clone() {
                    Some(url) => view! { <img src=url alt="" class="size-16 rounded-full object-cover"/> }.into_any(),
                    None => view! {
                        <span class="flex size-16 items-center justify-center rounded-full bg-amber-100 text-2xl font-bold text-amber-900 dark:bg-amber-400/15 dark:text-amber-300">{initial}</span>
                    }.into_any(),
                }}
                <div class="min-w-0">
                    <h1 class="truncate text-2xl font-bold tracking-tight">{person.name.clone().unwrap_or_else(|| person.email.clone())}</h1>
                    <p class="truncate text-slate-600 dark:text-slate-300" data-testid="person-email">{person.email.clone()}</p>
                </div>
            </div>
            <div class="mt-8 grid gap-6 lg:grid-cols-2">
                <Card>
                    <dl class="grid grid-cols-2 gap-y-3 text-sm">
                        <Fact label=t!(locale, admin.role)><span data-testid="person-role">{role_name(person.role, locale)}</span></Fact>
                        <Fact label=t!(locale, admin.joined)>{format_datetime(person.joined_at, locale)}</Fact>
                        <Fact label=t!(locale, admin.last_sign_in)>
                            {person.last_sign_in_at.map_or_else(|| t!(locale, admin.never).to_string(), |at| format_datetime(at, locale))}
                        </Fact>
                        <Fact label=t!(locale, admin.language)>{person.locale.clone().unwrap_or_else(|| "—".into())}</Fact>
                    </dl>
                </Card>
                <Card>
                    <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{t!(locale, admin.subscription)}</h2>
                    <dl class="mt-3 grid grid-cols-2 gap-y-3 text-sm">
                        <Fact label=t!(locale, admin.plan)><span data-testid="person-plan">{person.plan.name()}</span></Fact>
                        <Fact label=t!(locale, admin.status)>{person.subscription_status.as_db()}</Fact>
                        <Fact label=t!(locale, admin.period_end)>
                            <span data-testid="person-period-end">{person.period_end.map_or_else(|| "—".to_string(), |end| format_date(end, locale))}</span>
                        </Fact>
                        <Fact label=t!(locale, admin.ai_this_month)>{t!(locale, admin.ai_used_of)(&used, &allowance)}</Fact>
                    </dl>
                    {person.cancel_at_period_end.then(|| view! {
                        <p class="mt-3 text-sm text-amber-700 dark:text-amber-300">{t!(locale, admin.ends_at_period_end)}</p>
                    })}
                </Card>
            </div>
            <div class="mt-6 grid gap-6 lg:grid-cols-2">
                <RoleForm id=person.id.clone() role=person.role/>
                <GrantForm id=person.id.clone() plan=person.plan/>
            </div>
            <PaymentsCard payments=person.payments/>
            <AuditCard entries=person.audit/>
        </section>
    }
}

/// The refusal a plain post of `S` came back with, in `locale`.
fn refusal<S: ServerFn>(locale: Locale) -> Option<&'static str> {
    admin_error_for::<S>().map(|error| error.message(locale))
}

#[component]
fn RoleForm(id: String, role: AppRole) -> impl IntoView {
    let locale = use_locale();
    view! {
        <Card>
            <form method="post" action=SetUserRole::url() class="space-y-3" data-testid="role-form">
                {refusal::<SetUserRole>(locale).map(|message| view! { <Alert kind=AlertKind::Error testid="role-error">{message}</Alert> })}
                <input type="hidden" name="id" value=id/>
                <label class="block text-sm font-medium">
                    {t!(locale, admin.change_role)}
                    <select name="role" class=format!("mt-1 {INPUT_CLASS}")>
                        {AppRole::ALL.iter().map(|option| view! {
                            <option value=option.as_db() selected=*option == role>{role_name(*option, locale)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class=button_class(false)>{t!(locale, admin.save_role)}</button>
            </form>
        </Card>
    }
}

#[component]
fn GrantForm(id: String, plan: Plan) -> impl IntoView {
    let locale = use_locale();
    let chosen = if plan == Plan::Free { Plan::Pro } else { plan };
    view! {
        <Card>
            <form method="post" action=GrantPlan::url() class="space-y-3" data-testid="grant-form">
                <h2 class="font-semibold">{t!(locale, admin.grant_title)}</h2>
                <p class="text-sm text-slate-600 dark:text-slate-300">{t!(locale, admin.grant_lead)}</p>
                {refusal::<GrantPlan>(locale).map(|message| view! { <Alert kind=AlertKind::Error testid="grant-error">{message}</Alert> })}
                <input type="hidden" name="id" value=id/>
                <label class="block text-sm font-medium">
                    {t!(locale, admin.plan)}
                    <select name="plan" class=format!("mt-1 {INPUT_CLASS}")>
                        {Plan::PAID.iter().map(|option| view! {
                            <option value=option.as_db() selected=*option == chosen>{option.name()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="block text-sm font-medium">
                    {t!(locale, admin.grant_reason)}
                    <textarea name="reason" required maxlength=REASON_MAX_CHARS rows="2" class=format!("mt-1 {INPUT_CLASS}")></textarea>
                </label>
                <button type="submit" class=button_class(true)>{t!(locale, admin.grant_button)}</button>
            </form>
        </Card>
    }
}

#[component]
fn PaymentsCard(payments: Vec<PersonPayment>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <Card class="mt-6">
            <h2 class="font-semibold">{t!(locale, admin.payments_title)}</h2>
            {if payments.is_empty() {
                view! { <p class="mt-3 text-sm text-slate-600 dark:text-slate-300">{t!(locale, admin.no_payments)}</p> }.into_any()
            } else {
                view! {
                    <AdminTable test_id="person-payments" class="mt-3" heads=vec![Head::text(t!(locale, admin.date)), Head::text(t!(locale, admin.order)), Head::text(t!(locale, admin.gateway)), Head::text(t!(locale, admin.plan)), Head::figure(t!(locale, admin.amount)), Head::text(t!(locale, admin.status))]>
                        {payments.into_iter().map(|payment| view! {
                            <PaymentRow
                                id=payment.id
                                order_id=payment.order_id
                                created_at=payment.created_at
                                provider=payment.provider
                                plan=payment.plan
                                amount=payment.amount
                                status=payment.status
                            />
                        }).collect_view()}
                    </AdminTable>
                }.into_any()
            }}
        </Card>
    }
}

#[component]
fn AuditCard(entries: Vec<AuditRecord>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <Card class="mt-6">
            <h2 class="font-semibold">{t!(locale, admin.audit_title)}</h2>
            {if entries.is_empty() {
                view! { <p class="mt-3 text-sm text-slate-600 dark:text-slate-300">{t!(locale, admin.no_audit)}</p> }.into_any()
            } else {
                view! { <AuditTable entries/> }.into_any()
            }}
        </Card>
    }
}

/// Audit entries as a table, each entry's details folded under it.
#[component]
pub fn AuditTable(entries: Vec<AuditRecord>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <AdminTable test_id="audit" class="mt-3" heads=vec![Head::text(t!(locale, admin.date)), Head::text(t!(locale, admin.action)), Head::text(t!(locale, admin.actor)), Head::text(t!(locale, admin.target)), Head::text(t!(locale, admin.details))]>
            {entries.into_iter().map(|entry| view! {
                <tr>
                    <td class=format!("{CELL} whitespace-nowrap")>{format_datetime(entry.at, locale)}</td>
                    <td class=format!("{CELL} font-mono text-xs")>{entry.action}</td>
                    <td class=CELL>{entry.actor_email.unwrap_or_else(|| t!(locale, admin.system_actor).to_string())}</td>
                    <td class=format!("{CELL} font-mono text-xs")>
                        {format!("{}:{}", entry.target_type.unwrap_or_default(), entry.target_id.unwrap_or_default())}
                    </td>
                    <td class=CELL>
                        <details>
                            <summary class="cursor-pointer text-slate-500 dark:text-slate-400">{t!(locale, admin.details)}</summary>
                            <pre class="mt-2 max-w-md overflow-x-auto whitespace-pre-wrap break-all rounded bg-slate-100 p-2 text-xs dark:bg-slate-950">{entry.metadata}</pre>
                        </details>
                    </td>
                </tr>
            }).collect_view()}
        </AdminTable>
    }
}
