//! Account-dialect messages (`…/chat_rooms/{chat_room_id}/messages`, `mark_as_read`):
//! seed 002 sections 6, 11 and 12, with per-viewer `message_type`, delivery `status` and
//! `unread_count`.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// The keys of a message that is not a reply and was sent without an `echo_id`.
const MESSAGE_KEYS: [&str; 15] = [
    "attachments",
    "content",
    "content_attributes",
    "content_type",
    "conversation_id",
    "created_at",
    "id",
    "message_type",
    "pinned_at",
    "pinned_by",
    "reactions",
    "reply_count",
    "room_name",
    "sender",
    "status",
];

fn token(credential: &str) -> [(&str, &str); 1] {
    [("api_access_token", credential)]
}

fn id_of(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {value}"))
}

/// A user (as the platform API answers it) as a message's `sender`.
fn sender_of(user: &Value) -> Value {
    json!({
        "id": user["id"],
        "name": user["name"],
        "email": user["email"],
        "thumbnail": null,
        "availability_status": user["availability_status"],
    })
}

fn not_a_member() -> Value {
    json!({ "error": "You are not a member of this chat room" })
}

fn not_found() -> Value {
    json!({ "error": "Resource could not be found" })
}

/// The four page headers, in the order total, current page, per page, total pages.
fn page_headers(reply: &Reply) -> [Option<&str>; 4] {
    [
        reply.header("x-total-count"),
        reply.header("x-current-page"),
        reply.header("x-per-page"),
        reply.header("x-total-pages"),
    ]
}

/// `GET` the messages of room `id` as `credential` (`?{query}`), expecting 200.
async fn list(app: &TestApp, account: i64, id: i64, credential: &str, query: &str) -> Reply {
    let reply = app
        .get(
            &format!("{}?{query}", chat_messages_path(account, id)),
            &token(credential),
        )
        .await;
    assert_eq!(reply.status, 200, "?{query}: {}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply
}

fn contents(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| str_of(m, "content").to_owned())
        .collect()
}

/// `POST` members `user_ids` to room `id` as `credential`, expecting 200.
async fn add_members(app: &TestApp, tenant: &Tenant, credential: &str, id: i64, user_ids: Value) {
    let reply = app
        .members_request(
            Method::POST,
            tenant.id,
            id,
            credential,
            &json!({ "user_ids": user_ids }),
        )
        .await;
    assert_eq!(reply.status, 200, "adding {user_ids}: {}", reply.text());
}

/// A room made by the tenant's administrator, with its agent added; answers its id.
async fn room_with_agent(app: &TestApp, tenant: &Tenant, name: &str) -> i64 {
    let room = app
        .create_chat_room(tenant.id, &tenant.admin_token, name, None)
        .await;
    let id = id_of(&room);
    add_members(
        app,
        tenant,
        &tenant.admin_token,
        id,
        json!([id_of(&tenant.agent)]),
    )
    .await;
    id
}

/// Asserts a 422 `{message, attributes}` body; answers it.
fn assert_validation(reply: &Reply, attributes: &[&str], context: &str) -> Value {
    assert_eq!(reply.status, 422, "{context}: {}", reply.text());
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

/// `(content, message_type, status)` of each message of room `id` as `credential` sees
/// them, newest first. Listing moves the viewer's delivered position.
async fn view(
    app: &TestApp,
    account: i64,
    id: i64,
    credential: &str,
) -> Vec<(String, String, String)> {
    app.chat_messages(account, id, credential, "")
        .await
        .iter()
        .map(|m| {
            (
                str_of(m, "content").to_owned(),
                str_of(m, "message_type").to_owned(),
                str_of(m, "status").to_owned(),
            )
        })
        .collect()
}

fn seen(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(c, t, s)| ((*c).to_owned(), (*t).to_owned(), (*s).to_owned()))
        .collect()
}

/// The `unread_count` of room `id` in the rooms list as `credential` sees it.
async fn listed_unread(app: &TestApp, account: i64, id: i64, credential: &str) -> i64 {
    let reply = app.get(&chat_rooms_path(account), &token(credential)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let rooms = reply.json();
    let room = rooms
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("room {id} is not listed: {rooms}"));
    room["unread_count"]
        .as_i64()
        .unwrap_or_else(|| panic!("no unread_count in {room}"))
}

// ---------------------------------------------------------------- sending

#[actix_web::test]
async fn sending_a_message_answers_200_with_the_seed_fields() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Development Team", None)
        .await;
    let id = id_of(&room);
    let reply = app
        .post_chat_message(
            acme.id,
            id,
            &acme.admin_token,
            &json!({
                "chat_room_message": {
                    "content": "This is a test message",
                    "message_type": "outgoing",
                }
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(keys_of(&body), MESSAGE_KEYS, "{body}");
    assert!(id_of(&body) > 0);
    let created = assert_unix_near_now(&body["created_at"]);
    assert_eq!(
        body,
        json!({
            "id": body["id"],
            "content": "This is a test message",
            "message_type": "outgoing",
            "content_type": "text",
            "content_attributes": {},
            "created_at": created,
            "conversation_id": id,
            "room_name": "Development Team",
            "sender": sender_of(&acme.admin),
            "attachments": [],
            "status": "sent",
            "reply_count": 0,
            "reactions": [],
            "pinned_at": null,
            "pinned_by": null,
        })
    );

    // With an echo_id: it comes back.
    let reply = app
        .post_chat_message(
            acme.id,
            id,
            &acme.admin_token,
            &json!({
                "chat_room_message": {
                    "content": "Message with temporary identifier",
                    "message_type": "outgoing",
                    "echo_id": "temp-msg-12345",
                }
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let echoed = reply.json();
    let mut keys: Vec<&str> = MESSAGE_KEYS.to_vec();
    keys.push("echo_id");
    keys.sort_unstable();
    assert_eq!(keys_of(&echoed), keys, "{echoed}");
    assert_eq!(echoed["echo_id"], "temp-msg-12345");
    assert!(id_of(&echoed) > id_of(&body));
    // The room's last_message_at follows its newest message.
    let read = app
        .get(&chat_room_path(acme.id, id), &token(&acme.admin_token))
        .await
        .json();
    assert_eq!(read["last_message_at"], echoed["created_at"], "{read}");
}

#[actix_web::test]
async fn a_retried_echo_id_answers_the_first_message_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Retries").await;
    let send =
        |content: &str| json!({ "chat_room_message": { "content": content, "echo_id": "e-1" } });
    let first = app
        .post_chat_message(acme.id, id, &acme.agent_token, &send("Once"))
        .await;
    assert_eq!(first.status, 200, "{}", first.text());
    let retry = app
        .post_chat_message(acme.id, id, &acme.agent_token, &send("Twice?"))
        .await;
    assert_eq!(retry.status, 200, "{}", retry.text());
    assert_eq!(retry.json(), first.json());
    let messages = app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(contents(&messages), ["Once"]);
}

#[actix_web::test]
async fn a_body_without_chat_room_message_is_422_and_a_body_not_json_400() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    for body in [
        json!({}),
        json!({ "chat_room_message": null }),
        json!({ "content": "Unwrapped" }),
    ] {
        let reply = app
            .post_chat_message(acme.id, id, &acme.agent_token, &body)
            .await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(
            reply.json(),
            json!({
                "message": "Chat room message can't be blank",
                "attributes": ["chat_room_message"],
            }),
            "{body}"
        );
    }
    let reply = app
        .send(
            Method::POST,
            &chat_messages_path(acme.id, id),
            &token(&acme.agent_token),
            Some(b"content=hello".to_vec()),
        )
        .await;
    let text = assert_account_error(&reply, 400, "not JSON");
    assert!(text.starts_with("Request body is not valid JSON"), "{text}");
    assert!(
        app.chat_messages(acme.id, id, &acme.agent_token, "")
            .await
            .is_empty()
    );
}

#[actix_web::test]
async fn blank_content_is_422_and_content_over_10000_characters_too() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    for fields in [
        json!({ "content": "" }),
        json!({ "content": "   " }),
        json!({}),
    ] {
        let reply = app
            .post_chat_message(
                acme.id,
                id,
                &acme.agent_token,
                &json!({ "chat_room_message": fields }),
            )
            .await;
        assert_eq!(reply.status, 422, "{fields}: {}", reply.text());
        assert_eq!(
            reply.json(),
            json!({ "message": "Content can't be blank", "attributes": ["content"] }),
            "{fields}"
        );
    }
    let reply = app
        .post_chat_message(
            acme.id,
            id,
            &acme.agent_token,
            &json!({ "chat_room_message": { "content": "é".repeat(10_001) } }),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({
            "message": "Content is too long (maximum is 10000 characters, given 10001)",
            "attributes": ["content"],
        })
    );
    let longest = app
        .send_chat_message_ok(acme.id, id, &acme.agent_token, &"é".repeat(10_000))
        .await;
    assert_eq!(
        longest["content"].as_str().map(|c| c.chars().count()),
        Some(10_000)
    );
    let messages = app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(messages.len(), 1);
}

#[actix_web::test]
async fn a_reply_carries_in_reply_to_and_must_name_a_message_of_the_same_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let other = room_with_agent(&app, &acme, "Other").await;
    let question = app
        .send_chat_message_ok(
            acme.id,
            id,
            &acme.admin_token,
            "Hi team, how's the project going?",
        )
        .await;
    let elsewhere = app
        .send_chat_message_ok(acme.id, other, &acme.admin_token, "Elsewhere")
        .await;
    let reply = app
        .post_chat_message(
            acme.id,
            id,
            &acme.agent_token,
            &json!({
                "chat_room_message": {
                    "content": "All good, we're progressing as planned",
                    "message_type": "outgoing",
                    "content_attributes": { "in_reply_to": question["id"] },
                }
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = reply.json();
    let mut keys: Vec<&str> = MESSAGE_KEYS.to_vec();
    keys.push("in_reply_to");
    keys.sort_unstable();
    assert_eq!(keys_of(&answer), keys, "{answer}");
    assert_eq!(
        answer["content_attributes"],
        json!({ "in_reply_to": question["id"] })
    );
    let in_reply_to = json!({
        "id": question["id"],
        "content": "Hi team, how's the project going?",
        "sender": { "id": acme.admin["id"], "name": "Ada Admin" },
    });
    assert_eq!(answer["in_reply_to"], in_reply_to);
    // The list shows the same; the question, not a reply, has no in_reply_to.
    let messages = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["in_reply_to"], in_reply_to);
    assert_eq!(
        messages[0]["content_attributes"],
        answer["content_attributes"]
    );
    assert_eq!(keys_of(&messages[1]), MESSAGE_KEYS);

    for (what, target) in [
        ("a message of another room", elsewhere["id"].clone()),
        ("no message", json!(99_999_999)),
    ] {
        let refused = app
            .post_chat_message(
                acme.id,
                id,
                &acme.agent_token,
                &json!({
                    "chat_room_message": {
                        "content": "Re",
                        "content_attributes": { "in_reply_to": target },
                    }
                }),
            )
            .await;
        assert_eq!(refused.status, 422, "{what}: {}", refused.text());
        let body = refused.json();
        assert_eq!(keys_of(&body), ["attributes", "message"], "{what}: {body}");
        let attributes = body["attributes"].as_array().cloned().unwrap_or_default();
        assert_eq!(attributes.len(), 1, "{what}: {body}");
        assert!(
            attributes[0]
                .as_str()
                .is_some_and(|a| a.contains("reply_to")),
            "{what}: {body}"
        );
    }
    assert_eq!(
        app.chat_messages(acme.id, id, &acme.admin_token, "")
            .await
            .len(),
        2
    );
}

#[actix_web::test]
async fn a_reply_to_a_system_message_names_no_sender() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;
    app.send_message_ok(
        &acme.api_key,
        &uuid,
        json!({ "content": "Maintenance at noon", "message_type": "system" }),
    )
    .await;
    let messages = app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(messages.len(), 1);
    let system = &messages[0];
    assert_eq!(keys_of(system), MESSAGE_KEYS, "{system}");
    assert_eq!(system["sender"], Value::Null, "{system}");
    assert_eq!(system["message_type"], "incoming");
    let answer = app
        .post_chat_message(
            acme.id,
            id,
            &acme.agent_token,
            &json!({
                "chat_room_message": {
                    "content": "Noted",
                    "content_attributes": { "in_reply_to": system["id"] },
                }
            }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json()["in_reply_to"],
        json!({ "id": system["id"], "content": "Maintenance at noon", "sender": null })
    );
}

#[actix_web::test]
async fn the_api_key_and_non_members_may_not_send() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.api_key, "Nobody's", None)
        .await;
    let id = id_of(&room);
    let body = json!({ "chat_room_message": { "content": "Hello" } });
    for (who, credential) in [
        ("api key", &acme.api_key),
        ("administrator", &acme.admin_token),
        ("agent", &acme.agent_token),
    ] {
        let reply = app.post_chat_message(acme.id, id, credential, &body).await;
        assert_eq!(reply.status, 403, "{who}: {}", reply.text());
        assert_eq!(reply.json(), not_a_member(), "{who}");
    }
    // The API key is refused before its body is read.
    let reply = app
        .post_chat_message(acme.id, id, &acme.api_key, &json!({}))
        .await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    // Reading: the API key and the administrator read every room; the agent does not.
    for credential in [&acme.api_key, &acme.admin_token] {
        let reply = list(&app, acme.id, id, credential, "").await;
        assert_eq!(reply.json(), json!([]));
    }
    let reply = app
        .get(&chat_messages_path(acme.id, id), &token(&acme.agent_token))
        .await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(reply.json(), not_a_member());
    // Once a member, the agent sends and reads.
    add_members(&app, &acme, &acme.api_key, id, json!([id_of(&acme.agent)])).await;
    let sent = app
        .send_chat_message_ok(acme.id, id, &acme.agent_token, "Hello")
        .await;
    assert_eq!(sent["sender"], sender_of(&acme.agent));
    let messages = app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(contents(&messages), ["Hello"]);
}

#[actix_web::test]
async fn an_inactive_room_refuses_messages_with_409() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    app.send_chat_message_ok(acme.id, id, &acme.agent_token, "Before")
        .await;
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;
    let reply = app
        .send(
            Method::POST,
            &format!("{}/deactivate", room_path(&uuid)),
            &[api_key_header(&acme.api_key)],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    for credential in [&acme.agent_token, &acme.admin_token] {
        let reply = app
            .post_chat_message(
                acme.id,
                id,
                credential,
                &json!({ "chat_room_message": { "content": "During" } }),
            )
            .await;
        assert_eq!(reply.status, 409, "{}", reply.text());
        assert_eq!(reply.json(), json!({ "error": "Chat room is inactive" }));
    }
    // It keeps its messages, and members still read and mark them.
    let messages = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    assert_eq!(contents(&messages), ["Before"]);
    let marked = app.mark_as_read(acme.id, id, &acme.admin_token).await;
    assert_eq!(marked.status, 200, "{}", marked.text());
}

#[actix_web::test]
async fn a_message_may_be_sent_as_a_multipart_form() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let (content_type, body) = multipart_body(
        &[
            ("chat_room_message[content]", "Attaching nothing"),
            ("chat_room_message[message_type]", "outgoing"),
            ("chat_room_message[echo_id]", "form-1"),
        ],
        &[],
    );
    let reply = app
        .send_as(
            Method::POST,
            &chat_messages_path(acme.id, id),
            &token(&acme.agent_token),
            &content_type,
            body,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let message = reply.json();
    assert_eq!(message["content"], "Attaching nothing", "{message}");
    assert_eq!(message["echo_id"], "form-1", "{message}");
    assert_eq!(message["sender"], sender_of(&acme.agent));

    // A reply as a form names its message in content_attributes.
    let first = message["id"].to_string();
    let (content_type, body) = multipart_body(
        &[
            ("chat_room_message[content]", "Answering"),
            ("chat_room_message[content_attributes][in_reply_to]", &first),
        ],
        &[],
    );
    let reply = app
        .send_as(
            Method::POST,
            &chat_messages_path(acme.id, id),
            &token(&acme.agent_token),
            &content_type,
            body,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json()["content_attributes"]["in_reply_to"],
        message["id"]
    );
    assert_eq!(reply.json()["in_reply_to"]["content"], "Attaching nothing");

    // A file part is an attachment (see attachments.rs for the details).
    let (content_type, body) = multipart_body(
        &[("chat_room_message[content]", "With a file")],
        &[("chat_room_message[attachments][]", "a.txt", b"hello")],
    );
    let with_file = app
        .send_as(
            Method::POST,
            &chat_messages_path(acme.id, id),
            &token(&acme.agent_token),
            &content_type,
            body,
        )
        .await;
    assert_eq!(with_file.status, 200, "{}", with_file.text());
    let attachments = &with_file.json()["attachments"];
    assert_eq!(attachments[0]["extension"], "txt", "{attachments}");
    assert_eq!(attachments[0]["file_size"], 5, "{attachments}");
    let listed = app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(listed.len(), 3);
}

// ---------------------------------------------------------------- listing

#[actix_web::test]
async fn messages_are_listed_newest_first_with_page_headers() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Solo", None)
        .await;
    let id = id_of(&room);
    let mut sent = Vec::new();
    for content in ["one", "two", "three"] {
        sent.push(
            app.send_chat_message_ok(acme.id, id, &acme.admin_token, content)
                .await,
        );
    }
    let reply = list(&app, acme.id, id, &acme.admin_token, "").await;
    assert_eq!(
        page_headers(&reply),
        [Some("3"), Some("1"), Some("20"), Some("1")]
    );
    // The sender alone in the room: every message is `sent`, and `outgoing` to it.
    assert_eq!(reply.json(), json!([sent[2], sent[1], sent[0]]));
    // The API key sees them `incoming`.
    let by_key = app.chat_messages(acme.id, id, &acme.api_key, "").await;
    assert_eq!(
        by_key
            .iter()
            .map(|m| m["message_type"].clone())
            .collect::<Vec<_>>(),
        [json!("incoming"), json!("incoming"), json!("incoming")]
    );
}

#[actix_web::test]
async fn page_and_per_page_window_the_list_and_per_page_is_clamped_to_50() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Chatty", None)
        .await;
    let id = id_of(&room);
    for n in 1..=55 {
        app.send_chat_message_ok(acme.id, id, &acme.admin_token, &format!("m{n:02}"))
            .await;
    }
    let names = |from: i64, to: i64| -> Vec<String> {
        (to..=from).rev().map(|n| format!("m{n:02}")).collect()
    };
    for (query, expected, headers) in [
        ("", names(55, 36), ["55", "1", "20", "3"]),
        ("page=3", names(15, 1), ["55", "3", "20", "3"]),
        ("page=2&per_page=10", names(45, 36), ["55", "2", "10", "6"]),
        ("per_page=100", names(55, 6), ["55", "1", "50", "2"]),
        ("per_page=50&page=2", names(5, 1), ["55", "2", "50", "2"]),
        ("page=4", vec![], ["55", "4", "20", "3"]),
        ("page=99&per_page=50", vec![], ["55", "99", "50", "2"]),
    ] {
        let reply = list(&app, acme.id, id, &acme.admin_token, query).await;
        let messages = reply.json().as_array().cloned().unwrap_or_default();
        assert_eq!(contents(&messages), expected, "?{query}");
        assert_eq!(page_headers(&reply), headers.map(Some), "?{query}");
    }
    for (query, attribute) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("per_page=0", "per_page"),
        ("page=abc", "page"),
        ("per_page=1.5", "per_page"),
    ] {
        let reply = app
            .get(
                &format!("{}?{query}", chat_messages_path(acme.id, id)),
                &token(&acme.admin_token),
            )
            .await;
        assert_validation(&reply, &[attribute], query);
    }
}

#[actix_web::test]
async fn an_empty_room_lists_no_messages_with_one_page() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Quiet").await;
    let reply = list(&app, acme.id, id, &acme.agent_token, "").await;
    assert_eq!(reply.json(), json!([]));
    assert_eq!(
        page_headers(&reply),
        [Some("0"), Some("1"), Some("20"), Some("1")]
    );
}

#[actix_web::test]
async fn the_sender_is_the_user_and_null_for_system_messages() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let bea = app
        .create_user(
            acme.id,
            json!({ "name": "Bea", "email": "bea@example.com" }),
        )
        .await;
    let id = room_with_agent(&app, &acme, "Room").await;
    add_members(&app, &acme, &acme.admin_token, id, json!([id_of(&bea)])).await;
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;
    app.send_chat_message_ok(acme.id, id, str_of(&bea, "access_token"), "From Bea")
        .await;
    app.send_message_ok(
        &acme.api_key,
        &uuid,
        json!({ "content": "From the system", "message_type": "system" }),
    )
    .await;
    let messages = app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(contents(&messages), ["From the system", "From Bea"]);
    assert_eq!(messages[0]["sender"], Value::Null);
    assert_eq!(
        messages[1]["sender"],
        json!({
            "id": bea["id"],
            "name": "Bea",
            "email": "bea@example.com",
            "thumbnail": null,
            "availability_status": bea["availability_status"],
        })
    );
    assert_eq!(messages[0]["message_type"], "incoming");
    assert_eq!(messages[1]["message_type"], "incoming");
    let bea_view = app
        .chat_messages(acme.id, id, str_of(&bea, "access_token"), "")
        .await;
    assert_eq!(bea_view[1]["message_type"], "outgoing");
}

// ---------------------------------------------------------------- read positions

#[actix_web::test]
async fn mark_as_read_answers_200_with_an_empty_body_and_clears_the_unread_count() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    for content in ["one", "two"] {
        app.send_chat_message_ok(acme.id, id, &acme.admin_token, content)
            .await;
    }
    assert_eq!(app.unread_count(acme.id, id, &acme.agent_token).await, 2);
    assert_eq!(listed_unread(&app, acme.id, id, &acme.agent_token).await, 2);
    assert_eq!(app.unread_count(acme.id, id, &acme.admin_token).await, 0);
    // Listing delivers but does not read.
    app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(app.unread_count(acme.id, id, &acme.agent_token).await, 2);

    let reply = app.mark_as_read(acme.id, id, &acme.agent_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.body.is_empty(), "{:?}", reply.text());
    assert_eq!(app.unread_count(acme.id, id, &acme.agent_token).await, 0);
    assert_eq!(listed_unread(&app, acme.id, id, &acme.agent_token).await, 0);
    // Marking again is harmless.
    let again = app.mark_as_read(acme.id, id, &acme.agent_token).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(again.body.is_empty());
    assert_eq!(
        view(&app, acme.id, id, &acme.admin_token).await,
        seen(&[("two", "outgoing", "read"), ("one", "outgoing", "read")])
    );
    // The API key has nothing to mark, and nothing unread.
    let by_key = app.mark_as_read(acme.id, id, &acme.api_key).await;
    assert_eq!(by_key.status, 200, "{}", by_key.text());
    assert!(by_key.body.is_empty());
    assert_eq!(app.unread_count(acme.id, id, &acme.api_key).await, 0);
}

#[actix_web::test]
async fn mark_as_read_is_for_members() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.api_key, "Empty", None)
        .await;
    let id = id_of(&room);
    for credential in [&acme.agent_token, &acme.admin_token] {
        let reply = app.mark_as_read(acme.id, id, credential).await;
        assert_eq!(reply.status, 403, "{}", reply.text());
        assert_eq!(reply.json(), not_a_member());
    }
    for room in ["999999", "abc"] {
        let reply = app.mark_as_read(acme.id, room, &acme.admin_token).await;
        assert_eq!(reply.status, 404, "{room}: {}", reply.text());
        assert_eq!(reply.json(), not_found());
    }
}

#[actix_web::test]
async fn statuses_and_unread_counts_follow_a_conversation_of_three_members() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let cleo = app.create_user(acme.id, json!({ "name": "Cleo" })).await;
    let dan = app.create_user(acme.id, json!({ "name": "Dan" })).await;
    let (a, b) = (acme.admin_token.as_str(), acme.agent_token.as_str());
    let (c, d) = (str_of(&cleo, "access_token"), str_of(&dan, "access_token"));
    let account = acme.id;
    let room = app.create_chat_room(account, a, "Standup", None).await;
    let id = id_of(&room);
    add_members(
        &app,
        &acme,
        a,
        id,
        json!([id_of(&acme.agent), id_of(&cleo)]),
    )
    .await;

    // A says m1: nobody has received it.
    let m1 = app.send_chat_message_ok(account, id, a, "m1").await;
    assert_eq!(
        (&m1["message_type"], &m1["status"]),
        (&json!("outgoing"), &json!("sent"))
    );
    assert_eq!(
        view(&app, account, id, a).await,
        seen(&[("m1", "outgoing", "sent")])
    );

    // B lists: B has it, C not yet.
    assert_eq!(
        view(&app, account, id, b).await,
        seen(&[("m1", "incoming", "sent")])
    );
    assert_eq!(
        view(&app, account, id, a).await,
        seen(&[("m1", "outgoing", "sent")])
    );

    // C lists: everyone else has it.
    assert_eq!(
        view(&app, account, id, c).await,
        seen(&[("m1", "incoming", "delivered")])
    );
    assert_eq!(
        view(&app, account, id, a).await,
        seen(&[("m1", "outgoing", "delivered")])
    );
    for (who, token, unread) in [("A", a, 0), ("B", b, 1), ("C", c, 1)] {
        assert_eq!(app.unread_count(account, id, token).await, unread, "{who}");
        assert_eq!(
            listed_unread(&app, account, id, token).await,
            unread,
            "{who}"
        );
    }

    // B reads: not everyone has.
    let reply = app.mark_as_read(account, id, b).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.body.is_empty());
    assert_eq!(app.unread_count(account, id, b).await, 0);
    assert_eq!(app.unread_count(account, id, c).await, 1);
    assert_eq!(
        view(&app, account, id, a).await,
        seen(&[("m1", "outgoing", "delivered")])
    );

    // C reads: everyone has.
    let reply = app.mark_as_read(account, id, c).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(app.unread_count(account, id, c).await, 0);
    assert_eq!(
        view(&app, account, id, a).await,
        seen(&[("m1", "outgoing", "read")])
    );

    // B says m2: B's own read position moves with it.
    let m2 = app.send_chat_message_ok(account, id, b, "m2").await;
    assert_eq!(
        (&m2["message_type"], &m2["status"]),
        (&json!("outgoing"), &json!("sent"))
    );
    for (who, token, unread) in [("A", a, 1), ("B", b, 0), ("C", c, 1)] {
        assert_eq!(app.unread_count(account, id, token).await, unread, "{who}");
        assert_eq!(
            listed_unread(&app, account, id, token).await,
            unread,
            "{who}"
        );
    }
    assert_eq!(
        view(&app, account, id, b).await,
        seen(&[("m2", "outgoing", "sent"), ("m1", "incoming", "read")])
    );
    // A lists (and so has m2); C has not.
    assert_eq!(
        view(&app, account, id, a).await,
        seen(&[("m2", "incoming", "sent"), ("m1", "outgoing", "read")])
    );

    // D joins late: nothing unread, and nothing goes backwards.
    add_members(&app, &acme, a, id, json!([id_of(&dan)])).await;
    assert_eq!(app.unread_count(account, id, d).await, 0);
    assert_eq!(listed_unread(&app, account, id, d).await, 0);
    assert_eq!(
        view(&app, account, id, d).await,
        seen(&[("m2", "incoming", "sent"), ("m1", "incoming", "read")])
    );
    assert_eq!(
        view(&app, account, id, a).await,
        seen(&[("m2", "incoming", "sent"), ("m1", "outgoing", "read")])
    );

    // C lists: m2 has reached everyone but its sender.
    assert_eq!(
        view(&app, account, id, c).await,
        seen(&[("m2", "incoming", "delivered"), ("m1", "incoming", "read")])
    );
    // A and C read it: read by all.
    for token in [a, c] {
        let reply = app.mark_as_read(account, id, token).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    assert_eq!(
        view(&app, account, id, b).await,
        seen(&[("m2", "outgoing", "read"), ("m1", "incoming", "read")])
    );
    for (who, token) in [("A", a), ("B", b), ("C", c), ("D", d)] {
        assert_eq!(app.unread_count(account, id, token).await, 0, "{who}");
    }
}

#[actix_web::test]
async fn a_member_who_leaves_no_longer_holds_a_status_back() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let cleo = app.create_user(acme.id, json!({ "name": "Cleo" })).await;
    let id = room_with_agent(&app, &acme, "Room").await;
    add_members(&app, &acme, &acme.admin_token, id, json!([id_of(&cleo)])).await;
    app.send_chat_message_ok(acme.id, id, &acme.admin_token, "m1")
        .await;
    app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(
        view(&app, acme.id, id, &acme.admin_token).await,
        seen(&[("m1", "outgoing", "sent")])
    );
    let removed = app
        .members_request(
            Method::DELETE,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": [id_of(&cleo)] }),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    assert_eq!(
        view(&app, acme.id, id, &acme.admin_token).await,
        seen(&[("m1", "outgoing", "delivered")])
    );
}

// ---------------------------------------------------------------- credentials, rooms, feature

/// Every message route of room `room` in `account`: `(what, method, path, body)`.
fn routes(
    account: impl std::fmt::Display + Copy,
    room: impl std::fmt::Display + Copy,
) -> Vec<(&'static str, Method, String, Option<Vec<u8>>)> {
    let body = serde_json::to_vec(&json!({ "chat_room_message": { "content": "Hello" } }))
        .unwrap_or_default();
    vec![
        ("list", Method::GET, chat_messages_path(account, room), None),
        (
            "send",
            Method::POST,
            chat_messages_path(account, room),
            Some(body),
        ),
        (
            "mark_as_read",
            Method::POST,
            format!("{}/mark_as_read", chat_room_path(account, room)),
            None,
        ),
    ]
}

#[actix_web::test]
async fn a_missing_or_unknown_credential_is_an_invalid_access_token() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let unknown = format!("ut_{}", "0".repeat(64));
    let credentials: [(&str, Vec<(&str, &str)>); 3] = [
        ("none", vec![]),
        ("unknown", vec![("api_access_token", unknown.as_str())]),
        ("platform", vec![platform_auth()]),
    ];
    for (kind, headers) in &credentials {
        for (what, method, path, body) in routes(acme.id, id) {
            let reply = app.send(method, &path, headers, body).await;
            let text = assert_account_error(&reply, 401, &format!("{kind}: {what}"));
            assert_eq!(text, "Invalid Access Token", "{kind}: {what}");
        }
    }
    assert!(
        app.chat_messages(acme.id, id, &acme.agent_token, "")
            .await
            .is_empty()
    );
}

#[actix_web::test]
async fn an_unknown_or_malformed_chat_room_is_not_found() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for room in ["999999", "abc", "0"] {
        for credential in [&acme.admin_token, &acme.agent_token] {
            for (what, method, path, body) in routes(acme.id, room) {
                let reply = app.send(method, &path, &token(credential), body).await;
                assert_eq!(reply.status, 404, "{room} {what}: {}", reply.text());
                assert_eq!(reply.json(), not_found(), "{room} {what}");
            }
        }
    }
}

#[actix_web::test]
async fn with_chat_rooms_off_every_message_route_is_forbidden_but_chatapi_messages_work() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = room_with_agent(&app, &acme, "Room").await;
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;
    app.send_chat_message_ok(acme.id, id, &acme.agent_token, "Before")
        .await;
    app.set_chat_rooms_feature(acme.id, false).await;
    for credential in [&acme.api_key, &acme.admin_token, &acme.agent_token] {
        for (what, method, path, body) in routes(acme.id, id) {
            let reply = app.send(method, &path, &token(credential), body).await;
            let text = assert_account_error(&reply, 403, what);
            assert_eq!(
                text, "Feature chat_rooms is not enabled for this account",
                "{what}"
            );
        }
    }
    // The ChatAPI dialect is not behind the feature.
    app.send_message_ok(
        &acme.api_key,
        &uuid,
        json!({ "content": "Meanwhile", "sender_id": chat_user_id(&acme.agent) }),
    )
    .await;
    app.set_chat_rooms_feature(acme.id, true).await;
    let messages = app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(contents(&messages), ["Meanwhile", "Before"]);
}
