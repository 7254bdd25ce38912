//! The `data` of webhook payloads, in the ChatAPI rendering: the same message and room
//! JSON as the REST answers and live events (`chatapi::json`).

use chat_app::{MessageView, RoomView, WebhookRenderer};
use chat_domain::User;
use serde_json::Value;
use uuid::Uuid;

use super::json::{MessageJson, RoomJson};
use crate::links::Links;
use crate::signing::UrlSigner;

/// Renders payloads' `data` as the ChatAPI dialect does. File URLs start with the
/// public URL (`CHAT_PUBLIC_URL`, else the server's own address) and are signed afresh
/// at each delivery.
#[derive(Debug, Clone)]
pub struct ChatApiRenderer {
    base: String,
    signer: UrlSigner,
    ttl_secs: i64,
}

impl ChatApiRenderer {
    /// File URLs start with `base` and work for `ttl_secs`.
    pub fn new(base: impl Into<String>, signer: UrlSigner, ttl_secs: i64) -> Self {
        Self {
            base: base.into(),
            signer,
            ttl_secs,
        }
    }

    fn links(&self) -> Links {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Links::new(self.base.clone(), self.signer.clone(), now, self.ttl_secs)
    }
}

/// The client id is not known to the renderer (a view holds the account's integer id):
/// the delivery fills `client_id` in from the claimed delivery.
const UNKNOWN_CLIENT: Uuid = Uuid::nil();

fn to_value(json: impl serde::Serialize) -> Value {
    serde_json::to_value(json).unwrap_or_else(|error| {
        tracing::error!(error = %error, "a webhook payload could not be rendered");
        Value::Null
    })
}

impl WebhookRenderer for ChatApiRenderer {
    fn message(&self, view: &MessageView) -> Value {
        to_value(MessageJson::new(
            view.clone(),
            UNKNOWN_CLIENT,
            &self.links(),
        ))
    }

    fn room(&self, view: &RoomView) -> Value {
        to_value(RoomJson::new(view.room.clone(), UNKNOWN_CLIENT))
    }

    fn user_id(&self, user: &User) -> Value {
        Value::String(user.chat_user_id())
    }
}
