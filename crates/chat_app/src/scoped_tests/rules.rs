//! The rules, action by action.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chat_domain::{Permission, Permissions, RoomId, Sender};

use super::actions::{Action, run};
use super::fixtures::{ME, Stores, all_but, only, scoped};
use crate::error::{AppError, Denied, Resource};
use crate::events::{DomainEvent, MemberEvent};

#[tokio::test]
async fn each_action_needs_its_permission_and_that_one_suffices() {
    for action in Action::ALL {
        let needs = action.needs();
        // Without it: refused naming it, and nothing is read, written or published.
        let app = Stores::new(false).build();
        let refused = run(&app, &scoped(all_but(needs)), action, 5).await;
        assert!(
            matches!(refused, Err(AppError::Forbidden(Denied::PermissionDenied(p))) if p == needs),
            "{action:?} without {needs}: {refused:?}"
        );
        // With it alone, in a room the user belongs to: allowed.
        let app = Stores::new(true).build();
        let allowed = run(&app, &scoped(only(needs)), action, 5).await;
        assert!(allowed.is_ok(), "{action:?} with {needs}: {allowed:?}");
    }
}

#[tokio::test]
async fn an_unknown_room_is_not_found_before_any_permission() {
    for action in Action::ALL.into_iter().filter(|a| a.names_a_room()) {
        let app = Stores::new(false).build();
        let result = run(&app, &scoped(Permissions::NONE), action, 9).await;
        assert!(
            matches!(result, Err(AppError::NotFound(Resource::Room))),
            "{action:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn changing_a_room_or_its_members_needs_membership_of_it() {
    // Room 6: the scoped user is not a member, whatever it may do.
    for action in [
        Action::RenameRoom,
        Action::DeactivateRoom,
        Action::DeleteRoom,
        Action::AdmitManage,
        Action::AdmitManageMembers,
        Action::AddMembers,
        Action::ReplaceMembers,
        Action::RemoveMembers,
        Action::JoinOther,
        Action::LeaveOther,
    ] {
        let app = Stores::new(false).build();
        let result = run(&app, &scoped(Permissions::ALL), action, 6).await;
        assert!(
            matches!(result, Err(AppError::Forbidden(Denied::NotAdministrator))),
            "{action:?}: {result:?}"
        );
    }
    // Reading and speaking there is a member's too.
    for action in [
        Action::GetRoom,
        Action::AdmitSee,
        Action::AdmitSpeak,
        Action::Participants,
        Action::ListMessages,
        Action::GetMessage,
        Action::Send,
        Action::MarkRead,
    ] {
        let app = Stores::new(false).build();
        let result = run(&app, &scoped(Permissions::ALL), action, 6).await;
        assert!(
            matches!(result, Err(AppError::Forbidden(Denied::NotMember))),
            "{action:?}: {result:?}"
        );
    }
    // Joining needs no membership: that is what it makes.
    let app = Stores::new(true).build();
    let joined = run(
        &app,
        &scoped(only(Permission::JoinRooms)),
        Action::JoinSelf,
        6,
    )
    .await;
    assert!(joined.is_ok(), "{joined:?}");
}

#[tokio::test]
async fn the_rights_come_before_the_state_of_the_room() {
    // Room 8 is inactive: a join without the permission is refused for that, not 409.
    let app = Stores::new(false).build();
    let result = run(
        &app,
        &scoped(all_but(Permission::JoinRooms)),
        Action::JoinSelf,
        8,
    )
    .await;
    assert!(
        matches!(
            result,
            Err(AppError::Forbidden(Denied::PermissionDenied(
                Permission::JoinRooms
            )))
        ),
        "{result:?}"
    );
    let app = Stores::new(false).build();
    let result = run(&app, &scoped(Permissions::ALL), Action::JoinSelf, 8).await;
    assert!(
        matches!(
            result,
            Err(AppError::Conflict(crate::Conflict::RoomInactive))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_scoped_credential_that_creates_a_room_is_its_first_member() {
    let mut stores = Stores::new(true);
    let mut rooms = crate::ports::MockRoomStore::new();
    rooms
        .expect_create_room()
        .withf(|_, _, creator| *creator == Some(ME))
        .times(1)
        .returning(|_, _, _| Ok(super::fixtures::room(7)));
    rooms.expect_find_membership().returning(|_, _, _| {
        Ok(Some(chat_domain::Membership {
            user: super::fixtures::user(20),
            joined_at: time::OffsetDateTime::UNIX_EPOCH,
            meta: chat_domain::MemberMeta::default(),
        }))
    });
    stores.rooms = rooms;
    let mut events = crate::events::MockEventPublisher::new();
    events.expect_publish().times(1).withf(|e| {
        matches!(e, DomainEvent::Room(crate::events::RoomEvent::Created(r)) if r.id == RoomId(7))
    }).return_const(());
    events
        .expect_publish()
        .times(1)
        .withf(|e| {
            matches!(e, DomainEvent::Member(MemberEvent::Joined { room, user, .. })
            if room.id == RoomId(7) && user.id == ME)
        })
        .return_const(());
    stores.events = events;
    let app = stores.build();
    let created = run(
        &app,
        &scoped(only(Permission::ManageRooms)),
        Action::CreateRoom,
        0,
    )
    .await;
    assert!(created.is_ok(), "{created:?}");
}

#[tokio::test]
async fn a_scoped_credential_speaks_as_its_own_user_whatever_the_body_says() {
    let mut stores = Stores::new(true);
    let mut messages = crate::ports::MockMessageStore::new();
    let stored = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&stored);
    messages.expect_send().returning(crate::testing::send_with(
        super::fixtures::send_context,
        move |_, room, new| {
            assert_eq!(room, RoomId(5));
            assert!(
                matches!(&new.sender, Sender::User { id, .. } if *id == ME),
                "{:?}",
                new.sender
            );
            count.fetch_add(1, Ordering::SeqCst);
            let mut stored = super::fixtures::message(room.0);
            stored.sender = new.sender;
            Ok((stored, true))
        },
    ));
    stores.messages = messages;
    let app = stores.build();
    // The body names bob as the sender.
    let sent = run(
        &app,
        &scoped(only(Permission::SendMessages)),
        Action::Send,
        5,
    )
    .await;
    assert!(sent.is_ok(), "{sent:?}");
    assert_eq!(stored.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn another_users_message_is_not_its_to_change() {
    for action in [Action::EditOwn, Action::DeleteOwn, Action::RestoreOwn] {
        let app = Stores::new(false).build();
        // Message 105 is bob's, in room 5.
        let result = run(&app, &scoped(Permissions::ALL), action, 105).await;
        assert!(
            matches!(result, Err(AppError::Forbidden(Denied::NotAuthor))),
            "{action:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn inviting_someone_unknown_makes_nobody() {
    let app = Stores::new(false).build();
    let join = crate::model::Join::parse(Some("ghost"), Some("Ghost"), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let result = app
        .members
        .join(
            &scoped(only(Permission::InviteUsers)),
            chat_domain::RoomRef::Id(RoomId(5)),
            join,
        )
        .await;
    assert!(
        matches!(result, Err(AppError::NotFound(Resource::User))),
        "{result:?}"
    );
}
