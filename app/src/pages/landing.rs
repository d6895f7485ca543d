use crate::components::layout::PageMeta;
use leptos::prelude::*;

use crate::components::icons::{Icon, Svg};
use crate::components::ui::{Badge, ButtonLink, Card};
use crate::domain::plan::Plan;
use crate::i18n::use_locale;
use crate::pages::outreach::WaitlistForm;
use crate::pages::pricing::{MonthlyPrice, POPULAR, plan_summary};
use crate::t;

/// Icons of the features, in the order of `landing.features`.
const FEATURE_ICONS: [Icon; 6] = [
    Icon::Lock,
    Icon::Card,
    Icon::Shield,
    Icon::Sparkles,
    Icon::Gauge,
    Icon::Bolt,
];

#[component]
pub fn LandingPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <PageMeta title=""/>
        <section class="py-20 text-center sm:py-28">
            <Badge>{t!(locale, landing.eyebrow)}</Badge>
            <h1 class="mx-auto mt-6 max-w-3xl text-4xl font-extrabold tracking-tight sm:text-6xl">
                {t!(locale, landing.headline)}
            </h1>
            <p class="mx-auto mt-6 max-w-2xl text-lg text-slate-600 dark:text-slate-300">{t!(locale, landing.lead)}</p>
            <div class="mt-10 flex flex-col items-center justify-center gap-3 sm:flex-row">
                <ButtonLink href="/pricing" primary=true>{t!(locale, landing.cta_primary)}</ButtonLink>
                <ButtonLink href="/#features">{t!(locale, landing.cta_secondary)}</ButtonLink>
            </div>
        </section>

        <section id="features" aria-labelledby="features-title" class="scroll-mt-20 py-16">
            <h2 id="features-title" class="text-center text-3xl font-bold tracking-tight">{t!(locale, landing.features_title)}</h2>
            <div class="mt-12 grid gap-6 sm:grid-cols-2 lg:grid-cols-3">
                {t!(locale, landing.features).into_iter().zip(FEATURE_ICONS).map(|(feature, icon)| view! {
                    <Card>
                        <Svg icon class="h-7 w-7 text-amber-500"/>
                        <h3 class="mt-4 font-semibold">{feature.title}</h3>
                        <p class="mt-2 text-sm leading-6 text-slate-600 dark:text-slate-300">{feature.body}</p>
                    </Card>
                }).collect_view()}
            </div>
        </section>

        <section id="pricing" aria-labelledby="pricing-title" class="scroll-mt-20 py-16">
            <h2 id="pricing-title" class="text-center text-3xl font-bold tracking-tight">{t!(locale, landing.pricing_title)}</h2>
            <p class="mt-4 text-center text-slate-600 dark:text-slate-300">{t!(locale, landing.pricing_lead)}</p>
            <div class="mt-12 grid gap-6 md:grid-cols-2 lg:grid-cols-4">
                {Plan::ALL.iter().map(|&plan| {
                    let popular = plan == POPULAR;
                    view! {
                        <Card class=if popular { "ring-2 ring-amber-400" } else { "" }>
                            <div class="flex items-center justify-between">
                                <h3 class="font-semibold">{plan.name()}</h3>
                                {popular.then(|| view! { <Badge>{t!(locale, landing.popular)}</Badge> })}
                            </div>
                            <MonthlyPrice plan/>
                            <p class="mt-3 min-h-12 text-sm text-slate-600 dark:text-slate-300">{plan_summary(plan, locale)}</p>
                            <div class="mt-6">
                                <ButtonLink href="/auth/sign-up" primary=popular>{t!(locale, landing.start)}</ButtonLink>
                            </div>
                        </Card>
                    }
                }).collect_view()}
            </div>
        </section>

        <section id="waitlist" aria-labelledby="waitlist-title" class="scroll-mt-20 py-16">
            <div class="mx-auto max-w-2xl">
                <h2 id="waitlist-title" class="text-center text-3xl font-bold tracking-tight">{t!(locale, waitlist.landing_title)}</h2>
                <p class="mt-4 text-center text-slate-600 dark:text-slate-300">{t!(locale, waitlist.landing_lead)}</p>
                <Card class="mt-8">
                    <WaitlistForm page="landing"/>
                </Card>
            </div>
        </section>
    }
}
