//! Pins: who may edit may pin; a change is published, a repeat is not.

use chat_domain::{MessageId, MessageRef, Permission, RoomRef};

use super::*;
use crate::model::{MessageDetail, Window};

async fn pin(
    ports: Ports,
    actor: &Actor,
    room: Option<RoomRef>,
    id: i64,
    pinned: bool,
) -> Result<crate::messages::MessageView, AppError> {
    ports
        .build()
        .pin(
            actor,
            room,
            MessageRef::Id(MessageId(id)),
            pinned,
            MessageDetail::Summary,
        )
        .await
}

#[tokio::test]
async fn the_sender_an_administrator_and_the_api_key_pin_as_themselves() {
    let cases = [
        (as_user(ANN), Some(ANN)),
        (scoped(Permissions::DEFAULT), Some(ANN)),
        (as_user(DEE), Some(DEE)),
        // An administrator reads (and pins in) rooms it is not in.
        (as_user(ROOT), Some(ROOT)),
        (api_key(), None),
    ];
    for (actor, by) in cases {
        let mut ports = Ports::new();
        ports
            .conversations
            .expect_set_pin()
            .withf(move |account, message, pinned, who| {
                *account == ACCOUNT && *message == MessageId(1) && *pinned && *who == by
            })
            .times(1)
            .returning(|_, _, _, _| Ok((known(1), true)));
        ports
            .events
            .expect_publish()
            .withf(|event| {
                matches!(message_event(event), Some(MessageEvent::Pinned(m)) if m.id == MessageId(1))
            })
            .times(1)
            .return_const(());
        let view = pin(ports, &actor, None, 1, true)
            .await
            .unwrap_or_else(|e| panic!("{actor:?}: {e}"));
        assert_eq!(view.message.id, MessageId(1));
    }
}

#[tokio::test]
async fn someone_elses_message_is_not_an_agents_to_pin() {
    let cases = [
        // Bob did not send message 1.
        (as_user(BOB), "Forbidden(NotAuthor)"),
        // Cat is not even in its room.
        (as_user(CAT), "Forbidden(NotMember)"),
        (
            scoped(all_but(Permission::SendMessages)),
            "Forbidden(PermissionDenied(SendMessages))",
        ),
        (Actor::Platform, "Unauthenticated"),
    ];
    for (actor, expected) in cases {
        for pinned in [true, false] {
            let mut ports = Ports::new();
            ports.conversations.expect_set_pin().never();
            ports.events.expect_publish().never();
            let refused = pin(ports, &actor, None, 1, pinned).await;
            assert_eq!(failure(&refused), expected, "{actor:?}");
        }
    }
}

#[tokio::test]
async fn pinning_twice_or_unpinning_what_is_not_pinned_publishes_nothing() {
    for pinned in [true, false] {
        let mut ports = Ports::new();
        ports
            .conversations
            .expect_set_pin()
            .withf(move |_, _, asked, _| *asked == pinned)
            .times(1)
            .returning(|_, _, _, _| Ok((known(1), false)));
        ports.events.expect_publish().never();
        let view = pin(ports, &api_key(), None, 1, pinned)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(view.message.id, MessageId(1));
    }
}

#[tokio::test]
async fn unpinning_publishes_unpinned() {
    let mut ports = Ports::new();
    ports
        .conversations
        .expect_set_pin()
        .withf(|_, _, pinned, _| !*pinned)
        .times(1)
        .returning(|_, _, _, _| Ok((known(1), true)));
    ports
        .events
        .expect_publish()
        .withf(|event| matches!(message_event(event), Some(MessageEvent::Unpinned(_))))
        .times(1)
        .return_const(());
    pin(ports, &as_user(ANN), None, 1, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn a_deleted_message_or_one_of_another_room_is_not_found() {
    let cases = [
        (None, 3, "NotFound(Message)"),
        (Some(RoomRef::Id(SALES)), 1, "NotFound(Message)"),
        (Some(RoomRef::Id(RoomId(9))), 1, "NotFound(Room)"),
        (None, 999, "NotFound(Message)"),
    ];
    for (room, id, expected) in cases {
        let mut ports = Ports::new();
        ports.conversations.expect_set_pin().never();
        let outcome = pin(ports, &api_key(), room, id, true).await;
        assert_eq!(failure(&outcome), expected, "{room:?} {id}");
    }
    // The right room path is fine.
    let mut ports = Ports::new();
    ports
        .conversations
        .expect_set_pin()
        .times(1)
        .returning(|_, _, _, _| Ok((known(1), false)));
    pin(ports, &api_key(), Some(RoomRef::Id(GENERAL)), 1, true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn a_rooms_pins_are_read_as_its_messages_are() {
    let window = Window {
        offset: 0,
        limit: 5,
    };
    for actor in [as_user(ANN), as_user(ROOT), api_key()] {
        let mut ports = Ports::new();
        ports
            .conversations
            .expect_pins()
            .withf(|account, room, window| {
                *account == ACCOUNT && *room == GENERAL && window.limit == 5
            })
            .times(1)
            .returning(|_, _, _| Ok((vec![known(2), known(1)], 2)));
        let page = ports
            .build()
            .pins(&actor, RoomRef::Id(GENERAL), window, MessageDetail::Summary)
            .await
            .unwrap_or_else(|e| panic!("{actor:?}: {e}"));
        let ids: Vec<i64> = page.items.iter().map(|v| v.message.id.0).collect();
        assert_eq!((ids, page.total), (vec![2, 1], 2));
    }
    for (actor, room, expected) in [
        (as_user(CAT), GENERAL, "Forbidden(NotMember)"),
        (
            scoped(all_but(Permission::ReadMessages)),
            GENERAL,
            "Forbidden(PermissionDenied(ReadMessages))",
        ),
        (api_key(), RoomId(9), "NotFound(Room)"),
    ] {
        let mut ports = Ports::new();
        ports.conversations.expect_pins().never();
        let refused = ports
            .build()
            .pins(&actor, RoomRef::Id(room), window, MessageDetail::Summary)
            .await;
        assert_eq!(failure(&refused), expected, "{actor:?}");
    }
}
