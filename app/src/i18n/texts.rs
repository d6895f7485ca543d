//! Every string a person reads, by page and component. Each language is one `Texts` value in
//! its own file (`en.rs`, `id.rs`): a string missing in one language is a missing field, which
//! fails the build. Read them with [`t!`](crate::t), which picks the one string it names, so the
//! browser bundle holds only the strings its islands show.

/// A feature on the landing page.
pub struct Feature {
    pub title: &'static str,
    pub body: &'static str,
}

pub struct Texts {
    pub common: Common,
    pub errors: Errors,
    pub fields: Fields,
    pub layout: Layout,
    pub landing: Landing,
    pub pricing: Pricing,
    pub legal: Legal,
    pub status: Status,
    pub login: Login,
    pub sign_up: SignUp,
    pub sign_up_success: SignUpSuccess,
    pub magic_link_sent: MagicLinkSent,
    pub verify_email: VerifyEmail,
    pub forgot_password: ForgotPassword,
    pub update_password: UpdatePassword,
    pub auth_error: AuthError,
    pub dashboard: Dashboard,
    pub settings: Settings,
    pub avatar: Avatar,
    pub billing: Billing,
    pub ai: Ai,
    pub outreach: Outreach,
    pub waitlist: Waitlist,
    pub contact: Contact,
    pub admin: Admin,
    pub dev_mailbox: DevMailbox,
    pub mail: Mail,
    pub not_found: NotFound,
}

/// Words several pages share.
pub struct Common {
    pub email: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub back_to_sign_in: &'static str,
    pub loading_account: &'static str,
    pub password_hint: &'static str,
    pub signed_out: &'static str,
    pub unknown_problem: &'static str,
    pub next_steps_title: &'static str,
    pub per_month: &'static str,
}

/// The refusals of `IdentityError` and `RequestError`.
pub struct Errors {
    pub invalid_credentials: &'static str,
    pub email_not_confirmed: &'static str,
    pub email_taken: &'static str,
    pub signups_disabled: &'static str,
    pub not_signed_in: &'static str,
    pub link_incomplete: &'static str,
    pub link_from_other_browser: &'static str,
    pub link_expired: &'static str,
    pub reset_link_expired: &'static str,
    /// Given the wait, in whole minutes (at least 1).
    pub rate_limited: fn(u64) -> String,
    pub bad_request: &'static str,
    pub too_large: &'static str,
    pub unreachable: &'static str,
    pub sign_in_unavailable: &'static str,
    pub request_bad: &'static str,
    pub request_too_large: &'static str,
    pub unavailable: &'static str,
    pub page_missing: &'static str,
    pub admin_unavailable: &'static str,
    pub admin_self_demotion: &'static str,
    pub admin_reason_missing: &'static str,
    pub admin_plan_not_grantable: &'static str,
    pub admin_filter_invalid: &'static str,
    pub body_unreadable: &'static str,
    /// Given the limit in KiB.
    pub body_too_large: fn(usize) -> String,
    pub cross_site: &'static str,
}

/// The messages of `FieldError`.
pub struct Fields {
    pub email_missing: &'static str,
    pub email_invalid: &'static str,
    pub email_refused: &'static str,
    pub password_missing: &'static str,
    pub password_too_short: &'static str,
    pub password_too_long: &'static str,
    pub password_weak: &'static str,
    pub password_unchanged: &'static str,
    pub current_password_missing: &'static str,
    pub current_password_wrong: &'static str,
    pub email_unchanged: &'static str,
    pub email_in_use: &'static str,
    pub name_too_long: &'static str,
    pub name_invalid_characters: &'static str,
}

pub struct Layout {
    pub skip_to_content: &'static str,
    pub main_nav: &'static str,
    pub menu: &'static str,
    pub footer_nav: &'static str,
    pub features: &'static str,
    pub pricing: &'static str,
    /// Followed by the person's name.
    pub account_menu_for: &'static str,
    pub dashboard: &'static str,
    pub settings: &'static str,
    pub to_light: &'static str,
    pub to_dark: &'static str,
    pub footer_note: &'static str,
    pub terms: &'static str,
    pub privacy: &'static str,
    pub status: &'static str,
    pub contact: &'static str,
    pub waitlist: &'static str,
    pub language: &'static str,
    pub description: &'static str,
    /// What the link-preview picture shows, for people who cannot see it.
    pub share_image_alt: &'static str,
}

pub struct Landing {
    pub eyebrow: &'static str,
    pub headline: &'static str,
    pub lead: &'static str,
    pub cta_primary: &'static str,
    pub cta_secondary: &'static str,
    pub features_title: &'static str,
    pub features: [Feature; 6],
    pub pricing_title: &'static str,
    pub pricing_lead: &'static str,
    pub popular: &'static str,
    pub start: &'static str,
    pub plan_without_ai: &'static str,
    /// Given the monthly allowance, written with the locale's thousands separator.
    pub plan_with_tokens: fn(&str) -> String,
    pub plan_unlimited: &'static str,
}

pub struct Pricing {
    pub title: &'static str,
    pub lead: &'static str,
    pub included: &'static str,
    pub sign_in: &'static str,
    pub dashboard: &'static str,
    pub rate_limits: &'static str,
    pub higher_limits: &'static str,
    /// Paid plans cannot be bought yet (billing is not open).
    pub payment_note: &'static str,
    pub start_free: &'static str,
    pub start: &'static str,
}

pub struct Status {
    pub title: &'static str,
    pub lead: &'static str,
    pub loading: &'static str,
    pub all_good: &'static str,
    pub degraded: &'static str,
    pub database: &'static str,
    /// Given the round-trip time in milliseconds.
    pub database_ok: fn(f64) -> String,
    pub database_down: &'static str,
    pub migrations: &'static str,
    /// Given the number applied.
    pub migrations_current: fn(usize) -> String,
    /// Given the number still to apply.
    pub migrations_pending: fn(usize) -> String,
    pub unknown: &'static str,
    pub features: &'static str,
    pub feature_auth: &'static str,
    pub feature_waitlist: &'static str,
    pub feature_contact: &'static str,
    pub feature_payments: &'static str,
    pub feature_admin: &'static str,
    pub feature_ai: &'static str,
    pub ready: &'static str,
    pub local_stand_in: &'static str,
    pub turned_off: &'static str,
    pub not_configured: &'static str,
}

/// A heading and its paragraph on a legal page.
pub struct Section {
    pub heading: &'static str,
    pub body: &'static str,
}

/// The starter terms and privacy policy: a team edits them to fit its product.
pub struct Legal {
    pub updated: &'static str,
    pub terms_title: &'static str,
    pub terms_lead: &'static str,
    pub terms: [Section; 6],
    pub privacy_title: &'static str,
    pub privacy_lead: &'static str,
    pub privacy: [Section; 6],
}

pub struct Login {
    pub title: &'static str,
    pub lead: &'static str,
    pub password_missing: &'static str,
    pub submitting: &'static str,
    pub forgot: &'static str,
    pub no_account: &'static str,
    pub sign_up: &'static str,
    pub or: &'static str,
    pub google: &'static str,
    pub magic_title: &'static str,
    pub magic_lead: &'static str,
    pub magic_email: &'static str,
    pub magic_submit: &'static str,
    pub reset_done: &'static str,
}

pub struct SignUp {
    pub title: &'static str,
    pub lead: &'static str,
    pub full_name: &'static str,
    pub submit: &'static str,
    pub submitting: &'static str,
    pub have_account: &'static str,
}

pub struct SignUpSuccess {
    pub title: &'static str,
    pub lead: &'static str,
    pub steps: [&'static str; 3],
    pub already: &'static str,
}

pub struct MagicLinkSent {
    pub title: &'static str,
    pub lead: &'static str,
    pub steps: [&'static str; 3],
    pub other_way: &'static str,
}

pub struct VerifyEmail {
    pub title: &'static str,
    pub lead: &'static str,
    pub body: &'static str,
}

pub struct ForgotPassword {
    pub title: &'static str,
    pub lead: &'static str,
    pub submit: &'static str,
    pub sent: &'static str,
    pub sent_title: &'static str,
    pub remembered: &'static str,
}

pub struct UpdatePassword {
    pub title: &'static str,
    pub lead: &'static str,
    pub password: &'static str,
    pub submit: &'static str,
}

pub struct AuthError {
    pub title: &'static str,
    pub generic: &'static str,
}

pub struct Dashboard {
    pub title: &'static str,
    /// Followed by the person's name.
    pub welcome: &'static str,
    pub lead: &'static str,
    pub plan_title: &'static str,
    pub plan_lead: &'static str,
    pub account_title: &'static str,
    pub account_lead: &'static str,
    pub settings: &'static str,
    pub admin: &'static str,
}

pub struct Settings {
    pub title: &'static str,
    pub lead: &'static str,
    pub back: &'static str,
    pub profile_title: &'static str,
    pub full_name: &'static str,
    pub full_name_hint: &'static str,
    pub email_hint: &'static str,
    pub submit: &'static str,
    pub submitting: &'static str,
    pub saved: &'static str,
    pub session_title: &'static str,
    pub session_lead: &'static str,
    pub email_title: &'static str,
    pub email_lead: &'static str,
    pub new_email: &'static str,
    pub email_submit: &'static str,
    pub email_submitting: &'static str,
    pub email_links_sent: &'static str,
    pub email_changed_now: &'static str,
    pub email_changed: &'static str,
    pub email_half_confirmed: &'static str,
    pub password_title: &'static str,
    pub password_lead: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub password_submit: &'static str,
    pub password_submitting: &'static str,
    pub password_changed: &'static str,
    pub forgot: &'static str,
}

/// The avatar: the settings card, and its refusals (`avatar::AvatarError`).
pub struct Avatar {
    pub title: &'static str,
    pub lead: &'static str,
    pub current_alt: &'static str,
    pub choose: &'static str,
    pub preview_alt: &'static str,
    pub drop: &'static str,
    pub upload: &'static str,
    /// A template: the upload script puts the share done in place of `{percent}`.
    pub uploading: &'static str,
    pub saved: &'static str,
    pub removed: &'static str,
    pub remove: &'static str,
    pub remove_question: &'static str,
    pub remove_yes: &'static str,
    pub too_large: &'static str,
    pub not_a_picture: &'static str,
    pub hidden_content: &'static str,
    pub damaged: &'static str,
    pub too_many_pixels: &'static str,
    pub missing: &'static str,
}

/// Billing: checkout, the order page, the billing page and their refusals (`billing::BillingError`).
pub struct Billing {
    pub not_for_sale: &'static str,
    pub gateway_unavailable: &'static str,
    pub no_paid_plan: &'static str,
    pub payments_off: &'static str,
    pub checkout_title: &'static str,
    pub checkout_lead: &'static str,
    pub plan: &'static str,
    pub price: &'static str,
    pub period: &'static str,
    pub one_month: &'static str,
    pub extends: fn(&str, &str) -> String,
    pub starts_now: &'static str,
    pub pay_on: fn(&str) -> String,
    pub to_payment: &'static str,
    pub choose_plan: &'static str,
    pub see_plans: &'static str,
    pub order_title: &'static str,
    pub order_number: &'static str,
    pub amount: &'static str,
    pub status: &'static str,
    pub status_pending: &'static str,
    pub status_paid: &'static str,
    pub status_failed: &'static str,
    pub status_expired: &'static str,
    pub status_refunded: &'static str,
    pub pending_lead: &'static str,
    pub paid_lead: &'static str,
    pub failed_lead: &'static str,
    pub expired_lead: &'static str,
    pub refunded_lead: &'static str,
    pub to_gateway: &'static str,
    pub continue_paying: &'static str,
    pub try_again: &'static str,
    pub to_billing: &'static str,
    pub pay_before: fn(&str) -> String,
    pub order_missing: &'static str,
    pub billing_title: &'static str,
    pub billing_lead: &'static str,
    pub current_plan: &'static str,
    pub paid_until: fn(&str) -> String,
    pub free_forever: &'static str,
    pub renew: &'static str,
    pub change_plan: &'static str,
    pub cancel: &'static str,
    pub cancel_question: &'static str,
    pub cancel_yes: &'static str,
    pub canceled_note: fn(&str) -> String,
    pub resume: &'static str,
    pub canceled_notice: &'static str,
    pub resumed_notice: &'static str,
    pub history_title: &'static str,
    pub history_empty: &'static str,
    pub date: &'static str,
    pub upgrade: &'static str,
}

pub struct Admin {
    pub title: &'static str,
    pub loading: &'static str,
    pub heading: &'static str,
    pub lead: &'static str,
    pub revenue: &'static str,
    pub revenue_this_month: &'static str,
    pub recurring: &'static str,
    pub recurring_hint: &'static str,
    pub paid: &'static str,
    pub pending: &'static str,
    pub active: &'static str,
    pub revenue_by_month: &'static str,
    pub signups_by_month: &'static str,
    pub paying_by_month: &'static str,
    /// A month's bar: the month in full, then its figure already formatted.
    pub month_figure: fn(&str, &str) -> String,
    pub nav_label: &'static str,
    pub nav_overview: &'static str,
    pub nav_people: &'static str,
    pub people_title: &'static str,
    pub people_lead: &'static str,
    pub search_label: &'static str,
    pub search_placeholder: &'static str,
    pub search_button: &'static str,
    pub no_people: &'static str,
    pub email: &'static str,
    pub name: &'static str,
    pub plan: &'static str,
    pub role: &'static str,
    pub joined: &'static str,
    pub role_admin: &'static str,
    pub role_member: &'static str,
    pub next_page: &'static str,
    pub first_page: &'static str,
    pub person_title: &'static str,
    pub back_to_people: &'static str,
    pub last_sign_in: &'static str,
    pub never: &'static str,
    pub language: &'static str,
    pub subscription: &'static str,
    pub status: &'static str,
    pub period_end: &'static str,
    pub ends_at_period_end: &'static str,
    pub ai_this_month: &'static str,
    /// Tokens used, then the allowance (both formatted; the allowance may say "unlimited").
    pub ai_used_of: fn(&str, &str) -> String,
    pub unlimited: &'static str,
    pub change_role: &'static str,
    pub save_role: &'static str,
    pub grant_title: &'static str,
    pub grant_lead: &'static str,
    pub grant_reason: &'static str,
    pub grant_button: &'static str,
    pub payments_title: &'static str,
    pub no_payments: &'static str,
    pub date: &'static str,
    pub amount: &'static str,
    pub order: &'static str,
    pub gateway: &'static str,
    pub audit_title: &'static str,
    pub no_audit: &'static str,
    pub action: &'static str,
    pub actor: &'static str,
    pub target: &'static str,
    pub details: &'static str,
    pub system_actor: &'static str,
    pub nav_payments: &'static str,
    pub nav_webhooks: &'static str,
    pub payments_lead: &'static str,
    pub any: &'static str,
    pub filter_button: &'static str,
    pub customer: &'static str,
    pub payment_title: &'static str,
    pub back_to_payments: &'static str,
    pub payment_type: &'static str,
    pub expires: &'static str,
    pub paid_at: &'static str,
    pub gateway_data: &'static str,
    pub events_title: &'static str,
    pub no_events: &'static str,
    pub webhooks_title: &'static str,
    pub webhooks_lead: &'static str,
    pub received: &'static str,
    pub event: &'static str,
    pub attempts: &'static str,
    pub last_error: &'static str,
    pub payload: &'static str,
    pub replay: &'static str,
    pub replay_hint: &'static str,
    pub event_processing: &'static str,
    pub event_processed: &'static str,
    pub event_failed: &'static str,
    pub nav_audit: &'static str,
    pub nav_waitlist: &'static str,
    pub nav_ai: &'static str,
    pub nav_mail: &'static str,
    pub audit_lead: &'static str,
    pub filter_actor: &'static str,
    pub filter_actor_hint: &'static str,
    pub filter_action: &'static str,
    pub filter_target: &'static str,
    pub filter_target_hint: &'static str,
    pub filter_from: &'static str,
    pub filter_to: &'static str,
    pub download_csv: &'static str,
    pub ip: &'static str,
    pub waitlist_lead: &'static str,
    /// How many signed up in all, already formatted.
    pub waitlist_total: fn(&str) -> String,
    pub no_waitlist: &'static str,
    pub source: &'static str,
    pub mail_lead: &'static str,
    pub mail_pending: &'static str,
    pub mail_sent: &'static str,
    pub mail_dead: &'static str,
    pub no_mail: &'static str,
    pub kind: &'static str,
    pub recipient: &'static str,
    pub subject: &'static str,
    pub queued: &'static str,
    pub retry: &'static str,
    pub ai_title: &'static str,
    pub ai_lead: &'static str,
    pub ai_tokens_by_day: &'static str,
    pub ai_by_model: &'static str,
    pub ai_top_users: &'static str,
    pub ai_nothing: &'static str,
    pub model: &'static str,
    pub tokens: &'static str,
    pub calls: &'static str,
    pub nav_system: &'static str,
    pub system_lead: &'static str,
    pub environment: &'static str,
    pub schema: &'static str,
    pub schema_drift: &'static str,
    pub schema_pending: &'static str,
    pub schema_changed: &'static str,
    pub schema_unknown: &'static str,
    pub schema_unreadable: &'static str,
    pub missing_settings: &'static str,
    pub jobs_title: &'static str,
    pub jobs_lead: &'static str,
    pub job: &'static str,
    pub last_run: &'static str,
    pub last_success: &'static str,
    pub last_failure: &'static str,
    pub job_working: &'static str,
    pub job_failing: &'static str,
    pub job_late: &'static str,
    pub job_never_ran: &'static str,
    pub environment_development: &'static str,
    pub environment_production: &'static str,
    pub jobs_unreadable: &'static str,
    pub job_off: &'static str,
    pub job_every: fn(u64) -> String,
    pub job_reconcile: &'static str,
    pub job_lapse: &'static str,
    pub job_mail: &'static str,
    pub job_reminders: &'static str,
    pub job_housekeeping: &'static str,
}

/// The AI pages and the AI routes' refusals.
pub struct Ai {
    pub message_missing: &'static str,
    pub message_too_long: &'static str,
    pub template_unknown: &'static str,
    pub conversation_not_found: &'static str,
    pub plan_without_ai: &'static str,
    /// When the month's allowance renews (a date and time, already in the language).
    pub quota_reached: fn(&str) -> String,
    pub off: &'static str,
    pub provider_busy: &'static str,

    // Where the pages are linked from.
    /// The account menu's link.
    pub nav_link: &'static str,
    pub dashboard_title: &'static str,
    pub dashboard_lead: &'static str,

    // Both pages.
    pub chat_title: &'static str,
    pub chat_lead: &'static str,
    pub generate_title: &'static str,
    pub generate_lead: &'static str,
    /// The label of the chat / templates switch.
    pub tools_nav: &'static str,
    pub tab_chat: &'static str,
    pub tab_generate: &'static str,
    pub meter_label: &'static str,
    pub meter_loading: &'static str,
    /// Given tokens used and the allowance, each written in the locale.
    pub meter_of: fn(&str, &str) -> String,
    /// Given tokens used (the plan has no limit).
    pub meter_unlimited: fn(&str) -> String,
    /// Given the date the count starts over.
    pub meter_resets: fn(&str) -> String,
    pub see_plans: &'static str,
    pub retry: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub stop: &'static str,
    /// Shown while the answer is written.
    pub answering: &'static str,
    pub stopped_note: &'static str,
    pub failed_note: &'static str,
    pub cut_note: &'static str,
    /// The connection dropped before the answer finished.
    pub stream_lost: &'static str,

    // The chat.
    pub conversations: &'static str,
    pub show_conversations: &'static str,
    pub new_chat: &'static str,
    pub list_loading: &'static str,
    pub list_empty: &'static str,
    pub load_more: &'static str,
    pub loading_more: &'static str,
    pub new_conversation: &'static str,
    pub conversation_loading: &'static str,
    pub empty_chat: &'static str,
    pub you: &'static str,
    pub assistant: &'static str,
    pub message_label: &'static str,
    pub message_hint: &'static str,
    pub send: &'static str,
    pub regenerate: &'static str,
    pub rename: &'static str,
    pub title_label: &'static str,
    pub save: &'static str,
    pub cancel: &'static str,
    pub delete: &'static str,
    pub delete_question: &'static str,
    pub delete_yes: &'static str,

    // The templates.
    pub template_label: &'static str,
    pub product_description: AiTemplate,
    pub email_reply: AiTemplate,
    pub social_post: AiTemplate,
    pub input_label: &'static str,
    pub generate: &'static str,
    pub generating: &'static str,
    pub result_title: &'static str,
    pub result_empty: &'static str,
}

/// A generation template as the templates page offers it. Read its strings one by one
/// (`t!(locale, ai.email_reply.name)`): reading the whole struct would put every string of the
/// language into the browser bundle.
pub struct AiTemplate {
    pub name: &'static str,
    pub lead: &'static str,
    /// What to type into the input.
    pub input_hint: &'static str,
}

/// What the waitlist and contact forms share, and their refusals.
pub struct Outreach {
    pub name: &'static str,
    pub name_optional: &'static str,
    pub message: &'static str,
    /// The honeypot's label, read only by programs that fill every field.
    pub honeypot: &'static str,
    pub sending: &'static str,
    pub name_missing: &'static str,
    pub message_missing: &'static str,
    pub message_too_short: &'static str,
    pub message_too_long: &'static str,
    pub off: &'static str,
}

pub struct Waitlist {
    pub title: &'static str,
    pub lead: &'static str,
    pub submit: &'static str,
    pub joined_title: &'static str,
    /// The same answer for a new and a repeated address: nobody learns who is on the list.
    pub joined: &'static str,
    pub landing_title: &'static str,
    pub landing_lead: &'static str,
    pub privacy: &'static str,
}

pub struct Contact {
    pub title: &'static str,
    pub lead: &'static str,
    pub message_hint: &'static str,
    pub submit: &'static str,
    pub sent_title: &'static str,
    pub sent: &'static str,
    pub elsewhere: &'static str,
}

pub struct DevMailbox {
    pub title: &'static str,
    pub lead: &'static str,
    pub empty: &'static str,
    pub unavailable: &'static str,
    pub loading: &'static str,
    pub to: &'static str,
    pub hint_before: &'static str,
    pub hint_link: &'static str,
    pub hint_after: &'static str,
}

/// Kilat's own email (the outbox's templates, `server::mail::templates`), in the recipient's
/// language. Facts (names, amounts, dates, links) are filled in by the templates.
pub struct Mail {
    /// Under the product's name at the top of every mail.
    pub tagline: &'static str,
    /// Given the recipient's name when known.
    pub greeting: fn(Option<&str>) -> String,
    pub sign_off: &'static str,
    /// At the foot of mail sent to a person because of something they did here.
    pub footer: &'static str,
    pub waitlist_subject: &'static str,
    pub waitlist_heading: &'static str,
    pub waitlist_body: &'static str,
    pub waitlist_action: &'static str,
    /// Given the sender's name.
    pub contact_subject: fn(&str) -> String,
    pub contact_heading: &'static str,
    pub contact_name: &'static str,
    pub contact_email: &'static str,
    pub contact_message: &'static str,
    pub contact_reply: &'static str,
    /// At the foot of a contact message (it goes to the site's operator).
    pub contact_footer: &'static str,
    pub welcome_subject: &'static str,
    pub welcome_heading: &'static str,
    pub welcome_body: &'static str,
    pub welcome_action: &'static str,
    /// Given the order id.
    pub invoice_subject: fn(&str) -> String,
    pub invoice_heading: &'static str,
    pub invoice_body: &'static str,
    pub invoice_plan: &'static str,
    pub invoice_amount: &'static str,
    pub invoice_order: &'static str,
    pub invoice_paid_on: &'static str,
    pub invoice_period_end: &'static str,
    pub invoice_action: &'static str,
    /// Given the plan's name and the date its period ends.
    pub reminder_subject: fn(&str, &str) -> String,
    pub reminder_heading: &'static str,
    /// Given the plan's name and the date its period ends.
    pub reminder_body: fn(&str, &str) -> String,
    pub reminder_action: &'static str,
    pub reminder_note: &'static str,
}

pub struct NotFound {
    pub title: &'static str,
    pub heading: &'static str,
    pub body: &'static str,
    pub home: &'static str,
}
