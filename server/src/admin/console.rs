//! The [`AdminConsole`] port: each call checks the caller's role, then reads with the server's
//! own connection (admin numbers span every user, which RLS rightly hides from a user's role).

use std::sync::Arc;

use app::{
    admin::{
        AdminConsole, AdminError, AdminOverview, MonthFigures, Page,
        payments::{
            PaymentDetail, PaymentFilter, PaymentLine, ReplayOutcome, WebhookEventLine,
            WebhookFilter,
        },
        people::{Person, PersonLine},
        records::{
            AiUsageReport, AuditFilter, AuditRecord, MailRetry, MailStatus, OutboxMessage,
            WaitlistView,
        },
        system::SystemReport,
    },
    domain::{AppRole, Plan, PlanCatalogue},
};
use uuid::Uuid;

use super::{
    access::{Admin, signed_in_admin},
    ai_usage, audit_trail, metrics, outbox, payments,
    people::{self, PersonSources},
    system, waitlist,
};
use crate::{
    auth::identity::{IdentityService, request_origin, request_session},
    config::Config,
    health::HealthCheck,
};

/// How many months the overview's charts show.
const CHART_MONTHS: i32 = 12;

pub struct RequestAdmin {
    identity: Arc<IdentityService>,
    catalogue: PlanCatalogue,
    /// The zone whose calendar months the figures count (`AI_QUOTA_TIME_ZONE`, the business's).
    zone: Arc<str>,
    /// What `/admin/system` reports, measured as the health check measures it.
    health: HealthCheck,
}

impl RequestAdmin {
    pub fn new(identity: Arc<IdentityService>, config: Arc<Config>) -> Self {
        Self {
            catalogue: config.payments.catalogue,
            zone: config.ai.time_zone.as_str().into(),
            health: HealthCheck {
                pool: identity.pool.clone(),
                config,
            },
            identity,
        }
    }

    /// The caller, if an admin: read afresh for every call, whatever the page guard let in.
    async fn require_admin(&self) -> Result<Admin, AdminError> {
        let session = request_session()
            .await
            .map_err(|_| AdminError::Unavailable)?;
        let admin = signed_in_admin(&self.identity, &session).await?;
        let (ip, user_agent) = request_origin().await;
        Ok(admin.with_origin(ip, user_agent))
    }
}

#[async_trait::async_trait]
impl AdminConsole for RequestAdmin {
    async fn overview(&self) -> Result<AdminOverview, AdminError> {
        self.require_admin().await?;
        let pool = &self.identity.pool;
        let (numbers, months) = tokio::try_join!(
            metrics::dashboard_metrics(pool),
            metrics::months(pool, &self.zone, CHART_MONTHS),
        )
        .map_err(super::failed)?;
        let active_by_plan = vec![
            (Plan::Free, numbers.active_free),
            (Plan::Basic, numbers.active_basic),
            (Plan::Pro, numbers.active_pro),
            (Plan::Ultimate, numbers.active_ultimate),
        ];
        Ok(AdminOverview {
            revenue_idr: numbers.revenue_idr,
            revenue_this_month_idr: months.last().map_or(0, |month| month.revenue_idr),
            mrr_idr: AdminOverview::recurring_revenue(&active_by_plan, &self.catalogue),
            paid_payments: numbers.paid_payments,
            pending_payments: numbers.pending_payments,
            active_by_plan,
            months: months
                .into_iter()
                .map(|month| MonthFigures {
                    starts: month.starts,
                    signups: month.signups,
                    paying_users: month.paying_users,
                    revenue_idr: month.revenue_idr,
                })
                .collect(),
        })
    }

    async fn people(
        &self,
        search: String,
        after: Option<String>,
    ) -> Result<Page<PersonLine>, AdminError> {
        let admin = self.require_admin().await?;
        people::list(&self.identity.pool, &admin, &search, after.as_deref()).await
    }

    async fn person(&self, id: String) -> Result<Option<Person>, AdminError> {
        let admin = self.require_admin().await?;
        let Ok(id) = id.parse::<Uuid>() else {
            return Ok(None);
        };
        let sources = PersonSources {
            avatars: &self.identity.avatars,
            catalogue: &self.catalogue,
            zone: &self.zone,
        };
        people::person(&self.identity.pool, &admin, sources, id).await
    }

    async fn set_role(&self, id: String, role: AppRole) -> Result<(), AdminError> {
        let admin = self.require_admin().await?;
        let id = id.parse::<Uuid>().map_err(|_| AdminError::NotFound)?;
        people::set_role(&self.identity.pool, &admin, id, role).await
    }

    async fn grant_plan(&self, id: String, plan: Plan, reason: String) -> Result<(), AdminError> {
        let admin = self.require_admin().await?;
        let id = id.parse::<Uuid>().map_err(|_| AdminError::NotFound)?;
        people::grant_plan(&self.identity.pool, &admin, id, plan, &reason).await
    }

    async fn audit_trail(
        &self,
        filter: AuditFilter,
        after: Option<String>,
    ) -> Result<Page<AuditRecord>, AdminError> {
        let admin = self.require_admin().await?;
        audit_trail::list(
            &self.identity.pool,
            &admin,
            &self.zone,
            &filter,
            after.as_deref(),
        )
        .await
    }

    async fn waitlist(
        &self,
        search: String,
        after: Option<String>,
    ) -> Result<WaitlistView, AdminError> {
        let admin = self.require_admin().await?;
        waitlist::list(&self.identity.pool, &admin, &search, after.as_deref()).await
    }

    async fn mail_outbox(
        &self,
        status: Option<MailStatus>,
        after: Option<String>,
    ) -> Result<Page<OutboxMessage>, AdminError> {
        let admin = self.require_admin().await?;
        outbox::list(&self.identity.pool, &admin, status, after.as_deref()).await
    }

    async fn retry_mail(&self, id: String) -> Result<MailRetry, AdminError> {
        let admin = self.require_admin().await?;
        let Ok(id) = id.parse::<Uuid>() else {
            return Ok(MailRetry::Missing);
        };
        outbox::retry(&self.identity.pool, &admin, id).await
    }

    async fn ai_usage(&self) -> Result<AiUsageReport, AdminError> {
        let admin = self.require_admin().await?;
        ai_usage::report(&self.identity.pool, &admin, &self.zone).await
    }

    async fn system(&self) -> Result<SystemReport, AdminError> {
        let admin = self.require_admin().await?;
        system::report(&self.health, &admin).await
    }

    async fn payments(
        &self,
        filter: PaymentFilter,
        after: Option<String>,
    ) -> Result<Page<PaymentLine>, AdminError> {
        let admin = self.require_admin().await?;
        payments::list(
            &self.identity.pool,
            &admin,
            &filter,
            &self.zone,
            after.as_deref(),
        )
        .await
    }

    async fn payment(&self, id: String) -> Result<Option<PaymentDetail>, AdminError> {
        let admin = self.require_admin().await?;
        let Ok(id) = id.parse::<Uuid>() else {
            return Ok(None);
        };
        payments::detail(&self.identity.pool, &admin, id).await
    }

    async fn webhook_events(
        &self,
        filter: WebhookFilter,
        after: Option<String>,
    ) -> Result<Page<WebhookEventLine>, AdminError> {
        let admin = self.require_admin().await?;
        payments::webhook_events(&self.identity.pool, &admin, &filter, after.as_deref()).await
    }

    async fn replay_webhook(&self, id: String) -> Result<ReplayOutcome, AdminError> {
        let admin = self.require_admin().await?;
        let id = id.parse::<Uuid>().map_err(|_| AdminError::NotFound)?;
        payments::replay(&self.identity.pool, &admin, id).await
    }
}
