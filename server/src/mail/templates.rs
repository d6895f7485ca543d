//! Kilat's application email: each message described once ([`Letter`]) and rendered to HTML and
//! plain text, in the recipient's language (the words are `app::i18n`'s `mail` section), with
//! the product's name and look — a white card on slate with the amber accent, inline styles and
//! tables only, as mail clients need. Every value that comes from a person or the database is
//! escaped in the HTML.

use app::{
    domain::Plan,
    i18n::{Locale, format_date, format_idr},
    t,
};

use crate::html::html_escape;

/// The product's name, at the top of every mail.
pub const PRODUCT: &str = "Kilat";

/// A message ready to queue: what the recipient reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Longest name or subject part taken from a person's input, in characters.
const NAME_LIMIT: usize = 120;

/// The confirmation a visitor gets after joining the waitlist.
pub fn waitlist_confirmation(locale: Locale, site_url: &str, name: Option<&str>) -> Rendered {
    Letter {
        subject: t!(locale, mail.waitlist_subject).to_string(),
        heading: t!(locale, mail.waitlist_heading),
        greeting: Some(greeting(locale, name)),
        paragraphs: vec![t!(locale, mail.waitlist_body).to_string()],
        action: Some((
            t!(locale, mail.waitlist_action),
            format!("{}/", site(site_url)),
        )),
        ..Letter::new(locale)
    }
    .render()
}

/// A contact form message, delivered to the site's operator (queue it with the sender as
/// `reply_to`, so answering is one click).
pub fn contact_message(locale: Locale, name: &str, email: &str, message: &str) -> Rendered {
    let name = one_line(name);
    Letter {
        subject: (t!(locale, mail.contact_subject))(&name),
        heading: t!(locale, mail.contact_heading),
        facts: vec![
            (t!(locale, mail.contact_name), name),
            (t!(locale, mail.contact_email), one_line(email)),
        ],
        quote: Some((t!(locale, mail.contact_message), message.trim().to_string())),
        notes: vec![t!(locale, mail.contact_reply)],
        footer: t!(locale, mail.contact_footer),
        sign_off: false,
        ..Letter::new(locale)
    }
    .render()
}

/// The welcome after a person's first sign-in.
pub fn welcome(locale: Locale, site_url: &str, name: Option<&str>) -> Rendered {
    Letter {
        subject: t!(locale, mail.welcome_subject).to_string(),
        heading: t!(locale, mail.welcome_heading),
        greeting: Some(greeting(locale, name)),
        paragraphs: vec![t!(locale, mail.welcome_body).to_string()],
        action: Some((
            t!(locale, mail.welcome_action),
            format!("{}/dashboard", site(site_url)),
        )),
        ..Letter::new(locale)
    }
    .render()
}

/// What a receipt states about one paid order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice<'a> {
    pub plan: Plan,
    /// Whole rupiah.
    pub amount_idr: i64,
    /// The order id the gateway knows (`KK-…`).
    pub order_id: &'a str,
    /// Unix seconds.
    pub paid_at: i64,
    /// Unix seconds: the end of the period this payment bought, when known.
    pub period_end: Option<i64>,
}

/// The receipt for a paid order.
pub fn invoice(locale: Locale, site_url: &str, invoice: &Invoice<'_>) -> Rendered {
    let mut facts = vec![
        (
            t!(locale, mail.invoice_plan),
            invoice.plan.name().to_string(),
        ),
        (
            t!(locale, mail.invoice_amount),
            format_idr(invoice.amount_idr, locale),
        ),
        (t!(locale, mail.invoice_order), invoice.order_id.to_string()),
        (
            t!(locale, mail.invoice_paid_on),
            format_date(invoice.paid_at, locale),
        ),
    ];
    if let Some(end) = invoice.period_end {
        facts.push((
            t!(locale, mail.invoice_period_end),
            format_date(end, locale),
        ));
    }
    Letter {
        subject: (t!(locale, mail.invoice_subject))(invoice.order_id),
        heading: t!(locale, mail.invoice_heading),
        paragraphs: vec![t!(locale, mail.invoice_body).to_string()],
        facts,
        action: Some((
            t!(locale, mail.invoice_action),
            format!("{}/dashboard/billing", site(site_url)),
        )),
        ..Letter::new(locale)
    }
    .render()
}

/// The reminder a few days before a paid period ends without renewal; its button opens the
/// checkout for the same plan.
pub fn renewal_reminder(locale: Locale, site_url: &str, plan: Plan, period_end: i64) -> Rendered {
    let date = format_date(period_end, locale);
    Letter {
        subject: (t!(locale, mail.reminder_subject))(plan.name(), &date),
        heading: t!(locale, mail.reminder_heading),
        paragraphs: vec![(t!(locale, mail.reminder_body))(plan.name(), &date)],
        action: Some((
            t!(locale, mail.reminder_action),
            format!("{}/checkout?plan={}", site(site_url), plan.as_db()),
        )),
        notes: vec![t!(locale, mail.reminder_note)],
        ..Letter::new(locale)
    }
    .render()
}

fn site(site_url: &str) -> &str {
    site_url.trim_end_matches('/')
}

fn greeting(locale: Locale, name: Option<&str>) -> String {
    let name = name.map(one_line).filter(|name| !name.is_empty());
    (t!(locale, mail.greeting))(name.as_deref())
}

/// A person's input on one line (a name in a subject or greeting): whitespace and control
/// characters collapsed to single spaces, at most [`NAME_LIMIT`] characters.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(NAME_LIMIT)
        .collect()
}

/// One mail, described once and rendered to both formats.
struct Letter {
    locale: Locale,
    subject: String,
    heading: &'static str,
    greeting: Option<String>,
    paragraphs: Vec<String>,
    /// Label and value rows (an order's facts, a sender's details).
    facts: Vec<(&'static str, String)>,
    /// A person's own words, shown as written: a label and the text.
    quote: Option<(&'static str, String)>,
    /// The one button: its label and address.
    action: Option<(&'static str, String)>,
    /// Small print after the button.
    notes: Vec<&'static str>,
    footer: &'static str,
    sign_off: bool,
}

// Colours of the site's palette (Tailwind's slate and amber).
const SLATE_50: &str = "#f8fafc";
const SLATE_100: &str = "#f1f5f9";
const SLATE_200: &str = "#e2e8f0";
const SLATE_500: &str = "#64748b";
const SLATE_700: &str = "#334155";
const SLATE_900: &str = "#0f172a";
const AMBER_500: &str = "#f59e0b";
const FONT: &str = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";

impl Letter {
    fn new(locale: Locale) -> Self {
        Self {
            locale,
            subject: String::new(),
            heading: "",
            greeting: None,
            paragraphs: Vec::new(),
            facts: Vec::new(),
            quote: None,
            action: None,
            notes: Vec::new(),
            footer: t!(locale, mail.footer),
            sign_off: true,
        }
    }

    fn render(self) -> Rendered {
        Rendered {
            subject: one_line(&self.subject),
            html: self.html(),
            text: self.text(),
        }
    }

    fn text(&self) -> String {
        let locale = self.locale;
        let mut out = format!(
            "{PRODUCT} — {}\n\n{}\n\n",
            t!(locale, mail.tagline),
            self.heading
        );
        if let Some(greeting) = &self.greeting {
            out.push_str(&format!("{greeting}\n\n"));
        }
        for paragraph in &self.paragraphs {
            out.push_str(&format!("{paragraph}\n\n"));
        }
        if !self.facts.is_empty() {
            for (label, value) in &self.facts {
                out.push_str(&format!("{label}: {value}\n"));
            }
            out.push('\n');
        }
        if let Some((label, quote)) = &self.quote {
            out.push_str(&format!("{label}:\n"));
            for line in quote.lines() {
                out.push_str(&format!("> {line}\n"));
            }
            out.push('\n');
        }
        if let Some((label, url)) = &self.action {
            out.push_str(&format!("{label}: {url}\n\n"));
        }
        for note in &self.notes {
            out.push_str(&format!("{note}\n\n"));
        }
        if self.sign_off {
            out.push_str(&format!("{}\n\n", t!(locale, mail.sign_off)));
        }
        out.push_str(&format!("-- \n{}\n", self.footer));
        out
    }

    fn html(&self) -> String {
        let locale = self.locale;
        let e = html_escape;
        let paragraph = |text: &str| {
            format!(
                "<p style=\"margin:0 0 16px;font-size:15px;line-height:1.6;color:{SLATE_700};\">{}</p>\n",
                e(text)
            )
        };
        let mut body = format!(
            "<h1 style=\"margin:0 0 16px;font-size:22px;line-height:1.3;color:{SLATE_900};\">{}</h1>\n",
            e(self.heading)
        );
        if let Some(greeting) = &self.greeting {
            body.push_str(&paragraph(greeting));
        }
        for text in &self.paragraphs {
            body.push_str(&paragraph(text));
        }
        if !self.facts.is_empty() {
            body.push_str(&format!(
                "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" \
                 style=\"margin:0 0 16px;border:1px solid {SLATE_200};border-radius:8px;border-collapse:separate;\">\n"
            ));
            for (label, value) in &self.facts {
                body.push_str(&format!(
                    "<tr><td style=\"padding:10px 12px;font-size:14px;color:{SLATE_500};\">{}</td>\
                     <td style=\"padding:10px 12px;font-size:14px;font-weight:600;color:{SLATE_900};text-align:right;\">{}</td></tr>\n",
                    e(label),
                    e(value)
                ));
            }
            body.push_str("</table>\n");
        }
        if let Some((label, quote)) = &self.quote {
            body.push_str(&format!(
                "<p style=\"margin:0 0 8px;font-size:14px;color:{SLATE_500};\">{}</p>\n\
                 <div style=\"margin:0 0 16px;padding:12px 16px;background:{SLATE_50};border-left:4px solid {AMBER_500};\
                 font-size:15px;line-height:1.6;color:{SLATE_900};white-space:pre-wrap;\">{}</div>\n",
                e(label),
                e(quote)
            ));
        }
        if let Some((label, url)) = &self.action {
            body.push_str(&format!(
                "<p style=\"margin:24px 0;\"><a href=\"{}\" style=\"display:inline-block;background:{AMBER_500};\
                 color:{SLATE_900};font-weight:600;font-size:15px;text-decoration:none;padding:12px 20px;border-radius:8px;\">{}</a></p>\n",
                e(url),
                e(label)
            ));
        }
        for note in &self.notes {
            body.push_str(&format!(
                "<p style=\"margin:0 0 16px;font-size:13px;line-height:1.5;color:{SLATE_500};\">{}</p>\n",
                e(note)
            ));
        }
        if self.sign_off {
            body.push_str(&paragraph(t!(locale, mail.sign_off)));
        }
        format!(
            "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>{title}</title>\n</head>\n\
             <body style=\"margin:0;padding:0;background:{SLATE_100};\">\n\
             <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:{SLATE_100};padding:24px 8px;\">\n\
             <tr><td align=\"center\">\n\
             <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" \
             style=\"max-width:560px;background:#ffffff;border-radius:12px;border-top:4px solid {AMBER_500};font-family:{FONT};color:{SLATE_900};\">\n\
             <tr><td style=\"padding:24px 32px 0;\">\
             <div style=\"font-size:20px;font-weight:700;color:{SLATE_900};\"><span style=\"color:{AMBER_500};\">&#9889;</span> {product}</div>\
             <div style=\"font-size:13px;color:{SLATE_500};\">{tagline}</div></td></tr>\n\
             <tr><td style=\"padding:24px 32px 8px;\">\n{body}</td></tr>\n\
             <tr><td style=\"padding:16px 32px 24px;border-top:1px solid {SLATE_200};font-size:12px;line-height:1.5;color:{SLATE_500};\">{footer}</td></tr>\n\
             </table>\n</td></tr>\n</table>\n</body>\n</html>\n",
            lang = locale.code(),
            title = e(&one_line(&self.subject)),
            product = e(PRODUCT),
            tagline = e(t!(locale, mail.tagline)),
            footer = e(self.footer),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "https://kilat.id/";
    /// 2026-12-03T17:05:00Z: 4 December in Jakarta.
    const PAID_AT: i64 = 1_796_317_500;

    #[test]
    fn a_contact_message_escapes_what_the_sender_wrote_in_both_languages() {
        for locale in Locale::ALL {
            let mail = contact_message(
                locale,
                "Eve <script>\r\nBcc: x@y.z",
                "eve@kilat.test",
                "<b>hi</b> & \"bye\"\nline two",
            );
            assert!(!mail.html.contains("<script>"), "{}", mail.html);
            assert!(!mail.html.contains("<b>hi</b>"), "{}", mail.html);
            assert!(
                mail.html
                    .contains("&lt;b&gt;hi&lt;/b&gt; &amp; &quot;bye&quot;")
            );
            assert!(mail.html.contains("Eve &lt;script&gt; Bcc: x@y.z"));
            assert!(!mail.subject.contains(['\r', '\n']), "{}", mail.subject);
            assert!(mail.subject.contains("Eve <script> Bcc: x@y.z"));
            // The plain text keeps the words as written, quoted line by line.
            assert!(mail.text.contains("> <b>hi</b> & \"bye\"\n> line two\n"));
            assert!(mail.text.contains("eve@kilat.test"));
        }
        assert!(
            contact_message(Locale::Id, "Ana", "a@b.id", "x")
                .subject
                .contains("pesan dari Ana")
        );
        assert!(
            contact_message(Locale::En, "Ana", "a@b.id", "x")
                .subject
                .contains("a message from Ana")
        );
    }

    #[test]
    fn the_invoice_states_the_amount_in_the_recipients_rupiah_form() {
        let paid = Invoice {
            plan: Plan::Pro,
            amount_idr: 99_000,
            order_id: "KK-1-abcd",
            paid_at: PAID_AT,
            period_end: Some(PAID_AT + 31 * 86_400),
        };
        let id = invoice(Locale::Id, SITE, &paid);
        assert!(id.text.contains("Rp 99.000"), "{}", id.text);
        assert!(id.html.contains("Rp 99.000"));
        assert!(id.text.contains("4 Desember 2026"), "{}", id.text);
        assert!(id.text.contains("4 Januari 2027"), "{}", id.text);
        assert!(id.subject.contains("KK-1-abcd"));
        assert!(id.html.contains("<html lang=\"id\">"));
        let en = invoice(Locale::En, SITE, &paid);
        assert!(en.text.contains("IDR 99,000"), "{}", en.text);
        assert!(en.text.contains("Pro"));
        assert!(
            en.text.contains("https://kilat.id/dashboard/billing"),
            "{}",
            en.text
        );
        assert!(!en.text.contains("Rp "), "{}", en.text);
    }

    #[test]
    fn the_renewal_reminder_links_to_the_checkout_of_the_same_plan() {
        for locale in Locale::ALL {
            let mail = renewal_reminder(locale, SITE, Plan::Basic, PAID_AT);
            assert!(
                mail.text.contains("https://kilat.id/checkout?plan=BASIC"),
                "{}",
                mail.text
            );
            assert!(
                mail.html
                    .contains("href=\"https://kilat.id/checkout?plan=BASIC\"")
            );
            assert!(mail.subject.contains("Basic"));
        }
        assert!(
            renewal_reminder(Locale::Id, SITE, Plan::Pro, PAID_AT)
                .subject
                .contains("4 Desember 2026")
        );
        assert!(
            renewal_reminder(Locale::En, SITE, Plan::Pro, PAID_AT)
                .subject
                .contains("4 December 2026")
        );
    }

    #[test]
    fn every_mail_carries_the_product_and_a_greeting_by_name_when_known() {
        for locale in Locale::ALL {
            for mail in [
                welcome(locale, SITE, Some("Ana <Putri>")),
                waitlist_confirmation(locale, SITE, Some("Ana <Putri>")),
            ] {
                assert!(mail.html.contains("Kilat"));
                assert!(mail.text.starts_with("Kilat — "));
                assert!(mail.html.contains("Ana &lt;Putri&gt;"), "{}", mail.html);
                assert!(mail.text.contains("Ana <Putri>"));
                assert!(mail.html.contains(AMBER_500));
            }
            let anonymous = waitlist_confirmation(locale, SITE, None);
            assert!(!anonymous.text.contains("None"));
            let blank = welcome(locale, SITE, Some("  \n "));
            assert_eq!(blank.text, welcome(locale, SITE, None).text);
        }
        assert!(
            welcome(Locale::Id, SITE, Some("Ana"))
                .text
                .contains("Halo Ana,")
        );
        assert!(
            welcome(Locale::En, SITE, Some("Ana"))
                .text
                .contains("Hi Ana,")
        );
        assert!(
            welcome(Locale::En, SITE, None)
                .text
                .contains("https://kilat.id/dashboard\n")
        );
        assert_ne!(
            welcome(Locale::Id, SITE, None).subject,
            welcome(Locale::En, SITE, None).subject
        );
    }
}
