//! The queue of group commit: plain sends waiting for the thread that stores them
//! together (`messages::committer`, which starts it with the first plain send), and the
//! count of sends in progress that tells a send whether to wait for that thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// Sends in progress ([`SendQueue::begin`]).
    sending: Arc<AtomicUsize>,
}

impl SendQueue {
    pub(crate) fn new(queue: Sender<Job>) -> Self {
        Self {
            queue,
            sending: Arc::new(AtomicUsize::new(0)),
        }
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

    /// Counts a send in progress until the turn is dropped.
    pub(crate) fn begin(&self) -> Turn {
        self.sending.fetch_add(1, Ordering::AcqRel);
        Turn {
            sending: Arc::clone(&self.sending),
        }
    }
}

/// A send in progress ([`SendQueue::begin`]).
#[derive(Debug)]
pub(crate) struct Turn {
    sending: Arc<AtomicUsize>,
}

impl Turn {
    /// Whether other sends are in progress too. A plain send then goes to the thread, to
    /// be stored with them in one statement; alone, it is stored where it is, without
    /// the hop to the thread and back.
    pub(crate) fn crowded(&self) -> bool {
        self.sending.load(Ordering::Acquire) > 1
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.sending.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    /// A send alone is not crowded; two at once are, each; once one ends, the other is
    /// alone again.
    #[test]
    fn a_turn_counts_the_sends_in_progress() {
        let (queue, _jobs) = mpsc::channel();
        let queue = SendQueue::new(queue);
        let first = queue.begin();
        assert!(!first.crowded());
        let second = queue.begin();
        assert!(first.crowded() && second.crowded());
        drop(first);
        assert!(!second.crowded());
        drop(second);
        assert!(!queue.begin().crowded());
    }
}
