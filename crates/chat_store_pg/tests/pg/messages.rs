//! Messages and read/delivered positions ([`MessageStore`]) in the PostgreSQL adapter
//! against a real server: each test in its own fresh database (see `chat_test_db`), so
//! they run in parallel.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::common::{
    Fixture, connect, create_account, create_user, execute, fixture, mark, racing_store,
};
use chat_app::{
    MemberStore, MessageFilter, MessageOrder, MessageStore, NewMessage, NewRoom, RoomStore,
    StoreError, Window,
};
use chat_domain::{
    Account, AccountId, Content, EchoId, MemberMeta, Message, MessageId, MessageKind, MessageMeta,
    MessageRef, Position, Room, RoomId, RoomRef, Sender, Seq, Sniffed, StorageKey, StoredUpload,
    User,
};
use chat_store_pg::PgStore;
use chat_test_db::TestDatabase;
use diesel::sql_types::{BigInt, Text};
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Fixtures

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn as_sender(user: &User) -> Sender {
    Sender::User {
        id: user.id,
        label: user.chat_user_id(),
    }
}

/// A text message from `user`.
pub(crate) fn text(user: &User, content: &str) -> NewMessage {
    NewMessage {
        mentions: Vec::new(),
        sender: as_sender(user),
        sender_name: Some(user.name.as_str().to_owned()),
        content: Content::parse(content).expect("valid content"),
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        attachments: Vec::new(),
    }
}

/// A system message.
fn system(content: &str) -> NewMessage {
    NewMessage {
        mentions: Vec::new(),
        sender: Sender::System,
        sender_name: None,
        content: Content::parse(content).expect("valid content"),
        kind: MessageKind::System,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        attachments: Vec::new(),
    }
}

fn with_echo(new: NewMessage, echo_id: &str) -> NewMessage {
    NewMessage {
        mentions: Vec::new(),
        echo_id: Some(EchoId::parse(echo_id).expect("valid echo id")),
        ..new
    }
}

fn window(offset: i64, limit: i64) -> Window {
    Window::new(offset, limit, Window::MAX_LIMIT).expect("valid window")
}

/// Everything of the room, deleted messages included, oldest first, in one window.
fn everything() -> MessageFilter {
    MessageFilter {
        include_deleted: true,
        order: MessageOrder::OldestFirst,
        ..MessageFilter::newest(window(0, Window::MAX_LIMIT))
    }
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

pub(crate) async fn send(
    store: &PgStore,
    account: AccountId,
    room: RoomId,
    new: NewMessage,
) -> Message {
    let (message, created) = store
        .append(account, room, new)
        .await
        .expect("message appended");
    assert!(created, "{message:?} was not created");
    message
}

/// The seqs of the page, and the total.
async fn listed(
    store: &PgStore,
    account: AccountId,
    room: RoomId,
    filter: MessageFilter,
) -> (Vec<i64>, i64) {
    let (messages, total) = store
        .list_messages(account, room, filter)
        .await
        .expect("messages listed");
    for message in &messages {
        assert_eq!(message.room_id, room);
        assert_eq!(message.account_id, account);
    }
    (messages.iter().map(|m| m.seq.0).collect(), total)
}

pub(crate) async fn position_of(
    store: &PgStore,
    account: AccountId,
    room: RoomId,
    user: &User,
) -> (i64, i64) {
    let positions = store
        .positions(account, room)
        .await
        .expect("positions read");
    positions
        .iter()
        .find(|p| p.user == user.id)
        .map(|p| (p.delivered.0, p.read.0))
        .unwrap_or_else(|| panic!("{} has no position in {positions:?}", user.name.as_str()))
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn numbers(conn: &mut PgConnection, sql: &str) -> Vec<i64> {
    diesel::sql_query(sql)
        .load::<Number>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|row| row.n)
        .collect()
}

pub(crate) fn number(db: &TestDatabase, sql: &str) -> i64 {
    let all = numbers(&mut connect(db), sql);
    assert_eq!(all.len(), 1, "{sql}: {all:?}");
    all[0]
}

/// (last_seq, message_count) of the room, behind the store's back.
fn counters(db: &TestDatabase, room: &Room) -> (i64, i64) {
    (
        number(
            db,
            &format!("SELECT last_seq AS n FROM rooms WHERE id = {}", room.id.0),
        ),
        number(
            db,
            &format!(
                "SELECT message_count AS n FROM rooms WHERE id = {}",
                room.id.0
            ),
        ),
    )
}

fn execute_on(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn create_room(store: &PgStore, account: AccountId, name: &str, creator: &User) -> Room {
    let new = NewRoom::parse(Some(name), None, None).expect("valid room");
    store
        .create_room(account, new, Some(creator.id))
        .await
        .expect("room created")
}

pub(crate) async fn add(store: &PgStore, account: AccountId, room: RoomId, users: &[&User]) {
    store
        .add_members(
            account,
            room,
            users.iter().map(|u| u.id).collect(),
            MemberMeta::default(),
            None,
        )
        .await
        .expect("members added");
}

/// Acme with Ann, Ben (both in General and Random) and Cid (in no room); Other with Eve
/// in Elsewhere.
pub(crate) struct Scene {
    pub(crate) acme: Account,
    pub(crate) ann: User,
    pub(crate) ben: User,
    pub(crate) cid: User,
    pub(crate) general: Room,
    pub(crate) random: Room,
    pub(crate) other: Account,
    pub(crate) eve: User,
    pub(crate) elsewhere: Room,
}

pub(crate) async fn scene(store: &PgStore) -> Scene {
    let acme = create_account(store, "Acme", "ck_acme").await;
    let other = create_account(store, "Other", "ck_other").await;
    let ann = create_user(store, acme.id, "Ann", "agent").await;
    let ben = create_user(store, acme.id, "Ben", "agent").await;
    let cid = create_user(store, acme.id, "Cid", "agent").await;
    let eve = create_user(store, other.id, "Eve", "agent").await;
    let general = create_room(store, acme.id, "General", &ann).await;
    add(store, acme.id, general.id, &[&ben]).await;
    let random = create_room(store, acme.id, "Random", &ann).await;
    add(store, acme.id, random.id, &[&ben]).await;
    let elsewhere = create_room(store, other.id, "Elsewhere", &eve).await;
    Scene {
        acme,
        ann,
        ben,
        cid,
        general,
        random,
        other,
        eve,
        elsewhere,
    }
}

/// Waits (yielding to the spawned tasks) until `n` sessions wait for a lock, watching
/// from a connection of its own.
async fn until_waiting(db: &TestDatabase, n: i64) {
    let mut conn = connect(db);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting = numbers(
            &mut conn,
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )[0];
        if waiting >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {waiting} of {n} sessions ever waited for the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Sending

#[tokio::test]
async fn eight_concurrent_senders_of_200_messages_get_seqs_1_to_1600_without_gaps() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let mut senders = Vec::new();
    for n in 0..8 {
        senders.push(create_user(&store, acme.id, &format!("Sender {n}"), "agent").await);
    }
    let first = senders.first().expect("senders").clone();
    let room = create_room(&store, acme.id, "Busy", &first).await;
    let rest: Vec<&User> = senders.iter().skip(1).collect();
    add(&store, acme.id, room.id, &rest).await;

    let racing = racing_store(&db, 8);
    let tasks: Vec<_> = senders
        .iter()
        .map(|sender| {
            let (racing, sender, account, room) =
                (racing.clone(), sender.clone(), acme.id, room.id);
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..200 {
                    let (message, created) = racing
                        .append(account, room, text(&sender, &format!("message {i}")))
                        .await
                        .expect("message appended");
                    assert!(created);
                    seqs.push(message.seq.0);
                }
                (sender, seqs)
            })
        })
        .collect();
    let mut returned = Vec::new();
    for task in tasks {
        let (sender, seqs) = task.await.expect("sender finished");
        // One sender's messages are numbered in the order it sent them.
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        // Its own last message moved its read and delivered positions.
        let last = *seqs.last().expect("200 messages");
        assert_eq!(
            position_of(&store, acme.id, room.id, &sender).await,
            (last, last)
        );
        returned.extend(seqs);
    }
    returned.sort_unstable();
    let expected: Vec<i64> = (1..=1600).collect();
    assert_eq!(returned, expected);

    let stored = numbers(
        &mut connect(&db),
        &format!(
            "SELECT seq AS n FROM messages WHERE room_id = {} ORDER BY seq",
            room.id.0
        ),
    );
    assert_eq!(stored, expected);
    assert_eq!(counters(&db, &room), (1600, 1600));
    // created_at is read once the seq is taken: it follows seq order.
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM messages a JOIN messages b \
             ON b.room_id = a.room_id AND b.seq = a.seq + 1 WHERE b.created_at < a.created_at"
        ),
        0
    );
    assert_eq!(
        number(
            &db,
            &format!(
                "SELECT count(*) AS n FROM rooms r WHERE r.id = {} AND r.last_message_at = \
                 (SELECT max(created_at) FROM messages WHERE room_id = r.id)",
                room.id.0
            )
        ),
        1
    );
}

#[tokio::test]
async fn eight_concurrent_retries_of_one_echo_id_store_exactly_one_message() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let racing = racing_store(&db, 8);

    // Hold the room row so that the eight queue behind it (group commit: at the send
    // thread, whose statement waits for the room's lock; the race of separate connections
    // is the test with files below); then let them go. Whether they were stored in one
    // batch or one by one, the first is stored and the others answer it.
    let mut holder = connect(&db);
    execute_on(&mut holder, "BEGIN");
    execute_on(
        &mut holder,
        &format!(
            "SELECT id FROM rooms WHERE id = {} FOR UPDATE",
            s.general.id.0
        ),
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let racing = racing.clone();
            let new = with_echo(text(&s.ann, "once"), "temp-msg-1");
            let (account, room) = (s.acme.id, s.general.id);
            tokio::spawn(async move { racing.append(account, room, new).await })
        })
        .collect();
    until_waiting(&db, 1).await;
    execute_on(&mut holder, "COMMIT");

    let mut ids = HashSet::new();
    let mut created = 0;
    for task in tasks {
        let (message, was_created) = task.await.expect("retry finished").expect("retry answered");
        assert_eq!(message.seq, Seq(1));
        assert_eq!(message.content.as_str(), "once");
        ids.insert(message.id);
        created += usize::from(was_created);
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(created, 1);
    assert_eq!(
        number(&db, "SELECT count(*) AS n FROM messages"),
        1,
        "one message stored"
    );
    // The seqs the losers took were rolled back: no gap.
    assert_eq!(counters(&db, &s.general), (1, 1));
    let next = send(&store, s.acme.id, s.general.id, text(&s.ben, "next")).await;
    assert_eq!(next.seq, Seq(2));

    // Without the held lock, concurrent retries of another echo id also store one.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let racing = racing.clone();
            let new = with_echo(text(&s.ben, "again"), "temp-msg-2");
            let (account, room) = (s.acme.id, s.general.id);
            tokio::spawn(async move { racing.append(account, room, new).await })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut created = 0;
    for task in tasks {
        let (message, was_created) = task.await.expect("finished").expect("answered");
        ids.insert(message.id);
        created += usize::from(was_created);
    }
    assert_eq!((ids.len(), created), (1, 1));
    assert_eq!(counters(&db, &s.general), (3, 3));
}

#[tokio::test]
async fn eight_concurrent_retries_with_files_store_one_message_and_only_its_files() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let racing = racing_store(&db, 8);
    // Each retry comes with a file of its own (an upload per attempt).
    let file = |n: u64| {
        let uuid = Uuid::new_v4();
        StoredUpload {
            uuid,
            key: StorageKey::for_attachment(s.acme.id, uuid, "pdf").expect("valid key"),
            kind: Sniffed::PDF,
            size: n,
            dimensions: None,
        }
    };

    // As above: all eight pass the look-up for the echo id and queue on the room's lock;
    // all but the first then fail the unique index with their files, and store none.
    let mut holder = connect(&db);
    execute_on(&mut holder, "BEGIN");
    execute_on(
        &mut holder,
        &format!(
            "SELECT id FROM rooms WHERE id = {} FOR UPDATE",
            s.general.id.0
        ),
    );
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let racing = racing.clone();
            let new = NewMessage {
                attachments: vec![file(n)],
                ..with_echo(text(&s.ann, "with a file"), "temp-file-1")
            };
            let (account, room) = (s.acme.id, s.general.id);
            tokio::spawn(async move { racing.append(account, room, new).await })
        })
        .collect();
    until_waiting(&db, 8).await;
    execute_on(&mut holder, "COMMIT");

    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("retry finished").expect("retry answered"));
    }
    let created: Vec<&Message> = answers
        .iter()
        .filter(|(_, created)| *created)
        .map(|(message, _)| message)
        .collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    let first = created[0];
    assert_eq!(first.seq, Seq(1));
    assert_eq!(first.attachments.len(), 1);
    for (message, _) in &answers {
        assert_eq!(message, first);
    }
    assert_eq!(number(&db, "SELECT count(*) AS n FROM messages"), 1);
    assert_eq!(
        number(
            &db,
            &format!(
                "SELECT count(*) AS n FROM attachments WHERE message_id = {}",
                first.id.0
            )
        ),
        1
    );
    assert_eq!(number(&db, "SELECT count(*) AS n FROM attachments"), 1);
    assert_eq!(
        number(&db, "SELECT attachment_count::BIGINT AS n FROM messages"),
        1
    );
    assert_eq!(counters(&db, &s.general), (1, 1));
}

#[tokio::test]
async fn a_sent_message_round_trips_and_moves_the_room_and_its_sender() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let before = store
        .find_room(s.acme.id, RoomRef::Id(s.general.id))
        .await
        .expect("room");
    assert_eq!(before.message_count, 0);

    let first = send(&store, s.acme.id, s.general.id, text(&s.ann, "Hello")).await;
    assert_eq!(first.seq, Seq(1));
    assert_eq!(first.account_id, s.acme.id);
    assert_eq!(first.room_id, s.general.id);
    assert_eq!(first.room_uuid, s.general.uuid);
    assert_eq!(first.sender, as_sender(&s.ann));
    assert_eq!(first.sender_name.as_deref(), Some("Ann"));
    assert_eq!(first.content.as_str(), "Hello");
    assert_eq!(first.kind, MessageKind::Text);
    assert!(first.meta.as_map().is_empty());
    assert_eq!((first.reply_to, first.echo_id.clone()), (None, None));
    assert_eq!(first.created_at, first.updated_at);
    assert_eq!((first.edited_at, first.deleted_at), (None, None));

    let room = store
        .find_room(s.acme.id, RoomRef::Id(s.general.id))
        .await
        .expect("room");
    assert_eq!(room.message_count, 1);
    assert_eq!(room.last_message_at, first.created_at);
    assert!(room.last_message_at >= before.last_message_at);
    // The room's own fields are not touched.
    assert_eq!(room.updated_at, before.updated_at);
    // The sender has read (and received) its own message; Ben has not.
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.ann).await,
        (1, 1)
    );
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.ben).await,
        (0, 0)
    );

    let reply = NewMessage {
        kind: MessageKind::Image,
        meta: MessageMeta::parse(object(json!({ "url": "https://x/y.png", "n": [1, 2] })))
            .expect("valid meta"),
        reply_to: Some(first.id),
        sender_name: Some("Benny".to_owned()),
        ..with_echo(text(&s.ben, "Hi Ann"), "temp-msg-12345")
    };
    let second = send(&store, s.acme.id, s.general.id, reply).await;
    assert_eq!(second.seq, Seq(2));
    assert_eq!(second.kind, MessageKind::Image);
    assert_eq!(
        Value::Object(second.meta.as_map().clone()),
        json!({ "url": "https://x/y.png", "n": [1, 2] })
    );
    assert_eq!(second.reply_to, Some(first.id));
    assert_eq!(second.sender_name.as_deref(), Some("Benny"));
    assert_eq!(
        second.echo_id.as_ref().map(EchoId::as_str),
        Some("temp-msg-12345")
    );
    assert!(second.created_at >= first.created_at);
    assert_eq!(
        store
            .find_message(s.acme.id, MessageRef::Id(second.id))
            .await
            .expect("found"),
        second
    );
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.ann).await,
        (1, 1)
    );
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.ben).await,
        (2, 2)
    );
    assert_eq!(counters(&db, &s.general), (2, 2));
    // The other room is untouched.
    assert_eq!(counters(&db, &s.random), (0, 0));
}

#[tokio::test]
async fn a_system_message_has_no_sending_user_and_moves_nobody() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let message = send(&store, s.acme.id, s.general.id, system("Room opened")).await;
    assert_eq!(message.sender, Sender::System);
    assert_eq!(message.kind, MessageKind::System);
    assert_eq!(message.seq, Seq(1));
    assert_eq!(
        number(
            &db,
            &format!(
                "SELECT count(*) AS n FROM messages WHERE id = {} \
                 AND sender_user_id IS NULL AND sender_label = 'system'",
                message.id.0
            )
        ),
        1
    );
    assert_eq!(counters(&db, &s.general), (1, 1));
    for user in [&s.ann, &s.ben] {
        assert_eq!(
            position_of(&store, s.acme.id, s.general.id, user).await,
            (0, 0)
        );
    }
}

#[tokio::test]
async fn an_echo_id_names_one_message_per_sender_and_room() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let first = send(
        &store,
        s.acme.id,
        s.general.id,
        with_echo(text(&s.ann, "first"), "e-1"),
    )
    .await;

    // A retry answers the first message, whatever it carries now, and writes nothing.
    let (again, created) = store
        .append(
            s.acme.id,
            s.general.id,
            with_echo(text(&s.ann, "different text"), "e-1"),
        )
        .await
        .expect("retry answered");
    assert!(!created);
    assert_eq!(again, first);
    assert_eq!(counters(&db, &s.general), (1, 1));

    // Another sender, another room, the system: other messages.
    let ben = send(
        &store,
        s.acme.id,
        s.general.id,
        with_echo(text(&s.ben, "first"), "e-1"),
    )
    .await;
    let elsewhere = send(
        &store,
        s.acme.id,
        s.random.id,
        with_echo(text(&s.ann, "first"), "e-1"),
    )
    .await;
    let by_system = send(
        &store,
        s.acme.id,
        s.general.id,
        with_echo(system("first"), "e-1"),
    )
    .await;
    let ids: HashSet<MessageId> = [first.id, ben.id, elsewhere.id, by_system.id].into();
    assert_eq!(ids.len(), 4);
    assert_eq!(
        (ben.seq, by_system.seq, elsewhere.seq),
        (Seq(2), Seq(3), Seq(1))
    );
    // Without an echo id, the same message twice is two messages.
    send(&store, s.acme.id, s.general.id, text(&s.ann, "same")).await;
    send(&store, s.acme.id, s.general.id, text(&s.ann, "same")).await;
    assert_eq!(counters(&db, &s.general), (5, 5));
}

#[tokio::test]
async fn a_reply_may_only_name_a_message_of_the_same_room() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let in_random = send(&store, s.acme.id, s.random.id, text(&s.ann, "over here")).await;
    send(&store, s.acme.id, s.general.id, text(&s.ann, "hello")).await;

    // The foreign key itself (the use case checks first; this is the last line).
    let sql = format!(
        "INSERT INTO messages (account_id, room_id, seq, sender_user_id, sender_label, \
         content, message_type, reply_to_id) VALUES ({}, {}, 99, {}, '{}', 'x', 'text', {})",
        s.acme.id.0,
        s.general.id.0,
        s.ann.id.0,
        s.ann.chat_user_id(),
        in_random.id.0
    );
    let refused = diesel::sql_query(&sql)
        .execute(&mut connect(&db))
        .expect_err("a reply across rooms is refused");
    match refused {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            info,
        ) => assert_eq!(
            info.constraint_name(),
            Some("messages_room_id_reply_to_id_fkey")
        ),
        other => panic!("{other:?}"),
    }

    // Through the store, the send fails as a whole: no seq is used.
    let across = NewMessage {
        reply_to: Some(in_random.id),
        ..text(&s.ann, "reply")
    };
    let result = store.append(s.acme.id, s.general.id, across).await;
    assert!(
        matches!(result, Err(StoreError::Unexpected(_))),
        "{result:?}"
    );
    assert_eq!(counters(&db, &s.general), (1, 1));
}

#[tokio::test]
async fn a_sender_outside_the_account_is_not_found_and_nothing_is_stored() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let result = store
        .append(s.acme.id, s.general.id, text(&s.eve, "sneaky"))
        .await;
    assert_not_found(result);
    assert_eq!(counters(&db, &s.general), (0, 0));
    assert_eq!(number(&db, "SELECT count(*) AS n FROM messages"), 0);
}

#[tokio::test]
async fn deleting_a_room_takes_its_messages_and_replies_with_it() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let mut previous = None;
    for i in 0..20 {
        let new = NewMessage {
            reply_to: previous,
            ..text(&s.ann, &format!("m{i}"))
        };
        previous = Some(send(&store, s.acme.id, s.general.id, new).await.id);
    }
    send(&store, s.acme.id, s.random.id, text(&s.ann, "kept")).await;
    store
        .delete_room(s.acme.id, s.general.id)
        .await
        .expect("room deleted");
    assert_eq!(number(&db, "SELECT count(*) AS n FROM messages"), 1);
    // And an account goes with its users, rooms and messages (the sender key is checked
    // at commit, after both cascades).
    execute(
        &db,
        &format!("DELETE FROM accounts WHERE id = {}", s.acme.id.0),
    );
    assert_eq!(number(&db, "SELECT count(*) AS n FROM messages"), 0);
}

// ---------------------------------------------------------------------------------------
// Positions

#[tokio::test]
async fn a_member_who_joins_later_starts_at_the_newest_message() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    for i in 0..5 {
        send(
            &store,
            s.acme.id,
            s.general.id,
            text(&s.ann, &format!("m{i}")),
        )
        .await;
    }
    add(&store, s.acme.id, s.general.id, &[&s.cid]).await;
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.cid).await,
        (5, 5)
    );
    let unread = store
        .unread_counts(s.acme.id, s.cid.id, vec![s.general.id])
        .await
        .expect("unread counts");
    assert_eq!(unread, [(s.general.id, unread_only(0))]);

    // Whatever an insert says (the trigger decides), e.g. a member re-added by hand.
    store
        .remove_members(s.acme.id, s.general.id, vec![s.cid.id])
        .await
        .expect("removed");
    execute(
        &db,
        &format!(
            "INSERT INTO room_members (account_id, room_id, user_id, last_read_seq, \
             delivered_seq) VALUES ({}, {}, {}, 0, 0)",
            s.acme.id.0, s.general.id.0, s.cid.id.0
        ),
    );
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.cid).await,
        (5, 5)
    );

    // The creator of a new room starts at 0, and so does a member of an empty room.
    let fresh = create_room(&store, s.acme.id, "Fresh", &s.cid).await;
    add(&store, s.acme.id, fresh.id, &[&s.ann]).await;
    assert_eq!(
        position_of(&store, s.acme.id, fresh.id, &s.cid).await,
        (0, 0)
    );
    assert_eq!(
        position_of(&store, s.acme.id, fresh.id, &s.ann).await,
        (0, 0)
    );
}

#[tokio::test]
async fn positions_list_every_member_and_a_room_without_members() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    send(&store, s.acme.id, s.general.id, text(&s.ben, "hi")).await;
    let positions = store
        .positions(s.acme.id, s.general.id)
        .await
        .expect("positions");
    assert_eq!(
        positions,
        [
            Position {
                user: s.ann.id,
                delivered: Seq(0),
                read: Seq(0)
            },
            Position {
                user: s.ben.id,
                delivered: Seq(1),
                read: Seq(1)
            },
        ]
    );
    let empty = store
        .create_room(
            s.acme.id,
            NewRoom::parse(Some("Empty"), None, None).expect("valid room"),
            None,
        )
        .await
        .expect("room created");
    assert_eq!(
        store
            .positions(s.acme.id, empty.id)
            .await
            .expect("positions"),
        []
    );
    assert_not_found(store.positions(s.acme.id, s.elsewhere.id).await);
    assert_not_found(store.positions(s.other.id, s.general.id).await);
    assert_not_found(store.positions(s.acme.id, RoomId(i64::MAX)).await);
}

#[tokio::test]
async fn positions_only_move_forward_and_never_past_the_newest_message() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let (acme, room) = (s.acme.id, s.general.id);
    for i in 0..5 {
        send(&store, acme, room, text(&s.ann, &format!("m{i}"))).await;
    }
    let ben = |store: &PgStore| {
        let store = store.clone();
        let ben = s.ben.clone();
        async move { position_of(&store, acme, room, &ben).await }
    };

    store
        .mark_delivered(acme, vec![mark(room, s.ben.id, Seq(3))])
        .await
        .expect("delivered");
    assert_eq!(ben(&store).await, (3, 0));
    store
        .mark_delivered(acme, vec![mark(room, s.ben.id, Seq(2))])
        .await
        .expect("delivered");
    assert_eq!(ben(&store).await, (3, 0));

    // Reading moves read, and delivered with it when behind; never backwards.
    assert_eq!(
        store
            .mark_read(acme, room, s.ben.id, Some(Seq(2)))
            .await
            .expect("read"),
        Seq(2)
    );
    assert_eq!(ben(&store).await, (3, 2));
    assert_eq!(
        store
            .mark_read(acme, room, s.ben.id, Some(Seq(1)))
            .await
            .expect("read"),
        Seq(2)
    );
    assert_eq!(ben(&store).await, (3, 2));
    assert_eq!(
        store
            .mark_read(acme, room, s.ben.id, Some(Seq(4)))
            .await
            .expect("read"),
        Seq(4)
    );
    assert_eq!(ben(&store).await, (4, 4));

    // Neither goes past the room's newest message.
    store
        .mark_delivered(acme, vec![mark(room, s.ben.id, Seq(100))])
        .await
        .expect("delivered");
    assert_eq!(ben(&store).await, (5, 4));
    assert_eq!(
        store
            .mark_read(acme, room, s.ben.id, Some(Seq(99)))
            .await
            .expect("read"),
        Seq(5)
    );
    assert_eq!(ben(&store).await, (5, 5));

    // Without `upto`: the newest message.
    send(&store, acme, room, text(&s.ann, "m5")).await;
    send(&store, acme, room, text(&s.ann, "m6")).await;
    assert_eq!(
        store
            .mark_read(acme, room, s.ben.id, None)
            .await
            .expect("read"),
        Seq(7)
    );
    assert_eq!(ben(&store).await, (7, 7));
    // Nothing newer: answers where it is.
    assert_eq!(
        store
            .mark_read(acme, room, s.ben.id, None)
            .await
            .expect("read"),
        Seq(7)
    );
    // His own message moves him to it.
    assert_eq!(
        send(&store, acme, room, text(&s.ben, "mine")).await.seq,
        Seq(8)
    );
    assert_eq!(ben(&store).await, (8, 8));
    // Read is never past delivered, in any row.
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM room_members WHERE last_read_seq > delivered_seq"
        ),
        0
    );
}

#[tokio::test]
async fn marking_for_a_non_member_is_not_found_for_read_and_ignored_for_delivered() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    send(&store, s.acme.id, s.general.id, text(&s.ann, "hi")).await;
    assert_not_found(
        store
            .mark_read(s.acme.id, s.general.id, s.cid.id, None)
            .await,
    );
    store
        .mark_delivered(s.acme.id, vec![mark(s.general.id, s.cid.id, Seq(1))])
        .await
        .expect("a non-member is ignored");
    // Another account's room or member: the same.
    assert_not_found(
        store
            .mark_read(s.acme.id, s.elsewhere.id, s.eve.id, None)
            .await,
    );
    assert_not_found(
        store
            .mark_read(s.other.id, s.general.id, s.ann.id, None)
            .await,
    );
    store
        .mark_delivered(s.other.id, vec![mark(s.general.id, s.ben.id, Seq(1))])
        .await
        .expect("ignored");
    assert_eq!(
        number(
            &db,
            &format!(
                "SELECT count(*) AS n FROM room_members WHERE user_id = {}",
                s.cid.id.0
            )
        ),
        0
    );
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.ben).await,
        (0, 0)
    );
}

#[tokio::test]
async fn unread_counts_are_the_newest_seq_minus_the_read_position_in_the_users_rooms() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let (acme, general, random) = (s.acme.id, s.general.id, s.random.id);
    // Cid is only in Lonely.
    let lonely = create_room(&store, acme, "Lonely", &s.cid).await;
    for i in 0..4 {
        send(&store, acme, general, text(&s.ann, &format!("g{i}"))).await;
    }
    for i in 0..2 {
        send(&store, acme, random, text(&s.ben, &format!("r{i}"))).await;
    }
    send(&store, acme, random, text(&s.ann, "r2")).await;
    send(&store, acme, lonely.id, text(&s.cid, "alone")).await;
    store
        .mark_read(acme, general, s.ben.id, Some(Seq(1)))
        .await
        .expect("read");

    let asked = vec![general, random, lonely.id, s.elsewhere.id, RoomId(i64::MAX)];
    let mut ben = store
        .unread_counts(acme, s.ben.id, asked.clone())
        .await
        .expect("counts");
    ben.sort();
    assert_eq!(ben, [(general, unread_only(3)), (random, unread_only(1))]);
    let mut ann = store
        .unread_counts(acme, s.ann.id, asked.clone())
        .await
        .expect("counts");
    ann.sort();
    assert_eq!(ann, [(general, unread_only(0)), (random, unread_only(0))]);
    assert_eq!(
        store
            .unread_counts(acme, s.cid.id, asked)
            .await
            .expect("counts"),
        [(lonely.id, unread_only(0))]
    );
    assert_eq!(
        store
            .unread_counts(acme, s.ben.id, Vec::new())
            .await
            .expect("counts"),
        []
    );
    // Another account sees nothing of these rooms.
    assert_eq!(
        store
            .unread_counts(s.other.id, s.ben.id, vec![general])
            .await
            .expect("counts"),
        []
    );
}

// ---------------------------------------------------------------------------------------
// Lists

/// Ann and Ben alternate ten messages in General (seq 1..=10), with kinds, contents and
/// creation times (minute `seq` of 2030-01-01) that tests can filter on.
async fn conversation(store: &PgStore, db: &TestDatabase, s: &Scene) -> Vec<Message> {
    let contents = [
        "Hello everyone",
        "100% sure",
        "snake_case name",
        "a\\b path",
        "HELLO again",
        "photo",
        "nothing",
        "50%_off",
        "hello%world",
        "bye",
    ];
    let mut sent = Vec::new();
    for (i, content) in contents.iter().enumerate() {
        let sender = if i % 2 == 0 { &s.ann } else { &s.ben };
        let kind = match i {
            5 => MessageKind::Image,
            8 => MessageKind::File,
            _ => MessageKind::Text,
        };
        let new = NewMessage {
            kind,
            ..text(sender, content)
        };
        sent.push(send(store, s.acme.id, s.general.id, new).await);
    }
    execute(
        db,
        &format!(
            "UPDATE messages SET created_at = '2030-01-01T00:00:00Z'::timestamptz \
             + seq * interval '1 minute' WHERE room_id = {}",
            s.general.id.0
        ),
    );
    // Noise that no list of General may show.
    send(store, s.acme.id, s.random.id, text(&s.ann, "Hello random")).await;
    send(
        store,
        s.other.id,
        s.elsewhere.id,
        text(&s.eve, "Hello other"),
    )
    .await;
    sent
}

#[tokio::test]
async fn a_list_comes_newest_or_oldest_first_in_windows_with_the_total() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let sent = conversation(&store, &db, &s).await;
    let (acme, room) = (s.acme.id, s.general.id);

    let newest = MessageFilter::newest(window(0, 3));
    assert_eq!(
        listed(&store, acme, room, newest.clone()).await,
        (vec![10, 9, 8], 10)
    );
    let (page, _) = store
        .list_messages(acme, room, newest.clone())
        .await
        .expect("listed");
    assert_eq!((page[0].id, page[0].uuid), (sent[9].id, sent[9].uuid));
    assert_eq!(page[0].content.as_str(), "bye");
    assert_eq!(page[0].room_uuid, s.general.uuid);
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                window: window(3, 3),
                ..newest.clone()
            }
        )
        .await,
        (vec![7, 6, 5], 10)
    );
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                window: window(9, 3),
                ..newest.clone()
            }
        )
        .await,
        (vec![1], 10)
    );
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                window: window(20, 3),
                ..newest.clone()
            }
        )
        .await,
        (vec![], 10)
    );
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                order: MessageOrder::OldestFirst,
                window: window(2, 4),
                ..newest
            }
        )
        .await,
        (vec![3, 4, 5, 6], 10)
    );
    let empty = create_room(&store, acme, "Quiet", &s.ann).await;
    assert_eq!(
        listed(&store, acme, empty.id, everything()).await,
        (vec![], 0)
    );
}

#[tokio::test]
async fn a_list_filters_by_sender_kind_and_creation_time() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    conversation(&store, &db, &s).await;
    let (acme, room) = (s.acme.id, s.general.id);
    send(&store, acme, room, system("Closing soon")).await;

    let by = |sender: String| MessageFilter {
        sender: Some(sender),
        ..everything()
    };
    assert_eq!(
        listed(&store, acme, room, by(s.ann.chat_user_id())).await,
        (vec![1, 3, 5, 7, 9], 5)
    );
    assert_eq!(
        listed(&store, acme, room, by(s.ben.chat_user_id())).await,
        (vec![2, 4, 6, 8, 10], 5)
    );
    assert_eq!(
        listed(&store, acme, room, by("system".to_owned())).await,
        (vec![11], 1)
    );
    assert_eq!(
        listed(&store, acme, room, by(s.cid.chat_user_id())).await,
        (vec![], 0)
    );

    let kind = |kind| MessageFilter {
        kind: Some(kind),
        ..everything()
    };
    assert_eq!(
        listed(&store, acme, room, kind(MessageKind::Image)).await,
        (vec![6], 1)
    );
    assert_eq!(
        listed(&store, acme, room, kind(MessageKind::File)).await,
        (vec![9], 1)
    );
    assert_eq!(
        listed(&store, acme, room, kind(MessageKind::System)).await,
        (vec![11], 1)
    );
    assert_eq!(
        listed(&store, acme, room, kind(MessageKind::Video)).await,
        (vec![], 0)
    );

    // Strictly after / before; seq 3 was made at minute 3.
    let minute = |m: i64| datetime!(2030-01-01 00:00 UTC) + time::Duration::minutes(m);
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                created_after: Some(minute(3)),
                created_before: Some(minute(7)),
                ..everything()
            }
        )
        .await,
        (vec![4, 5, 6], 3)
    );
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                created_before: Some(minute(3)),
                order: MessageOrder::NewestFirst,
                ..everything()
            }
        )
        .await,
        // The system message was sent now, before the conversation's made-up 2030 times:
        // in seq order all the same.
        (vec![11, 2, 1], 3)
    );
    // Only the time filter decides.
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                created_after: Some(now - time::Duration::hours(1)),
                created_before: Some(minute(0)),
                ..everything()
            }
        )
        .await,
        (vec![11], 1)
    );
    // Filters combine.
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                sender: Some(s.ben.chat_user_id()),
                created_after: Some(minute(5)),
                kind: Some(MessageKind::Text),
                ..everything()
            }
        )
        .await,
        (vec![8, 10], 2)
    );
}

#[tokio::test]
async fn a_search_matches_text_case_insensitively_and_literally() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    conversation(&store, &db, &s).await;
    let (acme, room) = (s.acme.id, s.general.id);
    let search = |text: &str| MessageFilter {
        search: Some(text.to_owned()),
        ..everything()
    };
    // Not Random's nor the other account's "Hello".
    assert_eq!(
        listed(&store, acme, room, search("hello")).await,
        (vec![1, 5, 9], 3)
    );
    assert_eq!(
        listed(&store, acme, room, search("%")).await,
        (vec![2, 8, 9], 3)
    );
    assert_eq!(
        listed(&store, acme, room, search("0%")).await,
        (vec![2, 8], 2)
    );
    assert_eq!(
        listed(&store, acme, room, search("_")).await,
        (vec![3, 8], 2)
    );
    assert_eq!(listed(&store, acme, room, search("%_")).await, (vec![8], 1));
    assert_eq!(listed(&store, acme, room, search("\\")).await, (vec![4], 1));
    assert_eq!(
        listed(&store, acme, room, search("a\\b")).await,
        (vec![4], 1)
    );
    assert_eq!(
        listed(&store, acme, room, search("ALSO")).await,
        (vec![], 0)
    );
}

#[tokio::test]
async fn deleted_messages_are_listed_only_when_asked_and_cursors_page_by_seq() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let sent = conversation(&store, &db, &s).await;
    let (acme, room) = (s.acme.id, s.general.id);
    for i in [2, 5] {
        store
            .set_message_deleted(acme, sent[i].id, true, None)
            .await
            .expect("deleted");
    }
    let live = MessageFilter {
        include_deleted: false,
        ..everything()
    };
    assert_eq!(
        listed(&store, acme, room, live.clone()).await,
        (vec![1, 2, 4, 5, 7, 8, 9, 10], 8)
    );
    assert_eq!(
        listed(&store, acme, room, everything()).await,
        ((1..=10).collect(), 10)
    );

    // Keyset cursors, in both orders; the total counts what passes the whole filter.
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                after_seq: Some(Seq(4)),
                window: window(0, 3),
                ..live.clone()
            }
        )
        .await,
        (vec![5, 7, 8], 5)
    );
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                before_seq: Some(Seq(8)),
                order: MessageOrder::NewestFirst,
                window: window(0, 3),
                ..live.clone()
            }
        )
        .await,
        (vec![7, 5, 4], 5)
    );
    assert_eq!(
        listed(
            &store,
            acme,
            room,
            MessageFilter {
                after_seq: Some(Seq(2)),
                before_seq: Some(Seq(9)),
                ..everything()
            }
        )
        .await,
        (vec![3, 4, 5, 6, 7, 8], 6)
    );
    // Paging newest-first with before_seq reaches every live message once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let (page, _) = listed(
            &store,
            acme,
            room,
            MessageFilter {
                before_seq: cursor,
                order: MessageOrder::NewestFirst,
                window: window(0, 3),
                ..live.clone()
            },
        )
        .await;
        let Some(&oldest) = page.last() else { break };
        seen.extend(page);
        cursor = Some(Seq(oldest));
    }
    assert_eq!(seen, [10, 9, 8, 7, 5, 4, 2, 1]);
}

// ---------------------------------------------------------------------------------------
// One message

#[tokio::test]
async fn a_message_is_found_by_id_and_uuid_in_its_account_only() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let mine = send(&store, s.acme.id, s.general.id, text(&s.ann, "mine")).await;
    let theirs = send(&store, s.other.id, s.elsewhere.id, text(&s.eve, "theirs")).await;

    for reference in [MessageRef::Id(mine.id), MessageRef::Uuid(mine.uuid)] {
        assert_eq!(
            store
                .find_message(s.acme.id, reference)
                .await
                .expect("found"),
            mine
        );
    }
    for reference in [
        MessageRef::Id(theirs.id),
        MessageRef::Uuid(theirs.uuid),
        MessageRef::Id(MessageId(i64::MAX)),
        MessageRef::Uuid(Uuid::new_v4()),
    ] {
        assert_not_found(store.find_message(s.acme.id, reference).await);
    }

    let second = send(&store, s.acme.id, s.random.id, text(&s.ben, "second")).await;
    let mut found = store
        .find_messages(
            s.acme.id,
            vec![second.id, theirs.id, mine.id, MessageId(i64::MAX), mine.id],
        )
        .await
        .expect("found");
    found.sort_by_key(|m| m.id);
    assert_eq!(found, [mine, second]);
    assert_eq!(
        store
            .find_messages(s.acme.id, Vec::new())
            .await
            .expect("found"),
        []
    );
}

#[tokio::test]
async fn an_edit_changes_what_is_given_and_sets_edited_at() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let original = send(&store, s.acme.id, s.general.id, text(&s.ann, "tpyo")).await;

    let edited = store
        .edit_message(
            s.acme.id,
            original.id,
            Some(Content::parse("typo").expect("valid")),
            None,
        )
        .await
        .expect("edited");
    assert_eq!(edited.content.as_str(), "typo");
    assert_eq!(edited.meta, original.meta);
    let edited_at = edited.edited_at.expect("edited_at set");
    assert!(edited_at >= original.created_at);
    assert_eq!(edited.updated_at, edited_at);
    assert_eq!(
        Message {
            content: original.content.clone(),
            edited_at: None,
            updated_at: original.updated_at,
            ..edited.clone()
        },
        original
    );

    let meta = MessageMeta::parse(object(json!({ "pinned": true }))).expect("valid meta");
    let again = store
        .edit_message(s.acme.id, original.id, None, Some(meta.clone()))
        .await
        .expect("edited");
    assert_eq!(again.content.as_str(), "typo");
    assert_eq!(again.meta, meta);
    assert!(again.edited_at.expect("edited_at") >= edited_at);
    assert_eq!(
        store
            .find_message(s.acme.id, MessageRef::Id(original.id))
            .await
            .expect("found"),
        again
    );

    assert_not_found(
        store
            .edit_message(s.other.id, original.id, None, Some(meta.clone()))
            .await,
    );
    assert_not_found(
        store
            .edit_message(s.acme.id, MessageId(i64::MAX), None, Some(meta))
            .await,
    );
}

#[tokio::test]
async fn a_message_is_soft_deleted_and_restored() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let message = send(&store, s.acme.id, s.general.id, text(&s.ann, "oops")).await;

    let deleted = store
        .set_message_deleted(s.acme.id, message.id, true, None)
        .await
        .expect("deleted");
    assert_eq!(deleted.1, Vec::new(), "a message without files frees none");
    let deleted = deleted.0;
    let deleted_at = deleted.deleted_at.expect("deleted_at set");
    assert!(deleted.is_deleted());
    assert_eq!(deleted.updated_at, deleted_at);
    assert_eq!(deleted.content, message.content);
    assert_eq!(deleted.edited_at, None);
    assert_eq!(
        listed(
            &store,
            s.acme.id,
            s.general.id,
            MessageFilter::newest(window(0, 10))
        )
        .await,
        (vec![], 0)
    );

    let restored = store
        .set_message_deleted(s.acme.id, message.id, false, None)
        .await
        .expect("restored")
        .0;
    assert_eq!(restored.deleted_at, None);
    assert!(restored.updated_at >= deleted_at);
    assert_eq!(
        listed(
            &store,
            s.acme.id,
            s.general.id,
            MessageFilter::newest(window(0, 10))
        )
        .await,
        (vec![1], 1)
    );
    // The row, its seq and the room's counters stay.
    assert_eq!(counters(&db, &s.general), (1, 1));

    assert_not_found(
        store
            .set_message_deleted(s.other.id, message.id, true, None)
            .await,
    );
    assert_not_found(
        store
            .set_message_deleted(s.acme.id, MessageId(i64::MAX), true, None)
            .await,
    );
}

#[tokio::test]
async fn another_accounts_room_is_not_found_and_never_listed() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let theirs = send(&store, s.other.id, s.elsewhere.id, text(&s.eve, "secret")).await;

    // Sending to it, listing it, its positions, reading it.
    assert_not_found(
        store
            .append(s.acme.id, s.elsewhere.id, text(&s.ann, "hi"))
            .await,
    );
    assert_not_found(
        store
            .append(
                s.acme.id,
                s.elsewhere.id,
                with_echo(text(&s.ann, "hi"), "e"),
            )
            .await,
    );
    assert_not_found(store.append(s.acme.id, s.elsewhere.id, system("hi")).await);
    assert_not_found(
        store
            .list_messages(s.acme.id, s.elsewhere.id, everything())
            .await,
    );
    assert_not_found(
        store
            .list_messages(s.acme.id, RoomId(i64::MAX), everything())
            .await,
    );
    assert_not_found(store.positions(s.acme.id, s.elsewhere.id).await);
    assert_not_found(
        store
            .mark_read(s.acme.id, s.elsewhere.id, s.eve.id, Some(Seq(1)))
            .await,
    );
    // Its messages.
    assert_not_found(
        store
            .find_message(s.acme.id, MessageRef::Id(theirs.id))
            .await,
    );
    assert_eq!(
        store
            .find_messages(s.acme.id, vec![theirs.id])
            .await
            .expect("found"),
        []
    );
    // A retry of the other account's echo id in Acme is simply a new message of Acme.
    let mine = send(
        &store,
        s.acme.id,
        s.general.id,
        with_echo(text(&s.ann, "mine"), "e"),
    )
    .await;
    assert_ne!(mine.id, theirs.id);
    // Nothing of Other's moved.
    assert_eq!(counters(&db, &s.elsewhere), (1, 1));
    assert_eq!(
        listed(&store, s.other.id, s.elsewhere.id, everything()).await,
        (vec![1], 1)
    );
    assert_eq!(
        listed(&store, s.acme.id, s.general.id, everything()).await,
        (vec![1], 1)
    );
}

// ---------------------------------------------------------------------------------------
// Plans

/// One line of `EXPLAIN` output.
#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[tokio::test]
async fn the_newest_50_of_a_room_are_read_backwards_from_the_room_seq_index() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    // ~3,000 messages across two rooms, as the store would number them.
    for (room, n) in [(&s.general, 2000), (&s.random, 1000)] {
        execute(
            &db,
            &format!(
                "INSERT INTO messages (account_id, room_id, seq, sender_user_id, \
                 sender_label, content, message_type) \
                 SELECT {}, {}, i, {}, '{}', 'message ' || md5(i::text), 'text' \
                 FROM generate_series(1, {n}) AS i",
                s.acme.id.0,
                room.id.0,
                s.ann.id.0,
                s.ann.chat_user_id()
            ),
        );
        execute(
            &db,
            &format!(
                "UPDATE rooms SET last_seq = {n}, message_count = {n} WHERE id = {}",
                room.id.0
            ),
        );
    }
    execute(&db, "VACUUM ANALYZE messages");

    let (page, total) = listed(
        &store,
        s.acme.id,
        s.general.id,
        MessageFilter::newest(window(0, 50)),
    )
    .await;
    assert_eq!(page, (1951..=2000).rev().collect::<Vec<i64>>());
    assert_eq!(total, 2000);

    // The statement list_messages sends for the page, as diesel writes it (copied from
    // `diesel::debug_query`; keep in step with `messages.rs`), with its parameters bound.
    let page = r#"SELECT "messages"."id", "messages"."uuid", "messages"."account_id", "messages"."room_id", "messages"."seq", "messages"."sender_user_id", "messages"."sender_label", "messages"."sender_name", "messages"."content", "messages"."message_type", "messages"."meta", "messages"."reply_to_id", "messages"."echo_id", "messages"."created_at", "messages"."updated_at", "messages"."edited_at", "messages"."deleted_at" FROM "messages" WHERE ((("messages"."account_id" = $1) AND ("messages"."room_id" = $2)) AND ("messages"."deleted_at" IS NULL)) ORDER BY "messages"."seq" DESC LIMIT $3 OFFSET $4"#;
    let plan = diesel::sql_query(format!("EXPLAIN {page}"))
        .bind::<BigInt, _>(s.acme.id.0)
        .bind::<BigInt, _>(s.general.id.0)
        .bind::<BigInt, _>(50_i64)
        .bind::<BigInt, _>(0_i64)
        .load::<PlanLine>(&mut connect(&db))
        .expect("plan");
    let plan = plan
        .into_iter()
        .map(|row| row.line)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        plan.contains("Index Scan Backward using messages_room_seq_key on messages"),
        "{plan}"
    );
    assert!(!plan.contains("Sort"), "{plan}");
}

#[tokio::test]
async fn unfiltered_totals_come_from_counters_kept_by_delete_and_restore() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let sent = conversation(&store, &db, &s).await;
    let (acme, room) = (s.acme.id, s.general.id);
    let live = MessageFilter {
        include_deleted: false,
        ..everything()
    };
    let total = |filter: MessageFilter| {
        let store = store.clone();
        async move { listed(&store, acme, room, filter).await.1 }
    };
    // Deleting twice counts once; restoring gives it back; a live message restored is no change.
    for _ in 0..2 {
        store
            .set_message_deleted(acme, sent[3].id, true, None)
            .await
            .expect("deleted");
    }
    assert_eq!(total(live.clone()).await, 9);
    assert_eq!(total(everything()).await, 10);
    assert_eq!(
        number(
            &db,
            &format!(
                "SELECT deleted_message_count AS n FROM rooms WHERE id = {}",
                room.0
            )
        ),
        1
    );
    for _ in 0..2 {
        store
            .set_message_deleted(acme, sent[3].id, false, None)
            .await
            .expect("restored");
    }
    store
        .set_message_deleted(acme, sent[4].id, false, None)
        .await
        .expect("a live message restored");
    assert_eq!(total(live).await, 10);
    assert_eq!(
        number(
            &db,
            &format!(
                "SELECT deleted_message_count AS n FROM rooms WHERE id = {}",
                room.0
            )
        ),
        0
    );
    // Another account's message: not found, and no counter moves.
    assert_not_found(
        store
            .set_message_deleted(s.other.id, sent[3].id, true, None)
            .await,
    );
}

#[tokio::test]
async fn a_room_page_reads_the_room_and_its_newest_messages_at_once() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let (acme, general) = (s.acme.id, s.general.id);

    // An empty room: the room, no messages, a total of 0.
    let (room, messages, total) = store
        .room_page(
            acme,
            RoomRef::Uuid(s.general.uuid),
            MessageFilter::newest(window(0, 50)),
        )
        .await
        .expect("an empty room's page");
    assert_eq!((room.id, messages.len(), total), (general, 0, 0));

    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(send(&store, acme, general, text(&s.ann, &format!("m{i}"))).await);
    }
    send(&store, acme, s.random.id, text(&s.ann, "elsewhere")).await;
    store
        .set_message_deleted(acme, sent[1].id, true, None)
        .await
        .expect("deleted");

    for reference in [RoomRef::Id(general), RoomRef::Uuid(s.general.uuid)] {
        let (room, messages, total) = store
            .room_page(acme, reference, MessageFilter::newest(window(0, 3)))
            .await
            .expect("a page");
        assert_eq!(room.id, general);
        assert_eq!(room.message_count, 5);
        let seqs: Vec<i64> = messages.iter().map(|m| m.seq.0).collect();
        assert_eq!(seqs, [5, 4, 3], "newest first, the deleted one left out");
        assert!(messages.iter().all(|m| m.room_uuid == s.general.uuid));
        assert_eq!(total, 4, "the total counts live messages of this room only");
    }
    // Past the end: the room and its total, no messages.
    let (room, messages, total) = store
        .room_page(
            acme,
            RoomRef::Id(general),
            MessageFilter::newest(window(10, 3)),
        )
        .await
        .expect("past the end");
    assert_eq!((room.id, messages.len(), total), (general, 0, 4));
    // A filtered page counts its rows.
    let filter = MessageFilter {
        search: Some("m3".to_owned()),
        ..MessageFilter::newest(window(0, 50))
    };
    let (_, messages, total) = store
        .room_page(acme, RoomRef::Id(general), filter)
        .await
        .expect("a filtered page");
    assert_eq!((messages.len(), total), (1, 1));
    // Another account's room is not found, by id or by uuid.
    for reference in [RoomRef::Id(general), RoomRef::Uuid(s.general.uuid)] {
        let result = store
            .room_page(s.other.id, reference, MessageFilter::newest(window(0, 3)))
            .await;
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    }
}

/// `messages` unread, none of them mentioning the viewer.
fn unread_only(messages: i64) -> chat_app::Unread {
    chat_app::Unread {
        messages,
        mentions: 0,
    }
}

/// What a send reads first: the room by id or UUID, the speaker by id or chat `user_id`
/// with their membership, the message replied to; another account's room is not found,
/// a deleted user is nobody. Rules that refuse store nothing.
#[tokio::test]
async fn a_sends_context_is_the_room_the_speaker_their_membership_and_the_reply() {
    use chat_app::{AppError, SendContext, Speaker};
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ak_context_acme").await;
    let other = create_account(&store, "Other", "ak_context_other").await;
    let ann = create_user(&store, acme.id, "Ann", "agent").await;
    let bob = create_user(&store, acme.id, "Bob", "agent").await;
    let eve = create_user(&store, other.id, "Eve", "agent").await;
    let room = create_room(&store, acme.id, "General", &ann).await;
    let elsewhere = create_room(&store, other.id, "Elsewhere", &eve).await;
    let first = send(&store, acme.id, room.id, text(&ann, "first")).await;
    let foreign = send(&store, other.id, elsewhere.id, text(&eve, "foreign")).await;
    // The context a send's rules see; the rules refuse, so nothing is stored.
    let context = |room: RoomRef, speaker: Option<Speaker>, reply_to: Option<MessageRef>| {
        let store = store.clone();
        async move {
            let (seen, saw) = std::sync::mpsc::channel();
            let rules = Box::new(move |context: &SendContext| {
                let _ = seen.send(context.clone());
                Err(AppError::Unauthenticated)
            });
            let refused = store.send(acme.id, room, speaker, reply_to, rules).await?;
            assert!(
                matches!(refused, Err(AppError::Unauthenticated)),
                "{refused:?}"
            );
            saw.try_recv()
                .map_err(|e| StoreError::Unexpected(anyhow::anyhow!("no context: {e}")))
        }
    };

    let SendContext {
        room: found,
        speaker,
        replied,
    } = context(RoomRef::Uuid(room.uuid), None, None)
        .await
        .expect("the room by UUID");
    assert_eq!((found.id, speaker, replied), (room.id, None, None));
    let by_id = context(RoomRef::Id(room.id), Some(Speaker::Id(ann.id)), None)
        .await
        .expect("the room by id");
    assert_eq!(by_id.speaker, Some((ann.clone(), true)));
    let by_label = context(
        RoomRef::Id(room.id),
        Some(Speaker::ChatId(bob.chat_user_id())),
        None,
    )
    .await
    .expect("a speaker by chat user_id");
    assert_eq!(by_label.speaker, Some((bob.clone(), false)));
    let nobody = context(
        RoomRef::Id(room.id),
        Some(Speaker::ChatId("nobody".to_owned())),
        None,
    )
    .await
    .expect("an unknown speaker");
    assert_eq!(nobody.speaker, None);
    // The room by UUID with a speaker, who is a member.
    let by_uuid = context(RoomRef::Uuid(room.uuid), Some(Speaker::Id(ann.id)), None)
        .await
        .expect("the room by UUID, with a speaker");
    assert_eq!(
        (by_uuid.room.id, by_uuid.speaker),
        (room.id, Some((ann.clone(), true)))
    );
    // A chat user_id that is one user's external id and spells another's id names the
    // first: the external id wins.
    let cid = create_user(&store, acme.id, "Cid", "agent").await;
    execute(
        &db,
        &format!(
            "UPDATE users SET external_id = '{}' WHERE id = {}",
            bob.id.0, cid.id.0
        ),
    );
    let spelled = context(
        RoomRef::Id(room.id),
        Some(Speaker::ChatId(bob.id.0.to_string())),
        None,
    )
    .await
    .expect("a speaker by an external id that spells an id");
    assert_eq!(
        spelled.speaker.map(|(user, member)| (user.id, member)),
        Some((cid.id, false))
    );
    // The message replied to, by id or UUID; another account's is nobody's.
    for reference in [MessageRef::Id(first.id), MessageRef::Uuid(first.uuid)] {
        let reply = context(RoomRef::Id(room.id), None, Some(reference))
            .await
            .expect("a reply");
        assert_eq!(reply.replied, Some((first.id, room.id)));
    }
    let across = context(RoomRef::Id(room.id), None, Some(MessageRef::Id(foreign.id)))
        .await
        .expect("a reply to another account's message");
    assert_eq!(across.replied, None);
    // Another account's user and room are out of reach.
    let foreign = context(RoomRef::Id(room.id), Some(Speaker::Id(eve.id)), None)
        .await
        .expect("another account's user");
    assert_eq!(foreign.speaker, None);
    let missing = context(RoomRef::Id(elsewhere.id), Some(Speaker::Id(ann.id)), None).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    // A deleted user is nobody.
    execute(
        &db,
        &format!(
            "UPDATE users SET deleted_at = now() WHERE id = {}",
            ann.id.0
        ),
    );
    let deleted = context(RoomRef::Id(room.id), Some(Speaker::Id(ann.id)), None)
        .await
        .expect("a deleted speaker");
    assert_eq!(deleted.speaker, None);
    // The refused sends stored nothing.
    let page = store
        .list_messages(acme.id, room.id, MessageFilter::newest(window(0, 10)))
        .await
        .expect("the room's messages");
    assert_eq!(page.1, 1, "{page:?}");
}

/// A send the rules allow is stored, alone or among others in progress (which share
/// their statements, group commit), and answers its room and message.
#[tokio::test]
async fn a_send_the_rules_allow_is_stored_alone_or_among_others() {
    use chat_app::SendContext;
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ak_unit_acme").await;
    let ann = create_user(&store, acme.id, "Ann", "agent").await;
    let room = create_room(&store, acme.id, "General", &ann).await;
    let sends: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let ann = ann.clone();
            tokio::spawn(async move {
                let rules = Box::new(move |_: &SendContext| Ok(text(&ann, &format!("m{i}"))));
                store
                    .send(acme.id, RoomRef::Uuid(room.uuid), None, None, rules)
                    .await
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for sent in sends {
        let sent = sent
            .await
            .expect("a send task")
            .expect("a send")
            .expect("allowed");
        assert_eq!(sent.room.id, room.id);
        assert!(sent.created);
        assert_eq!(sent.message.room_id, room.id);
        seqs.push(sent.message.seq.0);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
}

/// Messages get time-ordered UUIDs (version 7): a later message's sorts after an earlier
/// one's, and its first 48 bits are its creation time in milliseconds.
#[tokio::test]
async fn a_messages_uuid_is_time_ordered() {
    let Fixture { store, db: _db } = fixture();
    let acme = create_account(&store, "Acme", "ak_uuid_acme").await;
    let ann = create_user(&store, acme.id, "Ann", "agent").await;
    let room = create_room(&store, acme.id, "General", &ann).await;
    let mut previous: Option<Uuid> = None;
    for i in 0..3 {
        let message = send(&store, acme.id, room.id, text(&ann, &format!("m{i}"))).await;
        assert_eq!(message.uuid.get_version_num(), 7, "{}", message.uuid);
        let bytes = message.uuid.as_bytes();
        let mut millis = [0u8; 8];
        millis[2..].copy_from_slice(&bytes[..6]);
        let at = i128::from(u64::from_be_bytes(millis));
        let created = message.created_at.unix_timestamp_nanos() / 1_000_000;
        // The UUID is made as the row is written, within the statement that stamps it.
        assert!((at - created).abs() < 1_000, "{at} vs {created}");
        if let Some(previous) = previous {
            assert!(previous < message.uuid, "{previous} then {}", message.uuid);
        }
        previous = Some(message.uuid);
        std::thread::sleep(Duration::from_millis(2));
    }
}
