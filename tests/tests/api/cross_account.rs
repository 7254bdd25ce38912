//! Another account's room, message or user is "not found" to every caller, whatever they
//! may do in their own account: the id is resolved first (404), the caller's rights after
//! (403). A room of the caller's own account that the caller may not use stays 403.
//!
//! Each test walks a table of routes and reports every route that answers otherwise.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// One request of a table: what it is called in a failure, and what it sends.
struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn route(method: Method, path: String, body: Option<Value>) -> Route {
    Route { method, path, body }
}

/// Sends every route as `credential` (in `header`), and lists each one whose answer
/// `expected` does not accept.
async fn check(
    app: &TestApp,
    who: &str,
    header: (&str, &str),
    routes: &[Route],
    expected: impl Fn(&Reply) -> Result<(), String>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for Route { method, path, body } in routes {
        let bytes = body
            .as_ref()
            .map(|body| serde_json::to_vec(body).unwrap_or_default());
        let reply = app.send(method.clone(), path, &[header], bytes).await;
        if let Err(why) = expected(&reply) {
            failures.push(format!(
                "{who}: {method} {path} answered {} {}: {why}",
                reply.status,
                reply.text()
            ));
        }
    }
    failures
}

/// Accepts exactly `status` with `body`.
fn exactly(status: u16, body: Value) -> impl Fn(&Reply) -> Result<(), String> {
    move |reply| {
        if reply.status != status {
            return Err(format!("expected {status} {body}"));
        }
        match serde_json::from_slice::<Value>(&reply.body) {
            Ok(found) if found == body => Ok(()),
            _ => Err(format!("expected the body {body}")),
        }
    }
}

/// Accepts a ChatAPI error with `status` and `code`.
fn chatapi_error(status: u16, code: &'static str) -> impl Fn(&Reply) -> Result<(), String> {
    move |reply| {
        let found = serde_json::from_slice::<Value>(&reply.body).unwrap_or_default();
        if reply.status == status && found["error"]["code"] == code && found["status"] == "error" {
            Ok(())
        } else {
            Err(format!("expected {status} {code}"))
        }
    }
}

fn id_of(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {value}"))
}

fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} route(s) answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Acme, whose ids Globex tries: a room (by UUID and by integer id) with a member and a
/// message, and Acme's administrator.
struct Acme {
    tenant: Tenant,
    uuid: String,
    room: i64,
    message_uuid: String,
    message: i64,
}

async fn acme(app: &TestApp) -> Acme {
    let tenant = app.tenant("Acme").await;
    let room = app
        .create_room(&tenant.api_key, json!({ "name": "Acme secret" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let room = app.chat_room_id_of(tenant.id, &tenant.api_key, &uuid).await;
    app.join_ok(&tenant.api_key, &uuid, "acme-ann").await;
    let sent = app
        .send_message_ok(
            &tenant.api_key,
            &uuid,
            json!({ "sender_id": "acme-ann", "content": "Acme only" }),
        )
        .await;
    let message_uuid = str_of(&sent, "id").to_owned();
    let listed = app
        .chat_messages(tenant.id, room, &tenant.admin_token, "")
        .await;
    let message = listed
        .first()
        .and_then(|m| m["id"].as_i64())
        .unwrap_or_else(|| panic!("no message listed: {listed:?}"));
    Acme {
        tenant,
        uuid,
        room,
        message_uuid,
        message,
    }
}

/// Every account-dialect route that takes a room, in `account`, on room `room`; `user`
/// is a user id for the member routes.
fn account_routes(account: i64, room: i64, user: &Value) -> Vec<Route> {
    let chat_room = json!({ "chat_room": { "name": "Taken over" } });
    let user_ids = json!({ "user_ids": [user] });
    let message = json!({ "chat_room_message": { "content": "Hijacked" } });
    vec![
        route(Method::GET, chat_room_path(account, room), None),
        route(
            Method::PUT,
            chat_room_path(account, room),
            Some(chat_room.clone()),
        ),
        route(
            Method::PATCH,
            chat_room_path(account, room),
            Some(chat_room),
        ),
        route(
            Method::DELETE,
            format!("{}/avatar", chat_room_path(account, room)),
            None,
        ),
        route(Method::DELETE, chat_room_path(account, room), None),
        route(Method::GET, members_path(account, room), None),
        route(
            Method::POST,
            members_path(account, room),
            Some(user_ids.clone()),
        ),
        route(
            Method::PATCH,
            members_path(account, room),
            Some(user_ids.clone()),
        ),
        route(Method::DELETE, members_path(account, room), Some(user_ids)),
        route(Method::GET, chat_messages_path(account, room), None),
        route(
            Method::POST,
            chat_messages_path(account, room),
            Some(message),
        ),
        route(
            Method::POST,
            format!("{}/mark_as_read", chat_room_path(account, room)),
            None,
        ),
    ]
}

/// Every ChatAPI route that takes a room UUID, on room `uuid`.
fn chatapi_room_routes(uuid: &str) -> Vec<Route> {
    vec![
        route(Method::GET, room_path(uuid), None),
        route(
            Method::PUT,
            room_path(uuid),
            Some(json!({ "name": "Taken over" })),
        ),
        route(Method::POST, room_action_path(uuid, "deactivate"), None),
        route(Method::POST, room_action_path(uuid, "activate"), None),
        route(
            Method::POST,
            room_action_path(uuid, "join"),
            Some(json!({ "user_id": "intruder" })),
        ),
        route(
            Method::POST,
            room_action_path(uuid, "leave"),
            Some(json!({ "user_id": "acme-ann" })),
        ),
        route(Method::GET, room_action_path(uuid, "participants"), None),
        route(Method::GET, room_action_path(uuid, "online"), None),
        route(Method::GET, room_messages_path(uuid), None),
        route(
            Method::POST,
            room_messages_path(uuid),
            Some(json!({ "sender_id": "acme-ann", "content": "Hijacked" })),
        ),
        route(Method::DELETE, room_path(uuid), None),
    ]
}

/// Every ChatAPI route that takes a message UUID, on message `uuid`.
fn chatapi_message_routes(uuid: &str) -> Vec<Route> {
    vec![
        route(Method::GET, message_path(uuid), None),
        route(
            Method::PUT,
            message_path(uuid),
            Some(json!({ "content": "Hijacked" })),
        ),
        route(
            Method::POST,
            format!("{}/restore", message_path(uuid)),
            None,
        ),
        route(Method::DELETE, message_path(uuid), None),
    ]
}

/// Globex's callers: its API key, its administrator, an agent who is a member of a
/// Globex room and an agent who is a member of none.
async fn globex_callers(app: &TestApp, globex: &Tenant) -> Vec<(&'static str, String)> {
    let lonely = app
        .create_user(globex.id, json!({ "name": "Lone Agent", "role": "agent" }))
        .await;
    let room = app
        .create_chat_room(globex.id, &globex.admin_token, "Globex room", None)
        .await;
    let added = app
        .members_request(
            Method::POST,
            globex.id,
            id_of(&room),
            &globex.admin_token,
            &json!({ "user_ids": [id_of(&globex.agent)] }),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.text());
    vec![
        ("Globex's API key", globex.api_key.clone()),
        ("Globex's administrator", globex.admin_token.clone()),
        (
            "Globex's agent (a member of a Globex room)",
            globex.agent_token.clone(),
        ),
        (
            "Globex's agent (a member of no room)",
            str_of(&lonely, "access_token").to_owned(),
        ),
    ]
}

#[actix_web::test]
async fn another_accounts_room_is_404_on_every_account_dialect_route_for_every_caller() {
    let app = TestApp::spawn().await;
    let acme = acme(&app).await;
    let globex = app.tenant("Globex").await;
    let callers = globex_callers(&app, &globex).await;
    let not_found = json!({ "error": "Resource could not be found" });

    let mut failures = Vec::new();
    for (who, credential) in &callers {
        // Acme's room id under Globex's own account.
        let routes = account_routes(globex.id, acme.room, &globex.agent["id"]);
        failures.extend(
            check(
                &app,
                who,
                ("api_access_token", credential),
                &routes,
                exactly(404, not_found.clone()),
            )
            .await,
        );
        // A room id that names no room at all answers the same.
        let routes = account_routes(globex.id, 999_999, &globex.agent["id"]);
        failures.extend(
            check(
                &app,
                who,
                ("api_access_token", credential),
                &routes,
                exactly(404, not_found.clone()),
            )
            .await,
        );
    }
    assert_none(failures);
    // Acme's room is untouched.
    let read = app
        .get(
            &chat_room_path(acme.tenant.id, acme.room),
            &[("api_access_token", &acme.tenant.admin_token)],
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.json()["name"], "Acme secret");
    let messages = app
        .chat_messages(acme.tenant.id, acme.room, &acme.tenant.admin_token, "")
        .await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["id"], acme.message);
}

#[actix_web::test]
async fn another_accounts_room_and_message_are_404_on_every_chatapi_route_for_every_caller() {
    let app = TestApp::spawn().await;
    let acme = acme(&app).await;
    let globex = app.tenant("Globex").await;
    let callers = globex_callers(&app, &globex).await;

    let mut failures = Vec::new();
    for (who, credential) in &callers {
        for uuid in [&acme.uuid[..], "00000000-0000-4000-8000-000000000000"] {
            failures.extend(
                check(
                    &app,
                    who,
                    api_key_header(credential),
                    &chatapi_room_routes(uuid),
                    chatapi_error(404, "ROOM_NOT_FOUND"),
                )
                .await,
            );
        }
        for uuid in [
            &acme.message_uuid[..],
            "00000000-0000-4000-8000-000000000000",
        ] {
            failures.extend(
                check(
                    &app,
                    who,
                    api_key_header(credential),
                    &chatapi_message_routes(uuid),
                    chatapi_error(404, "MESSAGE_NOT_FOUND"),
                )
                .await,
            );
        }
    }
    assert_none(failures);
    let read = app
        .get(
            &room_path(&acme.uuid),
            &[api_key_header(&acme.tenant.api_key)],
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.json()["data"]["is_active"], true);
    assert_eq!(app.message_count(&acme.tenant.api_key, &acme.uuid).await, 1);
}

#[actix_web::test]
async fn another_accounts_user_is_404_on_the_member_routes() {
    let app = TestApp::spawn().await;
    let acme = acme(&app).await;
    let globex = app.tenant("Globex").await;
    let room = app
        .create_chat_room(globex.id, &globex.admin_token, "Globex room", None)
        .await;
    let not_found = json!({ "error": "Resource could not be found" });
    let user_ids = json!({ "user_ids": [acme.tenant.agent["id"]] });
    let routes: Vec<Route> = [Method::POST, Method::PATCH, Method::DELETE]
        .into_iter()
        .map(|method| {
            route(
                method,
                members_path(globex.id, id_of(&room)),
                Some(user_ids.clone()),
            )
        })
        .collect();
    let mut failures = Vec::new();
    for (who, credential) in [
        ("Globex's API key", &globex.api_key),
        ("Globex's administrator", &globex.admin_token),
    ] {
        failures.extend(
            check(
                &app,
                who,
                ("api_access_token", credential),
                &routes,
                exactly(404, not_found.clone()),
            )
            .await,
        );
    }
    assert_none(failures);
}

#[actix_web::test]
async fn a_room_of_the_callers_own_account_it_may_not_use_stays_403() {
    let app = TestApp::spawn().await;
    let globex = app.tenant("Globex").await;
    // A room the agent is not in (the administrator who made it is its only member).
    let room = app
        .create_room(&globex.admin_token, json!({ "name": "Board room" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    let id = app.chat_room_id_of(globex.id, &globex.api_key, &uuid).await;
    let agent = ("api_access_token", globex.agent_token.as_str());
    let not_administrator = json!({ "error": "Only administrators can do this action" });
    let not_member = json!({ "error": "You are not a member of this chat room" });

    let mut failures = Vec::new();
    // Account dialect, an agent: administrators' routes, and reading or sending.
    let routes = account_routes(globex.id, id, &globex.agent["id"]);
    let (read_or_send, manage): (Vec<Route>, Vec<Route>) = routes.into_iter().partition(|r| {
        r.method == Method::GET
            || r.path.ends_with("/messages")
            || r.path.ends_with("/mark_as_read")
    });
    failures.extend(
        check(
            &app,
            "agent",
            agent,
            &manage,
            exactly(403, not_administrator),
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            "agent",
            agent,
            &read_or_send,
            exactly(403, not_member.clone()),
        )
        .await,
    );
    // The API key is nobody: it sends to no room in the account dialect.
    let send = [route(
        Method::POST,
        chat_messages_path(globex.id, id),
        Some(json!({ "chat_room_message": { "content": "From the key" } })),
    )];
    failures.extend(
        check(
            &app,
            "API key",
            ("api_access_token", &globex.api_key),
            &send,
            exactly(403, not_member.clone()),
        )
        .await,
    );
    // Nor does an administrator who is not a member (the room was made by the key).
    let keyed = app
        .create_room(&globex.api_key, json!({ "name": "Keyed room" }))
        .await;
    let keyed = app
        .chat_room_id_of(globex.id, &globex.api_key, str_of(&keyed, "id"))
        .await;
    let send = [route(
        Method::POST,
        chat_messages_path(globex.id, keyed),
        Some(json!({ "chat_room_message": { "content": "Not mine" } })),
    )];
    failures.extend(
        check(
            &app,
            "administrator",
            ("api_access_token", &globex.admin_token),
            &send,
            exactly(403, not_member),
        )
        .await,
    );
    // ChatAPI, an agent: reading and changing a room it is not in.
    let chatapi: Vec<Route> = chatapi_room_routes(&uuid)
        .into_iter()
        .filter(|r| !r.path.ends_with("/join") && !r.path.ends_with("/leave"))
        .collect();
    failures.extend(
        check(
            &app,
            "agent",
            api_key_header(&globex.agent_token),
            &chatapi,
            chatapi_error(403, "ROOM_ACCESS_DENIED"),
        )
        .await,
    );
    assert_none(failures);
}
