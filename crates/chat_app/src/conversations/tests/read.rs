//! Read state: whose position moves, which message it names, what is left unread.

use chat_domain::{MessageId, MessageRef, Permission, RoomRef, Seq};

use super::*;
use crate::ReadState;
use crate::model::{MessageOrder, Unread};

async fn read(
    ports: Ports,
    actor: &Actor,
    room: RoomId,
    user_id: Option<ExternalId>,
    upto: Option<i64>,
) -> Result<ReadState, AppError> {
    ports
        .build()
        .read(
            actor,
            RoomRef::Id(room),
            user_id,
            upto.map(|id| MessageRef::Id(MessageId(id))),
        )
        .await
}

/// The store marks `user` read up to `upto` in room 5 and answers `seq`; `unread`
/// remains.
fn marking(ports: &mut Ports, user: UserId, upto: Option<Seq>, seq: Seq, unread: Unread) {
    ports
        .messages
        .expect_mark_read()
        .withf(move |account, room, who, asked| {
            (*account, *room, *who, *asked) == (ACCOUNT, GENERAL, user, upto)
        })
        .times(1)
        .returning(move |_, _, _, _| Ok(seq));
    ports
        .messages
        .expect_unread_counts()
        .withf(move |account, who, rooms| {
            *account == ACCOUNT && *who == user && rooms.as_slice() == [GENERAL]
        })
        .times(1)
        .returning(move |_, _, _| Ok(vec![(GENERAL, unread)]));
    ports
        .events
        .expect_publish()
        .withf(move |event| {
            matches!(
                message_event(event),
                Some(MessageEvent::Read { room, user: who, seq: at })
                    if room.id == GENERAL && *who == user && *at == seq
            )
        })
        .times(1)
        .return_const(());
}

#[tokio::test]
async fn a_user_credential_reads_as_itself_up_to_the_newest_message() {
    let unread = Unread {
        messages: 3,
        mentions: 1,
    };
    let mut ports = Ports::new();
    marking(&mut ports, ANN, None, Seq(2), unread);
    // The message at the new position: one look-up by seq.
    ports
        .messages
        .expect_list_messages()
        .withf(|account, room, filter| {
            *account == ACCOUNT
                && *room == GENERAL
                && filter.after_seq == Some(Seq(1))
                && filter.before_seq == Some(Seq(3))
                && filter.include_deleted
                && filter.order == MessageOrder::OldestFirst
                && filter.window.limit == 1
        })
        .times(1)
        .returning(|_, _, _| Ok((vec![known(2)], 1)));
    let state = read(ports, &as_user(ANN), GENERAL, external("bob"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(state.room.id, GENERAL);
    assert_eq!(state.user.id, ANN);
    assert_eq!(state.last_read_seq, Seq(2));
    assert_eq!(state.last_read_message.map(|m| m.id), Some(MessageId(2)));
    assert_eq!(state.unread, unread);
}

#[tokio::test]
async fn the_api_key_reads_for_the_member_user_id_names() {
    let mut ports = Ports::new();
    marking(&mut ports, BOB, Some(Seq(1)), Seq(1), Unread::default());
    // The position is the message asked for: no second look-up.
    ports.messages.expect_list_messages().never();
    let state = read(ports, &api_key(), GENERAL, external("bob"), Some(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(state.user.id, BOB);
    assert_eq!(state.last_read_message.map(|m| m.id), Some(MessageId(1)));
    assert_eq!(state.unread, Unread::default());
}

#[tokio::test]
async fn a_position_that_does_not_move_back_names_the_message_it_stays_at() {
    let mut ports = Ports::new();
    // Asked to read up to 1, but already at 2.
    marking(&mut ports, ANN, Some(Seq(1)), Seq(2), Unread::default());
    ports
        .messages
        .expect_list_messages()
        .withf(|_, _, filter| filter.after_seq == Some(Seq(1)))
        .times(1)
        .returning(|_, _, _| Ok((vec![known(2)], 1)));
    let state = read(ports, &as_user(ANN), GENERAL, None, Some(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(state.last_read_message.map(|m| m.id), Some(MessageId(2)));
}

#[tokio::test]
async fn an_empty_room_has_no_last_read_message() {
    let mut ports = Ports::new();
    marking(&mut ports, ANN, None, Seq(0), Unread::default());
    ports.messages.expect_list_messages().never();
    let state = read(ports, &as_user(ANN), GENERAL, None, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(state.last_read_seq, Seq(0));
    assert!(state.last_read_message.is_none());
}

#[tokio::test]
async fn the_api_key_must_name_a_member() {
    let mut ports = Ports::new();
    ports.messages.expect_mark_read().never();
    let missing = read(ports, &api_key(), GENERAL, None, None).await;
    assert_eq!(invalid_fields(&missing), ["user_id"]);
    for user_id in ["nobody", "cat"] {
        let mut ports = Ports::new();
        ports.messages.expect_mark_read().never();
        ports.events.expect_publish().never();
        let refused = read(ports, &api_key(), GENERAL, external(user_id), None).await;
        assert_eq!(failure(&refused), "Conflict(NotInRoom)", "{user_id}");
    }
}

#[tokio::test]
async fn only_members_with_the_right_to_read_mark_a_room_read() {
    let cases = [
        (as_user(CAT), GENERAL, "Forbidden(NotMember)"),
        // An administrator reads every room, but has no position where it is not a member.
        (as_user(ROOT), GENERAL, "Forbidden(NotMember)"),
        (
            scoped(all_but(Permission::ReadMessages)),
            GENERAL,
            "Forbidden(PermissionDenied(ReadMessages))",
        ),
        (as_user(ANN), RoomId(9), "NotFound(Room)"),
        (Actor::Platform, GENERAL, "Unauthenticated"),
    ];
    for (actor, room, expected) in cases {
        let mut ports = Ports::new();
        ports.messages.expect_mark_read().never();
        ports.events.expect_publish().never();
        let refused = read(ports, &actor, room, None, None).await;
        assert_eq!(failure(&refused), expected, "{actor:?}");
    }
}

#[tokio::test]
async fn upto_must_be_a_message_of_the_room() {
    // 101 is in room 6; 999 is nobody's.
    for upto in [101, 999] {
        let mut ports = Ports::new();
        ports.messages.expect_mark_read().never();
        ports.events.expect_publish().never();
        let refused = read(ports, &as_user(ANN), GENERAL, None, Some(upto)).await;
        assert_eq!(failure(&refused), "NotFound(Message)", "{upto}");
    }
}
