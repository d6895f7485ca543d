use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::auth::{AuthPanel, check_new_password};
use crate::components::form::{FieldCheck, FormError, FormField, SubmitButton, validate_all};

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
    let query = use_query_map();
    let error = Signal::derive(move || {
        query
            .with(|query| query.get("error"))
            .filter(|message| !message.trim().is_empty())
    });
    let password = FieldCheck::new(check_new_password);

    view! {
        <Title text=text::TITLE/>
        <AuthPanel title=text::TITLE lead=text::LEAD>
            <FormError message=error/>
            // A plain form: the server's `/auth/update-password` route answers it.
            <form method="post" action="/auth/update-password" data-testid="update-password-form" class="space-y-4">
                <FormField
                    id="update-password"
                    name="password"
                    label=text::PASSWORD
                    kind="password"
                    autocomplete="new-password"
                    hint=text::PASSWORD_HINT
                    required=true
                    check=password
                />
                <SubmitButton
                    label=text::SUBMIT
                    on:click=move |ev| {
                        if !validate_all(&[password]) {
                            ev.prevent_default();
                        }
                    }
                />
            </form>
        </AuthPanel>
    }
}
