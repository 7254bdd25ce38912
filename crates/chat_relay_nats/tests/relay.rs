//! The relay ([`NatsRelay`]) between nodes over a real NATS server
//! (`CHAT_TEST_NATS_URL`, else `nats://127.0.0.1:4222`; a server that does not answer
//! fails the tests). Each test on subjects of its own, so they run side by side.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_app::{CredentialEvent, EventRelay, Notice};
use chat_domain::{AccountId, Message, RoomId, Seq};
use chat_relay_nats::{MAX_PAYLOAD_BYTES, NatsRelay, QUEUE_CAPACITY};
use chat_relay_wire::encode_notice;
use chat_relay_wire::fixtures::{every_notice, just_sent};
use futures_util::StreamExt;
use uuid::Uuid;

use support::{Proxy, TestInbox, listening_at, nats_url, relay_at, test_prefix};

fn created(seq: i64) -> Notice {
    Notice::MessageCreated {
        account: AccountId(1),
        room: RoomId(2),
        seq: Seq(seq),
        message: None,
    }
}

/// The notice of `message`, carrying it (`whole`) or naming it by `seq`.
fn created_of(message: &Message, whole: bool) -> Notice {
    Notice::MessageCreated {
        account: message.account_id,
        room: message.room_id,
        seq: message.seq,
        message: whole.then(|| Box::new(message.clone())),
    }
}

/// A plain client of the test server, to look at or publish on the relay's subjects.
async fn plain_client() -> async_nats::Client {
    let url = nats_url();
    async_nats::connect(url.as_str())
        .await
        .unwrap_or_else(|error| panic!("NATS does not answer at {url}: {error}"))
}

#[tokio::test]
async fn relay_carries_every_notice_to_the_other_node_in_order_and_not_back() {
    let (url, prefix) = (nats_url(), test_prefix());
    let (a, a_inbox) = listening_at(&url, &prefix).await;
    let (b, b_inbox) = listening_at(&url, &prefix).await;

    let sent = every_notice();
    for notice in &sent {
        a.relay(notice.clone());
    }
    // In the order sent (room and account-wide subjects mixed), every field intact.
    assert_eq!(b_inbox.wait_for_notices(sent.len()).await, sent);

    b.relay(created(99));
    assert_eq!(a_inbox.wait_for_notices(1).await, [created(99)]);
    // A node does not hear its own notices: give them time to arrive, and see none.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a_inbox.notices(), [created(99)]);
    assert_eq!(b_inbox.notices(), sent);
    assert_eq!(a_inbox.resyncs(), 0);
    assert_eq!(b_inbox.resyncs(), 0);
}

#[tokio::test]
async fn relay_carries_a_new_message_whole_and_one_past_its_limit_by_its_ids() {
    let (url, prefix) = (nats_url(), test_prefix());
    let (a, _a_inbox) = listening_at(&url, &prefix).await;
    let (_b, b_inbox) = listening_at(&url, &prefix).await;

    let small = just_sent(1, "hello \"there\" 👋");
    // 10,000 characters of three bytes: past the relay's 16 KiB.
    let large = just_sent(2, &"€".repeat(10_000));
    a.relay(created_of(&small, true));
    a.relay(created_of(&large, true));
    assert_eq!(
        b_inbox.wait_for_notices(2).await,
        [created_of(&small, true), created_of(&large, false)]
    );
}

#[tokio::test]
async fn relay_skips_its_own_node_and_payloads_that_are_not_notices() {
    let (url, prefix) = (nats_url(), test_prefix());
    let node_of_b = Uuid::new_v4();
    let b = NatsRelay::connect_with_prefix(&url, node_of_b, &prefix)
        .await
        .expect("connected");
    let b_inbox = Arc::new(TestInbox::default());
    b.listen(b_inbox.clone()).await.expect("listening");
    let plain = plain_client().await;
    let subject = format!("{prefix}.1.2");
    // From another connection, but naming B's node: B's own.
    let own = encode_notice(node_of_b, &created(1), MAX_PAYLOAD_BYTES).expect("encodes");
    for payload in [own.as_bytes(), b"garbage", b"{\"kind\":1}", &[0xff, 0xfe]] {
        plain
            .publish(subject.clone(), payload.to_vec().into())
            .await
            .expect("published");
    }
    let other = encode_notice(Uuid::new_v4(), &created(2), MAX_PAYLOAD_BYTES).expect("encodes");
    plain
        .publish(subject, other.into())
        .await
        .expect("published");
    plain.flush().await.expect("flushed");
    assert_eq!(b_inbox.wait_for_notices(1).await, [created(2)]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(b_inbox.notices(), [created(2)]);
}

#[tokio::test]
async fn relay_publishes_on_the_rooms_subject_or_the_accounts() {
    let url = nats_url();
    // The default subjects, under an account no other test uses.
    let account = AccountId(i64::from(rand_u32()) + 1_000_000_000);
    let plain = plain_client().await;
    let mut watching = plain
        .subscribe(format!("chat.events.{}.>", account.0))
        .await
        .expect("subscribed");
    plain.flush().await.expect("flushed");
    let a = NatsRelay::connect(&url, Uuid::new_v4())
        .await
        .unwrap_or_else(|error| panic!("NATS does not answer at {url}: {error:#}"));
    a.relay(Notice::MessageCreated {
        account,
        room: RoomId(42),
        seq: Seq(1),
        message: None,
    });
    a.relay(Notice::Credentials(CredentialEvent {
        account,
        user: None,
    }));
    let mut subjects = Vec::new();
    for _ in 0..2 {
        let message = tokio::time::timeout(support::PATIENCE, watching.next())
            .await
            .expect("a message in time")
            .expect("a message");
        subjects.push(message.subject.to_string());
    }
    assert_eq!(
        subjects,
        [
            format!("chat.events.{}.42", account.0),
            format!("chat.events.{}._", account.0)
        ]
    );
}

/// A number that differs between test runs (no random crate needed).
fn rand_u32() -> u32 {
    Uuid::new_v4().as_u128() as u32 & 0x7fff_ffff
}

#[tokio::test]
async fn relay_resyncs_after_its_connection_is_cut_and_restored_and_notices_flow_again() {
    let (url, prefix) = (nats_url(), test_prefix());
    let proxy = Proxy::to(&url).await;
    let (a, a_inbox) = listening_at(&url, &prefix).await;
    let (b, b_inbox) = listening_at(proxy.url(), &prefix).await;
    assert!(proxy.wait_for_open(1).await, "B connects through the proxy");
    a.relay(created(1));
    assert_eq!(b_inbox.wait_for_notices(1).await, [created(1)]);
    assert_eq!(b_inbox.resyncs(), 0);

    proxy.cut();
    assert!(proxy.wait_for_open(0).await, "the proxy cut B's connection");
    // Published while B is away: lost for B, which must catch up from the tables.
    a.relay(created(2));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b_inbox.resyncs(), 0, "no resync before B is back");

    proxy.restore();
    assert!(
        b_inbox.wait_for(|r| r.resyncs >= 1).await,
        "no resync after B's connection came back"
    );
    // Subscribed again, both ways.
    a.relay(created(3));
    assert_eq!(b_inbox.wait_for_notices(2).await, [created(1), created(3)]);
    b.relay(created(4));
    assert!(
        a_inbox.wait_for(|r| r.notices.contains(&created(4))).await,
        "B publishes again: {:?}",
        a_inbox.notices()
    );
    assert_eq!(b_inbox.resyncs(), 1);
    assert_eq!(a_inbox.resyncs(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn relay_drops_without_blocking_when_its_queue_is_full() {
    let (url, prefix) = (nats_url(), test_prefix());
    let a = relay_at(&url, &prefix).await;
    let (_b, b_inbox) = listening_at(&url, &prefix).await;
    // One thread, and no await: the publishing task cannot run, the queue fills up.
    let extra = 100;
    let began = Instant::now();
    for seq in 0..QUEUE_CAPACITY + extra {
        a.relay(created(seq as i64));
    }
    assert!(began.elapsed() < Duration::from_secs(1), "relay() waited");
    assert_eq!(a.dropped(), extra as u64);
    // What was queued goes out, in order; later notices too.
    let queued: Vec<Notice> = (0..QUEUE_CAPACITY).map(|seq| created(seq as i64)).collect();
    assert_eq!(b_inbox.wait_for_notices(QUEUE_CAPACITY).await, queued);
    a.relay(created(-1));
    let all = b_inbox.wait_for_notices(QUEUE_CAPACITY + 1).await;
    assert_eq!(all.last(), Some(&created(-1)));
    assert_eq!(a.dropped(), extra as u64);
}

#[tokio::test]
async fn relay_stop_closes_its_connection_and_ends_listening() {
    let (url, prefix) = (nats_url(), test_prefix());
    let proxy = Proxy::to(&url).await;
    let (a, a_inbox) = listening_at(proxy.url(), &prefix).await;
    let b = relay_at(&url, &prefix).await;
    b.relay(created(1));
    assert_eq!(a_inbox.wait_for_notices(1).await, [created(1)]);
    assert_eq!(proxy.open(), 1);

    a.stop();
    assert!(proxy.wait_for_open(0).await, "A's connection still open");
    // Stopped: nothing is sent or received, nothing panics, and it cannot listen again.
    b.relay(created(2));
    a.relay(created(3));
    a.stop();
    assert!(
        a.listen(Arc::new(TestInbox::default())).await.is_err(),
        "a stopped relay listens no more"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(a_inbox.notices(), [created(1)]);
}

#[tokio::test]
async fn relay_listens_once() {
    let (url, prefix) = (nats_url(), test_prefix());
    let (a, _inbox) = listening_at(&url, &prefix).await;
    assert!(a.listen(Arc::new(TestInbox::default())).await.is_err());
    assert!(format!("{a:?}").contains("NatsRelay"));
}

#[tokio::test]
async fn relay_connect_fails_clearly_when_nats_does_not_answer_and_hides_the_password() {
    // A port nothing listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = free.local_addr().expect("its address").port();
    drop(free);
    let url = format!("nats://user:hunter2@127.0.0.1:{port}");
    let error = NatsRelay::connect(&url, Uuid::new_v4())
        .await
        .expect_err("nothing answers");
    let printed = format!("{error:#}");
    assert!(printed.contains("cannot connect to NATS"), "{printed}");
    assert!(!printed.contains("hunter2"), "{printed}");
    // And a prefix that is not a subject is refused before connecting.
    assert!(
        NatsRelay::connect_with_prefix(&nats_url(), Uuid::new_v4(), "chat.>")
            .await
            .is_err()
    );
}
