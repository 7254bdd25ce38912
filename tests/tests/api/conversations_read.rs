//! Read state in the ChatAPI dialect (CONTRACT §10): `POST /api/v1/rooms/{room_id}/read`
//! with the API key for a `user_id` or with the user's own credential; `unread_count` and
//! `unread_mentions` on the rooms list for a user; `unread_mentions` beside
//! `unread_count` in the account dialect.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

fn id(message: &Value) -> &str {
    str_of(message, "id")
}

/// `(unread_count, unread_mentions)` of room `uuid` in the ChatAPI rooms list `?{query}`
/// as `credential` sees it.
async fn unread(app: &TestApp, credential: &str, query: &str, uuid: &str) -> (Value, Value) {
    let room = app.room_listed(credential, query, uuid).await;
    (
        room["unread_count"].clone(),
        room["unread_mentions"].clone(),
    )
}

/// Reads room `uuid` with `body` as `credential`, expecting 200; answers `data`.
async fn read_ok(app: &TestApp, credential: &str, uuid: &str, body: Value) -> Value {
    let reply = app.read_room(credential, uuid, &body).await;
    assert_eq!(reply.status, 200, "reading {body}: {}", reply.text());
    let answer = reply.json();
    assert_eq!(answer["status"], "success", "{answer}");
    let data = answer["data"].clone();
    assert_eq!(
        keys_of(&data),
        [
            "last_read_message_id",
            "last_read_seq",
            "room_id",
            "unread_count",
            "user_id"
        ],
        "{data}"
    );
    data
}

/// `sender` says `content` in room `uuid` mentioning `mentions`.
async fn say_mentioning(
    app: &TestApp,
    api_key: &str,
    uuid: &str,
    sender: &str,
    content: &str,
    mentions: &[&str],
) -> Value {
    app.send_message_ok(
        api_key,
        uuid,
        json!({ "sender_id": sender, "content": content, "meta": { "mentions": mentions } }),
    )
    .await
}

#[actix_web::test]
async fn the_api_key_reads_a_room_for_a_user_and_gets_their_read_position() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .room_with(
            &acme.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob")],
        )
        .await;
    let mut sent = Vec::new();
    for n in 1..=3 {
        sent.push(
            app.say(&acme.api_key, &room, "alice", &format!("news {n}"))
                .await,
        );
    }
    let bob = "user_id=bob";
    assert_eq!(
        unread(&app, &acme.api_key, bob, &room).await,
        (json!(3), json!(0))
    );
    // The sender has read their own messages.
    assert_eq!(
        unread(&app, &acme.api_key, "user_id=alice", &room).await,
        (json!(0), json!(0))
    );

    let data = read_ok(
        &app,
        &acme.api_key,
        &room,
        json!({ "user_id": "bob", "message_id": id(&sent[1]) }),
    )
    .await;
    assert_eq!(
        data,
        json!({
            "room_id": room,
            "user_id": "bob",
            "last_read_message_id": id(&sent[1]),
            "last_read_seq": 2,
            "unread_count": 1,
        })
    );
    assert_eq!(
        unread(&app, &acme.api_key, bob, &room).await,
        (json!(1), json!(0))
    );

    // Without a message: up to the newest.
    let data = read_ok(&app, &acme.api_key, &room, json!({ "user_id": "bob" })).await;
    assert_eq!(data["last_read_message_id"], id(&sent[2]), "{data}");
    assert_eq!(data["last_read_seq"], 3, "{data}");
    assert_eq!(data["unread_count"], 0, "{data}");
    assert_eq!(
        unread(&app, &acme.api_key, bob, &room).await,
        (json!(0), json!(0))
    );

    // Never backwards: reading an older message leaves the position where it was.
    let data = read_ok(
        &app,
        &acme.api_key,
        &room,
        json!({ "user_id": "bob", "message_id": id(&sent[0]) }),
    )
    .await;
    assert_eq!(data["last_read_seq"], 3, "{data}");
    assert_eq!(data["last_read_message_id"], id(&sent[2]), "{data}");
    assert_eq!(data["unread_count"], 0, "{data}");

    // A new message is unread again.
    app.say(&acme.api_key, &room, "alice", "news 4").await;
    assert_eq!(
        unread(&app, &acme.api_key, bob, &room).await,
        (json!(1), json!(0))
    );
    // Without a viewer the rooms carry neither count; an unknown viewer is not found.
    let plain = app.room_listed(&acme.api_key, "", &room).await;
    assert!(plain.get("unread_count").is_none(), "{plain}");
    assert!(plain.get("unread_mentions").is_none(), "{plain}");
    let reply = app
        .get(&format!("{ROOMS}?user_id=nobody"), &key(&acme.api_key))
        .await;
    assert_chatapi_error(&reply, 404, "USER_NOT_FOUND", "an unknown viewer");
}

#[actix_web::test]
async fn a_user_reads_a_room_with_their_own_credential() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let agent = chat_user_id(&acme.agent);
    let room = app
        .room_with(
            &acme.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob"), (&agent, "Alan Agent")],
        )
        .await;
    let first = app.say(&acme.api_key, &room, "alice", "one").await;
    app.say(&acme.api_key, &room, "alice", "two").await;

    // The agent's token: the agent, whatever the body says; the rooms list shows the
    // counts without a user_id.
    assert_eq!(
        unread(&app, &acme.agent_token, "", &room).await,
        (json!(2), json!(0))
    );
    let data = read_ok(
        &app,
        &acme.agent_token,
        &room,
        json!({ "user_id": "bob", "message_id": id(&first) }),
    )
    .await;
    assert_eq!(data["user_id"], agent.as_str(), "{data}");
    assert_eq!(data["last_read_seq"], 1, "{data}");
    assert_eq!(data["unread_count"], 1, "{data}");
    assert_eq!(
        unread(&app, &acme.agent_token, "", &room).await,
        (json!(1), json!(0))
    );
    assert_eq!(
        unread(&app, &acme.api_key, "user_id=bob", &room).await,
        (json!(2), json!(0)),
        "Bob's position did not move"
    );

    // Bob's own scoped key.
    let bob = app.scoped_key(&acme.api_key, "bob", None).await;
    assert_eq!(unread(&app, &bob, "", &room).await, (json!(2), json!(0)));
    let data = read_ok(&app, &bob, &room, json!({})).await;
    assert_eq!(data["user_id"], "bob", "{data}");
    assert_eq!(data["last_read_seq"], 2, "{data}");
    assert_eq!(data["unread_count"], 0, "{data}");
    assert_eq!(unread(&app, &bob, "", &room).await, (json!(0), json!(0)));
}

#[actix_web::test]
async fn unread_mentions_count_the_mentions_after_the_read_position_and_fall_to_zero() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .room_with(
            &acme.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")],
        )
        .await;
    let key = &acme.api_key;
    let first = say_mentioning(&app, key, &room, "alice", "@bob look", &["bob"]).await;
    app.say(key, &room, "alice", "no one named").await;
    say_mentioning(
        &app,
        key,
        &room,
        "alice",
        "@bob @carol again",
        &["bob", "carol"],
    )
    .await;

    assert_eq!(
        unread(&app, key, "user_id=bob", &room).await,
        (json!(3), json!(2))
    );
    assert_eq!(
        unread(&app, key, "user_id=carol", &room).await,
        (json!(3), json!(1))
    );
    assert_eq!(
        unread(&app, key, "user_id=alice", &room).await,
        (json!(0), json!(0))
    );

    // Read past the first mention: one left.
    let data = read_ok(
        &app,
        key,
        &room,
        json!({ "user_id": "bob", "message_id": id(&first) }),
    )
    .await;
    assert_eq!(data["unread_count"], 2, "{data}");
    assert_eq!(
        unread(&app, key, "user_id=bob", &room).await,
        (json!(2), json!(1))
    );
    // Read everything: none.
    read_ok(&app, key, &room, json!({ "user_id": "bob" })).await;
    assert_eq!(
        unread(&app, key, "user_id=bob", &room).await,
        (json!(0), json!(0))
    );
    assert_eq!(
        unread(&app, key, "user_id=carol", &room).await,
        (json!(3), json!(1))
    );
    // A new mention counts again.
    say_mentioning(&app, key, &room, "carol", "bob?", &["bob"]).await;
    assert_eq!(
        unread(&app, key, "user_id=bob", &room).await,
        (json!(1), json!(1))
    );
    // Sending moves the sender's position: Carol has read up to her own message.
    assert_eq!(
        unread(&app, key, "user_id=carol", &room).await,
        (json!(0), json!(0))
    );
}

#[actix_web::test]
async fn reading_needs_a_member_and_a_message_of_the_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .room_with(&acme.api_key, "General", &[("alice", "Alice")])
        .await;
    let other = app
        .room_with(
            &acme.api_key,
            "Other",
            &[("alice", "Alice"), ("bob", "Bob")],
        )
        .await;
    app.say(&acme.api_key, &room, "alice", "hello").await;
    let elsewhere = app.say(&acme.api_key, &other, "alice", "elsewhere").await;

    // The API key names no one.
    let reply = app.read_room(&acme.api_key, &room, &json!({})).await;
    let error = assert_chatapi_error(&reply, 422, "VALIDATION_ERROR", "no user_id");
    assert_eq!(keys_of(&error["details"]), ["user_id"], "{error}");
    // Bob is not in the room.
    let reply = app
        .read_room(&acme.api_key, &room, &json!({ "user_id": "bob" }))
        .await;
    assert_chatapi_error(&reply, 404, "NOT_IN_ROOM", "not a member");
    // A message of another room.
    let reply = app
        .read_room(
            &acme.api_key,
            &room,
            &json!({ "user_id": "alice", "message_id": id(&elsewhere) }),
        )
        .await;
    assert_chatapi_error(
        &reply,
        404,
        "MESSAGE_NOT_FOUND",
        "a message of another room",
    );
    // The agent may not read a room it is not in.
    let reply = app.read_room(&acme.agent_token, &room, &json!({})).await;
    assert_chatapi_error(&reply, 403, "ROOM_ACCESS_DENIED", "agent outside the room");
    // Another account's room is not found.
    let globex = app.tenant("Globex").await;
    let reply = app
        .read_room(&globex.api_key, &room, &json!({ "user_id": "alice" }))
        .await;
    assert_chatapi_error(&reply, 404, "ROOM_NOT_FOUND", "another account");
    // Nothing moved.
    assert_eq!(
        unread(&app, &acme.api_key, "user_id=alice", &room).await,
        (json!(0), json!(0))
    );
}

#[actix_web::test]
async fn the_account_dialect_shows_unread_mentions_beside_unread_count() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Support", None)
        .await;
    let id = int_id(&room);
    let agent_id = int_id(&acme.agent);
    let reply = app
        .members_request(
            Method::POST,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": [agent_id] }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    for (content, mentions) in [
        ("@agent one", json!([agent_id])),
        ("nobody", json!([])),
        ("@agent two", json!([agent_id])),
    ] {
        let reply = app
            .post_chat_message(
                acme.id,
                id,
                &acme.admin_token,
                &json!({ "chat_room_message": {
                    "content": content,
                    "content_attributes": { "mentions": mentions },
                } }),
            )
            .await;
        assert_eq!(reply.status, 200, "{content}: {}", reply.text());
    }
    let shown = |room: &Value| {
        (
            room["unread_count"].clone(),
            room["unread_mentions"].clone(),
        )
    };
    let read = app
        .get(&chat_room_path(acme.id, id), &token(&acme.agent_token))
        .await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(
        shown(&read.json()),
        (json!(2 + 1), json!(2)),
        "{}",
        read.text()
    );
    let listed = app
        .get(&chat_rooms_path(acme.id), &token(&acme.agent_token))
        .await
        .json();
    assert_eq!(shown(&listed[0]), (json!(3), json!(2)), "{listed}");
    // The sender: nothing unread.
    let read = app
        .get(&chat_room_path(acme.id, id), &token(&acme.admin_token))
        .await
        .json();
    assert_eq!(shown(&read), (json!(0), json!(0)), "{read}");

    let reply = app.mark_as_read(acme.id, id, &acme.agent_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let read = app
        .get(&chat_room_path(acme.id, id), &token(&acme.agent_token))
        .await
        .json();
    assert_eq!(shown(&read), (json!(0), json!(0)), "{read}");
    // The ChatAPI list agrees, for the agent's user_id.
    let uuid = app.room_uuid_of(acme.id, &acme.admin_token, id).await;
    let query = format!("user_id={}", chat_user_id(&acme.agent));
    assert_eq!(
        unread(&app, &acme.api_key, &query, &uuid).await,
        (json!(0), json!(0))
    );
}
