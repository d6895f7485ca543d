use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::auth::{
    AuthPageLink, AuthPanel, EmailField, check_email, identity_form_error, refusal_for,
};
use crate::components::form::{
    FieldCheck, FormError, FormField, FormSuccess, SubmitButton, TextLink,
};
use crate::components::form_action::{FormAction, PostForm};
use crate::components::island::query_value;
use crate::components::ui::button_class;
use crate::identity::NextPath;
use crate::identity::api::SignIn;

fn check_password_present(raw: &str) -> Option<String> {
    let locale = use_locale();
    raw.is_empty()
        .then(|| t!(locale, login.password_missing).to_string())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    // Only a safe path is carried on (to the form, Google and the emailed link); anything else
    // is dropped here, and the server checks again.
    let next = query.with_untracked(|query| query.get_str("next").and_then(NextPath::parse));
    let next_value = next.as_ref().map(ToString::to_string);
    let google_href = match &next {
        Some(next) => format!("/auth/google?next={}", next.to_query_value()),
        None => "/auth/google".to_string(),
    };

    view! {
        <PageMeta title=t!(locale, login.title)/>
        <AuthPanel title=t!(locale, login.title) lead=t!(locale, login.lead)>
            <PasswordSignIn/>
            <AuthPageLink question=t!(locale, login.no_account) href="/auth/sign-up" label=t!(locale, login.sign_up)/>

            <div class="flex items-center gap-3 text-xs uppercase tracking-wide text-slate-500 dark:text-slate-400" aria-hidden="true">
                <span class="h-px flex-1 bg-slate-200 dark:bg-slate-800"></span>
                {t!(locale, login.or)}
                <span class="h-px flex-1 bg-slate-200 dark:bg-slate-800"></span>
            </div>

            // Server routes outside the app router: `rel="external"` makes it a full page load.
            <a
                href=google_href
                rel="external"
                data-testid="google-sign-in"
                class=format!("{} w-full gap-2", button_class(false))
            >
                <span aria-hidden="true" class="font-bold text-amber-500">"G"</span>
                {t!(locale, login.google)}
            </a>

            <section aria-labelledby="magic-link-title" class="rounded-lg border border-dashed border-slate-300 p-4 dark:border-slate-700">
                <h2 id="magic-link-title" class="font-semibold">{t!(locale, login.magic_title)}</h2>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-300">{t!(locale, login.magic_lead)}</p>
                <form method="post" action="/auth/magic-link" data-testid="magic-link-form" class="mt-4 space-y-4">
                    <input type="hidden" name="next" value=next_value.unwrap_or_default()/>
                    <EmailField id="magic-email" label=t!(locale, login.magic_email)/>
                    <SubmitButton label=t!(locale, login.magic_submit) primary=false/>
                </form>
            </section>
        </AuthPanel>
    }
}

/// The email-and-password form, with its alerts: what the server already said (see
/// [`refusal_for`]), or that a new password was just set (`?reset=1`). `?next=` goes on with
/// the form.
#[island(lazy)]
fn PasswordSignIn() -> impl IntoView {
    crate::components::island::announce_awake();
    let locale = use_locale();
    let next = query_value("next").and_then(|next| NextPath::parse(&next));
    let reset = query_value("reset").as_deref() == Some("1");
    let refused = refusal_for::<SignIn>();
    let sign_in = FormAction::<SignIn>::new();
    let email = FieldCheck::new(check_email);
    let password = FieldCheck::new(check_password_present);
    let error = identity_form_error(
        sign_in,
        refused.clone(),
        vec![("email", email), ("password", password)],
    );
    let reset = Signal::stored(reset.then(|| t!(locale, login.reset_done).to_string()));

    view! {
        <div class="space-y-6">
            <FormSuccess message=reset/>
            <FormError message=error/>
            <PostForm action=sign_in refused attr:data-testid="login-form" attr:class="space-y-4">
                <input type="hidden" name="next" value=next.map(|next| next.to_string()).unwrap_or_default()/>
                <EmailField id="login-email" label=t!(locale, common.email) check=email/>
                <FormField
                    id="login-password"
                    name="password"
                    label=t!(locale, common.password)
                    kind="password"
                    autocomplete="current-password"
                    required=true
                    check=password
                />
                <div class="flex justify-end text-sm">
                    <TextLink href="/auth/forgot-password">{t!(locale, login.forgot)}</TextLink>
                </div>
                <SubmitButton
                    label=t!(locale, common.sign_in)
                    pending_label=t!(locale, login.submitting)
                    pending=sign_in.pending()
                    validates=[email, password]
                />
            </PostForm>
        </div>
    }
}
