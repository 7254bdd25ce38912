//! The platform API (`/platform/api/v1`): accounts and users, with the operator's
//! platform token, in the account dialect.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

const ACCOUNTS: &str = "/platform/api/v1/accounts";

fn account_path(id: &Value) -> String {
    format!("{ACCOUNTS}/{id}")
}

fn users_path(id: &Value) -> String {
    format!("{ACCOUNTS}/{id}/users")
}

async fn create_account_with(app: &TestApp, body: &Value) -> Reply {
    app.json(Method::POST, ACCOUNTS, &[platform_auth()], body)
        .await
}

async fn patch_account(app: &TestApp, id: &Value, body: &Value) -> Reply {
    app.json(Method::PATCH, &account_path(id), &[platform_auth()], body)
        .await
}

async fn post_user(app: &TestApp, account_id: &Value, body: &Value) -> Reply {
    app.json(
        Method::POST,
        &users_path(account_id),
        &[platform_auth()],
        body,
    )
    .await
}

async fn me_status(app: &TestApp, credential: &str) -> u16 {
    app.get("/api/v1/clients/me", &[api_key_header(credential)])
        .await
        .status
}

fn invalid_token() -> Value {
    json!({ "error": "Invalid Access Token" })
}

fn not_found() -> Value {
    json!({ "error": "Resource could not be found" })
}

fn name_blank() -> Value {
    json!({ "message": "Name can't be blank", "attributes": ["name"] })
}

/// Asserts the reply is a 422 whose `attributes` are exactly `fields`; answers its message.
fn assert_invalid(reply: &Reply, fields: &[&str]) -> String {
    assert_eq!(reply.status, 422, "{}", reply.text());
    let body = reply.json();
    assert_eq!(keys_of(&body), ["attributes", "message"], "{body}");
    assert_eq!(body["attributes"], json!(fields), "{body}");
    let message = str_of(&body, "message").to_owned();
    assert!(!message.is_empty(), "{body}");
    message
}

// ---------------------------------------------------------------- creating accounts

#[actix_web::test]
async fn creating_an_account_answers_the_account_with_its_api_key() {
    let app = TestApp::spawn().await;
    let reply = create_account_with(&app, &json!({ "name": "Acme" })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{reply:?}"
    );
    let account = reply.json();
    assert!(account["id"].as_i64().is_some_and(|id| id > 0), "{account}");
    assert_uuid(str_of(&account, "uuid"));
    assert_secret(str_of(&account, "api_key"), "ck_");
    let created = assert_unix_near_now(&account["created_at"]);
    assert_eq!(account["updated_at"], json!(created), "{account}");
    assert_eq!(
        account,
        json!({
            "id": account["id"],
            "uuid": account["uuid"],
            "name": "Acme",
            "description": null,
            "is_active": true,
            "features": { "chat_rooms": true },
            "api_key": account["api_key"],
            "created_at": created,
            "updated_at": created,
        })
    );
}

#[actix_web::test]
async fn each_account_gets_its_own_id_uuid_and_api_key() {
    let app = TestApp::spawn().await;
    let first = app.create_account("One").await;
    let second = app.create_account("Two").await;
    assert_ne!(first["id"], second["id"]);
    assert_ne!(first["uuid"], second["uuid"]);
    assert_ne!(first["api_key"], second["api_key"]);
}

#[actix_web::test]
async fn account_name_is_trimmed_and_description_is_kept() {
    let app = TestApp::spawn().await;
    let reply = create_account_with(
        &app,
        &json!({ "name": "  \t Acme Support \n", "description": "The help desk" }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let account = reply.json();
    assert_eq!(account["name"], "Acme Support");
    assert_eq!(account["description"], "The help desk");
}

#[actix_web::test]
async fn platform_token_is_accepted_in_each_credential_header() {
    let app = TestApp::spawn().await;
    let bearer = format!("Bearer {PLATFORM_TOKEN}");
    let headers: [(&str, &str); 3] = [
        ("authorization", &bearer),
        ("x-api-key", PLATFORM_TOKEN),
        ("api_access_token", PLATFORM_TOKEN),
    ];
    for header in headers {
        let reply = app
            .json(
                Method::POST,
                ACCOUNTS,
                &[header],
                &json!({ "name": header.0 }),
            )
            .await;
        assert_eq!(reply.status, 200, "{header:?}: {}", reply.text());
        assert_eq!(reply.json()["name"], header.0);
    }
}

#[actix_web::test]
async fn account_without_a_name_is_refused_as_blank() {
    let app = TestApp::spawn().await;
    for body in [
        json!({}),
        json!({ "name": null }),
        json!({ "name": "" }),
        json!({ "name": "   \t\n" }),
        json!({ "description": "no name" }),
    ] {
        let reply = create_account_with(&app, &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.json(), name_blank(), "{body}");
    }
}

#[actix_web::test]
async fn account_name_may_hold_255_characters_but_not_256() {
    let app = TestApp::spawn().await;
    let longest = "é".repeat(255);
    let reply = create_account_with(&app, &json!({ "name": longest })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["name"], json!(longest));

    let reply = create_account_with(&app, &json!({ "name": "n".repeat(256) })).await;
    let message = assert_invalid(&reply, &["name"]);
    assert!(message.starts_with("Name "), "{message}");
    assert!(message.contains("maximum is 255"), "{message}");
}

#[actix_web::test]
async fn account_description_may_hold_10000_characters_but_not_10001() {
    let app = TestApp::spawn().await;
    let longest = "d".repeat(10_000);
    let reply = create_account_with(&app, &json!({ "name": "Acme", "description": longest })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["description"], json!(longest));

    let reply = create_account_with(
        &app,
        &json!({ "name": "Acme", "description": "d".repeat(10_001) }),
    )
    .await;
    let message = assert_invalid(&reply, &["description"]);
    assert!(message.starts_with("Description "), "{message}");
    assert!(message.contains("10000"), "{message}");
}

#[actix_web::test]
async fn every_bad_account_field_is_listed_in_order() {
    let app = TestApp::spawn().await;
    let reply = create_account_with(
        &app,
        &json!({ "name": " ", "description": "d".repeat(10_001) }),
    )
    .await;
    let message = assert_invalid(&reply, &["name", "description"]);
    assert!(
        message.starts_with("Name can't be blank, Description "),
        "{message}"
    );
}

// ---------------------------------------------------------------- who may call

#[actix_web::test]
async fn other_credentials_are_refused_on_every_platform_route() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let id = &tenant.account["id"];
    let api_key = tenant.api_key.clone();
    let user_token = tenant.agent_token.clone();
    let unknown = format!("ck_{}", "0".repeat(64));

    let bearer_key = format!("Bearer {api_key}");
    let bearer_user = format!("Bearer {user_token}");
    let basic_platform = format!("Basic {PLATFORM_TOKEN}");
    let credentials: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("x-api-key", &api_key)],
        vec![("authorization", &bearer_key)],
        vec![("api_access_token", &api_key)],
        vec![("api_access_token", &user_token)],
        vec![("authorization", &bearer_user)],
        vec![("x-api-key", &user_token)],
        vec![("x-api-key", &unknown)],
        vec![("authorization", "Bearer")],
        vec![("authorization", &basic_platform)],
        vec![("x-api-key", "")],
    ];
    let routes = [
        (
            Method::POST,
            ACCOUNTS.to_owned(),
            json!({ "name": "Intruder" }),
        ),
        (
            Method::PATCH,
            account_path(id),
            json!({ "name": "Hijacked" }),
        ),
        (Method::POST, users_path(id), json!({ "name": "Mallory" })),
    ];
    for headers in &credentials {
        for (method, path, body) in &routes {
            let reply = app.json(method.clone(), path, headers, body).await;
            assert_eq!(
                reply.status,
                401,
                "{method} {path} {headers:?}: {}",
                reply.text()
            );
            assert_eq!(reply.json(), invalid_token(), "{method} {path} {headers:?}");
            assert_eq!(reply.header("content-type"), Some("application/json"));
        }
    }

    // Nothing was changed by the refused requests.
    let unchanged = patch_account(&app, id, &json!({})).await;
    assert_eq!(unchanged.status, 200, "{}", unchanged.text());
    assert_eq!(unchanged.json()["name"], "Acme");
    let taken = post_user(&app, id, &json!({ "name": "Mallory", "external_id": "m" })).await;
    assert_eq!(taken.status, 200, "{}", taken.text());
    assert_eq!(
        taken.json()["id"],
        json!(tenant.agent["id"].as_i64().unwrap_or(0) + 1),
        "a refused request created a user"
    );
}

#[actix_web::test]
async fn non_platform_credentials_are_refused_before_the_body_is_validated() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let id = &tenant.account["id"];
    let api_key = tenant.api_key.clone();
    let user_token = tenant.agent_token.clone();
    let unknown = format!("ut_{}", "f".repeat(64));

    let bodies: [&[u8]; 5] = [
        b"{",
        b"",
        br#"{"name": 5}"#,
        br#"{"name": "  "}"#,
        br#"{"unknown_field": true}"#,
    ];
    let routes = [
        (Method::POST, ACCOUNTS.to_owned()),
        (Method::PATCH, account_path(id)),
        (Method::POST, users_path(id)),
    ];
    let mut wrong = Vec::new();
    for (kind, credential) in [
        ("user token", &user_token),
        ("API key", &api_key),
        ("unknown token", &unknown),
    ] {
        for (method, path) in &routes {
            for body in bodies {
                let reply = app
                    .send(
                        method.clone(),
                        path,
                        &[("api_access_token", credential)],
                        Some(body.to_vec()),
                    )
                    .await;
                if (reply.status, reply.json()) != (401, invalid_token()) {
                    wrong.push(format!(
                        "{method} {path} with a {kind} and body {:?} answered {} {}",
                        String::from_utf8_lossy(body),
                        reply.status,
                        reply.text()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} requests were not refused with 401:\n{}",
        wrong.len(),
        3 * routes.len() * bodies.len(),
        wrong.join("\n")
    );
}

// ---------------------------------------------------------------- updating accounts

#[actix_web::test]
async fn updating_an_account_changes_only_the_given_fields() {
    let app = TestApp::spawn().await;
    let created = create_account_with(&app, &json!({ "name": "Acme", "description": "Help desk" }))
        .await
        .json();
    let id = &created["id"];

    let renamed = patch_account(&app, id, &json!({ "name": "  Acme Corp " })).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let renamed = renamed.json();
    assert_unix_near_now(&renamed["updated_at"]);
    let expected = json!({
        "id": id,
        "uuid": created["uuid"],
        "name": "Acme Corp",
        "description": "Help desk",
        "is_active": true,
        "features": { "chat_rooms": true },
        "created_at": created["created_at"],
        "updated_at": renamed["updated_at"],
    });
    assert_eq!(renamed, expected, "the API key is shown only at creation");

    let described = patch_account(&app, id, &json!({ "description": "Sales" })).await;
    assert_eq!(described.status, 200, "{}", described.text());
    let described = described.json();
    assert_eq!(described["name"], "Acme Corp");
    assert_eq!(described["description"], "Sales");
    assert_eq!(described["is_active"], true);
    assert_eq!(described["uuid"], created["uuid"]);
}

#[actix_web::test]
async fn null_description_clears_it() {
    let app = TestApp::spawn().await;
    let created = create_account_with(&app, &json!({ "name": "Acme", "description": "Help desk" }))
        .await
        .json();
    let reply = patch_account(&app, &created["id"], &json!({ "description": null })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let account = reply.json();
    assert_eq!(account["description"], Value::Null);
    assert_eq!(account["name"], "Acme");
    let again = patch_account(&app, &created["id"], &json!({})).await.json();
    assert_eq!(again["description"], Value::Null);
}

#[actix_web::test]
async fn deactivating_an_account_revokes_its_credentials_until_it_is_reactivated() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let other = app.create_account("Other").await;
    let id = &account["id"];
    let api_key = str_of(&account, "api_key").to_owned();
    let other_key = str_of(&other, "api_key").to_owned();
    let user = app
        .create_user(id.as_i64().unwrap_or(0), json!({ "name": "Ada" }))
        .await;
    let user_token = str_of(&user, "access_token").to_owned();
    assert_eq!(me_status(&app, &api_key).await, 200);

    let reply = patch_account(&app, id, &json!({ "is_active": false })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["is_active"], false);
    let refused = app
        .get("/api/v1/clients/me", &[api_key_header(&api_key)])
        .await;
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert_eq!(refused.json()["error"]["code"], "UNAUTHORIZED");
    assert_eq!(me_status(&app, &user_token).await, 401);
    assert_eq!(
        me_status(&app, &other_key).await,
        200,
        "another account is not affected"
    );
    let regenerate = app
        .send(
            Method::POST,
            "/api/v1/clients/regenerate-key",
            &[api_key_header(&api_key)],
            None,
        )
        .await;
    assert_eq!(regenerate.status, 401, "{}", regenerate.text());

    let reply = patch_account(&app, id, &json!({ "is_active": true })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["is_active"], true);
    let me = app
        .get("/api/v1/clients/me", &[api_key_header(&api_key)])
        .await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["data"]["is_active"], true);
}

#[actix_web::test]
async fn turning_chat_rooms_off_is_reflected_in_the_account() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let id = &account["id"];
    let reply = patch_account(&app, id, &json!({ "features": { "chat_rooms": false } })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["features"], json!({ "chat_rooms": false }));
    assert_eq!(body["is_active"], true);
    assert_eq!(body["name"], "Acme");
    let kept = patch_account(&app, id, &json!({ "name": "Renamed" }))
        .await
        .json();
    assert_eq!(kept["features"], json!({ "chat_rooms": false }));
    let back = patch_account(&app, id, &json!({ "features": { "chat_rooms": true } }))
        .await
        .json();
    assert_eq!(back["features"], json!({ "chat_rooms": true }));
}

#[actix_web::test]
async fn unknown_account_field_is_refused_and_nothing_is_changed() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let id = &account["id"];
    let reply = patch_account(
        &app,
        id,
        &json!({ "name": "Renamed", "is_active": false, "colour": "blue" }),
    )
    .await;
    let message = assert_invalid(&reply, &["colour"]);
    assert!(message.contains("olour"), "{message}");

    let now = patch_account(&app, id, &json!({})).await;
    assert_eq!(now.status, 200, "{}", now.text());
    let now = now.json();
    assert_eq!(now["name"], "Acme");
    assert_eq!(now["is_active"], true);
}

#[actix_web::test]
async fn unknown_feature_is_refused_with_its_path() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let reply = patch_account(
        &app,
        &account["id"],
        &json!({ "features": { "chat_rooms": false, "video": true } }),
    )
    .await;
    assert_invalid(&reply, &["features.video"]);
    let now = patch_account(&app, &account["id"], &json!({})).await.json();
    assert_eq!(now["features"], json!({ "chat_rooms": true }));
}

#[actix_web::test]
async fn wrong_type_in_an_update_names_the_field() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let reply = patch_account(&app, &account["id"], &json!({ "is_active": "no" })).await;
    assert_invalid(&reply, &["is_active"]);
    let reply = patch_account(
        &app,
        &account["id"],
        &json!({ "features": { "chat_rooms": "off" } }),
    )
    .await;
    assert_invalid(&reply, &["features.chat_rooms"]);
}

#[actix_web::test]
async fn null_flags_in_an_update_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    for (body, field) in [
        (json!({ "is_active": null }), "is_active"),
        (json!({ "features": null }), "features"),
        (
            json!({ "features": { "chat_rooms": null } }),
            "features.chat_rooms",
        ),
    ] {
        let reply = patch_account(&app, &account["id"], &body).await;
        assert_invalid(&reply, &[field]);
    }
    let unchanged = patch_account(&app, &account["id"], &json!({})).await;
    assert_eq!(unchanged.json()["is_active"], true);
    assert_eq!(unchanged.json()["features"], json!({ "chat_rooms": true }));
}

#[actix_web::test]
async fn null_or_blank_name_in_an_update_is_refused_as_blank() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    for body in [json!({ "name": null }), json!({ "name": "  " })] {
        let reply = patch_account(&app, &account["id"], &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.json(), name_blank(), "{body}");
    }
    let reply = patch_account(&app, &account["id"], &json!({ "name": "n".repeat(256) })).await;
    assert_invalid(&reply, &["name"]);
    let reply = patch_account(
        &app,
        &account["id"],
        &json!({ "name": "", "description": "d".repeat(10_001) }),
    )
    .await;
    assert_invalid(&reply, &["name", "description"]);
    let now = patch_account(&app, &account["id"], &json!({})).await.json();
    assert_eq!(now["name"], "Acme");
    assert_eq!(now["description"], Value::Null);
}

#[actix_web::test]
async fn empty_update_answers_the_account_unchanged() {
    let app = TestApp::spawn().await;
    let created = create_account_with(&app, &json!({ "name": "Acme", "description": "Desk" }))
        .await
        .json();
    let reply = patch_account(&app, &created["id"], &json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mut expected = created.clone();
    if let Some(object) = expected.as_object_mut() {
        object.remove("api_key");
    }
    assert_eq!(reply.json(), expected);
}

#[actix_web::test]
async fn updating_an_unknown_or_malformed_account_id_is_not_found() {
    let app = TestApp::spawn().await;
    app.create_account("Acme").await;
    for id in ["999999", "abc", "1.5", "-1", "0", "99999999999999999999"] {
        for body in [json!({}), json!({ "name": "Renamed" })] {
            let reply = app
                .json(
                    Method::PATCH,
                    &format!("{ACCOUNTS}/{id}"),
                    &[platform_auth()],
                    &body,
                )
                .await;
            assert_eq!(reply.status, 404, "{id} {body}: {}", reply.text());
            assert_eq!(reply.json(), not_found(), "{id} {body}");
        }
    }
}

// ---------------------------------------------------------------- creating users

#[actix_web::test]
async fn creating_a_user_answers_the_user_with_its_access_token() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let reply = post_user(
        &app,
        &account["id"],
        &json!({
            "name": " Ada Lovelace ",
            "email": "ada@example.com",
            "role": "administrator",
            "external_id": "crm-42",
        }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let user = reply.json();
    assert!(user["id"].as_i64().is_some_and(|id| id > 0), "{user}");
    assert_secret(str_of(&user, "access_token"), "ut_");
    let created = assert_unix_near_now(&user["created_at"]);
    assert_eq!(
        user,
        json!({
            "id": user["id"],
            "account_id": account["id"],
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "role": "administrator",
            "external_id": "crm-42",
            "access_token": user["access_token"],
            "confirmed": true,
            "availability_status": "offline",
            "created_at": created,
        })
    );
}

#[actix_web::test]
async fn user_role_defaults_to_agent_and_optional_fields_to_null() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let reply = post_user(&app, &account["id"], &json!({ "name": "Bob" })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let user = reply.json();
    assert_eq!(
        user,
        json!({
            "id": user["id"],
            "account_id": account["id"],
            "name": "Bob",
            "email": null,
            "role": "agent",
            "external_id": null,
            "access_token": user["access_token"],
            "confirmed": true,
            "availability_status": "offline",
            "created_at": user["created_at"],
        })
    );
    let second = post_user(
        &app,
        &account["id"],
        &json!({ "name": "Carol", "role": "agent" }),
    )
    .await
    .json();
    assert_eq!(second["role"], "agent");
    assert_ne!(second["id"], user["id"]);
    assert_ne!(second["access_token"], user["access_token"]);
}

#[actix_web::test]
async fn user_without_a_name_is_refused_as_blank() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    for body in [
        json!({}),
        json!({ "name": " " }),
        json!({ "email": "a@b.co" }),
    ] {
        let reply = post_user(&app, &account["id"], &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.json(), name_blank(), "{body}");
    }
}

#[actix_web::test]
async fn invalid_user_role_is_refused() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    for role in ["owner", "Administrator", ""] {
        let reply = post_user(
            &app,
            &account["id"],
            &json!({ "name": "Ada", "role": role }),
        )
        .await;
        let message = assert_invalid(&reply, &["role"]);
        assert!(message.starts_with("Role "), "{message}");
    }
}

#[actix_web::test]
async fn invalid_user_email_is_refused() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    for email in [
        "not-an-email",
        "a@b",
        "a b@example.com",
        "@example.com",
        "a@@example.com",
    ] {
        let reply = post_user(
            &app,
            &account["id"],
            &json!({ "name": "Ada", "email": email }),
        )
        .await;
        let message = assert_invalid(&reply, &["email"]);
        assert!(message.starts_with("Email "), "{email}: {message}");
    }
}

#[actix_web::test]
async fn every_bad_user_field_is_listed_in_order() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let reply = post_user(
        &app,
        &account["id"],
        &json!({ "name": "", "email": "nope", "role": "boss", "external_id": " " }),
    )
    .await;
    assert_invalid(&reply, &["name", "email", "role", "external_id"]);
}

#[actix_web::test]
async fn duplicate_email_in_an_account_is_refused_ignoring_case() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let first = post_user(
        &app,
        &account["id"],
        &json!({ "name": "Ada", "email": "Ada@Example.com" }),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["email"], "Ada@Example.com");
    let reply = post_user(
        &app,
        &account["id"],
        &json!({ "name": "Ada 2", "email": "ada@example.com" }),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "message": "Email has already been taken", "attributes": ["email"] })
    );
}

#[actix_web::test]
async fn the_same_email_may_be_used_in_another_account() {
    let app = TestApp::spawn().await;
    let one = app.create_account("One").await;
    let two = app.create_account("Two").await;
    let body = json!({ "name": "Ada", "email": "ada@example.com", "external_id": "ada" });
    let first = post_user(&app, &one["id"], &body).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let second = post_user(&app, &two["id"], &body).await;
    assert_eq!(second.status, 200, "{}", second.text());
    let second = second.json();
    assert_eq!(second["account_id"], two["id"]);
    assert_eq!(second["email"], "ada@example.com");
    assert_eq!(second["external_id"], "ada");
}

#[actix_web::test]
async fn duplicate_external_id_in_an_account_is_refused() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let first = post_user(
        &app,
        &account["id"],
        &json!({ "name": "Ada", "external_id": "u-1" }),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text());
    let reply = post_user(
        &app,
        &account["id"],
        &json!({ "name": "Bob", "external_id": "u-1" }),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "message": "External id has already been taken", "attributes": ["external_id"] })
    );
    // External ids are exact: another case is another id.
    let other_case = post_user(
        &app,
        &account["id"],
        &json!({ "name": "Bob", "external_id": "U-1" }),
    )
    .await;
    assert_eq!(other_case.status, 200, "{}", other_case.text());
}

#[actix_web::test]
async fn creating_a_user_of_an_unknown_account_is_not_found() {
    let app = TestApp::spawn().await;
    app.create_account("Acme").await;
    for id in ["999999", "abc", "0"] {
        let reply = app
            .json(
                Method::POST,
                &format!("{ACCOUNTS}/{id}/users"),
                &[platform_auth()],
                &json!({ "name": "Ada" }),
            )
            .await;
        assert_eq!(reply.status, 404, "{id}: {}", reply.text());
        assert_eq!(reply.json(), not_found(), "{id}");
    }
}
