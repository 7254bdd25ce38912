//! Conversations on sockets: pins and reactions reach both kinds of socket of their room
//! (room sockets, and the streams of its members), here and from other nodes; joins and
//! leaves carry when they happened (and a join its meta) across nodes.

use std::sync::Arc;

use chat_app::{
    Context, Delivery, DomainEvent, EventPublisher, LiveEvent, MemberEvent, MembershipChange,
    MessageChange, MessageEvent, Notice, RelayInbox,
};
use chat_domain::{Emoji, MemberMeta, Message, Person, Pin, Reaction, Sender, UserId};
use serde_json::json;
use time::macros::datetime;

use crate::harness::*;

fn pinned(message: Message) -> Message {
    Message {
        pin: Some(Pin {
            pinned_at: datetime!(2024-05-06 7:08 UTC),
            pinned_by: Sender::User {
                id: UserId(20),
                label: "20".to_owned(),
            },
        }),
        ..message
    }
}

fn thumbs_up() -> Emoji {
    Emoji::parse("👍").expect("an emoji")
}

fn reactor() -> Person {
    Person {
        id: UserId(20),
        label: "20".to_owned(),
    }
}

fn reacted(message: Message) -> Message {
    Message {
        reactions: [Reaction {
            emoji: thumbs_up(),
            users: vec![reactor()],
        }]
        .into_iter()
        .collect(),
        ..message
    }
}

/// What both kinds of socket receive for a change to a message a user's stream listens
/// to: the message with its room's name and sender (the account dialect shows them).
fn full(event: MessageEvent, message: &Message) -> Delivery {
    Delivery::new(
        LiveEvent::Domain(DomainEvent::Message(event)),
        Context {
            room_name: Some(room_name(message.room_id)),
            sender: message
                .sender
                .user_id()
                .map(|id| user(message.account_id, id.0)),
            ..Context::default()
        },
    )
}

fn reaction_event(message: &Message, added: bool) -> MessageEvent {
    MessageEvent::Reacted {
        message: message.clone(),
        emoji: thumbs_up(),
        user: reactor(),
        added,
    }
}

#[tokio::test]
async fn pins_and_reactions_reach_the_room_sockets_and_member_streams_of_their_room_only() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 1);
    let h = start(config(), tables);
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM, ROOM_B]), Some("20")).await;
    let mut other_room = subscribe(&h.hub, room_scope(ACCOUNT, ROOM_B), Some("10")).await;
    let mut other_account = subscribe(&h.hub, room_scope(OTHER_ACCOUNT, ROOM), Some("10")).await;

    let message = h.tables.update(pinned(message(ACCOUNT, ROOM, 2, 10)));
    h.hub
        .publish(DomainEvent::Message(MessageEvent::Pinned(message.clone())));
    let expected = full(MessageEvent::Pinned(message.clone()), &message);
    assert_eq!(next(&mut socket).await, expected);
    assert_eq!(next(&mut stream).await, expected);

    let message = h.tables.update(Message {
        pin: None,
        ..message
    });
    h.hub.publish(DomainEvent::Message(MessageEvent::Unpinned(
        message.clone(),
    )));
    let expected = full(MessageEvent::Unpinned(message.clone()), &message);
    assert_eq!(next(&mut socket).await, expected);
    assert_eq!(next(&mut stream).await, expected);

    // A reaction renders ids only: no context is read for it.
    let message = h.tables.update(reacted(message));
    let reads = h.tables.list_count();
    for added in [true, false] {
        h.hub
            .publish(DomainEvent::Message(reaction_event(&message, added)));
        let expected = bare(LiveEvent::Domain(DomainEvent::Message(reaction_event(
            &message, added,
        ))));
        assert_eq!(next(&mut socket).await, expected);
        assert_eq!(next(&mut stream).await, expected);
    }
    assert_eq!(h.tables.list_count(), reads);

    quiet(&mut other_room).await;
    quiet(&mut other_account).await;
    quiet(&mut socket).await;
    quiet(&mut stream).await;
    assert_eq!(
        h.relay.notices(),
        vec![
            Notice::MessageChanged {
                account: ACCOUNT,
                message: message.id,
                change: MessageChange::Pinned,
            },
            Notice::MessageChanged {
                account: ACCOUNT,
                message: message.id,
                change: MessageChange::Unpinned,
            },
            Notice::Reaction {
                account: ACCOUNT,
                message: message.id,
                emoji: thumbs_up(),
                user: reactor(),
                added: true,
            },
            Notice::Reaction {
                account: ACCOUNT,
                message: message.id,
                emoji: thumbs_up(),
                user: reactor(),
                added: false,
            },
        ]
    );
}

#[tokio::test]
async fn pins_and_reactions_from_another_node_are_read_back_and_delivered_to_both_kinds() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 1);
    let h = start(config(), tables);
    let mut socket = subscribe(&h.hub, room_scope(ACCOUNT, ROOM), Some("10")).await;
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM]), Some("20")).await;
    let mut other_room = subscribe(&h.hub, room_scope(ACCOUNT, ROOM_B), Some("10")).await;

    // Another node pinned message 2, then someone reacted to it there.
    let second = h.tables.update(pinned(message(ACCOUNT, ROOM, 2, 10)));
    let elsewhere = message(ACCOUNT, ROOM_C, 1, 10);
    let message = second;
    h.hub.received(Notice::MessageChanged {
        account: ACCOUNT,
        message: message.id,
        change: MessageChange::Pinned,
    });
    let expected = full(MessageEvent::Pinned(message.clone()), &message);
    assert_eq!(next(&mut socket).await, expected);
    assert_eq!(next(&mut stream).await, expected);

    let message = h.tables.update(reacted(message));
    h.hub.received(Notice::Reaction {
        account: ACCOUNT,
        message: message.id,
        emoji: thumbs_up(),
        user: reactor(),
        added: true,
    });
    let expected = bare(LiveEvent::Domain(DomainEvent::Message(reaction_event(
        &message, true,
    ))));
    assert_eq!(
        next(&mut socket).await,
        expected,
        "the message as the tables have it"
    );
    assert_eq!(next(&mut stream).await, expected);

    h.hub.received(Notice::MessageChanged {
        account: ACCOUNT,
        message: message.id,
        change: MessageChange::Unpinned,
    });
    assert!(matches!(
        next(&mut socket).await.event,
        LiveEvent::Domain(DomainEvent::Message(MessageEvent::Unpinned(_)))
    ));
    assert!(matches!(
        next(&mut stream).await.event,
        LiveEvent::Domain(DomainEvent::Message(MessageEvent::Unpinned(_)))
    ));

    // A message of a room nobody here listens to is read, and delivered to nobody.
    h.tables.commit(elsewhere.clone());
    h.hub.received(Notice::MessageChanged {
        account: ACCOUNT,
        message: elsewhere.id,
        change: MessageChange::Pinned,
    });
    quiet(&mut socket).await;
    quiet(&mut stream).await;
    quiet(&mut other_room).await;
    assert_eq!(h.relay.notices(), Vec::new(), "not relayed back");
}

#[tokio::test]
async fn membership_changes_relay_when_and_a_join_from_another_node_reads_its_membership() {
    let tables = Arc::new(Tables::default());
    tables.fill(ACCOUNT, ROOM, 3);
    tables.fill(ACCOUNT, ROOM_B, 2);
    let h = start(config(), tables);
    let mut stream = subscribe(&h.hub, user_scope(20, &[ROOM]), Some("20")).await;

    // Here: the notices say who and how; a leave says when.
    let left_at = datetime!(2024-06-07 8:09:10.5 UTC);
    h.hub.publish(DomainEvent::Member(MemberEvent::Left {
        room: room(ACCOUNT, ROOM),
        user: user(ACCOUNT, 30),
        left_at,
    }));
    let _ = next(&mut stream).await;
    h.hub.publish(DomainEvent::Member(MemberEvent::Joined {
        room: room(ACCOUNT, ROOM),
        user: user(ACCOUNT, 30),
        joined_at: when(),
        meta: MemberMeta::default(),
    }));
    let _ = next(&mut stream).await;
    assert_eq!(
        h.relay.notices(),
        vec![
            Notice::Membership {
                account: ACCOUNT,
                room: ROOM,
                user: UserId(30),
                change: MembershipChange::Left { at: left_at },
            },
            Notice::Membership {
                account: ACCOUNT,
                room: ROOM,
                user: UserId(30),
                change: MembershipChange::Joined,
            },
        ]
    );

    // From another node: the stream's user joined ROOM_B there. The membership is read
    // back: when it began and its meta.
    let joined_at = datetime!(2024-06-07 8:00:00.25 UTC);
    let meta = match json!({ "role": "host" }) {
        serde_json::Value::Object(map) => MemberMeta::parse(map).expect("a valid meta"),
        _ => MemberMeta::default(),
    };
    h.tables
        .join(ACCOUNT, ROOM_B, UserId(20), joined_at, meta.clone());
    h.hub.received(Notice::Membership {
        account: ACCOUNT,
        room: ROOM_B,
        user: UserId(20),
        change: MembershipChange::Joined,
    });
    assert_eq!(
        next(&mut stream).await,
        bare(LiveEvent::Domain(DomainEvent::Member(
            MemberEvent::Joined {
                room: room(ACCOUNT, ROOM_B),
                user: user(ACCOUNT, 20),
                joined_at,
                meta,
            }
        )))
    );
    // ... and the stream follows its user into the room.
    let b3 = h.tables.commit(message(ACCOUNT, ROOM_B, 3, 10));
    h.hub.publish(created(&b3));
    assert_eq!(next(&mut stream).await, created_delivery_full(&b3));

    // A join whose membership is gone again (left at once) is not announced.
    h.hub.received(Notice::Membership {
        account: ACCOUNT,
        room: ROOM,
        user: UserId(40),
        change: MembershipChange::Joined,
    });
    quiet(&mut stream).await;

    // A leave from another node carries its own time; the stream leaves the room.
    let left_at = datetime!(2024-06-07 9:00:00.75 UTC);
    h.hub.received(Notice::Membership {
        account: ACCOUNT,
        room: ROOM_B,
        user: UserId(20),
        change: MembershipChange::Left { at: left_at },
    });
    assert_eq!(
        next(&mut stream).await,
        bare(LiveEvent::Domain(DomainEvent::Member(MemberEvent::Left {
            room: room(ACCOUNT, ROOM_B),
            user: user(ACCOUNT, 20),
            left_at,
        })))
    );
    let b4 = h.tables.commit(message(ACCOUNT, ROOM_B, 4, 10));
    h.hub.publish(created(&b4));
    quiet(&mut stream).await;
}
