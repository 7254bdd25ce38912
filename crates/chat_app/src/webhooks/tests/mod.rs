//! Unit tests of the webhook use cases and deliveries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_domain::{
    AccountId, Availability, Content, CustomHeaders, Features, FieldError, Message, MessageId,
    MessageKind, MessageMeta, Permissions, PersonName, Problem, RetrySchedule, Role, Room, RoomId,
    RoomMeta, RoomName, Sender, Seq, User, UserId, Webhook, WebhookEvent, WebhookEvents, WebhookId,
    WebhookMeta, WebhookSecret, WebhookUrl,
};
use serde_json::{Value, json};
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::actor::AccountAccess;
use crate::model::RawWebhook;
use crate::ports::{
    Claimed, Finished, MockMessageStore, MockRoomStore, MockUserDirectory, MockWebhookRenderer,
    MockWebhookSender, MockWebhookStore, Response, StoredEvent,
};

const ACCOUNT: AccountId = AccountId(1);
const CLIENT: Uuid = Uuid::from_u128(0xC1);
const SECRET: &str = "whsec_test_secret_0123456789";

fn access() -> AccountAccess {
    AccountAccess {
        id: ACCOUNT,
        uuid: CLIENT,
        features: Features::default(),
    }
}

fn api_key() -> Actor {
    Actor::ApiKey(access())
}

fn user(role: Role, scope: Option<Permissions>) -> Actor {
    Actor::User {
        account: access(),
        user_id: UserId(10),
        role,
        scope,
    }
}

fn webhook() -> Webhook {
    Webhook {
        id: WebhookId(7),
        uuid: Uuid::from_u128(0x77),
        account_id: ACCOUNT,
        url: WebhookUrl::parse("https://hooks.example.com/in").unwrap_or_else(|e| panic!("{e}")),
        events: WebhookEvents::of(&[WebhookEvent::MessageCreated]),
        secret: WebhookSecret::parse(SECRET).unwrap_or_else(|e| panic!("{e}")),
        is_active: true,
        custom_headers: CustomHeaders::parse(
            json!({"X-Token": "t"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .unwrap_or_else(|e| panic!("{e}")),
        room_filters: Vec::new(),
        meta: WebhookMeta::default(),
        failure_count: 0,
        last_delivery_at: None,
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
    }
}

fn event(kind: WebhookEvent) -> StoredEvent {
    StoredEvent {
        uuid: Uuid::from_u128(0xE0),
        event: kind,
        account: ACCOUNT,
        room: None,
        message: None,
        user: None,
        data: None,
        created_at: datetime!(2024-05-06 7:08:09 UTC),
    }
}

fn claimed(event: StoredEvent, attempt: i32) -> Claimed {
    Claimed {
        delivery: 3,
        delivery_uuid: Uuid::from_u128(0xD0),
        attempt,
        webhook: webhook(),
        client_id: CLIENT,
        event,
    }
}

fn room() -> Room {
    Room {
        id: RoomId(5),
        uuid: Uuid::from_u128(0x55),
        account_id: ACCOUNT,
        name: RoomName::parse("General").unwrap_or_else(|e| panic!("{e}")),
        description: None,
        meta: RoomMeta::default(),
        is_active: true,
        avatar: None,
        member_count: 2,
        message_count: 1,
        last_message_at: datetime!(2024-01-01 0:00 UTC),
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
    }
}

fn person(id: i64) -> User {
    User {
        id: UserId(id),
        account_id: ACCOUNT,
        external_id: None,
        name: PersonName::parse("Ada").unwrap_or_else(|e| panic!("{e}")),
        email: None,
        role: Role::Agent,
        availability: Availability::Offline,
        confirmed: true,
        is_active: true,
        meta: chat_domain::UserMeta::default(),
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
    }
}

fn message() -> Message {
    Message {
        id: MessageId(9),
        uuid: Uuid::from_u128(0x99),
        account_id: ACCOUNT,
        room_id: RoomId(5),
        room_uuid: Uuid::from_u128(0x55),
        seq: Seq(4),
        sender: Sender::User {
            id: UserId(11),
            label: "ada".into(),
        },
        sender_name: None,
        content: Content::parse("hi").unwrap_or_else(|e| panic!("{e:?}")),
        kind: MessageKind::Text,
        meta: MessageMeta::default(),
        reply_to: None,
        echo_id: None,
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2024-01-01 0:00 UTC),
        edited_at: None,
        deleted_at: None,
        attachments: Vec::new(),
        deleted_by: None,
        thread: chat_domain::ThreadStats::default(),
        mentions: Vec::new(),
        reactions: chat_domain::Reactions::new(),
        pin: None,
    }
}

/// The mocks of one test; `build` wires them.
#[derive(Default)]
struct Mocks {
    store: MockWebhookStore,
    sender: MockWebhookSender,
    renderer: MockWebhookRenderer,
    rooms: MockRoomStore,
    messages: MockMessageStore,
    users: MockUserDirectory,
}

impl Mocks {
    fn new() -> Self {
        let mut mocks = Self::default();
        mocks
            .renderer
            .expect_message()
            .returning(|view| json!({"id": view.message.uuid, "seq": view.message.seq.0, "client_id": Uuid::nil()}));
        mocks
            .renderer
            .expect_room()
            .returning(|view| json!({"id": view.room.uuid, "name": view.room.name.as_str(), "client_id": Uuid::nil()}));
        mocks
            .renderer
            .expect_user_id()
            .returning(|user| json!(format!("u{}", user.id.0)));
        mocks
    }

    fn delivery(self, schedule: RetrySchedule) -> WebhookDelivery {
        WebhookDelivery::new(
            DeliveryPorts {
                store: Arc::new(self.store),
                sender: Arc::new(self.sender),
                renderer: Arc::new(self.renderer),
                rooms: Arc::new(self.rooms),
                messages: Arc::new(self.messages),
                users: Arc::new(self.users),
            },
            DeliverySettings {
                schedule,
                ..DeliverySettings::default()
            },
        )
    }

    fn webhooks(self) -> Webhooks {
        Webhooks::new(self.delivery(RetrySchedule::default()))
    }
}

fn raw(url: &str, events: &[&str]) -> RawWebhook {
    RawWebhook {
        url: Some(url.to_owned()),
        events: Some(events.iter().map(|e| (*e).to_owned()).collect()),
        ..RawWebhook::default()
    }
}

fn fields(errors: &chat_domain::FieldErrors) -> Vec<&'static str> {
    errors.iter().map(|e| e.field).collect()
}

// ---- delivery ----

type Sent = Arc<Mutex<Vec<crate::ports::Outgoing>>>;

fn answer(mocks: &mut Mocks, status: Option<u16>) -> Sent {
    let sent: Sent = Arc::default();
    let log = sent.clone();
    mocks.sender.expect_post().returning(move |outgoing| {
        log.lock().unwrap_or_else(|e| e.into_inner()).push(outgoing);
        Response {
            status,
            duration: Duration::from_millis(12),
            error: None,
        }
    });
    sent
}

fn finished_log(mocks: &mut Mocks, deactivated: bool) -> Arc<Mutex<Vec<Finished>>> {
    let log: Arc<Mutex<Vec<Finished>>> = Arc::default();
    let keep = log.clone();
    mocks
        .store
        .expect_finish()
        .returning(move |finished, after| {
            assert_eq!(after, 5);
            keep.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(finished);
            Ok(deactivated)
        });
    let keep = log.clone();
    mocks
        .store
        .expect_finish_delivered()
        .returning(move |delivered| {
            assert!(delivered.iter().all(|f| f.success), "{delivered:?}");
            keep.lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(delivered);
            Ok(())
        });
    log
}

fn body_of(sent: &Sent) -> Value {
    let sent = sent.lock().unwrap_or_else(|e| e.into_inner());
    let first = sent.first().unwrap_or_else(|| panic!("nothing sent"));
    serde_json::from_slice(&first.body).unwrap_or_else(|e| panic!("{e}"))
}

fn quiet_loop(mocks: &mut Mocks, batch: Vec<Claimed>) {
    mocks.store.expect_expand_offline().returning(|_, _| Ok(0));
    mocks.store.expect_prune().returning(|_| Ok(0));
    let mut batch = Some(batch);
    mocks.store.expect_claim_due().returning(move |_, lease| {
        assert_eq!(lease, Duration::from_secs(30));
        Ok(batch.take().unwrap_or_default())
    });
}

mod delivery;
mod payload;
mod rights;
