//! Subscriptions, fan-out, ordering with gap reads, notices from other nodes, resync.

use std::collections::HashMap;
use std::sync::Arc;

use chat_app::ports::MockMessageStore;
use chat_app::{DomainEvent, EventPublisher, LiveEvent, MessageEvent, Notice, RelayInbox};
use chat_domain::{Message, Seq, UserId};

use crate::harness::*;

// ---------------------------------------------------------------- 1. subscribe

#[tokio::test]
async fn subscribe_starts_at_the_newest_seq_and_reads_it_once_per_room() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(config(), tables);

    let first = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    assert_eq!(first.start, HashMap::from([(ROOM, Seq(3))]));
    assert_eq!(
        h.tables.lists(),
        vec![ListCall {
            account: ACCOUNT,
            room: ROOM,
            filter: newest_filter(),
        }],
        "the newest message, deleted ones included, one of them"
    );

    let second = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("20")).await;
    assert_eq!(second.start, HashMap::from([(ROOM, Seq(3))]));
    assert_eq!(
        h.tables.list_count(),
        1,
        "the second subscriber reads nothing"
    );

    // A user's stream reads only the room nobody listened to yet (an empty one: 0).
    let stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("20")).await;
    assert_eq!(
        stream.start,
        HashMap::from([(ROOM, Seq(3)), (ROOM_B, Seq(0))])
    );
    let lists = h.tables.lists();
    assert_eq!(lists.len(), 2);
    assert!(lists[1].is_newest(ACCOUNT, ROOM_B), "{:?}", lists[1]);
    assert_ne!(first.id, second.id);
}

// ---------------------------------------------------------------- 2. fan-out

#[tokio::test]
async fn a_new_message_reaches_every_socket_of_its_room_and_no_other() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 1);
    let h = start(config(), tables);

    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("20")).await;
    let mut other_room = subscribe(&h.hub, room_scope(ACCOUNT, ROOM_B), Some("10")).await;
    let mut other_account = subscribe(&h.hub, room_scope(OTHER_ACCOUNT, ROOM), Some("10")).await;
    assert_eq!(socket.start[&ROOM], Seq(3));
    assert_eq!(other_account.start[&ROOM], Seq(0));
    let reads = h.tables.list_count();

    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    h.hub.publish(created(&m4));

    let expected = created_delivery_full(&m4);
    assert_eq!(
        expected.context.sender.as_ref().map(|u| u.id),
        Some(UserId(10))
    );
    assert_eq!(next(&mut socket).await, expected);
    assert_eq!(next(&mut stream).await, expected);
    quiet(&mut other_room).await;
    quiet(&mut other_account).await;
    quiet(&mut socket).await;
    quiet(&mut stream).await;

    assert_eq!(
        h.relay.notices(),
        vec![Notice::MessageCreated {
            account: ACCOUNT,
            room: ROOM,
            seq: Seq(4),
            message: Some(Box::new(m4.clone())),
        }],
        "the new message travels whole"
    );
    assert_eq!(
        h.tables.list_count(),
        reads,
        "the next message in order is delivered as published, without a read"
    );
}

// ---------------------------------------------------------------- 3. ordering, gaps

#[tokio::test]
async fn a_message_ahead_of_a_gap_reads_the_gap_and_delivers_each_message_once_in_order() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(config(), tables);
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let start = socket.start[&ROOM];
    assert_eq!(start, Seq(3));

    // Two sends commit 4 and 5; their events are published out of order.
    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    let m5 = h.tables.commit(message(ACCOUNT, ROOM, 5, 20));
    let reads = h.tables.list_count();
    h.hub.publish(created(&m5));

    assert_eq!(next(&mut socket).await, created_delivery(&m4));
    assert_eq!(next(&mut socket).await, created_delivery(&m5));
    let lists = h.tables.lists();
    assert_eq!(lists.len(), reads + 1, "one read of the gap: {lists:?}");
    assert!(
        lists[reads].is_range(ACCOUNT, ROOM, start, Some(Seq(5))),
        "after_seq = start, before_seq = start + 3, oldest first: {:?}",
        lists[reads]
    );

    // The late event of 4 is a duplicate now.
    h.hub.publish(created(&m4));
    quiet(&mut socket).await;

    // And the sequence goes on from 5.
    let m6 = h.tables.commit(message(ACCOUNT, ROOM, 6, 10));
    h.hub.publish(created(&m6));
    assert_eq!(next(&mut socket).await, created_delivery(&m6));
    quiet(&mut socket).await;
    assert_eq!(h.tables.list_count(), reads + 1);
}

// ---------------------------------------------------------------- 4. notices

#[tokio::test]
async fn a_notice_from_another_node_reads_the_messages_and_delivers_them_in_order() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 2);
    tables.fill(OTHER_ACCOUNT, ROOM, 2);
    // Only ACCOUNT's ROOM may be read: nobody here listens to the others.
    let mut messages = MockMessageStore::new();
    messages
        .expect_list_messages()
        .withf(|account, room, _| (*account, *room) != (ACCOUNT, ROOM))
        .never();
    let h = start_with(config(), tables, messages, |account, room| {
        (account, room) == (ACCOUNT, ROOM)
    });
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    assert_eq!(socket.start[&ROOM], Seq(3));
    let reads = h.tables.list_count();

    // Another node committed 4 and 5 and says so once.
    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    let m5 = h.tables.commit(message(ACCOUNT, ROOM, 5, 20));
    h.hub.received(Notice::MessageCreated {
        account: ACCOUNT,
        room: ROOM,
        seq: Seq(5),
        message: None,
    });
    assert_eq!(next(&mut socket).await, created_delivery(&m4));
    assert_eq!(next(&mut socket).await, created_delivery(&m5));
    let lists = h.tables.lists();
    assert_eq!(lists.len(), reads + 1, "{lists:?}");
    assert!(
        lists[reads].is_range(ACCOUNT, ROOM, Seq(3), Some(Seq(5))),
        "{:?}",
        lists[reads]
    );

    // The same notice again: delivered already, nothing read.
    h.hub.received(Notice::MessageCreated {
        account: ACCOUNT,
        room: ROOM,
        seq: Seq(5),
        message: None,
    });
    // Rooms nobody here listens to (another room; the same id in another account).
    h.hub.received(Notice::MessageCreated {
        account: ACCOUNT,
        room: ROOM_B,
        seq: Seq(2),
        message: None,
    });
    h.hub.received(Notice::MessageCreated {
        account: OTHER_ACCOUNT,
        room: ROOM,
        seq: Seq(2),
        message: None,
    });
    quiet(&mut socket).await;

    // The dispatcher is alive (a read the mock refuses would have killed it).
    let m6 = h.tables.commit(message(ACCOUNT, ROOM, 6, 10));
    h.hub.publish(created(&m6));
    assert_eq!(next(&mut socket).await, created_delivery(&m6));
    assert_eq!(h.tables.list_count(), reads + 1, "{:?}", h.tables.lists());
    assert_eq!(
        h.relay.notices(),
        vec![Notice::MessageCreated {
            account: ACCOUNT,
            room: ROOM,
            seq: Seq(6),
            message: Some(Box::new(m6.clone())),
        }],
        "what other nodes said is not relayed back"
    );
}

#[tokio::test]
async fn a_notice_carrying_the_next_message_delivers_it_without_a_read() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(config(), tables);
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    assert_eq!(socket.start[&ROOM], Seq(3));
    let reads = h.tables.list_count();
    let carrying = |m: &Message| Notice::MessageCreated {
        account: ACCOUNT,
        room: ROOM,
        seq: m.seq,
        message: Some(Box::new(m.clone())),
    };

    // The next one, whole: delivered as it came.
    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    h.hub.received(carrying(&m4));
    assert_eq!(next(&mut socket).await, created_delivery(&m4));
    assert_eq!(h.tables.list_count(), reads, "{:?}", h.tables.lists());

    // One past a gap (5's notice is late): the gap is read, each delivered once.
    let m5 = h.tables.commit(message(ACCOUNT, ROOM, 5, 20));
    let m6 = h.tables.commit(message(ACCOUNT, ROOM, 6, 10));
    h.hub.received(carrying(&m6));
    assert_eq!(next(&mut socket).await, created_delivery(&m5));
    assert_eq!(next(&mut socket).await, created_delivery(&m6));
    let lists = h.tables.lists();
    assert_eq!(lists.len(), reads + 1, "{lists:?}");
    assert!(
        lists[reads].is_range(ACCOUNT, ROOM, Seq(4), Some(Seq(6))),
        "{:?}",
        lists[reads]
    );
    h.hub.received(carrying(&m5));
    quiet(&mut socket).await;
    assert_eq!(h.tables.list_count(), reads + 1);
}

// ---------------------------------------------------------------- 5. resync

#[tokio::test]
async fn resync_reads_every_listened_room_after_its_last_delivered_seq() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 1);
    let h = start(config(), tables);
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("20")).await;

    // One delivered normally, so the last delivered seq is not the start.
    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    h.hub.publish(created(&m4));
    assert_eq!(next(&mut socket).await, created_delivery_full(&m4));
    assert_eq!(next(&mut stream).await, created_delivery_full(&m4));

    // Notices lost while the relay reconnected.
    let m5 = h.tables.commit(message(ACCOUNT, ROOM, 5, 20));
    let m6 = h.tables.commit(message(ACCOUNT, ROOM, 6, 10));
    let b2 = h.tables.commit(message(ACCOUNT, ROOM_B, 2, 10));
    let reads = h.tables.list_count();
    h.hub.resync();

    assert_eq!(next(&mut socket).await, created_delivery_full(&m5));
    assert_eq!(next(&mut socket).await, created_delivery_full(&m6));
    let mut got = vec![
        next(&mut stream).await,
        next(&mut stream).await,
        next(&mut stream).await,
    ];
    // Rooms are resynced in any order; each room's messages in order.
    got.sort_by_key(|d| match &d.event {
        LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(m))) => (m.room_id, m.seq),
        other => panic!("unexpected {other:?}"),
    });
    assert_eq!(
        got,
        vec![
            created_delivery_full(&m5),
            created_delivery_full(&m6),
            created_delivery_full(&b2)
        ]
    );
    quiet(&mut socket).await;
    quiet(&mut stream).await;

    let lists = h.tables.lists()[reads..].to_vec();
    assert!(
        lists
            .iter()
            .any(|c| c.is_range(ACCOUNT, ROOM, Seq(4), None)),
        "ROOM read after 4: {lists:?}"
    );
    assert!(
        lists
            .iter()
            .any(|c| c.is_range(ACCOUNT, ROOM_B, Seq(1), None)),
        "ROOM_B read after 1: {lists:?}"
    );

    // Nothing new: a resync reads again and delivers nothing.
    let reads = h.tables.list_count();
    h.hub.resync();
    quiet(&mut socket).await;
    quiet(&mut stream).await;
    let lists = h.tables.lists()[reads..].to_vec();
    assert!(
        lists
            .iter()
            .any(|c| c.is_range(ACCOUNT, ROOM, Seq(6), None)),
        "{lists:?}"
    );
    assert!(
        lists
            .iter()
            .any(|c| c.is_range(ACCOUNT, ROOM_B, Seq(2), None)),
        "{lists:?}"
    );
}
