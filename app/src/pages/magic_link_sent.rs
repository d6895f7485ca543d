use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::{AuthPageLink, AuthPanel};
use crate::pages::dev_mailbox::DevMailboxHint;

/// Everything the "sign-in link sent" page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Check your email for the sign-in link";
    pub const LEAD: &str = "If the address can receive email, a sign-in link is on its way.";
    pub const NEXT_TITLE: &str = "What happens next";
    pub const STEPS: [&str; 3] = [
        "Open the email from Kilat (check the spam folder if it is not there in a minute).",
        "Open its link in this browser: the link works once, in the browser that asked for it.",
        "You are signed in and land where you were going.",
    ];
    pub const OTHER_WAY: &str = "Rather use your password?";
    pub const SIGN_IN: &str = "Sign in";
}

/// Where the magic-link form leads: the link is sent, now open it.
#[component]
pub fn MagicLinkSentPage() -> impl IntoView {
    view! {
        <Title text=text::TITLE/>
        <AuthPanel title=text::TITLE lead=text::LEAD>
            <div data-testid="magic-link-sent">
                <h2 class="font-semibold">{text::NEXT_TITLE}</h2>
                <ol class="mt-3 list-decimal space-y-2 pl-5 text-sm text-slate-600 dark:text-slate-300">
                    {text::STEPS.map(|step| view! { <li>{step}</li> })}
                </ol>
            </div>
            <DevMailboxHint/>
            <AuthPageLink question=text::OTHER_WAY href="/auth/login" label=text::SIGN_IN/>
        </AuthPanel>
    }
}
