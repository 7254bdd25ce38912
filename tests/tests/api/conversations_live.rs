//! Live events of conversations (CONTRACT §5, §10) on both socket kinds: a room's socket
//! (ChatAPI rendering) and a user's stream (account rendering): `reaction_added` /
//! `reaction_removed`, `message_pinned` / `message_unpinned`, `mention`, and the fields
//! ChatAPI shows on `user_joined`, `user_left` and `message_deleted`.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

fn id(message: &Value) -> &str {
    str_of(message, "id")
}

/// Room `uuid`'s socket with the API key, listening as no one.
async fn listening_socket(app: &TestApp, api_key: &str, uuid: &str) -> LiveSocket {
    let query = format!("token={}", query_escape(api_key));
    let (mut socket, _) = app.open_room_socket(uuid, &query).await;
    socket.label = format!("listening socket of {uuid}");
    socket
}

/// A ChatAPI room of Alice, Bob and the tenant's agent; answers its UUID and the agent's
/// ChatAPI user id.
async fn room_with_agent(app: &TestApp, tenant: &Tenant) -> (String, String) {
    let agent = chat_user_id(&tenant.agent);
    let uuid = app
        .room_with(
            &tenant.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob"), (&agent, "Alan Agent")],
        )
        .await;
    (uuid, agent)
}

#[actix_web::test]
async fn reactions_reach_room_sockets_and_user_streams_once() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let (room, _) = room_with_agent(&app, &acme).await;
    let room_id = app.room_int_id(&room);
    let mut socket = listening_socket(&app, &acme.api_key, &room).await;
    let (mut stream, _) = app.open_user_stream(acme.id, &acme.agent_token).await;
    let message = app
        .say(&acme.api_key, &room, "alice", "Release is out")
        .await;
    socket.expect("message").await;
    stream.expect("message").await;
    let message_id = app.message_int_id(id(&message));
    let bob = app.user_int_id(acme.id, "bob");

    app.react_ok(&acme.api_key, id(&message), "👍", Some("bob"))
        .await;
    let frame = socket.expect("reaction_added").await;
    assert_eq!(frame["room_id"], room.as_str(), "{frame}");
    assert_eq!(
        frame["data"],
        json!({ "message_id": id(&message), "emoji": "👍", "user_id": "bob" })
    );
    let frame = stream.expect("reaction_added").await;
    assert_eq!(frame["room_id"], room_id, "{frame}");
    assert_eq!(
        frame["data"],
        json!({ "message_id": message_id, "emoji": "👍", "user_id": bob })
    );

    // A repeat sends nothing: the next frame is the removal.
    app.react_ok(&acme.api_key, id(&message), "👍", Some("bob"))
        .await;
    let reply = app
        .unreact(&acme.api_key, id(&message), "👍", Some("bob"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let frame = socket.expect("reaction_removed").await;
    assert_eq!(
        frame["data"],
        json!({ "message_id": id(&message), "emoji": "👍", "user_id": "bob" })
    );
    let frame = stream.expect("reaction_removed").await;
    assert_eq!(
        frame["data"],
        json!({ "message_id": message_id, "emoji": "👍", "user_id": bob })
    );
    // Removing again sends nothing either: the next frames are the next message's.
    app.unreact(&acme.api_key, id(&message), "👍", Some("bob"))
        .await;
    app.say(&acme.api_key, &room, "alice", "next").await;
    assert_eq!(socket.expect("message").await["data"]["content"], "next");
    assert_eq!(stream.expect("message").await["data"]["content"], "next");

    // A reaction in the account dialect reaches both too.
    let reply = app
        .chat_request(
            Method::POST,
            &format!(
                "{}/reactions",
                chat_message_path(acme.id, room_id, message_id)
            ),
            &acme.agent_token,
            Some(&json!({ "emoji": ":tada:" })),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let frame = socket.expect("reaction_added").await;
    assert_eq!(
        frame["data"],
        json!({ "message_id": id(&message), "emoji": ":tada:", "user_id": chat_user_id(&acme.agent) })
    );
    let frame = stream.expect("reaction_added").await;
    assert_eq!(frame["data"]["user_id"], acme.agent["id"], "{frame}");
}

#[actix_web::test]
async fn pins_reach_room_sockets_and_user_streams() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let (room, _) = room_with_agent(&app, &acme).await;
    let room_id = app.room_int_id(&room);
    app.join_ok(&acme.api_key, &room, &chat_user_id(&acme.admin))
        .await;
    let mut socket = listening_socket(&app, &acme.api_key, &room).await;
    let (mut stream, _) = app.open_user_stream(acme.id, &acme.agent_token).await;
    let message = app.say(&acme.api_key, &room, "alice", "Rules").await;
    socket.expect("message").await;
    stream.expect("message").await;
    let message_id = app.message_int_id(id(&message));

    let reply = app.pin(&acme.admin_token, id(&message), true).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let pinned = reply.json()["data"].clone();
    let frame = socket.expect("message_pinned").await;
    assert_eq!(frame["room_id"], room.as_str(), "{frame}");
    assert_eq!(frame["data"], pinned, "the message as ChatAPI renders it");
    assert_eq!(
        frame["data"]["pinned_by"],
        chat_user_id(&acme.admin).as_str()
    );
    let frame = stream.expect("message_pinned").await;
    assert_eq!(frame["room_id"], room_id, "{frame}");
    assert_eq!(frame["data"]["id"], message_id, "{frame}");
    assert_eq!(frame["data"]["pinned_by"], acme.admin["id"], "{frame}");
    assert_eq!(
        frame["data"]["pinned_at"].as_i64(),
        Some(parse_rfc3339_utc(str_of(&pinned, "pinned_at"))),
        "{frame}"
    );

    // A repeat sends nothing; an unpin is announced.
    app.pin(&acme.api_key, id(&message), true).await;
    let reply = app.pin(&acme.api_key, id(&message), false).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let frame = socket.expect("message_unpinned").await;
    assert_eq!(frame["data"]["id"], id(&message), "{frame}");
    assert_eq!(frame["data"]["pinned_at"], json!(null), "{frame}");
    assert_eq!(frame["data"]["pinned_by"], json!(null), "{frame}");
    let frame = stream.expect("message_unpinned").await;
    assert_eq!(frame["data"]["id"], message_id, "{frame}");
    assert_eq!(frame["data"]["pinned_at"], json!(null), "{frame}");
}

#[actix_web::test]
async fn a_mention_reaches_the_mentioned_users_stream_only() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Support", None)
        .await;
    let room_id = int_id(&room);
    let agent_id = int_id(&acme.agent);
    let reply = app
        .members_request(
            Method::POST,
            acme.id,
            room_id,
            &acme.admin_token,
            &json!({ "user_ids": [agent_id] }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (mut agent, _) = app.open_user_stream(acme.id, &acme.agent_token).await;
    let (mut admin, _) = app.open_user_stream(acme.id, &acme.admin_token).await;

    let reply = app
        .post_chat_message(
            acme.id,
            room_id,
            &acme.admin_token,
            &json!({ "chat_room_message": {
                "content": "@Alan please check",
                "content_attributes": { "mentions": [agent_id] },
            } }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let sent = reply.json();
    let frame = agent.expect("message").await;
    assert_eq!(frame["data"]["id"], sent["id"], "{frame}");
    let frame = agent.expect("mention").await;
    assert_eq!(frame["room_id"], room_id, "{frame}");
    let data = &frame["data"];
    assert_eq!(data["message_id"], sent["id"], "{frame}");
    assert_eq!(data["room_id"], room_id, "{frame}");
    assert_eq!(data["mentioned_user_id"], agent_id, "{frame}");
    assert_eq!(data["sender_id"], acme.admin["id"], "{frame}");

    // The sender is not mentioned: its stream's next frame after its message is the next
    // message, which mentions no one.
    let frame = admin.expect("message").await;
    assert_eq!(frame["data"]["id"], sent["id"], "{frame}");
    let plain = app
        .send_chat_message_ok(acme.id, room_id, &acme.admin_token, "thanks")
        .await;
    let frame = admin.expect("message").await;
    assert_eq!(frame["data"]["id"], plain["id"], "{frame}");
    let frame = agent.expect("message").await;
    assert_eq!(frame["data"]["id"], plain["id"], "{frame}");

    // A ChatAPI mention (meta.mentions, by user_id) reaches the stream the same way.
    let uuid = app.room_uuid_of(acme.id, &acme.admin_token, room_id).await;
    let sent = app
        .send_message_ok(
            &acme.api_key,
            &uuid,
            json!({
                "sender_id": chat_user_id(&acme.admin),
                "content": "and this one",
                "meta": { "mentions": [chat_user_id(&acme.agent)] },
            }),
        )
        .await;
    let message_id = app.message_int_id(id(&sent));
    agent.expect("message").await;
    let frame = agent.expect("mention").await;
    assert_eq!(frame["data"]["message_id"], message_id, "{frame}");
    assert_eq!(frame["data"]["mentioned_user_id"], agent_id, "{frame}");
}

#[actix_web::test]
async fn joins_and_leaves_carry_their_time_and_the_members_meta() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let admin = chat_user_id(&acme.admin);
    let room = app
        .room_with(&acme.api_key, "General", &[(&admin, "Ada Admin")])
        .await;
    let room_id = app.room_int_id(&room);
    let mut socket = listening_socket(&app, &acme.api_key, &room).await;
    let (mut stream, _) = app.open_user_stream(acme.id, &acme.admin_token).await;

    let reply = app
        .join_room(
            &acme.api_key,
            &room,
            &json!({ "user_id": "carol", "user_name": "Carol", "meta": { "plan": "pro" } }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let frame = socket.expect("user_joined").await;
    assert_eq!(frame["room_id"], room.as_str(), "{frame}");
    let data = &frame["data"];
    assert_eq!(
        keys_of(data),
        ["joined_at", "meta", "user_id", "user_name"],
        "{frame}"
    );
    assert_eq!(data["user_id"], "carol", "{frame}");
    assert_eq!(data["user_name"], "Carol", "{frame}");
    assert_eq!(data["meta"], json!({ "plan": "pro" }), "{frame}");
    let joined = assert_rfc3339_near_now(&data["joined_at"]);
    // The same time the participants list shows.
    let participants = app.participants(&acme.api_key, &room).await;
    let carol = participants
        .iter()
        .find(|p| p["user_id"] == "carol")
        .unwrap_or_else(|| panic!("carol is not listed: {participants:?}"));
    assert_eq!(carol["joined_at"], data["joined_at"], "{carol}");
    let frame = stream.expect("user_joined").await;
    assert_eq!(frame["room_id"], room_id, "{frame}");
    let data = &frame["data"];
    assert_eq!(
        data["user_id"],
        app.user_int_id(acme.id, "carol"),
        "{frame}"
    );
    assert_eq!(data["user_name"], "Carol", "{frame}");
    assert_eq!(data["meta"], json!({ "plan": "pro" }), "{frame}");
    assert_eq!(data["joined_at"].as_i64(), Some(joined), "{frame}");

    let reply = app.leave_room(&acme.api_key, &room, "carol").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let frame = socket.expect("user_left").await;
    let data = &frame["data"];
    assert_eq!(data["user_id"], "carol", "{frame}");
    assert_rfc3339_near_now(&data["left_at"]);
    if let Some(name) = data.get("user_name") {
        assert_eq!(name, "Carol", "{frame}");
    }
    let frame = stream.expect("user_left").await;
    let data = &frame["data"];
    assert_eq!(
        data["user_id"],
        app.user_int_id(acme.id, "carol"),
        "{frame}"
    );
    assert_unix_near_now(&data["left_at"]);
}

#[actix_web::test]
async fn a_deleted_message_names_who_deleted_it_and_when() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let (room, agent) = room_with_agent(&app, &acme).await;
    let room_id = app.room_int_id(&room);
    let mut socket = listening_socket(&app, &acme.api_key, &room).await;
    let (mut stream, _) = app.open_user_stream(acme.id, &acme.agent_token).await;
    let alices = app.say(&acme.api_key, &room, "alice", "oops").await;
    let agents = app
        .send_message_ok(
            &acme.agent_token,
            &room,
            json!({ "sender_id": agent, "content": "mine" }),
        )
        .await;
    for _ in 0..2 {
        socket.expect("message").await;
        stream.expect("message").await;
    }

    let delete = |credential: &str, uuid: &str| {
        let (app, credential, path) = (&app, credential.to_owned(), message_path(uuid));
        async move {
            let reply = app
                .send(Method::DELETE, &path, &key(&credential), None)
                .await;
            assert_eq!(reply.status, 200, "deleting: {}", reply.text());
        }
    };
    // By the API key: the system.
    delete(&acme.api_key, id(&alices)).await;
    let data = socket.expect_data("message_deleted").await;
    assert_eq!(data["id"], id(&alices), "{data}");
    assert_eq!(data["is_deleted"], true, "{data}");
    assert_eq!(data["deleted_by"], "system", "{data}");
    let deleted_at = assert_rfc3339_near_now(&data["deleted_at"]);
    let frame = stream.expect("message_deleted").await;
    assert_eq!(frame["room_id"], room_id, "{frame}");
    assert_eq!(
        frame["data"]["id"],
        app.message_int_id(id(&alices)),
        "{frame}"
    );
    assert_eq!(frame["data"]["deleted_by"], json!(null), "{frame}");
    assert_eq!(
        frame["data"]["deleted_at"].as_i64(),
        Some(deleted_at),
        "{frame}"
    );

    // By its sender: that user.
    delete(&acme.agent_token, id(&agents)).await;
    let data = socket.expect_data("message_deleted").await;
    assert_eq!(data["id"], id(&agents), "{data}");
    assert_eq!(data["deleted_by"], agent.as_str(), "{data}");
    assert_rfc3339_near_now(&data["deleted_at"]);
    let frame = stream.expect("message_deleted").await;
    assert_eq!(frame["data"]["deleted_by"], acme.agent["id"], "{frame}");
    assert_unix_near_now(&frame["data"]["deleted_at"]);
}
