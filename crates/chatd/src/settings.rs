//! Settings, read once from the environment (flags override) and passed down.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// A value that must never be printed: `Debug` shows `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Everything the server needs to run.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// PostgreSQL URL, e.g. postgres://user@127.0.0.1:5432/chat
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<Secret>,

    /// NATS URL (nats://host:4222): nodes relay live events through NATS instead of
    /// PostgreSQL LISTEN/NOTIFY. Unset: PostgreSQL.
    #[arg(long, env = "CHAT_NATS_URL", hide_env_values = true, global = true)]
    pub nats_url: Option<Secret>,

    /// The NATS subjects' prefix: deployments sharing one NATS each take their own.
    #[arg(long, env = "CHAT_NATS_SUBJECT_PREFIX", default_value = chat_relay_nats::SUBJECT_PREFIX, global = true)]
    pub nats_subject_prefix: String,

    /// Redis URL (redis://host:6379): presence and rate-limit allowances are kept in
    /// Redis, shared by every node. Unset: presence in PostgreSQL, allowances per node.
    #[arg(long, env = "CHAT_REDIS_URL", hide_env_values = true, global = true)]
    pub redis_url: Option<Secret>,

    /// The Redis keys' prefix: deployments sharing one Redis each take their own.
    #[arg(long, env = "CHAT_REDIS_PREFIX", default_value = chat_redis::DEFAULT_PREFIX, global = true)]
    pub redis_prefix: String,

    /// Address to listen on.
    #[arg(
        long,
        env = "CHAT_BIND",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub bind: SocketAddr,

    /// The operator's platform token (at least 32 characters). Without it, platform routes answer 401.
    #[arg(
        long,
        env = "CHAT_PLATFORM_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub platform_token: Option<Secret>,

    /// The server's secret key (at least 32 characters; the same on every node), from
    /// which each client's JWT signing secret is derived. Without it, signing secrets
    /// cannot be made (503) and every signed token is refused; changing it invalidates
    /// every signing secret.
    #[arg(long, env = "CHAT_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<Secret>,

    /// Largest number of database connections.
    #[arg(long, env = "CHAT_DB_POOL_SIZE", default_value_t = 16, global = true)]
    pub db_pool_size: u32,

    /// Seconds to wait for a database connection before answering 503.
    #[arg(long, env = "CHAT_DB_TIMEOUT_SECS", default_value_t = 3, global = true)]
    pub db_timeout_secs: u64,

    /// Most message searches run at once (0: one per CPU core); more wait their turn,
    /// first come first served.
    #[arg(
        long,
        env = "CHAT_SEARCH_CONCURRENCY",
        default_value_t = 0,
        global = true
    )]
    pub search_concurrency: usize,

    /// Largest JSON request body, in bytes.
    #[arg(long, env = "CHAT_JSON_LIMIT", default_value_t = chat_http::DEFAULT_JSON_LIMIT, global = true)]
    pub json_limit: usize,

    /// Secret that signs the URLs of stored files (at least 32 characters; the same on every
    /// node). Without it, a random one is made at start and links die with the process.
    #[arg(long, env = "CHAT_URL_SECRET", hide_env_values = true, global = true)]
    pub url_secret: Option<Secret>,

    /// Directory for stored files (attachments, avatars).
    #[arg(
        long,
        env = "CHAT_STORAGE_DIR",
        default_value = "storage",
        global = true
    )]
    pub storage_dir: PathBuf,

    /// Files one message may carry.
    #[arg(
        long,
        env = "CHAT_MAX_FILES_PER_MESSAGE",
        default_value_t = 15,
        global = true
    )]
    pub max_files_per_message: usize,

    /// Largest attached file, in bytes (40 MiB).
    #[arg(long, env = "CHAT_MAX_FILE_BYTES", default_value_t = 40 * 1024 * 1024, global = true)]
    pub max_file_bytes: u64,

    /// Largest room avatar, in bytes (15 MiB).
    #[arg(long, env = "CHAT_MAX_AVATAR_BYTES", default_value_t = 15 * 1024 * 1024, global = true)]
    pub max_avatar_bytes: u64,

    /// Largest request body carrying files, in bytes (15 × 40 MiB + 1 MiB).
    #[arg(long, env = "CHAT_MAX_UPLOAD_BYTES", default_value_t = chat_http::DEFAULT_UPLOAD_LIMIT, global = true)]
    pub max_upload_bytes: u64,

    /// How long the file URLs handed out (data_url, avatar_url) work, in seconds.
    #[arg(long, env = "CHAT_FILE_URL_TTL_SECS", default_value_t = chat_http::DEFAULT_FILE_URL_TTL_SECS, global = true)]
    pub file_url_ttl_secs: i64,

    /// The public base URL file links start with (e.g. `https://chat.example.com`). Without
    /// it, links use the scheme and host each request came to.
    #[arg(long, env = "CHAT_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Serve the web client (`/app/`) from this folder, read on each request, instead of
    /// the copy built into the binary: for working on the client
    /// (`crates/chat_http/assets/app`).
    #[arg(long, env = "CHAT_APP_DIR", global = true)]
    pub app_dir: Option<std::path::PathBuf>,

    /// Seconds between the server's pings on a WebSocket.
    #[arg(
        long,
        env = "CHAT_WS_HEARTBEAT_SECS",
        default_value_t = 15,
        global = true
    )]
    pub ws_heartbeat_secs: u64,

    /// Seconds of silence (no frame, no pong) after which a WebSocket is closed.
    #[arg(long, env = "CHAT_WS_IDLE_SECS", default_value_t = 45, global = true)]
    pub ws_idle_secs: u64,

    /// Events a WebSocket may have waiting; a client that falls further behind is closed
    /// (1013) and may reconnect with since_seq.
    #[arg(long, env = "CHAT_WS_QUEUE", default_value_t = 256, global = true)]
    pub ws_queue: usize,

    /// Seconds one frame may wait to go out to a WebSocket client before the socket is
    /// closed as too slow (1013); a connection that takes no byte for this long plus 2 s
    /// is dropped by the kernel.
    #[arg(
        long,
        env = "CHAT_WS_SEND_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub ws_send_timeout_secs: u64,

    /// Seconds a presence session lives without its node's heartbeat (a node that dies
    /// takes its users offline within this).
    #[arg(
        long,
        env = "CHAT_PRESENCE_TTL_SECS",
        default_value_t = 30,
        global = true
    )]
    pub presence_ttl_secs: u64,

    /// Seconds between a node's presence heartbeats.
    #[arg(
        long,
        env = "CHAT_PRESENCE_HEARTBEAT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub presence_heartbeat_secs: u64,

    /// Seconds a credential found in the database is remembered (0: look up every
    /// request). Changes made on this node apply at once; another node's within this.
    #[arg(
        long,
        env = "CHAT_CREDENTIAL_CACHE_SECS",
        default_value_t = 5,
        global = true
    )]
    pub credential_cache_secs: u64,

    /// HTTP worker threads (0: one per CPU core).
    #[arg(long, env = "CHAT_WORKERS", default_value_t = 0, global = true)]
    pub workers: usize,

    /// Seconds between a failed webhook delivery and its next attempt, one per retry
    /// (comma-separated); once they are spent the delivery has failed.
    #[arg(
        long,
        env = "CHAT_WEBHOOK_RETRY_SCHEDULE",
        default_value = "30,120,480,1920",
        global = true
    )]
    pub webhook_retry_schedule: String,

    /// Days the webhook delivery log (and finished deliveries) are kept.
    #[arg(
        long,
        env = "CHAT_WEBHOOK_LOG_DAYS",
        default_value_t = 7,
        global = true
    )]
    pub webhook_log_days: u64,

    /// Allow webhook URLs that resolve to loopback, private, link-local and other
    /// non-public addresses (`1`/`true`); refused by default.
    #[arg(
        long,
        env = "CHAT_WEBHOOK_ALLOW_PRIVATE",
        default_value_t = false,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
        global = true
    )]
    pub webhook_allow_private: bool,

    /// Seconds within which a member gets at most one `message.unread_offline` per room.
    #[arg(
        long,
        env = "CHAT_OFFLINE_NOTICE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub offline_notice_secs: u64,

    /// Log line format.
    #[arg(long, env = "CHAT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Rate limits.
    #[command(flatten)]
    pub rate: RateSettings,
}

/// Rate limits (`CHAT_RATE_*`): allowances per credential, and of failed authentications
/// per client address. The defaults are never met by a normal client.
#[derive(Debug, Clone, Args)]
pub struct RateSettings {
    /// Requests a second of one credential (sends included).
    #[arg(long, env = "CHAT_RATE_PER_SEC", default_value_t = chat_http::limits::DEFAULT_REQUESTS.per_sec, global = true)]
    pub rate_per_sec: u32,

    /// Requests one credential may make at once, before the per-second rate applies.
    #[arg(long, env = "CHAT_RATE_BURST", default_value_t = chat_http::limits::DEFAULT_REQUESTS.burst, global = true)]
    pub rate_burst: u32,

    /// Sends (POST of a message) a second of one credential.
    #[arg(long, env = "CHAT_RATE_SENDS_PER_SEC", default_value_t = chat_http::limits::DEFAULT_SENDS.per_sec, global = true)]
    pub rate_sends_per_sec: u32,

    /// Sends one credential may make at once.
    #[arg(long, env = "CHAT_RATE_SENDS_BURST", default_value_t = chat_http::limits::DEFAULT_SENDS.burst, global = true)]
    pub rate_sends_burst: u32,

    /// Failed authentications (401) a minute of one client address; past it, the address
    /// is refused (429) even with a right credential until its allowance refills.
    #[arg(long, env = "CHAT_RATE_AUTH_FAILURES_PER_MIN", default_value_t = chat_http::limits::DEFAULT_AUTH_FAILURES_PER_MIN, global = true)]
    pub rate_auth_failures_per_min: u32,

    /// For tests: every credential's allowances (requests and sends) become N a second,
    /// N at once.
    #[arg(long, env = "CHAT_RATE_LIMIT_PER_SEC", global = true)]
    pub rate_limit_per_sec: Option<u32>,

    /// WebSockets one user may have open on this node (room sockets and user streams
    /// together); one more is closed with 4004 at open. Counted per node.
    #[arg(long, env = "CHAT_RATE_WS_SOCKETS_PER_USER", default_value_t = chat_http::live::DEFAULT_SOCKETS_PER_USER, global = true)]
    pub rate_ws_sockets_per_user: u32,

    /// Client frames one WebSocket may send a second, on average; past the burst, frames
    /// are answered `rate_limited`, and 20 refused in a row close the socket with 4004.
    #[arg(long, env = "CHAT_RATE_WS_FRAMES_PER_SEC", default_value_t = chat_http::live::DEFAULT_FRAMES_PER_SECOND, global = true)]
    pub rate_ws_frames_per_sec: u32,

    /// Client frames one WebSocket may send at once before the rate applies.
    #[arg(long, env = "CHAT_RATE_WS_FRAMES_BURST", default_value_t = chat_http::live::DEFAULT_FRAME_BURST, global = true)]
    pub rate_ws_frames_burst: u32,

    /// Proxies (IPs or CIDR networks, comma-separated) whose X-Forwarded-For names the
    /// client; without them, the peer is the client.
    #[arg(long, env = "CHAT_TRUSTED_PROXIES", default_value = "", global = true)]
    pub trusted_proxies: chat_http::limits::TrustedProxies,
}

impl Default for RateSettings {
    fn default() -> Self {
        use chat_http::limits::{DEFAULT_AUTH_FAILURES_PER_MIN, DEFAULT_REQUESTS, DEFAULT_SENDS};
        Self {
            rate_per_sec: DEFAULT_REQUESTS.per_sec,
            rate_burst: DEFAULT_REQUESTS.burst,
            rate_sends_per_sec: DEFAULT_SENDS.per_sec,
            rate_sends_burst: DEFAULT_SENDS.burst,
            rate_auth_failures_per_min: DEFAULT_AUTH_FAILURES_PER_MIN,
            rate_limit_per_sec: None,
            rate_ws_sockets_per_user: chat_http::live::DEFAULT_SOCKETS_PER_USER,
            rate_ws_frames_per_sec: chat_http::live::DEFAULT_FRAMES_PER_SECOND,
            rate_ws_frames_burst: chat_http::live::DEFAULT_FRAME_BURST,
            trusted_proxies: chat_http::limits::TrustedProxies::default(),
        }
    }
}

impl RateSettings {
    /// The allowances the HTTP layer applies.
    pub fn config(&self) -> chat_http::limits::RateConfig {
        use chat_http::limits::Rate;
        let (requests, sends) = match self.rate_limit_per_sec {
            Some(n) => {
                let rate = Rate {
                    per_sec: n,
                    burst: n,
                };
                (rate, rate)
            }
            None => (
                Rate {
                    per_sec: self.rate_per_sec,
                    burst: self.rate_burst,
                },
                Rate {
                    per_sec: self.rate_sends_per_sec,
                    burst: self.rate_sends_burst,
                },
            ),
        };
        chat_http::limits::RateConfig {
            requests,
            sends,
            auth_failures_per_min: self.rate_auth_failures_per_min,
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

impl Settings {
    /// The database's URL (`DATABASE_URL`), or an error naming what is missing.
    ///
    /// A URL over loopback that names no `sslmode` gets `sslmode=disable`
    /// ([`chat_store_pg::with_default_sslmode`]).
    pub fn database_url(&self) -> anyhow::Result<std::borrow::Cow<'_, str>> {
        self.database_url
            .as_ref()
            .map(|url| chat_store_pg::with_default_sslmode(url.expose()))
            .ok_or_else(|| anyhow::anyhow!("DATABASE_URL is not set (or pass --database-url)"))
    }

    /// The upload limits the use cases apply.
    pub fn upload_limits(&self) -> chat_app::UploadLimits {
        chat_app::UploadLimits {
            files_per_message: self.max_files_per_message,
            file_bytes: self.max_file_bytes,
            avatar_bytes: self.max_avatar_bytes,
        }
    }

    /// How the live hub behaves.
    pub fn hub_config(&self) -> chat_realtime::HubConfig {
        chat_realtime::HubConfig {
            queue_capacity: self.ws_queue.max(1),
            presence_ttl: Duration::from_secs(self.presence_ttl_secs.max(1)),
            presence_heartbeat: Duration::from_secs(self.presence_heartbeat_secs.max(1)),
            ..chat_realtime::HubConfig::default()
        }
    }

    /// How WebSockets behave.
    pub fn live_settings(&self) -> chat_http::live::LiveSettings {
        chat_http::live::LiveSettings {
            heartbeat: Duration::from_secs(self.ws_heartbeat_secs.max(1)),
            idle_timeout: Duration::from_secs(self.ws_idle_secs.max(1)),
            send_timeout: Duration::from_secs(self.ws_send_timeout_secs.max(1)),
            sockets_per_user: self.rate.rate_ws_sockets_per_user.max(1),
            frames_per_second: self.rate.rate_ws_frames_per_sec.max(1),
            frame_burst: self.rate.rate_ws_frames_burst.max(1),
            ..chat_http::live::LiveSettings::default()
        }
    }

    /// The key signing secrets are derived from (`CHAT_SECRET_KEY`), if set; a key too
    /// short to be one is an error naming the variable.
    pub fn signing_master(&self) -> anyhow::Result<Option<chat_app::SigningMaster>> {
        self.secret_key
            .as_ref()
            .map(|key| chat_app::SigningMaster::parse(key.expose()))
            .transpose()
            .map_err(|e| anyhow::anyhow!("CHAT_SECRET_KEY {}", e.problem))
    }

    pub fn db_timeout(&self) -> Duration {
        Duration::from_secs(self.db_timeout_secs.max(1))
    }
}
