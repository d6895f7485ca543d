use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;

use crate::components::auth::{AuthPanel, NewPasswordField, check_new_password, error_in_query};
use crate::components::form::{FieldCheck, FormError, SubmitButton};

#[component]
pub fn UpdatePasswordPage() -> impl IntoView {
    let locale = use_locale();
    let error = error_in_query("error");

    view! {
        <PageMeta title=t!(locale, update_password.title)/>
        <AuthPanel title=t!(locale, update_password.title) lead=t!(locale, update_password.lead)>
            <FormError message=error/>
            <NewPasswordForm/>
        </AuthPanel>
    }
}

/// A plain form (the server's `/auth/update-password` route answers it), checked inline.
#[island(lazy)]
fn NewPasswordForm() -> impl IntoView {
    crate::components::island::announce_awake();
    let locale = use_locale();
    let password = FieldCheck::new(check_new_password);
    view! {
        <form method="post" action="/auth/update-password" data-testid="update-password-form" class="space-y-4">
            <NewPasswordField
                id="update-password"
                label=t!(locale, update_password.password)
                hint=t!(locale, common.password_hint)
                check=password
            />
            <SubmitButton label=t!(locale, update_password.submit) validates=[password]/>
        </form>
    }
}
