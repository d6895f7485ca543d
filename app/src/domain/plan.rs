database_enum! {
    /// A subscription plan; monthly only.
    Plan: "subscription_plan" {
        Free => "FREE",
        Basic => "BASIC",
        Pro => "PRO",
        Ultimate => "ULTIMATE",
    }
}

impl Plan {
    /// The name shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Plan::Free => "Free",
            Plan::Basic => "Basic",
            Plan::Pro => "Pro",
            Plan::Ultimate => "Ultimate",
        }
    }

    /// The price of a month, in whole rupiah: the one price catalogue, which the pricing pages
    /// show and billing charges (the browser only ever names a plan, never an amount).
    pub fn monthly_price_idr(self) -> i64 {
        match self {
            Plan::Free => 0,
            Plan::Basic => 49_000,
            Plan::Pro => 99_000,
            Plan::Ultimate => 249_000,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_labels_in_any_case() {
        for &plan in Plan::ALL {
            assert_eq!(plan.as_db().parse::<Plan>(), Ok(plan));
            assert_eq!(plan.as_db().to_lowercase().parse::<Plan>(), Ok(plan));
        }
        let err = "GOLD".parse::<Plan>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown subscription_plan \"GOLD\": expected one of FREE, BASIC, PRO, ULTIMATE"
        );
    }

    #[test]
    fn serializes_as_the_database_label() {
        assert_eq!(serde_json::to_string(&Plan::Pro).unwrap(), "\"PRO\"");
        assert_eq!(
            serde_json::from_str::<Plan>("\"ULTIMATE\"").unwrap(),
            Plan::Ultimate
        );
    }
}
