//! Account-dialect agents (`/api/v1/accounts/{account_id}/agents`): CONTRACT §7, as
//! Chatwoot's agents API.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

const AGENT_KEYS: [&str; 8] = [
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

fn agents_path(account_id: i64) -> String {
    format!("/api/v1/accounts/{account_id}/agents")
}

fn agent_path(account_id: i64, id: impl std::fmt::Display) -> String {
    format!("/api/v1/accounts/{account_id}/agents/{id}")
}

fn id_of(user: &Value) -> i64 {
    user["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {user}"))
}

fn keys_of(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

async fn list(app: &TestApp, account_id: i64, credential: &str) -> Reply {
    app.get(&agents_path(account_id), &token(credential)).await
}

async fn create(app: &TestApp, account_id: i64, credential: &str, body: Value) -> Reply {
    app.json(
        Method::POST,
        &agents_path(account_id),
        &token(credential),
        &body,
    )
    .await
}

async fn update(app: &TestApp, account_id: i64, id: i64, credential: &str, body: Value) -> Reply {
    app.json(
        Method::PATCH,
        &agent_path(account_id, id),
        &token(credential),
        &body,
    )
    .await
}

async fn remove(app: &TestApp, account_id: i64, id: i64, credential: &str) -> Reply {
    app.send(
        Method::DELETE,
        &agent_path(account_id, id),
        &token(credential),
        None,
    )
    .await
}

async fn new_token(app: &TestApp, account_id: i64, id: i64, credential: &str) -> Reply {
    app.send(
        Method::POST,
        &format!("{}/access_token", agent_path(account_id, id)),
        &token(credential),
        None,
    )
    .await
}

fn ids_listed(reply: &Reply) -> Vec<i64> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply
        .json()
        .as_array()
        .map(|agents| agents.iter().map(id_of).collect())
        .unwrap_or_else(|| panic!("not an array: {}", reply.text()))
}

#[actix_web::test]
async fn every_user_of_the_account_lists_its_agents_oldest_first() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let expected = vec![id_of(&tenant.admin), id_of(&tenant.agent)];
    for credential in [&tenant.api_key, &tenant.admin_token, &tenant.agent_token] {
        let reply = list(&app, tenant.id, credential).await;
        assert_eq!(ids_listed(&reply), expected);
        let first = &reply.json()[0];
        assert_eq!(keys_of(first), AGENT_KEYS.map(str::to_owned).to_vec());
        assert_eq!(first["role"], "administrator");
        assert_eq!(first["account_id"], tenant.id);
        assert_eq!(first["thumbnail"], Value::Null);
    }
}

#[actix_web::test]
async fn the_api_key_and_administrators_create_agents_whose_token_works() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let reply = create(
        &app,
        tenant.id,
        &tenant.api_key,
        json!({ "name": "Bea", "email": "bea@example.com", "availability_status": "busy" }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let bea = reply.json();
    assert_eq!(bea["name"], "Bea");
    assert_eq!(bea["email"], "bea@example.com");
    assert_eq!(bea["role"], "agent");
    assert_eq!(bea["availability_status"], "busy");
    let bea_token = str_of(&bea, "access_token").to_owned();
    assert_eq!(
        ids_listed(&list(&app, tenant.id, &bea_token).await).len(),
        3
    );

    let reply = create(
        &app,
        tenant.id,
        &tenant.admin_token,
        json!({ "name": "Cy", "email": "cy@example.com", "role": "administrator" }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["role"], "administrator");
    let listed = list(&app, tenant.id, &tenant.agent_token).await.json();
    assert!(
        listed
            .as_array()
            .is_some_and(|agents| agents.iter().all(|a| a.get("access_token").is_none())),
        "tokens are shown once: {listed}"
    );
}

#[actix_web::test]
async fn an_agent_may_not_change_agents_and_another_account_is_refused() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let other = app.tenant("Other").await;
    let denied = json!({ "error": "Only administrators can do this action" });
    let body = json!({ "name": "Bea", "email": "bea@example.com" });
    let agent = id_of(&tenant.agent);
    let replies = [
        create(&app, tenant.id, &tenant.agent_token, body.clone()).await,
        update(
            &app,
            tenant.id,
            agent,
            &tenant.agent_token,
            json!({ "name": "X" }),
        )
        .await,
        remove(&app, tenant.id, agent, &tenant.agent_token).await,
        new_token(&app, tenant.id, agent, &tenant.agent_token).await,
    ];
    for reply in replies {
        assert_eq!(reply.status, 403, "{}", reply.text());
        assert_eq!(reply.json(), denied);
    }
    // 403 comes before validation.
    let reply = create(&app, tenant.id, &tenant.agent_token, json!({})).await;
    assert_eq!(reply.status, 403, "{}", reply.text());

    let wrong_account = json!({ "error": "You are not authorized to access this account" });
    for credential in [&other.api_key, &other.admin_token] {
        let reply = list(&app, tenant.id, credential).await;
        assert_eq!(reply.status, 401, "{}", reply.text());
        assert_eq!(reply.json(), wrong_account);
        let reply = create(&app, tenant.id, credential, body.clone()).await;
        assert_eq!(reply.status, 401, "{}", reply.text());
        let reply = remove(&app, tenant.id, agent, credential).await;
        assert_eq!(reply.status, 401, "{}", reply.text());
    }
    let reply = list(&app, tenant.id, "nope").await;
    assert_eq!(reply.status, 401, "{}", reply.text());
    assert_eq!(reply.json(), json!({ "error": "Invalid Access Token" }));
    let reply = list(&app, tenant.id + other.id + 1000, &tenant.api_key).await;
    assert_eq!(reply.status, 404, "{}", reply.text());
}

#[actix_web::test]
async fn invalid_fields_and_a_taken_email_are_422_naming_them() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let cases = [
        (json!({ "name": "Bea" }), json!(["email"])),
        (json!({ "email": "b@example.com" }), json!(["name"])),
        (
            json!({ "name": " ", "email": "nope", "role": "boss", "availability_status": "away" }),
            json!(["name", "email", "role", "availability_status"]),
        ),
    ];
    for (body, attributes) in cases {
        let reply = create(&app, tenant.id, &tenant.api_key, body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.json()["attributes"], attributes, "{body}");
    }
    let bea = json!({ "name": "Bea", "email": "bea@example.com" });
    let reply = create(&app, tenant.id, &tenant.api_key, bea.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let bea_id = id_of(&reply.json());
    let reply = create(&app, tenant.id, &tenant.api_key, bea).await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "message": "Email has already been taken", "attributes": ["email"] })
    );
    // Another account may use the same email.
    let other = app.tenant("Other").await;
    let reply = create(
        &app,
        other.id,
        &other.api_key,
        json!({ "name": "Bea", "email": "bea@example.com" }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    let agent = id_of(&tenant.agent);
    let reply = update(
        &app,
        tenant.id,
        agent,
        &tenant.api_key,
        json!({ "email": "bea@example.com" }),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(reply.json()["attributes"], json!(["email"]));
    for body in [
        json!({ "name": null }),
        json!({ "role": "boss" }),
        json!({ "name": "" }),
    ] {
        let reply = update(&app, tenant.id, bea_id, &tenant.api_key, body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
    }
}

#[actix_web::test]
async fn patch_changes_an_agent_and_a_new_role_takes_effect_at_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let agent = id_of(&tenant.agent);
    let reply = create_chat_room_as(&app, &tenant, &tenant.agent_token).await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    let reply = update(
        &app,
        tenant.id,
        agent,
        &tenant.admin_token,
        json!({ "name": "Alan T", "email": "alan@example.com", "role": "administrator", "availability_status": "busy" }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let changed = reply.json();
    assert_eq!(keys_of(&changed), AGENT_KEYS.map(str::to_owned).to_vec());
    assert_eq!(changed["name"], "Alan T");
    assert_eq!(changed["email"], "alan@example.com");
    assert_eq!(changed["role"], "administrator");
    assert_eq!(changed["availability_status"], "busy");
    let reply = create_chat_room_as(&app, &tenant, &tenant.agent_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // An empty patch changes nothing.
    let reply = update(&app, tenant.id, agent, &tenant.api_key, json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["name"], "Alan T");
}

async fn create_chat_room_as(app: &TestApp, tenant: &Tenant, credential: &str) -> Reply {
    app.json(
        Method::POST,
        &chat_rooms_path(tenant.id),
        &token(credential),
        &json!({ "chat_room": { "name": "General" } }),
    )
    .await
}

#[actix_web::test]
async fn a_new_access_token_works_and_the_old_one_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let agent = id_of(&tenant.agent);
    // The old token is used (and remembered by the credential cache) first.
    assert_eq!(list(&app, tenant.id, &tenant.agent_token).await.status, 200);
    let reply = new_token(&app, tenant.id, agent, &tenant.api_key).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let issued = reply.json();
    assert_eq!(id_of(&issued), agent);
    let fresh = str_of(&issued, "access_token").to_owned();
    assert_ne!(fresh, tenant.agent_token);
    let reply = list(&app, tenant.id, &tenant.agent_token).await;
    assert_eq!(reply.status, 401, "{}", reply.text());
    assert_eq!(list(&app, tenant.id, &fresh).await.status, 200);
    // An administrator may issue one too.
    let reply = new_token(&app, tenant.id, agent, &tenant.admin_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(list(&app, tenant.id, &fresh).await.status, 401);
}

async fn member_count(app: &TestApp, tenant: &Tenant, room: i64) -> Option<i64> {
    let reply = app
        .get(&chat_room_path(tenant.id, room), &token(&tenant.api_key))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["member_count"].as_i64()
}

#[actix_web::test]
async fn deleting_an_agent_keeps_its_messages_and_fixes_member_count() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let agent = id_of(&tenant.agent);
    let room = id_of(
        &app.create_chat_room(tenant.id, &tenant.admin_token, "General", None)
            .await,
    );
    let reply = app
        .members_request(
            Method::POST,
            tenant.id,
            room,
            &tenant.api_key,
            &json!({ "user_ids": [agent] }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    app.send_chat_message_ok(tenant.id, room, &tenant.agent_token, "hello")
        .await;
    assert_eq!(member_count(&app, &tenant, room).await, Some(2));

    let reply = remove(&app, tenant.id, agent, &tenant.admin_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.body.is_empty());

    assert_eq!(member_count(&app, &tenant, room).await, Some(1));
    assert_eq!(
        app.members(tenant.id, &tenant.api_key, room)
            .await
            .iter()
            .map(id_of)
            .collect::<Vec<_>>(),
        vec![id_of(&tenant.admin)]
    );
    let messages = app
        .chat_messages(tenant.id, room, &tenant.admin_token, "")
        .await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["content"], "hello");
    assert_eq!(messages[0]["sender"], Value::Null, "{}", messages[0]);
    assert_eq!(
        ids_listed(&list(&app, tenant.id, &tenant.api_key).await),
        vec![id_of(&tenant.admin)]
    );
    let reply = list(&app, tenant.id, &tenant.agent_token).await;
    assert_eq!(reply.status, 401, "{}", reply.text());
    for reply in [
        remove(&app, tenant.id, agent, &tenant.api_key).await,
        update(
            &app,
            tenant.id,
            agent,
            &tenant.api_key,
            json!({ "name": "X" }),
        )
        .await,
        new_token(&app, tenant.id, agent, &tenant.api_key).await,
    ] {
        assert_eq!(reply.status, 404, "{}", reply.text());
    }
    // Adding the deleted user to a room names nobody.
    let reply = app
        .members_request(
            Method::POST,
            tenant.id,
            room,
            &tenant.api_key,
            &json!({ "user_ids": [agent] }),
        )
        .await;
    assert_eq!(reply.status, 404, "{}", reply.text());
}

#[actix_web::test]
async fn another_accounts_agent_ids_and_malformed_ids_are_404() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let other = app.tenant("Other").await;
    let theirs = id_of(&other.agent);
    let not_found = json!({ "error": "Resource could not be found" });
    for reply in [
        update(
            &app,
            tenant.id,
            theirs,
            &tenant.api_key,
            json!({ "name": "X" }),
        )
        .await,
        remove(&app, tenant.id, theirs, &tenant.api_key).await,
        new_token(&app, tenant.id, theirs, &tenant.admin_token).await,
        app.send(
            Method::DELETE,
            &agent_path(tenant.id, "abc"),
            &token(&tenant.api_key),
            None,
        )
        .await,
    ] {
        assert_eq!(reply.status, 404, "{}", reply.text());
        assert_eq!(reply.json(), not_found);
    }
    // Their agent is untouched and its token still works.
    let reply = list(&app, other.id, &other.agent_token).await;
    assert_eq!(ids_listed(&reply).len(), 2);
}
