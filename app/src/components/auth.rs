//! Pieces shared by the sign-in pages and the dashboard.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::form::{
    Alert, AlertKind, FieldCheck, FormError, FormField, SubmitButton, TextLink, error_message,
};
use super::ui::{ButtonLink, Card};
use crate::identity::api::SignOut;
use crate::identity::{EmailAddress, FullName, Password};

mod text {
    pub const SIGN_OUT: &str = "Sign out";
    pub const SIGNING_OUT: &str = "Signing out…";
    pub const SIGNED_OUT: &str = "You are not signed in, or your session has ended.";
    pub const SIGN_IN: &str = "Sign in";
}

/// Inline checks with the server's own parsers (for [`super::form::FieldCheck::new`]).
pub fn check_email(raw: &str) -> Option<String> {
    EmailAddress::parse(raw).err().map(|error| error.message)
}

/// See [`check_email`]: a new password must satisfy [`Password::parse`].
pub fn check_new_password(raw: &str) -> Option<String> {
    Password::parse(raw).err().map(|error| error.message)
}

/// See [`check_email`]: an optional name, checked with [`FullName::parse`].
pub fn check_full_name(raw: &str) -> Option<String> {
    FullName::parse(raw).err().map(|error| error.message)
}

/// A message a server route put in the query (`key`) when it redirected here; a blank one
/// counts as none. Rendered as text (Leptos escapes it), never as HTML.
pub fn message_in_query(key: &'static str) -> Signal<Option<String>> {
    let query = use_query_map();
    Signal::derive(move || {
        query
            .with(|query| query.get(key))
            .filter(|message| !message.trim().is_empty())
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
