//! Scoped credentials (scoped keys, signed tokens) on sockets: whom a room socket speaks
//! for, and the permission each frame needs.

use chat_domain::{CredentialKind, ExternalId, Permission, Permissions};

use super::*;
use crate::ports::CredentialOwner;

/// Bob (user 7, ChatAPI `user_id` "bob") with a scoped credential of `scope`.
fn scoped_bob(scope: Permissions) -> Actor {
    Actor::User {
        account: access(),
        user_id: UserId(7),
        role: Role::Agent,
        scope: Some(scope),
    }
}

fn bob() -> User {
    User {
        external_id: ExternalId::parse("bob").ok(),
        ..user(7)
    }
}

/// Bob's socket to room 5 with a scoped credential of `scope`.
fn scoped_socket(scope: Permissions) -> LiveSession {
    let actor = scoped_bob(scope);
    LiveSession {
        actor,
        credential: credential("sk_bob", actor),
        ..room_session(None)
    }
}

/// Ports that let Bob's scoped key of `scope` into room 5, of which he is a member.
fn bob_in_room(scope: Permissions) -> Ports {
    let mut credentials = MockCredentialStore::new();
    credentials.expect_find_credential().returning(move |_| {
        Ok(Some(CredentialOwner {
            kind: CredentialKind::ScopedKey,
            account: access(),
            account_active: true,
            user: Some((UserId(7), Role::Agent)),
            user_active: true,
            scope: Some(scope),
            expires_at: None,
        }))
    });
    let mut rooms = MockRoomStore::new();
    rooms.expect_find_room().returning(|_, _| Ok(room(ROOM)));
    rooms.expect_is_member().returning(|_, _, _| Ok(true));
    let mut users = MockUserDirectory::new();
    users.expect_find_users().returning(|_, _| Ok(vec![bob()]));
    Ports {
        credentials,
        rooms,
        users,
        ..Ports::default()
    }
}

fn room_5() -> String {
    Uuid::from_u128(ROOM.0 as u128).to_string()
}

#[tokio::test]
async fn a_scoped_room_socket_speaks_for_its_own_user_whatever_user_id_says_but_another() {
    let sessions = bob_in_room(Permissions::DEFAULT).sessions();
    for user_id in [None, Some(""), Some("bob"), Some(" bob ")] {
        let admitted = sessions
            .admit_room(Some("sk_bob"), &room_5(), user_id, None)
            .await;
        let session = admitted.unwrap_or_else(|e| panic!("{user_id:?}: {e}"));
        assert_eq!(session.actor, scoped_bob(Permissions::DEFAULT));
        assert_eq!(session.user_key().as_deref(), Some("bob"));
    }
    let refused = sessions
        .admit_room(Some("sk_bob"), &room_5(), Some("alice"), None)
        .await;
    assert!(matches!(refused, Err(Refusal::AccessDenied)), "{refused:?}");
}

#[tokio::test]
async fn a_scoped_credential_without_read_messages_opens_no_socket() {
    let writer = Permissions::NONE.with(Permission::SendMessages);
    let sessions = bob_in_room(writer).sessions();
    let refused = sessions
        .admit_room(Some("sk_bob"), &room_5(), None, None)
        .await;
    assert!(matches!(refused, Err(Refusal::AccessDenied)), "{refused:?}");
    let refused = sessions.admit_stream(Some("sk_bob"), "1").await;
    assert!(matches!(refused, Err(Refusal::AccessDenied)), "{refused:?}");
}

#[tokio::test]
async fn a_scoped_socket_missing_a_frames_permission_is_refused_that_frame() {
    let reader = Permissions::NONE.with(Permission::ReadMessages);
    let sessions = Ports::default().sessions();
    let denied = |p| FrameError::Refused(AppError::Forbidden(Denied::PermissionDenied(p)));
    let typing = LiveCommand::Typing {
        room: None,
        is_typing: Ok(true),
    };
    let refused = sessions.handle(&scoped_socket(reader), typing).await;
    assert_eq!(refused.err(), Some(denied(Permission::SendMessages)));
    let message = LiveCommand::Message {
        room: None,
        draft: Ok(MessageDraft::default()),
    };
    let refused = sessions.handle(&scoped_socket(reader), message).await;
    assert_eq!(refused.err(), Some(denied(Permission::SendMessages)));

    let writer = Permissions::NONE.with(Permission::SendMessages);
    let read = LiveCommand::Read {
        message: Ok(MessageRef::Id(MessageId(1))),
    };
    let refused = sessions.handle(&scoped_socket(writer), read).await;
    assert_eq!(refused.err(), Some(denied(Permission::ReadMessages)));
    let online = LiveCommand::OnlineUsers { room: None };
    let refused = sessions.handle(&scoped_socket(writer), online).await;
    assert_eq!(refused.err(), Some(denied(Permission::ReadMessages)));
    let pong = sessions
        .handle(&scoped_socket(Permissions::NONE), LiveCommand::Ping)
        .await;
    assert_eq!(pong.ok(), Some(Reply::Pong));
}

#[tokio::test]
async fn a_scoped_socket_with_send_messages_may_type() {
    let events = published();
    let sessions = Ports {
        hub: recording_hub(events.clone()),
        ..Ports::default()
    }
    .sessions();
    let typing = LiveCommand::Typing {
        room: None,
        is_typing: Ok(true),
    };
    let reply = sessions
        .handle(&scoped_socket(Permissions::DEFAULT), typing)
        .await;
    assert_eq!(reply.ok(), Some(Reply::Nothing));
    assert_eq!(taken(&events).len(), 1);
}

#[tokio::test]
async fn an_api_key_cannot_open_a_socket_for_a_deactivated_participant() {
    let mut credentials = MockCredentialStore::new();
    credentials.expect_find_credential().returning(|_| {
        Ok(Some(CredentialOwner {
            kind: CredentialKind::ApiKey,
            account: access(),
            account_active: true,
            user: None,
            user_active: true,
            scope: None,
            expires_at: None,
        }))
    });
    let mut rooms = MockRoomStore::new();
    rooms.expect_find_room().returning(|_, _| Ok(room(ROOM)));
    rooms.expect_is_member().returning(|_, _, _| Ok(true));
    let mut users = MockUserDirectory::new();
    users.expect_find_by_chat_id().returning(|_, _| {
        Ok(Some(User {
            is_active: false,
            ..bob()
        }))
    });
    let sessions = Ports {
        credentials,
        rooms,
        users,
        ..Ports::default()
    }
    .sessions();
    let refused = sessions
        .admit_room(Some("ck_key"), &room_5(), Some("bob"), None)
        .await;
    assert!(matches!(refused, Err(Refusal::AccessDenied)), "{refused:?}");
}
