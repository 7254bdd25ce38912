//! What each client frame does.

use super::*;

#[tokio::test]
async fn ping_is_answered_with_pong() {
    let sessions = Ports::default().sessions();
    let reply = sessions.handle(&listener(None), LiveCommand::Ping).await;
    assert_eq!(reply.ok(), Some(Reply::Pong));
}

#[tokio::test]
async fn typing_publishes_the_participants_typing_in_the_sockets_room() {
    let events = published();
    let sessions = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    }
    .sessions();
    let command = LiveCommand::Typing {
        room: Some(RoomId(99)), // a room socket speaks of its own room only
        is_typing: Ok(false),
    };
    let reply = sessions.handle(&room_session(None), command).await;
    assert_eq!(reply.ok(), Some(Reply::Nothing));
    assert_eq!(
        taken(&events),
        vec![LiveEvent::Typing(Typing {
            account: ACCOUNT,
            room: ROOM,
            room_uuid: Uuid::from_u128(ROOM.0 as u128),
            user_key: user(7).chat_user_id(),
            user: Some(UserId(7)),
            user_name: "Bob".to_owned(),
            is_typing: false,
        })]
    );
}

#[tokio::test]
async fn a_listener_cannot_type_or_read_and_that_comes_before_its_fields() {
    let sessions = Ports::default().sessions();
    let typing = LiveCommand::Typing {
        room: None,
        is_typing: Err(FrameError::InvalidData("is_typing".to_owned())),
    };
    let refused = sessions.handle(&listener(None), typing).await;
    assert!(matches!(refused, Err(FrameError::Listener)));
    let read = LiveCommand::Read {
        message: Err(FrameError::InvalidData("message_id".to_owned())),
    };
    let refused = sessions.handle(&listener(None), read).await;
    assert!(matches!(refused, Err(FrameError::Listener)));
}

#[tokio::test]
async fn a_bad_is_typing_publishes_nothing() {
    let sessions = Ports::default().sessions();
    let typing = LiveCommand::Typing {
        room: None,
        is_typing: Err(FrameError::InvalidData("is_typing".to_owned())),
    };
    let refused = sessions.handle(&room_session(None), typing).await;
    assert!(matches!(refused, Err(FrameError::InvalidData(_))));
}

#[tokio::test]
async fn a_frame_on_a_stream_must_name_its_room() {
    let sessions = Ports::default().sessions();
    for command in [
        LiveCommand::OnlineUsers { room: None },
        LiveCommand::Typing {
            room: None,
            is_typing: Ok(true),
        },
        LiveCommand::Message {
            room: None,
            draft: Ok(MessageDraft::default()),
        },
    ] {
        let refused = sessions.handle(&stream_session(), command).await;
        assert!(
            matches!(&refused, Err(FrameError::InvalidData(m)) if m == "room_id is required on this socket"),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn online_users_of_a_room_socket_are_its_rooms() {
    let mut ports = Ports::default();
    ports
        .presence
        .expect_online_in_room()
        .withf(|account, room| (*account, *room) == (ACCOUNT, ROOM))
        .returning(|_, _| Ok(vec!["alice".to_owned(), "bob".to_owned()]));
    let sessions = ports.sessions();
    let command = LiveCommand::OnlineUsers { room: None };
    let reply = sessions.handle(&listener(None), command).await;
    assert_eq!(
        reply.ok(),
        Some(Reply::OnlineUsers {
            room: room(ROOM),
            online: vec!["alice".to_owned(), "bob".to_owned()],
        })
    );
}

#[tokio::test]
async fn a_read_of_a_message_of_another_room_is_not_found_on_a_room_socket() {
    let mut ports = Ports::default();
    ports
        .messages
        .expect_find_message()
        .returning(|_, _| Ok(message(RoomId(6), 2)));
    ports
        .rooms
        .expect_find_room()
        .returning(|_, _| Ok(room(RoomId(6))));
    ports.rooms.expect_is_member().returning(|_, _, _| Ok(true));
    ports
        .messages
        .expect_find_messages()
        .returning(|_, _| Ok(Vec::new()));
    let sessions = ports.sessions();
    let read = LiveCommand::Read {
        message: Ok(MessageRef::Id(MessageId(6_002))),
    };
    let refused = sessions.handle(&room_session(None), read).await;
    assert!(matches!(refused, Err(FrameError::NotInRoom)), "{refused:?}");
}

#[tokio::test]
async fn a_message_frame_reports_its_fields_after_its_room_and_sends_nothing() {
    let sessions = Ports::default().sessions();
    let command = LiveCommand::Message {
        room: None,
        draft: Err(FrameError::InvalidData("data must be an object".to_owned())),
    };
    let refused = sessions.handle(&room_session(None), command).await;
    assert!(
        matches!(&refused, Err(FrameError::InvalidData(m)) if m == "data must be an object"),
        "{refused:?}"
    );
    let command = LiveCommand::Message {
        room: None,
        draft: Ok(MessageDraft {
            content: Some("hi".to_owned()),
            reply_to: Some(Err(FrameError::InvalidData(
                "message_id is required".to_owned(),
            ))),
            ..MessageDraft::default()
        }),
    };
    let refused = sessions.handle(&room_session(None), command).await;
    assert!(
        matches!(&refused, Err(FrameError::InvalidData(m)) if m == "message_id is required"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_empty_message_is_refused_by_the_use_case_before_anything_is_stored() {
    let sessions = Ports::default().sessions();
    let command = LiveCommand::Message {
        room: None,
        draft: Ok(MessageDraft::default()),
    };
    let refused = sessions.handle(&room_session(None), command).await;
    assert!(
        matches!(refused, Err(FrameError::Refused(AppError::Invalid(_)))),
        "{refused:?}"
    );
}
