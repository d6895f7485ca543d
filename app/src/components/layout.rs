use leptos::prelude::*;

use super::theme::ThemeToggle;

const NAV: [(&str, &str); 3] = [
    ("Features", "/#features"),
    ("Pricing", "/#pricing"),
    ("Health", "/api/health"),
];

const SIGN_IN: &str = "Sign in";

/// Header, main column and footer around every page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:z-50 focus:rounded focus:bg-amber-400 focus:px-3 focus:py-2 focus:text-slate-950">
            "Skip to content"
        </a>
        <Header/>
        <main id="main" class="mx-auto w-full max-w-6xl px-4 sm:px-6">{children()}</main>
        <Footer/>
    }
}

#[component]
fn Header() -> impl IntoView {
    view! {
        <header class="sticky top-0 z-40 border-b border-slate-200/80 bg-white/80 backdrop-blur dark:border-slate-800/80 dark:bg-slate-950/80">
            <div class="mx-auto flex h-16 max-w-6xl items-center justify-between gap-4 px-4 sm:px-6">
                <a href="/" class="flex items-center gap-2 text-lg font-bold tracking-tight">
                    <span aria-hidden="true" class="text-amber-500">"⚡"</span>
                    "Kilat"
                </a>
                <nav aria-label="Main" class="hidden items-center gap-6 text-sm font-medium text-slate-600 md:flex dark:text-slate-300">
                    {NAV.map(|(label, href)| view! {
                        <a href=href class="rounded transition hover:text-slate-950 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:hover:text-white">{label}</a>
                    })}
                </nav>
                <div class="flex items-center gap-3">
                    <a
                        href="/auth/login"
                        data-testid="header-sign-in"
                        class="rounded-md px-3 py-1.5 text-sm font-semibold text-slate-700 transition hover:bg-slate-100 hover:text-slate-950 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:text-slate-200 dark:hover:bg-slate-800 dark:hover:text-white"
                    >
                        {SIGN_IN}
                    </a>
                    <ThemeToggle/>
                </div>
            </div>
        </header>
    }
}

#[component]
fn Footer() -> impl IntoView {
    view! {
        <footer class="mt-24 border-t border-slate-200 dark:border-slate-800">
            <div class="mx-auto flex max-w-6xl flex-col gap-4 px-4 py-10 text-sm text-slate-500 sm:flex-row sm:items-center sm:justify-between sm:px-6 dark:text-slate-400">
                <p>"© Kilat — a full-stack Rust SaaS foundation. Prices in IDR."</p>
                <nav aria-label="Footer" class="flex gap-6">
                    {NAV.map(|(label, href)| view! { <a href=href class="hover:text-slate-900 dark:hover:text-white">{label}</a> })}
                </nav>
            </div>
        </footer>
    }
}
