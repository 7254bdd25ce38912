//! Pins (CONTRACT §10): `POST/DELETE /api/v1/messages/{id}/pin`,
//! `GET /api/v1/rooms/{room_id}/pins`, the account dialect's `…/messages/{id}/pin`;
//! `pinned_at`/`pinned_by` on messages; who may pin is who may edit.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

fn id(message: &Value) -> &str {
    str_of(message, "id")
}

/// Pins (or unpins) message `uuid` as `credential`, expecting 200; answers the message.
async fn pin_ok(app: &TestApp, credential: &str, uuid: &str, pinned: bool) -> Value {
    let reply = app.pin(credential, uuid, pinned).await;
    assert_eq!(reply.status, 200, "pin {pinned}: {}", reply.text());
    reply.json()["data"].clone()
}

/// The pins of room `uuid` (`?{query}`) as `credential` sees them, expecting 200.
async fn pins(app: &TestApp, credential: &str, uuid: &str, query: &str) -> Value {
    let reply = app
        .get(&format!("{}?{query}", pins_path(uuid)), &key(credential))
        .await;
    assert_eq!(reply.status, 200, "pins: {}", reply.text());
    reply.json()
}

#[actix_web::test]
async fn messages_are_pinned_listed_newest_pin_first_and_unpinned() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let agent = chat_user_id(&acme.agent);
    let room = app
        .room_with(
            &acme.api_key,
            "General",
            &[("alice", "Alice"), (&agent, "Alan Agent")],
        )
        .await;
    let rules = app.say(&acme.api_key, &room, "alice", "House rules").await;
    assert_eq!(rules["pinned_at"], json!(null), "{rules}");
    assert_eq!(rules["pinned_by"], json!(null), "{rules}");
    let agenda = app
        .send_message_ok(
            &acme.agent_token,
            &room,
            json!({ "sender_id": agent, "content": "Agenda" }),
        )
        .await;
    app.say(&acme.api_key, &room, "alice", "chatter").await;

    // The API key pins as the system; the sender as themselves.
    let pinned = pin_ok(&app, &acme.api_key, id(&rules), true).await;
    assert_eq!(pinned["id"], id(&rules), "{pinned}");
    assert_rfc3339_near_now(&pinned["pinned_at"]);
    assert_eq!(pinned["pinned_by"], "system", "{pinned}");
    let by_agent = pin_ok(&app, &acme.agent_token, id(&agenda), true).await;
    assert_eq!(by_agent["pinned_by"], agent.as_str(), "{by_agent}");
    assert!(
        rfc3339_nanos(str_of(&by_agent, "pinned_at"))
            >= rfc3339_nanos(str_of(&pinned, "pinned_at"))
    );
    // Every rendering carries the pin.
    let read = app.chatapi_message(&acme.api_key, id(&rules)).await;
    assert_eq!(read["pinned_at"], pinned["pinned_at"], "{read}");
    assert_eq!(read["pinned_by"], "system", "{read}");

    // Most recently pinned first.
    let listed = pins(&app, &acme.api_key, &room, "").await;
    assert_eq!(contents_of(&listed), ["Agenda", "House rules"], "{listed}");
    assert_eq!(listed["status"], "success", "{listed}");
    assert_eq!(
        listed["pagination"],
        json!({ "skip": 0, "limit": 50, "total": 2, "has_more": false }),
        "{listed}"
    );
    assert_eq!(listed["data"][0], by_agent, "{listed}");
    let page = pins(&app, &acme.agent_token, &room, "skip=1&limit=1").await;
    assert_eq!(contents_of(&page), ["House rules"], "{page}");
    assert_eq!(page["pagination"]["total"], 2, "{page}");

    // A repeat keeps the first pin.
    let again = pin_ok(&app, &acme.admin_token, id(&rules), true).await;
    assert_eq!(again["pinned_at"], pinned["pinned_at"], "{again}");
    assert_eq!(again["pinned_by"], "system", "{again}");

    // Unpinned: gone from the list, the fields null; unpinning again changes nothing.
    let unpinned = pin_ok(&app, &acme.api_key, id(&rules), false).await;
    assert_eq!(unpinned["pinned_at"], json!(null), "{unpinned}");
    assert_eq!(unpinned["pinned_by"], json!(null), "{unpinned}");
    let unpinned = pin_ok(&app, &acme.api_key, id(&rules), false).await;
    assert_eq!(unpinned["pinned_at"], json!(null), "{unpinned}");
    let listed = pins(&app, &acme.api_key, &room, "").await;
    assert_eq!(contents_of(&listed), ["Agenda"], "{listed}");

    // A deleted message leaves the list and may not be pinned.
    let reply = app
        .send(
            Method::DELETE,
            &message_path(id(&agenda)),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let listed = pins(&app, &acme.api_key, &room, "").await;
    assert_eq!(listed["data"], json!([]), "{listed}");
    assert_eq!(listed["pagination"]["total"], 0, "{listed}");
    let reply = app.pin(&acme.api_key, id(&agenda), true).await;
    assert_chatapi_error(&reply, 404, "MESSAGE_NOT_FOUND", "a deleted message");
}

#[actix_web::test]
async fn only_the_sender_an_administrator_or_the_api_key_may_pin() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let agent = chat_user_id(&acme.agent);
    let admin = chat_user_id(&acme.admin);
    let room = app
        .room_with(
            &acme.api_key,
            "General",
            &[("alice", "Alice"), (&agent, "Alan Agent")],
        )
        .await;
    let alices = app.say(&acme.api_key, &room, "alice", "Alice's news").await;

    // The agent did not send it.
    for pinned in [true, false] {
        let reply = app.pin(&acme.agent_token, id(&alices), pinned).await;
        assert_chatapi_error(
            &reply,
            403,
            "UNAUTHORIZED_EDIT",
            &format!("agent pin {pinned}"),
        );
    }
    // An end user who did not send it neither.
    let bob = app.scoped_key(&acme.api_key, "bob", None).await;
    app.join_ok(&acme.api_key, &room, "bob").await;
    let reply = app.pin(&bob, id(&alices), true).await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    // The administrator may: pinned_by names them.
    let pinned = pin_ok(&app, &acme.admin_token, id(&alices), true).await;
    assert_eq!(pinned["pinned_by"], admin.as_str(), "{pinned}");
    let reply = app.pin(&acme.agent_token, id(&alices), false).await;
    assert_chatapi_error(&reply, 403, "UNAUTHORIZED_EDIT", "agent unpin");
    assert_eq!(
        app.chatapi_message(&acme.api_key, id(&alices)).await["pinned_by"],
        admin.as_str()
    );

    // Outside the room: the pins are not the agent's to read; another account's room
    // and message are not found.
    let private = app
        .room_with(&acme.api_key, "Private", &[("alice", "Alice")])
        .await;
    let reply = app.get(&pins_path(&private), &key(&acme.agent_token)).await;
    assert_chatapi_error(
        &reply,
        403,
        "ROOM_ACCESS_DENIED",
        "pins of a room not theirs",
    );
    let secret = app.say(&acme.api_key, &private, "alice", "secret").await;
    let reply = app.pin(&acme.agent_token, id(&secret), true).await;
    assert_chatapi_error(
        &reply,
        403,
        "ROOM_ACCESS_DENIED",
        "pin in a room not theirs",
    );
    let globex = app.tenant("Globex").await;
    let reply = app.get(&pins_path(&room), &key(&globex.api_key)).await;
    assert_chatapi_error(&reply, 404, "ROOM_NOT_FOUND", "another account's room");
    let reply = app.pin(&globex.api_key, id(&alices), false).await;
    assert_chatapi_error(
        &reply,
        404,
        "MESSAGE_NOT_FOUND",
        "another account's message",
    );
    assert_eq!(
        contents_of(&pins(&app, &acme.api_key, &room, "").await),
        ["Alice's news"]
    );
}

#[actix_web::test]
async fn the_account_dialect_pins_and_unpins() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Support", None)
        .await;
    let room_id = int_id(&room);
    let agent_id = int_id(&acme.agent);
    let admin_id = int_id(&acme.admin);
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
    let admins = app
        .send_chat_message_ok(acme.id, room_id, &acme.admin_token, "Read me first")
        .await;
    let agents = app
        .send_chat_message_ok(acme.id, room_id, &acme.agent_token, "My notes")
        .await;
    let pin = |method: Method, credential: &str, message: &Value| {
        let (app, credential, message) = (&app, credential.to_owned(), int_id(message));
        async move {
            app.chat_request(
                method,
                &format!("{}/pin", chat_message_path(acme.id, room_id, message)),
                &credential,
                None,
            )
            .await
        }
    };

    let reply = pin(Method::POST, &acme.admin_token, &admins).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let pinned = reply.json();
    assert_eq!(pinned["id"], admins["id"], "{pinned}");
    assert_unix_near_now(&pinned["pinned_at"]);
    assert_eq!(pinned["pinned_by"], admin_id, "{pinned}");
    // The agent did not send it: 403, nothing changed.
    for method in [Method::POST, Method::DELETE] {
        let reply = pin(method.clone(), &acme.agent_token, &admins).await;
        assert_account_error(&reply, 403, &format!("agent {method} pin"));
    }
    // Its own message, it may.
    let reply = pin(Method::POST, &acme.agent_token, &agents).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["pinned_by"], agent_id, "{}", reply.text());

    // The list shows both; ChatAPI names the pinners by user_id.
    let listed = app
        .chat_messages(acme.id, room_id, &acme.agent_token, "")
        .await;
    assert_eq!(listed[1]["pinned_at"], pinned["pinned_at"], "{listed:?}");
    assert_eq!(listed[1]["pinned_by"], admin_id, "{listed:?}");
    let uuid = app.room_uuid_of(acme.id, &acme.admin_token, room_id).await;
    let chatapi = pins(&app, &acme.api_key, &uuid, "").await;
    assert_eq!(
        contents_of(&chatapi),
        ["My notes", "Read me first"],
        "{chatapi}"
    );
    assert_eq!(
        chatapi["data"][1]["pinned_by"],
        chat_user_id(&acme.admin).as_str()
    );

    let reply = pin(Method::DELETE, &acme.admin_token, &admins).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let unpinned = reply.json();
    assert_eq!(unpinned["pinned_at"], json!(null), "{unpinned}");
    assert_eq!(unpinned["pinned_by"], json!(null), "{unpinned}");
    let chatapi = pins(&app, &acme.api_key, &uuid, "").await;
    assert_eq!(contents_of(&chatapi), ["My notes"], "{chatapi}");

    // Pinned by the API key: the account dialect names no one.
    let admins_uuid = app.message_uuid(int_id(&admins));
    pin_ok(&app, &acme.api_key, &admins_uuid, true).await;
    let listed = app
        .chat_messages(acme.id, room_id, &acme.admin_token, "")
        .await;
    assert_eq!(listed[1]["pinned_by"], json!(null), "{listed:?}");
    assert_unix_near_now(&listed[1]["pinned_at"]);
    // A message of another room through this room's path: not found.
    let other = app
        .create_chat_room(acme.id, &acme.admin_token, "Other", None)
        .await;
    let reply = app
        .chat_request(
            Method::POST,
            &format!(
                "{}/pin",
                chat_message_path(acme.id, int_id(&other), int_id(&agents))
            ),
            &acme.admin_token,
            None,
        )
        .await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "error": "Resource could not be found" })
    );
}
