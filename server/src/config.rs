//! One typed configuration, read from the environment (and `.env`) and checked at start.
//!
//! Every problem is collected before reporting, so a misconfigured deploy is fixed in one pass.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

/// Where the server runs: development allows local stand-ins, production refuses them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
        }
    }
}

/// The PostgreSQL the server uses.
#[derive(Clone)]
pub enum DatabaseSource {
    /// `DATABASE_URL`: Supabase or any PostgreSQL.
    Url(String),
    /// No `DATABASE_URL`: a project-local cluster the server starts itself.
    LocalCluster { data_dir: PathBuf, port: u16 },
}

impl fmt::Debug for DatabaseSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The URL carries the password.
            DatabaseSource::Url(_) => f.write_str("Url(<redacted>)"),
            DatabaseSource::LocalCluster { data_dir, port } => f
                .debug_struct("LocalCluster")
                .field("data_dir", data_dir)
                .field("port", port)
                .finish(),
        }
    }
}

/// A product capability that can be switched off with `ENABLE_<NAME>=false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    Auth,
    Waitlist,
    Contact,
    Payments,
    Admin,
    Ai,
}

impl Feature {
    pub const ALL: [Feature; 6] = [
        Feature::Auth,
        Feature::Waitlist,
        Feature::Contact,
        Feature::Payments,
        Feature::Admin,
        Feature::Ai,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Feature::Auth => "auth",
            Feature::Waitlist => "waitlist",
            Feature::Contact => "contact",
            Feature::Payments => "payments",
            Feature::Admin => "admin",
            Feature::Ai => "ai",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Feature::Auth => "ENABLE_AUTH",
            Feature::Waitlist => "ENABLE_WAITLIST",
            Feature::Contact => "ENABLE_CONTACT",
            Feature::Payments => "ENABLE_PAYMENTS",
            Feature::Admin => "ENABLE_ADMIN",
            Feature::Ai => "ENABLE_AI",
        }
    }

    /// The variables that connect this feature to its real provider. Each inner list is one
    /// alternative; the feature is ready when every variable of one alternative is set.
    pub fn requirements(self) -> &'static [&'static [&'static str]] {
        match self {
            Feature::Auth | Feature::Admin => &[&["SUPABASE_URL", "SUPABASE_ANON_KEY"]],
            Feature::Waitlist => &[&[]],
            Feature::Contact => &[&["RESEND_API_KEY", "MAIL_FROM", "CONTACT_TO_EMAIL"]],
            Feature::Payments => &[
                &["MIDTRANS_SERVER_KEY"],
                &["DOKU_CLIENT_ID", "DOKU_SECRET_KEY"],
            ],
            // The chosen provider's key (`AiSettings::required_keys`) decides.
            Feature::Ai => &[&["OPENAI_API_KEY"], &["ANTHROPIC_API_KEY"]],
        }
    }
}

/// How a feature will run with the current configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeatureState {
    /// Enabled and connected to its real provider.
    Ready,
    /// Enabled, provider not configured: development uses the local stand-in.
    LocalStandIn { missing_env: Vec<&'static str> },
    /// Turned off with its `ENABLE_*` flag.
    DisabledByFlag,
    /// Enabled in production without the configuration it needs.
    MissingConfiguration { missing_env: Vec<&'static str> },
}

impl FeatureState {
    pub fn label(&self) -> &'static str {
        match self {
            FeatureState::Ready => "ready",
            FeatureState::LocalStandIn { .. } => "local stand-in",
            FeatureState::DisabledByFlag => "disabled by flag",
            FeatureState::MissingConfiguration { .. } => "missing configuration",
        }
    }

    pub fn enabled(&self) -> bool {
        !matches!(self, FeatureState::DisabledByFlag)
    }

    pub fn missing_env(&self) -> &[&'static str] {
        match self {
            FeatureState::LocalStandIn { missing_env }
            | FeatureState::MissingConfiguration { missing_env } => missing_env,
            _ => &[],
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub environment: Environment,
    pub database: DatabaseSource,
    /// `DATABASE_POOL_SIZE` (10 unless set): the most connections this server holds open.
    pub database_pool_size: u32,
    /// From `PORT`; otherwise the Leptos site address is used.
    pub listen_addr: Option<SocketAddr>,
    /// The app's public base URL (`SITE_URL`): where auth emails and OAuth send people back.
    pub site_url: String,
    pub supabase: SupabaseTarget,
    pub mail: MailTarget,
    /// `CONTACT_TO_EMAIL`: where contact messages go. In development, unset, a local address
    /// whose mail shows in `/dev/mailbox`.
    pub contact_to: Option<String>,
    /// `ADMIN_EMAILS`, lowercased: promoted to admin at their first sign-in.
    pub admin_emails: Vec<String>,
    /// `DEFAULT_LOCALE` (`id` unless set): the language of a request that names none.
    pub default_locale: app::i18n::Locale,
    /// `AVATAR_URL_TTL` (10 minutes unless set): how long a signed avatar URL lives.
    pub avatar_url_ttl: Duration,
    /// `TRUSTED_PROXIES`: whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: crate::net::TrustedProxies,
    /// `RATE_LIMIT_STORE` and `RATE_LIMIT_*`: where counters live and every policy's quota.
    pub rate_limits: crate::ratelimit::RateLimitSettings,
    /// `PAYMENT_PROVIDER`, the gateway's keys, `PLAN_*` and `PAYMENT_EXPIRY_MINUTES`.
    pub payments: crate::billing::settings::PaymentSettings,
    pub ai: crate::ai::settings::AiSettings,
    /// `MAIL_GIVE_UP_AFTER` and `RENEWAL_REMINDER_DAYS`: the mail outbox's bounds.
    pub outbox: crate::mail::OutboxSettings,
    features: Vec<(Feature, FeatureState)>,
    /// `APP_ENV` was set (to either value): only then may the server listen beyond loopback.
    app_env_set: bool,
    /// `SITE_URL` was set; otherwise development uses the address the server listens on.
    site_url_set: bool,
    /// What production lacks or points at a local stand-in (empty in development).
    production_problems: Vec<String>,
}

/// Everything wrong with the environment, reported at once.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

pub const DEFAULT_LOCAL_POSTGRES_PORT: u16 = 54322;
/// Like the Supabase CLI's API gateway, so either can serve a local app.
pub const DEFAULT_LOCAL_SUPABASE_PORT: u16 = 54321;
/// The Supabase CLI's well-known local JWT secret: local tokens are for local use only.
pub const LOCAL_JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
/// How many connections the server's pool opens at most unless `DATABASE_POOL_SIZE` says
/// otherwise.
const DEFAULT_DATABASE_POOL_SIZE: u32 = 10;
/// How long a signed avatar URL lives unless `AVATAR_URL_TTL` says otherwise.
const DEFAULT_AVATAR_URL_TTL: Duration = Duration::from_secs(600);
/// Supabase's default access-token lifetime.
const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The Supabase project the server talks to.
#[derive(Clone)]
pub enum SupabaseTarget {
    /// `SUPABASE_URL` and `SUPABASE_ANON_KEY`; `SUPABASE_JWT_SECRET` for HS256 (legacy) projects,
    /// otherwise tokens are checked against the project's JWKS.
    Hosted {
        url: String,
        anon_key: String,
        jwt_secret: Option<String>,
        /// `SUPABASE_SERVICE_ROLE_KEY`: for Storage calls past the bucket policies.
        service_role_key: Option<String>,
    },
    /// Development without a project: the local twin, served by this process on `port`.
    LocalTwin {
        port: u16,
        jwt_secret: String,
        email_confirmation: bool,
        /// How long the twin's access tokens live (Supabase's `jwt_expiry`).
        access_token_ttl: Duration,
        /// Where the Storage twin keeps object bytes (`LOCAL_STORAGE_DIR`).
        storage_dir: PathBuf,
    },
}

impl fmt::Debug for SupabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupabaseTarget::Hosted { url, .. } => write!(f, "Hosted({url})"),
            SupabaseTarget::LocalTwin { port, .. } => write!(f, "LocalTwin(port {port})"),
        }
    }
}

/// Where email goes.
#[derive(Clone)]
pub enum MailTarget {
    Resend {
        api_key: String,
        from: String,
    },
    /// Development: the local Resend twin, read at `/dev/mailbox`.
    LocalTwin {
        from: String,
    },
}

impl MailTarget {
    /// `MAIL_FROM`: who every mail is from.
    pub fn from(&self) -> &str {
        match self {
            MailTarget::Resend { from, .. } | MailTarget::LocalTwin { from } => from,
        }
    }
}

impl fmt::Debug for MailTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailTarget::Resend { from, .. } => write!(f, "Resend(from {from})"),
            MailTarget::LocalTwin { from } => write!(f, "LocalTwin(from {from})"),
        }
    }
}

impl Config {
    /// Reads the process environment (after `.env` has been loaded by the caller).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads configuration through `lookup`, so tests can supply their own variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();

        let app_env_set = get("APP_ENV").is_some();
        let environment = match get("APP_ENV").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                problems.push(format!(
                    "APP_ENV={other:?} is not valid: use \"development\" or \"production\""
                ));
                Environment::Development
            }
        };

        let local_port = match get("LOCAL_POSTGRES_PORT") {
            None => DEFAULT_LOCAL_POSTGRES_PORT,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                problems.push(format!(
                    "LOCAL_POSTGRES_PORT={raw:?} is not a port number (1-65535)"
                ));
                DEFAULT_LOCAL_POSTGRES_PORT
            }),
        };
        let database_pool_size = match get("DATABASE_POOL_SIZE") {
            None => DEFAULT_DATABASE_POOL_SIZE,
            Some(raw) => raw
                .parse()
                .ok()
                .filter(|size| (1..=1000).contains(size))
                .unwrap_or_else(|| {
                    problems.push(format!(
                        "DATABASE_POOL_SIZE={raw:?} is not a number of connections from 1 to 1000"
                    ));
                    DEFAULT_DATABASE_POOL_SIZE
                }),
        };
        let database = match get("DATABASE_URL") {
            Some(url) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    problems.push(
                        "DATABASE_URL must be a postgres:// or postgresql:// connection string"
                            .into(),
                    );
                }
                DatabaseSource::Url(url)
            }
            None => {
                let data_dir = get("LOCAL_POSTGRES_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(".data/postgres"));
                DatabaseSource::LocalCluster {
                    data_dir,
                    port: local_port,
                }
            }
        };

        let listen_addr = get("PORT").and_then(|raw| match raw.parse::<u16>() {
            Ok(port) => Some(SocketAddr::from(([0, 0, 0, 0], port))),
            Err(_) => {
                problems.push(format!("PORT={raw:?} is not a port number (0-65535)"));
                None
            }
        });

        let site_url_set = get("SITE_URL").is_some();
        let site_url = get("SITE_URL")
            .map(|url| url.trim_end_matches('/').to_string())
            .unwrap_or_else(|| "http://127.0.0.1:3000".to_string());
        if !(site_url.starts_with("http://") || site_url.starts_with("https://")) {
            problems.push(format!(
                "SITE_URL={site_url:?} must start with http:// or https://"
            ));
        }

        let supabase = match (get("SUPABASE_URL"), get("SUPABASE_ANON_KEY")) {
            (Some(url), Some(anon_key)) => SupabaseTarget::Hosted {
                url: url.trim_end_matches('/').to_string(),
                anon_key,
                jwt_secret: get("SUPABASE_JWT_SECRET"),
                service_role_key: get("SUPABASE_SERVICE_ROLE_KEY"),
            },
            _ => {
                let port = match get("LOCAL_SUPABASE_PORT") {
                    None => DEFAULT_LOCAL_SUPABASE_PORT,
                    Some(raw) => raw.parse().unwrap_or_else(|_| {
                        problems.push(format!("LOCAL_SUPABASE_PORT={raw:?} is not a port number"));
                        DEFAULT_LOCAL_SUPABASE_PORT
                    }),
                };
                let email_confirmation = match get("LOCAL_AUTH_EMAIL_CONFIRMATION") {
                    None => true,
                    Some(raw) => parse_flag(&raw).unwrap_or_else(|| {
                        problems.push(format!(
                            "LOCAL_AUTH_EMAIL_CONFIRMATION={raw:?} is not a switch: use true/false"
                        ));
                        true
                    }),
                };
                let access_token_ttl = match get("LOCAL_AUTH_JWT_EXPIRY") {
                    None => DEFAULT_ACCESS_TOKEN_TTL,
                    Some(raw) => match raw.parse::<u64>() {
                        Ok(secs) if secs > 0 => Duration::from_secs(secs),
                        _ => {
                            problems.push(format!(
                                "LOCAL_AUTH_JWT_EXPIRY={raw:?} is not a number of seconds (at least 1)"
                            ));
                            DEFAULT_ACCESS_TOKEN_TTL
                        }
                    },
                };
                SupabaseTarget::LocalTwin {
                    port,
                    jwt_secret: get("LOCAL_JWT_SECRET")
                        .unwrap_or_else(|| LOCAL_JWT_SECRET.to_string()),
                    email_confirmation,
                    access_token_ttl,
                    storage_dir: get("LOCAL_STORAGE_DIR")
                        .map(PathBuf::from)
                        .unwrap_or_else(|| PathBuf::from(".data/storage")),
                }
            }
        };

        let from = get("MAIL_FROM").unwrap_or_else(|| "Kilat <no-reply@kilat.local>".to_string());
        let mail = match get("RESEND_API_KEY") {
            Some(api_key) => MailTarget::Resend { api_key, from },
            None => MailTarget::LocalTwin { from },
        };

        let contact_to = get("CONTACT_TO_EMAIL").or_else(|| {
            (environment == Environment::Development).then(|| LOCAL_CONTACT_TO.to_string())
        });
        if let Some(to) = &contact_to
            && app::identity::fields::EmailAddress::parse(to).is_err()
        {
            problems.push(format!(
                "CONTACT_TO_EMAIL={to:?} is not an email address (write the bare address, e.g. hello@example.com)"
            ));
        }

        let admin_emails = get("ADMIN_EMAILS")
            .map(|list| {
                list.split(',')
                    .map(|email| email.trim().to_lowercase())
                    .filter(|email| !email.is_empty())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for email in &admin_emails {
            if !email.contains('@') {
                problems.push(format!(
                    "ADMIN_EMAILS contains {email:?}, which is not an email address"
                ));
            }
        }

        let default_locale = match get("DEFAULT_LOCALE") {
            None => app::i18n::Locale::default(),
            Some(code) => app::i18n::Locale::parse(&code).unwrap_or_else(|| {
                problems.push(format!(
                    "DEFAULT_LOCALE is {code:?}; use one of: {}",
                    app::i18n::Locale::ALL
                        .map(|locale| locale.code())
                        .join(", ")
                ));
                app::i18n::Locale::default()
            }),
        };

        let avatar_url_ttl = match get("AVATAR_URL_TTL") {
            None => DEFAULT_AVATAR_URL_TTL,
            Some(raw) => match raw.parse::<u64>() {
                Ok(secs) if (60..=7 * 24 * 3600).contains(&secs) => Duration::from_secs(secs),
                _ => {
                    problems.push(format!(
                        "AVATAR_URL_TTL={raw:?} is not a number of seconds from 60 to 604800 (a week)"
                    ));
                    DEFAULT_AVATAR_URL_TTL
                }
            },
        };

        let trusted_proxies = get("TRUSTED_PROXIES")
            .map(|list| {
                crate::net::TrustedProxies::parse(&list).unwrap_or_else(|invalid| {
                    problems.extend(
                        invalid
                            .into_iter()
                            .map(|problem| format!("TRUSTED_PROXIES: {problem}")),
                    );
                    crate::net::TrustedProxies::none()
                })
            })
            .unwrap_or_default();
        let rate_limits = crate::ratelimit::RateLimitSettings::from_lookup(get, &mut problems);
        let payments = crate::billing::settings::PaymentSettings::from_lookup(get, &mut problems);
        let ai = crate::ai::settings::AiSettings::from_lookup(get, &mut problems);
        let outbox = crate::mail::OutboxSettings::from_lookup(get, &mut problems);

        let mut features = Vec::new();
        for feature in Feature::ALL {
            let enabled = match get(feature.flag()) {
                None => true,
                Some(raw) => parse_flag(&raw).unwrap_or_else(|| {
                    problems.push(format!(
                        "{}={raw:?} is not a switch: use true/false, 1/0, yes/no or on/off (unset means on)",
                        feature.flag()
                    ));
                    true
                }),
            };
            let state = if !enabled {
                FeatureState::DisabledByFlag
            } else {
                let missing = match feature {
                    // Only the chosen gateway's keys count.
                    Feature::Payments => payments
                        .required_keys()
                        .iter()
                        .copied()
                        .filter(|key| get(key).is_none())
                        .collect(),
                    // Only the chosen AI provider's key counts.
                    Feature::Ai => ai
                        .required_keys()
                        .iter()
                        .copied()
                        .filter(|key| get(key).is_none())
                        .collect(),
                    _ => missing_for(feature, &get),
                };
                match (missing.is_empty(), environment) {
                    (true, _) => FeatureState::Ready,
                    (false, Environment::Development) => FeatureState::LocalStandIn {
                        missing_env: missing,
                    },
                    (false, Environment::Production) => FeatureState::MissingConfiguration {
                        missing_env: missing,
                    },
                }
            };
            features.push((feature, state));
        }

        let production_problems = if environment == Environment::Production {
            production_problems(&get, &features, &payments, local_port)
        } else {
            Vec::new()
        };

        if problems.is_empty() {
            Ok(Config {
                environment,
                database,
                database_pool_size,
                listen_addr,
                site_url,
                supabase,
                mail,
                contact_to,
                admin_emails,
                default_locale,
                avatar_url_ttl,
                trusted_proxies,
                rate_limits,
                payments,
                ai,
                outbox,
                features,
                app_env_set,
                site_url_set,
                production_problems,
            })
        } else {
            Err(ConfigError { problems })
        }
    }

    pub fn features(&self) -> impl Iterator<Item = (Feature, &FeatureState)> {
        self.features
            .iter()
            .map(|(feature, state)| (*feature, state))
    }

    pub fn feature(&self, feature: Feature) -> &FeatureState {
        self.features()
            .find(|(f, _)| *f == feature)
            .map(|(_, state)| state)
            .expect("every feature has a state")
    }

    /// `SITE_URL` was set. Without it, development serves at the address it listens on.
    pub fn site_url_is_set(&self) -> bool {
        self.site_url_set
    }

    /// What production lacks or points at a local stand-in: auth, database, mail, `SITE_URL`.
    /// Empty in development.
    pub fn production_problems(&self) -> &[String] {
        &self.production_problems
    }

    /// Everything that forbids serving on `listen`: [`Config::production_problems`], and a
    /// non-loopback address without `APP_ENV` (development mode — plain cookies, the dev
    /// mailbox — must never be reachable from other machines by accident).
    pub fn check_serve(&self, listen: SocketAddr) -> Result<(), ConfigError> {
        let mut problems = self.production_problems.clone();
        if !self.app_env_set && !listen.ip().is_loopback() {
            problems.push(format!(
                "APP_ENV is unset while listening on {listen}, beyond this machine: set \
                 APP_ENV=production (or APP_ENV=development to serve development mode there)"
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }

    /// The session cookie is `Secure` when the site is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.site_url.starts_with("https://")
    }
}

/// The Supabase CLI's public local anon key (`supabase status`): a hosted project never uses it.
const SUPABASE_CLI_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";

/// Production must talk to real services: each unset variable, and each one pointing at a
/// local stand-in (the twins, the project-local cluster, the Supabase CLI's local stack).
fn production_problems(
    get: &impl Fn(&str) -> Option<String>,
    features: &[(Feature, FeatureState)],
    payments: &crate::billing::settings::PaymentSettings,
    local_postgres_port: u16,
) -> Vec<String> {
    let mut problems = Vec::new();
    let local_supabase_port = get("LOCAL_SUPABASE_PORT")
        .and_then(|raw| raw.parse().ok())
        .unwrap_or(DEFAULT_LOCAL_SUPABASE_PORT);

    match get("DATABASE_URL") {
        None => problems.push(
            "DATABASE_URL is required in production (the local cluster is for development only)"
                .into(),
        ),
        Some(url) => {
            if points_at_local_stand_in(&url, &[local_postgres_port, DEFAULT_LOCAL_POSTGRES_PORT]) {
                problems.push(format!(
                    "DATABASE_URL points at the local development database (port \
                     {local_postgres_port} on this machine): use the production database"
                ));
            }
        }
    }

    let auth_needed = features
        .iter()
        .any(|(f, s)| matches!(f, Feature::Auth | Feature::Admin) && s.enabled());
    if auth_needed {
        let missing: Vec<&str> = ["SUPABASE_URL", "SUPABASE_ANON_KEY"]
            .into_iter()
            .filter(|key| get(key).is_none())
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "auth needs a Supabase project in production (the local Auth twin is for \
                 development only): set {}",
                missing.join(" and ")
            ));
        }
        if let Some(url) = get("SUPABASE_URL")
            && points_at_local_stand_in(&url, &[local_supabase_port, DEFAULT_LOCAL_SUPABASE_PORT])
        {
            problems.push(format!(
                "SUPABASE_URL={url:?} points at a local stand-in (the Auth twin or the Supabase \
                 CLI): use your project's URL"
            ));
        }
        if get("SUPABASE_ANON_KEY").as_deref() == Some(SUPABASE_CLI_ANON_KEY) {
            problems.push(
                "SUPABASE_ANON_KEY is the Supabase CLI's public local key: use your project's key"
                    .into(),
            );
        }
        if get("SUPABASE_JWT_SECRET").as_deref() == Some(LOCAL_JWT_SECRET) {
            problems.push(
                "SUPABASE_JWT_SECRET is the Supabase CLI's public local secret: use your \
                 project's secret, or leave it unset to verify with the project's JWKS"
                    .into(),
            );
        }
    }

    let payments_on = features
        .iter()
        .any(|(f, s)| *f == Feature::Payments && s.enabled());
    let twin_key = match &payments.gateway {
        crate::billing::settings::Gateway::Midtrans { server_key, .. } => {
            server_key == crate::billing::settings::LOCAL_MIDTRANS_SERVER_KEY
        }
        crate::billing::settings::Gateway::Doku { secret_key, .. } => {
            secret_key == crate::billing::settings::LOCAL_DOKU_SECRET_KEY
        }
    };
    if payments_on && !payments.gateway.is_local_twin() && twin_key {
        problems.push(
            "the payment gateway key is the local gateway twin's key: use your gateway account's key"
                .into(),
        );
    }
    if payments_on && payments.gateway.is_local_twin() {
        problems.push(match payments.gateway.provider() {
            app::domain::PaymentProvider::Midtrans => {
                "payments need Midtrans in production (the local gateway twin is for development \
                 only): set MIDTRANS_SERVER_KEY, or ENABLE_PAYMENTS=false"
            }
            app::domain::PaymentProvider::Doku => {
                "payments need DOKU in production (the local gateway twin is for development \
                 only): set DOKU_CLIENT_ID and DOKU_SECRET_KEY, or ENABLE_PAYMENTS=false"
            }
        }
        .into());
    }

    let missing_mail: Vec<&str> = ["RESEND_API_KEY", "MAIL_FROM"]
        .into_iter()
        .filter(|key| get(key).is_none())
        .collect();
    if !missing_mail.is_empty() {
        problems.push(format!(
            "mail needs Resend in production (the local mail twin is for development only): \
             set {}",
            missing_mail.join(" and ")
        ));
    }
    if get("RESEND_API_KEY").is_some_and(|key| key == LOCAL_RESEND_KEY) {
        problems.push("RESEND_API_KEY is the local mail twin's key: use a Resend API key".into());
    }
    for var in ["OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"] {
        if let Some(url) = get(var)
            && points_at_local_stand_in(&url, &[local_supabase_port, DEFAULT_LOCAL_SUPABASE_PORT])
        {
            problems.push(format!(
                "{var}={url:?} points at the local AI twin: use your AI provider's address"
            ));
        }
    }

    match get("SITE_URL") {
        None => problems
            .push("SITE_URL is required in production: the site's public https:// address".into()),
        Some(url) if !url.starts_with("https://") => problems.push(format!(
            "SITE_URL={url:?} must be https:// in production (session cookies are Secure only \
             over https)"
        )),
        Some(_) => {}
    }
    problems
}

/// Where contact messages go in development when `CONTACT_TO_EMAIL` is unset.
pub const LOCAL_CONTACT_TO: &str = "contact@kilat.local";

/// The key the app's mailer sends to the local mail twin.
pub const LOCAL_RESEND_KEY: &str = "re_local_stand_in";

/// `url`'s host is this machine and its port one of the local stand-ins'.
fn points_at_local_stand_in(url: &str, ports: &[u16]) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    let local = match url.host() {
        // Non-http schemes (postgres://) leave an IPv4 address as a plain name.
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        None => false,
    };
    local && url.port().is_some_and(|port| ports.contains(&port))
}

/// The variables of the closest alternative that are unset (none when one alternative is complete).
fn missing_for(feature: Feature, get: &impl Fn(&str) -> Option<String>) -> Vec<&'static str> {
    feature
        .requirements()
        .iter()
        .map(|alternative| {
            alternative
                .iter()
                .copied()
                .filter(|key| get(key).is_none())
                .collect::<Vec<_>>()
        })
        .min_by_key(Vec::len)
        .unwrap_or_default()
}

/// Unset means on; `false`, `0`, `no`, `off` (any case) mean off.
fn parse_flag(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|key| vars.get(key).cloned())
    }

    #[test]
    fn empty_environment_is_development_on_the_local_cluster_with_every_feature_on() {
        let config = config(&[]).unwrap();
        assert_eq!(config.environment, Environment::Development);
        assert!(matches!(
            config.database,
            DatabaseSource::LocalCluster {
                port: DEFAULT_LOCAL_POSTGRES_PORT,
                ..
            }
        ));
        assert!(config.listen_addr.is_none());
        for (feature, state) in config.features() {
            assert!(state.enabled(), "{feature:?}");
        }
        assert_eq!(config.feature(Feature::Waitlist), &FeatureState::Ready);
        assert_eq!(
            config.feature(Feature::Auth),
            &FeatureState::LocalStandIn {
                missing_env: vec!["SUPABASE_URL", "SUPABASE_ANON_KEY"]
            }
        );
    }

    #[test]
    fn flags_accept_the_documented_spellings_in_any_case() {
        for off in ["false", "0", "no", "off", "FALSE", "Off", " No "] {
            let config = config(&[("ENABLE_CONTACT", off)]).unwrap();
            assert_eq!(
                config.feature(Feature::Contact),
                &FeatureState::DisabledByFlag,
                "{off}"
            );
        }
        for on in ["true", "1", "yes", "on", "TRUE", ""] {
            let config = config(&[("ENABLE_CONTACT", on)]).unwrap();
            assert!(config.feature(Feature::Contact).enabled(), "{on}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = config(&[
            ("APP_ENV", "staging"),
            ("ENABLE_AUTH", "maybe"),
            ("ENABLE_AI", "nope"),
            ("PORT", "eighty"),
            ("DATABASE_POOL_SIZE", "0"),
            ("CONTACT_TO_EMAIL", "Kilat <halo@kilat.id>"),
        ])
        .unwrap_err();
        assert_eq!(err.problems.len(), 6, "{err}");
        let message = err.to_string();
        for needle in [
            "APP_ENV",
            "ENABLE_AUTH",
            "ENABLE_AI",
            "PORT",
            "DATABASE_POOL_SIZE",
            "CONTACT_TO_EMAIL",
        ] {
            assert!(message.contains(needle), "{message}");
        }
    }

    /// Everything production needs, pointing at real services.
    const PRODUCTION: &[(&str, &str)] = &[
        ("APP_ENV", "production"),
        (
            "DATABASE_URL",
            "postgres://kilat:pw@db.example.com:5432/kilat",
        ),
        ("SUPABASE_URL", "https://abc.supabase.co"),
        ("SUPABASE_ANON_KEY", "sb_publishable_abc"),
        ("RESEND_API_KEY", "re_live_123"),
        ("MAIL_FROM", "Kilat <hello@kilat.id>"),
        ("SITE_URL", "https://kilat.id"),
        ("MIDTRANS_SERVER_KEY", "Mid-server-live-123"),
    ];

    fn production_with(changes: &[(&'static str, &'static str)]) -> Config {
        let mut vars: Vec<(&str, &str)> = PRODUCTION
            .iter()
            .copied()
            .filter(|(key, _)| !changes.iter().any(|(k, _)| k == key))
            .collect();
        vars.extend(changes.iter().copied().filter(|(_, v)| !v.is_empty()));
        config(&vars).unwrap()
    }

    #[test]
    fn complete_production_configuration_has_no_problems() {
        let config = production_with(&[]);
        assert_eq!(config.production_problems(), &[] as &[String]);
        assert!(config.check_serve(([0, 0, 0, 0], 8080).into()).is_ok());
        assert!(config.secure_cookies());
    }

    #[test]
    fn production_with_nothing_configured_names_every_problem_at_once() {
        let config = config(&[("APP_ENV", "production")]).unwrap();
        let message = config
            .check_serve(([0, 0, 0, 0], 8080).into())
            .unwrap_err()
            .to_string();
        for needle in [
            "DATABASE_URL is required",
            "set SUPABASE_URL and SUPABASE_ANON_KEY",
            "set RESEND_API_KEY and MAIL_FROM",
            "SITE_URL is required",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
    }

    #[test]
    fn production_names_each_missing_piece() {
        for (unset, needle) in [
            ("DATABASE_URL", "DATABASE_URL is required"),
            ("SUPABASE_URL", "set SUPABASE_URL"),
            ("SUPABASE_ANON_KEY", "set SUPABASE_ANON_KEY"),
            ("RESEND_API_KEY", "set RESEND_API_KEY"),
            ("MAIL_FROM", "set MAIL_FROM"),
            ("SITE_URL", "SITE_URL is required"),
            ("MIDTRANS_SERVER_KEY", "set MIDTRANS_SERVER_KEY"),
        ] {
            let problems = production_with(&[(unset, "")])
                .production_problems()
                .to_vec();
            assert_eq!(problems.len(), 1, "{unset}: {problems:?}");
            assert!(problems[0].contains(needle), "{unset}: {problems:?}");
        }
    }

    #[test]
    fn production_refuses_local_stand_ins() {
        for (key, value, needle) in [
            (
                "DATABASE_URL",
                "postgres://postgres:postgres@127.0.0.1:54322/postgres",
                "local development database",
            ),
            (
                "DATABASE_URL",
                "postgresql://postgres@localhost:54322/kilat",
                "local development database",
            ),
            ("SUPABASE_URL", "http://127.0.0.1:54321", "local stand-in"),
            ("SUPABASE_URL", "http://localhost:54321/", "local stand-in"),
            (
                "SUPABASE_ANON_KEY",
                SUPABASE_CLI_ANON_KEY,
                "Supabase CLI's public local key",
            ),
            (
                "SUPABASE_JWT_SECRET",
                LOCAL_JWT_SECRET,
                "Supabase CLI's public local secret",
            ),
            ("RESEND_API_KEY", LOCAL_RESEND_KEY, "local mail twin's key"),
            ("SITE_URL", "http://kilat.id", "must be https://"),
            (
                "MIDTRANS_SERVER_KEY",
                crate::billing::settings::LOCAL_MIDTRANS_SERVER_KEY,
                "local gateway twin's key",
            ),
        ] {
            let problems = production_with(&[(key, value)])
                .production_problems()
                .to_vec();
            assert_eq!(problems.len(), 1, "{key}={value}: {problems:?}");
            assert!(problems[0].contains(needle), "{key}={value}: {problems:?}");
        }
        // A database on this machine at an ordinary port is a real deployment choice.
        let own = production_with(&[("DATABASE_URL", "postgres://kilat@127.0.0.1:5432/kilat")]);
        assert!(own.production_problems().is_empty());
        // Auth switched off entirely needs no Supabase project.
        let no_auth = production_with(&[
            ("SUPABASE_URL", ""),
            ("SUPABASE_ANON_KEY", ""),
            ("ENABLE_AUTH", "false"),
            ("ENABLE_ADMIN", "false"),
        ]);
        assert!(no_auth.production_problems().is_empty());
    }

    #[test]
    fn development_mode_stays_on_loopback_unless_app_env_says_so() {
        let unset = config(&[]).unwrap();
        assert!(unset.check_serve(([127, 0, 0, 1], 3000).into()).is_ok());
        assert!(unset.check_serve("[::1]:3000".parse().unwrap()).is_ok());
        let refused = unset
            .check_serve(([0, 0, 0, 0], 3000).into())
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("APP_ENV is unset while listening on 0.0.0.0:3000"),
            "{refused}"
        );
        let chosen = config(&[("APP_ENV", "development")]).unwrap();
        assert!(chosen.check_serve(([0, 0, 0, 0], 3000).into()).is_ok());
    }

    #[test]
    fn the_cookie_is_secure_when_the_site_is_https_whatever_the_environment() {
        assert!(!config(&[]).unwrap().secure_cookies());
        assert!(
            config(&[("SITE_URL", "https://dev.kilat.id")])
                .unwrap()
                .secure_cookies()
        );
        assert!(
            !production_with(&[("SITE_URL", "http://kilat.id")]).secure_cookies(),
            "refused by check_serve anyway, but never Secure over http"
        );
    }

    #[test]
    fn ai_and_payments_count_only_the_chosen_providers_keys() {
        let production = production_with(&[("ANTHROPIC_API_KEY", "k"), ("DOKU_CLIENT_ID", "id")]);
        // OpenAI unless AI_PROVIDER says otherwise: Anthropic's key does not make it ready.
        assert_eq!(
            production.feature(Feature::Ai),
            &FeatureState::MissingConfiguration {
                missing_env: vec!["OPENAI_API_KEY"]
            }
        );
        let anthropic =
            production_with(&[("AI_PROVIDER", "anthropic"), ("ANTHROPIC_API_KEY", "k")]);
        assert_eq!(anthropic.feature(Feature::Ai), &FeatureState::Ready);
        assert_eq!(
            config(&[]).unwrap().feature(Feature::Ai),
            &FeatureState::LocalStandIn {
                missing_env: vec!["OPENAI_API_KEY"]
            }
        );
        // Payments count only the chosen gateway's keys (Midtrans here).
        assert_eq!(production.feature(Feature::Payments), &FeatureState::Ready);
        let doku = production_with(&[("PAYMENT_PROVIDER", "doku"), ("DOKU_CLIENT_ID", "id")]);
        assert_eq!(
            doku.feature(Feature::Payments),
            &FeatureState::MissingConfiguration {
                missing_env: vec!["DOKU_SECRET_KEY"]
            }
        );
        assert!(production.production_problems().is_empty());
        assert_eq!(
            production.feature(Feature::Contact),
            &FeatureState::MissingConfiguration {
                missing_env: vec!["CONTACT_TO_EMAIL"]
            }
        );
    }

    #[test]
    fn secrets_never_reach_debug_output() {
        let config = production_with(&[("SUPABASE_JWT_SECRET", "jwt-secret-value")]);
        let debug = format!("{config:?}");
        for secret in [
            "kilat:pw",
            "sb_publishable_abc",
            "re_live_123",
            "jwt-secret-value",
        ] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        let local = format!("{:?}", config_local_twin());
        assert!(!local.contains(LOCAL_JWT_SECRET), "{local}");
    }

    fn config_local_twin() -> Config {
        config(&[]).unwrap()
    }

    #[test]
    fn env_example_documents_every_variable() {
        let example = include_str!("../../.env.example");
        let mut names = vec![
            "APP_ENV",
            "PORT",
            "RUST_LOG",
            "DATABASE_URL",
            "DATABASE_POOL_SIZE",
            "LOCAL_POSTGRES_DIR",
            "LOCAL_POSTGRES_PORT",
            "PG_BIN_DIR",
            "SITE_URL",
            "SUPABASE_JWT_SECRET",
            "LOCAL_SUPABASE_PORT",
            "LOCAL_JWT_SECRET",
            "LOCAL_AUTH_EMAIL_CONFIRMATION",
            "LOCAL_AUTH_JWT_EXPIRY",
            "ADMIN_EMAILS",
            "TRUSTED_PROXIES",
            "SUPABASE_SERVICE_ROLE_KEY",
            "AVATAR_URL_TTL",
            "LOCAL_STORAGE_DIR",
        ];
        names.extend(crate::ratelimit::RateLimitSettings::VARIABLES);
        names.extend(crate::billing::settings::PaymentSettings::VARIABLES);
        names.extend(crate::ai::settings::AiSettings::VARIABLES);
        names.extend(crate::mail::OutboxSettings::VARIABLES);
        for feature in Feature::ALL {
            names.push(feature.flag());
            names.extend(
                feature
                    .requirements()
                    .iter()
                    .flat_map(|alt| alt.iter().copied()),
            );
        }
        for name in names {
            assert!(
                example.contains(&format!("{name}=")),
                ".env.example lacks {name}"
            );
        }
    }

    #[test]
    fn without_a_supabase_project_the_local_twins_serve_auth_and_mail() {
        let local = config(&[("ADMIN_EMAILS", " Owner@Kilat.id ,, ops@kilat.id")]).unwrap();
        assert!(matches!(
            local.supabase,
            SupabaseTarget::LocalTwin {
                port: DEFAULT_LOCAL_SUPABASE_PORT,
                email_confirmation: true,
                ..
            }
        ));
        assert!(matches!(local.mail, MailTarget::LocalTwin { .. }));
        assert_eq!(local.admin_emails, ["owner@kilat.id", "ops@kilat.id"]);
        assert_eq!(local.site_url, "http://127.0.0.1:3000");

        let config = config(&[
            ("SUPABASE_URL", "https://abc.supabase.co/"),
            ("SUPABASE_ANON_KEY", "anon"),
        ])
        .unwrap();
        assert!(matches!(
            config.supabase,
            SupabaseTarget::Hosted {
                jwt_secret: None,
                ..
            }
        ));
    }

    #[test]
    fn admin_emails_must_be_addresses() {
        let err = config(&[("ADMIN_EMAILS", "owner")]).unwrap_err();
        assert!(
            err.to_string().contains("ADMIN_EMAILS contains \"owner\""),
            "{err}"
        );
    }

    #[test]
    fn the_default_locale_is_indonesian_unless_set_to_a_language_kilat_speaks() {
        use app::i18n::Locale;
        assert_eq!(config(&[]).unwrap().default_locale, Locale::Id);
        assert_eq!(
            config(&[("DEFAULT_LOCALE", "en")]).unwrap().default_locale,
            Locale::En
        );
        let err = config(&[("DEFAULT_LOCALE", "fr")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("DEFAULT_LOCALE is \"fr\"; use one of: id, en"),
            "{err}"
        );
    }

    #[test]
    fn port_listens_on_every_interface() {
        let config = config(&[("PORT", "8080")]).unwrap();
        assert_eq!(
            config.listen_addr,
            Some(SocketAddr::from(([0, 0, 0, 0], 8080)))
        );
    }

    #[test]
    fn trusted_proxies_and_rate_limits_are_read_and_their_mistakes_reported_with_the_rest() {
        let read = config(&[
            ("TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
            ("RATE_LIMIT_STORE", "memory"),
            ("RATE_LIMIT_SIGN_IN", "3/1m"),
        ])
        .unwrap();
        assert!(read.trusted_proxies.contains("10.9.8.7".parse().unwrap()));
        assert!(read.trusted_proxies.contains("::1".parse().unwrap()));
        assert_eq!(read.rate_limits.store, crate::ratelimit::StoreKind::Memory);
        assert_eq!(
            read.rate_limits.sign_in,
            crate::ratelimit::Quota::new(3, 60)
        );

        let err = config(&[
            ("TRUSTED_PROXIES", "10.0.0.0/33, proxy"),
            ("RATE_LIMIT_SIGN_UP", "often"),
            ("PORT", "eighty"),
        ])
        .unwrap_err();
        let message = err.to_string();
        assert_eq!(err.problems.len(), 4, "{message}");
        for needle in ["10.0.0.0/33", "\"proxy\"", "RATE_LIMIT_SIGN_UP", "PORT"] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
    }
}
