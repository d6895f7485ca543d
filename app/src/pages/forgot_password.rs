use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::auth::{AuthPanel, check_email};
use crate::components::form::{
    FieldCheck, FormError, FormField, FormSuccess, SubmitButton, TextLink, validate_all,
};

/// Everything the forgot-password page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Reset your password";
    pub const LEAD: &str = "Enter the email you signed up with and we will send you a link to \
        choose a new password.";
    pub const EMAIL: &str = "Email";
    pub const SUBMIT: &str = "Email me a reset link";
    pub const SENT: &str = "If an account exists for that email, a reset link is on its way. \
        Open it within the hour to choose a new password.";
    pub const SENT_TITLE: &str = "Check your email";
    pub const REMEMBERED: &str = "Remembered it?";
    pub const SIGN_IN: &str = "Back to sign in";
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let sent = move || query.with(|query| query.get_str("sent") == Some("1"));
    let error = Signal::derive(move || {
        query
            .with(|query| query.get("error"))
            .filter(|message| !message.trim().is_empty())
    });
    let email = FieldCheck::new(check_email);

    view! {
        <Title text=text::TITLE/>
        <AuthPanel title=text::TITLE lead=text::LEAD>
            <Show
                when=sent
                fallback=move || view! {
                    <FormError message=error/>
                    // A plain form: the server's `/auth/forgot-password` route answers it.
                    <form method="post" action="/auth/forgot-password" data-testid="forgot-password-form" class="space-y-4">
                        <FormField
                            id="forgot-email"
                            name="email"
                            label=text::EMAIL
                            kind="email"
                            autocomplete="email"
                            required=true
                            check=email
                        />
                        <SubmitButton
                            label=text::SUBMIT
                            on:click=move |ev| {
                                if !validate_all(&[email]) {
                                    ev.prevent_default();
                                }
                            }
                        />
                    </form>
                }
            >
                <h2 class="font-semibold">{text::SENT_TITLE}</h2>
                <FormSuccess message=Signal::stored(Some(text::SENT.to_string()))/>
            </Show>
            <p class="text-center text-sm text-slate-600 dark:text-slate-300">
                {text::REMEMBERED}" "<TextLink href="/auth/login">{text::SIGN_IN}</TextLink>
            </p>
        </AuthPanel>
    }
}
