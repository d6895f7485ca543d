use crate::components::layout::PageMeta;
use leptos::prelude::*;

use crate::components::form::{Alert, AlertKind};
use crate::components::icons::{Icon, Svg};
use crate::components::ui::{Badge, ButtonLink, Card};
use crate::domain::{Plan, PlanCatalogue};
use crate::i18n::{Locale, format_count, format_idr, use_locale};
use crate::t;

/// The plan everyone is pointed at.
pub const POPULAR: Plan = Plan::Pro;

/// What a plan's AI allowance means, in one line.
pub fn plan_summary(plan: Plan, locale: Locale) -> String {
    match PlanCatalogue::current().monthly_ai_tokens(plan) {
        Some(0) => t!(locale, landing.plan_without_ai).to_string(),
        Some(tokens) => t!(locale, landing.plan_with_tokens)(&format_count(tokens, locale)),
        None => t!(locale, landing.plan_unlimited).to_string(),
    }
}

/// A plan's price a month, as shown: `Rp 99.000 / bulan`.
#[component]
pub fn MonthlyPrice(plan: Plan) -> impl IntoView {
    let locale = use_locale();
    view! {
        <p class="mt-4">
            <span class="text-3xl font-bold">{format_idr(PlanCatalogue::current().monthly_price_idr(plan), locale)}</span>
            <span class="text-sm text-slate-500 dark:text-slate-400">" "{t!(locale, common.per_month)}</span>
        </p>
    }
}

/// `/pricing`: the plans side by side, from the one price catalogue (`PlanCatalogue`).
#[component]
pub fn PricingPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <PageMeta title=t!(locale, pricing.title) description=t!(locale, pricing.lead)/>
        <section class="py-16">
            <h1 class="text-center text-4xl font-extrabold tracking-tight">{t!(locale, pricing.title)}</h1>
            <p class="mx-auto mt-4 max-w-2xl text-center text-slate-600 dark:text-slate-300">{t!(locale, pricing.lead)}</p>
            <div class="mx-auto mt-8 max-w-3xl">
                <Alert kind=AlertKind::Info>{t!(locale, pricing.payment_note)}</Alert>
            </div>
            <div class="mt-10 grid gap-6 md:grid-cols-2 lg:grid-cols-4" data-testid="plans">
                {Plan::ALL.iter().map(|&plan| view! { <PlanColumn plan/> }).collect_view()}
            </div>
        </section>
    }
}

#[component]
fn PlanColumn(plan: Plan) -> impl IntoView {
    let locale = use_locale();
    let popular = plan == POPULAR;
    let free = plan == Plan::Free;
    let included = [
        t!(locale, pricing.sign_in).to_string(),
        t!(locale, pricing.dashboard).to_string(),
        plan_summary(plan, locale),
        if free {
            t!(locale, pricing.rate_limits)
        } else {
            t!(locale, pricing.higher_limits)
        }
        .to_string(),
    ];
    view! {
        <Card class=if popular { "flex flex-col ring-2 ring-amber-400" } else { "flex flex-col" }>
            <div class="flex items-center justify-between">
                <h2 class="text-lg font-semibold">{plan.name()}</h2>
                {popular.then(|| view! { <Badge>{t!(locale, landing.popular)}</Badge> })}
            </div>
            <MonthlyPrice plan/>
            <h3 class="mt-6 text-sm font-medium text-slate-500 dark:text-slate-400">{t!(locale, pricing.included)}</h3>
            <ul class="mt-2 flex-1 space-y-2 text-sm text-slate-700 dark:text-slate-300">
                {included.map(|line| view! {
                    <li class="flex gap-2"><Svg icon=Icon::Check class="mt-0.5 h-4 w-4 shrink-0 text-amber-500"/>{line}</li>
                })}
            </ul>
            <div class="mt-6">
                <ButtonLink
                    href=if free { "/auth/sign-up".to_string() } else { format!("/checkout?plan={}", plan.as_db()) }
                    primary=popular
                >
                    {if free { t!(locale, pricing.start_free) } else { t!(locale, pricing.start) }}
                </ButtonLink>
            </div>
        </Card>
    }
}
