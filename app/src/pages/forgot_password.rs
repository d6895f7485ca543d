use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::auth::{AuthPageLink, AuthPanel, EmailField, check_email, error_in_query};
use crate::components::form::{FieldCheck, FormError, FormSuccess, SubmitButton};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let sent = move || query.with(|query| query.get_str("sent") == Some("1"));
    let error = error_in_query("error");

    view! {
        <PageMeta title=t!(locale, forgot_password.title)/>
        <AuthPanel title=t!(locale, forgot_password.title) lead=t!(locale, forgot_password.lead)>
            <Show
                when=sent
                fallback=move || view! {
                    <FormError message=error/>
                    <ResetRequestForm/>
                }
            >
                <h2 class="font-semibold">{t!(locale, forgot_password.sent_title)}</h2>
                <FormSuccess message=Signal::stored(Some(t!(locale, forgot_password.sent).to_string()))/>
            </Show>
            <AuthPageLink question=t!(locale, forgot_password.remembered) href="/auth/login" label=t!(locale, common.back_to_sign_in)/>
        </AuthPanel>
    }
}

/// A plain form (the server's `/auth/forgot-password` route answers it), checked inline.
#[island(lazy)]
fn ResetRequestForm() -> impl IntoView {
    crate::components::island::announce_awake();
    let locale = use_locale();
    let email = FieldCheck::new(check_email);
    view! {
        <form method="post" action="/auth/forgot-password" data-testid="forgot-password-form" class="space-y-4">
            <EmailField id="forgot-email" label=t!(locale, common.email) check=email/>
            <SubmitButton label=t!(locale, forgot_password.submit) validates=[email]/>
        </form>
    }
}
