//! A form that posts to a server function and shows the answer in place, the way `ActionForm`
//! does, at a fraction of the WASM: the browser encodes the form itself (as it would without
//! JavaScript) and its own `JSON.parse` reads the answer, so neither the server-function client
//! nor serde ships to the browser. Without JavaScript, or before the island wakes, the same
//! `<form>` posts natively and the server answers with a page.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
#[cfg(feature = "hydrate")]
use leptos::server_fn::error::FromServerFnError;

use crate::refusal::WireError;

/// One form's server function: whether it runs, how many answers came back, and the latest.
pub struct FormAction<S: ServerFn> {
    pending: RwSignal<bool>,
    version: RwSignal<usize>,
    value: RwSignal<Option<Result<Answer, S::Error>>>,
}

/// A server function's answer, as far as a form needs it: that it came, and the JSON string it
/// was, if it was one (a unit variant of an enum, e.g. `"LinksSent"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub string: Option<String>,
}

impl<S: ServerFn> Clone for FormAction<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: ServerFn> Copy for FormAction<S> {}

impl<S> FormAction<S>
where
    S: ServerFn + 'static,
    S::Error: From<WireError> + Send + Sync + 'static,
{
    pub fn new() -> Self {
        Self {
            pending: RwSignal::new(false),
            version: RwSignal::new(0),
            value: RwSignal::new(None),
        }
    }

    /// True from sending the form until its answer is in (and while a redirect it asked for
    /// loads the next page).
    pub fn pending(&self) -> Signal<bool> {
        self.pending.into()
    }

    /// How many answers came back; 0 until the form was sent from this page.
    pub fn version(&self) -> ReadSignal<usize> {
        self.version.read_only()
    }

    /// The latest answer.
    pub fn value(&self) -> ReadSignal<Option<Result<Answer, S::Error>>> {
        self.value.read_only()
    }

    /// `message` while the latest answer is a success and no newer one is on its way.
    pub fn success_message(&self, message: &'static str) -> Signal<Option<String>> {
        let (pending, value) = (self.pending, self.value);
        Signal::derive(move || {
            (!pending.get() && value.with(|value| matches!(value, Some(Ok(_)))))
                .then(|| message.to_string())
        })
    }

    #[cfg(feature = "hydrate")]
    fn submit(self, event: leptos::ev::SubmitEvent) {
        use leptos::wasm_bindgen::JsCast;
        use leptos::web_sys::HtmlFormElement;

        if event.default_prevented() {
            return;
        }
        // Without the form element the browser posts it natively.
        let Some(form) = event
            .target()
            .and_then(|target| target.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        event.prevent_default();
        if self.pending.get_untracked() {
            return;
        }
        self.pending.set(true);
        leptos::task::spawn_local(async move {
            let answer =
                match browser::post(&form, S::url()).await {
                    Ok(browser::Posted::Redirect(location)) => {
                        // Stays pending while the next page loads.
                        if window().location().set_href(&location).is_ok() {
                            return;
                        }
                        Err(unreachable::<S::Error>())
                    }
                    Ok(browser::Posted::Answer(body)) => Ok(Answer {
                        string: browser::json(&body).and_then(|value| value.as_string()),
                    }),
                    Ok(browser::Posted::Refused(body)) => Err(browser::wire_error(&body)
                        .map_or_else(unreachable::<S::Error>, S::Error::from)),
                    Err(()) => Err(unreachable::<S::Error>()),
                };
            self.value.set(Some(answer));
            self.version.update(|version| *version += 1);
            self.pending.set(false);
        });
    }
}

impl<S> Default for FormAction<S>
where
    S: ServerFn + 'static,
    S::Error: From<WireError> + Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

/// The `<form>` for `action`: posts to its server function's URL, natively without JavaScript
/// and through [`FormAction`] with it. Attributes given as `attr:…` land on the `<form>`.
/// `refused` is the code of the refusal the page opens with, kept on the form for the browser
/// (see [`refusal_on_form`]).
#[component]
pub fn PostForm<S>(
    action: FormAction<S>,
    refused: Option<String>,
    children: Children,
) -> impl IntoView
where
    S: ServerFn + 'static,
    S::Error: From<WireError> + Send + Sync + 'static,
{
    #[cfg(not(feature = "hydrate"))]
    let _ = action;
    view! {
        <form
            method="post"
            action=S::url()
            data-refused=refused
            on:submit=move |event| {
                #[cfg(feature = "hydrate")]
                action.submit(event);
                #[cfg(not(feature = "hydrate"))]
                let _ = event;
            }
        >
            {children()}
        </form>
    }
}

/// In the browser: the refusal code the server wrote on the [`PostForm`] posting to `url`.
#[cfg(feature = "hydrate")]
pub fn refusal_on_form(url: &str) -> Option<String> {
    document()
        .query_selector(&format!("form[action=\"{url}\"]"))
        .ok()??
        .get_attribute("data-refused")
}

/// The server could not be reached, or its answer not read.
#[cfg(feature = "hydrate")]
fn unreachable<E: FromServerFnError>() -> E {
    E::from_server_fn_error(leptos::server_fn::error::ServerFnErrorErr::Request(
        "the server did not answer".into(),
    ))
}

/// The one request a [`FormAction`] makes, with the browser's own `fetch`.
#[cfg(feature = "hydrate")]
mod browser {
    use leptos::__reexports::wasm_bindgen_futures::JsFuture;
    use leptos::server_fn::redirect::REDIRECT_HEADER;
    use leptos::web_sys::js_sys::{JSON, Reflect};

    use crate::refusal::WireError;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use leptos::web_sys::{
        FormData, HtmlFormElement, Request, RequestInit, Response, UrlSearchParams,
    };

    pub enum Posted {
        /// The server function asked for another page (`leptos_axum::redirect`).
        Redirect(String),
        /// Its JSON answer.
        Answer(String),
        /// Its refusal's JSON body.
        Refused(String),
    }

    /// Posts `form` URL-encoded to `url`, as the browser would without JavaScript, asking for
    /// JSON. `Err` when the server could not be reached or its answer not read.
    pub async fn post(form: &HtmlFormElement, url: &str) -> Result<Posted, ()> {
        let fields = FormData::new_with_form(form).map_err(drop)?;
        let body = UrlSearchParams::new_with_str_sequence_sequence(&fields).map_err(drop)?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&body);
        let request = Request::new_with_str_and_init(url, &init).map_err(drop)?;
        request
            .headers()
            .set("Accept", "application/json")
            .map_err(drop)?;
        let response: Response =
            JsFuture::from(leptos::prelude::window().fetch_with_request(&request))
                .await
                .and_then(JsValue::dyn_into)
                .map_err(drop)?;
        let headers = response.headers();
        if headers.has(REDIRECT_HEADER).unwrap_or(false) {
            let location = headers.get("location").ok().flatten().ok_or(())?;
            return Ok(Posted::Redirect(location));
        }
        let text = JsFuture::from(response.text().map_err(drop)?)
            .await
            .map_err(drop)?
            .as_string()
            .ok_or(())?;
        Ok(if response.ok() {
            Posted::Answer(text)
        } else {
            Posted::Refused(text)
        })
    }

    pub fn json(text: &str) -> Option<JsValue> {
        JSON::parse(text).ok()
    }

    /// A refusal's [`WireError`] from its JSON body: `code`, and the wait of a rate limit.
    pub fn wire_error(body: &str) -> Option<WireError> {
        let value = json(body)?;
        let field = |key: &str| Reflect::get(&value, &JsValue::from_str(key)).ok();
        Some(WireError {
            code: field("code")?.as_string()?,
            message: String::new(),
            field: None,
            retry_after_secs: field("retry_after_secs")
                .and_then(|secs| secs.as_f64())
                .filter(|secs| secs.is_finite() && *secs >= 0.0)
                .map(|secs| secs as u64),
        })
    }
}
