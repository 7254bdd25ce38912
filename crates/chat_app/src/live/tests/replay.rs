//! Subscription and `since_seq` replay.

use super::*;

#[tokio::test]
async fn a_socket_subscribes_to_its_room_and_a_stream_to_its_users_rooms() {
    let mut ports = Ports::default();
    ports
        .hub
        .expect_subscribe()
        .times(2)
        .returning(|scope, user_key| {
            assert_eq!(user_key, Some(user(7).chat_user_id()));
            let rooms = match scope {
                Scope::Room { account, room } => {
                    assert_eq!(account, ACCOUNT);
                    vec![room]
                }
                Scope::User {
                    account,
                    user,
                    rooms,
                } => {
                    assert_eq!((account, user), (ACCOUNT, UserId(7)));
                    rooms
                }
            };
            let start = rooms.into_iter().map(|room| (room, Seq(3))).collect();
            Ok(Connection::detached(Uuid::from_u128(3), start))
        });
    let sessions = ports.sessions();
    let socket = sessions.subscribe(&room_session(None)).await;
    let socket = socket.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(socket.start, HashMap::from([(ROOM, Seq(3))]));
    let stream = sessions.subscribe(&stream_session()).await;
    let stream = stream.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stream.start.len(), 2);
}

#[tokio::test]
async fn a_replay_pages_through_the_messages_after_since_up_to_the_start() {
    let mut ports = Ports::default();
    // Pages come newest last; the replay stops at the start without asking again.
    let mut pages = vec![
        vec![message(ROOM, 3)],
        vec![message(ROOM, 1), message(ROOM, 2)],
    ];
    ports
        .messages
        .expect_room_page()
        .times(2)
        .returning(move |account, reference, filter| {
            assert_eq!((account, reference), (ACCOUNT, RoomRef::Id(ROOM)));
            assert_eq!(filter.order, crate::MessageOrder::OldestFirst);
            assert!(filter.include_deleted);
            assert_eq!(filter.before_seq, Some(Seq(4)));
            let page = pages.pop().unwrap_or_default();
            let after = page.first().map_or(0, |m| m.seq.0 - 1);
            assert_eq!(filter.after_seq, Some(Seq(after)));
            Ok((room(ROOM), page, 3))
        });
    let sessions = ports.sessions();
    let session = listener(Some(Seq(0)));
    let mut connection = Connection::detached(Uuid::nil(), HashMap::from([(ROOM, Seq(3))]));
    let Some(mut replay) = sessions.replay(&session, &connection) else {
        panic!("a replay was asked for");
    };
    let mut seqs = Vec::new();
    while let Some(page) = sessions
        .replay_page(&session, &mut replay)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    {
        seqs.extend(page.into_iter().map(|view| view.message.seq.0));
    }
    assert_eq!(seqs, vec![1, 2, 3]);
    sessions.replayed(replay, &mut connection);
    assert_eq!(connection.start[&ROOM], Seq(3));
}

#[tokio::test]
async fn a_client_ahead_of_the_start_replays_nothing_and_skips_what_it_has() {
    let mut ports = Ports::default();
    ports.hub.expect_delivered().times(1).return_const(());
    let sessions = ports.sessions();
    let session = room_session(Some(Seq(5)));
    let mut connection = Connection::detached(Uuid::nil(), HashMap::from([(ROOM, Seq(3))]));
    let Some(mut replay) = sessions.replay(&session, &connection) else {
        panic!("a replay was asked for");
    };
    let page = sessions.replay_page(&session, &mut replay).await;
    assert!(matches!(page, Ok(None)));
    sessions.replayed(replay, &mut connection);
    assert_eq!(connection.start[&ROOM], Seq(5));
    let created = |seq| {
        Delivery::new(
            LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(message(
                ROOM, seq,
            )))),
            Context::default(),
        )
    };
    assert!(!sessions.shows(&session, &connection, &created(5)));
    // Shown, and counted as delivered to Bob (the one `delivered` expected).
    assert!(sessions.shows(&session, &connection, &created(6)));
    assert!(sessions.replay(&room_session(None), &connection).is_none());
}

#[tokio::test]
async fn a_listener_is_shown_new_messages_without_delivered_positions() {
    let sessions = Ports::default().sessions();
    let connection = Connection::detached(Uuid::nil(), HashMap::from([(ROOM, Seq(3))]));
    let delivery = Delivery::new(
        LiveEvent::Domain(DomainEvent::Message(MessageEvent::Created(message(
            ROOM, 4,
        )))),
        Context::default(),
    );
    assert!(sessions.shows(&listener(None), &connection, &delivery));
}
