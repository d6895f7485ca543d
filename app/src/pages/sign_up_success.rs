use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::CheckEmailPanel;

/// Everything the "check your email" page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Check your email";
    pub const LEAD: &str = "Your account is almost ready. We sent you an email with a link to \
        confirm your address.";
    pub const STEPS: [&str; 3] = [
        "Open the email from Kilat (check the spam folder if it is not there in a minute).",
        "Click the confirmation link: it confirms your address and signs you in.",
        "You land on your dashboard, on the Free plan.",
    ];
    pub const ALREADY: &str = "Already confirmed?";
}

#[component]
pub fn SignUpSuccessPage() -> impl IntoView {
    view! {
        <Title text=text::TITLE/>
        <CheckEmailPanel
            title=text::TITLE
            lead=text::LEAD
            steps=text::STEPS
            question=text::ALREADY
        />
    }
}
