use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;

use crate::components::auth::CheckEmailPanel;

#[component]
pub fn SignUpSuccessPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <PageMeta title=t!(locale, sign_up_success.title)/>
        <CheckEmailPanel
            title=t!(locale, sign_up_success.title)
            lead=t!(locale, sign_up_success.lead)
            steps=t!(locale, sign_up_success.steps)
            question=t!(locale, sign_up_success.already)
        />
    }
}
