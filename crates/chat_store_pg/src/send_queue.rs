//! The queue of group commit: plain sends waiting for the thread that stores them
//! together (`messages::committer`, which starts it with the first plain send).

use std::sync::mpsc::Sender;

use anyhow::anyhow;
use chat_app::{NewMessage, StoreError};
use chat_domain::{AccountId, Message, RoomId};
use tokio::sync::oneshot;

/// What a send answers: the message, and whether it is new.
pub(crate) type Answer = Result<(Message, bool), StoreError>;

/// A send waiting for the thread.
pub(crate) struct Job {
    pub(crate) account: AccountId,
    pub(crate) room: RoomId,
    pub(crate) new: NewMessage,
    pub(crate) answer: oneshot::Sender<Answer>,
}

/// The way to the thread; the thread ends when this is dropped.
#[derive(Debug)]
pub(crate) struct SendQueue {
    queue: Sender<Job>,
}

impl SendQueue {
    pub(crate) fn new(queue: Sender<Job>) -> Self {
        Self { queue }
    }

    /// Hands `new` to the thread and waits for its answer.
    pub(crate) async fn append(&self, account: AccountId, room: RoomId, new: NewMessage) -> Answer {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            account,
            room,
            new,
            answer,
        };
        self.queue
            .send(job)
            .map_err(|_| StoreError::Unexpected(anyhow!("the send thread has stopped")))?;
        answered
            .await
            .map_err(|_| StoreError::Unexpected(anyhow!("the send thread dropped a send")))?
    }
}
