//! A send as one unit of work ([`chat_app::MessageStore::send`]): one blocking task on
//! one pooled connection reads the send's context, runs the use case's rules on it and
//! stores the message they answer: one hop to a blocking thread and back, and the round
//! trips of its statements.
//!
//! A plain send ([`batch::is_plain`]) that finds other sends in progress leaves its
//! connection to the pool and goes to the group commit thread instead
//! ([`super::committer`]), which stores it with them in one statement. Alone, it is
//! stored on its own connection: the hop to the thread would only add a wake-up.

use chat_app::{AppError, NewMessage, SendRules, Sent, Speaker, StoreError};
use chat_domain::{AccountId, MessageRef, Room, RoomRef};

use super::{append, batch, context};
use crate::Pool;
use crate::send_queue::Turn;

/// What [`chat_app::MessageStore::send`] answers.
pub(super) type Outcome = Result<Result<Sent, AppError>, StoreError>;

/// Where a send ends on its blocking thread.
pub(super) enum Step {
    /// Stored or refused: the answer.
    Done(Box<Outcome>),
    /// Allowed, to be stored by the group commit thread: the room and the message.
    Queue(Box<(Room, NewMessage)>),
}

/// The send's context, rules and (unless it goes to the group commit thread) storing,
/// on the calling blocking thread; `turn` counts it among the sends in progress.
pub(super) fn send(
    pool: &Pool,
    turn: &Turn,
    account: AccountId,
    room: RoomRef,
    speaker: Option<Speaker>,
    reply_to: Option<MessageRef>,
    rules: SendRules,
) -> Result<Step, StoreError> {
    let mut conn = crate::checkout(pool)?;
    let context = context::send_context(&mut conn, account, room, speaker, reply_to)?;
    let new = match rules(&context) {
        Ok(new) => new,
        Err(refusal) => return Ok(Step::Done(Box::new(Ok(Err(refusal))))),
    };
    let room = context.room;
    if batch::is_plain(&new) && turn.crowded() {
        return Ok(Step::Queue(Box::new((room, new))));
    }
    let (message, created) = append::append(&mut conn, account, room.id, new)?;
    Ok(Step::Done(Box::new(Ok(Ok(Sent {
        room,
        message,
        created,
    })))))
}
