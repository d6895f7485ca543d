//! Pieces shared by the sign-in pages and the dashboard.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{
    Alert, AlertKind, FieldCheck, FormError, FormField, SubmitButton, TextLink, error_message,
};
use super::ui::{ButtonLink, Card};
use crate::identity::api::SignOut;
use crate::identity::{EmailAddress, FullName, IdentityError, Password};

mod text {
    pub const UNKNOWN_PROBLEM: &str = "That step did not work. Please try again.";
    pub const SIGN_OUT: &str = "Sign out";
    pub const SIGNING_OUT: &str = "Signing out…";
    pub const SIGNED_OUT: &str = "You are not signed in, or your session has ended.";
    pub const SIGN_IN: &str = "Sign in";
    pub const NEXT_TITLE: &str = "What happens next";
}

/// Inline checks with the server's own parsers (for [`super::form::FieldCheck::new`]).
pub fn check_email(raw: &str) -> Option<String> {
    EmailAddress::parse(raw)
        .err()
        .map(|error| error.to_string())
}

/// See [`check_email`]: a new password must satisfy [`Password::parse`].
pub fn check_new_password(raw: &str) -> Option<String> {
    Password::parse(raw).err().map(|error| error.to_string())
}

/// See [`check_email`]: an optional name, checked with [`FullName::parse`].
pub fn check_full_name(raw: &str) -> Option<String> {
    FullName::parse(raw).err().map(|error| error.to_string())
}

/// The fixed message for the error code a server route put in the query (`?error=<code>`) when
/// it redirected here. The query only ever chooses among our own messages: an unknown code
/// shows a generic one, never the code or any other text from the link.
pub fn error_in_query(key: &'static str) -> Signal<Option<String>> {
    let query = use_query_map();
    Signal::derive(move || {
        query.with(|query| {
            query
                .get_str(key)
                .filter(|code| !code.trim().is_empty())
                .map(message_for_code)
        })
    })
}

/// See [`error_in_query`].
pub fn message_for_code(code: &str) -> String {
    IdentityError::from_code(code)
        .map(|error| error.to_string())
        .unwrap_or_else(|| text::UNKNOWN_PROBLEM.to_string())
}

/// What a form shows for its server action's latest error: a field error on its field (in
/// `fields`, by field name, focused), anything else as the form's message, which is returned.
/// Works for the first render too, so a browser without JavaScript sees the same.
pub fn identity_form_error<T>(
    outcome: MappedSignal<Option<Result<T, IdentityError>>>,
    fields: Vec<(&'static str, FieldCheck)>,
) -> Signal<Option<String>>
where
    T: Send + Sync + 'static,
{
    let fields = StoredValue::new(fields);
    let field_of = move |error: &IdentityError| {
        let name = error.field()?;
        fields.with_value(|fields| {
            fields
                .iter()
                .find(|(field, _)| *field == name)
                .map(|(_, check)| *check)
        })
    };
    let mark = move |error: &IdentityError, focus: bool| {
        if let Some(check) = field_of(error) {
            check.show_error(error.to_string());
            if focus {
                check.focus();
            }
        }
    };
    let latest_error = move || outcome.with(|outcome| outcome.as_ref()?.as_ref().err().cloned());
    if let Some(error) = outcome.with_untracked(|outcome| outcome.as_ref()?.as_ref().err().cloned())
    {
        mark(&error, false);
    }
    Effect::new(move |_| {
        if let Some(error) = latest_error() {
            mark(&error, true);
        }
    });
    Signal::derive(move || {
        latest_error()
            .filter(|error| field_of(error).is_none())
            .map(|error| error.to_string())
    })
}

/// A narrow, centred column with a heading and a lead paragraph: the frame of every auth page.
#[component]
pub fn AuthPanel(
    title: &'static str,
    #[prop(optional)] lead: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="mx-auto w-full max-w-md py-12 sm:py-20">
            <Card class="sm:p-8">
                <h1 class="text-2xl font-bold tracking-tight">{title}</h1>
                {lead.map(|lead| view! { <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">{lead}</p> })}
                <div class="mt-6 space-y-6">{children()}</div>
            </Card>
        </section>
    }
}

/// The page after a form that emailed a link: the steps from here, the local-mailbox hint in
/// development, and a way to sign in instead.
#[component]
pub fn CheckEmailPanel(
    title: &'static str,
    lead: &'static str,
    steps: [&'static str; 3],
    question: &'static str,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <AuthPanel title=title lead=lead>
            <div data-testid=testid>
                <h2 class="font-semibold">{text::NEXT_TITLE}</h2>
                <ol class="mt-3 list-decimal space-y-2 pl-5 text-sm text-slate-600 dark:text-slate-300">
                    {steps.map(|step| view! { <li>{step}</li> })}
                </ol>
            </div>
            <crate::pages::dev_mailbox::DevMailboxHint/>
            <AuthPageLink question=question href="/auth/login" label=text::SIGN_IN/>
        </AuthPanel>
    }
}

/// The required `email` input of the sign-in, sign-up and reset forms.
#[component]
pub fn EmailField(
    id: &'static str,
    label: &'static str,
    #[prop(optional_no_strip, into)] check: Option<FieldCheck>,
) -> impl IntoView {
    view! {
        <FormField
            id=id
            name="email"
            label=label
            kind="email"
            autocomplete="email"
            required=true
            check=check
        />
    }
}

/// The required `password` input where a person chooses a password, checked with
/// [`check_new_password`].
#[component]
pub fn NewPasswordField(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    check: FieldCheck,
) -> impl IntoView {
    view! {
        <FormField
            id=id
            name="password"
            label=label
            kind="password"
            autocomplete="new-password"
            hint=hint
            required=true
            check=check
        />
    }
}

/// The line under an auth form that leads to the page next door, e.g. "Already have an
/// account? Sign in".
#[component]
pub fn AuthPageLink(
    question: &'static str,
    href: &'static str,
    label: &'static str,
) -> impl IntoView {
    view! {
        <p class="text-center text-sm text-slate-600 dark:text-slate-300">
            {question}" "<TextLink href=href>{label}</TextLink>
        </p>
    }
}

/// Signs the person out (the server then redirects home); works without WASM too.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let failed = Signal::derive(move || {
        sign_out
            .value()
            .get()
            .and_then(|outcome| outcome.err())
            .map(|error| error_message(&error))
    });
    view! {
        <ActionForm action=sign_out>
            <SubmitButton
                label=text::SIGN_OUT
                pending_label=text::SIGNING_OUT
                pending=sign_out.pending()
                primary=false
                attr:data-testid="sign-out"
            />
        </ActionForm>
        <FormError message=failed/>
    }
}

/// Shown where a page needs a signed-in person and there is none (or loading them failed):
/// why, and a way to sign in that comes back to `next`.
#[component]
pub fn SignInPrompt(
    next: &'static str,
    /// What went wrong, when it was more than "nobody is signed in".
    #[prop(optional)]
    problem: Option<String>,
) -> impl IntoView {
    view! {
        <div class="space-y-4" data-testid="sign-in-prompt">
            <Alert kind=AlertKind::Info>{problem.unwrap_or_else(|| text::SIGNED_OUT.to_string())}</Alert>
            <ButtonLink href=format!("/auth/login?next={next}") primary=true>{text::SIGN_IN}</ButtonLink>
        </div>
    }
}
