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

/// Message 9 of room 5, read with the claim's messages or alone (`message.read` reads
/// the last read message alone).
fn with_message(mocks: &mut Mocks) {
    mocks
        .messages
        .expect_find_messages()
        .returning(|_, _| Ok(vec![message()]));
    mocks
        .messages
        .expect_find_message()
        .returning(|_, _| Ok(message()));
    mocks
        .messages
        .expect_positions()
        .returning(|_, _| Ok(vec![]));
    mocks
        .rooms
        .expect_find_rooms()
        .returning(|_, _| Ok(vec![room()]));
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

/// A message the claim's load did not find is gone: sent from the snapshot or as its id,
/// without being looked for again one by one.
#[tokio::test]
async fn a_message_gone_is_sent_from_the_snapshot_or_its_id() {
    let mut mocks = Mocks::new();
    mocks
        .messages
        .expect_find_messages()
        .times(1)
        .returning(|_, _| Ok(Vec::new()));
    mocks.messages.expect_find_message().never();
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

/// When the claim's load fails, each delivery loads its message alone (here: found, then
/// rendered with its room).
#[tokio::test]
async fn a_claim_whose_load_failed_loads_each_message_alone() {
    let mut mocks = Mocks::new();
    mocks
        .messages
        .expect_find_messages()
        .times(1)
        .returning(|_, _| Err(StoreError::Unavailable(anyhow::anyhow!("down"))));
    mocks
        .messages
        .expect_find_message()
        .times(1)
        .returning(|_, _| Ok(message()));
    mocks
        .rooms
        .expect_find_room()
        .times(1)
        .returning(|_, _| Ok(room()));
    let data = data_for(
        mocks,
        StoredEvent {
            message: Some(MessageId(9)),
            room: Some(RoomId(5)),
            ..event(WebhookEvent::MessageCreated)
        },
    )
    .await;
    assert_eq!(data["id"], json!(message().uuid));
    assert_eq!(data["client_id"], json!(CLIENT));
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

/// The messages of a claim's message events are read once for the whole claim: one query
/// for the messages, one for their rooms (the ChatAPI rendering needs neither the senders'
/// profiles nor the statuses); each delivery carries its own message.
#[tokio::test]
async fn a_claims_messages_are_read_together() {
    let mut mocks = Mocks::new();
    let second = Message {
        id: MessageId(10),
        uuid: Uuid::from_u128(0x1010),
        seq: Seq(5),
        ..message()
    };
    let both = vec![message(), second];
    mocks
        .messages
        .expect_find_messages()
        .withf(|account, ids| *account == ACCOUNT && ids == &[MessageId(9), MessageId(10)])
        .times(1)
        .returning(move |_, _| Ok(both.clone()));
    mocks.messages.expect_find_message().never();
    mocks.messages.expect_positions().never();
    mocks
        .rooms
        .expect_find_rooms()
        .times(1)
        .returning(|_, _| Ok(vec![room()]));
    mocks.users.expect_find_users().never();
    let sent = answer(&mut mocks, Some(200));
    let _finished = finished_log(&mut mocks, false);
    let of = |message: i64| StoredEvent {
        message: Some(MessageId(message)),
        room: Some(RoomId(5)),
        ..event(WebhookEvent::MessageCreated)
    };
    quiet_loop(
        &mut mocks,
        vec![claimed(of(10), 1), claimed(of(9), 1), claimed(of(10), 2)],
    );
    let attempted = mocks
        .delivery(RetrySchedule::default())
        .run_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(attempted, 3);
    let sent = sent.lock().unwrap_or_else(|e| e.into_inner());
    let mut seqs: Vec<Value> = sent
        .iter()
        .map(|post| {
            let body: Value = serde_json::from_slice(&post.body).unwrap_or_else(|e| panic!("{e}"));
            body["data"]["seq"].clone()
        })
        .collect();
    seqs.sort_by_key(|seq| seq.as_i64());
    assert_eq!(seqs, [json!(4), json!(5), json!(5)]);
}
