use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;

use crate::components::auth::{SignInPrompt, SignOutButton};
use crate::components::ui::{ButtonLink, Card};
use crate::identity::CurrentUser;
use crate::identity::api::load_current_user;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let locale = use_locale();
    let user = Resource::new(|| (), |_| load_current_user());
    view! {
        <PageMeta title=t!(locale, dashboard.title)/>
        <section class="py-12">
            <Suspense fallback=move || view! { <p class="text-slate-500 dark:text-slate-400">{t!(locale, common.loading_account)}</p> }>
                {move || user.get().map(|answer| match answer {
                    Ok(Some(user)) => view! { <Overview user/> }.into_any(),
                    Ok(None) => view! { <SignInPrompt next="/dashboard"/> }.into_any(),
                    Err(error) => view! { <SignInPrompt next="/dashboard" problem=error.message(locale)/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Overview(user: CurrentUser) -> impl IntoView {
    let locale = use_locale();
    let name = user.full_name.clone().unwrap_or_else(|| user.email.clone());
    view! {
        <div class="flex flex-col gap-4 sm:flex-row sm:items-start sm:justify-between">
            <div>
                <h1 data-testid="welcome" class="text-3xl font-bold tracking-tight">{t!(locale, dashboard.welcome)}{name}</h1>
                <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, dashboard.lead)}</p>
            </div>
            <div class="flex items-center gap-3">
                {user.is_admin.then(|| view! { <ButtonLink href="/admin">{t!(locale, dashboard.admin)}</ButtonLink> })}
                <div class="w-32"><SignOutButton/></div>
            </div>
        </div>
        <div class="mt-10 grid gap-6 md:grid-cols-2">
            <Card>
                <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{t!(locale, dashboard.plan_title)}</h2>
                <p data-testid="plan" class="mt-2 text-2xl font-bold">{user.plan.name()}</p>
                <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">{t!(locale, dashboard.plan_lead)}</p>
                <div class="mt-4"><ButtonLink href=crate::billing::BILLING_PAGE>{t!(locale, billing.billing_title)}</ButtonLink></div>
            </Card>
            <Card>
                <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{t!(locale, dashboard.account_title)}</h2>
                <p class="mt-2 break-all font-medium">{user.email.clone()}</p>
                <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">{t!(locale, dashboard.account_lead)}</p>
                <div class="mt-4"><ButtonLink href="/dashboard/settings">{t!(locale, dashboard.settings)}</ButtonLink></div>
            </Card>
            <Card class="md:col-span-2">
                <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{t!(locale, ai.dashboard_title)}</h2>
                <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">{t!(locale, ai.dashboard_lead)}</p>
                <div class="mt-4 flex flex-wrap gap-3" data-testid="dashboard-ai">
                    <ButtonLink href=crate::ai::CHAT_PAGE primary=true>{t!(locale, ai.tab_chat)}</ButtonLink>
                    <ButtonLink href=crate::ai::GENERATE_PAGE>{t!(locale, ai.tab_generate)}</ButtonLink>
                </div>
            </Card>
        </div>
    }
}
