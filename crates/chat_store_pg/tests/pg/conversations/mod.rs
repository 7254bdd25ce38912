//! Conversations ([`ConversationStore`] and what sending, deleting and reading keep for
//! it) in the PostgreSQL adapter: search ([`search`]), threads, mentions and who deleted
//! a message ([`threads`]), reactions ([`reactions`]) and pins ([`pins`]).

mod pins;
mod reactions;
mod search;
mod threads;

use chat_app::{
    MemberStore, Mention, MessageStore, NewMessage, NewRoom, NewUser, RoomStore, SearchQuery,
    StoreError, UserStore, Window,
};
use chat_domain::{
    Account, AccountId, Content, MemberMeta, Message, MessageId, MessageKind, MessageMeta, Room,
    RoomId, Sender, Sniffed, StorageKey, StoredUpload, TokenHash, User,
};
use chat_store_pg::PgStore;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::common::{create_account, create_user};

/// Acme: Ann (who made General and Random), Ben and Cid in General, Ben in Random, Dee
/// (external id `dee`) in General; Out in no room. Other: Eve in Elsewhere.
pub struct Scene {
    pub acme: Account,
    pub ann: User,
    pub ben: User,
    pub cid: User,
    pub dee: User,
    pub out: User,
    pub general: Room,
    pub random: Room,
    pub other: Account,
    pub eve: User,
    pub elsewhere: Room,
}

pub async fn scene(store: &PgStore) -> Scene {
    let acme = create_account(store, "Acme", "ck_acme").await;
    let other = create_account(store, "Other", "ck_other").await;
    let ann = create_user(store, acme.id, "Ann", "agent").await;
    let ben = create_user(store, acme.id, "Ben", "agent").await;
    let cid = create_user(store, acme.id, "Cid", "agent").await;
    let dee = store
        .create_user(
            acme.id,
            NewUser::parse(Some("Dee"), None, Some("agent"), Some("dee")).expect("valid user"),
            TokenHash::of("ut_dee"),
        )
        .await
        .expect("user created");
    let out = create_user(store, acme.id, "Out", "agent").await;
    let eve = create_user(store, other.id, "Eve", "agent").await;
    let general = room(store, acme.id, "General", &ann, None).await;
    add(store, acme.id, general.id, &[&ben, &cid, &dee]).await;
    let random = room(store, acme.id, "Random", &ann, None).await;
    add(store, acme.id, random.id, &[&ben]).await;
    let elsewhere = room(store, other.id, "Elsewhere", &eve, None).await;
    Scene {
        acme,
        ann,
        ben,
        cid,
        dee,
        out,
        general,
        random,
        other,
        eve,
        elsewhere,
    }
}

pub async fn room(
    store: &PgStore,
    account: AccountId,
    name: &str,
    creator: &User,
    meta: Option<Value>,
) -> Room {
    let new = NewRoom::parse(Some(name), None, meta.map(object)).expect("valid room");
    store
        .create_room(account, new, Some(creator.id))
        .await
        .expect("room created")
}

pub async fn add(store: &PgStore, account: AccountId, room: RoomId, users: &[&User]) {
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

pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// `user`'s text message `content`.
pub fn text(user: &User, content: &str) -> NewMessage {
    NewMessage {
        sender: Sender::User {
            id: user.id,
            label: user.chat_user_id(),
        },
        sender_name: None,
        content: Content::parse(content).expect("valid content"),
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        attachments: Vec::new(),
        mentions: Vec::new(),
    }
}

/// A system message.
pub fn system(content: &str) -> NewMessage {
    NewMessage {
        sender: Sender::System,
        kind: MessageKind::System,
        sender_name: None,
        content: Content::parse(content).expect("valid content"),
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        attachments: Vec::new(),
        mentions: Vec::new(),
    }
}

/// `new` as a reply to `parent`.
pub fn reply(new: NewMessage, parent: &Message) -> NewMessage {
    NewMessage {
        reply_to: Some(parent.id),
        ..new
    }
}

/// `new` mentioning `mentions`.
pub fn mentioning(new: NewMessage, mentions: Vec<Mention>) -> NewMessage {
    NewMessage { mentions, ..new }
}

/// `new` with `meta`.
pub fn with_meta(new: NewMessage, meta: Value) -> NewMessage {
    NewMessage {
        meta: MessageMeta::parse(object(meta)).expect("valid meta"),
        ..new
    }
}

/// `new` with one PDF file.
pub fn with_file(new: NewMessage, account: AccountId) -> NewMessage {
    let uuid = Uuid::new_v4();
    NewMessage {
        attachments: vec![StoredUpload {
            uuid,
            key: StorageKey::for_attachment(account, uuid, "pdf").expect("valid key"),
            kind: Sniffed::PDF,
            size: 10,
            dimensions: None,
        }],
        ..new
    }
}

pub async fn send(store: &PgStore, account: AccountId, room: RoomId, new: NewMessage) -> Message {
    let (message, created) = store
        .append(account, room, new)
        .await
        .expect("message appended");
    assert!(created, "{message:?} was not created");
    message
}

pub async fn find(store: &PgStore, account: AccountId, message: MessageId) -> Message {
    store
        .find_message(account, chat_domain::MessageRef::Id(message))
        .await
        .expect("message found")
}

pub fn window(offset: i64, limit: i64) -> Window {
    Window::new(offset, limit, Window::MAX_LIMIT).expect("valid window")
}

/// A search for `text` in any room, with no filter.
pub fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.to_owned(),
        language: None,
        rooms: Vec::new(),
        senders: Vec::new(),
        kinds: Vec::new(),
        from: None,
        to: None,
        has_mentions: None,
        has_attachments: None,
        reader: None,
        window: window(0, 50),
    }
}

pub fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

/// The contents of `messages`, in order.
pub fn contents(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.content.as_str()).collect()
}

/// A user as a message names them (mentions, reactions, participants).
pub fn person(user: &User) -> chat_domain::Person {
    chat_domain::Person {
        id: user.id,
        label: user.chat_user_id(),
    }
}

/// A meta object naming a language.
pub fn language(code: &str) -> Value {
    json!({ "language": code })
}
