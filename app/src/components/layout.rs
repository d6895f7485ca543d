use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_location;

use super::auth::SignOutButton;
use super::avatar::Avatar;
use super::icons::{Icon, Svg};
use super::theme::ThemeToggle;
use crate::i18n::{Locale, use_locale};
use crate::identity::CurrentUser;
use crate::identity::api::load_current_user;
use crate::t;

/// The site's sections, as (label, link).
fn nav(locale: Locale) -> [(&'static str, &'static str); 2] {
    [
        (t!(locale, layout.features), "/#features"),
        (t!(locale, layout.pricing), "/pricing"),
    ]
}

/// A page's title and description, for the tab, search results and link previews (Open Graph):
/// `description` is the site's own unless the page has a better one.
#[component]
pub fn PageMeta(
    #[prop(into)] title: String,
    #[prop(optional)] description: Option<&'static str>,
) -> impl IntoView {
    let description = description.unwrap_or(t!(use_locale(), layout.description));
    let shared_title = if title.is_empty() {
        "Kilat".to_string()
    } else {
        format!("{title} · Kilat")
    };
    view! {
        <Title text=title/>
        <Meta name="description" content=description/>
        <Meta property="og:title" content=shared_title/>
        <Meta property="og:description" content=description/>
    }
}

/// Header, main column and footer around every page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let locale = use_locale();
    view! {
        <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:z-50 focus:rounded focus:bg-amber-400 focus:px-3 focus:py-2 focus:text-slate-950">
            {t!(locale, layout.skip_to_content)}
        </a>
        <Header/>
        <main id="main" class="mx-auto w-full max-w-6xl px-4 sm:px-6">{children()}</main>
        <Footer/>
    }
}

#[component]
fn Header() -> impl IntoView {
    let locale = use_locale();
    view! {
        <header class="sticky top-0 z-40 border-b border-slate-200/80 bg-white/80 backdrop-blur dark:border-slate-800/80 dark:bg-slate-950/80">
            <div class="mx-auto flex h-16 max-w-6xl items-center justify-between gap-4 px-4 sm:px-6">
                <a href="/" class="flex items-center gap-2 text-lg font-bold tracking-tight">
                    <Svg icon=Icon::Bolt class="h-5 w-5 text-amber-500"/>
                    "Kilat"
                </a>
                <nav aria-label=t!(locale, layout.main_nav) class="hidden items-center gap-6 text-sm font-medium text-slate-600 md:flex dark:text-slate-300">
                    {nav(locale).map(|(label, href)| view! {
                        <a href=href class="rounded transition hover:text-slate-950 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:hover:text-white">{label}</a>
                    })}
                </nav>
                <div class="flex items-center gap-2 sm:gap-3">
                    <NavMenu/>
                    <Account/>
                    <LanguageSwitch/>
                    <ThemeToggle>
                        <Svg icon=Icon::Moon class="h-4 w-4 dark:hidden"/>
                        <Svg icon=Icon::Sun class="hidden h-4 w-4 dark:block"/>
                    </ThemeToggle>
                </div>
            </div>
        </header>
    }
}

/// The site's sections on a narrow screen, where the header has no room for them: a
/// `<details>` menu, opened by touch, click, Enter or Space, without JavaScript.
#[component]
fn NavMenu() -> impl IntoView {
    let locale = use_locale();
    view! {
        <details data-testid="nav-menu" class="relative md:hidden">
            <summary
                aria-label=t!(locale, layout.menu)
                class="flex h-9 w-9 cursor-pointer list-none items-center justify-center rounded-md border border-slate-200 text-slate-700 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:border-slate-800 dark:text-slate-200 [&::-webkit-details-marker]:hidden"
            >
                <Svg icon=Icon::Menu class="h-5 w-5"/>
            </summary>
            <nav aria-label=t!(locale, layout.main_nav) class="absolute left-0 z-50 mt-2 w-48 rounded-md border border-slate-200 bg-white p-2 shadow-lg dark:border-slate-800 dark:bg-slate-950">
                {nav(locale).map(|(label, href)| view! {
                    <a href=href class="block rounded px-3 py-2 text-sm hover:bg-slate-100 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:hover:bg-slate-800">{label}</a>
                })}
            </nav>
        </details>
    }
}

/// "Sign in" for a visitor; for a signed-in person their initials and name, opening a menu of
/// plain links and the sign-out form (a `<details>`: it works without JavaScript too).
#[component]
fn Account() -> impl IntoView {
    let location = use_location();
    // Asked again on every navigation, so signing in or out shows at once.
    let user = Resource::new(move || location.pathname.get(), |_| load_current_user());
    view! {
        // No fallback: a signed-in person never glimpses "Sign in" while their name loads.
        <Transition fallback=|| ()>
            {move || user.get().map(|answer| match answer {
                Ok(Some(user)) => view! { <AccountMenu user/> }.into_any(),
                _ => view! { <SignInLink/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn SignInLink() -> impl IntoView {
    view! {
        <a
            href="/auth/login"
            data-testid="header-sign-in"
            class="rounded-md px-3 py-1.5 text-sm font-semibold text-slate-700 transition hover:bg-slate-100 hover:text-slate-950 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:text-slate-200 dark:hover:bg-slate-800 dark:hover:text-white"
        >
            {t!(use_locale(), common.sign_in)}
        </a>
    }
}

/// Up to two letters for `user`'s avatar: the first letters of their first and last names,
/// else of their email address.
pub fn initials(user: &CurrentUser) -> String {
    let name = user.full_name.as_deref().map(str::trim).unwrap_or_default();
    let words: Vec<&str> = name.split_whitespace().collect();
    let letters: String = match words.as_slice() {
        [] => user.email.chars().take(1).collect(),
        [only] => only.chars().take(1).collect(),
        [first, .., last] => first.chars().take(1).chain(last.chars().take(1)).collect(),
    };
    letters.to_uppercase()
}

#[component]
fn AccountMenu(user: CurrentUser) -> impl IntoView {
    let name = user.full_name.clone().unwrap_or_else(|| user.email.clone());
    let locale = use_locale();
    let label = format!("{}{name}", t!(locale, layout.account_menu_for));
    let item = "block rounded px-3 py-2 text-sm hover:bg-slate-100 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:hover:bg-slate-800";
    // Type-erased: the nested view types otherwise outgrow the compiler's query depth.
    let sign_out = view! { <SignOutButton/> }.into_any();
    let menu = view! {
        <ul class="absolute right-0 mt-2 w-48 space-y-1 rounded-md border border-slate-200 bg-white p-2 shadow-lg dark:border-slate-800 dark:bg-slate-950">
            <li><a href="/dashboard" class=item>{t!(locale, layout.dashboard)}</a></li>
            <li><a href=crate::ai::CHAT_PAGE class=item>{t!(locale, ai.nav_link)}</a></li>
            <li><a href="/dashboard/settings" class=item>{t!(locale, layout.settings)}</a></li>
            <li>{sign_out}</li>
        </ul>
    }
    .into_any();
    view! {
        <details data-testid="account-menu" class="relative">
            <summary
                aria-label=label
                class="flex cursor-pointer list-none items-center gap-2 rounded-md px-2 py-1 text-sm font-semibold focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 [&::-webkit-details-marker]:hidden"
            >
                <Avatar user=user.clone() class="h-8 w-8 text-xs"/>
                <span data-testid="account-name" class="hidden max-w-40 truncate sm:inline">{name}</span>
            </summary>
            {menu}
        </details>
    }
}

#[component]
fn Footer() -> impl IntoView {
    let locale = use_locale();
    view! {
        <footer class="mt-24 border-t border-slate-200 dark:border-slate-800">
            <div class="mx-auto flex max-w-6xl flex-col gap-4 px-4 py-10 text-sm text-slate-500 sm:flex-row sm:items-center sm:justify-between sm:px-6 dark:text-slate-400">
                <p>{t!(locale, layout.footer_note)}</p>
                <div class="flex flex-wrap items-center gap-6">
                    <nav aria-label=t!(locale, layout.footer_nav) class="flex flex-wrap gap-x-6 gap-y-2">
                        {nav(locale).into_iter().chain([
                            (t!(locale, layout.waitlist), "/waitlist"),
                            (t!(locale, layout.contact), "/contact"),
                            (t!(locale, layout.terms), "/terms"),
                            (t!(locale, layout.privacy), "/privacy"),
                            (t!(locale, layout.status), "/status"),
                        ]).map(|(label, href)| view! {
                            <a href=href class="rounded hover:text-slate-900 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:hover:text-white">{label}</a>
                        }).collect_view()}
                    </nav>
                    <LanguageSwitch/>
                </div>
            </div>
        </footer>
    }
}

/// Bahasa Indonesia or English: a plain form (the server's `/locale` route remembers the
/// choice in a cookie and comes back to this page), so it works without JavaScript. It comes
/// back to the path only: the query may carry what a link put there (a hostile `next`, say),
/// which the page itself checks but the switch would copy into every page.
#[component]
fn LanguageSwitch() -> impl IntoView {
    let locale = use_locale();
    let here = use_location().pathname.get_untracked();
    view! {
        <form method="post" action="/locale" data-testid="language-switch" class="flex items-center gap-1">
            <input type="hidden" name="next" value=here/>
            <span class="sr-only">{t!(locale, layout.language)}</span>
            {Locale::ALL.map(|option| {
                let current = option == locale;
                view! {
                    <button
                        type="submit"
                        name="locale"
                        value=option.code()
                        lang=option.code()
                        title=option.name()
                        aria-label=option.name()
                        aria-pressed=current.to_string()
                        class=if current {
                            "rounded px-1.5 py-1 text-xs font-bold text-slate-950 underline decoration-amber-500 decoration-2 underline-offset-4 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:text-white"
                        } else {
                            "rounded px-1.5 py-1 text-xs font-semibold text-slate-500 hover:text-slate-950 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-amber-500 dark:text-slate-400 dark:hover:text-white"
                        }
                    >
                        {option.code().to_uppercase()}
                    </button>
                }
            })}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::initials;
    use crate::domain::Plan;
    use crate::identity::CurrentUser;

    fn user(full_name: Option<&str>) -> CurrentUser {
        CurrentUser {
            id: "1".into(),
            email: "ana@kilat.id".into(),
            full_name: full_name.map(str::to_string),
            plan: Plan::Free,
            is_admin: false,
            avatar_url: None,
        }
    }

    #[test]
    fn initials_come_from_the_name_else_the_email() {
        assert_eq!(initials(&user(Some("Ana Maria Lestari"))), "AL");
        assert_eq!(initials(&user(Some("ana"))), "A");
        assert_eq!(initials(&user(Some("  "))), "A");
        assert_eq!(initials(&user(None)), "A");
        assert_eq!(initials(&user(Some("élodie ñuñez"))), "ÉÑ");
    }
}
