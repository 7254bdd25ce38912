//! ChatAPI users (`/api/v1/users`, CONTRACT §7): the integration's end users, made,
//! listed, read and changed with its API key; the same people the account dialect
//! shows and ChatAPI joins name.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

const USER_KEYS: [&str; 6] = [
    "created_at",
    "email",
    "is_active",
    "meta",
    "user_id",
    "user_name",
];

fn agents_path(account_id: i64) -> String {
    format!("/api/v1/accounts/{account_id}/agents")
}

/// The `data` of a success envelope with `status`.
fn data_of(reply: &Reply, status: u16, context: &str) -> Value {
    assert_eq!(reply.status, status, "{context}: {}", reply.text());
    let body = reply.json();
    assert_eq!(body["status"], "success", "{context}: {body}");
    body["data"].clone()
}

/// Creates `user_id` with the API key; answers its JSON.
async fn made(app: &TestApp, api_key: &str, body: Value) -> Value {
    let reply = app.create_end_user(api_key, &body).await;
    data_of(&reply, 201, "creating a user")
}

/// The `user_id`s of a list reply, in order.
fn user_ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array in {list}"))
        .iter()
        .map(|user| str_of(user, "user_id").to_owned())
        .collect()
}

async fn list(app: &TestApp, api_key: &str, query: &str) -> Value {
    let reply = app
        .get(&format!("{USERS}?{query}"), &[api_key_header(api_key)])
        .await;
    assert_eq!(
        reply.status,
        200,
        "listing users ?{query}: {}",
        reply.text()
    );
    reply.json()
}

#[actix_web::test]
async fn creating_a_user_answers_201_with_the_user_and_it_reads_back_the_same() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    // The collection is served with and without the trailing slash.
    let reply = app
        .json(
            Method::POST,
            "/api/v1/users/",
            &[api_key_header(&acme.api_key)],
            &json!({
                "user_id": "crm-42",
                "user_name": "Grace Hopper",
                "email": "grace@example.com",
                "meta": { "plan": "pro" },
            }),
        )
        .await;
    let user = data_of(&reply, 201, "create");
    assert_eq!(keys_of(&user), USER_KEYS);
    assert_eq!(user["user_id"], "crm-42");
    assert_eq!(user["user_name"], "Grace Hopper");
    assert_eq!(user["email"], "grace@example.com");
    assert_eq!(user["meta"], json!({ "plan": "pro" }));
    assert_eq!(user["is_active"], true);
    assert_rfc3339_near_now(&user["created_at"]);

    let read = app.get_end_user(&acme.api_key, "crm-42").await;
    assert_eq!(data_of(&read, 200, "get"), user);
    let slash = app
        .get("/api/v1/users/crm-42/", &[api_key_header(&acme.api_key)])
        .await;
    assert_eq!(data_of(&slash, 200, "get with a slash"), user);
}

#[actix_web::test]
async fn a_user_made_without_a_name_is_named_by_its_user_id_and_has_empty_meta() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let user = made(&app, &acme.api_key, json!({ "user_id": "anon-1" })).await;
    assert_eq!(user["user_name"], "anon-1");
    assert_eq!(user["email"], Value::Null);
    assert_eq!(user["meta"], json!({}));
}

#[actix_web::test]
async fn the_user_is_the_person_a_join_names_and_the_account_dialect_shows() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    made(
        &app,
        &acme.api_key,
        json!({ "user_id": "crm-7", "user_name": "Ann" }),
    )
    .await;
    let room = app
        .create_room(&acme.api_key, json!({ "name": "Sales" }))
        .await;
    let uuid = str_of(&room, "id");
    app.join_ok(&acme.api_key, uuid, "crm-7").await;
    let participants = app.participants(&acme.api_key, uuid).await;
    assert_eq!(participants.len(), 1, "{participants:?}");
    assert_eq!(participants[0]["user_name"], "Ann");

    let agents = app
        .get(
            &agents_path(acme.id),
            &[("api_access_token", acme.api_key.as_str())],
        )
        .await;
    assert_eq!(agents.status, 200, "{}", agents.text());
    let names: Vec<Value> = agents
        .json()
        .as_array()
        .map(|all| all.iter().map(|agent| agent["name"].clone()).collect())
        .unwrap_or_default();
    assert!(names.contains(&json!("Ann")), "{names:?}");
    // And a join of an unknown user_id made a user the users API lists.
    app.join_ok(&acme.api_key, uuid, "crm-8").await;
    let read = app.get_end_user(&acme.api_key, "crm-8").await;
    assert_eq!(data_of(&read, 200, "joined user")["user_id"], "crm-8");
}

#[actix_web::test]
async fn a_user_made_without_a_user_id_is_read_by_its_integer_id() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let id = acme.agent["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {}", acme.agent))
        .to_string();
    let read = app.get_end_user(&acme.api_key, &id).await;
    let user = data_of(&read, 200, "platform-made user");
    assert_eq!(user["user_id"], json!(id));
    assert_eq!(user["user_name"], "Alan Agent");
}

#[actix_web::test]
async fn a_taken_user_id_is_409_user_exists_and_a_taken_email_is_422() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    made(
        &app,
        &acme.api_key,
        json!({ "user_id": "u1", "email": "one@example.com" }),
    )
    .await;
    let again = app
        .create_end_user(&acme.api_key, &json!({ "user_id": "u1" }))
        .await;
    assert_chatapi_error(&again, 409, "USER_EXISTS", "same user_id");
    let email = app
        .create_end_user(
            &acme.api_key,
            &json!({ "user_id": "u2", "email": "one@example.com" }),
        )
        .await;
    let error = assert_chatapi_error(&email, 422, "VALIDATION_ERROR", "same email");
    assert!(error["details"]["email"].is_string(), "{error}");
    // Another account has its own user_ids.
    let other = app.tenant("Other").await;
    made(&app, &other.api_key, json!({ "user_id": "u1" })).await;
}

#[actix_web::test]
async fn bad_bodies_are_400_or_422_naming_every_field() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let missing = app
        .create_end_user(&acme.api_key, &json!({ "email": "not-an-email" }))
        .await;
    let error = assert_chatapi_error(&missing, 422, "VALIDATION_ERROR", "no user_id");
    assert!(error["details"]["user_id"].is_string(), "{error}");
    assert!(error["details"]["email"].is_string(), "{error}");

    let meta = app
        .create_end_user(
            &acme.api_key,
            &json!({ "user_id": "u", "meta": { "blob": "x".repeat(17 * 1024) } }),
        )
        .await;
    let error = assert_chatapi_error(&meta, 422, "VALIDATION_ERROR", "meta too large");
    assert!(error["details"]["meta"].is_string(), "{error}");

    let malformed = app
        .send(
            Method::POST,
            USERS,
            &[api_key_header(&acme.api_key)],
            Some(b"{\"user_id\": ".to_vec()),
        )
        .await;
    assert_chatapi_error(&malformed, 400, "INVALID_REQUEST", "malformed JSON");
    let wrong_type = app
        .create_end_user(&acme.api_key, &json!({ "user_id": 42 }))
        .await;
    assert_chatapi_error(&wrong_type, 400, "INVALID_REQUEST", "user_id a number");
    let nothing_stored = list(&app, &acme.api_key, "search=u").await;
    assert_eq!(nothing_stored["pagination"]["total"], 0, "{nothing_stored}");
}

#[actix_web::test]
async fn the_users_routes_take_only_the_api_key() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    made(&app, &acme.api_key, json!({ "user_id": "u1" })).await;
    let scoped = app.scoped_key(&acme.api_key, "u1", None).await;
    for credential in [
        acme.admin_token.as_str(),
        acme.agent_token.as_str(),
        scoped.as_str(),
        "sk_unknown",
    ] {
        let headers = [api_key_header(credential)];
        let create = app
            .json(Method::POST, USERS, &headers, &json!({ "user_id": "u2" }))
            .await;
        assert_chatapi_error(&create, 401, "UNAUTHORIZED", "create");
        let listed = app.get(USERS, &headers).await;
        assert_chatapi_error(&listed, 401, "UNAUTHORIZED", "list");
        let put = app
            .json(
                Method::PUT,
                &user_path("u1"),
                &headers,
                &json!({ "user_name": "x" }),
            )
            .await;
        assert_chatapi_error(&put, 401, "UNAUTHORIZED", "update");
        let login = app.login(credential, &json!({ "user_id": "u1" })).await;
        assert_chatapi_error(&login, 401, "UNAUTHORIZED", "login");
        let revoke = app.revoke_tokens(credential, "u1").await;
        assert_chatapi_error(&revoke, 401, "UNAUTHORIZED", "revoke-tokens");
    }
    // Refused before the body is read: a bad body is still a 401.
    let bad = app
        .send(
            Method::POST,
            USERS,
            &[api_key_header(&acme.agent_token)],
            Some(b"not json".to_vec()),
        )
        .await;
    assert_chatapi_error(&bad, 401, "UNAUTHORIZED", "bad body, wrong caller");
    let none = app.get(USERS, &[]).await;
    assert_chatapi_error(&none, 401, "UNAUTHORIZED", "no credential");
    // The key still works: nothing above revoked it.
    assert_eq!(app.rooms_status(&scoped).await, 200);
}

#[actix_web::test]
async fn a_user_reads_itself_with_its_own_key_and_not_another() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let ann = app.scoped_key(&acme.api_key, "ann", None).await;
    app.scoped_key(&acme.api_key, "bob", None).await;
    let own = app.get_end_user(&ann, "ann").await;
    assert_eq!(data_of(&own, 200, "own")["user_id"], "ann");
    let other = app.get_end_user(&ann, "bob").await;
    assert_chatapi_error(&other, 403, "PERMISSION_DENIED", "another user");
    // A user's own access token is no end-user credential: only the API key reads users.
    let agent = app.get_end_user(&acme.agent_token, "bob").await;
    assert_chatapi_error(&agent, 401, "UNAUTHORIZED", "an agent's access token");
}

#[actix_web::test]
async fn an_unknown_or_another_accounts_user_is_404_user_not_found() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let other = app.tenant("Other").await;
    made(&app, &other.api_key, json!({ "user_id": "theirs" })).await;
    for user_id in ["nobody", "theirs"] {
        let get = app.get_end_user(&acme.api_key, user_id).await;
        assert_chatapi_error(&get, 404, "USER_NOT_FOUND", user_id);
        let put = app
            .update_end_user(&acme.api_key, user_id, &json!({ "user_name": "X" }))
            .await;
        assert_chatapi_error(&put, 404, "USER_NOT_FOUND", user_id);
        let revoke = app.revoke_tokens(&acme.api_key, user_id).await;
        assert_chatapi_error(&revoke, 404, "USER_NOT_FOUND", user_id);
    }
    let theirs = app.get_end_user(&other.api_key, "theirs").await;
    assert_eq!(theirs.status, 200, "{}", theirs.text());
}

#[actix_web::test]
async fn put_replaces_the_fields_it_is_given_and_keeps_the_others() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let before = made(
        &app,
        &acme.api_key,
        json!({ "user_id": "u1", "user_name": "Ann", "email": "ann@example.com", "meta": { "a": 1 } }),
    )
    .await;
    let reply = app
        .update_end_user(&acme.api_key, "u1", &json!({ "meta": { "b": 2 } }))
        .await;
    let after = data_of(&reply, 200, "put meta");
    assert_eq!(after["meta"], json!({ "b": 2 }));
    assert_eq!(after["user_name"], "Ann");
    assert_eq!(after["email"], "ann@example.com");
    assert_eq!(after["created_at"], before["created_at"]);

    let reply = app
        .update_end_user(
            &acme.api_key,
            "u1",
            &json!({ "user_name": "Annie", "email": "annie@example.com" }),
        )
        .await;
    let after = data_of(&reply, 200, "put name and email");
    assert_eq!(after["user_name"], "Annie");
    assert_eq!(after["email"], "annie@example.com");
    assert_eq!(after["meta"], json!({ "b": 2 }));

    let blank = app
        .update_end_user(&acme.api_key, "u1", &json!({ "user_name": "  " }))
        .await;
    let error = assert_chatapi_error(&blank, 422, "VALIDATION_ERROR", "blank name");
    assert!(error["details"]["user_name"].is_string(), "{error}");
    let null = app
        .update_end_user(&acme.api_key, "u1", &json!({ "user_name": null }))
        .await;
    assert_chatapi_error(&null, 400, "INVALID_REQUEST", "null name");
    let wrong = app
        .update_end_user(&acme.api_key, "u1", &json!({ "is_active": "no" }))
        .await;
    assert_chatapi_error(&wrong, 400, "INVALID_REQUEST", "is_active a string");
    let read = app.get_end_user(&acme.api_key, "u1").await;
    assert_eq!(data_of(&read, 200, "unchanged")["user_name"], "Annie");
}

#[actix_web::test]
async fn a_deactivated_user_is_refused_until_it_is_active_again() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let key = app.scoped_key(&acme.api_key, "u1", None).await;
    assert_eq!(app.rooms_status(&key).await, 200);

    let reply = app
        .update_end_user(&acme.api_key, "u1", &json!({ "is_active": false }))
        .await;
    assert_eq!(data_of(&reply, 200, "deactivate")["is_active"], false);
    let refused = app.get(ROOMS, &[api_key_header(&key)]).await;
    assert_chatapi_error(&refused, 401, "UNAUTHORIZED", "inactive user's key");
    let login = app.login(&acme.api_key, &json!({ "user_id": "u1" })).await;
    assert_chatapi_error(&login, 403, "USER_INACTIVE", "login while inactive");

    let reply = app
        .update_end_user(&acme.api_key, "u1", &json!({ "is_active": true }))
        .await;
    assert_eq!(data_of(&reply, 200, "reactivate")["is_active"], true);
    let key = app.scoped_key(&acme.api_key, "u1", None).await;
    assert_eq!(app.rooms_status(&key).await, 200);
}

#[actix_web::test]
async fn the_list_pages_searches_and_clamps_its_limit() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for (user_id, name, email) in [
        ("crm-1", "Ada Lovelace", "ada@example.com"),
        ("crm-2", "Grace Hopper", "grace@navy.example"),
        ("crm-3", "Alan Turing", "alan@example.com"),
        ("crm-4", "Edsger Dijkstra", "edsger@example.nl"),
    ] {
        made(
            &app,
            &acme.api_key,
            json!({ "user_id": user_id, "user_name": name, "email": email }),
        )
        .await;
    }
    // The tenant's administrator and agent are users too (made first).
    let all = list(&app, &acme.api_key, "").await;
    assert_eq!(all["pagination"]["total"], 6, "{all}");
    assert_eq!(all["pagination"]["limit"], 20, "{all}");
    assert_eq!(all["pagination"]["skip"], 0, "{all}");
    assert_eq!(all["pagination"]["has_more"], false, "{all}");
    let ids = user_ids(&all);
    assert_eq!(
        &ids[2..],
        ["crm-1", "crm-2", "crm-3", "crm-4"],
        "oldest first"
    );

    let page = list(&app, &acme.api_key, "skip=3&limit=2").await;
    assert_eq!(user_ids(&page), ["crm-2", "crm-3"]);
    assert_eq!(
        page["pagination"],
        json!({ "skip": 3, "limit": 2, "total": 6, "has_more": true })
    );
    let clamped = list(&app, &acme.api_key, "limit=500").await;
    assert_eq!(clamped["pagination"]["limit"], 100, "{clamped}");

    for (search, expected) in [
        ("GRACE", vec!["crm-2"]),
        ("example.com", vec!["crm-1", "crm-3"]),
        ("CRM-4", vec!["crm-4"]),
        ("  turing ", vec!["crm-3"]),
        ("nobody", vec![]),
    ] {
        let found = list(
            &app,
            &acme.api_key,
            &format!("search={}", query_escape(search)),
        )
        .await;
        assert_eq!(user_ids(&found), expected, "search {search:?}");
        assert_eq!(
            found["pagination"]["total"],
            json!(expected.len()),
            "search {search:?}"
        );
    }

    for query in ["skip=-1", "limit=0"] {
        let reply = app
            .get(
                &format!("{USERS}?{query}"),
                &[api_key_header(&acme.api_key)],
            )
            .await;
        assert_chatapi_error(&reply, 422, "VALIDATION_ERROR", query);
    }
    let reply = app
        .get(
            &format!("{USERS}?limit=many"),
            &[api_key_header(&acme.api_key)],
        )
        .await;
    assert_chatapi_error(&reply, 400, "INVALID_REQUEST", "limit not a number");
    // Another account's users are never listed.
    let other = app.tenant("Other").await;
    let theirs = list(&app, &other.api_key, "search=crm").await;
    assert_eq!(theirs["pagination"]["total"], 0, "{theirs}");
}

#[actix_web::test]
async fn an_agent_deleted_in_the_account_dialect_is_gone_from_the_users_api() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    made(
        &app,
        &acme.api_key,
        json!({ "user_id": "leaver", "user_name": "Leaver" }),
    )
    .await;
    let key = app.scoped_key(&acme.api_key, "leaver", None).await;
    let agents = app
        .get(
            &agents_path(acme.id),
            &[("api_access_token", acme.api_key.as_str())],
        )
        .await;
    let id = agents
        .json()
        .as_array()
        .and_then(|all| all.iter().find(|agent| agent["name"] == "Leaver").cloned())
        .and_then(|agent| agent["id"].as_i64())
        .unwrap_or_else(|| panic!("the agent is not listed: {}", agents.text()));
    let deleted = app
        .send(
            Method::DELETE,
            &format!("{}/{id}", agents_path(acme.id)),
            &[("api_access_token", acme.api_key.as_str())],
            None,
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());

    let get = app.get_end_user(&acme.api_key, "leaver").await;
    assert_chatapi_error(&get, 404, "USER_NOT_FOUND", "deleted agent");
    let listed = list(&app, &acme.api_key, "search=leaver").await;
    assert_eq!(listed["pagination"]["total"], 0, "{listed}");
    let refused = app.get(ROOMS, &[api_key_header(&key)]).await;
    assert_chatapi_error(&refused, 401, "UNAUTHORIZED", "deleted user's key");
}
