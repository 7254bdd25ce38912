//! Rooms, in both dialects: their paths, creating them, the account's feature switch.

use awc::http::Method;
use serde_json::Value;

use crate::app::{TestApp, api_key_header, platform_auth};

/// The ChatAPI rooms collection.
pub const ROOMS: &str = "/api/v1/rooms";

/// The ChatAPI path of one room.
pub fn room_path(uuid: &str) -> String {
    format!("{ROOMS}/{uuid}")
}

/// The account dialect's rooms collection of account `account_id`.
pub fn chat_rooms_path(account_id: impl std::fmt::Display) -> String {
    format!("/api/v1/accounts/{account_id}/chat_rooms")
}

/// The account dialect's path of one room.
pub fn chat_room_path(account_id: impl std::fmt::Display, id: impl std::fmt::Display) -> String {
    format!("/api/v1/accounts/{account_id}/chat_rooms/{id}")
}

impl TestApp {
    /// Creates a ChatAPI room with `credential` (`201` expected); answers its `data`.
    pub async fn create_room(&self, credential: &str, body: Value) -> Value {
        let reply = self
            .json(Method::POST, ROOMS, &[api_key_header(credential)], &body)
            .await;
        assert_eq!(reply.status, 201, "creating room {body}: {}", reply.text());
        reply.json()["data"].clone()
    }

    /// Creates an account-dialect room in `account_id` with `credential` (`200` expected);
    /// answers it.
    pub async fn create_chat_room(
        &self,
        account_id: i64,
        credential: &str,
        name: &str,
        description: Option<&str>,
    ) -> Value {
        let body = serde_json::json!({ "chat_room": { "name": name, "description": description } });
        let reply = self
            .json(
                Method::POST,
                &chat_rooms_path(account_id),
                &[("api_access_token", credential)],
                &body,
            )
            .await;
        assert_eq!(
            reply.status,
            200,
            "creating chat room {body}: {}",
            reply.text()
        );
        reply.json()
    }

    /// Turns the account's `chat_rooms` feature on or off with the platform API.
    pub async fn set_chat_rooms_feature(&self, account_id: i64, enabled: bool) {
        let reply = self
            .json(
                Method::PATCH,
                &format!("/platform/api/v1/accounts/{account_id}"),
                &[platform_auth()],
                &serde_json::json!({ "features": { "chat_rooms": enabled } }),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
}
