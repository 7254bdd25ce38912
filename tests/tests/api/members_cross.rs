//! One membership under two dialects: ChatAPI participants are account-dialect members,
//! and no account reaches another's.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

fn token(credential: &str) -> [(&str, &str); 1] {
    [("api_access_token", credential)]
}

fn id_of(user: &Value) -> i64 {
    user["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {user}"))
}

fn not_in_room() -> Value {
    json!({
        "error": { "code": "NOT_IN_ROOM", "message": "User is not a participant in this room" },
        "status": "error",
    })
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

/// `POST` members `user_ids` as `credential`, expecting 200.
async fn add(app: &TestApp, tenant: &Tenant, credential: &str, room: i64, user_ids: Value) {
    let reply = app
        .members_request(
            Method::POST,
            tenant.id,
            room,
            credential,
            &json!({ "user_ids": user_ids }),
        )
        .await;
    assert_eq!(reply.status, 200, "adding {user_ids}: {}", reply.text());
}

/// The account-dialect room `id` as `credential` sees it.
async fn chat_room(app: &TestApp, tenant: &Tenant, credential: &str, id: i64) -> Value {
    let reply = app
        .get(&chat_room_path(tenant.id, id), &token(credential))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

#[actix_web::test]
async fn a_chatapi_join_makes_the_user_a_member_in_the_account_dialect() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let bea = app
        .create_user(
            acme.id,
            json!({ "name": "Bea", "email": "bea@example.com" }),
        )
        .await;
    let made = app
        .create_chat_room(acme.id, &acme.admin_token, "Bridge", None)
        .await;
    let id = id_of(&made);
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;

    let reply = app
        .join_room(
            &acme.api_key,
            &uuid,
            &json!({ "user_id": "crm-7", "user_name": "Carl" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    app.join_ok(&acme.api_key, &uuid, &chat_user_id(&bea)).await;

    let members = app.members(acme.id, &acme.admin_token, id).await;
    assert_eq!(members.len(), 3, "{members:?}");
    assert_eq!(members[0], member_json(&acme.admin));
    assert_eq!(members[1]["name"], "Carl");
    assert_eq!(members[1]["role"], "agent");
    assert_eq!(members[1]["account_id"], acme.id);
    assert_eq!(members[2], member_json(&bea));

    let room = chat_room(&app, &acme, &acme.admin_token, id).await;
    assert_eq!(room["member_count"], 3, "{room}");
    assert_eq!(
        room["members"],
        json!([
            room_member(&acme.admin),
            {
                "id": members[1]["id"],
                "name": "Carl",
                "email": null,
                "thumbnail": null,
                "availability_status": "offline",
            },
            room_member(&bea),
        ])
    );
    // Bea, an agent, now reads the room in the account dialect as a member.
    let seen = chat_room(&app, &acme, str_of(&bea, "access_token"), id).await;
    assert_eq!(seen["is_member"], true, "{seen}");
    assert_eq!(seen["member_count"], 3);
}

#[actix_web::test]
async fn members_added_in_the_account_dialect_are_chatapi_participants() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let cy = app
        .create_user(acme.id, json!({ "name": "Cy", "external_id": "crm-9" }))
        .await;
    let dee = app.create_user(acme.id, json!({ "name": "Dee" })).await;
    let made = app
        .create_chat_room(acme.id, &acme.admin_token, "Bridge", None)
        .await;
    let id = id_of(&made);
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;
    add(
        &app,
        &acme,
        &acme.admin_token,
        id,
        json!([id_of(&cy), id_of(&dee)]),
    )
    .await;

    let participants = app.participants(&acme.api_key, &uuid).await;
    let expected = [
        (chat_user_id(&acme.admin), "Ada Admin"),
        ("crm-9".to_owned(), "Cy"),
        (id_of(&dee).to_string(), "Dee"),
    ];
    assert_eq!(participants.len(), 3, "{participants:?}");
    for (participant, (user_id, user_name)) in participants.iter().zip(&expected) {
        assert_eq!(
            participant,
            &json!({
                "user_id": user_id,
                "user_name": user_name,
                "joined_at": participant["joined_at"],
                "meta": {},
            })
        );
        assert_rfc3339_near_now(&participant["joined_at"]);
    }
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 3);
    // The ChatAPI knows them as participants: a join is a second join.
    let again = app
        .join_room(&acme.api_key, &uuid, &json!({ "user_id": "crm-9" }))
        .await;
    assert_chatapi_error(&again, 409, "ALREADY_IN_ROOM", "join after add");
}

#[actix_web::test]
async fn a_member_removed_in_the_account_dialect_is_no_longer_in_the_chatapi_room() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let cy = app
        .create_user(acme.id, json!({ "name": "Cy", "external_id": "crm-9" }))
        .await;
    let dee = app.create_user(acme.id, json!({ "name": "Dee" })).await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Bridge" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;
    app.join_ok(&acme.api_key, &uuid, "crm-9").await;
    app.join_ok(&acme.api_key, &uuid, &chat_user_id(&dee)).await;

    let removed = app
        .members_request(
            Method::DELETE,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": [id_of(&cy)] }),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    let reply = app.leave_room(&acme.api_key, &uuid, "crm-9").await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert_eq!(reply.json(), not_in_room());
    assert_eq!(
        app.participant_ids(&acme.api_key, &uuid).await,
        [chat_user_id(&dee)]
    );

    // PATCH removes too.
    let replaced = app
        .members_request(
            Method::PATCH,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": [id_of(&cy)] }),
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    let reply = app
        .leave_room(&acme.api_key, &uuid, &chat_user_id(&dee))
        .await;
    assert_eq!(reply.json(), not_in_room());
    assert_eq!(app.participant_ids(&acme.api_key, &uuid).await, ["crm-9"]);
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 1);
}

#[actix_web::test]
async fn a_chatapi_leave_removes_the_member_in_the_account_dialect() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let made = app
        .create_chat_room(acme.id, &acme.admin_token, "Bridge", None)
        .await;
    let id = id_of(&made);
    let uuid = app.room_uuid_of(acme.id, &acme.api_key, id).await;
    add(
        &app,
        &acme,
        &acme.admin_token,
        id,
        json!([id_of(&acme.agent)]),
    )
    .await;
    let reply = app
        .leave_room(&acme.agent_token, &uuid, &chat_user_id(&acme.agent))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        app.member_ids(acme.id, &acme.admin_token, id).await,
        [id_of(&acme.admin)]
    );
    let room = chat_room(&app, &acme, &acme.admin_token, id).await;
    assert_eq!(room["member_count"], 1, "{room}");
    let read = app
        .get(&chat_room_path(acme.id, id), &token(&acme.agent_token))
        .await;
    assert_eq!(read.status, 403, "{}", read.text());
}

#[actix_web::test]
async fn an_agent_added_in_the_account_dialect_reads_the_room_through_the_chatapi() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Bridge" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;
    let agent = key(&acme.agent_token);

    let listed = app.get(ROOMS, &agent).await.json();
    assert_eq!(listed["data"], json!([]), "{listed}");
    let read = app.get(&room_path(&uuid), &agent).await;
    assert_chatapi_error(&read, 403, "ROOM_ACCESS_DENIED", "before");

    add(
        &app,
        &acme,
        &acme.admin_token,
        id,
        json!([id_of(&acme.agent)]),
    )
    .await;
    let read = app.get(&room_path(&uuid), &agent).await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.json()["data"]["participant_count"], 1);
    let listed = app.get(ROOMS, &agent).await.json();
    assert_eq!(listed["pagination"]["total"], 1, "{listed}");
    assert_eq!(listed["data"][0]["id"], uuid.as_str());
    assert_eq!(
        app.participant_ids(&acme.agent_token, &uuid).await,
        [chat_user_id(&acme.agent)]
    );
    let online = app.get(&room_action_path(&uuid, "online"), &agent).await;
    assert_eq!(online.status, 200, "{}", online.text());

    let removed = app
        .members_request(
            Method::DELETE,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": [id_of(&acme.agent)] }),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    let read = app.get(&room_path(&uuid), &agent).await;
    assert_chatapi_error(&read, 403, "ROOM_ACCESS_DENIED", "after removal");
    let listed = app.get(ROOMS, &agent).await.json();
    assert_eq!(listed["data"], json!([]), "{listed}");
}

#[actix_web::test]
async fn max_participants_counts_members_from_both_dialects() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let bea = app.create_user(acme.id, json!({ "name": "Bea" })).await;
    let cy = app.create_user(acme.id, json!({ "name": "Cy" })).await;
    let room = app
        .create_room(
            &acme.api_key,
            json!({ "name": "Pair", "meta": { "max_participants": 2 } }),
        )
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;
    app.join_ok(&acme.api_key, &uuid, "guest").await;
    add(&app, &acme, &acme.admin_token, id, json!([id_of(&bea)])).await;

    let join = app
        .join_room(
            &acme.api_key,
            &uuid,
            &json!({ "user_id": chat_user_id(&cy) }),
        )
        .await;
    assert_chatapi_error(&join, 409, "ROOM_FULL", "ChatAPI join into a full room");
    let added = app
        .members_request(
            Method::POST,
            acme.id,
            id,
            &acme.admin_token,
            &json!({ "user_ids": [id_of(&cy)] }),
        )
        .await;
    assert_eq!(added.status, 409, "{}", added.text());
    assert_eq!(
        added.json(),
        json!({ "error": "Chat room has reached its maximum number of members" })
    );
    assert_eq!(app.participant_count(&acme.api_key, &uuid).await, 2);
    assert_eq!(app.members(acme.id, &acme.api_key, id).await.len(), 2);
}

#[actix_web::test]
async fn another_accounts_credentials_reach_no_membership_route() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let room = app
        .create_room(&acme.admin_token, json!({ "name": "Acme secret" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;
    app.join_ok(&acme.api_key, &uuid, "acme-user").await;
    let members_before = app.members(acme.id, &acme.api_key, id).await;
    let participants_before = app.participants(&acme.api_key, &uuid).await;

    let room_not_found = json!({
        "error": { "code": "ROOM_NOT_FOUND", "message": "Room not found" },
        "status": "error",
    });
    let resource_not_found = json!({ "error": "Resource could not be found" });
    let join = serde_json::to_vec(&json!({ "user_id": "intruder" })).unwrap_or_default();
    let leave = serde_json::to_vec(&json!({ "user_id": "acme-user" })).unwrap_or_default();
    let user_ids =
        serde_json::to_vec(&json!({ "user_ids": [id_of(&globex.agent)] })).unwrap_or_default();

    for (who, credential) in [
        ("API key", &globex.api_key),
        ("administrator", &globex.admin_token),
        ("agent", &globex.agent_token),
    ] {
        // ChatAPI: Acme's room is not found.
        for (method, action, body) in [
            (Method::POST, "join", Some(join.clone())),
            (Method::POST, "leave", Some(leave.clone())),
            (Method::GET, "participants", None),
            (Method::GET, "online", None),
        ] {
            let context = format!("{who}: ChatAPI {action}");
            let reply = app
                .send(
                    method,
                    &room_action_path(&uuid, action),
                    &key(credential),
                    body,
                )
                .await;
            assert_eq!(reply.status, 404, "{context}: {}", reply.text());
            assert_eq!(reply.json(), room_not_found, "{context}");
        }
        // Account dialect, Acme's account in the path: not Globex's to enter.
        for method in [Method::GET, Method::POST, Method::PATCH, Method::DELETE] {
            let context = format!("{who}: account {method} in Acme's account");
            let body = (method != Method::GET).then(|| user_ids.clone());
            let reply = app
                .send(method, &members_path(acme.id, id), &token(credential), body)
                .await;
            let text = assert_account_error(&reply, 401, &context);
            assert_eq!(
                text, "You are not authorized to access this account",
                "{context}"
            );
        }
        // Account dialect, Globex's own account with Acme's room id: as an unknown room.
        for method in [Method::GET, Method::POST, Method::PATCH, Method::DELETE] {
            let context = format!("{who}: account {method} in Globex's account");
            let body = (method != Method::GET).then(|| user_ids.clone());
            let reply = app
                .send(
                    method.clone(),
                    &members_path(globex.id, id),
                    &token(credential),
                    body.clone(),
                )
                .await;
            let like_unknown = app
                .send(
                    method.clone(),
                    &members_path(globex.id, 999_999),
                    &token(credential),
                    body,
                )
                .await;
            assert_eq!(reply.status, like_unknown.status, "{context}");
            assert_eq!(reply.json(), like_unknown.json(), "{context}");
            if who != "agent" || method == Method::GET {
                assert_eq!(reply.status, 404, "{context}: {}", reply.text());
                assert_eq!(reply.json(), resource_not_found, "{context}");
            }
        }
    }
    assert_eq!(
        app.members(acme.id, &acme.api_key, id).await,
        members_before
    );
    assert_eq!(
        app.participants(&acme.api_key, &uuid).await,
        participants_before
    );
}

#[actix_web::test]
async fn another_accounts_users_are_never_members() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let outsider = app
        .create_user(globex.id, json!({ "name": "Olga", "external_id": "olga" }))
        .await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Acme" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;

    // By integer id in the account dialect: not a user of the account.
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        for user in [&outsider, &globex.admin] {
            let reply = app
                .members_request(
                    method.clone(),
                    acme.id,
                    id,
                    &acme.admin_token,
                    &json!({ "user_ids": [id_of(user)] }),
                )
                .await;
            assert_eq!(reply.status, 404, "{method}: {}", reply.text());
            assert_eq!(
                reply.json(),
                json!({ "error": "Resource could not be found" })
            );
        }
    }
    assert!(app.members(acme.id, &acme.api_key, id).await.is_empty());

    // By ChatAPI user_id: the name is Acme's own, so it is a new user of Acme.
    for user_id in ["olga".to_owned(), id_of(&globex.admin).to_string()] {
        app.join_ok(&acme.api_key, &uuid, &user_id).await;
    }
    let members = app.members(acme.id, &acme.api_key, id).await;
    assert_eq!(members.len(), 2, "{members:?}");
    for member in &members {
        assert_eq!(member["account_id"], acme.id, "{member}");
        assert_ne!(member["id"], outsider["id"], "{member}");
        assert_ne!(member["id"], globex.admin["id"], "{member}");
        assert_eq!(member["role"], "agent", "{member}");
    }
    // Globex's own user is in none of its rooms.
    let globex_room = app
        .create_room(&globex.api_key, json!({ "name": "Globex" }))
        .await;
    let globex_uuid = str_of(&globex_room, "id");
    app.join_ok(&globex.api_key, globex_uuid, "olga").await;
    let globex_id = app
        .chat_room_id_of(globex.id, &globex.api_key, globex_uuid)
        .await;
    assert_eq!(
        app.member_ids(globex.id, &globex.api_key, globex_id).await,
        [id_of(&outsider)]
    );
}

#[actix_web::test]
async fn openapi_lists_every_membership_route_with_its_method() {
    let app = TestApp::spawn().await;
    let reply = app.get("/openapi.json", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let doc = reply.json();
    let paths = doc["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths in {doc}"));
    let expected: [(&str, &[&str]); 5] = [
        ("/api/v1/rooms/{room_id}/join", &["post"]),
        ("/api/v1/rooms/{room_id}/leave", &["post"]),
        ("/api/v1/rooms/{room_id}/participants", &["get"]),
        ("/api/v1/rooms/{room_id}/online", &["get"]),
        (
            "/api/v1/accounts/{account_id}/chat_rooms/{chat_room_id}/members",
            &["delete", "get", "patch", "post"],
        ),
    ];
    for (path, methods) in expected {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is missing from {:?}", paths.keys()));
        let mut documented: Vec<&str> = item
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .map(String::as_str)
            .filter(|k| {
                [
                    "get", "put", "post", "delete", "patch", "options", "head", "trace",
                ]
                .contains(k)
            })
            .collect();
        documented.sort_unstable();
        assert_eq!(documented, methods, "{path}");
        for method in methods {
            let responses = &item[*method]["responses"];
            assert!(
                responses.get("200").is_some(),
                "{path} {method} documents no 200: {responses}"
            );
        }
    }
    let join = &paths["/api/v1/rooms/{room_id}/join"]["post"]["responses"];
    for status in ["403", "404", "409", "422"] {
        assert!(
            join.get(status).is_some(),
            "join documents no {status}: {join}"
        );
    }
    let add = &paths["/api/v1/accounts/{account_id}/chat_rooms/{chat_room_id}/members"]["post"]["responses"];
    for status in ["403", "404", "409", "422"] {
        assert!(
            add.get(status).is_some(),
            "add documents no {status}: {add}"
        );
    }
}

#[actix_web::test]
async fn no_two_participants_share_a_user_id_when_an_external_id_is_another_users_integer_id() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let plain = app.create_user(acme.id, json!({ "name": "Plain" })).await;
    let plain_id = id_of(&plain).to_string();
    // An external id that spells another user's integer id: the platform may refuse it…
    let shadow = app
        .json(
            Method::POST,
            &format!("/platform/api/v1/accounts/{}/users", acme.id),
            &[platform_auth()],
            &json!({ "name": "Shadow", "external_id": plain_id }),
        )
        .await;
    if shadow.status != 200 {
        assert_eq!(shadow.status, 422, "{}", shadow.text());
        return;
    }
    // …but if it takes it, the ChatAPI must still tell the two apart.
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Both" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let id = app.chat_room_id_of(acme.id, &acme.api_key, &uuid).await;
    add(&app, &acme, &acme.admin_token, id, json!([id_of(&plain)])).await;
    let joined = app
        .join_room(&acme.api_key, &uuid, &json!({ "user_id": plain_id }))
        .await;
    assert!(
        [200, 409].contains(&joined.status),
        "join {plain_id}: {}",
        joined.text()
    );
    let participants = app.participants(&acme.api_key, &uuid).await;
    let mut user_ids: Vec<&str> = participants.iter().map(|p| str_of(p, "user_id")).collect();
    user_ids.sort_unstable();
    let count = user_ids.len();
    user_ids.dedup();
    assert_eq!(
        user_ids.len(),
        count,
        "two participants share a user_id: {participants:?}"
    );
}
