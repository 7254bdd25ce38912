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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use chat_app::Mention;
    use chat_domain::{Content, MessageKind, MessageMeta, RoomId, Sender, UserId};
    use diesel::RunQueryDsl;

    use super::*;
    use crate::send_queue::SendQueue;
    use crate::{PgStore, PoolOptions};

    /// A plain message by user 1, mentioning user 2 when `mention` (no longer plain).
    fn rules(mention: bool) -> SendRules {
        Box::new(move |context| {
            Ok(NewMessage {
                sender: Sender::User {
                    id: UserId(1),
                    label: "1".to_owned(),
                },
                sender_name: None,
                content: Content::parse("hello").unwrap_or_else(|e| panic!("content: {e:?}")),
                kind: MessageKind::Text,
                meta: MessageMeta::default(),
                reply_to: None,
                echo_id: None,
                attachments: Vec::new(),
                mentions: if mention {
                    vec![Mention::Id(UserId(2))]
                } else {
                    Vec::new()
                },
            })
            .inspect(|_| assert_eq!(context.room.id, RoomId(1)))
        })
    }

    /// Where a send ends on its blocking thread: alone, stored on its own connection; among
    /// other sends in progress, a plain one is handed to the group commit thread (nothing
    /// stored yet) and any other stored where it is.
    #[test]
    fn a_plain_send_among_others_goes_to_the_group_commit_thread() {
        let db = crate::testing::migrated_database();
        let store = PgStore::connect(db.url(), PoolOptions::default())
            .unwrap_or_else(|e| panic!("a store: {e:#}"));
        let mut conn = crate::checkout(&store.pool).unwrap_or_else(|e| panic!("{e}"));
        for sql in [
            "INSERT INTO accounts (name) VALUES ('one')",
            "INSERT INTO users (account_id, name, role) VALUES (1, 'Ann', 'agent'), \
             (1, 'Ben', 'agent')",
            "INSERT INTO rooms (account_id, name) VALUES (1, 'General')",
            "INSERT INTO room_members (account_id, room_id, user_id) VALUES (1, 1, 1), (1, 1, 2)",
        ] {
            diesel::sql_query(sql)
                .execute(&mut **conn)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        drop(conn);
        let (jobs, _thread) = mpsc::channel();
        let queue = SendQueue::new(jobs);
        let step = |turn: &Turn, mention: bool| {
            let speaker = Some(Speaker::Id(UserId(1)));
            let room = RoomRef::Id(RoomId(1));
            send(
                &store.pool,
                turn,
                AccountId(1),
                room,
                speaker,
                None,
                rules(mention),
            )
            .unwrap_or_else(|e| panic!("a send: {e}"))
        };
        let seq_of = |step: Step| match step {
            Step::Done(outcome) => match *outcome {
                Ok(Ok(sent)) => sent.message.seq.0,
                other => panic!("not stored: {other:?}"),
            },
            Step::Queue(_) => panic!("queued"),
        };

        let alone = queue.begin();
        assert_eq!(seq_of(step(&alone, false)), 1);
        let other = queue.begin();
        match step(&alone, false) {
            Step::Queue(queued) => assert_eq!(queued.0.id, RoomId(1)),
            Step::Done(outcome) => panic!("stored where it was: {outcome:?}"),
        }
        // Not plain (a mention): stored where it is, crowded or not.
        assert_eq!(seq_of(step(&alone, true)), 2);
        drop(other);
        assert_eq!(seq_of(step(&alone, false)), 3);
    }
}
