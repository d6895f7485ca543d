use leptos::prelude::*;

/// Runs in `<head>` before the body paints: dark when stored so, or when the system prefers it.
pub const THEME_BOOT_SCRIPT: &str = "(function(){try{var t=localStorage.getItem('kilat-theme');\
if(t==='dark'||(!t&&matchMedia('(prefers-color-scheme: dark)').matches)){\
document.documentElement.classList.add('dark')}}catch(e){}})()";

const STORAGE_KEY: &str = "kilat-theme";

/// Switches between light and dark, remembering the choice in this browser. An island: the one
/// interactive piece of every page's header. Its `children` (the icons) are rendered on the
/// server and shown by the `dark` class (`dark:` variants), so their code stays out of the WASM.
#[island]
pub fn ThemeToggle(children: Children) -> impl IntoView {
    crate::components::island::announce_awake();
    let locale = crate::i18n::use_locale();
    let dark = RwSignal::new(false);
    // The boot script may already have set the class; read it back once hydrated.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            dark.set(root.class_list().contains("dark"));
        }
    });
    let toggle = move |_| {
        let next = !dark.get_untracked();
        if let Some(root) = document().document_element() {
            let _ = root.class_list().toggle_with_force("dark", next);
        }
        if let Ok(Some(storage)) = window().local_storage() {
            let _ = storage.set_item(STORAGE_KEY, if next { "dark" } else { "light" });
        }
        dark.set(next);
    };
    view! {
        <button
            type="button"
            data-testid="theme-toggle"
            class="inline-flex h-9 w-9 items-center justify-center rounded-md border border-slate-200 text-slate-700 transition hover:bg-slate-100 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:border-slate-800 dark:text-slate-200 dark:hover:bg-slate-800"
            aria-pressed=move || dark.get().to_string()
            aria-label=move || {
                if dark.get() { crate::t!(locale, layout.to_light) } else { crate::t!(locale, layout.to_dark) }
            }
            on:click=toggle
        >
            {children()}
        </button>
    }
}
