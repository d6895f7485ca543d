//! The admin area's pages. Rendered on the server only (no island): an admin's browser loads no
//! WASM for them, and every form is a plain form.

mod payments;
mod people;
mod records;
mod system;

pub use payments::{AdminPaymentPage, AdminPaymentsPage, AdminWebhooksPage};
pub use people::{AdminPeoplePage, AdminPersonPage};
pub use records::{AdminAiPage, AdminAuditPage, AdminMailPage, AdminWaitlistPage};
pub use system::AdminSystemPage;

use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::admin::{AdminError, AdminOverview, MonthFigures, api::load_admin_overview};
use crate::components::chart::{Bar, BarChart};
use crate::components::form::{Alert, AlertKind};
use crate::components::island::query_encode;
use crate::components::ui::Card;
use crate::i18n::{Locale, format_count, format_idr, format_month};
use crate::pages::not_found::NotFound;

/// `/admin`. The server answers 404 to non-admins before this renders; after hydration the
/// data call is guarded the same way, so a non-admin sees the not-found page here too.
#[component]
pub fn AdminPage() -> impl IntoView {
    let locale = use_locale();
    let overview = Resource::new(|| (), |_| load_admin_overview());
    view! {
        <Suspense fallback=move || loading(locale)>
            {move || overview.get().map(|answer| loaded(answer, locale, |overview| view! { <Overview overview/> }.into_any()))}
        </Suspense>
    }
}

/// The admin area's sections, for its navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminSection {
    Overview,
    People,
    Payments,
    Webhooks,
    Audit,
    Waitlist,
    Ai,
    Mail,
    System,
}

impl AdminSection {
    const ALL: [AdminSection; 9] = [
        AdminSection::Overview,
        AdminSection::People,
        AdminSection::Payments,
        AdminSection::Webhooks,
        AdminSection::Audit,
        AdminSection::Waitlist,
        AdminSection::Ai,
        AdminSection::Mail,
        AdminSection::System,
    ];

    fn href(self) -> &'static str {
        match self {
            AdminSection::Overview => "/admin",
            AdminSection::People => "/admin/users",
            AdminSection::Payments => "/admin/payments",
            AdminSection::Webhooks => "/admin/webhooks",
            AdminSection::Audit => "/admin/audit",
            AdminSection::Waitlist => "/admin/waitlist",
            AdminSection::Ai => "/admin/ai",
            AdminSection::Mail => "/admin/mail",
            AdminSection::System => "/admin/system",
        }
    }

    fn label(self, locale: crate::i18n::Locale) -> &'static str {
        match self {
            AdminSection::Overview => t!(locale, admin.nav_overview),
            AdminSection::People => t!(locale, admin.nav_people),
            AdminSection::Payments => t!(locale, admin.nav_payments),
            AdminSection::Webhooks => t!(locale, admin.nav_webhooks),
            AdminSection::Audit => t!(locale, admin.nav_audit),
            AdminSection::Waitlist => t!(locale, admin.nav_waitlist),
            AdminSection::Ai => t!(locale, admin.nav_ai),
            AdminSection::Mail => t!(locale, admin.nav_mail),
            AdminSection::System => t!(locale, admin.nav_system),
        }
    }
}

/// The links between the admin sections, `current` marked.
#[component]
pub fn AdminNav(current: AdminSection) -> impl IntoView {
    let locale = use_locale();
    view! {
        <nav aria-label=t!(locale, admin.nav_label) class="mb-8 flex flex-wrap gap-2 text-sm">
            {AdminSection::ALL.into_iter().map(|section| {
                let here = section == current;
                view! {
                    <a
                        href=section.href()
                        aria-current=here.then_some("page")
                        class=if here {
                            "rounded-full bg-slate-900 px-3 py-1 font-medium text-white dark:bg-slate-100 dark:text-slate-900"
                        } else {
                            "rounded-full px-3 py-1 text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
                        }
                    >
                        {section.label(locale)}
                    </a>
                }
            }).collect_view()}
        </nav>
    }
}

const INPUT_CLASS: &str = "block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-950";
const CELL: &str = "py-2 pr-4 align-top";

/// A labelled text (or `kind`) input of a GET filter form.
#[component]
fn TextFilter(
    name: &'static str,
    label: &'static str,
    value: Option<String>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = "text")] kind: &'static str,
) -> impl IntoView {
    view! {
        <label class="text-sm font-medium">
            {label}
            <input type=kind name=name value=value.unwrap_or_default() placeholder=placeholder maxlength="200" class=format!("mt-1 {INPUT_CLASS}")/>
        </label>
    }
}

/// What an admin page shows while its data loads.
fn loading(locale: Locale) -> impl IntoView {
    view! { <p class="py-12 text-slate-500 dark:text-slate-400">{t!(locale, admin.loading)}</p> }
}

/// What an admin page shows for its server function's answer: the page, the ordinary not-found
/// page (to a non-admin, or for a record that does not exist), or the refusal in the admin's
/// language.
fn loaded<T>(
    answer: Result<Option<T>, AdminError>,
    locale: crate::i18n::Locale,
    view_of: impl FnOnce(T) -> AnyView,
) -> AnyView {
    match answer {
        Ok(Some(value)) => view_of(value),
        Ok(None) => view! { <NotFound/> }.into_any(),
        Err(error) => view! {
            <div class="py-6"><Alert kind=AlertKind::Error testid="admin-error">{error.message(locale)}</Alert></div>
        }
        .into_any(),
    }
}

/// A link to the list at `path` with the query `params` (empty values left out).
fn list_href(path: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", query_encode(value)))
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// The refusal a plain (JavaScript-less) post of server function `S` came back with: the
/// server sends the browser back to the page with the error in the address, and renders it.
pub fn admin_error_for<S: ServerFn>() -> Option<AdminError> {
    use_context::<leptos::server::ServerActionError>()
        .filter(|refused| refused.path() == S::PATH)
        .map(|refused| {
            leptos::server_fn::error::ServerFnUrlError::<AdminError>::decode_err(refused.err())
        })
}

#[component]
fn Figure(
    label: &'static str,
    value: String,
    test_id: &'static str,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    view! {
        <Card>
            <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{label}</h2>
            <p data-testid=test_id class="mt-2 text-2xl font-bold">{value}</p>
            {(!hint.is_empty()).then(|| view! { <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">{hint}</p> })}
        </Card>
    }
}

fn count(n: i64, locale: Locale) -> String {
    format_count(n.max(0).unsigned_abs(), locale)
}

/// One bar per month of `figure`, each named in full in its tooltip.
fn month_bars(
    months: &[MonthFigures],
    figure: fn(&MonthFigures) -> i64,
    format: fn(i64, Locale) -> String,
    locale: Locale,
) -> Vec<Bar> {
    months
        .iter()
        .map(|month| Bar {
            // The month alone under its bar (twelve fit side by side); the tooltip names the year.
            label: format_month(&month.starts, locale, true)
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_string(),
            value: figure(month),
            tooltip: t!(locale, admin.month_figure)(
                &format_month(&month.starts, locale, false),
                &format(figure(month), locale),
            ),
        })
        .collect()
}

#[component]
fn MonthChart(
    title: &'static str,
    months: Vec<MonthFigures>,
    figure: fn(&MonthFigures) -> i64,
    format: fn(i64, Locale) -> String,
    test_id: &'static str,
) -> impl IntoView {
    let locale = use_locale();
    view! {
        <Card>
            <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{title}</h2>
            <BarChart title bars=month_bars(&months, figure, format, locale) axis=format locale test_id/>
        </Card>
    }
}

#[component]
fn Overview(overview: AdminOverview) -> impl IntoView {
    let locale = use_locale();
    let months = overview.months;
    view! {
        <PageMeta title=t!(locale, admin.title)/>
        <section class="py-12">
            <AdminNav current=AdminSection::Overview/>
            <h1 class="text-3xl font-bold tracking-tight">{t!(locale, admin.heading)}</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, admin.lead)}</p>
            <div class="mt-10 grid gap-6 sm:grid-cols-2 lg:grid-cols-3">
                <Figure label=t!(locale, admin.revenue_this_month) value=format_idr(overview.revenue_this_month_idr, locale) test_id="revenue-month"/>
                <Figure label=t!(locale, admin.revenue) value=format_idr(overview.revenue_idr, locale) test_id="revenue"/>
                <Figure label=t!(locale, admin.recurring) value=format_idr(overview.mrr_idr, locale) test_id="mrr" hint=t!(locale, admin.recurring_hint)/>
                <Figure label=t!(locale, admin.paid) value=count(overview.paid_payments, locale) test_id="paid"/>
                <Figure label=t!(locale, admin.pending) value=count(overview.pending_payments, locale) test_id="pending"/>
            </div>
            <Card class="mt-6">
                <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{t!(locale, admin.active)}</h2>
                <dl class="mt-4 grid grid-cols-2 gap-4 sm:grid-cols-4">
                    {overview.active_by_plan.into_iter().map(|(plan, n)| view! {
                        <div>
                            <dt class="text-sm text-slate-600 dark:text-slate-300">{plan.name()}</dt>
                            <dd class="mt-1 text-xl font-semibold" data-testid=format!("active-{}", plan.as_db())>{count(n, locale)}</dd>
                        </div>
                    }).collect_view()}
                </dl>
            </Card>
            <div class="mt-6 grid gap-6 lg:grid-cols-2">
                <MonthChart title=t!(locale, admin.revenue_by_month) months=months.clone() figure=|m| m.revenue_idr format=format_idr test_id="chart-revenue"/>
                <MonthChart title=t!(locale, admin.signups_by_month) months=months.clone() figure=|m| m.signups format=count test_id="chart-signups"/>
                <MonthChart title=t!(locale, admin.paying_by_month) months figure=|m| m.paying_users format=count test_id="chart-paying"/>
            </div>
        </section>
    }
}

/// A column head of an [`AdminTable`]; figures align right.
#[derive(Clone, Copy)]
pub struct Head {
    label: &'static str,
    figure: bool,
}

impl Head {
    pub fn text(label: &'static str) -> Self {
        Self {
            label,
            figure: false,
        }
    }

    pub fn figure(label: &'static str) -> Self {
        Self {
            label,
            figure: true,
        }
    }
}

/// The admin pages' table: its heads, then its rows (`<tr>`s) as children. It scrolls sideways
/// on a narrow screen.
#[component]
pub fn AdminTable(
    test_id: &'static str,
    heads: Vec<Head>,
    /// Classes of the scrolling box around it (its margin).
    #[prop(default = "mt-8")]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <div class=format!("{class} overflow-x-auto")>
            <table class="w-full text-left text-sm" data-testid=test_id>
                <thead class="text-slate-500 dark:text-slate-400">
                    <tr>
                        {heads.into_iter().map(|head| view! {
                            <th scope="col" class=if head.figure { "pb-2 pr-4 text-right font-medium" } else { "pb-2 pr-4 font-medium" }>{head.label}</th>
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">{children()}</tbody>
            </table>
        </div>
    }
}
