//! Account-dialect chat rooms (`/api/v1/accounts/{account_id}/chat_rooms`): seed 002.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

const CHAT_ROOM_KEYS: [&str; 14] = [
    "account_id",
    "avatar_url",
    "created_at",
    "description",
    "id",
    "is_member",
    "last_message_at",
    "member_count",
    "members",
    "name",
    "unread_count",
    "unread_mentions",
    "updated_at",
    "uuid",
];

fn token(credential: &str) -> [(&str, &str); 1] {
    [("api_access_token", credential)]
}

async fn post_chat_room(app: &TestApp, account: i64, credential: &str, body: &Value) -> Reply {
    app.json(
        Method::POST,
        &chat_rooms_path(account),
        &token(credential),
        body,
    )
    .await
}

async fn post_multipart(
    app: &TestApp,
    method: Method,
    path: &str,
    credential: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> Reply {
    let (content_type, body) = multipart_body(fields, files);
    app.send_as(method, path, &token(credential), &content_type, body)
        .await
}

async fn get_chat_room(
    app: &TestApp,
    account: i64,
    credential: &str,
    id: impl std::fmt::Display,
) -> Reply {
    app.get(&chat_room_path(account, id), &token(credential))
        .await
}

async fn put_chat_room(
    app: &TestApp,
    account: i64,
    credential: &str,
    id: impl std::fmt::Display,
    body: &Value,
) -> Reply {
    app.json(
        Method::PUT,
        &chat_room_path(account, id),
        &token(credential),
        body,
    )
    .await
}

async fn delete_chat_room(
    app: &TestApp,
    account: i64,
    credential: &str,
    id: impl std::fmt::Display,
) -> Reply {
    app.send(
        Method::DELETE,
        &chat_room_path(account, id),
        &token(credential),
        None,
    )
    .await
}

/// `GET …/chat_rooms?{query}`, expecting 200.
async fn list(app: &TestApp, account: i64, credential: &str, query: &str) -> Reply {
    let reply = app
        .get(
            &format!("{}?{query}", chat_rooms_path(account)),
            &token(credential),
        )
        .await;
    assert_eq!(reply.status, 200, "?{query}: {}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply
}

fn names(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("not an array: {body}"))
        .iter()
        .map(|room| str_of(room, "name").to_owned())
        .collect()
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

async fn count_rooms(app: &TestApp, tenant: &Tenant) -> String {
    let reply = list(app, tenant.id, &tenant.api_key, "").await;
    reply.header("x-total-count").unwrap_or("?").to_owned()
}

fn not_found() -> Value {
    json!({ "error": "Resource could not be found" })
}

fn only_administrators() -> Value {
    json!({ "error": "Only administrators can do this action" })
}

fn not_a_member() -> Value {
    json!({ "error": "You are not a member of this chat room" })
}

/// A member as a room shows it.
fn member(user: &Value) -> Value {
    json!({
        "id": user["id"],
        "name": user["name"],
        "email": user["email"],
        "thumbnail": null,
        "availability_status": "offline",
    })
}

/// Asserts `room` is a fresh room as `viewer` sees it right after its creation.
fn assert_fresh_room(
    room: &Value,
    tenant: &Tenant,
    name: &str,
    description: Value,
    is_member: bool,
    members: Value,
) {
    assert_eq!(keys_of(room), CHAT_ROOM_KEYS, "{room}");
    assert!(room["id"].as_i64().is_some_and(|id| id > 0), "{room}");
    assert_uuid(str_of(room, "uuid"));
    let created = assert_unix_near_now(&room["created_at"]);
    let count = members.as_array().map_or(0, Vec::len);
    assert_eq!(
        room,
        &json!({
            "id": room["id"],
            "uuid": room["uuid"],
            "name": name,
            "description": description,
            "account_id": tenant.id,
            "avatar_url": null,
            "is_member": is_member,
            "member_count": count,
            "last_message_at": created,
            "unread_count": 0,
            "unread_mentions": 0,
            "members": members,
            "created_at": created,
            "updated_at": created,
        })
    );
}

// ---------------------------------------------------------------- creating

#[actix_web::test]
async fn an_administrator_creates_a_chat_room_and_becomes_its_member() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let grace = app
        .create_user(
            acme.id,
            json!({ "name": "Grace", "email": "grace@example.com", "role": "administrator" }),
        )
        .await;
    for (admin, token_of) in [
        (&acme.admin, acme.admin_token.as_str()),
        (&grace, str_of(&grace, "access_token")),
    ] {
        let reply = post_chat_room(
            &app,
            acme.id,
            token_of,
            &json!({ "chat_room": {
                "name": "Marketing Team",
                "description": "Room to coordinate marketing campaigns",
            } }),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let room = reply.json();
        assert_fresh_room(
            &room,
            &acme,
            "Marketing Team",
            json!("Room to coordinate marketing campaigns"),
            true,
            json!([member(admin)]),
        );
        let read = get_chat_room(&app, acme.id, token_of, &room["id"]).await;
        assert_eq!(read.status, 200, "{}", read.text());
        assert_eq!(read.json(), room);
    }
    assert_eq!(grace["email"], "grace@example.com");
}

#[actix_web::test]
async fn a_chat_room_name_is_trimmed_and_its_description_is_optional() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = post_chat_room(
        &app,
        acme.id,
        &acme.admin_token,
        &json!({ "chat_room": { "name": "  Ops  " } }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let room = reply.json();
    assert_eq!(room["name"], "Ops");
    assert_eq!(room["description"], Value::Null);
}

#[actix_web::test]
async fn a_chat_room_is_created_from_a_multipart_form() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = post_multipart(
        &app,
        Method::POST,
        &chat_rooms_path(acme.id),
        &acme.admin_token,
        &[
            ("chat_room[name]", "Marketing Team"),
            ("chat_room[description]", "Room to coordinate campaigns"),
        ],
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_fresh_room(
        &reply.json(),
        &acme,
        "Marketing Team",
        json!("Room to coordinate campaigns"),
        true,
        json!([member(&acme.admin)]),
    );
    // Without a description.
    let reply = post_multipart(
        &app,
        Method::POST,
        &chat_rooms_path(acme.id),
        &acme.admin_token,
        &[("chat_room[name]", "Bare")],
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["description"], Value::Null);
}

#[actix_web::test]
async fn an_avatar_that_is_not_an_image_is_refused_and_nothing_is_created() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = post_multipart(
        &app,
        Method::POST,
        &chat_rooms_path(acme.id),
        &acme.admin_token,
        &[("chat_room[name]", "With avatar")],
        &[(
            "chat_room[avatar]",
            "avatar.png",
            b"plain text, named like a PNG",
        )],
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    let body = reply.json();
    assert_eq!(keys_of(&body), ["attributes", "message"], "{body}");
    assert_eq!(body["attributes"], json!(["avatar"]));
    assert!(str_of(&body, "message").starts_with("Avatar "), "{body}");
    assert_eq!(count_rooms(&app, &acme).await, "0");
}

#[actix_web::test]
async fn a_body_without_chat_room_is_refused() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let expected = json!({ "message": "Chat room can't be blank", "attributes": ["chat_room"] });
    for body in [
        json!({}),
        json!({ "name": "Flat" }),
        json!({ "chat_room": null }),
    ] {
        let reply = post_chat_room(&app, acme.id, &acme.admin_token, &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.json(), expected, "{body}");
    }
    let reply = post_multipart(
        &app,
        Method::POST,
        &chat_rooms_path(acme.id),
        &acme.admin_token,
        &[("name", "Flat")],
        &[],
    )
    .await;
    assert_eq!(reply.status, 422, "multipart: {}", reply.text());
    assert_eq!(reply.json(), expected, "multipart");
    assert_eq!(count_rooms(&app, &acme).await, "0");
}

#[actix_web::test]
async fn a_blank_chat_room_name_is_refused() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let expected = json!({ "message": "Name can't be blank", "attributes": ["name"] });
    for body in [
        json!({ "chat_room": {} }),
        json!({ "chat_room": { "name": "" } }),
        json!({ "chat_room": { "name": "   " } }),
        json!({ "chat_room": { "name": null, "description": "d" } }),
    ] {
        let reply = post_chat_room(&app, acme.id, &acme.admin_token, &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.json(), expected, "{body}");
    }
    let reply = post_multipart(
        &app,
        Method::POST,
        &chat_rooms_path(acme.id),
        &acme.admin_token,
        &[("chat_room[name]", " "), ("chat_room[description]", "d")],
        &[],
    )
    .await;
    assert_eq!(reply.status, 422, "multipart: {}", reply.text());
    assert_eq!(reply.json(), expected, "multipart");
    assert_eq!(count_rooms(&app, &acme).await, "0");
}

#[actix_web::test]
async fn every_bad_chat_room_field_is_listed() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = post_chat_room(
        &app,
        acme.id,
        &acme.admin_token,
        &json!({ "chat_room": { "name": "n".repeat(256), "description": "d".repeat(10_001) } }),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["attributes"], json!(["name", "description"]), "{body}");
    assert_eq!(
        body["message"],
        "Name is too long (maximum is 255 characters), \
         Description is too long (maximum is 10000 characters)"
    );
    assert_eq!(count_rooms(&app, &acme).await, "0");
}

#[actix_web::test]
async fn the_api_key_creates_a_chat_room_without_members() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = post_chat_room(
        &app,
        acme.id,
        &acme.api_key,
        &json!({ "chat_room": { "name": "Integration" } }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_fresh_room(
        &reply.json(),
        &acme,
        "Integration",
        Value::Null,
        false,
        json!([]),
    );
}

#[actix_web::test]
async fn an_agent_may_not_create_a_chat_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = post_chat_room(
        &app,
        acme.id,
        &acme.agent_token,
        &json!({ "chat_room": { "name": "Agents" } }),
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(reply.json(), only_administrators());
    assert_eq!(count_rooms(&app, &acme).await, "0");
}

#[actix_web::test]
async fn an_agent_is_refused_before_its_chat_room_body_is_validated() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Kept", None)
        .await;
    let blank = json!({ "chat_room": { "name": "" } });
    let create = post_chat_room(&app, acme.id, &acme.agent_token, &blank).await;
    assert_eq!(create.status, 403, "create: {}", create.text());
    assert_eq!(create.json(), only_administrators(), "create");
    let update = put_chat_room(&app, acme.id, &acme.agent_token, &room["id"], &blank).await;
    assert_eq!(update.status, 403, "update: {}", update.text());
    assert_eq!(update.json(), only_administrators(), "update");
}

// ---------------------------------------------------------------- reading

#[actix_web::test]
async fn an_administrator_reads_a_chat_room_it_does_not_belong_to() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let other_admin = app
        .create_user(
            acme.id,
            json!({ "name": "Olga", "email": "olga@example.com", "role": "administrator" }),
        )
        .await;
    let keyed = app
        .create_chat_room(acme.id, &acme.api_key, "Keyed", Some("by key"))
        .await;
    let olgas = app
        .create_chat_room(
            acme.id,
            str_of(&other_admin, "access_token"),
            "Olga's",
            None,
        )
        .await;
    let reply = get_chat_room(&app, acme.id, &acme.admin_token, &keyed["id"]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mut expected = keyed.clone();
    expected["is_member"] = json!(false);
    assert_eq!(reply.json(), expected);

    let reply = get_chat_room(&app, acme.id, &acme.admin_token, &olgas["id"]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let room = reply.json();
    assert_eq!(room["is_member"], false);
    assert_eq!(room["member_count"], 1);
    assert_eq!(room["members"], json!([member(&other_admin)]));
    // Olga sees herself as a member; the API key is nobody.
    assert_eq!(olgas["is_member"], true);
    let by_key = get_chat_room(&app, acme.id, &acme.api_key, &olgas["id"]).await;
    assert_eq!(by_key.json()["is_member"], false);
}

#[actix_web::test]
async fn an_agent_may_not_read_a_chat_room_it_does_not_belong_to() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Private", None)
        .await;
    let reply = get_chat_room(&app, acme.id, &acme.agent_token, &room["id"]).await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(reply.json(), not_a_member());
}

#[actix_web::test]
async fn an_unknown_or_malformed_chat_room_id_is_not_found() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Existing", None)
        .await;
    let body = json!({ "chat_room": { "name": "x" } });
    for id in ["999999", "abc", "1.5"] {
        for reply in [
            get_chat_room(&app, acme.id, &acme.admin_token, id).await,
            put_chat_room(&app, acme.id, &acme.admin_token, id, &body).await,
            delete_chat_room(&app, acme.id, &acme.admin_token, id).await,
        ] {
            assert_eq!(reply.status, 404, "{id}: {}", reply.text());
            assert_eq!(reply.json(), not_found(), "{id}");
        }
    }
    let still = get_chat_room(&app, acme.id, &acme.admin_token, &room["id"]).await;
    assert_eq!(still.json(), room);
}

// ---------------------------------------------------------------- updating

#[actix_web::test]
async fn updating_only_the_name_keeps_the_description() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Development Team", Some("Devs"))
        .await;
    let reply = put_chat_room(
        &app,
        acme.id,
        &acme.admin_token,
        &room["id"],
        &json!({ "chat_room": { "name": "Development Team - Updated" } }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let updated = reply.json();
    assert_eq!(keys_of(&updated), CHAT_ROOM_KEYS);
    let updated_at = updated["updated_at"].as_i64().unwrap_or_default();
    assert!(
        updated_at >= room["updated_at"].as_i64().unwrap_or(i64::MAX),
        "{updated}"
    );
    let mut expected = room.clone();
    expected["name"] = json!("Development Team - Updated");
    expected["updated_at"] = json!(updated_at);
    assert_eq!(updated, expected);
    let read = get_chat_room(&app, acme.id, &acme.admin_token, &room["id"]).await;
    assert_eq!(read.json(), updated);
}

#[actix_web::test]
async fn a_null_description_clears_it_and_a_multipart_update_changes_the_fields_given() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Room", Some("Gone soon"))
        .await;
    let reply = put_chat_room(
        &app,
        acme.id,
        &acme.api_key,
        &room["id"],
        &json!({ "chat_room": { "description": null } }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let cleared = reply.json();
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["name"], "Room");
    // The API key is nobody: it sees the room, not as a member.
    assert_eq!(cleared["is_member"], false);
    assert_eq!(cleared["member_count"], 1);

    let reply = post_multipart(
        &app,
        Method::PUT,
        &chat_room_path(acme.id, &room["id"]),
        &acme.admin_token,
        &[("chat_room[description]", "Back")],
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let back = reply.json();
    assert_eq!(back["description"], "Back");
    assert_eq!(back["name"], "Room");
    assert_eq!(back["is_member"], true);
}

#[actix_web::test]
async fn an_invalid_chat_room_update_changes_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Room", Some("D"))
        .await;
    for (body, expected) in [
        (
            json!({ "chat_room": { "name": " " } }),
            json!({ "message": "Name can't be blank", "attributes": ["name"] }),
        ),
        (
            json!({ "chat_room": { "name": null } }),
            json!({ "message": "Name can't be blank", "attributes": ["name"] }),
        ),
        (
            json!({ "name": "Flat" }),
            json!({ "message": "Chat room can't be blank", "attributes": ["chat_room"] }),
        ),
    ] {
        let reply = put_chat_room(&app, acme.id, &acme.admin_token, &room["id"], &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.json(), expected, "{body}");
    }
    let read = get_chat_room(&app, acme.id, &acme.admin_token, &room["id"]).await;
    assert_eq!(read.json(), room);
}

#[actix_web::test]
async fn an_agent_may_not_update_or_delete_a_chat_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Guarded", None)
        .await;
    for reply in [
        put_chat_room(
            &app,
            acme.id,
            &acme.agent_token,
            &room["id"],
            &json!({ "chat_room": { "name": "Mine" } }),
        )
        .await,
        delete_chat_room(&app, acme.id, &acme.agent_token, &room["id"]).await,
    ] {
        assert_eq!(reply.status, 403, "{}", reply.text());
        assert_eq!(reply.json(), only_administrators());
    }
    let read = get_chat_room(&app, acme.id, &acme.admin_token, &room["id"]).await;
    assert_eq!(read.json(), room);
}

// ---------------------------------------------------------------- deleting

#[actix_web::test]
async fn deleting_a_chat_room_answers_200_with_an_empty_body() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let first = app
        .create_chat_room(acme.id, &acme.admin_token, "First", None)
        .await;
    let second = app
        .create_chat_room(acme.id, &acme.admin_token, "Second", None)
        .await;
    for (room, credential) in [(&first, &acme.admin_token), (&second, &acme.api_key)] {
        let reply = delete_chat_room(&app, acme.id, credential, &room["id"]).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert!(reply.body.is_empty(), "{:?}", reply.text());
        let read = get_chat_room(&app, acme.id, &acme.admin_token, &room["id"]).await;
        assert_eq!(read.status, 404, "{}", read.text());
        assert_eq!(read.json(), not_found());
        let again = delete_chat_room(&app, acme.id, credential, &room["id"]).await;
        assert_eq!(again.status, 404, "{}", again.text());
        assert_eq!(again.json(), not_found());
    }
    assert_eq!(count_rooms(&app, &acme).await, "0");
}

// ---------------------------------------------------------------- listing

#[actix_web::test]
async fn an_administrator_lists_every_chat_room_of_the_account() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let keyed = app
        .create_chat_room(acme.id, &acme.api_key, "Keyed", None)
        .await;
    let own = app
        .create_chat_room(acme.id, &acme.admin_token, "Own", Some("mine"))
        .await;
    let reply = list(&app, acme.id, &acme.admin_token, "").await;
    assert_eq!(
        page_headers(&reply),
        [Some("2"), Some("1"), Some("50"), Some("1")]
    );
    let mut keyed_seen = keyed.clone();
    keyed_seen["is_member"] = json!(false);
    // Newest first.
    assert_eq!(reply.json(), json!([own, keyed_seen]));

    let by_key = list(&app, acme.id, &acme.api_key, "").await.json();
    let flags: Vec<&Value> = by_key
        .as_array()
        .map(|rooms| rooms.iter().map(|r| &r["is_member"]).collect())
        .unwrap_or_default();
    assert_eq!(flags, [&json!(false), &json!(false)]);
    assert_eq!(names(&by_key), ["Own", "Keyed"]);
}

#[actix_web::test]
async fn an_agent_lists_no_chat_room_it_does_not_belong_to() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    app.create_chat_room(acme.id, &acme.api_key, "Keyed", None)
        .await;
    app.create_chat_room(acme.id, &acme.admin_token, "Admin's", None)
        .await;
    let reply = list(&app, acme.id, &acme.agent_token, "").await;
    assert_eq!(reply.json(), json!([]));
    assert_eq!(
        page_headers(&reply),
        [Some("0"), Some("1"), Some("50"), Some("1")]
    );
}

#[actix_web::test]
async fn chat_rooms_are_paged_with_page_headers() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for i in 1..=5 {
        app.create_chat_room(acme.id, &acme.admin_token, &format!("room {i}"), None)
            .await;
    }
    for (page, expected) in [
        ("1", vec!["room 5", "room 4"]),
        ("2", vec!["room 3", "room 2"]),
        ("3", vec!["room 1"]),
        ("4", vec![]),
    ] {
        let reply = list(
            &app,
            acme.id,
            &acme.admin_token,
            &format!("page={page}&per_page=2"),
        )
        .await;
        assert_eq!(names(&reply.json()), expected, "page {page}");
        assert_eq!(
            page_headers(&reply),
            [Some("5"), Some(page), Some("2"), Some("3")],
            "page {page}"
        );
    }
    let first = list(&app, acme.id, &acme.admin_token, "per_page=2").await;
    assert_eq!(names(&first.json()), ["room 5", "room 4"]);
    assert_eq!(
        page_headers(&first),
        [Some("5"), Some("1"), Some("2"), Some("3")]
    );
}

#[actix_web::test]
async fn per_page_over_100_is_clamped_to_100() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    app.create_chat_room(acme.id, &acme.admin_token, "One", None)
        .await;
    for per_page in ["101", "500"] {
        let reply = list(
            &app,
            acme.id,
            &acme.admin_token,
            &format!("per_page={per_page}"),
        )
        .await;
        assert_eq!(
            page_headers(&reply),
            [Some("1"), Some("1"), Some("100"), Some("1")],
            "per_page={per_page}"
        );
        assert_eq!(names(&reply.json()), ["One"]);
    }
}

#[actix_web::test]
async fn an_out_of_range_or_malformed_page_is_refused() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for (query, attribute) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("per_page=0", "per_page"),
        ("page=abc", "page"),
        ("per_page=x", "per_page"),
    ] {
        let reply = app
            .get(
                &format!("{}?{query}", chat_rooms_path(acme.id)),
                &token(&acme.admin_token),
            )
            .await;
        assert_eq!(reply.status, 422, "{query}: {}", reply.text());
        let body = reply.json();
        assert_eq!(keys_of(&body), ["attributes", "message"], "{query}: {body}");
        assert_eq!(body["attributes"], json!([attribute]), "{query}");
    }
}

#[actix_web::test]
async fn chat_rooms_are_listed_newest_first_without_messages() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for name in ["bravo", "alpha", "charlie"] {
        app.create_chat_room(acme.id, &acme.admin_token, name, None)
            .await;
    }
    let body = list(&app, acme.id, &acme.admin_token, "").await.json();
    assert_eq!(names(&body), ["charlie", "alpha", "bravo"]);
    for room in body.as_array().into_iter().flatten() {
        assert_eq!(room["last_message_at"], room["created_at"], "{room}");
        assert_eq!(keys_of(room), CHAT_ROOM_KEYS);
    }
    // Renaming is no activity: the order stays.
    let alpha = &body[1];
    let renamed = put_chat_room(
        &app,
        acme.id,
        &acme.admin_token,
        &alpha["id"],
        &json!({ "chat_room": { "name": "alpha 2" } }),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let body = list(&app, acme.id, &acme.admin_token, "").await.json();
    assert_eq!(names(&body), ["charlie", "alpha 2", "bravo"]);
}

// ---------------------------------------------------------------- credentials, accounts, feature

/// Every chat-room route of `account` on room `room`: `(what, method, path, body)`.
fn routes(
    account: impl std::fmt::Display + Copy,
    room: &Value,
) -> Vec<(String, Method, String, Option<Vec<u8>>)> {
    let body =
        serde_json::to_vec(&json!({ "chat_room": { "name": "Hijacked" } })).unwrap_or_default();
    let collection = chat_rooms_path(account);
    let one = chat_room_path(account, room);
    vec![
        ("list".into(), Method::GET, collection.clone(), None),
        (
            "create".into(),
            Method::POST,
            collection,
            Some(body.clone()),
        ),
        ("read".into(), Method::GET, one.clone(), None),
        ("update".into(), Method::PUT, one.clone(), Some(body)),
        ("delete".into(), Method::DELETE, one, None),
    ]
}

#[actix_web::test]
async fn a_missing_or_unknown_credential_is_an_invalid_access_token() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Locked", None)
        .await;
    let unknown = format!("ut_{}", "0".repeat(64));
    let credentials: [(&str, Vec<(&str, &str)>); 4] = [
        ("none", vec![]),
        ("unknown", vec![("api_access_token", unknown.as_str())]),
        ("platform", vec![platform_auth()]),
        (
            "platform as api_access_token",
            vec![("api_access_token", PLATFORM_TOKEN)],
        ),
    ];
    for (kind, headers) in &credentials {
        for (what, method, path, body) in routes(acme.id, &room["id"]) {
            let reply = app.send(method, &path, headers, body).await;
            let text = assert_account_error(&reply, 401, &format!("{kind}: {what}"));
            assert_eq!(text, "Invalid Access Token", "{kind}: {what}");
        }
    }
    // Also for an account that does not exist: the credential is checked first.
    let reply = app.get(&chat_rooms_path(999_999), &[]).await;
    assert_eq!(
        assert_account_error(&reply, 401, "no credential, no account"),
        "Invalid Access Token"
    );
    assert_eq!(count_rooms(&app, &acme).await, "1");
}

#[actix_web::test]
async fn a_credential_of_another_account_is_not_authorized_for_this_account() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Acme room", None)
        .await;
    for credential in [&globex.api_key, &globex.admin_token, &globex.agent_token] {
        for (what, method, path, body) in routes(acme.id, &room["id"]) {
            let reply = app.send(method, &path, &token(credential), body).await;
            let text = assert_account_error(&reply, 401, &what);
            assert_eq!(
                text, "You are not authorized to access this account",
                "{what}"
            );
        }
    }
    let read = get_chat_room(&app, acme.id, &acme.admin_token, &room["id"]).await;
    assert_eq!(read.json(), room);
    assert_eq!(count_rooms(&app, &acme).await, "1");
}

#[actix_web::test]
async fn an_unknown_or_malformed_account_is_not_found() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Room", None)
        .await;
    for account in ["999999", "abc"] {
        for (what, method, path, body) in routes(account, &room["id"]) {
            let reply = app
                .send(method, &path, &token(&acme.admin_token), body)
                .await;
            assert_eq!(reply.status, 404, "{account} {what}: {}", reply.text());
            assert_eq!(reply.json(), not_found(), "{account} {what}");
        }
    }
    assert_eq!(count_rooms(&app, &acme).await, "1");
}

#[actix_web::test]
async fn with_chat_rooms_off_every_chat_room_route_is_forbidden_but_chatapi_rooms_work() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Before", None)
        .await;
    app.set_chat_rooms_feature(acme.id, false).await;
    for credential in [&acme.api_key, &acme.admin_token, &acme.agent_token] {
        for (what, method, path, body) in routes(acme.id, &room["id"]) {
            let reply = app.send(method, &path, &token(credential), body).await;
            let text = assert_account_error(&reply, 403, &what);
            assert_eq!(
                text, "Feature chat_rooms is not enabled for this account",
                "{what}"
            );
        }
    }
    // The ChatAPI dialect is not behind the feature.
    let listed = app.get(ROOMS, &[api_key_header(&acme.api_key)]).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json()["pagination"]["total"], 1);
    let made = app
        .create_room(&acme.api_key, json!({ "name": "Via ChatAPI" }))
        .await;
    assert_eq!(made["name"], "Via ChatAPI");

    // Back on: everything is there, including what was made meanwhile.
    app.set_chat_rooms_feature(acme.id, true).await;
    let reply = list(&app, acme.id, &acme.admin_token, "").await;
    assert_eq!(names(&reply.json()), ["Via ChatAPI", "Before"]);
    let read = get_chat_room(&app, acme.id, &acme.admin_token, &room["id"]).await;
    assert_eq!(read.json(), room);
    let created = post_chat_room(
        &app,
        acme.id,
        &acme.admin_token,
        &json!({ "chat_room": { "name": "After" } }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text());
}

#[actix_web::test]
async fn turning_chat_rooms_off_in_one_account_leaves_the_others_alone() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    app.set_chat_rooms_feature(acme.id, false).await;
    let reply = list(&app, globex.id, &globex.admin_token, "").await;
    assert_eq!(reply.json(), json!([]));
    let created = post_chat_room(
        &app,
        globex.id,
        &globex.admin_token,
        &json!({ "chat_room": { "name": "Globex" } }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text());
}
