use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::auth::{AuthPanel, NewPasswordField, check_new_password, error_in_query};
use crate::components::form::{FieldCheck, FormError, SubmitButton};

/// Everything the update-password page says, in one place for translation.
mod text {
    pub const TITLE: &str = "Choose a new password";
    pub const LEAD: &str = "Pick a password you do not use anywhere else. You sign in with it \
        from now on.";
    pub const PASSWORD: &str = "New password";
    pub const PASSWORD_HINT: &str = "At least 8 characters.";
    pub const SUBMIT: &str = "Update password";
}

#[component]
pub fn UpdatePasswordPage() -> impl IntoView {
    let error = error_in_query("error");

    view! {
        <Title text=text::TITLE/>
        <AuthPanel title=text::TITLE lead=text::LEAD>
            <FormError message=error/>
            <NewPasswordForm/>
        </AuthPanel>
    }
}

/// A plain form (the server's `/auth/update-password` route answers it), checked inline.
#[island(lazy)]
fn NewPasswordForm() -> impl IntoView {
    crate::components::island::announce_awake();
    let password = FieldCheck::new(check_new_password);
    view! {
        <form method="post" action="/auth/update-password" data-testid="update-password-form" class="space-y-4">
            <NewPasswordField
                id="update-password"
                label=text::PASSWORD
                hint=text::PASSWORD_HINT
                check=password
            />
            <SubmitButton label=text::SUBMIT validates=[password]/>
        </form>
    }
}
