//! Failures of the request itself, in the shape of each dialect.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

const CLIENTS: &str = "/api/v1/clients";
const ACCOUNTS: &str = "/platform/api/v1/accounts";

async fn post_raw(app: &TestApp, path: &str, body: &[u8]) -> Reply {
    app.send(Method::POST, path, &[platform_auth()], Some(body.to_vec()))
        .await
}

const MALFORMED: [&[u8]; 7] = [
    b"{",
    b"",
    b"   ",
    b"[]",
    br#"[{"name": "Acme"}]"#,
    br#""Acme""#,
    br#"{"name": "Acme"} {}"#,
];

#[actix_web::test]
async fn malformed_json_is_an_invalid_request_in_the_chatapi_dialect() {
    let app = TestApp::spawn().await;
    for body in MALFORMED {
        let reply = post_raw(&app, CLIENTS, body).await;
        let context = format!("{:?}", String::from_utf8_lossy(body));
        let error = assert_chatapi_error(&reply, 400, "INVALID_REQUEST", &context);
        assert!(error.get("details").is_none_or(Value::is_object), "{error}");
    }
}

#[actix_web::test]
async fn malformed_json_is_a_400_error_text_in_the_account_dialect() {
    let app = TestApp::spawn().await;
    for body in MALFORMED {
        let reply = post_raw(&app, ACCOUNTS, body).await;
        assert_account_error(&reply, 400, &format!("{:?}", String::from_utf8_lossy(body)));
    }
}

#[actix_web::test]
async fn refused_malformed_bodies_create_nothing() {
    let app = TestApp::spawn().await;
    for body in MALFORMED {
        post_raw(&app, ACCOUNTS, body).await;
        post_raw(&app, CLIENTS, body).await;
    }
    // Identity columns are not consumed by refused requests: the next account is the first.
    let account = app.create_account("First").await;
    assert_eq!(account["id"], 1, "{account}");
}

#[actix_web::test]
async fn wrong_field_type_is_an_invalid_request_naming_the_field_in_the_chatapi_dialect() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({ "name": 5 }), "name"),
        (
            json!({ "name": "Acme", "description": ["a"] }),
            "description",
        ),
        (json!({ "name": { "first": "A" } }), "name"),
    ] {
        let reply = app
            .json(Method::POST, CLIENTS, &[platform_auth()], &body)
            .await;
        let error = assert_chatapi_error(&reply, 400, "INVALID_REQUEST", &body.to_string());
        let details = error["details"]
            .as_object()
            .unwrap_or_else(|| panic!("no details in {error}"));
        assert_eq!(
            details.keys().collect::<Vec<_>>(),
            [field],
            "{body}: {error}"
        );
        assert!(details[field].as_str().is_some_and(|r| !r.is_empty()));
    }
}

#[actix_web::test]
async fn wrong_field_type_is_a_422_naming_the_field_in_the_account_dialect() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({ "name": 5 }), "name"),
        (
            json!({ "name": "Acme", "description": true }),
            "description",
        ),
    ] {
        let reply = app
            .json(Method::POST, ACCOUNTS, &[platform_auth()], &body)
            .await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        let json = reply.json();
        assert_eq!(keys_of(&json), ["attributes", "message"], "{json}");
        assert_eq!(json["attributes"], json!([field]), "{json}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[actix_web::test]
async fn blank_client_name_is_a_validation_error_with_details() {
    let app = TestApp::spawn().await;
    for body in [json!({ "name": "  " }), json!({}), json!({ "name": null })] {
        let reply = app
            .json(Method::POST, CLIENTS, &[platform_auth()], &body)
            .await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(
            reply.json(),
            json!({
                "error": {
                    "code": "VALIDATION_ERROR",
                    "message": "Validation failed",
                    "details": { "name": "can't be blank" },
                },
                "status": "error",
            }),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn every_bad_client_field_is_in_the_validation_details() {
    let app = TestApp::spawn().await;
    let reply = app
        .json(
            Method::POST,
            CLIENTS,
            &[platform_auth()],
            &json!({ "name": "n".repeat(256), "description": "d".repeat(10_001) }),
        )
        .await;
    let error = assert_chatapi_error(&reply, 422, "VALIDATION_ERROR", "too long");
    let details = &error["details"];
    assert_eq!(keys_of(details), ["description", "name"], "{error}");
    assert!(
        details["name"].as_str().is_some_and(|r| r.contains("255")),
        "{error}"
    );
    assert!(
        details["description"]
            .as_str()
            .is_some_and(|r| r.contains("10000")),
        "{error}"
    );
}

/// A JSON object of about 1.5 MiB: over the default 1 MiB limit.
fn oversized_body() -> Vec<u8> {
    serde_json::to_vec(&json!({ "name": "x".repeat(1536 * 1024) })).unwrap_or_default()
}

#[actix_web::test]
async fn body_over_one_mebibyte_is_payload_too_large_in_the_chatapi_dialect() {
    let app = TestApp::spawn().await;
    let reply = post_raw(&app, CLIENTS, &oversized_body()).await;
    assert_chatapi_error(&reply, 413, "PAYLOAD_TOO_LARGE", "1.5 MiB");
    // The connection (pooled by the client) still serves requests afterwards.
    let next = app
        .json(
            Method::POST,
            CLIENTS,
            &[platform_auth()],
            &json!({ "name": "Small" }),
        )
        .await;
    assert_eq!(next.status, 201, "{}", next.text());
    assert_eq!(app.get("/health", &[]).await.status, 200);
}

#[actix_web::test]
async fn body_over_one_mebibyte_is_payload_too_large_in_the_account_dialect() {
    let app = TestApp::spawn().await;
    let reply = post_raw(&app, ACCOUNTS, &oversized_body()).await;
    assert_account_error(&reply, 413, "1.5 MiB");
    let next = app.create_account("Small").await;
    assert_eq!(next["name"], "Small");
}

#[actix_web::test]
async fn a_body_just_under_one_mebibyte_is_read() {
    let app = TestApp::spawn().await;
    // Valid JSON of just under 1 MiB: it is read, then refused for the name's length.
    let body =
        serde_json::to_vec(&json!({ "name": "x".repeat(1024 * 1024 - 100) })).unwrap_or_default();
    assert!(body.len() < 1024 * 1024);
    let reply = post_raw(&app, CLIENTS, &body).await;
    let error = assert_chatapi_error(&reply, 422, "VALIDATION_ERROR", "just under 1 MiB");
    assert_eq!(keys_of(&error["details"]), ["name"]);
}

#[actix_web::test]
async fn the_json_limit_is_configurable() {
    let app = TestApp::spawn_with(|settings| settings.json_limit = 100).await;
    let body = serde_json::to_vec(&json!({ "name": "x".repeat(190) })).unwrap_or_default();
    assert!(body.len() >= 200);
    let reply = post_raw(&app, CLIENTS, &body).await;
    assert_chatapi_error(&reply, 413, "PAYLOAD_TOO_LARGE", "200 bytes");
    let reply = post_raw(&app, ACCOUNTS, &body).await;
    assert_account_error(&reply, 413, "200 bytes");

    let small = app
        .json(
            Method::POST,
            ACCOUNTS,
            &[platform_auth()],
            &json!({ "name": "Acme" }),
        )
        .await;
    assert_eq!(small.status, 200, "{}", small.text());
    let small = app
        .json(
            Method::POST,
            CLIENTS,
            &[platform_auth()],
            &json!({ "name": "Acme" }),
        )
        .await;
    assert_eq!(small.status, 201, "{}", small.text());
}

#[actix_web::test]
async fn unknown_chatapi_route_is_not_found() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/api/v1/nope"),
        (Method::POST, "/api/v1/nope/"),
        (Method::GET, "/api/v1/clients/someone"),
        (Method::GET, "/nope"),
    ] {
        let reply = app.send(method.clone(), path, &[], None).await;
        let error = assert_chatapi_error(&reply, 404, "NOT_FOUND", &format!("{method} {path}"));
        assert_eq!(keys_of(&error), ["code", "message"]);
    }
}

#[actix_web::test]
async fn unknown_account_dialect_route_is_not_found() {
    let app = TestApp::spawn().await;
    for path in [
        "/platform/api/v1/nope",
        "/api/v1/accounts/1/nope",
        "/platform/api/v1/accounts/1/users/2/nope",
    ] {
        let reply = app.get(path, &[platform_auth()]).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.text());
        assert_eq!(
            reply.json(),
            json!({ "error": "Resource could not be found" }),
            "{path}"
        );
        assert_eq!(reply.header("content-type"), Some("application/json"));
    }
}

#[actix_web::test]
async fn a_wrong_method_on_a_known_path_answers_in_the_dialect_shape() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let key = str_of(&account, "api_key");
    for (method, path) in [
        (Method::PATCH, "/api/v1/clients/me"),
        (Method::GET, "/api/v1/clients"),
    ] {
        let reply = app
            .send(method.clone(), path, &[api_key_header(key)], None)
            .await;
        let context = format!("{method} {path}");
        assert!(
            [404, 405].contains(&reply.status),
            "{context}: {} {}",
            reply.status,
            reply.text()
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{context}"
        );
        let body = reply.json();
        assert_eq!(body["status"], "error", "{context}: {body}");
        assert!(body["error"]["code"].is_string(), "{context}: {body}");
    }
    for (method, path) in [
        (Method::GET, "/platform/api/v1/accounts"),
        (Method::DELETE, "/platform/api/v1/accounts/1"),
    ] {
        let reply = app
            .send(method.clone(), path, &[platform_auth()], None)
            .await;
        let context = format!("{method} {path}");
        assert!(
            [404, 405].contains(&reply.status),
            "{context}: {} {}",
            reply.status,
            reply.text()
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{context}"
        );
        assert!(reply.json()["error"].is_string(), "{context}");
    }
}

/// Method, path, headers, body and the status it is answered with.
type ErrorCase<'a> = (
    Method,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Option<Vec<u8>>,
    u16,
);

#[actix_web::test]
async fn every_error_response_is_json_with_a_request_id() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme").await;
    let key = str_of(&account, "api_key").to_owned();
    let oversized = oversized_body();
    let cases: Vec<ErrorCase> = vec![
        (
            Method::POST,
            CLIENTS,
            vec![platform_auth()],
            Some(b"{".to_vec()),
            400,
        ),
        (
            Method::POST,
            ACCOUNTS,
            vec![platform_auth()],
            Some(b"{".to_vec()),
            400,
        ),
        (Method::GET, "/api/v1/clients/me", vec![], None, 401),
        (
            Method::POST,
            ACCOUNTS,
            vec![api_key_header(&key)],
            Some(b"{}".to_vec()),
            401,
        ),
        (Method::GET, "/api/v1/nope", vec![], None, 404),
        (Method::GET, "/platform/api/v1/nope", vec![], None, 404),
        (
            Method::PATCH,
            "/platform/api/v1/accounts/999",
            vec![platform_auth()],
            Some(b"{}".to_vec()),
            404,
        ),
        (
            Method::POST,
            CLIENTS,
            vec![platform_auth()],
            Some(oversized.clone()),
            413,
        ),
        (
            Method::POST,
            ACCOUNTS,
            vec![platform_auth()],
            Some(oversized),
            413,
        ),
        (
            Method::POST,
            CLIENTS,
            vec![platform_auth()],
            Some(b"{}".to_vec()),
            422,
        ),
        (
            Method::POST,
            ACCOUNTS,
            vec![platform_auth()],
            Some(b"{}".to_vec()),
            422,
        ),
    ];
    for (method, path, headers, body, status) in cases {
        let reply = app.send(method.clone(), path, &headers, body).await;
        let context = format!("{method} {path}");
        assert_eq!(reply.status, status, "{context}: {}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{context}"
        );
        reply.json();
        let id = reply
            .header("x-request-id")
            .unwrap_or_else(|| panic!("{context}: no x-request-id"));
        assert_uuid(id);
    }
}

#[actix_web::test]
async fn a_sane_request_id_is_echoed() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/health"),
        (Method::GET, "/api/v1/clients/me"),
    ] {
        for id in ["abc-123", "req_1.2:3", &"a".repeat(64)] {
            let reply = app
                .send(method.clone(), path, &[("x-request-id", id)], None)
                .await;
            assert_eq!(reply.header("x-request-id"), Some(id), "{path} {id}");
        }
    }
}

#[actix_web::test]
async fn an_insane_request_id_is_replaced() {
    let app = TestApp::spawn().await;
    let too_long = "a".repeat(100);
    for id in [
        too_long.as_str(),
        "has spaces",
        "semi;colon",
        "quote\"d",
        "tab\there",
    ] {
        for path in ["/health", "/api/v1/nope"] {
            let reply = app
                .send(Method::GET, path, &[("x-request-id", id)], None)
                .await;
            let answered = reply
                .header("x-request-id")
                .unwrap_or_else(|| panic!("{path} {id:?}: no x-request-id"));
            assert_ne!(answered, id, "{path}");
            assert_uuid(answered);
        }
    }
}

#[actix_web::test]
async fn each_request_gets_its_own_id() {
    let app = TestApp::spawn().await;
    let first = app.get("/health", &[]).await;
    let second = app.get("/health", &[]).await;
    let (first, second) = (first.header("x-request-id"), second.header("x-request-id"));
    assert!(first.is_some_and(|id| !id.is_empty()));
    assert_ne!(first, second);
}

#[actix_web::test]
async fn a_huge_body_is_answered_413_not_dropped() {
    let app = TestApp::spawn().await;
    let body =
        serde_json::to_vec(&json!({ "name": "x".repeat(65 * 1024 * 1024) })).unwrap_or_default();
    let reply = post_raw(&app, CLIENTS, &body).await;
    assert_chatapi_error(&reply, 413, "PAYLOAD_TOO_LARGE", "65 MiB");
    let reply = post_raw(&app, ACCOUNTS, &body).await;
    assert_account_error(&reply, 413, "65 MiB");
    assert_eq!(app.get("/health", &[]).await.status, 200);
}

/// actix-multipart panics when polled again after refusing a `Content-Type` without a
/// boundary; the server must answer, not drop the connection (found by schemathesis).
#[actix_web::test]
async fn a_multipart_body_without_a_boundary_is_answered_in_each_dialect_not_dropped() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Acme").await;
    let room = app
        .create_chat_room(tenant.id, &tenant.admin_token, "General", None)
        .await;
    let room_id = room["id"].as_i64().unwrap_or_default();
    let auth = [("api_access_token", tenant.admin_token.as_str())];
    for (method, path) in [
        (Method::PATCH, chat_room_path(tenant.id, room_id)),
        (Method::POST, chat_rooms_path(tenant.id)),
        (Method::POST, chat_messages_path(tenant.id, room_id)),
    ] {
        let reply = app
            .send_as(
                method.clone(),
                &path,
                &auth,
                "multipart/form-data",
                b"x".to_vec(),
            )
            .await;
        let context = format!("{method} {path}");
        assert_account_error(&reply, 400, &context);
    }
    // The room is unchanged and the server still answers.
    let reply = app.get(&chat_room_path(tenant.id, room_id), &auth).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["name"], "General");
}
