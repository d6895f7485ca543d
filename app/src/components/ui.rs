//! Building blocks shared by pages.

use leptos::prelude::*;

/// A rounded, bordered surface.
#[component]
pub fn Card(#[prop(optional, into)] class: String, children: Children) -> impl IntoView {
    view! {
        <div class=format!(
            "rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900 {class}"
        )>{children()}</div>
    }
}

/// The classes of a button, or of a link dressed as one: `primary` is the amber call to action,
/// otherwise it is outlined.
pub fn button_class(primary: bool) -> String {
    let look = if primary {
        "bg-amber-400 text-slate-950 hover:bg-amber-300"
    } else {
        "border border-slate-300 text-slate-900 hover:bg-slate-100 dark:border-slate-700 dark:text-slate-100 dark:hover:bg-slate-800"
    };
    format!(
        "inline-flex items-center justify-center rounded-md px-5 py-2.5 text-sm font-semibold transition focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 focus-visible:ring-offset-2 dark:focus-visible:ring-offset-slate-950 {look}"
    )
}

/// A link styled as a button: `primary` is the amber call to action.
#[component]
pub fn ButtonLink(
    #[prop(into)] href: String,
    #[prop(optional)] primary: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <a href=href class=button_class(primary)>
            {children()}
        </a>
    }
}

/// A small label, e.g. "Most popular".
#[component]
pub fn Badge(children: Children) -> impl IntoView {
    view! {
        <span class="inline-flex items-center rounded-full bg-amber-100 px-2.5 py-0.5 text-xs font-medium text-amber-900 dark:bg-amber-400/15 dark:text-amber-300">
            {children()}
        </span>
    }
}
