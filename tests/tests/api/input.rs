//! Input the database cannot store (a NUL in any text, a JSON number that would not read
//! back unchanged) is refused with the dialect's 422 naming the field, never a 500, and
//! nothing is stored.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// What a NUL in a field is answered with, after the field's name.
const NUL_REASON: &str = "must not contain the NUL character (U+0000)";

fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

/// Asserts a ChatAPI 422 `VALIDATION_ERROR` whose `details` are exactly `{field: reason}`.
fn assert_refused_field(reply: &Reply, field: &str, reason: &str, context: &str) {
    let error = assert_chatapi_error(reply, 422, "VALIDATION_ERROR", context);
    assert_eq!(
        error["details"],
        json!({ field: reason }),
        "{context}: {error}"
    );
}

/// Asserts the account dialect's 422 `{"message", "attributes": [field]}`.
fn assert_account_refused(reply: &Reply, message: &str, field: &str, context: &str) {
    assert_eq!(reply.status, 422, "{context}: {}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "message": message, "attributes": [field] }),
        "{context}"
    );
}

/// The ChatAPI `pagination.total` of the rooms the API key sees.
async fn room_total(app: &TestApp, api_key: &str) -> i64 {
    let reply = app.get(ROOMS, &key(api_key)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["pagination"]["total"]
        .as_i64()
        .unwrap_or_else(|| panic!("no total in {}", reply.text()))
}

/// How many rows `table` of the server's database holds.
fn count_rows(app: &TestApp, table: &str) -> i64 {
    let output = std::process::Command::new("psql")
        .args([
            "-Atc",
            &format!("SELECT count(*) FROM {table}"),
            app.database_url(),
        ])
        .output()
        .unwrap_or_else(|e| panic!("psql could not be run: {e}"));
    assert!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a count: {text}"))
}

/// Sends `body` as raw JSON text (numbers exactly as written).
async fn send_raw(app: &TestApp, method: Method, path: &str, api_key: &str, body: &str) -> Reply {
    app.send(method, path, &key(api_key), Some(body.as_bytes().to_vec()))
        .await
}

#[actix_web::test]
async fn a_nul_in_a_room_name_or_description_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for (body, field) in [
        (json!({ "name": "Sup\u{0}port" }), "name"),
        (
            json!({ "name": "Support", "description": "a\u{0}b" }),
            "description",
        ),
    ] {
        let reply = app
            .json(Method::POST, ROOMS, &key(&acme.api_key), &body)
            .await;
        assert_refused_field(&reply, field, NUL_REASON, &format!("create {body}"));
    }
    assert_eq!(room_total(&app, &acme.api_key).await, 0);

    let room = app
        .create_room(&acme.api_key, json!({ "name": "Support" }))
        .await;
    let path = room_path(str_of(&room, "id"));
    for (body, field) in [
        (json!({ "name": "\u{0}" }), "name"),
        (json!({ "description": "\u{0}" }), "description"),
    ] {
        let reply = app
            .json(Method::PUT, &path, &key(&acme.api_key), &body)
            .await;
        assert_refused_field(&reply, field, NUL_REASON, &format!("update {body}"));
    }
    let stored = app.get(&path, &key(&acme.api_key)).await.json();
    assert_eq!(stored["data"]["name"], "Support", "{stored}");
    assert_eq!(stored["data"]["description"], Value::Null, "{stored}");
}

#[actix_web::test]
async fn a_nul_in_a_room_meta_key_or_nested_value_is_422_naming_meta() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for meta in [
        json!({ "a\u{0}": 1 }),
        json!({ "a": { "b": ["ok", "n\u{0}"] } }),
        json!({ "a": [{ "k\u{0}": true }] }),
    ] {
        let body = json!({ "name": "Support", "meta": meta });
        let reply = app
            .json(Method::POST, ROOMS, &key(&acme.api_key), &body)
            .await;
        assert_refused_field(&reply, "meta", NUL_REASON, &format!("create {body}"));
    }
    assert_eq!(room_total(&app, &acme.api_key).await, 0);

    let room = app
        .create_room(
            &acme.api_key,
            json!({ "name": "Support", "meta": { "k": "v" } }),
        )
        .await;
    let path = room_path(str_of(&room, "id"));
    let body = json!({ "meta": { "deep": { "deeper": "\u{0}" } } });
    let reply = app
        .json(Method::PUT, &path, &key(&acme.api_key), &body)
        .await;
    assert_refused_field(&reply, "meta", NUL_REASON, "update");
    let stored = app.get(&path, &key(&acme.api_key)).await.json();
    assert_eq!(stored["data"]["meta"], json!({ "k": "v" }), "{stored}");
}

#[actix_web::test]
async fn extreme_numbers_in_meta_are_stored_and_read_back_exactly_not_a_500() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let body = r#"{"name":"x","meta":{"a":{"b":[1.7976931348623155e+308]},
        "max":1.7976931348623157e308,"lowest":-1.7976931348623157e308,"big":1e308,
        "tiny":5e-324,"small":1e-300,"tenth":0.1,"u64":18446744073709551615,
        "i64":-9223372036854775808}}"#;
    let reply = send_raw(&app, Method::POST, ROOMS, &acme.api_key, body).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let uuid = str_of(&reply.json()["data"], "id").to_owned();
    let stored = app.get(&room_path(&uuid), &key(&acme.api_key)).await;
    assert_eq!(stored.status, 200, "{}", stored.text());
    let meta = stored.json()["data"]["meta"].clone();
    let float = |path: &str| meta.pointer(path).and_then(Value::as_f64);
    assert_eq!(float("/a/b/0"), Some(1.797_693_134_862_315_5e308), "{meta}");
    assert_eq!(float("/max"), Some(f64::MAX), "{meta}");
    assert_eq!(float("/lowest"), Some(f64::MIN), "{meta}");
    assert_eq!(float("/big"), Some(1e308), "{meta}");
    assert_eq!(float("/tiny"), Some(5e-324), "{meta}");
    assert_eq!(float("/small"), Some(1e-300), "{meta}");
    assert_eq!(float("/tenth"), Some(0.1), "{meta}");
    assert_eq!(meta["u64"].as_u64(), Some(u64::MAX), "{meta}");
    assert_eq!(meta["i64"].as_i64(), Some(i64::MIN), "{meta}");
    let list = app.get(ROOMS, &key(&acme.api_key)).await;
    assert_eq!(list.status, 200, "{}", list.text());

    let body = r#"{"meta":{"a":1.7976931348623155e+308}}"#;
    let reply = send_raw(&app, Method::PUT, &room_path(&uuid), &acme.api_key, body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let stored = app.get(&room_path(&uuid), &key(&acme.api_key)).await.json();
    let a = stored["data"]["meta"]["a"].as_f64();
    assert_eq!(a, Some(1.797_693_134_862_315_5e308), "{stored}");

    app.join_ok(&acme.api_key, &uuid, "bob").await;
    let body = r#"{"sender_id":"bob","content":"hi","meta":{"a":1.7976931348623155e+308}}"#;
    let path = room_messages_path(&uuid);
    let reply = send_raw(&app, Method::POST, &path, &acme.api_key, body).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let list = app.list_messages(&acme.api_key, &uuid, "").await;
    let a = list["data"][0]["meta"]["a"].as_f64();
    assert_eq!(a, Some(1.797_693_134_862_315_5e308), "{list}");
}

#[actix_web::test]
async fn a_nul_in_message_content_echo_id_sender_name_or_meta_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Support" }))
        .await;
    let uuid = str_of(&room, "id");
    app.join_ok(&acme.api_key, uuid, "bob").await;
    let base = json!({ "sender_id": "bob", "content": "hello" });
    for (field, value) in [
        ("content", json!("hel\u{0}lo")),
        ("echo_id", json!("e\u{0}1")),
        ("sender_name", json!("Bob\u{0}")),
        ("meta", json!({ "a": { "b\u{0}": 1 } })),
    ] {
        let mut body = base.clone();
        body[field] = value;
        let reply = app.post_message(&acme.api_key, uuid, &body).await;
        assert_refused_field(&reply, field, NUL_REASON, &format!("send {body}"));
    }
    assert_eq!(app.message_count(&acme.api_key, uuid).await, 0);
}

#[actix_web::test]
async fn a_nul_in_a_message_edit_is_422_and_the_message_is_unchanged() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Support" }))
        .await;
    let uuid = str_of(&room, "id");
    app.join_ok(&acme.api_key, uuid, "bob").await;
    let message = app
        .send_message_ok(
            &acme.api_key,
            uuid,
            json!({ "sender_id": "bob", "content": "hi" }),
        )
        .await;
    let path = message_path(str_of(&message, "id"));
    for (body, field) in [
        (json!({ "content": "h\u{0}" }), "content"),
        (json!({ "meta": { "x": ["\u{0}"] } }), "meta"),
    ] {
        let reply = app
            .json(Method::PUT, &path, &key(&acme.api_key), &body)
            .await;
        assert_refused_field(&reply, field, NUL_REASON, &format!("edit {body}"));
    }
    let stored = app.get(&path, &key(&acme.api_key)).await.json();
    assert_eq!(stored["data"]["content"], "hi", "{stored}");
    assert_eq!(stored["data"]["edited_at"], Value::Null, "{stored}");
}

#[actix_web::test]
async fn a_nul_in_a_participant_user_name_or_meta_is_422_and_nobody_joins() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Support" }))
        .await;
    let uuid = str_of(&room, "id");
    for (body, field) in [
        (
            json!({ "user_id": "u1", "user_name": "Ann\u{0}" }),
            "user_name",
        ),
        (json!({ "user_id": "u1", "meta": { "\u{0}": 1 } }), "meta"),
        (json!({ "user_id": "u\u{0}1" }), "user_id"),
    ] {
        let reply = app.join_room(&acme.api_key, uuid, &body).await;
        assert_refused_field(&reply, field, NUL_REASON, &format!("join {body}"));
    }
    assert_eq!(app.participant_count(&acme.api_key, uuid).await, 0);
}

#[actix_web::test]
async fn a_nul_in_a_search_sender_id_or_message_type_query_is_422_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Support" }))
        .await;
    let uuid = str_of(&room, "id");
    let reply = app
        .get(&format!("{ROOMS}?search=a%00b"), &key(&acme.api_key))
        .await;
    assert_refused_field(&reply, "search", NUL_REASON, "rooms ?search");
    for parameter in ["search", "sender_id", "message_type"] {
        let path = format!("{}?{parameter}=x%00", room_messages_path(uuid));
        let reply = app.get(&path, &key(&acme.api_key)).await;
        assert_refused_field(&reply, parameter, NUL_REASON, &path);
    }
}

#[actix_web::test]
async fn a_message_frame_with_a_nul_is_an_invalid_data_error_and_the_socket_stays_open() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Support" }))
        .await;
    let uuid = str_of(&room, "id");
    app.join_ok(&acme.api_key, uuid, "bob").await;
    let mut socket = app.participant_socket(&acme.api_key, uuid, "bob").await;
    for data in [
        json!({ "content": "hi\u{0}", "echo_id": "e1" }),
        json!({ "content": "hi", "echo_id": "e\u{0}2" }),
        json!({ "content": "hi", "meta": { "k": "\u{0}" } }),
    ] {
        socket
            .send_json(&json!({ "type": "message", "data": data }))
            .await;
        let error = socket.expect_error(Some("invalid_data")).await;
        let message = str_of(&error, "message");
        assert!(message.contains(NUL_REASON), "{data}: {error}");
    }
    socket.assert_alive().await;
    assert_eq!(app.message_count(&acme.api_key, uuid).await, 0);
    // The largest doubles are stored and acknowledged exactly, not a server error.
    let frame = r#"{"type":"message","data":{"content":"hi","echo_id":"big","meta":{"a":1.7976931348623155e+308}}}"#;
    socket.send_text(frame.to_owned()).await;
    let ack = socket.expect_data("ack").await;
    let a = ack["message"]["meta"]["a"].as_f64();
    assert_eq!(a, Some(1.797_693_134_862_315_5e308), "{ack}");
}

#[actix_web::test]
async fn a_nul_in_a_chat_room_name_or_description_is_422_in_the_account_shape() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let auth = [("api_access_token", acme.admin_token.as_str())];
    let path = chat_rooms_path(acme.id);
    for (fields, field, message) in [
        (json!({ "name": "a\u{0}" }), "name", "Name"),
        (
            json!({ "name": "ok", "description": "\u{0}" }),
            "description",
            "Description",
        ),
    ] {
        let body = json!({ "chat_room": fields });
        let reply = app.json(Method::POST, &path, &auth, &body).await;
        let expected = format!("{message} {NUL_REASON}");
        assert_account_refused(&reply, &expected, field, &format!("create {body}"));
    }
    let list = app.get(&path, &auth).await;
    assert_eq!(list.header("x-total-count"), Some("0"), "{}", list.text());

    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Support", None)
        .await;
    let id = room["id"].as_i64().unwrap_or_default();
    let body = json!({ "chat_room": { "name": "b\u{0}" } });
    let reply = app
        .json(Method::PATCH, &chat_room_path(acme.id, id), &auth, &body)
        .await;
    assert_account_refused(&reply, &format!("Name {NUL_REASON}"), "name", "update");
    let stored = app.get(&chat_room_path(acme.id, id), &auth).await.json();
    assert_eq!(stored["name"], "Support", "{stored}");
}

#[actix_web::test]
async fn a_nul_in_a_chat_message_content_or_echo_id_is_422_in_the_account_shape() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Support", None)
        .await;
    let id = room["id"].as_i64().unwrap_or_default();
    for (fields, field, message) in [
        (json!({ "content": "h\u{0}i" }), "content", "Content"),
        (
            json!({ "content": "hi", "echo_id": "\u{0}" }),
            "echo_id",
            "Echo id",
        ),
    ] {
        let body = json!({ "chat_room_message": fields });
        let reply = app
            .post_chat_message(acme.id, id, &acme.admin_token, &body)
            .await;
        let expected = format!("{message} {NUL_REASON}");
        assert_account_refused(&reply, &expected, field, &format!("send {body}"));
    }
    let messages = app.chat_messages(acme.id, id, &acme.admin_token, "").await;
    assert_eq!(messages, Vec::<Value>::new());
}

#[actix_web::test]
async fn a_nul_in_a_platform_account_or_user_field_is_422_naming_it() {
    let app = TestApp::spawn().await;
    let accounts = "/platform/api/v1/accounts";
    for (body, field, message) in [
        (json!({ "name": "Ac\u{0}me" }), "name", "Name"),
        (
            json!({ "name": "Acme", "description": "\u{0}" }),
            "description",
            "Description",
        ),
    ] {
        let reply = app
            .json(Method::POST, accounts, &[platform_auth()], &body)
            .await;
        let expected = format!("{message} {NUL_REASON}");
        assert_account_refused(&reply, &expected, field, &format!("account {body}"));
    }
    let acme = app.tenant("Acme").await;
    let body = json!({ "name": "\u{0}" });
    let reply = app
        .json(
            Method::PATCH,
            &format!("{accounts}/{}", acme.id),
            &[platform_auth()],
            &body,
        )
        .await;
    assert_account_refused(
        &reply,
        &format!("Name {NUL_REASON}"),
        "name",
        "account update",
    );

    let users = format!("{accounts}/{}/users", acme.id);
    for (body, field, message) in [
        (json!({ "name": "Ada\u{0}" }), "name", "Name"),
        (
            json!({ "name": "Ada", "email": "a\u{0}@b.co" }),
            "email",
            "Email",
        ),
        (
            json!({ "name": "Ada", "external_id": "x\u{0}" }),
            "external_id",
            "External id",
        ),
    ] {
        let reply = app
            .json(Method::POST, &users, &[platform_auth()], &body)
            .await;
        let expected = format!("{message} {NUL_REASON}");
        assert_account_refused(&reply, &expected, field, &format!("user {body}"));
    }
    assert_eq!(count_rows(&app, "accounts"), 1, "only Acme is stored");
    assert_eq!(
        count_rows(&app, "users"),
        2,
        "only Acme's administrator and agent"
    );
}
