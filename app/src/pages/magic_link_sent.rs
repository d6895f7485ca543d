use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;

use crate::components::auth::CheckEmailPanel;

/// Where the magic-link form leads: the link is sent, now open it.
#[component]
pub fn MagicLinkSentPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <PageMeta title=t!(locale, magic_link_sent.title)/>
        <CheckEmailPanel
            title=t!(locale, magic_link_sent.title)
            lead=t!(locale, magic_link_sent.lead)
            steps=t!(locale, magic_link_sent.steps)
            question=t!(locale, magic_link_sent.other_way)
            testid="magic-link-sent"
        />
    }
}
