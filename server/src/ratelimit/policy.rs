//! Named policies — how many requests, per how long, counted per what — and their settings.

use std::{fmt, net::IpAddr, time::Duration};

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// `limit` requests per `window`, written `10/15m` in configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub window: Duration,
}

impl Quota {
    pub const fn new(limit: u32, window_secs: u64) -> Self {
        Self {
            limit,
            window: Duration::from_secs(window_secs),
        }
    }

    /// `<count>/<window>`, the window a number and a unit: `s`, `m`, `h` or `d` (`10/15m`,
    /// `30/1h`, `5/h`). The count and the window are at least 1.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "{raw:?} is not a rate limit: write <count>/<window>, e.g. 10/15m, 30/1h or 5/90s"
            )
        };
        let (count, window) = raw.trim().split_once('/').ok_or_else(invalid)?;
        let limit: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(invalid)?;
        let window = window.trim();
        let unit_at = window.len().checked_sub(1).ok_or_else(invalid)?;
        let (amount, unit) = window.split_at(unit_at);
        let amount: u64 = if amount.is_empty() {
            1
        } else {
            amount
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(invalid)?
        };
        let unit_secs = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(invalid()),
        };
        let secs = amount
            .checked_mul(unit_secs)
            // The database keeps windows as a 32-bit number of seconds.
            .filter(|secs| *secs <= i32::MAX as u64)
            .ok_or_else(invalid)?;
        Ok(Self::new(limit, secs))
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.window.as_secs();
        let (amount, unit) = match secs {
            s if s % 86_400 == 0 => (s / 86_400, "d"),
            s if s % 3600 == 0 => (s / 3600, "h"),
            s if s % 60 == 0 => (s / 60, "m"),
            s => (s, "s"),
        };
        write!(f, "{}/{amount}{unit}", self.limit)
    }
}

/// Who a policy counts: each distinct key has its own budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// The client's address.
    Ip,
    /// The signed-in user.
    User,
    /// The client's address together with the email address it is asking about, so one
    /// attacker trying one account is stopped long before the per-address limit.
    IpEmail,
}

/// A named limit: `name` keeps its counters apart from every other policy's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub name: &'static str,
    pub quota: Quota,
    pub key: KeyKind,
}

impl Policy {
    pub const fn new(name: &'static str, key: KeyKind, quota: Quota) -> Self {
        Self { name, quota, key }
    }
}

/// Who is asking: what the policies' keys are made of.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub ip: IpAddr,
    pub user: Option<Uuid>,
    pub email: Option<&'a str>,
}

impl<'a> Subject<'a> {
    pub fn ip(ip: IpAddr) -> Self {
        Self {
            ip,
            user: None,
            email: None,
        }
    }

    pub fn ip_and_email(ip: IpAddr, email: &'a str) -> Self {
        Self {
            ip,
            user: None,
            email: Some(email),
        }
    }

    pub fn user(ip: IpAddr, user: Uuid) -> Self {
        Self {
            ip,
            user: Some(user),
            email: None,
        }
    }

    /// The counter's key for `policy`, e.g. `sign-in:ip:203.0.113.7`. Email addresses are
    /// hashed (the table must not become a list of who tried to sign in, and keys stay short);
    /// a policy whose part is missing falls back to the address alone.
    pub fn key(&self, policy: &Policy) -> String {
        let name = policy.name;
        let ip = self.ip.to_canonical();
        match (policy.key, self.user, self.email) {
            (KeyKind::User, Some(user), _) => format!("{name}:user:{user}"),
            (KeyKind::IpEmail, _, Some(email)) => {
                let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
                let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
                format!("{name}:ip-email:{ip}:{hex}")
            }
            _ => format!("{name}:ip:{ip}"),
        }
    }
}

/// Where the counters live (`RATE_LIMIT_STORE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StoreKind {
    /// Exact across every server instance on the database (the default).
    #[default]
    Postgres,
    /// This process only: for a single instance, or when the database must not be touched.
    Memory,
}

/// One configurable policy: its variable and its default.
struct Setting {
    env: &'static str,
    default: Quota,
}

const SIGN_IN: Setting = Setting {
    env: "RATE_LIMIT_SIGN_IN",
    default: Quota::new(10, 15 * 60),
};
const SIGN_IN_PER_IP: Setting = Setting {
    env: "RATE_LIMIT_SIGN_IN_PER_IP",
    default: Quota::new(30, 15 * 60),
};
const SIGN_UP: Setting = Setting {
    env: "RATE_LIMIT_SIGN_UP",
    default: Quota::new(10, 3600),
};
const EMAIL_LINK: Setting = Setting {
    env: "RATE_LIMIT_EMAIL_LINK",
    default: Quota::new(5, 3600),
};
const EMAIL_LINK_PER_IP: Setting = Setting {
    env: "RATE_LIMIT_EMAIL_LINK_PER_IP",
    default: Quota::new(30, 3600),
};
const GOOGLE: Setting = Setting {
    env: "RATE_LIMIT_GOOGLE",
    default: Quota::new(30, 15 * 60),
};
const AVATAR: Setting = Setting {
    env: "RATE_LIMIT_AVATAR",
    default: Quota::new(20, 3600),
};

const CHECKOUT: Setting = Setting {
    env: "RATE_LIMIT_CHECKOUT",
    default: Quota::new(5, 15 * 60),
};

const ORDER_STATUS: Setting = Setting {
    env: "RATE_LIMIT_ORDER_STATUS",
    default: Quota::new(120, 15 * 60),
};

const WAITLIST: Setting = Setting {
    env: "RATE_LIMIT_WAITLIST",
    default: Quota::new(5, 3600),
};

const CONTACT: Setting = Setting {
    env: "RATE_LIMIT_CONTACT",
    default: Quota::new(5, 3600),
};

const ADMIN_EXPORT: Setting = Setting {
    env: "RATE_LIMIT_ADMIN_EXPORT",
    default: Quota::new(30, 3600),
};

const AI_FREE: Setting = Setting {
    env: "RATE_LIMIT_AI_FREE",
    default: Quota::new(10, 5 * 60),
};
const AI_BASIC: Setting = Setting {
    env: "RATE_LIMIT_AI_BASIC",
    default: Quota::new(20, 5 * 60),
};
const AI_PRO: Setting = Setting {
    env: "RATE_LIMIT_AI_PRO",
    default: Quota::new(40, 5 * 60),
};
const AI_ULTIMATE: Setting = Setting {
    env: "RATE_LIMIT_AI_ULTIMATE",
    default: Quota::new(80, 5 * 60),
};

/// The rate-limit part of the configuration: the store and every policy's quota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub store: StoreKind,
    /// Password sign-in, per address + email.
    pub sign_in: Quota,
    /// Password sign-in, per address.
    pub sign_in_per_ip: Quota,
    /// Sign-up, per address.
    pub sign_up: Quota,
    /// Magic link and password recovery requests, per address + email.
    pub email_link: Quota,
    /// Magic link and password recovery requests, per address.
    pub email_link_per_ip: Quota,
    /// Starting a Google sign-in, per address.
    pub google: Quota,
    /// Avatar uploads and removals, per user (each decodes a picture and calls Storage).
    pub avatar: Quota,
    /// Starting a checkout, per user (each creates a payment and calls the gateway).
    pub checkout: Quota,
    /// Reading an order's status or opening its event stream, per user.
    pub order_status: Quota,
    /// Waitlist signups, per address (each writes a row and queues a mail).
    pub waitlist: Quota,
    /// Contact messages, per address (each keeps the message and queues a mail).
    pub contact: Quota,
    /// Admin CSV exports (audit trail, waitlist), per admin: each streams a whole table.
    pub admin_export: Quota,
    /// AI answers per user, by plan (FREE, BASIC, PRO, ULTIMATE): each calls a paid provider.
    pub ai: [Quota; 4],
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            store: StoreKind::default(),
            sign_in: SIGN_IN.default,
            sign_in_per_ip: SIGN_IN_PER_IP.default,
            sign_up: SIGN_UP.default,
            email_link: EMAIL_LINK.default,
            email_link_per_ip: EMAIL_LINK_PER_IP.default,
            google: GOOGLE.default,
            avatar: AVATAR.default,
            checkout: CHECKOUT.default,
            order_status: ORDER_STATUS.default,
            waitlist: WAITLIST.default,
            contact: CONTACT.default,
            admin_export: ADMIN_EXPORT.default,
            ai: [
                AI_FREE.default,
                AI_BASIC.default,
                AI_PRO.default,
                AI_ULTIMATE.default,
            ],
        }
    }
}

impl RateLimitSettings {
    /// Every variable this part of the configuration reads.
    pub const VARIABLES: [&'static str; 17] = [
        "RATE_LIMIT_STORE",
        SIGN_IN.env,
        SIGN_IN_PER_IP.env,
        SIGN_UP.env,
        EMAIL_LINK.env,
        EMAIL_LINK_PER_IP.env,
        GOOGLE.env,
        AVATAR.env,
        CHECKOUT.env,
        ORDER_STATUS.env,
        WAITLIST.env,
        CONTACT.env,
        ADMIN_EXPORT.env,
        AI_FREE.env,
        AI_BASIC.env,
        AI_PRO.env,
        AI_ULTIMATE.env,
    ];

    /// Reads `RATE_LIMIT_*` through `get` (trimmed, unset or empty = `None`); every invalid
    /// value is added to `problems` and replaced by its default.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Self {
        let store = match get("RATE_LIMIT_STORE")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("postgres") => StoreKind::Postgres,
            Some("memory") => StoreKind::Memory,
            Some(other) => {
                problems.push(format!(
                    "RATE_LIMIT_STORE={other:?} is not valid: use \"postgres\" (shared by every instance) or \"memory\" (this process only)"
                ));
                StoreKind::Postgres
            }
        };
        let mut quota = |setting: Setting| match get(setting.env) {
            None => setting.default,
            Some(raw) => Quota::parse(&raw).unwrap_or_else(|problem| {
                problems.push(format!("{}: {problem}", setting.env));
                setting.default
            }),
        };
        Self {
            store,
            sign_in: quota(SIGN_IN),
            sign_in_per_ip: quota(SIGN_IN_PER_IP),
            sign_up: quota(SIGN_UP),
            email_link: quota(EMAIL_LINK),
            email_link_per_ip: quota(EMAIL_LINK_PER_IP),
            google: quota(GOOGLE),
            avatar: quota(AVATAR),
            checkout: quota(CHECKOUT),
            order_status: quota(ORDER_STATUS),
            waitlist: quota(WAITLIST),
            contact: quota(CONTACT),
            admin_export: quota(ADMIN_EXPORT),
            ai: [
                quota(AI_FREE),
                quota(AI_BASIC),
                quota(AI_PRO),
                quota(AI_ULTIMATE),
            ],
        }
    }
}

/// The policies of sign-in, named once so every route applies the same ones.
#[derive(Clone, Debug)]
pub struct AuthPolicies {
    /// Password sign-in: per address + email, then per address.
    pub sign_in: [Policy; 2],
    pub sign_up: [Policy; 1],
    /// Magic link and recovery requests share one budget.
    pub email_link: [Policy; 2],
    pub google: [Policy; 1],
}

impl AuthPolicies {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            sign_in: [
                Policy::new("sign-in", KeyKind::IpEmail, settings.sign_in),
                Policy::new("sign-in", KeyKind::Ip, settings.sign_in_per_ip),
            ],
            sign_up: [Policy::new("sign-up", KeyKind::Ip, settings.sign_up)],
            email_link: [
                Policy::new("email-link", KeyKind::IpEmail, settings.email_link),
                Policy::new("email-link", KeyKind::Ip, settings.email_link_per_ip),
            ],
            google: [Policy::new("google", KeyKind::Ip, settings.google)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn quotas_parse_in_every_documented_form() {
        assert_eq!(Quota::parse("10/15m"), Ok(Quota::new(10, 900)));
        assert_eq!(Quota::parse(" 30 / 1h "), Ok(Quota::new(30, 3600)));
        assert_eq!(Quota::parse("5/h"), Ok(Quota::new(5, 3600)));
        assert_eq!(Quota::parse("100/90s"), Ok(Quota::new(100, 90)));
        assert_eq!(Quota::parse("1/1d"), Ok(Quota::new(1, 86_400)));
        for bad in [
            "",
            "10",
            "10/",
            "/15m",
            "0/1m",
            "10/0m",
            "10/15",
            "10/15x",
            "-1/1m",
            "10/-1m",
            "ten/1m",
            "10/1.5h",
            "10/99999999999d",
            "10/15m/1",
        ] {
            assert!(Quota::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn quotas_print_as_they_are_written() {
        for written in ["10/15m", "30/1h", "5/90s", "2/1d"] {
            assert_eq!(Quota::parse(written).unwrap().to_string(), written);
        }
    }

    #[test]
    fn settings_default_to_supabase_like_limits_and_report_every_bad_value() {
        let read = |vars: &[(&str, &str)]| {
            let vars: HashMap<_, _> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let mut problems = Vec::new();
            let settings = RateLimitSettings::from_lookup(|k| vars.get(k).cloned(), &mut problems);
            (settings, problems)
        };
        let (defaults, problems) = read(&[]);
        assert!(problems.is_empty());
        assert_eq!(defaults, RateLimitSettings::default());
        assert_eq!(defaults.sign_in, Quota::new(10, 900));
        assert_eq!(defaults.sign_in_per_ip, Quota::new(30, 900));

        let (settings, problems) = read(&[
            ("RATE_LIMIT_STORE", "Memory"),
            ("RATE_LIMIT_SIGN_IN", "3/1m"),
            ("RATE_LIMIT_GOOGLE", "lots"),
        ]);
        assert_eq!(settings.store, StoreKind::Memory);
        assert_eq!(settings.sign_in, Quota::new(3, 60));
        assert_eq!(settings.google, GOOGLE.default);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("RATE_LIMIT_GOOGLE"), "{problems:?}");

        let (_, problems) = read(&[
            ("RATE_LIMIT_STORE", "redis"),
            ("RATE_LIMIT_SIGN_UP", "0/1h"),
        ]);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn keys_separate_policies_and_never_contain_an_email() {
        let policies = AuthPolicies::new(&RateLimitSettings::default());
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let subject = Subject::ip_and_email(ip, "Ana@Kilat.id");
        let per_email = subject.key(&policies.sign_in[0]);
        let per_ip = subject.key(&policies.sign_in[1]);
        assert!(
            per_email.starts_with("sign-in:ip-email:203.0.113.7:"),
            "{per_email}"
        );
        assert!(!per_email.to_lowercase().contains("kilat"), "{per_email}");
        assert_eq!(per_ip, "sign-in:ip:203.0.113.7");
        assert_eq!(
            per_email,
            Subject::ip_and_email(ip, " ana@kilat.ID").key(&policies.sign_in[0]),
            "the same address in any case is one key"
        );
        assert_ne!(
            per_email,
            Subject::ip_and_email(ip, "budi@kilat.id").key(&policies.sign_in[0])
        );
        assert_ne!(
            Subject::ip(ip).key(&policies.google[0]),
            Subject::ip(ip).key(&policies.sign_up[0])
        );
        let user = Uuid::nil();
        let per_user = Policy::new("ai", KeyKind::User, Quota::new(1, 1));
        assert_eq!(
            Subject::user(ip, user).key(&per_user),
            format!("ai:user:{user}")
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let long = "a".repeat(300) + "@kilat.id";
        assert!(
            Subject::ip_and_email(v6, &long)
                .key(&policies.email_link[0])
                .len()
                <= 256
        );
    }
}
