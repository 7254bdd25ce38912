//! Webhooks: the integration's CRUD of its webhooks ([`Webhooks`]) and the loop that
//! delivers recorded events to them ([`WebhookDelivery`]).

mod data;
mod delivery;
mod payload;
#[cfg(test)]
mod tests;

use std::fmt;

use chat_domain::{Webhook, WebhookSecret};

use crate::actor::Actor;
use crate::error::{AppError, Denied, Resource};
use crate::model::{NewWebhook, Page, WebhookPatch, Window};
use crate::ports::{Attempt, StoreError, WebhookRef};

pub use delivery::{DeliveryCounts, DeliveryPorts, DeliverySettings, WebhookDelivery};
pub use payload::{signature, user_agent};

/// The webhook use cases (both dialects): the API key and the account's administrators.
#[derive(Clone)]
pub struct Webhooks {
    delivery: WebhookDelivery,
}

impl fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhooks").finish_non_exhaustive()
    }
}

fn webhook_error(error: StoreError) -> AppError {
    error.into_app(Resource::Webhook)
}

/// The API key and administrators; agents and scoped credentials are refused (403).
fn manager(actor: &Actor) -> Result<chat_domain::AccountId, AppError> {
    let account = actor.require_manager()?;
    if actor.scope().is_some() {
        return Err(AppError::Forbidden(Denied::NotAdministrator));
    }
    Ok(account)
}

impl Webhooks {
    /// The use cases over the delivery machinery (its store and sender; `test` delivers
    /// through it).
    pub fn new(delivery: WebhookDelivery) -> Self {
        Self { delivery }
    }

    /// Creates a webhook: its URL must lead to a public address (else 422 on `url`); a
    /// secret is generated when none was given.
    pub async fn create(&self, actor: &Actor, mut new: NewWebhook) -> Result<Webhook, AppError> {
        let account = manager(actor)?;
        self.delivery.sender().check_destination(&new.url).await?;
        if new.secret.is_none() {
            new.secret = Some(WebhookSecret::generate()?);
        }
        self.delivery
            .store()
            .create_webhook(account, new)
            .await
            .map_err(webhook_error)
    }

    /// The account's webhooks.
    pub async fn list(&self, actor: &Actor, window: Window) -> Result<Page<Webhook>, AppError> {
        let account = manager(actor)?;
        self.delivery
            .store()
            .list_webhooks(account, window)
            .await
            .map_err(webhook_error)
    }

    /// One webhook of the account (404 for another account's).
    pub async fn get(&self, actor: &Actor, id: WebhookRef) -> Result<Webhook, AppError> {
        let account = manager(actor)?;
        self.delivery
            .store()
            .find_webhook(account, id)
            .await
            .map_err(webhook_error)
    }

    /// Changes the fields present; a new URL is checked like at creation.
    pub async fn update(
        &self,
        actor: &Actor,
        id: WebhookRef,
        patch: WebhookPatch,
    ) -> Result<Webhook, AppError> {
        let account = manager(actor)?;
        if let Some(url) = &patch.url {
            let current = self
                .delivery
                .store()
                .find_webhook(account, id)
                .await
                .map_err(webhook_error)?;
            if current.url != *url {
                self.delivery.sender().check_destination(url).await?;
            }
        }
        if patch.is_empty() {
            return self
                .delivery
                .store()
                .find_webhook(account, id)
                .await
                .map_err(webhook_error);
        }
        self.delivery
            .store()
            .update_webhook(account, id, patch)
            .await
            .map_err(webhook_error)
    }

    /// Deletes a webhook with its pending deliveries and its log.
    pub async fn delete(&self, actor: &Actor, id: WebhookRef) -> Result<(), AppError> {
        let account = manager(actor)?;
        self.delivery
            .store()
            .delete_webhook(account, id)
            .await
            .map_err(webhook_error)
    }

    /// Switches a webhook on (resetting its failure count) or off.
    pub async fn set_active(
        &self,
        actor: &Actor,
        id: WebhookRef,
        active: bool,
    ) -> Result<Webhook, AppError> {
        let account = manager(actor)?;
        self.delivery
            .store()
            .set_webhook_active(account, id, active)
            .await
            .map_err(webhook_error)
    }

    /// Switches a webhook on and resets its failure count.
    pub async fn activate(&self, actor: &Actor, id: WebhookRef) -> Result<Webhook, AppError> {
        self.set_active(actor, id, true).await
    }

    /// Switches a webhook off.
    pub async fn deactivate(&self, actor: &Actor, id: WebhookRef) -> Result<Webhook, AppError> {
        self.set_active(actor, id, false).await
    }

    /// Records a `webhook.test` event for this webhook only and delivers it now (even
    /// when it is inactive), answering the attempt. A failed test is retried like any
    /// delivery.
    pub async fn test(&self, actor: &Actor, id: WebhookRef) -> Result<Attempt, AppError> {
        let account = manager(actor)?;
        let claimed = self
            .delivery
            .store()
            .record_test(account, id)
            .await
            .map_err(webhook_error)?;
        self.delivery.deliver(claimed).await
    }

    /// The webhook's delivery log, newest first.
    pub async fn attempts(
        &self,
        actor: &Actor,
        id: WebhookRef,
        window: Window,
    ) -> Result<Page<Attempt>, AppError> {
        let account = manager(actor)?;
        self.delivery
            .store()
            .list_attempts(account, id, window)
            .await
            .map_err(webhook_error)
    }
}
