mod avatar;

use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;

use crate::components::auth::{
    EmailField, NewPasswordField, SignInPrompt, SignOutButton, check_email, check_full_name,
    check_new_password, identity_form_error, refusal_for,
};
use crate::components::form::{
    FieldCheck, FormError, FormField, FormSuccess, SubmitButton, TextLink,
};
use crate::components::form_action::{FormAction, PostForm};
use crate::components::island::query_value;
use crate::components::ui::Card;
use crate::identity::api::{ChangeEmail, ChangePassword, UpdateFullName, load_current_user};
use crate::identity::{CurrentUser, EmailChangeOutcome};

/// The fixed message for a `?notice=` code the server's redirects put here.
fn notice_message(code: &str) -> Option<&'static str> {
    let locale = use_locale();
    match code {
        "email_changed" => Some(t!(locale, settings.email_changed)),
        "email_half_confirmed" => Some(t!(locale, settings.email_half_confirmed)),
        _ => None,
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let locale = use_locale();
    let user = Resource::new(|| (), |_| load_current_user());
    view! {
        <PageMeta title=t!(locale, settings.title)/>
        <section class="mx-auto max-w-2xl py-12">
            <TextLink href="/dashboard">{t!(locale, settings.back)}</TextLink>
            <h1 class="mt-4 text-3xl font-bold tracking-tight">{t!(locale, settings.title)}</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-300">{t!(locale, settings.lead)}</p>
            <div class="mt-8">
                <Suspense fallback=move || view! { <p class="text-slate-500 dark:text-slate-400">{t!(locale, common.loading_account)}</p> }>
                    {move || user.get().map(|answer| match answer {
                        Ok(Some(user)) => view! { <Settings user/> }.into_any(),
                        Ok(None) => view! { <SignInPrompt next="/dashboard/settings"/> }.into_any(),
                        Err(error) => view! { <SignInPrompt next="/dashboard/settings" problem=error.message(locale)/> }.into_any(),
                    })}
                </Suspense>
            </div>
        </section>
    }
}

#[component]
fn Settings(user: CurrentUser) -> impl IntoView {
    let locale = use_locale();
    // For the profile island's first render on the server (see `ProfileCard`).
    provide_context(user.clone());
    view! {
        <div class="space-y-6">
            <avatar::AvatarCard user/>
            <ProfileCard/>
            <ChangeEmailCard/>
            <ChangePasswordCard/>
            <Card>
                <h2 class="text-lg font-semibold">{t!(locale, settings.session_title)}</h2>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-300">{t!(locale, settings.session_lead)}</p>
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
    let locale = use_locale();
    let (email, full_name) = use_context::<CurrentUser>()
        .map(|user| (user.email, user.full_name.unwrap_or_default()))
        .unwrap_or_default();
    let refused = refusal_for::<UpdateFullName>();
    let update = FormAction::<UpdateFullName>::new();
    let check = FieldCheck::new(check_full_name);
    let error = identity_form_error(update, refused.clone(), vec![("full_name", check)]);
    let saved = update.success_message(t!(locale, settings.saved));

    view! {
        <SettingsCard title=t!(locale, settings.profile_title) error done=saved>
            // Outside the form: shown, never sent.
            <FormField
                id="settings-email"
                name="email"
                label=t!(locale, common.email)
                kind="email"
                autocomplete="email"
                value=email
                hint=t!(locale, settings.email_hint)
                readonly=true
            />
            <PostForm action=update refused attr:data-testid="settings-form" attr:class="space-y-4">
                <FormField
                    id="settings-full-name"
                    name="full_name"
                    label=t!(locale, settings.full_name)
                    autocomplete="name"
                    value=full_name
                    hint=t!(locale, settings.full_name_hint)
                    check=check
                />
                <div class="sm:w-48">
                    <SubmitButton
                        label=t!(locale, settings.submit)
                        pending_label=t!(locale, settings.submitting)
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
    let locale = use_locale();
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
            EmailChangeOutcome::LinksSent => {
                Some(t!(locale, settings.email_links_sent).to_string())
            }
            EmailChangeOutcome::Changed => Some(t!(locale, settings.email_changed_now).to_string()),
        }
    });
    view! {
        <SettingsCard title=t!(locale, settings.email_title) lead=t!(locale, settings.email_lead) error done>
                <PostForm action=change refused=refused.clone() attr:data-testid="email-form" attr:class="space-y-4">
                    <EmailField id="settings-new-email" label=t!(locale, settings.new_email) check=email/>
                    <div class="sm:w-48">
                        <SubmitButton
                            label=t!(locale, settings.email_submit)
                            pending_label=t!(locale, settings.email_submitting)
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
    let locale = use_locale();
    let refused = refusal_for::<ChangePassword>();
    let change = FormAction::<ChangePassword>::new();
    let current = FieldCheck::new(|raw| {
        raw.is_empty().then(|| {
            crate::identity::FieldError::CurrentPasswordMissing
                .message(use_locale())
                .to_string()
        })
    });
    let new = FieldCheck::new(check_new_password);
    let error = identity_form_error(
        change,
        refused.clone(),
        vec![("current_password", current), ("password", new)],
    );
    let done = change.success_message(t!(locale, settings.password_changed));
    view! {
        <SettingsCard title=t!(locale, settings.password_title) lead=t!(locale, settings.password_lead) error done>
                <PostForm action=change refused attr:data-testid="password-form" attr:class="space-y-4">
                    <FormField
                        id="settings-current-password"
                        name="current_password"
                        label=t!(locale, settings.current_password)
                        kind="password"
                        autocomplete="current-password"
                        required=true
                        check=current
                    />
                    <NewPasswordField
                        id="settings-new-password"
                        label=t!(locale, settings.new_password)
                        hint=t!(locale, common.password_hint)
                        check=new
                    />
                    <div class="flex flex-col gap-3 sm:flex-row sm:items-center">
                        <div class="sm:w-48">
                            <SubmitButton
                                label=t!(locale, settings.password_submit)
                                pending_label=t!(locale, settings.password_submitting)
                                pending=change.pending()
                                validates=[current, new]
                            />
                        </div>
                        <TextLink href="/auth/forgot-password">{t!(locale, settings.forgot)}</TextLink>
                    </div>
                </PostForm>
        </SettingsCard>
    }
    .into_any()
}
