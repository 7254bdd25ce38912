//! Membership, in both dialects: paths, the member shape, joining and leaving.

use awc::http::Method;
use serde_json::Value;

use crate::app::{Reply, TestApp, api_key_header};
use crate::assertions::str_of;
use crate::rooms::{ROOMS, chat_room_path, chat_rooms_path, room_path};

/// The ChatAPI path of a room's participant route `action` (`join`, `leave`,
/// `participants`, `online`).
pub fn room_action_path(uuid: &str, action: &str) -> String {
    format!("{ROOMS}/{uuid}/{action}")
}

/// The account dialect's members path of room `id`.
pub fn members_path(account_id: impl std::fmt::Display, id: impl std::fmt::Display) -> String {
    format!("/api/v1/accounts/{account_id}/chat_rooms/{id}/members")
}

/// A user (as the platform API answers it) as the account dialect renders a member.
pub fn member_json(user: &Value) -> Value {
    serde_json::json!({
        "id": user["id"],
        "name": user["name"],
        "email": user["email"],
        "account_id": user["account_id"],
        "role": user["role"],
        "confirmed": user["confirmed"],
        "availability_status": user["availability_status"],
        "thumbnail": null,
    })
}

/// A user's ChatAPI `user_id`: its `external_id`, else its integer id as a string.
pub fn chat_user_id(user: &Value) -> String {
    match user["external_id"].as_str() {
        Some(external) => external.to_owned(),
        None => user["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no integer id in {user}"))
            .to_string(),
    }
}

impl TestApp {
    /// `POST /api/v1/rooms/{uuid}/join` with `body`, as `credential`.
    pub async fn join_room(&self, credential: &str, uuid: &str, body: &Value) -> Reply {
        self.json(
            Method::POST,
            &room_action_path(uuid, "join"),
            &[api_key_header(credential)],
            body,
        )
        .await
    }

    /// Joins `user_id` to room `uuid` as `credential`, expecting 200.
    pub async fn join_ok(&self, credential: &str, uuid: &str, user_id: &str) {
        let reply = self
            .join_room(credential, uuid, &serde_json::json!({ "user_id": user_id }))
            .await;
        assert_eq!(reply.status, 200, "joining {user_id}: {}", reply.text());
    }

    /// `POST /api/v1/rooms/{uuid}/leave` with `{user_id}`, as `credential`.
    pub async fn leave_room(&self, credential: &str, uuid: &str, user_id: &str) -> Reply {
        self.json(
            Method::POST,
            &room_action_path(uuid, "leave"),
            &[api_key_header(credential)],
            &serde_json::json!({ "user_id": user_id }),
        )
        .await
    }

    /// Every participant of room `uuid` (one page of 1000), expecting 200.
    pub async fn participants(&self, credential: &str, uuid: &str) -> Vec<Value> {
        let reply = self
            .get(
                &format!("{}?limit=1000", room_action_path(uuid, "participants")),
                &[api_key_header(credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "participants: {}", reply.text());
        reply.json()["data"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("participants data is not an array: {}", reply.text()))
    }

    /// The `user_id`s of room `uuid`'s participants, in join order.
    pub async fn participant_ids(&self, credential: &str, uuid: &str) -> Vec<String> {
        self.participants(credential, uuid)
            .await
            .iter()
            .map(|p| str_of(p, "user_id").to_owned())
            .collect()
    }

    /// The ChatAPI `participant_count` of room `uuid`.
    pub async fn participant_count(&self, credential: &str, uuid: &str) -> i64 {
        let reply = self
            .get(&room_path(uuid), &[api_key_header(credential)])
            .await;
        assert_eq!(reply.status, 200, "reading room: {}", reply.text());
        reply.json()["data"]["participant_count"]
            .as_i64()
            .unwrap_or_else(|| panic!("no participant_count in {}", reply.text()))
    }

    /// `method` on the account-dialect members of room `id` with `body`, as `credential`.
    pub async fn members_request(
        &self,
        method: Method,
        account_id: i64,
        id: impl std::fmt::Display,
        credential: &str,
        body: &Value,
    ) -> Reply {
        self.json(
            method,
            &members_path(account_id, id),
            &[("api_access_token", credential)],
            body,
        )
        .await
    }

    /// The members of account-dialect room `id`, expecting 200.
    pub async fn members(
        &self,
        account_id: i64,
        credential: &str,
        id: impl std::fmt::Display,
    ) -> Vec<Value> {
        let reply = self
            .get(
                &members_path(account_id, id),
                &[("api_access_token", credential)],
            )
            .await;
        assert_eq!(reply.status, 200, "members: {}", reply.text());
        reply
            .json()
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("members is not an array: {}", reply.text()))
    }

    /// The ids of account-dialect room `id`'s members, in join order.
    pub async fn member_ids(
        &self,
        account_id: i64,
        credential: &str,
        id: impl std::fmt::Display,
    ) -> Vec<i64> {
        self.members(account_id, credential, id)
            .await
            .iter()
            .map(|m| {
                m["id"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("no integer id in {m}"))
            })
            .collect()
    }

    /// The account-dialect id of ChatAPI room `uuid` (matched by its name, which must be
    /// unique in the account), read with `credential` (an API key or administrator).
    pub async fn chat_room_id_of(&self, account_id: i64, credential: &str, uuid: &str) -> i64 {
        let room = self
            .get(&room_path(uuid), &[api_key_header(credential)])
            .await
            .json();
        let name = room["data"]["name"].clone();
        let listed = self
            .get(
                &format!("{}?per_page=100", chat_rooms_path(account_id)),
                &[("api_access_token", credential)],
            )
            .await
            .json();
        let found: Vec<&Value> = listed
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["name"] == name)
            .collect();
        assert_eq!(found.len(), 1, "{name} in {listed}");
        found[0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no integer id in {}", found[0]))
    }

    /// The ChatAPI UUID of account-dialect room `id` (matched by its name, which must be
    /// unique in the account), read with `credential` (an API key or administrator).
    pub async fn room_uuid_of(&self, account_id: i64, credential: &str, id: i64) -> String {
        let room = self
            .get(
                &chat_room_path(account_id, id),
                &[("api_access_token", credential)],
            )
            .await
            .json();
        let listed = self
            .get(&format!("{ROOMS}?limit=100"), &[api_key_header(credential)])
            .await
            .json();
        let found: Vec<&Value> = listed["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["name"] == room["name"])
            .collect();
        assert_eq!(found.len(), 1, "{} in {listed}", room["name"]);
        str_of(found[0], "id").to_owned()
    }
}
