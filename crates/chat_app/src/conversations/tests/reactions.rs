//! Reactions: who reacts, a repeat publishes nothing, the emoji limit is the caller's.

use chat_domain::{Emoji, ExternalId, MessageId, MessageRef, Permission, RoomRef};

use super::*;
use crate::messages::MessageView;
use crate::model::MessageDetail;

async fn react(
    ports: Ports,
    actor: &Actor,
    room: Option<RoomRef>,
    id: i64,
    user_id: Option<ExternalId>,
    add: bool,
) -> Result<MessageView, AppError> {
    ports
        .build()
        .react(
            actor,
            room,
            MessageRef::Id(MessageId(id)),
            emoji("👍"),
            user_id,
            add,
            MessageDetail::Summary,
        )
        .await
}

/// The store reacts as `user` on message `id` and answers that `user` changed something.
fn reacting(ports: &mut Ports, id: i64, user: UserId, add: bool) {
    ports
        .conversations
        .expect_react()
        .withf(move |account, message, emoji, who, added| {
            *account == ACCOUNT
                && *message == MessageId(id)
                && emoji.as_str() == "👍"
                && *who == user
                && *added == add
        })
        .times(1)
        .returning(move |_, _, _, _, _| Ok((known(id), Some(person(user)))));
}

/// One `Reacted` event for `user`.
fn publishing(ports: &mut Ports, user: UserId, add: bool) {
    ports
        .events
        .expect_publish()
        .withf(move |event| {
            matches!(
                message_event(event),
                Some(MessageEvent::Reacted { message, emoji, user: who, added })
                    if message.id == MessageId(1)
                        && emoji.as_str() == "👍"
                        && *who == person(user)
                        && *added == add
            )
        })
        .times(1)
        .return_const(());
}

#[tokio::test]
async fn a_user_credential_reacts_as_its_own_user_whatever_user_id_says() {
    for (actor, user) in [
        (as_user(ANN), ANN),
        (as_user(BOB), BOB),
        (as_user(DEE), DEE),
        (scoped(Permissions::DEFAULT), ANN),
    ] {
        for add in [true, false] {
            let mut ports = Ports::new();
            reacting(&mut ports, 1, user, add);
            publishing(&mut ports, user, add);
            let view = react(ports, &actor, None, 1, external("cat"), add)
                .await
                .unwrap_or_else(|e| panic!("{actor:?}: {e}"));
            assert_eq!(view.message.id, MessageId(1));
            assert_eq!(view.room_name, "General");
        }
    }
}

#[tokio::test]
async fn the_api_key_reacts_as_the_member_user_id_names() {
    let mut ports = Ports::new();
    reacting(&mut ports, 1, BOB, true);
    publishing(&mut ports, BOB, true);
    react(ports, &api_key(), None, 1, external("bob"), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn the_api_key_must_name_a_member_of_the_room() {
    let missing = {
        let mut ports = Ports::new();
        ports.conversations.expect_react().never();
        react(ports, &api_key(), None, 1, None, true).await
    };
    assert_eq!(invalid_fields(&missing), ["user_id"]);
    // Nobody, and cat (a user, not in room 5): not in the room.
    for user_id in ["nobody", "cat"] {
        let mut ports = Ports::new();
        ports.conversations.expect_react().never();
        ports.events.expect_publish().never();
        let refused = react(ports, &api_key(), None, 1, external(user_id), true).await;
        assert_eq!(failure(&refused), "Conflict(NotInRoom)", "{user_id}");
    }
}

#[tokio::test]
async fn only_members_react_administrators_included() {
    let cases = [
        // Cat: an agent outside room 5 may not even see it.
        (as_user(CAT), "Forbidden(NotMember)"),
        // Root: an administrator sees room 5 but, not in it, does not speak there.
        (as_user(ROOT), "Forbidden(NotMember)"),
        (
            scoped(all_but(Permission::SendMessages)),
            "Forbidden(PermissionDenied(SendMessages))",
        ),
        (Actor::Platform, "Unauthenticated"),
    ];
    for (actor, expected) in cases {
        let mut ports = Ports::new();
        ports.conversations.expect_react().never();
        ports.events.expect_publish().never();
        let refused = react(ports, &actor, None, 1, None, true).await;
        assert_eq!(failure(&refused), expected, "{actor:?}");
    }
}

#[tokio::test]
async fn a_repeat_answers_the_message_and_publishes_nothing() {
    let mut ports = Ports::new();
    ports
        .conversations
        .expect_react()
        .times(1)
        .returning(|_, _, _, _, _| Ok((known(1), None)));
    ports.events.expect_publish().never();
    let view = react(ports, &as_user(ANN), None, 1, None, true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(view.message.id, MessageId(1));
}

#[tokio::test]
async fn a_twenty_first_emoji_is_refused_on_field_emoji() {
    let mut ports = Ports::new();
    ports
        .conversations
        .expect_react()
        .times(1)
        .returning(|_, _, _, _, _| Err(StoreError::LimitReached));
    ports.events.expect_publish().never();
    let refused = react(ports, &as_user(ANN), None, 1, None, true).await;
    assert_eq!(invalid_fields(&refused), ["emoji"]);
    let message = match &refused {
        Err(AppError::Invalid(errors)) => errors.iter().map(|e| e.problem.to_string()).collect(),
        _ => Vec::new(),
    };
    assert_eq!(
        message,
        ["is invalid (a message carries at most 20 distinct emoji)"]
    );
}

#[tokio::test]
async fn a_deleted_unknown_or_other_rooms_message_is_not_found() {
    let cases = [
        (None, 3, "NotFound(Message)"),
        (None, 999, "NotFound(Message)"),
        // Message 1 is in room 5, not 6.
        (Some(RoomRef::Id(SALES)), 1, "NotFound(Message)"),
        (Some(RoomRef::Id(RoomId(9))), 1, "NotFound(Room)"),
    ];
    for (room, id, expected) in cases {
        let mut ports = Ports::new();
        ports.conversations.expect_react().never();
        let outcome = react(ports, &api_key(), room, id, external("bob"), true).await;
        assert_eq!(failure(&outcome), expected, "{room:?} {id}");
    }
    // A message deleted in between (the store's NotFound) reads the same.
    let mut ports = Ports::new();
    ports
        .conversations
        .expect_react()
        .returning(|_, _, _, _, _| Err(StoreError::NotFound));
    let gone = react(
        ports,
        &as_user(ANN),
        Some(RoomRef::Id(GENERAL)),
        1,
        None,
        true,
    )
    .await;
    assert_eq!(failure(&gone), "NotFound(Message)");
}

#[tokio::test]
async fn a_short_code_is_passed_on_as_given() {
    let mut ports = Ports::new();
    ports
        .conversations
        .expect_react()
        .withf(|_, _, emoji, _, _| emoji.as_str() == ":+1:")
        .times(1)
        .returning(|_, _, _, _, _| Ok((known(1), None)));
    let short: Emoji = emoji(":+1:");
    ports
        .build()
        .react(
            &as_user(ANN),
            None,
            MessageRef::Id(MessageId(1)),
            short,
            None,
            true,
            MessageDetail::Summary,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}
