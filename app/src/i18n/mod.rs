//! Bahasa Indonesia and English. Every string a person reads is in [`texts`], once per language
//! (`id.rs`, `en.rs`), and is read with [`t!`](crate::t) in the locale of the page
//! ([`use_locale`]): on the server the one negotiated for the request (`?lang=` in the address,
//! as the sitemap's alternates use it, else the `kilat_locale` cookie the language switch sets,
//! else `Accept-Language`, else `DEFAULT_LOCALE`), written into `<html lang>`; in the browser
//! read back from there, so islands render what the server did.

mod en;
mod id;
pub mod texts;

#[doc(hidden)]
pub use en::TEXTS as EN;
#[doc(hidden)]
pub use id::TEXTS as ID;

/// The one string `path` names in `locale`, e.g. `t!(locale, login.title)`. Picks the field at
/// compile time in each language, so only strings that code reaches are in a build.
#[macro_export]
macro_rules! t {
    ($locale:expr, $($path:ident).+) => {
        match $locale {
            $crate::i18n::Locale::Id => $crate::i18n::ID.$($path).+,
            $crate::i18n::Locale::En => $crate::i18n::EN.$($path).+,
        }
    };
}

/// A language Kilat speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    /// Bahasa Indonesia, the default unless `DEFAULT_LOCALE` says otherwise.
    #[default]
    Id,
    En,
}

/// The cookie the language switch sets, holding a [`Locale::code`].
pub const LOCALE_COOKIE: &str = "kilat_locale";

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Id, Locale::En];

    /// The BCP 47 code, as in `<html lang>` and the cookie: `id`, `en`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::Id => "id",
            Locale::En => "en",
        }
    }

    /// The language's name in itself, for the language switch.
    pub fn name(self) -> &'static str {
        match self {
            Locale::Id => "Bahasa Indonesia",
            Locale::En => "English",
        }
    }

    /// A locale from a code or a language tag (`id`, `EN`, `en-US`, `id_ID`); `None` for a
    /// language Kilat does not speak.
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Locale::ALL
            .into_iter()
            .find(|locale| primary.eq_ignore_ascii_case(locale.code()))
    }

    /// The locale for a request: the address's `?lang=`, else the cookie's choice, else the
    /// best language of `Accept-Language` that Kilat speaks, else `default`.
    pub fn negotiate(
        address: Option<&str>,
        cookie: Option<&str>,
        accept_language: Option<&str>,
        default: Locale,
    ) -> Locale {
        address
            .and_then(Locale::parse)
            .or_else(|| cookie.and_then(Locale::parse))
            .or_else(|| accept_language.and_then(Locale::from_accept_language))
            .unwrap_or(default)
    }

    /// The spoken locale with the highest `q` in an `Accept-Language` header (the first such on
    /// a tie); `q=0` means "not this one".
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(Locale, u32)> = None;
        // A hostile header may be long; real ones name a handful of languages.
        for entry in header.split(',').take(32) {
            let mut parts = entry.split(';');
            let Some(locale) = parts.next().and_then(Locale::parse) else {
                continue;
            };
            let weight = parts
                .find_map(|param| param.trim().strip_prefix("q="))
                .map_or(Some(1000), quality_in_thousandths);
            let Some(weight) = weight.filter(|weight| *weight > 0) else {
                continue;
            };
            if best.is_none_or(|(_, best_weight)| weight > best_weight) {
                best = Some((locale, weight));
            }
        }
        best.map(|(locale, _)| locale)
    }
}

/// `q` as thousandths: `1`, `0.8`, `0.125`; `None` when it is not a quality value.
fn quality_in_thousandths(q: &str) -> Option<u32> {
    let q = q.trim();
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u32>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The locale a server uses when a request says nothing (`DEFAULT_LOCALE`), given as context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultLocale(pub Locale);

/// The locale of the page being rendered: on the server the one negotiated for this request
/// (see [`provide_request_locale`]), in the browser the page's `<html lang>`.
pub fn use_locale() -> Locale {
    #[cfg(feature = "hydrate")]
    {
        thread_local! {
            static PAGE: Locale = leptos::prelude::document()
                .document_element()
                .and_then(|html| html.get_attribute("lang"))
                .and_then(|lang| Locale::parse(&lang))
                .unwrap_or_default();
        }
        PAGE.with(|locale| *locale)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        leptos::prelude::use_context::<Locale>().unwrap_or_default()
    }
}

/// Negotiates this request's locale and provides it to everything rendered below: called once,
/// by the document shell.
#[cfg(feature = "ssr")]
pub fn provide_request_locale() -> Locale {
    let locale = negotiated_locale();
    leptos::prelude::provide_context(locale);
    locale
}

/// The locale of the request being served (page or server function), from its parts and the
/// [`DefaultLocale`] in context.
#[cfg(feature = "ssr")]
pub fn negotiated_locale() -> Locale {
    use leptos::prelude::use_context;
    let default = use_context::<DefaultLocale>().map_or(Locale::default(), |default| default.0);
    use_context::<http::request::Parts>().map_or(default, |parts| {
        request_locale(&parts.uri, &parts.headers, default)
    })
}

/// The locale a request asks for (see [`Locale::negotiate`]): pages, and the server's own
/// refusals, which answer in it too.
#[cfg(feature = "ssr")]
pub fn request_locale(uri: &http::Uri, headers: &http::HeaderMap, default: Locale) -> Locale {
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    let lang_in_address = uri
        .query()
        .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("lang=")));
    Locale::negotiate(
        lang_in_address,
        header(http::header::COOKIE).and_then(|cookies| cookie_value(cookies, LOCALE_COOKIE)),
        header(http::header::ACCEPT_LANGUAGE),
        default,
    )
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    cookies.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim())
    })
}

/// Whole rupiah in the locale's form: `Rp 99.000` in Indonesian, `IDR 99,000` in English.
pub fn format_idr(amount: i64, locale: Locale) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    match locale {
        Locale::Id => format!("{sign}Rp {}", group_thousands(amount.unsigned_abs(), '.')),
        Locale::En => format!("{sign}IDR {}", group_thousands(amount.unsigned_abs(), ',')),
    }
}

/// A count with thousands separators in the locale's form: `100.000` / `100,000`.
pub fn format_count(n: u64, locale: Locale) -> String {
    group_thousands(
        n,
        match locale {
            Locale::Id => '.',
            Locale::En => ',',
        },
    )
}

/// Indonesia's western time (UTC+7), in which dates are shown: the market's main zone, named
/// on every time so nobody elsewhere misreads it.
const WIB_OFFSET_SECS: i64 = 7 * 3600;

/// The calendar date of a moment (seconds since 1970, UTC) in WIB: `3 Desember 2026` /
/// `3 December 2026`.
pub fn format_date(unix_secs: i64, locale: Locale) -> String {
    let (year, month, day, _, _) = wib_civil(unix_secs);
    format!("{day} {} {year}", month_name(month, locale))
}

/// A moment with its time of day in WIB: `3 Desember 2026 14.05 WIB` / `3 December 2026,
/// 14:05 WIB`.
pub fn format_datetime(unix_secs: i64, locale: Locale) -> String {
    let (year, month, day, hour, minute) = wib_civil(unix_secs);
    let month = month_name(month, locale);
    match locale {
        Locale::Id => format!("{day} {month} {year} {hour:02}.{minute:02} WIB"),
        Locale::En => format!("{day} {month} {year}, {hour:02}:{minute:02} WIB"),
    }
}

/// A calendar month named from its first day (`2026-12-01`): `Des 2026` / `Dec 2026` short,
/// `Desember 2026` / `December 2026` long. A date it cannot read is shown as it came.
pub fn format_month(first_day: &str, locale: Locale, short: bool) -> String {
    let mut parts = first_day.split('-');
    let (Some(year), Some(Ok(month))) = (parts.next(), parts.next().map(str::parse::<u32>)) else {
        return first_day.to_string();
    };
    let name = month_name(month, locale);
    let name = if short {
        name.get(..3).unwrap_or(name)
    } else {
        name
    };
    format!("{name} {year}")
}

/// A calendar day written `YYYY-MM-DD`, in words: `4 Desember 2026` / `4 December 2026`. A
/// date it cannot read is shown as it came.
pub fn format_calendar_day(day: &str, locale: Locale) -> String {
    let mut parts = day.split('-');
    match (
        parts.next(),
        parts.next().map(str::parse::<u32>),
        parts.next().map(str::parse::<u32>),
    ) {
        (Some(year), Some(Ok(month)), Some(Ok(date))) => {
            format!("{date} {} {year}", month_name(month, locale))
        }
        _ => day.to_string(),
    }
}

fn month_name(month: u32, locale: Locale) -> &'static str {
    const ID: [&str; 12] = [
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let index = (month.clamp(1, 12) - 1) as usize;
    match locale {
        Locale::Id => ID[index],
        Locale::En => EN[index],
    }
}

/// Year, month (1-12), day, hour and minute of a moment in WIB (the proleptic Gregorian
/// calendar; days from the epoch by Howard Hinnant's `civil_from_days`).
fn wib_civil(unix_secs: i64) -> (i64, u32, u32, u32, u32) {
    let local = unix_secs.saturating_add(WIB_OFFSET_SECS);
    let days = local.div_euclid(86_400);
    let secs_of_day = local.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (secs_of_day / 3600) as u32,
        (secs_of_day % 3600 / 60) as u32,
    )
}

fn group_thousands(n: u64, separator: char) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(separator);
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::{Locale, cookie_value, format_count, format_date, format_datetime, format_idr};

    #[test]
    fn dates_are_written_in_wib_the_way_each_language_writes_them() {
        // 2026-12-03T17:05:00Z is 4 December 00:05 in Jakarta.
        let at = 1_796_317_500;
        assert_eq!(format_date(at, Locale::Id), "4 Desember 2026");
        assert_eq!(format_date(at, Locale::En), "4 December 2026");
        assert_eq!(format_datetime(at, Locale::Id), "4 Desember 2026 00.05 WIB");
        assert_eq!(
            format_datetime(at, Locale::En),
            "4 December 2026, 00:05 WIB"
        );
        // Leap day, the epoch, and before it.
        assert_eq!(format_date(1_709_164_800, Locale::En), "29 February 2024");
        assert_eq!(format_datetime(0, Locale::En), "1 January 1970, 07:00 WIB");
        assert_eq!(format_date(-86_400, Locale::En), "31 December 1969");
    }

    #[test]
    fn the_address_beats_the_cookie_which_beats_the_header_which_beats_the_default() {
        assert_eq!(
            Locale::negotiate(Some("en"), Some("id"), Some("id"), Locale::Id),
            Locale::En
        );
        assert_eq!(
            Locale::negotiate(Some("xx"), Some("id"), Some("en"), Locale::En),
            Locale::Id
        );
        let negotiate = |cookie, header, default| Locale::negotiate(None, cookie, header, default);
        assert_eq!(negotiate(Some("en"), Some("id"), Locale::Id), Locale::En);
        assert_eq!(negotiate(Some("id"), Some("en-US"), Locale::En), Locale::Id);
        assert_eq!(
            negotiate(None, Some("en-US,en;q=0.9"), Locale::Id),
            Locale::En
        );
        assert_eq!(negotiate(None, None, Locale::En), Locale::En);
        assert_eq!(negotiate(None, None, Locale::Id), Locale::Id);
        // An unknown or garbled choice falls through to the next source.
        assert_eq!(negotiate(Some("fr"), Some("en"), Locale::Id), Locale::En);
        assert_eq!(negotiate(Some("\u{0}x"), None, Locale::En), Locale::En);
        assert_eq!(
            negotiate(None, Some("fr-FR, de;q=0.9"), Locale::Id),
            Locale::Id
        );
    }

    #[test]
    fn accept_language_picks_the_spoken_language_with_the_highest_quality() {
        let best = Locale::from_accept_language;
        assert_eq!(best("fr;q=1, id;q=0.5, en;q=0.8"), Some(Locale::En));
        assert_eq!(best("en;q=0.2, id-ID"), Some(Locale::Id));
        assert_eq!(best("id, en"), Some(Locale::Id));
        assert_eq!(best("en;q=0, id;q=0.1"), Some(Locale::Id));
        assert_eq!(best("en;q=0"), None);
        assert_eq!(best("en;q=2, id;q=abc"), None);
        assert_eq!(best("*"), None);
        assert_eq!(best(""), None);
        assert_eq!(best(&"x,".repeat(10_000)), None);
    }

    #[test]
    fn locales_parse_from_codes_and_tags() {
        assert_eq!(Locale::parse("id"), Some(Locale::Id));
        assert_eq!(Locale::parse(" EN-gb "), Some(Locale::En));
        assert_eq!(Locale::parse("id_ID"), Some(Locale::Id));
        assert_eq!(Locale::parse("ind"), None);
        assert_eq!(Locale::parse(""), None);
        for locale in Locale::ALL {
            assert_eq!(Locale::parse(locale.code()), Some(locale));
        }
    }

    #[test]
    fn rupiah_is_written_the_way_each_language_writes_it() {
        assert_eq!(format_idr(99_000, Locale::Id), "Rp 99.000");
        assert_eq!(format_idr(99_000, Locale::En), "IDR 99,000");
        assert_eq!(format_idr(1_250_000, Locale::Id), "Rp 1.250.000");
        assert_eq!(format_idr(0, Locale::En), "IDR 0");
        assert_eq!(format_idr(999, Locale::Id), "Rp 999");
        assert_eq!(format_idr(-5_000, Locale::Id), "-Rp 5.000");
        assert_eq!(format_count(100_000, Locale::Id), "100.000");
        assert_eq!(format_count(100_000, Locale::En), "100,000");
    }

    #[test]
    fn the_locale_cookie_is_found_among_others() {
        let header = "theme=dark; kilat_locale=en ;other=1";
        assert_eq!(cookie_value(header, "kilat_locale"), Some("en"));
        assert_eq!(cookie_value("kilat_locale_x=id", "kilat_locale"), None);
        assert_eq!(cookie_value("", "kilat_locale"), None);
    }

    #[test]
    fn both_languages_word_the_rate_limit_in_whole_minutes() {
        assert_eq!(
            crate::t!(Locale::En, errors.rate_limited)(1),
            "Too many attempts. Try again in 1 minute."
        );
        assert_eq!(
            crate::t!(Locale::Id, errors.rate_limited)(15),
            "Terlalu banyak percobaan. Coba lagi dalam 15 menit."
        );
    }
}
