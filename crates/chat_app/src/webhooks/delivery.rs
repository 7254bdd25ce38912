//! The loop that delivers recorded events: claim due deliveries, render, sign, POST,
//! record the outcome; expand `message.unread_offline`; prune the log.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chat_domain::{DEACTIVATE_AFTER_FAILURES, RetrySchedule};
use futures_util::StreamExt;
use time::OffsetDateTime;
use tokio::sync::Notify;

use super::payload;
use crate::error::AppError;
use crate::ports::{
    Attempt, Claimed, Finished, MessageStore, Outgoing, RoomStore, StoreError, UserDirectory,
    WebhookRenderer, WebhookSender, WebhookStore,
};

/// The messages of a claim by id, rendered, or `None` where its load found none
/// ([`WebhookDelivery::messages_of`]).
pub(super) type Messages =
    std::collections::HashMap<chat_domain::MessageId, Option<serde_json::Value>>;

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
    pub(super) ports: DeliveryPorts,
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
        let messages = self.messages_of(&claimed).await;
        // A failure is recorded at once (it may deactivate the webhook); the successes of
        // the round together, in one statement, once every attempt of the round is made
        // (within the lease: an attempt times out well before).
        let delivered: Vec<(Claimed, Finished)> = futures_util::stream::iter(claimed)
            .map(|claimed| async {
                let (finished, _) = self.attempt(&claimed, &messages).await;
                if finished.success {
                    Some((claimed, finished))
                } else {
                    self.record(&claimed, finished).await;
                    None
                }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .filter_map(|delivered| async { delivered })
            .collect()
            .await;
        self.record_delivered(delivered).await;
        Ok(count)
    }

    /// Records the successful attempts of a round in one call; counted once recorded.
    async fn record_delivered(&self, delivered: Vec<(Claimed, Finished)>) {
        if delivered.is_empty() {
            return;
        }
        let n = delivered.len() as u64;
        let (claims, finished): (Vec<Claimed>, Vec<Finished>) = delivered.into_iter().unzip();
        let recorded = self.ports.store.finish_delivered(finished).await;
        self.counters.delivered.fetch_add(n, Ordering::Relaxed);
        if let Err(store) = recorded {
            for claimed in claims {
                tracing::warn!(
                    webhook = %claimed.webhook.uuid,
                    delivery = %claimed.delivery_uuid,
                    error = %store,
                    "webhooks: recording a delivery attempt failed"
                );
            }
        }
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
        let (finished, attempt) = self.attempt(&claimed, &Messages::new()).await;
        self.record(&claimed, finished).await;
        Ok(attempt)
    }

    /// Makes one attempt of a claimed delivery (`messages`: those of its claim, rendered
    /// already): its outcome to record, and the attempt as the API shows it.
    async fn attempt(&self, claimed: &Claimed, messages: &Messages) -> (Finished, Attempt) {
        let data = self.data(claimed, messages).await;
        let body = payload::body(claimed, data);
        let now = OffsetDateTime::now_utc();
        let headers = payload::headers(claimed, &body, now);
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
        let attempt = Attempt {
            delivery_uuid: claimed.delivery_uuid,
            event,
            attempt: claimed.attempt,
            status_code,
            duration_ms,
            error,
            delivered_at: now,
        };
        (finished, attempt)
    }

    /// Records one attempt's outcome; counted once recorded.
    async fn record(&self, claimed: &Claimed, finished: Finished) {
        let counter = match (finished.success, finished.retry_at) {
            (true, _) => &self.counters.delivered,
            (false, Some(_)) => &self.counters.retry,
            (false, None) => &self.counters.failed,
        };
        let error = finished.error.clone();
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
    }
}

fn store_error(error: StoreError) -> AppError {
    match error {
        StoreError::Unavailable(e) => AppError::Unavailable(e),
        other => AppError::Unexpected(other.into()),
    }
}
