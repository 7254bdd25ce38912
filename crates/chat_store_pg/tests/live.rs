//! Live delivery in the PostgreSQL adapter against a real server: presence
//! ([`PresenceStore`]) and the availability users are shown with, and the relay
//! ([`PgRelay`]) between two nodes over `LISTEN/NOTIFY`. Each test in its own fresh
//! database (see `chat_test_db`), so they run in parallel.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

mod common;

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chat_app::{
    EventRelay, MemberStore, MessageChange, NewRoom, Notice, PresenceChange, PresenceSession,
    PresenceStore, RelayInbox, RoomChange, RoomStore, StoreError, Typing, UserDirectory, Window,
};
use chat_domain::{
    AccountId, Availability, MemberMeta, MessageId, Room, RoomId, Seq, User, UserId,
};
use chat_store_pg::{PgRelay, PgStore, encode_notice};
use chat_test_db::TestDatabase;
use common::{Fixture, connect, count, create_account, create_user, execute, fixture};
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use uuid::Uuid;

const LONG: Duration = Duration::from_secs(60);

async fn create_room(store: &PgStore, account: AccountId, name: &str) -> Room {
    let new = NewRoom::parse(Some(name), None, None).expect("valid room");
    store
        .create_room(account, new, None)
        .await
        .expect("room created")
}

async fn add_members(store: &PgStore, account: AccountId, room: RoomId, users: &[&User]) {
    store
        .add_members(
            account,
            room,
            users.iter().map(|user| user.id).collect(),
            MemberMeta::default(),
            None,
        )
        .await
        .expect("members added");
}

fn session(
    node: Uuid,
    account: AccountId,
    room: Option<RoomId>,
    user_key: &str,
    user: Option<UserId>,
) -> PresenceSession {
    PresenceSession {
        id: Uuid::new_v4(),
        node,
        account,
        room,
        user_key: user_key.to_owned(),
        user,
    }
}

async fn open(store: &PgStore, session: &PresenceSession, ttl: Duration) -> u64 {
    store
        .open_session(session.clone(), ttl)
        .await
        .expect("session opened")
}

async fn close(store: &PgStore, session: &PresenceSession) -> u64 {
    store
        .close_session(session.id)
        .await
        .expect("session closed")
}

async fn online(store: &PgStore, account: AccountId, room: RoomId) -> Vec<String> {
    store
        .online_in_room(account, room)
        .await
        .expect("online users read")
}

async fn availability(store: &PgStore, user: &User) -> Availability {
    let found = store
        .find_users(user.account_id, vec![user.id])
        .await
        .expect("users found");
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].availability
}

// ---------------------------------------------------------------------------------------
// Presence
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn presence_counts_the_sessions_of_one_person_in_one_place() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let ann = create_user(&store, acme.id, "Ann", "agent").await;
    let general = create_room(&store, acme.id, "General").await;
    let random = create_room(&store, acme.id, "Random").await;
    let node = Uuid::new_v4();
    let at = |room: Option<RoomId>, key: &str| session(node, acme.id, room, key, Some(ann.id));

    let first = at(Some(general.id), "ann");
    let second = at(Some(general.id), "ann");
    assert_eq!(open(&store, &first, LONG).await, 1, "came online there");
    assert_eq!(open(&store, &second, LONG).await, 2);
    // Another room, the account stream, another person: places of their own.
    let elsewhere = at(Some(random.id), "ann");
    assert_eq!(open(&store, &elsewhere, LONG).await, 1);
    let stream = at(None, "ann");
    let stream_too = at(None, "ann");
    assert_eq!(open(&store, &stream, LONG).await, 1);
    assert_eq!(open(&store, &stream_too, LONG).await, 2);
    let visitor = session(node, acme.id, Some(general.id), "visitor-1", None);
    assert_eq!(open(&store, &visitor, LONG).await, 1);

    // Opening the same session again (a retry) renews it and counts it once.
    assert_eq!(open(&store, &first, LONG).await, 2);
    assert_eq!(count(&_db, "presence_sessions"), 6);

    assert_eq!(close(&store, &first).await, 1);
    assert_eq!(close(&store, &second).await, 0, "went offline there");
    assert_eq!(
        close(&store, &second).await,
        0,
        "closing twice changes nothing"
    );
    assert_eq!(close(&store, &stream).await, 1);
    assert_eq!(close(&store, &stream_too).await, 0);
    assert_eq!(close(&store, &elsewhere).await, 0);
    assert_eq!(
        store
            .close_session(Uuid::new_v4())
            .await
            .expect("unknown id"),
        0
    );
    assert_eq!(online(&store, acme.id, general.id).await, ["visitor-1"]);
}

#[tokio::test]
async fn presence_sessions_of_one_person_opened_and_closed_at_once_count_exactly() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let room = create_room(&store, acme.id, "General").await;
    let node = Uuid::new_v4();
    for _ in 0..5 {
        let sessions: Vec<PresenceSession> = (0..8)
            .map(|_| session(node, acme.id, Some(room.id), "racer", None))
            .collect();
        let opened = futures_join(
            sessions
                .iter()
                .map(|s| {
                    let store = store.clone();
                    let s = s.clone();
                    tokio::spawn(async move { store.open_session(s, LONG).await })
                })
                .collect(),
        )
        .await;
        let mut opened: Vec<u64> = opened.into_iter().map(|r| r.expect("opened")).collect();
        opened.sort_unstable();
        assert_eq!(opened, (1..=8).collect::<Vec<u64>>(), "exactly one first");
        let closed = futures_join(
            sessions
                .iter()
                .map(|s| {
                    let store = store.clone();
                    let id = s.id;
                    tokio::spawn(async move { store.close_session(id).await })
                })
                .collect(),
        )
        .await;
        let mut closed: Vec<u64> = closed.into_iter().map(|r| r.expect("closed")).collect();
        closed.sort_unstable();
        assert_eq!(closed, (0..8).collect::<Vec<u64>>(), "exactly one last");
    }
}

/// Waits for every task, in order.
async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.expect("task ran"));
    }
    results
}

#[tokio::test]
async fn presence_sessions_expire_unless_their_node_beats_and_heartbeats_sweep_the_dead() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let room = create_room(&store, acme.id, "General").await;
    let (alive_node, dead_node) = (Uuid::new_v4(), Uuid::new_v4());
    let ttl = Duration::from_secs(1);
    let kept = session(alive_node, acme.id, Some(room.id), "kept", None);
    let lost = session(dead_node, acme.id, Some(room.id), "lost", None);
    let lost_too = session(dead_node, acme.id, Some(room.id), "lost", None);
    assert_eq!(open(&store, &kept, ttl).await, 1);
    assert_eq!(open(&store, &lost, ttl).await, 1);
    assert_eq!(online(&store, acme.id, room.id).await, ["kept", "lost"]);

    tokio::time::sleep(Duration::from_millis(600)).await;
    store
        .heartbeat(alive_node, Duration::from_secs(3))
        .await
        .expect("heartbeat");
    tokio::time::sleep(Duration::from_millis(700)).await;

    // Past the first second: the dead node's session no longer counts, though nobody
    // has removed it yet.
    assert_eq!(online(&store, acme.id, room.id).await, ["kept"]);
    assert_eq!(count(&db, "presence_sessions"), 2);
    assert_eq!(
        open(&store, &lost_too, LONG).await,
        1,
        "the expired one is gone"
    );
    assert_eq!(close(&store, &lost_too).await, 0);

    // Any node's heartbeat removes what expired, and keeps its own.
    store
        .heartbeat(Uuid::new_v4(), LONG)
        .await
        .expect("heartbeat");
    assert_eq!(count(&db, "presence_sessions"), 1);
    assert_eq!(online(&store, acme.id, room.id).await, ["kept"]);
    assert_eq!(close(&store, &lost).await, 0, "already forgotten");
    assert_eq!(close(&store, &kept).await, 0);
}

#[tokio::test]
async fn presence_in_a_room_counts_account_streams_of_members_only() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let ann = create_user(&store, acme.id, "Ann", "agent").await;
    let ben = create_user(&store, acme.id, "Ben", "agent").await;
    let cid = create_user(&store, acme.id, "Cid", "agent").await;
    let dot = create_user(&store, acme.id, "Dot", "agent").await;
    let room = create_room(&store, acme.id, "General").await;
    let other_room = create_room(&store, acme.id, "Random").await;
    add_members(&store, acme.id, room.id, &[&ann, &ben, &dot]).await;
    add_members(&store, acme.id, other_room.id, &[&cid]).await;
    let node = Uuid::new_v4();
    let open_for = |room: Option<RoomId>, key: &str, user: &User| {
        session(node, acme.id, room, key, Some(user.id))
    };

    assert!(online(&store, acme.id, room.id).await.is_empty());
    // Ann: a socket to the room and her stream (listed once); Ben: his stream only; Cid:
    // a stream, but no member; Dot: a socket to another room only; a visitor with no user.
    for s in [
        open_for(Some(room.id), "ann", &ann),
        open_for(None, "ann", &ann),
        open_for(None, "ben", &ben),
        open_for(None, "cid", &cid),
        open_for(Some(other_room.id), "dot", &dot),
        session(node, acme.id, Some(room.id), "Visitor", None),
    ] {
        open(&store, &s, LONG).await;
    }
    // Sorted by bytes: capitals first.
    assert_eq!(
        online(&store, acme.id, room.id).await,
        ["Visitor", "ann", "ben"]
    );
    assert_eq!(online(&store, acme.id, other_room.id).await, ["cid", "dot"]);

    // Users online anywhere, in the order asked, once each.
    let eve_like = UserId(i64::MAX);
    let users = store
        .online_users(
            acme.id,
            vec![dot.id, cid.id, eve_like, ann.id, dot.id, ben.id],
        )
        .await
        .expect("online users");
    assert_eq!(users, [dot.id, cid.id, ann.id, ben.id]);
    assert!(
        store
            .online_users(acme.id, Vec::new())
            .await
            .expect("nobody asked")
            .is_empty()
    );

    // Leaving the room takes Ben's stream out of it.
    store
        .remove_members(acme.id, room.id, vec![ben.id])
        .await
        .expect("member removed");
    assert_eq!(online(&store, acme.id, room.id).await, ["Visitor", "ann"]);
}

#[tokio::test]
async fn presence_of_another_account_never_shows() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let other = create_account(&store, "Other", "ck_other").await;
    let ann = create_user(&store, acme.id, "Ann", "agent").await;
    let eve = create_user(&store, other.id, "Eve", "agent").await;
    let room = create_room(&store, acme.id, "General").await;
    let elsewhere = create_room(&store, other.id, "Elsewhere").await;
    add_members(&store, acme.id, room.id, &[&ann]).await;
    add_members(&store, other.id, elsewhere.id, &[&eve]).await;
    let node = Uuid::new_v4();

    // The same user key in both accounts: two people.
    let mine = session(node, acme.id, Some(room.id), "same", None);
    let theirs = session(node, other.id, Some(elsewhere.id), "same", None);
    assert_eq!(open(&store, &mine, LONG).await, 1);
    assert_eq!(open(&store, &theirs, LONG).await, 1);
    let eve_stream = session(node, other.id, None, "eve", Some(eve.id));
    open(&store, &eve_stream, LONG).await;

    assert_eq!(online(&store, acme.id, room.id).await, ["same"]);
    // Another account's room, asked for from this account, has nobody.
    assert!(online(&store, acme.id, elsewhere.id).await.is_empty());
    assert!(
        store
            .online_users(acme.id, vec![eve.id])
            .await
            .expect("online users")
            .is_empty()
    );
    assert_eq!(
        store
            .online_users(other.id, vec![eve.id])
            .await
            .expect("online users"),
        [eve.id]
    );

    // A session can name only a room and a user of its own account.
    let wrong_room = session(node, acme.id, Some(elsewhere.id), "x", None);
    let result = store.open_session(wrong_room, LONG).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    let wrong_user = session(node, acme.id, None, "x", Some(eve.id));
    let result = store.open_session(wrong_user, LONG).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    let missing_account = session(node, AccountId(i64::MAX), None, "x", None);
    let result = store.open_session(missing_account, LONG).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    // An id already naming another session is refused, and changes nothing.
    let mut stolen = session(node, acme.id, None, "thief", None);
    stolen.id = theirs.id;
    let result = store.open_session(stolen, LONG).await;
    assert!(
        matches!(result, Err(StoreError::Unexpected(_))),
        "{result:?}"
    );
    assert_eq!(
        online(&store, other.id, elsewhere.id).await,
        ["eve", "same"]
    );
    // An empty user key is refused by the table.
    let nameless = session(node, acme.id, None, "", None);
    assert!(store.open_session(nameless, LONG).await.is_err());
}

#[tokio::test]
async fn presence_goes_with_its_room_and_its_user() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let ann = create_user(&store, acme.id, "Ann", "agent").await;
    let room = create_room(&store, acme.id, "General").await;
    let node = Uuid::new_v4();
    open(
        &store,
        &session(node, acme.id, Some(room.id), "visitor", None),
        LONG,
    )
    .await;
    open(
        &store,
        &session(node, acme.id, None, "ann", Some(ann.id)),
        LONG,
    )
    .await;
    assert_eq!(count(&db, "presence_sessions"), 2);
    store
        .delete_room(acme.id, room.id)
        .await
        .expect("room deleted");
    assert_eq!(count(&db, "presence_sessions"), 1);
    execute(&db, &format!("DELETE FROM users WHERE id = {}", ann.id.0));
    assert_eq!(count(&db, "presence_sessions"), 0);
}

#[tokio::test]
async fn presence_table_is_unlogged_and_indexed() {
    let Fixture { store: _store, db } = fixture();
    #[derive(QueryableByName)]
    struct Persistence {
        #[diesel(sql_type = diesel::sql_types::Text)]
        p: String,
    }
    let persistence: Persistence = diesel::sql_query(
        "SELECT relpersistence::text AS p FROM pg_class WHERE relname = 'presence_sessions'",
    )
    .get_result(&mut connect(&db))
    .expect("table found");
    assert_eq!(persistence.p, "u");
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        indexname: String,
    }
    let mut indexes: Vec<String> = diesel::sql_query(
        "SELECT indexname::text FROM pg_indexes WHERE tablename = 'presence_sessions'",
    )
    .load::<Name>(&mut connect(&db))
    .expect("indexes listed")
    .into_iter()
    .map(|n| n.indexname)
    .collect();
    indexes.sort();
    assert_eq!(
        indexes,
        [
            "presence_sessions_expires_idx",
            "presence_sessions_node_idx",
            "presence_sessions_pkey",
            "presence_sessions_room_idx",
            "presence_sessions_user_idx",
        ]
    );
}

#[tokio::test]
async fn presence_shows_users_online_while_a_session_lives() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let ann = create_user(&store, acme.id, "Ann", "agent").await;
    let ben = create_user(&store, acme.id, "Ben", "agent").await;
    let room = create_room(&store, acme.id, "General").await;
    let random = create_room(&store, acme.id, "Random").await;
    add_members(&store, acme.id, room.id, &[&ann, &ben]).await;
    execute(
        &db,
        &format!(
            "UPDATE users SET availability = 'busy' WHERE id = {}",
            ben.id.0
        ),
    );
    assert_eq!(availability(&store, &ann).await, Availability::Offline);
    assert_eq!(availability(&store, &ben).await, Availability::Busy);

    let node = Uuid::new_v4();
    // A socket to any room counts, not only to a room the user is a member of.
    let ann_socket = session(node, acme.id, Some(random.id), "ann", Some(ann.id));
    let ben_stream = session(node, acme.id, None, "ben", Some(ben.id));
    open(&store, &ann_socket, LONG).await;
    open(&store, &ben_stream, LONG).await;

    // Every way users are read shows them online.
    assert_eq!(availability(&store, &ann).await, Availability::Online);
    assert_eq!(availability(&store, &ben).await, Availability::Online);
    let members = store
        .members_of(acme.id, vec![room.id])
        .await
        .expect("members read");
    assert_eq!(members.len(), 2);
    assert!(
        members
            .iter()
            .all(|(_, user)| user.availability == Availability::Online),
        "{members:?}"
    );
    let (memberships, _) = store
        .list_memberships(
            acme.id,
            room.id,
            Window::new(0, 10, 100).expect("valid window"),
        )
        .await
        .expect("memberships listed");
    assert!(
        memberships
            .iter()
            .all(|m| m.user.availability == Availability::Online),
        "{memberships:?}"
    );
    let by_chat_id = store
        .find_by_chat_id(acme.id, ann.id.0.to_string())
        .await
        .expect("found")
        .expect("a user");
    assert_eq!(by_chat_id.availability, Availability::Online);
    // The stored value is untouched.
    #[derive(QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Text)]
        availability: String,
    }
    let stored: Vec<Stored> = diesel::sql_query("SELECT availability FROM users ORDER BY id")
        .load(&mut connect(&db))
        .expect("users read");
    let stored: Vec<&str> = stored.iter().map(|s| s.availability.as_str()).collect();
    assert_eq!(stored, ["offline", "busy"]);

    // Closed: back to what is stored.
    close(&store, &ann_socket).await;
    close(&store, &ben_stream).await;
    assert_eq!(availability(&store, &ann).await, Availability::Offline);
    assert_eq!(availability(&store, &ben).await, Availability::Busy);

    // An expired session is not online either.
    open(
        &store,
        &session(node, acme.id, None, "ann", Some(ann.id)),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(availability(&store, &ann).await, Availability::Online);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(availability(&store, &ann).await, Availability::Offline);
}

// ---------------------------------------------------------------------------------------
// Relay
// ---------------------------------------------------------------------------------------

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
    }
}

fn every_notice() -> Vec<Notice> {
    let account = AccountId(3);
    let room = RoomId(4);
    let room_uuid = Uuid::new_v4();
    vec![
        created(1),
        Notice::MessageChanged {
            account,
            message: MessageId(5),
            change: MessageChange::Updated,
        },
        Notice::MessageChanged {
            account,
            message: MessageId(5),
            change: MessageChange::Deleted,
        },
        Notice::MessageChanged {
            account,
            message: MessageId(5),
            change: MessageChange::Restored,
        },
        Notice::RoomChanged {
            account,
            room,
            change: RoomChange::Created,
        },
        Notice::RoomChanged {
            account,
            room,
            change: RoomChange::Updated,
        },
        Notice::RoomChanged {
            account,
            room,
            change: RoomChange::Activated,
        },
        Notice::RoomChanged {
            account,
            room,
            change: RoomChange::Deactivated,
        },
        Notice::RoomDeleted {
            account,
            room,
            uuid: room_uuid,
        },
        Notice::Membership {
            account,
            room,
            user: UserId(6),
            joined: true,
        },
        Notice::Membership {
            account,
            room,
            user: UserId(6),
            joined: false,
        },
        Notice::Read {
            account,
            room,
            user: UserId(6),
            seq: Seq(7),
        },
        Notice::Typing(Typing {
            account,
            room,
            room_uuid,
            user_key: "user_123 'quoted' été".to_owned(),
            user: Some(UserId(6)),
            user_name: "Ada \"The\" Lovelace".to_owned(),
            is_typing: true,
        }),
        Notice::Typing(Typing {
            account,
            room,
            room_uuid,
            user_key: "user_123".to_owned(),
            user: None,
            user_name: "Ada".to_owned(),
            is_typing: false,
        }),
        Notice::Presence(PresenceChange {
            account,
            room,
            room_uuid,
            user_key: "user_123".to_owned(),
            user: Some(UserId(6)),
            online: true,
        }),
        Notice::Presence(PresenceChange {
            account,
            room,
            room_uuid,
            user_key: "visitor".to_owned(),
            user: None,
            online: false,
        }),
    ]
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
        use diesel::Connection;
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
