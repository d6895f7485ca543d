//! The profile picture on the settings page: the current one (or the initials), a form that
//! uploads a new one and one that removes it. Without JavaScript both are plain forms the server
//! answers by coming back here with a notice; with it, the upload island checks the file at once,
//! shows it and sends it with real progress.

use leptos::prelude::*;

use crate::avatar::{ACCEPTED_TYPES, AvatarError, REMOVE_PATH, UPLOAD_PATH};
use crate::components::avatar::Avatar;
use crate::components::form::{FormError, FormSuccess};
use crate::components::island::query_value;
use crate::components::ui::{Card, button_class};
use crate::i18n::use_locale;
use crate::identity::CurrentUser;
use crate::t;

#[component]
pub fn AvatarCard(user: CurrentUser) -> impl IntoView {
    let locale = use_locale();
    let notice = query_value("notice").and_then(|code| match code.as_str() {
        "avatar_saved" => Some(t!(locale, avatar.saved).to_string()),
        "avatar_removed" => Some(t!(locale, avatar.removed).to_string()),
        _ => None,
    });
    let refused = query_value("error")
        .and_then(|code| AvatarError::from_code(&code))
        .map(|error| error.message(locale));
    let has_picture = user.avatar_url.is_some();
    // Type-erased: the nested view types otherwise outgrow the compiler's query depth.
    let upload = view! { <AvatarUpload/> }.into_any();
    let remove = has_picture.then(|| view! { <RemoveAvatar/> }).into_any();
    let current =
        view! { <Avatar user class="h-20 w-20 text-2xl" alt=t!(locale, avatar.current_alt)/> }
            .into_any();
    view! {
        <Card class="scroll-mt-24" attr:id="avatar">
            <h2 class="text-lg font-semibold">{t!(locale, avatar.title)}</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-300">{t!(locale, avatar.lead)}</p>
            <div class="mt-4 space-y-4">
                <FormError message=Signal::stored(refused)/>
                <FormSuccess message=Signal::stored(notice)/>
                <div class="flex flex-col gap-4 sm:flex-row sm:items-start">
                    <div data-testid="settings-avatar">{current}</div>
                    <div class="min-w-0 flex-1 space-y-4">{upload}{remove}</div>
                </div>
            </div>
        </Card>
    }
}

/// Removing asks first: the question and its button open under "Remove picture" (a
/// `<details>`, so it needs no script).
#[component]
fn RemoveAvatar() -> impl IntoView {
    let locale = use_locale();
    view! {
        <details data-testid="avatar-remove">
            <summary class=format!("{} cursor-pointer list-none [&::-webkit-details-marker]:hidden", button_class(false))>
                {t!(locale, avatar.remove)}
            </summary>
            <form method="post" action=REMOVE_PATH class="mt-3 space-y-3 rounded-lg border border-red-200 p-4 dark:border-red-900">
                <p class="text-sm">{t!(locale, avatar.remove_question)}</p>
                <button type="submit" class="rounded-md bg-red-700 px-4 py-2 text-sm font-semibold text-white hover:bg-red-600 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500">
                    {t!(locale, avatar.remove_yes)}
                </button>
            </form>
        </details>
    }
}

/// The upload form. Without JavaScript it posts the chosen file as `multipart/form-data`. Awake,
/// it checks size and type the moment a file is chosen or dropped, shows it, and sends it with
/// `XMLHttpRequest`, whose upload events drive the progress bar.
#[island(lazy)]
fn AvatarUpload() -> impl IntoView {
    crate::components::island::announce_awake();
    let locale = use_locale();
    let problem = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<u32>);
    let preview = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    let chosen = StoredValue::new_local(None::<leptos::web_sys::File>);

    let on_change = move |event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let _ = event;
            browser::pick(browser::file_in_input(), chosen, problem, preview, locale);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    };
    let on_drop = move |event: leptos::ev::DragEvent| {
        event.prevent_default();
        #[cfg(feature = "hydrate")]
        browser::pick(
            browser::file_of_drop(&event),
            chosen,
            problem,
            preview,
            locale,
        );
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            event.prevent_default();
            if progress.get_untracked().is_some() {
                return;
            }
            // A file chosen before the island woke is still in the input.
            let file = chosen.get_value().or_else(|| {
                browser::pick(browser::file_in_input(), chosen, problem, preview, locale)
            });
            match file {
                Some(file) => browser::send(file, progress, problem, locale),
                None if problem.get_untracked().is_none() => {
                    problem.set(Some(AvatarError::Missing.message(locale)));
                }
                None => {}
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    };

    view! {
        <form
            method="post"
            action=UPLOAD_PATH
            enctype="multipart/form-data"
            data-testid="avatar-form"
            class="space-y-3"
            on:submit=on_submit
        >
            <label
                for="avatar-file"
                data-testid="avatar-drop"
                class="flex cursor-pointer flex-col items-center justify-center gap-2 rounded-lg border-2 border-dashed border-slate-300 p-5 text-center text-sm focus-within:ring-2 focus-within:ring-amber-500 hover:border-amber-400 dark:border-slate-700"
                on:dragover=|event: leptos::ev::DragEvent| event.prevent_default()
                on:drop=on_drop
            >
                {move || preview.get().map(|url| view! {
                    <img src=url alt=t!(locale, avatar.preview_alt) data-testid="avatar-preview" class="h-20 w-20 rounded-full object-cover"/>
                })}
                <span class="font-semibold text-amber-800 dark:text-amber-300">{t!(locale, avatar.choose)}</span>
                <span class="text-slate-600 dark:text-slate-300">{t!(locale, avatar.drop)}</span>
                <input
                    id="avatar-file"
                    type="file"
                    name="avatar"
                    accept=ACCEPTED_TYPES.join(",")
                    class="sr-only"
                    on:change=on_change
                />
            </label>
            {move || progress.get().map(|percent| view! {
                <div
                    role="progressbar"
                    aria-valuemin="0"
                    aria-valuemax="100"
                    aria-valuenow=percent
                    aria-label=t!(locale, avatar.upload)
                    data-testid="avatar-progress"
                    class="h-2 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
                >
                    <div class="h-2 bg-amber-500 transition-all" style=format!("width: {percent}%")></div>
                </div>
                <p class="text-sm text-slate-600 dark:text-slate-300">{t!(locale, avatar.uploading)(percent)}</p>
            })}
            <FormError message=problem/>
            <button type="submit" class=button_class(true)>{t!(locale, avatar.upload)}</button>
        </form>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use leptos::web_sys::{
        DragEvent, File, HtmlInputElement, ProgressEvent, Url, XmlHttpRequest,
        js_sys::{JSON, Reflect},
    };

    use crate::avatar::{ACCEPTED_TYPES, AvatarError, MAX_BYTES, UPLOAD_PATH};
    use crate::i18n::Locale;
    use crate::t;

    /// Where an upload that went through leads: the page again, with the notice and the new
    /// picture everywhere (as after a post without JavaScript).
    const SETTINGS_SAVED: &str = "/dashboard/settings?notice=avatar_saved#avatar";

    fn input() -> Option<HtmlInputElement> {
        document().get_element_by_id("avatar-file")?.dyn_into().ok()
    }

    /// The file chosen in the form's file input.
    pub fn file_in_input() -> Option<File> {
        input()?.files()?.get(0)
    }

    /// A dropped file, also put into the form's file input (so a native post would send it).
    pub fn file_of_drop(event: &DragEvent) -> Option<File> {
        let files = event.data_transfer()?.files()?;
        if let Some(input) = input() {
            input.set_files(Some(&files));
        }
        files.get(0)
    }

    /// The first check, at once: what the browser says of the file's size and type (the server
    /// decides by the bytes). The file, when it passes.
    pub fn pick(
        file: Option<File>,
        chosen: StoredValue<Option<File>, LocalStorage>,
        problem: RwSignal<Option<String>>,
        preview: RwSignal<Option<String>>,
        locale: Locale,
    ) -> Option<File> {
        if let Some(old) = preview.get_untracked() {
            let _ = Url::revoke_object_url(&old);
        }
        preview.set(None);
        chosen.set_value(None);
        let file = file?;
        let refusal = if file.size() > MAX_BYTES as f64 {
            Some(AvatarError::TooLarge)
        } else if !ACCEPTED_TYPES.contains(&file.type_().as_str()) {
            Some(AvatarError::NotAPicture)
        } else {
            None
        };
        problem.set(refusal.map(|error| error.message(locale)));
        if refusal.is_some() {
            return None;
        }
        preview.set(Url::create_object_url_with_blob(&file).ok());
        chosen.set_value(Some(file.clone()));
        Some(file)
    }

    /// Sends `file` as the request body; on success the page comes back with the new picture
    /// everywhere (header and card) and the notice.
    pub fn send(
        file: File,
        progress: RwSignal<Option<u32>>,
        problem: RwSignal<Option<String>>,
        locale: Locale,
    ) {
        let failed = move |message: String| {
            progress.set(None);
            problem.set(Some(message));
        };
        let unreachable = move || failed(t!(locale, errors.unreachable).to_string());
        let Ok(request) = XmlHttpRequest::new() else {
            return unreachable();
        };
        if request.open("POST", UPLOAD_PATH).is_err()
            || request
                .set_request_header("Accept", "application/json")
                .is_err()
        {
            return unreachable();
        }
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
            if event.length_computable() && event.total() > 0.0 {
                progress.set(Some((event.loaded() / event.total() * 100.0).round() as u32));
            }
        });
        if let Ok(upload) = request.upload() {
            upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        }
        on_progress.forget();
        let answered = request.clone();
        let on_done = Closure::once_into_js(move || {
            let status = answered.status().unwrap_or(0);
            if status == 200 {
                let _ = window().location().assign(SETTINGS_SAVED);
                return;
            }
            let message = answered
                .response_text()
                .ok()
                .flatten()
                .and_then(|text| JSON::parse(&text).ok())
                .and_then(|json| Reflect::get(&json, &JsValue::from_str("message")).ok())
                .and_then(|message| message.as_string());
            match message {
                Some(message) => failed(message),
                None => unreachable(),
            }
        });
        request.set_onloadend(Some(on_done.unchecked_ref()));
        progress.set(Some(0));
        problem.set(None);
        if request.send_with_opt_blob(Some(&file)).is_err() {
            unreachable();
        }
    }
}
