//! The one-shot templates: choose what to write, give notes, and the text streams in from
//! `POST /api/ai/generate` as safe Markdown, to stop or copy.

use leptos::prelude::*;

use super::{
    ANSWER_BOX, Actions, MARKDOWN, Problem, SMALL_BUTTON, SharedWords, TEXT_BOX, Typing, UsageMeter,
};
use crate::ai::{GENERATE_PAGE, MESSAGE_MAX, Template};
use crate::components::island::query_value;
use crate::i18n::{Locale, use_locale};
use crate::t;

/// A template's name, what it writes, and what to give it.
fn template_words(template: Template, locale: Locale) -> [&'static str; 3] {
    match template {
        Template::ProductDescription => [
            t!(locale, ai.product_description.name),
            t!(locale, ai.product_description.lead),
            t!(locale, ai.product_description.input_hint),
        ],
        Template::EmailReply => [
            t!(locale, ai.email_reply.name),
            t!(locale, ai.email_reply.lead),
            t!(locale, ai.email_reply.input_hint),
        ],
        Template::SocialPost => [
            t!(locale, ai.social_post.name),
            t!(locale, ai.social_post.lead),
            t!(locale, ai.social_post.input_hint),
        ],
    }
}

/// The templates page's markup, rendered by the server in the page's language; [`live`]
/// brings it to life. `?template=<code>` chooses the template.
#[component]
pub fn GenerateMarkup() -> impl IntoView {
    let locale = use_locale();
    let chosen = query_value("template")
        .and_then(|code| Template::from_code(&code))
        .unwrap_or(Template::ProductDescription);
    let choices = Template::ALL
        .into_iter()
        .map(|template| {
            let [name, lead, hint] = template_words(template, locale);
            let id = format!("ai-template-{}", template.code());
            let label_for = id.clone();
            view! {
                <label
                    for=label_for
                    class="flex cursor-pointer gap-3 rounded-lg border border-slate-200 p-3 text-sm transition has-[:checked]:border-amber-500 has-[:checked]:bg-amber-50 has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-amber-500 dark:border-slate-800 dark:has-[:checked]:bg-amber-400/10"
                >
                    <input
                        id=id
                        type="radio"
                        name="template"
                        value=template.code()
                        checked=template == chosen
                        data-hint=hint
                        class="mt-1 accent-amber-500"
                    />
                    <span>
                        <span class="block font-semibold">{name}</span>
                        <span class="block text-slate-600 dark:text-slate-300">{lead}</span>
                    </span>
                </label>
            }
        })
        .collect_view();
    view! {
        <div data-ai="generate" class="grid gap-6 lg:grid-cols-2">
            <SharedWords/>
            <div class="min-w-0 space-y-4">
                <UsageMeter/>
                <form data-ai="generate-form" data-testid="ai-generate-form" class="space-y-4">
                    <fieldset class="space-y-2">
                        <legend class="mb-2 text-sm font-medium text-slate-700 dark:text-slate-200">{t!(locale, ai.template_label)}</legend>
                        {choices}
                    </fieldset>
                    <div>
                        <label for="ai-input" class="block text-sm font-medium text-slate-700 dark:text-slate-200">{t!(locale, ai.input_label)}</label>
                        <textarea
                            id="ai-input"
                            name="input"
                            data-ai="input"
                            data-testid="ai-input"
                            rows="6"
                            maxlength=MESSAGE_MAX
                            aria-describedby="ai-input-hint"
                            disabled
                            class=TEXT_BOX
                        ></textarea>
                        <p id="ai-input-hint" data-ai="input-hint" class="mt-1 text-xs text-slate-500 dark:text-slate-400">
                            {template_words(chosen, locale)[2]}
                        </p>
                    </div>
                    <Actions label=t!(locale, ai.generate) testid="ai-generate"/>
                </form>
            </div>
            <section aria-labelledby="ai-result-title" class="min-w-0 space-y-3">
                <h2 id="ai-result-title" class="text-lg font-semibold">{t!(locale, ai.result_title)}</h2>
                <Problem page=GENERATE_PAGE/>
                <div class=format!("{ANSWER_BOX} min-h-32")>
                    <p data-ai="result-empty" class="text-slate-500 dark:text-slate-400">{t!(locale, ai.result_empty)}</p>
                    <div data-ai="result" data-testid="ai-result" aria-live="polite" class=MARKDOWN></div>
                </div>
                <Typing/>
                <p data-ai="note" data-testid="ai-note" hidden class="text-xs text-slate-600 dark:text-slate-300"></p>
                <button type="button" data-ai="copy" data-action="copy" data-testid="ai-copy" hidden class=SMALL_BUTTON>
                    <span data-ai="copy-label" aria-live="polite">{t!(locale, ai.copy)}</span>
                </button>
            </section>
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
    use leptos::web_sys::{Element, Event, HtmlTextAreaElement};

    use super::super::browser::{
        AbortController, Finish, Piece, Refusal, StreamingText, copy_and_confirm, enable,
        ending_note, focus, json_body, listen, part, set_text, show, show_meter, show_problem,
        stream_answer, target_of, usage,
    };
    use crate::ai::{GENERATE_PATH, parse_message};
    use crate::components::markdown::render_into;

    const METER_AFTER_STOP: Duration = Duration::from_millis(1500);

    struct State {
        root: Element,
        has_ai: bool,
        abort: Option<AbortController>,
        /// The text shown, for Copy.
        text: String,
    }

    #[derive(Clone)]
    struct Generator(Rc<RefCell<State>>);

    /// Brings the templates markup in `root` to life.
    pub fn wake(root: Element) {
        let generator = Generator(Rc::new(RefCell::new(State {
            root: root.clone(),
            has_ai: true,
            abort: None,
            text: String::new(),
        })));
        listen(&root, "submit", {
            let generator = generator.clone();
            move |event| {
                event.prevent_default();
                generator.generate();
            }
        });
        listen(&root, "click", {
            let generator = generator.clone();
            move |event| generator.clicked(event)
        });
        // The hint under the notes follows the chosen template.
        listen(&root, "change", {
            let root = root.clone();
            move |event| {
                if let Some(hint) =
                    target_of(&event).and_then(|input| input.get_attribute("data-hint"))
                {
                    set_text(&part(&root, "input-hint"), &hint);
                }
            }
        });
        generator.refresh();
        generator.read_meter();
    }

    impl Generator {
        fn root(&self) -> Element {
            self.0.borrow().root.clone()
        }

        fn refresh(&self) {
            let (has_ai, writing) = {
                let state = self.0.borrow();
                (state.has_ai, state.abort.is_some())
            };
            let root = self.root();
            let free = has_ai && !writing;
            enable(&part(&root, "input"), free);
            let submit = part(&root, "submit");
            enable(&submit, free);
            let _ = submit.toggle_attribute_with_force("aria-busy", writing);
            show(&part(&root, "spinner"), writing);
            show(&part(&root, "stop"), writing);
            show(&part(&root, "typing"), writing);
            let has_text = !self.0.borrow().text.is_empty();
            show(&part(&root, "copy"), !writing && has_text);
        }

        fn read_meter(&self) {
            let generator = self.clone();
            spawn_local(async move {
                let root = generator.root();
                match usage().await {
                    Ok(meter) => {
                        let has_ai = show_meter(&root, meter);
                        generator.0.borrow_mut().has_ai = has_ai;
                        generator.refresh();
                    }
                    Err(refusal) if refusal.status == 401 => show_problem(&root, Some(&refusal)),
                    Err(_) => show(&part(&root, "meter"), false),
                }
            });
        }

        fn clicked(&self, event: Event) {
            let Some(button) =
                target_of(&event).and_then(|target| target.closest("[data-action]").ok().flatten())
            else {
                return;
            };
            match button.get_attribute("data-action").as_deref() {
                Some("stop") => {
                    if let Some(abort) = &self.0.borrow().abort {
                        abort.abort();
                    }
                }
                Some("retry") => self.generate(),
                Some("copy") => {
                    let text = self.0.borrow().text.clone();
                    copy_and_confirm(self.root(), part(&button, "copy-label"), text);
                }
                _ => {}
            }
        }

        fn generate(&self) {
            {
                let state = self.0.borrow();
                if !state.has_ai || state.abort.is_some() {
                    return;
                }
            }
            let root = self.root();
            let notes = part(&root, "input")
                .unchecked_into::<HtmlTextAreaElement>()
                .value();
            let notes = match parse_message(&notes) {
                Ok(notes) => notes,
                Err(error) => {
                    show_problem(&root, Some(&Refusal::unsendable(error)));
                    focus(&part(&root, "input"));
                    return;
                }
            };
            let template = root
                .query_selector("input[name=template]:checked")
                .ok()
                .flatten()
                .and_then(|input| input.get_attribute("value"))
                .unwrap_or_default();
            let Ok(abort) = AbortController::new() else {
                return;
            };
            show_problem(&root, None);
            show(&part(&root, "note"), false);
            show(&part(&root, "result-empty"), false);
            let result = part(&root, "result");
            result.set_text_content(None);
            {
                let mut state = self.0.borrow_mut();
                state.abort = Some(abort.clone());
                state.text.clear();
            }
            self.refresh();
            focus(&part(&root, "stop"));
            let body = json_body(&[("template", &template), ("input", &notes)]);
            let generator = self.clone();
            spawn_local(async move {
                let mut streaming_text = StreamingText::new(result.clone());
                let finish = stream_answer(GENERATE_PATH, body, &abort, |piece| {
                    if let Piece::Text(piece) = piece {
                        streaming_text.push(&piece);
                    }
                })
                .await;
                let shown = streaming_text.finish();
                render_into(&result, &shown);
                show(&part(&root, "result-empty"), shown.is_empty());
                let (ending, problem, meter) = match finish {
                    Err(refusal) => (None, Some(refusal), None),
                    Ok(Finish::Ended(ending)) => (
                        ending_note(&root, &ending.status, ending.cut_at_limit),
                        ending.error,
                        ending.meter,
                    ),
                    Ok(Finish::Stopped) => (ending_note(&root, "stopped", false), None, None),
                    Ok(Finish::Lost) => (
                        ending_note(&root, "failed", false),
                        Some(Refusal::ours("stream_lost")),
                        None,
                    ),
                };
                {
                    let mut state = generator.0.borrow_mut();
                    state.abort = None;
                    state.text = shown;
                }
                if let Some(note) = ending {
                    let element = part(&root, "note");
                    set_text(&element, &note);
                    show(&element, true);
                }
                show_problem(&root, problem.as_ref());
                match meter {
                    Some(meter) => {
                        let has_ai = show_meter(&root, meter);
                        generator.0.borrow_mut().has_ai = has_ai;
                    }
                    None => {
                        let later = generator.clone();
                        set_timeout(move || later.read_meter(), METER_AFTER_STOP);
                    }
                }
                generator.refresh();
                focus(&part(&root, "input"));
            });
        }
    }
}
