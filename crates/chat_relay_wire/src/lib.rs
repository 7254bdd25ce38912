//! Notices on the wire: the payload that carries a [`Notice`] from one server node to the
//! others, whatever carries it (PostgreSQL `LISTEN/NOTIFY` in `chat_relay_pg`, NATS in
//! `chat_relay_nats`).
//!
//! One crate for the format, so that every relay writes and reads the same bytes, and a
//! new `Notice` variant gets its wire form once. A payload is compact JSON naming the
//! sending node (which lets a node skip its own notices) and every field of the notice:
//! ids of what the tables hold, never a message's body, so a payload stays a few hundred
//! bytes. This crate sets no size limit: a transport with one (PostgreSQL's 8000 bytes)
//! checks it itself.

#![warn(missing_docs)]

mod form;

use anyhow::Context;
use chat_app::Notice;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::form::WireNotice;

/// A notice as it travels: the sending node, and the notice's every field. Compact JSON
/// (`{"node":"…","kind":"message_created","account":1,"room":2,"seq":3}`); fields a
/// later version adds are ignored by an earlier one.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    node: Uuid,
    #[serde(flatten)]
    notice: WireNotice,
}

/// The payload that carries `notice` from `node`: compact JSON (one line) of the node and
/// every field of the notice. Errors only if serialisation fails, which these plain
/// fields never make it do; a transport's size limit is the transport's to check.
pub fn encode_notice(node: Uuid, notice: &Notice) -> anyhow::Result<String> {
    serde_json::to_string(&Envelope {
        node,
        notice: WireNotice::from(notice),
    })
    .context("cannot encode a notice")
}

/// The sending node and the notice of a payload [`encode_notice`] wrote; `None` for
/// anything else (never a panic: payloads come from the network).
pub fn decode_notice(payload: &str) -> Option<(Uuid, Notice)> {
    let envelope: Envelope = serde_json::from_str(payload).ok()?;
    Some((envelope.node, envelope.notice.into_notice()?))
}

#[cfg(test)]
// Tests stop at the first surprise, with the reason.
#[allow(clippy::expect_used)]
mod tests;
