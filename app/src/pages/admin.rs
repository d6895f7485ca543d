use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;

use crate::admin::{AdminOverview, api::load_admin_overview};
use crate::components::form::{Alert, AlertKind};
use crate::components::ui::Card;
use crate::i18n::format_idr;
use crate::pages::not_found::NotFound;

/// `/admin`. The server answers 404 to non-admins before this renders; after hydration the
/// data call is guarded the same way, so a non-admin sees the not-found page here too.
#[component]
pub fn AdminPage() -> impl IntoView {
    let locale = use_locale();
    let overview = Resource::new(|| (), |_| load_admin_overview());
    view! {
        <Suspense fallback=move || view! { <p class="py-12 text-slate-500 dark:text-slate-400">{t!(locale, admin.loading)}</p> }>
            {move || overview.get().map(|answer| match answer {
                Ok(Some(overview)) => view! { <Overview overview/> }.into_any(),
                Ok(None) => view! { <NotFound/> }.into_any(),
                Err(error) => view! {
                    <section class="py-12"><Alert kind=AlertKind::Error>{error.message(locale)}</Alert></section>
                }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Figure(label: &'static str, value: String, test_id: &'static str) -> impl IntoView {
    view! {
        <Card>
            <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{label}</h2>
            <p data-testid=test_id class="mt-2 text-2xl font-bold">{value}</p>
        </Card>
    }
}

#[component]
fn Overview(overview: AdminOverview) -> impl IntoView {
    let locale = use_locale();
    view! {
        <PageMeta title=t!(locale, admin.title)/>
        <section class="py-12">
            <h1 class="text-3xl font-bold tracking-tight">{t!(locale, admin.heading)}</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, admin.lead)}</p>
            <div class="mt-10 grid gap-6 md:grid-cols-3">
                <Figure label=t!(locale, admin.revenue) value=format_idr(overview.revenue_idr, locale) test_id="revenue"/>
                <Figure label=t!(locale, admin.paid) value=overview.paid_payments.to_string() test_id="paid"/>
                <Figure label=t!(locale, admin.pending) value=overview.pending_payments.to_string() test_id="pending"/>
            </div>
            <Card class="mt-6">
                <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{t!(locale, admin.active)}</h2>
                <dl class="mt-4 grid grid-cols-2 gap-4 sm:grid-cols-4">
                    {overview.active_by_plan.into_iter().map(|(plan, count)| view! {
                        <div>
                            <dt class="text-sm text-slate-600 dark:text-slate-300">{plan.name()}</dt>
                            <dd class="mt-1 text-xl font-semibold">{count}</dd>
                        </div>
                    }).collect_view()}
                </dl>
            </Card>
        </section>
    }
}
