//! `/terms` and `/privacy`: starter legal text in both languages, for a team to edit.

use crate::components::layout::PageMeta;
use leptos::prelude::*;

use crate::i18n::texts::Section;
use crate::i18n::use_locale;
use crate::t;

#[component]
pub fn TermsPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <LegalPage
            title=t!(locale, legal.terms_title)
            lead=t!(locale, legal.terms_lead)
            sections=t!(locale, legal.terms)
        />
    }
}

#[component]
pub fn PrivacyPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <LegalPage
            title=t!(locale, legal.privacy_title)
            lead=t!(locale, legal.privacy_lead)
            sections=t!(locale, legal.privacy)
        />
    }
}

#[component]
fn LegalPage(title: &'static str, lead: &'static str, sections: [Section; 6]) -> impl IntoView {
    let locale = use_locale();
    view! {
        <PageMeta title=title description=lead/>
        <article class="mx-auto max-w-2xl py-16">
            <h1 class="text-3xl font-bold tracking-tight">{title}</h1>
            <p class="mt-2 text-sm text-slate-500 dark:text-slate-400">{t!(locale, legal.updated)}</p>
            <p class="mt-6 text-lg text-slate-700 dark:text-slate-300">{lead}</p>
            {sections.map(|section| view! {
                <section class="mt-8">
                    <h2 class="text-lg font-semibold">{section.heading}</h2>
                    <p class="mt-2 leading-7 text-slate-700 dark:text-slate-300">{section.body}</p>
                </section>
            })}
        </article>
    }
}
