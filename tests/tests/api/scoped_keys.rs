//! Scoped keys (CONTRACT §7): `POST /api/v1/users/login` gives an end user a key of its
//! own, acting as that user (an agent) narrowed to its permissions, in both dialects;
//! rotation on login, logout, expiry.

use std::time::Duration;

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

const DEFAULT_PERMISSIONS: [&str; 3] = ["read_messages", "send_messages", "join_rooms"];

fn login_data(reply: &Reply, context: &str) -> Value {
    assert_eq!(reply.status, 200, "{context}: {}", reply.text());
    let body = reply.json();
    assert_eq!(body["status"], "success", "{context}: {body}");
    body["data"].clone()
}

/// A room made by the API key, with `members` joined; answers its UUID.
async fn room_with(app: &TestApp, api_key: &str, name: &str, members: &[&str]) -> String {
    let room = app.create_room(api_key, json!({ "name": name })).await;
    let uuid = str_of(&room, "id").to_owned();
    for member in members {
        app.join_ok(api_key, &uuid, member).await;
    }
    uuid
}

/// The PERMISSION_DENIED of a ChatAPI reply, naming `permission`.
fn assert_permission_denied(reply: &Reply, permission: &str, context: &str) {
    let error = assert_chatapi_error(reply, 403, "PERMISSION_DENIED", context);
    assert_eq!(
        error["details"]["required_permission"], permission,
        "{context}: {error}"
    );
}

/// Asserts `value` is an RFC 3339 time about `seconds` from now.
fn assert_seconds_ahead(value: &Value, seconds: i64) {
    let at = parse_rfc3339_utc(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not an RFC 3339 string: {value}")),
    );
    let ahead = at - unix_now();
    assert!(
        (ahead - seconds).abs() <= 60,
        "{value} is {ahead} s ahead, not about {seconds}"
    );
}

fn token(credential: &str) -> [(&str, &str); 1] {
    [("api_access_token", credential)]
}

#[actix_web::test]
async fn a_login_issues_a_key_shown_once_with_the_default_permissions() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let before = app.count_rows("credentials");
    let reply = app
        .login(
            &acme.api_key,
            &json!({ "user_id": "ann", "user_name": "Ann" }),
        )
        .await;
    let data = login_data(&reply, "login");
    assert_eq!(
        keys_of(&data),
        ["expires_at", "permissions", "scoped_api_key", "user"]
    );
    let key = str_of(&data, "scoped_api_key");
    assert_secret(key, "sk_");
    assert_eq!(data["permissions"], json!(DEFAULT_PERMISSIONS));
    assert_seconds_ahead(&data["expires_at"], 7 * 24 * 3600);
    assert_eq!(data["user"]["user_id"], "ann");
    assert_eq!(data["user"]["user_name"], "Ann");
    assert_eq!(data["user"]["is_active"], true);
    // One row more: the key's hash, its permissions (a bit set) and its expiry.
    assert_eq!(app.count_rows("credentials"), before + 1);
    assert_eq!(
        app.sql(
            "SELECT permissions, expires_at > now() FROM credentials WHERE kind = 'scoped_key'"
        ),
        "7|t"
    );

    // A second login of a known user keeps its name.
    let again = app
        .login(
            &acme.api_key,
            &json!({ "user_id": "ann", "user_name": "Someone Else" }),
        )
        .await;
    assert_eq!(login_data(&again, "again")["user"]["user_name"], "Ann");
}

#[actix_web::test]
async fn ttl_secs_and_permissions_shape_the_key_and_bad_values_are_422() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = app
        .login(
            &acme.api_key,
            &json!({
                "user_id": "ann",
                "ttl_secs": 3600,
                "permissions": ["manage_rooms", "read_messages"],
            }),
        )
        .await;
    let data = login_data(&reply, "login");
    assert_seconds_ahead(&data["expires_at"], 3600);
    assert_eq!(
        data["permissions"],
        json!(["read_messages", "manage_rooms"])
    );

    let longest = app
        .login(
            &acme.api_key,
            &json!({ "user_id": "ann", "ttl_secs": 7_776_000 }),
        )
        .await;
    assert_seconds_ahead(&login_data(&longest, "90 days")["expires_at"], 7_776_000);

    for (body, fields) in [
        (json!({ "user_id": "ann", "ttl_secs": 0 }), vec!["ttl_secs"]),
        (
            json!({ "user_id": "ann", "ttl_secs": 7_776_001 }),
            vec!["ttl_secs"],
        ),
        (
            json!({ "user_id": "ann", "permissions": ["fly"] }),
            vec!["permissions"],
        ),
        (
            json!({ "user_id": "ann", "permissions": [] }),
            vec!["permissions"],
        ),
        (
            json!({ "ttl_secs": -5, "permissions": ["read_messages", "admin"] }),
            vec!["user_id", "ttl_secs", "permissions"],
        ),
    ] {
        let reply = app.login(&acme.api_key, &body).await;
        let error = assert_chatapi_error(&reply, 422, "VALIDATION_ERROR", &body.to_string());
        for field in fields {
            assert!(error["details"][field].is_string(), "{body}: {error}");
        }
    }
    for body in [
        json!({ "user_id": "ann", "ttl_secs": "long" }),
        json!({ "user_id": "ann", "permissions": "read_messages" }),
        json!({ "user_id": "ann", "keep_other_sessions": "yes" }),
    ] {
        let reply = app.login(&acme.api_key, &body).await;
        assert_chatapi_error(&reply, 400, "INVALID_REQUEST", &body.to_string());
    }
}

#[actix_web::test]
async fn a_login_revokes_the_users_earlier_keys_unless_it_keeps_other_sessions() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let first = login_data(
        &app.login(&acme.api_key, &json!({ "user_id": "ann" })).await,
        "first",
    );
    let first = str_of(&first, "scoped_api_key").to_owned();
    assert_eq!(app.rooms_status(&first).await, 200);
    let second = login_data(
        &app.login(&acme.api_key, &json!({ "user_id": "ann" })).await,
        "second",
    );
    let second = str_of(&second, "scoped_api_key").to_owned();
    let refused = app.get(ROOMS, &[api_key_header(&first)]).await;
    assert_chatapi_error(&refused, 401, "UNAUTHORIZED", "rotated out");
    assert_eq!(app.rooms_status(&second).await, 200);

    // Another device keeps the first session.
    let third = app.scoped_key(&acme.api_key, "ann", None).await;
    assert_eq!(app.rooms_status(&second).await, 200);
    assert_eq!(app.rooms_status(&third).await, 200);
    // Another user's login touches nobody else.
    app.login(&acme.api_key, &json!({ "user_id": "bob" })).await;
    assert_eq!(app.rooms_status(&third).await, 200);
}

#[actix_web::test]
async fn logout_revokes_every_key_of_the_user_at_once() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let phone = app.scoped_key(&acme.api_key, "ann", None).await;
    let laptop = app.scoped_key(&acme.api_key, "ann", None).await;
    let bob = app.scoped_key(&acme.api_key, "bob", None).await;

    let reply = app.logout(&acme.api_key, "ann").await;
    let data = login_data(&reply, "logout");
    assert_eq!(data, json!({ "user_id": "ann", "revoked": 2 }));
    for key in [&phone, &laptop] {
        let refused = app.get(ROOMS, &[api_key_header(key)]).await;
        assert_chatapi_error(&refused, 401, "UNAUTHORIZED", "logged out");
    }
    assert_eq!(app.rooms_status(&bob).await, 200, "another user's key");
    let again = app.logout(&acme.api_key, "ann").await;
    assert_eq!(login_data(&again, "nothing left")["revoked"], 0);
    let unknown = app.logout(&acme.api_key, "nobody").await;
    assert_chatapi_error(&unknown, 404, "USER_NOT_FOUND", "unknown user");
    let blank = app
        .json(
            Method::POST,
            LOGOUT,
            &[api_key_header(&acme.api_key)],
            &json!({}),
        )
        .await;
    let error = assert_chatapi_error(&blank, 422, "VALIDATION_ERROR", "no user_id");
    assert!(error["details"]["user_id"].is_string(), "{error}");
}

#[actix_web::test]
async fn a_key_logs_its_own_user_out_but_not_another() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let ann = app.scoped_key(&acme.api_key, "ann", None).await;
    let ann_too = app.scoped_key(&acme.api_key, "ann", None).await;
    let bob = app.scoped_key(&acme.api_key, "bob", None).await;

    let denied = app.logout(&bob, "ann").await;
    assert_chatapi_error(&denied, 403, "PERMISSION_DENIED", "another user's key");
    assert_eq!(app.rooms_status(&ann).await, 200);

    let reply = app.logout(&ann, "ann").await;
    assert_eq!(login_data(&reply, "own logout")["revoked"], 2);
    for key in [&ann, &ann_too] {
        assert_eq!(app.rooms_status(key).await, 401);
    }
    assert_eq!(app.rooms_status(&bob).await, 200);
}

#[actix_web::test]
async fn an_expired_key_is_401_token_expired_in_both_dialects_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = app
        .login(&acme.api_key, &json!({ "user_id": "ann", "ttl_secs": 1 }))
        .await;
    let key = str_of(&login_data(&reply, "login"), "scoped_api_key").to_owned();
    let rows = app.sql("SELECT token_hash, expires_at FROM credentials ORDER BY token_hash");
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;

    let chatapi = app.get(ROOMS, &[api_key_header(&key)]).await;
    assert_chatapi_error(&chatapi, 401, "TOKEN_EXPIRED", "ChatAPI");
    let account = app.get(&chat_rooms_path(acme.id), &token(&key)).await;
    assert_eq!(
        assert_account_error(&account, 401, "account dialect"),
        "Access token has expired"
    );
    let send = app
        .post_message(
            &key,
            &room_with(&app, &acme.api_key, "Late", &["ann"]).await,
            &json!({ "content": "too late" }),
        )
        .await;
    assert_chatapi_error(&send, 401, "TOKEN_EXPIRED", "send");
    assert_eq!(
        app.sql("SELECT token_hash, expires_at FROM credentials ORDER BY token_hash"),
        rows,
        "refusing an expired key changes no credential"
    );
    // The user can log in again.
    let fresh = app.scoped_key(&acme.api_key, "ann", None).await;
    assert_eq!(app.rooms_status(&fresh).await, 200);
}

#[actix_web::test]
async fn a_key_sees_only_its_users_rooms_in_both_dialects_and_never_administers() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let key = app.scoped_key(&acme.api_key, "ann", None).await;
    let mine = room_with(&app, &acme.api_key, "Mine", &["ann"]).await;
    let other = room_with(&app, &acme.api_key, "Other", &["bob"]).await;

    // ChatAPI.
    let listed = app.get(ROOMS, &[api_key_header(&key)]).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let ids: Vec<Value> = listed.json()["data"]
        .as_array()
        .map(|rooms| rooms.iter().map(|room| room["id"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [json!(mine)]);
    let read = app.get(&room_path(&mine), &[api_key_header(&key)]).await;
    assert_eq!(read.status, 200, "{}", read.text());
    let denied = app.get(&room_path(&other), &[api_key_header(&key)]).await;
    assert_chatapi_error(&denied, 403, "ROOM_ACCESS_DENIED", "not a member");
    let me = app.get("/api/v1/clients/me", &[api_key_header(&key)]).await;
    assert_chatapi_error(&me, 401, "UNAUTHORIZED", "clients/me");

    // The account dialect: the same user, its integer id.
    let listed = app.get(&chat_rooms_path(acme.id), &token(&key)).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let names: Vec<Value> = listed
        .json()
        .as_array()
        .map(|rooms| rooms.iter().map(|room| room["name"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(names, [json!("Mine")]);
    let other_id = app.chat_room_id_of(acme.id, &acme.api_key, &other).await;
    let denied = app
        .get(&chat_room_path(acme.id, other_id), &token(&key))
        .await;
    assert_account_error(&denied, 403, "not a member");
    let create = app
        .json(
            Method::POST,
            &chat_rooms_path(acme.id),
            &token(&key),
            &json!({ "chat_room": { "name": "Mine too" } }),
        )
        .await;
    assert_eq!(
        assert_account_error(&create, 403, "create without manage_rooms"),
        "This access token lacks the manage_rooms permission"
    );
    let agent = app
        .json(
            Method::POST,
            &format!("/api/v1/accounts/{}/agents", acme.id),
            &token(&key),
            &json!({ "name": "Eve", "email": "eve@example.com" }),
        )
        .await;
    assert_account_error(&agent, 403, "create an agent");
    let mine_id = app.chat_room_id_of(acme.id, &acme.api_key, &mine).await;
    let members = app
        .json(
            Method::POST,
            &members_path(acme.id, mine_id),
            &token(&key),
            &json!({ "user_ids": [acme.agent["id"]] }),
        )
        .await;
    assert_eq!(
        assert_account_error(&members, 403, "add members without invite_users"),
        "This access token lacks the invite_users permission"
    );
    let sent = app
        .post_chat_message(
            acme.id,
            mine_id,
            &key,
            &json!({ "chat_room_message": { "content": "hi from the account dialect" } }),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    assert_eq!(sent.json()["message_type"], "outgoing");
}

#[actix_web::test]
async fn each_action_needs_its_permission() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = room_with(&app, &acme.api_key, "Team", &["ann"]).await;

    let no_send = app
        .scoped_key(&acme.api_key, "ann", Some(&["read_messages", "join_rooms"]))
        .await;
    let sent = app
        .post_message(&no_send, &room, &json!({ "content": "hi" }))
        .await;
    assert_permission_denied(&sent, "send_messages", "send");
    assert_eq!(app.message_count(&acme.api_key, &room).await, 0);
    let created = app
        .json(
            Method::POST,
            ROOMS,
            &[api_key_header(&no_send)],
            &json!({ "name": "Mine" }),
        )
        .await;
    assert_permission_denied(&created, "manage_rooms", "create a room");
    let invited = app
        .join_room(&no_send, &room, &json!({ "user_id": "friend" }))
        .await;
    assert_permission_denied(&invited, "invite_users", "join another user");

    let no_read = app
        .scoped_key(&acme.api_key, "ann", Some(&["send_messages", "join_rooms"]))
        .await;
    let messages = app
        .get(&room_messages_path(&room), &[api_key_header(&no_read)])
        .await;
    assert_permission_denied(&messages, "read_messages", "read messages");
    let rooms = app.get(ROOMS, &[api_key_header(&no_read)]).await;
    assert_permission_denied(&rooms, "read_messages", "list rooms");
    let account = app
        .get(
            &chat_messages_path(
                acme.id,
                app.chat_room_id_of(acme.id, &acme.api_key, &room).await,
            ),
            &token(&no_read),
        )
        .await;
    assert_eq!(
        assert_account_error(&account, 403, "account dialect read"),
        "This access token lacks the read_messages permission"
    );

    let no_join = app
        .scoped_key(&acme.api_key, "carl", Some(&["read_messages"]))
        .await;
    let joined = app
        .join_room(&no_join, &room, &json!({ "user_id": "carl" }))
        .await;
    assert_permission_denied(&joined, "join_rooms", "join itself");
}

#[actix_web::test]
async fn with_its_permissions_a_key_acts_as_its_own_user() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let key = app
        .scoped_key(
            &acme.api_key,
            "ann",
            Some(&[
                "read_messages",
                "send_messages",
                "join_rooms",
                "manage_rooms",
                "invite_users",
            ]),
        )
        .await;
    let open = room_with(&app, &acme.api_key, "Open", &[]).await;

    // join_rooms: itself.
    let joined = app
        .join_room(&key, &open, &json!({ "user_id": "ann" }))
        .await;
    assert_eq!(joined.status, 200, "{}", joined.text());
    // send_messages: the sender is the key's user, whatever the body says.
    let sent = app
        .send_message_ok(
            &key,
            &open,
            json!({ "sender_id": "someone-else", "content": "hello" }),
        )
        .await;
    assert_eq!(sent["sender_id"], "ann", "{sent}");
    // read_messages.
    assert_eq!(app.message_count(&key, &open).await, 1);
    // invite_users: others (known users: only the API key makes users by joining them)
    // into a room it belongs to, and out again.
    let unknown = app
        .join_room(&key, &open, &json!({ "user_id": "stranger" }))
        .await;
    assert_chatapi_error(&unknown, 404, "USER_NOT_FOUND", "a user nobody made");
    let friend = app
        .create_end_user(&acme.api_key, &json!({ "user_id": "friend" }))
        .await;
    assert_eq!(friend.status, 201, "{}", friend.text());
    let invited = app
        .join_room(&key, &open, &json!({ "user_id": "friend" }))
        .await;
    assert_eq!(invited.status, 200, "{}", invited.text());
    let left = app.leave_room(&key, &open, "friend").await;
    assert_eq!(left.status, 200, "{}", left.text());
    // manage_rooms: it creates rooms and is their first member, and changes them.
    let made = app
        .json(
            Method::POST,
            ROOMS,
            &[api_key_header(&key)],
            &json!({ "name": "Ann's" }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let uuid = str_of(&made.json()["data"], "id").to_owned();
    assert_eq!(app.participant_ids(&acme.api_key, &uuid).await, ["ann"]);
    let renamed = app
        .json(
            Method::PUT,
            &room_path(&uuid),
            &[api_key_header(&key)],
            &json!({ "name": "Ann's room" }),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    // ... but only the rooms it belongs to.
    let elsewhere = room_with(&app, &acme.api_key, "Elsewhere", &["bob"]).await;
    let refused = app
        .json(
            Method::PUT,
            &room_path(&elsewhere),
            &[api_key_header(&key)],
            &json!({ "name": "Mine now" }),
        )
        .await;
    assert_chatapi_error(&refused, 403, "ROOM_ACCESS_DENIED", "not its room");
    let invite_elsewhere = app
        .join_room(&key, &elsewhere, &json!({ "user_id": "friend" }))
        .await;
    assert_chatapi_error(&invite_elsewhere, 403, "ROOM_ACCESS_DENIED", "not its room");
}
