use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;

use crate::components::auth::AuthPanel;
use crate::components::ui::ButtonLink;

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <PageMeta title=t!(locale, verify_email.title)/>
        <AuthPanel title=t!(locale, verify_email.title) lead=t!(locale, verify_email.lead)>
            <p class="text-sm text-slate-600 dark:text-slate-300">{t!(locale, verify_email.body)}</p>
            <ButtonLink href="/auth/login" primary=true>{t!(locale, common.back_to_sign_in)}</ButtonLink>
        </AuthPanel>
    }
}
