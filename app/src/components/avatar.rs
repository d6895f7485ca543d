//! A person's picture in a circle, or their initials on amber when they have none.

use leptos::prelude::*;

use crate::identity::CurrentUser;

use super::layout::initials;

/// `user`'s avatar, `class` sizing it (e.g. `h-8 w-8 text-xs`). Decorative unless `alt` says
/// what it shows: pages name the person next to it.
#[component]
pub fn Avatar(
    user: CurrentUser,
    #[prop(into)] class: String,
    #[prop(optional)] alt: Option<&'static str>,
) -> impl IntoView {
    let shape = format!("{class} shrink-0 rounded-full");
    match user.avatar_url {
        Some(url) => view! {
            <img
                src=url
                alt=alt.unwrap_or_default()
                aria-hidden=alt.is_none().then_some("true")
                data-testid="avatar-picture"
                class=format!("{shape} object-cover")
            />
        }
        .into_any(),
        None => view! {
            <span
                aria-hidden="true"
                data-testid="avatar-initials"
                class=format!("{shape} flex items-center justify-center bg-amber-400 font-bold text-slate-950")
            >
                {initials(&user)}
            </span>
        }
        .into_any(),
    }
}
