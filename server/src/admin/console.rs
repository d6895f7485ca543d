//! The [`AdminConsole`] port: each call checks the caller's role, then reads with the server's
//! own connection (admin numbers span every user, which RLS rightly hides from a user's role).

use std::sync::Arc;

use app::{
    admin::{AdminConsole, AdminError, AdminOverview},
    domain::Plan,
};

use super::{access::signed_in_admin, metrics};
use crate::auth::identity::{IdentityService, request_session};

pub struct RequestAdmin {
    identity: Arc<IdentityService>,
}

impl RequestAdmin {
    pub fn new(identity: Arc<IdentityService>) -> Self {
        Self { identity }
    }

    async fn require_admin(&self) -> Result<(), AdminError> {
        let session = request_session()
            .await
            .map_err(|_| AdminError::Unavailable)?;
        signed_in_admin(&self.identity, &session).await.map(|_| ())
    }
}

#[async_trait::async_trait]
impl AdminConsole for RequestAdmin {
    async fn overview(&self) -> Result<AdminOverview, AdminError> {
        self.require_admin().await?;
        let numbers = metrics::dashboard_metrics(&self.identity.pool)
            .await
            .map_err(|error| {
                tracing::error!(%error, "admin metrics query failed");
                AdminError::Unavailable
            })?;
        Ok(AdminOverview {
            revenue_idr: numbers.revenue_idr,
            paid_payments: numbers.paid_payments,
            pending_payments: numbers.pending_payments,
            active_by_plan: vec![
                (Plan::Free, numbers.active_free),
                (Plan::Basic, numbers.active_basic),
                (Plan::Pro, numbers.active_pro),
                (Plan::Ultimate, numbers.active_ultimate),
            ],
        })
    }
}
