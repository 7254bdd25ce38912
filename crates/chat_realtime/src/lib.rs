//! The hub of live connections on one server node.
//!
//! A connection subscribes to one room, or to every room of a user, and receives
//! [`Delivery`](chat_app::Delivery)s through its own bounded queue. One dispatcher task
//! owns every subscription and handles, in order, the events published on this node,
//! the [`Notice`](chat_app::Notice)s relayed from other nodes, and (un)subscriptions —
//! so a subscription takes effect at a precise point in the stream of events, which is
//! what makes recovery (`since_seq`) exact.
//!
//! New messages go through a sequencer: each room's messages are delivered in `seq`
//! order, each once. A message whose predecessors have not been seen here (a notice
//! lost, or two sends published out of order) makes the hub read the missing ones from
//! the database first — the tables are the truth, notices only wake the hub up.
//!
//! A connection that does not drain its queue is dropped (its queue closes, and its
//! task closes the socket) instead of slowing the others: fan-out never waits.
//!
//! Credential changes (`DomainEvent::Credentials`, published here or relayed) are
//! delivered to no socket: the hub hands them to its credential watchers (the live
//! sessions, which re-check their sockets off the hub's task), and tells them to
//! re-check everything after the relay reconnects.
//!
//! The [`Hub`] implements `chat_app::LiveHub`; the subscription data (`Scope`,
//! `Connection`, `Delivery`...) are `chat_app`'s.
//!
//! - [`hub`]: the public handle;
//! - `dispatcher`: the task owning the subscriptions; `sequencer`: ordered new
//!   messages; `remote`: notices from other nodes; `fanout`: delivery to connections;
//! - `reads`: paged reads by `seq`; `tasks`: delivered positions and the presence
//!   heartbeat.

mod config;
mod dispatcher;
mod fanout;
pub mod hub;
mod reads;
mod remote;
mod sequencer;
mod tasks;

pub use config::{HubConfig, HubStores};
pub use hub::{Hub, NoRelay};
pub use reads::read_after;
