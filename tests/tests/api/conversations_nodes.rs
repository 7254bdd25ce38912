//! Conversation events across server nodes (CONTRACT §5, §12): a reaction, a pin and a
//! mention made through one node reach the sockets open on another.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

fn id(message: &Value) -> &str {
    str_of(message, "id")
}

#[actix_web::test]
async fn reactions_pins_and_mentions_reach_the_sockets_of_another_node() {
    let app = TestApp::spawn().await;
    let other = app.spawn_sharing().await;
    let acme = app.tenant("Acme").await;
    let agent = chat_user_id(&acme.agent);
    let room = app
        .room_with(
            &acme.api_key,
            "General",
            &[("alice", "Alice"), (&agent, "Alan Agent")],
        )
        .await;
    let room_id = app.room_int_id(&room);
    // Both sockets on the other node.
    let query = format!("token={}", query_escape(&acme.api_key));
    let (mut socket, _) = other.open_room_socket(&room, &query).await;
    let (mut stream, _) = other.open_user_stream(acme.id, &acme.agent_token).await;

    let sent = app
        .send_message_ok(
            &acme.api_key,
            &room,
            json!({
                "sender_id": "alice",
                "content": "@Alan the release",
                "meta": { "mentions": [agent] },
            }),
        )
        .await;
    let message_id = app.message_int_id(id(&sent));
    assert_eq!(socket.expect("message").await["data"]["id"], id(&sent));
    assert_eq!(stream.expect("message").await["data"]["id"], message_id);
    let frame = stream.expect("mention").await;
    assert_eq!(frame["data"]["message_id"], message_id, "{frame}");
    assert_eq!(
        frame["data"]["mentioned_user_id"], acme.agent["id"],
        "{frame}"
    );

    app.react_ok(&acme.api_key, id(&sent), "🚀", Some("alice"))
        .await;
    let frame = socket.expect("reaction_added").await;
    assert_eq!(
        frame["data"],
        json!({ "message_id": id(&sent), "emoji": "🚀", "user_id": "alice" })
    );
    let frame = stream.expect("reaction_added").await;
    assert_eq!(frame["room_id"], room_id, "{frame}");
    assert_eq!(frame["data"]["message_id"], message_id, "{frame}");
    assert_eq!(frame["data"]["emoji"], "🚀", "{frame}");

    let reply = app
        .unreact(&acme.api_key, id(&sent), "🚀", Some("alice"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        socket.expect("reaction_removed").await["data"]["emoji"],
        "🚀"
    );
    assert_eq!(
        stream.expect("reaction_removed").await["data"]["emoji"],
        "🚀"
    );

    let reply = app.pin(&acme.api_key, id(&sent), true).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let pinned = reply.json()["data"].clone();
    assert_eq!(socket.expect("message_pinned").await["data"], pinned);
    let frame = stream.expect("message_pinned").await;
    assert_eq!(frame["data"]["id"], message_id, "{frame}");
    assert_eq!(frame["data"]["pinned_by"], json!(null), "{frame}");
    assert_unix_near_now(&frame["data"]["pinned_at"]);
    let reply = app
        .send(
            Method::DELETE,
            &pin_path(id(&sent)),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let frame = socket.expect("message_unpinned").await;
    assert_eq!(frame["data"]["pinned_at"], json!(null), "{frame}");
    let frame = stream.expect("message_unpinned").await;
    assert_eq!(frame["data"]["id"], message_id, "{frame}");

    // A deletion names who did it on the other node too.
    let reply = app
        .send(
            Method::DELETE,
            &message_path(id(&sent)),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = socket.expect_data("message_deleted").await;
    assert_eq!(data["deleted_by"], "system", "{data}");
    assert_rfc3339_near_now(&data["deleted_at"]);
    let frame = stream.expect("message_deleted").await;
    assert_eq!(frame["data"]["deleted_by"], json!(null), "{frame}");
    assert_unix_near_now(&frame["data"]["deleted_at"]);
}

#[actix_web::test]
async fn a_join_through_one_node_reaches_the_other_with_its_time_and_meta() {
    let app = TestApp::spawn().await;
    let other = app.spawn_sharing().await;
    let acme = app.tenant("Acme").await;
    let admin = chat_user_id(&acme.admin);
    let room = app
        .room_with(&acme.api_key, "General", &[(&admin, "Ada Admin")])
        .await;
    let query = format!("token={}", query_escape(&acme.api_key));
    let (mut socket, _) = other.open_room_socket(&room, &query).await;
    let (mut stream, _) = other.open_user_stream(acme.id, &acme.admin_token).await;

    let reply = app
        .join_room(
            &acme.api_key,
            &room,
            &json!({ "user_id": "carol", "user_name": "Carol", "meta": { "team": "blue" } }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The room's creator joined it too, through the first node: under load that frame
    // may reach the other node after the socket subscribed. Carol's is the one wanted.
    let mut data = socket.expect_data("user_joined").await;
    if data["user_id"] == admin.as_str() {
        data = socket.expect_data("user_joined").await;
    }
    assert_eq!(data["user_id"], "carol", "{data}");
    assert_eq!(data["meta"], json!({ "team": "blue" }), "{data}");
    let joined = assert_rfc3339_near_now(&data["joined_at"]);
    let mut data = stream.expect_data("user_joined").await;
    if data["meta"] == json!({}) {
        data = stream.expect_data("user_joined").await;
    }
    assert_eq!(data["meta"], json!({ "team": "blue" }), "{data}");
    assert_eq!(data["joined_at"].as_i64(), Some(joined), "{data}");

    let reply = app.leave_room(&acme.api_key, &room, "carol").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = socket.expect_data("user_left").await;
    assert_eq!(data["user_id"], "carol", "{data}");
    assert_rfc3339_near_now(&data["left_at"]);
    let data = stream.expect_data("user_left").await;
    assert_unix_near_now(&data["left_at"]);
}
