//! ChatAPI participants (`/api/v1/rooms/{room_id}/join|leave|participants|online`):
//! seed 000, "Room Participants".

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// A UUID that names no room.
const UNKNOWN_UUID: &str = "00000000-0000-4000-8000-000000000000";

fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

/// A room made with the API key (so it starts without participants); answers its UUID.
async fn new_room(app: &TestApp, tenant: &Tenant, name: &str, meta: Value) -> String {
    let room = app
        .create_room(&tenant.api_key, json!({ "name": name, "meta": meta }))
        .await;
    str_of(&room, "id").to_owned()
}

fn joined() -> Value {
    json!({ "message": "Successfully joined room", "status": "success" })
}

fn left() -> Value {
    json!({ "message": "Successfully left room", "status": "success" })
}

/// The exact ChatAPI error body for `code` and `message`.
fn chatapi_error(code: &str, message: &str) -> Value {
    json!({ "error": { "code": code, "message": message }, "status": "error" })
}

fn room_not_found() -> Value {
    chatapi_error("ROOM_NOT_FOUND", "Room not found")
}

fn access_denied() -> Value {
    chatapi_error(
        "ROOM_ACCESS_DENIED",
        "You don't have permission to access this room",
    )
}

fn not_in_room() -> Value {
    chatapi_error("NOT_IN_ROOM", "User is not a participant in this room")
}

/// Asserts `reply` is exactly `status` with JSON `body`.
fn assert_reply(reply: &Reply, status: u16, body: &Value, context: &str) {
    assert_eq!(reply.status, status, "{context}: {}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{context}"
    );
    assert_eq!(&reply.json(), body, "{context}");
}

/// Asserts a 422 VALIDATION_ERROR whose `details` name exactly `fields`.
fn assert_validation(reply: &Reply, fields: &[&str], context: &str) {
    let error = assert_chatapi_error(reply, 422, "VALIDATION_ERROR", context);
    assert_eq!(keys_of(&error["details"]), fields, "{context}: {error}");
    for field in fields {
        assert!(
            error["details"][*field]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{context}: {error}"
        );
    }
}

/// Asserts a 400 INVALID_REQUEST whose `details` name exactly `field`.
fn assert_invalid_request(reply: &Reply, field: &str, context: &str) {
    let error = assert_chatapi_error(reply, 400, "INVALID_REQUEST", context);
    assert_eq!(keys_of(&error["details"]), [field], "{context}: {error}");
}

/// `GET …/participants?{query}` as `credential`.
async fn participants_page(app: &TestApp, credential: &str, uuid: &str, query: &str) -> Reply {
    app.get(
        &format!("{}?{query}", room_action_path(uuid, "participants")),
        &key(credential),
    )
    .await
}

/// The `user_name` of participant `user_id` in room `uuid`.
async fn user_name_in(app: &TestApp, credential: &str, uuid: &str, user_id: &str) -> Value {
    let all = app.participants(credential, uuid).await;
    let found: Vec<&Value> = all.iter().filter(|p| p["user_id"] == user_id).collect();
    assert_eq!(found.len(), 1, "{user_id} in {all:?}");
    found[0]["user_name"].clone()
}

// ---------------------------------------------------------------- joining

#[actix_web::test]
async fn joining_answers_the_seed_message_with_and_without_a_trailing_slash() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    for (user_id, path) in [
        ("user_123", room_action_path(&uuid, "join")),
        ("user_456", format!("{}/", room_action_path(&uuid, "join"))),
    ] {
        let reply = app
            .json(
                Method::POST,
                &path,
                &key(&acme.api_key),
                &json!({
                    "user_id": user_id,
                    "user_name": "John Doe",
                    "meta": { "role": "member", "joined_via": "invitation" },
                }),
            )
            .await;
        assert_reply(&reply, 200, &joined(), &path);
    }
    assert_eq!(
        app.participant_ids(&acme.api_key, &uuid).await,
        ["user_123", "user_456"]
    );
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 2);
}

#[actix_web::test]
async fn an_unknown_user_id_becomes_an_agent_of_the_account_named_by_user_name_or_user_id() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;
    assert!(app.members(acme.id, &acme.api_key, id).await.is_empty());

    // Both the API key and an administrator may bring in someone new.
    let named = app
        .join_room(
            &acme.api_key,
            &uuid,
            &json!({ "user_id": "user_123", "user_name": "John Doe" }),
        )
        .await;
    assert_reply(&named, 200, &joined(), "API key, with user_name");
    let unnamed = app
        .join_room(&acme.admin_token, &uuid, &json!({ "user_id": "user_456" }))
        .await;
    assert_reply(&unnamed, 200, &joined(), "administrator, without user_name");

    let members = app.members(acme.id, &acme.api_key, id).await;
    assert_eq!(members.len(), 2, "{members:?}");
    for (member, name) in members.iter().zip(["John Doe", "user_456"]) {
        assert!(member["id"].as_i64().is_some_and(|id| id > 0), "{member}");
        assert_eq!(
            member,
            &json!({
                "id": member["id"],
                "name": name,
                "email": null,
                "account_id": acme.id,
                "role": "agent",
                "confirmed": member["confirmed"],
                "availability_status": "offline",
                "thumbnail": null,
            })
        );
        assert!(member["confirmed"].is_boolean(), "{member}");
    }
    assert_ne!(members[0]["id"], members[1]["id"]);
    // Neither is one of the tenant's existing users.
    for existing in [&acme.admin, &acme.agent] {
        assert!(
            members.iter().all(|m| m["id"] != existing["id"]),
            "{existing}"
        );
    }
    let participants = app.participants(&acme.api_key, &uuid).await;
    let names: Vec<&Value> = participants.iter().map(|p| &p["user_name"]).collect();
    assert_eq!(names, [&json!("John Doe"), &json!("user_456")]);

    // The user made by the first join is the one a later join names: same id, first name.
    let other = new_room(&app, &acme, "Other", json!({})).await;
    let again = app
        .join_room(
            &acme.api_key,
            &other,
            &json!({ "user_id": "user_123", "user_name": "Someone Else" }),
        )
        .await;
    assert_reply(&again, 200, &joined(), "the same user_id in another room");
    let other_id = app.chat_room_id_of(acme.id, &acme.api_key, &other).await;
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, other_id).await,
        [members[0]["id"].as_i64().unwrap_or_default()]
    );
    assert_eq!(
        user_name_in(&app, &acme.api_key, &other, "user_123").await,
        "John Doe"
    );
}

#[actix_web::test]
async fn joining_twice_is_already_in_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    app.join_ok(&acme.api_key, &uuid, "user_123").await;
    for credential in [&acme.api_key, &acme.admin_token] {
        let again = app
            .join_room(
                credential,
                &uuid,
                &json!({ "user_id": "user_123", "user_name": "Renamed" }),
            )
            .await;
        assert_reply(
            &again,
            409,
            &chatapi_error(
                "ALREADY_IN_ROOM",
                "User is already a participant in this room",
            ),
            "second join",
        );
    }
    assert_eq!(
        app.participant_ids(&acme.api_key, &uuid).await,
        ["user_123"]
    );
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 1);
}

#[actix_web::test]
async fn a_room_at_max_participants_refuses_the_next_join_with_room_full() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "Pair", json!({ "max_participants": 2 })).await;
    app.join_ok(&acme.api_key, &uuid, "first").await;
    app.join_ok(&acme.api_key, &uuid, "second").await;
    let full = app
        .join_room(&acme.api_key, &uuid, &json!({ "user_id": "third" }))
        .await;
    let error = assert_chatapi_error(&full, 409, "ROOM_FULL", "third join");
    assert_eq!(
        error,
        json!({
            "code": "ROOM_FULL",
            "message": "Room has reached its maximum number of participants",
        })
    );
    assert_eq!(
        app.participant_ids(&acme.api_key, &uuid).await,
        ["first", "second"]
    );
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 2);
    // A place freed is a place taken.
    let gone = app.leave_room(&acme.api_key, &uuid, "first").await;
    assert_reply(&gone, 200, &left(), "leave");
    app.join_ok(&acme.api_key, &uuid, "third").await;
    assert_eq!(
        app.participant_ids(&acme.api_key, &uuid).await,
        ["second", "third"]
    );
}

#[actix_web::test]
async fn an_inactive_room_refuses_joins_with_room_inactive_but_lets_participants_leave() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "Quiet", json!({})).await;
    app.join_ok(&acme.api_key, &uuid, "early").await;
    let off = app
        .send(
            Method::POST,
            &format!("{}/deactivate", room_path(&uuid)),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text());
    for credential in [&acme.api_key, &acme.admin_token] {
        let refused = app
            .join_room(credential, &uuid, &json!({ "user_id": "late" }))
            .await;
        assert_chatapi_error(&refused, 409, "ROOM_INACTIVE", "join an inactive room");
    }
    assert_eq!(app.participant_ids(&acme.api_key, &uuid).await, ["early"]);
    let gone = app.leave_room(&acme.api_key, &uuid, "early").await;
    assert_reply(&gone, 200, &left(), "leave an inactive room");
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 0);

    let on = app
        .send(
            Method::POST,
            &format!("{}/activate", room_path(&uuid)),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(on.status, 200, "{}", on.text());
    app.join_ok(&acme.api_key, &uuid, "late").await;
}

#[actix_web::test]
async fn a_refused_join_creates_no_user() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let full = new_room(&app, &acme, "Full", json!({ "max_participants": 1 })).await;
    app.join_ok(&acme.api_key, &full, "occupant").await;
    let inactive = new_room(&app, &acme, "Inactive", json!({})).await;
    let off = app
        .send(
            Method::POST,
            &format!("{}/deactivate", room_path(&inactive)),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text());
    let open = new_room(&app, &acme, "Open", json!({})).await;
    let mut created = Vec::new();
    for (case, uuid, status) in [
        ("unknown room", UNKNOWN_UUID, 404),
        ("full room", full.as_str(), 409),
        ("inactive room", inactive.as_str(), 409),
    ] {
        let user_id = format!("refused in {case}");
        let refused = app
            .join_room(
                &acme.api_key,
                uuid,
                &json!({ "user_id": user_id, "user_name": "Name Given When Refused" }),
            )
            .await;
        assert_eq!(refused.status, status, "{case}: {}", refused.text());
        // Had the refused join made a user, this join would find it under its first name.
        let accepted = app
            .join_room(
                &acme.api_key,
                &open,
                &json!({ "user_id": user_id, "user_name": "Name Given When Accepted" }),
            )
            .await;
        assert_reply(&accepted, 200, &joined(), case);
        let name = user_name_in(&app, &acme.api_key, &open, &user_id).await;
        if name != "Name Given When Accepted" {
            created.push(case);
        }
    }
    assert!(
        created.is_empty(),
        "a join refused in each of {created:?} created its user anyway"
    );
}

#[actix_web::test]
async fn an_unknown_or_malformed_room_is_room_not_found_on_every_participant_route() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let body = json!({ "user_id": "user_123" });
    for room in [UNKNOWN_UUID, "not-a-uuid", "42"] {
        for credential in [&acme.api_key, &acme.admin_token, &acme.agent_token] {
            let replies = [
                ("join", app.join_room(credential, room, &body).await),
                ("leave", app.leave_room(credential, room, "user_123").await),
                (
                    "participants",
                    app.get(&room_action_path(room, "participants"), &key(credential))
                        .await,
                ),
                (
                    "online",
                    app.get(&room_action_path(room, "online"), &key(credential))
                        .await,
                ),
            ];
            for (what, reply) in replies {
                assert_reply(&reply, 404, &room_not_found(), &format!("{room} {what}"));
            }
        }
    }
}

#[actix_web::test]
async fn a_join_without_a_user_id_or_with_a_blank_name_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    let cases: [(Value, &[&str]); 7] = [
        (json!({}), &["user_id"]),
        (json!({ "user_id": null }), &["user_id"]),
        (json!({ "user_id": "" }), &["user_id"]),
        (json!({ "user_id": " \t " }), &["user_id"]),
        (json!({ "user_id": "u".repeat(256) }), &["user_id"]),
        (
            json!({ "user_id": "ok", "user_name": "  " }),
            &["user_name"],
        ),
        (json!({ "user_name": "" }), &["user_id", "user_name"]),
    ];
    for (body, fields) in cases {
        let reply = app.join_room(&acme.api_key, &uuid, &body).await;
        assert_validation(&reply, fields, &body.to_string());
    }
    // At the limit, a user_id is fine.
    app.join_ok(&acme.api_key, &uuid, &"u".repeat(255)).await;
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 1);
}

#[actix_web::test]
async fn a_join_field_of_the_wrong_type_is_an_invalid_request() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    for (body, field) in [
        (json!({ "user_id": 123 }), "user_id"),
        (json!({ "user_id": ["user_123"] }), "user_id"),
        (
            json!({ "user_id": "user_123", "user_name": 5 }),
            "user_name",
        ),
        (json!({ "user_id": "user_123", "meta": "vip" }), "meta"),
        (json!({ "user_id": "user_123", "meta": [1, 2] }), "meta"),
        (json!({ "user_id": "user_123", "meta": 7 }), "meta"),
    ] {
        let reply = app.join_room(&acme.api_key, &uuid, &body).await;
        assert_invalid_request(&reply, field, &body.to_string());
    }
    for raw in [&b"{not json"[..], b"", b"[]", b"\"user_123\""] {
        let reply = app
            .send(
                Method::POST,
                &room_action_path(&uuid, "join"),
                &key(&acme.api_key),
                Some(raw.to_vec()),
            )
            .await;
        assert_chatapi_error(
            &reply,
            400,
            "INVALID_REQUEST",
            &String::from_utf8_lossy(raw),
        );
    }
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 0);
}

#[actix_web::test]
async fn a_join_meta_is_an_object_of_at_most_16_kib() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    // `{"k":"…"}` is the value's length plus 8 bytes.
    let at_limit = json!({ "k": "x".repeat(16 * 1024 - 8) });
    assert_eq!(at_limit.to_string().len(), 16 * 1024);
    let over = json!({ "k": "x".repeat(16 * 1024 - 7) });
    let reply = app
        .join_room(
            &acme.api_key,
            &uuid,
            &json!({ "user_id": "big", "meta": over }),
        )
        .await;
    assert_validation(&reply, &["meta"], "meta over 16 KiB");
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 0);
    let reply = app
        .join_room(
            &acme.api_key,
            &uuid,
            &json!({ "user_id": "big", "meta": at_limit }),
        )
        .await;
    assert_reply(&reply, 200, &joined(), "meta of 16 KiB");
    assert_eq!(
        app.participants(&acme.api_key, &uuid).await[0]["meta"],
        at_limit
    );
}

// ---------------------------------------------------------------- who a user_id names

#[actix_web::test]
async fn a_user_without_an_external_id_joins_by_its_integer_id_and_no_user_is_made() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let bea = app
        .create_user(
            acme.id,
            json!({ "name": "Bea", "email": "bea@example.com" }),
        )
        .await;
    assert_eq!(bea["external_id"], Value::Null);
    let bea_id = chat_user_id(&bea);
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;

    let reply = app
        .join_room(
            &acme.api_key,
            &uuid,
            &json!({ "user_id": bea_id, "user_name": "Not Bea" }),
        )
        .await;
    assert_reply(&reply, 200, &joined(), "join by integer id");
    assert_eq!(
        app.members(acme.id, &acme.api_key, id).await,
        [member_json(&bea)]
    );
    let participants = app.participants(&acme.api_key, &uuid).await;
    assert_eq!(participants.len(), 1, "{participants:?}");
    assert_eq!(participants[0]["user_id"], bea_id.as_str());
    assert_eq!(participants[0]["user_name"], "Bea");

    let reply = app.leave_room(&acme.api_key, &uuid, &bea_id).await;
    assert_reply(&reply, 200, &left(), "leave by integer id");
    assert!(app.members(acme.id, &acme.api_key, id).await.is_empty());
}

#[actix_web::test]
async fn a_user_with_an_external_id_is_named_by_it_and_not_by_its_integer_id() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let cy = app
        .create_user(acme.id, json!({ "name": "Cy", "external_id": "crm-42" }))
        .await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;

    app.join_ok(&acme.api_key, &uuid, "crm-42").await;
    assert_eq!(
        app.members(acme.id, &acme.api_key, id).await,
        [member_json(&cy)]
    );
    let participants = app.participants(&acme.api_key, &uuid).await;
    assert_eq!(participants[0]["user_id"], "crm-42");
    assert_eq!(participants[0]["user_name"], "Cy");

    // Its integer id is not its name in the ChatAPI: that joins somebody else.
    let integer = cy["id"].as_i64().unwrap_or_default().to_string();
    app.join_ok(&acme.api_key, &uuid, &integer).await;
    let ids = app.member_ids(acme.id, &acme.api_key, id).await;
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_ne!(ids[1], cy["id"].as_i64().unwrap_or_default());
    assert_eq!(
        app.participant_ids(&acme.api_key, &uuid).await,
        ["crm-42", integer.as_str()]
    );
}

// ---------------------------------------------------------------- agents

#[actix_web::test]
async fn an_agent_joins_and_leaves_as_itself() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let dee = app
        .create_user(acme.id, json!({ "name": "Dee", "external_id": "dee-1" }))
        .await;
    let dee_token = str_of(&dee, "access_token").to_owned();
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    let agent_id = chat_user_id(&acme.agent);

    for (token, user_id) in [
        (acme.agent_token.as_str(), agent_id.as_str()),
        (dee_token.as_str(), "dee-1"),
    ] {
        let before = app.get(&room_path(&uuid), &key(token)).await;
        assert_reply(&before, 403, &access_denied(), "before joining");
        let reply = app
            .join_room(token, &uuid, &json!({ "user_id": user_id }))
            .await;
        assert_reply(&reply, 200, &joined(), user_id);
        let after = app.get(&room_path(&uuid), &key(token)).await;
        assert_eq!(after.status, 200, "{user_id}: {}", after.text());
    }
    assert_eq!(
        app.participant_ids(&acme.agent_token, &uuid).await,
        [agent_id.as_str(), "dee-1"]
    );
    for (token, user_id) in [
        (acme.agent_token.as_str(), agent_id.as_str()),
        (dee_token.as_str(), "dee-1"),
    ] {
        let reply = app.leave_room(token, &uuid, user_id).await;
        assert_reply(&reply, 200, &left(), user_id);
    }
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 0);
}

#[actix_web::test]
async fn an_agent_may_not_join_or_leave_as_someone_else_and_nothing_is_made() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let dee = app
        .create_user(acme.id, json!({ "name": "Dee", "external_id": "dee-1" }))
        .await;
    let dee_token = str_of(&dee, "access_token").to_owned();
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;
    let admin_id = chat_user_id(&acme.admin);
    let agent_id = chat_user_id(&acme.agent);
    // Both agents are in the room, so that refusals are not about seeing it.
    app.join_ok(&acme.api_key, &uuid, &agent_id).await;
    app.join_ok(&acme.api_key, &uuid, "dee-1").await;
    let members_before = app.members(acme.id, &acme.api_key, id).await;

    let dee_integer = dee["id"].as_i64().unwrap_or_default().to_string();
    for (token, someone) in [
        (acme.agent_token.as_str(), admin_id.as_str()),
        (acme.agent_token.as_str(), "dee-1"),
        (acme.agent_token.as_str(), "stranger"),
        // An agent with an external id is not named by its integer id.
        (dee_token.as_str(), dee_integer.as_str()),
    ] {
        let reply = app
            .join_room(
                token,
                &uuid,
                &json!({ "user_id": someone, "user_name": "Made By An Agent" }),
            )
            .await;
        assert_reply(&reply, 403, &access_denied(), &format!("join as {someone}"));
        let reply = app.leave_room(token, &uuid, someone).await;
        assert_reply(
            &reply,
            403,
            &access_denied(),
            &format!("leave as {someone}"),
        );
    }
    // Others in the room are not taken out by an agent.
    let reply = app.leave_room(&acme.agent_token, &uuid, "dee-1").await;
    assert_reply(&reply, 403, &access_denied(), "leave as another member");
    assert_eq!(
        app.members(acme.id, &acme.api_key, id).await,
        members_before
    );
    // "stranger" was never made: the API key's join makes it under the name it gives.
    let reply = app
        .join_room(
            &acme.api_key,
            &uuid,
            &json!({ "user_id": "stranger", "user_name": "Real Stranger" }),
        )
        .await;
    assert_reply(&reply, 200, &joined(), "API key joins stranger");
    assert_eq!(
        user_name_in(&app, &acme.api_key, &uuid, "stranger").await,
        "Real Stranger"
    );
}

// ---------------------------------------------------------------- leaving

#[actix_web::test]
async fn leaving_answers_the_seed_message_and_a_second_leave_is_not_in_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    app.join_ok(&acme.api_key, &uuid, "user_123").await;
    app.join_ok(&acme.api_key, &uuid, "user_456").await;

    let reply = app.leave_room(&acme.api_key, &uuid, "user_123").await;
    assert_reply(&reply, 200, &left(), "leave");
    let slash = app
        .json(
            Method::POST,
            &format!("{}/", room_action_path(&uuid, "leave")),
            &key(&acme.admin_token),
            &json!({ "user_id": "user_456" }),
        )
        .await;
    assert_reply(&slash, 200, &left(), "leave/");
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 0);

    for user_id in ["user_123", "user_456", "never-seen"] {
        let reply = app.leave_room(&acme.api_key, &uuid, user_id).await;
        assert_reply(&reply, 404, &not_in_room(), user_id);
    }
    // A known user who was never in the room is not in it either.
    let admin_id = chat_user_id(&acme.admin);
    let reply = app.leave_room(&acme.api_key, &uuid, &admin_id).await;
    assert_reply(&reply, 404, &not_in_room(), "administrator, never joined");
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 0);
}

#[actix_web::test]
async fn a_leave_without_a_user_id_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    app.join_ok(&acme.api_key, &uuid, "user_123").await;
    let path = room_action_path(&uuid, "leave");
    for body in [
        json!({}),
        json!({ "user_id": "" }),
        json!({ "user_id": "  " }),
    ] {
        let reply = app
            .json(Method::POST, &path, &key(&acme.api_key), &body)
            .await;
        assert_validation(&reply, &["user_id"], &body.to_string());
    }
    let reply = app
        .json(
            Method::POST,
            &path,
            &key(&acme.api_key),
            &json!({ "user_id": 123 }),
        )
        .await;
    assert_invalid_request(&reply, "user_id", "user_id 123");
    assert_eq!(
        app.participant_ids(&acme.api_key, &uuid).await,
        ["user_123"]
    );
}

// ---------------------------------------------------------------- listing

#[actix_web::test]
async fn participants_are_listed_in_join_order_with_the_seed_fields() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    let joins = [
        (
            "zed",
            Some("Zed"),
            json!({ "role": "member", "joined_via": "invitation" }),
        ),
        ("amy", None, json!({})),
        ("mike", Some("Mike"), json!({ "n": [1, 2.5, null, true] })),
    ];
    for (user_id, user_name, meta) in &joins {
        let mut body = json!({ "user_id": user_id, "meta": meta });
        if let Some(name) = user_name {
            body["user_name"] = json!(name);
        }
        let reply = app.join_room(&acme.api_key, &uuid, &body).await;
        assert_reply(&reply, 200, &joined(), user_id);
    }
    for path in [
        room_action_path(&uuid, "participants"),
        format!("{}/", room_action_path(&uuid, "participants")),
    ] {
        let reply = app.get(&path, &key(&acme.api_key)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let body = reply.json();
        let data = body["data"].as_array().cloned().unwrap_or_default();
        assert_eq!(data.len(), 3, "{body}");
        let mut previous = 0;
        for (participant, (user_id, user_name, meta)) in data.iter().zip(&joins) {
            assert_eq!(
                keys_of(participant),
                ["joined_at", "meta", "user_id", "user_name"]
            );
            assert_rfc3339_near_now(&participant["joined_at"]);
            let at = rfc3339_nanos(str_of(participant, "joined_at"));
            assert!(
                at > previous,
                "joined_at does not follow join order: {body}"
            );
            previous = at;
            assert_eq!(
                participant,
                &json!({
                    "user_id": user_id,
                    "user_name": user_name.unwrap_or(user_id),
                    "joined_at": participant["joined_at"],
                    "meta": meta,
                })
            );
        }
        assert_eq!(
            body,
            json!({
                "data": data,
                "pagination": { "skip": 0, "limit": 100, "total": 3, "has_more": false },
                "status": "success",
            }),
            "{path}"
        );
    }
    // Leaving and coming back puts one at the end.
    let reply = app.leave_room(&acme.api_key, &uuid, "zed").await;
    assert_reply(&reply, 200, &left(), "zed leaves");
    app.join_ok(&acme.api_key, &uuid, "zed").await;
    assert_eq!(
        app.participant_ids(&acme.api_key, &uuid).await,
        ["amy", "mike", "zed"]
    );
    // The membership's meta is the one given at the new join.
    assert_eq!(
        app.participants(&acme.api_key, &uuid).await[2]["meta"],
        json!({})
    );
}

#[actix_web::test]
async fn participants_are_paged_with_skip_and_limit() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    let all = ["p1", "p2", "p3", "p4", "p5"];
    for user_id in all {
        app.join_ok(&acme.api_key, &uuid, user_id).await;
    }
    for (query, ids, skip, limit, has_more) in [
        ("", &all[..], 0, 100, false),
        ("skip=1&limit=2", &all[1..3], 1, 2, true),
        ("skip=3&limit=2", &all[3..5], 3, 2, false),
        ("skip=4&limit=2", &all[4..5], 4, 2, false),
        ("skip=10", &[][..], 10, 100, false),
        ("limit=1", &all[..1], 0, 1, true),
        ("limit=1000", &all[..], 0, 1000, false),
        ("limit=1001", &all[..], 0, 1000, false),
        ("limit=999999", &all[..], 0, 1000, false),
    ] {
        let reply = participants_page(&app, &acme.api_key, &uuid, query).await;
        assert_eq!(reply.status, 200, "?{query}: {}", reply.text());
        let body = reply.json();
        let got: Vec<&str> = body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| str_of(p, "user_id"))
            .collect();
        assert_eq!(got, ids, "?{query}");
        assert_eq!(
            body["pagination"],
            json!({ "skip": skip, "limit": limit, "total": 5, "has_more": has_more }),
            "?{query}"
        );
    }
}

#[actix_web::test]
async fn an_out_of_range_or_malformed_participants_window_is_refused() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    for (query, fields) in [
        ("limit=0", &["limit"][..]),
        ("limit=-1", &["limit"]),
        ("skip=-1", &["skip"]),
        ("skip=-1&limit=0", &["limit", "skip"]),
    ] {
        let reply = participants_page(&app, &acme.api_key, &uuid, query).await;
        assert_validation(&reply, fields, query);
    }
    for (query, field) in [("limit=abc", "limit"), ("skip=1.5", "skip")] {
        let reply = participants_page(&app, &acme.api_key, &uuid, query).await;
        assert_invalid_request(&reply, field, query);
    }
}

#[actix_web::test]
async fn participant_count_is_exact_after_joins_and_leaves() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "Counted", json!({})).await;
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 0);
    for (n, user_id) in ["a", "b", "c"].into_iter().enumerate() {
        app.join_ok(&acme.api_key, &uuid, user_id).await;
        assert_eq!(
            app.participant_count(&acme.api_key, &uuid).await,
            i64::try_from(n).unwrap_or_default() + 1
        );
    }
    // Refused changes count nothing.
    let again = app
        .join_room(&acme.api_key, &uuid, &json!({ "user_id": "a" }))
        .await;
    assert_eq!(again.status, 409, "{}", again.text());
    let absent = app.leave_room(&acme.api_key, &uuid, "z").await;
    assert_eq!(absent.status, 404, "{}", absent.text());
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 3);

    let reply = app.leave_room(&acme.api_key, &uuid, "b").await;
    assert_reply(&reply, 200, &left(), "b leaves");
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 2);
    // The list says the same as the room.
    let listed = app
        .get(&format!("{ROOMS}?search=Counted"), &key(&acme.api_key))
        .await
        .json();
    assert_eq!(listed["data"][0]["participant_count"], 2, "{listed}");
    let page = participants_page(&app, &acme.api_key, &uuid, "")
        .await
        .json();
    assert_eq!(page["pagination"]["total"], 2);
}

#[actix_web::test]
async fn an_agent_reads_participants_and_online_users_only_of_its_rooms() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    app.join_ok(&acme.api_key, &uuid, "user_123").await;
    for action in ["participants", "online"] {
        let reply = app
            .get(&room_action_path(&uuid, action), &key(&acme.agent_token))
            .await;
        assert_reply(&reply, 403, &access_denied(), action);
    }
    // Administrators need not be participants.
    for action in ["participants", "online"] {
        let reply = app
            .get(&room_action_path(&uuid, action), &key(&acme.admin_token))
            .await;
        assert_eq!(reply.status, 200, "{action}: {}", reply.text());
    }
    let agent_id = chat_user_id(&acme.agent);
    app.join_ok(&acme.api_key, &uuid, &agent_id).await;
    assert_eq!(
        app.participant_ids(&acme.agent_token, &uuid).await,
        ["user_123", agent_id.as_str()]
    );
    let online = app
        .get(&room_action_path(&uuid, "online"), &key(&acme.agent_token))
        .await;
    assert_eq!(online.status, 200, "{}", online.text());
}

#[actix_web::test]
async fn online_lists_no_one_while_no_socket_is_open() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    app.join_ok(&acme.api_key, &uuid, "user_123").await;
    let nobody = json!({ "data": { "online_users": [], "total_online": 0 }, "status": "success" });
    for path in [
        room_action_path(&uuid, "online"),
        format!("{}/", room_action_path(&uuid, "online")),
    ] {
        for credential in [&acme.api_key, &acme.admin_token] {
            let reply = app.get(&path, &key(credential)).await;
            assert_reply(&reply, 200, &nobody, &path);
        }
    }
}

#[actix_web::test]
async fn participant_routes_refuse_missing_unknown_and_platform_credentials() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "General", json!({})).await;
    app.join_ok(&acme.api_key, &uuid, "user_123").await;
    let unknown = format!("ak_{}", "0".repeat(64));
    let credentials: [(&str, Vec<(&str, &str)>); 3] = [
        ("none", vec![]),
        ("unknown", vec![api_key_header(&unknown)]),
        ("platform", vec![platform_auth()]),
    ];
    let join = serde_json::to_vec(&json!({ "user_id": "intruder" })).unwrap_or_default();
    let leave = serde_json::to_vec(&json!({ "user_id": "user_123" })).unwrap_or_default();
    for (kind, headers) in &credentials {
        for (method, action, body) in [
            (Method::POST, "join", Some(join.clone())),
            (Method::POST, "leave", Some(leave.clone())),
            (Method::GET, "participants", None),
            (Method::GET, "online", None),
        ] {
            let reply = app
                .send(method, &room_action_path(&uuid, action), headers, body)
                .await;
            assert_chatapi_error(&reply, 401, "UNAUTHORIZED", &format!("{kind}: {action}"));
        }
    }
    assert_eq!(
        app.participant_ids(&acme.api_key, &uuid).await,
        ["user_123"]
    );
}

// ---------------------------------------------------------------- concurrency

#[actix_web::test]
async fn concurrent_joins_never_take_a_room_past_max_participants() {
    let app = TestApp::spawn_with(|settings| {
        settings.workers = 4;
        settings.db_pool_size = 10;
    })
    .await;
    let acme = app.tenant("Acme").await;
    let uuid = new_room(&app, &acme, "Ten seats", json!({ "max_participants": 10 })).await;
    let url = app.url(&room_action_path(&uuid, "join"));
    let handles: Vec<_> = (0..20)
        .map(|n| {
            let client = app.client.clone();
            let url = url.clone();
            let api_key = acme.api_key.clone();
            actix_web::rt::spawn(async move {
                let mut response = client
                    .post(url)
                    .insert_header(("x-api-key", api_key))
                    .send_json(&json!({ "user_id": format!("racer-{n:02}") }))
                    .await
                    .unwrap_or_else(|e| panic!("join {n} is answered: {e}"));
                let body = response
                    .body()
                    .await
                    .unwrap_or_else(|e| panic!("join {n} has a body: {e}"));
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                (n, response.status().as_u16(), body)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut full = 0;
    for handle in handles {
        let (n, status, body) = handle
            .await
            .unwrap_or_else(|e| panic!("a join task ends: {e}"));
        match status {
            200 => {
                assert_eq!(body, joined(), "join {n}");
                winners.push(format!("racer-{n:02}"));
            }
            409 => {
                assert_eq!(body["error"]["code"], "ROOM_FULL", "join {n}: {body}");
                full += 1;
            }
            other => panic!("join {n} answered {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 10, "200s: {winners:?}");
    assert_eq!(full, 10);
    let page = participants_page(&app, &acme.api_key, &uuid, "")
        .await
        .json();
    assert_eq!(page["pagination"]["total"], 10, "{page}");
    let mut seated: Vec<String> = page["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| str_of(p, "user_id").to_owned())
        .collect();
    seated.sort();
    winners.sort();
    assert_eq!(seated, winners);
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 10);
}
