use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::auth::{AuthPageLink, AuthPanel, EmailField, check_email, error_in_query};
use crate::components::form::{FieldCheck, FormError, FormSuccess, SubmitButton};

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
    let error = error_in_query("error");

    view! {
        <Title text=text::TITLE/>
        <AuthPanel title=text::TITLE lead=text::LEAD>
            <Show
                when=sent
                fallback=move || view! {
                    <FormError message=error/>
                    <ResetRequestForm/>
                }
            >
                <h2 class="font-semibold">{text::SENT_TITLE}</h2>
                <FormSuccess message=Signal::stored(Some(text::SENT.to_string()))/>
            </Show>
            <AuthPageLink question=text::REMEMBERED href="/auth/login" label=text::SIGN_IN/>
        </AuthPanel>
    }
}

/// A plain form (the server's `/auth/forgot-password` route answers it), checked inline.
#[island(lazy)]
fn ResetRequestForm() -> impl IntoView {
    crate::components::island::announce_awake();
    let email = FieldCheck::new(check_email);
    view! {
        <form method="post" action="/auth/forgot-password" data-testid="forgot-password-form" class="space-y-4">
            <EmailField id="forgot-email" label=text::EMAIL check=email/>
            <SubmitButton label=text::SUBMIT validates=[email]/>
        </form>
    }
}
