//! Live events over WebSocket: a room's socket in the ChatAPI dialect (`/ws/{room_id}`)
//! and a user's stream of all their rooms in the account dialect
//! (`/api/v1/accounts/{account_id}/ws`), contract §5.

use std::time::Duration;

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// A UUID that names nothing.
const UNKNOWN_UUID: &str = "00000000-0000-4000-8000-000000000000";

fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

fn id_of(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {value}"))
}

fn seq_of(message: &Value) -> i64 {
    message["seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer seq in {message}"))
}

/// The query of a socket that only listens (the API key, no participant).
fn listening(api_key: &str) -> String {
    format!("token={}", query_escape(api_key))
}

/// Joins `user_id` named `user_name` to room `uuid` with the API key.
async fn join_named(app: &TestApp, api_key: &str, uuid: &str, user_id: &str, user_name: &str) {
    let reply = app
        .join_room(
            api_key,
            uuid,
            &json!({ "user_id": user_id, "user_name": user_name }),
        )
        .await;
    assert_eq!(reply.status, 200, "joining {user_id}: {}", reply.text());
}

/// A ChatAPI room made with the API key, with participants Alice (`alice`) and Bob
/// (`bob`); answers its UUID.
async fn room_of_alice_and_bob(app: &TestApp, tenant: &Tenant, name: &str) -> String {
    let room = app
        .create_room(&tenant.api_key, json!({ "name": name }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    join_named(app, &tenant.api_key, &uuid, "alice", "Alice").await;
    join_named(app, &tenant.api_key, &uuid, "bob", "Bob").await;
    uuid
}

/// `sender` says `content` in room `uuid` through the API key; answers the message.
async fn says(app: &TestApp, tenant: &Tenant, uuid: &str, sender: &str, content: &str) -> Value {
    app.send_message_ok(
        &tenant.api_key,
        uuid,
        json!({ "sender_id": sender, "content": content }),
    )
    .await
}

/// Adds `user_ids` to account-dialect room `id` as the administrator.
async fn add_members(app: &TestApp, tenant: &Tenant, id: i64, user_ids: Value) {
    let reply = app
        .members_request(
            Method::POST,
            tenant.id,
            id,
            &tenant.admin_token,
            &json!({ "user_ids": user_ids }),
        )
        .await;
    assert_eq!(reply.status, 200, "adding {user_ids}: {}", reply.text());
}

/// Removes `user_ids` from account-dialect room `id` as the administrator.
async fn remove_members(app: &TestApp, tenant: &Tenant, id: i64, user_ids: Value) {
    let reply = app
        .members_request(
            Method::DELETE,
            tenant.id,
            id,
            &tenant.admin_token,
            &json!({ "user_ids": user_ids }),
        )
        .await;
    assert_eq!(reply.status, 200, "removing {user_ids}: {}", reply.text());
}

/// The ChatAPI rendering of one message, read with `credential`.
async fn chatapi_message(app: &TestApp, credential: &str, uuid: &str) -> Value {
    let reply = app.get(&message_path(uuid), &key(credential)).await;
    assert_eq!(reply.status, 200, "reading message: {}", reply.text());
    reply.json()["data"].clone()
}

/// The ChatAPI rendering of room `uuid`.
async fn chatapi_room(app: &TestApp, credential: &str, uuid: &str) -> Value {
    let reply = app.get(&room_path(uuid), &key(credential)).await;
    assert_eq!(reply.status, 200, "reading room: {}", reply.text());
    reply.json()["data"].clone()
}

/// The ChatAPI UUID of the account-dialect message with integer id `id` in room `uuid`.
async fn message_uuid_of(app: &TestApp, tenant: &Tenant, uuid: &str, content: &str) -> String {
    let list = app.list_messages(&tenant.api_key, uuid, "limit=100").await;
    let found: Vec<&Value> = list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["content"] == content)
        .collect();
    assert_eq!(found.len(), 1, "{content:?} in {list}");
    str_of(found[0], "id").to_owned()
}

/// The `status` of each message of room `id` as `credential` sees them, by content.
async fn statuses(
    app: &TestApp,
    tenant: &Tenant,
    id: i64,
    credential: &str,
) -> Vec<(String, String)> {
    app.chat_messages(tenant.id, id, credential, "")
        .await
        .iter()
        .map(|m| {
            (
                str_of(m, "content").to_owned(),
                str_of(m, "status").to_owned(),
            )
        })
        .collect()
}

/// Polls the statuses the administrator sees in room `id` until `content` has `status`
/// (for up to [`LIVE_WAIT`]); answers the last statuses.
async fn status_until(
    app: &TestApp,
    tenant: &Tenant,
    id: i64,
    content: &str,
    status: &str,
) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + LIVE_WAIT;
    loop {
        let seen = statuses(app, tenant, id, &tenant.admin_token).await;
        let reached = seen.iter().any(|(c, s)| c == content && s == status);
        if reached || std::time::Instant::now() >= deadline {
            return seen;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The integer id of the message saying `content` in account-dialect room `id`.
async fn listed_id(app: &TestApp, tenant: &Tenant, id: i64, content: &str) -> i64 {
    let listed = app
        .chat_messages(tenant.id, id, &tenant.admin_token, "")
        .await;
    listed
        .iter()
        .find(|m| m["content"] == content)
        .map(id_of)
        .unwrap_or_else(|| panic!("{content:?} not listed: {listed:?}"))
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

// ------------------------------------------------------------------ connecting

#[actix_web::test]
async fn the_first_frame_of_a_room_socket_is_its_connection_status() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;

    let query = format!("token={}&user_id=bob&user_name=Bob", tenant.api_key);
    let (_bob, greeting) = app.open_room_socket(&uuid, &query).await;
    assert_eq!(
        keys_of(&greeting),
        [
            "online_users",
            "room_id",
            "status",
            "total_participants",
            "user_id"
        ],
        "{greeting}"
    );
    assert_eq!(greeting["status"], "connected");
    assert_eq!(greeting["user_id"], "bob");
    assert_eq!(greeting["room_id"], uuid.as_str());
    assert_eq!(greeting["online_users"], json!(["bob"]), "{greeting}");
    assert_eq!(greeting["total_participants"], 2, "{greeting}");

    // The second participant sees both online; a listening socket is nobody.
    let query = format!("token={}&user_id=alice", tenant.api_key);
    let (_alice, greeting) = app.open_room_socket(&uuid, &query).await;
    assert_eq!(greeting["user_id"], "alice");
    let online: Vec<String> = greeting["online_users"]
        .as_array()
        .unwrap_or_else(|| panic!("online_users is not an array: {greeting}"))
        .iter()
        .map(|id| id.as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(sorted(online), strings(&["alice", "bob"]), "{greeting}");

    let mut listener = app
        .ws_connect(&room_socket_path(&uuid, &listening(&tenant.api_key)))
        .await;
    let frame = listener.next_json().await;
    assert_eq!(frame_type(&frame), "connection_status", "{frame}");
    assert_eq!(frame["room_id"], uuid.as_str(), "{frame}");
    assert_eq!(frame["data"]["user_id"], Value::Null, "{frame}");
    assert_eq!(frame["data"]["room_id"], uuid.as_str(), "{frame}");
    assert_eq!(frame["data"]["total_participants"], 2, "{frame}");
    let online: Vec<String> = frame["data"]["online_users"]
        .as_array()
        .unwrap_or_else(|| panic!("online_users is not an array: {frame}"))
        .iter()
        .map(|id| id.as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(sorted(online), strings(&["alice", "bob"]), "{frame}");
}

#[actix_web::test]
async fn a_user_token_opens_a_room_socket_as_that_user_agents_only_to_their_rooms() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;

    // An administrator sees every room of the account.
    let query = format!("token={}", tenant.admin_token);
    let (_admin, greeting) = app.open_room_socket(&uuid, &query).await;
    assert_eq!(
        greeting["user_id"],
        chat_user_id(&tenant.admin),
        "{greeting}"
    );
    assert_eq!(greeting["room_id"], uuid.as_str());

    // An agent only the rooms it belongs to.
    let agent_query = format!("token={}", tenant.agent_token);
    app.assert_refused(
        &room_socket_path(&uuid, &agent_query),
        4003,
        "an agent outside the room",
    )
    .await;
    app.join_ok(&tenant.api_key, &uuid, &chat_user_id(&tenant.agent))
        .await;
    let (_agent, greeting) = app.open_room_socket(&uuid, &agent_query).await;
    assert_eq!(
        greeting["user_id"],
        chat_user_id(&tenant.agent),
        "{greeting}"
    );
    assert_eq!(greeting["total_participants"], 3, "{greeting}");
}

#[actix_web::test]
async fn refused_room_sockets_are_closed_with_their_code() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let other = app.tenant("Other").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let api_key = tenant.api_key.as_str();

    let cases: Vec<(String, u16, &str)> = vec![
        (format!("/ws/{uuid}"), 4001, "no token"),
        (format!("/ws/{uuid}?token="), 4001, "an empty token"),
        (
            format!("/ws/{uuid}?token=ck_nope"),
            4001,
            "an unknown token",
        ),
        (
            format!("/ws/{uuid}?token={}", query_escape(PLATFORM_TOKEN)),
            4001,
            "the platform token",
        ),
        (
            format!("/ws/{UNKNOWN_UUID}?token={api_key}"),
            4002,
            "an unknown room",
        ),
        (
            format!("/ws/not-a-uuid?token={api_key}"),
            4002,
            "a malformed room id",
        ),
        (
            format!("/ws/{uuid}?token={}", other.api_key),
            4002,
            "another account's room",
        ),
        (
            format!("/ws/{uuid}?token={}", other.admin_token),
            4002,
            "another account's room, by an administrator",
        ),
        (
            format!("/ws/{uuid}?token={api_key}&user_id=ghost"),
            4003,
            "a user_id nobody has",
        ),
        (
            format!(
                "/ws/{uuid}?token={api_key}&user_id={}",
                chat_user_id(&tenant.agent)
            ),
            4003,
            "a user of the account who is not in the room",
        ),
        (
            format!("/ws/{uuid}?token={}", tenant.agent_token),
            4003,
            "an agent who is not in the room",
        ),
    ];
    for (path, code, context) in cases {
        app.assert_refused(&path, code, context).await;
    }

    // The room still serves the rightful.
    let bob = app.participant_socket(api_key, &uuid, "bob").await;
    bob.close().await;
}

#[actix_web::test]
async fn the_user_stream_greets_with_the_user_and_account_and_refuses_others() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let other = app.tenant("Other").await;

    let (mut stream, greeting) = app.open_user_stream(tenant.id, &tenant.agent_token).await;
    assert_eq!(
        keys_of(&greeting),
        ["account_id", "status", "user_id"],
        "{greeting}"
    );
    assert_eq!(
        greeting,
        json!({ "status": "connected", "user_id": tenant.agent["id"], "account_id": tenant.id })
    );
    stream.assert_alive().await;

    let path = |token: &str| user_stream_path(tenant.id, token);
    app.assert_refused(
        &format!("/api/v1/accounts/{}/ws", tenant.id),
        4001,
        "no token",
    )
    .await;
    app.assert_refused(&path("ut_nope"), 4001, "an unknown token")
        .await;
    app.assert_refused(&path(PLATFORM_TOKEN), 4001, "the platform token")
        .await;
    app.assert_refused(&path(&tenant.api_key), 4003, "the API key")
        .await;
    app.assert_refused(&path(&other.admin_token), 4001, "another account's user")
        .await;
    app.assert_refused(
        &user_stream_path(999_999, &tenant.agent_token),
        4001,
        "an account that does not exist",
    )
    .await;
    app.set_chat_rooms_feature(other.id, false).await;
    app.assert_refused(
        &user_stream_path(other.id, &other.agent_token),
        4003,
        "an account whose chat_rooms feature is off",
    )
    .await;
}

// ------------------------------------------------------------------ messages

#[actix_web::test]
async fn a_message_sent_over_http_reaches_every_socket_of_the_room_as_the_chatapi_renders_it() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let elsewhere = room_of_alice_and_bob(&app, &tenant, "Elsewhere").await;

    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    let (mut listener, _) = app
        .open_room_socket(&uuid, &listening(&tenant.api_key))
        .await;

    let first = app
        .send_message_ok(
            &tenant.api_key,
            &uuid,
            json!({
                "sender_id": "alice",
                "content": "Hello, Bob",
                "meta": { "mood": "cheerful" },
                "echo_id": "client-1",
            }),
        )
        .await;
    for socket in [&mut bob, &mut listener] {
        let frame = socket.expect("message").await;
        assert_eq!(frame["room_id"], uuid.as_str(), "{frame}");
        assert_eq!(frame["data"], first, "{}", socket.label);
    }

    // Another room's messages stay there; a reply renders like its REST twin.
    says(&app, &tenant, &elsewhere, "alice", "Not for this room").await;
    let reply = app
        .send_message_ok(
            &tenant.api_key,
            &uuid,
            json!({ "sender_id": "bob", "content": "Hi!", "reply_to": first["id"] }),
        )
        .await;
    for socket in [&mut bob, &mut listener] {
        let data = socket.expect_data("message").await;
        assert_eq!(data, reply, "{}", socket.label);
        assert_eq!(data["reply_to"], first["id"]);
    }
}

#[actix_web::test]
async fn a_message_sent_in_the_account_dialect_reaches_room_sockets_in_the_chatapi_dialect() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, uuid) = app.chat_room_with_agent(&tenant, "Support").await;
    let mut agent = app.user_room_socket(&tenant.agent_token, &uuid).await;

    let sent = app
        .send_chat_message_ok(
            tenant.id,
            id,
            &tenant.admin_token,
            "From the account dialect",
        )
        .await;
    let data = agent.expect_data("message").await;
    let message_uuid = message_uuid_of(&app, &tenant, &uuid, "From the account dialect").await;
    assert_eq!(
        data,
        chatapi_message(&app, &tenant.api_key, &message_uuid).await
    );
    assert_eq!(data["sender_id"], chat_user_id(&tenant.admin));
    assert_eq!(data["content"], sent["content"]);
}

#[actix_web::test]
async fn the_user_stream_carries_the_messages_of_every_room_of_its_user_in_the_account_dialect() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (first, _) = app.chat_room_with_agent(&tenant, "First").await;
    let (second, _) = app.chat_room_with_agent(&tenant, "Second").await;
    let private = id_of(
        &app.create_chat_room(tenant.id, &tenant.admin_token, "Admins only", None)
            .await,
    );
    let (mut agent, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;
    let (mut admin, _) = app.open_user_stream(tenant.id, &tenant.admin_token).await;

    app.send_chat_message_ok(tenant.id, private, &tenant.admin_token, "secret")
        .await;
    let sent_first = app
        .send_chat_message_ok(tenant.id, first, &tenant.admin_token, "one")
        .await;
    let sent_second = app
        .send_chat_message_ok(tenant.id, second, &tenant.admin_token, "two")
        .await;

    // The sender's own stream shows the message as the send answered it (outgoing).
    for (room, sent) in [
        (private, &json!(null)),
        (first, &sent_first),
        (second, &sent_second),
    ] {
        let frame = admin.expect("message").await;
        assert_eq!(frame["room_id"], room, "{frame}");
        if !sent.is_null() {
            assert_eq!(&frame["data"], sent, "{frame}");
        }
    }

    // The agent's stream has only its rooms, shown as the agent lists them (incoming).
    for (room, content) in [(first, "one"), (second, "two")] {
        let frame = agent.expect("message").await;
        assert_eq!(frame["room_id"], room, "{frame}");
        let listed = app
            .chat_messages(tenant.id, room, &tenant.agent_token, "")
            .await;
        let mut expected = listed
            .iter()
            .find(|m| m["content"] == content)
            .cloned()
            .unwrap_or_else(|| panic!("{content:?} not listed: {listed:?}"));
        assert_eq!(frame["data"]["message_type"], "incoming", "{frame}");
        assert_eq!(frame["data"]["status"], "sent", "{frame}");
        expected["status"] = json!("sent");
        assert_eq!(frame["data"], expected, "{frame}");
    }
}

#[actix_web::test]
async fn edits_deletes_and_restores_reach_the_sockets() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, uuid) = app.chat_room_with_agent(&tenant, "Support").await;
    let mut agent_socket = app.user_room_socket(&tenant.agent_token, &uuid).await;
    let (mut agent_stream, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;

    let sent = app
        .send_chat_message_ok(tenant.id, id, &tenant.admin_token, "first draft")
        .await;
    agent_socket.expect("message").await;
    agent_stream.expect("message").await;
    let message_uuid = message_uuid_of(&app, &tenant, &uuid, "first draft").await;

    let reply = app
        .json(
            Method::PUT,
            &message_path(&message_uuid),
            &key(&tenant.admin_token),
            &json!({ "content": "final text" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let edited = reply.json()["data"].clone();
    let frame = agent_socket.expect("message_updated").await;
    assert_eq!(frame["room_id"], uuid.as_str());
    assert_eq!(frame["data"], edited, "{frame}");
    let frame = agent_stream.expect("message_updated").await;
    assert_eq!(frame["room_id"], id, "{frame}");
    assert_eq!(frame["data"]["id"], sent["id"], "{frame}");
    assert_eq!(frame["data"]["content"], "final text", "{frame}");

    let reply = app
        .send(
            Method::DELETE,
            &message_path(&message_uuid),
            &key(&tenant.admin_token),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = agent_socket.expect_data("message_deleted").await;
    assert_eq!(data["id"], message_uuid.as_str(), "{data}");
    assert_eq!(data["is_deleted"], true, "{data}");
    let frame = agent_stream.expect("message_deleted").await;
    assert_eq!(frame["room_id"], id, "{frame}");
    assert_eq!(frame["data"]["id"], sent["id"], "{frame}");

    let reply = app
        .send(
            Method::POST,
            &format!("{}/restore", message_path(&message_uuid)),
            &key(&tenant.admin_token),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = agent_socket.expect_data("message_restored").await;
    assert_eq!(
        data,
        chatapi_message(&app, &tenant.api_key, &message_uuid).await
    );
    assert_eq!(data["is_deleted"], false, "{data}");
    assert_eq!(data["content"], "final text", "{data}");
    let frame = agent_stream.expect("message_restored").await;
    assert_eq!(frame["room_id"], id, "{frame}");
    assert_eq!(frame["data"]["id"], sent["id"], "{frame}");
    assert_eq!(frame["data"]["content"], "final text", "{frame}");
}

// ------------------------------------------------------------------ membership and rooms

#[actix_web::test]
async fn joins_and_leaves_reach_room_sockets_and_user_streams() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, uuid) = app.chat_room_with_agent(&tenant, "Support").await;
    let mut bob_room = app.user_room_socket(&tenant.admin_token, &uuid).await;
    let (mut admin, _) = app.open_user_stream(tenant.id, &tenant.admin_token).await;

    // ChatAPI join and leave.
    join_named(&app, &tenant.api_key, &uuid, "carol", "Carol").await;
    let frame = bob_room.expect("user_joined").await;
    assert_eq!(frame["room_id"], uuid.as_str());
    assert_eq!(
        membership(&frame),
        json!({ "user_id": "carol", "user_name": "Carol" })
    );
    let frame = admin.expect("user_joined").await;
    assert_eq!(frame["room_id"], id);
    assert_eq!(frame["data"]["user_name"], "Carol", "{frame}");
    let carol = frame["data"]["user_id"].clone();
    assert!(carol.is_i64(), "an integer user id on the stream: {frame}");

    let reply = app.leave_room(&tenant.api_key, &uuid, "carol").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let frame = bob_room.expect("user_left").await;
    assert_eq!(
        membership(&frame),
        json!({ "user_id": "carol", "user_name": "Carol" })
    );
    let frame = admin.expect("user_left").await;
    assert_eq!(
        membership(&frame),
        json!({ "user_id": carol, "user_name": "Carol" })
    );

    // Account-dialect members.
    remove_members(&app, &tenant, id, json!([id_of(&tenant.agent)])).await;
    let frame = bob_room.expect("user_left").await;
    assert_eq!(
        membership(&frame),
        json!({ "user_id": chat_user_id(&tenant.agent), "user_name": "Alan Agent" })
    );
    let frame = admin.expect("user_left").await;
    assert_eq!(frame["room_id"], id);
    assert_eq!(
        membership(&frame),
        json!({ "user_id": tenant.agent["id"], "user_name": "Alan Agent" })
    );
    add_members(&app, &tenant, id, json!([id_of(&tenant.agent)])).await;
    let frame = bob_room.expect("user_joined").await;
    assert_eq!(
        membership(&frame),
        json!({ "user_id": chat_user_id(&tenant.agent), "user_name": "Alan Agent" })
    );
    let frame = admin.expect("user_joined").await;
    assert_eq!(
        membership(&frame),
        json!({ "user_id": tenant.agent["id"], "user_name": "Alan Agent" })
    );
}

/// A membership frame's data without its time (`joined_at` / `left_at`, checked to be an
/// RFC 3339 string on a room socket, unix seconds on a stream) and, for a join, its `meta`
/// (checked to be an object).
fn membership(frame: &serde_json::Value) -> serde_json::Value {
    let mut data = frame["data"].clone();
    let stream = frame["room_id"].is_i64();
    let key = if frame["type"] == "user_joined" {
        "joined_at"
    } else {
        "left_at"
    };
    let at = data[key].clone();
    if stream {
        assert!(at.is_i64(), "{key} in unix seconds on a stream: {frame}");
    } else {
        let text = at.as_str().unwrap_or_default();
        // 2024-01-01T10:00:00Z, or with fractions of a second.
        assert!(
            text.len() >= 20 && text.as_bytes().get(10) == Some(&b'T') && text.ends_with('Z'),
            "{key} in RFC 3339 UTC on a room socket: {frame}"
        );
    }
    if let Some(object) = data.as_object_mut() {
        object.remove(key);
        if key == "joined_at" {
            let meta = object.remove("meta");
            assert!(
                meta.is_some_and(|m| m.is_object()),
                "a join's meta: {frame}"
            );
        }
    }
    data
}

#[actix_web::test]
async fn a_user_stream_follows_its_user_into_rooms_they_join_and_out_of_rooms_they_leave() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (kept, _) = app.chat_room_with_agent(&tenant, "Kept").await;
    let later = id_of(
        &app.create_chat_room(tenant.id, &tenant.admin_token, "Later", None)
            .await,
    );
    let (mut agent, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;

    add_members(&app, &tenant, later, json!([id_of(&tenant.agent)])).await;
    let frame = agent.expect("user_joined").await;
    assert_eq!(frame["room_id"], later, "{frame}");
    assert_eq!(frame["data"]["user_id"], tenant.agent["id"], "{frame}");
    app.send_chat_message_ok(tenant.id, later, &tenant.admin_token, "welcome")
        .await;
    let frame = agent.expect("message").await;
    assert_eq!(frame["room_id"], later, "{frame}");
    assert_eq!(frame["data"]["content"], "welcome", "{frame}");

    remove_members(&app, &tenant, later, json!([id_of(&tenant.agent)])).await;
    let frame = agent.expect("user_left").await;
    assert_eq!(frame["room_id"], later, "{frame}");
    app.send_chat_message_ok(tenant.id, later, &tenant.admin_token, "after you left")
        .await;
    app.send_chat_message_ok(tenant.id, kept, &tenant.admin_token, "still here")
        .await;
    let frame = agent.expect("message").await;
    assert_eq!(
        frame["room_id"], kept,
        "a room the agent left leaks: {frame}"
    );
    assert_eq!(frame["data"]["content"], "still here", "{frame}");
}

#[actix_web::test]
async fn room_changes_reach_the_sockets_rendered_as_the_rest_api_renders_the_room() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, uuid) = app.chat_room_with_agent(&tenant, "Support").await;
    let mut socket = app.user_room_socket(&tenant.agent_token, &uuid).await;
    let (mut stream, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;

    let reply = app
        .json(
            Method::PUT,
            &room_path(&uuid),
            &key(&tenant.api_key),
            &json!({ "name": "Support desk", "description": "Ask us" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let frame = socket.expect("room_updated").await;
    assert_eq!(frame["room_id"], uuid.as_str());
    assert_eq!(
        frame["data"],
        chatapi_room(&app, &tenant.api_key, &uuid).await
    );
    assert_eq!(frame["data"]["name"], "Support desk");
    let frame = stream.expect("room_updated").await;
    assert_eq!(frame["room_id"], id, "{frame}");
    assert_eq!(frame["data"]["id"], id, "{frame}");
    assert_eq!(frame["data"]["name"], "Support desk", "{frame}");
    assert_eq!(frame["data"]["description"], "Ask us", "{frame}");

    for (action, kind, active) in [
        ("deactivate", "room_deactivated", false),
        ("activate", "room_activated", true),
    ] {
        let reply = app
            .send(
                Method::POST,
                &room_action_path(&uuid, action),
                &key(&tenant.api_key),
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "{action}: {}", reply.text());
        let frame = socket.expect(kind).await;
        assert_eq!(frame["room_id"], uuid.as_str());
        assert_eq!(
            frame["data"],
            chatapi_room(&app, &tenant.api_key, &uuid).await
        );
        assert_eq!(frame["data"]["is_active"], active, "{frame}");
        let frame = stream.expect(kind).await;
        assert_eq!(frame["room_id"], id, "{frame}");
        assert_eq!(frame["data"]["id"], id, "{frame}");
    }
}

#[actix_web::test]
async fn a_deleted_room_says_so_and_closes_its_room_sockets_with_4002() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, uuid) = app.chat_room_with_agent(&tenant, "Doomed").await;
    let (kept, _) = app.chat_room_with_agent(&tenant, "Kept").await;
    let mut socket = app.user_room_socket(&tenant.agent_token, &uuid).await;
    let (mut listener, _) = app
        .open_room_socket(&uuid, &listening(&tenant.api_key))
        .await;
    let (mut stream, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;

    let reply = app
        .send(
            Method::DELETE,
            &chat_room_path(tenant.id, id),
            &[("api_access_token", tenant.admin_token.as_str())],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    for room_socket in [&mut socket, &mut listener] {
        let frame = room_socket.expect("room_deleted").await;
        assert_eq!(frame["room_id"], uuid.as_str());
        assert_eq!(frame["data"], json!({ "room_id": uuid }));
        room_socket.expect_close(4002).await;
    }

    // The stream says so too, and goes on with the user's other rooms.
    let frame = stream.expect("room_deleted").await;
    assert_eq!(frame["room_id"], id);
    assert_eq!(frame["data"], json!({ "room_id": id }));
    stream.assert_alive().await;
    app.send_chat_message_ok(tenant.id, kept, &tenant.admin_token, "still here")
        .await;
    let frame = stream.expect("message").await;
    assert_eq!(frame["room_id"], kept, "{frame}");

    app.assert_refused(
        &room_socket_path(&uuid, &listening(&tenant.api_key)),
        4002,
        "a deleted room",
    )
    .await;
}

// ------------------------------------------------------------------ typing and presence

#[actix_web::test]
async fn typing_reaches_the_other_sockets_of_the_room_but_none_of_the_typists() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    let (mut listener, _) = app
        .open_room_socket(&uuid, &listening(&tenant.api_key))
        .await;
    let mut alice = app
        .participant_socket(&tenant.api_key, &uuid, "alice")
        .await;
    let mut alice_again = app
        .participant_socket(&tenant.api_key, &uuid, "alice")
        .await;

    for is_typing in [true, false] {
        alice
            .send_json(&json!({ "type": "typing", "data": { "is_typing": is_typing } }))
            .await;
        for socket in [&mut bob, &mut listener] {
            let frame = socket.expect("typing").await;
            assert_eq!(frame["room_id"], uuid.as_str(), "{frame}");
            assert_eq!(
                frame["data"],
                json!({ "user_id": "alice", "user_name": "Alice", "is_typing": is_typing }),
                "{}",
                socket.label
            );
        }
    }

    // Neither of Alice's sockets heard her typing: the next thing they get is this.
    let sent = says(&app, &tenant, &uuid, "bob", "after the typing").await;
    for socket in [&mut alice, &mut alice_again] {
        let frame = socket.expect_skipping("message", &["presence"]).await;
        assert_eq!(frame["data"], sent, "{}", socket.label);
    }
}

#[actix_web::test]
async fn typing_on_a_user_stream_names_its_room() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, uuid) = app.chat_room_with_agent(&tenant, "Support").await;
    let mut admin_room = app.user_room_socket(&tenant.admin_token, &uuid).await;
    let (mut admin, _) = app.open_user_stream(tenant.id, &tenant.admin_token).await;
    let (mut agent, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;

    agent
        .send_json(&json!({ "type": "typing", "room_id": id, "data": { "is_typing": true } }))
        .await;
    let frame = admin_room.expect("typing").await;
    assert_eq!(frame["room_id"], uuid.as_str());
    assert_eq!(
        frame["data"],
        json!({ "user_id": chat_user_id(&tenant.agent), "user_name": "Alan Agent", "is_typing": true })
    );
    let frame = admin.expect("typing").await;
    assert_eq!(frame["room_id"], id);
    assert_eq!(
        frame["data"],
        json!({ "user_id": tenant.agent["id"], "user_name": "Alan Agent", "is_typing": true })
    );

    // `room_id` inside `data` works too; without one, the stream cannot tell the room.
    agent
        .send_json(&json!({ "type": "typing", "data": { "room_id": id, "is_typing": false } }))
        .await;
    let frame = admin.expect("typing").await;
    assert_eq!(frame["data"]["is_typing"], false, "{frame}");
    agent
        .send_json(&json!({ "type": "typing", "data": { "is_typing": true } }))
        .await;
    agent.expect_error(None).await;
    agent.assert_alive().await;
}

#[actix_web::test]
async fn presence_announces_a_users_first_socket_and_their_last_close() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;

    let alice = app
        .participant_socket(&tenant.api_key, &uuid, "alice")
        .await;
    let frame = bob.expect_skipping("presence", &[]).await;
    assert_eq!(frame["room_id"], uuid.as_str());
    assert_eq!(
        frame["data"],
        json!({ "user_id": "alice", "status": "online" })
    );

    // A second socket of Alice, and a listening socket, announce nothing.
    let alice_again = app
        .participant_socket(&tenant.api_key, &uuid, "alice")
        .await;
    let (listener, _) = app
        .open_room_socket(&uuid, &listening(&tenant.api_key))
        .await;
    let sent = says(&app, &tenant, &uuid, "alice", "one").await;
    let frame = bob.expect_skipping("message", &[]).await;
    assert_eq!(frame["data"], sent);

    // Closing one of two sockets announces nothing; closing the last, offline.
    alice_again.close().await;
    listener.close().await;
    let sent = says(&app, &tenant, &uuid, "alice", "two").await;
    let frame = bob.expect_skipping("message", &[]).await;
    assert_eq!(frame["data"], sent);
    alice.close().await;
    let frame = bob.expect_skipping("presence", &[]).await;
    assert_eq!(
        frame["data"],
        json!({ "user_id": "alice", "status": "offline" })
    );
}

#[actix_web::test]
async fn online_lists_the_users_with_an_open_socket_to_the_room() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    assert_eq!(
        app.online_ids(&tenant.api_key, &uuid).await,
        Vec::<String>::new()
    );

    let alice = app
        .participant_socket(&tenant.api_key, &uuid, "alice")
        .await;
    let (_listener, _) = app
        .open_room_socket(&uuid, &listening(&tenant.api_key))
        .await;
    assert_eq!(
        app.online_ids(&tenant.api_key, &uuid).await,
        strings(&["alice"])
    );
    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    assert_eq!(
        sorted(app.online_ids(&tenant.api_key, &uuid).await),
        strings(&["alice", "bob"])
    );

    bob.send_json(&json!({ "type": "get_online_users" })).await;
    let frame = bob.expect("online_users").await;
    assert_eq!(frame["room_id"], uuid.as_str());
    assert_eq!(keys_of(&frame["data"]), ["online_users", "total_online"]);
    assert_eq!(frame["data"]["total_online"], 2, "{frame}");

    alice.close().await;
    let online = app
        .online_until(&tenant.api_key, &uuid, LIVE_WAIT, |ids| ids.len() == 1)
        .await;
    assert_eq!(online, strings(&["bob"]));
    bob.send_json(&json!({ "type": "get_online_users" })).await;
    let data = bob.expect_data("online_users").await;
    assert_eq!(data, json!({ "online_users": ["bob"], "total_online": 1 }));
}

#[actix_web::test]
async fn a_users_stream_counts_as_online_in_each_of_their_rooms() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, uuid) = app.chat_room_with_agent(&tenant, "Support").await;
    let (mut agent, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;
    let agent_key = chat_user_id(&tenant.agent);
    assert_eq!(
        app.online_ids(&tenant.api_key, &uuid).await,
        vec![agent_key.clone()]
    );

    agent
        .send_json(&json!({ "type": "get_online_users", "room_id": id }))
        .await;
    let frame = agent.expect("online_users").await;
    assert_eq!(frame["room_id"], id, "{frame}");
    assert_eq!(frame["data"]["total_online"], 1, "{frame}");
    agent
        .send_json(&json!({ "type": "get_online_users" }))
        .await;
    agent.expect_error(None).await;

    agent.close().await;
    let online = app
        .online_until(&tenant.api_key, &uuid, LIVE_WAIT, <[String]>::is_empty)
        .await;
    assert_eq!(online, Vec::<String>::new());
}

/// The agent's `availability_status` in room `id`'s members list and in the room's
/// `members`, as the administrator sees them.
async fn agent_availability(app: &TestApp, tenant: &Tenant, id: i64) -> (Value, Value) {
    let agent_id = id_of(&tenant.agent);
    let availability = |members: &[Value]| -> Value {
        members
            .iter()
            .find(|m| m["id"] == agent_id)
            .map(|m| m["availability_status"].clone())
            .unwrap_or_else(|| panic!("the agent is not a member: {members:?}"))
    };
    let members = app.members(tenant.id, &tenant.admin_token, id).await;
    let room = app
        .get(
            &chat_room_path(tenant.id, id),
            &[("api_access_token", tenant.admin_token.as_str())],
        )
        .await
        .json();
    let in_room = room["members"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no members in {room}"));
    (availability(&members), availability(&in_room))
}

#[actix_web::test]
async fn a_connected_user_is_shown_online_in_member_lists() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, _) = app.chat_room_with_agent(&tenant, "Support").await;
    assert_eq!(
        agent_availability(&app, &tenant, id).await,
        (json!("offline"), json!("offline"))
    );

    let (agent, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;
    assert_eq!(
        agent_availability(&app, &tenant, id).await,
        (json!("online"), json!("online"))
    );
    agent.close().await;
    let deadline = std::time::Instant::now() + LIVE_WAIT;
    let mut now_shown = agent_availability(&app, &tenant, id).await;
    while now_shown != (json!("offline"), json!("offline")) && std::time::Instant::now() < deadline
    {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        now_shown = agent_availability(&app, &tenant, id).await;
    }
    assert_eq!(now_shown, (json!("offline"), json!("offline")));
}

// ------------------------------------------------------------------ client frames

#[actix_web::test]
async fn ping_is_answered_with_pong() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    bob.send_json(&json!({ "type": "ping" })).await;
    let frame = bob.expect_skipping("pong", &[]).await;
    assert_eq!(frame["room_id"], uuid.as_str(), "{frame}");
    let (mut stream, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;
    stream.send_json(&json!({ "type": "ping" })).await;
    stream.expect_skipping("pong", &[]).await;
}

#[actix_web::test]
async fn a_message_frame_is_stored_like_a_rest_send_and_acked_with_its_echo_id() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    let mut alice = app
        .participant_socket(&tenant.api_key, &uuid, "alice")
        .await;

    let frame = json!({
        "type": "message",
        "data": { "content": "Over the socket", "meta": { "via": "ws" }, "echo_id": "tmp-1" },
    });
    alice.send_json(&frame).await;
    let ack = alice.expect_skipping("ack", &["message", "presence"]).await;
    assert_eq!(ack["room_id"], uuid.as_str());
    assert_eq!(keys_of(&ack["data"]), ["echo_id", "message"], "{ack}");
    assert_eq!(ack["data"]["echo_id"], "tmp-1");
    let message = ack["data"]["message"].clone();
    assert_uuid(str_of(&message, "id"));
    assert_eq!(message["sender_id"], "alice", "{message}");
    assert_eq!(message["sender_name"], "Alice", "{message}");
    assert_eq!(message["content"], "Over the socket");
    assert_eq!(message["meta"], json!({ "via": "ws" }));
    assert_eq!(message["message_type"], "text");
    assert_eq!(message["echo_id"], "tmp-1");
    assert_eq!(message["seq"], 1);
    assert_eq!(message["room_id"], uuid.as_str());

    // Stored exactly as the REST API shows it; other sockets get it as a `message`.
    assert_eq!(bob.expect_data("message").await, message);
    let listed = app.list_messages(&tenant.api_key, &uuid, "").await;
    assert_eq!(listed["data"], json!([message.clone()]));

    // A retry with the same echo_id answers the first message and stores nothing.
    alice.send_json(&frame).await;
    let again = alice.expect_skipping("ack", &["message", "presence"]).await;
    assert_eq!(again["data"]["message"]["id"], message["id"], "{again}");
    assert_eq!(app.message_count(&tenant.api_key, &uuid).await, 1);

    // A reply, without echo_id.
    alice
        .send_json(&json!({
            "type": "message",
            "data": { "content": "And a reply", "reply_to": message["id"] },
        }))
        .await;
    let ack = alice.expect_skipping("ack", &["message", "presence"]).await;
    assert_eq!(ack["data"]["echo_id"], Value::Null, "{ack}");
    assert_eq!(ack["data"]["message"]["reply_to"], message["id"], "{ack}");
    assert_eq!(ack["data"]["message"]["seq"], 2, "{ack}");
    // Bob got the reply, and not the retry, next.
    assert_eq!(bob.expect_data("message").await, ack["data"]["message"]);
    assert_eq!(app.message_count(&tenant.api_key, &uuid).await, 2);
}

#[actix_web::test]
async fn a_message_frame_on_the_user_stream_names_its_room_and_acks_in_the_account_dialect() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, uuid) = app.chat_room_with_agent(&tenant, "Support").await;
    let (mut agent, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;
    let (mut admin, _) = app.open_user_stream(tenant.id, &tenant.admin_token).await;

    agent
        .send_json(&json!({
            "type": "message",
            "room_id": id,
            "data": { "content": "From my stream", "echo_id": "e-42" },
        }))
        .await;
    let ack = agent.expect_skipping("ack", &["message", "presence"]).await;
    assert_eq!(ack["room_id"], id, "{ack}");
    assert_eq!(ack["data"]["echo_id"], "e-42", "{ack}");
    let message = ack["data"]["message"].clone();
    assert!(message["id"].is_i64(), "{message}");
    assert_eq!(message["content"], "From my stream", "{message}");
    assert_eq!(message["message_type"], "outgoing", "{message}");
    assert_eq!(message["echo_id"], "e-42", "{message}");
    assert_eq!(message["sender"]["id"], tenant.agent["id"], "{message}");

    let frame = admin.expect("message").await;
    assert_eq!(frame["room_id"], id);
    assert_eq!(frame["data"]["id"], message["id"], "{frame}");
    assert_eq!(frame["data"]["message_type"], "incoming", "{frame}");
    assert_eq!(frame["data"]["echo_id"], "e-42", "{frame}");
    let listed = app.list_messages(&tenant.api_key, &uuid, "").await;
    assert_eq!(seqs_of(&listed), [1]);
    assert_eq!(listed["data"][0]["content"], "From my stream");
}

#[actix_web::test]
async fn a_listening_socket_cannot_act() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let (mut listener, _) = app
        .open_room_socket(&uuid, &listening(&tenant.api_key))
        .await;

    listener
        .send_json(&json!({ "type": "message", "data": { "content": "Who am I?" } }))
        .await;
    listener.expect_error(None).await;
    listener
        .send_json(&json!({ "type": "typing", "data": { "is_typing": true } }))
        .await;
    listener.expect_error(None).await;
    listener.assert_alive().await;
    assert_eq!(app.message_count(&tenant.api_key, &uuid).await, 0);
}

#[actix_web::test]
async fn a_read_frame_moves_the_read_position_and_is_announced() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, uuid) = app.chat_room_with_agent(&tenant, "Support").await;
    let mut admin_room = app.user_room_socket(&tenant.admin_token, &uuid).await;
    let (mut admin, _) = app.open_user_stream(tenant.id, &tenant.admin_token).await;
    let mut agent_room = app.user_room_socket(&tenant.agent_token, &uuid).await;
    let (mut agent, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;

    let first = app
        .send_chat_message_ok(tenant.id, id, &tenant.admin_token, "one")
        .await;
    let second = app
        .send_chat_message_ok(tenant.id, id, &tenant.admin_token, "two")
        .await;
    for _ in 0..2 {
        admin_room.expect("message").await;
        admin.expect("message").await;
        agent_room.expect("message").await;
        agent.expect("message").await;
    }
    assert_eq!(
        app.unread_count(tenant.id, id, &tenant.agent_token).await,
        2
    );

    // On a room socket, by UUID.
    let first_uuid = message_uuid_of(&app, &tenant, &uuid, "one").await;
    agent_room
        .send_json(&json!({ "type": "read", "data": { "message_id": first_uuid } }))
        .await;
    let frame = admin_room.expect("read").await;
    assert_eq!(frame["room_id"], uuid.as_str());
    assert_eq!(
        frame["data"],
        json!({
            "user_id": chat_user_id(&tenant.agent),
            "last_read_message_id": first_uuid,
            "last_read_seq": 1,
        })
    );
    let frame = admin.expect("read").await;
    assert_eq!(frame["room_id"], id);
    assert_eq!(
        frame["data"],
        json!({ "user_id": tenant.agent["id"], "last_read_message_id": first["id"], "last_read_seq": 1 })
    );
    assert_eq!(
        app.unread_count(tenant.id, id, &tenant.agent_token).await,
        1
    );
    let seen = status_until(&app, &tenant, id, "one", "read").await;
    assert!(
        seen.contains(&("one".to_owned(), "read".to_owned())),
        "{seen:?}"
    );

    // On the stream, by integer id.
    agent
        .send_json(
            &json!({ "type": "read", "room_id": id, "data": { "message_id": second["id"] } }),
        )
        .await;
    let frame = admin.expect("read").await;
    assert_eq!(
        frame["data"],
        json!({ "user_id": tenant.agent["id"], "last_read_message_id": second["id"], "last_read_seq": 2 })
    );
    assert_eq!(
        app.unread_count(tenant.id, id, &tenant.agent_token).await,
        0
    );
    let seen = status_until(&app, &tenant, id, "two", "read").await;
    assert_eq!(
        seen,
        [
            ("two".to_owned(), "read".to_owned()),
            ("one".to_owned(), "read".to_owned())
        ]
    );
}

#[actix_web::test]
async fn malformed_frames_are_answered_with_an_error_and_the_connection_stays_open() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;

    let frames = [
        "not JSON at all",
        "[1, 2, 3]",
        r#"{"data": {}}"#,
        r#"{"type": "dance"}"#,
        r#"{"type": 7}"#,
        r#"{"type": "typing", "data": {"is_typing": "yes"}}"#,
        r#"{"type": "read", "data": {}}"#,
        r#"{"type": "read", "data": {"message_id": "00000000-0000-4000-8000-000000000000"}}"#,
        r#"{"type": "message", "data": {}}"#,
        r#"{"type": "message", "data": {"content": ""}}"#,
        r#"{"type": "message", "data": {"content": 42}}"#,
        r#"{"type": "message", "data": "hello"}"#,
        r#"{"type": "message", "data": {"content": "x", "reply_to": "00000000-0000-4000-8000-000000000000"}}"#,
    ];
    for text in frames {
        bob.send_text(text.to_owned()).await;
        let data = bob.expect_error(None).await;
        assert_ne!(data["code"], "rate_limited", "{text}");
        bob.assert_alive().await;
    }
    let too_long = "x".repeat(10_001);
    bob.send_json(&json!({ "type": "message", "data": { "content": too_long } }))
        .await;
    bob.expect_error(None).await;
    bob.send_binary(b"{\"type\":\"ping\"}".to_vec()).await;
    bob.expect_error(None).await;
    bob.assert_alive().await;
    assert_eq!(app.message_count(&tenant.api_key, &uuid).await, 0);
}

#[actix_web::test]
async fn a_frame_over_64_kib_gets_frame_too_large_and_close_1009() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;

    // Just under the limit is a frame like any other.
    bob.send_json(&json!({ "type": "ping", "padding": "p".repeat(60 * 1024) }))
        .await;
    bob.expect("pong").await;

    bob.send_json(&json!({ "type": "ping", "padding": "p".repeat(65 * 1024) }))
        .await;
    bob.expect_error(Some("frame_too_large")).await;
    bob.expect_close(1009).await;
}

#[actix_web::test]
async fn a_burst_of_frames_is_rate_limited_then_closed_with_4004() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;

    // A steady pace is never limited.
    let mut alice = app
        .participant_socket(&tenant.api_key, &uuid, "alice")
        .await;
    for _ in 0..30 {
        alice.send_json(&json!({ "type": "ping" })).await;
        alice.expect_skipping("pong", &["presence"]).await;
        actix_web::rt::time::sleep(Duration::from_millis(60)).await;
    }

    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    for _ in 0..100 {
        bob.send_json(&json!({ "type": "ping" })).await;
    }
    let (mut pongs, mut refused) = (0, 0);
    let close = loop {
        match bob.recv(LIVE_WAIT).await {
            Some(Received::Frame(frame)) => match frame_type(&frame) {
                "pong" => pongs += 1,
                "error" => {
                    assert_eq!(frame["data"]["code"], "rate_limited", "{frame}");
                    refused += 1;
                }
                "presence" => {}
                _ => panic!("unexpected {frame}"),
            },
            Some(Received::Closed(code)) => break code,
            other => panic!("expected frames and a close, got {other:?} after {pongs} pongs"),
        }
    };
    assert_eq!(
        close,
        Some(4004),
        "after {pongs} pongs and {refused} refusals"
    );
    assert!((35..=60).contains(&pongs), "{pongs} frames were served");
    assert!(
        refused >= 19,
        "only {refused} rate_limited errors before the close"
    );
    alice.assert_alive().await;
}

#[actix_web::test]
async fn the_frame_allowance_comes_from_its_settings() {
    let app = TestApp::spawn_with(|settings| {
        settings.rate.rate_ws_frames_per_sec = 1;
        settings.rate.rate_ws_frames_burst = 5;
    })
    .await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    for _ in 0..8 {
        bob.send_json(&json!({ "type": "ping" })).await;
    }
    let (mut pongs, mut refused) = (0, 0);
    while pongs + refused < 8 {
        match bob.recv(LIVE_WAIT).await {
            Some(Received::Frame(frame)) => match frame_type(&frame) {
                "pong" => pongs += 1,
                "error" => {
                    assert_eq!(frame["data"]["code"], "rate_limited", "{frame}");
                    refused += 1;
                }
                "presence" => {}
                _ => panic!("unexpected {frame}"),
            },
            other => panic!("expected 8 answers, got {other:?} after {pongs} pongs"),
        }
    }
    // The burst of 5 (a sixth may refill during the run at 1 a second), then refusals.
    assert!((5..=6).contains(&pongs), "{pongs} pongs, {refused} refused");
    // Refused frames do not close the socket; a second later the allowance has refilled.
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    bob.assert_alive().await;
}

// ------------------------------------------------------------------ recovery

#[actix_web::test]
async fn since_seq_replays_the_messages_after_it_before_live_ones() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let mut sent = Vec::new();
    for n in 1..=5 {
        sent.push(says(&app, &tenant, &uuid, "alice", &format!("message {n}")).await);
    }

    // since_seq=7 is ahead of the room: the client has everything up to 7 already.
    let mut sockets = Vec::new();
    for since in [0_usize, 2, 5, 7] {
        let query = format!("token={}&since_seq={since}", tenant.api_key);
        let (mut socket, _) = app.open_room_socket(&uuid, &query).await;
        socket.label = format!("socket since_seq={since}");
        sockets.push((since, socket));
    }
    let (mut plain, _) = app
        .open_room_socket(&uuid, &listening(&tenant.api_key))
        .await;
    for n in 6..=8 {
        sent.push(says(&app, &tenant, &uuid, "bob", &format!("message {n}")).await);
    }

    for (since, socket) in &mut sockets {
        for expected in &sent[*since..] {
            let frame = socket.expect_skipping("message", &[]).await;
            assert_eq!(frame["room_id"], uuid.as_str(), "{frame}");
            assert_eq!(&frame["data"], expected, "since_seq={since}");
        }
    }
    for expected in &sent[5..] {
        assert_eq!(
            &plain.expect_skipping("message", &[]).await["data"],
            expected
        );
    }
}

#[actix_web::test]
async fn since_seq_has_no_gap_and_no_duplicate_while_messages_keep_coming() {
    const TOTAL: i64 = 60;
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    for n in 1..=5 {
        says(&app, &tenant, &uuid, "alice", &format!("early {n}")).await;
    }

    let post = async {
        for n in 6..=TOTAL {
            says(&app, &tenant, &uuid, "alice", &format!("busy {n}")).await;
        }
    };
    let connect = async {
        let mut sockets = Vec::new();
        for n in 0..10_i64 {
            actix_web::rt::time::sleep(Duration::from_millis(15)).await;
            let since = n % 6;
            let query = format!("token={}&since_seq={since}", tenant.api_key);
            let (socket, _) = app.open_room_socket(&uuid, &query).await;
            sockets.push((since, socket));
        }
        sockets
    };
    let ((), mut sockets) = futures_util::future::join(post, connect).await;

    for (since, socket) in &mut sockets {
        let mut seqs = Vec::new();
        while seqs.last() != Some(&TOTAL) {
            let frame = socket.expect_skipping("message", &[]).await;
            seqs.push(seq_of(&frame["data"]));
        }
        let expected: Vec<i64> = (*since + 1..=TOTAL).collect();
        assert_eq!(seqs, expected, "since_seq={since}");
    }
}

// ------------------------------------------------------------------ delivery

#[actix_web::test]
async fn a_message_handed_to_every_other_members_socket_is_delivered() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let (id, uuid) = app.chat_room_with_agent(&tenant, "Support").await;
    let cleo = app
        .create_user(tenant.id, json!({ "name": "Cleo", "role": "agent" }))
        .await;
    let cleo_token = str_of(&cleo, "access_token").to_owned();
    add_members(&app, &tenant, id, json!([id_of(&cleo)])).await;

    // Nobody connected: sent.
    app.send_chat_message_ok(tenant.id, id, &tenant.admin_token, "m1")
        .await;
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        statuses(&app, &tenant, id, &tenant.admin_token).await,
        [("m1".to_owned(), "sent".to_owned())]
    );

    // One of two other members connected: still sent.
    let (mut agent, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;
    app.send_chat_message_ok(tenant.id, id, &tenant.admin_token, "m2")
        .await;
    agent.expect("message").await;
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        statuses(&app, &tenant, id, &tenant.admin_token).await,
        [
            ("m2".to_owned(), "sent".to_owned()),
            ("m1".to_owned(), "sent".to_owned())
        ]
    );

    // Both connected (one on a room socket): delivered.
    let mut cleo_room = app.user_room_socket(&cleo_token, &uuid).await;
    app.send_chat_message_ok(tenant.id, id, &tenant.admin_token, "m3")
        .await;
    agent.expect("message").await;
    cleo_room.expect("message").await;
    let seen = status_until(&app, &tenant, id, "m3", "delivered").await;
    assert_eq!(
        seen,
        [
            ("m3".to_owned(), "delivered".to_owned()),
            ("m2".to_owned(), "delivered".to_owned()),
            ("m1".to_owned(), "delivered".to_owned())
        ]
    );

    // Read over the sockets: `read` once every other member has read it.
    let m3_id = listed_id(&app, &tenant, id, "m3").await;
    agent
        .send_json(&json!({ "type": "read", "room_id": id, "data": { "message_id": m3_id } }))
        .await;
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        statuses(&app, &tenant, id, &tenant.admin_token).await[0],
        ("m3".to_owned(), "delivered".to_owned()),
        "one of two readers"
    );
    let m3_uuid = message_uuid_of(&app, &tenant, &uuid, "m3").await;
    cleo_room
        .send_json(&json!({ "type": "read", "data": { "message_id": m3_uuid } }))
        .await;
    let seen = status_until(&app, &tenant, id, "m3", "read").await;
    assert_eq!(seen[0], ("m3".to_owned(), "read".to_owned()), "{seen:?}");
}

// ------------------------------------------------------------------ heartbeat and slow clients

#[actix_web::test]
async fn the_server_pings_and_closes_a_socket_that_stays_silent() {
    let app = TestApp::spawn_with(|s| {
        s.ws_heartbeat_secs = 1;
        s.ws_idle_secs = 3;
    })
    .await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    let mut alive = app
        .participant_socket(&tenant.api_key, &uuid, "alice")
        .await;
    let mut silent = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    silent.answer_pings = false;

    // Alice keeps reading (and so answering pings) while Bob says nothing.
    let started = std::time::Instant::now();
    let wait_silent = async {
        loop {
            match silent.recv(Duration::from_secs(10)).await {
                Some(Received::Frame(_)) => {}
                other => return (other, started.elapsed()),
            }
        }
    };
    let keep_alive = async {
        while started.elapsed() < Duration::from_secs(6) {
            if let Some(Received::Closed(_) | Received::Ended) =
                alive.recv(Duration::from_millis(200)).await
            {
                panic!("a socket that answers pings was closed");
            }
        }
    };
    let ((ended, after), ()) = futures_util::future::join(wait_silent, keep_alive).await;
    assert!(
        matches!(ended, Some(Received::Closed(Some(1001)))),
        "a silent socket should be closed with 1001 (idle); after {after:?}: {ended:?}"
    );
    assert!(silent.pings >= 1, "the server never pinged");
    assert!(
        after >= Duration::from_secs(2),
        "closed too early: {after:?}"
    );

    // The socket that answers its pings stays.
    assert!(alive.pings >= 3, "{} pings in 6 s", alive.pings);
    alive.assert_alive().await;
    let online = app
        .online_until(&tenant.api_key, &uuid, LIVE_WAIT, |ids| ids.len() == 1)
        .await;
    assert_eq!(online, strings(&["alice"]));
}

#[actix_web::test]
async fn a_client_that_never_reads_is_closed_while_a_fast_one_gets_every_message_in_order() {
    const TOTAL: i64 = 1000;
    let app = TestApp::spawn_with(|s| s.ws_queue = 16).await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&app, &tenant, "General").await;
    join_named(&app, &tenant.api_key, &uuid, "slow", "Slow").await;

    let path = room_socket_path(&uuid, &format!("token={}&user_id=slow", tenant.api_key));
    let mut slow = app.raw_socket(&path, 4096).await;
    let mut fast = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    // The raw socket returns once upgraded, before its task has recorded the presence
    // session: wait for it rather than race it.
    let deadline = std::time::Instant::now() + LIVE_WAIT;
    let mut online = sorted(app.online_ids(&tenant.api_key, &uuid).await);
    while online != strings(&["bob", "slow"]) && std::time::Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        online = sorted(app.online_ids(&tenant.api_key, &uuid).await);
    }
    assert_eq!(online, strings(&["bob", "slow"]));

    let padding = "x".repeat(8 * 1024);
    let post = async {
        for n in 1..=TOTAL {
            says(&app, &tenant, &uuid, "alice", &format!("{n} {padding}")).await;
        }
    };
    let read = async {
        let mut seqs = Vec::new();
        while seqs.len() < usize::try_from(TOTAL).unwrap_or(0) {
            match fast.recv(LIVE_WAIT).await {
                Some(Received::Frame(frame)) if frame["type"] == "message" => {
                    seqs.push(seq_of(&frame["data"]));
                }
                Some(Received::Frame(frame)) => {
                    assert!(NOISE.contains(&frame_type(&frame)), "{frame}");
                }
                other => panic!(
                    "the fast client got {} messages, then {other:?}",
                    seqs.len()
                ),
            }
        }
        seqs
    };
    let ((), seqs) = futures_util::future::join(post, read).await;
    let expected: Vec<i64> = (1..=TOTAL).collect();
    assert!(
        seqs == expected,
        "the fast client missed or reordered messages"
    );

    // The slow client got a prefix of the messages, then the server's close.
    let drained = slow.drain(Duration::from_secs(15)).await;
    let got: Vec<i64> = drained
        .frames
        .iter()
        .filter(|f| f["type"] == "message")
        .map(|f| seq_of(&f["data"]))
        .collect();
    assert!(
        (got.len() as i64) < TOTAL,
        "the slow client was never dropped: it got all {TOTAL} messages"
    );
    let prefix: Vec<i64> = (1..=i64::try_from(got.len()).unwrap_or(0)).collect();
    assert!(got == prefix, "the slow client's messages are not a prefix");
    // The close frame (1013) waits behind the frames the client never read: when the
    // client takes too long to read them, the server gives up on the close frame and just
    // ends the connection. Either way it is closed.
    assert!(
        matches!(drained.close, Some(1013) | None),
        "{} messages, then close {:?}",
        got.len(),
        drained.close
    );
    assert!(
        drained.ended,
        "the server kept the slow client's connection"
    );
    let online = app
        .online_until(&tenant.api_key, &uuid, LIVE_WAIT, |ids| ids.len() == 1)
        .await;
    assert_eq!(online, strings(&["bob"]));
}
