//! One conversation under two dialects: a message sent in one is read, changed and
//! counted in the other, and no account reaches another's messages.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

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

/// Unix seconds of an RFC 3339 time of the ChatAPI dialect.
fn unix_of(value: &Value) -> i64 {
    parse_rfc3339_utc(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a string: {value}")),
    )
}

#[actix_web::test]
async fn a_chatapi_message_and_its_reply_read_in_the_account_dialect() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Bridge" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    app.join_ok(&acme.api_key, &uuid, &chat_user_id(&acme.agent))
        .await;
    app.join_ok(&acme.api_key, &uuid, &chat_user_id(&acme.admin))
        .await;
    let first = app
        .send_message_ok(
            &acme.api_key,
            &uuid,
            json!({
                "sender_id": chat_user_id(&acme.agent),
                "content": "From the ChatAPI",
                "echo_id": "c-1",
            }),
        )
        .await;
    assert_eq!(first["echo_id"], "c-1");
    let answer = app
        .send_message_ok(
            &acme.admin_token,
            &uuid,
            json!({ "content": "Answered", "reply_to": first["id"] }),
        )
        .await;
    assert_eq!(answer["reply_to"], first["id"]);

    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;
    let messages = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    let first_id = id_of(&messages[1]);
    // The agent's message: incoming to the administrator, who has read it by answering.
    assert_eq!(
        messages[1],
        json!({
            "id": first_id,
            "content": "From the ChatAPI",
            "message_type": "incoming",
            "content_type": "text",
            "content_attributes": {},
            "created_at": unix_of(&first["created_at"]),
            "conversation_id": id,
            "room_name": "Bridge",
            "sender": sender_of(&acme.agent),
            "attachments": [],
            "status": "read",
            "echo_id": "c-1",
            // Answered once (the reply is kept on it).
            "reply_count": 1,
            "reactions": [],
            "pinned_at": null,
            "pinned_by": null,
        })
    );
    // The answer: the ChatAPI reply_to is the account dialect's in_reply_to.
    assert_eq!(
        messages[0],
        json!({
            "id": messages[0]["id"],
            "content": "Answered",
            "message_type": "outgoing",
            "content_type": "text",
            "content_attributes": { "in_reply_to": first_id },
            "created_at": unix_of(&answer["created_at"]),
            "conversation_id": id,
            "room_name": "Bridge",
            "sender": sender_of(&acme.admin),
            "attachments": [],
            "status": "sent",
            "in_reply_to": {
                "id": first_id,
                "content": "From the ChatAPI",
                "sender": { "id": acme.agent["id"], "name": "Alan Agent" },
            },
            "reply_count": 0,
            "reactions": [],
            "pinned_at": null,
            "pinned_by": null,
        })
    );
    assert!(id_of(&messages[0]) > first_id);
    // The agent sees the answer incoming, and its own message outgoing.
    let agents = app.chat_messages(acme.id, id, &acme.agent_token, "").await;
    assert_eq!(agents[0]["message_type"], "incoming");
    assert_eq!(agents[1]["message_type"], "outgoing");
}

#[actix_web::test]
async fn an_account_dialect_message_and_its_reply_read_in_the_chatapi() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Bridge", None)
        .await;
    let id = id_of(&room);
    let added = app
        .members_request(
            Method::POST,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": [id_of(&acme.agent)] }),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.text());
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;

    let sent = app
        .post_chat_message(
            acme.id,
            id,
            &acme.agent_token,
            &json!({ "chat_room_message": { "content": "From the account dialect", "echo_id": "a-1" } }),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    let sent = sent.json();
    assert_eq!(sent["echo_id"], "a-1");
    let answer = app
        .post_chat_message(
            acme.id,
            id,
            &acme.admin_token,
            &json!({
                "chat_room_message": {
                    "content": "Answered",
                    "content_attributes": { "in_reply_to": sent["id"] },
                }
            }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = answer.json();

    let list = app
        .list_messages(&acme.api_key, &uuid, "sort=created_at")
        .await;
    assert_eq!(list["pagination"]["total"], 2, "{list}");
    let first = &list["data"][0];
    assert_uuid(str_of(first, "id"));
    assert_eq!(unix_of(&first["created_at"]), sent["created_at"]);
    assert_eq!(
        first,
        &json!({
            "id": first["id"],
            "room_id": uuid,
            "client_id": acme.account["uuid"],
            "sender_id": chat_user_id(&acme.agent),
            "sender_name": "Alan Agent",
            "content": "From the account dialect",
            "message_type": "text",
            "meta": {},
            "created_at": first["created_at"],
            "updated_at": first["created_at"],
            "edited_at": null,
            "is_deleted": false,
            "seq": 1,
            "reply_to": null,
            "echo_id": "a-1",
            "attachments": [],
            // Answered once: the answer's time.
            "reply_count": 1,
            "last_reply_at": list["data"][1]["created_at"],
            "reactions": [],
            "mentions": [],
            "pinned_at": null,
            "pinned_by": null,
        })
    );
    let second = &list["data"][1];
    assert_eq!(unix_of(&second["created_at"]), answer["created_at"]);
    assert_eq!(
        second,
        &json!({
            "id": second["id"],
            "room_id": uuid,
            "client_id": acme.account["uuid"],
            "sender_id": chat_user_id(&acme.admin),
            "sender_name": "Ada Admin",
            "content": "Answered",
            "message_type": "text",
            "meta": {},
            "created_at": second["created_at"],
            "updated_at": second["created_at"],
            "edited_at": null,
            "is_deleted": false,
            "seq": 2,
            "reply_to": first["id"],
            "attachments": [],
            "reply_count": 0,
            "last_reply_at": null,
            "reactions": [],
            "mentions": [],
            "pinned_at": null,
            "pinned_by": null,
        })
    );
    let one = app
        .get(&message_path(str_of(second, "id")), &key(&acme.agent_token))
        .await;
    assert_eq!(one.status, 200, "{}", one.text());
    assert_eq!(&one.json()["data"], second);

    // Changed in the ChatAPI, changed in the account dialect.
    let edited = app
        .json(
            Method::PUT,
            &message_path(str_of(first, "id")),
            &key(&acme.agent_token),
            &json!({ "content": "Edited in the ChatAPI" }),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text());
    let deleted = app
        .send(
            Method::DELETE,
            &message_path(str_of(second, "id")),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let reply = app
        .get(&chat_messages_path(acme.id, id), &token(&acme.admin_token))
        .await;
    assert_eq!(reply.header("x-total-count"), Some("1"));
    let messages = reply.json();
    assert_eq!(messages.as_array().map(Vec::len), Some(1), "{messages}");
    assert_eq!(messages[0]["id"], sent["id"]);
    assert_eq!(messages[0]["content"], "Edited in the ChatAPI");
}

#[actix_web::test]
async fn chatapi_sends_and_reads_move_unread_counts_and_statuses_of_the_account_dialect() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Bridge", None)
        .await;
    let id = id_of(&room);
    let added = app
        .members_request(
            Method::POST,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": [id_of(&acme.agent)] }),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.text());
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;
    for content in ["one", "two"] {
        app.send_message_ok(
            &acme.api_key,
            &uuid,
            json!({ "sender_id": chat_user_id(&acme.admin), "content": content }),
        )
        .await;
    }
    assert_eq!(app.unread_count(acme.id, id, &acme.agent_token).await, 2);
    assert_eq!(app.unread_count(acme.id, id, &acme.admin_token).await, 0);
    let statuses = |messages: Vec<Value>| -> Vec<Value> {
        messages.iter().map(|m| m["status"].clone()).collect()
    };
    assert_eq!(
        statuses(app.chat_messages(acme.id, id, &acme.admin_token, "").await),
        [json!("sent"), json!("sent")]
    );
    // The agent lists in the ChatAPI: received.
    let list = app.list_messages(&acme.agent_token, &uuid, "").await;
    assert_eq!(list["pagination"]["total"], 2);
    assert_eq!(
        statuses(app.chat_messages(acme.id, id, &acme.admin_token, "").await),
        [json!("delivered"), json!("delivered")]
    );
    // The agent reads in the account dialect.
    let marked = app.mark_as_read(acme.id, id, &acme.agent_token).await;
    assert_eq!(marked.status, 200, "{}", marked.text());
    assert_eq!(
        statuses(app.chat_messages(acme.id, id, &acme.admin_token, "").await),
        [json!("read"), json!("read")]
    );
    // A system message is unread for every member.
    app.send_message_ok(
        &acme.api_key,
        &uuid,
        json!({ "content": "Maintenance", "message_type": "system" }),
    )
    .await;
    assert_eq!(app.unread_count(acme.id, id, &acme.agent_token).await, 1);
    assert_eq!(app.unread_count(acme.id, id, &acme.admin_token).await, 1);
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 3);
}

#[actix_web::test]
async fn no_message_route_reaches_another_accounts_messages() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    // Acme: a ChatAPI room with a live and a deleted message, and a chat room with one.
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Acme room" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    app.join_room(
        &acme.api_key,
        &uuid,
        &json!({ "user_id": "crm-ann", "user_name": "Ann" }),
    )
    .await;
    let live = app
        .send_message_ok(
            &acme.api_key,
            &uuid,
            json!({ "sender_id": "crm-ann", "content": "Live" }),
        )
        .await;
    let gone = app
        .send_message_ok(
            &acme.api_key,
            &uuid,
            json!({ "sender_id": "crm-ann", "content": "Gone" }),
        )
        .await;
    let deleted = app
        .send(
            Method::DELETE,
            &message_path(str_of(&gone, "id")),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let chat_room = app
        .create_chat_room(acme.id, &acme.admin_token, "Acme chat room", None)
        .await;
    let chat_room_id = id_of(&chat_room);
    let acme_message = app
        .send_chat_message_ok(acme.id, chat_room_id, &acme.admin_token, "Acme only")
        .await;

    // ChatAPI: the room and its messages do not exist for Globex.
    let edit = serde_json::to_vec(&json!({ "content": "Hijacked" })).unwrap_or_default();
    let send = serde_json::to_vec(&json!({ "sender_id": "crm-ann", "content": "Hijacked" }))
        .unwrap_or_default();
    for credential in [&globex.api_key, &globex.admin_token, &globex.agent_token] {
        for (method, path, body) in [
            (Method::POST, room_messages_path(&uuid), Some(send.clone())),
            (Method::GET, room_messages_path(&uuid), None),
        ] {
            let reply = app
                .send(method.clone(), &path, &key(credential), body)
                .await;
            assert_chatapi_error(&reply, 404, "ROOM_NOT_FOUND", &format!("{method} {path}"));
        }
        for (method, path, body) in [
            (Method::GET, message_path(str_of(&live, "id")), None),
            (
                Method::PUT,
                message_path(str_of(&live, "id")),
                Some(edit.clone()),
            ),
            (Method::DELETE, message_path(str_of(&live, "id")), None),
            (
                Method::POST,
                format!("{}/restore", message_path(str_of(&gone, "id"))),
                None,
            ),
        ] {
            let reply = app
                .send(method.clone(), &path, &key(credential), body)
                .await;
            assert_chatapi_error(
                &reply,
                404,
                "MESSAGE_NOT_FOUND",
                &format!("{method} {path}"),
            );
        }
    }
    let all = app
        .list_messages(&acme.api_key, &uuid, "include_deleted=true")
        .await;
    assert_eq!(all["data"][0]["content"], "Gone");
    assert_eq!(all["data"][0]["is_deleted"], true);
    assert_eq!(all["data"][1], live);
    assert_eq!(app.message_count(&acme.api_key, &uuid).await, 2);

    // Account dialect: Acme's path refuses Globex's credentials…
    let chat_send = serde_json::to_vec(&json!({ "chat_room_message": { "content": "Hijacked" } }))
        .unwrap_or_default();
    let account_routes = |account: i64| {
        vec![
            (Method::GET, chat_messages_path(account, chat_room_id), None),
            (
                Method::POST,
                chat_messages_path(account, chat_room_id),
                Some(chat_send.clone()),
            ),
            (
                Method::POST,
                format!("{}/mark_as_read", chat_room_path(account, chat_room_id)),
                None,
            ),
        ]
    };
    for credential in [&globex.api_key, &globex.admin_token, &globex.agent_token] {
        for (method, path, body) in account_routes(acme.id) {
            let reply = app
                .send(method.clone(), &path, &token(credential), body)
                .await;
            let text = assert_account_error(&reply, 401, &format!("{method} {path}"));
            assert_eq!(text, "You are not authorized to access this account");
        }
    }
    // …and Globex's own path does not find Acme's room.
    for credential in [&globex.admin_token, &globex.agent_token] {
        for (method, path, body) in account_routes(globex.id) {
            let reply = app
                .send(method.clone(), &path, &token(credential), body)
                .await;
            assert_eq!(reply.status, 404, "{method} {path}: {}", reply.text());
            assert_eq!(
                reply.json(),
                json!({ "error": "Resource could not be found" })
            );
        }
    }
    for (method, path, _) in account_routes(globex.id) {
        if method == Method::GET || path.ends_with("mark_as_read") {
            let reply = app
                .send(method.clone(), &path, &token(&globex.api_key), None)
                .await;
            assert_eq!(
                reply.status,
                404,
                "api key {method} {path}: {}",
                reply.text()
            );
        }
    }
    let messages = app
        .chat_messages(acme.id, chat_room_id, &acme.admin_token, "")
        .await;
    assert_eq!(messages, std::slice::from_ref(&acme_message));

    // A reply may not name another account's message, in either dialect.
    let theirs = app
        .create_room(&globex.api_key, json!({ "name": "Globex room" }))
        .await;
    let theirs = str_of(&theirs, "id");
    app.join_ok(&globex.api_key, theirs, "g-1").await;
    let reply = app
        .post_message(
            &globex.api_key,
            theirs,
            &json!({ "sender_id": "g-1", "content": "Re", "reply_to": live["id"] }),
        )
        .await;
    let error = assert_chatapi_error(&reply, 422, "VALIDATION_ERROR", "chatapi reply");
    assert_eq!(keys_of(&error["details"]), ["reply_to"], "{error}");
    let their_chat_room = app
        .create_chat_room(globex.id, &globex.admin_token, "Globex chat room", None)
        .await;
    let reply = app
        .post_chat_message(
            globex.id,
            id_of(&their_chat_room),
            &globex.admin_token,
            &json!({
                "chat_room_message": {
                    "content": "Re",
                    "content_attributes": { "in_reply_to": acme_message["id"] },
                }
            }),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    let body = reply.json();
    assert_eq!(keys_of(&body), ["attributes", "message"], "{body}");
    let listed = app.list_messages(&globex.api_key, theirs, "").await;
    assert_eq!(listed["pagination"]["total"], 0);
}
