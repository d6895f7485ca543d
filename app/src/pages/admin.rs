use leptos::prelude::*;
use leptos_meta::Title;

use crate::admin::{AdminOverview, api::load_admin_overview};
use crate::components::form::{Alert, AlertKind, error_message};
use crate::components::ui::Card;
use crate::domain::money::format_idr;
use crate::pages::not_found::NotFound;

/// Everything the admin overview says, in one place for translation.
mod text {
    pub const TITLE: &str = "Admin";
    pub const LOADING: &str = "Loading the numbers…";
    pub const HEADING: &str = "Admin overview";
    pub const LEAD: &str = "Revenue counts paid payments only, in rupiah.";
    pub const REVENUE: &str = "Revenue";
    pub const PAID: &str = "Paid payments";
    pub const PENDING: &str = "Pending payments";
    pub const ACTIVE: &str = "Active subscriptions by plan";
}

/// `/admin`. The server answers 404 to non-admins before this renders; after hydration the
/// data call is guarded the same way, so a non-admin sees the not-found page here too.
#[component]
pub fn AdminPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| load_admin_overview());
    view! {
        <Suspense fallback=|| view! { <p class="py-12 text-slate-500 dark:text-slate-400">{text::LOADING}</p> }>
            {move || overview.get().map(|answer| match answer {
                Ok(Some(overview)) => view! { <Overview overview/> }.into_any(),
                Ok(None) => view! { <NotFound/> }.into_any(),
                Err(error) => view! {
                    <section class="py-12"><Alert kind=AlertKind::Error>{error_message(&error)}</Alert></section>
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
    view! {
        <Title text=text::TITLE/>
        <section class="py-12">
            <h1 class="text-3xl font-bold tracking-tight">{text::HEADING}</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-300">{text::LEAD}</p>
            <div class="mt-10 grid gap-6 md:grid-cols-3">
                <Figure label=text::REVENUE value=format_idr(overview.revenue_idr) test_id="revenue"/>
                <Figure label=text::PAID value=overview.paid_payments.to_string() test_id="paid"/>
                <Figure label=text::PENDING value=overview.pending_payments.to_string() test_id="pending"/>
            </div>
            <Card class="mt-6">
                <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{text::ACTIVE}</h2>
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
