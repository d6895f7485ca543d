//! The one icon set: small inline SVGs drawn in `currentColor` on a 24-unit grid, so they take
//! the text colour, need no font (emoji render as empty boxes where no emoji font is installed)
//! and cost no request. Decorative: hidden from screen readers; the text beside says it.

use leptos::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icon {
    Bolt,
    Lock,
    Card,
    Shield,
    Sparkles,
    Gauge,
    Sun,
    Moon,
    Check,
    Menu,
}

impl Icon {
    /// Stroke paths, 2 units wide, round caps and joins.
    fn paths(self) -> &'static [&'static str] {
        match self {
            Icon::Bolt => &["M13 2 4 14h7l-1 8 9-12h-7z"],
            Icon::Lock => &["M6 11h12v10H6z", "M8 11V7a4 4 0 0 1 8 0v4"],
            Icon::Card => &["M3 6h18v12H3z", "M3 10h18", "M7 15h4"],
            Icon::Shield => &[
                "M12 3 4 6v6c0 5 3.5 8 8 9 4.5-1 8-4 8-9V6z",
                "m9 12 2 2 4-4",
            ],
            Icon::Sparkles => &[
                "M12 3v4M12 17v4M3 12h4M17 12h4",
                "m6 6 2.5 2.5M15.5 15.5 18 18M18 6l-2.5 2.5M8.5 15.5 6 18",
            ],
            Icon::Gauge => &["M4 18a8 8 0 1 1 16 0", "m12 18 4-6"],
            Icon::Sun => &[
                "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z",
                "M12 2v2M12 20v2M2 12h2M20 12h2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4",
            ],
            Icon::Moon => &["M20 14.5A8 8 0 0 1 9.5 4 8 8 0 1 0 20 14.5z"],
            Icon::Check => &["m5 12 5 5L20 7"],
            Icon::Menu => &["M4 7h16M4 12h16M4 17h16"],
        }
    }
}

/// `icon` at the size `class` gives it (e.g. `h-5 w-5`).
#[component]
pub fn Svg(icon: Icon, #[prop(optional)] class: &'static str) -> impl IntoView {
    view! {
        <svg
            class=class
            viewBox="0 0 24 24"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
        >
            {icon.paths().iter().map(|d| view! { <path d=*d/> }).collect_view()}
        </svg>
    }
}
