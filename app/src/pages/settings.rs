use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::{
    EmailField, NewPasswordField, SignInPrompt, SignOutButton, check_email, check_full_name,
    check_new_password, identity_form_error, refusal_for,
};
use crate::components::form::{
    FieldCheck, FormError, FormField, FormSuccess, SubmitButton, TextLink, error_message,
};
use crate::components::form_action::{FormAction, PostForm};
use crate::components::island::query_value;
use crate::components::ui::Card;
use crate::identity::api::{ChangeEmail, ChangePassword, UpdateFullName, load_current_user};
use crate::identity::{CurrentUser, EmailChangeOutcome};

/// Everything the settings page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Account settings";
    pub const LEAD: &str = "How Kilat knows you.";
    pub const LOADING: &str = "Loading your account…";
    pub const PROFILE_TITLE: &str = "Profile";
    pub const FULL_NAME: &str = "Full name";
    pub const FULL_NAME_HINT: &str = "Optional. Leave it empty to be greeted by your email.";
    pub const EMAIL: &str = "Email";
    pub const EMAIL_HINT: &str = "Your sign-in address. Change it below.";
    pub const SUBMIT: &str = "Save changes";
    pub const SUBMITTING: &str = "Saving…";
    pub const SAVED: &str = "Saved. Your profile is up to date.";
    pub const SESSION_TITLE: &str = "Session";
    pub const SESSION_LEAD: &str = "Sign out of Kilat in this browser.";
    pub const BACK: &str = "← Back to the dashboard";
    pub const EMAIL_TITLE: &str = "Email address";
    pub const EMAIL_LEAD: &str = "We email a link to the new address (and one to your current address); the change takes effect once you open them.";
    pub const NEW_EMAIL: &str = "New email address";
    pub const EMAIL_SUBMIT: &str = "Change email";
    pub const EMAIL_SUBMITTING: &str = "Sending links…";
    pub const EMAIL_LINKS_SENT: &str = "Check your inbox: open the link we sent to your new address, and the one sent to your current address if you got one.";
    pub const EMAIL_CHANGED_NOW: &str = "Your email address is changed.";
    pub const EMAIL_CHANGED: &str = "Your email address is changed. Sign in with it from now on.";
    pub const EMAIL_HALF_CONFIRMED: &str =
        "One link confirmed. Open the link we sent to your other address to finish the change.";
    pub const PASSWORD_TITLE: &str = "Password";
    pub const PASSWORD_LEAD: &str = "Enter your current password, then choose a new one.";
    pub const CURRENT_PASSWORD: &str = "Current password";
    pub const NEW_PASSWORD: &str = "New password";
    pub const NEW_PASSWORD_HINT: &str = "At least 8 characters.";
    pub const PASSWORD_SUBMIT: &str = "Change password";
    pub const PASSWORD_SUBMITTING: &str = "Changing…";
    pub const PASSWORD_CHANGED: &str = "Password changed. Use the new one next time you sign in.";
    pub const FORGOT: &str = "Forgot your current password? Reset it by email";
}

/// The fixed message for a `?notice=` code the server's redirects put here.
fn notice_message(code: &str) -> Option<&'static str> {
    match code {
        "email_changed" => Some(text::EMAIL_CHANGED),
        "email_half_confirmed" => Some(text::EMAIL_HALF_CONFIRMED),
        _ => None,
    }
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
    // For the profile island's first render on the server (see `ProfileCard`).
    provide_context(user);
    view! {
        <div class="space-y-6">
            <ProfileCard/>
            <ChangeEmailCard/>
            <ChangePasswordCard/>
            <Card>
                <h2 class="text-lg font-semibold">{text::SESSION_TITLE}</h2>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-300">{text::SESSION_LEAD}</p>
                <div class="mt-4 sm:w-48"><SignOutButton/></div>
            </Card>
        </div>
    }
}

/// The name Kilat greets the person with (their email shown beside it, read-only). The server
/// renders both from the signed-in person (context); they are only initial input values, which
/// hydration leaves as the server wrote them, so the browser needs no copy.
#[island(lazy)]
fn ProfileCard() -> impl IntoView {
    crate::components::island::announce_awake();
    let (email, full_name) = use_context::<CurrentUser>()
        .map(|user| (user.email, user.full_name.unwrap_or_default()))
        .unwrap_or_default();
    let refused = refusal_for::<UpdateFullName>();
    let update = FormAction::<UpdateFullName>::new();
    let check = FieldCheck::new(check_full_name);
    let error = identity_form_error(update, refused.clone(), vec![("full_name", check)]);
    let saved = update.success_message(text::SAVED);

    view! {
        <SettingsCard title=text::PROFILE_TITLE error done=saved>
            // Outside the form: shown, never sent.
            <FormField
                id="settings-email"
                name="email"
                label=text::EMAIL
                kind="email"
                autocomplete="email"
                value=email
                hint=text::EMAIL_HINT
                readonly=true
            />
            <PostForm action=update refused attr:data-testid="settings-form" attr:class="space-y-4">
                <FormField
                    id="settings-full-name"
                    name="full_name"
                    label=text::FULL_NAME
                    autocomplete="name"
                    value=full_name
                    hint=text::FULL_NAME_HINT
                    check=check
                />
                <div class="sm:w-48">
                    <SubmitButton
                        label=text::SUBMIT
                        pending_label=text::SUBMITTING
                        pending=update.pending()
                        validates=[check]
                    />
                </div>
            </PostForm>
        </SettingsCard>
    }
}

/// One settings section: a titled card with its form's error and success alerts.
#[component]
fn SettingsCard(
    title: &'static str,
    #[prop(optional)] lead: Option<&'static str>,
    error: Signal<Option<String>>,
    done: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <Card>
            <h2 class="text-lg font-semibold">{title}</h2>
            {lead.map(|lead| view! { <p class="mt-1 text-sm text-slate-600 dark:text-slate-300">{lead}</p> })}
            <div class="mt-4 space-y-4">
                <FormError message=error/>
                <FormSuccess message=done/>
                {children()}
            </div>
        </Card>
    }
}

/// The signed-in person asks for a new address; Supabase confirms it through emailed links,
/// which come back to this page with a `?notice=` code (only a code of ours shows, as its
/// message: never the link's own text).
#[island(lazy)]
fn ChangeEmailCard() -> impl IntoView {
    crate::components::island::announce_awake();
    let notice = query_value("notice");
    let refused = refusal_for::<ChangeEmail>();
    let change = FormAction::<ChangeEmail>::new();
    let email = FieldCheck::new(check_email);
    let error = identity_form_error(change, refused.clone(), vec![("email", email)]);
    let done = Signal::derive(move || {
        if change.version().get() == 0 {
            return notice
                .as_deref()
                .and_then(notice_message)
                .map(str::to_string);
        }
        if change.pending().get() {
            return None;
        }
        let outcome = change.value().with(|answer| {
            let name = answer.as_ref()?.as_ref().ok()?.string.as_deref()?;
            EmailChangeOutcome::from_wire_name(name)
        });
        match outcome? {
            EmailChangeOutcome::LinksSent => Some(text::EMAIL_LINKS_SENT.to_string()),
            EmailChangeOutcome::Changed => Some(text::EMAIL_CHANGED_NOW.to_string()),
        }
    });
    view! {
        <SettingsCard title=text::EMAIL_TITLE lead=text::EMAIL_LEAD error done>
                <PostForm action=change refused=refused.clone() attr:data-testid="email-form" attr:class="space-y-4">
                    <EmailField id="settings-new-email" label=text::NEW_EMAIL check=email/>
                    <div class="sm:w-48">
                        <SubmitButton
                            label=text::EMAIL_SUBMIT
                            pending_label=text::EMAIL_SUBMITTING
                            pending=change.pending()
                            validates=[email]
                        />
                    </div>
                </PostForm>
        </SettingsCard>
    }
    .into_any()
}

/// A new password, proven with the current one.
#[island(lazy)]
fn ChangePasswordCard() -> impl IntoView {
    crate::components::island::announce_awake();
    let refused = refusal_for::<ChangePassword>();
    let change = FormAction::<ChangePassword>::new();
    let current = FieldCheck::new(|raw| {
        raw.is_empty()
            .then(|| crate::identity::FieldError::CurrentPasswordMissing.to_string())
    });
    let new = FieldCheck::new(check_new_password);
    let error = identity_form_error(
        change,
        refused.clone(),
        vec![("current_password", current), ("password", new)],
    );
    let done = change.success_message(text::PASSWORD_CHANGED);
    view! {
        <SettingsCard title=text::PASSWORD_TITLE lead=text::PASSWORD_LEAD error done>
                <PostForm action=change refused attr:data-testid="password-form" attr:class="space-y-4">
                    <FormField
                        id="settings-current-password"
                        name="current_password"
                        label=text::CURRENT_PASSWORD
                        kind="password"
                        autocomplete="current-password"
                        required=true
                        check=current
                    />
                    <NewPasswordField
                        id="settings-new-password"
                        label=text::NEW_PASSWORD
                        hint=text::NEW_PASSWORD_HINT
                        check=new
                    />
                    <div class="flex flex-col gap-3 sm:flex-row sm:items-center">
                        <div class="sm:w-48">
                            <SubmitButton
                                label=text::PASSWORD_SUBMIT
                                pending_label=text::PASSWORD_SUBMITTING
                                pending=change.pending()
                                validates=[current, new]
                            />
                        </div>
                        <TextLink href="/auth/forgot-password">{text::FORGOT}</TextLink>
                    </div>
                </PostForm>
        </SettingsCard>
    }
    .into_any()
}
