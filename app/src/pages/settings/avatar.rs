//! The profile picture on the settings page: the current one (or the initials), a form that
//! uploads a new one and one that removes it. Without JavaScript both are plain forms the server
//! answers by coming back here with a notice or the reason it refused; with it, the upload form
//! checks the file at once, shows it and sends it with real progress.

use leptos::prelude::*;

use crate::avatar::{ACCEPTED_TYPES, AvatarError, MAX_BYTES, REMOVE_PATH, UPLOAD_PATH};
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

/// The upload form. Without JavaScript it posts the chosen file as `multipart/form-data` and the
/// server comes back here with the new picture or the reason it refused it. With it,
/// [`UPLOAD_SCRIPT`] checks size and type the moment a file is chosen or dropped, shows it, and
/// sends it with `XMLHttpRequest`, whose upload progress events drive the bar. Every word the
/// script shows is rendered here, in the page's language, as the form's `data-*` attributes.
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
            data-max-bytes=MAX_BYTES
            data-types=ACCEPTED_TYPES.join(",")
            data-too-large=AvatarError::TooLarge.message(locale)
            data-not-a-picture=AvatarError::NotAPicture.message(locale)
            data-missing=AvatarError::Missing.message(locale)
            data-unreachable=t!(locale, errors.unreachable)
            data-uploading=t!(locale, avatar.uploading)
            data-done=SAVED
        >
            <label
                for="avatar-file"
                data-testid="avatar-drop"
                class="flex cursor-pointer flex-col items-center justify-center gap-2 rounded-lg border-2 border-dashed border-slate-300 p-5 text-center text-sm focus-within:ring-2 focus-within:ring-amber-500 hover:border-amber-400 dark:border-slate-700"
            >
                <img hidden alt=t!(locale, avatar.preview_alt) data-testid="avatar-preview" class="h-20 w-20 rounded-full object-cover"/>
                <span class="font-semibold text-amber-800 dark:text-amber-300">{t!(locale, avatar.choose)}</span>
                <span class="text-slate-600 dark:text-slate-300">{t!(locale, avatar.drop)}</span>
                <input
                    id="avatar-file"
                    type="file"
                    name="avatar"
                    required
                    accept=ACCEPTED_TYPES.join(",")
                    class="sr-only"
                />
            </label>
            <div
                hidden
                role="progressbar"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow="0"
                aria-label=t!(locale, avatar.upload)
                data-testid="avatar-progress"
                class="h-2 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
            >
                <div class="h-2 w-0 bg-amber-500 transition-all"></div>
            </div>
            <p hidden data-avatar-uploading class="text-sm text-slate-600 dark:text-slate-300"></p>
            <div aria-live="assertive" aria-atomic="true">
                <div hidden role="alert" data-avatar-problem data-testid="form-error" class="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-200"></div>
            </div>
            <button type="submit" class=button_class(true)>{t!(locale, avatar.upload)}</button>
        </form>
        <script nonce=use_nonce()>{UPLOAD_SCRIPT}</script>
    }
}

/// Where an upload that went through leads: the page again, with the notice and the new
/// picture everywhere (as after a post without JavaScript).
const SAVED: &str = "/dashboard/settings?notice=avatar_saved#avatar";

/// The upload form's behaviour in the browser (see [`AvatarUpload`]). Inline with the page's
/// nonce rather than a lazy island: an island's code shared with the other islands splits
/// their chunks, so every page with an island would download more (sign-in went from 119 to
/// 126 KiB with this as an island).
const UPLOAD_SCRIPT: &str = r#"(function(){
var form=document.querySelector('[data-testid=avatar-form]');
if(!form||!window.XMLHttpRequest||!window.URL)return;
var d=form.dataset,input=form.querySelector('input[type=file]'),
drop=form.querySelector('[data-testid=avatar-drop]'),
preview=form.querySelector('[data-testid=avatar-preview]'),
bar=form.querySelector('[data-testid=avatar-progress]'),fill=bar.firstElementChild,
label=form.querySelector('[data-avatar-uploading]'),
problem=form.querySelector('[data-avatar-problem]'),
types=d.types.split(','),chosen=null,shown=null,busy=false;
input.required=false;
function say(m){problem.textContent=m||'';problem.hidden=!m}
function progress(p){bar.hidden=false;label.hidden=false;bar.setAttribute('aria-valuenow',p);
fill.style.width=p+'%';label.textContent=d.uploading.replace('{percent}',p)}
function pick(f){if(shown){URL.revokeObjectURL(shown);shown=null}
preview.hidden=true;chosen=null;if(!f)return;
if(f.size>+d.maxBytes)return say(d.tooLarge);
if(types.indexOf(f.type)<0)return say(d.notAPicture);
say('');shown=URL.createObjectURL(f);preview.src=shown;preview.hidden=false;chosen=f}
input.addEventListener('change',function(){pick(input.files[0])});
drop.addEventListener('dragover',function(e){e.preventDefault()});
drop.addEventListener('drop',function(e){e.preventDefault();
var files=e.dataTransfer&&e.dataTransfer.files;if(!files||!files.length)return;
try{input.files=files}catch(_){}pick(files[0])});
form.addEventListener('submit',function(e){e.preventDefault();if(busy)return;
if(!chosen)pick(input.files[0]);
if(!chosen){if(problem.hidden)say(d.missing);return}
var x=new XMLHttpRequest();x.open('POST',form.action);
x.setRequestHeader('Accept','application/json');
x.upload.onprogress=function(p){if(p.lengthComputable&&p.total>0)progress(Math.round(p.loaded/p.total*100))};
x.onloadend=function(){busy=false;if(x.status===200){location.href=d.done;return}
bar.hidden=true;label.hidden=true;var m;try{m=JSON.parse(x.responseText).message}catch(_){}
say(m||d.unreachable)};
busy=true;say('');progress(0);x.send(chosen)});
})()"#;
