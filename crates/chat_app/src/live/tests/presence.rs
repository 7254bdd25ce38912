//! Presence: announced online by the first socket, offline by the last; closes retried.

use super::*;

#[tokio::test]
async fn a_first_socket_announces_its_person_online_and_a_second_does_not() {
    let events = published();
    let mut ports = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    };
    let mut opened = 0;
    ports
        .presence
        .expect_open_session()
        .times(2)
        .returning(move |session, ttl| {
            assert_eq!(session.node, Uuid::from_u128(99));
            assert_eq!(session.room, Some(ROOM));
            assert_eq!(session.user, Some(UserId(7)));
            assert_eq!(ttl, Duration::from_secs(30));
            opened += 1;
            Ok(opened)
        });
    let sessions = ports.sessions();
    assert!(sessions.open_presence(&room_session(None)).await.is_some());
    assert_eq!(taken(&events), vec![presence_of(true)]);
    assert!(sessions.open_presence(&room_session(None)).await.is_some());
    assert_eq!(taken(&events), vec![]);
}

#[tokio::test]
async fn a_listener_has_no_presence_and_a_failed_open_goes_on_without_it() {
    let events = published();
    let mut ports = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    };
    ports
        .presence
        .expect_open_session()
        .times(1)
        .returning(|_, _| Err(StoreError::Unavailable(anyhow::anyhow!("pool busy"))));
    let sessions = ports.sessions();
    assert_eq!(sessions.open_presence(&listener(None)).await, None);
    assert_eq!(sessions.open_presence(&room_session(None)).await, None);
    assert_eq!(taken(&events), vec![]);
}

#[tokio::test(start_paused = true)]
async fn closing_unsubscribes_and_retries_the_presence_close_until_it_goes_through() {
    let events = published();
    let mut ports = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    };
    let subscription = Uuid::from_u128(3);
    ports
        .hub
        .expect_unsubscribe()
        .withf(move |id| *id == subscription)
        .times(1)
        .return_const(());
    ports.presence.expect_open_session().returning(|_, _| Ok(2));
    let mut tries = 0;
    ports
        .presence
        .expect_close_session()
        .times(3)
        .returning(move |_| {
            tries += 1;
            match tries {
                1 | 2 => Err(StoreError::Unavailable(anyhow::anyhow!("pool busy"))),
                _ => Ok(0),
            }
        });
    let sessions = ports.sessions();
    let presence = sessions.open_presence(&room_session(None)).await;
    let started = tokio::time::Instant::now();
    sessions.close(Some(subscription), presence).await;
    // 250 ms, then 500 ms between the tries.
    assert_eq!(started.elapsed(), Duration::from_millis(750));
    assert_eq!(taken(&events), vec![presence_of(false)]);
}

#[tokio::test(start_paused = true)]
async fn a_presence_close_that_keeps_failing_gives_up_after_its_attempts() {
    let events = published();
    let mut ports = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    };
    ports.presence.expect_open_session().returning(|_, _| Ok(2));
    ports
        .presence
        .expect_close_session()
        .times(PRESENCE_CLOSE_ATTEMPTS as usize)
        .returning(|_| Err(StoreError::Unavailable(anyhow::anyhow!("pool busy"))));
    let sessions = ports.sessions();
    let presence = sessions.open_presence(&room_session(None)).await;
    sessions.close(None, presence).await;
    assert_eq!(taken(&events), vec![]);
}

#[tokio::test]
async fn a_close_that_leaves_other_sockets_open_announces_nothing() {
    let events = published();
    let mut ports = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    };
    ports.presence.expect_open_session().returning(|_, _| Ok(2));
    ports
        .presence
        .expect_close_session()
        .times(1)
        .returning(|_| Ok(1));
    let sessions = ports.sessions();
    let presence = sessions.open_presence(&room_session(None)).await;
    sessions.close(None, presence).await;
    assert_eq!(taken(&events), vec![]);
}
