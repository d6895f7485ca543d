use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;

use crate::components::auth::{AuthPanel, error_in_query};
use crate::components::form::{Alert, AlertKind};
use crate::components::ui::ButtonLink;

#[component]
pub fn AuthErrorPage() -> impl IntoView {
    let locale = use_locale();
    // A code only (`?error=link_expired`): the page never shows words taken from the link.
    let message = error_in_query("error");
    let message = move || {
        message
            .get()
            .unwrap_or_else(|| t!(locale, auth_error.generic).to_string())
    };
    view! {
        <PageMeta title=t!(locale, auth_error.title)/>
        <AuthPanel title=t!(locale, auth_error.title)>
            <Alert kind=AlertKind::Error testid="form-error">{message}</Alert>
            <ButtonLink href="/auth/login" primary=true>{t!(locale, common.back_to_sign_in)}</ButtonLink>
        </AuthPanel>
    }
}
