//! Sockets whose client stops reading: closed by their loop (1013), torn down at the TCP
//! level so the kernel's buffers are released, counted in `/metrics` — while the other
//! sockets of the room get every message in order.

use std::time::Duration;

use chat_tests::*;
use futures_util::StreamExt;
use serde_json::json;

/// The send timeout of these tests' servers, in seconds (the default is 10).
const SEND_TIMEOUT_SECS: u64 = 1;

/// `chat_live_sockets_closed_total{reason="<reason>"}`, or 0 when absent.
async fn closed_sockets(app: &TestApp, reason: &str) -> u64 {
    let reply = app.get("/metrics", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let series = format!("chat_live_sockets_closed_total{{reason=\"{reason}\"}} ");
    reply
        .text()
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |count| {
            count
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("{series}is not a count ({e})"))
        })
}

async fn join(app: &TestApp, tenant: &Tenant, uuid: &str, user_id: &str) {
    let reply = app
        .join_room(
            &tenant.api_key,
            uuid,
            &json!({ "user_id": user_id, "user_name": user_id }),
        )
        .await;
    assert_eq!(reply.status, 200, "joining {user_id}: {}", reply.text());
}

#[actix_web::test]
async fn a_socket_that_never_reads_is_closed_and_its_tcp_connection_dropped_while_a_reader_gets_every_message_in_order()
 {
    const TOTAL: i64 = 300;
    let app = TestApp::spawn_with(|s| s.ws_send_timeout_secs = SEND_TIMEOUT_SECS).await;
    let tenant = app.tenant("Acme").await;
    let room = app
        .create_room(&tenant.api_key, json!({ "name": "General" }))
        .await;
    let uuid = str_of(&room, "id").to_owned();
    for user in ["alice", "bob", "slow"] {
        join(&app, &tenant, &uuid, user).await;
    }
    let query = format!("token={}&user_id=slow", query_escape(&tenant.api_key));
    let mut slow = app.raw_socket(&room_socket_path(&uuid, &query), 4096).await;
    let mut fast = app.participant_socket(&tenant.api_key, &uuid, "bob").await;
    let online = app
        .online_until(&tenant.api_key, &uuid, LIVE_WAIT, |ids| ids.len() == 2)
        .await;
    assert_eq!(online.len(), 2, "both sockets are subscribed: {online:?}");
    let too_slow_before = closed_sockets(&app, "too_slow").await;

    // Alice floods the room with near-maximal messages, four at a time, while Bob reads
    // and the slow client reads nothing: its buffers fill within the first messages.
    let padding = "x".repeat(9_000);
    let post = futures_util::stream::iter(1..=TOTAL).for_each_concurrent(4, |n| {
        let body = json!({ "sender_id": "alice", "content": format!("{n} {padding}") });
        let (app, api_key, uuid) = (&app, &tenant.api_key, &uuid);
        async move {
            app.send_message_ok(api_key, uuid, body).await;
        }
    });
    let read = async {
        let mut seqs = Vec::new();
        while seqs.len() < usize::try_from(TOTAL).unwrap_or(0) {
            match fast.recv(LIVE_WAIT).await {
                Some(Received::Frame(frame)) if frame["type"] == "message" => {
                    seqs.push(
                        frame["data"]["seq"]
                            .as_i64()
                            .unwrap_or_else(|| panic!("no seq in {frame}")),
                    );
                }
                Some(Received::Frame(frame)) => {
                    assert!(NOISE.contains(&frame_type(&frame)), "{frame}");
                }
                other => panic!("the reader got {} messages, then {other:?}", seqs.len()),
            }
        }
        seqs
    };
    // The queue fills within the first second; the loop closes (1013) and the kernel
    // drops the connection 1 s + 2 s after the client's window closed: well within 10 s.
    let bound = Duration::from_secs(10);
    let dropped = slow.dropped_by_server_within(bound);
    let ((), seqs, dropped) = futures_util::future::join3(post, read, dropped).await;

    let expected: Vec<i64> = (1..=TOTAL).collect();
    assert!(seqs == expected, "the reader missed or reordered messages");
    let after = dropped.unwrap_or_else(|| {
        panic!("the server still held the connection of a client that never reads {bound:?} into the flood")
    });
    assert!(after < bound, "dropped after {after:?}");
    assert!(
        closed_sockets(&app, "too_slow").await > too_slow_before,
        "the slow socket was not counted as too slow"
    );
    let online = app
        .online_until(&tenant.api_key, &uuid, LIVE_WAIT, |ids| ids.len() == 1)
        .await;
    assert_eq!(online, vec!["bob".to_owned()]);
}
