//! Charts drawn as SVG on the server: no chart library, no WASM. Each bar carries a `<title>`,
//! which browsers show as a tooltip on hover and screen readers read out.

use leptos::prelude::*;

use crate::i18n::Locale;

/// One bar: its label under the axis, its value, and the tooltip that names both in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub tooltip: String,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 96.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// Gridline values from 0 to at least `max`, at a round step (1, 2 or 5 times a power of ten),
/// about `count` of them.
pub fn ticks(max: i64, count: i64) -> Vec<i64> {
    let max = max.max(1);
    let rough = (max as f64 / count.max(1) as f64).max(1.0);
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power)
        .max(1.0) as i64;
    let top = max.div_euclid(step) * step + if max % step == 0 { 0 } else { step };
    (0..=top / step).map(|n| n * step).collect()
}

/// A bar chart of `bars` under `title` (its accessible name), the value axis labelled by
/// `axis` in `locale`.
#[component]
pub fn BarChart(
    title: &'static str,
    bars: Vec<Bar>,
    axis: fn(i64, Locale) -> String,
    locale: Locale,
    #[prop(optional)] test_id: &'static str,
) -> impl IntoView {
    let ticks = ticks(bars.iter().map(|bar| bar.value).max().unwrap_or(0), 4);
    let top = *ticks.last().unwrap_or(&1) as f64;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let y = move |value: i64| TOP + plot_height * (1.0 - value as f64 / top);
    let slot = (WIDTH - LEFT - RIGHT) / bars.len().max(1) as f64;
    let grid = ticks
        .into_iter()
        .map(|tick| {
            let at = y(tick);
            view! {
                <line x1=LEFT x2=WIDTH - RIGHT y1=at y2=at class="stroke-slate-200 dark:stroke-slate-800"/>
                <text x=LEFT - 8.0 y=at + 4.0 text-anchor="end" class="fill-slate-500 text-[11px] dark:fill-slate-400">{axis(tick, locale)}</text>
            }
        })
        .collect_view();
    let columns = bars
        .into_iter()
        .enumerate()
        .map(|(n, bar)| {
            let x = LEFT + slot * n as f64;
            let top_of_bar = y(bar.value);
            view! {
                <g data-value=bar.value>
                    <title>{bar.tooltip}</title>
                    // The whole slot answers the hover, so a short bar is as easy to point at.
                    <rect x=x y=TOP width=slot height=plot_height class="fill-transparent"/>
                    <rect
                        x=x + slot * 0.15
                        y=top_of_bar
                        width=slot * 0.7
                        height=(TOP + plot_height - top_of_bar).max(0.0)
                        rx="2"
                        class="fill-amber-400"
                    />
                    <text x=x + slot / 2.0 y=HEIGHT - 8.0 text-anchor="middle" class="fill-slate-500 text-[11px] dark:fill-slate-400">{bar.label}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            role="img"
            aria-label=title
            data-testid=test_id
            class="mt-4 h-auto w-full"
        >
            {grid}
            {columns}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::ticks;

    #[test]
    fn ticks_are_round_and_cover_the_largest_value() {
        assert_eq!(ticks(0, 4), vec![0, 1]);
        assert_eq!(ticks(7, 4), vec![0, 2, 4, 6, 8]);
        assert_eq!(ticks(100, 4), vec![0, 50, 100]);
        assert_eq!(ticks(1_234_000, 4), vec![0, 500_000, 1_000_000, 1_500_000]);
        assert_eq!(ticks(9_999_999_999, 4).last(), Some(&10_000_000_000));
    }
}
