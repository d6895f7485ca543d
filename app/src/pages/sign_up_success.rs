use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::{AuthPageLink, AuthPanel};
use crate::pages::dev_mailbox::DevMailboxHint;

/// Everything the "check your email" page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Check your email";
    pub const LEAD: &str = "Your account is almost ready. We sent you an email with a link to \
        confirm your address.";
    pub const NEXT_TITLE: &str = "What happens next";
    pub const STEPS: [&str; 3] = [
        "Open the email from Kilat (check the spam folder if it is not there in a minute).",
        "Click the confirmation link: it confirms your address and signs you in.",
        "You land on your dashboard, on the Free plan.",
    ];
    pub const ALREADY: &str = "Already confirmed?";
    pub const SIGN_IN: &str = "Sign in";
}

#[component]
pub fn SignUpSuccessPage() -> impl IntoView {
    view! {
        <Title text=text::TITLE/>
        <AuthPanel title=text::TITLE lead=text::LEAD>
            <div>
                <h2 class="font-semibold">{text::NEXT_TITLE}</h2>
                <ol class="mt-3 list-decimal space-y-2 pl-5 text-sm text-slate-600 dark:text-slate-300">
                    {text::STEPS.map(|step| view! { <li>{step}</li> })}
                </ol>
            </div>
            <DevMailboxHint/>
            <AuthPageLink question=text::ALREADY href="/auth/login" label=text::SIGN_IN/>
        </AuthPanel>
    }
}
