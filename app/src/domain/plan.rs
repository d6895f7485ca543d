use serde::{Deserialize, Serialize};

/// A subscription plan. Mirrors the database enum `public.subscription_plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Plan {
    Free,
    Basic,
    Pro,
    Ultimate,
}

impl Plan {
    pub const ALL: [Plan; 4] = [Plan::Free, Plan::Basic, Plan::Pro, Plan::Ultimate];

    pub fn name(self) -> &'static str {
        match self {
            Plan::Free => "Free",
            Plan::Basic => "Basic",
            Plan::Pro => "Pro",
            Plan::Ultimate => "Ultimate",
        }
    }

    /// The database spelling (`FREE`, `BASIC`, …).
    pub fn as_db(self) -> &'static str {
        match self {
            Plan::Free => "FREE",
            Plan::Basic => "BASIC",
            Plan::Pro => "PRO",
            Plan::Ultimate => "ULTIMATE",
        }
    }

    /// Monthly AI token allowance; `None` is unlimited.
    pub fn monthly_ai_tokens(self) -> Option<u64> {
        match self {
            Plan::Free => Some(0),
            Plan::Basic => Some(10_000),
            Plan::Pro => Some(100_000),
            Plan::Ultimate => None,
        }
    }
}

impl std::str::FromStr for Plan {
    type Err = UnknownPlan;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plan::ALL
            .into_iter()
            .find(|plan| plan.as_db().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownPlan(s.to_string()))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown plan {0:?}: expected one of FREE, BASIC, PRO, ULTIMATE")]
pub struct UnknownPlan(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_spelling_in_any_case() {
        for plan in Plan::ALL {
            assert_eq!(plan.as_db().parse::<Plan>(), Ok(plan));
            assert_eq!(plan.as_db().to_lowercase().parse::<Plan>(), Ok(plan));
        }
        assert_eq!("GOLD".parse::<Plan>(), Err(UnknownPlan("GOLD".into())));
    }
}
