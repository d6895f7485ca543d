use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::ui::{Badge, ButtonLink, Card};
use crate::domain::{
    money::{format_idr, group_thousands},
    plan::Plan,
};

/// Everything the landing page says, in one place for translation.
mod text {
    pub const TITLE: &str = "";
    pub const EYEBROW: &str = "Full-stack Rust · Supabase · Midtrans & DOKU";
    pub const HEADLINE: &str = "Ship your Indonesian SaaS this week, not this quarter";
    pub const LEAD: &str = "Kilat is a production-ready foundation: sign-in, billing in rupiah, \
        an admin dashboard, AI with quotas and rate limits — one Rust app that renders on the \
        server and hydrates in the browser.";
    pub const CTA_PRIMARY: &str = "See pricing";
    pub const CTA_SECONDARY: &str = "Explore features";
    pub const FEATURES_TITLE: &str = "Everything a paying product needs";
    pub const FEATURES: [(&str, &str, &str); 6] = [
        (
            "🔐",
            "Auth that is really Supabase",
            "Email and password, magic links and Google sign-in over Supabase Auth's own protocol, with row-level security guarding every query.",
        ),
        (
            "💳",
            "Billing in rupiah",
            "Midtrans Snap and DOKU Checkout with signed, idempotent webhooks. Only the gateway decides a payment is final.",
        ),
        (
            "🛡️",
            "Admin dashboard",
            "Revenue, subscriptions, roles, webhook events and an append-only audit trail — in the same app.",
        ),
        (
            "🤖",
            "AI with quotas",
            "Streamed chat and one-shot generation on OpenAI or Anthropic, metered per plan every month.",
        ),
        (
            "🚦",
            "Rate limits that hold",
            "Persistent limits in PostgreSQL that stay correct across many server instances.",
        ),
        (
            "⚡",
            "Fast by default",
            "Server-rendered HTML, a small WASM bundle, compressed and cached assets, sub-second cold starts.",
        ),
    ];
    pub const PRICING_TITLE: &str = "Simple monthly plans";
    pub const PRICING_LEAD: &str =
        "Prices in IDR, billed monthly. Upgrade, cancel or resume any time.";
    pub const PER_MONTH: &str = "/ month";
    pub const POPULAR: &str = "Most popular";
    pub const START: &str = "Get started";
}

/// Monthly price shown on the teaser. The server's plan catalogue is what checkout charges.
fn teaser_price(plan: Plan) -> i64 {
    match plan {
        Plan::Free => 0,
        Plan::Basic => 49_000,
        Plan::Pro => 99_000,
        Plan::Ultimate => 249_000,
    }
}

fn plan_summary(plan: Plan) -> String {
    match plan.monthly_ai_tokens() {
        Some(0) => "Everything to try Kilat; no AI tokens.".to_string(),
        Some(tokens) => format!(
            "{} AI tokens a month and higher rate limits.",
            group_thousands(tokens)
        ),
        None => "Unlimited AI tokens and the highest rate limits.".to_string(),
    }
}

#[component]
pub fn LandingPage() -> impl IntoView {
    view! {
        <Title text=text::TITLE/>
        <section class="py-20 text-center sm:py-28">
            <Badge>{text::EYEBROW}</Badge>
            <h1 class="mx-auto mt-6 max-w-3xl text-4xl font-extrabold tracking-tight sm:text-6xl">
                {text::HEADLINE}
            </h1>
            <p class="mx-auto mt-6 max-w-2xl text-lg text-slate-600 dark:text-slate-300">{text::LEAD}</p>
            <div class="mt-10 flex flex-col items-center justify-center gap-3 sm:flex-row">
                <ButtonLink href="/#pricing" primary=true>{text::CTA_PRIMARY}</ButtonLink>
                <ButtonLink href="/#features">{text::CTA_SECONDARY}</ButtonLink>
            </div>
        </section>

        <section id="features" aria-labelledby="features-title" class="scroll-mt-20 py-16">
            <h2 id="features-title" class="text-center text-3xl font-bold tracking-tight">{text::FEATURES_TITLE}</h2>
            <div class="mt-12 grid gap-6 sm:grid-cols-2 lg:grid-cols-3">
                {text::FEATURES.map(|(icon, title, body)| view! {
                    <Card>
                        <div aria-hidden="true" class="text-2xl">{icon}</div>
                        <h3 class="mt-4 font-semibold">{title}</h3>
                        <p class="mt-2 text-sm leading-6 text-slate-600 dark:text-slate-300">{body}</p>
                    </Card>
                })}
            </div>
        </section>

        <section id="pricing" aria-labelledby="pricing-title" class="scroll-mt-20 py-16">
            <h2 id="pricing-title" class="text-center text-3xl font-bold tracking-tight">{text::PRICING_TITLE}</h2>
            <p class="mt-4 text-center text-slate-600 dark:text-slate-300">{text::PRICING_LEAD}</p>
            <div class="mt-12 grid gap-6 md:grid-cols-2 lg:grid-cols-4">
                {Plan::ALL.iter().map(|&plan| {
                    let popular = plan == Plan::Pro;
                    view! {
                        <Card class=if popular { "ring-2 ring-amber-400" } else { "" }>
                            <div class="flex items-center justify-between">
                                <h3 class="font-semibold">{plan.name()}</h3>
                                {popular.then(|| view! { <Badge>{text::POPULAR}</Badge> })}
                            </div>
                            <p class="mt-4">
                                <span class="text-3xl font-bold">{format_idr(teaser_price(plan))}</span>
                                <span class="text-sm text-slate-500 dark:text-slate-400">" "{text::PER_MONTH}</span>
                            </p>
                            <p class="mt-3 min-h-12 text-sm text-slate-600 dark:text-slate-300">{plan_summary(plan)}</p>
                            <div class="mt-6">
                                <ButtonLink href="/auth/sign-up" primary=popular>{text::START}</ButtonLink>
                            </div>
                        </Card>
                    }
                }).collect_view()}
            </div>
        </section>
    }
}
