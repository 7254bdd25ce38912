//! The OpenAPI document tells the truth: every answer the harness reads is checked
//! against `/openapi.json` (see `chat_tests::ApiDocument`), this file shows that the
//! check bites, and that a method a path does not have is 405 with `Allow`.

use awc::http::Method;
use awc::http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use chat_tests::*;
use serde_json::{Value, json};

fn json_reply(status: u16, body: &Value) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Reply {
        status,
        headers,
        body: body.to_string().into_bytes(),
    }
}

async fn served_document(app: &TestApp) -> ApiDocument {
    ApiDocument::new(app.fetch_document().await)
}

#[actix_web::test]
async fn the_validator_refuses_a_chatapi_error_shape_on_an_account_route() {
    let app = TestApp::spawn().await;
    let document = served_document(&app).await;
    let path = "/api/v1/accounts/1/chat_rooms";

    let wrong = json_reply(
        401,
        &json!({"error": {"code": "UNAUTHORIZED", "message": "no"}, "status": "error"}),
    );
    let Err(problem) = document.check(&Method::GET, path, &wrong) else {
        panic!("a ChatAPI body on an account route is a violation");
    };
    assert!(problem.contains("does not match the schema"), "{problem}");

    let right = json_reply(401, &json!({"error": "Invalid Access Token"}));
    assert_eq!(document.check(&Method::GET, path, &right), Ok(()));
}

#[actix_web::test]
async fn the_validator_refuses_an_undocumented_status_and_a_wrong_success_body() {
    let app = TestApp::spawn().await;
    let document = served_document(&app).await;

    let teapot = json_reply(418, &json!({"error": "I'm a teapot"}));
    let Err(problem) = document.check(&Method::GET, "/api/v1/accounts/1/chat_rooms", &teapot)
    else {
        panic!("418 is not documented");
    };
    assert!(
        problem.contains("status 418 is not documented"),
        "{problem}"
    );

    let not_a_room = json_reply(201, &json!({"data": {"id": 7}, "status": "success"}));
    let Err(problem) = document.check(&Method::POST, "/api/v1/rooms", &not_a_room) else {
        panic!("a room id must be a UUID string");
    };
    assert!(problem.contains("does not match the schema"), "{problem}");
}

#[actix_web::test]
async fn a_method_a_chatapi_path_does_not_have_is_405_with_allow() {
    let app = TestApp::spawn().await;

    let reply = app.send(Method::PATCH, "/api/v1/rooms/", &[], None).await;

    assert_eq!(reply.status, 405, "{}", reply.text());
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    assert_eq!(reply.json()["error"]["code"], "METHOD_NOT_ALLOWED");
    assert_eq!(reply.json()["status"], "error");

    let head = app.send(Method::HEAD, "/health", &[], None).await;
    assert_eq!(head.status, 405);
    assert_eq!(head.header("allow"), Some("GET"));
}

#[actix_web::test]
async fn a_method_an_account_path_does_not_have_is_405_in_the_account_shape() {
    let app = TestApp::spawn().await;

    let reply = app
        .send(Method::POST, "/api/v1/accounts/1/chat_rooms/2", &[], None)
        .await;

    assert_eq!(reply.status, 405, "{}", reply.text());
    assert_eq!(reply.header("allow"), Some("GET, PUT, DELETE, PATCH"));
    assert_eq!(reply.json(), json!({"error": "Method Not Allowed"}));
}

#[actix_web::test]
async fn an_unknown_path_stays_404_in_its_dialect() {
    let app = TestApp::spawn().await;

    let chatapi = app.get("/api/v1/nothing-here", &[]).await;
    assert_eq!(chatapi.status, 404, "{}", chatapi.text());
    assert_eq!(chatapi.json()["error"]["code"], "NOT_FOUND");

    let account = app.get("/api/v1/accounts/1/nothing-here", &[]).await;
    assert_eq!(account.status, 404, "{}", account.text());
    assert_eq!(
        account.json(),
        json!({"error": "Resource could not be found"})
    );
}

#[actix_web::test]
async fn the_document_requires_what_the_server_requires_of_a_body() {
    let app = TestApp::spawn().await;
    let document = app.fetch_document().await;
    let schema = |name: &str| document["components"]["schemas"][name].clone();

    assert_eq!(schema("ChatRoomRequest")["required"], json!(["chat_room"]));
    assert_eq!(
        schema("SendChatMessageRequest")["required"],
        json!(["chat_room_message"])
    );
    let user_ids = schema("UserIdsRequest");
    assert_eq!(user_ids["required"], json!(["user_ids"]));
    assert_eq!(user_ids["properties"]["user_ids"]["type"], "array");
    assert_eq!(user_ids["properties"]["user_ids"]["minItems"], 1);
    assert_eq!(schema("CreateRoomRequest")["required"], json!(["name"]));
    assert_eq!(schema("LeaveRequest")["required"], json!(["user_id"]));
}

#[actix_web::test]
async fn each_dialect_has_its_own_error_and_attachment_schemas() {
    let app = TestApp::spawn().await;
    let document = app.fetch_document().await;
    let schemas = &document["components"]["schemas"];

    for name in [
        "AccountError",
        "AccountValidationError",
        "ChatApiError",
        "AccountAttachmentJson",
        "ChatApiAttachmentJson",
    ] {
        assert!(schemas[name].is_object(), "{name} is missing");
    }
    let account_401 = &document["paths"]["/api/v1/accounts/{account_id}/chat_rooms"]["get"]["responses"]
        ["401"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(account_401, "#/components/schemas/AccountError");
}

#[actix_web::test]
async fn a_socket_url_without_an_upgrade_is_400_and_other_methods_405() {
    let app = TestApp::spawn().await;
    let room = "00000000-0000-4000-8000-000000000000";

    let plain = app.get(&format!("/ws/{room}?token=x"), &[]).await;
    assert_eq!(plain.status, 400, "{}", plain.text());

    let posted = app
        .send(Method::POST, &format!("/ws/{room}"), &[], None)
        .await;
    assert_eq!(posted.status, 405, "{}", posted.text());
    assert_eq!(posted.header("allow"), Some("GET"));

    let stream = app
        .send(Method::DELETE, "/api/v1/accounts/1/ws", &[], None)
        .await;
    assert_eq!(stream.status, 405, "{}", stream.text());
    assert_eq!(stream.json(), json!({"error": "Method Not Allowed"}));
}

/// Every `$ref` in the document names a component it has (a parameter's schema is not
/// collected by itself: a dangling reference once made `sort` unreadable to clients).
#[actix_web::test]
async fn every_reference_in_the_document_resolves() {
    let app = TestApp::spawn().await;
    let document = app.fetch_document().await;
    let mut refs = Vec::new();
    let mut stack = vec![&document];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    refs.push(target.clone());
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    assert!(!refs.is_empty(), "the document has references");
    let dangling: Vec<&String> = refs
        .iter()
        .filter(|target| {
            let pointer = target.trim_start_matches('#');
            !target.starts_with("#/") || document.pointer(pointer).is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "dangling references: {dangling:?}");
    let sort = &document["components"]["schemas"]["RoomSortParam"]["enum"];
    assert_eq!(sort, &json!(["name", "-name", "created_at", "-created_at"]));
}
