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
    /// The paid plans, cheapest first.
    pub const PAID: [Plan; 3] = [Plan::Basic, Plan::Pro, Plan::Ultimate];

    /// The name shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Plan::Free => "Free",
            Plan::Basic => "Basic",
            Plan::Pro => "Pro",
            Plan::Ultimate => "Ultimate",
        }
    }

    /// The plan's place in plan order (FREE 0 … ULTIMATE 3).
    pub fn index(self) -> usize {
        match self {
            Plan::Free => 0,
            Plan::Basic => 1,
            Plan::Pro => 2,
            Plan::Ultimate => 3,
        }
    }
}

/// The plan catalogue: each plan's monthly price and AI allowance. The one list the pricing
/// pages show and billing charges (the browser only ever names a plan, never an amount). The
/// server reads overrides from its configuration (`PLAN_<NAME>_PRICE`, `PLAN_<NAME>_AI_TOKENS`)
/// and provides the result to every page as context ([`PlanCatalogue::current`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanCatalogue {
    /// Whole rupiah a month, by [`Plan::index`].
    prices: [i64; 4],
    /// Tokens a month; `None` is unlimited.
    ai_tokens: [Option<u64>; 4],
}

impl Default for PlanCatalogue {
    fn default() -> Self {
        Self {
            prices: [0, 49_000, 99_000, 249_000],
            ai_tokens: [Some(0), Some(10_000), Some(100_000), None],
        }
    }
}

impl PlanCatalogue {
    /// The catalogue the server provided to this render; the defaults outside one.
    pub fn current() -> Self {
        leptos::prelude::use_context::<Self>().unwrap_or_default()
    }

    /// The price of a month, in whole rupiah (FREE is 0 and is never sold).
    pub fn monthly_price_idr(&self, plan: Plan) -> i64 {
        self.prices[plan.index()]
    }

    /// Monthly AI token allowance; `None` is unlimited.
    pub fn monthly_ai_tokens(&self, plan: Plan) -> Option<u64> {
        self.ai_tokens[plan.index()]
    }

    /// The catalogue with `plan` at `price_idr` a month. FREE stays free.
    pub fn with_price(mut self, plan: Plan, price_idr: i64) -> Self {
        if plan != Plan::Free {
            self.prices[plan.index()] = price_idr;
        }
        self
    }

    /// The catalogue with `plan`'s allowance at `tokens` a month (`None`: unlimited).
    pub fn with_ai_tokens(mut self, plan: Plan, tokens: Option<u64>) -> Self {
        self.ai_tokens[plan.index()] = tokens;
        self
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
    fn the_catalogue_keeps_free_free_and_takes_overrides_for_paid_plans() {
        let catalogue = PlanCatalogue::default()
            .with_price(Plan::Pro, 149_000)
            .with_price(Plan::Free, 10_000)
            .with_ai_tokens(Plan::Basic, None);
        assert_eq!(catalogue.monthly_price_idr(Plan::Pro), 149_000);
        assert_eq!(catalogue.monthly_price_idr(Plan::Free), 0);
        assert_eq!(catalogue.monthly_price_idr(Plan::Basic), 49_000);
        assert_eq!(catalogue.monthly_ai_tokens(Plan::Basic), None);
        assert_eq!(
            PlanCatalogue::default().monthly_price_idr(Plan::Pro),
            99_000
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
