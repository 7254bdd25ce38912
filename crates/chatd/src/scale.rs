//! What a node shares with the others, as the settings choose (docs/scaling.md): the
//! relay of live events (PostgreSQL `LISTEN/NOTIFY`, or NATS with `CHAT_NATS_URL`), and
//! with `CHAT_REDIS_URL` presence and the rate-limit allowances in Redis.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chat_app::{EventRelay, MirroredPresence, PresenceStore, RelayInbox, RoomStore};
use chat_domain::TokenHash;
use chat_http::limits::{Bucket, Rate, SharedBuckets, Verdict, key_text};
use chat_redis::{Allowance, RedisAllowances, RedisPresence};
use chat_relay_nats::NatsRelay;
use chat_relay_pg::PgRelay;
use chat_store_pg::PgStore;
use futures_util::future::BoxFuture;
use uuid::Uuid;

use crate::Settings;

/// The relay this node tells the others through.
#[derive(Debug, Clone)]
pub enum NodeRelay {
    /// PostgreSQL `LISTEN/NOTIFY` (the default).
    Postgres(Arc<PgRelay>),
    /// NATS subjects (`CHAT_NATS_URL`).
    Nats(Arc<NatsRelay>),
}

impl NodeRelay {
    /// The relay the settings ask for. NATS must answer now (the node does not start
    /// without the relay it was told to use); PostgreSQL's connects on its own threads.
    pub async fn start(settings: &Settings, node: Uuid) -> anyhow::Result<Self> {
        match &settings.nats_url {
            Some(url) => {
                let relay = NatsRelay::connect_with_prefix(
                    url.expose(),
                    node,
                    &settings.nats_subject_prefix,
                )
                .await
                .context("CHAT_NATS_URL is set: the node starts once NATS answers")?;
                tracing::info!("live events relayed through NATS");
                Ok(Self::Nats(Arc::new(relay)))
            }
            None => Ok(Self::Postgres(Arc::new(PgRelay::new(
                &settings.database_url()?,
                node,
            )?))),
        }
    }

    /// The relay as the hub sends through it.
    pub fn sender(&self) -> Arc<dyn EventRelay> {
        match self {
            Self::Postgres(relay) => relay.clone(),
            Self::Nats(relay) => relay.clone(),
        }
    }

    /// Hands what other nodes send to `inbox`, from now on.
    pub async fn listen(&self, inbox: Arc<dyn RelayInbox>) -> anyhow::Result<()> {
        match self {
            Self::Postgres(relay) => relay.listen(inbox, Duration::from_millis(5)),
            Self::Nats(relay) => relay.listen(inbox).await,
        }
    }
}

/// Presence and allowances: in Redis with `CHAT_REDIS_URL`, else presence in
/// PostgreSQL and each node's own buckets.
pub struct Shared {
    pub presence: Arc<dyn PresenceStore>,
    pub buckets: Option<Arc<dyn SharedBuckets>>,
}

impl Shared {
    /// What the settings ask for, over `store`. Redis must answer now.
    pub async fn connect(settings: &Settings, store: &PgStore) -> anyhow::Result<Self> {
        let Some(url) = &settings.redis_url else {
            return Ok(Self {
                presence: Arc::new(store.clone()),
                buckets: None,
            });
        };
        let conn = chat_redis::connect(url.expose())
            .await
            .context("CHAT_REDIS_URL is set: the node starts once Redis answers")?;
        let members: Arc<dyn RoomStore> = Arc::new(store.clone());
        // Redis answers who is online; PostgreSQL's sessions are still written for what
        // reads them in SQL (shown availability, offline members of webhooks).
        let presence = MirroredPresence::new(
            Arc::new(RedisPresence::new(conn.clone(), members).with_prefix(&settings.redis_prefix)),
            Arc::new(store.clone()),
        );
        tracing::info!("presence and rate-limit allowances shared through Redis");
        Ok(Self {
            presence: Arc::new(presence),
            buckets: Some(Arc::new(RedisBuckets(
                RedisAllowances::new(conn).with_prefix(&settings.redis_prefix),
            ))),
        })
    }
}

/// The credentials' allowances in Redis, as the HTTP limits ask for them.
#[derive(Debug)]
struct RedisBuckets(RedisAllowances);

impl SharedBuckets for RedisBuckets {
    fn take<'a>(
        &'a self,
        key: &'a TokenHash,
        buckets: &'a [(Bucket, Rate)],
    ) -> BoxFuture<'a, anyhow::Result<Verdict>> {
        Box::pin(async move {
            let hash = key_text(key);
            let keys: Vec<String> = buckets
                .iter()
                .map(|(bucket, _)| format!("{}:{hash}", bucket.as_str()))
                .collect();
            let allowances: Vec<Allowance<'_>> = keys
                .iter()
                .zip(buckets)
                .map(|(key, (_, rate))| Allowance {
                    key,
                    per_sec: rate.per_sec,
                    burst: rate.burst,
                })
                .collect();
            let (last, step) = self.0.take_in_turn(&allowances).await?;
            let burst = buckets.get(last).map_or(1, |(_, rate)| rate.burst);
            Ok(Verdict::new(
                burst.max(1),
                step.remaining,
                step.reset_after,
                step.retry_after,
            ))
        })
    }
}
