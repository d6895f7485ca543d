use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::{
    AuthPageLink, AuthPanel, EmailField, NewPasswordField, check_email, check_full_name,
    check_new_password, identity_form_error, refusal_for,
};
use crate::components::form::{FieldCheck, FormError, FormField, SubmitButton};
use crate::components::form_action::{FormAction, PostForm};
use crate::identity::api::SignUp;

/// Everything the sign-up page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Create your account";
    pub const LEAD: &str = "Start on the Free plan; upgrade whenever you are ready.";
    pub const FULL_NAME: &str = "Full name (optional)";
    pub const EMAIL: &str = "Email";
    pub const PASSWORD: &str = "Password";
    pub const PASSWORD_HINT: &str = "At least 8 characters.";
    pub const SUBMIT: &str = "Create account";
    pub const SUBMITTING: &str = "Creating your account…";
    pub const HAVE_ACCOUNT: &str = "Already have an account?";
    pub const SIGN_IN: &str = "Sign in";
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    view! {
        <Title text=text::TITLE/>
        <AuthPanel title=text::TITLE lead=text::LEAD>
            <SignUpForm/>
            <AuthPageLink question=text::HAVE_ACCOUNT href="/auth/login" label=text::SIGN_IN/>
        </AuthPanel>
    }
}

/// Opens with what the server already said (see [`refusal_for`]).
#[island(lazy)]
fn SignUpForm() -> impl IntoView {
    crate::components::island::announce_awake();
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
                    label=text::FULL_NAME
                    autocomplete="name"
                    check=full_name
                />
                <EmailField id="signup-email" label=text::EMAIL check=email/>
                <NewPasswordField
                    id="signup-password"
                    label=text::PASSWORD
                    hint=text::PASSWORD_HINT
                    check=password
                />
                <SubmitButton
                    label=text::SUBMIT
                    pending_label=text::SUBMITTING
                    pending=sign_up.pending()
                    validates=[full_name, email, password]
                />
            </PostForm>
        </div>
    }
}
