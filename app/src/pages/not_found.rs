use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::ui::ButtonLink;

/// Shown for any path no route matches; answers HTTP 404 when rendered on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <section class="mx-auto flex max-w-xl flex-col items-center py-32 text-center">
            <p class="text-sm font-semibold text-amber-600 dark:text-amber-400">"404"</p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight sm:text-4xl">"This page does not exist"</h1>
            <p class="mt-4 text-slate-600 dark:text-slate-300">
                "The link may be old or mistyped. Start again from the home page."
            </p>
            <div class="mt-8"><ButtonLink href="/" primary=true>"Back to home"</ButtonLink></div>
        </section>
    }
}
