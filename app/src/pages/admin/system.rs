//! `/admin/system`: the health measurements in detail, what each feature lacks, and the
//! background jobs' latest runs.

use leptos::prelude::*;

use super::{AdminNav, AdminSection, AdminTable, CELL, Head, loaded, loading};
use crate::admin::system::{
    BackgroundJob, Environment, JobHealth, JobStatus, MigrationDrift, MigrationName, SystemReport,
    load_system_report,
};
use crate::components::form::{Alert, AlertKind};
use crate::components::layout::PageMeta;
use crate::components::ui::Card;
use crate::i18n::{Locale, format_datetime, use_locale};
use crate::pages::status::{Report, feature_name};
use crate::t;

#[component]
pub fn AdminSystemPage() -> impl IntoView {
    let locale = use_locale();
    let report = Resource::new(|| (), |_| load_system_report());
    view! {
        <PageMeta title=t!(locale, admin.nav_system)/>
        <Suspense fallback=move || loading(locale)>
            {move || report.get().map(|answer| loaded(answer, locale, |report| view! { <System report/> }.into_any()))}
        </Suspense>
    }
}

#[component]
fn System(report: SystemReport) -> impl IntoView {
    let locale = use_locale();
    view! {
        <section class="py-12">
            <AdminNav current=AdminSection::System/>
            <h1 class="text-3xl font-bold tracking-tight">{t!(locale, admin.nav_system)}</h1>
            <p class="mt-2 max-w-3xl text-slate-600 dark:text-slate-300">{t!(locale, admin.system_lead)}</p>
            <p class="mt-4 text-sm text-slate-600 dark:text-slate-300">
                {t!(locale, admin.environment)}": "
                <span class="font-medium text-slate-900 dark:text-slate-100" data-testid="environment">{match report.environment {
                    Environment::Development => t!(locale, admin.environment_development),
                    Environment::Production => t!(locale, admin.environment_production),
                }}</span>
            </p>
            <div class="mt-6 grid gap-6 lg:grid-cols-2">
                <Report report=report.status class=""/>
                <div class="space-y-6">
                    <Schema drift=report.migrations/>
                    {(!report.missing.is_empty()).then(|| view! {
                        <Card>
                            <h2 class="font-semibold">{t!(locale, admin.missing_settings)}</h2>
                            <dl class="mt-4 space-y-3 text-sm" data-testid="missing-settings">
                                {report.missing.into_iter().map(|missing| view! {
                                    <div>
                                        <dt class="text-slate-600 dark:text-slate-300">{feature_name(&missing.feature, locale)}</dt>
                                        <dd class="mt-1 break-words font-mono text-xs">{missing.env.join(", ")}</dd>
                                    </div>
                                }).collect_view()}
                            </dl>
                        </Card>
                    })}
                </div>
            </div>
            <h2 class="mt-10 text-xl font-semibold">{t!(locale, admin.jobs_title)}</h2>
            <p class="mt-2 max-w-3xl text-sm text-slate-600 dark:text-slate-300">{t!(locale, admin.jobs_lead)}</p>
            {match report.jobs {
                None => view! {
                    <div class="mt-4"><Alert kind=AlertKind::Error testid="jobs-unreadable">{t!(locale, admin.jobs_unreadable)}</Alert></div>
                }.into_any(),
                Some(jobs) => view! {
                    <AdminTable test_id="jobs" class="mt-4" heads=vec![
                        Head::text(t!(locale, admin.job)),
                        Head::text(t!(locale, admin.status)),
                        Head::text(t!(locale, admin.last_run)),
                        Head::text(t!(locale, admin.last_success)),
                        Head::text(t!(locale, admin.last_failure)),
                        Head::text(t!(locale, admin.last_error)),
                    ]>
                        {jobs.into_iter().map(|job| view! { <JobRow job/> }).collect_view()}
                    </AdminTable>
                }.into_any(),
            }}
        </section>
    }
}

/// Which migrations differ from this build's, by name (nothing when none does: the status
/// report says the schema is up to date).
#[component]
fn Schema(drift: Option<MigrationDrift>) -> impl IntoView {
    let locale = use_locale();
    let body = match drift {
        Some(drift) if drift.is_current() => return None,
        None => {
            view! { <Alert kind=AlertKind::Error>{t!(locale, admin.schema_unreadable)}</Alert> }
                .into_any()
        }
        Some(drift) => {
            let unknown: Vec<MigrationName> = drift
                .unknown_applied
                .iter()
                .map(|version| MigrationName {
                    version: *version,
                    description: String::new(),
                })
                .collect();
            view! {
                <Alert kind=AlertKind::Error>{t!(locale, admin.schema_drift)}</Alert>
                <Migrations title=t!(locale, admin.schema_pending) list=drift.pending/>
                <Migrations title=t!(locale, admin.schema_changed) list=drift.changed/>
                <Migrations title=t!(locale, admin.schema_unknown) list=unknown/>
            }
            .into_any()
        }
    };
    Some(view! {
        <Card>
            <h2 class="font-semibold">{t!(locale, admin.schema)}</h2>
            <div class="mt-4 text-sm" data-testid="schema">{body}</div>
        </Card>
    })
}

#[component]
fn Migrations(title: &'static str, list: Vec<MigrationName>) -> impl IntoView {
    (!list.is_empty()).then(|| {
        view! {
            <h3 class="mt-4 font-medium">{title}</h3>
            <ul class="mt-2 space-y-1 font-mono text-xs">
                {list.into_iter().map(|migration| view! {
                    <li>{migration.version}" "{migration.description}</li>
                }).collect_view()}
            </ul>
        }
    })
}

#[component]
fn JobRow(job: JobStatus) -> impl IntoView {
    let locale = use_locale();
    let when = move |at: Option<i64>| {
        at.map_or_else(
            || t!(locale, admin.never).to_string(),
            |at| format_datetime(at, locale),
        )
    };
    let (look, health) = match job.health {
        JobHealth::Working => (
            "text-emerald-700 dark:text-emerald-300",
            t!(locale, admin.job_working),
        ),
        JobHealth::Failing => (
            "text-red-700 dark:text-red-300",
            t!(locale, admin.job_failing),
        ),
        JobHealth::Late => (
            "text-amber-700 dark:text-amber-300",
            t!(locale, admin.job_late),
        ),
        JobHealth::NeverRan => (
            "text-slate-500 dark:text-slate-400",
            t!(locale, admin.job_never_ran),
        ),
        JobHealth::Off => (
            "text-slate-500 dark:text-slate-400",
            t!(locale, admin.job_off),
        ),
    };
    view! {
        <tr data-testid=format!("job-{}", job.job.as_str())>
            <td class=CELL>
                <span class="font-medium">{job_name(job.job, locale)}</span>
                <span class="block text-xs text-slate-500 dark:text-slate-400">{t!(locale, admin.job_every)(job.every_secs)}</span>
            </td>
            <td class=format!("{CELL} font-medium {look}") data-testid="job-health">{health}</td>
            <td class=format!("{CELL} whitespace-nowrap")>{when(job.last_run_at)}</td>
            <td class=format!("{CELL} whitespace-nowrap")>{when(job.last_success_at)}</td>
            <td class=format!("{CELL} whitespace-nowrap")>{when(job.last_failure_at)}</td>
            <td class=format!("{CELL} max-w-md break-words font-mono text-xs")>{job.last_error}</td>
        </tr>
    }
}

fn job_name(job: BackgroundJob, locale: Locale) -> &'static str {
    match job {
        BackgroundJob::PaymentReconciliation => t!(locale, admin.job_reconcile),
        BackgroundJob::SubscriptionLapse => t!(locale, admin.job_lapse),
        BackgroundJob::MailDelivery => t!(locale, admin.job_mail),
        BackgroundJob::RenewalReminders => t!(locale, admin.job_reminders),
        BackgroundJob::Housekeeping => t!(locale, admin.job_housekeeping),
    }
}
