//! Messages, in both dialects: paths, sending, listing, reading positions.

use awc::http::Method;
use serde_json::Value;

use crate::app::{Reply, TestApp, api_key_header};
use crate::rooms::{ROOMS, chat_room_path, room_path};

/// The ChatAPI path of one message.
pub fn message_path(uuid: &str) -> String {
    format!("/api/v1/messages/{uuid}")
}

/// The ChatAPI messages path of room `uuid`.
pub fn room_messages_path(uuid: &str) -> String {
    format!("{ROOMS}/{uuid}/messages")
}

/// The account dialect's messages path of room `id`.
pub fn chat_messages_path(
    account_id: impl std::fmt::Display,
    id: impl std::fmt::Display,
) -> String {
    format!("/api/v1/accounts/{account_id}/chat_rooms/{id}/messages")
}

/// The seqs of a ChatAPI message list (`{data: [...]}`), in order.
pub fn seqs_of(list: &Value) -> Vec<i64> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data is not an array: {list}"))
        .iter()
        .map(|m| {
            m["seq"]
                .as_i64()
                .unwrap_or_else(|| panic!("no integer seq in {m}"))
        })
        .collect()
}

impl TestApp {
    /// `POST /api/v1/rooms/{uuid}/messages` with `body`, as `credential`.
    pub async fn post_message(&self, credential: &str, uuid: &str, body: &Value) -> Reply {
        self.json(
            Method::POST,
            &room_messages_path(uuid),
            &[api_key_header(credential)],
            body,
        )
        .await
    }

    /// Sends a ChatAPI message expecting `201`; answers its `data`.
    pub async fn send_message_ok(&self, credential: &str, uuid: &str, body: Value) -> Value {
        let reply = self.post_message(credential, uuid, &body).await;
        assert_eq!(reply.status, 201, "sending {body}: {}", reply.text());
        reply.json()["data"].clone()
    }

    /// `GET /api/v1/rooms/{uuid}/messages?{query}` as `credential`, expecting 200; answers
    /// the whole body.
    pub async fn list_messages(&self, credential: &str, uuid: &str, query: &str) -> Value {
        let reply = self
            .get(
                &format!("{}?{query}", room_messages_path(uuid)),
                &[api_key_header(credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "listing ?{query}: {}", reply.text());
        reply.json()
    }

    /// The ChatAPI `message_count` of room `uuid`.
    pub async fn message_count(&self, credential: &str, uuid: &str) -> i64 {
        let reply = self
            .get(&room_path(uuid), &[api_key_header(credential)])
            .await;
        assert_eq!(reply.status, 200, "reading room: {}", reply.text());
        reply.json()["data"]["message_count"]
            .as_i64()
            .unwrap_or_else(|| panic!("no message_count in {}", reply.text()))
    }

    /// `POST` an account-dialect message `body` to room `id` as `credential`.
    pub async fn post_chat_message(
        &self,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
        body: &Value,
    ) -> Reply {
        self.json(
            Method::POST,
            &chat_messages_path(account_id, id),
            &[("api_access_token", credential)],
            body,
        )
        .await
    }

    /// Sends `{"chat_room_message": {"content": content}}` to room `id` as `credential`,
    /// expecting 200; answers the message.
    pub async fn send_chat_message_ok(
        &self,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
        content: &str,
    ) -> Value {
        let reply = self
            .post_chat_message(
                account_id,
                id,
                credential,
                &serde_json::json!({ "chat_room_message": { "content": content } }),
            )
            .await;
        assert_eq!(reply.status, 200, "sending {content:?}: {}", reply.text());
        reply.json()
    }

    /// The account-dialect messages of room `id` (`?{query}`) as `credential` sees them,
    /// expecting 200.
    pub async fn chat_messages(
        &self,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
        query: &str,
    ) -> Vec<Value> {
        let reply = self
            .get(
                &format!("{}?{query}", chat_messages_path(account_id, id)),
                &[("api_access_token", credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "messages ?{query}: {}", reply.text());
        reply
            .json()
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("messages is not an array: {}", reply.text()))
    }

    /// `POST …/chat_rooms/{id}/mark_as_read` as `credential`.
    pub async fn mark_as_read(
        &self,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
    ) -> Reply {
        self.send(
            Method::POST,
            &format!("{}/mark_as_read", chat_room_path(account_id, id)),
            &[("api_access_token", credential)],
            None,
        )
        .await
    }

    /// The `unread_count` of account-dialect room `id` as `credential` sees it.
    pub async fn unread_count(
        &self,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
    ) -> i64 {
        let reply = self
            .get(
                &chat_room_path(account_id, id),
                &[("api_access_token", credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "reading chat room: {}", reply.text());
        reply.json()["unread_count"]
            .as_i64()
            .unwrap_or_else(|| panic!("no unread_count in {}", reply.text()))
    }
}
