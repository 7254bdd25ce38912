//! What each event's `data` holds.

use super::*;

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
