//! The waitlist page, the waitlist form on the landing page and the contact page.
//!
//! Plain forms, answered by the server's routes (`server::outreach`): without JavaScript they
//! post and come back here with `?notice=` or `?error=<code>`, which these pages show (a field's
//! refusal under that field). With JavaScript, [`OUTREACH_SCRIPT`] posts the same form for JSON
//! and shows the answer in place, so nothing typed is lost. Both need no WASM.

use leptos::prelude::*;

use crate::components::form::{Alert, AlertKind, FieldCheck, FormField, FormTextArea};
use crate::components::island::query_value;
use crate::components::layout::PageMeta;
use crate::components::ui::{Card, button_class};
use crate::i18n::use_locale;
use crate::outreach::{
    CONTACT_PATH, HONEYPOT_FIELD, MESSAGE_MAX, MESSAGE_MIN, OutreachError, OutreachSwitches,
    WAITLIST_PATH, parse_source,
};
use crate::t;

/// The refusal a post came back with (`?error=<code>`; unknown codes show nothing).
fn refusal_in_query() -> Option<OutreachError> {
    query_value("error").and_then(|code| OutreachError::from_code(&code))
}

fn switches() -> OutreachSwitches {
    use_context::<OutreachSwitches>().unwrap_or_default()
}

/// A refusal for `field`'s inline error, or for the form's alert when it names no field.
fn field_error(refused: Option<OutreachError>, field: &str) -> Option<String> {
    let locale = use_locale();
    refused
        .filter(|error| error.field() == Some(field))
        .map(|error| error.message(locale))
}

fn form_error(refused: Option<OutreachError>) -> Option<String> {
    let locale = use_locale();
    refused
        .filter(|error| error.field().is_none())
        .map(|error| error.message(locale))
}

/// A text input showing the refusal a post came back with, if it was about this field.
#[component]
fn CheckedField(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    #[prop(optional)] required: bool,
    error: Option<String>,
) -> impl IntoView {
    let check = FieldCheck::new(|_| None);
    if let Some(error) = error {
        check.show_error(error);
    }
    view! { <FormField id name label kind autocomplete required check/> }
}

/// The hidden field people never fill (see [`HONEYPOT_FIELD`]).
#[component]
fn Honeypot(id: &'static str) -> impl IntoView {
    let locale = use_locale();
    view! {
        <div class="absolute -left-[9999px] h-px w-px overflow-hidden" aria-hidden="true">
            <label for=id>{t!(locale, outreach.honeypot)}</label>
            <input id=id name=HONEYPOT_FIELD type="text" tabindex="-1" autocomplete="off"/>
        </div>
    }
}

/// The form's own alert (rate limit, switched off, unavailable), filled by the server's answer.
/// `role="alert"` announces it when it appears; while hidden it takes no room in the form.
#[component]
fn FormProblem(message: Option<String>) -> impl IntoView {
    let hidden = message.is_none();
    view! {
        <div
            role="alert"
            hidden=hidden
            data-form-problem
            data-testid="form-error"
            class="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-200"
        >
            {message}
        </div>
    }
}

/// What a form turns into once its post went through.
#[component]
fn Done(
    title: &'static str,
    body: &'static str,
    shown: bool,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div hidden=!shown data-outreach-done tabindex="-1" data-testid=testid class="focus:outline-none">
            <Alert kind=AlertKind::Success>
                <p class="font-semibold">{title}</p>
                <p class="mt-1">{body}</p>
            </Alert>
        </div>
    }
}

/// The waitlist form. `page` says where it stands (`landing` or `waitlist`), which is where the
/// server sends a browser without JavaScript back to and, without a campaign tag, the signup's
/// source.
#[component]
pub fn WaitlistForm(page: &'static str) -> impl IntoView {
    let locale = use_locale();
    if !switches().waitlist {
        return view! {
            <Alert kind=AlertKind::Info testid="waitlist-off">{t!(locale, outreach.off)}</Alert>
        }
        .into_any();
    }
    let joined = query_value("notice").as_deref() == Some("joined");
    let refused = refusal_in_query();
    let campaign = query_value("utm_source").map(|source| match query_value("utm_campaign") {
        Some(campaign) => format!("{source}:{campaign}"),
        None => source,
    });
    let source = campaign
        .and_then(|tag| parse_source(&tag))
        .unwrap_or_else(|| page.to_string());
    let id = |field: &str| -> &'static str {
        match (page, field) {
            ("landing", "name") => "landing-waitlist-name",
            ("landing", _) => "landing-waitlist-email",
            (_, "name") => "waitlist-name",
            _ => "waitlist-email",
        }
    };
    view! {
        <Done title=t!(locale, waitlist.joined_title) body=t!(locale, waitlist.joined) shown=joined testid="waitlist-joined"/>
        <form
            method="post"
            action=format!("{WAITLIST_PATH}?lang={}", locale.code())
            hidden=joined
            data-outreach
            data-sending=t!(locale, outreach.sending)
            data-unreachable=t!(locale, errors.unavailable)
            data-testid="waitlist-form"
            class="relative space-y-4 text-left"
        >
            <FormProblem message=form_error(refused)/>
            <div class="grid gap-4 sm:grid-cols-2">
                <CheckedField id=id("name") name="name" label=t!(locale, outreach.name_optional) kind="text" autocomplete="name" error=field_error(refused, "name")/>
                <CheckedField id=id("email") name="email" label=t!(locale, common.email) kind="email" autocomplete="email" required=true error=field_error(refused, "email")/>
            </div>
            <Honeypot id=if page == "landing" { "landing-waitlist-website" } else { "waitlist-website" }/>
            <input type="hidden" name="source" value=source/>
            <input type="hidden" name="page" value=page/>
            <button type="submit" data-testid="waitlist-submit" class=format!("{} w-full disabled:cursor-wait disabled:opacity-70", button_class(true))>
                {t!(locale, waitlist.submit)}
            </button>
            <p class="text-xs text-slate-500 dark:text-slate-400">{t!(locale, waitlist.privacy)}</p>
        </form>
        <OutreachScript/>
    }
    .into_any()
}

#[component]
pub fn WaitlistPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <PageMeta title=t!(locale, waitlist.title) description=t!(locale, waitlist.lead)/>
        <section class="mx-auto max-w-xl py-16">
            <h1 class="text-3xl font-bold tracking-tight">{t!(locale, waitlist.title)}</h1>
            <p class="mt-3 text-slate-600 dark:text-slate-300">{t!(locale, waitlist.lead)}</p>
            <Card class="mt-8">
                <WaitlistForm page="waitlist"/>
            </Card>
        </section>
    }
}

/// When the page was rendered, in Unix milliseconds (the contact form's `started`).
fn rendered_at_ms() -> i64 {
    #[cfg(feature = "ssr")]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as i64)
    }
    #[cfg(not(feature = "ssr"))]
    {
        0
    }
}

#[component]
pub fn ContactPage() -> impl IntoView {
    let locale = use_locale();
    let sent = query_value("notice").as_deref() == Some("sent");
    let refused = refusal_in_query();
    let form = if switches().contact {
        view! {
            <Done title=t!(locale, contact.sent_title) body=t!(locale, contact.sent) shown=sent testid="contact-sent"/>
            <form
                method="post"
                action=format!("{CONTACT_PATH}?lang={}", locale.code())
                hidden=sent
                data-outreach
                data-sending=t!(locale, outreach.sending)
                data-unreachable=t!(locale, errors.unavailable)
                data-testid="contact-form"
                class="relative space-y-4"
            >
                <FormProblem message=form_error(refused)/>
                <CheckedField id="contact-name" name="name" label=t!(locale, outreach.name) kind="text" autocomplete="name" required=true error=field_error(refused, "name")/>
                <CheckedField id="contact-email" name="email" label=t!(locale, common.email) kind="email" autocomplete="email" required=true error=field_error(refused, "email")/>
                <FormTextArea
                    id="contact-message"
                    name="message"
                    label=t!(locale, outreach.message)
                    hint=t!(locale, contact.message_hint)
                    required=true
                    minlength=MESSAGE_MIN
                    maxlength=MESSAGE_MAX
                    error=field_error(refused, "message")
                />
                <Honeypot id="contact-website"/>
                <input type="hidden" name="started" value=rendered_at_ms()/>
                <button type="submit" data-testid="contact-submit" class=format!("{} w-full disabled:cursor-wait disabled:opacity-70", button_class(true))>
                    {t!(locale, contact.submit)}
                </button>
            </form>
            <OutreachScript/>
        }
        .into_any()
    } else {
        view! { <Alert kind=AlertKind::Info testid="contact-off">{t!(locale, outreach.off)}</Alert> }
            .into_any()
    };
    view! {
        <PageMeta title=t!(locale, contact.title) description=t!(locale, contact.lead)/>
        <section class="mx-auto max-w-xl py-16">
            <h1 class="text-3xl font-bold tracking-tight">{t!(locale, contact.title)}</h1>
            <p class="mt-3 text-slate-600 dark:text-slate-300">{t!(locale, contact.lead)}</p>
            <Card class="mt-8">{form}</Card>
            <p class="mt-6 text-sm text-slate-500 dark:text-slate-400">{t!(locale, contact.elsewhere)}</p>
        </section>
    }
}

#[component]
fn OutreachScript() -> impl IntoView {
    view! { <script nonce=use_nonce()>{OUTREACH_SCRIPT}</script> }
}

/// Posts a `[data-outreach]` form for JSON and shows the answer in place: a refusal under its
/// field (focused) or in the form's alert, success by swapping the form for its done panel. If
/// the server cannot be reached the form is posted the plain way. Inline with the page's nonce
/// rather than an island, like the avatar upload: a page of its own needs no WASM. Runs once
/// per page however many forms include it.
const OUTREACH_SCRIPT: &str = r#"(function(){
if(window.__kilatOutreach||!window.fetch||!window.URLSearchParams)return;window.__kilatOutreach=1;
function errorOf(input){return input&&input.id?document.getElementById(input.id+'-error'):null}
function clear(form){var p=form.querySelector('[data-form-problem]');p.hidden=true;p.textContent='';
Array.prototype.forEach.call(form.elements,function(el){var e=errorOf(el);if(e){e.textContent='';el.removeAttribute('aria-invalid')}})}
document.addEventListener('submit',function(ev){var form=ev.target;
if(!form.hasAttribute||!form.hasAttribute('data-outreach'))return;ev.preventDefault();
var button=form.querySelector('button[type=submit]');if(button.disabled)return;
var label=button.textContent;button.disabled=true;button.setAttribute('aria-busy','true');button.textContent=form.dataset.sending;
clear(form);
fetch(form.action,{method:'POST',body:new URLSearchParams(new FormData(form)),headers:{'Accept':'application/json'},credentials:'same-origin'})
.then(function(r){return r.json().then(function(body){return{ok:r.ok,body:body}})})
.then(function(a){button.disabled=false;button.removeAttribute('aria-busy');button.textContent=label;
if(a.ok){var done=form.previousElementSibling;form.hidden=true;if(done&&done.hasAttribute('data-outreach-done')){done.hidden=false;done.focus()}return}
var input=a.body.field&&form.elements[a.body.field],shown=errorOf(input);
if(shown){shown.textContent=a.body.message;input.setAttribute('aria-invalid','true');input.focus();return}
var p=form.querySelector('[data-form-problem]');p.textContent=a.body.message||form.dataset.unreachable;p.hidden=false})
.catch(function(){form.submit()})},true);
})()"#;
