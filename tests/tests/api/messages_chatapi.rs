//! ChatAPI messages (`/api/v1/rooms/{room_id}/messages`, `/api/v1/messages/{message_id}`):
//! the seed's message fields plus `seq`, `reply_to` and `echo_id`.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// A UUID that names nothing.
const UNKNOWN_UUID: &str = "00000000-0000-4000-8000-000000000000";

/// The keys of a message sent without an `echo_id`.
const MESSAGE_KEYS: [&str; 21] = [
    "attachments",
    "client_id",
    "content",
    "created_at",
    "edited_at",
    "id",
    "is_deleted",
    "last_reply_at",
    "mentions",
    "message_type",
    "meta",
    "pinned_at",
    "pinned_by",
    "reactions",
    "reply_count",
    "reply_to",
    "room_id",
    "sender_id",
    "sender_name",
    "seq",
    "updated_at",
];

fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

/// A room made with the API key, with participants Ann (`crm-ann`, made by the join) and
/// the tenant's agent; answers its UUID.
async fn room_with_ann(app: &TestApp, tenant: &Tenant, name: &str) -> String {
    let room = app
        .create_room(&tenant.api_key, json!({ "name": name }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let reply = app
        .join_room(
            &tenant.api_key,
            &uuid,
            &json!({ "user_id": "crm-ann", "user_name": "Ann" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    app.join_ok(&tenant.api_key, &uuid, &chat_user_id(&tenant.agent))
        .await;
    uuid
}

/// Ann says `content` through the API key; answers the message.
async fn ann_says(app: &TestApp, tenant: &Tenant, uuid: &str, content: &str) -> Value {
    app.send_message_ok(
        &tenant.api_key,
        uuid,
        json!({ "sender_id": "crm-ann", "content": content }),
    )
    .await
}

/// Asserts a 422 VALIDATION_ERROR whose `details` name exactly `fields`.
fn assert_validation(reply: &Reply, fields: &[&str], context: &str) -> Value {
    let error = assert_chatapi_error(reply, 422, "VALIDATION_ERROR", context);
    let details = &error["details"];
    assert_eq!(keys_of(details), fields, "{context}: {error}");
    for field in fields {
        assert!(
            details[*field].as_str().is_some_and(|r| !r.is_empty()),
            "{context}: {error}"
        );
    }
    details.clone()
}

/// Asserts a 400 INVALID_REQUEST whose `details` name exactly `field`.
fn assert_invalid_request(reply: &Reply, field: &str, context: &str) {
    let error = assert_chatapi_error(reply, 400, "INVALID_REQUEST", context);
    assert_eq!(keys_of(&error["details"]), [field], "{context}: {error}");
}

/// The contents of a message list, in order.
fn contents(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data is not an array: {list}"))
        .iter()
        .map(|m| str_of(m, "content").to_owned())
        .collect()
}

/// The total of a message list.
fn total(list: &Value) -> i64 {
    list["pagination"]["total"]
        .as_i64()
        .unwrap_or_else(|| panic!("no pagination.total in {list}"))
}

async fn put_message(app: &TestApp, credential: &str, id: &str, body: &Value) -> Reply {
    app.json(Method::PUT, &message_path(id), &key(credential), body)
        .await
}

async fn delete_message(app: &TestApp, credential: &str, id: &str) -> Reply {
    app.send(Method::DELETE, &message_path(id), &key(credential), None)
        .await
}

async fn restore_message(app: &TestApp, credential: &str, id: &str) -> Reply {
    app.send(
        Method::POST,
        &format!("{}/restore", message_path(id)),
        &key(credential),
        None,
    )
    .await
}

// ---------------------------------------------------------------- sending

#[actix_web::test]
async fn sending_with_the_api_key_answers_201_with_the_message_and_seq_counts_up() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let collection = room_messages_path(&uuid);
    for (seq, path) in [(1, collection.clone()), (2, format!("{collection}/"))] {
        let reply = app
            .json(
                Method::POST,
                &path,
                &key(&acme.api_key),
                &json!({
                    "sender_id": "crm-ann",
                    "content": format!("Hello, team! #{seq}"),
                    "meta": { "client": "web", "tags": ["a", 1] },
                }),
            )
            .await;
        assert_eq!(reply.status, 201, "{path}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let body = reply.json();
        let data = &body["data"];
        assert_eq!(keys_of(data), MESSAGE_KEYS, "{path}: {data}");
        assert_uuid(str_of(data, "id"));
        assert_rfc3339_near_now(&data["created_at"]);
        assert_eq!(data["updated_at"], data["created_at"]);
        assert_eq!(
            body,
            json!({
                "data": {
                    "id": data["id"],
                    "room_id": uuid,
                    "client_id": acme.account["uuid"],
                    "sender_id": "crm-ann",
                    "sender_name": "Ann",
                    "content": format!("Hello, team! #{seq}"),
                    "message_type": "text",
                    "meta": { "client": "web", "tags": ["a", 1] },
                    "created_at": data["created_at"],
                    "updated_at": data["created_at"],
                    "edited_at": null,
                    "is_deleted": false,
                    "seq": seq,
                    "reply_to": null,
                    "attachments": [],
                    "reply_count": 0,
                    "last_reply_at": null,
                    "reactions": [],
                    "mentions": [],
                    "pinned_at": null,
                    "pinned_by": null,
                },
                "status": "success",
            }),
            "{path}"
        );
    }
    // An echo_id comes back when one is given; a sender_name overrides the user's name.
    let data = app
        .send_message_ok(
            &acme.api_key,
            &uuid,
            json!({
                "sender_id": "crm-ann",
                "sender_name": "Annie (web)",
                "content": "With an echo",
                "echo_id": "temp-msg-12345",
            }),
        )
        .await;
    let mut with_echo: Vec<&str> = MESSAGE_KEYS.to_vec();
    with_echo.push("echo_id");
    with_echo.sort_unstable();
    assert_eq!(keys_of(&data), with_echo, "{data}");
    assert_eq!(data["echo_id"], "temp-msg-12345");
    assert_eq!(data["sender_name"], "Annie (web)");
    assert_eq!(data["meta"], json!({}));
    assert_eq!(data["seq"], 3);
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 3);
}

#[actix_web::test]
async fn message_type_defaults_to_text_takes_the_listed_types_and_refuses_bad_names_with_422() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    for kind in ["text", "image", "file", "audio", "video"] {
        let data = app
            .send_message_ok(
                &acme.api_key,
                &uuid,
                json!({ "sender_id": "crm-ann", "content": kind, "message_type": kind }),
            )
            .await;
        assert_eq!(data["message_type"], kind, "{data}");
    }
    for bad in ["Outgoing", "TEXT", "out-going", ""] {
        let reply = app
            .post_message(
                &acme.api_key,
                &uuid,
                &json!({ "sender_id": "crm-ann", "content": "x", "message_type": bad }),
            )
            .await;
        assert_validation(&reply, &["message_type"], bad);
    }
    let wrong_type = app
        .post_message(
            &acme.api_key,
            &uuid,
            &json!({ "sender_id": "crm-ann", "content": "x", "message_type": 3 }),
        )
        .await;
    assert_invalid_request(&wrong_type, "message_type", "a number");
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 5);
}

#[actix_web::test]
async fn the_api_key_sends_system_messages_as_system_without_a_participant() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Empty" }))
        .await;
    let uuid = str_of(&room, "id");
    let data = app
        .send_message_ok(
            &acme.api_key,
            uuid,
            json!({ "content": "Maintenance at noon", "message_type": "system" }),
        )
        .await;
    assert_eq!(data["sender_id"], "system", "{data}");
    assert_eq!(data["sender_name"], Value::Null, "{data}");
    assert_eq!(data["message_type"], "system");
    assert_eq!(data["seq"], 1);
    // A sender_id on a system message names nobody: the sender is still the system.
    let data = app
        .send_message_ok(
            &acme.api_key,
            uuid,
            json!({
                "sender_id": "nobody",
                "sender_name": "Ops bot",
                "content": "Done",
                "message_type": "system",
            }),
        )
        .await;
    assert_eq!(data["sender_id"], "system", "{data}");
    assert_eq!(data["sender_name"], "Ops bot", "{data}");
    // A user, even a participant, speaks as itself and may not speak as the system.
    app.join_ok(&acme.api_key, uuid, &chat_user_id(&acme.agent))
        .await;
    let reply = app
        .post_message(
            &acme.agent_token,
            uuid,
            &json!({ "content": "I am the system", "message_type": "system" }),
        )
        .await;
    assert_validation(&reply, &["message_type"], "agent system message");
    assert_eq!(app.message_count(&acme.api_key, uuid).await, 2);
}

#[actix_web::test]
async fn the_api_key_must_name_a_participant_as_sender_else_403_room_access_denied() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    app.create_user(
        acme.id,
        json!({ "name": "Olly", "external_id": "crm-olly" }),
    )
    .await;
    for sender in [
        "crm-olly".to_owned(),
        chat_user_id(&acme.admin),
        "never-seen".to_owned(),
    ] {
        let reply = app
            .post_message(
                &acme.api_key,
                &uuid,
                &json!({ "sender_id": sender, "content": "Hi" }),
            )
            .await;
        let error = assert_chatapi_error(&reply, 403, "ROOM_ACCESS_DENIED", &sender);
        assert_eq!(
            error["message"], "You don't have permission to access this room",
            "{error}"
        );
    }
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    assert_eq!(total(&list), 0, "{list}");
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 0);
    // A refused send joins nobody.
    let participants = app.participant_ids(&acme.api_key, &uuid).await;
    assert_eq!(
        participants,
        ["crm-ann".to_owned(), chat_user_id(&acme.agent)]
    );
}

#[actix_web::test]
async fn a_text_message_from_the_api_key_without_sender_id_is_422() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    for body in [
        json!({ "content": "Who am I?" }),
        json!({ "content": "Who am I?", "message_type": "image" }),
        json!({ "sender_id": null, "content": "Who am I?" }),
    ] {
        let reply = app.post_message(&acme.api_key, &uuid, &body).await;
        let details = assert_validation(&reply, &["sender_id"], &body.to_string());
        assert_eq!(details["sender_id"], "can't be blank");
    }
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 0);
}

#[actix_web::test]
async fn a_user_token_speaks_as_itself_whatever_sender_id_says() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let data = app
        .send_message_ok(
            &acme.agent_token,
            &uuid,
            json!({ "sender_id": "crm-ann", "sender_name": "Mallory", "content": "It's me" }),
        )
        .await;
    assert_eq!(data["sender_id"], chat_user_id(&acme.agent), "{data}");
    assert_eq!(data["sender_name"], "Alan Agent", "{data}");
    // No sender_id at all is fine for a user.
    let data = app
        .send_message_ok(&acme.agent_token, &uuid, json!({ "content": "Again" }))
        .await;
    assert_eq!(data["sender_id"], chat_user_id(&acme.agent), "{data}");
    let ann = app
        .list_messages(&acme.api_key, &uuid, "sender_id=crm-ann")
        .await;
    assert_eq!(total(&ann), 0, "{ann}");
}

#[actix_web::test]
async fn a_user_who_is_not_in_the_room_may_not_send_not_even_an_administrator() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "General" }))
        .await;
    let uuid = str_of(&room, "id");
    for (who, token) in [("admin", &acme.admin_token), ("agent", &acme.agent_token)] {
        let reply = app
            .post_message(token, uuid, &json!({ "content": "Let me in" }))
            .await;
        assert_chatapi_error(&reply, 403, "ROOM_ACCESS_DENIED", who);
    }
    assert_eq!(app.message_count(&acme.api_key, uuid).await, 0);
    // Once in, the administrator speaks.
    app.join_ok(&acme.api_key, uuid, &chat_user_id(&acme.admin))
        .await;
    let data = app
        .send_message_ok(&acme.admin_token, uuid, json!({ "content": "In" }))
        .await;
    assert_eq!(data["sender_id"], chat_user_id(&acme.admin));
}

#[actix_web::test]
async fn posting_to_an_inactive_room_is_409_room_inactive() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    ann_says(&app, &acme, &uuid, "Before").await;
    let reply = app
        .send(
            Method::POST,
            &format!("{}/deactivate", room_path(&uuid)),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    for (who, credential, body) in [
        (
            "api key",
            &acme.api_key,
            json!({ "sender_id": "crm-ann", "content": "During" }),
        ),
        (
            "system",
            &acme.api_key,
            json!({ "content": "During", "message_type": "system" }),
        ),
        ("agent", &acme.agent_token, json!({ "content": "During" })),
    ] {
        let reply = app.post_message(credential, &uuid, &body).await;
        let error = assert_chatapi_error(&reply, 409, "ROOM_INACTIVE", who);
        assert_eq!(
            error["message"],
            "Room is deactivated and cannot receive new messages"
        );
    }
    // It keeps what it has, and speaks again once activated.
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    assert_eq!(contents(&list), ["Before"]);
    let reply = app
        .send(
            Method::POST,
            &format!("{}/activate", room_path(&uuid)),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = ann_says(&app, &acme, &uuid, "After").await;
    assert_eq!(data["seq"], 2);
}

#[actix_web::test]
async fn blank_or_missing_content_is_422_validation_error() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    for body in [
        json!({ "sender_id": "crm-ann", "content": "" }),
        json!({ "sender_id": "crm-ann", "content": "  \n\t " }),
        json!({ "sender_id": "crm-ann" }),
    ] {
        let reply = app.post_message(&acme.api_key, &uuid, &body).await;
        let details = assert_validation(&reply, &["content"], &body.to_string());
        assert_eq!(details["content"], "can't be blank");
    }
    // Every bad field at once.
    let reply = app
        .post_message(
            &acme.api_key,
            &uuid,
            &json!({ "sender_id": "crm-ann", "content": "", "message_type": "No pe" }),
        )
        .await;
    assert_validation(&reply, &["content", "message_type"], "two bad fields");
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 0);
}

#[actix_web::test]
async fn content_over_10000_characters_is_422_content_too_long_with_both_lengths() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let longest = "x".repeat(10_000);
    let data = ann_says(&app, &acme, &uuid, &longest).await;
    assert_eq!(data["content"].as_str().map(str::len), Some(10_000));
    // Characters are counted, not bytes.
    for (what, content) in [
        ("ascii", "x".repeat(10_001)),
        ("two-byte characters", "é".repeat(10_001)),
    ] {
        let reply = app
            .post_message(
                &acme.api_key,
                &uuid,
                &json!({ "sender_id": "crm-ann", "content": content }),
            )
            .await;
        let error = assert_chatapi_error(&reply, 422, "CONTENT_TOO_LONG", what);
        assert_eq!(
            error["details"],
            json!({ "max_length": 10000, "current_length": 10001 }),
            "{what}"
        );
    }
    let accented = ann_says(&app, &acme, &uuid, &"é".repeat(10_000)).await;
    assert_eq!(accented["seq"], 2);
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 2);
}

#[actix_web::test]
async fn meta_must_be_a_json_object_and_the_body_json() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    for meta in [json!("x"), json!([1, 2]), json!(7)] {
        let reply = app
            .post_message(
                &acme.api_key,
                &uuid,
                &json!({ "sender_id": "crm-ann", "content": "Hi", "meta": meta }),
            )
            .await;
        assert_invalid_request(&reply, "meta", &meta.to_string());
    }
    let reply = app
        .send(
            Method::POST,
            &room_messages_path(&uuid),
            &key(&acme.api_key),
            Some(b"{\"content\": ".to_vec()),
        )
        .await;
    assert_chatapi_error(&reply, 400, "INVALID_REQUEST", "truncated JSON");
    // An object, but over 16 KiB.
    let big = json!({ "blob": "x".repeat(16 * 1024) });
    let reply = app
        .post_message(
            &acme.api_key,
            &uuid,
            &json!({ "sender_id": "crm-ann", "content": "Hi", "meta": big }),
        )
        .await;
    assert_validation(&reply, &["meta"], "meta over 16 KiB");
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 0);
}

#[actix_web::test]
async fn reply_to_names_a_message_of_the_same_room_else_422() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let other = room_with_ann(&app, &acme, "Elsewhere").await;
    let first = ann_says(&app, &acme, &uuid, "Question?").await;
    let elsewhere = ann_says(&app, &acme, &other, "Far away").await;
    let reply = app
        .send_message_ok(
            &acme.agent_token,
            &uuid,
            json!({ "content": "Answer", "reply_to": first["id"] }),
        )
        .await;
    assert_eq!(reply["reply_to"], first["id"], "{reply}");
    let fetched = app
        .get(&message_path(str_of(&reply, "id")), &key(&acme.api_key))
        .await;
    assert_eq!(fetched.json()["data"]["reply_to"], first["id"]);
    for (what, target) in [
        ("a message of another room", elsewhere["id"].clone()),
        ("no message", json!(UNKNOWN_UUID)),
    ] {
        let refused = app
            .post_message(
                &acme.api_key,
                &uuid,
                &json!({ "sender_id": "crm-ann", "content": "Re", "reply_to": target }),
            )
            .await;
        assert_validation(&refused, &["reply_to"], what);
    }
    let malformed = app
        .post_message(
            &acme.api_key,
            &uuid,
            &json!({ "sender_id": "crm-ann", "content": "Re", "reply_to": "not-a-uuid" }),
        )
        .await;
    assert_invalid_request(&malformed, "reply_to", "malformed reply_to");
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 2);
}

#[actix_web::test]
async fn sending_to_an_unknown_or_malformed_room_is_404_room_not_found() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for room in [UNKNOWN_UUID, "not-a-uuid", "42"] {
        for credential in [&acme.api_key, &acme.admin_token] {
            let reply = app
                .post_message(
                    credential,
                    room,
                    &json!({ "sender_id": "crm-ann", "content": "Hello?" }),
                )
                .await;
            let error = assert_chatapi_error(&reply, 404, "ROOM_NOT_FOUND", room);
            assert_eq!(error["message"], "Room not found");
            let listed = app.get(&room_messages_path(room), &key(credential)).await;
            assert_chatapi_error(&listed, 404, "ROOM_NOT_FOUND", room);
        }
    }
}

#[actix_web::test]
async fn message_routes_need_a_credential() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let message = ann_says(&app, &acme, &uuid, "Hi").await;
    let id = str_of(&message, "id");
    let body = serde_json::to_vec(&json!({ "content": "x" })).unwrap_or_default();
    for headers in [vec![], vec![api_key_header("ck_nope")]] {
        for (method, path, body) in [
            (Method::POST, room_messages_path(&uuid), Some(body.clone())),
            (Method::GET, room_messages_path(&uuid), None),
            (Method::GET, message_path(id), None),
            (Method::PUT, message_path(id), Some(body.clone())),
            (Method::DELETE, message_path(id), None),
            (Method::POST, format!("{}/restore", message_path(id)), None),
        ] {
            let reply = app.send(method.clone(), &path, &headers, body).await;
            assert_chatapi_error(&reply, 401, "UNAUTHORIZED", &format!("{method} {path}"));
        }
    }
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    assert_eq!(contents(&list), ["Hi"]);
}

// ---------------------------------------------------------------- echo_id and concurrency

#[actix_web::test]
async fn a_retried_echo_id_answers_the_first_message_with_200_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let other = room_with_ann(&app, &acme, "Other").await;
    let send = json!({ "sender_id": "crm-ann", "content": "Once", "echo_id": "e-1" });
    let first = app.post_message(&acme.api_key, &uuid, &send).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let first = first.json();
    // The retry answers the first message, whatever its body says now.
    let retry = app
        .post_message(
            &acme.api_key,
            &uuid,
            &json!({ "sender_id": "crm-ann", "content": "Twice?", "echo_id": "e-1" }),
        )
        .await;
    assert_eq!(retry.status, 200, "{}", retry.text());
    assert_eq!(retry.json(), first);
    // The same echo_id from another sender, or in another room, is another message.
    let agent_send = json!({ "content": "Mine", "echo_id": "e-1" });
    let by_agent = app
        .send_message_ok(&acme.agent_token, &uuid, agent_send.clone())
        .await;
    assert_ne!(by_agent["id"], first["data"]["id"]);
    assert_eq!(by_agent["seq"], 2);
    let again = app
        .post_message(&acme.agent_token, &uuid, &agent_send)
        .await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["data"]["id"], by_agent["id"]);
    let elsewhere = app.send_message_ok(&acme.api_key, &other, send).await;
    assert_eq!(elsewhere["seq"], 1);
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    assert_eq!(contents(&list), ["Mine", "Once"]);
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 2);
    // No seq was spent on the retries.
    let next = ann_says(&app, &acme, &uuid, "Next").await;
    assert_eq!(next["seq"], 3);
    // An echo_id is 1 to 255 characters of text.
    for (echo, field_error) in [
        (json!(""), true),
        (json!("e".repeat(256)), true),
        (json!(7), false),
    ] {
        let reply = app
            .post_message(
                &acme.api_key,
                &uuid,
                &json!({ "sender_id": "crm-ann", "content": "x", "echo_id": echo }),
            )
            .await;
        if field_error {
            assert_validation(&reply, &["echo_id"], &echo.to_string());
        } else {
            assert_invalid_request(&reply, "echo_id", &echo.to_string());
        }
    }
    let longest = app
        .send_message_ok(
            &acme.api_key,
            &uuid,
            json!({ "sender_id": "crm-ann", "content": "x", "echo_id": "e".repeat(255) }),
        )
        .await;
    assert_eq!(longest["seq"], 4);
}

/// POSTs `body` to `url` with `api_key` from a task of its own; the task answers the
/// status and the JSON body.
fn spawn_post(
    app: &TestApp,
    url: &str,
    api_key: &str,
    body: Value,
) -> actix_web::rt::task::JoinHandle<(u16, Value)> {
    let client = app.client.clone();
    let url = url.to_owned();
    let api_key = api_key.to_owned();
    actix_web::rt::spawn(async move { post_from_task(&client, &url, &api_key, &body).await })
}

async fn post_from_task(
    client: &awc::Client,
    url: &str,
    api_key: &str,
    body: &Value,
) -> (u16, Value) {
    let mut response = client
        .post(url)
        .insert_header(("x-api-key", api_key))
        .send_json(body)
        .await
        .unwrap_or_else(|e| panic!("{body} is answered: {e}"));
    let bytes = response
        .body()
        .await
        .unwrap_or_else(|e| panic!("{body} has a body: {e}"));
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{body}: not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (response.status().as_u16(), json)
}

#[actix_web::test]
async fn eight_concurrent_senders_of_200_messages_get_seqs_1_to_1600_with_no_gap_or_duplicate() {
    const SENDERS: usize = 8;
    const EACH: usize = 200;
    let app = TestApp::spawn_with(|settings| {
        settings.workers = 4;
        settings.db_pool_size = 12;
    })
    .await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Busy" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    for sender in 0..SENDERS {
        app.join_ok(&acme.api_key, &uuid, &format!("sender-{sender}"))
            .await;
    }
    let url = app.url(&room_messages_path(&uuid));
    let tasks: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let client = app.client.clone();
            let url = url.clone();
            let api_key = acme.api_key.clone();
            actix_web::rt::spawn(async move {
                let mut seqs = Vec::with_capacity(EACH);
                for n in 0..EACH {
                    let body = json!({
                        "sender_id": format!("sender-{sender}"),
                        "content": format!("sender-{sender} #{n:03}"),
                    });
                    let (status, answer) = post_from_task(&client, &url, &api_key, &body).await;
                    assert_eq!(status, 201, "{body}: {answer}");
                    seqs.push(
                        answer["data"]["seq"]
                            .as_i64()
                            .unwrap_or_else(|| panic!("no seq in {answer}")),
                    );
                }
                seqs
            })
        })
        .collect();
    let mut answered = Vec::new();
    for (sender, task) in tasks.into_iter().enumerate() {
        let seqs = task
            .await
            .unwrap_or_else(|e| panic!("sender {sender}'s task ends: {e}"));
        assert_eq!(seqs.len(), EACH);
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "sender {sender}'s seqs are not increasing: {seqs:?}"
        );
        answered.extend(seqs);
    }
    answered.sort_unstable();
    let expected: Vec<i64> = (1..=1600).collect();
    assert_eq!(answered, expected, "the seqs the sends answered");

    // Page through the whole history with the after_seq cursor.
    let mut listed: Vec<Value> = Vec::new();
    let mut after = 0;
    loop {
        let page = app
            .list_messages(
                &acme.api_key,
                &uuid,
                &format!("sort=created_at&limit=100&after_seq={after}"),
            )
            .await;
        assert_eq!(total(&page), 1600 - after, "after_seq={after}");
        let items = page["data"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        assert_eq!(
            page["pagination"]["has_more"],
            items.len() == 100 && after + 100 < 1600
        );
        after = items
            .last()
            .and_then(|m| m["seq"].as_i64())
            .unwrap_or_else(|| panic!("no seq in the last item of {page}"));
        listed.extend(items);
    }
    let seqs: Vec<i64> = listed
        .iter()
        .map(|m| m["seq"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(seqs, expected, "the seqs listed");
    // Each sender's messages are in the order it sent them.
    for sender in 0..SENDERS {
        let label = format!("sender-{sender}");
        let mine: Vec<String> = listed
            .iter()
            .filter(|m| m["sender_id"] == label.as_str())
            .map(|m| str_of(m, "content").to_owned())
            .collect();
        let sent: Vec<String> = (0..EACH).map(|n| format!("{label} #{n:03}")).collect();
        assert_eq!(mine, sent, "{label}");
    }
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 1600);
    // A limit over 100 is clamped, and says so.
    let clamped = app.list_messages(&acme.api_key, &uuid, "limit=1000").await;
    assert_eq!(seqs_of(&clamped), (1501..=1600).rev().collect::<Vec<_>>());
    assert_eq!(
        clamped["pagination"],
        json!({ "skip": 0, "limit": 100, "total": 1600, "has_more": true })
    );
}

#[actix_web::test]
async fn eight_concurrent_retries_of_one_echo_id_store_exactly_one_message() {
    let app = TestApp::spawn_with(|settings| {
        settings.workers = 4;
        settings.db_pool_size = 12;
    })
    .await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let url = app.url(&room_messages_path(&uuid));
    // Three rounds, each its own echo_id: a lost race gives its seq back.
    for round in 1..=3_i64 {
        let echo = format!("retry-{round}");
        let tasks: Vec<_> = (0..8)
            .map(|n| {
                spawn_post(
                    &app,
                    &url,
                    &acme.api_key,
                    json!({
                        "sender_id": "crm-ann",
                        "content": format!("round {round}, try {n}"),
                        "echo_id": echo,
                    }),
                )
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(
                task.await
                    .unwrap_or_else(|e| panic!("a retry task ends: {e}")),
            );
        }
        let created = answers.iter().filter(|(status, _)| *status == 201).count();
        let repeated = answers.iter().filter(|(status, _)| *status == 200).count();
        assert_eq!((created, repeated), (1, 7), "round {round}: {answers:?}");
        let first = &answers
            .iter()
            .find(|(status, _)| *status == 201)
            .unwrap_or_else(|| panic!("no 201 in round {round}"))
            .1;
        for (_, answer) in &answers {
            assert_eq!(answer, first, "round {round}");
        }
        assert_eq!(first["data"]["seq"], round, "round {round}");
        assert_eq!(first["data"]["echo_id"], echo.as_str());
        let list = app.list_messages(&acme.api_key, &uuid, "").await;
        assert_eq!(total(&list), round, "after round {round}: {list}");
        assert_eq!(
            app.message_count(&acme.api_key, &uuid).await,
            round,
            "after round {round}"
        );
    }
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    assert_eq!(total(&list), 3, "{list}");
    assert_eq!(seqs_of(&list), [3, 2, 1]);
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 3);
}

// ---------------------------------------------------------------- listing

#[actix_web::test]
async fn listing_answers_newest_first_with_pagination() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let mut sent = Vec::new();
    for content in ["one", "two", "three"] {
        sent.push(ann_says(&app, &acme, &uuid, content).await);
    }
    for path in [
        room_messages_path(&uuid),
        format!("{}/", room_messages_path(&uuid)),
    ] {
        let reply = app.get(&path, &key(&acme.api_key)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let body = reply.json();
        assert_eq!(
            body,
            json!({
                "data": [sent[2], sent[1], sent[0]],
                "pagination": { "skip": 0, "limit": 50, "total": 3, "has_more": false },
                "status": "success",
            }),
            "{path}"
        );
    }
    // Every kind of credential of the account reads it: the administrator without being in it.
    for credential in [&acme.admin_token, &acme.agent_token] {
        let list = app.list_messages(credential, &uuid, "").await;
        assert_eq!(contents(&list), ["three", "two", "one"]);
    }
}

#[actix_web::test]
async fn sort_created_at_lists_oldest_first_and_any_other_sort_is_422() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    for content in ["one", "two", "three"] {
        ann_says(&app, &acme, &uuid, content).await;
    }
    let oldest = app
        .list_messages(&acme.api_key, &uuid, "sort=created_at")
        .await;
    assert_eq!(contents(&oldest), ["one", "two", "three"]);
    let newest = app
        .list_messages(&acme.api_key, &uuid, "sort=-created_at")
        .await;
    assert_eq!(contents(&newest), ["three", "two", "one"]);
    for sort in ["seq", "name", "created", "-seq"] {
        let reply = app
            .get(
                &format!("{}?sort={sort}", room_messages_path(&uuid)),
                &key(&acme.api_key),
            )
            .await;
        assert_validation(&reply, &["sort"], sort);
    }
}

#[actix_web::test]
async fn skip_and_limit_window_the_list_and_bad_values_are_refused() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    for n in 1..=5 {
        ann_says(&app, &acme, &uuid, &format!("m{n}")).await;
    }
    for (query, seqs, has_more) in [
        ("skip=1&limit=2", vec![4, 3], true),
        ("skip=3&limit=2", vec![2, 1], false),
        ("skip=4&limit=2", vec![1], false),
        ("skip=5&limit=2", vec![], false),
        ("skip=0&limit=5", vec![5, 4, 3, 2, 1], false),
        ("sort=created_at&skip=1&limit=3", vec![2, 3, 4], true),
    ] {
        let list = app.list_messages(&acme.api_key, &uuid, query).await;
        assert_eq!(seqs_of(&list), seqs, "?{query}");
        assert_eq!(list["pagination"]["total"], 5, "?{query}");
        assert_eq!(list["pagination"]["has_more"], has_more, "?{query}");
    }
    let list = app
        .list_messages(&acme.api_key, &uuid, "skip=2&limit=1")
        .await;
    assert_eq!(
        list["pagination"],
        json!({ "skip": 2, "limit": 1, "total": 5, "has_more": true })
    );
    let clamped = app.list_messages(&acme.api_key, &uuid, "limit=101").await;
    assert_eq!(clamped["pagination"]["limit"], 100);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=-3", "limit"),
        ("skip=-1", "skip"),
    ] {
        let reply = app
            .get(
                &format!("{}?{query}", room_messages_path(&uuid)),
                &key(&acme.api_key),
            )
            .await;
        assert_validation(&reply, &[field], query);
    }
    for (query, field) in [("limit=ten", "limit"), ("skip=1.5", "skip")] {
        let reply = app
            .get(
                &format!("{}?{query}", room_messages_path(&uuid)),
                &key(&acme.api_key),
            )
            .await;
        assert_invalid_request(&reply, field, query);
    }
}

#[actix_web::test]
async fn sender_id_and_message_type_filter_the_list() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    ann_says(&app, &acme, &uuid, "ann 1").await;
    app.send_message_ok(&acme.agent_token, &uuid, json!({ "content": "agent 1" }))
        .await;
    app.send_message_ok(
        &acme.api_key,
        &uuid,
        json!({ "sender_id": "crm-ann", "content": "ann image", "message_type": "image" }),
    )
    .await;
    app.send_message_ok(
        &acme.api_key,
        &uuid,
        json!({ "content": "system 1", "message_type": "system" }),
    )
    .await;
    let agent = chat_user_id(&acme.agent);
    for (query, expected) in [
        ("sender_id=crm-ann".to_owned(), vec!["ann image", "ann 1"]),
        (format!("sender_id={agent}"), vec!["agent 1"]),
        ("sender_id=system".to_owned(), vec!["system 1"]),
        ("sender_id=nobody".to_owned(), vec![]),
        ("message_type=text".to_owned(), vec!["agent 1", "ann 1"]),
        ("message_type=image".to_owned(), vec!["ann image"]),
        ("message_type=system".to_owned(), vec!["system 1"]),
        ("message_type=video".to_owned(), vec![]),
        (
            "sender_id=crm-ann&message_type=text".to_owned(),
            vec!["ann 1"],
        ),
    ] {
        let list = app.list_messages(&acme.api_key, &uuid, &query).await;
        assert_eq!(contents(&list), expected, "?{query}");
        assert_eq!(total(&list), expected.len() as i64, "?{query}");
    }
    let reply = app
        .get(
            &format!("{}?message_type=Outgoing", room_messages_path(&uuid)),
            &key(&acme.api_key),
        )
        .await;
    assert_validation(
        &reply,
        &["message_type"],
        "a message_type breaking the rule",
    );
}

/// `text` with `%`-escapes for a query string (RFC 3339 times carry `:` and maybe `+`).
fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[actix_web::test]
async fn created_after_and_created_before_take_rfc3339_times_and_refuse_others_with_400() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let first = ann_says(&app, &acme, &uuid, "first").await;
    ann_says(&app, &acme, &uuid, "second").await;
    let third = ann_says(&app, &acme, &uuid, "third").await;
    let first_at = str_of(&first, "created_at");
    let third_at = str_of(&third, "created_at");
    assert!(rfc3339_nanos(first_at) < rfc3339_nanos(third_at));
    for (query, expected) in [
        (
            format!("created_after={}", escape(first_at)),
            vec!["third", "second"],
        ),
        (
            format!("created_before={}", escape(third_at)),
            vec!["second", "first"],
        ),
        (
            format!(
                "created_after={}&created_before={}",
                escape(first_at),
                escape(third_at)
            ),
            vec!["second"],
        ),
        (
            format!("created_after={}", escape("2000-01-01T00:00:00+02:00")),
            vec!["third", "second", "first"],
        ),
        (
            format!("created_before={}", escape("2000-01-01T00:00:00Z")),
            vec![],
        ),
    ] {
        let list = app.list_messages(&acme.api_key, &uuid, &query).await;
        assert_eq!(contents(&list), expected, "?{query}");
        assert_eq!(total(&list), expected.len() as i64, "?{query}");
    }
    for (query, field) in [
        ("created_after=yesterday", "created_after"),
        ("created_before=2024-13-01T00:00:00Z", "created_before"),
        ("created_after=1640000000", "created_after"),
    ] {
        let reply = app
            .get(
                &format!("{}?{query}", room_messages_path(&uuid)),
                &key(&acme.api_key),
            )
            .await;
        assert_invalid_request(&reply, field, query);
    }
}

#[actix_web::test]
async fn search_matches_content_case_insensitively() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    for content in ["Hello World", "help me", "Nothing here", "100% sure"] {
        ann_says(&app, &acme, &uuid, content).await;
    }
    for (search, expected) in [
        ("WORLD", vec!["Hello World"]),
        ("hel", vec!["help me", "Hello World"]),
        ("xyz", vec![]),
        ("%25", vec!["100% sure"]),
        ("_", vec![]),
        (
            "",
            vec!["100% sure", "Nothing here", "help me", "Hello World"],
        ),
    ] {
        let list = app
            .list_messages(&acme.api_key, &uuid, &format!("search={search}"))
            .await;
        assert_eq!(contents(&list), expected, "search={search}");
        assert_eq!(total(&list), expected.len() as i64, "search={search}");
    }
}

#[actix_web::test]
async fn after_seq_and_before_seq_are_keyset_cursors_and_a_negative_one_is_422() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    for n in 1..=5 {
        ann_says(&app, &acme, &uuid, &format!("m{n}")).await;
    }
    for (query, seqs) in [
        ("after_seq=2", vec![5, 4, 3]),
        ("after_seq=2&sort=created_at", vec![3, 4, 5]),
        ("before_seq=4", vec![3, 2, 1]),
        ("before_seq=4&sort=created_at&limit=2", vec![1, 2]),
        ("after_seq=1&before_seq=5", vec![4, 3, 2]),
        ("after_seq=0", vec![5, 4, 3, 2, 1]),
        ("after_seq=5", vec![]),
        ("before_seq=1", vec![]),
    ] {
        let list = app.list_messages(&acme.api_key, &uuid, query).await;
        assert_eq!(seqs_of(&list), seqs, "?{query}");
    }
    let page = app
        .list_messages(&acme.api_key, &uuid, "before_seq=4&limit=2")
        .await;
    assert_eq!(
        page["pagination"],
        json!({ "skip": 0, "limit": 2, "total": 3, "has_more": true })
    );
    for query in ["after_seq=-1", "before_seq=-5"] {
        let reply = app
            .get(
                &format!("{}?{query}", room_messages_path(&uuid)),
                &key(&acme.api_key),
            )
            .await;
        let field = query.split('=').next().unwrap_or_default();
        assert_validation(&reply, &[field], query);
    }
    let reply = app
        .get(
            &format!("{}?after_seq=two", room_messages_path(&uuid)),
            &key(&acme.api_key),
        )
        .await;
    assert_invalid_request(&reply, "after_seq", "after_seq=two");
}

#[actix_web::test]
async fn an_agent_reads_the_messages_only_of_rooms_it_is_in() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Private" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    app.join_room(
        &acme.api_key,
        &uuid,
        &json!({ "user_id": "crm-ann", "user_name": "Ann" }),
    )
    .await;
    let message = ann_says(&app, &acme, &uuid, "Secret").await;
    let id = str_of(&message, "id");
    let listed = app
        .get(&room_messages_path(&uuid), &key(&acme.agent_token))
        .await;
    assert_chatapi_error(&listed, 403, "ROOM_ACCESS_DENIED", "list");
    let one = app.get(&message_path(id), &key(&acme.agent_token)).await;
    assert_chatapi_error(&one, 403, "ROOM_ACCESS_DENIED", "one");
    // The administrator reads every room of the account.
    let one = app.get(&message_path(id), &key(&acme.admin_token)).await;
    assert_eq!(one.status, 200, "{}", one.text());
    app.join_ok(&acme.api_key, &uuid, &chat_user_id(&acme.agent))
        .await;
    let list = app.list_messages(&acme.agent_token, &uuid, "").await;
    assert_eq!(contents(&list), ["Secret"]);
    // And out again after leaving.
    let left = app
        .leave_room(&acme.api_key, &uuid, &chat_user_id(&acme.agent))
        .await;
    assert_eq!(left.status, 200, "{}", left.text());
    let listed = app
        .get(&room_messages_path(&uuid), &key(&acme.agent_token))
        .await;
    assert_chatapi_error(&listed, 403, "ROOM_ACCESS_DENIED", "after leaving");
}

// ---------------------------------------------------------------- one message

#[actix_web::test]
async fn reading_one_message_answers_it_with_or_without_a_trailing_slash() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let sent = app
        .send_message_ok(
            &acme.api_key,
            &uuid,
            json!({ "sender_id": "crm-ann", "content": "Hi", "meta": { "k": "v" }, "echo_id": "e-9" }),
        )
        .await;
    let id = str_of(&sent, "id");
    for path in [message_path(id), format!("{}/", message_path(id))] {
        for credential in [&acme.api_key, &acme.admin_token, &acme.agent_token] {
            let reply = app.get(&path, &key(credential)).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.text());
            assert_eq!(
                reply.json(),
                json!({ "data": sent, "status": "success" }),
                "{path}"
            );
        }
    }
}

#[actix_web::test]
async fn malformed_and_unknown_message_ids_are_404_message_not_found() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    ann_says(&app, &acme, &uuid, "Hi").await;
    let edit = serde_json::to_vec(&json!({ "content": "x" })).unwrap_or_default();
    for id in [UNKNOWN_UUID, "not-a-uuid", "1", uuid.as_str()] {
        for (method, path, body) in [
            (Method::GET, message_path(id), None),
            (Method::PUT, message_path(id), Some(edit.clone())),
            (Method::DELETE, message_path(id), None),
            (Method::POST, format!("{}/restore", message_path(id)), None),
        ] {
            let reply = app
                .send(method.clone(), &path, &key(&acme.api_key), body)
                .await;
            let error = assert_chatapi_error(
                &reply,
                404,
                "MESSAGE_NOT_FOUND",
                &format!("{method} {path}"),
            );
            assert_eq!(error["message"], "Message not found");
        }
    }
}

// ---------------------------------------------------------------- editing

#[actix_web::test]
async fn the_sender_edits_content_and_meta_and_edited_at_is_set() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let sent = app
        .send_message_ok(
            &acme.agent_token,
            &uuid,
            json!({ "content": "Helo", "meta": { "draft": true } }),
        )
        .await;
    let id = str_of(&sent, "id").to_owned();
    // An empty edit changes nothing.
    let unchanged = put_message(&app, &acme.agent_token, &id, &json!({})).await;
    assert_eq!(unchanged.status, 200, "{}", unchanged.text());
    assert_eq!(unchanged.json()["data"], sent);

    let reply = put_message(&app, &acme.agent_token, &id, &json!({ "content": "Hello" })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(keys_of(&body), ["data", "status"]);
    let edited = &body["data"];
    let edited_at = str_of(edited, "edited_at");
    assert_rfc3339_near_now(&edited["edited_at"]);
    assert!(rfc3339_nanos(edited_at) > rfc3339_nanos(str_of(&sent, "created_at")));
    assert_eq!(edited["updated_at"], edited["edited_at"]);
    let mut expected = sent.clone();
    expected["content"] = json!("Hello");
    expected["edited_at"] = edited["edited_at"].clone();
    expected["updated_at"] = edited["updated_at"].clone();
    assert_eq!(body, json!({ "data": expected, "status": "success" }));

    // meta alone: replaced whole, content kept.
    let reply = put_message(
        &app,
        &acme.agent_token,
        &id,
        &json!({ "meta": { "pinned": 1 } }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = reply.json()["data"].clone();
    assert_eq!(data["content"], "Hello");
    assert_eq!(data["meta"], json!({ "pinned": 1 }));
    assert_eq!(data["seq"], sent["seq"]);
    assert_eq!(data["created_at"], sent["created_at"]);
    assert!(rfc3339_nanos(str_of(&data, "edited_at")) >= rfc3339_nanos(edited_at));
    let fetched = app.get(&message_path(&id), &key(&acme.api_key)).await;
    assert_eq!(fetched.json()["data"], data);
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    assert_eq!(list["data"], json!([data]));
}

#[actix_web::test]
async fn another_agent_may_not_edit_delete_or_restore_but_an_administrator_and_the_api_key_may() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let bo = app.create_user(acme.id, json!({ "name": "Bo" })).await;
    let bo_token = str_of(&bo, "access_token").to_owned();
    app.join_ok(&acme.api_key, &uuid, &chat_user_id(&bo)).await;
    let sent = app
        .send_message_ok(&acme.agent_token, &uuid, json!({ "content": "Mine" }))
        .await;
    let id = str_of(&sent, "id").to_owned();
    let ann = ann_says(&app, &acme, &uuid, "Ann's").await;
    let ann_id = str_of(&ann, "id").to_owned();

    // Bo, a participant, may touch none of the agent's or Ann's messages.
    for target in [&id, &ann_id] {
        let edit = put_message(&app, &bo_token, target, &json!({ "content": "Hacked" })).await;
        let error = assert_chatapi_error(&edit, 403, "UNAUTHORIZED_EDIT", "bo edits");
        assert_eq!(
            error["message"],
            "You can only edit or delete your own messages"
        );
        let delete = delete_message(&app, &bo_token, target).await;
        assert_chatapi_error(&delete, 403, "UNAUTHORIZED_EDIT", "bo deletes");
        let restore = restore_message(&app, &bo_token, target).await;
        assert_chatapi_error(&restore, 403, "UNAUTHORIZED_EDIT", "bo restores");
    }
    // The agent may not touch Ann's.
    let edit = put_message(&app, &acme.agent_token, &ann_id, &json!({ "content": "x" })).await;
    assert_chatapi_error(&edit, 403, "UNAUTHORIZED_EDIT", "agent edits ann's");
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    assert_eq!(contents(&list), ["Ann's", "Mine"]);

    // An agent who is not in the room does not see it at all.
    let outsider = app.create_user(acme.id, json!({ "name": "Oz" })).await;
    let outsider_token = str_of(&outsider, "access_token");
    let edit = put_message(&app, outsider_token, &id, &json!({ "content": "x" })).await;
    assert_chatapi_error(&edit, 403, "ROOM_ACCESS_DENIED", "outsider edits");
    let delete = delete_message(&app, outsider_token, &id).await;
    assert_chatapi_error(&delete, 403, "ROOM_ACCESS_DENIED", "outsider deletes");

    // The sender, the administrator (not in the room) and the API key may.
    for (who, credential, content) in [
        ("sender", acme.agent_token.as_str(), "By the sender"),
        ("administrator", acme.admin_token.as_str(), "By the admin"),
        ("api key", acme.api_key.as_str(), "By the key"),
    ] {
        let reply = put_message(&app, credential, &id, &json!({ "content": content })).await;
        assert_eq!(reply.status, 200, "{who}: {}", reply.text());
        assert_eq!(reply.json()["data"]["content"], content, "{who}");
        // The sender stays the sender.
        assert_eq!(reply.json()["data"]["sender_id"], chat_user_id(&acme.agent));
        let deleted = delete_message(&app, credential, &id).await;
        assert_eq!(deleted.status, 200, "{who}: {}", deleted.text());
        assert_eq!(deleted.json()["data"]["is_deleted"], true, "{who}");
        let restored = restore_message(&app, credential, &id).await;
        assert_eq!(restored.status, 200, "{who}: {}", restored.text());
        assert_eq!(restored.json()["data"]["is_deleted"], false, "{who}");
    }
    let admin_on_ann = put_message(
        &app,
        &acme.admin_token,
        &ann_id,
        &json!({ "content": "Fixed" }),
    )
    .await;
    assert_eq!(admin_on_ann.status, 200, "{}", admin_on_ann.text());
}

#[actix_web::test]
async fn an_edit_is_validated_like_a_send() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let sent = ann_says(&app, &acme, &uuid, "Original").await;
    let id = str_of(&sent, "id");
    let too_long = put_message(
        &app,
        &acme.api_key,
        id,
        &json!({ "content": "y".repeat(10_001) }),
    )
    .await;
    let error = assert_chatapi_error(&too_long, 422, "CONTENT_TOO_LONG", "too long");
    assert_eq!(
        error["details"],
        json!({ "max_length": 10000, "current_length": 10001 })
    );
    for content in ["", "   "] {
        let blank = put_message(&app, &acme.api_key, id, &json!({ "content": content })).await;
        assert_validation(&blank, &["content"], "blank");
    }
    for (body, field) in [
        (json!({ "content": null }), "content"),
        (json!({ "content": 5 }), "content"),
        (json!({ "meta": null }), "meta"),
        (json!({ "meta": "x" }), "meta"),
    ] {
        let wrong = put_message(&app, &acme.api_key, id, &body).await;
        assert_invalid_request(&wrong, field, &body.to_string());
    }
    let fetched = app.get(&message_path(id), &key(&acme.api_key)).await;
    assert_eq!(fetched.json()["data"], sent, "nothing changed");
}

// ---------------------------------------------------------------- deleting

#[actix_web::test]
async fn deleting_is_soft_and_restore_brings_the_message_back() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    let keep = ann_says(&app, &acme, &uuid, "keep").await;
    let gone = ann_says(&app, &acme, &uuid, "gone").await;
    let id = str_of(&gone, "id").to_owned();

    let reply = delete_message(&app, &acme.api_key, &id).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    let deleted_at = &body["data"]["updated_at"];
    assert_rfc3339_near_now(deleted_at);
    assert!(
        rfc3339_nanos(str_of(&body["data"], "updated_at"))
            > rfc3339_nanos(str_of(&gone, "created_at"))
    );
    assert_eq!(
        body,
        json!({
            "data": { "id": id, "is_deleted": true, "updated_at": deleted_at },
            "message": "Message deleted successfully",
            "status": "success",
        })
    );
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    assert_eq!(contents(&list), ["keep"]);
    assert_eq!(total(&list), 1);
    let all = app
        .list_messages(&acme.api_key, &uuid, "include_deleted=true")
        .await;
    assert_eq!(contents(&all), ["gone", "keep"]);
    assert_eq!(total(&all), 2);
    assert_eq!(all["data"][0]["is_deleted"], true);
    assert_eq!(all["data"][0]["updated_at"], *deleted_at);
    assert_eq!(all["data"][1], keep);
    let hidden = app
        .list_messages(&acme.api_key, &uuid, "include_deleted=false")
        .await;
    assert_eq!(contents(&hidden), ["keep"]);
    // Filters skip it too, unless asked.
    let searched = app.list_messages(&acme.api_key, &uuid, "search=gone").await;
    assert_eq!(total(&searched), 0);
    // A deleted message cannot be edited.
    let edit = put_message(&app, &acme.api_key, &id, &json!({ "content": "zombie" })).await;
    assert_chatapi_error(&edit, 404, "MESSAGE_NOT_FOUND", "edit a deleted message");
    // Deleting again changes nothing.
    let again = delete_message(&app, &acme.api_key, &id).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), body);

    let reply = restore_message(&app, &acme.api_key, &id).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let restored = reply.json();
    let restored_at = &restored["data"]["updated_at"];
    assert!(
        rfc3339_nanos(str_of(&restored["data"], "updated_at"))
            > rfc3339_nanos(str_of(&body["data"], "updated_at"))
    );
    assert_eq!(
        restored,
        json!({
            "data": { "id": id, "is_deleted": false, "updated_at": restored_at },
            "message": "Message restored successfully",
            "status": "success",
        })
    );
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    assert_eq!(contents(&list), ["gone", "keep"]);
    assert_eq!(list["data"][0]["is_deleted"], false);
    assert_eq!(list["data"][0]["content"], "gone");
    assert_eq!(list["data"][0]["seq"], gone["seq"]);
    // Restoring a live message changes nothing.
    let again = restore_message(&app, &acme.api_key, &id).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), restored);
}

#[actix_web::test]
async fn a_custom_message_type_is_stored_read_back_and_filtered_on() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = room_with_ann(&app, &acme, "General").await;
    ann_says(&app, &acme, &uuid, "plain").await;
    let poll = app
        .send_message_ok(
            &acme.api_key,
            &uuid,
            json!({ "sender_id": "crm-ann", "content": "Lunch?", "message_type": "poll" }),
        )
        .await;
    assert_eq!(poll["message_type"], "poll", "{poll}");
    let longest = "a".repeat(32);
    let other = app
        .send_message_ok(
            &acme.api_key,
            &uuid,
            json!({ "sender_id": "crm-ann", "content": "Long", "message_type": longest }),
        )
        .await;
    assert_eq!(other["message_type"], longest.as_str(), "{other}");
    // Read back: in the list, and on its own.
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    assert_eq!(contents(&list), ["Long", "Lunch?", "plain"]);
    assert_eq!(list["data"][1]["message_type"], "poll");
    let id = str_of(&poll, "id");
    let reply = app.get(&message_path(id), &key(&acme.api_key)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["data"]["message_type"], "poll");
    // Filtered on: only the poll, and a type no message has finds none.
    let polls = app
        .list_messages(&acme.api_key, &uuid, "message_type=poll")
        .await;
    assert_eq!(contents(&polls), ["Lunch?"]);
    assert_eq!(total(&polls), 1);
    let none = app
        .list_messages(&acme.api_key, &uuid, "message_type=survey")
        .await;
    assert_eq!(total(&none), 0);
    // A name breaking the rule is refused, on send and as a filter.
    for bad in ["Poll!", "1x", &"a".repeat(33)] {
        let reply = app
            .post_message(
                &acme.api_key,
                &uuid,
                &json!({ "sender_id": "crm-ann", "content": "x", "message_type": bad }),
            )
            .await;
        assert_validation(&reply, &["message_type"], bad);
    }
    let reply = app
        .get(
            &format!("{}?message_type=Poll", room_messages_path(&uuid)),
            &key(&acme.api_key),
        )
        .await;
    assert_validation(&reply, &["message_type"], "?message_type=Poll");
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 3);
}
