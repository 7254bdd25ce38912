//! Live events across server nodes: two servers over one database, where every event
//! caused by an HTTP request to one reaches the sockets of the other, and `online` counts
//! the sockets of both (contract §5).

use std::time::Duration;

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

fn seq_of(message: &Value) -> i64 {
    message["seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer seq in {message}"))
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

/// A ChatAPI room made on `app` with participants `alice` (Alice) and `bob` (Bob);
/// answers its UUID.
async fn room_of_alice_and_bob(app: &TestApp, tenant: &Tenant, name: &str) -> String {
    let room = app
        .create_room(&tenant.api_key, json!({ "name": name }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    for (user_id, user_name) in [("alice", "Alice"), ("bob", "Bob")] {
        let reply = app
            .join_room(
                &tenant.api_key,
                &uuid,
                &json!({ "user_id": user_id, "user_name": user_name }),
            )
            .await;
        assert_eq!(reply.status, 200, "joining {user_id}: {}", reply.text());
    }
    uuid
}

/// `sender` says `content` in room `uuid` on `app`; answers the message.
async fn says(app: &TestApp, tenant: &Tenant, uuid: &str, sender: &str, content: &str) -> Value {
    app.send_message_ok(
        &tenant.api_key,
        uuid,
        json!({ "sender_id": sender, "content": content }),
    )
    .await
}

#[actix_web::test]
async fn a_message_sent_to_one_node_reaches_room_sockets_on_the_other() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sharing().await;
    let tenant = a.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&a, &tenant, "General").await;
    let mut on_a = a.participant_socket(&tenant.api_key, &uuid, "bob").await;
    let mut on_b = b.participant_socket(&tenant.api_key, &uuid, "alice").await;

    let from_b = says(&b, &tenant, &uuid, "alice", "sent to node B").await;
    let frame = on_a.expect("message").await;
    assert_eq!(frame["room_id"], uuid.as_str());
    assert_eq!(frame["data"], from_b, "a message sent to B, on A");
    assert_eq!(on_b.expect_data("message").await, from_b);

    let from_a = says(&a, &tenant, &uuid, "bob", "sent to node A").await;
    assert_eq!(on_b.expect_data("message").await, from_a, "on B");
    assert_eq!(on_a.expect_data("message").await, from_a, "on A");
}

#[actix_web::test]
async fn a_message_sent_to_one_node_reaches_user_streams_on_the_other() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sharing().await;
    let tenant = a.tenant("Acme").await;
    let (id, _) = a.chat_room_with_agent(&tenant, "Support").await;
    let (mut agent, _) = a.open_user_stream(tenant.id, &tenant.agent_token).await;
    let (mut admin, _) = a.open_user_stream(tenant.id, &tenant.admin_token).await;

    let sent = b
        .send_chat_message_ok(tenant.id, id, &tenant.admin_token, "sent to node B")
        .await;
    let frame = admin.expect("message").await;
    assert_eq!(frame["room_id"], id);
    assert_eq!(frame["data"], sent, "the sender's stream on A");
    let frame = agent.expect("message").await;
    assert_eq!(frame["room_id"], id);
    assert_eq!(frame["data"]["id"], sent["id"], "{frame}");
    assert_eq!(frame["data"]["content"], "sent to node B", "{frame}");
    assert_eq!(frame["data"]["message_type"], "incoming", "{frame}");

    // The agent's socket on A delivered it: the sender sees `delivered` (on B).
    let deadline = std::time::Instant::now() + LIVE_WAIT;
    let status = loop {
        let listed = b
            .chat_messages(tenant.id, id, &tenant.admin_token, "")
            .await;
        let status = listed[0]["status"].clone();
        if status == "delivered" || std::time::Instant::now() >= deadline {
            break status;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, "delivered");
}

#[actix_web::test]
async fn typing_on_one_node_reaches_sockets_on_the_other() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sharing().await;
    let tenant = a.tenant("Acme").await;
    let (id, uuid) = a.chat_room_with_agent(&tenant, "Support").await;
    let mut typist = a.user_room_socket(&tenant.agent_token, &uuid).await;
    let mut on_b = b.user_room_socket(&tenant.admin_token, &uuid).await;
    let (mut stream_on_b, _) = b.open_user_stream(tenant.id, &tenant.admin_token).await;

    typist
        .send_json(&json!({ "type": "typing", "data": { "is_typing": true } }))
        .await;
    // The room's joins (made before the sockets opened) can reach node B's sockets late
    // under load, relayed after they subscribed: they are skipped, not waited for.
    let frame = on_b
        .expect_skipping("typing", &["presence", "user_joined"])
        .await;
    assert_eq!(frame["room_id"], uuid.as_str());
    assert_eq!(
        frame["data"],
        json!({ "user_id": chat_user_id(&tenant.agent), "user_name": "Alan Agent", "is_typing": true })
    );
    let frame = stream_on_b
        .expect_skipping("typing", &["presence", "user_joined"])
        .await;
    assert_eq!(frame["room_id"], id);
    assert_eq!(
        frame["data"],
        json!({ "user_id": tenant.agent["id"], "user_name": "Alan Agent", "is_typing": true })
    );
}

#[actix_web::test]
async fn online_on_one_node_lists_users_connected_to_the_other() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sharing().await;
    let tenant = a.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&a, &tenant, "General").await;
    let mut bob_on_b = b.participant_socket(&tenant.api_key, &uuid, "bob").await;

    let alice_on_a = a.participant_socket(&tenant.api_key, &uuid, "alice").await;
    let frame = bob_on_b.expect("presence").await;
    assert_eq!(
        frame["data"],
        json!({ "user_id": "alice", "status": "online" })
    );
    let mut online = b.online_ids(&tenant.api_key, &uuid).await;
    online.sort();
    assert_eq!(online, strings(&["alice", "bob"]), "online on B");
    bob_on_b
        .send_json(&json!({ "type": "get_online_users" }))
        .await;
    let data = bob_on_b.expect_data("online_users").await;
    assert_eq!(data["total_online"], 2, "{data}");

    alice_on_a.close().await;
    let frame = bob_on_b.expect("presence").await;
    assert_eq!(
        frame["data"],
        json!({ "user_id": "alice", "status": "offline" })
    );
    let online = b
        .online_until(&tenant.api_key, &uuid, LIVE_WAIT, |ids| ids.len() == 1)
        .await;
    assert_eq!(online, strings(&["bob"]), "online on B after Alice left A");
}

#[actix_web::test]
async fn room_member_and_message_changes_on_one_node_reach_sockets_on_the_other() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sharing().await;
    let tenant = a.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&a, &tenant, "General").await;
    let mut on_a = a.participant_socket(&tenant.api_key, &uuid, "bob").await;

    let reply = b
        .json(
            Method::PUT,
            &room_path(&uuid),
            &key(&tenant.api_key),
            &json!({ "name": "Renamed on B" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = on_a.expect_data("room_updated").await;
    assert_eq!(data, reply.json()["data"]);

    let reply = b
        .join_room(
            &tenant.api_key,
            &uuid,
            &json!({ "user_id": "carol", "user_name": "Carol" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mut data = on_a.expect_data("user_joined").await;
    assert!(data["joined_at"].is_string(), "{data}");
    assert_eq!(data["meta"], json!({}), "{data}");
    if let Some(object) = data.as_object_mut() {
        object.remove("joined_at");
        object.remove("meta");
    }
    assert_eq!(data, json!({ "user_id": "carol", "user_name": "Carol" }));

    let message = says(&b, &tenant, &uuid, "carol", "draft").await;
    assert_eq!(on_a.expect_data("message").await, message);
    let reply = b
        .json(
            Method::PUT,
            &message_path(str_of(&message, "id")),
            &key(&tenant.api_key),
            &json!({ "content": "edited on B" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = on_a.expect_data("message_updated").await;
    assert_eq!(data, reply.json()["data"]);

    let reply = b
        .send(
            Method::POST,
            &room_action_path(&uuid, "deactivate"),
            &key(&tenant.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = on_a.expect_data("room_deactivated").await;
    assert_eq!(data["is_active"], false, "{data}");

    let reply = b
        .send(
            Method::DELETE,
            &room_path(&uuid),
            &key(&tenant.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let frame = on_a.expect("room_deleted").await;
    assert_eq!(frame["data"], json!({ "room_id": uuid }));
    on_a.expect_close(4002).await;
}

#[actix_web::test]
async fn since_seq_on_one_node_has_no_gap_and_no_duplicate_while_the_other_takes_messages() {
    const TOTAL: i64 = 50;
    let a = TestApp::spawn().await;
    let b = a.spawn_sharing().await;
    let tenant = a.tenant("Acme").await;
    let uuid = room_of_alice_and_bob(&a, &tenant, "General").await;
    for n in 1..=3 {
        says(&a, &tenant, &uuid, "alice", &format!("early {n}")).await;
    }

    let post = async {
        for n in 4..=TOTAL {
            says(&a, &tenant, &uuid, "alice", &format!("busy {n}")).await;
        }
    };
    let connect = async {
        let mut sockets = Vec::new();
        for n in 0..8_i64 {
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            let since = n % 4;
            let query = format!("token={}&since_seq={since}", tenant.api_key);
            let (mut socket, _) = b.open_room_socket(&uuid, &query).await;
            socket.label = format!("socket on B since_seq={since}");
            sockets.push((since, socket));
        }
        sockets
    };
    let ((), mut sockets) = futures_util::future::join(post, connect).await;

    for (since, socket) in &mut sockets {
        let mut seqs = Vec::new();
        while seqs.last() != Some(&TOTAL) {
            let frame = socket.expect_skipping("message", &[]).await;
            seqs.push(seq_of(&frame["data"]));
        }
        let expected: Vec<i64> = (*since + 1..=TOTAL).collect();
        assert_eq!(seqs, expected, "since_seq={since}");
    }
}
