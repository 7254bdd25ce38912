//! Helpers of the use cases' unit tests.

use chat_domain::{AccountId, Message, MessageRef, Room, RoomId, RoomRef};

use crate::error::AppError;
use crate::model::{ListedRoom, NewMessage, SendContext, SendRules, Sent, Speaker, Unread};
use crate::ports::StoreError;

/// What a mock's `send` answers.
type SendAnswer = Result<Result<Sent, AppError>, StoreError>;

/// A [`crate::MessageStore::send`] for a mock's `expect_send().returning(…)`, as the store
/// runs it: reads the context with `context`, runs the use case's rules on it, and stores
/// what they answer with `store` (never called for a refused send).
pub(crate) fn send_with<C, S>(
    context: C,
    store: S,
) -> impl FnMut(AccountId, RoomRef, Option<Speaker>, Option<MessageRef>, SendRules) -> SendAnswer
+ Send
+ 'static
where
    C: Fn(
            AccountId,
            RoomRef,
            Option<Speaker>,
            Option<MessageRef>,
        ) -> Result<SendContext, StoreError>
        + Send
        + 'static,
    S: Fn(AccountId, RoomId, NewMessage) -> Result<(Message, bool), StoreError> + Send + 'static,
{
    move |account, room, speaker, reply_to, rules| {
        let context = context(account, room, speaker, reply_to)?;
        let new = match rules(&context) {
            Ok(new) => new,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let (message, created) = store(account, context.room.id, new)?;
        Ok(Ok(Sent {
            room: context.room,
            message,
            created,
        }))
    }
}

/// `room` as a mock's `list_rooms` answers it with nothing along: no unread counts, no
/// members.
pub(crate) fn listed(room: Room) -> ListedRoom {
    ListedRoom {
        room,
        unread: Unread::default(),
        members: None,
    }
}

/// An active room `id` of `account` named "General", with two members and no message.
pub(crate) fn room(account: AccountId, id: RoomId) -> Room {
    let at = time::macros::datetime!(2024-01-01 0:00 UTC);
    Room {
        id,
        uuid: uuid::Uuid::from_u128(id.0.unsigned_abs().into()),
        account_id: account,
        name: chat_domain::RoomName::parse("General").unwrap_or_else(|e| panic!("{e}")),
        description: None,
        meta: chat_domain::RoomMeta::default(),
        is_active: true,
        avatar: None,
        member_count: 2,
        message_count: 0,
        last_message_at: at,
        created_at: at,
        updated_at: at,
    }
}

/// An active agent `id` of `account` named "User {id}", without an external id.
pub(crate) fn user(account: AccountId, id: chat_domain::UserId) -> chat_domain::User {
    let at = time::macros::datetime!(2024-01-01 0:00 UTC);
    chat_domain::User {
        id,
        account_id: account,
        external_id: None,
        name: chat_domain::PersonName::parse(&format!("User {}", id.0))
            .unwrap_or_else(|e| panic!("{e}")),
        email: None,
        role: chat_domain::Role::Agent,
        availability: chat_domain::Availability::Offline,
        confirmed: true,
        is_active: true,
        meta: chat_domain::UserMeta::default(),
        created_at: at,
        updated_at: at,
    }
}
