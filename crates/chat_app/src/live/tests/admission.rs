//! Admission: who may open a socket, and what a refusal is.

use super::*;

#[test]
fn use_case_errors_become_refusals() {
    let cases = [
        (AppError::Unauthenticated, "unauthorized"),
        (AppError::WrongAccount, "unauthorized"),
        (AppError::NotFound(Resource::Room), "room not found"),
        (AppError::NotFound(Resource::User), "unauthorized"),
        (AppError::Forbidden(Denied::NotMember), "access denied"),
        (
            AppError::Forbidden(Denied::FeatureDisabled("chat_rooms")),
            "access denied",
        ),
        (
            AppError::Conflict(Conflict::RoomInactive),
            "admission failed: conflict: the room is inactive",
        ),
    ];
    for (error, refusal) in cases {
        assert_eq!(Refusal::from(error).to_string(), refusal);
    }
}

#[tokio::test]
async fn a_socket_without_a_token_or_with_the_platform_token_is_unauthorized() {
    let sessions = Ports::default().sessions();
    let room = Uuid::from_u128(5).to_string();
    for token in [None, Some(""), Some("  ")] {
        let refused = sessions.admit_room(token, &room, None, None).await;
        assert!(matches!(refused, Err(Refusal::Unauthorized)), "{token:?}");
    }
    let refused = sessions.admit_room(Some(PLATFORM), &room, None, None).await;
    assert!(matches!(refused, Err(Refusal::Unauthorized)));
    let refused = sessions.admit_stream(Some(PLATFORM), "1").await;
    assert!(matches!(refused, Err(Refusal::Unauthorized)));
}

#[tokio::test]
async fn a_room_that_is_no_uuid_is_not_found_and_a_bad_since_seq_is_refused() {
    let sessions = Ports::default().sessions();
    let refused = sessions
        .admit_room(Some(PLATFORM), "room-5", None, None)
        .await;
    assert!(matches!(refused, Err(Refusal::RoomNotFound)));
    let room = Uuid::from_u128(5).to_string();
    for since in ["-1", "x", "1.5"] {
        let refused = sessions
            .admit_room(Some(PLATFORM), &room, None, Some(since))
            .await;
        assert!(matches!(refused, Err(Refusal::InvalidSince)), "{since}");
    }
    let refused = sessions.admit_stream(Some(PLATFORM), "one").await;
    assert!(matches!(refused, Err(Refusal::Unauthorized)));
}
