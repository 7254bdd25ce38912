//! Webhooks in the PostgreSQL adapter: the outbox recorded with each change
//! ([`recording`]), and the delivery worker's side of [`WebhookStore`] ([`delivery`]).

mod delivery;
mod recording;

use chat_app::{MemberStore, NewMessage, NewRoom, NewWebhook, RoomStore, WebhookStore};
use chat_domain::{
    Account, AccountId, Content, CustomHeaders, MemberMeta, Message, MessageKind, MessageMeta,
    Room, RoomId, Sender, User, Webhook, WebhookEvents, WebhookMeta, WebhookSecret, WebhookUrl,
};
use chat_store_pg::PgStore;
use chat_test_db::TestDatabase;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::Map;
use uuid::Uuid;

use crate::common::{connect, create_account, create_user};

/// An account with three users (Ann, Ben, Cid) all members of one room Ann created.
pub struct Scene {
    pub acme: Account,
    pub ann: User,
    pub ben: User,
    pub cid: User,
    pub room: Room,
}

pub async fn scene(store: &PgStore, name: &str) -> Scene {
    let acme = create_account(store, name, &format!("ck_{name}")).await;
    let ann = create_user(store, acme.id, "Ann", "agent").await;
    let ben = create_user(store, acme.id, "Ben", "agent").await;
    let cid = create_user(store, acme.id, "Cid", "agent").await;
    let room = create_room(store, acme.id, "General", Some(&ann)).await;
    store
        .add_members(
            acme.id,
            room.id,
            vec![ben.id, cid.id],
            MemberMeta::default(),
            None,
        )
        .await
        .expect("members added");
    Scene {
        acme,
        ann,
        ben,
        cid,
        room,
    }
}

pub async fn create_room(
    store: &PgStore,
    account: AccountId,
    name: &str,
    creator: Option<&User>,
) -> Room {
    let new = NewRoom::parse(Some(name), None, None).expect("valid room");
    store
        .create_room(account, new, creator.map(|user| user.id))
        .await
        .expect("room created")
}

pub fn new_webhook(events: &[&str], rooms: Vec<Uuid>) -> NewWebhook {
    NewWebhook {
        url: WebhookUrl::parse("https://hooks.example.com/in").expect("valid url"),
        events: WebhookEvents::parse("events", events).expect("valid events"),
        secret: Some(WebhookSecret::parse("a-shared-secret-of-32-characters").expect("valid")),
        custom_headers: CustomHeaders::parse(Map::new()).expect("valid headers"),
        room_filters: rooms,
        meta: WebhookMeta::default(),
        is_active: true,
    }
}

pub async fn webhook(
    store: &PgStore,
    account: AccountId,
    events: &[&str],
    rooms: Vec<Uuid>,
) -> Webhook {
    store
        .create_webhook(account, new_webhook(events, rooms))
        .await
        .expect("webhook created")
}

pub fn text(user: &User, content: &str) -> NewMessage {
    NewMessage {
        mentions: Vec::new(),
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
    }
}

pub async fn send(
    store: &PgStore,
    account: AccountId,
    room: RoomId,
    user: &User,
    content: &str,
) -> Message {
    store
        .append(account, room, text(user, content))
        .await
        .expect("message appended")
        .0
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The names of the column `name` that `sql` answers, in its order.
pub fn names(db: &TestDatabase, sql: &str) -> Vec<String> {
    diesel::sql_query(sql)
        .load::<Name>(&mut connect(db))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|row| row.name)
        .collect()
}

/// The one number (`n`) that `sql` answers.
pub fn number(db: &TestDatabase, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Number>(&mut connect(db))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// The events recorded for the account, oldest first.
pub fn events_of(db: &TestDatabase, account: AccountId) -> Vec<String> {
    names(
        db,
        &format!(
            "SELECT event AS name FROM webhook_events WHERE account_id = {} ORDER BY id",
            account.0
        ),
    )
}

/// Deliveries recorded for the webhook.
pub fn deliveries_of(db: &TestDatabase, webhook: &Webhook) -> i64 {
    number(
        db,
        &format!(
            "SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = {}",
            webhook.id.0
        ),
    )
}
