use crate::components::layout::PageMeta;
use leptos::prelude::*;

use crate::components::ui::ButtonLink;
use crate::i18n::use_locale;
use crate::t;

/// Shown for any path no route matches; answers HTTP 404 when rendered on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let locale = use_locale();
    view! {
        <PageMeta title=t!(locale, not_found.title)/>
        <section class="mx-auto flex max-w-xl flex-col items-center py-32 text-center">
            <p class="text-sm font-semibold text-amber-700 dark:text-amber-400">"404"</p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight sm:text-4xl">{t!(locale, not_found.heading)}</h1>
            <p class="mt-4 text-slate-600 dark:text-slate-300">{t!(locale, not_found.body)}</p>
            <div class="mt-8"><ButtonLink href="/" primary=true>{t!(locale, not_found.home)}</ButtonLink></div>
        </section>
    }
}
