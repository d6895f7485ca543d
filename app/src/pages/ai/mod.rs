//! The AI pages: `/dashboard/ai` (the chat) and `/dashboard/ai/generate` (one-shot templates).
//!
//! The server renders each page whole, in the person's language: every word, every class, and
//! `<template>`s for what repeats (a turn, a conversation in the list). One small lazy island,
//! [`AiTools`], shared by both pages, then brings it to life from the browser: it reads the AI routes
//! (`server::ai::routes`), streams answers as they are written, and renders them as safe
//! Markdown ([`crate::components::markdown`]). Because the island only fills in and shows
//! what the server rendered, its WASM carries logic, not the page's words or classes: the
//! strings the browser shows on its own (notes, meter, local refusals) are `data-t-*`
//! attributes of the markup. (A lazy island's strings and browser imports would otherwise
//! land in the main WASM module, which every page downloads; see bench/results.md.)

#[cfg(feature = "hydrate")]
mod browser;
mod chat;
mod generate;
#[cfg(any(feature = "hydrate", test))]
mod wire;

use leptos::prelude::*;

use crate::ai::{AiError, CHAT_PAGE, GENERATE_PAGE};
use crate::components::auth::SignInPrompt;
use crate::components::form::TextLink;
use crate::components::layout::PageMeta;
use crate::components::ui::button_class;
use crate::i18n::use_locale;
use crate::identity::api::load_current_user;
use crate::t;

/// The small outlined buttons under answers and in headers.
const SMALL_BUTTON: &str = "inline-flex items-center justify-center gap-1.5 rounded-md border border-slate-300 px-3 py-1.5 text-xs font-semibold text-slate-800 transition hover:bg-slate-100 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 disabled:cursor-not-allowed disabled:opacity-60 dark:border-slate-700 dark:text-slate-100 dark:hover:bg-slate-800";

/// A text box's look (the message, the notes).
const TEXT_BOX: &str = "mt-1 block w-full resize-y rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 disabled:cursor-not-allowed disabled:bg-slate-50 dark:border-slate-700 dark:bg-slate-950 dark:text-slate-100 dark:disabled:bg-slate-900";

/// How rendered Markdown looks (the renderer's elements carry no classes of their own).
pub const MARKDOWN: &str = "[&_p]:my-2 [&>:first-child]:mt-0 [&>:last-child]:mb-0 [&_strong]:font-semibold \
    [&_ul]:my-2 [&_ul]:list-disc [&_ul]:space-y-1 [&_ul]:pl-6 [&_ol]:my-2 [&_ol]:list-decimal [&_ol]:space-y-1 [&_ol]:pl-6 \
    [&_h3]:mt-4 [&_h3]:mb-2 [&_h3]:text-lg [&_h3]:font-semibold [&_h4]:mt-4 [&_h4]:mb-2 [&_h4]:font-semibold \
    [&_h5]:mt-3 [&_h5]:mb-1 [&_h5]:font-semibold [&_h6]:mt-3 [&_h6]:mb-1 [&_h6]:font-semibold \
    [&_pre]:my-2 [&_pre]:whitespace-pre-wrap [&_pre]:break-words [&_pre]:rounded-md [&_pre]:bg-slate-900 [&_pre]:p-3 \
    [&_pre]:font-mono [&_pre]:text-sm [&_pre]:text-slate-100 dark:[&_pre]:bg-slate-950 \
    [&_:not(pre)>code]:rounded [&_:not(pre)>code]:bg-slate-100 [&_:not(pre)>code]:px-1 [&_:not(pre)>code]:py-0.5 \
    [&_:not(pre)>code]:font-mono [&_:not(pre)>code]:text-[0.9em] dark:[&_:not(pre)>code]:bg-slate-800 \
    [&_a]:font-medium [&_a]:text-amber-800 [&_a]:underline [&_a]:underline-offset-2 hover:[&_a]:text-amber-950 \
    dark:[&_a]:text-amber-300 [&_a]:rounded focus-visible:[&_a]:outline-none focus-visible:[&_a]:ring-2 \
    focus-visible:[&_a]:ring-amber-500 [&_hr]:my-4 [&_hr]:border-slate-200 dark:[&_hr]:border-slate-700";

/// An answer's box.
const ANSWER_BOX: &str = "rounded-2xl border border-slate-200 bg-white px-4 py-3 text-sm leading-relaxed break-words dark:border-slate-800 dark:bg-slate-900";

fn primary_button() -> String {
    format!(
        "{} gap-2 disabled:cursor-not-allowed disabled:opacity-60",
        button_class(true)
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Chat,
    Generate,
}

/// Chat | Templates, the current one marked.
#[component]
fn ToolTabs(current: Tool) -> impl IntoView {
    let locale = use_locale();
    let tab = |tool: Tool, href: &'static str, label: &'static str| {
        let here = tool == current;
        view! {
            <a
                href=href
                aria-current=here.then_some("page")
                class=format!(
                    "-mb-px border-b-2 px-3 py-2 text-sm font-semibold transition focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 {}",
                    if here {
                        "border-amber-500 text-slate-950 dark:text-white"
                    } else {
                        "border-transparent text-slate-600 hover:text-slate-950 dark:text-slate-300 dark:hover:text-white"
                    }
                )
            >
                {label}
            </a>
        }
    };
    view! {
        <nav aria-label=t!(locale, ai.tools_nav) class="mt-6 flex gap-2 border-b border-slate-200 dark:border-slate-800">
            {tab(Tool::Chat, CHAT_PAGE, t!(locale, ai.tab_chat))}
            {tab(Tool::Generate, GENERATE_PAGE, t!(locale, ai.tab_generate))}
        </nav>
    }
}

/// The frame both pages share: back link, heading, lead, tabs, and the tool for a signed-in
/// person (a way to sign in for anyone else).
#[component]
fn AiFrame(
    tool: Tool,
    title: &'static str,
    lead: &'static str,
    page: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let locale = use_locale();
    let user = Resource::new(|| (), |_| load_current_user());
    view! {
        <PageMeta title=title/>
        <section class="py-8 sm:py-12">
            <TextLink href="/dashboard">{t!(locale, settings.back)}</TextLink>
            <h1 class="mt-4 text-3xl font-bold tracking-tight">{title}</h1>
            <p class="mt-2 max-w-2xl text-slate-600 dark:text-slate-300">{lead}</p>
            <ToolTabs current=tool/>
            <div class="mt-6">
                <Suspense fallback=move || view! { <p class="text-slate-500 dark:text-slate-400">{t!(locale, common.loading_account)}</p> }>
                    {move || user.get().map(|answer| match answer {
                        Ok(Some(_)) => children().into_any(),
                        Ok(None) => view! { <SignInPrompt next=page/> }.into_any(),
                        Err(error) => view! { <SignInPrompt next=page problem=error.message(locale)/> }.into_any(),
                    })}
                </Suspense>
            </div>
        </section>
    }
}

/// The words both islands show on their own, for [`browser::words`]; the placeholders in
/// braces are filled in the browser.
#[component]
fn SharedWords() -> impl IntoView {
    let locale = use_locale();
    view! {
        <span
            hidden
            data-t-unreachable=t!(locale, errors.unreachable)
            data-t-unavailable=t!(locale, errors.unavailable)
            data-t-stream_lost=t!(locale, ai.stream_lost)
            data-t-message_missing=AiError::MessageMissing.message(locale)
            data-t-message_too_long=AiError::MessageTooLong.message(locale)
            data-t-stopped=t!(locale, ai.stopped_note)
            data-t-failed=t!(locale, ai.failed_note)
            data-t-cut=t!(locale, ai.cut_note)
            data-t-copy=t!(locale, ai.copy)
            data-t-copied=t!(locale, ai.copied)
            data-t-meter-of=t!(locale, ai.meter_of)("{used}", "{allowance}")
            data-t-meter-unlimited=t!(locale, ai.meter_unlimited)("{used}")
            data-t-meter-resets=t!(locale, ai.meter_resets)("{date}")
        ></span>
    }
}

/// This month's usage, filled once read; and, hidden, what a plan without AI is told instead.
#[component]
fn UsageMeter() -> impl IntoView {
    let locale = use_locale();
    view! {
        <section
            data-ai="meter"
            data-testid="ai-meter"
            aria-label=t!(locale, ai.meter_label)
            class="rounded-lg border border-slate-200 px-4 py-3 text-sm text-slate-700 dark:border-slate-800 dark:text-slate-200"
        >
            <p data-ai="meter-loading" class="text-slate-500 dark:text-slate-400">{t!(locale, ai.meter_loading)}</p>
            <p data-ai="meter-reading" data-testid="ai-meter-reading" hidden></p>
            <div
                data-ai="meter-bar"
                hidden
                role="progressbar"
                aria-label=t!(locale, ai.meter_label)
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow="0"
                class="mt-2 h-1.5 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
            >
                <div data-ai="meter-fill" class="h-full w-0 bg-amber-500"></div>
            </div>
            <p data-ai="meter-resets" hidden class="mt-1 text-xs text-slate-500 dark:text-slate-400"></p>
        </section>
        <div data-ai="no-plan" data-testid="ai-no-plan" role="status" hidden class="rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:border-amber-400/30 dark:bg-amber-400/10 dark:text-amber-200">
            <p>{t!(locale, ai.plan_without_ai)}</p>
            <a href="/pricing" data-testid="ai-upgrade" class="mt-2 inline-block font-semibold underline underline-offset-4 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500">
                {t!(locale, ai.see_plans)}
            </a>
        </div>
    }
}

/// Where a refusal shows, announced, with its next step (each shown when it applies).
#[component]
fn Problem(page: &'static str) -> impl IntoView {
    let locale = use_locale();
    let link = "font-semibold underline underline-offset-4 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500";
    view! {
        <div aria-live="assertive" aria-atomic="true">
            <div
                data-ai="problem"
                data-testid="ai-error"
                role="alert"
                hidden
                class="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-200"
            >
                <p data-ai="problem-text"></p>
                <div class="flex flex-wrap gap-3 has-[>:not([hidden])]:mt-2">
                    <a data-ai="problem-upgrade" data-testid="ai-upgrade" hidden href="/pricing" class=link>{t!(locale, ai.see_plans)}</a>
                    <a data-ai="problem-sign-in" hidden href=format!("/auth/login?next={page}") class=link>{t!(locale, common.sign_in)}</a>
                    <button type="button" data-ai="problem-retry" data-action="retry" data-testid="ai-retry" hidden class=SMALL_BUTTON>
                        {t!(locale, ai.retry)}
                    </button>
                </div>
            </div>
        </div>
    }
}

/// Three dots and words while an answer is on its way (shown by the island).
#[component]
fn Typing() -> impl IntoView {
    let locale = use_locale();
    let dot = "h-1.5 w-1.5 animate-bounce rounded-full bg-amber-500";
    view! {
        <p data-ai="typing" data-testid="ai-typing" hidden class="mt-2 flex items-center gap-2 text-sm text-slate-600 dark:text-slate-300">
            <span class="flex gap-1" aria-hidden="true">
                <span class=dot></span>
                <span class=format!("{dot} [animation-delay:150ms]")></span>
                <span class=format!("{dot} [animation-delay:300ms]")></span>
            </span>
            {t!(locale, ai.answering)}
        </p>
    }
}

/// The Stop button and the main button with its spinner, as both forms have them.
#[component]
fn Actions(label: &'static str, testid: &'static str) -> impl IntoView {
    let locale = use_locale();
    view! {
        <div class="flex gap-2">
            <button
                type="button"
                data-ai="stop"
                data-action="stop"
                data-testid="ai-stop"
                hidden
                class=format!("{} gap-2", button_class(false))
            >
                <span aria-hidden="true" class="h-2.5 w-2.5 rounded-sm bg-current"></span>
                {t!(locale, ai.stop)}
            </button>
            <button type="submit" data-ai="submit" data-testid=testid disabled class=primary_button()>
                <span
                    data-ai="spinner"
                    hidden
                    aria-hidden="true"
                    class="h-4 w-4 animate-spin rounded-full border-2 border-current border-t-transparent"
                ></span>
                {label}
            </button>
        </div>
    }
}

/// Brings the AI markup in `children` (the chat's or the templates') to life in the browser.
/// One island for both pages: two would each share small pieces of code with the other
/// islands differently, and the split WASM of every page with an island would come in more,
/// smaller files.
#[island(lazy)]
fn AiTools(children: Children) -> impl IntoView {
    crate::components::island::announce_awake();
    #[cfg(feature = "hydrate")]
    {
        let document = document();
        let find = |selector: &str| document.query_selector(selector).ok().flatten();
        if let Some(root) = find("[data-ai=chat]") {
            chat::live::wake(root);
        } else if let Some(root) = find("[data-ai=generate]") {
            generate::live::wake(root);
        }
    }
    children()
}

/// `/dashboard/ai`: chat with the assistant.
#[component]
pub fn AiChatPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <AiFrame tool=Tool::Chat title=t!(locale, ai.chat_title) lead=t!(locale, ai.chat_lead) page=CHAT_PAGE>
            <AiTools>
                <chat::ChatMarkup/>
            </AiTools>
        </AiFrame>
    }
}

/// `/dashboard/ai/generate`: a product description, an email reply or a social post.
#[component]
pub fn AiGeneratePage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <AiFrame tool=Tool::Generate title=t!(locale, ai.generate_title) lead=t!(locale, ai.generate_lead) page=GENERATE_PAGE>
            <AiTools>
                <generate::GenerateMarkup/>
            </AiTools>
        </AiFrame>
    }
}
