//! The loop that delivers recorded events: claim due deliveries, render, sign, POST,
//! record the outcome; expand `message.unread_offline`; prune the log.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chat_domain::{
    DEACTIVATE_AFTER_FAILURES, MessageId, MessageRef, RetrySchedule, RoomId, RoomRef, User, UserId,
    WebhookEvent,
};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use tokio::sync::Notify;

use super::payload;
use crate::error::AppError;
use crate::messages::Views;
use crate::model::MessageDetail;
use crate::ports::{
    Attempt, Claimed, Finished, MessageStore, Outgoing, RoomStore, StoreError, UserDirectory,
    WebhookRenderer, WebhookSender, WebhookStore,
};
use crate::rooms::RoomView;

/// The ports deliveries need: the outbox, the HTTP client, the renderer, and the read
/// ports that load what an event names.
#[derive(Clone)]
pub struct DeliveryPorts {
    /// Webhooks, the outbox and the delivery log.
    pub store: Arc<dyn WebhookStore>,
    /// The HTTP client.
    pub sender: Arc<dyn WebhookSender>,
    /// The ChatAPI rendering of `data`.
    pub renderer: Arc<dyn WebhookRenderer>,
    /// Rooms, to render them.
    pub rooms: Arc<dyn RoomStore>,
    /// Messages, to render them.
    pub messages: Arc<dyn MessageStore>,
    /// Users, to name them.
    pub users: Arc<dyn UserDirectory>,
}

impl fmt::Debug for DeliveryPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryPorts").finish_non_exhaustive()
    }
}

/// How deliveries are paced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySettings {
    /// The pauses before retries (`CHAT_WEBHOOK_RETRY_SCHEDULE`).
    pub schedule: RetrySchedule,
    /// At most one `message.unread_offline` per member and room in this time
    /// (`CHAT_OFFLINE_NOTICE_SECS`, default 60 s).
    pub coalesce: Duration,
    /// How long the delivery log is kept (`CHAT_WEBHOOK_LOG_DAYS`, default 7 days).
    pub log_retention: Duration,
    /// Deliveries claimed at once.
    pub batch: i64,
    /// Deliveries of one batch in flight at once.
    pub concurrency: usize,
    /// How long a claim holds a delivery (longer than the sender's timeout).
    pub lease: Duration,
    /// The longest sleep when nothing was due.
    pub idle: Duration,
    /// How often the log is pruned.
    pub prune_every: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            schedule: RetrySchedule::default(),
            coalesce: Duration::from_secs(60),
            log_retention: Duration::from_secs(7 * 24 * 3600),
            batch: 100,
            concurrency: 16,
            lease: Duration::from_secs(30),
            idle: Duration::from_secs(1),
            prune_every: Duration::from_secs(3600),
        }
    }
}

/// Deliveries made by this node since it started, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// Answered 2xx.
    pub delivered: u64,
    /// Failed, to be retried.
    pub retry: u64,
    /// Failed for good (the schedule is spent).
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    retry: AtomicU64,
    failed: AtomicU64,
}

/// Delivers recorded events to webhooks. Cheap to clone; clones share their counters
/// and their wake-up.
#[derive(Clone)]
pub struct WebhookDelivery {
    ports: DeliveryPorts,
    settings: Arc<DeliverySettings>,
    counters: Arc<Counters>,
    wake: Arc<Notify>,
    last_prune: Arc<Mutex<Option<Instant>>>,
}

impl fmt::Debug for WebhookDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookDelivery")
            .field("settings", &self.settings)
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

impl WebhookDelivery {
    /// Deliveries over `ports`, paced by `settings`.
    pub fn new(ports: DeliveryPorts, settings: DeliverySettings) -> Self {
        Self {
            ports,
            settings: Arc::new(settings),
            counters: Arc::new(Counters::default()),
            wake: Arc::new(Notify::new()),
            last_prune: Arc::new(Mutex::new(None)),
        }
    }

    pub(crate) fn store(&self) -> &dyn WebhookStore {
        self.ports.store.as_ref()
    }

    pub(crate) fn sender(&self) -> &dyn WebhookSender {
        self.ports.sender.as_ref()
    }

    /// Wakes the loop now (after a commit that recorded events), instead of at its next
    /// idle tick.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The deliveries made by this node so far, by outcome (for `/metrics`).
    pub fn counts(&self) -> DeliveryCounts {
        DeliveryCounts {
            delivered: self.counters.delivered.load(Ordering::Relaxed),
            retry: self.counters.retry.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }

    /// Pending deliveries (every node's) and the age of the oldest due one.
    pub async fn backlog(&self) -> Result<(i64, Option<Duration>), AppError> {
        self.ports.store.backlog().await.map_err(store_error)
    }

    /// One round: expands `message.unread_offline`, claims due deliveries and makes
    /// them (concurrently, bounded), and prunes the log when an hour has passed.
    /// Answers how many deliveries were attempted.
    pub async fn run_once(&self) -> Result<usize, AppError> {
        let expanded = self
            .ports
            .store
            .expand_offline(self.settings.batch, self.settings.coalesce)
            .await;
        if let Err(error) = expanded {
            tracing::warn!(error = %error, "webhooks: expanding message.unread_offline failed");
        }
        self.prune_if_due().await;
        let claimed = self
            .ports
            .store
            .claim_due(self.settings.batch, self.settings.lease)
            .await
            .map_err(store_error)?;
        let count = claimed.len();
        futures_util::stream::iter(claimed)
            .map(|claimed| self.deliver(claimed))
            .buffer_unordered(self.settings.concurrency.max(1))
            .for_each(|_| async {})
            .await;
        Ok(count)
    }

    /// Runs [`run_once`](Self::run_once) until `shutdown` completes, sleeping up to the
    /// idle time (or until [`wake`](Self::wake)) when nothing was due.
    pub fn spawn<F>(self, shutdown: F) -> tokio::task::JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            loop {
                tokio::select! {
                    () = &mut shutdown => break,
                    () = self.tick() => {}
                }
            }
        })
    }

    async fn tick(&self) {
        let full = match self.run_once().await {
            Ok(count) => i64::try_from(count).unwrap_or(i64::MAX) >= self.settings.batch,
            Err(error) => {
                tracing::warn!(error = %error, "webhooks: claiming deliveries failed");
                false
            }
        };
        if !full {
            let _ = tokio::time::timeout(self.settings.idle, self.wake.notified()).await;
        }
    }

    async fn prune_if_due(&self) {
        let due = {
            let Ok(mut last) = self.last_prune.lock() else {
                return;
            };
            let due = last.is_none_or(|at| at.elapsed() >= self.settings.prune_every);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if !due {
            return;
        }
        let before = OffsetDateTime::now_utc() - self.settings.log_retention;
        match self.ports.store.prune(before).await {
            Ok(removed) if removed > 0 => {
                tracing::info!(removed, "webhooks: pruned the delivery log");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "webhooks: pruning failed"),
        }
    }

    /// Makes one attempt of a claimed delivery and records it; never panics. A failure
    /// to record is logged (the lease runs out and the delivery is tried again).
    pub(crate) async fn deliver(&self, claimed: Claimed) -> Result<Attempt, AppError> {
        let data = self.data(&claimed).await;
        let body = payload::body(&claimed, data);
        let now = OffsetDateTime::now_utc();
        let headers = payload::headers(&claimed, &body, now);
        let response = self
            .ports
            .sender
            .post(Outgoing {
                url: claimed.webhook.url.clone(),
                headers,
                body,
            })
            .await;
        let success = response.is_success();
        let error = match (&response.error, response.status) {
            (Some(error), _) => Some(error.clone()),
            (None, Some(status)) if !success => Some(format!("HTTP {status}")),
            (None, None) if !success => Some("no answer".to_owned()),
            _ => None,
        };
        let retry_at = if success {
            None
        } else {
            self.settings
                .schedule
                .after(claimed.attempt)
                .map(|pause| OffsetDateTime::now_utc() + pause)
        };
        let duration_ms = i32::try_from(response.duration.as_millis()).unwrap_or(i32::MAX);
        let status_code = response.status.map(i32::from);
        let event = claimed.event.event.as_str().to_owned();
        let finished = Finished {
            delivery: claimed.delivery,
            webhook: claimed.webhook.id,
            account: claimed.webhook.account_id,
            event: event.clone(),
            attempt: claimed.attempt,
            status_code,
            duration_ms,
            error: error.clone(),
            success,
            retry_at,
        };
        let counter = match (success, retry_at) {
            (true, _) => &self.counters.delivered,
            (false, Some(_)) => &self.counters.retry,
            (false, None) => &self.counters.failed,
        };
        let recorded = self
            .ports
            .store
            .finish(finished, DEACTIVATE_AFTER_FAILURES)
            .await;
        // Counted once recorded: /metrics never shows an attempt as done while the
        // delivery still reads as pending.
        counter.fetch_add(1, Ordering::Relaxed);
        match recorded {
            Ok(true) => tracing::warn!(
                webhook = %claimed.webhook.uuid,
                host = claimed.webhook.url.host(),
                error = error.as_deref().unwrap_or(""),
                "webhook deactivated after {DEACTIVATE_AFTER_FAILURES} failed deliveries in a row"
            ),
            Ok(false) => {}
            Err(store) => tracing::warn!(
                webhook = %claimed.webhook.uuid,
                delivery = %claimed.delivery_uuid,
                error = %store,
                "webhooks: recording a delivery attempt failed"
            ),
        }
        Ok(Attempt {
            delivery_uuid: claimed.delivery_uuid,
            event,
            attempt: claimed.attempt,
            status_code,
            duration_ms,
            error,
            delivered_at: now,
        })
    }

    /// The payload's `data` in the ChatAPI rendering. What can no longer be loaded is
    /// sent from the recorded snapshot, or as its id alone: never dropped.
    async fn data(&self, claimed: &Claimed) -> Value {
        let mut data = self.rendered(claimed).await;
        // The renderer cannot know the account's client_id: set it where the ChatAPI
        // rendering carries one.
        let client_id = json!(claimed.client_id);
        if let Value::Object(map) = &mut data {
            if let Some(slot) = map.get_mut("client_id") {
                *slot = client_id.clone();
            }
            if let Some(Value::Object(message)) = map.get_mut("message")
                && let Some(slot) = message.get_mut("client_id")
            {
                *slot = client_id;
            }
        }
        data
    }

    async fn rendered(&self, claimed: &Claimed) -> Value {
        let event = &claimed.event;
        let account = event.account;
        let snapshot = || event.data.clone();
        match event.event {
            WebhookEvent::MessageCreated
            | WebhookEvent::MessageUpdated
            | WebhookEvent::MessageDeleted
            | WebhookEvent::MessageRestored => match event.message {
                Some(id) => match self.message(account, id).await {
                    Some(message) => message,
                    None => snapshot().unwrap_or_else(|| json!({ "id": id.0 })),
                },
                None => snapshot().unwrap_or_else(|| json!({})),
            },
            WebhookEvent::RoomCreated
            | WebhookEvent::RoomUpdated
            | WebhookEvent::RoomActivated
            | WebhookEvent::RoomDeactivated => match event.room {
                Some(id) => match self.room(account, id).await {
                    Some((_, rendered)) => rendered,
                    None => snapshot().unwrap_or_else(|| json!({ "id": id.0 })),
                },
                None => snapshot().unwrap_or_else(|| json!({})),
            },
            WebhookEvent::RoomDeleted => snapshot()
                .unwrap_or_else(|| json!({ "id": event.room.map(|r| r.0), "name": Value::Null })),
            WebhookEvent::RoomJoined | WebhookEvent::RoomLeft => {
                Value::Object(self.room_and_user(claimed).await)
            }
            WebhookEvent::MessageRead => {
                let mut data = self.room_and_user(claimed).await;
                data.remove("user_name");
                if let (Some(id), false) =
                    (event.message, data.contains_key("last_read_message_id"))
                {
                    let found = self
                        .ports
                        .messages
                        .find_message(account, MessageRef::Id(id))
                        .await
                        .map_err(|e| log_load("message", &e));
                    let last = match found {
                        Ok(message) => json!(message.uuid),
                        Err(()) => json!(id.0),
                    };
                    data.insert("last_read_message_id".to_owned(), last);
                }
                for key in ["last_read_message_id", "seq"] {
                    data.entry(key).or_insert(Value::Null);
                }
                Value::Object(data)
            }
            WebhookEvent::MessageUnreadOffline => {
                let mut data = self.room_and_user(claimed).await;
                let message = match event.message {
                    Some(id) => self
                        .message(account, id)
                        .await
                        .unwrap_or_else(|| json!({ "id": id.0 })),
                    None => Value::Null,
                };
                data.insert("message".to_owned(), message);
                Value::Object(data)
            }
            WebhookEvent::Test => snapshot().unwrap_or_else(|| {
                json!({
                    "webhook_id": claimed.webhook.uuid,
                    "message": "This is a test delivery.",
                })
            }),
            WebhookEvent::ReactionAdded | WebhookEvent::ReactionRemoved => {
                snapshot().unwrap_or_else(|| json!({}))
            }
        }
    }

    /// `{room_id, user_id, user_name}` over the snapshot's fields (the snapshot's
    /// values stand when the room or the user is gone).
    async fn room_and_user(&self, claimed: &Claimed) -> Map<String, Value> {
        let event = &claimed.event;
        let mut data = match &event.data {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        if let Some(room) = event.room {
            match self.room(event.account, room).await {
                Some((uuid, _)) => {
                    data.insert("room_id".to_owned(), json!(uuid));
                }
                None => {
                    data.entry("room_id").or_insert(json!(room.0));
                }
            }
        }
        if let Some(user) = event.user {
            match self.user(event.account, user).await {
                Some(found) => {
                    data.insert("user_id".to_owned(), self.ports.renderer.user_id(&found));
                    data.insert("user_name".to_owned(), json!(found.name.as_str()));
                }
                None => {
                    data.entry("user_id").or_insert(json!(user.0));
                    data.entry("user_name").or_insert(Value::Null);
                }
            }
        }
        data
    }

    async fn message(&self, account: chat_domain::AccountId, id: MessageId) -> Option<Value> {
        let message = self
            .ports
            .messages
            .find_message(account, MessageRef::Id(id))
            .await
            .map_err(|e| log_load("message", &e))
            .ok()?;
        let room = self
            .ports
            .rooms
            .find_room(account, RoomRef::Id(message.room_id))
            .await
            .map_err(|e| log_load("room", &e))
            .ok()?;
        let views = Views {
            rooms: self.ports.rooms.as_ref(),
            messages: self.ports.messages.as_ref(),
            users: self.ports.users.as_ref(),
        };
        let view = views
            .one(&room, message, MessageDetail::Rich)
            .await
            .map_err(|e| tracing::debug!(error = %e, "webhooks: a message view failed"))
            .ok()?;
        Some(self.ports.renderer.message(&view))
    }

    async fn room(
        &self,
        account: chat_domain::AccountId,
        id: RoomId,
    ) -> Option<(uuid::Uuid, Value)> {
        let room = self
            .ports
            .rooms
            .find_room(account, RoomRef::Id(id))
            .await
            .map_err(|e| log_load("room", &e))
            .ok()?;
        let uuid = room.uuid;
        let view = RoomView {
            room,
            members: None,
            unread_count: 0,
            unread_mentions: 0,
        };
        Some((uuid, self.ports.renderer.room(&view)))
    }

    async fn user(&self, account: chat_domain::AccountId, id: UserId) -> Option<User> {
        self.ports
            .users
            .find_users(account, vec![id])
            .await
            .map_err(|e| log_load("user", &e))
            .ok()?
            .into_iter()
            .next()
    }
}

fn log_load(what: &str, error: &StoreError) {
    tracing::debug!(error = %error, "webhooks: the {what} of an event could not be loaded");
}

fn store_error(error: StoreError) -> AppError {
    match error {
        StoreError::Unavailable(e) => AppError::Unavailable(e),
        other => AppError::Unexpected(other.into()),
    }
}
