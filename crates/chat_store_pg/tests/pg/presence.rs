//! Presence in the PostgreSQL adapter against a real server: [`PresenceStore`] on the
//! `presence_sessions` table and the availability users are shown with. Each test in its
//! own fresh database (see `chat_test_db`), so they run in parallel.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

use std::time::Duration;

use crate::common::{Fixture, connect, count, create_account, create_user, execute, fixture};
use chat_app::{
    MemberStore, NewRoom, PresenceSession, PresenceStore, RoomStore, StoreError, UserDirectory,
    Window,
};
use chat_domain::{AccountId, Availability, MemberMeta, Room, RoomId, User, UserId};
use chat_store_pg::PgStore;
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
