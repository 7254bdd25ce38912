//! Threads (CONTRACT §10): `GET /api/v1/messages/{id}/thread` (the replies, oldest
//! first) and `…/thread/summary`; `reply_count` on the parent in both dialects, kept as
//! replies are deleted and restored.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// A UUID that names nothing.
const UNKNOWN_UUID: &str = "00000000-0000-4000-8000-000000000000";

fn id(message: &Value) -> &str {
    str_of(message, "id")
}

/// `sender` replies `content` to `parent` in room `room` through `api_key`.
async fn reply_to(
    app: &TestApp,
    api_key: &str,
    room: &str,
    sender: &str,
    parent: &Value,
    content: &str,
) -> Value {
    app.send_message_ok(
        api_key,
        room,
        json!({ "sender_id": sender, "content": content, "reply_to": parent["id"] }),
    )
    .await
}

/// The thread of `parent` (`?{query}`) as `credential` sees it, expecting 200.
async fn thread(app: &TestApp, credential: &str, parent: &str, query: &str) -> Value {
    let reply = app
        .get(
            &format!("{}?{query}", thread_path(parent)),
            &key(credential),
        )
        .await;
    assert_eq!(reply.status, 200, "thread ?{query}: {}", reply.text());
    reply.json()
}

/// The summary of `parent`'s thread as `credential` sees it, expecting 200: its `data`.
async fn summary(app: &TestApp, credential: &str, parent: &str) -> Value {
    let reply = app
        .get(&thread_summary_path(parent), &key(credential))
        .await;
    assert_eq!(reply.status, 200, "thread summary: {}", reply.text());
    let body = reply.json();
    assert_eq!(body["status"], "success", "{body}");
    body["data"].clone()
}

async fn delete(app: &TestApp, api_key: &str, uuid: &str) {
    let reply = app
        .send(Method::DELETE, &message_path(uuid), &key(api_key), None)
        .await;
    assert_eq!(reply.status, 200, "deleting: {}", reply.text());
}

async fn restore(app: &TestApp, api_key: &str, uuid: &str) {
    let reply = app
        .send(
            Method::POST,
            &format!("{}/restore", message_path(uuid)),
            &key(api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "restoring: {}", reply.text());
}

/// Three people in one room.
async fn room_of_three(app: &TestApp, tenant: &Tenant) -> String {
    app.room_with(
        &tenant.api_key,
        "General",
        &[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")],
    )
    .await
}

#[actix_web::test]
async fn a_threads_summary_after_replies_by_two_users_counts_them_and_names_both() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = room_of_three(&app, &acme).await;
    let parent = app
        .say(&acme.api_key, &room, "alice", "Lunch on Friday?")
        .await;
    assert_eq!(parent["reply_count"], 0, "{parent}");
    let bob = reply_to(&app, &acme.api_key, &room, "bob", &parent, "Yes!").await;
    let carol = reply_to(&app, &acme.api_key, &room, "carol", &parent, "Count me in").await;
    let bob_again = reply_to(&app, &acme.api_key, &room, "bob", &parent, "Pizza?").await;

    let data = summary(&app, &acme.api_key, id(&parent)).await;
    assert_eq!(
        keys_of(&data),
        ["last_reply_at", "message_id", "participants", "reply_count"],
        "{data}"
    );
    assert_eq!(data["message_id"], id(&parent), "{data}");
    assert_eq!(data["reply_count"], 3, "{data}");
    assert_eq!(data["participants"], json!(["bob", "carol"]), "{data}");
    let last = data["last_reply_at"]
        .as_str()
        .unwrap_or_else(|| panic!("no last_reply_at: {data}"));
    assert_eq!(
        rfc3339_nanos(last),
        rfc3339_nanos(str_of(&bob_again, "created_at")),
        "{data}"
    );
    assert!(rfc3339_nanos(last) > rfc3339_nanos(str_of(&carol, "created_at")));

    // The parent carries its count and the time of its newest reply wherever it is
    // rendered; the replies (no replies of their own) carry 0.
    let rendered = app.chatapi_message(&acme.api_key, id(&parent)).await;
    assert_eq!(rendered["reply_count"], 3, "{rendered}");
    assert_eq!(
        rendered["last_reply_at"], data["last_reply_at"],
        "{rendered}"
    );
    let listed = app
        .list_messages(&acme.api_key, &room, "sort=created_at")
        .await;
    assert_eq!(listed["data"][0]["id"], id(&parent), "{listed}");
    assert_eq!(listed["data"][0]["reply_count"], 3, "{listed}");
    assert_eq!(listed["data"][1]["id"], id(&bob), "{listed}");
    assert_eq!(listed["data"][1]["reply_count"], 0, "{listed}");
    assert_eq!(listed["data"][1]["last_reply_at"], json!(null), "{listed}");
    // The account dialect shows the same count.
    let room_id = app.room_int_id(&room);
    let parent_id = app.message_int_id(id(&parent));
    let messages = app
        .chat_messages(acme.id, room_id, &acme.admin_token, "")
        .await;
    let shown = messages
        .iter()
        .find(|m| m["id"] == parent_id)
        .unwrap_or_else(|| panic!("the parent is not listed: {messages:?}"));
    assert_eq!(shown["reply_count"], 3, "{shown}");
}

#[actix_web::test]
async fn a_reply_in_the_account_dialect_counts_in_the_thread() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Support", None)
        .await;
    let room_id = int_id(&room);
    let parent = app
        .send_chat_message_ok(acme.id, room_id, &acme.admin_token, "Status?")
        .await;
    let reply = app
        .post_chat_message(
            acme.id,
            room_id,
            &acme.admin_token,
            &json!({ "chat_room_message": {
                "content": "All green",
                "content_attributes": { "in_reply_to": parent["id"] },
            } }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = reply.json();
    assert_eq!(answer["reply_count"], 0, "{answer}");

    let parent_uuid = app.message_uuid(int_id(&parent));
    let data = summary(&app, &acme.api_key, &parent_uuid).await;
    assert_eq!(data["reply_count"], 1, "{data}");
    assert_eq!(data["participants"], json!([chat_user_id(&acme.admin)]));
    let replies = thread(&app, &acme.admin_token, &parent_uuid, "").await;
    assert_eq!(contents_of(&replies), ["All green"], "{replies}");
    assert_eq!(
        replies["data"][0]["reply_to"],
        parent_uuid.as_str(),
        "{replies}"
    );
    let messages = app
        .chat_messages(acme.id, room_id, &acme.admin_token, "")
        .await;
    assert_eq!(contents_of(&json!(messages)), ["All green", "Status?"]);
    assert_eq!(messages[1]["reply_count"], 1, "{messages:?}");
}

#[actix_web::test]
async fn the_thread_lists_the_replies_oldest_first_with_skip_and_limit() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = room_of_three(&app, &acme).await;
    let parent = app.say(&acme.api_key, &room, "alice", "Question").await;
    let other = app.say(&acme.api_key, &room, "alice", "Another").await;
    let mut replies = Vec::new();
    for (n, sender) in ["bob", "carol", "alice"].iter().enumerate() {
        let content = format!("answer {}", n + 1);
        replies.push(reply_to(&app, &acme.api_key, &room, sender, &parent, &content).await);
        // Neither a reply to another message nor a plain message is in the thread.
        reply_to(&app, &acme.api_key, &room, "bob", &other, "elsewhere").await;
        app.say(&acme.api_key, &room, "carol", "chatter").await;
    }

    let listed = thread(&app, &acme.api_key, id(&parent), "").await;
    assert_eq!(
        contents_of(&listed),
        ["answer 1", "answer 2", "answer 3"],
        "{listed}"
    );
    assert_eq!(listed["status"], "success", "{listed}");
    assert_eq!(
        listed["data"][0],
        app.chatapi_message(&acme.api_key, id(&replies[0])).await
    );
    for (window, expected, has_more) in [
        ("limit=2", vec!["answer 1", "answer 2"], true),
        ("skip=2&limit=2", vec!["answer 3"], false),
        ("skip=5", vec![], false),
    ] {
        let page = thread(&app, &acme.api_key, id(&parent), window).await;
        assert_eq!(contents_of(&page), expected, "?{window}: {page}");
        assert_eq!(page["pagination"]["total"], 3, "?{window}: {page}");
        assert_eq!(
            page["pagination"]["has_more"], has_more,
            "?{window}: {page}"
        );
    }
    // A message without replies has an empty thread.
    let lonely = thread(&app, &acme.api_key, id(&replies[2]), "").await;
    assert_eq!(lonely["data"], json!([]), "{lonely}");
    assert_eq!(lonely["pagination"]["total"], 0, "{lonely}");
    let data = summary(&app, &acme.api_key, id(&replies[2])).await;
    assert_eq!(
        data,
        json!({ "message_id": id(&replies[2]), "reply_count": 0, "last_reply_at": null, "participants": [] })
    );
}

#[actix_web::test]
async fn deleting_a_reply_lowers_the_count_and_restoring_it_brings_it_back() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = room_of_three(&app, &acme).await;
    let parent = app.say(&acme.api_key, &room, "alice", "Ideas?").await;
    let first = reply_to(&app, &acme.api_key, &room, "bob", &parent, "idea one").await;
    let second = reply_to(&app, &acme.api_key, &room, "carol", &parent, "idea two").await;

    delete(&app, &acme.api_key, id(&second)).await;
    let data = summary(&app, &acme.api_key, id(&parent)).await;
    assert_eq!(data["reply_count"], 1, "{data}");
    assert_eq!(data["participants"], json!(["bob"]), "{data}");
    assert_eq!(
        rfc3339_nanos(str_of(&data, "last_reply_at")),
        rfc3339_nanos(str_of(&first, "created_at")),
        "the newest reply left: {data}"
    );
    let rendered = app.chatapi_message(&acme.api_key, id(&parent)).await;
    assert_eq!(rendered["reply_count"], 1, "{rendered}");
    let listed = thread(&app, &acme.api_key, id(&parent), "").await;
    assert_eq!(contents_of(&listed), ["idea one"], "{listed}");

    delete(&app, &acme.api_key, id(&first)).await;
    let data = summary(&app, &acme.api_key, id(&parent)).await;
    assert_eq!(data["reply_count"], 0, "{data}");
    assert_eq!(data["participants"], json!([]), "{data}");
    assert_eq!(data["last_reply_at"], json!(null), "{data}");

    restore(&app, &acme.api_key, id(&second)).await;
    restore(&app, &acme.api_key, id(&first)).await;
    let data = summary(&app, &acme.api_key, id(&parent)).await;
    assert_eq!(data["reply_count"], 2, "{data}");
    assert_eq!(data["participants"], json!(["bob", "carol"]), "{data}");
    assert_eq!(
        rfc3339_nanos(str_of(&data, "last_reply_at")),
        rfc3339_nanos(str_of(&second, "created_at")),
        "{data}"
    );
    let rendered = app.chatapi_message(&acme.api_key, id(&parent)).await;
    assert_eq!(rendered["reply_count"], 2, "{rendered}");
    let listed = thread(&app, &acme.api_key, id(&parent), "").await;
    assert_eq!(contents_of(&listed), ["idea one", "idea two"], "{listed}");
}

#[actix_web::test]
async fn only_those_who_may_read_the_room_read_its_threads() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let room = room_of_three(&app, &acme).await;
    let parent = app.say(&acme.api_key, &room, "alice", "Secret plan").await;
    reply_to(&app, &acme.api_key, &room, "bob", &parent, "Agreed").await;

    // The agent is not in the room.
    for path in [thread_path(id(&parent)), thread_summary_path(id(&parent))] {
        let reply = app.get(&path, &key(&acme.agent_token)).await;
        assert_chatapi_error(&reply, 403, "ROOM_ACCESS_DENIED", &path);
        // Another account, a message that does not exist, a malformed id: not found.
        let reply = app.get(&path, &key(&globex.api_key)).await;
        assert_chatapi_error(&reply, 404, "MESSAGE_NOT_FOUND", &path);
    }
    for bad in [UNKNOWN_UUID, "not-a-uuid"] {
        for path in [thread_path(bad), thread_summary_path(bad)] {
            let reply = app.get(&path, &key(&acme.api_key)).await;
            assert_chatapi_error(&reply, 404, "MESSAGE_NOT_FOUND", &path);
        }
    }
    // Once a member, the agent reads it.
    app.join_ok(&acme.api_key, &room, &chat_user_id(&acme.agent))
        .await;
    let listed = thread(&app, &acme.agent_token, id(&parent), "").await;
    assert_eq!(contents_of(&listed), ["Agreed"], "{listed}");
}
