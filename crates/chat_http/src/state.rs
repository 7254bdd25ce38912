//! What every handler can reach, and the defaults of its limits.

use std::sync::Arc;

use chat_app::{ChatApp, EndUsers, WebhookDelivery, Webhooks};

use crate::limits::RateLimits;
use crate::live::Live;
use crate::observe::Metrics;
use crate::signing::UrlSigner;

/// Default limit of a JSON request body: 1 MiB.
pub const DEFAULT_JSON_LIMIT: usize = 1024 * 1024;

/// Default limit of a body with files: 15 files of 40 MiB, and 1 MiB for the rest.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 15 * 40 * 1024 * 1024 + 1024 * 1024;

/// Default lifetime of a handed-out file URL: one hour.
pub const DEFAULT_FILE_URL_TTL_SECS: i64 = 3600;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    pub app: ChatApp,
    /// End users and their own credentials (`/api/v1/users`, the signing secret).
    pub end_users: EndUsers,
    /// Webhooks (`/api/v1/webhooks`, `/api/v1/accounts/{account_id}/webhooks`).
    pub webhooks: Webhooks,
    /// The deliveries of webhooks, for `/metrics` (this node's counts, every node's
    /// backlog).
    pub delivery: WebhookDelivery,
    /// Signs and checks the URLs of stored files.
    pub signer: UrlSigner,
    /// Largest accepted JSON body, in bytes.
    pub json_limit: usize,
    /// Largest accepted body with files (multipart), in bytes.
    pub upload_limit: u64,
    /// The base of file URLs handed out (`https://chat.example.com`); `None` for the
    /// scheme and host each request came to.
    pub public_url: Option<String>,
    /// How long handed-out file URLs work, in seconds.
    pub file_url_ttl_secs: i64,
    /// Live connections; `None` serves no WebSocket (they close with 1011).
    pub live: Option<Arc<Live>>,
    pub metrics: Metrics,
    /// The rate limits' buckets.
    pub limits: std::sync::Arc<RateLimits>,
    /// Where the web client's files are read from on each request (development);
    /// `None` serves the copies embedded in the binary.
    pub app_dir: Option<std::path::PathBuf>,
}
