//! The profile picture on the settings page: the current one (or the initials), a form that
//! uploads a new one and one that removes it. Both are plain forms the server answers by coming
//! back here with a notice or the reason it refused.

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

/// The upload form: the chosen (or dropped) file posted as `multipart/form-data`; the server
/// comes back to this page with the new picture, or with the reason it refused the file.
#[component]
fn AvatarUpload() -> impl IntoView {
    let locale = use_locale();
    view! {
        <form
            method="post"
            action=UPLOAD_PATH
            enctype="multipart/form-data"
            data-testid="avatar-form"
            class="space-y-3"
        >
            <label for="avatar-file" class="block text-sm font-medium">{t!(locale, avatar.choose)}</label>
            <input
                id="avatar-file"
                type="file"
                name="avatar"
                required
                accept=ACCEPTED_TYPES.join(",")
                class="block w-full cursor-pointer rounded-lg border-2 border-dashed border-slate-300 p-3 text-sm text-slate-700 file:mr-4 file:cursor-pointer file:rounded-md file:border-0 file:bg-slate-100 file:px-4 file:py-2 file:font-semibold file:text-slate-900 hover:border-amber-400 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:border-slate-700 dark:text-slate-200 dark:file:bg-slate-800 dark:file:text-slate-100"
            />
            <button type="submit" class=button_class(true)>{t!(locale, avatar.upload)}</button>
        </form>
    }
}
