//! Pieces shared by the sign-in pages and the dashboard.

use leptos::prelude::*;

use super::form::{Alert, AlertKind, FormError, SubmitButton, error_message};
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

/// A narrow, centred column with a heading and a lead paragraph: the frame of every auth page.
#[component]
pub fn AuthPanel(
    title: &'static str,
    #[prop(optional)] lead: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="mx-auto w-full max-w-md py-12 sm:py-20">
            <div class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm sm:p-8 dark:border-slate-800 dark:bg-slate-900">
                <h1 class="text-2xl font-bold tracking-tight">{title}</h1>
                {lead.map(|lead| view! { <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">{lead}</p> })}
                <div class="mt-6 space-y-6">{children()}</div>
            </div>
        </section>
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
            <a
                href=format!("/auth/login?next={next}")
                class="inline-flex items-center justify-center rounded-md bg-amber-400 px-5 py-2.5 text-sm font-semibold text-slate-950 transition hover:bg-amber-300 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 focus-visible:ring-offset-2 dark:focus-visible:ring-offset-slate-950"
            >
                {text::SIGN_IN}
            </a>
        </div>
    }
}
