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
