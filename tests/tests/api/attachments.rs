//! Attachments and room avatars (issue 6): files sent with account-dialect messages,
//! rendered in both dialects, served by signed URLs without a credential, limited by the
//! settings, cleaned from disk with what owns them, and swept when nothing refers to them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use awc::http::Method;
use chat_http::signing::UrlSigner;
use chat_tests::*;
use serde_json::{Value, json};

/// The multipart field of a message's files.
const ATTACHMENT_FIELD: &str = "chat_room_message[attachments][]";

/// The multipart field of a room's avatar.
const AVATAR_FIELD: &str = "chat_room[avatar]";

/// The keys of an account-dialect attachment that is not an image.
const ATTACHMENT_KEYS: [&str; 8] = [
    "account_id",
    "data_url",
    "extension",
    "file_size",
    "file_type",
    "id",
    "message_id",
    "thumb_url",
];

/// The keys of an account-dialect attachment that is an image of known size.
const IMAGE_ATTACHMENT_KEYS: [&str; 10] = [
    "account_id",
    "data_url",
    "extension",
    "file_size",
    "file_type",
    "height",
    "id",
    "message_id",
    "thumb_url",
    "width",
];

/// The keys of a ChatAPI attachment that is not an image.
const CHATAPI_ATTACHMENT_KEYS: [&str; 8] = [
    "content_type",
    "data_url",
    "extension",
    "file_size",
    "file_type",
    "id",
    "message_id",
    "thumb_url",
];

/// The keys of a ChatAPI attachment that is an image of known size.
const CHATAPI_IMAGE_ATTACHMENT_KEYS: [&str; 10] = [
    "content_type",
    "data_url",
    "extension",
    "file_size",
    "file_type",
    "height",
    "id",
    "message_id",
    "thumb_url",
    "width",
];

/// A small PDF: recognised by its `%PDF-` header.
const PDF_BYTES: &[u8] =
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

/// UTF-8 text.
const TEXT_BYTES: &[u8] = "Meeting notes: déjà vu, ünïcode.\n".as_bytes();

/// A GIF header of a 2×3 image.
const GIF_BYTES: &[u8] = &[
    b'G', b'I', b'F', b'8', b'9', b'a', 0x02, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x03, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Bytes that are neither a known format nor text.
const BINARY_BYTES: &[u8] = &[0x00, 0x01, 0x02, 0xfe, 0xff, 0x00, 0x7f, 0x80];

fn token(credential: &str) -> [(&str, &str); 1] {
    [("api_access_token", credential)]
}

fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

fn id_of(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {value}"))
}

fn only_administrators() -> Value {
    json!({ "error": "Only administrators can do this action" })
}

/// A room made by the tenant's administrator with its agent added; answers its id.
async fn room_with_agent(app: &TestApp, tenant: &Tenant, name: &str) -> i64 {
    let room = app
        .create_chat_room(tenant.id, &tenant.admin_token, name, None)
        .await;
    let id = id_of(&room);
    let reply = app
        .members_request(
            Method::POST,
            tenant.id,
            id,
            &tenant.admin_token,
            &json!({ "user_ids": [id_of(&tenant.agent)] }),
        )
        .await;
    assert_eq!(reply.status, 200, "adding the agent: {}", reply.text());
    id
}

/// `POST`s a multipart message to room `id` as `credential`: `content` (when given) and
/// one `chat_room_message[attachments][]` part per `(file name, bytes)`.
async fn send_files(
    app: &TestApp,
    account: i64,
    id: i64,
    credential: &str,
    content: Option<&str>,
    files: &[(&str, &[u8])],
) -> Reply {
    let fields: Vec<(&str, &str)> = content
        .map(|c| vec![("chat_room_message[content]", c)])
        .unwrap_or_default();
    let parts: Vec<(&str, &str, &[u8])> = files
        .iter()
        .map(|(name, bytes)| (ATTACHMENT_FIELD, *name, *bytes))
        .collect();
    let (content_type, body) = multipart_body(&fields, &parts);
    app.send_as(
        Method::POST,
        &chat_messages_path(account, id),
        &token(credential),
        &content_type,
        body,
    )
    .await
}

/// Like [`send_files`], expecting 200; answers the message.
async fn send_files_ok(
    app: &TestApp,
    account: i64,
    id: i64,
    credential: &str,
    content: Option<&str>,
    files: &[(&str, &[u8])],
) -> Value {
    let reply = send_files(app, account, id, credential, content, files).await;
    assert_eq!(reply.status, 200, "sending files: {}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

/// Sends a multipart room body (`fields`, `files`) with `method` to `path` as `credential`.
async fn room_form(
    app: &TestApp,
    method: Method,
    path: &str,
    credential: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> Reply {
    let (content_type, body) = multipart_body(fields, files);
    app.send_as(method, path, &token(credential), &content_type, body)
        .await
}

/// Creates a room named `name` with avatar `bytes` (named `file_name`), expecting 200;
/// answers the room.
async fn create_room_with_avatar(
    app: &TestApp,
    tenant: &Tenant,
    name: &str,
    file_name: &str,
    bytes: &[u8],
) -> Value {
    let reply = room_form(
        app,
        Method::POST,
        &chat_rooms_path(tenant.id),
        &tenant.admin_token,
        &[("chat_room[name]", name)],
        &[(AVATAR_FIELD, file_name, bytes)],
    )
    .await;
    assert_eq!(reply.status, 200, "creating {name}: {}", reply.text());
    reply.json()
}

async fn read_room(app: &TestApp, tenant: &Tenant, id: i64) -> Value {
    let reply = app
        .get(&chat_room_path(tenant.id, id), &token(&tenant.admin_token))
        .await;
    assert_eq!(reply.status, 200, "reading room {id}: {}", reply.text());
    reply.json()
}

/// The number of rooms of the tenant, read with its API key.
async fn room_count(app: &TestApp, tenant: &Tenant) -> usize {
    let reply = app
        .get(
            &format!("{}?per_page=100", chat_rooms_path(tenant.id)),
            &token(&tenant.api_key),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply
        .json()
        .as_array()
        .map(Vec::len)
        .unwrap_or_else(|| panic!("rooms are not an array: {}", reply.text()))
}

/// `DELETE …/chat_rooms/{id}/avatar` as `credential`.
async fn delete_avatar(app: &TestApp, tenant: &Tenant, id: i64, credential: &str) -> Reply {
    app.send(
        Method::DELETE,
        &format!("{}/avatar", chat_room_path(tenant.id, id)),
        &token(credential),
        None,
    )
    .await
}

/// The attachments of a message, as an array.
fn attachments_of(message: &Value) -> Vec<Value> {
    message["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("attachments is not an array in {message}"))
}

/// Asserts a 422 `{message, attributes}` naming exactly `attributes`.
fn assert_validation(reply: &Reply, attributes: &[&str], context: &str) -> Value {
    assert_eq!(reply.status, 422, "{context}: {}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{context}"
    );
    let body = reply.json();
    assert_eq!(
        keys_of(&body),
        ["attributes", "message"],
        "{context}: {body}"
    );
    assert_eq!(body["attributes"], json!(attributes), "{context}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{context}: {body}"
    );
    body
}

// ---------------------------------------------------------------- URLs and disk

/// A signed file URL, taken apart.
#[derive(Debug)]
struct SignedUrl {
    /// `/files/…`, without the query.
    path: String,
    expires: i64,
    signature: String,
}

impl SignedUrl {
    /// The storage key: the path after `/files/`.
    fn key(&self) -> &str {
        self.path
            .strip_prefix("/files/")
            .unwrap_or_else(|| panic!("{} is not under /files/", self.path))
    }

    /// The path and query, to `GET` from the test server.
    fn local(&self) -> String {
        format!(
            "{}?expires={}&signature={}",
            self.path, self.expires, self.signature
        )
    }
}

/// Parses an absolute signed URL of `app`: `{address}/files/…?expires=N&signature=HEX`,
/// with an expiry in the future and a 64-hex-digit signature.
fn parse_signed(app: &TestApp, url: &Value) -> SignedUrl {
    let text = url
        .as_str()
        .unwrap_or_else(|| panic!("the URL is not a string: {url}"));
    let rest = text
        .strip_prefix(&app.address)
        .unwrap_or_else(|| panic!("{text:?} is not an absolute URL of {}", app.address));
    let (path, query) = rest
        .split_once('?')
        .unwrap_or_else(|| panic!("{text:?} has no query"));
    assert!(path.starts_with("/files/"), "{text:?}");
    let mut expires = None;
    let mut signature = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("expires", value)) => expires = Some(value),
            Some(("signature", value)) => signature = Some(value),
            _ => panic!("unexpected query part {pair:?} in {text:?}"),
        }
    }
    let expires: i64 = expires
        .and_then(|e| e.parse().ok())
        .unwrap_or_else(|| panic!("no integer expires in {text:?}"));
    assert!(expires > unix_now(), "{text:?} has already expired");
    let signature = signature.unwrap_or_else(|| panic!("no signature in {text:?}"));
    assert_eq!(signature.len(), 64, "{text:?}");
    assert!(
        signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{text:?}"
    );
    SignedUrl {
        path: path.to_owned(),
        expires,
        signature: signature.to_owned(),
    }
}

/// Asserts `url` is a signed URL of a file `accounts/{account}/{folder}/{uuid}.{extension}`;
/// answers it taken apart.
fn assert_file_url(
    app: &TestApp,
    url: &Value,
    account: i64,
    folder: &str,
    extension: &str,
) -> SignedUrl {
    let signed = parse_signed(app, url);
    let name = signed
        .key()
        .strip_prefix(&format!("accounts/{account}/{folder}/"))
        .unwrap_or_else(|| panic!("{url} is not under accounts/{account}/{folder}/"));
    let (stem, ext) = name
        .split_once('.')
        .unwrap_or_else(|| panic!("{url} has no extension"));
    assert_uuid(stem);
    assert_eq!(ext, extension, "{url}");
    signed
}

/// Where the file behind a signed URL is on disk.
fn file_of(app: &TestApp, url: &Value) -> PathBuf {
    app.storage_dir().join(parse_signed(app, url).key())
}

/// Every regular file under `root`, recursively, sorted (none when `root` is missing).
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("reading {}: {e}", dir.display()),
        };
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
            let kind = entry
                .file_type()
                .unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
            if kind.is_dir() {
                pending.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

/// Asserts nothing at all is stored.
fn assert_no_file_stored(app: &TestApp, context: &str) {
    let files = files_under(app.storage_dir());
    assert!(files.is_empty(), "{context}: files left: {files:?}");
}

/// `GET`s a signed URL without any credential.
async fn fetch(app: &TestApp, url: &Value) -> Reply {
    app.get(&parse_signed(app, url).local(), &[]).await
}

/// Asserts a signed URL serves exactly `bytes` as `content_type`, without a credential.
async fn assert_serves(app: &TestApp, url: &Value, bytes: &[u8], content_type: &str) {
    let reply = fetch(app, url).await;
    assert_eq!(reply.status, 200, "{url}: {}", reply.text());
    assert_eq!(reply.body, bytes, "{url}");
    let served = reply.header("content-type").unwrap_or_default();
    assert!(
        served.starts_with(content_type),
        "{url}: content-type {served:?}, expected {content_type:?}"
    );
}

/// Asserts the file behind a signed URL is gone: not on disk, and the URL answers 404.
async fn assert_file_gone(app: &TestApp, url: &Value, context: &str) {
    let path = file_of(app, url);
    assert!(
        !path.exists(),
        "{context}: {} is still there",
        path.display()
    );
    let reply = fetch(app, url).await;
    assert_eq!(reply.status, 404, "{context}: {url}: {}", reply.text());
}

/// An attachment with its signed URLs reduced to their paths (their expiry and signature
/// depend on the moment they are rendered).
fn without_signatures(attachment: &Value) -> Value {
    let mut attachment = attachment.clone();
    for field in ["data_url", "thumb_url"] {
        if let Some(url) = attachment[field].as_str() {
            let path = url.split('?').next().unwrap_or_default().to_owned();
            attachment[field] = Value::String(path);
        }
    }
    attachment
}

/// What an uploaded file is expected to be.
#[derive(Debug, Clone, Copy)]
struct Expected<'a> {
    bytes: &'a [u8],
    file_type: &'a str,
    extension: &'a str,
    mime: &'a str,
    /// Width and height, for images.
    size: Option<(u64, u64)>,
}

const PNG: Expected<'static> = Expected {
    bytes: PNG_BYTES,
    file_type: "image",
    extension: "png",
    mime: "image/png",
    size: Some((1, 1)),
};

const PDF: Expected<'static> = Expected {
    bytes: PDF_BYTES,
    file_type: "file",
    extension: "pdf",
    mime: "application/pdf",
    size: None,
};

const TEXT: Expected<'static> = Expected {
    bytes: TEXT_BYTES,
    file_type: "file",
    extension: "txt",
    mime: "text/plain",
    size: None,
};

const GIF: Expected<'static> = Expected {
    bytes: GIF_BYTES,
    file_type: "image",
    extension: "gif",
    mime: "image/gif",
    size: Some((2, 3)),
};

const BINARY: Expected<'static> = Expected {
    bytes: BINARY_BYTES,
    file_type: "file",
    extension: "bin",
    mime: "application/octet-stream",
    size: None,
};

/// Asserts an account-dialect attachment of `message` in `account` is `expected`, and that
/// its data URL serves the bytes without a credential.
async fn assert_attachment(
    app: &TestApp,
    attachment: &Value,
    message: &Value,
    account: i64,
    expected: Expected<'_>,
) {
    let keys = if expected.size.is_some() {
        IMAGE_ATTACHMENT_KEYS.to_vec()
    } else {
        ATTACHMENT_KEYS.to_vec()
    };
    assert_eq!(keys_of(attachment), keys, "{attachment}");
    assert!(attachment["id"].is_i64(), "{attachment}");
    assert_eq!(attachment["message_id"], message["id"], "{attachment}");
    assert_eq!(attachment["account_id"], account, "{attachment}");
    assert_eq!(attachment["file_type"], expected.file_type, "{attachment}");
    assert_eq!(attachment["extension"], expected.extension, "{attachment}");
    assert_eq!(
        attachment["file_size"],
        expected.bytes.len(),
        "{attachment}"
    );
    assert_file_url(
        app,
        &attachment["data_url"],
        account,
        "attachments",
        expected.extension,
    );
    match expected.size {
        Some((width, height)) => {
            assert_eq!(attachment["width"], width, "{attachment}");
            assert_eq!(attachment["height"], height, "{attachment}");
            assert_eq!(
                attachment["thumb_url"], attachment["data_url"],
                "an image is its own thumbnail: {attachment}"
            );
        }
        None => assert_eq!(attachment["thumb_url"], "", "{attachment}"),
    }
    assert_serves(app, &attachment["data_url"], expected.bytes, expected.mime).await;
}

/// The ChatAPI UUID of the message of room `uuid` whose content is `content` (unique),
/// with its ChatAPI rendering.
async fn chatapi_message(app: &TestApp, api_key: &str, uuid: &str, content: &str) -> Value {
    let list = app
        .list_messages(api_key, uuid, "include_deleted=true&limit=100")
        .await;
    let found: Vec<&Value> = list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data is not an array: {list}"))
        .iter()
        .filter(|m| m["content"] == content)
        .collect();
    assert_eq!(found.len(), 1, "{content:?} in {list}");
    found[0].clone()
}

/// A fresh random-looking UUID (version 4 layout) from the clock and a counter.
fn fresh_uuid() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let count = u128::from(COUNTER.fetch_add(1, Ordering::Relaxed));
    let mixed = nanos
        .wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
        .wrapping_add(count.wrapping_mul(0xd6e8_feb8_6659_fd93));
    let hex = format!("{mixed:032x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Writes `bytes` at storage key `key` of `app`, as an upload that was never recorded
/// would leave it; answers its path.
fn write_orphan(app: &TestApp, key: &str, bytes: &[u8]) -> PathBuf {
    let path = app.storage_dir().join(key);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
    }
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// Sets the modification time of the file at `path` to `age` ago.
fn age_file(path: &Path, age: Duration) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.set_modified(SystemTime::now() - age)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The server's settings, as the sweep needs them.
fn settings_of(app: &TestApp) -> chatd::Settings {
    let mut settings = test_settings(app.database_url());
    settings.storage_dir = app.storage_dir().to_path_buf();
    settings
}

/// Runs the orphan sweep over `app`'s storage with `grace`.
async fn sweep(app: &TestApp, grace: Duration) -> chatd::SweepReport {
    let settings = settings_of(app);
    chatd::sweep_files(&settings, grace)
        .await
        .unwrap_or_else(|e| panic!("the sweep fails: {e:#}"))
}

// ---------------------------------------------------------------- sending files

#[actix_web::test]
async fn a_message_with_one_file_answers_its_attachment_and_the_list_shows_it() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let message = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Here is the logo"),
        &[("logo.png", PNG_BYTES)],
    )
    .await;
    assert_eq!(message["content"], "Here is the logo", "{message}");
    assert_eq!(message["message_type"], "outgoing", "{message}");
    let attachments = attachments_of(&message);
    assert_eq!(attachments.len(), 1, "{message}");
    assert_attachment(&app, &attachments[0], &message, acme.id, PNG).await;
    assert!(
        file_of(&app, &attachments[0]["data_url"]).is_file(),
        "the file is stored where its key says"
    );

    // The list renders the same attachment, for the sender and for another member.
    for credential in [&acme.admin_token, &acme.agent_token] {
        let listed = app.chat_messages(acme.id, id, credential, "").await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0]["id"], message["id"]);
        let shown = attachments_of(&listed[0]);
        assert_eq!(
            shown.iter().map(without_signatures).collect::<Vec<_>>(),
            attachments
                .iter()
                .map(without_signatures)
                .collect::<Vec<_>>()
        );
        assert_serves(&app, &shown[0]["data_url"], PNG_BYTES, "image/png").await;
    }
}

#[actix_web::test]
async fn a_message_without_files_has_no_attachments() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let message = send_files_ok(&app, acme.id, id, &acme.admin_token, Some("Just text"), &[]).await;
    assert_eq!(message["attachments"], json!([]), "{message}");
    let json = app
        .send_chat_message_ok(acme.id, id, &acme.admin_token, "As JSON")
        .await;
    assert_eq!(json["attachments"], json!([]), "{json}");
    let listed = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    assert_eq!(listed.len(), 2);
    for shown in &listed {
        assert_eq!(shown["attachments"], json!([]), "{shown}");
    }
    assert_no_file_stored(&app, "no file was sent");
}

#[actix_web::test]
async fn files_of_several_kinds_keep_their_upload_order_and_are_recognised_by_content() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let expected = [PDF, PNG, TEXT, GIF, BINARY];
    let message = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Five files"),
        &[
            ("report.pdf", PDF_BYTES),
            ("photo.png", PNG_BYTES),
            ("notes.txt", TEXT_BYTES),
            ("anim.gif", GIF_BYTES),
            ("blob.dat", BINARY_BYTES),
        ],
    )
    .await;
    let attachments = attachments_of(&message);
    assert_eq!(attachments.len(), expected.len(), "{message}");
    for (attachment, kind) in attachments.iter().zip(expected) {
        assert_attachment(&app, attachment, &message, acme.id, kind).await;
    }
    // Each file has its own id and its own stored file.
    let mut ids: Vec<i64> = attachments.iter().map(id_of).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), expected.len(), "{message}");
    let mut paths: Vec<PathBuf> = attachments
        .iter()
        .map(|a| file_of(&app, &a["data_url"]))
        .collect();
    paths.sort();
    assert_eq!(files_under(app.storage_dir()), paths);

    // The list shows them in the same order.
    let listed = app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(
        attachments_of(&listed[0])
            .iter()
            .map(without_signatures)
            .collect::<Vec<_>>(),
        attachments
            .iter()
            .map(without_signatures)
            .collect::<Vec<_>>()
    );
}

#[actix_web::test]
async fn a_file_is_recognised_by_its_bytes_not_its_name() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let message = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Disguised"),
        &[("readme.txt", PNG_BYTES), ("picture.png", PDF_BYTES)],
    )
    .await;
    let attachments = attachments_of(&message);
    assert_eq!(attachments.len(), 2, "{message}");
    assert_attachment(&app, &attachments[0], &message, acme.id, PNG).await;
    assert_attachment(&app, &attachments[1], &message, acme.id, PDF).await;
    let reply = fetch(&app, &attachments[0]["data_url"]).await;
    assert_eq!(reply.header("content-type"), Some("image/png"));
}

#[actix_web::test]
async fn content_may_be_empty_or_absent_when_files_are_sent_but_not_otherwise() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let empty = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.agent_token,
        Some(""),
        &[("a.png", PNG_BYTES)],
    )
    .await;
    assert_eq!(empty["content"], "", "{empty}");
    assert_eq!(attachments_of(&empty).len(), 1, "{empty}");
    let absent = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.agent_token,
        None,
        &[("b.pdf", PDF_BYTES)],
    )
    .await;
    assert_eq!(absent["content"], "", "{absent}");
    assert_eq!(attachments_of(&absent).len(), 1, "{absent}");
    assert_eq!(attachments_of(&absent)[0]["extension"], "pdf");

    // Without files, empty content is refused as before, and nothing is stored.
    let reply = send_files(&app, acme.id, id, &acme.agent_token, Some(""), &[]).await;
    assert_eq!(
        assert_validation(&reply, &["content"], "empty content, no file"),
        json!({ "message": "Content can't be blank", "attributes": ["content"] })
    );
    let reply = send_files(&app, acme.id, id, &acme.agent_token, Some("   "), &[]).await;
    assert_validation(&reply, &["content"], "blank content, no file");
    let listed = app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(files_under(app.storage_dir()).len(), 2);
}

#[actix_web::test]
async fn an_agent_member_sends_files_too() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let message = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.agent_token,
        Some("From the agent"),
        &[("notes.txt", TEXT_BYTES), ("logo.png", PNG_BYTES)],
    )
    .await;
    assert_eq!(message["sender"]["id"], acme.agent["id"], "{message}");
    let attachments = attachments_of(&message);
    assert_eq!(attachments.len(), 2, "{message}");
    assert_attachment(&app, &attachments[0], &message, acme.id, TEXT).await;
    assert_attachment(&app, &attachments[1], &message, acme.id, PNG).await;
    // The administrator sees them, incoming.
    let listed = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    assert_eq!(listed[0]["message_type"], "incoming");
    assert_eq!(attachments_of(&listed[0]).len(), 2);
}

#[actix_web::test]
async fn a_non_member_may_not_send_files_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Closed", None)
        .await;
    let id = id_of(&room);
    let reply = send_files(
        &app,
        acme.id,
        id,
        &acme.agent_token,
        Some("Let me in"),
        &[("logo.png", PNG_BYTES)],
    )
    .await;
    assert_account_error(&reply, 403, "a non-member sends a file");
    let listed = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    assert!(listed.is_empty(), "{listed:?}");
    assert_no_file_stored(&app, "a refused upload");
}

// ---------------------------------------------------------------- signed URLs

#[actix_web::test]
async fn a_data_url_works_without_a_credential_but_not_tampered_or_expired() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let message = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Signed"),
        &[("doc.pdf", PDF_BYTES)],
    )
    .await;
    let url = &attachments_of(&message)[0]["data_url"];
    let signed = parse_signed(&app, url);

    // Without any credential, through the absolute URL itself.
    let absolute = url
        .as_str()
        .unwrap_or_else(|| panic!("data_url is not a string: {url}"));
    let mut response = app
        .client
        .get(absolute)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {absolute}: {e}"));
    assert_eq!(response.status().as_u16(), 200, "{absolute}");
    let body = response
        .body()
        .await
        .unwrap_or_else(|e| panic!("reading {absolute}: {e}"));
    assert_eq!(body.as_ref(), PDF_BYTES);
    assert_serves(&app, url, PDF_BYTES, "application/pdf").await;

    // One hex digit of the signature changed.
    let mut tampered = signed.signature.clone().into_bytes();
    tampered[10] = if tampered[10] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap_or_else(|e| panic!("{e}"));
    let path = format!(
        "{}?expires={}&signature={tampered}",
        signed.path, signed.expires
    );
    let reply = app.get(&path, &[]).await;
    assert_eq!(reply.status, 403, "{path}: {}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "error": "This link is invalid or has expired" })
    );
    assert!(!reply.body.starts_with(b"%PDF"), "no file bytes leak");

    // A later expiry with the genuine signature.
    let path = format!(
        "{}?expires={}&signature={}",
        signed.path,
        signed.expires + 1,
        signed.signature
    );
    let reply = app.get(&path, &[]).await;
    assert_eq!(reply.status, 403, "{path}: {}", reply.text());

    // Properly signed, but expired.
    let expires = unix_now() - 10;
    let signature = UrlSigner::new(URL_SECRET.as_bytes()).sign(&signed.path, expires);
    let path = format!("{}?expires={expires}&signature={signature}", signed.path);
    let reply = app.get(&path, &[]).await;
    assert_eq!(reply.status, 403, "{path}: {}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "error": "This link is invalid or has expired" })
    );

    // No signature at all.
    let reply = app.get(&signed.path, &[]).await;
    assert_eq!(reply.status, 403, "{}: {}", signed.path, reply.text());
}

// ---------------------------------------------------------------- limits

#[actix_web::test]
async fn fifteen_files_are_accepted_and_sixteen_are_422_with_nothing_stored() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let names: Vec<String> = (1..=16).map(|i| format!("note-{i}.txt")).collect();
    let bodies: Vec<String> = (1..=16).map(|i| format!("note number {i}\n")).collect();
    let files: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&bodies)
        .map(|(n, b)| (n.as_str(), b.as_bytes()))
        .collect();

    let reply = send_files(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Too many"),
        &files,
    )
    .await;
    assert_validation(&reply, &["attachments"], "16 files");
    let listed = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    assert!(listed.is_empty(), "{listed:?}");
    assert_no_file_stored(&app, "16 files");

    let message = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Just enough"),
        &files[..15],
    )
    .await;
    let attachments = attachments_of(&message);
    assert_eq!(attachments.len(), 15, "{message}");
    for (attachment, body) in attachments.iter().zip(&bodies) {
        assert_eq!(attachment["file_size"], body.len(), "{attachment}");
    }
    assert_serves(
        &app,
        &attachments[14]["data_url"],
        bodies[14].as_bytes(),
        "text/plain",
    )
    .await;
    assert_eq!(files_under(app.storage_dir()).len(), 15);
}

#[actix_web::test]
async fn the_file_count_limit_comes_from_the_settings() {
    let app = TestApp::spawn_with(|s| s.max_files_per_message = 2).await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let three: [(&str, &[u8]); 3] = [
        ("a.png", PNG_BYTES),
        ("b.pdf", PDF_BYTES),
        ("c.txt", TEXT_BYTES),
    ];
    let reply = send_files(&app, acme.id, id, &acme.admin_token, Some("3"), &three).await;
    assert_validation(&reply, &["attachments"], "3 files over a limit of 2");
    assert_no_file_stored(&app, "3 files over a limit of 2");
    let message = send_files_ok(&app, acme.id, id, &acme.admin_token, Some("2"), &three[..2]).await;
    assert_eq!(attachments_of(&message).len(), 2, "{message}");
}

#[actix_web::test]
async fn a_file_over_max_file_bytes_is_422_and_nothing_is_stored() {
    let app = TestApp::spawn_with(|s| s.max_file_bytes = 1024).await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let mut big = PNG_BYTES.to_vec();
    big.resize(4096, 0);
    // A small valid file first, then the big one: neither is kept.
    let reply = send_files(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Too big"),
        &[("small.txt", TEXT_BYTES), ("big.png", &big)],
    )
    .await;
    assert_validation(&reply, &["attachments"], "a file over 1 KiB");
    let listed = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    assert!(listed.is_empty(), "{listed:?}");
    assert_no_file_stored(&app, "a file over the limit");

    // Exactly at the limit is fine.
    let mut exact = PNG_BYTES.to_vec();
    exact.resize(1024, 0);
    let message = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Fits"),
        &[("exact.png", &exact)],
    )
    .await;
    assert_eq!(attachments_of(&message)[0]["file_size"], 1024, "{message}");
}

#[actix_web::test]
async fn a_body_over_max_upload_bytes_is_413_and_nothing_is_stored() {
    let app = TestApp::spawn_with(|s| s.max_upload_bytes = 8 * 1024).await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let mut big = PNG_BYTES.to_vec();
    big.resize(32 * 1024, 0);
    let reply = send_files(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Too much"),
        &[("big.png", &big)],
    )
    .await;
    assert_account_error(&reply, 413, "a body over 8 KiB");
    let listed = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    assert!(listed.is_empty(), "{listed:?}");
    assert_no_file_stored(&app, "a body over the limit");
    // A small body still goes through.
    let message = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Small"),
        &[("logo.png", PNG_BYTES)],
    )
    .await;
    assert_eq!(attachments_of(&message).len(), 1, "{message}");
}

// ---------------------------------------------------------------- the ChatAPI view

#[actix_web::test]
async fn the_chatapi_renders_the_attachments_of_a_message() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let message = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Both dialects"),
        &[("photo.png", PNG_BYTES), ("notes.txt", TEXT_BYTES)],
    )
    .await;
    let account_view = attachments_of(&message);
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;
    let listed = chatapi_message(&app, &acme.api_key, &uuid, "Both dialects").await;
    let message_uuid = str_of(&listed, "id").to_owned();
    let attachments = attachments_of(&listed);
    assert_eq!(attachments.len(), 2, "{listed}");
    for (attachment, (account, expected)) in
        attachments.iter().zip(account_view.iter().zip([PNG, TEXT]))
    {
        let keys = if expected.size.is_some() {
            CHATAPI_IMAGE_ATTACHMENT_KEYS.to_vec()
        } else {
            CHATAPI_ATTACHMENT_KEYS.to_vec()
        };
        assert_eq!(keys_of(attachment), keys, "{attachment}");
        assert_uuid(str_of(attachment, "id"));
        assert_eq!(
            attachment["message_id"],
            message_uuid.as_str(),
            "{attachment}"
        );
        assert_eq!(attachment["file_type"], expected.file_type, "{attachment}");
        assert_eq!(attachment["extension"], expected.extension, "{attachment}");
        assert_eq!(attachment["content_type"], expected.mime, "{attachment}");
        assert_eq!(
            attachment["file_size"],
            expected.bytes.len(),
            "{attachment}"
        );
        // The same stored file as the account dialect shows.
        let signed = assert_file_url(
            &app,
            &attachment["data_url"],
            acme.id,
            "attachments",
            expected.extension,
        );
        assert_eq!(
            signed.path,
            parse_signed(&app, &account["data_url"]).path,
            "{attachment}"
        );
        match expected.size {
            Some((width, height)) => {
                assert_eq!(attachment["width"], width, "{attachment}");
                assert_eq!(attachment["height"], height, "{attachment}");
                assert_eq!(attachment["thumb_url"], attachment["data_url"]);
            }
            None => assert_eq!(attachment["thumb_url"], "", "{attachment}"),
        }
        assert_serves(&app, &attachment["data_url"], expected.bytes, expected.mime).await;
    }
    // Reading the one message answers the same attachments, for every credential.
    for credential in [&acme.api_key, &acme.admin_token, &acme.agent_token] {
        let reply = app
            .get(&message_path(&message_uuid), &key(credential))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let body = reply.json();
        assert_eq!(body["status"], "success", "{body}");
        assert_eq!(
            attachments_of(&body["data"])
                .iter()
                .map(without_signatures)
                .collect::<Vec<_>>(),
            attachments
                .iter()
                .map(without_signatures)
                .collect::<Vec<_>>()
        );
    }
    // A ChatAPI message without files has none.
    let plain = app
        .send_message_ok(
            &acme.admin_token,
            &uuid,
            json!({ "content": "No files here" }),
        )
        .await;
    assert_eq!(plain["attachments"], json!([]), "{plain}");
}

// ---------------------------------------------------------------- avatars

#[actix_web::test]
async fn a_room_created_with_an_avatar_serves_it_by_a_signed_url() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = create_room_with_avatar(&app, &acme, "Pictured", "avatar.png", PNG_BYTES).await;
    assert_eq!(room["name"], "Pictured");
    let signed = assert_file_url(&app, &room["avatar_url"], acme.id, "avatars", "png");
    assert_serves(&app, &room["avatar_url"], PNG_BYTES, "image/png").await;
    assert_eq!(
        files_under(app.storage_dir()),
        [app.storage_dir().join(signed.key())]
    );
    // Reading and listing the room show the same avatar.
    let read = read_room(&app, &acme, id_of(&room)).await;
    assert_eq!(parse_signed(&app, &read["avatar_url"]).path, signed.path);
    assert_serves(&app, &read["avatar_url"], PNG_BYTES, "image/png").await;
    // An avatar is recognised by content: a GIF named .jpg is a GIF.
    let gif = create_room_with_avatar(&app, &acme, "Animated", "face.jpg", GIF_BYTES).await;
    assert_file_url(&app, &gif["avatar_url"], acme.id, "avatars", "gif");
    assert_serves(&app, &gif["avatar_url"], GIF_BYTES, "image/gif").await;
    // A room without one has none.
    let bare = app
        .create_chat_room(acme.id, &acme.admin_token, "Bare", None)
        .await;
    assert_eq!(bare["avatar_url"], Value::Null, "{bare}");
}

#[actix_web::test]
async fn an_avatar_that_is_not_an_image_is_422_and_no_room_is_created() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for (file_name, bytes) in [
        ("avatar.png", TEXT_BYTES),
        ("avatar.jpg", PDF_BYTES),
        ("avatar.webp", BINARY_BYTES),
    ] {
        let reply = room_form(
            &app,
            Method::POST,
            &chat_rooms_path(acme.id),
            &acme.admin_token,
            &[("chat_room[name]", "Nope")],
            &[(AVATAR_FIELD, file_name, bytes)],
        )
        .await;
        let body = assert_validation(&reply, &["avatar"], file_name);
        assert!(str_of(&body, "message").starts_with("Avatar "), "{body}");
    }
    assert_eq!(room_count(&app, &acme).await, 0);
    assert_no_file_stored(&app, "refused avatars");
}

#[actix_web::test]
async fn an_avatar_over_max_avatar_bytes_is_422_on_create_and_update() {
    let app = TestApp::spawn_with(|s| s.max_avatar_bytes = 1024).await;
    let acme = app.tenant("Acme").await;
    let mut big = PNG_BYTES.to_vec();
    big.resize(4096, 0);
    let reply = room_form(
        &app,
        Method::POST,
        &chat_rooms_path(acme.id),
        &acme.admin_token,
        &[("chat_room[name]", "Heavy")],
        &[(AVATAR_FIELD, "big.png", &big)],
    )
    .await;
    assert_validation(&reply, &["avatar"], "a big avatar on create");
    assert_eq!(room_count(&app, &acme).await, 0);
    assert_no_file_stored(&app, "a big avatar on create");

    let room = create_room_with_avatar(&app, &acme, "Light", "small.png", PNG_BYTES).await;
    let before = files_under(app.storage_dir());
    assert_eq!(before.len(), 1);
    let reply = room_form(
        &app,
        Method::PUT,
        &chat_room_path(acme.id, id_of(&room)),
        &acme.admin_token,
        &[("chat_room[name]", "Heavier")],
        &[(AVATAR_FIELD, "big.png", &big)],
    )
    .await;
    assert_validation(&reply, &["avatar"], "a big avatar on update");
    let read = read_room(&app, &acme, id_of(&room)).await;
    assert_eq!(read["name"], "Light", "the room is unchanged: {read}");
    assert_eq!(
        parse_signed(&app, &read["avatar_url"]).path,
        parse_signed(&app, &room["avatar_url"]).path
    );
    assert_eq!(files_under(app.storage_dir()), before);
}

#[actix_web::test]
async fn a_non_image_avatar_on_update_is_422_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = create_room_with_avatar(&app, &acme, "Kept", "a.png", PNG_BYTES).await;
    let id = id_of(&room);
    let reply = room_form(
        &app,
        Method::PUT,
        &chat_room_path(acme.id, id),
        &acme.admin_token,
        &[
            ("chat_room[name]", "Renamed"),
            ("chat_room[description]", "New"),
        ],
        &[(AVATAR_FIELD, "b.png", TEXT_BYTES)],
    )
    .await;
    assert_validation(&reply, &["avatar"], "a text avatar on update");
    let read = read_room(&app, &acme, id).await;
    assert_eq!(read["name"], "Kept", "{read}");
    assert_eq!(read["description"], Value::Null, "{read}");
    assert_serves(&app, &read["avatar_url"], PNG_BYTES, "image/png").await;
    assert_eq!(files_under(app.storage_dir()).len(), 1);
}

#[actix_web::test]
async fn replacing_an_avatar_removes_the_old_file() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = create_room_with_avatar(&app, &acme, "Faces", "one.png", PNG_BYTES).await;
    let id = id_of(&room);
    let old = room["avatar_url"].clone();
    assert!(file_of(&app, &old).is_file());

    let reply = room_form(
        &app,
        Method::PUT,
        &chat_room_path(acme.id, id),
        &acme.admin_token,
        &[("chat_room[name]", "Faces again")],
        &[(AVATAR_FIELD, "two.gif", GIF_BYTES)],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let updated = reply.json();
    assert_eq!(updated["name"], "Faces again");
    let new = updated["avatar_url"].clone();
    assert_file_url(&app, &new, acme.id, "avatars", "gif");
    assert_serves(&app, &new, GIF_BYTES, "image/gif").await;
    assert_file_gone(&app, &old, "the replaced avatar").await;
    assert_eq!(files_under(app.storage_dir()), [file_of(&app, &new)]);

    // An update without an avatar keeps it.
    let reply = room_form(
        &app,
        Method::PUT,
        &chat_room_path(acme.id, id),
        &acme.admin_token,
        &[("chat_room[description]", "Same face")],
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let kept = reply.json();
    assert_eq!(kept["description"], "Same face");
    assert_eq!(
        parse_signed(&app, &kept["avatar_url"]).path,
        parse_signed(&app, &new).path
    );
    let reply = app
        .json(
            Method::PUT,
            &chat_room_path(acme.id, id),
            &token(&acme.admin_token),
            &json!({ "chat_room": { "name": "Faces, JSON" } }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        parse_signed(&app, &reply.json()["avatar_url"]).path,
        parse_signed(&app, &new).path
    );
    assert_serves(&app, &new, GIF_BYTES, "image/gif").await;
}

#[actix_web::test]
async fn a_patch_with_an_avatar_replaces_it_too() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = create_room_with_avatar(&app, &acme, "Patched", "one.png", PNG_BYTES).await;
    let old = room["avatar_url"].clone();
    let reply = room_form(
        &app,
        Method::PATCH,
        &chat_room_path(acme.id, id_of(&room)),
        &acme.admin_token,
        &[],
        &[(AVATAR_FIELD, "two.gif", GIF_BYTES)],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let updated = reply.json();
    assert_eq!(updated["name"], "Patched", "{updated}");
    assert_file_url(&app, &updated["avatar_url"], acme.id, "avatars", "gif");
    assert_serves(&app, &updated["avatar_url"], GIF_BYTES, "image/gif").await;
    assert_file_gone(&app, &old, "the replaced avatar").await;
}

#[actix_web::test]
async fn deleting_the_avatar_answers_the_room_without_it_and_removes_the_file() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = create_room_with_avatar(&app, &acme, "Plain soon", "a.png", PNG_BYTES).await;
    let id = id_of(&room);
    let avatar = room["avatar_url"].clone();

    // An agent may not, and the avatar stays.
    let reply = delete_avatar(&app, &acme, id, &acme.agent_token).await;
    assert_account_error(&reply, 403, "an agent deletes the avatar");
    assert_eq!(reply.json(), only_administrators());
    assert_serves(&app, &avatar, PNG_BYTES, "image/png").await;

    let reply = delete_avatar(&app, &acme, id, &acme.admin_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["id"], id, "{body}");
    assert_eq!(body["name"], "Plain soon", "{body}");
    assert_eq!(body["avatar_url"], Value::Null, "{body}");
    assert_file_gone(&app, &avatar, "the deleted avatar").await;
    assert_no_file_stored(&app, "the deleted avatar");
    assert_eq!(read_room(&app, &acme, id).await["avatar_url"], Value::Null);

    // Again, with nothing to delete: still 200.
    let reply = delete_avatar(&app, &acme, id, &acme.admin_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["avatar_url"], Value::Null);

    // The API key may too.
    let other = create_room_with_avatar(&app, &acme, "Keyed", "b.gif", GIF_BYTES).await;
    let reply = delete_avatar(&app, &acme, id_of(&other), &acme.api_key).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["avatar_url"], Value::Null);
    assert_file_gone(&app, &other["avatar_url"], "the API key's deletion").await;
}

// ---------------------------------------------------------------- clean-up

#[actix_web::test]
async fn deleting_a_room_removes_its_avatar_and_attachment_files() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = create_room_with_avatar(&app, &acme, "Doomed", "a.png", PNG_BYTES).await;
    let id = id_of(&room);
    let kept = room_with_agent(&app, &acme, "Kept").await;
    let first = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("one"),
        &[("a.pdf", PDF_BYTES), ("b.txt", TEXT_BYTES)],
    )
    .await;
    let second = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        None,
        &[("c.png", PNG_BYTES)],
    )
    .await;
    let survivor = send_files_ok(
        &app,
        acme.id,
        kept,
        &acme.admin_token,
        Some("elsewhere"),
        &[("d.gif", GIF_BYTES)],
    )
    .await;
    let mut doomed: Vec<Value> = vec![room["avatar_url"].clone()];
    for message in [&first, &second] {
        doomed.extend(
            attachments_of(message)
                .iter()
                .map(|a| a["data_url"].clone()),
        );
    }
    assert_eq!(doomed.len(), 4);
    for url in &doomed {
        assert!(file_of(&app, url).is_file(), "{url} is stored");
    }

    let reply = app
        .send(
            Method::DELETE,
            &chat_room_path(acme.id, id),
            &token(&acme.admin_token),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    for url in &doomed {
        assert_file_gone(&app, url, "a file of the deleted room").await;
    }
    // Another room's files stay.
    let other = &attachments_of(&survivor)[0]["data_url"];
    assert_serves(&app, other, GIF_BYTES, "image/gif").await;
    assert_eq!(files_under(app.storage_dir()), [file_of(&app, other)]);
}

#[actix_web::test]
async fn deleting_a_message_removes_its_files_and_restoring_it_brings_back_only_the_text() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let doomed = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.agent_token,
        Some("Soon gone"),
        &[("a.png", PNG_BYTES), ("b.pdf", PDF_BYTES)],
    )
    .await;
    let kept = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.agent_token,
        Some("Staying"),
        &[("c.txt", TEXT_BYTES)],
    )
    .await;
    let urls: Vec<Value> = attachments_of(&doomed)
        .iter()
        .map(|a| a["data_url"].clone())
        .collect();
    for url in &urls {
        assert!(file_of(&app, url).is_file(), "{url} is stored");
    }
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;
    let message = chatapi_message(&app, &acme.api_key, &uuid, "Soon gone").await;
    let message_uuid = str_of(&message, "id").to_owned();
    assert_eq!(attachments_of(&message).len(), 2, "{message}");

    let reply = app
        .send(
            Method::DELETE,
            &message_path(&message_uuid),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["data"]["is_deleted"], true);
    for url in &urls {
        assert_file_gone(&app, url, "a file of the deleted message").await;
    }
    let deleted = chatapi_message(&app, &acme.api_key, &uuid, "Soon gone").await;
    assert_eq!(deleted["is_deleted"], true, "{deleted}");
    assert_eq!(deleted["attachments"], json!([]), "{deleted}");
    // The other message keeps its file.
    let other = &attachments_of(&kept)[0]["data_url"];
    assert_serves(&app, other, TEXT_BYTES, "text/plain").await;
    assert_eq!(files_under(app.storage_dir()), [file_of(&app, other)]);

    let reply = app
        .send(
            Method::POST,
            &format!("{}/restore", message_path(&message_uuid)),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let restored = chatapi_message(&app, &acme.api_key, &uuid, "Soon gone").await;
    assert_eq!(restored["is_deleted"], false, "{restored}");
    assert_eq!(restored["content"], "Soon gone", "{restored}");
    assert_eq!(restored["attachments"], json!([]), "{restored}");
    let listed = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    let shown = listed
        .iter()
        .find(|m| m["id"] == doomed["id"])
        .unwrap_or_else(|| panic!("the restored message is not listed: {listed:?}"));
    assert_eq!(shown["content"], "Soon gone", "{shown}");
    assert_eq!(shown["attachments"], json!([]), "{shown}");
    assert_eq!(files_under(app.storage_dir()).len(), 1);
}

// ---------------------------------------------------------------- the orphan sweep

#[actix_web::test]
async fn the_sweep_deletes_old_orphans_and_keeps_referenced_and_fresh_files() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let message = send_files_ok(
        &app,
        acme.id,
        id,
        &acme.admin_token,
        Some("Referenced"),
        &[("logo.png", PNG_BYTES)],
    )
    .await;
    let attachment = attachments_of(&message)[0]["data_url"].clone();
    let room = create_room_with_avatar(&app, &acme, "Pictured", "a.gif", GIF_BYTES).await;
    let avatar = room["avatar_url"].clone();

    // With no grace at all, referenced files are kept.
    let report = sweep(&app, Duration::ZERO).await;
    assert_eq!((report.examined, report.deleted), (2, 0), "{report:?}");
    assert_serves(&app, &attachment, PNG_BYTES, "image/png").await;
    assert_serves(&app, &avatar, GIF_BYTES, "image/gif").await;

    // Old orphans go, whatever folder they are in; a fresh orphan and old referenced
    // files stay.
    let two_hours = Duration::from_secs(2 * 60 * 60);
    let old_attachment = write_orphan(
        &app,
        &format!("accounts/{}/attachments/{}.png", acme.id, fresh_uuid()),
        PNG_BYTES,
    );
    age_file(&old_attachment, two_hours);
    let old_avatar = write_orphan(
        &app,
        &format!("accounts/{}/avatars/{}.gif", acme.id, fresh_uuid()),
        GIF_BYTES,
    );
    age_file(&old_avatar, two_hours);
    let fresh = write_orphan(
        &app,
        &format!("accounts/{}/attachments/{}.png", acme.id, fresh_uuid()),
        PNG_BYTES,
    );
    age_file(&file_of(&app, &attachment), two_hours);
    age_file(&file_of(&app, &avatar), two_hours);

    let report = sweep(&app, Duration::from_secs(60 * 60)).await;
    assert_eq!((report.examined, report.deleted), (5, 2), "{report:?}");
    assert!(
        !old_attachment.exists(),
        "the old orphan attachment is swept"
    );
    assert!(!old_avatar.exists(), "the old orphan avatar is swept");
    assert!(fresh.is_file(), "a fresh orphan is kept");
    assert_serves(&app, &attachment, PNG_BYTES, "image/png").await;
    assert_serves(&app, &avatar, GIF_BYTES, "image/gif").await;
    let mut expected = vec![file_of(&app, &attachment), file_of(&app, &avatar), fresh];
    expected.sort();
    assert_eq!(files_under(app.storage_dir()), expected);

    // Sweeping again deletes nothing more.
    let report = sweep(&app, Duration::from_secs(60 * 60)).await;
    assert_eq!((report.examined, report.deleted), (3, 0), "{report:?}");
}
