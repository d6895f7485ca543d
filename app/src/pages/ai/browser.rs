//! What both AI islands do in the browser: find and change the markup the server rendered
//! (every word and class in it is the server's, so none of it is in the WASM), and talk to the
//! AI routes with the browser's own `fetch`, `ReadableStream` and `JSON.parse` (no HTTP client
//! crate, no serde). Every request names the page's language (`?lang=`), so refusals come back
//! in the words the page is in.
//!
//! Every browser API called here is an import of the main WASM module, which every page
//! downloads: the code keeps to few of them (unchecked casts instead of `instanceof` checks on
//! our own markup, `Date.now` for every clock, string work in Rust).

use leptos::__reexports::wasm_bindgen_futures::JsFuture;
use leptos::wasm_bindgen::{JsCast, JsValue};
pub use leptos::web_sys::AbortController;
use leptos::web_sys::js_sys::{Array, Date, JSON, Reflect, Uint8Array};
use leptos::web_sys::{
    Element, EventTarget, HtmlElement, HtmlTemplateElement, ReadableStreamDefaultReader, Request,
    RequestInit, Response,
};

use super::wire::EventReader;
pub use super::wire::json_body;
use crate::ai::{CONVERSATIONS_PATH, USAGE_PATH};
use crate::i18n::{format_count, format_date, use_locale};

// ---------------------------------------------------------------------------------------------
// The page's markup

/// `[data-ai="name"]` inside `root`; a detached element when the markup has none, so a missing
/// piece shows nothing rather than stopping the page.
pub fn part(root: &Element, name: &str) -> Element {
    root.query_selector(&format!("[data-ai=\"{name}\"]"))
        .ok()
        .flatten()
        .unwrap_or_else(detached)
}

fn detached() -> Element {
    leptos::prelude::document()
        .create_element("div")
        .expect("a document can create a div")
}

pub fn show(element: &Element, shown: bool) {
    let _ = element.toggle_attribute_with_force("hidden", !shown);
}

pub fn enable(element: &Element, enabled: bool) {
    let _ = element.toggle_attribute_with_force("disabled", !enabled);
}

pub fn set_text(element: &Element, text: &str) {
    element.set_text_content(Some(text));
}

/// Focuses `element`, one of our buttons or inputs.
pub fn focus(element: &Element) {
    let _ = element.unchecked_ref::<HtmlElement>().focus();
}

/// Calls `handler` on every `name` event at `target`, for the page's life.
pub fn listen(
    target: &EventTarget,
    name: &str,
    handler: impl FnMut(leptos::web_sys::Event) + 'static,
) {
    let handler =
        leptos::wasm_bindgen::closure::Closure::<dyn FnMut(leptos::web_sys::Event)>::new(handler);
    let _ = target.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
    handler.forget();
}

/// The element an event happened on.
pub fn target_of(event: &leptos::web_sys::Event) -> Option<Element> {
    event.target().and_then(|target| target.dyn_into().ok())
}

/// The page's words for `key`: the `data-t-<key>` attribute of whichever element inside
/// `root` carries it.
pub fn words(root: &Element, key: &str) -> String {
    let attribute = format!("data-t-{key}");
    root.query_selector(&format!("[{attribute}]"))
        .ok()
        .flatten()
        .and_then(|element| element.get_attribute(&attribute))
        .unwrap_or_default()
}

/// A copy of the first element of `<template data-ai="name">` (the markup always has it).
pub fn from_template(root: &Element, name: &str) -> Element {
    part(root, name)
        .unchecked_into::<HtmlTemplateElement>()
        .content()
        .first_element_child()
        .and_then(|element| element.clone_node_with_deep(true).ok())
        .map(|node| node.unchecked_into::<Element>())
        .unwrap_or_else(detached)
}

/// Milliseconds since 1970.
pub fn now_ms() -> f64 {
    Date::now()
}

/// Seconds since 1970.
pub fn unix_now() -> i64 {
    (Date::now() / 1000.0) as i64
}

/// Shows `conversation` in the address (`?c=<id>`, the rest of the query kept) without loading
/// a page, so a reload or a shared link opens the same one.
pub fn show_in_address(conversation: Option<&str>) {
    let window = leptos::prelude::window();
    let location = window.location();
    let (Ok(path), Ok(search)) = (location.pathname(), location.search()) else {
        return;
    };
    let open = conversation.map(|id| format!("c={id}"));
    let query: Vec<&str> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("c="))
        .chain(open.as_deref())
        .collect();
    let address = if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&address));
    }
}

/// Scrolls to the page's end when the reader is already near it, so a growing answer stays in
/// view without pulling away someone who scrolled up to read.
pub fn follow_end() {
    let window = leptos::prelude::window();
    let Some(root) = leptos::prelude::document().document_element() else {
        return;
    };
    let bottom = window.scroll_y().unwrap_or(0.0)
        + window
            .inner_height()
            .ok()
            .and_then(|height| height.as_f64())
            .unwrap_or(0.0);
    let height = f64::from(root.scroll_height());
    if height - bottom < 160.0 {
        window.scroll_to_with_x_and_y(0.0, height);
    }
}

/// Puts `text` on the clipboard; once it is there, `label` says so for two seconds (in the
/// words of `root`'s page).
pub fn copy_and_confirm(root: Element, label: Element, text: String) {
    leptos::task::spawn_local(async move {
        let clipboard = leptos::prelude::window().navigator().clipboard();
        if JsFuture::from(clipboard.write_text(&text)).await.is_ok() {
            set_text(&label, &words(&root, "copied"));
            leptos::prelude::set_timeout(
                move || set_text(&label, &words(&root, "copy")),
                std::time::Duration::from_secs(2),
            );
        }
    });
}

/// An answer as it streams in, drawn (as Markdown) into its element at most every
/// [`StreamingText::REDRAW_EVERY_MS`]: often enough to read as it comes, rarely enough that a
/// long answer is not rendered again for every word.
pub struct StreamingText {
    into: Element,
    shown: String,
    pending: String,
    drawn_at: f64,
}

impl StreamingText {
    const REDRAW_EVERY_MS: f64 = 60.0;

    pub fn new(into: Element) -> Self {
        Self {
            into,
            shown: String::new(),
            pending: String::new(),
            drawn_at: now_ms(),
        }
    }

    /// Adds `piece`, and draws everything so far when the last drawing is old enough.
    pub fn push(&mut self, piece: &str) {
        self.pending.push_str(piece);
        if now_ms() - self.drawn_at >= Self::REDRAW_EVERY_MS {
            self.shown.push_str(&self.pending);
            self.pending.clear();
            crate::components::markdown::render_into(&self.into, &self.shown);
            self.drawn_at = now_ms();
            follow_end();
        }
    }

    /// The whole text, drawn or not.
    pub fn finish(mut self) -> String {
        self.shown.push_str(&self.pending);
        self.shown
    }
}

// ---------------------------------------------------------------------------------------------
// What the routes answer

/// Why a request got no answer to show: the route's refusal (its `message` already in the
/// page's language) or, with an empty message, one of ours that the page words
/// (`unreachable`, `unavailable`, `stream_lost`, `message_missing`, `message_too_long`).
#[derive(Clone, Debug)]
pub struct Refusal {
    /// The HTTP status; 0 when the server was not reached.
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Refusal {
    pub fn ours(code: &str) -> Self {
        Refusal {
            status: 0,
            code: code.into(),
            message: String::new(),
        }
    }

    /// A message the browser already found unsendable (empty or too long).
    pub fn unsendable(error: crate::ai::AiError) -> Self {
        Refusal::ours(if error == crate::ai::AiError::MessageTooLong {
            "message_too_long"
        } else {
            "message_missing"
        })
    }

    /// Whether asking again soon may well work.
    pub fn retryable(&self) -> bool {
        matches!(
            self.code.as_str(),
            "provider_busy" | "unavailable" | "unreachable" | "stream_lost"
        )
    }
}

/// This month's AI tokens.
#[derive(Clone, Copy, Debug)]
pub struct Meter {
    pub used: u64,
    /// `None`: unlimited; `Some(0)`: the plan has no AI.
    pub allowance: Option<u64>,
    pub resets_at: i64,
}

/// How an answer ended (`end` event).
pub struct Ending {
    /// `complete`, `stopped` or `failed`.
    pub status: String,
    pub cut_at_limit: bool,
    pub meter: Option<Meter>,
    pub error: Option<Refusal>,
}

/// How a stream finished.
pub enum Finish {
    Ended(Ending),
    /// The person stopped it.
    Stopped,
    /// The connection dropped before the `end`.
    Lost,
}

pub struct Summary {
    pub id: String,
    pub title: String,
    pub updated_at: i64,
}

pub struct StoredTurn {
    pub assistant: bool,
    pub content: String,
    pub status: String,
}

fn field(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn text_field(value: &JsValue, key: &str) -> Option<String> {
    field(value, key).as_string()
}

fn number_field(value: &JsValue, key: &str) -> Option<f64> {
    field(value, key).as_f64().filter(|n| n.is_finite())
}

fn api_url(path: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}lang={}", use_locale().code())
}

async fn fetch(
    method: &str,
    path: &str,
    body: Option<&str>,
    abort: Option<&AbortController>,
) -> Result<Response, JsValue> {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    if let Some(abort) = abort {
        init.set_signal(Some(&abort.signal()));
    }
    let request = Request::new_with_str_and_init(&api_url(path), &init)?;
    let headers = request.headers();
    headers.set("Accept", "application/json, text/event-stream")?;
    if body.is_some() {
        headers.set("Content-Type", "application/json")?;
    }
    JsFuture::from(leptos::prelude::window().fetch_with_request(&request))
        .await?
        .dyn_into()
}

async fn text_of(response: &Response) -> Option<String> {
    JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()
}

/// The refusal an answer that is not 2xx carries.
async fn refusal_of(response: &Response) -> Refusal {
    let body = text_of(response)
        .await
        .and_then(|text| JSON::parse(&text).ok())
        .unwrap_or(JsValue::NULL);
    match (text_field(&body, "code"), text_field(&body, "message")) {
        (Some(code), Some(message)) if !message.is_empty() => Refusal {
            status: response.status(),
            code,
            message,
        },
        _ => Refusal {
            status: response.status(),
            ..Refusal::ours("unavailable")
        },
    }
}

/// A JSON request; `Ok(NULL)` for an answer without a body.
async fn request_json(method: &str, path: &str, body: Option<&str>) -> Result<JsValue, Refusal> {
    let response = fetch(method, path, body, None)
        .await
        .map_err(|_| Refusal::ours("unreachable"))?;
    if !response.ok() {
        return Err(refusal_of(&response).await);
    }
    if response.status() == 204 {
        return Ok(JsValue::NULL);
    }
    let text = text_of(&response)
        .await
        .ok_or_else(|| Refusal::ours("unreachable"))?;
    JSON::parse(&text).map_err(|_| Refusal::ours("unavailable"))
}

fn present(value: &JsValue) -> bool {
    !value.is_null() && !value.is_undefined()
}

fn meter_of(value: &JsValue) -> Option<Meter> {
    if !present(value) {
        return None;
    }
    Some(Meter {
        used: number_field(value, "used")?.max(0.0) as u64,
        allowance: number_field(value, "allowance").map(|n| n.max(0.0) as u64),
        resets_at: number_field(value, "resets_at")? as i64,
    })
}

/// `GET /api/ai/usage`.
pub async fn usage() -> Result<Meter, Refusal> {
    let value = request_json("GET", USAGE_PATH, None).await?;
    meter_of(&value).ok_or_else(|| Refusal::ours("unavailable"))
}

fn summary_of(value: &JsValue) -> Option<Summary> {
    Some(Summary {
        id: text_field(value, "id")?,
        title: text_field(value, "title").unwrap_or_default(),
        updated_at: text_field(value, "updated_at")
            .map(|at| Date::parse(&at))
            .filter(|ms| ms.is_finite())
            .map_or(0, |ms| (ms / 1000.0) as i64),
    })
}

/// A conversation id (or a list cursor, `<micros>,<id>`) as the routes make them: safe in an
/// address and a selector as it is. Anything else is not used.
pub fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 80
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b',')
}

/// `GET /api/ai/conversations[?before=]`: a page, newest first, and the next page's cursor.
pub async fn conversations(
    before: Option<String>,
) -> Result<(Vec<Summary>, Option<String>), Refusal> {
    let path = match before {
        Some(cursor) => format!("{CONVERSATIONS_PATH}?before={cursor}"),
        None => CONVERSATIONS_PATH.to_string(),
    };
    let value = request_json("GET", &path, None).await?;
    let list = Array::from(&field(&value, "conversations"))
        .iter()
        .filter_map(|item| summary_of(&item))
        .filter(|summary| plausible_id(&summary.id))
        .collect();
    let next = text_field(&value, "next").filter(|cursor| plausible_id(cursor));
    Ok((list, next))
}

fn conversation_path(id: &str) -> String {
    format!("{CONVERSATIONS_PATH}/{id}")
}

/// `GET /api/ai/conversations/{id}`: its title and turns, oldest first.
pub async fn conversation(id: &str) -> Result<(Summary, Vec<StoredTurn>), Refusal> {
    let value = request_json("GET", &conversation_path(id), None).await?;
    let summary =
        summary_of(&field(&value, "conversation")).ok_or_else(|| Refusal::ours("unavailable"))?;
    let turns = Array::from(&field(&value, "messages"))
        .iter()
        .map(|turn| StoredTurn {
            assistant: text_field(&turn, "role").as_deref() == Some("assistant"),
            content: text_field(&turn, "content").unwrap_or_default(),
            status: text_field(&turn, "status").unwrap_or_default(),
        })
        .collect();
    Ok((summary, turns))
}

/// `PATCH /api/ai/conversations/{id}` `{title}`: the title as kept.
pub async fn rename(id: &str, title: &str) -> Result<String, Refusal> {
    let body = json_body(&[("title", title)]);
    let value = request_json("PATCH", &conversation_path(id), Some(&body)).await?;
    Ok(text_field(&value, "title").unwrap_or_else(|| title.to_string()))
}

/// `DELETE /api/ai/conversations/{id}`.
pub async fn delete(id: &str) -> Result<(), Refusal> {
    request_json("DELETE", &conversation_path(id), None)
        .await
        .map(drop)
}

/// A piece of a streamed answer handed on as it arrives.
pub enum Piece {
    /// The conversation the answer belongs to (`start`).
    Start(String),
    Text(String),
}

/// Posts `body` to `path` and hands `on_piece` each piece of the streamed answer as it
/// arrives. A refusal before the answer starts is `Err`; `abort` stops the request (the server
/// then stops the provider and counts what was produced).
pub async fn stream_answer(
    path: &str,
    body: String,
    abort: &AbortController,
    mut on_piece: impl FnMut(Piece),
) -> Result<Finish, Refusal> {
    let response = match fetch("POST", path, Some(&body), Some(abort)).await {
        Ok(response) => response,
        Err(_) if abort.signal().aborted() => return Ok(Finish::Stopped),
        Err(_) => return Err(Refusal::ours("unreachable")),
    };
    if !response.ok() {
        return Err(refusal_of(&response).await);
    }
    let reader = response
        .body()
        .and_then(|body| ReadableStreamDefaultReader::new(&body).ok())
        .ok_or_else(|| Refusal::ours("unreachable"))?;
    let mut events = EventReader::default();
    loop {
        let chunk = match JsFuture::from(reader.read()).await {
            Ok(chunk) => chunk,
            Err(_) if abort.signal().aborted() => return Ok(Finish::Stopped),
            Err(_) => return Ok(Finish::Lost),
        };
        if !field(&chunk, "done").is_falsy() {
            return Ok(Finish::Lost);
        }
        let bytes = Uint8Array::new(&field(&chunk, "value")).to_vec();
        for (name, data) in events.feed(&bytes) {
            let Ok(value) = JSON::parse(&data) else {
                continue;
            };
            match name.as_str() {
                "start" => on_piece(Piece::Start(
                    text_field(&value, "conversation_id").unwrap_or_default(),
                )),
                "text" => {
                    if let Some(text) = text_field(&value, "text") {
                        on_piece(Piece::Text(text));
                    }
                }
                "end" => {
                    let error = field(&value, "error");
                    return Ok(Finish::Ended(Ending {
                        status: text_field(&value, "status").unwrap_or_default(),
                        cut_at_limit: !field(&value, "cut_at_limit").is_falsy(),
                        meter: meter_of(&field(&value, "meter")),
                        error: present(&error).then(|| Refusal {
                            status: 200,
                            code: text_field(&error, "code").unwrap_or_default(),
                            message: text_field(&error, "message").unwrap_or_default(),
                        }),
                    }));
                }
                _ => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What both pages show

/// Fills the usage meter; for a plan without AI hides it and shows the way to the plans
/// instead. `true` when the plan has AI.
pub fn show_meter(root: &Element, meter: Meter) -> bool {
    let locale = use_locale();
    let has_ai = meter.allowance != Some(0);
    show(&part(root, "meter"), has_ai);
    show(&part(root, "no-plan"), !has_ai);
    if !has_ai {
        return false;
    }
    let used = format_count(meter.used, locale);
    let reading = match meter.allowance {
        Some(allowance) => words(root, "meter-of")
            .replace("{used}", &used)
            .replace("{allowance}", &format_count(allowance, locale)),
        None => words(root, "meter-unlimited").replace("{used}", &used),
    };
    show(&part(root, "meter-loading"), false);
    let reading_element = part(root, "meter-reading");
    set_text(&reading_element, &reading);
    show(&reading_element, true);
    let resets = part(root, "meter-resets");
    set_text(
        &resets,
        &words(root, "meter-resets").replace("{date}", &format_date(meter.resets_at, locale)),
    );
    show(&resets, true);
    let bar = part(root, "meter-bar");
    if let Some(allowance) = meter.allowance {
        let percent = (meter.used.saturating_mul(100) / allowance.max(1)).min(100);
        let _ = bar.set_attribute("aria-valuenow", &percent.to_string());
        let fill = part(root, "meter-fill");
        let _ = fill.set_attribute("style", &format!("width: {percent}%"));
        let _ = fill
            .class_list()
            .toggle_with_force("bg-red-500", percent >= 90);
    }
    show(&bar, meter.allowance.is_some());
    true
}

/// Shows `problem` (or clears it) with its next step: the plans for a plan without AI or a
/// spent allowance, sign-in for a lapsed session, "Try again" when trying again may work. A
/// limit's message already says how long to wait.
pub fn show_problem(root: &Element, problem: Option<&Refusal>) {
    let alert = part(root, "problem");
    show(&alert, problem.is_some());
    let Some(problem) = problem else {
        return;
    };
    let message = if problem.message.is_empty() {
        words(root, &problem.code)
    } else {
        problem.message.clone()
    };
    set_text(&part(root, "problem-text"), &message);
    let _ = alert.set_attribute("data-code", &problem.code);
    let signed_out = problem.status == 401 || problem.code == "not_signed_in";
    show(&part(root, "problem-sign-in"), signed_out);
    show(
        &part(root, "problem-upgrade"),
        matches!(problem.code.as_str(), "plan_without_ai" | "quota_reached"),
    );
    show(&part(root, "problem-retry"), problem.retryable());
}

/// The note under an answer that did not end normally, in the page's words.
pub fn ending_note(root: &Element, status: &str, cut_at_limit: bool) -> Option<String> {
    match status {
        "stopped" => Some(words(root, "stopped")),
        "failed" => Some(words(root, "failed")),
        _ if cut_at_limit => Some(words(root, "cut")),
        _ => None,
    }
}
