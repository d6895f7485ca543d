//! Pieces shared by the sign-in pages and the dashboard.

use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::form::{Alert, AlertKind, FieldCheck, FormField, SubmitButton, TextLink};
use super::form_action::FormAction;
use super::ui::{ButtonLink, Card};
use crate::identity::api::SignOut;
use crate::identity::{EmailAddress, FullName, IdentityError, Password};

/// Inline checks with the server's own parsers (for [`super::form::FieldCheck::new`]).
pub fn check_email(raw: &str) -> Option<String> {
    EmailAddress::parse(raw)
        .err()
        .map(|error| error.message(use_locale()).to_string())
}

/// See [`check_email`]: a new password must satisfy [`Password::parse`].
pub fn check_new_password(raw: &str) -> Option<String> {
    Password::parse(raw)
        .err()
        .map(|error| error.message(use_locale()).to_string())
}

/// See [`check_email`]: an optional name, checked with [`FullName::parse`].
pub fn check_full_name(raw: &str) -> Option<String> {
    FullName::parse(raw)
        .err()
        .map(|error| error.message(use_locale()).to_string())
}

/// The fixed message for the error code a server route put in the query (`?error=<code>`) when
/// it redirected here. The query only ever chooses among our own messages: an unknown code
/// shows a generic one, never the code or any other text from the link.
pub fn error_in_query(key: &'static str) -> Signal<Option<String>> {
    let query = use_query_map();
    Signal::derive(move || {
        query.with(|query| {
            query
                .get_str(key)
                .filter(|code| !code.trim().is_empty())
                .map(message_for_code)
        })
    })
}

/// See [`error_in_query`].
pub fn message_for_code(code: &str) -> String {
    let locale = use_locale();
    IdentityError::from_code(code)
        .map(|error| error.message(locale))
        .unwrap_or_else(|| t!(locale, common.unknown_problem).to_string())
}

/// The refusal an island's form shows before it has done anything: the action's error when a
/// browser without JavaScript (or before the island woke) posted the form and the server sent
/// it back (`__err`, for `S`'s path), else the code a server route put in `?error=`. Worked out
/// on the server, which writes it on the form ([`PostForm`](super::form_action::PostForm)'s
/// `refused`); the browser reads it back from there, so both render the same first view and
/// the browser never decodes `__err`.
pub fn refusal_for<S>() -> Option<String>
where
    S: ServerFn<Error = IdentityError>,
{
    #[cfg(feature = "hydrate")]
    {
        super::form_action::refusal_on_form(S::url())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        // Stands for a code in a link that is none of ours: shows the generic message.
        const UNKNOWN_CODE: &str = "unknown";
        use_context::<leptos::server::ServerActionError>()
            .filter(|refused| refused.path() == S::PATH)
            .map(|refused| {
                leptos::server_fn::error::ServerFnUrlError::<IdentityError>::decode_err(
                    refused.err(),
                )
                .code()
                .to_string()
            })
            .or_else(|| {
                // Only one of our own codes travels on into the page: never the link's text.
                let code =
                    super::island::query_value("error").filter(|code| !code.trim().is_empty())?;
                Some(
                    IdentityError::from_code(&code)
                        .map_or(UNKNOWN_CODE, |error| error.code())
                        .to_string(),
                )
            })
    }
}

/// What a form shows for its latest refusal: a field error on its field (in `fields`, by field
/// name, focused), anything else as the form's message, which is returned. Until the form is
/// sent from this page, that is `refused` (see [`refusal_for`]), shown from the first render.
pub fn identity_form_error<S>(
    action: FormAction<S>,
    refused: Option<String>,
    fields: Vec<(&'static str, FieldCheck)>,
) -> Signal<Option<String>>
where
    S: ServerFn<Error = IdentityError> + 'static,
{
    let fields = StoredValue::new(fields);
    let check_of = move |field: Option<&'static str>| {
        let name = field?;
        fields.with_value(|fields| {
            fields
                .iter()
                .find(|(field, _)| *field == name)
                .map(|(_, check)| *check)
        })
    };
    // (the field it concerns, the message)
    let latest = move || -> Option<(Option<&'static str>, String)> {
        if action.version().get() == 0 {
            let code = refused.as_deref()?;
            let field = IdentityError::from_code(code).and_then(|error| error.field());
            Some((field, message_for_code(code)))
        } else {
            action.value().with(|outcome| {
                let error = outcome.as_ref()?.as_ref().err()?;
                Some((error.field(), error.message(use_locale())))
            })
        }
    };
    let mark = move |(field, message): (Option<&'static str>, String), focus: bool| {
        if let Some(check) = check_of(field) {
            check.show_error(message);
            if focus {
                check.focus();
            }
        }
    };
    if let Some(error) = untrack(latest.clone()) {
        mark(error, false);
    }
    Effect::new({
        let latest = latest.clone();
        move |_| {
            if action.version().get() > 0
                && let Some(error) = latest()
            {
                mark(error, true);
            }
        }
    });
    Signal::derive(move || {
        latest()
            .filter(|(field, _)| check_of(*field).is_none())
            .map(|(_, message)| message)
    })
}

/// A narrow, centred column with a heading and a lead paragraph: the frame of every auth page.
#[component]
pub fn AuthPanel(
    title: &'static str,
    #[prop(optional)] lead: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="mx-auto w-full max-w-md py-12 sm:py-20">
            <Card class="sm:p-8">
                <h1 class="text-2xl font-bold tracking-tight">{title}</h1>
                {lead.map(|lead| view! { <p class="mt-2 text-sm text-slate-600 dark:text-slate-300">{lead}</p> })}
                <div class="mt-6 space-y-6">{children()}</div>
            </Card>
        </section>
    }
}

/// The page after a form that emailed a link: the steps from here, the local-mailbox hint in
/// development, and a way to sign in instead.
#[component]
pub fn CheckEmailPanel(
    title: &'static str,
    lead: &'static str,
    steps: [&'static str; 3],
    question: &'static str,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    let locale = use_locale();
    view! {
        <AuthPanel title=title lead=lead>
            <div data-testid=testid>
                <h2 class="font-semibold">{t!(locale, common.next_steps_title)}</h2>
                <ol class="mt-3 list-decimal space-y-2 pl-5 text-sm text-slate-600 dark:text-slate-300">
                    {steps.map(|step| view! { <li>{step}</li> })}
                </ol>
            </div>
            <crate::pages::dev_mailbox::DevMailboxHint/>
            <AuthPageLink question=question href="/auth/login" label=t!(locale, common.sign_in)/>
        </AuthPanel>
    }
}

/// The required `email` input of the sign-in, sign-up and reset forms.
#[component]
pub fn EmailField(
    id: &'static str,
    label: &'static str,
    #[prop(optional_no_strip, into)] check: Option<FieldCheck>,
) -> impl IntoView {
    view! {
        <FormField
            id=id
            name="email"
            label=label
            kind="email"
            autocomplete="email"
            required=true
            check=check
        />
    }
}

/// The required `password` input where a person chooses a password, checked with
/// [`check_new_password`].
#[component]
pub fn NewPasswordField(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    check: FieldCheck,
) -> impl IntoView {
    view! {
        <FormField
            id=id
            name="password"
            label=label
            kind="password"
            autocomplete="new-password"
            hint=hint
            required=true
            check=check
        />
    }
}

/// The line under an auth form that leads to the page next door, e.g. "Already have an
/// account? Sign in".
#[component]
pub fn AuthPageLink(
    question: &'static str,
    href: &'static str,
    label: &'static str,
) -> impl IntoView {
    view! {
        <p class="text-center text-sm text-slate-600 dark:text-slate-300">
            {question}" "<TextLink href=href>{label}</TextLink>
        </p>
    }
}

/// Signs the person out: a plain form, the server answers with a redirect home. No script.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let locale = use_locale();
    view! {
        <form method="post" action=SignOut::url()>
            <SubmitButton label=t!(locale, common.sign_out) primary=false attr:data-testid="sign-out"/>
        </form>
    }
}

/// Shown where a page needs a signed-in person and there is none (or loading them failed):
/// why, and a way to sign in that comes back to `next`.
#[component]
pub fn SignInPrompt(
    next: &'static str,
    /// What went wrong, when it was more than "nobody is signed in".
    #[prop(optional)]
    problem: Option<String>,
) -> impl IntoView {
    let locale = use_locale();
    view! {
        <div class="space-y-4" data-testid="sign-in-prompt">
            <Alert kind=AlertKind::Info>{problem.unwrap_or_else(|| t!(locale, common.signed_out).to_string())}</Alert>
            <ButtonLink href=format!("/auth/login?next={next}") primary=true>{t!(locale, common.sign_in)}</ButtonLink>
        </div>
    }
}
