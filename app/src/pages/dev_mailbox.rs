use crate::components::layout::PageMeta;
use crate::i18n::use_locale;
use crate::t;
use leptos::prelude::*;

use crate::components::form::TextLink;
use crate::components::ui::Card;
use crate::ports::CaughtEmail;
use crate::refusal::RequestError;

/// The mailbox of the local mail twin; `None` (answered 404) when the server runs with real
/// email.
#[server]
pub async fn list_dev_mailbox() -> Result<Option<Vec<CaughtEmail>>, RequestError> {
    use std::sync::Arc;
    let Some(mailbox) = use_context::<Arc<dyn crate::ports::DevMailbox>>() else {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
        return Ok(None);
    };
    Ok(Some(mailbox.messages()))
}

/// Whether this server has the local mailbox (local development only).
#[server]
pub async fn dev_mailbox_exists() -> Result<bool, RequestError> {
    Ok(use_context::<std::sync::Arc<dyn crate::ports::DevMailbox>>().is_some())
}

/// "Running locally? Open the local mailbox": shown only where the mailbox exists, so never in
/// production.
#[component]
pub fn DevMailboxHint() -> impl IntoView {
    let locale = use_locale();
    let exists = Resource::new(|| (), |_| dev_mailbox_exists());
    view! {
        <Suspense fallback=|| ()>
            {move || exists.get().and_then(Result::ok).unwrap_or(false).then(|| view! {
                <p data-testid="dev-mailbox-hint" class="rounded-md bg-slate-50 p-4 text-sm text-slate-600 dark:bg-slate-800/60 dark:text-slate-300">
                    {t!(locale, dev_mailbox.hint_before)}<TextLink href="/dev/mailbox">{t!(locale, dev_mailbox.hint_link)}</TextLink>{t!(locale, dev_mailbox.hint_after)}
                </p>
            })}
        </Suspense>
    }
}

#[component]
pub fn DevMailboxPage() -> impl IntoView {
    let locale = use_locale();
    let messages = Resource::new(|| (), |_| list_dev_mailbox());
    view! {
        <PageMeta title=t!(locale, dev_mailbox.title)/>
        <section class="py-12">
            <h1 class="text-3xl font-bold tracking-tight">{t!(locale, dev_mailbox.title)}</h1>
            <p class="mt-2 max-w-2xl text-slate-600 dark:text-slate-300">{t!(locale, dev_mailbox.lead)}</p>
            <div class="mt-8 space-y-4" aria-live="polite">
                <Suspense fallback=move || view! { <p class="text-slate-500">{t!(locale, dev_mailbox.loading)}</p> }>
                    {move || messages.get().map(|answer| match answer {
                        Err(_) | Ok(None) => view! { <p role="alert" class="text-slate-600 dark:text-slate-300">{t!(locale, dev_mailbox.unavailable)}</p> }.into_any(),
                        Ok(Some(list)) if list.is_empty() => view! { <p class="text-slate-600 dark:text-slate-300">{t!(locale, dev_mailbox.empty)}</p> }.into_any(),
                        Ok(Some(list)) => list.into_iter().map(|email| view! { <Message email/> }).collect_view().into_any(),
                    })}
                </Suspense>
            </div>
        </section>
    }
}

#[component]
fn Message(email: CaughtEmail) -> impl IntoView {
    let locale = use_locale();
    view! {
        <Card>
            <article data-testid="mail">
                <header class="flex flex-col gap-1 sm:flex-row sm:items-baseline sm:justify-between">
                    <h2 class="font-semibold">{email.subject}</h2>
                    <time class="text-xs text-slate-500" datetime=email.received_at.clone()>{email.received_at.clone()}</time>
                </header>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-300">{t!(locale, dev_mailbox.to)}": "{email.to.join(", ")}</p>
                <pre class="mt-4 whitespace-pre-wrap break-words font-sans text-sm">{email.text}</pre>
                <ul class="mt-4 space-y-1 text-sm">
                    {email.links.into_iter().map(|link| view! {
                        <li><a class="break-all text-amber-700 underline hover:text-amber-600 dark:text-amber-400" href=link.clone()>{link.clone()}</a></li>
                    }).collect_view()}
                </ul>
            </article>
        </Card>
    }
}
