//! Account-dialect members (`/api/v1/accounts/{account_id}/chat_rooms/{chat_room_id}/members`):
//! seed 002, sections 7–10.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

const MEMBER_KEYS: [&str; 8] = [
    "account_id",
    "availability_status",
    "confirmed",
    "email",
    "id",
    "name",
    "role",
    "thumbnail",
];

fn token(credential: &str) -> [(&str, &str); 1] {
    [("api_access_token", credential)]
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

fn room_full() -> Value {
    json!({ "error": "Chat room has reached its maximum number of members" })
}

fn blank_user_ids() -> Value {
    json!({ "message": "User ids can't be blank", "attributes": ["user_ids"] })
}

/// A member as a room shows it in `members`.
fn room_member(user: &Value) -> Value {
    json!({
        "id": user["id"],
        "name": user["name"],
        "email": user["email"],
        "thumbnail": null,
        "availability_status": user["availability_status"],
    })
}

fn id_of(user: &Value) -> i64 {
    user["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {user}"))
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

/// Three agents of `tenant` with e-mails: Bea, Cy and Dee.
async fn three_agents(app: &TestApp, tenant: &Tenant) -> [Value; 3] {
    let mut users = Vec::new();
    for name in ["Bea", "Cy", "Dee"] {
        let email = format!("{}@example.com", name.to_lowercase());
        users.push(
            app.create_user(tenant.id, json!({ "name": name, "email": email }))
                .await,
        );
    }
    [users[0].clone(), users[1].clone(), users[2].clone()]
}

/// A room made with the API key (no members); answers its account-dialect id.
async fn empty_room(app: &TestApp, tenant: &Tenant, name: &str) -> i64 {
    let room = app
        .create_chat_room(tenant.id, &tenant.api_key, name, None)
        .await;
    id_of(&room)
}

/// A room made through the ChatAPI with `meta.max_participants = max`; answers its
/// account-dialect id.
async fn capped_room(app: &TestApp, tenant: &Tenant, name: &str, max: u64) -> i64 {
    let room = app
        .create_room(
            &tenant.api_key,
            json!({ "name": name, "meta": { "max_participants": max } }),
        )
        .await;
    app.chat_room_id_of(tenant.id, &tenant.api_key, str_of(&room, "id"))
        .await
}

fn ids(users: &[&Value]) -> Value {
    json!(users.iter().map(|u| id_of(u)).collect::<Vec<_>>())
}

fn members_of(users: &[&Value]) -> Value {
    json!(users.iter().map(|u| member_json(u)).collect::<Vec<_>>())
}

/// `POST` members `users` as `credential`, expecting 200; answers the body.
async fn add(
    app: &TestApp,
    tenant: &Tenant,
    credential: &str,
    room: i64,
    users: &[&Value],
) -> Value {
    let reply = app
        .members_request(
            Method::POST,
            tenant.id,
            room,
            credential,
            &json!({ "user_ids": ids(users) }),
        )
        .await;
    assert_eq!(reply.status, 200, "adding: {}", reply.text());
    reply.json()
}

// ---------------------------------------------------------------- listing

#[actix_web::test]
async fn members_are_listed_in_join_order_with_the_seed_fields() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, _] = three_agents(&app, &acme).await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Team", None)
        .await;
    let id = id_of(&room);
    // Added in this order, not in id order.
    add(&app, &acme, &acme.admin_token, id, &[&cy]).await;
    add(&app, &acme, &acme.admin_token, id, &[&bea]).await;
    let reply = app
        .get(&members_path(acme.id, id), &token(&acme.admin_token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    for member in body.as_array().into_iter().flatten() {
        assert_eq!(keys_of(member), MEMBER_KEYS, "{member}");
    }
    assert_eq!(body, members_of(&[&acme.admin, &cy, &bea]));
    assert_eq!(body[0]["role"], "administrator");
    assert_eq!(body[1]["email"], "cy@example.com");
    assert_eq!(body[1]["role"], "agent");
    assert_eq!(body[1]["account_id"], acme.id);
}

#[actix_web::test]
async fn the_api_key_and_administrators_read_the_members_of_any_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, ..] = three_agents(&app, &acme).await;
    let id = empty_room(&app, &acme, "Nobody's").await;
    for credential in [&acme.api_key, &acme.admin_token] {
        let reply = app
            .get(&members_path(acme.id, id), &token(credential))
            .await;
        assert_reply(&reply, 200, &json!([]), "empty room");
    }
    add(&app, &acme, &acme.api_key, id, &[&bea]).await;
    for credential in [&acme.api_key, &acme.admin_token] {
        let reply = app
            .get(&members_path(acme.id, id), &token(credential))
            .await;
        assert_reply(&reply, 200, &members_of(&[&bea]), "one member");
    }
}

#[actix_web::test]
async fn an_agent_reads_the_members_only_of_its_rooms() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = empty_room(&app, &acme, "Team").await;
    let reply = app
        .get(&members_path(acme.id, id), &token(&acme.agent_token))
        .await;
    assert_reply(&reply, 403, &not_a_member(), "agent, not a member");
    add(&app, &acme, &acme.api_key, id, &[&acme.agent]).await;
    let reply = app
        .get(&members_path(acme.id, id), &token(&acme.agent_token))
        .await;
    assert_reply(&reply, 200, &members_of(&[&acme.agent]), "agent, member");
}

// ---------------------------------------------------------------- adding

#[actix_web::test]
async fn adding_members_answers_only_the_users_it_added() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, dee] = three_agents(&app, &acme).await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Team", None)
        .await;
    let id = id_of(&room);
    let reply = app
        .members_request(
            Method::POST,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": [id_of(&bea), id_of(&acme.admin), id_of(&cy)] }),
        )
        .await;
    assert_reply(
        &reply,
        200,
        &members_of(&[&bea, &cy]),
        "admin is already in",
    );
    for member in reply.json().as_array().into_iter().flatten() {
        assert_eq!(keys_of(member), MEMBER_KEYS, "{member}");
    }
    // Nobody new: an empty answer. Duplicates count once.
    let again = add(&app, &acme, &acme.admin_token, id, &[&cy, &bea]).await;
    assert_eq!(again, json!([]));
    let twice = add(&app, &acme, &acme.admin_token, id, &[&dee, &dee]).await;
    assert_eq!(twice, members_of(&[&dee]));
    assert_eq!(
        json!(app.members(acme.id, &acme.admin_token, id).await),
        members_of(&[&acme.admin, &bea, &cy, &dee])
    );
}

#[actix_web::test]
async fn added_members_see_the_room_with_its_new_member_count_and_members() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, _] = three_agents(&app, &acme).await;
    let bea_token = str_of(&bea, "access_token").to_owned();
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Team", None)
        .await;
    let id = id_of(&room);
    let path = chat_room_path(acme.id, id);
    let before = app.get(&path, &token(&bea_token)).await;
    assert_reply(&before, 403, &not_a_member(), "Bea before");

    add(&app, &acme, &acme.admin_token, id, &[&bea, &cy]).await;
    let members = json!([
        room_member(&acme.admin),
        room_member(&bea),
        room_member(&cy)
    ]);
    for (who, credential, is_member) in [
        ("Bea", bea_token.as_str(), true),
        ("administrator", acme.admin_token.as_str(), true),
        ("API key", acme.api_key.as_str(), false),
    ] {
        let seen = app.get(&path, &token(credential)).await;
        assert_eq!(seen.status, 200, "{who}: {}", seen.text());
        let seen = seen.json();
        assert_eq!(seen["is_member"], is_member, "{who}: {seen}");
        assert_eq!(seen["member_count"], 3, "{who}: {seen}");
        assert_eq!(seen["members"], members, "{who}");
    }
    // Bea now lists the room; the agent who is no member does not.
    let listed = app
        .get(&chat_rooms_path(acme.id), &token(&bea_token))
        .await
        .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"], id);
    let listed = app
        .get(&chat_rooms_path(acme.id), &token(&acme.agent_token))
        .await
        .json();
    assert_eq!(listed, json!([]));
}

#[actix_web::test]
async fn adding_an_unknown_user_or_one_of_another_account_is_not_found_and_adds_nobody() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let [bea, ..] = three_agents(&app, &acme).await;
    let id = empty_room(&app, &acme, "Team").await;
    for user_ids in [
        json!([id_of(&bea), 999_999]),
        json!([id_of(&bea), id_of(&globex.agent)]),
        json!([id_of(&globex.admin)]),
        json!([0]),
        json!([-5]),
    ] {
        for credential in [&acme.api_key, &acme.admin_token] {
            let reply = app
                .members_request(
                    Method::POST,
                    acme.id,
                    id,
                    credential,
                    &json!({ "user_ids": user_ids }),
                )
                .await;
            assert_reply(&reply, 404, &not_found(), &user_ids.to_string());
        }
    }
    assert!(app.members(acme.id, &acme.api_key, id).await.is_empty());
}

#[actix_web::test]
async fn missing_or_empty_user_ids_are_a_validation_error_on_every_change() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, ..] = three_agents(&app, &acme).await;
    let id = empty_room(&app, &acme, "Team").await;
    add(&app, &acme, &acme.api_key, id, &[&bea]).await;
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        for body in [
            json!({}),
            json!({ "user_ids": [] }),
            json!({ "user_ids": null }),
        ] {
            for credential in [&acme.api_key, &acme.admin_token] {
                let reply = app
                    .members_request(method.clone(), acme.id, id, credential, &body)
                    .await;
                assert_reply(&reply, 422, &blank_user_ids(), &format!("{method} {body}"));
            }
        }
    }
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&bea)]
    );
}

/// Sends each of `bodies` with every change method; asserts each is a 422 whose
/// `attributes` are exactly `["user_ids"]` and whose message is about user ids, and that
/// the members are unchanged.
async fn assert_user_ids_refused(bodies: &[Value]) {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, ..] = three_agents(&app, &acme).await;
    let id = empty_room(&app, &acme, "Team").await;
    add(&app, &acme, &acme.api_key, id, &[&bea]).await;
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        for body in bodies {
            let context = format!("{method} {body}");
            let reply = app
                .members_request(method.clone(), acme.id, id, &acme.admin_token, body)
                .await;
            assert_eq!(reply.status, 422, "{context}: {}", reply.text());
            let answer = reply.json();
            assert_eq!(keys_of(&answer), ["attributes", "message"], "{context}");
            assert_eq!(
                answer["attributes"],
                json!(["user_ids"]),
                "{context}: {answer}"
            );
            assert!(
                str_of(&answer, "message").starts_with("User ids "),
                "{context}: {answer}"
            );
        }
    }
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&bea)]
    );
}

#[actix_web::test]
async fn user_ids_that_are_not_an_array_are_a_validation_error_naming_user_ids() {
    assert_user_ids_refused(&[
        json!({ "user_ids": "1" }),
        json!({ "user_ids": 1 }),
        json!({ "user_ids": { "id": 1 } }),
        json!({ "user_ids": true }),
    ])
    .await;
}

#[actix_web::test]
async fn user_ids_holding_something_other_than_integers_are_a_validation_error_naming_user_ids() {
    assert_user_ids_refused(&[
        json!({ "user_ids": ["a"] }),
        json!({ "user_ids": [1.5] }),
        json!({ "user_ids": [1, null] }),
    ])
    .await;
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = empty_room(&app, &acme, "Team").await;
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        let reply = app
            .send(
                method.clone(),
                &members_path(acme.id, id),
                &token(&acme.admin_token),
                Some(b"{user_ids: [1".to_vec()),
            )
            .await;
        let text = assert_account_error(&reply, 400, method.as_ref());
        assert!(text.starts_with("Request body is not valid JSON"), "{text}");
    }
}

#[actix_web::test]
async fn an_agent_may_not_change_members_even_with_an_invalid_body() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, _] = three_agents(&app, &acme).await;
    let bea_token = str_of(&bea, "access_token").to_owned();
    let id = empty_room(&app, &acme, "Team").await;
    // One agent is a member, one is not: neither may change the members.
    add(&app, &acme, &acme.api_key, id, &[&bea]).await;
    let bodies = [
        Some(serde_json::to_vec(&json!({ "user_ids": [id_of(&cy)] })).unwrap_or_default()),
        Some(serde_json::to_vec(&json!({ "user_ids": [id_of(&bea)] })).unwrap_or_default()),
        Some(b"{}".to_vec()),
        Some(b"{\"user_ids\": [\"a\"]}".to_vec()),
        Some(b"not json".to_vec()),
        None,
    ];
    for credential in [&acme.agent_token, &bea_token] {
        for method in [Method::POST, Method::PATCH, Method::DELETE] {
            for body in &bodies {
                let reply = app
                    .send(
                        method.clone(),
                        &members_path(acme.id, id),
                        &token(credential),
                        body.clone(),
                    )
                    .await;
                let context = format!(
                    "{method} {:?}",
                    body.as_deref().map(String::from_utf8_lossy)
                );
                assert_reply(&reply, 403, &only_administrators(), &context);
            }
        }
    }
    // A room that is not in the account is not found, before any right is checked.
    let reply = app
        .members_request(
            Method::POST,
            acme.id,
            999_999,
            &bea_token,
            &json!({ "user_ids": [id_of(&cy)] }),
        )
        .await;
    assert_reply(
        &reply,
        404,
        &json!({ "error": "Resource could not be found" }),
        "unknown room",
    );
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&bea)]
    );
}

#[actix_web::test]
async fn the_api_key_adds_replaces_and_removes_members() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, dee] = three_agents(&app, &acme).await;
    let id = empty_room(&app, &acme, "Team").await;
    let added = add(&app, &acme, &acme.api_key, id, &[&bea, &cy]).await;
    assert_eq!(added, members_of(&[&bea, &cy]));
    let replaced = app
        .members_request(
            Method::PATCH,
            acme.id,
            id,
            &acme.api_key,
            &json!({ "user_ids": ids(&[&cy, &dee]) }),
        )
        .await;
    assert_reply(&replaced, 200, &members_of(&[&cy, &dee]), "PATCH");
    let removed = app
        .members_request(
            Method::DELETE,
            acme.id,
            id,
            &acme.api_key,
            &json!({ "user_ids": ids(&[&cy]) }),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&dee)]
    );
}

// ---------------------------------------------------------------- replacing

#[actix_web::test]
async fn replacing_members_adds_the_missing_and_removes_the_others_in_one_call() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, dee] = three_agents(&app, &acme).await;
    let bea_token = str_of(&bea, "access_token").to_owned();
    let id = empty_room(&app, &acme, "Team").await;
    add(&app, &acme, &acme.admin_token, id, &[&bea, &cy]).await;

    let reply = app
        .members_request(
            Method::PATCH,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": ids(&[&cy, &dee]) }),
        )
        .await;
    assert_reply(&reply, 200, &members_of(&[&cy, &dee]), "PATCH [Cy, Dee]");
    assert_eq!(
        json!(app.members(acme.id, &acme.admin_token, id).await),
        members_of(&[&cy, &dee])
    );
    let room = app
        .get(&chat_room_path(acme.id, id), &token(&acme.admin_token))
        .await
        .json();
    assert_eq!(room["member_count"], 2, "{room}");
    assert_eq!(
        room["members"],
        json!([room_member(&cy), room_member(&dee)])
    );
    // Bea is out: she may no longer read the room.
    let read = app
        .get(&chat_room_path(acme.id, id), &token(&bea_token))
        .await;
    assert_reply(&read, 403, &not_a_member(), "Bea after PATCH");
}

#[actix_web::test]
async fn replacing_with_the_same_members_keeps_their_join_order() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, dee] = three_agents(&app, &acme).await;
    let id = empty_room(&app, &acme, "Team").await;
    add(&app, &acme, &acme.admin_token, id, &[&bea, &cy]).await;
    let reply = app
        .members_request(
            Method::PATCH,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": ids(&[&dee, &cy, &bea, &cy]) }),
        )
        .await;
    assert_reply(&reply, 200, &members_of(&[&bea, &cy, &dee]), "PATCH");
    let reply = app
        .members_request(
            Method::PATCH,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": ids(&[&dee, &cy, &bea]) }),
        )
        .await;
    assert_reply(&reply, 200, &members_of(&[&bea, &cy, &dee]), "same set");
}

#[actix_web::test]
async fn replacing_with_an_unknown_user_is_not_found_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let [bea, cy, _] = three_agents(&app, &acme).await;
    let id = empty_room(&app, &acme, "Team").await;
    add(&app, &acme, &acme.admin_token, id, &[&bea]).await;
    for user_ids in [
        json!([id_of(&cy), 999_999]),
        json!([id_of(&cy), id_of(&globex.agent)]),
    ] {
        let reply = app
            .members_request(
                Method::PATCH,
                acme.id,
                id,
                &acme.admin_token,
                &json!({ "user_ids": user_ids }),
            )
            .await;
        assert_reply(&reply, 404, &not_found(), &user_ids.to_string());
    }
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&bea)]
    );
}

// ---------------------------------------------------------------- max_participants

#[actix_web::test]
async fn adding_past_max_participants_is_a_conflict_and_adds_nobody() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, dee] = three_agents(&app, &acme).await;
    let id = capped_room(&app, &acme, "Pair", 2).await;
    for (users, context) in [
        (vec![&bea, &cy, &dee], "three at once"),
        (vec![&bea, &cy, &dee, &bea], "three at once, with a repeat"),
    ] {
        let reply = app
            .members_request(
                Method::POST,
                acme.id,
                id,
                &acme.admin_token,
                &json!({ "user_ids": ids(&users) }),
            )
            .await;
        assert_reply(&reply, 409, &room_full(), context);
        assert!(app.members(acme.id, &acme.api_key, id).await.is_empty());
    }
    let added = add(&app, &acme, &acme.admin_token, id, &[&bea, &cy]).await;
    assert_eq!(added, members_of(&[&bea, &cy]));
    let reply = app
        .members_request(
            Method::POST,
            acme.id,
            id,
            &acme.api_key,
            &json!({ "user_ids": ids(&[&dee]) }),
        )
        .await;
    assert_reply(&reply, 409, &room_full(), "one more");
    // Adding nobody new is never refused.
    let none = add(&app, &acme, &acme.admin_token, id, &[&bea]).await;
    assert_eq!(none, json!([]));
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&bea), id_of(&cy)]
    );
}

#[actix_web::test]
async fn replacing_past_max_participants_is_a_conflict_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, dee] = three_agents(&app, &acme).await;
    let id = capped_room(&app, &acme, "Pair", 2).await;
    add(&app, &acme, &acme.admin_token, id, &[&bea, &cy]).await;
    let reply = app
        .members_request(
            Method::PATCH,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": ids(&[&bea, &cy, &dee]) }),
        )
        .await;
    assert_reply(&reply, 409, &room_full(), "PATCH to three");
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&bea), id_of(&cy)]
    );
    // A swap at the limit is fine: the room never holds more than two.
    let reply = app
        .members_request(
            Method::PATCH,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": ids(&[&bea, &dee]) }),
        )
        .await;
    assert_reply(&reply, 200, &members_of(&[&bea, &dee]), "swap");
}

// ---------------------------------------------------------------- removing

#[actix_web::test]
async fn removing_members_answers_200_with_an_empty_body_and_ignores_non_members() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, dee] = three_agents(&app, &acme).await;
    let room = app
        .create_chat_room(acme.id, &acme.admin_token, "Team", None)
        .await;
    let id = id_of(&room);
    add(&app, &acme, &acme.admin_token, id, &[&bea, &cy]).await;
    for (users, left) in [
        (vec![&bea], vec![&acme.admin, &cy]),
        // Dee was never in; Bea is already out.
        (vec![&dee, &bea], vec![&acme.admin, &cy]),
        (vec![&cy, &acme.admin], vec![]),
    ] {
        let reply = app
            .members_request(
                Method::DELETE,
                acme.id,
                id,
                &acme.admin_token,
                &json!({ "user_ids": ids(&users) }),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert!(reply.body.is_empty(), "{:?}", reply.text());
        assert_eq!(
            json!(app.members(acme.id, &acme.api_key, id).await),
            members_of(&left)
        );
        let seen = app
            .get(&chat_room_path(acme.id, id), &token(&acme.api_key))
            .await
            .json();
        assert_eq!(seen["member_count"], left.len(), "{seen}");
    }
}

#[actix_web::test]
async fn removing_an_unknown_user_is_not_found_and_removes_nobody() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let [bea, cy, _] = three_agents(&app, &acme).await;
    let id = empty_room(&app, &acme, "Team").await;
    add(&app, &acme, &acme.admin_token, id, &[&bea, &cy]).await;
    for user_ids in [
        json!([id_of(&bea), 999_999]),
        json!([id_of(&bea), id_of(&globex.agent)]),
    ] {
        let reply = app
            .members_request(
                Method::DELETE,
                acme.id,
                id,
                &acme.admin_token,
                &json!({ "user_ids": user_ids }),
            )
            .await;
        assert_reply(&reply, 404, &not_found(), &user_ids.to_string());
    }
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&bea), id_of(&cy)]
    );
}

// ---------------------------------------------------------------- rooms, credentials, feature

#[actix_web::test]
async fn administrators_change_the_members_of_an_inactive_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, _] = three_agents(&app, &acme).await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Archived" }))
        .await;
    let uuid = str_of(&room, "id");
    let id = app.chat_room_id_of(acme.id, &acme.api_key, uuid).await;
    let off = app
        .send(
            Method::POST,
            &format!("{}/deactivate", room_path(uuid)),
            &[api_key_header(&acme.api_key)],
            None,
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text());
    let added = add(&app, &acme, &acme.admin_token, id, &[&bea, &cy]).await;
    assert_eq!(added, members_of(&[&bea, &cy]));
    let reply = app
        .members_request(
            Method::DELETE,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": ids(&[&bea]) }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&cy)]
    );
}

/// Every members route of `account` on room `room`: `(method, path, body)`.
fn routes(
    account: impl std::fmt::Display + Copy,
    room: impl std::fmt::Display + Copy,
    user_ids: &Value,
) -> Vec<(Method, String, Option<Vec<u8>>)> {
    let body = serde_json::to_vec(&json!({ "user_ids": user_ids })).unwrap_or_default();
    let path = members_path(account, room);
    vec![
        (Method::GET, path.clone(), None),
        (Method::POST, path.clone(), Some(body.clone())),
        (Method::PATCH, path.clone(), Some(body.clone())),
        (Method::DELETE, path, Some(body)),
    ]
}

#[actix_web::test]
async fn an_unknown_or_malformed_chat_room_is_not_found_on_every_members_route() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, ..] = three_agents(&app, &acme).await;
    let user_ids = json!([id_of(&bea)]);
    for room in ["999999", "abc", "-1"] {
        for credential in [&acme.api_key, &acme.admin_token] {
            for (method, path, body) in routes(acme.id, room, &user_ids) {
                let reply = app
                    .send(method.clone(), &path, &token(credential), body)
                    .await;
                assert_reply(&reply, 404, &not_found(), &format!("{method} {path}"));
            }
        }
    }
    // For the agent, reading an unknown room is not found too.
    let reply = app
        .get(&members_path(acme.id, 999_999), &token(&acme.agent_token))
        .await;
    assert_reply(&reply, 404, &not_found(), "agent GET");
}

#[actix_web::test]
async fn members_routes_refuse_a_missing_or_unknown_credential() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, ..] = three_agents(&app, &acme).await;
    let id = empty_room(&app, &acme, "Team").await;
    add(&app, &acme, &acme.api_key, id, &[&bea]).await;
    let unknown = format!("ut_{}", "0".repeat(64));
    let credentials: [(&str, Vec<(&str, &str)>); 3] = [
        ("none", vec![]),
        ("unknown", vec![("api_access_token", unknown.as_str())]),
        ("platform", vec![platform_auth()]),
    ];
    for (kind, headers) in &credentials {
        for (method, path, body) in routes(acme.id, id, &json!([id_of(&acme.agent)])) {
            let reply = app.send(method.clone(), &path, headers, body).await;
            let text = assert_account_error(&reply, 401, &format!("{kind}: {method}"));
            assert_eq!(text, "Invalid Access Token", "{kind}: {method}");
        }
    }
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&bea)]
    );
}

#[actix_web::test]
async fn with_chat_rooms_off_every_members_route_is_forbidden() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let [bea, cy, _] = three_agents(&app, &acme).await;
    let id = empty_room(&app, &acme, "Team").await;
    add(&app, &acme, &acme.api_key, id, &[&bea, &acme.agent]).await;
    app.set_chat_rooms_feature(acme.id, false).await;
    for credential in [&acme.api_key, &acme.admin_token, &acme.agent_token] {
        for (method, path, body) in routes(acme.id, id, &json!([id_of(&cy)])) {
            let reply = app
                .send(method.clone(), &path, &token(credential), body)
                .await;
            let text = assert_account_error(&reply, 403, method.as_ref());
            assert_eq!(
                text, "Feature chat_rooms is not enabled for this account",
                "{method}"
            );
        }
        // Even before the body is read.
        let reply = app
            .send(
                Method::POST,
                &members_path(acme.id, id),
                &token(credential),
                Some(b"{}".to_vec()),
            )
            .await;
        assert_eq!(reply.status, 403, "{}", reply.text());
    }
    app.set_chat_rooms_feature(acme.id, true).await;
    assert_eq!(
        app.member_ids(acme.id, &acme.api_key, id).await,
        [id_of(&bea), id_of(&acme.agent)]
    );
}
