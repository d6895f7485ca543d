//! Domain types shared by the UI and the server.
//!
//! The enums mirror the database's enum types exactly (a server test compares them with
//! `enum_range` on a migrated database), so a value read from PostgreSQL always parses.

#[macro_use]
mod database_enum;
pub mod plan;

pub use database_enum::UnknownVariant;
pub use plan::{Plan, PlanCatalogue};

database_enum! {
    /// Where a subscription stands. `expired`: the paid period ended and nobody paid again.
    SubscriptionStatus: "subscription_status" {
        Active => "active",
        PastDue => "past_due",
        Canceled => "canceled",
        Expired => "expired",
    }
}

database_enum! {
    /// The life of a payment. Only a gateway notification makes it PAID, FAILED or EXPIRED.
    PaymentStatus: "payment_status" {
        Pending => "PENDING",
        Paid => "PAID",
        Failed => "FAILED",
        Expired => "EXPIRED",
        Refunded => "REFUNDED",
    }
}

database_enum! {
    /// The payment gateway that handled a payment.
    PaymentProvider: "payment_provider" {
        Midtrans => "MIDTRANS",
        Doku => "DOKU",
    }
}

database_enum! {
    /// A user's role; `user_roles` is the source of truth for admin access.
    AppRole: "app_role" {
        Admin => "admin",
        Member => "member",
    }
}

database_enum! {
    /// What an AI call was: a streamed chat turn or a one-shot generation.
    AiUsageKind: "ai_usage_kind" {
        Chat => "chat",
        Generate => "generate",
    }
}

database_enum! {
    /// Where a gateway notification is in the webhook ledger.
    WebhookEventStatus: "webhook_event_status" {
        Processing => "processing",
        Processed => "processed",
        Failed => "failed",
    }
}
