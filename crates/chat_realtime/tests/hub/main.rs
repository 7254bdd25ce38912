//! The live-event hub over mocked ports: subscriptions and where they start, ordered
//! fan-out with gap reads, notices from other nodes, resync, typing, slow
//! connections, room deletion, user streams following their user, batched
//! delivered positions and unsubscription.
//!
//! The message store's mock serves a small in-memory table (each test commits the
//! messages it publishes, as the use cases do before publishing) and records every
//! read and every delivered position written; the relay is a recorder.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

mod connections;
mod conversations;
mod harness;
mod ordering;
