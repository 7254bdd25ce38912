//! Attachments of messages, room avatars and the index of referenced files
//! ([`MessageStore`], [`RoomStore`], [`FileIndex`]) in the PostgreSQL adapter against a
//! real server: each test in its own fresh database (see `chat_test_db`), so they run in
//! parallel.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

use crate::common::{Fixture, connect, count, create_account, create_user, fixture};
use chat_app::{
    FileIndex, MemberStore, MessageFilter, MessageOrder, MessageStore, NewMessage, NewRoom,
    RoomPatch, RoomStore, StoreError, Window,
};
use chat_domain::{
    Account, AccountId, Attachment, Content, EchoId, MemberMeta, Message, MessageKind, MessageMeta,
    MessageRef, Room, RoomId, RoomName, RoomRef, Sender, Sniffed, StorageKey, StoredUpload, User,
};
use chat_store_pg::PgStore;
use chat_test_db::TestDatabase;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Fixtures

fn as_sender(user: &User) -> Sender {
    Sender::User {
        id: user.id,
        label: user.chat_user_id(),
    }
}

/// A text message from `user`.
fn text(user: &User, content: &str) -> NewMessage {
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

/// A message from `user` with `files` (and maybe no text).
fn with_files(user: &User, content: &str, files: &[StoredUpload]) -> NewMessage {
    NewMessage {
        mentions: Vec::new(),
        content: Content::parse_allowing_empty(content, true).expect("valid content"),
        attachments: files.to_vec(),
        ..text(user, "placeholder")
    }
}

fn with_echo(new: NewMessage, echo_id: &str) -> NewMessage {
    NewMessage {
        mentions: Vec::new(),
        echo_id: Some(EchoId::parse(echo_id).expect("valid echo id")),
        ..new
    }
}

/// A stored PNG of `account`, as an upload hands it over.
fn png(account: AccountId, size: u64, dimensions: Option<(u32, u32)>) -> StoredUpload {
    let uuid = Uuid::new_v4();
    StoredUpload {
        uuid,
        key: StorageKey::for_attachment(account, uuid, "png").expect("valid key"),
        kind: Sniffed::PNG,
        size,
        dimensions,
    }
}

/// A stored PDF of `account`: no dimensions.
fn pdf(account: AccountId, size: u64) -> StoredUpload {
    let uuid = Uuid::new_v4();
    StoredUpload {
        uuid,
        key: StorageKey::for_attachment(account, uuid, "pdf").expect("valid key"),
        kind: Sniffed::PDF,
        size,
        dimensions: None,
    }
}

/// A stored avatar of `account`.
fn avatar(account: AccountId) -> StoredUpload {
    let uuid = Uuid::new_v4();
    StoredUpload {
        uuid,
        key: StorageKey::for_avatar(account, uuid, "png").expect("valid key"),
        kind: Sniffed::PNG,
        size: 2048,
        dimensions: Some((128, 128)),
    }
}

fn key(raw: &str) -> StorageKey {
    StorageKey::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
}

fn keys(files: &[StoredUpload]) -> Vec<StorageKey> {
    files.iter().map(|file| file.key.clone()).collect()
}

fn sorted(mut keys: Vec<StorageKey>) -> Vec<StorageKey> {
    keys.sort();
    keys
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

/// `message`'s attachments are `files`, in order, as rows of `account`.
fn assert_attached(message: &Message, account: AccountId, files: &[StoredUpload]) {
    assert_eq!(
        message.attachments.len(),
        files.len(),
        "{:?}",
        message.attachments
    );
    for (attachment, file) in message.attachments.iter().zip(files) {
        let Attachment {
            id,
            uuid,
            account_id,
            message_id,
            key,
            kind,
            size,
            dimensions,
        } = attachment;
        assert!(id.0 > 0, "{attachment:?}");
        assert_eq!(*uuid, file.uuid);
        assert_eq!(*account_id, account);
        assert_eq!(*message_id, message.id);
        assert_eq!(*key, file.key);
        assert_eq!(*kind, file.kind);
        assert_eq!(*size, file.size);
        assert_eq!(*dimensions, file.dimensions);
    }
    let mut ids: Vec<i64> = message.attachments.iter().map(|a| a.id.0).collect();
    ids.dedup();
    assert_eq!(ids.len(), files.len(), "attachment ids repeat");
}

async fn send(store: &PgStore, account: AccountId, room: RoomId, new: NewMessage) -> Message {
    let (message, created) = store
        .append(account, room, new)
        .await
        .expect("message appended");
    assert!(created, "{message:?} was not created");
    message
}

async fn listed(store: &PgStore, account: AccountId, room: RoomId) -> Vec<Message> {
    store
        .list_messages(account, room, everything())
        .await
        .expect("messages listed")
        .0
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// One number, read behind the store's back.
fn number(db: &TestDatabase, sql: &str) -> i64 {
    let all: Vec<i64> = diesel::sql_query(sql)
        .load::<Number>(&mut connect(db))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|row| row.n)
        .collect();
    assert_eq!(all.len(), 1, "{sql}: {all:?}");
    all[0]
}

fn attachment_count(db: &TestDatabase, message: &Message) -> i64 {
    number(
        db,
        &format!(
            "SELECT attachment_count::BIGINT AS n FROM messages WHERE id = {}",
            message.id.0
        ),
    )
}

fn rows_of(db: &TestDatabase, message: &Message) -> i64 {
    number(
        db,
        &format!(
            "SELECT count(*) AS n FROM attachments WHERE message_id = {}",
            message.id.0
        ),
    )
}

fn new_room(name: &str, avatar: Option<StoredUpload>) -> NewRoom {
    NewRoom {
        avatar,
        ..NewRoom::parse(Some(name), None, None).expect("valid room")
    }
}

async fn create_room(store: &PgStore, account: AccountId, name: &str, creator: &User) -> Room {
    store
        .create_room(account, new_room(name, None), Some(creator.id))
        .await
        .expect("room created")
}

async fn add(store: &PgStore, account: AccountId, room: RoomId, users: &[&User]) {
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

fn set_avatar(file: Option<StoredUpload>) -> RoomPatch {
    RoomPatch {
        avatar: Some(file),
        ..RoomPatch::default()
    }
}

/// Acme with Ann and Ben (both in General and Random); Other with Eve in Elsewhere.
struct Scene {
    acme: Account,
    ann: User,
    ben: User,
    general: Room,
    random: Room,
    other: Account,
    eve: User,
    elsewhere: Room,
}

async fn scene(store: &PgStore) -> Scene {
    let acme = create_account(store, "Acme", "ck_acme").await;
    let other = create_account(store, "Other", "ck_other").await;
    let ann = create_user(store, acme.id, "Ann", "agent").await;
    let ben = create_user(store, acme.id, "Ben", "agent").await;
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
        general,
        random,
        other,
        eve,
        elsewhere,
    }
}

// ---------------------------------------------------------------------------------------
// Messages with files

#[tokio::test]
async fn attachments_of_a_message_come_in_order_wherever_it_is_read() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let plain = send(&store, s.acme.id, s.general.id, text(&s.ann, "no files")).await;
    let files = vec![
        png(s.acme.id, 1234, Some((800, 600))),
        pdf(s.acme.id, 99_999),
        png(s.acme.id, 0, None),
        png(s.acme.id, 40 * 1024 * 1024, Some((1, 65_535))),
    ];
    let sent = send(
        &store,
        s.acme.id,
        s.general.id,
        with_files(&s.ben, "look", &files),
    )
    .await;
    // Files only: the text may be empty.
    let bare_files = vec![png(s.acme.id, 7, Some((2, 3)))];
    let bare = send(
        &store,
        s.acme.id,
        s.general.id,
        with_files(&s.ann, "", &bare_files),
    )
    .await;

    assert_attached(&sent, s.acme.id, &files);
    assert_attached(&bare, s.acme.id, &bare_files);
    assert_eq!(bare.content.as_str(), "");
    assert_eq!(plain.attachments, []);
    assert_eq!(attachment_count(&db, &sent), 4);
    assert_eq!(attachment_count(&db, &plain), 0);
    assert_eq!(count(&db, "attachments"), 5);

    for reference in [MessageRef::Id(sent.id), MessageRef::Uuid(sent.uuid)] {
        let found = store
            .find_message(s.acme.id, reference)
            .await
            .expect("found");
        assert_eq!(found, sent);
    }
    let found_bare = store
        .find_message(s.acme.id, MessageRef::Id(bare.id))
        .await
        .expect("found");
    assert_eq!(found_bare, bare);
    let found_plain = store
        .find_message(s.acme.id, MessageRef::Id(plain.id))
        .await
        .expect("found");
    assert_eq!(found_plain.attachments, []);

    let mut found = store
        .find_messages(s.acme.id, vec![bare.id, plain.id, sent.id])
        .await
        .expect("found");
    found.sort_by_key(|m| m.id);
    assert_eq!(found, [plain.clone(), sent.clone(), bare.clone()]);

    assert_eq!(
        listed(&store, s.acme.id, s.general.id).await,
        [plain.clone(), sent.clone(), bare.clone()]
    );
    let (newest, total) = store
        .list_messages(s.acme.id, s.general.id, MessageFilter::newest(window(0, 2)))
        .await
        .expect("listed");
    assert_eq!(total, 3);
    assert_eq!(newest, [bare, sent]);
}

#[tokio::test]
async fn attachments_of_messages_in_several_rooms_stay_with_their_message() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let in_general = vec![png(s.acme.id, 1, None), png(s.acme.id, 2, None)];
    let in_random = vec![pdf(s.acme.id, 3)];
    let a = send(
        &store,
        s.acme.id,
        s.general.id,
        with_files(&s.ann, "a", &in_general),
    )
    .await;
    let b = send(
        &store,
        s.acme.id,
        s.random.id,
        with_files(&s.ben, "b", &in_random),
    )
    .await;
    let mut found = store
        .find_messages(s.acme.id, vec![a.id, b.id])
        .await
        .expect("found");
    found.sort_by_key(|m| m.id);
    assert_eq!(found.len(), 2);
    assert_attached(&found[0], s.acme.id, &in_general);
    assert_attached(&found[1], s.acme.id, &in_random);
    assert_attached(
        &listed(&store, s.acme.id, s.random.id).await[0],
        s.acme.id,
        &in_random,
    );
}

/// (delivered, read) of `user` in the room.
async fn position_of(store: &PgStore, account: AccountId, room: RoomId, user: &User) -> (i64, i64) {
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

/// (last_seq, message_count) of the room, behind the store's back.
fn counters(db: &TestDatabase, room: &Room) -> (i64, i64) {
    let of = |column: &str| {
        number(
            db,
            &format!("SELECT {column} AS n FROM rooms WHERE id = {}", room.id.0),
        )
    };
    (of("last_seq"), of("message_count"))
}

#[tokio::test]
async fn a_message_with_files_takes_the_next_seq_and_moves_the_room_and_its_sender() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let first = send(&store, s.acme.id, s.general.id, text(&s.ann, "plain")).await;
    let files = vec![png(s.acme.id, 5, Some((2, 2))), pdf(s.acme.id, 6)];
    let sent = send(
        &store,
        s.acme.id,
        s.general.id,
        with_files(&s.ben, "files", &files),
    )
    .await;
    assert_eq!(sent.seq.0, first.seq.0 + 1);
    assert_eq!(sent.room_uuid, s.general.uuid);
    assert!(sent.created_at >= first.created_at);
    assert_eq!(sent.created_at, sent.updated_at);
    assert_attached(&sent, s.acme.id, &files);
    assert_eq!(counters(&db, &s.general), (2, 2));
    let room = store
        .find_room(s.acme.id, RoomRef::Id(s.general.id))
        .await
        .expect("room");
    assert_eq!(room.last_message_at, sent.created_at);
    // The sender has read what it sent; Ann is where her own message left her.
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.ben).await,
        (2, 2)
    );
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.ann).await,
        (1, 1)
    );
    // Every attachment row carries its message's account and room.
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM attachments a JOIN messages m ON m.id = a.message_id \
             WHERE a.account_id = m.account_id AND a.room_id = m.room_id"
        ),
        2
    );

    // A system message with files moves nobody.
    let notice = send(
        &store,
        s.acme.id,
        s.general.id,
        NewMessage {
            mentions: Vec::new(),
            sender: Sender::System,
            sender_name: None,
            kind: MessageKind::System,
            ..with_files(&s.ann, "", &[pdf(s.acme.id, 7)])
        },
    )
    .await;
    assert_eq!((notice.sender, notice.seq.0), (Sender::System, 3));
    assert_eq!(notice.attachments.len(), 1);
    assert_eq!(counters(&db, &s.general), (3, 3));
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.ben).await,
        (2, 2)
    );
}

#[tokio::test]
async fn a_message_with_files_in_a_room_of_another_account_stores_nothing() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let files = vec![png(s.acme.id, 1, None)];
    assert_not_found(
        store
            .append(s.other.id, s.general.id, with_files(&s.ann, "x", &files))
            .await,
    );
    // A sender of another account.
    assert_not_found(
        store
            .append(s.acme.id, s.general.id, with_files(&s.eve, "x", &files))
            .await,
    );
    assert_eq!(count(&db, "messages"), 0);
    assert_eq!(count(&db, "attachments"), 0);
    assert_eq!(counters(&db, &s.general), (0, 0));
}

#[tokio::test]
async fn a_refused_attachment_row_stores_nothing_and_gives_the_seq_back() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let stored = vec![png(s.acme.id, 1, None)];
    send(
        &store,
        s.acme.id,
        s.general.id,
        with_files(&s.ann, "first", &stored),
    )
    .await;
    // The second file names a key that a row holds already (UNIQUE): the whole send fails.
    let clash = vec![pdf(s.acme.id, 2), stored[0].clone()];
    let result = store
        .append(
            s.acme.id,
            s.general.id,
            with_files(&s.ben, "second", &clash),
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::Unexpected(_))),
        "{result:?}"
    );
    assert_eq!(count(&db, "messages"), 1);
    assert_eq!(count(&db, "attachments"), 1);
    assert_eq!(counters(&db, &s.general), (1, 1));
    assert_eq!(
        position_of(&store, s.acme.id, s.general.id, &s.ben).await,
        (0, 0)
    );
    // No gap: the next message takes the number the failed one gave back.
    let next = send(&store, s.acme.id, s.general.id, text(&s.ben, "next")).await;
    assert_eq!(next.seq.0, 2);
}

#[tokio::test]
async fn an_echo_retry_stores_no_new_attachments_and_answers_the_first_message() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let first_files = vec![png(s.acme.id, 10, Some((4, 4))), pdf(s.acme.id, 20)];
    let first = send(
        &store,
        s.acme.id,
        s.general.id,
        with_echo(with_files(&s.ann, "hi", &first_files), "temp-1"),
    )
    .await;
    assert_attached(&first, s.acme.id, &first_files);

    let retry_files = vec![png(s.acme.id, 30, None)];
    let (again, created) = store
        .append(
            s.acme.id,
            s.general.id,
            with_echo(with_files(&s.ann, "hi", &retry_files), "temp-1"),
        )
        .await
        .expect("retry answered");
    assert!(!created);
    assert_eq!(again, first);
    assert_attached(&again, s.acme.id, &first_files);
    assert_eq!(count(&db, "attachments"), 2);
    assert_eq!(count(&db, "messages"), 1);
    // Nothing refers to the retry's file: the caller's to remove.
    assert_eq!(
        store
            .unreferenced(keys(&[first_files.clone(), retry_files.clone()].concat()))
            .await
            .expect("looked up"),
        keys(&retry_files)
    );
}

#[tokio::test]
async fn deleting_a_message_answers_the_keys_of_its_attachments_and_a_restore_brings_none_back() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let files = vec![
        png(s.acme.id, 1, Some((1, 1))),
        pdf(s.acme.id, 2),
        png(s.acme.id, 3, None),
    ];
    let other_files = vec![png(s.acme.id, 4, None)];
    let message = send(
        &store,
        s.acme.id,
        s.general.id,
        with_files(&s.ann, "bye", &files),
    )
    .await;
    let kept = send(
        &store,
        s.acme.id,
        s.general.id,
        with_files(&s.ben, "stay", &other_files),
    )
    .await;

    let (deleted, removed) = store
        .set_message_deleted(s.acme.id, message.id, true, None)
        .await
        .expect("deleted");
    assert!(deleted.is_deleted());
    assert_eq!(deleted.attachments, []);
    assert_eq!(sorted(removed), sorted(keys(&files)));
    assert_eq!(rows_of(&db, &message), 0);
    assert_eq!(attachment_count(&db, &message), 0);
    let found = store
        .find_message(s.acme.id, MessageRef::Id(message.id))
        .await
        .expect("found");
    assert_eq!(found.attachments, []);

    // Deleting again frees nothing more.
    let (_, again) = store
        .set_message_deleted(s.acme.id, message.id, true, None)
        .await
        .expect("deleted again");
    assert_eq!(again, []);

    let (restored, none) = store
        .set_message_deleted(s.acme.id, message.id, false, None)
        .await
        .expect("restored");
    assert!(!restored.is_deleted());
    assert_eq!(none, []);
    assert_eq!(restored.attachments, []);
    let listed_now = listed(&store, s.acme.id, s.general.id).await;
    assert_eq!(listed_now.len(), 2);
    assert_eq!(listed_now[0].attachments, []);

    // The other message keeps its files.
    let still = store
        .find_message(s.acme.id, MessageRef::Id(kept.id))
        .await
        .expect("found");
    assert_attached(&still, s.acme.id, &other_files);
    assert_eq!(count(&db, "attachments"), 1);
}

// ---------------------------------------------------------------------------------------
// Avatars

#[tokio::test]
async fn room_avatars_are_kept_like_attachments_and_each_patch_answers_the_key_it_replaced() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let first = avatar(s.acme.id);
    let room = store
        .create_room(
            s.acme.id,
            new_room("Pictured", Some(first.clone())),
            Some(s.ann.id),
        )
        .await
        .expect("room created");
    assert_eq!(room.avatar, Some(first.key.clone()));
    let found = store
        .find_room(s.acme.id, RoomRef::Id(room.id))
        .await
        .expect("found");
    assert_eq!(found.avatar, Some(first.key.clone()));

    // A patch without avatar leaves it, and answers none.
    let rename = RoomPatch {
        name: Some(RoomName::parse("Renamed").expect("valid name")),
        ..RoomPatch::default()
    };
    let (renamed, replaced) = store
        .update_room(s.acme.id, room.id, rename)
        .await
        .expect("renamed");
    assert_eq!(replaced, None);
    assert_eq!(renamed.avatar, Some(first.key.clone()));

    // A new avatar answers the old one.
    let second = avatar(s.acme.id);
    let (updated, replaced) = store
        .update_room(s.acme.id, room.id, set_avatar(Some(second.clone())))
        .await
        .expect("avatar replaced");
    assert_eq!(updated.avatar, Some(second.key.clone()));
    assert_eq!(replaced, Some(first.key.clone()));

    // The one it already has replaces nothing.
    let (same, replaced) = store
        .update_room(s.acme.id, room.id, set_avatar(Some(second.clone())))
        .await
        .expect("same avatar");
    assert_eq!(same.avatar, Some(second.key.clone()));
    assert_eq!(replaced, None);

    // Removing it answers it; removing nothing answers none.
    let (bare, replaced) = store
        .update_room(s.acme.id, room.id, set_avatar(None))
        .await
        .expect("avatar removed");
    assert_eq!(bare.avatar, None);
    assert_eq!(replaced, Some(second.key.clone()));
    let (_, replaced) = store
        .update_room(s.acme.id, room.id, set_avatar(None))
        .await
        .expect("nothing removed");
    assert_eq!(replaced, None);

    // A room without avatar gets a first one: nothing replaced.
    let third = avatar(s.acme.id);
    let (_, replaced) = store
        .update_room(s.acme.id, s.general.id, set_avatar(Some(third.clone())))
        .await
        .expect("first avatar");
    assert_eq!(replaced, None);
    assert_eq!(
        store
            .find_room(s.acme.id, RoomRef::Id(s.general.id))
            .await
            .expect("found")
            .avatar,
        Some(third.key.clone())
    );

    // Another account cannot touch it.
    assert_not_found(
        store
            .update_room(s.other.id, s.general.id, set_avatar(None))
            .await,
    );
    assert_not_found(
        store
            .update_room(
                s.other.id,
                s.general.id,
                set_avatar(Some(avatar(s.other.id))),
            )
            .await,
    );
    assert_eq!(
        store
            .find_room(s.acme.id, RoomRef::Id(s.general.id))
            .await
            .expect("found")
            .avatar,
        Some(third.key)
    );
}

// ---------------------------------------------------------------------------------------
// Deleting rooms

#[tokio::test]
async fn deleting_a_room_answers_every_key_of_its_attachments_and_its_avatar() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let picture = avatar(s.acme.id);
    let (room, _) = store
        .update_room(s.acme.id, s.general.id, set_avatar(Some(picture.clone())))
        .await
        .expect("avatar set");
    let first = vec![png(s.acme.id, 1, None), pdf(s.acme.id, 2)];
    let second = vec![png(s.acme.id, 3, Some((5, 5)))];
    let gone = vec![png(s.acme.id, 4, None)];
    let elsewhere = vec![png(s.acme.id, 5, None)];
    send(&store, s.acme.id, room.id, with_files(&s.ann, "1", &first)).await;
    send(&store, s.acme.id, room.id, text(&s.ben, "no files")).await;
    send(&store, s.acme.id, room.id, with_files(&s.ben, "2", &second)).await;
    let deleted = send(&store, s.acme.id, room.id, with_files(&s.ann, "3", &gone)).await;
    store
        .set_message_deleted(s.acme.id, deleted.id, true, None)
        .await
        .expect("deleted");
    let kept = send(
        &store,
        s.acme.id,
        s.random.id,
        with_files(&s.ann, "other room", &elsewhere),
    )
    .await;

    // Another account cannot delete it.
    assert_not_found(store.delete_room(s.other.id, room.id).await);

    let removed = store
        .delete_room(s.acme.id, room.id)
        .await
        .expect("room deleted");
    let mut expected = keys(&first);
    expected.extend(keys(&second));
    expected.push(picture.key.clone());
    assert_eq!(sorted(removed), sorted(expected));
    assert_eq!(count(&db, "attachments"), 1);
    assert_not_found(store.find_room(s.acme.id, RoomRef::Id(room.id)).await);
    assert_attached(
        &store
            .find_message(s.acme.id, MessageRef::Id(kept.id))
            .await
            .expect("found"),
        s.acme.id,
        &elsewhere,
    );

    // A room with neither files nor avatar frees nothing.
    assert_eq!(
        store
            .delete_room(s.other.id, s.elsewhere.id)
            .await
            .expect("room deleted"),
        []
    );
}

// ---------------------------------------------------------------------------------------
// The index of referenced files

#[tokio::test]
async fn only_live_attachments_and_avatars_are_referenced_each_in_its_own_account() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let live = vec![png(s.acme.id, 1, None), pdf(s.acme.id, 2)];
    let dropped = vec![png(s.acme.id, 3, None)];
    let picture = avatar(s.acme.id);
    let theirs = vec![png(s.other.id, 4, None)];
    let their_picture = avatar(s.other.id);
    send(
        &store,
        s.acme.id,
        s.general.id,
        with_files(&s.ann, "live", &live),
    )
    .await;
    let deleted = send(
        &store,
        s.acme.id,
        s.general.id,
        with_files(&s.ann, "dropped", &dropped),
    )
    .await;
    store
        .set_message_deleted(s.acme.id, deleted.id, true, None)
        .await
        .expect("deleted");
    store
        .update_room(s.acme.id, s.random.id, set_avatar(Some(picture.clone())))
        .await
        .expect("avatar set");
    send(
        &store,
        s.other.id,
        s.elsewhere.id,
        with_files(&s.eve, "theirs", &theirs),
    )
    .await;
    store
        .update_room(
            s.other.id,
            s.elsewhere.id,
            set_avatar(Some(their_picture.clone())),
        )
        .await
        .expect("avatar set");

    // The same paths under another account's id.
    let moved = |k: &StorageKey, to: AccountId| {
        let (_, rest) = k
            .as_str()
            .strip_prefix("accounts/")
            .and_then(|r| r.split_once('/'))
            .expect("an account key");
        key(&format!("accounts/{}/{rest}", to.0))
    };
    let random = StorageKey::for_attachment(s.acme.id, Uuid::new_v4(), "png").expect("key");
    let random_avatar = StorageKey::for_avatar(s.acme.id, Uuid::new_v4(), "png").expect("key");
    let live_under_other = moved(&live[0].key, s.other.id);
    let avatar_under_other = moved(&picture.key, s.other.id);
    let theirs_under_acme = moved(&theirs[0].key, s.acme.id);
    let outside = key(&format!("elsewhere/{}.png", Uuid::new_v4()));
    let not_a_number = key("accounts/x/attachments/a.png");
    let no_account =
        StorageKey::for_attachment(AccountId(i64::MAX), Uuid::new_v4(), "png").expect("key");

    let referenced = vec![
        live[0].key.clone(),
        live[1].key.clone(),
        picture.key.clone(),
        theirs[0].key.clone(),
        their_picture.key.clone(),
    ];
    let unreferenced = vec![
        dropped[0].key.clone(),
        random,
        random_avatar,
        live_under_other,
        avatar_under_other,
        theirs_under_acme,
        outside,
        not_a_number,
        no_account,
    ];
    // Asked in a mixed order, answered in that order.
    let mut asked = Vec::new();
    for (i, orphan) in unreferenced.iter().enumerate() {
        asked.push(orphan.clone());
        if let Some(used) = referenced.get(i) {
            asked.push(used.clone());
        }
    }
    assert_eq!(
        store.unreferenced(asked).await.expect("looked up"),
        unreferenced
    );
    assert_eq!(
        store
            .unreferenced(referenced.clone())
            .await
            .expect("looked up"),
        []
    );
    assert_eq!(store.unreferenced(Vec::new()).await.expect("looked up"), []);

    // Once the avatar is removed and the room with the files deleted, they are orphans.
    store
        .update_room(s.acme.id, s.random.id, set_avatar(None))
        .await
        .expect("avatar removed");
    store
        .delete_room(s.acme.id, s.general.id)
        .await
        .expect("room deleted");
    assert_eq!(
        store
            .unreferenced(referenced.clone())
            .await
            .expect("looked up"),
        referenced[..3]
    );
}

// ---------------------------------------------------------------------------------------
// Tenants

#[tokio::test]
async fn another_account_cannot_read_the_attachments() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let files = vec![png(s.acme.id, 1, Some((3, 3))), pdf(s.acme.id, 2)];
    let theirs = vec![png(s.other.id, 3, None)];
    let mine = send(
        &store,
        s.acme.id,
        s.general.id,
        with_files(&s.ann, "mine", &files),
    )
    .await;
    let their_message = send(
        &store,
        s.other.id,
        s.elsewhere.id,
        with_files(&s.eve, "theirs", &theirs),
    )
    .await;

    for reference in [MessageRef::Id(mine.id), MessageRef::Uuid(mine.uuid)] {
        assert_not_found(store.find_message(s.other.id, reference).await);
    }
    assert_eq!(
        store
            .find_messages(s.other.id, vec![mine.id])
            .await
            .expect("found"),
        []
    );
    assert_not_found(
        store
            .list_messages(s.other.id, s.general.id, everything())
            .await,
    );
    assert_not_found(
        store
            .set_message_deleted(s.other.id, mine.id, true, None)
            .await,
    );
    // Each account reads its own files only.
    let found = store
        .find_message(s.acme.id, MessageRef::Id(mine.id))
        .await
        .expect("found");
    assert_attached(&found, s.acme.id, &files);
    let found = store
        .find_message(s.other.id, MessageRef::Id(their_message.id))
        .await
        .expect("found");
    assert_attached(&found, s.other.id, &theirs);
    assert_eq!(
        store
            .find_messages(s.acme.id, vec![mine.id, their_message.id])
            .await
            .expect("found"),
        [found_in(&store, s.acme.id, &mine).await]
    );
}

async fn found_in(store: &PgStore, account: AccountId, message: &Message) -> Message {
    store
        .find_message(account, MessageRef::Id(message.id))
        .await
        .expect("found")
}
