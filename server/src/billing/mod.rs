//! Billing: plans, payments, subscriptions and the gateways' notifications.

pub mod webhook_ledger;
