//! Presence in Redis, with the semantics of PostgreSQL's store (these tests mirror
//! `chat_store_pg/tests/pg/presence.rs`, but for what foreign keys add there).

use std::time::Duration;

use chat_app::{PresenceSession, PresenceStore, StoreError};
use chat_domain::{AccountId, RoomId, UserId};
use chat_redis::RedisPresence;
use uuid::Uuid;

use crate::common::{Memberships, Space};

pub const LONG: Duration = Duration::from_secs(60);
pub const ACME: AccountId = AccountId(1);
pub const OTHER: AccountId = AccountId(2);
pub const GENERAL: RoomId = RoomId(10);
pub const RANDOM: RoomId = RoomId(11);
pub const ANN: UserId = UserId(100);
pub const BEN: UserId = UserId(101);
pub const CID: UserId = UserId(102);
pub const DOT: UserId = UserId(103);

pub fn session(
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

pub async fn open(store: &RedisPresence, session: &PresenceSession, ttl: Duration) -> u64 {
    store
        .open_session(session.clone(), ttl)
        .await
        .expect("session opened")
}

pub async fn close(store: &RedisPresence, session: &PresenceSession) -> u64 {
    store
        .close_session(session.id)
        .await
        .expect("session closed")
}

pub async fn online(store: &RedisPresence, account: AccountId, room: RoomId) -> Vec<String> {
    store
        .online_in_room(account, room)
        .await
        .expect("online users read")
}

pub async fn online_users(
    store: &RedisPresence,
    account: AccountId,
    users: &[UserId],
) -> Vec<UserId> {
    store
        .online_users(account, users.to_vec())
        .await
        .expect("online users read")
}

#[tokio::test]
async fn presence_counts_the_sessions_of_one_person_in_one_place() {
    let space = Space::new();
    let store = space.presence(&Memberships::default()).await;
    let node = Uuid::new_v4();
    let at = |room: Option<RoomId>, key: &str| session(node, ACME, room, key, Some(ANN));

    let first = at(Some(GENERAL), "ann");
    let second = at(Some(GENERAL), "ann");
    assert_eq!(open(&store, &first, LONG).await, 1, "came online there");
    assert_eq!(open(&store, &second, LONG).await, 2);
    // Another room, the account stream, another person: places of their own.
    let elsewhere = at(Some(RANDOM), "ann");
    assert_eq!(open(&store, &elsewhere, LONG).await, 1);
    let stream = at(None, "ann");
    let stream_too = at(None, "ann");
    assert_eq!(open(&store, &stream, LONG).await, 1);
    assert_eq!(open(&store, &stream_too, LONG).await, 2);
    let visitor = session(node, ACME, Some(GENERAL), "visitor-1", None);
    assert_eq!(open(&store, &visitor, LONG).await, 1);

    // Opening the same session again (a retry) renews it and counts it once.
    assert_eq!(open(&store, &first, LONG).await, 2);
    assert_eq!(space.sessions().await, 6);

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
    assert_eq!(online(&store, ACME, GENERAL).await, ["visitor-1"]);

    // The last one closed, nothing is left behind.
    assert_eq!(close(&store, &visitor).await, 0);
    assert_eq!(space.keys().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_sessions_of_one_person_opened_and_closed_at_once_count_exactly() {
    let space = Space::new();
    let store = space.presence(&Memberships::default()).await;
    let node = Uuid::new_v4();
    for _ in 0..5 {
        let sessions: Vec<PresenceSession> = (0..8)
            .map(|_| session(node, ACME, Some(GENERAL), "racer", None))
            .collect();
        let mut opening = Vec::new();
        for s in &sessions {
            let (store, s) = (store.clone(), s.clone());
            opening.push(tokio::spawn(
                async move { store.open_session(s, LONG).await },
            ));
        }
        let mut opened = Vec::new();
        for task in opening {
            opened.push(task.await.expect("task ran").expect("opened"));
        }
        opened.sort_unstable();
        assert_eq!(opened, (1..=8).collect::<Vec<u64>>(), "exactly one first");

        let mut closing = Vec::new();
        for s in &sessions {
            let (store, id) = (store.clone(), s.id);
            closing.push(tokio::spawn(async move { store.close_session(id).await }));
        }
        let mut closed = Vec::new();
        for task in closing {
            closed.push(task.await.expect("task ran").expect("closed"));
        }
        closed.sort_unstable();
        assert_eq!(closed, (0..8).collect::<Vec<u64>>(), "exactly one last");
    }
}

#[tokio::test]
async fn presence_sessions_expire_unless_their_node_beats_and_heartbeats_sweep_the_dead() {
    let space = Space::new();
    let store = space.presence(&Memberships::default()).await;
    let (alive_node, dead_node) = (Uuid::new_v4(), Uuid::new_v4());
    let ttl = Duration::from_secs(1);
    let kept = session(alive_node, ACME, Some(GENERAL), "kept", None);
    let lost = session(dead_node, ACME, Some(GENERAL), "lost", None);
    let lost_too = session(dead_node, ACME, Some(GENERAL), "lost", None);
    assert_eq!(open(&store, &kept, ttl).await, 1);
    assert_eq!(open(&store, &lost, ttl).await, 1);
    assert_eq!(online(&store, ACME, GENERAL).await, ["kept", "lost"]);

    tokio::time::sleep(Duration::from_millis(600)).await;
    store
        .heartbeat(alive_node, Duration::from_secs(3))
        .await
        .expect("heartbeat");
    tokio::time::sleep(Duration::from_millis(700)).await;

    // Past the first second: the dead node's session no longer counts, though nobody
    // has removed it yet.
    assert_eq!(online(&store, ACME, GENERAL).await, ["kept"]);
    assert_eq!(space.sessions().await, 2);
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
    assert_eq!(space.sessions().await, 1);
    assert_eq!(online(&store, ACME, GENERAL).await, ["kept"]);
    assert_eq!(close(&store, &lost).await, 0, "already forgotten");
    assert_eq!(close(&store, &kept).await, 0);
    assert_eq!(space.keys().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_late_heartbeat_renews_its_own_expired_sessions_before_sweeping() {
    let space = Space::new();
    let store = space.presence(&Memberships::default()).await;
    let node = Uuid::new_v4();
    let late = session(node, ACME, Some(GENERAL), "late", Some(ANN));
    open(&store, &late, Duration::from_millis(200)).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(online(&store, ACME, GENERAL).await.is_empty(), "expired");
    assert!(online_users(&store, ACME, &[ANN]).await.is_empty());

    // Its socket is still open: the node's own heartbeat brings it back.
    store.heartbeat(node, LONG).await.expect("heartbeat");
    assert_eq!(online(&store, ACME, GENERAL).await, ["late"]);
    assert_eq!(online_users(&store, ACME, &[ANN]).await, [ANN]);
    // The renewal lengthened the keys' own time to live past the renewed expiry.
    let left = space.pttl("presence:expiry").await;
    assert!(left > LONG.as_millis() as i64, "{left} ms");
    assert_eq!(close(&store, &late).await, 0);
}

#[tokio::test]
async fn presence_in_a_room_counts_account_streams_of_members_only() {
    let space = Space::new();
    let members = Memberships::default();
    members.add(ACME, GENERAL, &[ANN, BEN, DOT]);
    members.add(ACME, RANDOM, &[CID]);
    let store = space.presence(&members).await;
    let node = Uuid::new_v4();
    let open_for =
        |room: Option<RoomId>, key: &str, user: UserId| session(node, ACME, room, key, Some(user));

    assert!(online(&store, ACME, GENERAL).await.is_empty());
    // Ann: a socket to the room and her stream (listed once); Ben: his stream only; Cid:
    // a stream, but no member; Dot: a socket to another room only; a visitor with no user.
    for s in [
        open_for(Some(GENERAL), "ann", ANN),
        open_for(None, "ann", ANN),
        open_for(None, "ben", BEN),
        open_for(None, "cid", CID),
        open_for(Some(RANDOM), "dot", DOT),
        session(node, ACME, Some(GENERAL), "Visitor", None),
    ] {
        open(&store, &s, LONG).await;
    }
    // Sorted by bytes: capitals first.
    assert_eq!(
        online(&store, ACME, GENERAL).await,
        ["Visitor", "ann", "ben"]
    );
    assert_eq!(online(&store, ACME, RANDOM).await, ["cid", "dot"]);

    // Users online anywhere, in the order asked, once each.
    let eve_like = UserId(i64::MAX);
    assert_eq!(
        online_users(&store, ACME, &[DOT, CID, eve_like, ANN, DOT, BEN]).await,
        [DOT, CID, ANN, BEN]
    );
    assert!(online_users(&store, ACME, &[]).await.is_empty());

    // Leaving the room takes Ben's stream out of it; joining one brings it in.
    members.remove(ACME, GENERAL, BEN);
    members.add(ACME, RANDOM, &[BEN]);
    assert_eq!(online(&store, ACME, GENERAL).await, ["Visitor", "ann"]);
    assert_eq!(online(&store, ACME, RANDOM).await, ["ben", "cid", "dot"]);
}

#[tokio::test]
async fn presence_of_another_account_never_shows() {
    let space = Space::new();
    let members = Memberships::default();
    members.add(ACME, GENERAL, &[ANN]);
    members.add(OTHER, RANDOM, &[BEN]);
    let store = space.presence(&members).await;
    let node = Uuid::new_v4();

    // The same user key in both accounts: two people.
    let mine = session(node, ACME, Some(GENERAL), "same", None);
    let theirs = session(node, OTHER, Some(RANDOM), "same", None);
    assert_eq!(open(&store, &mine, LONG).await, 1);
    assert_eq!(open(&store, &theirs, LONG).await, 1);
    let ben_stream = session(node, OTHER, None, "ben", Some(BEN));
    open(&store, &ben_stream, LONG).await;

    assert_eq!(online(&store, ACME, GENERAL).await, ["same"]);
    // Another account's room, asked for from this account, has nobody.
    assert!(online(&store, ACME, RANDOM).await.is_empty());
    assert!(online_users(&store, ACME, &[BEN]).await.is_empty());
    assert_eq!(online_users(&store, OTHER, &[BEN]).await, [BEN]);

    // An id already naming another session is refused, and changes nothing.
    let mut stolen = session(node, ACME, None, "thief", None);
    stolen.id = theirs.id;
    let result = store.open_session(stolen, LONG).await;
    assert!(
        matches!(result, Err(StoreError::Unexpected(_))),
        "{result:?}"
    );
    assert_eq!(online(&store, OTHER, RANDOM).await, ["ben", "same"]);
    assert_eq!(space.sessions().await, 3);
    // An empty user key is refused, as the table refuses it.
    let nameless = session(node, ACME, None, "", None);
    assert!(store.open_session(nameless, LONG).await.is_err());
    assert_eq!(space.sessions().await, 3);
}

#[tokio::test]
async fn user_keys_with_colons_and_streams_without_a_user_are_kept_apart() {
    let space = Space::new();
    let members = Memberships::default();
    members.add(ACME, GENERAL, &[ANN]);
    let store = space.presence(&members).await;
    let node = Uuid::new_v4();
    // A key that looks like a place of its own, in two places.
    let odd = session(node, ACME, Some(GENERAL), "10:ann", None);
    let also = session(node, ACME, None, "10:ann", Some(ANN));
    assert_eq!(open(&store, &odd, LONG).await, 1);
    assert_eq!(open(&store, &also, LONG).await, 1);
    // A stream naming no user is nobody's member: never online in a room.
    let anonymous = session(node, ACME, None, "anon", None);
    assert_eq!(open(&store, &anonymous, LONG).await, 1);
    assert_eq!(online(&store, ACME, GENERAL).await, ["10:ann"]);
    assert_eq!(close(&store, &odd).await, 0);
    assert_eq!(
        online(&store, ACME, GENERAL).await,
        ["10:ann"],
        "the stream"
    );
    assert_eq!(close(&store, &also).await, 0);
    assert_eq!(close(&store, &anonymous).await, 0);
    assert!(online(&store, ACME, GENERAL).await.is_empty());
}

#[tokio::test]
async fn presence_reports_redis_away_as_a_clear_error() {
    // Port 9 (discard) answers nobody here.
    let error = chat_redis::connect("redis://:secret@127.0.0.1:9")
        .await
        .expect_err("nothing listens there");
    let text = format!("{error:#}");
    assert!(text.contains("127.0.0.1:9 does not answer"), "{text}");
    assert!(!text.contains("secret"), "{text}");
    assert!(chat_redis::connect("http://example.com").await.is_err());
}

/// What no heartbeat sweeps any more (every node of the deployment gone) goes by
/// itself: every presence key expires a minute after the latest expiry it holds, and a
/// renewal only lengthens that.
#[tokio::test]
async fn every_presence_key_expires_by_itself_a_minute_after_its_sessions() {
    let space = Space::new();
    let members = Memberships::default();
    let store = space.presence(&members).await;
    let node = Uuid::new_v4();
    let ttl = Duration::from_secs(30);
    open(
        &store,
        &session(node, ACME, Some(GENERAL), "ann", Some(ANN)),
        ttl,
    )
    .await;
    open(&store, &session(node, ACME, None, "ben", Some(BEN)), ttl).await;
    let keys = space.keys().await;
    assert!(keys.len() >= 8, "{keys:?}");
    let most = (ttl + Duration::from_secs(60)).as_millis() as i64;
    for key in &keys {
        let left = space.pttl(key).await;
        assert!(left > most - 5_000 && left <= most, "{key}: {left} ms");
    }
    // A shorter session does not shorten what a key already holds.
    open(
        &store,
        &session(node, ACME, Some(GENERAL), "cid", Some(CID)),
        Duration::from_secs(1),
    )
    .await;
    let room = "presence:room:1:10";
    assert!(space.pttl(room).await > most - 5_000, "{room}");
}
