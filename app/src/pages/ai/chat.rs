//! The chat: the person's conversations (newest first, older ones on request), the open one,
//! and the message box. An answer streams in as it is written (`POST /api/ai/chat`) and is
//! rendered as safe Markdown; Stop aborts the request, which makes the server stop the
//! provider and count what it produced.

use leptos::prelude::*;

use super::{
    ANSWER_BOX, Actions, MARKDOWN, Problem, SMALL_BUTTON, SharedWords, TEXT_BOX, Typing,
    UsageMeter, primary_button,
};
use crate::ai::{CHAT_PAGE, MESSAGE_MAX, TITLE_MAX};
use crate::i18n::use_locale;
use crate::t;

/// The chat's markup, rendered by the server in the page's language; [`live`] brings it to
/// life. Hooks for the browser are `data-ai` (parts) and `data-action` (buttons).
#[component]
pub fn ChatMarkup() -> impl IntoView {
    let locale = use_locale();
    let item_class = "block w-full rounded-md px-3 py-2 text-left text-sm text-slate-700 transition hover:bg-slate-100 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 group-data-[busy]:pointer-events-none group-data-[busy]:opacity-60 aria-[current=true]:bg-amber-100 aria-[current=true]:font-semibold aria-[current=true]:text-slate-950 dark:text-slate-200 dark:hover:bg-slate-800 dark:aria-[current=true]:bg-amber-400/15 dark:aria-[current=true]:text-white";
    let muted = "text-sm text-slate-500 dark:text-slate-400";
    let sidebar = view! {
        <aside aria-labelledby="ai-conversations-title" class="min-w-0 space-y-3">
            <div class="flex items-center justify-between gap-2">
                <h2 id="ai-conversations-title" class="text-sm font-semibold text-slate-700 dark:text-slate-200">
                    {t!(locale, ai.conversations)}
                </h2>
                <button
                    type="button"
                    data-ai="toggle-list"
                    data-action="toggle-list"
                    aria-controls="ai-conversation-list"
                    aria-expanded="false"
                    class=format!("{SMALL_BUTTON} md:hidden")
                >
                    {t!(locale, ai.show_conversations)}
                </button>
            </div>
            <button type="button" data-ai="new" data-action="new" data-testid="ai-new-chat" disabled class=format!("{} w-full", primary_button())>
                {t!(locale, ai.new_chat)}
            </button>
            <div id="ai-conversation-list" data-ai="list-panel" class="hidden md:block">
                <p data-ai="list-loading" role="status" class=muted>{t!(locale, ai.list_loading)}</p>
                <p data-ai="list-empty" data-testid="ai-no-conversations" hidden class=muted>{t!(locale, ai.list_empty)}</p>
                <ul data-ai="list" data-testid="ai-conversations" hidden class="group space-y-1"></ul>
                <button
                    type="button"
                    data-ai="load-more"
                    data-action="load-more"
                    data-testid="ai-load-more"
                    hidden
                    class=format!("{SMALL_BUTTON} mt-3 w-full")
                >
                    {t!(locale, ai.load_more)}
                </button>
            </div>
        </aside>
    }
    .into_any();
    let header = view! {
        <div class="flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 pb-3 dark:border-slate-800">
            <h2 id="ai-conversation-title" data-ai="title" data-testid="ai-conversation-title" class="min-w-0 break-words text-lg font-semibold">
                {t!(locale, ai.new_conversation)}
            </h2>
            <div data-ai="actions" hidden class="flex gap-2">
                <button type="button" data-ai="rename" data-action="rename" data-testid="ai-rename" class=SMALL_BUTTON>{t!(locale, ai.rename)}</button>
                <button type="button" data-ai="delete" data-action="delete" data-testid="ai-delete" class=SMALL_BUTTON>{t!(locale, ai.delete)}</button>
            </div>
            <form data-ai="rename-form" hidden class="flex w-full flex-col gap-2 sm:flex-row sm:items-end">
                <div class="min-w-0 flex-1">
                    <label for="ai-title" class="block text-xs font-medium text-slate-600 dark:text-slate-300">{t!(locale, ai.title_label)}</label>
                    <input
                        id="ai-title"
                        data-ai="title-input"
                        data-testid="ai-title-input"
                        type="text"
                        maxlength=TITLE_MAX
                        required
                        class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:border-slate-700 dark:bg-slate-950 dark:text-slate-100"
                    />
                </div>
                <div class="flex gap-2">
                    <button type="submit" data-testid="ai-title-save" class=SMALL_BUTTON>{t!(locale, ai.save)}</button>
                    <button type="button" data-action="end-change" class=SMALL_BUTTON>{t!(locale, ai.cancel)}</button>
                </div>
            </form>
            <div data-ai="delete-confirm" role="group" aria-labelledby="ai-delete-question" hidden class="w-full rounded-lg border border-red-200 p-3 dark:border-red-900">
                <p id="ai-delete-question" class="text-sm">{t!(locale, ai.delete_question)}</p>
                <div class="mt-2 flex gap-2">
                    <button
                        type="button"
                        data-ai="delete-yes"
                        data-action="delete-yes"
                        data-testid="ai-delete-yes"
                        class="rounded-md bg-red-700 px-3 py-1.5 text-xs font-semibold text-white hover:bg-red-600 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 disabled:opacity-60"
                    >
                        {t!(locale, ai.delete_yes)}
                    </button>
                    <button type="button" data-action="end-change" class=SMALL_BUTTON>{t!(locale, ai.cancel)}</button>
                </div>
            </div>
        </div>
    }
    .into_any();
    let log = view! {
        <div data-ai="log" data-testid="ai-log" class="space-y-4">
            <p data-ai="opening" role="status" hidden class=muted>{t!(locale, ai.conversation_loading)}</p>
            <p data-ai="empty" data-testid="ai-empty" class="rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center text-sm text-slate-600 dark:border-slate-700 dark:text-slate-300">
                {t!(locale, ai.empty_chat)}
            </p>
            <div data-ai="turns" class="space-y-4"></div>
            <article data-ai="streaming" data-testid="ai-turn-streaming" aria-label=t!(locale, ai.assistant) hidden>
                <div data-ai="stream-text" data-testid="ai-streaming" aria-live="polite" class=format!("{ANSWER_BOX} {MARKDOWN} empty:hidden")></div>
                <Typing/>
            </article>
        </div>
    }
    .into_any();
    let composer = view! {
        <form
            data-ai="composer"
            data-testid="ai-composer"
            class="sticky bottom-0 z-10 -mx-1 border-t border-slate-200 bg-white/95 px-1 pt-3 pb-4 backdrop-blur dark:border-slate-800 dark:bg-slate-950/95"
        >
            <label for="ai-message" class="block text-sm font-medium text-slate-700 dark:text-slate-200">{t!(locale, ai.message_label)}</label>
            <textarea
                id="ai-message"
                name="message"
                data-ai="message"
                data-testid="ai-message"
                rows="2"
                maxlength=MESSAGE_MAX
                aria-describedby="ai-message-hint"
                disabled
                class=format!("{TEXT_BOX} min-h-14 sm:min-h-20")
            ></textarea>
            <div class="mt-2 flex flex-wrap items-center justify-between gap-3">
                <p id="ai-message-hint" class="text-xs text-slate-500 dark:text-slate-400">{t!(locale, ai.message_hint)}</p>
                <Actions label=t!(locale, ai.send) testid="ai-send"/>
            </div>
        </form>
    }
    .into_any();
    let templates = view! {
        <template data-ai="tpl-item">
            <li>
                <button type="button" data-ai="item-open" data-action="open" data-testid="ai-conversation" class=item_class>
                    <span data-ai="item-title" class="block truncate"></span>
                    <span data-ai="item-date" class="block text-xs font-normal text-slate-600 dark:text-slate-300"></span>
                </button>
            </li>
        </template>
        <template data-ai="tpl-user">
            <article aria-label=t!(locale, ai.you) data-testid="ai-turn-user" class="flex justify-end">
                <p data-ai="turn-text" class="max-w-[85%] whitespace-pre-wrap break-words rounded-2xl bg-amber-100 px-4 py-2 text-sm text-slate-900 dark:bg-amber-400/15 dark:text-slate-100"></p>
            </article>
        </template>
        <template data-ai="tpl-assistant">
            <article aria-label=t!(locale, ai.assistant) data-testid="ai-turn-assistant" class="max-w-full">
                <div data-ai="turn-answer" data-testid="ai-answer" class=format!("{ANSWER_BOX} {MARKDOWN}")></div>
                <p data-ai="turn-note" data-testid="ai-note" hidden class="mt-1 text-xs text-slate-600 dark:text-slate-300"></p>
                <div class="mt-2 flex flex-wrap gap-2">
                    <button type="button" data-ai="turn-copy" data-action="copy" data-testid="ai-copy" class=SMALL_BUTTON>
                        <span data-ai="copy-label" aria-live="polite">{t!(locale, ai.copy)}</span>
                    </button>
                    <button type="button" data-ai="turn-regenerate" data-action="regenerate" data-testid="ai-regenerate" hidden class=SMALL_BUTTON>
                        {t!(locale, ai.regenerate)}
                    </button>
                </div>
            </article>
        </template>
    }
    .into_any();
    view! {
        <div data-ai="chat" class="grid gap-6 md:grid-cols-[15rem_minmax(0,1fr)] lg:grid-cols-[17rem_minmax(0,1fr)]">
            <SharedWords/>
            <span hidden data-t-new-conversation=t!(locale, ai.new_conversation) data-t-load-more=t!(locale, ai.load_more) data-t-loading-more=t!(locale, ai.loading_more)></span>
            {sidebar}
            <section aria-labelledby="ai-conversation-title" class="min-w-0 space-y-4">
                <UsageMeter/>
                {header}
                {log}
                // Right above the message box, where the next step is taken.
                <Problem page=CHAT_PAGE/>
                {composer}
            </section>
            {templates}
        </div>
    }
}

#[cfg(feature = "hydrate")]
pub mod live {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use leptos::prelude::set_timeout;
    use leptos::task::spawn_local;
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::{Element, Event, HtmlInputElement, HtmlTextAreaElement, KeyboardEvent};

    use super::super::browser::{
        AbortController, Finish, Piece, Refusal, StreamingText, Summary, conversation,
        conversations, copy_and_confirm, delete, enable, ending_note, focus, follow_end,
        from_template, json_body, listen, part, plausible_id, rename, set_text, show,
        show_in_address, show_meter, show_problem, stream_answer, target_of, unix_now, usage,
        words,
    };
    use crate::ai::{CHAT_PATH, conversation_title, parse_message};
    use crate::components::island::query_value;
    use crate::components::markdown::render_into;
    use crate::i18n::{format_date, use_locale};

    /// How long after a stop the meter is read again: the server counts a stopped answer
    /// once it has seen the connection close.
    const METER_AFTER_STOP: Duration = Duration::from_millis(1500);

    /// What "Try again" does.
    enum Retry {
        /// Send this message (it was refused before anything was kept).
        Send(String),
        /// Ask again for the last message (its answer failed part-way).
        Regenerate,
        /// Read the list again.
        List,
    }

    struct State {
        root: Element,
        has_ai: bool,
        current: Option<String>,
        next: Option<String>,
        abort: Option<AbortController>,
        retry: Option<Retry>,
        /// Renaming or deleting asks its question in the header.
        changing: bool,
        /// The last answer shown (it carries Regenerate) and the message it answered.
        last_answer: Option<Element>,
        last_message: Option<String>,
    }

    #[derive(Clone)]
    struct Chat(Rc<RefCell<State>>);

    /// Brings the chat markup in `root` to life.
    pub fn wake(root: Element) {
        let chat = Chat(Rc::new(RefCell::new(State {
            root: root.clone(),
            has_ai: true,
            current: None,
            next: None,
            abort: None,
            retry: None,
            changing: false,
            last_answer: None,
            last_message: None,
        })));
        listen(&root, "click", {
            let chat = chat.clone();
            move |event| chat.clicked(event)
        });
        listen(&root, "submit", {
            let chat = chat.clone();
            move |event| chat.submitted(event)
        });
        listen(&part(&root, "message"), "keydown", {
            let chat = chat.clone();
            move |event| {
                let key = event.unchecked_ref::<KeyboardEvent>();
                if key.key() == "Enter" && !key.shift_key() && !key.is_composing() {
                    event.prevent_default();
                    chat.send(chat.draft(), false);
                }
            }
        });
        chat.refresh();
        chat.read_meter();
        chat.read_list();
        if let Some(id) = query_value("c").filter(|id| plausible_id(id)) {
            chat.open(id);
        }
    }

    impl Chat {
        fn root(&self) -> Element {
            self.0.borrow().root.clone()
        }

        fn part(&self, name: &str) -> Element {
            part(&self.root(), name)
        }

        fn answering(&self) -> bool {
            self.0.borrow().abort.is_some()
        }

        fn message_box(&self) -> HtmlTextAreaElement {
            self.part("message").unchecked_into()
        }

        fn draft(&self) -> String {
            self.message_box().value()
        }

        fn problem(&self, problem: Option<&Refusal>, retry: Option<Retry>) {
            self.0.borrow_mut().retry = retry;
            show_problem(&self.root(), problem);
        }

        /// Every control as the state allows: while an answer comes only Stop works.
        fn refresh(&self) {
            let (has_ai, answering, current, changing, last_answer) = {
                let state = self.0.borrow();
                (
                    state.has_ai,
                    state.abort.is_some(),
                    state.current.is_some(),
                    state.changing,
                    state.last_answer.clone(),
                )
            };
            let root = self.root();
            enable(&part(&root, "message"), !answering && has_ai);
            let submit = part(&root, "submit");
            enable(&submit, !answering && has_ai);
            let _ = submit.toggle_attribute_with_force("aria-busy", answering);
            show(&part(&root, "spinner"), answering);
            show(&part(&root, "stop"), answering);
            enable(&part(&root, "new"), !answering);
            // The list's entries look and act unavailable meanwhile (`open` waits too).
            let _ = part(&root, "list").toggle_attribute_with_force("data-busy", answering);
            enable(&part(&root, "rename"), !answering);
            enable(&part(&root, "delete"), !answering);
            show(&part(&root, "actions"), current && !changing);
            if let Some(answer) = last_answer {
                show(&part(&answer, "turn-regenerate"), !answering && has_ai);
            }
        }

        fn clicked(&self, event: Event) {
            let Some(button) =
                target_of(&event).and_then(|target| target.closest("[data-action]").ok().flatten())
            else {
                return;
            };
            match button.get_attribute("data-action").as_deref() {
                Some("open") => {
                    if let Some(id) = button.get_attribute("data-id") {
                        self.open(id);
                    }
                }
                Some("new") => self.start_new(),
                Some("load-more") => self.load_more(),
                Some("toggle-list") => self.toggle_list(),
                Some("stop") => {
                    if let Some(abort) = &self.0.borrow().abort {
                        abort.abort();
                    }
                }
                Some("copy") => self.copy(&button),
                Some("regenerate") => self.regenerate(),
                Some("retry") => self.retry(),
                Some("rename") => self.begin_rename(),
                Some("delete") => {
                    self.0.borrow_mut().changing = true;
                    show(&self.part("delete-confirm"), true);
                    self.refresh();
                    focus(&self.part("delete-yes"));
                }
                Some("delete-yes") => self.delete(),
                Some("end-change") => self.end_change(),
                _ => {}
            }
        }

        fn submitted(&self, event: Event) {
            event.prevent_default();
            match target_of(&event)
                .and_then(|form| form.get_attribute("data-ai"))
                .as_deref()
            {
                Some("composer") => self.send(self.draft(), false),
                Some("rename-form") => self.rename(),
                _ => {}
            }
        }

        fn read_meter(&self) {
            let chat = self.clone();
            spawn_local(async move {
                match usage().await {
                    Ok(meter) => {
                        let has_ai = show_meter(&chat.root(), meter);
                        chat.0.borrow_mut().has_ai = has_ai;
                        chat.refresh();
                    }
                    Err(refusal) if refusal.status == 401 => chat.problem(Some(&refusal), None),
                    Err(_) => show(&chat.part("meter"), false),
                }
            });
        }

        /// A list entry (`<li>` around its button).
        fn item(&self, id: &str, title: &str, updated_at: i64) -> Element {
            let item = from_template(&self.root(), "tpl-item");
            let _ = part(&item, "item-open").set_attribute("data-id", id);
            set_text(&part(&item, "item-title"), title);
            if updated_at > 0 {
                set_text(
                    &part(&item, "item-date"),
                    &format_date(updated_at, use_locale()),
                );
            }
            item
        }

        /// The list entry (`<li>`) of conversation `id`.
        fn list_entry(&self, id: &str) -> Option<Element> {
            self.root()
                .query_selector(&format!("[data-action=open][data-id=\"{id}\"]"))
                .ok()
                .flatten()
                .and_then(|button| button.closest("li").ok().flatten())
        }

        fn show_list_state(&self) {
            let list = self.part("list");
            let has_items = list.first_element_child().is_some();
            show(&list, has_items);
            show(&self.part("list-empty"), !has_items);
        }

        fn add_to_list(&self, page: Vec<Summary>, next: Option<String>) {
            let list = self.part("list");
            for summary in page {
                if self.list_entry(&summary.id).is_none() {
                    let _ = list.append_child(&self.item(
                        &summary.id,
                        &summary.title,
                        summary.updated_at,
                    ));
                }
            }
            self.show_list_state();
            show(&self.part("load-more"), next.is_some());
            self.0.borrow_mut().next = next;
            self.mark_current();
        }

        fn read_list(&self) {
            show(&self.part("list-loading"), true);
            let chat = self.clone();
            spawn_local(async move {
                match conversations(None).await {
                    Ok((page, next)) => chat.add_to_list(page, next),
                    Err(refusal) => chat.problem(Some(&refusal), Some(Retry::List)),
                }
                show(&chat.part("list-loading"), false);
            });
        }

        fn load_more(&self) {
            let Some(cursor) = self.0.borrow().next.clone() else {
                return;
            };
            let button = self.part("load-more");
            enable(&button, false);
            set_text(&button, &words(&self.root(), "loading-more"));
            let chat = self.clone();
            spawn_local(async move {
                match conversations(Some(cursor)).await {
                    Ok((page, next)) => chat.add_to_list(page, next),
                    Err(refusal) => chat.problem(Some(&refusal), None),
                }
                enable(&button, true);
                set_text(&button, &words(&chat.root(), "load-more"));
            });
        }

        fn toggle_list(&self) {
            let open = self
                .part("list-panel")
                .class_list()
                .toggle("hidden")
                .is_ok_and(|hidden| !hidden);
            let _ = self
                .part("toggle-list")
                .set_attribute("aria-expanded", if open { "true" } else { "false" });
        }

        fn close_list(&self) {
            let _ = self.part("list-panel").class_list().add_1("hidden");
            let _ = self
                .part("toggle-list")
                .set_attribute("aria-expanded", "false");
        }

        /// Marks the open conversation's entry (`aria-current`).
        fn mark_current(&self) {
            let root = self.root();
            if let Ok(Some(marked)) = root.query_selector("[data-action=open][aria-current]") {
                let _ = marked.remove_attribute("aria-current");
            }
            let current = self.0.borrow().current.clone();
            if let Some(entry) = current.and_then(|id| self.list_entry(&id)) {
                let _ = part(&entry, "item-open").set_attribute("aria-current", "true");
            }
        }

        fn end_change(&self) {
            self.0.borrow_mut().changing = false;
            show(&self.part("rename-form"), false);
            show(&self.part("delete-confirm"), false);
            self.refresh();
        }

        /// Empties the log, the title and the address for conversation `current`.
        fn clear(&self, current: Option<String>, title: &str) {
            {
                let mut state = self.0.borrow_mut();
                state.current = current.clone();
                state.last_answer = None;
                state.last_message = None;
            }
            self.part("turns").set_text_content(None);
            set_text(&self.part("title"), title);
            show(&self.part("empty"), current.is_none());
            show_in_address(current.as_deref());
            self.problem(None, None);
            self.close_list();
            self.mark_current();
            self.end_change();
        }

        fn start_new(&self) {
            if self.answering() {
                return;
            }
            self.clear(None, &words(&self.root(), "new-conversation"));
            focus(&self.part("message"));
        }

        fn open(&self, id: String) {
            if self.answering() {
                return;
            }
            let title = self
                .list_entry(&id)
                .and_then(|entry| part(&entry, "item-title").text_content())
                .unwrap_or_default();
            self.clear(Some(id.clone()), &title);
            show(&self.part("opening"), true);
            let chat = self.clone();
            spawn_local(async move {
                let found = conversation(&id).await;
                if chat.0.borrow().current.as_deref() != Some(id.as_str()) {
                    return;
                }
                show(&chat.part("opening"), false);
                match found {
                    Ok((summary, turns)) => {
                        set_text(&chat.part("title"), &summary.title);
                        for turn in &turns {
                            if turn.assistant {
                                chat.add_answer(&turn.content, &turn.status, false);
                            } else {
                                chat.add_question(&turn.content);
                            }
                        }
                        show(&chat.part("empty"), turns.is_empty());
                        chat.refresh();
                    }
                    Err(refusal) => {
                        if refusal.code == "conversation_not_found" {
                            chat.clear(None, &words(&chat.root(), "new-conversation"));
                        }
                        chat.problem(Some(&refusal), None);
                    }
                }
            });
        }

        fn add_question(&self, message: &str) -> Element {
            let turn = from_template(&self.root(), "tpl-user");
            set_text(&part(&turn, "turn-text"), message);
            let _ = self.part("turns").append_child(&turn);
            self.0.borrow_mut().last_message = Some(message.to_string());
            turn
        }

        fn add_answer(&self, content: &str, status: &str, cut_at_limit: bool) {
            let root = self.root();
            let turn = from_template(&root, "tpl-assistant");
            render_into(&part(&turn, "turn-answer"), content);
            let _ = turn.set_attribute("data-status", status);
            let _ = turn.set_attribute("data-markdown", content);
            if let Some(note) = ending_note(&root, status, cut_at_limit) {
                let element = part(&turn, "turn-note");
                set_text(&element, &note);
                show(&element, true);
            }
            show(&part(&turn, "turn-copy"), !content.is_empty());
            let _ = self.part("turns").append_child(&turn);
            let previous = self.0.borrow_mut().last_answer.replace(turn);
            if let Some(previous) = previous {
                show(&part(&previous, "turn-regenerate"), false);
            }
        }

        /// The answer started in conversation `id`: it is the open one, first in the list.
        fn adopt(&self, id: String, message: &str) {
            if !plausible_id(&id) {
                return;
            }
            let title = conversation_title(message);
            let fresh = {
                let mut state = self.0.borrow_mut();
                let fresh = state.current.is_none();
                if fresh {
                    state.current = Some(id.clone());
                }
                fresh
            };
            if fresh {
                set_text(&self.part("title"), &title);
                show_in_address(Some(&id));
            }
            let entry = self
                .list_entry(&id)
                .unwrap_or_else(|| self.item(&id, &title, unix_now()));
            let list = self.part("list");
            let _ = list.insert_before(
                &entry,
                list.first_element_child()
                    .as_ref()
                    .map(|first| first.as_ref()),
            );
            self.show_list_state();
            self.mark_current();
        }

        /// Sends `raw` and streams the answer. `again`: the message is being asked again
        /// (Regenerate), so the box keeps what it holds.
        fn send(&self, raw: String, again: bool) {
            {
                let state = self.0.borrow();
                if !state.has_ai || state.abort.is_some() {
                    return;
                }
            }
            let root = self.root();
            let message = match parse_message(&raw) {
                Ok(message) => message,
                Err(error) => {
                    self.problem(Some(&Refusal::unsendable(error)), None);
                    focus(&part(&root, "message"));
                    return;
                }
            };
            let Ok(abort) = AbortController::new() else {
                return;
            };
            self.problem(None, None);
            self.end_change();
            let question = self.add_question(&message);
            if !again {
                self.message_box().set_value("");
            }
            show(&part(&root, "empty"), false);
            let streaming = part(&root, "streaming");
            let text = part(&root, "stream-text");
            text.set_text_content(None);
            show(&streaming, true);
            show(&part(&root, "typing"), true);
            let body = match self.0.borrow().current.as_deref() {
                Some(id) => json_body(&[("message", &message), ("conversation_id", id)]),
                None => json_body(&[("message", &message)]),
            };
            self.0.borrow_mut().abort = Some(abort.clone());
            self.refresh();
            // The box is disabled now: the keyboard goes on from Stop.
            focus(&part(&root, "stop"));
            follow_end();
            let chat = self.clone();
            spawn_local(async move {
                let mut streaming_text = StreamingText::new(text.clone());
                let finish = stream_answer(CHAT_PATH, body, &abort, |piece| match piece {
                    Piece::Start(id) => chat.adopt(id, &message),
                    Piece::Text(piece) => streaming_text.push(&piece),
                })
                .await;
                let shown = streaming_text.finish();
                chat.0.borrow_mut().abort = None;
                show(&streaming, false);
                show(&part(&root, "typing"), false);
                text.set_text_content(None);
                match finish {
                    Err(refusal) => {
                        // Nothing was kept: the message goes back in the box.
                        question.remove();
                        if !again {
                            chat.message_box().set_value(&message);
                        }
                        let none_left = chat.part("turns").first_element_child().is_none();
                        show(&chat.part("empty"), none_left);
                        let retry = refusal.retryable().then_some(Retry::Send(message));
                        chat.problem(Some(&refusal), retry);
                    }
                    Ok(finish) => {
                        let (status, cut_at_limit, problem, meter) = match finish {
                            Finish::Ended(ending) => (
                                ending.status,
                                ending.cut_at_limit,
                                ending.error,
                                ending.meter,
                            ),
                            Finish::Stopped => ("stopped".into(), false, None, None),
                            Finish::Lost => (
                                "failed".into(),
                                false,
                                Some(Refusal::ours("stream_lost")),
                                None,
                            ),
                        };
                        chat.add_answer(&shown, &status, cut_at_limit);
                        match meter {
                            Some(meter) => {
                                let has_ai = show_meter(&root, meter);
                                chat.0.borrow_mut().has_ai = has_ai;
                            }
                            None => {
                                let later = chat.clone();
                                set_timeout(move || later.read_meter(), METER_AFTER_STOP);
                            }
                        }
                        if let Some(problem) = problem {
                            chat.problem(Some(&problem), Some(Retry::Regenerate));
                        }
                    }
                }
                chat.refresh();
                focus(&chat.part("message"));
            });
        }

        /// Asks the last message again, as a new turn.
        fn regenerate(&self) {
            let last = self.0.borrow().last_message.clone();
            if let Some(message) = last {
                self.send(message, true);
            }
        }

        fn retry(&self) {
            let retry = self.0.borrow_mut().retry.take();
            match retry {
                Some(Retry::Send(message)) => self.send(message, false),
                Some(Retry::Regenerate) => self.regenerate(),
                Some(Retry::List) => {
                    self.problem(None, None);
                    self.read_list();
                }
                None => {}
            }
        }

        fn copy(&self, button: &Element) {
            let Some(text) = button
                .closest("article")
                .ok()
                .flatten()
                .and_then(|turn| turn.get_attribute("data-markdown"))
            else {
                return;
            };
            copy_and_confirm(self.root(), part(button, "copy-label"), text);
        }

        fn begin_rename(&self) {
            let title = self.part("title").text_content().unwrap_or_default();
            let input = self.part("title-input");
            input.unchecked_ref::<HtmlInputElement>().set_value(&title);
            self.0.borrow_mut().changing = true;
            show(&self.part("rename-form"), true);
            self.refresh();
            focus(&input);
        }

        fn rename(&self) {
            let Some(id) = self.0.borrow().current.clone() else {
                return;
            };
            let title = self
                .part("title-input")
                .unchecked_into::<HtmlInputElement>()
                .value();
            let chat = self.clone();
            spawn_local(async move {
                match rename(&id, &title).await {
                    Ok(kept) => {
                        set_text(&chat.part("title"), &kept);
                        if let Some(entry) = chat.list_entry(&id) {
                            set_text(&part(&entry, "item-title"), &kept);
                        }
                        chat.problem(None, None);
                        chat.end_change();
                    }
                    Err(refusal) => chat.problem(Some(&refusal), None),
                }
            });
        }

        fn delete(&self) {
            let Some(id) = self.0.borrow().current.clone() else {
                return;
            };
            let confirm = self.part("delete-yes");
            enable(&confirm, false);
            let chat = self.clone();
            spawn_local(async move {
                match delete(&id).await {
                    Ok(()) => {
                        if let Some(entry) = chat.list_entry(&id) {
                            entry.remove();
                        }
                        chat.show_list_state();
                        chat.start_new();
                    }
                    Err(refusal) => chat.problem(Some(&refusal), None),
                }
                enable(&confirm, true);
            });
        }
    }
}
