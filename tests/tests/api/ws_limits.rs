//! How many WebSockets one person may have open (contract §8): past
//! `CHAT_RATE_WS_SOCKETS_PER_USER` on a node, a socket is upgraded and closed with 4004
//! before any frame; room sockets and user streams count together; listeners without a
//! person are not counted; a closed socket frees its place.

use std::time::{Duration, Instant};

use chat_tests::*;
use serde_json::{Value, json};

/// Closed: rate limited.
const RATE_LIMITED: u16 = 4004;

/// A server on which one person may have two sockets open.
async fn two_sockets_each() -> TestApp {
    TestApp::spawn_with(|settings| settings.rate.rate_ws_sockets_per_user = 2).await
}

fn id_of(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {value}"))
}

/// An account-dialect room of the administrator with the agent added; answers its
/// UUID.
async fn room_of_admin_and_agent(app: &TestApp, tenant: &Tenant) -> String {
    let room = app
        .create_chat_room(tenant.id, &tenant.admin_token, "General", None)
        .await;
    let id = id_of(&room);
    let reply = app
        .members_request(
            awc::http::Method::POST,
            tenant.id,
            id,
            &tenant.admin_token,
            &json!({ "user_ids": [id_of(&tenant.agent)] }),
        )
        .await;
    assert_eq!(reply.status, 200, "adding the agent: {}", reply.text());
    app.room_uuid_of(tenant.id, &tenant.admin_token, id).await
}

fn token_query(token: &str) -> String {
    format!("token={}", query_escape(token))
}

/// Opens the socket at `path`, trying again while it is refused with 4004 (a place
/// freed by a close is given back as the server lets go of the connection), for up to
/// [`LIVE_WAIT`].
async fn open_when_a_place_is_free(app: &TestApp, path: &str) -> LiveSocket {
    let deadline = Instant::now() + LIVE_WAIT;
    loop {
        let mut socket = app.ws_connect(path).await;
        match socket.recv(LIVE_WAIT).await {
            Some(Received::Frame(frame)) => {
                assert_eq!(frame["type"], "connection_status", "{frame}");
                return socket;
            }
            Some(Received::Closed(Some(RATE_LIMITED))) if Instant::now() < deadline => {
                actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("{path}: expected a connection_status, got {other:?}"),
        }
    }
}

#[actix_web::test]
async fn a_user_past_the_socket_limit_is_closed_with_4004_at_open_and_others_are_not() {
    let app = two_sockets_each().await;
    let tenant = app.tenant("Acme").await;
    let uuid = room_of_admin_and_agent(&app, &tenant).await;
    let agent_room = room_socket_path(&uuid, &token_query(&tenant.agent_token));
    let agent_stream = user_stream_path(tenant.id, &tenant.agent_token);

    // A room socket and a stream count together.
    let (mut stream, _) = app.open_user_stream(tenant.id, &tenant.agent_token).await;
    let mut room = app.user_room_socket(&tenant.agent_token, &uuid).await;
    app.assert_refused(&agent_room, RATE_LIMITED, "a third socket of the agent")
        .await;
    app.assert_refused(&agent_stream, RATE_LIMITED, "a third socket (a stream)")
        .await;
    stream.assert_alive().await;
    room.assert_alive().await;

    // Another user of the same account is not affected.
    let (mut admin_stream, _) = app.open_user_stream(tenant.id, &tenant.admin_token).await;
    let mut admin_room = app.user_room_socket(&tenant.admin_token, &uuid).await;
    admin_stream.assert_alive().await;
    admin_room.assert_alive().await;

    // Listeners with the API key and no participant are not counted.
    let listening = token_query(&tenant.api_key);
    let mut listeners = Vec::new();
    for _ in 0..3 {
        listeners.push(app.open_room_socket(&uuid, &listening).await.0);
    }

    // Closing one of the agent's sockets lets a new one in; then the limit holds again.
    stream.close().await;
    let mut again = open_when_a_place_is_free(&app, &agent_room).await;
    again.assert_alive().await;
    app.assert_refused(&agent_stream, RATE_LIMITED, "past the limit again")
        .await;
    room.assert_alive().await;
}

#[actix_web::test]
async fn a_participant_named_with_the_api_key_counts_as_that_user() {
    let app = two_sockets_each().await;
    let tenant = app.tenant("Acme").await;
    let room = app
        .create_room(&tenant.api_key, json!({ "name": "Support" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    for user_id in ["alice", "bob"] {
        let reply = app
            .join_room(&tenant.api_key, &uuid, &json!({ "user_id": user_id }))
            .await;
        assert_eq!(reply.status, 200, "joining {user_id}: {}", reply.text());
    }
    let as_alice = format!("token={}&user_id=alice", query_escape(&tenant.api_key));
    let mut first = app
        .participant_socket(&tenant.api_key, &uuid, "alice")
        .await;
    let second = app
        .participant_socket(&tenant.api_key, &uuid, "alice")
        .await;
    app.assert_refused(
        &room_socket_path(&uuid, &as_alice),
        RATE_LIMITED,
        "alice's third socket",
    )
    .await;
    let mut bob = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    bob.assert_alive().await;

    second.close().await;
    let mut third = open_when_a_place_is_free(&app, &room_socket_path(&uuid, &as_alice)).await;
    third.assert_alive().await;
    first.assert_alive().await;
}
