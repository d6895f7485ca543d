use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::{AuthPanel, error_in_query};
use crate::components::form::{Alert, AlertKind};
use crate::components::ui::ButtonLink;

/// Everything the sign-in error page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Sign-in problem";
    pub const GENERIC: &str = "We could not complete that sign-in step. The link may have \
        expired or been used already. Please try again.";
    pub const SIGN_IN: &str = "Back to sign in";
}

#[component]
pub fn AuthErrorPage() -> impl IntoView {
    // A code only (`?error=link_expired`): the page never shows words taken from the link.
    let message = error_in_query("error");
    let message = move || message.get().unwrap_or_else(|| text::GENERIC.to_string());
    view! {
        <Title text=text::TITLE/>
        <AuthPanel title=text::TITLE>
            <Alert kind=AlertKind::Error testid="form-error">{message}</Alert>
            <ButtonLink href="/auth/login" primary=true>{text::SIGN_IN}</ButtonLink>
        </AuthPanel>
    }
}
