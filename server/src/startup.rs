//! Builds the application: database, migrations, router; then serves until told to stop.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, LazyLock},
};

use anyhow::Context;
use axum::{Router, extract::FromRef};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{
    AxumRouteListing, LeptosRoutes, file_and_error_handler_with_context, generate_route_list,
};
use sqlx::PgPool;
use tokio::net::TcpListener;

use tower::Layer;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use tower_sessions_sqlx_store::PostgresStore;

use crate::{
    admin::{self, console::RequestAdmin},
    ai::{
        self, ProviderKind,
        assistant::{Assistant, Provider},
        settings::AiSettings,
    },
    auth::{
        self,
        identity::{IdentityService, RequestIdentity},
        jwt::{JwtSecret, TokenVerifier, VerifierConfig},
        session,
        supabase_client::SupabaseAuth,
    },
    billing::{
        self, Billing, doku::DokuClient, gateway::GatewayClient, midtrans::MidtransClient,
        orders::OrderWatch, settings::Gateway,
    },
    config::{
        Config, DEFAULT_LOCAL_SUPABASE_PORT, Environment, Feature, FeatureState, MailTarget,
        SupabaseTarget,
    },
    crawlers,
    db::{self, migrations::MIGRATOR},
    health, http_layers, listener,
    local::{self, mail_twin::Mailbox},
    locale,
    mail::Mailer,
    net, outbound, outreach,
    profiles::{self, avatar::Avatars},
    ratelimit::{AuthPolicies, KeyKind, Policy, RateLimiter},
    storage::StorageClient,
};

const RESEND_API: &str = "https://api.resend.com";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub leptos_options: LeptosOptions,
    pub mailer: Mailer,
    /// The local mail twin's messages, in local development only.
    pub dev_mailbox: Option<Mailbox>,
    pub identity: Arc<IdentityService>,
    /// The one rate limiter; capabilities name their policies (`ratelimit::Policy`).
    pub limiter: Arc<RateLimiter>,
    /// Payments, unless switched off (`ENABLE_PAYMENTS=false`).
    pub billing: Option<Arc<Billing>>,
    /// `None` while AI is switched off (`ENABLE_AI=false`).
    pub assistant: Option<Arc<Assistant>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Connects to the database (starting the local cluster when needed), applies the
    /// migrations and binds the listening socket.
    pub async fn build(config: Config, leptos_options: LeptosOptions) -> anyhow::Result<Self> {
        let pool = db::connect(&config.database, config.database_pool_size).await?;
        MIGRATOR.run(&pool).await.context(
            "applying migrations failed (`server doctor` shows how the database differs)",
        )?;
        Self::build_with_pool(config, leptos_options, pool).await
    }

    /// Like [`Application::build`] on an existing, migrated pool.
    pub async fn build_with_pool(
        config: Config,
        leptos_options: LeptosOptions,
        pool: PgPool,
    ) -> anyhow::Result<Self> {
        let addr = config.listen_addr.unwrap_or(leptos_options.site_addr);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let mut config = config;
        // Without SITE_URL, development is served where it listens (a test's random port
        // included): the origin writes must come from, and where Auth sends people back.
        let bound = listener.local_addr()?;
        if !config.site_url_is_set() && bound.ip().is_loopback() {
            config.site_url = format!("http://{bound}");
        }
        // One connection pool for every provider client (and the twin's mail to the mail twin).
        let http = outbound::http_client();
        // The key the twin accepts and the client sends, derived once from the local secret.
        let twin_anon_key = match &config.supabase {
            SupabaseTarget::LocalTwin { jwt_secret, .. } => {
                local::api_key("anon", jwt_secret.as_bytes())
            }
            SupabaseTarget::Hosted { .. } => String::new(),
        };
        let local_auth = match &config.supabase {
            SupabaseTarget::LocalTwin {
                jwt_secret,
                email_confirmation,
                access_token_ttl,
                storage_dir,
                ..
            } => Some(local::AuthTwinSettings {
                pool: pool.clone(),
                jwt_secret: jwt_secret.as_bytes().to_vec(),
                anon_key: twin_anon_key.clone(),
                site_url: config.site_url.clone(),
                mail_from: config.mail.from().to_string(),
                autoconfirm: !email_confirmation,
                access_token_ttl: *access_token_ttl,
                http: http.clone(),
                storage_dir: storage_dir.clone(),
            }),
            SupabaseTarget::Hosted { .. } => None,
        };
        let payments_on = config.feature(Feature::Payments).enabled();
        let local_payments = (payments_on
            && config.environment == Environment::Development
            && config.payments.gateway.is_local_twin())
        .then(|| local::PaymentTwinSettings {
            twin: match &config.payments.gateway {
                Gateway::Midtrans { server_key, .. } => local::PaymentTwin::Midtrans {
                    server_key: server_key.clone(),
                },
                Gateway::Doku {
                    client_id,
                    secret_key,
                    ..
                } => local::PaymentTwin::Doku {
                    client_id: client_id.clone(),
                    secret_key: secret_key.clone(),
                },
            },
            site_url: config.site_url.clone(),
            http: http.clone(),
        });
        let ai_on = config.feature(Feature::Ai).enabled();
        let local_ai =
            ai_on && config.environment == Environment::Development && config.ai.api_key.is_none();
        let stand_ins = match (&config.supabase, &config.mail, config.environment) {
            (_, _, Environment::Production) => None,
            (SupabaseTarget::LocalTwin { port, .. }, _, _) => {
                Some(local::start(*port, local_auth, local_payments).await?)
            }
            (SupabaseTarget::Hosted { .. }, MailTarget::Resend { .. }, _)
                if local_payments.is_none() && !local_ai =>
            {
                None
            }
            (SupabaseTarget::Hosted { .. }, _, _) => {
                Some(local::start(DEFAULT_LOCAL_SUPABASE_PORT, None, local_payments).await?)
            }
        };
        let mailer = match (&config.mail, &stand_ins) {
            (MailTarget::Resend { api_key, .. }, _) => {
                Mailer::new(http.clone(), RESEND_API, api_key)
            }
            (MailTarget::LocalTwin { .. }, Some(stand_ins)) => Mailer::new(
                http.clone(),
                format!("{}/resend", stand_ins.base_url),
                crate::config::LOCAL_RESEND_KEY,
            ),
            // Production without RESEND_API_KEY: the mail feature reports missing configuration.
            (MailTarget::LocalTwin { .. }, None) => Mailer::new(http.clone(), RESEND_API, ""),
        };
        let (supabase_url, anon_key, jwt_secret, service_role_key) =
            match (&config.supabase, &stand_ins) {
                (
                    SupabaseTarget::Hosted {
                        url,
                        anon_key,
                        jwt_secret,
                        service_role_key,
                    },
                    _,
                ) => (
                    url.clone(),
                    anon_key.clone(),
                    jwt_secret.clone(),
                    service_role_key.clone().unwrap_or_default(),
                ),
                (SupabaseTarget::LocalTwin { jwt_secret, .. }, Some(stand_ins)) => (
                    stand_ins.base_url.clone(),
                    twin_anon_key,
                    Some(jwt_secret.clone()),
                    local::api_key("service_role", jwt_secret.as_bytes()),
                ),
                // Production without SUPABASE_URL: auth reports missing configuration.
                (SupabaseTarget::LocalTwin { .. }, None) => (
                    "http://127.0.0.1:9".into(),
                    String::new(),
                    None,
                    String::new(),
                ),
            };
        let verifier = TokenVerifier::new(VerifierConfig::for_supabase(
            &supabase_url,
            jwt_secret.map(JwtSecret::from),
            http.clone(),
        ))
        .context("cannot set up access-token verification")?;
        let limiter = Arc::new(RateLimiter::from_settings(
            &config.rate_limits,
            pool.clone(),
        ));
        let avatars = Arc::new(Avatars::new(
            pool.clone(),
            StorageClient::new(http.clone(), &supabase_url, &anon_key, service_role_key),
            config.avatar_url_ttl,
        ));
        let identity = Arc::new(IdentityService {
            auth: SupabaseAuth::new(http.clone(), &supabase_url, anon_key),
            verifier,
            pool: pool.clone(),
            confirm_url: format!("{}/auth/confirm", config.site_url),
            admin_emails: config.admin_emails.clone(),
            limiter: limiter.clone(),
            rate_limits: AuthPolicies::new(&config.rate_limits),
            default_locale: config.default_locale,
            avatars: avatars.clone(),
        });
        let billing = payments_on.then(|| {
            let gateway = gateway_client(
                &config.payments.gateway,
                stand_ins
                    .as_ref()
                    .map(|stand_ins| stand_ins.base_url.as_str()),
                http.clone(),
            );
            Arc::new(Billing {
                pool: pool.clone(),
                gateway,
                catalogue: config.payments.catalogue,
                checkout_ttl: config.payments.checkout_ttl,
                site_url: config.site_url.clone(),
                orders: OrderWatch::start(pool.clone()),
            })
        });
        if let Some(billing) = &billing {
            billing::reconcile::spawn_jobs(billing.clone());
        }
        let assistant = if ai_on {
            check_time_zone(&pool, &config.ai.time_zone).await?;
            Some(Arc::new(Assistant {
                pool: pool.clone(),
                provider: ai_provider(
                    &config.ai,
                    stand_ins
                        .as_ref()
                        .map(|stand_ins| stand_ins.base_url.as_str()),
                    http.clone(),
                ),
                model: config.ai.model.clone(),
                max_tokens: config.ai.max_tokens,
                time_zone: config.ai.time_zone.clone(),
                catalogue: config.payments.catalogue,
                limiter: limiter.clone(),
                limits: config.rate_limits.ai,
            }))
        } else {
            None
        };
        // Expired sessions and idle rate-limit buckets, swept by every instance (see
        // `db::maintenance` for why that is safe).
        db::maintenance::spawn_sweeper(pool.clone(), db::maintenance::SWEEP_INTERVAL);
        // The outbox's sender (and the renewal reminders), run by every instance.
        crate::mail::worker::spawn(&config, pool.clone(), mailer.clone());
        // The stand-ins may run for a payment twin alone: the mailbox only with the mail twin.
        let dev_mailbox = match &config.mail {
            MailTarget::LocalTwin { .. } => stand_ins.map(|stand_ins| stand_ins.mailbox),
            MailTarget::Resend { .. } => None,
        };
        let state = AppState {
            config: Arc::new(config),
            pool,
            leptos_options,
            mailer,
            dev_mailbox,
            identity,
            limiter,
            billing,
            assistant,
        };
        Ok(Self {
            listener,
            router: router(state),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // With connection info: the client's address starts from the socket's peer (`net`).
        axum::serve(
            listener::without_nagle(self.listener),
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}

/// The configured AI provider's client: its real address with its key, the local AI twin under
/// `stand_ins` in development without a key, or `None` (production without a key: AI answers
/// 503 until one is set).
fn ai_provider(
    settings: &AiSettings,
    stand_ins: Option<&str>,
    http: reqwest::Client,
) -> Option<Provider> {
    use crate::{
        ai::{anthropic, openai},
        local::ai_twin,
    };
    let (base_url, api_key) = match (&settings.api_key, stand_ins) {
        (Some(key), _) => (settings.base_url.clone(), key.clone()),
        (None, Some(local)) => match settings.provider {
            ProviderKind::OpenAi => (
                Some(format!("{local}/openai/v1")),
                ai_twin::LOCAL_OPENAI_API_KEY.to_string(),
            ),
            ProviderKind::Anthropic => (
                Some(format!("{local}/anthropic")),
                ai_twin::LOCAL_ANTHROPIC_API_KEY.to_string(),
            ),
        },
        (None, None) => return None,
    };
    Some(match settings.provider {
        ProviderKind::OpenAi => Provider::OpenAi(openai::OpenAiClient::new(
            http,
            base_url.unwrap_or_else(|| openai::OpenAiClient::DEFAULT_BASE_URL.to_string()),
            Some(api_key),
        )),
        ProviderKind::Anthropic => Provider::Anthropic(anthropic::AnthropicClient::new(
            http,
            base_url.unwrap_or_else(|| anthropic::AnthropicClient::DEFAULT_BASE_URL.to_string()),
            api_key,
        )),
    })
}

/// Refuses to start with an `AI_QUOTA_TIME_ZONE` PostgreSQL does not know (every quota check
/// would fail). A database that cannot be asked right now is not a reason to stop: health
/// reports it, and the quota checks answer 503 until it is back.
async fn check_time_zone(pool: &PgPool, zone: &str) -> anyhow::Result<()> {
    match sqlx::query("select now() at time zone $1")
        .bind(zone)
        .execute(pool)
        .await
    {
        Ok(_) => Ok(()),
        // invalid_parameter_value: "time zone … not recognized".
        Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("22023") => {
            anyhow::bail!(
                "AI_QUOTA_TIME_ZONE={zone:?} is not a time zone the database knows (e.g. Asia/Jakarta)"
            )
        }
        Err(error) => {
            tracing::warn!(%error, "could not check AI_QUOTA_TIME_ZONE against the database");
            Ok(())
        }
    }
}

/// The configured gateway's client: its real hosts, or the local twin under `stand_ins`.
fn gateway_client(
    gateway: &Gateway,
    stand_ins: Option<&str>,
    http: reqwest::Client,
) -> GatewayClient {
    // A production server never has a twin (configuration refuses it); this address refuses
    // every call instead of reaching anything.
    let twin = |prefix: &str| {
        stand_ins.map_or_else(
            || "http://127.0.0.1:9".to_string(),
            |base| format!("{base}{prefix}"),
        )
    };
    match gateway {
        Gateway::Midtrans { server_key, urls } => {
            let (snap, api) = urls
                .clone()
                .unwrap_or_else(|| (twin("/midtrans"), twin("/midtrans")));
            GatewayClient::Midtrans(MidtransClient::new(http, server_key, &snap, &api))
        }
        Gateway::Doku {
            client_id,
            secret_key,
            api_url,
        } => {
            let api = api_url.clone().unwrap_or_else(|| twin("/doku"));
            GatewayClient::Doku(DokuClient::new(http, client_id, secret_key, &api))
        }
    }
}

/// The waitlist and contact routes' settings: each runs while its feature is on and has what
/// it needs.
fn outreach_routes(state: &AppState) -> outreach::routes::Outreach {
    let runs = |feature| {
        let feature_state = state.config.feature(feature);
        feature_state.enabled()
            && !matches!(feature_state, FeatureState::MissingConfiguration { .. })
    };
    let limits = &state.config.rate_limits;
    outreach::routes::Outreach {
        pool: state.pool.clone(),
        limiter: state.identity.limiter.clone(),
        waitlist_limit: [Policy::new("waitlist", KeyKind::Ip, limits.waitlist)],
        contact_limit: [Policy::new("contact", KeyKind::Ip, limits.contact)],
        waitlist_on: runs(Feature::Waitlist),
        contact_to: state
            .config
            .contact_to
            .clone()
            .filter(|_| runs(Feature::Contact)),
        site_url: state.config.site_url.clone(),
        default_locale: state.config.default_locale,
    }
}

/// The app's routes, worked out once per process. Working them out renders the app with resource
/// loading switched off for the whole process (leptos-rs/leptos#4773): a page that another server
/// in this process (the tests start many) was rendering meanwhile would never answer.
fn app_routes() -> Vec<AxumRouteListing> {
    static ROUTES: LazyLock<Vec<AxumRouteListing>> =
        LazyLock::new(|| generate_route_list(app::App));
    ROUTES.clone()
}

fn router(state: AppState) -> Router {
    let options = state.leptos_options.clone();
    let routes = app_routes();
    let environment = state.config.environment;
    let outreach = outreach_routes(&state);
    let context = {
        let dev_mailbox = state.dev_mailbox.clone();
        let identity = state.identity.clone();
        let default_locale = app::i18n::DefaultLocale(state.config.default_locale);
        let site_url = app::SiteUrl(state.config.site_url.clone());
        let storage_origin = app::StorageOrigin(
            http_layers::origin_of(state.identity.auth.base_url()).unwrap_or_default(),
        );
        let catalogue = state.config.payments.catalogue;
        let outreach_switches = app::outreach::OutreachSwitches {
            waitlist: outreach.waitlist_on,
            contact: outreach.contact_to.is_some(),
        };
        let billing_desk = state.billing.clone().map(|billing| {
            Arc::new(billing::desk::RequestBilling::new(
                state.identity.clone(),
                billing,
            )) as Arc<dyn app::billing::BillingDesk>
        });
        let admin_console: Arc<dyn app::admin::AdminConsole> = Arc::new(RequestAdmin::new(
            state.identity.clone(),
            state.config.clone(),
        ));
        let status: Arc<dyn app::status::StatusProbe> = Arc::new(health::HealthCheck {
            pool: state.pool.clone(),
            config: state.config.clone(),
        });
        move || {
            provide_context(default_locale);
            provide_context(catalogue);
            provide_context(outreach_switches);
            if let Some(desk) = &billing_desk {
                provide_context(desk.clone());
            }
            provide_context(site_url.clone());
            provide_context(storage_origin.clone());
            provide_context(status.clone());
            if let Some(mailbox) = &dev_mailbox {
                provide_context::<Arc<dyn app::ports::DevMailbox>>(Arc::new(mailbox.clone()));
            }
            provide_context::<Arc<dyn app::identity::Identity>>(Arc::new(RequestIdentity::new(
                identity.clone(),
            )));
            provide_context(admin_console.clone());
        }
    };
    let sessions = SessionManagerLayer::new(
        PostgresStore::new(state.pool.clone())
            .with_schema_name("kilat_private")
            .and_then(|store| store.with_table_name("sessions"))
            .expect("valid session table names"),
    )
    .with_name(session::COOKIE)
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_secure(state.config.secure_cookies())
    .with_expiry(Expiry::OnInactivity(session::SIGNED_IN_LIFETIME));
    let router = Router::new()
        .merge(health::router(health::HealthCheck {
            pool: state.pool.clone(),
            config: state.config.clone(),
        }))
        .merge(auth::routes::router(state.identity.clone()))
        .merge(profiles::avatar::routes::router(
            state.identity.clone(),
            state.identity.avatars.clone(),
            Policy::new("avatar", KeyKind::User, state.config.rate_limits.avatar),
        ))
        .merge(locale::router(
            state.identity.clone(),
            state.config.secure_cookies(),
        ))
        .merge(crawlers::router(&state.config.site_url))
        .merge(outreach::routes::router(outreach))
        .merge(admin::exports::router(
            state.identity.clone(),
            Policy::new(
                "admin-export",
                KeyKind::User,
                state.config.rate_limits.admin_export,
            ),
            state.config.ai.time_zone.as_str().into(),
        ))
        .merge(ai::routes::router(
            state.identity.clone(),
            state.assistant.clone(),
        ))
        .merge(match &state.billing {
            Some(billing) => billing::routes::router(
                state.identity.clone(),
                billing.clone(),
                Policy::new("checkout", KeyKind::User, state.config.rate_limits.checkout),
                Policy::new(
                    "order-status",
                    KeyKind::User,
                    state.config.rate_limits.order_status,
                ),
            )
            .merge(billing::webhooks::router(billing.clone())),
            None => Router::new(),
        })
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context,
            app::shell,
        ))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn(auth::routes::require_sign_in));
    // The admin guard runs before routing (a layer on the router would run after it, when a
    // POST to an admin page has already been answered 405); the session layer wraps both.
    let guarded =
        axum::middleware::from_fn_with_state(state.identity.clone(), admin::access::require_admin)
            .layer(router);
    let router = Router::new()
        .fallback_service(guarded)
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(state.config.trusted_proxies.clone()),
            net::resolve_client_ip,
        ));
    http_layers::apply(
        router,
        environment,
        options.hash_files,
        &state.config.site_url,
        state.config.default_locale,
    )
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(provider: &str, key: Option<&str>) -> AiSettings {
        let mut problems = Vec::new();
        let settings = AiSettings::from_lookup(
            |name| match name {
                "AI_PROVIDER" => Some(provider.to_string()),
                "OPENAI_API_KEY" | "ANTHROPIC_API_KEY" => key.map(str::to_string),
                _ => None,
            },
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        settings
    }

    #[test]
    fn ai_answers_from_its_key_or_the_local_twin_and_otherwise_not_at_all() {
        let http = outbound::http_client();
        // Production without a key: no provider, so the routes answer 503.
        assert!(ai_provider(&settings("openai", None), None, http.clone()).is_none());
        assert!(matches!(
            ai_provider(
                &settings("anthropic", None),
                Some("http://127.0.0.1:54321"),
                http.clone()
            ),
            Some(Provider::Anthropic(_))
        ));
        assert!(matches!(
            ai_provider(&settings("openai", Some("sk-live")), None, http),
            Some(Provider::OpenAi(_))
        ));
    }
}
