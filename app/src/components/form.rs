//! Form building blocks: a labelled field with its inline error, a submit button that shows
//! when its action runs, and the alerts that report how a form went.

use leptos::html::Input;
use leptos::prelude::*;

use super::ui::button_class;

/// One validated input: where it is in the page and the error it shows. `check` is one of the
/// shared parsers from `crate::identity::fields`, so the browser says what the server would.
#[derive(Clone, Copy)]
pub struct FieldCheck {
    input: NodeRef<Input>,
    error: RwSignal<Option<String>>,
    check: fn(&str) -> Option<String>,
}

impl FieldCheck {
    pub fn new(check: fn(&str) -> Option<String>) -> Self {
        Self {
            input: NodeRef::new(),
            error: RwSignal::new(None),
            check,
        }
    }

    /// Checks the value now in the input; shows or clears the error; `true` when it is valid.
    pub fn validate(&self) -> bool {
        let Some(input) = self.input.get_untracked() else {
            return true;
        };
        let error = (self.check)(&input.value());
        let valid = error.is_none();
        self.error.set(error);
        valid
    }

    /// Shows an error the server found in this field (e.g. a password Supabase finds weak).
    pub fn show_error(&self, message: String) {
        self.error.set(Some(message));
    }

    fn revalidate_if_shown(&self) {
        if self.error.with_untracked(Option::is_some) {
            self.validate();
        }
    }

    pub fn focus(&self) {
        if let Some(input) = self.input.get_untracked() {
            let _ = input.focus();
        }
    }
}

/// Validates every field and focuses the first invalid one; `true` when all are valid.
fn validate_all(fields: &[FieldCheck]) -> bool {
    let mut first_invalid = None;
    for field in fields {
        if !field.validate() && first_invalid.is_none() {
            first_invalid = Some(*field);
        }
    }
    if let Some(field) = first_invalid {
        field.focus();
        false
    } else {
        true
    }
}

const INPUT_CLASS: &str = "block w-full rounded-md border bg-white px-3 py-2 text-sm text-slate-900 shadow-sm \
    placeholder:text-slate-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 \
    read-only:bg-slate-50 read-only:text-slate-500 dark:bg-slate-950 dark:text-slate-100 \
    dark:read-only:bg-slate-900 dark:read-only:text-slate-400";

/// A labelled input with an optional hint and an inline error, linked for screen readers with
/// `aria-describedby` and marked `aria-invalid` while the error shows.
#[component]
pub fn FormField(
    /// The input's `id`, also the prefix of its hint and error ids.
    id: &'static str,
    /// The form field's `name`: the server function's argument name.
    name: &'static str,
    label: &'static str,
    /// The input's `type`.
    #[prop(default = "text")]
    kind: &'static str,
    autocomplete: &'static str,
    /// The initial value.
    #[prop(optional, into)]
    value: String,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] readonly: bool,
    /// Shared-parser validation on blur (and while an error shows, on every keystroke).
    #[prop(optional_no_strip, into)]
    check: Option<FieldCheck>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let error = move || check.and_then(|field| field.error.get());
    let invalid = move || check.is_some_and(|field| field.error.with(Option::is_some));
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let ids: Vec<&str> = [
                hint.is_some().then_some(hint_id.as_str()),
                invalid().then_some(error_id.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect();
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let border = move || {
        if invalid() {
            "border-red-500 dark:border-red-400"
        } else {
            "border-slate-300 dark:border-slate-700"
        }
    };
    let node_ref = check.map(|field| field.input).unwrap_or_default();
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700 dark:text-slate-200">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                value=value
                required=required
                readonly=readonly
                node_ref=node_ref
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=described_by
                class=move || format!("mt-1 {INPUT_CLASS} {}", border())
                on:blur=move |_| {
                    if let Some(field) = check {
                        field.validate();
                    }
                }
                on:input=move |_| {
                    if let Some(field) = check {
                        field.revalidate_if_shown();
                    }
                }
            />
            {hint.map(|hint| view! {
                <p id=hint_id class="mt-1 text-xs text-slate-500 dark:text-slate-400">{hint}</p>
            })}
            <p id=error_id class="mt-1 text-sm text-red-600 empty:hidden dark:text-red-400">{error}</p>
        </div>
    }
}

/// A labelled multi-line input with a hint and an inline error (a server refusal shown on the
/// page it came back to), linked for screen readers like [`FormField`]'s.
#[component]
pub fn FormTextArea(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] minlength: Option<usize>,
    #[prop(optional)] maxlength: Option<usize>,
    /// The refusal a post came back with, if it was about this field.
    #[prop(optional_no_strip)]
    error: Option<String>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let invalid = error.is_some();
    let described_by = if invalid {
        format!("{hint_id} {error_id}")
    } else {
        hint_id.clone()
    };
    let border = if invalid {
        "border-red-500 dark:border-red-400"
    } else {
        "border-slate-300 dark:border-slate-700"
    };
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700 dark:text-slate-200">{label}</label>
            <textarea
                id=id
                name=name
                rows="6"
                required=required
                minlength=minlength
                maxlength=maxlength
                aria-invalid=invalid.then_some("true")
                aria-describedby=described_by
                class=format!("mt-1 {INPUT_CLASS} {border}")
            ></textarea>
            <p id=hint_id class="mt-1 text-xs text-slate-500 dark:text-slate-400">{hint}</p>
            <p id=error_id class="mt-1 text-sm text-red-600 empty:hidden dark:text-red-400">{error}</p>
        </div>
    }
}

/// A full-width submit button; while `pending` it is disabled, busy and says `pending_label`.
/// Extra attributes and handlers land on the `<button>`.
#[component]
pub fn SubmitButton(
    label: &'static str,
    #[prop(optional)] pending_label: Option<&'static str>,
    #[prop(into, default = Signal::stored(false))] pending: Signal<bool>,
    /// The amber call to action; otherwise outlined.
    #[prop(default = true)]
    primary: bool,
    /// Fields validated on click, which implicit submission by Enter also fires: while one is
    /// invalid the form is not sent and the first such field gets focus.
    #[prop(optional, into)]
    validates: Vec<FieldCheck>,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            aria-busy=move || pending.get().then_some("true")
            class=format!(
                "{} w-full gap-2 disabled:cursor-wait disabled:opacity-70",
                button_class(primary)
            )
            on:click=move |ev| {
                if !validate_all(&validates) {
                    ev.prevent_default();
                }
            }
        >
            <span
                aria-hidden="true"
                class="h-4 w-4 animate-spin rounded-full border-2 border-current border-t-transparent"
                class:hidden=move || !pending.get()
            ></span>
            {move || if pending.get() { pending_label.unwrap_or(label) } else { label }}
        </button>
    }
}

/// How an [`Alert`] looks and is announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    /// Something failed: `role="alert"`.
    Error,
    /// Something worked: `role="status"`.
    Success,
    /// Something to know: `role="status"`.
    Info,
}

/// A coloured notice box.
#[component]
pub fn Alert(
    kind: AlertKind,
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let (role, look) = match kind {
        AlertKind::Error => (
            "alert",
            "border-red-200 bg-red-50 text-red-800 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-200",
        ),
        AlertKind::Success => (
            "status",
            "border-emerald-200 bg-emerald-50 text-emerald-800 dark:border-emerald-900/60 dark:bg-emerald-950/40 dark:text-emerald-200",
        ),
        AlertKind::Info => (
            "status",
            "border-amber-200 bg-amber-50 text-amber-900 dark:border-amber-400/30 dark:bg-amber-400/10 dark:text-amber-200",
        ),
    };
    view! {
        <div role=role data-testid=testid class=format!("rounded-md border px-4 py-3 text-sm {look}")>
            {children()}
        </div>
    }
}

/// A live region that is always in the page (so screen readers announce what appears in it)
/// and shows `message` as an error alert (`data-testid="form-error"`) when there is one.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div aria-live="assertive" aria-atomic="true">
            {move || message.get().map(|message| view! {
                <Alert kind=AlertKind::Error testid="form-error">{message}</Alert>
            })}
        </div>
    }
}

/// Like [`FormError`], for good news (`data-testid="form-success"`).
#[component]
pub fn FormSuccess(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div aria-live="polite" aria-atomic="true">
            {move || message.get().map(|message| view! {
                <Alert kind=AlertKind::Success testid="form-success">{message}</Alert>
            })}
        </div>
    }
}

/// A text link in the amber accent with a visible focus ring.
#[component]
pub fn TextLink(
    #[prop(into)] href: String,
    #[prop(optional)] external: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <a
            href=href
            rel=external.then_some("external")
            class="rounded font-medium text-amber-700 underline-offset-4 hover:underline focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:text-amber-400"
        >
            {children()}
        </a>
    }
}
