//! The people an admin looks after: the list (`/admin/users`) and a person's page
//! (`/admin/users/:id`).

use serde::{Deserialize, Serialize};

use crate::domain::{AppRole, PaymentProvider, PaymentStatus, Plan, SubscriptionStatus};

/// The longest search an admin may type (longer is cut, never refused).
pub const SEARCH_MAX_CHARS: usize = 100;

/// The longest reason a manual grant keeps.
pub const REASON_MAX_CHARS: usize = 500;

/// One line of the people list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonLine {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub plan: Plan,
    pub role: AppRole,
    /// Unix seconds.
    pub joined_at: i64,
}

/// Everything the person's page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    pub locale: Option<String>,
    pub joined_at: i64,
    pub last_sign_in_at: Option<i64>,
    pub role: AppRole,
    pub plan: Plan,
    pub subscription_status: SubscriptionStatus,
    pub period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    /// Newest first, at most 50.
    pub payments: Vec<PersonPayment>,
    pub ai_tokens_this_month: i64,
    /// This month's allowance of the plan in force; `None` is unlimited.
    pub ai_allowance: Option<u64>,
    /// Entries about this person (as actor or as target), newest first, at most 50.
    pub audit: Vec<super::records::AuditRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonPayment {
    pub id: String,
    pub order_id: String,
    pub provider: PaymentProvider,
    pub plan: Plan,
    pub amount: i64,
    pub status: PaymentStatus,
    pub created_at: i64,
    pub paid_at: Option<i64>,
}

/// The search as an admin typed it, made safe: trimmed, control characters dropped, at most
/// [`SEARCH_MAX_CHARS`].
pub fn clean_search(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control())
        .take(SEARCH_MAX_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_trimmed_cut_and_freed_of_control_characters() {
        assert_eq!(clean_search("  ana@\r\nkilat.id\u{0} "), "ana@kilat.id");
        assert_eq!(clean_search(&"x".repeat(500)).len(), SEARCH_MAX_CHARS);
        assert_eq!(clean_search("Siti Rahayu"), "Siti Rahayu");
    }
}
