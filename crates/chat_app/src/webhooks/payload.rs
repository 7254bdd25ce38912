//! The bytes and headers of one delivery, and their signature.

use chat_domain::WebhookSecret;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ports::Claimed;

/// The `User-Agent` of every delivery: `chat-rooms-webhooks/<version>`.
pub fn user_agent() -> String {
    format!("chat-rooms-webhooks/{}", env!("CARGO_PKG_VERSION"))
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &WebhookSecret, body: &[u8]) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).map(|mut mac| {
        mac.update(body);
        mac.finalize().into_bytes()
    });
    let mut out = String::from("sha256=");
    if let Ok(bytes) = mac {
        for b in bytes {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

/// The body of a delivery: `{id, event, created_at, data, meta}` as compact JSON.
pub(crate) fn body(claimed: &Claimed, data: Value) -> Vec<u8> {
    let created_at = claimed
        .event
        .created_at
        .format(&Rfc3339)
        .unwrap_or_default();
    let payload = json!({
        "id": format!("evt_{}", claimed.event.uuid.simple()),
        "event": claimed.event.event.as_str(),
        "created_at": created_at,
        "data": data,
        "meta": {
            "client_id": claimed.client_id,
            "webhook_id": claimed.webhook.uuid,
            "delivery_id": claimed.delivery_uuid,
            "attempt": claimed.attempt,
        },
    });
    serde_json::to_vec(&payload).unwrap_or_default()
}

/// The headers of a delivery: the webhook's custom ones first, then ours.
pub(crate) fn headers(
    claimed: &Claimed,
    body: &[u8],
    now: OffsetDateTime,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = claimed
        .webhook
        .custom_headers
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    headers.extend([
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("User-Agent".to_owned(), user_agent()),
        (
            "X-ChatAPI-Event".to_owned(),
            claimed.event.event.as_str().to_owned(),
        ),
        (
            "X-ChatAPI-Delivery".to_owned(),
            claimed.delivery_uuid.to_string(),
        ),
        (
            "X-ChatAPI-Timestamp".to_owned(),
            now.unix_timestamp().to_string(),
        ),
        (
            "X-ChatAPI-Signature".to_owned(),
            signature(&claimed.webhook.secret, body),
        ),
    ]);
    headers
}
