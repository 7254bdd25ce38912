//! The ids of account-dialect paths: integers. A segment that is not one names nothing
//! (404).

use chat_app::{AppError, Resource};
use chat_domain::{AccountId, MessageId, MessageRef, RoomId, RoomRef};

use crate::extract::{FromPath, PathIds};

/// `/platform/api/v1/accounts/{id}/…`: the account.
pub type AccountPath = PathIds<AccountSegment>;

/// `/api/v1/accounts/{account_id}/chat_rooms/{id}/…`: the account and the room.
pub type ChatRoomPath = PathIds<ChatRoomSegments>;

/// An account-dialect account id; anything but an integer names no account.
pub(crate) fn account_id(raw: &str) -> Result<AccountId, AppError> {
    raw.parse::<i64>()
        .map(AccountId)
        .map_err(|_| AppError::NotFound(Resource::Account))
}

/// An account-dialect room id; anything but an integer names no room.
pub(crate) fn room_ref(raw: &str) -> Result<RoomRef, AppError> {
    raw.parse::<i64>()
        .map(|id| RoomRef::Id(RoomId(id)))
        .map_err(|_| AppError::NotFound(Resource::Room))
}

/// Reads an account id from the first segment.
#[derive(Debug)]
pub struct AccountSegment;

impl FromPath for AccountSegment {
    type Ids = AccountId;

    fn from_path(segments: &[String]) -> Result<AccountId, AppError> {
        account_id(segments.first().map_or("", String::as_str))
    }
}

/// A chat room of an account.
#[derive(Debug, Clone, Copy)]
pub struct ChatRoomIds {
    pub account: AccountId,
    pub room: RoomRef,
}

/// Reads the account from the first segment and the room from the second.
#[derive(Debug)]
pub struct ChatRoomSegments;

impl FromPath for ChatRoomSegments {
    type Ids = ChatRoomIds;

    fn from_path(segments: &[String]) -> Result<ChatRoomIds, AppError> {
        let segment = |index: usize| segments.get(index).map_or("", String::as_str);
        Ok(ChatRoomIds {
            account: account_id(segment(0))?,
            room: room_ref(segment(1))?,
        })
    }
}

/// `/api/v1/accounts/{account_id}/chat_rooms/{chat_room_id}/messages/{id}/…`: the
/// account, the room and the message.
pub type ChatMessagePath = PathIds<ChatMessageSegments>;

/// A message of a chat room of an account.
#[derive(Debug, Clone, Copy)]
pub struct ChatMessageIds {
    pub account: AccountId,
    pub room: RoomRef,
    pub message: MessageRef,
}

/// Reads the account, the room and the message from the first three segments.
#[derive(Debug)]
pub struct ChatMessageSegments;

impl FromPath for ChatMessageSegments {
    type Ids = ChatMessageIds;

    fn from_path(segments: &[String]) -> Result<ChatMessageIds, AppError> {
        let room = ChatRoomSegments::from_path(segments)?;
        let message = segments
            .get(2)
            .and_then(|raw| raw.parse::<i64>().ok())
            .map(|id| MessageRef::Id(MessageId(id)))
            .ok_or(AppError::NotFound(Resource::Message))?;
        Ok(ChatMessageIds {
            account: room.account,
            room: room.room,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::path::segments;

    #[test]
    fn integers_name_an_account_and_a_room() {
        let ids = ChatRoomSegments::from_path(&segments(&["7", "42"]));
        assert!(matches!(
            ids,
            Ok(ChatRoomIds {
                account: AccountId(7),
                room: RoomRef::Id(RoomId(42))
            })
        ));
        assert!(matches!(
            AccountSegment::from_path(&segments(&["7"])),
            Ok(AccountId(7))
        ));
    }

    #[test]
    fn anything_else_names_nothing() {
        for raw in [&["x"][..], &["1.5"], &[]] {
            assert!(matches!(
                AccountSegment::from_path(&segments(raw)),
                Err(AppError::NotFound(Resource::Account))
            ));
        }
        assert!(matches!(
            ChatRoomSegments::from_path(&segments(&["7", "general"])),
            Err(AppError::NotFound(Resource::Room))
        ));
        assert!(matches!(
            ChatRoomSegments::from_path(&segments(&["7"])),
            Err(AppError::NotFound(Resource::Room))
        ));
    }

    #[test]
    fn a_message_path_names_the_account_the_room_and_the_message() {
        assert!(matches!(
            ChatMessageSegments::from_path(&segments(&["7", "42", "9"])),
            Ok(ChatMessageIds {
                account: AccountId(7),
                room: RoomRef::Id(RoomId(42)),
                message: MessageRef::Id(MessageId(9)),
            })
        ));
        assert!(matches!(
            ChatMessageSegments::from_path(&segments(&["7", "42", "x"])),
            Err(AppError::NotFound(Resource::Message))
        ));
        assert!(matches!(
            ChatMessageSegments::from_path(&segments(&["7", "room", "9"])),
            Err(AppError::NotFound(Resource::Room))
        ));
    }
}
