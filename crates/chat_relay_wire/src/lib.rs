//! Notices on the wire: the payload that carries a [`Notice`] from one server node to the
//! others, whatever carries it (PostgreSQL `LISTEN/NOTIFY` in `chat_relay_pg`, NATS in
//! `chat_relay_nats`).
//!
//! One crate for the format, so that every relay writes and reads the same bytes, and a
//! new `Notice` variant gets its wire form once. A payload is compact JSON naming the
//! sending node (which lets a node skip its own notices) and every field of the notice:
//! ids of what the tables hold, and a new message whole when it fits the transport's
//! limit (`message`), so that the receiving nodes deliver it without reading it back.
//! A message too large for the limit, or with more than sending gives it (files,
//! reactions...), travels as its ids and is read from the tables.

#![warn(missing_docs)]

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
mod form;
mod message;

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

/// The payload of at most `max_bytes` that carries `notice` from `node`: compact JSON
/// (one line) of the node and every field of the notice. A new message travels whole
/// when the payload then stays within `max_bytes`, and by its ids otherwise. Errors when
/// even that does not fit (a typing signal with an enormous name, on a transport with a
/// small limit).
pub fn encode_notice(node: Uuid, notice: &Notice, max_bytes: usize) -> anyhow::Result<String> {
    let mut envelope = Envelope {
        node,
        notice: WireNotice::from(notice),
    };
    let mut payload = serde_json::to_string(&envelope).context("cannot encode a notice")?;
    if payload.len() > max_bytes && envelope.notice.drop_message() {
        payload = serde_json::to_string(&envelope).context("cannot encode a notice")?;
    }
    if payload.len() > max_bytes {
        anyhow::bail!(
            "a notice of {} bytes does not fit the relay's payloads (at most {max_bytes})",
            payload.len()
        );
    }
    Ok(payload)
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
