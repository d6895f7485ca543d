use crate::components::layout::PageMeta;
use leptos::prelude::*;

use crate::components::form::{Alert, AlertKind};
use crate::components::ui::Card;
use crate::i18n::{Locale, use_locale};
use crate::status::{FeatureState, StatusReport, load_status};
use crate::t;

/// `/status`: the service's health for people, from the same measurements as `/api/health`.
#[component]
pub fn StatusPage() -> impl IntoView {
    let locale = use_locale();
    let report = Resource::new(|| (), |_| load_status());
    view! {
        <PageMeta title=t!(locale, status.title) description=t!(locale, status.lead)/>
        <section class="mx-auto max-w-2xl py-16">
            <h1 class="text-3xl font-bold tracking-tight">{t!(locale, status.title)}</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, status.lead)}</p>
            <Suspense fallback=move || view! { <p class="mt-8 text-slate-500 dark:text-slate-400">{t!(locale, status.loading)}</p> }>
                {move || report.get().map(|answer| match answer {
                    Ok(report) => view! { <Report report/> }.into_any(),
                    Err(error) => view! {
                        <div class="mt-8"><Alert kind=AlertKind::Error>{error.message(locale)}</Alert></div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// The measurements as people read them (also on `/admin/system`).
#[component]
pub(crate) fn Report(
    report: StatusReport,
    /// Classes of its box (its margin).
    #[prop(default = "mt-8")]
    class: &'static str,
) -> impl IntoView {
    let locale = use_locale();
    let (kind, summary) = if report.healthy() {
        (AlertKind::Success, t!(locale, status.all_good))
    } else {
        (AlertKind::Error, t!(locale, status.degraded))
    };
    let database = match (report.database_ok, report.database_latency_ms) {
        (true, Some(ms)) => t!(locale, status.database_ok)(ms),
        (true, None) => t!(locale, status.database_ok)(0.0),
        (false, _) => t!(locale, status.database_down).to_string(),
    };
    let migrations = match report.migrations_pending {
        Some(0) => t!(locale, status.migrations_current)(report.migrations_applied.unwrap_or(0)),
        Some(pending) => t!(locale, status.migrations_pending)(pending),
        None => t!(locale, status.unknown).to_string(),
    };
    view! {
        <div class=format!("{class} space-y-6") data-testid="status">
            <Alert kind=kind testid="status-summary">{summary}</Alert>
            <Card>
                <dl class="space-y-3 text-sm">
                    <Row label=t!(locale, status.database) value=database/>
                    <Row label=t!(locale, status.migrations) value=migrations/>
                </dl>
            </Card>
            <Card>
                <h2 class="font-semibold">{t!(locale, status.features)}</h2>
                <dl class="mt-4 space-y-3 text-sm">
                    {report.features.into_iter().map(|feature| view! {
                        <Row label=feature_name(&feature.name, locale) value=state_name(feature.state, locale).to_string()/>
                    }).collect_view()}
                </dl>
            </Card>
        </div>
    }
}

#[component]
fn Row(#[prop(into)] label: String, value: String) -> impl IntoView {
    view! {
        <div class="flex justify-between gap-4">
            <dt class="text-slate-600 dark:text-slate-300">{label}</dt>
            <dd class="text-right font-medium">{value}</dd>
        </div>
    }
}

pub(crate) fn feature_name(name: &str, locale: Locale) -> String {
    match name {
        "auth" => t!(locale, status.feature_auth),
        "waitlist" => t!(locale, status.feature_waitlist),
        "contact" => t!(locale, status.feature_contact),
        "payments" => t!(locale, status.feature_payments),
        "admin" => t!(locale, status.feature_admin),
        "ai" => t!(locale, status.feature_ai),
        other => return other.to_string(),
    }
    .to_string()
}

fn state_name(state: FeatureState, locale: Locale) -> &'static str {
    match state {
        FeatureState::Ready => t!(locale, status.ready),
        FeatureState::LocalStandIn => t!(locale, status.local_stand_in),
        FeatureState::TurnedOff => t!(locale, status.turned_off),
        FeatureState::NotConfigured => t!(locale, status.not_configured),
    }
}
