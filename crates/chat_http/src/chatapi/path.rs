//! The ids of ChatAPI paths: UUIDs for rooms and messages (a segment that is not one
//! names nothing: 404), the integrator's `user_id` for users.

use chat_app::{AppError, Resource, WebhookRef};
use chat_domain::{MessageRef, RoomRef};
use uuid::Uuid;

use crate::extract::{FromPath, PathIds};

/// `/rooms/{room_id}/…`: the room.
pub type RoomPath = PathIds<RoomSegment>;

/// `/messages/{message_id}/…`: the message.
pub type MessagePath = PathIds<MessageSegment>;

/// `/users/{user_id}/…`: the user, by its ChatAPI `user_id`.
pub type UserPath = PathIds<UserSegment>;

/// `/webhooks/{webhook_id}/…`: the webhook, by its UUID.
pub type WebhookPath = PathIds<WebhookSegment>;

/// Reads a webhook's UUID from the first segment.
#[derive(Debug)]
pub struct WebhookSegment;

impl FromPath for WebhookSegment {
    type Ids = WebhookRef;

    fn from_path(segments: &[String]) -> Result<WebhookRef, AppError> {
        uuid(segments, Resource::Webhook).map(WebhookRef::Uuid)
    }
}

/// Reads a user's ChatAPI `user_id` (its external id, or its integer id as text) from the
/// first segment, as given: the use case looks it up (`USER_NOT_FOUND` when none).
#[derive(Debug)]
pub struct UserSegment;

impl FromPath for UserSegment {
    type Ids = String;

    fn from_path(segments: &[String]) -> Result<String, AppError> {
        segments
            .first()
            .filter(|raw| !raw.is_empty())
            .cloned()
            .ok_or(AppError::NotFound(Resource::User))
    }
}

/// Reads a room's UUID from the first segment.
#[derive(Debug)]
pub struct RoomSegment;

impl FromPath for RoomSegment {
    type Ids = RoomRef;

    fn from_path(segments: &[String]) -> Result<RoomRef, AppError> {
        uuid(segments, Resource::Room).map(RoomRef::Uuid)
    }
}

/// Reads a message's UUID from the first segment.
#[derive(Debug)]
pub struct MessageSegment;

impl FromPath for MessageSegment {
    type Ids = MessageRef;

    fn from_path(segments: &[String]) -> Result<MessageRef, AppError> {
        uuid(segments, Resource::Message).map(MessageRef::Uuid)
    }
}

/// The first segment as a UUID; anything else names no `resource`.
fn uuid(segments: &[String], resource: Resource) -> Result<Uuid, AppError> {
    segments
        .first()
        .and_then(|raw| Uuid::parse_str(raw).ok())
        .ok_or(AppError::NotFound(resource))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::path::segments;

    #[test]
    fn a_uuid_names_a_room_and_anything_else_none() {
        let id = Uuid::new_v4();
        assert!(matches!(
            RoomSegment::from_path(&segments(&[&id.to_string()])),
            Ok(RoomRef::Uuid(found)) if found == id
        ));
        for raw in [&["not-a-uuid"][..], &["42"], &[]] {
            assert!(matches!(
                RoomSegment::from_path(&segments(raw)),
                Err(AppError::NotFound(Resource::Room))
            ));
            assert!(matches!(
                MessageSegment::from_path(&segments(raw)),
                Err(AppError::NotFound(Resource::Message))
            ));
            assert!(matches!(
                WebhookSegment::from_path(&segments(raw)),
                Err(AppError::NotFound(Resource::Webhook))
            ));
        }
    }

    #[test]
    fn a_user_segment_is_taken_as_given_and_none_names_no_user() {
        assert!(matches!(
            UserSegment::from_path(&segments(&["crm user/7"])),
            Ok(found) if found == "crm user/7"
        ));
        assert!(matches!(
            UserSegment::from_path(&segments(&[])),
            Err(AppError::NotFound(Resource::User))
        ));
    }
}
