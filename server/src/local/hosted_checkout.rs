//! What the payment gateway twins' hosted checkouts share: the book of transactions (by the
//! merchant's reference and by the payment page's token), the payment page itself (a plain
//! HTML form that works without JavaScript, with stable `data-testid`s), and how amounts and
//! times are shown to an Indonesian payer.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, MutexGuard, PoisonError},
};

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use chrono::{DateTime, FixedOffset, Utc};

use crate::html::html_escape;

/// How many transactions a twin keeps; past it the oldest is forgotten (a local twin lives
/// in memory and must not grow without bound).
pub const CAPACITY: usize = 10_000;

/// Western Indonesia Time (WIB, UTC+7), the zone Midtrans and DOKU write local times in.
const WIB: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// `at` in Jakarta (WIB).
pub fn jakarta(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&WIB)
}

/// An amount of rupiah as Indonesians write it: `Rp 1.250.000`.
fn rupiah(amount: i64) -> String {
    app::i18n::format_idr(amount, app::i18n::Locale::Id)
}

/// A reference already in the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this reference is already used")]
pub struct ReferenceTaken;

/// A twin's transactions, by the merchant's reference (order id, invoice number), with the
/// payment page's token as a second key. Safe to share; every access is one short lock.
pub struct TransactionBook<T> {
    inner: Mutex<Book<T>>,
}

struct Book<T> {
    by_reference: HashMap<String, (String, T)>,
    reference_of_token: HashMap<String, String>,
    arrival: VecDeque<String>,
}

impl<T> Default for TransactionBook<T> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Book {
                by_reference: HashMap::new(),
                reference_of_token: HashMap::new(),
                arrival: VecDeque::new(),
            }),
        }
    }
}

impl<T> TransactionBook<T> {
    /// The book, even after a panic elsewhere held the lock: every change is made whole
    /// under the lock, so the data is consistent regardless.
    fn book(&self) -> MutexGuard<'_, Book<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `transaction` unless `reference` is already in the book.
    pub fn insert(
        &self,
        reference: &str,
        token: &str,
        transaction: T,
    ) -> Result<(), ReferenceTaken> {
        let mut book = self.book();
        if book.by_reference.contains_key(reference) {
            return Err(ReferenceTaken);
        }
        book.by_reference
            .insert(reference.to_string(), (token.to_string(), transaction));
        book.reference_of_token
            .insert(token.to_string(), reference.to_string());
        book.arrival.push_back(reference.to_string());
        while book.arrival.len() > CAPACITY {
            if let Some(oldest) = book.arrival.pop_front()
                && let Some((token, _)) = book.by_reference.remove(&oldest)
            {
                book.reference_of_token.remove(&token);
            }
        }
        Ok(())
    }

    /// The reference of the transaction whose page has `token`.
    pub fn reference_of_token(&self, token: &str) -> Option<String> {
        self.book().reference_of_token.get(token).cloned()
    }

    /// The first reference whose transaction satisfies `matches`.
    pub fn find(&self, matches: impl Fn(&T) -> bool) -> Option<String> {
        self.book()
            .by_reference
            .iter()
            .find(|(_, (_, t))| matches(t))
            .map(|(reference, _)| reference.clone())
    }

    /// Runs `f` on the transaction with `reference`, under the lock.
    pub fn with<R>(&self, reference: &str, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.book()
            .by_reference
            .get_mut(reference)
            .map(|(_, transaction)| f(transaction))
    }
}

/// Which gateway's page this is.
#[derive(Debug, Clone, Copy)]
pub struct Gateway {
    /// The page's title and heading, e.g. `Midtrans sandbox stand-in (local development)`.
    pub title: &'static str,
    /// The prefix of every `data-testid`, e.g. `midtrans`.
    pub testid: &'static str,
    /// What the merchant's reference is called, e.g. `Order ID`.
    pub reference_label: &'static str,
    /// The failing button: its form value (also its `data-testid` suffix) and label, e.g.
    /// `("deny", "Decline")`.
    pub fail_button: (&'static str, &'static str),
}

/// A payment method on the page: the value sent (and in the `data-testid`), and its label.
#[derive(Debug, Clone, Copy)]
pub struct MethodChoice {
    pub value: &'static str,
    pub label: &'static str,
}

/// The payment page while the transaction can still be paid.
pub struct OpenPage<'a> {
    pub reference: &'a str,
    pub amount: i64,
    pub pay_before: DateTime<Utc>,
    pub methods: &'a [MethodChoice],
    /// The method to show selected (the one chosen before, if any).
    pub selected: Option<&'a str>,
    /// A line above the form, e.g. that the last attempt failed.
    pub notice: Option<&'a str>,
}

/// The form values of the buttons besides the failing one.
const PAY: &str = "pay";
const EXPIRE: &str = "expire";

/// A button of the payment page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Pay,
    /// The gateway's failing button ([`Gateway::fail_button`]).
    Fail,
    Expire,
}

/// What the page's form sent: `action`, and `method` when one was picked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PageAction {
    action: String,
    method: Option<String>,
}

impl PageAction {
    /// Reads an `application/x-www-form-urlencoded` body; anything else is no action.
    fn parse(body: &[u8]) -> Option<Self> {
        let mut action = None;
        let mut method = None;
        for (key, value) in url::form_urlencoded::parse(body) {
            match key.as_ref() {
                "action" => action = Some(value.into_owned()),
                "method" => method = Some(value.into_owned()),
                _ => {}
            }
        }
        Some(Self {
            action: action?,
            method,
        })
    }
}

impl Gateway {
    fn document(&self, status: StatusCode, content: &str) -> Response {
        let title = html_escape(self.title);
        let page = format!(
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f4f5; color: #18181b; margin: 0; line-height: 1.5; }}
main {{ max-width: 30rem; margin: 1.5rem auto; background: #fff; border: 3px dashed #d97706; border-radius: 0.75rem; padding: 1.25rem 1.5rem; }}
@media (max-width: 32rem) {{ main {{ margin: 0; border-radius: 0; border-width: 0 0 3px 0; }} }}
h1 {{ font-size: 1.2rem; margin: 0.5rem 0 1rem; }}
.badge {{ display: inline-block; background: #b45309; color: #fff; font-weight: 600; font-size: 0.75rem; padding: 0.2rem 0.6rem; border-radius: 999px; letter-spacing: 0.05em; }}
dl {{ display: grid; grid-template-columns: auto 1fr; gap: 0.25rem 1rem; margin: 0 0 1rem; }}
dt {{ color: #52525b; }}
dd {{ margin: 0; font-weight: 600; word-break: break-all; }}
.amount {{ font-size: 1.4rem; }}
fieldset {{ border: 1px solid #d4d4d8; border-radius: 0.5rem; padding: 0.5rem 1rem 0.75rem; margin: 0 0 1rem; }}
legend {{ font-weight: 600; padding: 0 0.25rem; }}
label {{ display: flex; align-items: center; gap: 0.6rem; padding: 0.5rem 0; font-size: 1rem; cursor: pointer; }}
input[type=radio] {{ width: 1.2rem; height: 1.2rem; margin: 0; }}
.actions {{ display: flex; flex-wrap: wrap; gap: 0.75rem; }}
button {{ flex: 1 1 8rem; padding: 0.75rem 1rem; font-size: 1rem; border-radius: 0.5rem; border: 1px solid #a1a1aa; background: #fff; color: #18181b; cursor: pointer; }}
button[value=pay] {{ background: #15803d; border-color: #15803d; color: #fff; font-weight: 600; flex-basis: 100%; }}
button:focus-visible, input:focus-visible, a:focus-visible {{ outline: 3px solid #2563eb; outline-offset: 2px; }}
.notice {{ background: #fef3c7; border-radius: 0.5rem; padding: 0.5rem 0.75rem; }}
.state {{ font-size: 1.1rem; font-weight: 700; }}
.hint {{ color: #52525b; font-size: 0.875rem; }}
</style>
</head>
<body>
<main>
<span class="badge">LOCAL DEVELOPMENT ONLY</span>
<h1>{title}</h1>
{content}
<p class="hint">Nothing here moves real money: this page stands in for the gateway's hosted payment page on this machine.</p>
</main>
</body>
</html>
"#
        );
        let mut response = (status, Html(page)).into_response();
        // A payment page is never cached or framed, as the gateways' are not.
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        response
    }

    fn summary(&self, reference: &str, amount: i64) -> String {
        format!(
            r#"<dl>
<dt>{label}</dt><dd data-testid="{testid}-reference">{reference}</dd>
<dt>Amount</dt><dd class="amount" data-testid="{testid}-amount">{amount}</dd>
</dl>"#,
            label = html_escape(self.reference_label),
            testid = self.testid,
            reference = html_escape(reference),
            amount = html_escape(&rupiah(amount)),
        )
    }

    /// The page with the method choice and the pay, fail and expire buttons.
    pub fn open_page(&self, page: &OpenPage<'_>) -> Response {
        let testid = self.testid;
        let selected = page
            .selected
            .filter(|s| page.methods.iter().any(|m| m.value == *s))
            .or_else(|| page.methods.first().map(|m| m.value));
        let methods: String = page
            .methods
            .iter()
            .map(|method| {
                let checked = if Some(method.value) == selected {
                    " checked"
                } else {
                    ""
                };
                format!(
                    r#"<label><input type="radio" name="method" value="{value}" data-testid="{testid}-method-{value}"{checked}> {label}</label>
"#,
                    value = html_escape(method.value),
                    label = html_escape(method.label),
                )
            })
            .collect();
        let notice = page
            .notice
            .map(|n| format!(r#"<p class="notice" role="status">{}</p>"#, html_escape(n)))
            .unwrap_or_default();
        let pay_before = jakarta(page.pay_before).format("%-d %b %Y, %H:%M WIB");
        let (fail_value, fail_label) = self.fail_button;
        let content = format!(
            r#"{summary}
<p>Pay before <strong>{pay_before}</strong>.</p>
{notice}<form method="post">
<fieldset>
<legend>Payment method</legend>
{methods}</fieldset>
<div class="actions">
<button type="submit" name="action" value="{PAY}" data-testid="{testid}-pay">Pay {amount}</button>
<button type="submit" name="action" value="{fail_value}" data-testid="{testid}-{fail_value}">{fail_label}</button>
<button type="submit" name="action" value="{EXPIRE}" data-testid="{testid}-{EXPIRE}">Let it expire</button>
</div>
</form>"#,
            summary = self.summary(page.reference, page.amount),
            amount = html_escape(&rupiah(page.amount)),
            fail_label = html_escape(fail_label),
        );
        self.document(StatusCode::OK, &content)
    }

    /// The page of a transaction that can no longer be paid (or the "done" page after an
    /// action when the merchant gave no return URL): its state, no buttons.
    pub fn closed_page(
        &self,
        status: StatusCode,
        reference: &str,
        amount: i64,
        state: &str,
        explanation: &str,
        return_url: Option<&str>,
    ) -> Response {
        let back = return_url
            .map(|url| {
                format!(
                    r#"<p><a href="{}" data-testid="{}-return">Return to the merchant</a></p>"#,
                    html_escape(url),
                    self.testid
                )
            })
            .unwrap_or_default();
        let content = format!(
            r#"{summary}
<p class="state" role="status" data-testid="{testid}-state">{state}</p>
<p>{explanation}</p>
{back}"#,
            summary = self.summary(reference, amount),
            testid = self.testid,
            state = html_escape(state),
            explanation = html_escape(explanation),
        );
        self.document(status, &content)
    }

    /// The page for a token the twin does not know.
    pub fn not_found_page(&self) -> Response {
        self.document(
            StatusCode::NOT_FOUND,
            "<p class=\"state\" role=\"alert\">Payment page not found.</p>\
             <p>This payment link is unknown to the stand-in (it forgets everything when the \
             server restarts). Go back to the app and start the payment again.</p>",
        )
    }

    /// What the page's form asked for: the button pressed, and what `method` makes of the
    /// method picked (`None` when none was; it answers `None` for a method not offered). For a
    /// form the page could not have sent, what is wrong with it, for [`Self::bad_request_page`].
    pub fn read_form<M>(
        &self,
        body: &[u8],
        method: impl FnOnce(Option<&str>) -> Option<M>,
    ) -> Result<(Button, M), &'static str> {
        let form = PageAction::parse(body).ok_or("The form sent no action.")?;
        let method = method(form.method.as_deref()).ok_or("That payment method is not offered.")?;
        let button = match form.action.as_str() {
            PAY => Button::Pay,
            EXPIRE => Button::Expire,
            action if action == self.fail_button.0 => Button::Fail,
            _ => return Err("The form sent an unknown action."),
        };
        Ok((button, method))
    }

    /// The page for a form the page could not have sent.
    pub fn bad_request_page(&self, what: &str) -> Response {
        self.document(
            StatusCode::BAD_REQUEST,
            &format!(
                "<p class=\"state\" role=\"alert\">{}</p><p>Go back and use the page's buttons.</p>",
                html_escape(what)
            ),
        )
    }
}

/// `303 See Other` to `location`.
pub fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        // URLs are checked when the transaction is created; this is a broken invariant.
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Whether `text` is an absolute http(s) URL a browser can be sent to.
pub fn is_web_url(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        && HeaderValue::from_str(text).is_ok()
}

/// `url` with `params` appended to its query.
pub fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.query_pairs_mut().extend_pairs(params);
            parsed.to_string()
        }
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jakarta_time_is_seven_hours_ahead_of_utc() {
        let at = DateTime::parse_from_rfc3339("2026-03-17T20:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            jakarta(at).format("%Y-%m-%d %H:%M:%S").to_string(),
            "2026-03-18 03:30:00"
        );
    }

    #[test]
    fn the_book_refuses_a_reused_reference_and_finds_by_token() {
        let book = TransactionBook::default();
        assert_eq!(book.insert("KK-1", "tok-1", 1), Ok(()));
        assert_eq!(book.insert("KK-1", "tok-2", 2), Err(ReferenceTaken));
        assert_eq!(book.reference_of_token("tok-1").as_deref(), Some("KK-1"));
        assert_eq!(book.reference_of_token("tok-2"), None);
        assert_eq!(book.with("KK-1", |t| *t), Some(1));
        assert_eq!(book.find(|t| *t == 1).as_deref(), Some("KK-1"));
    }

    #[test]
    fn the_book_forgets_the_oldest_past_its_capacity() {
        let book = TransactionBook::default();
        for i in 0..=CAPACITY {
            book.insert(&format!("KK-{i}"), &format!("tok-{i}"), i)
                .unwrap();
        }
        assert_eq!(book.with("KK-0", |_| ()), None);
        assert_eq!(book.reference_of_token("tok-0"), None);
        assert!(book.with(&format!("KK-{CAPACITY}"), |_| ()).is_some());
    }

    #[test]
    fn page_actions_come_from_the_form_body() {
        assert_eq!(
            PageAction::parse(b"method=qris&action=pay"),
            Some(PageAction {
                action: "pay".into(),
                method: Some("qris".into())
            })
        );
        assert_eq!(PageAction::parse(b"method=qris"), None);
        assert_eq!(PageAction::parse(b"\xff\xfe"), None);
    }

    #[test]
    fn return_urls_keep_their_query_and_gain_the_params() {
        assert_eq!(
            with_query(
                "http://127.0.0.1:3000/billing/done?plan=pro",
                &[("order_id", "KK-1"), ("status_code", "200")]
            ),
            "http://127.0.0.1:3000/billing/done?plan=pro&order_id=KK-1&status_code=200"
        );
        assert!(is_web_url("https://kilat.id/x"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("/relative"));
    }
}
