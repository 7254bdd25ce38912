//! Webhooks: their storage and delivery log (the transactional outbox), the HTTP
//! client that delivers, and the rendering of payloads.

use std::time::Duration;

use async_trait::async_trait;
use chat_domain::{
    AccountId, FieldError, MessageId, RoomId, User, UserId, Webhook, WebhookEvent, WebhookId,
    WebhookUrl,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::StoreError;
use crate::model::{NewWebhook, Page, WebhookPatch, Window};

/// How a caller names a webhook: the account dialect's integer id or the ChatAPI uuid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookRef {
    /// The integer id (account dialect).
    Id(WebhookId),
    /// The uuid (ChatAPI).
    Uuid(Uuid),
}

/// A recorded event (a row of the outbox).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The event's id; the payload's `id` is `evt_` and its simple hex form.
    pub uuid: Uuid,
    /// What happened.
    pub event: WebhookEvent,
    /// The account it happened in.
    pub account: AccountId,
    /// The room concerned, if any (still there or not).
    pub room: Option<RoomId>,
    /// The message concerned, if any.
    pub message: Option<MessageId>,
    /// The user concerned, if any (joined/left/read/unread_offline).
    pub user: Option<UserId>,
    /// A snapshot for things gone by delivery time (a deleted room's `{id, name}`),
    /// or extra fields (`message.read`: `{last_read_message_id, seq}`).
    pub data: Option<serde_json::Value>,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

/// A delivery claimed by this node (leased), ready to be attempted.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// The delivery's row id.
    pub delivery: i64,
    /// The delivery's id (the same on every retry: `X-ChatAPI-Delivery`).
    pub delivery_uuid: Uuid,
    /// This attempt, 1-based.
    pub attempt: i32,
    /// The webhook to deliver to.
    pub webhook: Webhook,
    /// The account's ChatAPI `client_id`.
    pub client_id: Uuid,
    /// What to deliver.
    pub event: StoredEvent,
}

/// One entry of a webhook's delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The delivery's id.
    pub delivery_uuid: Uuid,
    /// The event's name.
    pub event: String,
    /// Which attempt of the delivery, 1-based.
    pub attempt: i32,
    /// The HTTP status answered, if any.
    pub status_code: Option<i32>,
    /// How long it took.
    pub duration_ms: i32,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// When it was made.
    pub delivered_at: OffsetDateTime,
}

/// The outcome of one attempt, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The delivery's row id.
    pub delivery: i64,
    /// The webhook delivered to.
    pub webhook: WebhookId,
    /// Its account.
    pub account: AccountId,
    /// The event's name.
    pub event: String,
    /// Which attempt, 1-based.
    pub attempt: i32,
    /// The HTTP status answered, if any.
    pub status_code: Option<i32>,
    /// How long it took.
    pub duration_ms: i32,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// Whether it succeeded (2xx).
    pub success: bool,
    /// When to try again; `None` with `!success`: the delivery has failed for good.
    pub retry_at: Option<OffsetDateTime>,
}

/// Webhooks, the outbox of events and their deliveries.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new webhook. `new.secret` is always `Some` here (the use case generates
    /// one when none was given).
    async fn create_webhook(
        &self,
        account: AccountId,
        new: NewWebhook,
    ) -> Result<Webhook, StoreError>;

    /// The account's webhooks, oldest first.
    async fn list_webhooks(
        &self,
        account: AccountId,
        window: Window,
    ) -> Result<Page<Webhook>, StoreError>;

    /// The webhook; `NotFound` when it is not the account's.
    async fn find_webhook(&self, account: AccountId, id: WebhookRef)
    -> Result<Webhook, StoreError>;

    /// Applies the fields present and bumps `updated_at`; `NotFound` when not the account's.
    async fn update_webhook(
        &self,
        account: AccountId,
        id: WebhookRef,
        patch: WebhookPatch,
    ) -> Result<Webhook, StoreError>;

    /// Deletes it with its deliveries and log; `NotFound` when not the account's.
    async fn delete_webhook(&self, account: AccountId, id: WebhookRef) -> Result<(), StoreError>;

    /// Switches it on or off; activate resets failure_count to 0.
    async fn set_webhook_active(
        &self,
        account: AccountId,
        id: WebhookRef,
        active: bool,
    ) -> Result<Webhook, StoreError>;

    /// The delivery log of the webhook, newest first; `NotFound` when not the account's.
    async fn list_attempts(
        &self,
        account: AccountId,
        id: WebhookRef,
        window: Window,
    ) -> Result<Page<Attempt>, StoreError>;

    /// Records a `webhook.test` event and ONE delivery to this webhook (even if inactive),
    /// already leased to the caller, and answers it claimed.
    async fn record_test(&self, account: AccountId, id: WebhookRef) -> Result<Claimed, StoreError>;

    /// Leases up to `limit` due deliveries for `lease` (attempts + 1), skipping those
    /// other nodes hold.
    async fn claim_due(&self, limit: i64, lease: Duration) -> Result<Vec<Claimed>, StoreError>;

    /// Writes the attempt to the log and the delivery's new state; on failure
    /// failure_count + 1 and, at `deactivate_after`, is_active = false; on success
    /// failure_count = 0, last_delivery_at = now. Answers whether the webhook was
    /// deactivated by this call.
    async fn finish(&self, finished: Finished, deactivate_after: i32) -> Result<bool, StoreError>;

    /// Records successful attempts (`success` set in each) together, in one transaction:
    /// as [`WebhookStore::finish`] records each.
    async fn finish_delivered(&self, delivered: Vec<Finished>) -> Result<(), StoreError>;

    /// Expands up to `limit` recorded message.created events for message.unread_offline.
    async fn expand_offline(&self, limit: i64, coalesce: Duration) -> Result<u64, StoreError>;

    /// Removes log entries, finished deliveries and events older than `before`.
    async fn prune(&self, before: OffsetDateTime) -> Result<u64, StoreError>;

    /// Pending deliveries and the age of the oldest due one.
    async fn backlog(&self) -> Result<(i64, Option<Duration>), StoreError>;
}

/// One POST to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Where.
    pub url: WebhookUrl,
    /// Every header, in order (custom ones first).
    pub headers: Vec<(String, String)>,
    /// The exact bytes signed.
    pub body: Vec<u8>,
}

/// What came of one POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    /// How long it took.
    pub duration: Duration,
    /// What went wrong (refused address, DNS, timeout, TLS...), if anything.
    pub error: Option<String>,
}

impl Response {
    /// Whether the POST succeeded (a 2xx).
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The HTTP client that delivers.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Resolves the host; Err(FieldError on "url") if any address is not public (unless
    /// private allowed).
    async fn check_destination(&self, url: &WebhookUrl) -> Result<(), FieldError>;
    /// POSTs once; never panics; every failure (refused address, DNS, timeout, TLS) is
    /// an error text.
    async fn post(&self, outgoing: Outgoing) -> Response;
}

/// Renders `data` of a payload in the ChatAPI form (part D implements in chat_http).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait WebhookRenderer: Send + Sync {
    /// A message, ChatAPI JSON with `seq` and `room_id`.
    fn message(&self, view: &crate::MessageView) -> serde_json::Value;
    /// A room, ChatAPI JSON.
    fn room(&self, view: &crate::RoomView) -> serde_json::Value;
    /// A user's ChatAPI id (`user_id`) as JSON.
    fn user_id(&self, user: &User) -> serde_json::Value;
}
