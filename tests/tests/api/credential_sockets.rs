//! Open sockets follow their credential (contract §7): revoking, rotating or expiring a
//! credential, or deactivating its user or account, closes that credential's open
//! sockets with 4001 within a few seconds — on every node. Each test runs two nodes
//! over one database: the change is made on node A, the sockets are open on node B.
//! A scoped credential's socket speaks for its own user, and its frames need their
//! permissions.

use std::time::{Duration, Instant};

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// How soon after the change a socket must be closed.
const CLOSED_WITHIN: Duration = Duration::from_secs(5);

/// Two nodes over one database (B declared after A: it stops first).
async fn two_nodes() -> (TestApp, TestApp) {
    let a = TestApp::spawn().await;
    let b = a.spawn_sharing().await;
    (a, b)
}

/// A ChatAPI room with participants alice and bob; answers its UUID.
async fn room_of_alice_and_bob(app: &TestApp, tenant: &Tenant) -> String {
    let room = app
        .create_room(&tenant.api_key, json!({ "name": "General" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    for user_id in ["alice", "bob"] {
        app.join_ok(&tenant.api_key, &uuid, user_id).await;
    }
    uuid
}

/// The socket of `uuid` opened with `token` alone (a user's own credential).
async fn socket_with(app: &TestApp, token: &str, uuid: &str, label: &str) -> LiveSocket {
    let mut socket = app.user_room_socket(token, uuid).await;
    socket.label = label.to_owned();
    socket
}

/// Asserts `socket` is closed with 4001 within [`CLOSED_WITHIN`] of `since`.
async fn closed_unauthorized(socket: &mut LiveSocket, since: Instant) {
    socket.expect_close(4001).await;
    let took = since.elapsed();
    assert!(
        took <= CLOSED_WITHIN,
        "{}: closed after {took:?}",
        socket.label
    );
}

/// Asserts `socket` is still open: a message sent to its room reaches it.
async fn still_open(app: &TestApp, tenant: &Tenant, uuid: &str, socket: &mut LiveSocket) {
    let sent = app
        .send_message_ok(
            &tenant.api_key,
            uuid,
            json!({ "sender_id": "bob", "content": "still there?" }),
        )
        .await;
    let got = socket.expect_data("message").await;
    assert_eq!(got["id"], sent["id"], "{}: {got}", socket.label);
}

fn ok(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.text());
}

#[actix_web::test]
async fn logout_on_one_node_closes_the_scoped_keys_socket_on_the_other_with_4001() {
    let (a, b) = two_nodes().await;
    let tenant = a.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&a, &tenant).await;
    let alice_key = a.scoped_key(&tenant.api_key, "alice", None).await;
    let bob_key = a.scoped_key(&tenant.api_key, "bob", None).await;
    let mut alice = socket_with(&b, &alice_key, &uuid, "alice's scoped socket on B").await;
    let mut bob = socket_with(&b, &bob_key, &uuid, "bob's scoped socket on B").await;

    let since = Instant::now();
    ok(&a.logout(&tenant.api_key, "alice").await, "logout");
    closed_unauthorized(&mut alice, since).await;
    // An unrelated user's socket stays open.
    still_open(&a, &tenant, &uuid, &mut bob).await;
    // And the key opens nothing any more.
    let path = room_socket_path(&uuid, &format!("token={}", query_escape(&alice_key)));
    b.assert_refused(&path, 4001, "a logged-out key").await;
}

#[actix_web::test]
async fn a_login_that_rotates_the_users_keys_closes_the_old_keys_socket() {
    let (a, b) = two_nodes().await;
    let tenant = a.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&a, &tenant).await;
    let old_key = a.scoped_key(&tenant.api_key, "alice", None).await;
    let mut old = socket_with(&b, &old_key, &uuid, "the old key's socket on B").await;

    let since = Instant::now();
    let reply = a
        .login(&tenant.api_key, &json!({ "user_id": "alice" }))
        .await;
    ok(&reply, "login");
    closed_unauthorized(&mut old, since).await;
    let new_key = str_of(&reply.json()["data"], "scoped_api_key").to_owned();
    let mut new = socket_with(&b, &new_key, &uuid, "the new key's socket on B").await;
    still_open(&a, &tenant, &uuid, &mut new).await;
}

#[actix_web::test]
async fn a_regenerated_api_key_closes_its_sockets_and_no_other() {
    let (a, b) = two_nodes().await;
    let tenant = a.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&a, &tenant).await;
    let mut for_bob = b.participant_socket(&tenant.api_key, &uuid, "bob").await;
    let query = format!("token={}", query_escape(&tenant.api_key));
    let (mut listening, _) = b.open_room_socket(&uuid, &query).await;
    listening.label = "the API key listening on B".to_owned();
    let alice_key = a.scoped_key(&tenant.api_key, "alice", None).await;
    let mut alice = socket_with(&b, &alice_key, &uuid, "alice's scoped socket on B").await;

    let since = Instant::now();
    let reply = a
        .send(
            Method::POST,
            "/api/v1/clients/regenerate-key",
            &[api_key_header(&tenant.api_key)],
            None,
        )
        .await;
    ok(&reply, "regenerate-key");
    closed_unauthorized(&mut for_bob, since).await;
    closed_unauthorized(&mut listening, since).await;
    let new_key = str_of(&reply.json()["data"], "api_key").to_owned();
    let renewed = Tenant {
        api_key: new_key,
        ..tenant
    };
    still_open(&a, &renewed, &uuid, &mut alice).await;
}

#[actix_web::test]
async fn deactivating_a_user_closes_every_socket_that_speaks_for_them() {
    let (a, b) = two_nodes().await;
    let tenant = a.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&a, &tenant).await;
    let alice_key = a.scoped_key(&tenant.api_key, "alice", None).await;
    let mut scoped = socket_with(&b, &alice_key, &uuid, "alice's scoped socket on B").await;
    let mut for_alice = b.participant_socket(&tenant.api_key, &uuid, "alice").await;
    let mut for_bob = b.participant_socket(&tenant.api_key, &uuid, "bob").await;

    let since = Instant::now();
    let reply = a
        .update_end_user(&tenant.api_key, "alice", &json!({ "is_active": false }))
        .await;
    ok(&reply, "deactivating alice");
    closed_unauthorized(&mut scoped, since).await;
    closed_unauthorized(&mut for_alice, since).await;
    still_open(&a, &tenant, &uuid, &mut for_bob).await;
}

#[actix_web::test]
async fn deleting_an_agent_closes_the_agents_stream_on_the_other_node() {
    let (a, b) = two_nodes().await;
    let tenant = a.tenant("Acme").await;
    let (mut agent, _) = b.open_user_stream(tenant.id, &tenant.agent_token).await;
    let (mut admin, _) = b.open_user_stream(tenant.id, &tenant.admin_token).await;

    let agent_id = tenant.agent["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no agent id in {}", tenant.agent));
    let since = Instant::now();
    let reply = a
        .send(
            Method::DELETE,
            &format!("/api/v1/accounts/{}/agents/{agent_id}", tenant.id),
            &[api_key_header(&tenant.api_key)],
            None,
        )
        .await;
    ok(&reply, "deleting the agent");
    closed_unauthorized(&mut agent, since).await;
    // The administrator's stream is untouched.
    assert!(
        admin.recv(Duration::from_millis(500)).await.is_none(),
        "{}: nothing should have come",
        admin.label
    );
}

#[actix_web::test]
async fn revoking_a_users_tokens_closes_their_signed_tokens_socket() {
    let (a, b) = two_nodes().await;
    let tenant = a.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&a, &tenant).await;
    let signing = a.signing_secret(&tenant.api_key).await;
    let token = mint_jwt(&signing.secret, &claims_for(&signing.client_id, "alice"));
    let mut alice = socket_with(&b, &token, &uuid, "alice's signed token on B").await;
    let bob_token = mint_jwt(&signing.secret, &claims_for(&signing.client_id, "bob"));
    let mut bob = socket_with(&b, &bob_token, &uuid, "bob's signed token on B").await;

    let since = Instant::now();
    ok(
        &a.revoke_tokens(&tenant.api_key, "alice").await,
        "revoke-tokens",
    );
    closed_unauthorized(&mut alice, since).await;
    still_open(&a, &tenant, &uuid, &mut bob).await;
}

#[actix_web::test]
async fn deactivating_the_account_closes_its_sockets_on_the_other_node() {
    let (a, b) = two_nodes().await;
    let tenant = a.tenant("Acme").await;
    let other = a.tenant("Other").await;
    let uuid = room_of_alice_and_bob(&a, &tenant).await;
    let other_uuid = room_of_alice_and_bob(&a, &other).await;
    let mut acme = b.participant_socket(&tenant.api_key, &uuid, "bob").await;
    let mut unrelated = b
        .participant_socket(&other.api_key, &other_uuid, "bob")
        .await;

    let since = Instant::now();
    let reply = a
        .json(
            Method::PATCH,
            &format!("/platform/api/v1/accounts/{}", tenant.id),
            &[platform_auth()],
            &json!({ "is_active": false }),
        )
        .await;
    ok(&reply, "deactivating the account");
    closed_unauthorized(&mut acme, since).await;
    still_open(&a, &other, &other_uuid, &mut unrelated).await;
}

#[actix_web::test]
async fn a_scoped_keys_socket_closes_with_4001_when_the_key_expires() {
    let (a, b) = two_nodes().await;
    let tenant = a.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&a, &tenant).await;
    let reply = a
        .login(
            &tenant.api_key,
            &json!({ "user_id": "alice", "ttl_secs": 2, "keep_other_sessions": true }),
        )
        .await;
    ok(&reply, "login");
    let issued = Instant::now();
    let key = str_of(&reply.json()["data"], "scoped_api_key").to_owned();
    let mut alice = socket_with(&b, &key, &uuid, "alice's two-second key on B").await;
    let bob_key = a.scoped_key(&tenant.api_key, "bob", None).await;
    let mut bob = socket_with(&b, &bob_key, &uuid, "bob's key on B").await;

    alice.expect_close(4001).await;
    let lived = issued.elapsed();
    assert!(
        lived >= Duration::from_millis(1500) && lived <= Duration::from_secs(5),
        "closed {lived:?} after the login, for a key of 2 s"
    );
    still_open(&a, &tenant, &uuid, &mut bob).await;
}

#[actix_web::test]
async fn a_scoped_socket_speaks_for_its_own_user_only() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant).await;
    let key = app.scoped_key(&tenant.api_key, "alice", None).await;
    let token = query_escape(&key);

    let (_, greeting) = app
        .open_room_socket(&uuid, &format!("token={token}&user_id=alice"))
        .await;
    assert_eq!(greeting["user_id"], "alice", "{greeting}");
    let path = room_socket_path(&uuid, &format!("token={token}&user_id=bob"));
    app.assert_refused(&path, 4003, "a scoped key naming another user")
        .await;
}

#[actix_web::test]
async fn a_scoped_socket_needs_read_messages_and_its_frames_their_permissions() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant).await;

    let writer = app
        .scoped_key(&tenant.api_key, "alice", Some(&["send_messages"]))
        .await;
    let path = room_socket_path(&uuid, &format!("token={}", query_escape(&writer)));
    app.assert_refused(&path, 4003, "a key without read_messages")
        .await;

    let reader = app
        .scoped_key(&tenant.api_key, "bob", Some(&["read_messages"]))
        .await;
    let mut socket = socket_with(&app, &reader, &uuid, "bob's read-only socket").await;
    socket
        .send_json(&json!({ "type": "typing", "data": { "is_typing": true } }))
        .await;
    socket.expect_error(Some("forbidden")).await;
    socket
        .send_json(&json!({ "type": "message", "data": { "content": "hello" } }))
        .await;
    socket.expect_error(Some("forbidden")).await;
    // The socket stays open, and reading works.
    socket.send_json(&json!({ "type": "ping" })).await;
    let pong: Value = socket.expect("pong").await;
    assert_eq!(pong["type"], "pong");
}

#[actix_web::test]
async fn a_client_deactivating_itself_closes_its_sockets_on_the_other_node() {
    let (a, b) = two_nodes().await;
    let tenant = a.tenant("Acme").await;
    let other = a.tenant("Other").await;
    let uuid = room_of_alice_and_bob(&a, &tenant).await;
    let other_uuid = room_of_alice_and_bob(&a, &other).await;
    let mut acme = b.participant_socket(&tenant.api_key, &uuid, "bob").await;
    let mut unrelated = b
        .participant_socket(&other.api_key, &other_uuid, "bob")
        .await;

    let since = Instant::now();
    let reply = a
        .send(
            Method::DELETE,
            "/api/v1/clients/me",
            &[api_key_header(&tenant.api_key)],
            None,
        )
        .await;
    ok(&reply, "DELETE /api/v1/clients/me");
    closed_unauthorized(&mut acme, since).await;
    still_open(&a, &other, &other_uuid, &mut unrelated).await;
}
