//! Webhooks: the outbox's writer ([`record`]), used by every store method whose change an
//! event reports, and the [`WebhookStore`] port: the webhooks themselves ([`crud`]), the
//! deliveries' claims and outcomes ([`deliveries`]), the expansion of
//! `message.unread_offline` ([`offline`]). Every query is scoped by account, except the
//! delivery worker's, which serve every account.

mod crud;
mod deliveries;
mod offline;
pub(crate) mod record;
mod rows;

use std::time::Duration;

use async_trait::async_trait;
use chat_app::{
    Attempt, Claimed, Finished, NewWebhook, Page, StoreError, WebhookPatch, WebhookRef,
    WebhookStore, Window,
};
use chat_domain::{AccountId, Webhook};
use time::OffsetDateTime;

use crate::PgStore;

#[async_trait]
impl WebhookStore for PgStore {
    async fn create_webhook(
        &self,
        account: AccountId,
        new: NewWebhook,
    ) -> Result<Webhook, StoreError> {
        self.with_conn(move |conn| crud::create(conn, account, new))
            .await
    }

    async fn list_webhooks(
        &self,
        account: AccountId,
        window: Window,
    ) -> Result<Page<Webhook>, StoreError> {
        self.with_conn(move |conn| crud::list(conn, account, window))
            .await
    }

    async fn find_webhook(
        &self,
        account: AccountId,
        id: WebhookRef,
    ) -> Result<Webhook, StoreError> {
        self.with_conn(move |conn| crud::find(conn, account, id))
            .await
    }

    async fn update_webhook(
        &self,
        account: AccountId,
        id: WebhookRef,
        patch: WebhookPatch,
    ) -> Result<Webhook, StoreError> {
        self.with_conn(move |conn| crud::update(conn, account, id, patch))
            .await
    }

    async fn delete_webhook(&self, account: AccountId, id: WebhookRef) -> Result<(), StoreError> {
        self.with_conn(move |conn| crud::delete(conn, account, id))
            .await
    }

    async fn set_webhook_active(
        &self,
        account: AccountId,
        id: WebhookRef,
        active: bool,
    ) -> Result<Webhook, StoreError> {
        self.with_conn(move |conn| crud::set_active(conn, account, id, active))
            .await
    }

    async fn list_attempts(
        &self,
        account: AccountId,
        id: WebhookRef,
        window: Window,
    ) -> Result<Page<Attempt>, StoreError> {
        self.with_conn(move |conn| crud::list_attempts(conn, account, id, window))
            .await
    }

    async fn record_test(&self, account: AccountId, id: WebhookRef) -> Result<Claimed, StoreError> {
        self.with_conn(move |conn| deliveries::record_test(conn, account, id))
            .await
    }

    async fn claim_due(&self, limit: i64, lease: Duration) -> Result<Vec<Claimed>, StoreError> {
        self.with_conn(move |conn| deliveries::claim_due(conn, limit, lease))
            .await
    }

    async fn finish(&self, finished: Finished, deactivate_after: i32) -> Result<bool, StoreError> {
        self.with_conn(move |conn| deliveries::finish(conn, &finished, deactivate_after))
            .await
    }

    async fn finish_delivered(&self, delivered: Vec<Finished>) -> Result<(), StoreError> {
        self.with_conn(move |conn| deliveries::finish_delivered(conn, &delivered))
            .await
    }

    async fn expand_offline(&self, limit: i64, coalesce: Duration) -> Result<u64, StoreError> {
        self.with_conn(move |conn| offline::expand(conn, limit, coalesce))
            .await
    }

    async fn prune(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        self.with_conn(move |conn| deliveries::prune(conn, before))
            .await
    }

    async fn backlog(&self) -> Result<(i64, Option<Duration>), StoreError> {
        self.with_conn(deliveries::backlog).await
    }
}
