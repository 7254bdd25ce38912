//! The harness of the black-box tests: a real `chatd` application on port 0, over a
//! fresh PostgreSQL database of its own, and an HTTP client to speak to it.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test harness: failing loudly is the point

use std::path::PathBuf;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use awc::http::Method;
use awc::http::header::HeaderMap;
use chat_test_db::TestDatabase;
use chatd::{Application, LogFormat, Secret, Settings};
use serde_json::Value;

/// The secret every test server signs file URLs with.
pub const URL_SECRET: &str = "test-url-secret-0123456789abcdef0123456789abcdef";

/// The platform token every test server is configured with.
pub const PLATFORM_TOKEN: &str = "test-platform-token-0123456789abcdef0123456789";

/// A running server with its own database. Stops the server and drops the database on drop.
pub struct TestApp {
    pub address: String,
    pub client: awc::Client,
    handle: ServerHandle,
    storage: PathBuf,
    _db: TestDatabase,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON; panics with the body text when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Settings of a test server: port 0, its own database, the test platform token.
pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        database_url: Some(Secret::new(database_url)),
        bind: "127.0.0.1:0".parse().expect("a valid address"),
        platform_token: Some(Secret::new(PLATFORM_TOKEN)),
        db_pool_size: 4,
        db_timeout_secs: 3,
        json_limit: 1024 * 1024,
        url_secret: Some(Secret::new(URL_SECRET)),
        storage_dir: PathBuf::from("target/test-storage"),
        max_files_per_message: 15,
        max_file_bytes: 40 * 1024 * 1024,
        max_avatar_bytes: 15 * 1024 * 1024,
        max_upload_bytes: chat_http::DEFAULT_UPLOAD_LIMIT,
        file_url_ttl_secs: 3600,
        public_url: None,
        ws_heartbeat_secs: 15,
        ws_idle_secs: 45,
        ws_queue: 256,
        presence_ttl_secs: 30,
        presence_heartbeat_secs: 10,
        credential_cache_secs: 5,
        workers: 1,
        log_format: LogFormat::Text,
    }
}

impl TestApp {
    /// A server with the default test settings.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A server whose settings `customise` may change.
    pub async fn spawn_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDatabase::new();
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
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let mut response = match body {
            Some(bytes) => request
                .insert_header(("content-type", "application/json"))
                .send_body(bytes)
                .await
                .expect("the request is answered"),
            None => request.send().await.expect("the request is answered"),
        };
        let body = response
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .expect("the body is read");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: body.to_vec(),
        }
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

/// `value[key]` as a string; panics when absent.
pub fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {value}"))
}

/// Asserts `text` is a UUID in its canonical lowercase hyphenated form.
pub fn assert_uuid(text: &str) {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    assert_eq!(lengths, [8, 4, 4, 4, 12], "not a UUID: {text:?}");
    assert!(
        groups.iter().all(|g| g
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))),
        "not a lowercase hex UUID: {text:?}"
    );
}

/// Asserts `text` is `prefix` followed by 64 lowercase hex digits (a 256-bit secret).
pub fn assert_secret(text: &str, prefix: &str) {
    let hex = text
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{text:?} does not start with {prefix:?}"));
    assert_eq!(hex.len(), 64, "{text:?} is not {prefix} + 64 hex digits");
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{text:?} is not {prefix} + 64 lowercase hex digits"
    );
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(elapsed.as_secs()).expect("seconds fit in i64")
}

/// Asserts `value` is an integer number of unix seconds within a minute of now; answers it.
pub fn assert_unix_near_now(value: &Value) -> i64 {
    let seconds = value
        .as_i64()
        .unwrap_or_else(|| panic!("not an integer unix timestamp: {value}"));
    let now = unix_now();
    assert!(
        (seconds - now).abs() <= 60,
        "timestamp {seconds} is not near now ({now})"
    );
    seconds
}

/// Parses an RFC 3339 UTC timestamp (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`) to unix seconds
/// (the fraction is dropped); panics when `text` is not one.
pub fn parse_rfc3339_utc(text: &str) -> i64 {
    fn not_rfc3339(text: &str) -> ! {
        panic!("not an RFC 3339 UTC timestamp: {text:?}")
    }
    let body = text.strip_suffix('Z').unwrap_or_else(|| not_rfc3339(text));
    let bytes = body.as_bytes();
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b'T'
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        not_rfc3339(text);
    }
    let number = |range: std::ops::Range<usize>| -> i64 {
        let part = &body[range];
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            not_rfc3339(text);
        }
        part.parse::<i64>().unwrap_or_else(|_| not_rfc3339(text))
    };
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let (hour, minute, second) = (number(11..13), number(14..16), number(17..19));
    let fraction = &body[19..];
    let fraction_ok = fraction.is_empty()
        || (fraction.len() >= 2
            && fraction.starts_with('.')
            && fraction[1..].bytes().all(|b| b.is_ascii_digit()));
    if !fraction_ok {
        not_rfc3339(text);
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        not_rfc3339(text);
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hour * 3_600 + minute * 60 + second
}

/// Asserts `value` is an RFC 3339 UTC string within a minute of now; answers its unix seconds.
pub fn assert_rfc3339_near_now(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not an RFC 3339 string: {value}"));
    let seconds = parse_rfc3339_utc(text);
    let now = unix_now();
    assert!(
        (seconds - now).abs() <= 60,
        "timestamp {text} is not near now"
    );
    seconds
}

/// The keys of a JSON object, sorted.
pub fn keys_of(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// A credential as an `X-API-Key` header.
pub fn api_key_header(key: &str) -> (&'static str, &str) {
    ("x-api-key", key)
}

/// Asserts the ChatAPI error shape with `status` and `code`; answers the error object.
pub fn assert_chatapi_error(reply: &Reply, status: u16, code: &str, context: &str) -> Value {
    assert_eq!(reply.status, status, "{context}: {}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{context}"
    );
    let body = reply.json();
    assert_eq!(keys_of(&body), ["error", "status"], "{context}: {body}");
    assert_eq!(body["status"], "error", "{context}: {body}");
    assert_eq!(body["error"]["code"], code, "{context}: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{context}: {body}"
    );
    body["error"].clone()
}

/// Asserts the account dialect's `{"error": "..."}` with `status`; answers the text.
pub fn assert_account_error(reply: &Reply, status: u16, context: &str) -> String {
    assert_eq!(reply.status, status, "{context}: {}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{context}"
    );
    let body = reply.json();
    assert_eq!(keys_of(&body), ["error"], "{context}: {body}");
    let text = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{context}: `error` is not a string in {body}"));
    assert!(!text.is_empty(), "{context}");
    text.to_owned()
}

/// One account with its API key, an administrator and an agent, each with their token.
#[derive(Debug)]
pub struct Tenant {
    pub account: Value,
    pub id: i64,
    pub api_key: String,
    pub admin: Value,
    pub admin_token: String,
    pub agent: Value,
    pub agent_token: String,
}

impl TestApp {
    /// Creates an account named `name` with an administrator and an agent.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let account = self.create_account(name).await;
        let id = account["id"].as_i64().expect("an integer account id");
        let admin = self
            .create_user(
                id,
                serde_json::json!({ "name": "Ada Admin", "role": "administrator" }),
            )
            .await;
        let agent = self
            .create_user(
                id,
                serde_json::json!({ "name": "Alan Agent", "role": "agent" }),
            )
            .await;
        Tenant {
            api_key: str_of(&account, "api_key").to_owned(),
            admin_token: str_of(&admin, "access_token").to_owned(),
            agent_token: str_of(&agent, "access_token").to_owned(),
            account,
            id,
            admin,
            agent,
        }
    }
}

// ------------------------------------------------------------------ rooms (both dialects)

/// The ChatAPI rooms collection.
pub const ROOMS: &str = "/api/v1/rooms";

/// The ChatAPI path of one room.
pub fn room_path(uuid: &str) -> String {
    format!("{ROOMS}/{uuid}")
}

/// The account dialect's rooms collection of account `account_id`.
pub fn chat_rooms_path(account_id: impl std::fmt::Display) -> String {
    format!("/api/v1/accounts/{account_id}/chat_rooms")
}

/// The account dialect's path of one room.
pub fn chat_room_path(account_id: impl std::fmt::Display, id: impl std::fmt::Display) -> String {
    format!("/api/v1/accounts/{account_id}/chat_rooms/{id}")
}

/// A `multipart/form-data` body of text `fields` and `files` (`(field, file name, bytes)`);
/// answers its content type (with the boundary) and its bytes.
pub fn multipart_body(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "chat-tests-boundary-7d1f0c9a2b3e4f5a";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// The first bytes of a PNG file (its signature and an IHDR chunk of a 1×1 image).
pub const PNG_BYTES: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, b'I', b'H', b'D', b'R',
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89,
];

/// Parses an RFC 3339 UTC timestamp to nanoseconds since the epoch (keeping the fraction).
pub fn rfc3339_nanos(text: &str) -> i128 {
    let seconds = parse_rfc3339_utc(text);
    let fraction = text
        .strip_suffix('Z')
        .and_then(|body| body.get(19..))
        .and_then(|f| f.strip_prefix('.'))
        .unwrap_or("");
    let mut digits: String = fraction.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    let nanos: i128 = digits
        .parse()
        .unwrap_or_else(|_| panic!("bad fraction in {text:?}"));
    i128::from(seconds) * 1_000_000_000 + nanos
}

impl TestApp {
    /// Sends raw `body` with the given `content_type` (e.g. a multipart body).
    pub async fn send_as(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let mut response = request
            .insert_header(("content-type", content_type))
            .send_body(body)
            .await
            .expect("the request is answered");
        let body = response
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .expect("the body is read");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: body.to_vec(),
        }
    }

    /// Creates a ChatAPI room with `credential` (`201` expected); answers its `data`.
    pub async fn create_room(&self, credential: &str, body: Value) -> Value {
        let reply = self
            .json(Method::POST, ROOMS, &[api_key_header(credential)], &body)
            .await;
        assert_eq!(reply.status, 201, "creating room {body}: {}", reply.text());
        reply.json()["data"].clone()
    }

    /// Creates an account-dialect room in `account_id` with `credential` (`200` expected);
    /// answers it.
    pub async fn create_chat_room(
        &self,
        account_id: i64,
        credential: &str,
        name: &str,
        description: Option<&str>,
    ) -> Value {
        let body = serde_json::json!({ "chat_room": { "name": name, "description": description } });
        let reply = self
            .json(
                Method::POST,
                &chat_rooms_path(account_id),
                &[("api_access_token", credential)],
                &body,
            )
            .await;
        assert_eq!(
            reply.status,
            200,
            "creating chat room {body}: {}",
            reply.text()
        );
        reply.json()
    }

    /// Turns the account's `chat_rooms` feature on or off with the platform API.
    pub async fn set_chat_rooms_feature(&self, account_id: i64, enabled: bool) {
        let reply = self
            .json(
                Method::PATCH,
                &format!("/platform/api/v1/accounts/{account_id}"),
                &[platform_auth()],
                &serde_json::json!({ "features": { "chat_rooms": enabled } }),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
}

// ------------------------------------------------------------------ membership (both dialects)

/// The ChatAPI path of a room's participant route `action` (`join`, `leave`,
/// `participants`, `online`).
pub fn room_action_path(uuid: &str, action: &str) -> String {
    format!("{ROOMS}/{uuid}/{action}")
}

/// The account dialect's members path of room `id`.
pub fn members_path(account_id: impl std::fmt::Display, id: impl std::fmt::Display) -> String {
    format!("/api/v1/accounts/{account_id}/chat_rooms/{id}/members")
}

/// A user (as the platform API answers it) as the account dialect renders a member.
pub fn member_json(user: &Value) -> Value {
    serde_json::json!({
        "id": user["id"],
        "name": user["name"],
        "email": user["email"],
        "account_id": user["account_id"],
        "role": user["role"],
        "confirmed": user["confirmed"],
        "availability_status": user["availability_status"],
        "thumbnail": null,
    })
}

/// A user's ChatAPI `user_id`: its `external_id`, else its integer id as a string.
pub fn chat_user_id(user: &Value) -> String {
    match user["external_id"].as_str() {
        Some(external) => external.to_owned(),
        None => user["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no integer id in {user}"))
            .to_string(),
    }
}

impl TestApp {
    /// `POST /api/v1/rooms/{uuid}/join` with `body`, as `credential`.
    pub async fn join_room(&self, credential: &str, uuid: &str, body: &Value) -> Reply {
        self.json(
            Method::POST,
            &room_action_path(uuid, "join"),
            &[api_key_header(credential)],
            body,
        )
        .await
    }

    /// Joins `user_id` to room `uuid` as `credential`, expecting 200.
    pub async fn join_ok(&self, credential: &str, uuid: &str, user_id: &str) {
        let reply = self
            .join_room(credential, uuid, &serde_json::json!({ "user_id": user_id }))
            .await;
        assert_eq!(reply.status, 200, "joining {user_id}: {}", reply.text());
    }

    /// `POST /api/v1/rooms/{uuid}/leave` with `{user_id}`, as `credential`.
    pub async fn leave_room(&self, credential: &str, uuid: &str, user_id: &str) -> Reply {
        self.json(
            Method::POST,
            &room_action_path(uuid, "leave"),
            &[api_key_header(credential)],
            &serde_json::json!({ "user_id": user_id }),
        )
        .await
    }

    /// Every participant of room `uuid` (one page of 1000), expecting 200.
    pub async fn participants(&self, credential: &str, uuid: &str) -> Vec<Value> {
        let reply = self
            .get(
                &format!("{}?limit=1000", room_action_path(uuid, "participants")),
                &[api_key_header(credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "participants: {}", reply.text());
        reply.json()["data"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("participants data is not an array: {}", reply.text()))
    }

    /// The `user_id`s of room `uuid`'s participants, in join order.
    pub async fn participant_ids(&self, credential: &str, uuid: &str) -> Vec<String> {
        self.participants(credential, uuid)
            .await
            .iter()
            .map(|p| str_of(p, "user_id").to_owned())
            .collect()
    }

    /// The ChatAPI `participant_count` of room `uuid`.
    pub async fn participant_count(&self, credential: &str, uuid: &str) -> i64 {
        let reply = self
            .get(&room_path(uuid), &[api_key_header(credential)])
            .await;
        assert_eq!(reply.status, 200, "reading room: {}", reply.text());
        reply.json()["data"]["participant_count"]
            .as_i64()
            .unwrap_or_else(|| panic!("no participant_count in {}", reply.text()))
    }

    /// `method` on the account-dialect members of room `id` with `body`, as `credential`.
    pub async fn members_request(
        &self,
        method: Method,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
        body: &Value,
    ) -> Reply {
        self.json(
            method,
            &members_path(account_id, id),
            &[("api_access_token", credential)],
            body,
        )
        .await
    }

    /// The members of account-dialect room `id`, expecting 200.
    pub async fn members(
        &self,
        account_id: i64,
        credential: &str,
        id: impl std::fmt::Display,
    ) -> Vec<Value> {
        let reply = self
            .get(
                &members_path(account_id, id),
                &[("api_access_token", credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "members: {}", reply.text());
        reply
            .json()
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("members is not an array: {}", reply.text()))
    }

    /// The ids of account-dialect room `id`'s members, in join order.
    pub async fn member_ids(
        &self,
        account_id: i64,
        credential: &str,
        id: impl std::fmt::Display,
    ) -> Vec<i64> {
        self.members(account_id, credential, id)
            .await
            .iter()
            .map(|m| {
                m["id"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("no integer id in {m}"))
            })
            .collect()
    }

    /// The account-dialect id of ChatAPI room `uuid` (matched by its name, which must be
    /// unique in the account), read with `credential` (an API key or administrator).
    pub async fn chat_room_id_of(&self, account_id: i64, credential: &str, uuid: &str) -> i64 {
        let room = self
            .get(&room_path(uuid), &[api_key_header(credential)])
            .await
            .json();
        let name = room["data"]["name"].clone();
        let listed = self
            .get(
                &format!("{}?per_page=100", chat_rooms_path(account_id)),
                &[("api_access_token", credential)],
            )
            .await
            .json();
        let found: Vec<&Value> = listed
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["name"] == name)
            .collect();
        assert_eq!(found.len(), 1, "{name} in {listed}");
        found[0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no integer id in {}", found[0]))
    }

    /// The ChatAPI UUID of account-dialect room `id` (matched by its name, which must be
    /// unique in the account), read with `credential` (an API key or administrator).
    pub async fn room_uuid_of(&self, account_id: i64, credential: &str, id: i64) -> String {
        let room = self
            .get(
                &chat_room_path(account_id, id),
                &[("api_access_token", credential)],
            )
            .await
            .json();
        let listed = self
            .get(&format!("{ROOMS}?limit=100"), &[api_key_header(credential)])
            .await
            .json();
        let found: Vec<&Value> = listed["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["name"] == room["name"])
            .collect();
        assert_eq!(found.len(), 1, "{} in {listed}", room["name"]);
        str_of(found[0], "id").to_owned()
    }
}

// ------------------------------------------------------------------ messages (both dialects)

/// The ChatAPI path of one message.
pub fn message_path(uuid: &str) -> String {
    format!("/api/v1/messages/{uuid}")
}

/// The ChatAPI messages path of room `uuid`.
pub fn room_messages_path(uuid: &str) -> String {
    format!("{ROOMS}/{uuid}/messages")
}

/// The account dialect's messages path of room `id`.
pub fn chat_messages_path(
    account_id: impl std::fmt::Display,
    id: impl std::fmt::Display,
) -> String {
    format!("/api/v1/accounts/{account_id}/chat_rooms/{id}/messages")
}

/// The seqs of a ChatAPI message list (`{data: [...]}`), in order.
pub fn seqs_of(list: &Value) -> Vec<i64> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data is not an array: {list}"))
        .iter()
        .map(|m| {
            m["seq"]
                .as_i64()
                .unwrap_or_else(|| panic!("no integer seq in {m}"))
        })
        .collect()
}

impl TestApp {
    /// `POST /api/v1/rooms/{uuid}/messages` with `body`, as `credential`.
    pub async fn post_message(&self, credential: &str, uuid: &str, body: &Value) -> Reply {
        self.json(
            Method::POST,
            &room_messages_path(uuid),
            &[api_key_header(credential)],
            body,
        )
        .await
    }

    /// Sends a ChatAPI message expecting `201`; answers its `data`.
    pub async fn send_message_ok(&self, credential: &str, uuid: &str, body: Value) -> Value {
        let reply = self.post_message(credential, uuid, &body).await;
        assert_eq!(reply.status, 201, "sending {body}: {}", reply.text());
        reply.json()["data"].clone()
    }

    /// `GET /api/v1/rooms/{uuid}/messages?{query}` as `credential`, expecting 200; answers
    /// the whole body.
    pub async fn list_messages(&self, credential: &str, uuid: &str, query: &str) -> Value {
        let reply = self
            .get(
                &format!("{}?{query}", room_messages_path(uuid)),
                &[api_key_header(credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "listing ?{query}: {}", reply.text());
        reply.json()
    }

    /// The ChatAPI `message_count` of room `uuid`.
    pub async fn message_count(&self, credential: &str, uuid: &str) -> i64 {
        let reply = self
            .get(&room_path(uuid), &[api_key_header(credential)])
            .await;
        assert_eq!(reply.status, 200, "reading room: {}", reply.text());
        reply.json()["data"]["message_count"]
            .as_i64()
            .unwrap_or_else(|| panic!("no message_count in {}", reply.text()))
    }

    /// `POST` an account-dialect message `body` to room `id` as `credential`.
    pub async fn post_chat_message(
        &self,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
        body: &Value,
    ) -> Reply {
        self.json(
            Method::POST,
            &chat_messages_path(account_id, id),
            &[("api_access_token", credential)],
            body,
        )
        .await
    }

    /// Sends `{"chat_room_message": {"content": content}}` to room `id` as `credential`,
    /// expecting 200; answers the message.
    pub async fn send_chat_message_ok(
        &self,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
        content: &str,
    ) -> Value {
        let reply = self
            .post_chat_message(
                account_id,
                id,
                credential,
                &serde_json::json!({ "chat_room_message": { "content": content } }),
            )
            .await;
        assert_eq!(reply.status, 200, "sending {content:?}: {}", reply.text());
        reply.json()
    }

    /// The account-dialect messages of room `id` (`?{query}`) as `credential` sees them,
    /// expecting 200.
    pub async fn chat_messages(
        &self,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
        query: &str,
    ) -> Vec<Value> {
        let reply = self
            .get(
                &format!("{}?{query}", chat_messages_path(account_id, id)),
                &[("api_access_token", credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "messages ?{query}: {}", reply.text());
        reply
            .json()
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("messages is not an array: {}", reply.text()))
    }

    /// `POST …/chat_rooms/{id}/mark_as_read` as `credential`.
    pub async fn mark_as_read(
        &self,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
    ) -> Reply {
        self.send(
            Method::POST,
            &format!("{}/mark_as_read", chat_room_path(account_id, id)),
            &[("api_access_token", credential)],
            None,
        )
        .await
    }

    /// The `unread_count` of account-dialect room `id` as `credential` sees it.
    pub async fn unread_count(
        &self,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
    ) -> i64 {
        let reply = self
            .get(
                &chat_room_path(account_id, id),
                &[("api_access_token", credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "reading chat room: {}", reply.text());
        reply.json()["unread_count"]
            .as_i64()
            .unwrap_or_else(|| panic!("no unread_count in {}", reply.text()))
    }
}

// ---- live (WebSocket) helpers

use futures_util::{SinkExt as _, StreamExt as _};

/// How long the live helpers wait for a frame (or a change) before failing.
pub const LIVE_WAIT: Duration = Duration::from_secs(5);

/// Frame types that come and go with other people's sockets and keyboards; the helpers
/// that wait for a given type skip them.
pub const NOISE: [&str; 2] = ["presence", "typing"];

/// awc's WebSocket connection.
pub type WsFramed = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

/// One thing a socket received (pings are answered and pongs skipped on the way).
#[derive(Debug)]
pub enum Received {
    /// A text frame, parsed as JSON (its envelope checked).
    Frame(Value),
    /// A close frame and its code (`None`: a close frame without one).
    Closed(Option<u16>),
    /// The connection ended without a close frame.
    Ended,
}

/// A WebSocket client, with the test's expectations about what it receives.
pub struct LiveSocket {
    framed: WsFramed,
    /// Whether the server's pings are answered (on by default).
    pub answer_pings: bool,
    /// How many pings the server sent so far.
    pub pings: usize,
    /// What the socket is (for failure messages).
    pub label: String,
}

impl std::fmt::Debug for LiveSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSocket")
            .field("label", &self.label)
            .field("pings", &self.pings)
            .finish_non_exhaustive()
    }
}

/// Percent-encodes `text` for a query string.
pub fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The path of room `uuid`'s socket with the query `query` (e.g. `token=…&user_id=…`).
pub fn room_socket_path(uuid: &str, query: &str) -> String {
    format!("/ws/{uuid}?{query}")
}

/// The path of a user's stream of all their rooms in account `account_id`.
pub fn user_stream_path(account_id: impl std::fmt::Display, token: &str) -> String {
    format!(
        "/api/v1/accounts/{account_id}/ws?token={}",
        query_escape(token)
    )
}

/// Asserts the envelope every server frame has: exactly `type`, `data`, `timestamp`
/// (RFC 3339, near now) and `room_id`.
pub fn assert_envelope(frame: &Value) {
    assert_eq!(
        keys_of(frame),
        ["data", "room_id", "timestamp", "type"],
        "frame envelope: {frame}"
    );
    assert!(frame["type"].is_string(), "frame type: {frame}");
    assert_rfc3339_near_now(&frame["timestamp"]);
}

/// A frame's `type`.
pub fn frame_type(frame: &Value) -> &str {
    frame["type"]
        .as_str()
        .unwrap_or_else(|| panic!("a frame without a type: {frame}"))
}

impl TestApp {
    /// The `ws://` URL of `path` on this server.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.address.trim_start_matches("http://"))
    }

    /// Opens a WebSocket to `path` (with its query), expecting the upgrade (`101`).
    pub async fn ws_connect(&self, path: &str) -> LiveSocket {
        let (response, framed) = awc::Client::new()
            .ws(self.ws_url(path))
            .max_frame_size(1024 * 1024)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("WebSocket {path}: {e}"));
        assert_eq!(response.status().as_u16(), 101, "WebSocket {path}");
        LiveSocket {
            framed,
            answer_pings: true,
            pings: 0,
            label: path.split('?').next().unwrap_or(path).to_owned(),
        }
    }

    /// Opens room `uuid`'s socket with `query` and reads its `connection_status`
    /// (which must be the first frame); answers the socket and that frame's `data`.
    pub async fn open_room_socket(&self, uuid: &str, query: &str) -> (LiveSocket, Value) {
        let mut socket = self.ws_connect(&room_socket_path(uuid, query)).await;
        let greeting = socket.first_frame().await;
        (socket, greeting)
    }

    /// Room `uuid`'s socket as the participant `user_id`, with the account's API key.
    pub async fn participant_socket(&self, api_key: &str, uuid: &str, user_id: &str) -> LiveSocket {
        let query = format!(
            "token={}&user_id={}",
            query_escape(api_key),
            query_escape(user_id)
        );
        let (mut socket, greeting) = self.open_room_socket(uuid, &query).await;
        assert_eq!(greeting["user_id"], user_id, "{greeting}");
        socket.label = format!("room socket of {user_id}");
        socket
    }

    /// Room `uuid`'s socket with a user's access token.
    pub async fn user_room_socket(&self, token: &str, uuid: &str) -> LiveSocket {
        let query = format!("token={}", query_escape(token));
        self.open_room_socket(uuid, &query).await.0
    }

    /// The user's stream of all their rooms, after its `connection_status`; answers the
    /// socket and that frame's `data`.
    pub async fn open_user_stream(&self, account_id: i64, token: &str) -> (LiveSocket, Value) {
        let mut socket = self.ws_connect(&user_stream_path(account_id, token)).await;
        let greeting = socket.first_frame().await;
        socket.label = format!("stream of user {}", greeting["user_id"]);
        (socket, greeting)
    }

    /// Asserts that the socket at `path` is upgraded and then closed with `code` before
    /// any frame.
    pub async fn assert_refused(&self, path: &str, code: u16, context: &str) {
        let mut socket = self.ws_connect(path).await;
        match socket.recv(LIVE_WAIT).await {
            Some(Received::Closed(got)) => assert_eq!(got, Some(code), "{context}: {path}"),
            other => panic!("{context}: {path} should close with {code}, got {other:?}"),
        }
    }

    /// `GET /api/v1/rooms/{uuid}/online` as `credential`, expecting 200; answers the
    /// `online_users` (checking `total_online` agrees).
    pub async fn online_ids(&self, credential: &str, uuid: &str) -> Vec<String> {
        let reply = self
            .get(
                &room_action_path(uuid, "online"),
                &[api_key_header(credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "online: {}", reply.text());
        let body = reply.json();
        let ids: Vec<String> = body["data"]["online_users"]
            .as_array()
            .unwrap_or_else(|| panic!("no online_users array in {body}"))
            .iter()
            .map(|id| {
                id.as_str()
                    .unwrap_or_else(|| panic!("an online user_id is not a string: {body}"))
                    .to_owned()
            })
            .collect();
        assert_eq!(
            body["data"]["total_online"].as_u64(),
            Some(ids.len() as u64),
            "{body}"
        );
        ids
    }

    /// Polls `online` of room `uuid` until `check` holds, for up to `wait`; answers the
    /// last list (the caller asserts on it).
    pub async fn online_until(
        &self,
        credential: &str,
        uuid: &str,
        wait: Duration,
        check: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let ids = self.online_ids(credential, uuid).await;
            if check(&ids) || std::time::Instant::now() >= deadline {
                return ids;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

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

impl LiveSocket {
    /// The next thing received within `wait` (`None`: nothing came). Pings are counted
    /// (and answered when `answer_pings`), pongs skipped; text frames must be JSON with
    /// the frame envelope.
    pub async fn recv(&mut self, wait: Duration) -> Option<Received> {
        let deadline = actix_web::rt::time::Instant::now() + wait;
        loop {
            let next = actix_web::rt::time::timeout(
                deadline.saturating_duration_since(actix_web::rt::time::Instant::now()),
                self.framed.next(),
            )
            .await;
            let frame = match next {
                Err(_) => return None,
                Ok(None) => return Some(Received::Ended),
                Ok(Some(Err(error))) => panic!("{}: WebSocket error: {error}", self.label),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                awc::ws::Frame::Text(bytes) => {
                    let value: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                        panic!(
                            "{}: a text frame is not JSON ({e}): {:?}",
                            self.label,
                            String::from_utf8_lossy(&bytes)
                        )
                    });
                    assert_envelope(&value);
                    return Some(Received::Frame(value));
                }
                awc::ws::Frame::Close(reason) => {
                    return Some(Received::Closed(reason.map(|r| u16::from(r.code))));
                }
                awc::ws::Frame::Ping(bytes) => {
                    self.pings += 1;
                    if self.answer_pings {
                        // The server may be closing; a failed pong shows up as the end.
                        let _ = self.framed.send(awc::ws::Message::Pong(bytes)).await;
                    }
                }
                awc::ws::Frame::Pong(_) => {}
                other => panic!("{}: unexpected frame {other:?}", self.label),
            }
        }
    }

    /// The next JSON frame (within [`LIVE_WAIT`]); fails on a close or silence.
    pub async fn next_json(&mut self) -> Value {
        match self.recv(LIVE_WAIT).await {
            Some(Received::Frame(frame)) => frame,
            other => panic!("{}: expected a frame, got {other:?}", self.label),
        }
    }

    /// The first frame, which must be `connection_status`; answers its `data`.
    pub async fn first_frame(&mut self) -> Value {
        let frame = self.next_json().await;
        assert_eq!(
            frame_type(&frame),
            "connection_status",
            "{}: the first frame must be connection_status: {frame}",
            self.label
        );
        assert_eq!(frame["data"]["status"], "connected", "{frame}");
        frame["data"].clone()
    }

    /// The next frame of type `kind`, skipping `skip` types; any other frame fails.
    pub async fn expect_skipping(&mut self, kind: &str, skip: &[&str]) -> Value {
        loop {
            let frame = self.next_json().await;
            let got = frame_type(&frame);
            if got == kind {
                return frame;
            }
            assert!(
                skip.contains(&got),
                "{}: expected a {kind:?} frame, got {frame}",
                self.label
            );
        }
    }

    /// The next frame of type `kind` (whole), skipping [`NOISE`] of other types; any
    /// other frame fails.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let skip: Vec<&str> = NOISE.iter().copied().filter(|n| *n != kind).collect();
        self.expect_skipping(kind, &skip).await
    }

    /// The `data` of the next frame of type `kind` (see [`LiveSocket::expect`]).
    pub async fn expect_data(&mut self, kind: &str) -> Value {
        self.expect(kind).await["data"].clone()
    }

    /// The next `error` frame's `data`, asserting its `code` (when given) and a message.
    pub async fn expect_error(&mut self, code: Option<&str>) -> Value {
        let data = self.expect_data("error").await;
        assert_eq!(
            keys_of(&data),
            ["code", "message"],
            "{}: error data {data}",
            self.label
        );
        assert!(
            data["code"].as_str().is_some_and(|c| !c.is_empty()),
            "{data}"
        );
        assert!(
            data["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{data}"
        );
        if let Some(code) = code {
            assert_eq!(data["code"], code, "{}: {data}", self.label);
        }
        data
    }

    /// Asserts the server closes the socket with `code`, skipping [`NOISE`] frames
    /// before the close; any other frame fails.
    pub async fn expect_close(&mut self, code: u16) {
        loop {
            match self.recv(LIVE_WAIT).await {
                Some(Received::Frame(frame)) if NOISE.contains(&frame_type(&frame)) => {}
                Some(Received::Closed(got)) => {
                    assert_eq!(got, Some(code), "{}: close code", self.label);
                    return;
                }
                other => panic!(
                    "{}: expected a close with {code}, got {other:?}",
                    self.label
                ),
            }
        }
    }

    /// Sends `value` as a text frame.
    pub async fn send_json(&mut self, value: &Value) {
        self.send_text(value.to_string()).await;
    }

    /// Sends `text` as a text frame.
    pub async fn send_text(&mut self, text: String) {
        self.framed
            .send(awc::ws::Message::Text(text.into()))
            .await
            .unwrap_or_else(|e| panic!("{}: sending a frame: {e}", self.label));
    }

    /// Sends `bytes` as a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.framed
            .send(awc::ws::Message::Binary(bytes.into()))
            .await
            .unwrap_or_else(|e| panic!("{}: sending a frame: {e}", self.label));
    }

    /// Sends `{"type": "ping"}` and expects a `pong` (skipping [`NOISE`]): the
    /// connection is open and answering.
    pub async fn assert_alive(&mut self) {
        self.send_json(&serde_json::json!({ "type": "ping" })).await;
        let pong = self.expect("pong").await;
        assert!(pong["data"].is_object(), "{pong}");
    }

    /// Closes the socket (code 1000) and waits until the server lets go of it.
    pub async fn close(mut self) {
        let reason = awc::ws::CloseReason {
            code: awc::ws::CloseCode::Normal,
            description: None,
        };
        let _ = self
            .framed
            .send(awc::ws::Message::Close(Some(reason)))
            .await;
        loop {
            match self.recv(LIVE_WAIT).await {
                Some(Received::Frame(_)) => {}
                Some(Received::Closed(_) | Received::Ended) => return,
                None => panic!("{}: the server did not end the connection", self.label),
            }
        }
    }
}

/// A WebSocket spoken by hand over TCP: upgraded, then left unread (a slow client)
/// until the test drains it.
#[derive(Debug)]
pub struct RawSocket {
    stream: actix_web::rt::net::TcpStream,
    buffer: Vec<u8>,
}

/// What a [`RawSocket`] had received when drained.
#[derive(Debug, Default)]
pub struct Drained {
    /// The text frames, parsed as JSON.
    pub frames: Vec<Value>,
    /// The close frame's code, when one came.
    pub close: Option<u16>,
    /// Whether the server ended the connection.
    pub ended: bool,
}

impl TestApp {
    /// Opens a WebSocket to `path` by hand, with a receive buffer of `receive_buffer`
    /// bytes, and reads only the `101` response head.
    pub async fn raw_socket(&self, path: &str, receive_buffer: u32) -> RawSocket {
        let address: std::net::SocketAddr = self
            .address
            .trim_start_matches("http://")
            .parse()
            .expect("the server address is an IP and a port");
        let socket = actix_web::rt::net::TcpSocket::new_v4().expect("a TCP socket");
        socket
            .set_recv_buffer_size(receive_buffer)
            .expect("the receive buffer size is set");
        let stream = socket.connect(address).await.expect("connects");
        let mut raw = RawSocket {
            stream,
            buffer: Vec::new(),
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        raw.write_all(request.as_bytes()).await;
        let deadline = actix_web::rt::time::Instant::now() + LIVE_WAIT;
        let head_end = loop {
            if let Some(at) = raw.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            assert!(
                raw.read_some(deadline).await,
                "no response head: {:?}",
                String::from_utf8_lossy(&raw.buffer)
            );
        };
        let head = String::from_utf8_lossy(&raw.buffer[..head_end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "not upgraded: {head}");
        raw.buffer.drain(..head_end);
        raw
    }
}

impl RawSocket {
    async fn write_all(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            self.stream.writable().await.expect("writable");
            match self.stream.try_write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("writing to the raw socket: {e}"),
            }
        }
    }

    /// Reads what is there (waiting until `deadline`); answers false at the end of the
    /// stream or the deadline.
    async fn read_some(&mut self, deadline: actix_web::rt::time::Instant) -> bool {
        let mut chunk = vec![0_u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(actix_web::rt::time::Instant::now());
            match actix_web::rt::time::timeout(left, self.stream.readable()).await {
                Err(_) => return false,
                Ok(result) => result.expect("readable"),
            }
            match self.stream.try_read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.buffer.extend_from_slice(&chunk[..n]);
                    return true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return false,
                Err(e) => panic!("reading the raw socket: {e}"),
            }
        }
    }

    /// Reads every frame until the server ends the connection, or nothing comes for
    /// `quiet`.
    pub async fn drain(&mut self, quiet: Duration) -> Drained {
        let mut drained = Drained::default();
        loop {
            while let Some((opcode, payload)) = self.take_frame() {
                match opcode {
                    0x1 => drained.frames.push(
                        serde_json::from_slice(&payload)
                            .unwrap_or_else(|e| panic!("a raw text frame is not JSON ({e})")),
                    ),
                    0x8 => {
                        drained.close = payload
                            .get(..2)
                            .map(|code| u16::from_be_bytes([code[0], code[1]]));
                    }
                    0x9 | 0xA => {}
                    other => panic!("unexpected raw frame opcode {other}"),
                }
            }
            let deadline = actix_web::rt::time::Instant::now() + quiet;
            if !self.read_some(deadline).await {
                drained.ended = actix_web::rt::time::Instant::now() < deadline;
                return drained;
            }
        }
    }

    /// One whole (unmasked, unfragmented) server frame off the buffer.
    fn take_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let buffer = &self.buffer;
        if buffer.len() < 2 {
            return None;
        }
        assert_eq!(buffer[0] & 0x80, 0x80, "a fragmented server frame");
        assert_eq!(buffer[1] & 0x80, 0, "a masked server frame");
        let opcode = buffer[0] & 0x0f;
        let (length, start) = match buffer[1] & 0x7f {
            126 if buffer.len() >= 4 => {
                (usize::from(u16::from_be_bytes([buffer[2], buffer[3]])), 4)
            }
            127 if buffer.len() >= 10 => {
                let mut be = [0_u8; 8];
                be.copy_from_slice(&buffer[2..10]);
                (
                    usize::try_from(u64::from_be_bytes(be)).expect("a frame length fits"),
                    10,
                )
            }
            126 | 127 => return None,
            short => (usize::from(short), 2),
        };
        if buffer.len() < start + length {
            return None;
        }
        let payload = buffer[start..start + length].to_vec();
        self.buffer.drain(..start + length);
        Some((opcode, payload))
    }
}
