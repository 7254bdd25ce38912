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

// ---- parsers ----

#[test]
fn new_webhook_reports_every_bad_field() {
    let bad = RawWebhook {
        url: Some("ftp://x".into()),
        events: Some(vec!["nope".into()]),
        secret: Some("short".into()),
        custom_headers: json!({"Host": "x"}).as_object().cloned(),
        room_filters: Some(vec!["not-a-uuid".into()]),
        meta: json!({"a": "x".repeat(17 * 1024)}).as_object().cloned(),
        is_active: None,
    };
    let errors = NewWebhook::parse(bad, "events").err().unwrap_or_default();
    assert_eq!(
        fields(&errors),
        [
            "url",
            "events",
            "secret",
            "custom_headers",
            "room_filters",
            "meta"
        ]
    );
    let missing = NewWebhook::parse(RawWebhook::default(), "subscriptions")
        .err()
        .unwrap_or_default();
    assert_eq!(fields(&missing), ["url", "subscriptions"]);
}

#[test]
fn new_webhook_keeps_valid_input() {
    let room = Uuid::from_u128(0x55);
    let new = NewWebhook::parse(
        RawWebhook {
            room_filters: Some(vec![room.to_string(), room.to_string()]),
            ..raw("https://example.com/h", &["message.created", "room.left"])
        },
        "events",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new.events.names(), ["message.created", "room.left"]);
    assert_eq!(new.room_filters, [room]);
    assert!(new.secret.is_none());
    assert!(new.is_active);
}

#[test]
fn patch_changes_only_fields_present() {
    let patch = WebhookPatch::parse(
        RawWebhook {
            events: Some(vec!["room.created".into()]),
            ..RawWebhook::default()
        },
        "events",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(patch.url.is_none() && patch.secret.is_none() && patch.meta.is_none());
    assert_eq!(patch.events.map(|e| e.names()), Some(vec!["room.created"]));
    assert!(
        WebhookPatch::parse(RawWebhook::default(), "events")
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty()
    );
    let errors = WebhookPatch::parse(
        RawWebhook {
            url: Some("nope".into()),
            events: Some(vec![]),
            ..RawWebhook::default()
        },
        "subscriptions",
    )
    .err()
    .unwrap_or_default();
    assert_eq!(fields(&errors), ["url", "subscriptions"]);
}

// ---- rights and CRUD ----

#[tokio::test]
async fn agents_and_scoped_credentials_are_refused() {
    let mut mocks = Mocks::new();
    mocks.store.expect_list_webhooks().never();
    let webhooks = mocks.webhooks();
    let window = Window::new(0, 10, 100).unwrap_or_else(|e| panic!("{e}"));
    for actor in [
        user(Role::Agent, None),
        user(Role::Agent, Some(Permissions::default())),
    ] {
        assert!(matches!(
            webhooks.list(&actor, window).await,
            Err(AppError::Forbidden(_))
        ));
    }
    assert!(matches!(
        webhooks.list(&Actor::Platform, window).await,
        Err(AppError::Unauthenticated)
    ));
}

#[tokio::test]
async fn administrators_and_the_api_key_list() {
    let mut mocks = Mocks::new();
    mocks
        .store
        .expect_list_webhooks()
        .times(2)
        .returning(|account, _| {
            assert_eq!(account, ACCOUNT);
            Ok(Page {
                items: vec![webhook()],
                total: 1,
            })
        });
    let webhooks = mocks.webhooks();
    let window = Window::new(0, 10, 100).unwrap_or_else(|e| panic!("{e}"));
    for actor in [api_key(), user(Role::Administrator, None)] {
        let page = webhooks
            .list(&actor, window)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.total, 1);
    }
}

#[tokio::test]
async fn create_generates_a_secret_after_checking_the_url() {
    let mut mocks = Mocks::new();
    mocks
        .sender
        .expect_check_destination()
        .times(1)
        .returning(|_| Ok(()));
    mocks
        .store
        .expect_create_webhook()
        .times(1)
        .returning(|account, new| {
            assert_eq!(account, ACCOUNT);
            let secret = new.secret.unwrap_or_else(|| panic!("no secret"));
            assert!(secret.expose().starts_with("whsec_"));
            Ok(Webhook {
                secret,
                ..webhook()
            })
        });
    let new = NewWebhook::parse(raw("https://example.com/h", &["message.created"]), "events")
        .unwrap_or_else(|e| panic!("{e}"));
    let created = mocks
        .webhooks()
        .create(&api_key(), new)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(created.secret.expose().len(), 70);
}

#[tokio::test]
async fn a_private_destination_is_refused_on_url() {
    let mut mocks = Mocks::new();
    mocks.sender.expect_check_destination().returning(|_| {
        Err(FieldError::new(
            "url",
            Problem::Invalid("resolves to a private address".into()),
        ))
    });
    mocks.store.expect_create_webhook().never();
    let new = NewWebhook::parse(raw("http://10.0.0.1/h", &["room.created"]), "events")
        .unwrap_or_else(|e| panic!("{e}"));
    match mocks.webhooks().create(&api_key(), new).await {
        Err(AppError::Invalid(errors)) => assert_eq!(fields(&errors), ["url"]),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn update_rechecks_a_changed_url_only() {
    let mut mocks = Mocks::new();
    mocks
        .store
        .expect_find_webhook()
        .returning(|_, _| Ok(webhook()));
    mocks
        .sender
        .expect_check_destination()
        .times(1)
        .returning(|url| {
            assert_eq!(url.host(), "other.example.com");
            Ok(())
        });
    mocks
        .store
        .expect_update_webhook()
        .times(2)
        .returning(|_, _, _| Ok(webhook()));
    let webhooks = mocks.webhooks();
    let id = WebhookRef::Id(WebhookId(7));
    for url in [
        "https://hooks.example.com/in",
        "https://other.example.com/in",
    ] {
        let patch = WebhookPatch::parse(
            RawWebhook {
                url: Some(url.into()),
                ..RawWebhook::default()
            },
            "url",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        webhooks
            .update(&api_key(), id, patch)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[tokio::test]
async fn another_accounts_webhook_is_not_found() {
    let mut mocks = Mocks::new();
    mocks
        .store
        .expect_find_webhook()
        .returning(|_, _| Err(StoreError::NotFound));
    let result = mocks
        .webhooks()
        .get(&api_key(), WebhookRef::Uuid(Uuid::from_u128(1)))
        .await;
    assert!(matches!(result, Err(AppError::NotFound(Resource::Webhook))));
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

#[test]
fn signature_is_hmac_sha256_of_the_exact_body() {
    // Computed independently (Python: hmac.new(key, body, hashlib.sha256).hexdigest()).
    let secret = WebhookSecret::parse(SECRET).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        signature(&secret, br#"{"id":"evt_1"}"#),
        "sha256=97f6a0ad6a00748584d0b853c57cb89ab530dca2353d5394328ee6e8dbaff256"
    );
}

#[tokio::test]
async fn a_delivery_is_signed_with_its_headers_in_order() {
    let mut mocks = Mocks::new();
    let sent = answer(&mut mocks, Some(204));
    let finished = finished_log(&mut mocks, false);
    quiet_loop(&mut mocks, vec![claimed(event(WebhookEvent::Test), 1)]);
    let delivery = mocks.delivery(RetrySchedule::default());
    assert_eq!(
        delivery.run_once().await.unwrap_or_else(|e| panic!("{e}")),
        1
    );
    let sent = sent.lock().unwrap_or_else(|e| e.into_inner());
    let outgoing = &sent[0];
    let names: Vec<&str> = outgoing.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "X-Token",
            "Content-Type",
            "User-Agent",
            "X-ChatAPI-Event",
            "X-ChatAPI-Delivery",
            "X-ChatAPI-Timestamp",
            "X-ChatAPI-Signature"
        ]
    );
    let header = |name: &str| {
        outgoing
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(header("Content-Type"), "application/json");
    assert_eq!(header("X-ChatAPI-Event"), "webhook.test");
    assert_eq!(
        header("X-ChatAPI-Delivery"),
        Uuid::from_u128(0xD0).to_string()
    );
    assert!(header("X-ChatAPI-Timestamp").parse::<i64>().is_ok());
    assert!(header("User-Agent").starts_with("chat-rooms-webhooks/"));
    let secret = WebhookSecret::parse(SECRET).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        header("X-ChatAPI-Signature"),
        signature(&secret, &outgoing.body)
    );
    let body: Value = serde_json::from_slice(&outgoing.body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        body["id"],
        format!("evt_{}", Uuid::from_u128(0xE0).simple())
    );
    assert_eq!(body["event"], "webhook.test");
    assert_eq!(body["created_at"], "2024-05-06T07:08:09Z");
    assert_eq!(
        body["meta"],
        json!({
            "client_id": CLIENT,
            "webhook_id": Uuid::from_u128(0x77),
            "delivery_id": Uuid::from_u128(0xD0),
            "attempt": 1,
        })
    );
    let finished = finished.lock().unwrap_or_else(|e| e.into_inner());
    assert!(finished[0].success && finished[0].retry_at.is_none());
    assert_eq!(finished[0].status_code, Some(204));
    assert_eq!(delivery.counts().delivered, 1);
}

#[tokio::test]
async fn failures_are_retried_on_the_schedule_then_fail() {
    let mut mocks = Mocks::new();
    let _sent = answer(&mut mocks, Some(500));
    let finished = finished_log(&mut mocks, true);
    quiet_loop(
        &mut mocks,
        vec![
            claimed(event(WebhookEvent::Test), 1),
            claimed(event(WebhookEvent::Test), 2),
        ],
    );
    let delivery = mocks.delivery(RetrySchedule(vec![Duration::from_secs(30)]));
    let before = time::OffsetDateTime::now_utc();
    delivery.run_once().await.unwrap_or_else(|e| panic!("{e}"));
    let mut finished = finished.lock().unwrap_or_else(|e| e.into_inner()).clone();
    finished.sort_by_key(|f| f.attempt);
    assert!(!finished[0].success);
    assert_eq!(finished[0].error.as_deref(), Some("HTTP 500"));
    let retry_at = finished[0].retry_at.unwrap_or_else(|| panic!("no retry"));
    assert!(retry_at >= before + Duration::from_secs(30));
    assert!(retry_at <= time::OffsetDateTime::now_utc() + Duration::from_secs(30));
    assert!(!finished[1].success && finished[1].retry_at.is_none());
    let counts = delivery.counts();
    assert_eq!((counts.retry, counts.failed, counts.delivered), (1, 1, 0));
}

#[tokio::test]
async fn a_sender_error_is_recorded_as_the_attempts_error() {
    let mut mocks = Mocks::new();
    mocks.sender.expect_post().returning(|_| Response {
        status: None,
        duration: Duration::from_secs(10),
        error: Some("timed out".into()),
    });
    let finished = finished_log(&mut mocks, false);
    quiet_loop(&mut mocks, vec![claimed(event(WebhookEvent::Test), 1)]);
    mocks
        .delivery(RetrySchedule::default())
        .run_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let finished = finished.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(finished[0].error.as_deref(), Some("timed out"));
    assert_eq!(finished[0].duration_ms, 10_000);
    assert_eq!(finished[0].status_code, None);
}

async fn data_for(mut mocks: Mocks, event: StoredEvent) -> Value {
    let sent = answer(&mut mocks, Some(200));
    let _finished = finished_log(&mut mocks, false);
    quiet_loop(&mut mocks, vec![claimed(event, 1)]);
    mocks
        .delivery(RetrySchedule::default())
        .run_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    body_of(&sent)["data"].clone()
}

fn with_message(mocks: &mut Mocks) {
    mocks
        .messages
        .expect_find_message()
        .returning(|_, _| Ok(message()));
    mocks
        .messages
        .expect_positions()
        .returning(|_, _| Ok(vec![]));
    mocks.rooms.expect_find_room().returning(|_, _| Ok(room()));
    mocks
        .users
        .expect_find_users()
        .returning(|_, ids| Ok(ids.into_iter().map(|id| person(id.0)).collect()));
}

#[tokio::test]
async fn message_events_carry_the_rendered_message_with_the_client_id() {
    let mut mocks = Mocks::new();
    with_message(&mut mocks);
    let data = data_for(
        mocks,
        StoredEvent {
            message: Some(MessageId(9)),
            room: Some(RoomId(5)),
            ..event(WebhookEvent::MessageCreated)
        },
    )
    .await;
    assert_eq!(
        data,
        json!({"id": Uuid::from_u128(0x99), "seq": 4, "client_id": CLIENT})
    );
}

#[tokio::test]
async fn a_message_gone_is_sent_from_the_snapshot_or_its_id() {
    let mut mocks = Mocks::new();
    mocks
        .messages
        .expect_find_message()
        .returning(|_, _| Err(StoreError::NotFound));
    let data = data_for(
        mocks,
        StoredEvent {
            message: Some(MessageId(9)),
            ..event(WebhookEvent::MessageDeleted)
        },
    )
    .await;
    assert_eq!(data, json!({"id": 9}));
}

#[tokio::test]
async fn room_events_carry_the_room_and_deleted_rooms_their_snapshot() {
    let mut mocks = Mocks::new();
    mocks.rooms.expect_find_room().returning(|_, _| Ok(room()));
    let data = data_for(
        mocks,
        StoredEvent {
            room: Some(RoomId(5)),
            ..event(WebhookEvent::RoomUpdated)
        },
    )
    .await;
    assert_eq!(data["name"], "General");
    assert_eq!(data["client_id"], json!(CLIENT));

    let mut mocks = Mocks::new();
    mocks.rooms.expect_find_room().never();
    let snapshot = json!({"id": Uuid::from_u128(0x55), "name": "General"});
    let data = data_for(
        mocks,
        StoredEvent {
            room: Some(RoomId(5)),
            data: Some(snapshot.clone()),
            ..event(WebhookEvent::RoomDeleted)
        },
    )
    .await;
    assert_eq!(data, snapshot);
}

#[tokio::test]
async fn joined_read_and_unread_offline_shapes() {
    let mut mocks = Mocks::new();
    with_message(&mut mocks);
    let joined = data_for(
        mocks,
        StoredEvent {
            room: Some(RoomId(5)),
            user: Some(UserId(12)),
            ..event(WebhookEvent::RoomJoined)
        },
    )
    .await;
    assert_eq!(
        joined,
        json!({"room_id": Uuid::from_u128(0x55), "user_id": "u12", "user_name": "Ada"})
    );

    let mut mocks = Mocks::new();
    with_message(&mut mocks);
    let read = data_for(
        mocks,
        StoredEvent {
            room: Some(RoomId(5)),
            user: Some(UserId(12)),
            message: Some(MessageId(9)),
            data: Some(json!({"seq": 4})),
            ..event(WebhookEvent::MessageRead)
        },
    )
    .await;
    assert_eq!(
        read,
        json!({
            "room_id": Uuid::from_u128(0x55),
            "user_id": "u12",
            "last_read_message_id": Uuid::from_u128(0x99),
            "seq": 4,
        })
    );

    let mut mocks = Mocks::new();
    with_message(&mut mocks);
    let offline = data_for(
        mocks,
        StoredEvent {
            room: Some(RoomId(5)),
            user: Some(UserId(12)),
            message: Some(MessageId(9)),
            ..event(WebhookEvent::MessageUnreadOffline)
        },
    )
    .await;
    assert_eq!(
        offline,
        json!({
            "room_id": Uuid::from_u128(0x55),
            "user_id": "u12",
            "user_name": "Ada",
            "message": {"id": Uuid::from_u128(0x99), "seq": 4, "client_id": CLIENT},
        })
    );
}

#[tokio::test]
async fn test_delivers_now_and_answers_the_attempt() {
    let mut mocks = Mocks::new();
    mocks
        .store
        .expect_record_test()
        .times(1)
        .returning(|account, id| {
            assert_eq!(account, ACCOUNT);
            assert_eq!(id, WebhookRef::Uuid(Uuid::from_u128(0x77)));
            Ok(claimed(event(WebhookEvent::Test), 1))
        });
    let sent = answer(&mut mocks, Some(200));
    let _finished = finished_log(&mut mocks, false);
    let attempt = mocks
        .webhooks()
        .test(&api_key(), WebhookRef::Uuid(Uuid::from_u128(0x77)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(attempt.event, "webhook.test");
    assert_eq!(attempt.status_code, Some(200));
    assert_eq!(attempt.attempt, 1);
    assert_eq!(attempt.error, None);
    assert_eq!(attempt.delivery_uuid, Uuid::from_u128(0xD0));
    assert_eq!(
        body_of(&sent)["data"]["webhook_id"],
        json!(Uuid::from_u128(0x77))
    );
}

#[tokio::test]
async fn the_test_is_refused_to_agents() {
    let mut mocks = Mocks::new();
    mocks.store.expect_record_test().never();
    let result = mocks
        .webhooks()
        .test(&user(Role::Agent, None), WebhookRef::Id(WebhookId(7)))
        .await;
    assert!(matches!(result, Err(AppError::Forbidden(_))));
}
