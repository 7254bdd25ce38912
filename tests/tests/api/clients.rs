//! ChatAPI clients (`/api/v1/clients`): an account seen through its UUID.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

const ME: &str = "/api/v1/clients/me";
const REGENERATE: &str = "/api/v1/clients/regenerate-key";

async fn create_client(app: &TestApp, path: &str, body: &Value) -> Reply {
    app.json(Method::POST, path, &[platform_auth()], body).await
}

async fn me(app: &TestApp, key: &str) -> Reply {
    app.get(ME, &[api_key_header(key)]).await
}

async fn regenerate(app: &TestApp, headers: &[(&str, &str)]) -> Reply {
    app.send(Method::POST, REGENERATE, headers, None).await
}

/// Asserts `reply` is the ChatAPI dialect's 401, without `details`.
fn assert_unauthorized(reply: &Reply, context: &str) {
    let error = assert_chatapi_error(reply, 401, "UNAUTHORIZED", context);
    assert_eq!(keys_of(&error), ["code", "message"], "{context}: {error}");
}

fn assert_client_shape(data: &Value, with_key: bool) {
    assert_uuid(str_of(data, "id"));
    assert_rfc3339_near_now(&data["created_at"]);
    assert_rfc3339_near_now(&data["updated_at"]);
    let mut keys = vec![
        "created_at",
        "description",
        "id",
        "is_active",
        "name",
        "updated_at",
    ];
    if with_key {
        assert_secret(str_of(data, "api_key"), "ck_");
        keys.insert(0, "api_key");
    }
    assert_eq!(keys_of(data), keys, "{data}");
}

#[actix_web::test]
async fn creating_a_client_answers_201_with_its_api_key() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/clients", "/api/v1/clients/"] {
        let reply = create_client(
            &app,
            path,
            &json!({ "name": " Acme ", "description": "Support widget" }),
        )
        .await;
        assert_eq!(reply.status, 201, "{path}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let body = reply.json();
        let data = &body["data"];
        assert_client_shape(data, true);
        assert_eq!(
            body,
            json!({
                "data": {
                    "id": data["id"],
                    "name": "Acme",
                    "description": "Support widget",
                    "api_key": data["api_key"],
                    "is_active": true,
                    "created_at": data["created_at"],
                    "updated_at": data["updated_at"],
                },
                "status": "success",
            }),
            "{path}"
        );
        // The new key works at once.
        let me = me(&app, str_of(data, "api_key")).await;
        assert_eq!(me.status, 200, "{}", me.text());
        assert_eq!(me.json()["data"]["id"], data["id"]);
    }
}

#[actix_web::test]
async fn client_description_is_optional() {
    let app = TestApp::spawn().await;
    let reply = create_client(&app, "/api/v1/clients", &json!({ "name": "Acme" })).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["data"]["description"], Value::Null);
}

#[actix_web::test]
async fn creating_a_client_needs_the_platform_token() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let key = str_of(&account, "api_key");
    for headers in [vec![], vec![api_key_header(key)]] {
        let reply = app
            .json(
                Method::POST,
                "/api/v1/clients",
                &headers,
                &json!({ "name": "Other" }),
            )
            .await;
        assert_unauthorized(&reply, &format!("{headers:?}"));
    }
}

#[actix_web::test]
async fn creating_a_client_refuses_other_credentials_before_reading_the_body() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let user = app
        .create_user(
            account["id"].as_i64().unwrap_or_default(),
            json!({ "name": "Ada" }),
        )
        .await;
    let unknown = format!("ck_{}", "b".repeat(64));
    let credentials = [
        ("API key", str_of(&account, "api_key")),
        ("user token", str_of(&user, "access_token")),
        ("unknown key", unknown.as_str()),
    ];
    let bodies: [&[u8]; 4] = [b"{", b"[]", br#"{"name": 5}"#, br#"{"name": ""}"#];
    let mut wrong = Vec::new();
    for (kind, credential) in credentials {
        for body in bodies {
            let reply = app
                .send(
                    Method::POST,
                    "/api/v1/clients",
                    &[api_key_header(credential)],
                    Some(body.to_vec()),
                )
                .await;
            let code = reply.json()["error"]["code"].clone();
            if reply.status != 401 || code != "UNAUTHORIZED" {
                wrong.push(format!(
                    "POST /api/v1/clients with a {kind} and body {:?} answered {} {}",
                    String::from_utf8_lossy(body),
                    reply.status,
                    reply.text()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} requests were not refused with 401:\n{}",
        wrong.len(),
        credentials.len() * bodies.len(),
        wrong.join("\n")
    );
}

#[actix_web::test]
async fn a_client_is_the_account_seen_through_its_uuid() {
    let app = TestApp::spawn().await;
    let account = app
        .json(
            Method::POST,
            "/platform/api/v1/accounts",
            &[platform_auth()],
            &json!({ "name": "Acme", "description": "Desk" }),
        )
        .await
        .json();
    let reply = me(&app, str_of(&account, "api_key")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    let data = &body["data"];
    assert_client_shape(data, false);
    assert_eq!(
        body,
        json!({
            "data": {
                "id": account["uuid"],
                "name": "Acme",
                "description": "Desk",
                "is_active": true,
                "created_at": data["created_at"],
                "updated_at": data["updated_at"],
            },
            "status": "success",
        })
    );
    assert_eq!(
        parse_rfc3339_utc(str_of(data, "created_at")),
        account["created_at"].as_i64().unwrap_or_default(),
        "both dialects show the same creation time"
    );
    assert_eq!(
        parse_rfc3339_utc(str_of(data, "updated_at")),
        account["updated_at"].as_i64().unwrap_or_default()
    );

    // A change through the platform API shows through the client.
    let id = &account["id"];
    let renamed = app
        .json(
            Method::PATCH,
            &format!("/platform/api/v1/accounts/{id}"),
            &[platform_auth()],
            &json!({ "name": "Acme Corp", "description": null }),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let data = me(&app, str_of(&account, "api_key")).await.json()["data"].clone();
    assert_eq!(data["name"], "Acme Corp");
    assert_eq!(data["description"], Value::Null);
    assert_eq!(data["id"], account["uuid"]);
}

#[actix_web::test]
async fn client_me_never_shows_the_api_key() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let key = str_of(&account, "api_key");
    for path in [ME, "/api/v1/clients/me/"] {
        let reply = app.get(path, &[api_key_header(key)]).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let body = reply.json();
        assert_eq!(keys_of(&body), ["data", "status"], "{body}");
        assert_eq!(body["status"], "success");
        assert!(body["data"].get("api_key").is_none(), "{body}");
        assert!(!reply.text().contains(key), "{path} leaks the key");
        assert_client_shape(&body["data"], false);
    }
}

#[actix_web::test]
async fn client_me_accepts_the_key_in_each_credential_header() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let key = str_of(&account, "api_key");
    let bearer = format!("Bearer {key}");
    let lower_bearer = format!("bearer {key}");
    let headers: [(&str, &str); 4] = [
        ("x-api-key", key),
        ("api_access_token", key),
        ("authorization", &bearer),
        ("authorization", &lower_bearer),
    ];
    for header in headers {
        let reply = app.get(ME, &[header]).await;
        assert_eq!(reply.status, 200, "{header:?}: {}", reply.text());
        assert_eq!(reply.json()["data"]["id"], account["uuid"], "{header:?}");
    }
    // Agreeing headers are fine too.
    let reply = app
        .get(ME, &[("x-api-key", key), ("authorization", &bearer)])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[actix_web::test]
async fn client_me_refuses_anything_but_an_api_key() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let user = app
        .create_user(
            account["id"].as_i64().unwrap_or_default(),
            json!({ "name": "Ada", "role": "administrator" }),
        )
        .await;
    let token = str_of(&user, "access_token");
    let unknown = format!("ck_{}", "a".repeat(64));
    let cases: [(&str, Vec<(&str, &str)>); 5] = [
        ("user token", vec![api_key_header(token)]),
        (
            "user token as api_access_token",
            vec![("api_access_token", token)],
        ),
        ("platform token", vec![platform_auth()]),
        ("unknown key", vec![api_key_header(&unknown)]),
        ("no credential", vec![]),
    ];
    for (name, headers) in cases {
        let reply = app.get(ME, &headers).await;
        assert_unauthorized(&reply, name);
        let reply = regenerate(&app, &headers).await;
        assert_unauthorized(&reply, &format!("regenerate with {name}"));
    }
}

#[actix_web::test]
async fn conflicting_credentials_are_refused() {
    let app = TestApp::spawn().await;
    let one = app.create_account("One").await;
    let two = app.create_account("Two").await;
    let key_one = str_of(&one, "api_key");
    let key_two = str_of(&two, "api_key");
    let bearer_two = format!("Bearer {key_two}");
    let cases: [Vec<(&str, &str)>; 3] = [
        vec![("x-api-key", key_one), ("authorization", &bearer_two)],
        vec![("x-api-key", key_one), ("api_access_token", key_two)],
        vec![
            ("api_access_token", key_one),
            ("authorization", &bearer_two),
        ],
    ];
    for headers in cases {
        let reply = app.get(ME, &headers).await;
        assert_unauthorized(&reply, &format!("{headers:?}"));
    }
}

#[actix_web::test]
async fn regenerated_key_revokes_the_old_one() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let old_key = str_of(&account, "api_key").to_owned();

    let reply = regenerate(&app, &[api_key_header(&old_key)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    let data = &body["data"];
    assert_client_shape(data, true);
    let new_key = str_of(data, "api_key").to_owned();
    assert_ne!(new_key, old_key);
    assert_eq!(
        body,
        json!({
            "data": {
                "id": account["uuid"],
                "name": "Acme",
                "description": null,
                "api_key": new_key,
                "is_active": true,
                "created_at": data["created_at"],
                "updated_at": data["updated_at"],
            },
            "status": "success",
        })
    );

    assert_unauthorized(&me(&app, &old_key).await, "the old key");
    assert_unauthorized(
        &regenerate(&app, &[api_key_header(&old_key)]).await,
        "regenerating with the old key",
    );
    let reply = me(&app, &new_key).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["data"]["id"], account["uuid"]);
}

#[actix_web::test]
async fn regenerating_a_key_twice_keeps_only_the_latest() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let first = str_of(&account, "api_key").to_owned();
    let second = regenerate(&app, &[api_key_header(&first)]).await.json()["data"]["api_key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let bearer = format!("Bearer {second}");
    let third_reply = regenerate(&app, &[("authorization", &bearer)]).await;
    assert_eq!(third_reply.status, 200, "{}", third_reply.text());
    let third = str_of(&third_reply.json()["data"], "api_key").to_owned();
    assert_ne!(third, second);
    assert_ne!(third, first);
    assert_eq!(me(&app, &first).await.status, 401);
    assert_eq!(me(&app, &second).await.status, 401);
    assert_eq!(me(&app, &third).await.status, 200);
}

#[actix_web::test]
async fn regenerating_a_key_leaves_other_accounts_and_users_alone() {
    let app = TestApp::spawn().await;
    let one = app.create_account("One").await;
    let two = app.create_account("Two").await;
    let user = app
        .create_user(
            one["id"].as_i64().unwrap_or_default(),
            json!({ "name": "Ada" }),
        )
        .await;
    let reply = regenerate(&app, &[api_key_header(str_of(&one, "api_key"))]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    let other = me(&app, str_of(&two, "api_key")).await;
    assert_eq!(other.status, 200, "{}", other.text());
    assert_eq!(other.json()["data"]["id"], two["uuid"]);
    // The user's token is not an API key, and was not turned into one.
    assert_unauthorized(&me(&app, str_of(&user, "access_token")).await, "user token");
}

#[actix_web::test]
async fn each_key_sees_only_its_own_client() {
    let app = TestApp::spawn().await;
    let one = app.create_account("One").await;
    let two = app.create_account("Two").await;
    assert_ne!(one["uuid"], two["uuid"]);
    for account in [&one, &two] {
        let reply = me(&app, str_of(account, "api_key")).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let data = reply.json()["data"].clone();
        assert_eq!(data["id"], account["uuid"]);
        assert_eq!(data["name"], account["name"]);
    }
    // Regenerating one account's key answers that account, not the other.
    let reply = regenerate(&app, &[api_key_header(str_of(&two, "api_key"))]).await;
    assert_eq!(reply.json()["data"]["id"], two["uuid"]);
    assert_eq!(reply.json()["data"]["name"], "Two");
}

async fn update_me(app: &TestApp, key: &str, body: &Value) -> Reply {
    app.json(Method::PUT, ME, &[api_key_header(key)], body)
        .await
}

async fn deactivate_me(app: &TestApp, headers: &[(&str, &str)]) -> Reply {
    app.send(Method::DELETE, ME, headers, None).await
}

#[actix_web::test]
async fn a_client_renames_and_describes_itself() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let key = str_of(&account, "api_key");
    let before = me(&app, key).await.json()["data"].clone();
    for path in [ME, "/api/v1/clients/me/"] {
        let reply = app
            .json(
                Method::PUT,
                path,
                &[api_key_header(key)],
                &json!({ "name": "  Acme Corp ", "description": "Support desk" }),
            )
            .await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let body = reply.json();
        let data = &body["data"];
        assert_client_shape(data, false);
        assert!(!reply.text().contains(key), "{path} leaks the key");
        assert_eq!(
            body,
            json!({
                "data": {
                    "id": account["uuid"],
                    "name": "Acme Corp",
                    "description": "Support desk",
                    "is_active": true,
                    "created_at": before["created_at"],
                    "updated_at": data["updated_at"],
                },
                "status": "success",
            }),
            "{path}"
        );
        // GET shows the same client.
        assert_eq!(me(&app, key).await.json(), body, "{path}");
    }
    // The platform API sees the change.
    let patched = app
        .json(
            Method::PATCH,
            &format!("/platform/api/v1/accounts/{}", account["id"]),
            &[platform_auth()],
            &json!({}),
        )
        .await
        .json();
    assert_eq!(patched["name"], "Acme Corp");
    assert_eq!(patched["description"], "Support desk");
}

#[actix_web::test]
async fn a_client_update_keeps_the_fields_it_is_not_given() {
    let app = TestApp::spawn().await;
    let account = app
        .json(
            Method::POST,
            "/platform/api/v1/accounts",
            &[platform_auth()],
            &json!({ "name": "Acme", "description": "Desk" }),
        )
        .await
        .json();
    let key = str_of(&account, "api_key");
    let before = me(&app, key).await.json();

    let reply = update_me(&app, key, &json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), before, "an empty body changes nothing");

    let reply = update_me(&app, key, &json!({ "name": "Acme 2" })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = reply.json()["data"].clone();
    assert_eq!(data["name"], "Acme 2");
    assert_eq!(data["description"], "Desk");

    let reply = update_me(&app, key, &json!({ "description": "New desk" })).await;
    let data = reply.json()["data"].clone();
    assert_eq!(data["name"], "Acme 2");
    assert_eq!(data["description"], "New desk");

    // `null` clears the description.
    let reply = update_me(&app, key, &json!({ "description": null })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = reply.json()["data"].clone();
    assert_eq!(data["name"], "Acme 2");
    assert_eq!(data["description"], Value::Null);
    assert_eq!(data["is_active"], true);
}

#[actix_web::test]
async fn a_client_update_refuses_bad_fields() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let key = str_of(&account, "api_key");
    let invalid = [
        ("blank name", json!({ "name": "   " })),
        ("empty name", json!({ "name": "" })),
        ("null name", json!({ "name": null })),
        ("long name", json!({ "name": "n".repeat(256) })),
        (
            "long description",
            json!({ "description": "d".repeat(10_001) }),
        ),
    ];
    for (name, body) in invalid {
        let reply = update_me(&app, key, &body).await;
        let error = assert_chatapi_error(&reply, 422, "VALIDATION_ERROR", name);
        assert!(error["details"].is_object(), "{name}: {error}");
    }
    let reply = update_me(&app, key, &json!({ "is_active": true })).await;
    assert!(
        matches!(reply.status, 400 | 422),
        "an unknown field: {}",
        reply.text()
    );
    assert_eq!(reply.json()["status"], "error");
    let malformed = [
        ("name as a number", json!({ "name": 5 })),
        ("description as an object", json!({ "description": {} })),
        ("an array", json!(["Acme"])),
        ("null", Value::Null),
    ];
    for (name, body) in malformed {
        let reply = update_me(&app, key, &body).await;
        assert!(
            matches!(reply.status, 400 | 422),
            "{name}: {} {}",
            reply.status,
            reply.text()
        );
        assert_eq!(reply.json()["status"], "error", "{name}");
        assert!(reply.json()["error"]["code"].is_string(), "{name}");
    }
    let reply = app
        .send(
            Method::PUT,
            ME,
            &[api_key_header(key), ("content-type", "application/json")],
            Some(b"{not json".to_vec()),
        )
        .await;
    assert_chatapi_error(&reply, 400, "INVALID_REQUEST", "not JSON");
    // Nothing changed.
    let data = me(&app, key).await.json()["data"].clone();
    assert_eq!(data["name"], "Acme");
    assert_eq!(data["description"], Value::Null);
}

#[actix_web::test]
async fn a_deactivated_client_keeps_its_data_and_its_key_stops_working() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let key = str_of(&account, "api_key");
    let other = app.create_account("Other").await;
    let other_key = str_of(&other, "api_key");
    let user = app
        .create_user(
            account["id"].as_i64().unwrap_or_default(),
            json!({ "name": "Ada", "role": "administrator" }),
        )
        .await;
    let token = str_of(&user, "access_token");
    // Something to keep.
    let room = app
        .json(
            Method::POST,
            "/api/v1/rooms",
            &[api_key_header(key)],
            &json!({ "name": "Kept" }),
        )
        .await;
    assert_eq!(room.status, 201, "{}", room.text());
    // Warm the credential cache.
    assert_eq!(me(&app, key).await.status, 200);

    let reply = deactivate_me(&app, &[api_key_header(key)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    let data = &body["data"];
    assert_client_shape(data, false);
    assert_eq!(body["status"], "success");
    assert_eq!(data["id"], account["uuid"]);
    assert_eq!(data["name"], "Acme");
    assert_eq!(data["is_active"], false);
    assert!(!reply.text().contains(key), "DELETE leaks the key");

    // The key stops working at once, everywhere, and so do the account's other credentials.
    assert_unauthorized(&me(&app, key).await, "GET me after DELETE");
    assert_unauthorized(
        &app.get("/api/v1/rooms", &[api_key_header(key)]).await,
        "rooms",
    );
    assert_unauthorized(
        &update_me(&app, key, &json!({ "name": "Back" })).await,
        "PUT me after DELETE",
    );
    assert_unauthorized(
        &deactivate_me(&app, &[api_key_header(key)]).await,
        "DELETE twice",
    );
    assert_unauthorized(
        &regenerate(&app, &[api_key_header(key)]).await,
        "regenerate",
    );
    assert_eq!(
        app.get("/api/v1/rooms", &[api_key_header(token)])
            .await
            .status,
        401,
        "the account's user token"
    );
    // Another account is untouched.
    assert_eq!(me(&app, other_key).await.status, 200);

    // The platform still shows the account, inactive; switching it on again brings back
    // the same key and the kept data.
    let id = &account["id"];
    let shown = app
        .json(
            Method::PATCH,
            &format!("/platform/api/v1/accounts/{id}"),
            &[platform_auth()],
            &json!({}),
        )
        .await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert_eq!(shown.json()["is_active"], false);
    assert_eq!(shown.json()["name"], "Acme");
    let revived = app
        .json(
            Method::PATCH,
            &format!("/platform/api/v1/accounts/{id}"),
            &[platform_auth()],
            &json!({ "is_active": true }),
        )
        .await;
    assert_eq!(revived.status, 200, "{}", revived.text());
    let rooms = app.get("/api/v1/rooms", &[api_key_header(key)]).await;
    assert_eq!(rooms.status, 200, "{}", rooms.text());
    assert_eq!(rooms.json()["data"][0]["name"], "Kept");
}

#[actix_web::test]
async fn updating_or_deactivating_a_client_needs_its_api_key() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let key = str_of(&account, "api_key");
    let user = app
        .create_user(
            account["id"].as_i64().unwrap_or_default(),
            json!({ "name": "Ada", "role": "administrator" }),
        )
        .await;
    let token = str_of(&user, "access_token");
    let unknown = format!("ck_{}", "a".repeat(64));
    let cases: [(&str, Vec<(&str, &str)>); 5] = [
        ("user token", vec![api_key_header(token)]),
        (
            "user token as api_access_token",
            vec![("api_access_token", token)],
        ),
        ("platform token", vec![platform_auth()]),
        ("unknown key", vec![api_key_header(&unknown)]),
        ("no credential", vec![]),
    ];
    for (name, headers) in cases {
        let reply = app
            .json(Method::PUT, ME, &headers, &json!({ "name": "Taken" }))
            .await;
        assert_unauthorized(&reply, &format!("PUT with {name}"));
        // Refused before the body is read.
        let mut with_type = headers.clone();
        with_type.push(("content-type", "application/json"));
        let reply = app
            .send(Method::PUT, ME, &with_type, Some(b"{bad".to_vec()))
            .await;
        assert_unauthorized(&reply, &format!("PUT bad body with {name}"));
        let reply = deactivate_me(&app, &headers).await;
        assert_unauthorized(&reply, &format!("DELETE with {name}"));
    }
    let data = me(&app, key).await.json()["data"].clone();
    assert_eq!(data["name"], "Acme");
    assert_eq!(data["is_active"], true);
}
