use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::{SignInPrompt, SignOutButton, check_full_name, identity_form_error};
use crate::components::form::{
    FieldCheck, FormError, FormField, FormSuccess, SubmitButton, TextLink, error_message,
};
use crate::components::ui::Card;
use crate::identity::CurrentUser;
use crate::identity::api::{UpdateFullName, load_current_user};

/// Everything the settings page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Account settings";
    pub const LEAD: &str = "How Kilat knows you.";
    pub const LOADING: &str = "Loading your account…";
    pub const PROFILE_TITLE: &str = "Profile";
    pub const FULL_NAME: &str = "Full name";
    pub const FULL_NAME_HINT: &str = "Optional. Leave it empty to be greeted by your email.";
    pub const EMAIL: &str = "Email";
    pub const EMAIL_HINT: &str = "Your sign-in address; it cannot be changed here.";
    pub const SUBMIT: &str = "Save changes";
    pub const SUBMITTING: &str = "Saving…";
    pub const SAVED: &str = "Saved. Your profile is up to date.";
    pub const SESSION_TITLE: &str = "Session";
    pub const SESSION_LEAD: &str = "Sign out of Kilat in this browser.";
    pub const BACK: &str = "← Back to the dashboard";
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let user = Resource::new(|| (), |_| load_current_user());
    view! {
        <Title text=text::TITLE/>
        <section class="mx-auto max-w-2xl py-12">
            <TextLink href="/dashboard">{text::BACK}</TextLink>
            <h1 class="mt-4 text-3xl font-bold tracking-tight">{text::TITLE}</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-300">{text::LEAD}</p>
            <div class="mt-8">
                <Suspense fallback=|| view! { <p class="text-slate-500 dark:text-slate-400">{text::LOADING}</p> }>
                    {move || user.get().map(|answer| match answer {
                        Ok(Some(user)) => view! { <Settings user/> }.into_any(),
                        Ok(None) => view! { <SignInPrompt next="/dashboard/settings"/> }.into_any(),
                        Err(error) => view! { <SignInPrompt next="/dashboard/settings" problem=error_message(&error)/> }.into_any(),
                    })}
                </Suspense>
            </div>
        </section>
    }
}

#[component]
fn Settings(user: CurrentUser) -> impl IntoView {
    let update = ServerAction::<UpdateFullName>::new();
    let full_name = FieldCheck::new(check_full_name);
    let outcome = move || {
        if update.pending().get() {
            None
        } else {
            update.value().get()
        }
    };
    let error = identity_form_error(update.value(), vec![("full_name", full_name)]);
    let saved = Signal::derive(move || {
        outcome()
            .is_some_and(|outcome| outcome.is_ok())
            .then(|| text::SAVED.to_string())
    });

    view! {
        <div class="space-y-6">
            <Card>
                <h2 class="text-lg font-semibold">{text::PROFILE_TITLE}</h2>
                <div class="mt-4 space-y-4">
                    <FormError message=error/>
                    <FormSuccess message=saved/>
                    // Outside the form: shown, never sent.
                    <FormField
                        id="settings-email"
                        name="email"
                        label=text::EMAIL
                        kind="email"
                        autocomplete="email"
                        value=user.email.clone()
                        hint=text::EMAIL_HINT
                        readonly=true
                    />
                    <ActionForm action=update attr:data-testid="settings-form" attr:class="space-y-4">
                        <FormField
                            id="settings-full-name"
                            name="full_name"
                            label=text::FULL_NAME
                            autocomplete="name"
                            value=user.full_name.clone().unwrap_or_default()
                            hint=text::FULL_NAME_HINT
                            check=full_name
                        />
                        <div class="sm:w-48">
                            <SubmitButton
                                label=text::SUBMIT
                                pending_label=text::SUBMITTING
                                pending=update.pending()
                                validates=[full_name]
                            />
                        </div>
                    </ActionForm>
                </div>
            </Card>
            <Card>
                <h2 class="text-lg font-semibold">{text::SESSION_TITLE}</h2>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-300">{text::SESSION_LEAD}</p>
                <div class="mt-4 sm:w-48"><SignOutButton/></div>
            </Card>
        </div>
    }
}
