//! Typing, slow sockets, room deletion, user streams, delivered positions,
//! unsubscription, and bugs found.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chat_app::{
    DomainEvent, EventPublisher, LiveEvent, MemberEvent, Notice, RelayInbox, RoomEvent,
};
use chat_domain::{MemberMeta, Seq, UserId};
use chat_realtime::HubConfig;
use tokio::time::{Instant, sleep, timeout};
use uuid::Uuid;

use crate::harness::*;

// ---------------------------------------------------------------- 6. typing

#[tokio::test]
async fn typing_reaches_every_socket_of_the_room_but_the_typists() {
    let tables = Arc::new(Tables::default());
    let h = start(config(), tables);
    let mut typist = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("alice")).await;
    let mut typist_stream = subscribe(&h.hub, user_scope(10, &[ROOM]), Some("alice")).await;
    let mut bob = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("bob")).await;
    let mut bob_stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("bob")).await;
    let mut anonymous = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), None).await;
    let mut elsewhere = subscribe(&h.hub, room_scope(ACCOUNT, ROOM_B), Some("carol")).await;

    let event = typing(ROOM, "alice", 10);
    h.hub.publish_live(LiveEvent::Typing(event.clone()));

    let expected = bare(LiveEvent::Typing(event.clone()));
    assert_eq!(next(&mut bob).await, expected);
    assert_eq!(next(&mut bob_stream).await, expected);
    assert_eq!(next(&mut anonymous).await, expected);
    quiet(&mut typist).await;
    quiet(&mut typist_stream).await;
    quiet(&mut elsewhere).await;
    assert_eq!(h.relay.notices(), vec![Notice::Typing(event)]);

    // The same from another node.
    let event = typing(ROOM, "bob", 20);
    h.hub.received(Notice::Typing(event.clone()));
    let expected = bare(LiveEvent::Typing(event));
    assert_eq!(next(&mut typist).await, expected);
    assert_eq!(next(&mut typist_stream).await, expected);
    assert_eq!(next(&mut anonymous).await, expected);
    quiet(&mut bob).await;
    quiet(&mut bob_stream).await;
    quiet(&mut elsewhere).await;
    assert_eq!(h.relay.notices().len(), 1, "not relayed back");
}

// ---------------------------------------------------------------- 7. slow sockets

#[tokio::test]
async fn a_socket_that_does_not_drain_its_queue_is_dropped_and_the_others_go_on() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(
        HubConfig {
            queue_capacity: 2,
            ..config()
        },
        tables,
    );
    let mut slow = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut fast = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("20")).await;

    let mut sent = Vec::new();
    for seq in 4..=8 {
        let m = h.tables.commit(message(ACCOUNT, ROOM, seq, 10));
        h.hub.publish(created(&m));
        assert_eq!(next(&mut fast).await, created_delivery(&m));
        sent.push(m);
    }
    quiet(&mut fast).await;
    assert!(!fast.state.was_too_slow());

    assert_eq!(next(&mut slow).await, created_delivery(&sent[0]));
    assert_eq!(next(&mut slow).await, created_delivery(&sent[1]));
    closed(&mut slow).await;
    assert!(slow.state.was_too_slow());

    // The room goes on for the one left.
    let m9 = h.tables.commit(message(ACCOUNT, ROOM, 9, 10));
    h.hub.publish(created(&m9));
    assert_eq!(next(&mut fast).await, created_delivery(&m9));
}

// ---------------------------------------------------------------- 8. room deleted

#[tokio::test]
async fn a_deleted_room_closes_its_sockets_and_leaves_user_streams_in_their_other_rooms() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 1);
    let h = start(config(), tables);
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("20")).await;
    let mut other = subscribe(&h.hub, room_scope(ACCOUNT, ROOM_B), Some("10")).await;

    let deleted = DomainEvent::Room(RoomEvent::Deleted {
        account: ACCOUNT,
        id: ROOM,
        uuid: Uuid::from_u128(ROOM.0 as u128),
    });
    h.hub.publish(deleted.clone());
    let expected = bare(LiveEvent::Domain(deleted));

    assert_eq!(next(&mut socket).await, expected);
    closed(&mut socket).await;
    assert!(!socket.state.was_too_slow());

    assert_eq!(next(&mut stream).await, expected);
    quiet(&mut other).await;

    // The stream stays in its other room, and hears nothing more of the deleted one.
    let b2 = h.tables.commit(message(ACCOUNT, ROOM_B, 2, 10));
    h.hub.publish(created(&b2));
    assert_eq!(next(&mut stream).await, created_delivery_full(&b2));
    assert_eq!(next(&mut other).await, created_delivery_full(&b2));
    h.hub
        .publish(DomainEvent::Room(RoomEvent::Updated(room(ACCOUNT, ROOM))));
    quiet(&mut stream).await;
    assert!(!stream.state.was_too_slow());
}

// ---------------------------------------------------------------- 9. user streams

#[tokio::test]
async fn a_user_stream_follows_its_user_into_a_joined_room_and_out_of_a_left_one() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 2);
    tables.fill(ACCOUNT, ROOM_C, 1);
    let h = start(config(), tables);
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM]), Some("20")).await;
    assert_eq!(stream.start, HashMap::from([(ROOM, Seq(3))]));

    // Somebody else joining another room does not concern the stream.
    h.hub.publish(DomainEvent::Member(MemberEvent::Joined {
        room: room(ACCOUNT, ROOM_C),
        user: user(ACCOUNT, 30),
        joined_at: when(),
        meta: MemberMeta::default(),
    }));
    let c2 = h.tables.commit(message(ACCOUNT, ROOM_C, 2, 30));
    h.hub.publish(created(&c2));
    quiet(&mut stream).await;

    // The user joins ROOM_B: the stream hears it and that room's messages.
    let reads = h.tables.list_count();
    let joined = DomainEvent::Member(MemberEvent::Joined {
        room: room(ACCOUNT, ROOM_B),
        user: user(ACCOUNT, 20),
        joined_at: when(),
        meta: MemberMeta::default(),
    });
    h.hub.publish(joined.clone());
    assert_eq!(next(&mut stream).await, bare(LiveEvent::Domain(joined)));
    let lists = h.tables.lists();
    assert!(
        lists[reads..].iter().any(|c| c.is_newest(ACCOUNT, ROOM_B)),
        "where ROOM_B stands is read: {lists:?}"
    );

    let b3 = h.tables.commit(message(ACCOUNT, ROOM_B, 3, 10));
    h.hub.publish(created(&b3));
    assert_eq!(next(&mut stream).await, created_delivery_full(&b3));

    // The user leaves ROOM_B: the stream hears it, then nothing more of that room.
    let left = DomainEvent::Member(MemberEvent::Left {
        room: room(ACCOUNT, ROOM_B),
        user: user(ACCOUNT, 20),
        left_at: when(),
    });
    h.hub.publish(left.clone());
    assert_eq!(next(&mut stream).await, bare(LiveEvent::Domain(left)));
    let b4 = h.tables.commit(message(ACCOUNT, ROOM_B, 4, 10));
    h.hub.publish(created(&b4));
    quiet(&mut stream).await;

    // Its first room still reaches it.
    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    h.hub.publish(created(&m4));
    assert_eq!(next(&mut stream).await, created_delivery_full(&m4));
}

// ---------------------------------------------------------------- 10. delivered

#[tokio::test(start_paused = true)]
async fn delivered_positions_are_written_in_batches_one_per_room_and_user() {
    let tables = Arc::new(Tables::default());
    let h = start(config(), tables);

    let began = Instant::now();
    h.hub.delivered(ACCOUNT, ROOM, UserId(10), Seq(3));
    h.hub.delivered(ACCOUNT, ROOM, UserId(10), Seq(5));
    h.hub.delivered(ACCOUNT, ROOM, UserId(10), Seq(4));
    h.hub.delivered(ACCOUNT, ROOM_B, UserId(10), Seq(2));
    h.hub.delivered(ACCOUNT, ROOM, UserId(20), Seq(1));
    let marks = wait_for_marks(&h.tables, 3).await;
    assert!(began.elapsed() <= FLUSH * 2, "{:?}", began.elapsed());
    assert_eq!(
        marks,
        vec![
            (ACCOUNT, ROOM, UserId(10), Seq(5)),
            (ACCOUNT, ROOM, UserId(20), Seq(1)),
            (ACCOUNT, ROOM_B, UserId(10), Seq(2)),
        ]
    );

    // A later note is written in the next batch, alone.
    sleep(FLUSH / 2).await;
    let began = Instant::now();
    h.hub.delivered(ACCOUNT, ROOM, UserId(10), Seq(6));
    h.hub.delivered(ACCOUNT, ROOM, UserId(10), Seq(7));
    let marks = wait_for_marks(&h.tables, 4).await;
    assert!(began.elapsed() <= FLUSH * 2, "{:?}", began.elapsed());
    assert!(
        marks.contains(&(ACCOUNT, ROOM, UserId(10), Seq(7))),
        "{marks:?}"
    );

    // Nothing is written twice.
    sleep(FLUSH * 5).await;
    assert_eq!(h.tables.marks().len(), 4, "{:?}", h.tables.marks());
}

async fn wait_for_marks(tables: &Tables, count: usize) -> Vec<Mark> {
    timeout(WAIT, async {
        loop {
            let marks = tables.marks();
            if marks.len() >= count {
                return marks;
            }
            sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("delivered positions written in time")
}

// ---------------------------------------------------------------- 11. unsubscribe

#[tokio::test]
async fn unsubscribe_closes_the_queue_and_stops_deliveries() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(config(), tables);
    let mut leaving = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut staying = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("20")).await;

    h.hub.unsubscribe(leaving.id);
    closed(&mut leaving).await;

    let m4 = h.tables.commit(message(ACCOUNT, ROOM, 4, 10));
    h.hub.publish(created(&m4));
    assert_eq!(next(&mut staying).await, created_delivery(&m4));
    assert!(!leaving.state.was_too_slow());

    // With its last socket gone the room is forgotten: the next subscriber reads where
    // it stands again.
    h.hub.unsubscribe(staying.id);
    closed(&mut staying).await;
    h.tables.commit(message(ACCOUNT, ROOM, 5, 10));
    h.tables.commit(message(ACCOUNT, ROOM, 6, 10));
    let reads = h.tables.list_count();
    let again = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    assert_eq!(again.start, HashMap::from([(ROOM, Seq(6))]));
    assert_eq!(h.tables.list_count(), reads + 1);

    // Unsubscribing twice (or an unknown id) is harmless.
    h.hub.unsubscribe(staying.id);
    h.hub.unsubscribe(Uuid::new_v4());
    let again = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("30")).await;
    assert_eq!(again.start[&ROOM], Seq(6));
}

// ---------------------------------------------------------------- found bugs

/// A room whose only socket is dropped while a message is fanned out (too slow, or its
/// receiver gone) keeps its `last_seq`: the next subscriber gets a stale `start` and
/// the messages committed meanwhile are neither replayed nor delivered live.
#[tokio::test]
async fn a_room_whose_last_socket_was_dropped_is_read_again_by_the_next_subscriber() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    let h = start(
        HubConfig {
            queue_capacity: 2,
            ..config()
        },
        tables,
    );
    let mut slow = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    for seq in 4..=6 {
        let m = h.tables.commit(message(ACCOUNT, ROOM, seq, 10));
        h.hub.publish(created(&m));
    }
    assert_eq!(
        next(&mut slow).await.event,
        LiveEvent::Domain(created(&message(ACCOUNT, ROOM, 4, 10)))
    );
    assert_eq!(
        next(&mut slow).await.event,
        LiveEvent::Domain(created(&message(ACCOUNT, ROOM, 5, 10)))
    );
    closed(&mut slow).await;
    assert!(slow.state.was_too_slow());

    // Another node commits 7 and 8 while nobody here listens to the room.
    h.tables.commit(message(ACCOUNT, ROOM, 7, 10));
    h.tables.commit(message(ACCOUNT, ROOM, 8, 10));
    h.hub.received(Notice::MessageCreated {
        account: ACCOUNT,
        room: ROOM,
        seq: Seq(8),
        message: None,
    });

    let reads = h.tables.list_count();
    let mut next_socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("20")).await;
    assert_eq!(
        next_socket.start[&ROOM],
        Seq(8),
        "the store's newest seq (reads since: {:?})",
        &h.tables.lists()[reads..]
    );
    quiet(&mut next_socket).await;
}
