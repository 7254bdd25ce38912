//! What the web client (CONTRACT §11) needs of the server: its files at `/app/`, served
//! from the binary with a strict content security policy; `GET /api/v1/me`, who a user's
//! credential is; `GET /api/v1/rooms/{room_id}/receipts`, the members' read and delivered
//! positions; and the account dialect's rooms naming their ChatAPI id.

use chat_tests::*;
use serde_json::{Value, json};

/// The page, its headers, and the module it loads.
#[actix_web::test]
async fn the_app_is_served_from_the_binary_with_a_strict_policy() {
    let app = TestApp::spawn().await;
    for path in ["/app", "/app/"] {
        let page = app.get(path, &[]).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text());
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let policy = page.header("content-security-policy").unwrap_or_default();
        for rule in [
            "default-src 'self'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(rule), "{policy}");
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
        assert!(
            page.text().contains("<script type=\"module\""),
            "{}",
            page.text()
        );
    }
    // Every module the page names is served as JavaScript.
    let page = app.get("/app/", &[]).await.text();
    let scripts: Vec<&str> = page
        .split("src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|src| src.ends_with(".js"))
        .collect();
    assert!(!scripts.is_empty(), "{page}");
    for src in scripts {
        let script = app.get(src, &[]).await;
        assert_eq!(script.status, 200, "{src}");
        assert_eq!(
            script.header("content-type"),
            Some("text/javascript; charset=utf-8"),
            "{src}"
        );
        // Unchanged since its tag: 304, no body.
        let etag = script.header("etag").unwrap_or_default().to_owned();
        assert!(etag.starts_with('"'), "{src}: {etag:?}");
        let again = app.get(src, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304, "{src}");
        assert!(again.body.is_empty());
    }
}

#[actix_web::test]
async fn nothing_outside_the_clients_files_is_served() {
    let app = TestApp::spawn().await;
    for path in [
        "/app/nope.js",
        "/app/..%2FCargo.toml",
        "/app/js/..%2F..%2Fbuild.rs",
        "/app/.hidden",
        "/app/README.md",
    ] {
        let reply = app.get(path, &[]).await;
        assert_chatapi_error(&reply, 404, "NOT_FOUND", path);
    }
}

#[actix_web::test]
async fn me_is_the_user_behind_a_users_credential_and_never_the_api_key() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let key = app.scoped_key(&acme.api_key, "ann", None).await;
    let reply = app
        .get("/api/v1/me", &[("Authorization", &format!("Bearer {key}"))])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let me = reply.json()["data"].clone();
    assert_eq!(me["user_id"], "ann", "{me}");
    assert_eq!(me["account_id"], acme.id, "{me}");
    let client = app
        .get("/api/v1/clients/me", &[api_key_header(&acme.api_key)])
        .await
        .json();
    assert_eq!(me["client_id"], client["data"]["id"], "{me}");
    assert_eq!(me["role"], "agent");
    assert_eq!(
        me["permissions"],
        json!(["read_messages", "send_messages", "join_rooms"])
    );
    assert_eq!(
        me["id"].as_i64(),
        Some(app.user_int_id(acme.id, "ann")),
        "{me}"
    );

    // A user access token: its role decides, no permissions listed.
    let reply = app
        .get("/api/v1/me", &[("api_access_token", &acme.admin_token)])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let me = reply.json()["data"].clone();
    assert_eq!(
        (me["role"].clone(), me["permissions"].clone()),
        (json!("administrator"), Value::Null)
    );
    assert_eq!(me["id"], acme.admin["id"], "{me}");

    let reply = app
        .get("/api/v1/me", &[api_key_header(&acme.api_key)])
        .await;
    assert_chatapi_error(&reply, 403, "NOT_A_USER", "the API key");
    let reply = app.get("/api/v1/me", &[]).await;
    assert_chatapi_error(&reply, 401, "UNAUTHORIZED", "no credential");
}

#[actix_web::test]
async fn receipts_show_every_members_positions_to_the_rooms_readers() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .room_with(&acme.api_key, "General", &[("ann", "Ann"), ("bob", "Bob")])
        .await;
    let first = app.say(&acme.api_key, &room, "ann", "one").await;
    app.say(&acme.api_key, &room, "ann", "two").await;
    let bob = app.scoped_key(&acme.api_key, "bob", None).await;
    let reply = app
        .read_room(&bob, &room, &json!({ "message_id": str_of(&first, "id") }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    let path = format!("/api/v1/rooms/{room}/receipts");
    let reply = app
        .get(&path, &[("Authorization", &format!("Bearer {bob}"))])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let receipts = reply.json()["data"].clone();
    let of = |user: &str| {
        receipts
            .as_array()
            .and_then(|all| all.iter().find(|r| r["user_id"] == user))
            .cloned()
            .unwrap_or_else(|| panic!("no receipt of {user}: {receipts}"))
    };
    // The sender has read what it sent; bob read the first message.
    assert_eq!(of("ann")["last_read_seq"], 2, "{receipts}");
    assert_eq!(of("bob")["last_read_seq"], 1, "{receipts}");
    let delivered = of("bob")["last_delivered_seq"].as_i64().unwrap_or(-1);
    assert!(delivered >= 1, "{receipts}");
    assert_eq!(
        keys_of(&of("bob")),
        ["last_delivered_seq", "last_read_seq", "user_id"]
    );

    // Someone outside the room sees nothing of it.
    let cat = app.scoped_key(&acme.api_key, "cat", None).await;
    let reply = app
        .get(&path, &[("Authorization", &format!("Bearer {cat}"))])
        .await;
    assert_chatapi_error(&reply, 403, "ROOM_ACCESS_DENIED", "a non-member");
}

#[actix_web::test]
async fn an_account_room_names_its_chatapi_id() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .room_with(&acme.api_key, "General", &[("ann", "Ann")])
        .await;
    let ann = app.scoped_key(&acme.api_key, "ann", None).await;
    let reply = app
        .get(&chat_rooms_path(acme.id), &[("api_access_token", &ann)])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let rooms = reply.json();
    assert_eq!(rooms[0]["uuid"], room.as_str(), "{rooms}");
    assert_eq!(rooms[0]["id"], app.room_int_id(&room), "{rooms}");
}
