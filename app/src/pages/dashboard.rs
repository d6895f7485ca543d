use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::{SignInPrompt, SignOutButton};
use crate::components::form::error_message;
use crate::components::ui::{ButtonLink, Card};
use crate::identity::CurrentUser;
use crate::identity::api::load_current_user;

/// Everything the dashboard says, in one place for translation.
mod text {
    pub const TITLE: &str = "Dashboard";
    pub const LOADING: &str = "Loading your account…";
    pub const WELCOME: &str = "Welcome, ";
    pub const LEAD: &str = "This is your Kilat dashboard.";
    pub const PLAN_TITLE: &str = "Your plan";
    pub const PLAN_LEAD: &str = "Paid plans are coming soon: upgrading, with monthly billing \
        in rupiah, is not open yet. Everything on the Free plan works today.";
    pub const ACCOUNT_TITLE: &str = "Your account";
    pub const ACCOUNT_LEAD: &str = "Change the name we greet you with.";
    pub const SETTINGS: &str = "Account settings";
    pub const ADMIN: &str = "Admin overview";
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let user = Resource::new(|| (), |_| load_current_user());
    view! {
        <Title text=text::TITLE/>
        <section class="py-12">
            <Suspense fallback=|| view! { <p class="text-slate-500 dark:text-slate-400">{text::LOADING}</p> }>
                {move || user.get().map(|answer| match answer {
                    Ok(Some(user)) => view! { <Overview user/> }.into_any(),
                    Ok(None) => view! { <SignInPrompt next="/dashboard"/> }.into_any(),
                    Err(error) => view! { <SignInPrompt next="/dashboard" problem=error_message(&error)/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Overview(user: CurrentUser) -> impl IntoView {
    let name = user.full_name.clone().unwrap_or_else(|| user.email.clone());
    view! {
        <div class="flex flex-col gap-4 sm:flex-row sm:items-start sm:justify-between">
            <div>
                <h1 data-testid="welcome" class="text-3xl font-bold tracking-tight">{text::WELCOME}{name}</h1>
                <p class="mt-2 text-slate-600 dark:text-slate-300">{text::LEAD}</p>
            </div>
            <div class="flex items-center gap-3">
                {user.is_admin.then(|| view! { <ButtonLink href="/admin">{text::ADMIN}</ButtonLink> })}
                <div class="w-32"><SignOutButton/></div>
            </div>
        </div>
        <div class="mt-10 grid gap-6 md:grid-cols-2">
            <Card>
                <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{text::PLAN_TITLE}</h2>
                <p data-testid="plan" class="mt-2 text-2xl font-bold">{user.plan.name()}</p>
                <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">{text::PLAN_LEAD}</p>
            </Card>
            <Card>
                <h2 class="text-sm font-medium text-slate-500 dark:text-slate-400">{text::ACCOUNT_TITLE}</h2>
                <p class="mt-2 break-all font-medium">{user.email.clone()}</p>
                <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">{text::ACCOUNT_LEAD}</p>
                <div class="mt-4"><ButtonLink href="/dashboard/settings">{text::SETTINGS}</ButtonLink></div>
            </Card>
        </div>
    }
}
