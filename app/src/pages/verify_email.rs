use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::AuthPanel;
use crate::components::ui::ButtonLink;

/// Everything the "confirm your email" page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Confirm your email";
    pub const LEAD: &str = "Before you can sign in, confirm that this email address is yours.";
    pub const BODY: &str = "Open the email we sent when you signed up and click its \
        confirmation link. The link works once; if it expired, sign up again with the same \
        address to get a new one.";
    pub const SIGN_IN: &str = "Back to sign in";
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    view! {
        <Title text=text::TITLE/>
        <AuthPanel title=text::TITLE lead=text::LEAD>
            <p class="text-sm text-slate-600 dark:text-slate-300">{text::BODY}</p>
            <ButtonLink href="/auth/login" primary=true>{text::SIGN_IN}</ButtonLink>
        </AuthPanel>
    }
}
