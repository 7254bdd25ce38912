//! One room under two dialects, and accounts that never see each other's rooms.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

fn token(credential: &str) -> [(&str, &str); 1] {
    [("api_access_token", credential)]
}

/// The account dialect's list (one page of 100), expecting 200.
async fn chat_rooms(app: &TestApp, account: i64, credential: &str) -> Vec<Value> {
    let reply = app
        .get(
            &format!("{}?per_page=100", chat_rooms_path(account)),
            &token(credential),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json().as_array().cloned().unwrap_or_default()
}

/// The account-dialect room named `name`, found through the list.
async fn chat_room_named(app: &TestApp, account: i64, credential: &str, name: &str) -> Value {
    let rooms = chat_rooms(app, account, credential).await;
    let found: Vec<&Value> = rooms.iter().filter(|r| r["name"] == name).collect();
    assert_eq!(found.len(), 1, "{name} in {rooms:?}");
    found[0].clone()
}

/// The ChatAPI list for `query`, expecting 200.
async fn rooms(app: &TestApp, credential: &str, query: &str) -> Value {
    let reply = app.get(&format!("{ROOMS}?{query}"), &key(credential)).await;
    assert_eq!(reply.status, 200, "?{query}: {}", reply.text());
    reply.json()
}

/// The ChatAPI room named `name`, found with `search`.
async fn room_named(app: &TestApp, credential: &str, name: &str) -> Value {
    let body = rooms(
        app,
        credential,
        &format!("search={}", name.replace(' ', "%20")),
    )
    .await;
    let found: Vec<&Value> = body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "{name} in {body}");
    found[0].clone()
}

fn unix_of(rfc3339: &Value) -> i64 {
    parse_rfc3339_utc(rfc3339.as_str().unwrap_or_default())
}

#[actix_web::test]
async fn a_room_made_through_the_chatapi_is_read_renamed_and_deleted_in_the_account_dialect() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .create_room(
            &acme.api_key,
            json!({ "name": "Bridge", "description": "Both ways", "meta": { "k": "v" } }),
        )
        .await;
    let uuid = str_of(&room, "id").to_owned();

    let seen = chat_room_named(&app, acme.id, &acme.admin_token, "Bridge").await;
    let id = seen["id"].clone();
    assert!(id.as_i64().is_some_and(|id| id > 0), "{seen}");
    let created = unix_of(&room["created_at"]);
    assert_eq!(
        seen,
        json!({
            "id": id,
            "uuid": uuid,
            "name": "Bridge",
            "description": "Both ways",
            "account_id": acme.id,
            "avatar_url": null,
            "is_member": false,
            "member_count": 0,
            "last_message_at": created,
            "unread_count": 0,
            "unread_mentions": 0,
            "members": [],
            "created_at": created,
            "updated_at": unix_of(&room["updated_at"]),
        })
    );
    let read = app
        .get(&chat_room_path(acme.id, &id), &token(&acme.admin_token))
        .await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.json(), seen);

    let renamed = app
        .json(
            Method::PUT,
            &chat_room_path(acme.id, &id),
            &token(&acme.admin_token),
            &json!({ "chat_room": { "name": "Bridge 2" } }),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let through_chatapi = app.get(&room_path(&uuid), &key(&acme.api_key)).await;
    assert_eq!(through_chatapi.status, 200, "{}", through_chatapi.text());
    let data = through_chatapi.json()["data"].clone();
    assert_eq!(data["name"], "Bridge 2");
    assert_eq!(data["id"], uuid.as_str());
    // What the account dialect cannot say is kept.
    assert_eq!(data["description"], "Both ways");
    assert_eq!(data["meta"], json!({ "k": "v" }));
    assert_eq!(data["created_at"], room["created_at"]);
    assert_eq!(
        unix_of(&data["updated_at"]),
        renamed.json()["updated_at"].as_i64().unwrap_or_default()
    );

    let deleted = app
        .send(
            Method::DELETE,
            &chat_room_path(acme.id, &id),
            &token(&acme.admin_token),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let gone = app.get(&room_path(&uuid), &key(&acme.api_key)).await;
    assert_chatapi_error(
        &gone,
        404,
        "ROOM_NOT_FOUND",
        "ChatAPI GET after account DELETE",
    );
}

#[actix_web::test]
async fn a_room_made_in_the_account_dialect_is_managed_through_the_chatapi() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let made = app
        .create_chat_room(acme.id, &acme.admin_token, "Harbour", Some("Docks"))
        .await;
    let id = made["id"].clone();

    let room = room_named(&app, &acme.api_key, "Harbour").await;
    let uuid = str_of(&room, "id").to_owned();
    assert_uuid(&uuid);
    assert_eq!(
        room,
        json!({
            "id": uuid,
            "name": "Harbour",
            "description": "Docks",
            "client_id": acme.account["uuid"],
            "is_active": true,
            "meta": {},
            "created_at": room["created_at"],
            "updated_at": room["updated_at"],
            "participant_count": 1,
            "message_count": 0,
        })
    );
    assert_eq!(unix_of(&room["created_at"]), made["created_at"]);
    let read = app.get(&room_path(&uuid), &key(&acme.admin_token)).await;
    assert_eq!(read.json()["data"], room);

    let updated = app
        .json(
            Method::PUT,
            &room_path(&uuid),
            &key(&acme.api_key),
            &json!({ "description": "Quay", "meta": { "berths": 4 } }),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    let seen = app
        .get(&chat_room_path(acme.id, &id), &token(&acme.admin_token))
        .await
        .json();
    assert_eq!(seen["description"], "Quay");
    assert_eq!(seen["name"], "Harbour");
    assert_eq!(seen["is_member"], true);
    assert_eq!(seen["members"], made["members"]);

    let off = app
        .send(
            Method::POST,
            &format!("{}/deactivate", room_path(&uuid)),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text());
    // Deactivated, the room is still there for the account dialect.
    let still = app
        .get(&chat_room_path(acme.id, &id), &token(&acme.admin_token))
        .await;
    assert_eq!(still.status, 200, "{}", still.text());
    assert_eq!(still.json()["name"], "Harbour");
    let listed = chat_room_named(&app, acme.id, &acme.admin_token, "Harbour").await;
    assert_eq!(listed["id"], id);

    let deleted = app
        .send(Method::DELETE, &room_path(&uuid), &key(&acme.api_key), None)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let gone = app
        .get(&chat_room_path(acme.id, &id), &token(&acme.admin_token))
        .await;
    assert_eq!(gone.status, 404, "{}", gone.text());
    assert_eq!(
        gone.json(),
        json!({ "error": "Resource could not be found" })
    );
}

#[actix_web::test]
async fn member_and_participant_counts_agree_across_dialects() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    app.create_room(&acme.api_key, json!({ "name": "by key (chatapi)" }))
        .await;
    app.create_room(&acme.admin_token, json!({ "name": "by admin (chatapi)" }))
        .await;
    app.create_chat_room(acme.id, &acme.api_key, "by key (account)", None)
        .await;
    app.create_chat_room(acme.id, &acme.admin_token, "by admin (account)", None)
        .await;
    let chatapi = rooms(&app, &acme.api_key, "sort=name").await;
    let account = chat_rooms(&app, acme.id, &acme.admin_token).await;
    assert_eq!(chatapi["pagination"]["total"], 4);
    assert_eq!(account.len(), 4);
    for room in chatapi["data"].as_array().into_iter().flatten() {
        let name = str_of(room, "name");
        let twin = account
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} is missing from the account dialect"));
        let expected = if name.starts_with("by admin") { 1 } else { 0 };
        assert_eq!(room["participant_count"], expected, "{name}");
        assert_eq!(twin["member_count"], expected, "{name}");
        assert_eq!(
            twin["members"].as_array().map(Vec::len),
            Some(expected),
            "{name}"
        );
        assert_eq!(twin["is_member"], expected == 1, "{name}");
        assert_eq!(unix_of(&room["created_at"]), twin["created_at"], "{name}");
        assert_eq!(room["description"], twin["description"], "{name}");
    }
}

/// `(method, path, body)` of every ChatAPI route on room `uuid`.
fn chatapi_routes(uuid: &str) -> Vec<(Method, String, Option<Vec<u8>>)> {
    let rename = serde_json::to_vec(&json!({ "name": "Owned" })).unwrap_or_default();
    let path = room_path(uuid);
    vec![
        (Method::GET, path.clone(), None),
        (Method::PUT, path.clone(), Some(rename)),
        (Method::POST, format!("{path}/deactivate"), None),
        (Method::POST, format!("{path}/activate"), None),
        (Method::DELETE, path, None),
    ]
}

/// `(method, path, body)` of every account-dialect route on room `id` of `account`.
fn account_routes(account: i64, id: &Value) -> Vec<(Method, String, Option<Vec<u8>>)> {
    let rename =
        serde_json::to_vec(&json!({ "chat_room": { "name": "Owned" } })).unwrap_or_default();
    vec![
        (Method::GET, chat_room_path(account, id), None),
        (Method::PUT, chat_room_path(account, id), Some(rename)),
        (Method::DELETE, chat_room_path(account, id), None),
    ]
}

#[actix_web::test]
async fn another_accounts_credentials_find_none_of_an_accounts_rooms() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let chatapi_room = app
        .create_room(&acme.admin_token, json!({ "name": "Acme secret" }))
        .await;
    let uuid = str_of(&chatapi_room, "id");
    let account_room = chat_room_named(&app, acme.id, &acme.admin_token, "Acme secret").await;
    let id = &account_room["id"];
    let rename_chat_room =
        serde_json::to_vec(&json!({ "chat_room": { "name": "Owned" } })).unwrap_or_default();
    let room_not_found = json!({
        "error": { "code": "ROOM_NOT_FOUND", "message": "Room not found" },
        "status": "error",
    });
    let resource_not_found = json!({ "error": "Resource could not be found" });

    for (who, credential) in [
        ("API key", &globex.api_key),
        ("administrator", &globex.admin_token),
        ("agent", &globex.agent_token),
    ] {
        // ChatAPI: A's room answers exactly as a room that does not exist: ROOM_NOT_FOUND
        // (for every caller, agents included: cross_account.rs checks every route).
        let unknown = "00000000-0000-4000-8000-000000000000";
        for ((method, route, body), (_, unknown_route, unknown_body)) in chatapi_routes(uuid)
            .into_iter()
            .zip(chatapi_routes(unknown))
        {
            let context = format!("{who}: ChatAPI {method} {route}");
            let reply = app
                .send(method.clone(), &route, &key(credential), body)
                .await;
            let like_unknown = app
                .send(
                    method.clone(),
                    &unknown_route,
                    &key(credential),
                    unknown_body,
                )
                .await;
            assert_eq!(reply.status, like_unknown.status, "{context}");
            assert_eq!(reply.json(), like_unknown.json(), "{context}");
            if who != "agent" || method == Method::GET {
                assert_eq!(reply.status, 404, "{context}: {}", reply.text());
                assert_eq!(reply.json(), room_not_found, "{context}");
            }
        }
        // Account dialect, A's account in the path: not B's to enter.
        let mut foreign = account_routes(acme.id, id);
        foreign.push((Method::GET, chat_rooms_path(acme.id), None));
        foreign.push((
            Method::POST,
            chat_rooms_path(acme.id),
            Some(rename_chat_room.clone()),
        ));
        for (method, route, body) in foreign {
            let context = format!("{who}: account {method} {route}");
            let reply = app.send(method, &route, &token(credential), body).await;
            let text = assert_account_error(&reply, 401, &context);
            assert_eq!(
                text, "You are not authorized to access this account",
                "{context}"
            );
        }
        // Account dialect, B's own account with A's room id: as a room that does not exist.
        for ((method, route, body), (_, unknown_route, unknown_body)) in
            account_routes(globex.id, id)
                .into_iter()
                .zip(account_routes(globex.id, &json!(999_999)))
        {
            let context = format!("{who}: account {method} {route}");
            let reply = app
                .send(method.clone(), &route, &token(credential), body)
                .await;
            let like_unknown = app
                .send(
                    method.clone(),
                    &unknown_route,
                    &token(credential),
                    unknown_body,
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
    // A's room is untouched, and B made nothing.
    let read = app.get(&room_path(uuid), &key(&acme.api_key)).await;
    assert_eq!(read.json()["data"], chatapi_room);
    assert_eq!(
        rooms(&app, &acme.api_key, "").await["pagination"]["total"],
        1
    );
    assert_eq!(
        rooms(&app, &globex.api_key, "").await["pagination"]["total"],
        0
    );
}

#[actix_web::test]
async fn lists_and_searches_never_show_another_accounts_rooms() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    app.create_room(&acme.api_key, json!({ "name": "Shared word alpha" }))
        .await;
    app.create_chat_room(acme.id, &acme.admin_token, "Shared word beta", Some("acme"))
        .await;
    app.create_room(&globex.api_key, json!({ "name": "Globex gamma" }))
        .await;

    for credential in [&globex.api_key, &globex.admin_token] {
        let all = rooms(&app, credential, "sort=name").await;
        let names: Vec<&Value> = all["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| &r["name"])
            .collect();
        assert_eq!(names, [&json!("Globex gamma")]);
        assert_eq!(all["pagination"]["total"], 1);
        for search in ["shared", "alpha", "acme", "word%20beta"] {
            let found = rooms(&app, credential, &format!("search={search}")).await;
            assert_eq!(found["data"], json!([]), "search={search}");
            assert_eq!(found["pagination"]["total"], 0, "search={search}");
        }
        let listed = chat_rooms(&app, globex.id, credential).await;
        let names: Vec<&Value> = listed.iter().map(|r| &r["name"]).collect();
        assert_eq!(names, [&json!("Globex gamma")]);
        assert!(listed.iter().all(|r| r["account_id"] == globex.id));
    }
    // And the other way round.
    let acme_names: Vec<String> = chat_rooms(&app, acme.id, &acme.admin_token)
        .await
        .iter()
        .map(|r| str_of(r, "name").to_owned())
        .collect();
    assert_eq!(acme_names, ["Shared word beta", "Shared word alpha"]);
    let found = rooms(&app, &acme.api_key, "search=gamma").await;
    assert_eq!(found["pagination"]["total"], 0);
}

#[actix_web::test]
async fn openapi_lists_every_room_route_with_its_method() {
    let app = TestApp::spawn().await;
    let reply = app.get("/openapi.json", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let doc = reply.json();
    let paths = doc["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths in {doc}"));
    let expected: [(&str, &[&str]); 7] = [
        ("/api/v1/rooms", &["get", "post"]),
        ("/api/v1/rooms/{room_id}", &["delete", "get", "put"]),
        ("/api/v1/rooms/{room_id}/deactivate", &["post"]),
        ("/api/v1/rooms/{room_id}/activate", &["post"]),
        ("/api/v1/accounts/{account_id}/chat_rooms", &["get", "post"]),
        (
            "/api/v1/accounts/{account_id}/chat_rooms/{id}",
            &["delete", "get", "patch", "put"],
        ),
        (
            "/api/v1/accounts/{account_id}/chat_rooms/{id}/avatar",
            &["delete"],
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
            assert!(
                item[*method]["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{path} {method} documents no response"
            );
        }
    }
    let create = &paths["/api/v1/rooms"]["post"]["responses"];
    assert!(create.get("201").is_some(), "{create}");
    let create_chat_room = &paths["/api/v1/accounts/{account_id}/chat_rooms"]["post"]["responses"];
    assert!(create_chat_room.get("200").is_some(), "{create_chat_room}");
}
