use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::CheckEmailPanel;

/// Everything the "sign-in link sent" page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Check your email for the sign-in link";
    pub const LEAD: &str = "If the address can receive email, a sign-in link is on its way.";
    pub const STEPS: [&str; 3] = [
        "Open the email from Kilat (check the spam folder if it is not there in a minute).",
        "Open its link in this browser: the link works once, in the browser that asked for it.",
        "You are signed in and land where you were going.",
    ];
    pub const OTHER_WAY: &str = "Rather use your password?";
}

/// Where the magic-link form leads: the link is sent, now open it.
#[component]
pub fn MagicLinkSentPage() -> impl IntoView {
    view! {
        <Title text=text::TITLE/>
        <CheckEmailPanel
            title=text::TITLE
            lead=text::LEAD
            steps=text::STEPS
            question=text::OTHER_WAY
            testid="magic-link-sent"
        />
    }
}
