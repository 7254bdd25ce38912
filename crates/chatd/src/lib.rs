//! The composition root: builds the storage adapter, the use cases and the HTTP
//! server from [`Settings`], and nothing else.

mod scale;
pub mod settings;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix_web::dev::Server;
use anyhow::Context;
pub use chat_app::SweepReport;
use chat_app::{
    ChatApp, DeliveryPorts, DeliverySettings, DiscardEvents, EndUsers, EventPublisher,
    LiveSessions, NobodyOnline, PlatformToken, PresenceStore, WebhookDelivery, Webhooks,
};
use chat_domain::RetrySchedule;
use chat_files_local::LocalFileStore;
use chat_http::HttpOptions;
use chat_http::chatapi::renderer::ChatApiRenderer;
use chat_http::live::Live;
use chat_http::signing::UrlSigner;
use chat_realtime::{Hub, HubStores};
use chat_store_pg::{PgStore, PoolOptions};
use chat_webhooks::AwcSender;
use tokio::sync::oneshot;
use uuid::Uuid;

pub use settings::{LogFormat, RateSettings, Secret, Settings};

/// The storage adapter and the use cases over it, migrated and ready, without live
/// delivery (for operator commands): events are dropped and nobody is online.
pub async fn wire(settings: &Settings) -> anyhow::Result<(PgStore, ChatApp)> {
    let store = connect(settings).await?;
    let (app, _) = use_cases(
        settings,
        &store,
        Arc::new(NobodyOnline),
        Arc::new(DiscardEvents),
    )?;
    Ok((store, app))
}

/// Everything a serving node needs: the store, the use cases publishing to a live hub,
/// and the relay that keeps this node in step with the others.
pub struct Wired {
    pub store: PgStore,
    pub app: ChatApp,
    /// End users and their credentials, over the same credential cache as `app`.
    pub end_users: EndUsers,
    pub live: Live,
    /// Credentials' allowances shared by every node (Redis), when there are any.
    pub shared_buckets: Option<Arc<dyn chat_http::limits::SharedBuckets>>,
    /// Kept for as long as the node serves; dropping it stops its threads.
    relay: scale::NodeRelay,
}

impl std::fmt::Debug for Wired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wired")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

/// Wires a serving node: presence (PostgreSQL, or Redis with `CHAT_REDIS_URL`), a hub
/// for this node's sockets, and the relay between nodes (`LISTEN/NOTIFY`, or NATS with
/// `CHAT_NATS_URL`). Must run on the async runtime (the hub's tasks).
pub async fn wire_live(settings: &Settings) -> anyhow::Result<Wired> {
    let store = connect(settings).await?;
    let node = Uuid::new_v4();
    let relay = scale::NodeRelay::start(settings, node).await?;
    let shared = scale::Shared::connect(settings, &store).await?;
    let presence: Arc<dyn PresenceStore> = shared.presence;
    let stores = HubStores {
        rooms: Arc::new(store.clone()),
        messages: Arc::new(store.clone()),
        users: Arc::new(store.clone()),
        presence: presence.clone(),
    };
    let hub = Hub::start(stores, relay.sender(), node, settings.hub_config());
    relay.listen(Arc::new(hub.clone())).await?;
    let (app, end_users) = use_cases(settings, &store, presence.clone(), Arc::new(hub.clone()))?;
    let sessions = LiveSessions::new(
        app.auth.clone(),
        app.sockets.clone(),
        app.rooms.clone(),
        app.messages.clone(),
        presence,
        Arc::new(hub),
    )
    // Every credential change (this node's or relayed) empties the authenticator's cache
    // before the sockets' credentials are checked again.
    .with_credential_cache(app.credentials.clone());
    tracing::info!(%node, "live delivery started");
    Ok(Wired {
        store,
        app,
        end_users,
        live: Live {
            sessions,
            settings: settings.live_settings(),
        },
        shared_buckets: shared.buckets,
        relay,
    })
}

async fn connect(settings: &Settings) -> anyhow::Result<PgStore> {
    let store = PgStore::connect(
        &settings.database_url()?,
        PoolOptions {
            max_size: settings.db_pool_size.max(1),
            connect_timeout: settings.db_timeout(),
            search_concurrency: match settings.search_concurrency {
                0 => PoolOptions::default().search_concurrency,
                n => n,
            },
        },
    )?;
    migrate(&store).await?;
    Ok(store)
}

/// The use cases over `store`, publishing to `events`, and the end-user use cases
/// beside them (over the same credential cache, so that what they revoke is forgotten
/// at once; with `CHAT_SECRET_KEY`, the authenticator also takes signed tokens).
fn use_cases(
    settings: &Settings,
    store: &PgStore,
    presence: Arc<dyn PresenceStore>,
    events: Arc<dyn EventPublisher>,
) -> anyhow::Result<(ChatApp, EndUsers)> {
    let platform = settings
        .platform_token
        .as_ref()
        .map(|token| PlatformToken::parse(token.expose()))
        .transpose()
        .map_err(|e| anyhow::anyhow!("CHAT_PLATFORM_TOKEN {}", e.problem))?;
    if platform.is_none() {
        tracing::warn!("CHAT_PLATFORM_TOKEN is not set: platform routes will answer 401");
    }
    let files = LocalFileStore::new(settings.storage_dir.clone()).with_context(|| {
        format!(
            "cannot use {} to store files (CHAT_STORAGE_DIR)",
            settings.storage_dir.display()
        )
    })?;
    let master = settings.signing_master()?;
    if master.is_none() {
        tracing::warn!(
            "CHAT_SECRET_KEY is not set: signing secrets cannot be made (503) and signed \
             tokens (JWT) are refused"
        );
    }
    let shared = Arc::new(store.clone());
    let (app, end_users) = ChatApp::with_credential_cache(
        shared.clone(),
        Arc::new(files),
        settings.upload_limits(),
        presence,
        events,
        platform,
        Duration::from_secs(settings.credential_cache_secs),
    )
    .with_end_users(shared.clone(), shared, master);
    Ok((app, end_users))
}

/// The webhook use cases and the deliveries behind them, over `store`: deliveries go
/// out through awc (private addresses refused unless `CHAT_WEBHOOK_ALLOW_PRIVATE`), and
/// their `data` is rendered as the ChatAPI renders it, file URLs starting with `base`.
pub fn webhooks(
    settings: &Settings,
    store: &PgStore,
    signer: UrlSigner,
    base: String,
) -> anyhow::Result<(Webhooks, WebhookDelivery)> {
    let schedule = RetrySchedule::parse(&settings.webhook_retry_schedule)
        .map_err(|e| anyhow::anyhow!("CHAT_WEBHOOK_RETRY_SCHEDULE {e}"))?;
    if settings.webhook_allow_private {
        tracing::warn!(
            "CHAT_WEBHOOK_ALLOW_PRIVATE is set: webhooks may deliver to loopback and private \
             addresses"
        );
    }
    let shared = Arc::new(store.clone());
    let renderer = ChatApiRenderer::new(base, signer, settings.file_url_ttl_secs.max(1));
    let delivery = WebhookDelivery::new(
        DeliveryPorts {
            store: shared.clone(),
            sender: Arc::new(AwcSender::new(settings.webhook_allow_private)),
            renderer: Arc::new(renderer),
            rooms: shared.clone(),
            messages: shared.clone(),
            users: shared,
        },
        DeliverySettings {
            schedule,
            coalesce: Duration::from_secs(settings.offline_notice_secs),
            log_retention: Duration::from_secs(settings.webhook_log_days.saturating_mul(86_400)),
            ..DeliverySettings::default()
        },
    );
    Ok((Webhooks::new(delivery.clone()), delivery))
}

/// Deletes stored files that no attachment or avatar refers to and that are older than
/// `grace` (files whose row is being written right now are younger).
pub async fn sweep_files(settings: &Settings, grace: Duration) -> anyhow::Result<SweepReport> {
    let (store, app) = wire(settings).await?;
    let report = app
        .files
        .sweep(&store, grace, SystemTime::now())
        .await
        .map_err(|e| anyhow::anyhow!("the sweep stopped: {e}"))?;
    tracing::info!(
        examined = report.examined,
        deleted = report.deleted,
        "orphan files swept"
    );
    Ok(report)
}

/// Applies pending migrations (off the async threads).
pub async fn migrate(store: &PgStore) -> anyhow::Result<Vec<String>> {
    let store = store.clone();
    let applied = actix_web::web::block(move || store.run_migrations())
        .await
        .context("migration task failed")??;
    for version in &applied {
        tracing::info!(version = %version, "migration applied");
    }
    Ok(applied)
}

/// The signer of stored files' URLs: from `CHAT_URL_SECRET`, else a random secret (links
/// then die with the process and differ between nodes, which is said in the log).
pub fn url_signer(settings: &Settings) -> anyhow::Result<UrlSigner> {
    match &settings.url_secret {
        Some(secret) if secret.expose().chars().count() >= 32 => {
            Ok(UrlSigner::new(secret.expose().as_bytes()))
        }
        Some(_) => anyhow::bail!("CHAT_URL_SECRET must be at least 32 characters of random text"),
        None => {
            tracing::warn!(
                "CHAT_URL_SECRET is not set: file links are signed with a random secret and \
                 stop working when this process stops"
            );
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            Ok(UrlSigner::new(&secret))
        }
    }
}

/// A built server, bound to its port, not yet running; its webhook deliveries have
/// started.
pub struct Application {
    port: u16,
    server: Server,
    /// The node's hub and relay live as long as it serves.
    _wired: Wired,
    /// The webhook delivery loop, stopped when this is sent or dropped.
    stop_deliveries: oneshot::Sender<()>,
    deliveries: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connects and migrates the database, binds `settings.bind` (port 0 picks a free one)
    /// and builds the HTTP server.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let wired = wire_live(&settings).await?;
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let local = listener.local_addr()?;
        let port = local.port();
        let signer = url_signer(&settings)?;
        let base = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"));
        let (webhooks, delivery) = webhooks(&settings, &wired.store, signer.clone(), base)?;
        let (stop_deliveries, stopped) = oneshot::channel::<()>();
        let deliveries = delivery.clone().spawn(async move {
            // Sent or dropped: either way, stop.
            let _ = stopped.await;
        });
        let server = chat_http::serve(
            listener,
            wired.app.clone(),
            wired.end_users.clone(),
            (webhooks, delivery),
            HttpOptions {
                live: Some(wired.live.clone()),
                json_limit: settings.json_limit,
                upload_limit: settings.max_upload_bytes,
                public_url: settings.public_url.clone(),
                file_url_ttl_secs: settings.file_url_ttl_secs.max(1),
                workers: settings.workers,
                rate: settings.rate.config(),
                app_dir: settings.app_dir.clone(),
                shared_buckets: wired.shared_buckets.clone(),
                ..HttpOptions::new(signer)
            },
        )?;
        Ok(Self {
            port,
            server,
            _wired: wired,
            stop_deliveries,
            deliveries,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM (or the handle) stops it, then stops the webhook
    /// deliveries (a delivery in flight is cut off; its lease runs out and another node,
    /// or the next start, makes it again).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        let _ = self.stop_deliveries.send(());
        if let Err(error) = self.deliveries.await {
            tracing::warn!(error = %error, "the webhook delivery loop ended abnormally");
        }
        served
    }
}

/// Installs the global log subscriber: `RUST_LOG` filter (default `info`), text or JSON.
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    if let Err(error) = result {
        eprintln!("logging was already initialised: {error}");
    }
}
