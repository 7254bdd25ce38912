//! Stored files are served by signed, expiring URLs, without a credential.

use chat_http::signing::UrlSigner;
use chat_tests::*;

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    2, 0, 0, 0, 3, 8, 6, 0, 0, 0,
];

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Puts `bytes` in the server's storage under `key`, as an upload would.
fn store(app: &TestApp, key: &str, bytes: &[u8]) {
    let path = app.storage_dir().join(key);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
}

fn signed(path: &str, expires: i64) -> String {
    let signature = UrlSigner::new(URL_SECRET.as_bytes()).sign(path, expires);
    format!("{path}?expires={expires}&signature={signature}")
}

#[actix_web::test]
async fn a_signed_url_serves_the_file_without_a_credential() {
    let app = TestApp::spawn().await;
    store(&app, "accounts/1/attachments/photo.png", PNG);
    let reply = app
        .get(
            &signed("/files/accounts/1/attachments/photo.png", now() + 300),
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.body, PNG);
    assert_eq!(reply.header("content-type"), Some("image/png"));
    assert_eq!(
        reply.header("content-length"),
        Some(PNG.len().to_string().as_str())
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    let disposition = reply.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("inline") && disposition.contains("photo.png"),
        "{disposition}"
    );
    let cache = reply.header("cache-control").unwrap_or_default();
    let max_age: i64 = cache
        .strip_prefix("private, max-age=")
        .and_then(|age| age.parse().ok())
        .unwrap_or(-1);
    assert!((295..=300).contains(&max_age), "{cache}");
}

#[actix_web::test]
async fn other_files_download_as_attachments_of_their_type() {
    let app = TestApp::spawn().await;
    store(&app, "accounts/1/attachments/blob.bin", &[0, 1, 2, 3]);
    let reply = app
        .get(
            &signed("/files/accounts/1/attachments/blob.bin", now() + 60),
            &[],
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/octet-stream")
    );
    let disposition = reply.header("content-disposition").unwrap_or_default();
    assert!(disposition.starts_with("attachment"), "{disposition}");
}

#[actix_web::test]
async fn tampered_expired_or_unsigned_urls_are_refused_with_403() {
    let app = TestApp::spawn().await;
    store(&app, "accounts/1/attachments/photo.png", PNG);
    store(&app, "accounts/2/attachments/photo.png", PNG);
    let expires = now() + 300;
    let good = UrlSigner::new(URL_SECRET.as_bytes())
        .sign("/files/accounts/1/attachments/photo.png", expires);
    let other_secret = UrlSigner::new(b"another-secret-another-secret-another")
        .sign("/files/accounts/1/attachments/photo.png", expires);
    for url in [
        // Another account's file with this file's signature.
        format!("/files/accounts/2/attachments/photo.png?expires={expires}&signature={good}"),
        // A later expiry with the same signature.
        format!(
            "/files/accounts/1/attachments/photo.png?expires={}&signature={good}",
            expires + 1
        ),
        // A signature made with another secret, or mangled.
        format!(
            "/files/accounts/1/attachments/photo.png?expires={expires}&signature={other_secret}"
        ),
        format!("/files/accounts/1/attachments/photo.png?expires={expires}&signature=zz{good}"),
        // No signature at all.
        "/files/accounts/1/attachments/photo.png".to_owned(),
        // Properly signed, but expired.
        signed("/files/accounts/1/attachments/photo.png", now() - 1),
    ] {
        let reply = app.get(&url, &[]).await;
        assert_eq!(reply.status, 403, "{url}: {}", reply.text());
        assert_eq!(
            reply.json(),
            serde_json::json!({ "error": "This link is invalid or has expired" })
        );
        assert!(reply.body.len() < 100, "no file bytes leak");
    }
}

#[actix_web::test]
async fn a_signed_url_of_a_missing_file_or_a_path_outside_storage_is_404() {
    let app = TestApp::spawn().await;
    let secret = app.storage_dir().join("secret.txt");
    std::fs::create_dir_all(app.storage_dir()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&secret, b"not for you").unwrap_or_else(|e| panic!("{e}"));
    // A signed link to a file that is not there: 404.
    let missing = app
        .get(
            &signed("/files/accounts/1/attachments/missing.png", now() + 60),
            &[],
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.text());
    assert_eq!(
        missing.json(),
        serde_json::json!({ "error": "File not found" })
    );
    // Paths that leave the storage tree or name its partial files are no keys: never served.
    for path in [
        "/files/accounts/1/attachments/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "/files/../secret.txt",
        "/files/.partial/anything",
    ] {
        let reply = app.get(&signed(path, now() + 60), &[]).await;
        assert!(
            reply.status == 404 || reply.status == 403,
            "{path}: {} {}",
            reply.status,
            reply.text()
        );
        assert!(!reply.text().contains("not for you"), "{path}");
    }
}

#[actix_web::test]
async fn the_file_route_is_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let document = app.get("/openapi.json", &[]).await.json();
    assert!(
        document["paths"]["/files/{key}"]["get"].is_object(),
        "{}",
        document["paths"]
    );
}
