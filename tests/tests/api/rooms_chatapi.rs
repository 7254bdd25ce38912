//! ChatAPI rooms (`/api/v1/rooms`): seed 000, field for field.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// A UUID that names no room.
const UNKNOWN_UUID: &str = "00000000-0000-4000-8000-000000000000";

const ROOM_KEYS: [&str; 10] = [
    "client_id",
    "created_at",
    "description",
    "id",
    "is_active",
    "message_count",
    "meta",
    "name",
    "participant_count",
    "updated_at",
];

fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

async fn post_room(app: &TestApp, credential: &str, body: &Value) -> Reply {
    app.json(Method::POST, ROOMS, &key(credential), body).await
}

async fn get_room(app: &TestApp, credential: &str, uuid: &str) -> Reply {
    app.get(&room_path(uuid), &key(credential)).await
}

async fn put_room(app: &TestApp, credential: &str, uuid: &str, body: &Value) -> Reply {
    app.json(Method::PUT, &room_path(uuid), &key(credential), body)
        .await
}

async fn post_empty(app: &TestApp, credential: &str, path: &str) -> Reply {
    app.send(Method::POST, path, &key(credential), None).await
}

async fn delete_room(app: &TestApp, credential: &str, uuid: &str) -> Reply {
    app.send(Method::DELETE, &room_path(uuid), &key(credential), None)
        .await
}

/// `GET /api/v1/rooms?{query}`, expecting 200; answers the whole body.
async fn list(app: &TestApp, credential: &str, query: &str) -> Value {
    let reply = app.get(&format!("{ROOMS}?{query}"), &key(credential)).await;
    assert_eq!(reply.status, 200, "?{query}: {}", reply.text());
    let body = reply.json();
    assert_eq!(
        keys_of(&body),
        ["data", "pagination", "status"],
        "?{query}: {body}"
    );
    assert_eq!(body["status"], "success");
    body
}

/// The names of a list's rooms, in order.
fn names(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data is not an array: {body}"))
        .iter()
        .map(|room| str_of(room, "name").to_owned())
        .collect()
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

async fn total(app: &TestApp, credential: &str) -> i64 {
    list(app, credential, "").await["pagination"]["total"]
        .as_i64()
        .unwrap_or(-1)
}

// ---------------------------------------------------------------- creating

#[actix_web::test]
async fn creating_a_room_with_the_api_key_answers_201_with_the_seed_fields() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let meta = json!({
        "category": "general",
        "tags": ["team", "announcements"],
        "max_participants": 50,
        "nested": { "a": [1, 2.5, null, true] }
    });
    for path in [ROOMS, "/api/v1/rooms/"] {
        let reply = app
            .json(
                Method::POST,
                path,
                &key(&acme.api_key),
                &json!({
                    "name": "General Discussion",
                    "description": "Main channel for team communication",
                    "meta": meta,
                }),
            )
            .await;
        assert_eq!(reply.status, 201, "{path}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let body = reply.json();
        let data = &body["data"];
        assert_eq!(keys_of(data), ROOM_KEYS, "{path}: {data}");
        assert_uuid(str_of(data, "id"));
        let created = assert_rfc3339_near_now(&data["created_at"]);
        assert_eq!(data["updated_at"], data["created_at"], "{data}");
        assert!(created > 0);
        assert_eq!(
            body,
            json!({
                "data": {
                    "id": data["id"],
                    "name": "General Discussion",
                    "description": "Main channel for team communication",
                    "client_id": acme.account["uuid"],
                    "is_active": true,
                    "meta": meta,
                    "created_at": data["created_at"],
                    "updated_at": data["updated_at"],
                    "participant_count": 0,
                    "message_count": 0,
                },
                "status": "success",
            }),
            "{path}"
        );
    }
    assert_eq!(total(&app, &acme.api_key).await, 2);
}

#[actix_web::test]
async fn room_name_is_trimmed_and_description_and_meta_are_optional() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "  \t General  \n" }))
        .await;
    assert_eq!(room["name"], "General");
    assert_eq!(room["description"], Value::Null);
    assert_eq!(room["meta"], json!({}));
    let read = get_room(&app, &acme.api_key, str_of(&room, "id")).await;
    assert_eq!(read.json()["data"], room);
}

#[actix_web::test]
async fn an_administrator_who_creates_a_room_is_its_first_participant() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let bearer = format!("Bearer {}", acme.admin_token);
    let reply = app
        .json(
            Method::POST,
            "/api/v1/rooms/",
            &[("authorization", bearer.as_str())],
            &json!({ "name": "Admins" }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let data = reply.json()["data"].clone();
    assert_eq!(data["participant_count"], 1, "{data}");
    assert_eq!(data["client_id"], acme.account["uuid"]);
    let read = get_room(&app, &acme.api_key, str_of(&data, "id")).await;
    assert_eq!(read.json()["data"]["participant_count"], 1);
}

#[actix_web::test]
async fn an_agent_may_not_create_a_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for path in [ROOMS, "/api/v1/rooms/"] {
        let reply = app
            .json(
                Method::POST,
                path,
                &key(&acme.agent_token),
                &json!({ "name": "Agents only" }),
            )
            .await;
        let error = assert_chatapi_error(&reply, 403, "ROOM_ACCESS_DENIED", path);
        assert_eq!(keys_of(&error), ["code", "message"], "{error}");
    }
    assert_eq!(total(&app, &acme.api_key).await, 0);
}

#[actix_web::test]
async fn an_agent_is_refused_before_its_room_body_is_validated() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Kept" }))
        .await;
    let uuid = str_of(&room, "id");
    let create = post_room(&app, &acme.agent_token, &json!({ "name": " " })).await;
    assert_chatapi_error(&create, 403, "ROOM_ACCESS_DENIED", "agent POST, blank name");
    let update = put_room(&app, &acme.agent_token, uuid, &json!({ "name": "" })).await;
    assert_chatapi_error(&update, 403, "ROOM_ACCESS_DENIED", "agent PUT, blank name");
}

#[actix_web::test]
async fn a_blank_room_name_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for body in [
        json!({ "name": "" }),
        json!({ "name": "   " }),
        json!({ "name": null }),
        json!({ "description": "no name" }),
    ] {
        let reply = post_room(&app, &acme.api_key, &body).await;
        let details = assert_validation(&reply, &["name"], &body.to_string());
        assert_eq!(details, json!({ "name": "can't be blank" }), "{body}");
    }
    assert_eq!(total(&app, &acme.api_key).await, 0);
}

#[actix_web::test]
async fn a_room_name_holds_at_most_255_characters() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = post_room(&app, &acme.api_key, &json!({ "name": "n".repeat(256) })).await;
    let details = assert_validation(&reply, &["name"], "256 characters");
    assert_eq!(
        details,
        json!({ "name": "is too long (maximum is 255 characters)" })
    );
    // Characters, not bytes; and surrounding spaces do not count.
    for name in [
        "n".repeat(255),
        "é".repeat(255),
        format!("  {}  ", "n".repeat(255)),
    ] {
        let room = app
            .create_room(&acme.api_key, json!({ "name": name }))
            .await;
        assert_eq!(room["name"], name.trim());
    }
    assert_eq!(total(&app, &acme.api_key).await, 3);
}

#[actix_web::test]
async fn a_room_description_holds_at_most_10000_characters() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = post_room(
        &app,
        &acme.api_key,
        &json!({ "name": "Long", "description": "d".repeat(10_001) }),
    )
    .await;
    assert_validation(&reply, &["description"], "10,001 characters");
    for description in ["d".repeat(10_000), "ü".repeat(10_000)] {
        let room = app
            .create_room(
                &acme.api_key,
                json!({ "name": "Long", "description": description }),
            )
            .await;
        assert_eq!(room["description"], description);
    }
    assert_eq!(total(&app, &acme.api_key).await, 2);
}

#[actix_web::test]
async fn every_bad_room_field_is_reported_at_once() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = post_room(
        &app,
        &acme.api_key,
        &json!({
            "name": " ",
            "description": "d".repeat(10_001),
            "meta": { "max_participants": 0 },
        }),
    )
    .await;
    assert_validation(
        &reply,
        &["description", "meta.max_participants", "name"],
        "three bad fields",
    );
    assert_eq!(total(&app, &acme.api_key).await, 0);
}

#[actix_web::test]
async fn room_meta_that_is_not_an_object_is_an_invalid_request() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for meta in [json!([]), json!("x"), json!(5), json!(true)] {
        let reply = post_room(&app, &acme.api_key, &json!({ "name": "M", "meta": meta })).await;
        assert_invalid_request(&reply, "meta", &format!("meta {meta}"));
    }
    assert_eq!(total(&app, &acme.api_key).await, 0);
}

#[actix_web::test]
async fn a_room_field_of_the_wrong_type_is_an_invalid_request() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for (body, field) in [
        (json!({ "name": 5 }), "name"),
        (json!({ "name": "N", "description": ["x"] }), "description"),
    ] {
        let reply = post_room(&app, &acme.api_key, &body).await;
        assert_invalid_request(&reply, field, &body.to_string());
    }
    let reply = app
        .send(
            Method::POST,
            ROOMS,
            &key(&acme.api_key),
            Some(b"{\"name\":".to_vec()),
        )
        .await;
    let error = assert_chatapi_error(&reply, 400, "INVALID_REQUEST", "truncated JSON");
    assert_eq!(keys_of(&error), ["code", "message"], "{error}");
    assert_eq!(total(&app, &acme.api_key).await, 0);
}

#[actix_web::test]
async fn room_meta_over_16_kib_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    // `{"blob":"…"}` is 11 bytes around the string.
    let too_big = json!({ "blob": "x".repeat(16 * 1024 - 10) });
    let reply = post_room(
        &app,
        &acme.api_key,
        &json!({ "name": "M", "meta": too_big }),
    )
    .await;
    let details = assert_validation(&reply, &["meta"], "16 KiB + 1");
    assert_eq!(
        details,
        json!({ "meta": "is too large (maximum is 16384 bytes)" })
    );
    let fits = json!({ "blob": "x".repeat(16 * 1024 - 11) });
    let room = app
        .create_room(&acme.api_key, json!({ "name": "M", "meta": fits }))
        .await;
    assert_eq!(room["meta"], fits);
    assert_eq!(total(&app, &acme.api_key).await, 1);
}

#[actix_web::test]
async fn max_participants_must_be_a_positive_integer() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for bad in [json!(0), json!(-1), json!(2.5), json!("10")] {
        let reply = post_room(
            &app,
            &acme.api_key,
            &json!({ "name": "Capped", "meta": { "max_participants": bad } }),
        )
        .await;
        assert_validation(
            &reply,
            &["meta.max_participants"],
            &format!("max_participants {bad}"),
        );
    }
    assert_eq!(total(&app, &acme.api_key).await, 0);
    let room = app
        .create_room(
            &acme.api_key,
            json!({ "name": "Capped", "meta": { "max_participants": 1 } }),
        )
        .await;
    assert_eq!(room["meta"], json!({ "max_participants": 1 }));
}

// ---------------------------------------------------------------- reading

#[actix_web::test]
async fn a_room_is_read_by_its_uuid_with_or_without_a_trailing_slash() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(
            &acme.api_key,
            json!({ "name": "Read me", "description": "d", "meta": { "k": "v" } }),
        )
        .await;
    let uuid = str_of(&room, "id");
    for path in [room_path(uuid), format!("{}/", room_path(uuid))] {
        for credential in [&acme.api_key, &acme.admin_token] {
            let reply = app.get(&path, &key(credential)).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.text());
            assert_eq!(
                reply.json(),
                json!({ "data": room, "status": "success" }),
                "{path}"
            );
        }
    }
}

#[actix_web::test]
async fn a_malformed_or_unknown_room_id_is_room_not_found_on_every_route() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    app.create_room(&acme.api_key, json!({ "name": "Existing" }))
        .await;
    for id in ["not-a-uuid", "123", UNKNOWN_UUID] {
        let path = room_path(id);
        let replies = [
            ("GET", app.get(&path, &key(&acme.api_key)).await),
            (
                "PUT",
                put_room(&app, &acme.api_key, id, &json!({ "name": "x" })).await,
            ),
            ("DELETE", delete_room(&app, &acme.api_key, id).await),
            (
                "deactivate",
                post_empty(&app, &acme.api_key, &format!("{path}/deactivate")).await,
            ),
            (
                "activate",
                post_empty(&app, &acme.api_key, &format!("{path}/activate")).await,
            ),
        ];
        for (what, reply) in replies {
            let error =
                assert_chatapi_error(&reply, 404, "ROOM_NOT_FOUND", &format!("{what} {id}"));
            assert_eq!(
                error,
                json!({ "code": "ROOM_NOT_FOUND", "message": "Room not found" }),
                "{what} {id}"
            );
        }
    }
    assert_eq!(total(&app, &acme.api_key).await, 1);
}

#[actix_web::test]
async fn another_accounts_room_is_not_found_and_left_untouched() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Acme only" }))
        .await;
    let uuid = str_of(&room, "id");
    let path = room_path(uuid);
    for credential in [&globex.api_key, &globex.admin_token] {
        let replies = [
            ("GET", app.get(&path, &key(credential)).await),
            (
                "PUT",
                put_room(&app, credential, uuid, &json!({ "name": "Taken" })).await,
            ),
            (
                "deactivate",
                post_empty(&app, credential, &format!("{path}/deactivate")).await,
            ),
            (
                "activate",
                post_empty(&app, credential, &format!("{path}/activate")).await,
            ),
            ("DELETE", delete_room(&app, credential, uuid).await),
        ];
        for (what, reply) in replies {
            assert_chatapi_error(&reply, 404, "ROOM_NOT_FOUND", what);
        }
    }
    let still = get_room(&app, &acme.api_key, uuid).await;
    assert_eq!(still.status, 200, "{}", still.text());
    assert_eq!(still.json()["data"], room);
}

#[actix_web::test]
async fn an_agent_may_not_read_a_room_it_is_not_in() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let by_key = app
        .create_room(&acme.api_key, json!({ "name": "Keyed" }))
        .await;
    let by_admin = app
        .create_room(&acme.admin_token, json!({ "name": "Admin's" }))
        .await;
    for room in [by_key, by_admin] {
        let reply = get_room(&app, &acme.agent_token, str_of(&room, "id")).await;
        let error = assert_chatapi_error(&reply, 403, "ROOM_ACCESS_DENIED", "agent GET");
        assert_eq!(
            error,
            json!({
                "code": "ROOM_ACCESS_DENIED",
                "message": "You don't have permission to access this room",
            })
        );
    }
    // An unknown room is still not found for the agent.
    let reply = get_room(&app, &acme.agent_token, UNKNOWN_UUID).await;
    assert_chatapi_error(&reply, 404, "ROOM_NOT_FOUND", "agent GET unknown");
}

// ---------------------------------------------------------------- updating

#[actix_web::test]
async fn updating_only_the_name_keeps_description_and_meta() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(
            &acme.api_key,
            json!({ "name": "Old", "description": "Kept", "meta": { "k": "v" } }),
        )
        .await;
    let uuid = str_of(&room, "id");
    for path in [room_path(uuid), format!("{}/", room_path(uuid))] {
        let reply = app
            .json(
                Method::PUT,
                &path,
                &key(&acme.api_key),
                &json!({ "name": "  Renamed  " }),
            )
            .await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let body = reply.json();
        assert_eq!(keys_of(&body), ["data", "status"], "{body}");
        let data = &body["data"];
        assert_eq!(keys_of(data), ROOM_KEYS);
        assert_eq!(data["name"], "Renamed");
        assert_eq!(data["description"], "Kept");
        assert_eq!(data["meta"], json!({ "k": "v" }));
        assert_eq!(data["id"], room["id"]);
        assert_eq!(data["client_id"], acme.account["uuid"]);
        assert_eq!(data["is_active"], true);
    }
    let read = get_room(&app, &acme.api_key, uuid).await.json()["data"].clone();
    assert_eq!(read["name"], "Renamed");
    assert_eq!(read["description"], "Kept");
}

#[actix_web::test]
async fn a_null_description_clears_it_and_meta_is_replaced_whole() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(
            &acme.api_key,
            json!({ "name": "Room", "description": "Gone soon", "meta": { "a": 1, "b": 2 } }),
        )
        .await;
    let uuid = str_of(&room, "id");
    let reply = put_room(
        &app,
        &acme.api_key,
        uuid,
        &json!({ "description": null, "meta": { "c": 3 } }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = reply.json()["data"].clone();
    assert_eq!(data["description"], Value::Null);
    assert_eq!(data["meta"], json!({ "c": 3 }));
    assert_eq!(data["name"], "Room");
    assert_eq!(
        get_room(&app, &acme.api_key, uuid).await.json()["data"],
        data
    );

    let emptied = put_room(&app, &acme.api_key, uuid, &json!({ "meta": {} })).await;
    assert_eq!(emptied.json()["data"]["meta"], json!({}));
}

#[actix_web::test]
async fn a_null_meta_is_an_invalid_request_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Room", "meta": { "k": 1 } }))
        .await;
    let uuid = str_of(&room, "id");
    for body in [
        json!({ "name": "Changed", "meta": null }),
        json!({ "meta": [] }),
    ] {
        let reply = put_room(&app, &acme.api_key, uuid, &body).await;
        assert_invalid_request(&reply, "meta", &body.to_string());
    }
    assert_eq!(
        get_room(&app, &acme.api_key, uuid).await.json()["data"],
        room
    );
}

#[actix_web::test]
async fn an_invalid_update_is_a_validation_error_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Room", "description": "D" }))
        .await;
    let uuid = str_of(&room, "id");
    for (body, fields) in [
        (json!({ "name": "" }), vec!["name"]),
        (json!({ "name": null }), vec!["name"]),
        (json!({ "name": "n".repeat(256) }), vec!["name"]),
        (
            json!({ "description": "d".repeat(10_001), "meta": { "max_participants": -5 } }),
            vec!["description", "meta.max_participants"],
        ),
    ] {
        let reply = put_room(&app, &acme.api_key, uuid, &body).await;
        assert_validation(&reply, &fields, &format!("{fields:?}"));
    }
    assert_eq!(
        get_room(&app, &acme.api_key, uuid).await.json()["data"],
        room
    );
}

#[actix_web::test]
async fn an_update_moves_updated_at_and_keeps_created_at() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Room" }))
        .await;
    let uuid = str_of(&room, "id");
    let reply = put_room(&app, &acme.admin_token, uuid, &json!({ "name": "Room 2" })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = reply.json()["data"].clone();
    assert_eq!(data["created_at"], room["created_at"]);
    assert_rfc3339_near_now(&data["updated_at"]);
    assert!(
        rfc3339_nanos(str_of(&data, "updated_at")) > rfc3339_nanos(str_of(&room, "updated_at")),
        "updated_at did not move: {} then {}",
        room["updated_at"],
        data["updated_at"]
    );
}

#[actix_web::test]
async fn an_empty_update_answers_the_room_unchanged() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Room", "meta": { "k": 1 } }))
        .await;
    let reply = put_room(&app, &acme.api_key, str_of(&room, "id"), &json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), json!({ "data": room, "status": "success" }));
}

#[actix_web::test]
async fn an_agent_may_not_update_deactivate_activate_or_delete_a_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Guarded" }))
        .await;
    let uuid = str_of(&room, "id");
    let path = room_path(uuid);
    let replies = [
        (
            "PUT",
            put_room(&app, &acme.agent_token, uuid, &json!({ "name": "Mine" })).await,
        ),
        (
            "deactivate",
            post_empty(&app, &acme.agent_token, &format!("{path}/deactivate")).await,
        ),
        (
            "activate",
            post_empty(&app, &acme.agent_token, &format!("{path}/activate")).await,
        ),
        ("DELETE", delete_room(&app, &acme.agent_token, uuid).await),
    ];
    for (what, reply) in replies {
        assert_chatapi_error(&reply, 403, "ROOM_ACCESS_DENIED", what);
    }
    assert_eq!(
        get_room(&app, &acme.api_key, uuid).await.json()["data"],
        room
    );
}

// ---------------------------------------------------------------- deleting

#[actix_web::test]
async fn deleting_a_room_answers_the_seed_message_and_the_room_is_gone() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let first = app
        .create_room(&acme.api_key, json!({ "name": "First" }))
        .await;
    let second = app
        .create_room(&acme.api_key, json!({ "name": "Second" }))
        .await;
    let first_path = room_path(str_of(&first, "id"));
    let second_path = format!("{}/", room_path(str_of(&second, "id")));
    for (room, path, credential) in [
        (&first, first_path, &acme.api_key),
        (&second, second_path, &acme.admin_token),
    ] {
        let uuid = str_of(room, "id");
        let reply = app
            .send(Method::DELETE, &path, &key(credential), None)
            .await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(
            reply.json(),
            json!({ "message": "Room deleted successfully", "status": "success" })
        );
        let read = get_room(&app, &acme.api_key, uuid).await;
        assert_chatapi_error(&read, 404, "ROOM_NOT_FOUND", "GET after DELETE");
        let again = delete_room(&app, &acme.api_key, uuid).await;
        assert_chatapi_error(&again, 404, "ROOM_NOT_FOUND", "second DELETE");
    }
    assert_eq!(total(&app, &acme.api_key).await, 0);
}

// ---------------------------------------------------------------- (de)activating

#[actix_web::test]
async fn deactivating_a_room_answers_its_new_state() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Quiet" }))
        .await;
    let uuid = str_of(&room, "id");
    let reply = post_empty(
        &app,
        &acme.api_key,
        &format!("{}/deactivate", room_path(uuid)),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    let updated_at = body["data"]["updated_at"].clone();
    assert_rfc3339_near_now(&updated_at);
    assert_eq!(
        body,
        json!({
            "data": { "id": uuid, "name": "Quiet", "is_active": false, "updated_at": updated_at },
            "message": "Room deactivated successfully",
            "status": "success",
        })
    );
    let read = get_room(&app, &acme.api_key, uuid).await.json()["data"].clone();
    assert_eq!(read["is_active"], false);
    assert_eq!(read["updated_at"], updated_at);
    assert_eq!(read["created_at"], room["created_at"]);
    assert!(
        rfc3339_nanos(str_of(&read, "updated_at")) > rfc3339_nanos(str_of(&room, "updated_at"))
    );
}

#[actix_web::test]
async fn activating_a_room_answers_like_deactivating() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Back" }))
        .await;
    let uuid = str_of(&room, "id");
    let off = post_empty(
        &app,
        &acme.admin_token,
        &format!("{}/deactivate/", room_path(uuid)),
    )
    .await;
    assert_eq!(off.status, 200, "{}", off.text());
    assert_eq!(off.json()["data"]["is_active"], false);
    for path in [
        format!("{}/activate", room_path(uuid)),
        format!("{}/activate/", room_path(uuid)),
    ] {
        let reply = post_empty(&app, &acme.admin_token, &path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let body = reply.json();
        let updated_at = body["data"]["updated_at"].clone();
        assert_rfc3339_near_now(&updated_at);
        assert_eq!(
            body,
            json!({
                "data": { "id": uuid, "name": "Back", "is_active": true, "updated_at": updated_at },
                "message": "Room activated successfully",
                "status": "success",
            }),
            "{path}"
        );
        let read = get_room(&app, &acme.api_key, uuid).await.json()["data"].clone();
        assert_eq!(read["is_active"], true);
        assert_eq!(read["updated_at"], updated_at);
    }
}

// ---------------------------------------------------------------- listing

#[actix_web::test]
async fn the_room_list_answers_rooms_with_a_pagination_object() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(
            &acme.api_key,
            json!({ "name": "Only", "description": "one", "meta": { "x": 1 } }),
        )
        .await;
    for path in [ROOMS, "/api/v1/rooms/"] {
        let reply = app.get(path, &key(&acme.api_key)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(
            reply.json(),
            json!({
                "data": [room],
                "pagination": { "skip": 0, "limit": 50, "total": 1, "has_more": false },
                "status": "success",
            }),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn an_empty_room_list_still_has_its_pagination() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    assert_eq!(
        list(&app, &acme.api_key, "").await,
        json!({
            "data": [],
            "pagination": { "skip": 0, "limit": 50, "total": 0, "has_more": false },
            "status": "success",
        })
    );
}

#[actix_web::test]
async fn the_room_list_pages_with_skip_and_limit() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for i in 1..=7 {
        app.create_room(&acme.api_key, json!({ "name": format!("room {i}") }))
            .await;
    }
    let pages = [
        (0, vec!["room 1", "room 2", "room 3"], true),
        (3, vec!["room 4", "room 5", "room 6"], true),
        (6, vec!["room 7"], false),
        (7, vec![], false),
        (20, vec![], false),
    ];
    for (skip, expected, has_more) in pages {
        let body = list(
            &app,
            &acme.api_key,
            &format!("sort=name&skip={skip}&limit=3"),
        )
        .await;
        assert_eq!(names(&body), expected, "skip {skip}");
        assert_eq!(
            body["pagination"],
            json!({ "skip": skip, "limit": 3, "total": 7, "has_more": has_more }),
            "skip {skip}"
        );
    }
    let all = list(&app, &acme.api_key, "").await;
    assert_eq!(
        all["pagination"],
        json!({ "skip": 0, "limit": 50, "total": 7, "has_more": false })
    );
    assert_eq!(all["data"].as_array().map(Vec::len), Some(7));
}

#[actix_web::test]
async fn a_limit_over_100_is_clamped_to_100() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    app.create_room(&acme.api_key, json!({ "name": "One" }))
        .await;
    for limit in ["101", "500", "9999999"] {
        let body = list(&app, &acme.api_key, &format!("limit={limit}")).await;
        assert_eq!(
            body["pagination"],
            json!({ "skip": 0, "limit": 100, "total": 1, "has_more": false }),
            "limit={limit}"
        );
    }
    let body = list(&app, &acme.api_key, "limit=100").await;
    assert_eq!(body["pagination"]["limit"], 100);
    let body = list(&app, &acme.api_key, "limit=1").await;
    assert_eq!(body["pagination"]["limit"], 1);
}

#[actix_web::test]
async fn an_out_of_range_skip_or_limit_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for (query, fields) in [
        ("limit=0", vec!["limit"]),
        ("limit=-1", vec!["limit"]),
        ("skip=-1", vec!["skip"]),
        ("skip=-1&limit=0", vec!["limit", "skip"]),
    ] {
        let reply = app
            .get(&format!("{ROOMS}?{query}"), &key(&acme.api_key))
            .await;
        assert_validation(&reply, &fields, query);
    }
}

#[actix_web::test]
async fn a_non_integer_skip_or_limit_is_an_invalid_request() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for (query, field) in [
        ("skip=abc", "skip"),
        ("limit=ten", "limit"),
        ("skip=1.5", "skip"),
        ("is_active=maybe", "is_active"),
    ] {
        let reply = app
            .get(&format!("{ROOMS}?{query}"), &key(&acme.api_key))
            .await;
        assert_invalid_request(&reply, field, query);
    }
}

#[actix_web::test]
async fn rooms_are_listed_in_each_sort_order() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    // Created in this order; names chosen so that name order differs from creation order.
    let created = ["charlie", "alpha", "delta", "bravo"];
    for name in created {
        app.create_room(&acme.api_key, json!({ "name": name }))
            .await;
    }
    let newest_first: Vec<&str> = created.iter().rev().copied().collect();
    for (query, expected) in [
        ("sort=name", vec!["alpha", "bravo", "charlie", "delta"]),
        ("sort=-name", vec!["delta", "charlie", "bravo", "alpha"]),
        ("sort=created_at", created.to_vec()),
        ("sort=-created_at", newest_first.clone()),
        ("", newest_first.clone()),
    ] {
        let body = list(&app, &acme.api_key, query).await;
        assert_eq!(names(&body), expected, "?{query}");
    }
    // The order holds across pages.
    let second = list(&app, &acme.api_key, "sort=name&skip=2&limit=2").await;
    assert_eq!(names(&second), ["charlie", "delta"]);
}

#[actix_web::test]
async fn an_unknown_sort_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for sort in ["updated_at", "-updated_at", "NAME", "name,created_at"] {
        let reply = app
            .get(&format!("{ROOMS}?sort={sort}"), &key(&acme.api_key))
            .await;
        assert_validation(&reply, &["sort"], sort);
    }
}

#[actix_web::test]
async fn search_is_case_insensitive_in_name_and_description() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for (name, description) in [
        ("General Discussion", Some("Main channel")),
        ("Support", Some("For GENERAL questions")),
        ("Random", None),
        ("Sales", Some("pipeline")),
    ] {
        app.create_room(
            &acme.api_key,
            json!({ "name": name, "description": description }),
        )
        .await;
    }
    for (search, expected) in [
        ("general", vec!["General Discussion", "Support"]),
        ("GENERAL", vec!["General Discussion", "Support"]),
        ("gEnErAl%20dis", vec!["General Discussion"]),
        ("PIPE", vec!["Sales"]),
        ("ndo", vec!["Random"]),
        ("nowhere", vec![]),
    ] {
        let body = list(&app, &acme.api_key, &format!("sort=name&search={search}")).await;
        assert_eq!(names(&body), expected, "search={search}");
        assert_eq!(
            body["pagination"]["total"],
            expected.len(),
            "search={search}"
        );
    }
    // Search combines with paging: the total counts the matches, not the page.
    let body = list(&app, &acme.api_key, "sort=name&search=general&limit=1").await;
    assert_eq!(names(&body), ["General Discussion"]);
    assert_eq!(
        body["pagination"],
        json!({ "skip": 0, "limit": 1, "total": 2, "has_more": true })
    );
}

#[actix_web::test]
async fn search_takes_percent_underscore_and_backslash_literally() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for name in [
        "100% done",
        "100 done",
        "a_b",
        "axb",
        r"back\slash",
        "backslash",
    ] {
        app.create_room(&acme.api_key, json!({ "name": name }))
            .await;
    }
    for (search, expected) in [
        ("%25", vec!["100% done"]),
        ("100%25", vec!["100% done"]),
        ("_", vec!["a_b"]),
        ("a_b", vec!["a_b"]),
        ("%5C", vec![r"back\slash"]),
        ("k%5Cs", vec![r"back\slash"]),
    ] {
        let body = list(&app, &acme.api_key, &format!("sort=name&search={search}")).await;
        assert_eq!(names(&body), expected, "search={search}");
    }
}

#[actix_web::test]
async fn is_active_filters_the_room_list() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for name in ["on 1", "off 1", "on 2", "off 2", "off 3"] {
        let room = app
            .create_room(&acme.api_key, json!({ "name": name }))
            .await;
        if name.starts_with("off") {
            let path = format!("{}/deactivate", room_path(str_of(&room, "id")));
            assert_eq!(post_empty(&app, &acme.api_key, &path).await.status, 200);
        }
    }
    for (query, expected) in [
        ("is_active=true", vec!["on 1", "on 2"]),
        ("is_active=false", vec!["off 1", "off 2", "off 3"]),
        ("", vec!["off 1", "off 2", "off 3", "on 1", "on 2"]),
    ] {
        let body = list(&app, &acme.api_key, &format!("sort=name&{query}")).await;
        assert_eq!(names(&body), expected, "?{query}");
        assert_eq!(body["pagination"]["total"], expected.len(), "?{query}");
    }
    let both = list(&app, &acme.api_key, "sort=name&is_active=false&search=2").await;
    assert_eq!(names(&both), ["off 2"]);
}

#[actix_web::test]
async fn an_agent_lists_only_the_rooms_it_belongs_to() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let keyed = app
        .create_room(&acme.api_key, json!({ "name": "keyed" }))
        .await;
    assert_eq!(keyed["participant_count"], 0);
    for name in ["admin 1", "admin 2"] {
        let room = app
            .create_room(&acme.admin_token, json!({ "name": name }))
            .await;
        assert_eq!(room["participant_count"], 1);
    }
    let everything = ["admin 1", "admin 2", "keyed"];
    for credential in [&acme.api_key, &acme.admin_token] {
        let body = list(&app, credential, "sort=name").await;
        assert_eq!(names(&body), everything);
    }
    assert_eq!(
        list(&app, &acme.agent_token, "").await,
        json!({
            "data": [],
            "pagination": { "skip": 0, "limit": 50, "total": 0, "has_more": false },
            "status": "success",
        })
    );
}

#[actix_web::test]
async fn room_routes_refuse_missing_unknown_and_platform_credentials() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Locked" }))
        .await;
    let uuid = str_of(&room, "id");
    let unknown = format!("ck_{}", "0".repeat(64));
    let bearer_platform = platform_auth();
    let credentials: [(&str, Vec<(&str, &str)>); 4] = [
        ("no credential", vec![]),
        ("unknown key", vec![api_key_header(&unknown)]),
        ("platform token", vec![bearer_platform]),
        (
            "platform token as X-API-Key",
            vec![api_key_header(PLATFORM_TOKEN)],
        ),
    ];
    let path = room_path(uuid);
    let body = serde_json::to_vec(&json!({ "name": "Hijacked" })).unwrap_or_default();
    for (kind, headers) in &credentials {
        let routes = [
            (Method::GET, ROOMS.to_owned(), None),
            (Method::POST, ROOMS.to_owned(), Some(body.clone())),
            (Method::GET, path.clone(), None),
            (Method::PUT, path.clone(), Some(body.clone())),
            (Method::POST, format!("{path}/deactivate"), None),
            (Method::POST, format!("{path}/activate"), None),
            (Method::DELETE, path.clone(), None),
        ];
        for (method, route, payload) in routes {
            let context = format!("{kind}: {method} {route}");
            let reply = app.send(method, &route, headers, payload).await;
            let error = assert_chatapi_error(&reply, 401, "UNAUTHORIZED", &context);
            assert_eq!(keys_of(&error), ["code", "message"], "{context}");
        }
    }
    assert_eq!(
        get_room(&app, &acme.api_key, uuid).await.json()["data"],
        room
    );
    assert_eq!(total(&app, &acme.api_key).await, 1);
}
