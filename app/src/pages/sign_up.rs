use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;

use crate::components::auth::{
    AuthPageLink, AuthPanel, EmailField, NewPasswordField, check_email, check_full_name,
    check_new_password, identity_form_error, refusal_for,
};
use crate::components::form::{FieldCheck, FormError, FormField, SubmitButton};
use crate::components::form_action::{FormAction, PostForm};
use crate::identity::api::SignUp;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <PageMeta title=t!(locale, sign_up.title)/>
        <AuthPanel title=t!(locale, sign_up.title) lead=t!(locale, sign_up.lead)>
            <SignUpForm/>
            <AuthPageLink question=t!(locale, sign_up.have_account) href="/auth/login" label=t!(locale, common.sign_in)/>
        </AuthPanel>
    }
}

/// Opens with what the server already said (see [`refusal_for`]).
#[island(lazy)]
fn SignUpForm() -> impl IntoView {
    crate::components::island::announce_awake();
    let locale = use_locale();
    let refused = refusal_for::<SignUp>();
    let sign_up = FormAction::<SignUp>::new();
    let full_name = FieldCheck::new(check_full_name);
    let email = FieldCheck::new(check_email);
    let password = FieldCheck::new(check_new_password);
    let error = identity_form_error(
        sign_up,
        refused.clone(),
        vec![
            ("full_name", full_name),
            ("email", email),
            ("password", password),
        ],
    );

    view! {
        <div class="space-y-6">
            <FormError message=error/>
            <PostForm action=sign_up refused attr:data-testid="signup-form" attr:class="space-y-4">
                <FormField
                    id="signup-full-name"
                    name="full_name"
                    label=t!(locale, sign_up.full_name)
                    autocomplete="name"
                    check=full_name
                />
                <EmailField id="signup-email" label=t!(locale, common.email) check=email/>
                <NewPasswordField
                    id="signup-password"
                    label=t!(locale, common.password)
                    hint=t!(locale, common.password_hint)
                    check=password
                />
                <SubmitButton
                    label=t!(locale, sign_up.submit)
                    pending_label=t!(locale, sign_up.submitting)
                    pending=sign_up.pending()
                    validates=[full_name, email, password]
                />
            </PostForm>
        </div>
    }
}
