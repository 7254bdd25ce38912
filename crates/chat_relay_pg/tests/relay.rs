//! The relay ([`PgRelay`]) between two nodes over `LISTEN/NOTIFY`, against a real
//! server. Each test in its own fresh database (see `chat_test_db`), so they run in
//! parallel.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chat_app::{EventRelay, Notice, RelayInbox, Typing};
use chat_domain::{AccountId, Message, RoomId, Seq};
use chat_relay_pg::{PgRelay, encode_notice};
use chat_relay_wire::fixtures::{every_notice, just_sent};
use chat_test_db::TestDatabase;
use diesel::sql_types::BigInt;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use uuid::Uuid;

/// A connection of its own to the test database.
fn connect(db: &TestDatabase) -> PgConnection {
    PgConnection::establish(db.url()).expect("test database reachable")
}

/// Runs `sql` behind the relay's back.
fn execute(db: &TestDatabase, sql: &str) -> usize {
    diesel::sql_query(sql)
        .execute(&mut connect(db))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// How long a relay test waits for something to arrive.
const PATIENCE: Duration = Duration::from_secs(5);

/// The poll interval the server uses.
const POLL: Duration = Duration::from_millis(5);

/// An inbox that records what it is handed.
#[derive(Default)]
struct TestInbox {
    state: Mutex<Received>,
    changed: Condvar,
}

#[derive(Default)]
struct Received {
    notices: Vec<Notice>,
    resyncs: usize,
}

impl RelayInbox for TestInbox {
    fn received(&self, notice: Notice) {
        let mut state = self.state.lock().expect("inbox lock");
        state.notices.push(notice);
        self.changed.notify_all();
    }

    fn resync(&self) {
        let mut state = self.state.lock().expect("inbox lock");
        state.resyncs += 1;
        self.changed.notify_all();
    }
}

impl TestInbox {
    /// Waits up to [`PATIENCE`] for `done` to hold; answers whether it did.
    fn wait_for(&self, done: impl Fn(&Received) -> bool) -> bool {
        let until = Instant::now() + PATIENCE;
        let mut state = self.state.lock().expect("inbox lock");
        while !done(&state) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .expect("inbox lock")
                .0;
        }
        true
    }

    fn wait_for_notices(&self, n: usize) -> Vec<Notice> {
        let arrived = self.wait_for(|r| r.notices.len() >= n);
        let notices = self.notices();
        assert!(arrived, "expected {n} notices, got {notices:?}");
        notices
    }

    fn notices(&self) -> Vec<Notice> {
        self.state.lock().expect("inbox lock").notices.clone()
    }

    fn resyncs(&self) -> usize {
        self.state.lock().expect("inbox lock").resyncs
    }
}

fn relay(db: &TestDatabase) -> PgRelay {
    PgRelay::new(db.url(), Uuid::new_v4()).expect("relay built")
}

fn listening(db: &TestDatabase) -> (PgRelay, Arc<TestInbox>) {
    let relay = relay(db);
    let inbox = Arc::new(TestInbox::default());
    relay.listen(inbox.clone(), POLL).expect("listening");
    (relay, inbox)
}

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

/// Backends of the test database with this application name.
fn backends(db: &TestDatabase, application: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = '{application}'"
    ))
    .get_result::<Count>(&mut connect(db))
    .expect("backends counted")
    .n
}

#[test]
fn relay_carries_every_notice_to_the_other_node_and_not_back() {
    let db = TestDatabase::new();
    let (a, a_inbox) = listening(&db);
    let (b, b_inbox) = listening(&db);

    let sent = every_notice();
    for notice in &sent {
        a.relay(notice.clone());
    }
    // In the order sent, every field intact.
    assert_eq!(b_inbox.wait_for_notices(sent.len()), sent);

    b.relay(created(99));
    assert_eq!(a_inbox.wait_for_notices(1), [created(99)]);
    // Each node also hears its own notifications: give them time to arrive, and see
    // that they were skipped.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(a_inbox.notices(), [created(99)]);
    assert_eq!(b_inbox.notices(), sent);
    assert_eq!(a_inbox.resyncs(), 0);
    assert_eq!(b_inbox.resyncs(), 0);
}

#[test]
fn relay_carries_a_new_message_whole_and_one_too_large_for_a_notification_by_its_ids() {
    let db = TestDatabase::new();
    let (a, _a_inbox) = listening(&db);
    let (_b, b_inbox) = listening(&db);

    let small = just_sent(1, "hello \"there\" 👋");
    // 3,000 characters of three bytes: past a notification's 8,000.
    let large = just_sent(2, &"€".repeat(3_000));
    a.relay(created_of(&small, true));
    a.relay(created_of(&large, true));
    assert_eq!(
        b_inbox.wait_for_notices(2),
        [created_of(&small, true), created_of(&large, false)]
    );
}

#[test]
fn relay_skips_payloads_that_are_not_notices() {
    let db = TestDatabase::new();
    let a = relay(&db);
    let (_b, b_inbox) = listening(&db);
    execute(
        &db,
        "SELECT pg_notify('chat_events', 'garbage'), pg_notify('chat_events', '{\"kind\":1}'), \
         pg_notify('other_channel', 'x')",
    );
    a.relay(created(1));
    assert_eq!(b_inbox.wait_for_notices(1), [created(1)]);
}

#[test]
fn relay_sends_the_largest_notice_that_fits_and_refuses_a_larger_one() {
    let db = TestDatabase::new();
    let a = relay(&db);
    let (_b, b_inbox) = listening(&db);
    let typing = |name_len: usize| {
        Notice::Typing(Typing {
            account: AccountId(1),
            room: RoomId(2),
            room_uuid: Uuid::nil(),
            user_key: "k".to_owned(),
            user: None,
            user_name: "n".repeat(name_len),
            is_typing: true,
        })
    };
    let base = encode_notice(Uuid::nil(), &typing(0))
        .expect("encodes")
        .len();
    // PostgreSQL takes payloads shorter than 8000 bytes.
    let largest = typing(7999 - base);
    a.relay(typing(8000 - base));
    a.relay(largest.clone());
    a.relay(created(2));
    assert_eq!(b_inbox.wait_for_notices(2), [largest.clone(), created(2)]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(b_inbox.notices(), [largest, created(2)]);
}

#[test]
fn relay_listener_reconnects_after_its_backend_is_killed_and_resyncs() {
    let db = TestDatabase::new();
    // A only sends: the only listening backend of this database is B's.
    let a = relay(&db);
    let (_b, b_inbox) = listening(&db);
    a.relay(created(1));
    assert_eq!(b_inbox.wait_for_notices(1), [created(1)]);
    assert_eq!(b_inbox.resyncs(), 0);
    assert_eq!(backends(&db, "chat-relay-listen"), 1);

    let killed = execute(
        &db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'chat-relay-listen'",
    );
    assert_eq!(killed, 1);
    assert!(
        b_inbox.wait_for(|r| r.resyncs >= 1),
        "no resync after the listener lost its connection"
    );
    a.relay(created(2));
    assert_eq!(b_inbox.wait_for_notices(2), [created(1), created(2)]);
    assert_eq!(b_inbox.resyncs(), 1);
    assert_eq!(backends(&db, "chat-relay-listen"), 1);
}

#[test]
fn relay_sender_reconnects_after_its_backend_is_killed() {
    let db = TestDatabase::new();
    let a = relay(&db);
    let (_b, b_inbox) = listening(&db);
    a.relay(created(1));
    assert_eq!(b_inbox.wait_for_notices(1), [created(1)]);
    let killed = execute(
        &db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'chat-relay-send'",
    );
    assert_eq!(killed, 1);
    a.relay(created(2));
    assert_eq!(b_inbox.wait_for_notices(2), [created(1), created(2)]);
    assert_eq!(b_inbox.resyncs(), 0);
}

#[test]
fn relay_that_cannot_listen_yet_keeps_trying_and_resyncs_once_it_does() {
    let db = TestDatabase::new();
    let url = db.url().to_owned();
    // A database that does not exist yet.
    let later = format!("{}_later", db.name());
    let later_url = url.replace(db.name(), &later);
    let b = PgRelay::new(&later_url, Uuid::new_v4()).expect("relay built");
    let b_inbox = Arc::new(TestInbox::default());
    b.listen(b_inbox.clone(), POLL)
        .expect("listening starts without the database");
    execute(&db, &format!("CREATE DATABASE \"{later}\""));
    let created_db = DropLater(url.clone(), later.clone());
    assert!(
        b_inbox.wait_for(|r| r.resyncs >= 1),
        "no resync once listening"
    );
    let a = PgRelay::new(&later_url, Uuid::new_v4()).expect("relay built");
    a.relay(created(1));
    assert_eq!(b_inbox.wait_for_notices(1), [created(1)]);
    drop(a);
    drop(b);
    drop(created_db);
}

/// Drops, over a connection to the server at `.0`, the database named `.1` that a test
/// created.
struct DropLater(String, String);

impl Drop for DropLater {
    fn drop(&mut self) {
        let dropped = diesel::PgConnection::establish(&self.0).map(|mut conn| {
            diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.1
            ))
            .execute(&mut conn)
        });
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.1);
        }
    }
}

#[test]
fn relay_stop_ends_its_threads_and_connections() {
    let db = TestDatabase::new();
    let (a, a_inbox) = listening(&db);
    let b = relay(&db);
    b.relay(created(1));
    assert_eq!(a_inbox.wait_for_notices(1), [created(1)]);
    assert_eq!(backends(&db, "chat-relay-listen"), 1);
    assert_eq!(backends(&db, "chat-relay-send"), 1);

    a.stop();
    drop(b);
    let until = Instant::now() + PATIENCE;
    while backends(&db, "chat-relay-listen") + backends(&db, "chat-relay-send") > 0 {
        assert!(Instant::now() < until, "relay connections still open");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Stopped: nothing is sent, nothing panics, and it cannot listen again.
    a.relay(created(2));
    a.stop();
    assert!(
        a.listen(Arc::new(TestInbox::default()), POLL).is_err(),
        "a stopped relay listens no more"
    );
}

#[test]
fn relay_listens_once() {
    let db = TestDatabase::new();
    let (a, _inbox) = listening(&db);
    assert!(a.listen(Arc::new(TestInbox::default()), POLL).is_err());
    assert!(format!("{a:?}").contains("PgRelay"));
}
