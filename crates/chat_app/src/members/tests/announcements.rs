//! What joins and leaves announce: when, and the membership's meta.

use super::*;

/// What one test's publisher was given.
fn recorded(events: &mut MockEventPublisher) -> Arc<std::sync::Mutex<Vec<DomainEvent>>> {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    events.expect_publish().returning(move |event| {
        log.lock().unwrap_or_else(|e| e.into_inner()).push(event);
    });
    seen
}

fn taken(seen: &std::sync::Mutex<Vec<DomainEvent>>) -> Vec<DomainEvent> {
    std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()))
}

#[tokio::test]
async fn a_join_announces_when_the_membership_began_and_its_meta_as_the_store_keeps_them() {
    let mut ports = Ports::new(room(true, None));
    ports
        .users
        .expect_find_by_chat_id()
        .returning(|_, _| Ok(Some(user(7, Some("user_123")))));
    ports
        .members
        .expect_add_members()
        .withf(|_, _, _, meta, _| *meta == member_meta(json!({ "role": "host" })))
        .returning(|_, _, users, _, _| {
            Ok(MemberChange {
                added: users,
                removed: vec![],
            })
        });
    ports
        .rooms
        .expect_find_membership()
        .withf(|account, room, user| (*account, *room, *user) == (ACCOUNT, RoomId(5), UserId(7)))
        .times(1)
        .returning(|_, _, _| {
            Ok(Some(Membership {
                user: user(7, Some("user_123")),
                joined_at: JOINED_AT,
                meta: member_meta(json!({ "role": "host" })),
            }))
        });
    let seen = recorded(&mut ports.events);
    let meta = member_meta(json!({ "role": "host" })).into_map();
    let join = Join::parse(Some("user_123"), None, Some(meta)).unwrap_or_else(|e| panic!("{e}"));
    let joined = ports.build().join(&admin(), ROOM, join).await;
    assert!(joined.is_ok(), "{joined:?}");
    assert_eq!(
        taken(&seen),
        [DomainEvent::Member(MemberEvent::Joined {
            room: room(true, None),
            user: user(7, Some("user_123")),
            joined_at: JOINED_AT,
            meta: member_meta(json!({ "role": "host" })),
        })]
    );
}

#[tokio::test]
async fn a_membership_gone_again_is_not_announced_and_one_not_read_back_is_announced_as_of_now() {
    let mut ports = Ports::new(room(true, None));
    ports
        .users
        .expect_find_users()
        .returning(|_, ids| Ok(ids.iter().map(|id| user(id.0, None)).collect()));
    ports
        .members
        .expect_add_members()
        .returning(|_, _, users, _, _| {
            Ok(MemberChange {
                added: users,
                removed: vec![],
            })
        });
    // 1 left again at once; 2 cannot be read (the store failed).
    ports
        .rooms
        .expect_find_membership()
        .withf(|_, _, user| *user == UserId(1))
        .returning(|_, _, _| Ok(None));
    ports
        .rooms
        .expect_find_membership()
        .withf(|_, _, user| *user == UserId(2))
        .returning(|_, _, _| Err(StoreError::Unexpected(anyhow::anyhow!("down"))));
    let seen = recorded(&mut ports.events);
    let before = time::OffsetDateTime::now_utc();
    let ids = UserIds::parse(Some(vec![1, 2])).unwrap_or_else(|e| panic!("{e}"));
    let added = ports.build().add(&admin(), ROOM, ids).await;
    let after = time::OffsetDateTime::now_utc();
    assert_eq!(
        added
            .map(|users| users.iter().map(|u| u.id).collect::<Vec<_>>())
            .ok(),
        Some(vec![UserId(1), UserId(2)]),
        "the change is answered whatever the announcement"
    );
    let events = taken(&seen);
    assert_eq!(events.len(), 1, "{events:?}");
    match &events[0] {
        DomainEvent::Member(MemberEvent::Joined {
            user,
            joined_at,
            meta,
            ..
        }) => {
            assert_eq!(user.id, UserId(2));
            assert!(before <= *joined_at && *joined_at <= after, "{joined_at}");
            assert_eq!(*meta, MemberMeta::default(), "the meta the change gave");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn leaving_and_removing_announce_when_they_left() {
    let mut ports = Ports::new(room(true, None));
    ports
        .users
        .expect_find_by_chat_id()
        .returning(|_, _| Ok(Some(user(7, Some("user_123")))));
    ports
        .users
        .expect_find_users()
        .returning(|_, ids| Ok(ids.iter().map(|id| user(id.0, None)).collect()));
    ports
        .members
        .expect_remove_members()
        .returning(|_, _, users| {
            Ok(MemberChange {
                added: vec![],
                removed: users,
            })
        });
    let seen = recorded(&mut ports.events);
    let members = ports.build();
    let before = time::OffsetDateTime::now_utc();
    let id = ExternalId::parse("user_123").unwrap_or_else(|e| panic!("{e}"));
    let left = members.leave(&admin(), ROOM, id).await;
    assert!(left.is_ok(), "{left:?}");
    let ids = UserIds::parse(Some(vec![8])).unwrap_or_else(|e| panic!("{e}"));
    let removed = members.remove(&admin(), ROOM, ids).await;
    assert!(removed.is_ok(), "{removed:?}");
    let after = time::OffsetDateTime::now_utc();
    let events = taken(&seen);
    let left: Vec<(UserId, time::OffsetDateTime)> = events
        .iter()
        .filter_map(|event| match event {
            DomainEvent::Member(MemberEvent::Left { user, left_at, .. }) => {
                Some((user.id, *left_at))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        left.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [UserId(7), UserId(8)],
        "{events:?}"
    );
    for (_, at) in left {
        assert!(before <= at && at <= after, "{at}");
    }
}
