//! The server under test: [`TestApp`] (a real `chatd` on port 0 over its own database),
//! how it reads each [`Reply`] (checked against the OpenAPI document the server serves),
//! and the credentials every test server accepts.

use std::path::PathBuf;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use awc::http::Method;
use chat_test_db::TestDatabase;
use chatd::{Application, LogFormat, RateSettings, Secret, Settings};
use serde_json::Value;

use crate::database::{migrated_database, run_sql};
use crate::openapi::{api_document, assert_documented, remember_document};
/// Re-exported: the harness's modules name it as `crate::app::Reply`.
pub use crate::reply::Reply;

/// The secret every test server signs file URLs with.
pub const URL_SECRET: &str = "test-url-secret-0123456789abcdef0123456789abcdef";

/// The platform token every test server is configured with.
pub const PLATFORM_TOKEN: &str = "test-platform-token-0123456789abcdef0123456789";

/// The key every test server derives signing secrets from (`CHAT_SECRET_KEY`).
pub const SECRET_KEY: &str = "test-secret-key-0123456789abcdef0123456789abcdef";

/// A running server with its own database. Stops the server and drops the database on drop.
pub struct TestApp {
    pub address: String,
    pub client: awc::Client,
    handle: ServerHandle,
    storage: PathBuf,
    _db: TestDatabase,
}

/// Settings of a test server: port 0, its own database, the test platform token and
/// secret key.
pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        database_url: Some(Secret::new(database_url)),
        nats_url: None,
        nats_subject_prefix: "chat.events".to_owned(),
        redis_url: None,
        redis_prefix: "chat:".to_owned(),
        bind: "127.0.0.1:0".parse().expect("a valid address"),
        platform_token: Some(Secret::new(PLATFORM_TOKEN)),
        secret_key: Some(Secret::new(SECRET_KEY)),
        db_pool_size: 4,
        db_timeout_secs: 3,
        search_concurrency: 0,
        json_limit: 1024 * 1024,
        url_secret: Some(Secret::new(URL_SECRET)),
        storage_dir: PathBuf::from("target/test-storage"),
        max_files_per_message: 15,
        max_file_bytes: 40 * 1024 * 1024,
        max_avatar_bytes: 15 * 1024 * 1024,
        max_upload_bytes: chat_http::DEFAULT_UPLOAD_LIMIT,
        file_url_ttl_secs: 3600,
        public_url: None,
        app_dir: None,
        ws_heartbeat_secs: 15,
        ws_idle_secs: 45,
        ws_queue: 256,
        ws_send_timeout_secs: 10,
        presence_ttl_secs: 30,
        presence_heartbeat_secs: 10,
        credential_cache_secs: 5,
        workers: 1,
        // Deliveries to the receiver inside the test (127.0.0.1), retried within seconds.
        webhook_retry_schedule: "1,1,1,1".to_owned(),
        webhook_log_days: 7,
        webhook_allow_private: true,
        offline_notice_secs: 60,
        log_format: LogFormat::Text,
        // Generous, so that no test meets a limit it does not look for.
        rate: RateSettings {
            rate_per_sec: 100_000,
            rate_burst: 100_000,
            rate_sends_per_sec: 100_000,
            rate_sends_burst: 100_000,
            rate_auth_failures_per_min: 100_000,
            ..RateSettings::default()
        },
    }
}

impl TestApp {
    /// A server with the default test settings.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A server whose settings `customise` may change.
    pub async fn spawn_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
        let db = migrated_database();
        let mut settings = test_settings(db.url());
        settings.storage_dir = std::env::temp_dir().join("chat-tests").join(db.name());
        customise(&mut settings);
        let storage = settings.storage_dir.clone();
        let application = Application::build(settings)
            .await
            .expect("the application builds");
        let address = format!("http://127.0.0.1:{}", application.port());
        let handle = application.handle();
        actix_web::rt::spawn(application.run_until_stopped());
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish();
        TestApp {
            address,
            client,
            handle,
            storage,
            _db: db,
        }
    }

    /// Where the server stores files.
    pub fn storage_dir(&self) -> &std::path::Path {
        &self.storage
    }

    /// The server's own database (e.g. to take it away with `drop_now`).
    pub fn database(&self) -> &TestDatabase {
        &self._db
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The URL of this server's own database (for checks of what is stored).
    pub fn database_url(&self) -> &str {
        self._db.url()
    }

    /// Sends `body` (raw bytes, if any) with `headers`, and reads the whole reply.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut request = self.client.request(method.clone(), self.url(path));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let response = match body {
            Some(bytes) => request
                .insert_header(("content-type", "application/json"))
                .send_body(bytes)
                .await
                .expect("the request is answered"),
            None => request.send().await.expect("the request is answered"),
        };
        self.reply(&method, path, response).await
    }

    /// Reads `response` whole, and checks it against the OpenAPI document the server
    /// serves (fetched once per test process): every reply a test reads is one the
    /// document describes, or the test fails naming the route, status, body and problem.
    pub async fn reply<S>(
        &self,
        method: &Method,
        path: &str,
        mut response: awc::ClientResponse<S>,
    ) -> Reply
    where
        S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
    {
        let body = response
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .expect("the body is read");
        let reply = Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: body.to_vec(),
        };
        let document = match api_document() {
            Some(document) => document,
            None => remember_document(self.fetch_document().await),
        };
        assert_documented(document, method, path, &reply);
        reply
    }

    /// The server's `/openapi.json`, unchecked.
    pub async fn fetch_document(&self) -> Value {
        let mut response = self
            .client
            .get(self.url("/openapi.json"))
            .send()
            .await
            .expect("the document is served");
        let body = response
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .expect("the document is read");
        serde_json::from_slice(&body).expect("the document is JSON")
    }

    /// Sends `body` as JSON.
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Reply {
        let bytes = serde_json::to_vec(body).expect("JSON serialises");
        self.send(method, path, headers, Some(bytes)).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, headers, None).await
    }

    /// Creates an account with the platform API; answers its JSON (with `api_key`).
    pub async fn create_account(&self, name: &str) -> Value {
        let reply = self
            .json(
                Method::POST,
                "/platform/api/v1/accounts",
                &[platform_auth()],
                &serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    /// Creates a user of `account_id`; answers its JSON (with `access_token`).
    pub async fn create_user(&self, account_id: i64, body: Value) -> Value {
        let reply = self
            .json(
                Method::POST,
                &format!("/platform/api/v1/accounts/{account_id}/users"),
                &[platform_auth()],
                &body,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting at once; the database is dropped after (it forces connections closed).
        drop(self.handle.stop(false));
        if let Err(error) = std::fs::remove_dir_all(&self.storage)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            eprintln!("could not remove {}: {error}", self.storage.display());
        }
    }
}

/// The platform token as a bearer credential.
pub fn platform_auth() -> (&'static str, &'static str) {
    ("authorization", BEARER_PLATFORM)
}

const BEARER_PLATFORM: &str = "Bearer test-platform-token-0123456789abcdef0123456789";

/// A credential as an `X-API-Key` header.
pub fn api_key_header(key: &str) -> (&'static str, &str) {
    ("x-api-key", key)
}

impl TestApp {
    /// A second server node over this server's database, with the same test settings.
    ///
    /// A `TestApp` drops the database it owns, so this node owns an unused placeholder
    /// database of its own (its `database()` and `database_url()` name that one, not the
    /// one it serves). Declare it after `self`, so that it stops first.
    pub async fn spawn_sharing(&self) -> TestApp {
        self.spawn_sharing_with(|_| {}).await
    }

    /// [`TestApp::spawn_sharing`] with settings that `customise` may change.
    pub async fn spawn_sharing_with(&self, customise: impl FnOnce(&mut Settings)) -> TestApp {
        let placeholder = TestDatabase::new();
        let mut settings = test_settings(self.database_url());
        settings.storage_dir = std::env::temp_dir()
            .join("chat-tests")
            .join(placeholder.name());
        customise(&mut settings);
        let storage = settings.storage_dir.clone();
        let application = Application::build(settings)
            .await
            .expect("the second node builds");
        let address = format!("http://127.0.0.1:{}", application.port());
        let handle = application.handle();
        actix_web::rt::spawn(application.run_until_stopped());
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish();
        TestApp {
            address,
            client,
            handle,
            storage,
            _db: placeholder,
        }
    }
}

impl TestApp {
    /// Runs `sql` on the server's own database ([`run_sql`]).
    pub fn sql(&self, sql: &str) -> String {
        run_sql(self.database_url(), sql)
    }

    /// How many rows `table` holds.
    pub fn count_rows(&self, table: &str) -> i64 {
        let text = self.sql(&format!("SELECT count(*) FROM {table}"));
        text.parse()
            .unwrap_or_else(|_| panic!("not a count: {text}"))
    }
}
