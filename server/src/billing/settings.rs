//! The billing part of the configuration: which gateway, its keys and addresses, the plan
//! catalogue's overrides and how long a checkout stays open.

use std::{fmt, time::Duration};

use app::domain::{PaymentProvider, Plan, PlanCatalogue};

/// The documented local keys, shared by the gateway twins and the server in local mode.
pub const LOCAL_MIDTRANS_SERVER_KEY: &str = "SB-Mid-server-kilat-local-twin";
pub const LOCAL_DOKU_CLIENT_ID: &str = "BRN-0000-0000000000001";
pub const LOCAL_DOKU_SECRET_KEY: &str = "SK-kilat-local-twin-secret";

const MIDTRANS_SANDBOX: GatewayUrls = GatewayUrls {
    checkout: "https://app.sandbox.midtrans.com",
    api: "https://api.sandbox.midtrans.com",
};
const MIDTRANS_PRODUCTION: GatewayUrls = GatewayUrls {
    checkout: "https://app.midtrans.com",
    api: "https://api.midtrans.com",
};
const DOKU_SANDBOX: &str = "https://api-sandbox.doku.com";
const DOKU_PRODUCTION: &str = "https://api.doku.com";

/// How long a checkout may be paid unless `PAYMENT_EXPIRY_MINUTES` says otherwise.
const DEFAULT_CHECKOUT_TTL: Duration = Duration::from_secs(60 * 60);

struct GatewayUrls {
    checkout: &'static str,
    api: &'static str,
}

/// A gateway's keys, and where it answers: a real host, or this process's local twin.
#[derive(Clone, PartialEq, Eq)]
pub enum Gateway {
    /// `MIDTRANS_SERVER_KEY`; Snap at `snap_url` (`…/snap/v1/transactions`), Core API
    /// (`…/v2/{order}/status`) at `api_url`. `None` URLs: the local twin.
    Midtrans {
        server_key: String,
        urls: Option<(String, String)>,
    },
    /// `DOKU_CLIENT_ID`, `DOKU_SECRET_KEY`; `api_url` `None`: the local twin.
    Doku {
        client_id: String,
        secret_key: String,
        api_url: Option<String>,
    },
}

impl Gateway {
    pub fn provider(&self) -> PaymentProvider {
        match self {
            Gateway::Midtrans { .. } => PaymentProvider::Midtrans,
            Gateway::Doku { .. } => PaymentProvider::Doku,
        }
    }

    /// Whether payments go to this process's local twin.
    pub fn is_local_twin(&self) -> bool {
        matches!(
            self,
            Gateway::Midtrans { urls: None, .. } | Gateway::Doku { api_url: None, .. }
        )
    }
}

impl fmt::Debug for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gateway::Midtrans { urls, .. } => write!(f, "Midtrans({urls:?})"),
            Gateway::Doku { api_url, .. } => write!(f, "Doku({api_url:?})"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentSettings {
    /// `PAYMENT_PROVIDER` (`midtrans` unless set) and its keys.
    pub gateway: Gateway,
    pub catalogue: PlanCatalogue,
    /// `PAYMENT_EXPIRY_MINUTES` (60 unless set, 5 to 10080): how long a checkout may be paid.
    pub checkout_ttl: Duration,
}

impl PaymentSettings {
    /// The variables that connect the chosen gateway.
    pub fn required_keys(&self) -> &'static [&'static str] {
        match self.gateway.provider() {
            PaymentProvider::Midtrans => &["MIDTRANS_SERVER_KEY"],
            PaymentProvider::Doku => &["DOKU_CLIENT_ID", "DOKU_SECRET_KEY"],
        }
    }

    /// Every variable this part of the configuration reads.
    pub const VARIABLES: [&'static str; 20] = [
        "PAYMENT_PROVIDER",
        "PAYMENT_EXPIRY_MINUTES",
        "MIDTRANS_SERVER_KEY",
        "MIDTRANS_ENV",
        "MIDTRANS_SNAP_URL",
        "MIDTRANS_API_URL",
        "DOKU_CLIENT_ID",
        "DOKU_SECRET_KEY",
        "DOKU_ENV",
        "DOKU_API_URL",
        "LOCAL_MIDTRANS_SERVER_KEY",
        "LOCAL_DOKU_CLIENT_ID",
        "LOCAL_DOKU_SECRET_KEY",
        "PLAN_BASIC_PRICE",
        "PLAN_PRO_PRICE",
        "PLAN_ULTIMATE_PRICE",
        "PLAN_FREE_AI_TOKENS",
        "PLAN_BASIC_AI_TOKENS",
        "PLAN_PRO_AI_TOKENS",
        "PLAN_ULTIMATE_AI_TOKENS",
    ];

    /// Reads the billing variables through `get` (trimmed, unset or empty = `None`). Every
    /// invalid value is added to `problems`. Without a gateway's keys the local twin is used:
    /// production refuses to start that way (the payments feature reports the missing keys).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Self {
        let provider = match get("PAYMENT_PROVIDER")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("midtrans") => PaymentProvider::Midtrans,
            Some("doku") => PaymentProvider::Doku,
            Some(other) => {
                problems.push(format!(
                    "PAYMENT_PROVIDER={other:?} is not a gateway Kilat speaks: use midtrans or doku"
                ));
                PaymentProvider::Midtrans
            }
        };
        let mut production = |name: &str| match get(name).map(|v| v.to_ascii_lowercase()).as_deref()
        {
            None | Some("sandbox") => false,
            Some("production") => true,
            Some(other) => {
                problems.push(format!(
                    "{name}={other:?} is not valid: use sandbox or production"
                ));
                false
            }
        };
        let gateway = match provider {
            PaymentProvider::Midtrans => {
                let hosts = if production("MIDTRANS_ENV") {
                    MIDTRANS_PRODUCTION
                } else {
                    MIDTRANS_SANDBOX
                };
                match get("MIDTRANS_SERVER_KEY") {
                    Some(server_key) => Gateway::Midtrans {
                        server_key,
                        urls: Some((
                            base_url(get("MIDTRANS_SNAP_URL"), hosts.checkout),
                            base_url(get("MIDTRANS_API_URL"), hosts.api),
                        )),
                    },
                    None => Gateway::Midtrans {
                        server_key: get("LOCAL_MIDTRANS_SERVER_KEY")
                            .unwrap_or_else(|| LOCAL_MIDTRANS_SERVER_KEY.into()),
                        urls: None,
                    },
                }
            }
            PaymentProvider::Doku => {
                let host = if production("DOKU_ENV") {
                    DOKU_PRODUCTION
                } else {
                    DOKU_SANDBOX
                };
                match (get("DOKU_CLIENT_ID"), get("DOKU_SECRET_KEY")) {
                    (Some(client_id), Some(secret_key)) => Gateway::Doku {
                        client_id,
                        secret_key,
                        api_url: Some(base_url(get("DOKU_API_URL"), host)),
                    },
                    _ => Gateway::Doku {
                        client_id: get("LOCAL_DOKU_CLIENT_ID")
                            .unwrap_or_else(|| LOCAL_DOKU_CLIENT_ID.into()),
                        secret_key: get("LOCAL_DOKU_SECRET_KEY")
                            .unwrap_or_else(|| LOCAL_DOKU_SECRET_KEY.into()),
                        api_url: None,
                    },
                }
            }
        };
        let mut catalogue = PlanCatalogue::default();
        for plan in Plan::PAID {
            let name = format!("PLAN_{}_PRICE", plan.as_db());
            if let Some(raw) = get(&name) {
                match raw.replace(['.', '_'], "").parse::<i64>() {
                    Ok(price) if (1_000..=100_000_000).contains(&price) => {
                        catalogue = catalogue.with_price(plan, price);
                    }
                    _ => problems.push(format!(
                        "{name}={raw:?} is not a monthly price in whole rupiah from 1000 to 100000000"
                    )),
                }
            }
        }
        for plan in Plan::ALL.iter().copied() {
            let name = format!("PLAN_{}_AI_TOKENS", plan.as_db());
            if let Some(raw) = get(&name) {
                match raw.to_ascii_lowercase().as_str() {
                    "unlimited" => catalogue = catalogue.with_ai_tokens(plan, None),
                    number => match number.replace(['.', '_'], "").parse::<u64>() {
                        Ok(tokens) => catalogue = catalogue.with_ai_tokens(plan, Some(tokens)),
                        Err(_) => problems.push(format!(
                            "{name}={raw:?} is not a number of tokens a month (or \"unlimited\")"
                        )),
                    },
                }
            }
        }

        let checkout_ttl = match get("PAYMENT_EXPIRY_MINUTES") {
            None => DEFAULT_CHECKOUT_TTL,
            Some(raw) => match raw.parse::<u64>() {
                Ok(minutes) if (5..=7 * 24 * 60).contains(&minutes) => {
                    Duration::from_secs(minutes * 60)
                }
                _ => {
                    problems.push(format!(
                        "PAYMENT_EXPIRY_MINUTES={raw:?} is not a number of minutes from 5 to 10080 (a week)"
                    ));
                    DEFAULT_CHECKOUT_TTL
                }
            },
        };
        Self {
            gateway,
            catalogue,
            checkout_ttl,
        }
    }
}

fn base_url(configured: Option<String>, default: &str) -> String {
    configured
        .unwrap_or_else(|| default.to_string())
        .trim_end_matches('/')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> (PaymentSettings, Vec<String>) {
        let mut problems = Vec::new();
        let settings = PaymentSettings::from_lookup(
            |key| {
                vars.iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            },
            &mut problems,
        );
        (settings, problems)
    }

    #[test]
    fn without_keys_development_pays_into_the_midtrans_twin() {
        let (settings, problems) = read(&[]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            settings.gateway,
            Gateway::Midtrans {
                server_key: LOCAL_MIDTRANS_SERVER_KEY.into(),
                urls: None
            }
        );
        assert!(settings.gateway.is_local_twin());
        assert_eq!(settings.checkout_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn real_keys_pick_the_sandbox_unless_production_is_named() {
        let (settings, _) = read(&[("MIDTRANS_SERVER_KEY", "SB-Mid-server-x")]);
        assert_eq!(
            settings.gateway,
            Gateway::Midtrans {
                server_key: "SB-Mid-server-x".into(),
                urls: Some((
                    "https://app.sandbox.midtrans.com".into(),
                    "https://api.sandbox.midtrans.com".into()
                )),
            }
        );
        let (settings, _) = read(&[
            ("PAYMENT_PROVIDER", "DOKU"),
            ("DOKU_CLIENT_ID", "BRN-1"),
            ("DOKU_SECRET_KEY", "SK-1"),
            ("DOKU_ENV", "production"),
        ]);
        assert_eq!(
            settings.gateway,
            Gateway::Doku {
                client_id: "BRN-1".into(),
                secret_key: "SK-1".into(),
                api_url: Some("https://api.doku.com".into()),
            }
        );
        assert!(!format!("{:?}", settings.gateway).contains("SK-1"));
    }

    #[test]
    fn prices_and_allowances_can_be_overridden_and_nonsense_is_named() {
        let (settings, problems) = read(&[
            ("PLAN_PRO_PRICE", "149.000"),
            ("PLAN_BASIC_AI_TOKENS", "unlimited"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(settings.catalogue.monthly_price_idr(Plan::Pro), 149_000);
        assert_eq!(settings.catalogue.monthly_ai_tokens(Plan::Basic), None);

        let (_, problems) = read(&[
            ("PAYMENT_PROVIDER", "paypal"),
            ("PLAN_PRO_PRICE", "-5"),
            ("PLAN_ULTIMATE_AI_TOKENS", "lots"),
            ("PAYMENT_EXPIRY_MINUTES", "1"),
            ("MIDTRANS_ENV", "live"),
        ]);
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].contains("PAYMENT_PROVIDER"), "{problems:?}");
    }
}
