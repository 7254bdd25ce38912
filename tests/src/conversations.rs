//! Conversations (CONTRACT §10), in both dialects: the paths of search, threads,
//! reactions, pins and read state, and the requests the tests make of them.

use awc::http::Method;
use serde_json::{Value, json};

use crate::app::{Reply, TestApp, api_key_header};
use crate::assertions::str_of;
use crate::live::query_escape;
use crate::messages::{chat_messages_path, message_path};
use crate::rooms::{ROOMS, chat_rooms_path, room_path};

/// The ChatAPI search across rooms.
pub const SEARCH: &str = "/api/v1/messages/search";

/// The account dialect's search across the rooms of account `account_id`.
pub fn chat_search_path(account_id: impl std::fmt::Display) -> String {
    format!("{}/search", chat_rooms_path(account_id))
}

/// The ChatAPI thread of message `uuid` (its replies).
pub fn thread_path(uuid: &str) -> String {
    format!("{}/thread", message_path(uuid))
}

/// The ChatAPI summary of message `uuid`'s thread.
pub fn thread_summary_path(uuid: &str) -> String {
    format!("{}/thread/summary", message_path(uuid))
}

/// The ChatAPI reactions of message `uuid` (`POST` adds one).
pub fn reactions_path(uuid: &str) -> String {
    format!("{}/reactions", message_path(uuid))
}

/// The ChatAPI path of one reaction `emoji` (percent-encoded UTF-8) of message `uuid`.
pub fn reaction_path(uuid: &str, emoji: &str) -> String {
    format!("{}/{}", reactions_path(uuid), query_escape(emoji))
}

/// The ChatAPI pin of message `uuid`.
pub fn pin_path(uuid: &str) -> String {
    format!("{}/pin", message_path(uuid))
}

/// The ChatAPI pinned messages of room `uuid`.
pub fn pins_path(uuid: &str) -> String {
    format!("{}/pins", room_path(uuid))
}

/// The ChatAPI read position of room `uuid` (`POST` moves it).
pub fn read_path(uuid: &str) -> String {
    format!("{}/read", room_path(uuid))
}

/// The account dialect's path of message `message` of room `room`.
pub fn chat_message_path(
    account_id: impl std::fmt::Display,
    room: impl std::fmt::Display,
    message: impl std::fmt::Display,
) -> String {
    format!("{}/{message}", chat_messages_path(account_id, room))
}

/// `X-API-Key: credential`, as a header list.
pub fn key(credential: &str) -> [(&str, &str); 1] {
    [api_key_header(credential)]
}

/// `api_access_token: credential`, as a header list.
pub fn token(credential: &str) -> [(&str, &str); 1] {
    [("api_access_token", credential)]
}

/// `value["id"]` as an integer; panics when absent.
pub fn int_id(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {value}"))
}

/// The `id`s of a ChatAPI list (`{data: [...]}`), in order.
pub fn ids_of(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data is not an array: {list}"))
        .iter()
        .map(|m| str_of(m, "id").to_owned())
        .collect()
}

/// The `content`s of a list of messages (a ChatAPI `{data: [...]}` or a bare array), in
/// order.
pub fn contents_of(list: &Value) -> Vec<String> {
    let items = match list.get("data") {
        Some(data) => data,
        None => list,
    };
    items
        .as_array()
        .unwrap_or_else(|| panic!("not a list of messages: {list}"))
        .iter()
        .map(|m| str_of(m, "content").to_owned())
        .collect()
}

/// Owned strings of `items`.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl TestApp {
    /// A ChatAPI room named `name` made with `api_key`, with `people` (`(user_id,
    /// user_name)`) joined in order; answers its UUID.
    pub async fn room_with(&self, api_key: &str, name: &str, people: &[(&str, &str)]) -> String {
        let room = self.create_room(api_key, json!({ "name": name })).await;
        let uuid = str_of(&room, "id").to_owned();
        for (user_id, user_name) in people {
            let reply = self
                .join_room(
                    api_key,
                    &uuid,
                    &json!({ "user_id": user_id, "user_name": user_name }),
                )
                .await;
            assert_eq!(reply.status, 200, "joining {user_id}: {}", reply.text());
        }
        uuid
    }

    /// `sender` says `content` in ChatAPI room `uuid` through `api_key`; answers the
    /// message.
    pub async fn say(&self, api_key: &str, uuid: &str, sender: &str, content: &str) -> Value {
        self.send_message_ok(
            api_key,
            uuid,
            json!({ "sender_id": sender, "content": content }),
        )
        .await
    }

    /// The integer id of ChatAPI room `uuid` (read from the server's database).
    pub fn room_int_id(&self, uuid: &str) -> i64 {
        let text = self.sql(&format!("SELECT id FROM rooms WHERE uuid = '{uuid}'"));
        text.parse()
            .unwrap_or_else(|_| panic!("no room {uuid}: {text:?}"))
    }

    /// The integer id of ChatAPI message `uuid` (read from the server's database).
    pub fn message_int_id(&self, uuid: &str) -> i64 {
        let text = self.sql(&format!("SELECT id FROM messages WHERE uuid = '{uuid}'"));
        text.parse()
            .unwrap_or_else(|_| panic!("no message {uuid}: {text:?}"))
    }

    /// The UUID of the message with integer id `id` (read from the server's database).
    pub fn message_uuid(&self, id: i64) -> String {
        let text = self.sql(&format!("SELECT uuid FROM messages WHERE id = {id}"));
        assert!(!text.is_empty(), "no message {id}");
        text
    }

    /// The integer id of the user of account `account_id` whose ChatAPI `user_id` is
    /// `external` (read from the server's database).
    pub fn user_int_id(&self, account_id: i64, external: &str) -> i64 {
        let text = self.sql(&format!(
            "SELECT id FROM users WHERE account_id = {account_id} AND external_id = '{external}' \
             AND deleted_at IS NULL"
        ));
        text.parse()
            .unwrap_or_else(|_| panic!("no user {external}: {text:?}"))
    }

    /// `GET /api/v1/messages/search?{query}` as `credential`.
    pub async fn search(&self, credential: &str, query: &str) -> Reply {
        self.get(&format!("{SEARCH}?{query}"), &key(credential))
            .await
    }

    /// Like [`TestApp::search`], expecting 200; answers the whole body.
    pub async fn search_ok(&self, credential: &str, query: &str) -> Value {
        let reply = self.search(credential, query).await;
        assert_eq!(reply.status, 200, "search ?{query}: {}", reply.text());
        reply.json()
    }

    /// `GET …/chat_rooms/search?{query}` of account `account_id` as `credential`.
    pub async fn chat_search(&self, account_id: i64, credential: &str, query: &str) -> Reply {
        self.get(
            &format!("{}?{query}", chat_search_path(account_id)),
            &token(credential),
        )
        .await
    }

    /// `POST /api/v1/messages/{uuid}/reactions` with `body`, as `credential`.
    pub async fn react(&self, credential: &str, uuid: &str, body: &Value) -> Reply {
        self.json(Method::POST, &reactions_path(uuid), &key(credential), body)
            .await
    }

    /// Adds `emoji` to message `uuid` as `credential` (for `user_id`, when given),
    /// expecting 200; answers the message.
    pub async fn react_ok(
        &self,
        credential: &str,
        uuid: &str,
        emoji: &str,
        user_id: Option<&str>,
    ) -> Value {
        let mut body = json!({ "emoji": emoji });
        if let Some(user_id) = user_id {
            body["user_id"] = json!(user_id);
        }
        let reply = self.react(credential, uuid, &body).await;
        assert_eq!(reply.status, 200, "reacting {body}: {}", reply.text());
        reply.json()["data"].clone()
    }

    /// `DELETE /api/v1/messages/{uuid}/reactions/{emoji}[?user_id=…]` as `credential`.
    pub async fn unreact(
        &self,
        credential: &str,
        uuid: &str,
        emoji: &str,
        user_id: Option<&str>,
    ) -> Reply {
        let mut path = reaction_path(uuid, emoji);
        if let Some(user_id) = user_id {
            path = format!("{path}?user_id={}", query_escape(user_id));
        }
        self.send(Method::DELETE, &path, &key(credential), None)
            .await
    }

    /// `POST` (`pinned`) or `DELETE` `/api/v1/messages/{uuid}/pin` as `credential`.
    pub async fn pin(&self, credential: &str, uuid: &str, pinned: bool) -> Reply {
        let method = if pinned { Method::POST } else { Method::DELETE };
        self.send(method, &pin_path(uuid), &key(credential), None)
            .await
    }

    /// `POST /api/v1/rooms/{uuid}/read` with `body`, as `credential`.
    pub async fn read_room(&self, credential: &str, uuid: &str, body: &Value) -> Reply {
        self.json(Method::POST, &read_path(uuid), &key(credential), body)
            .await
    }

    /// The ChatAPI rendering of message `uuid`, read with `credential`.
    pub async fn chatapi_message(&self, credential: &str, uuid: &str) -> Value {
        let reply = self.get(&message_path(uuid), &key(credential)).await;
        assert_eq!(reply.status, 200, "reading message: {}", reply.text());
        reply.json()["data"].clone()
    }

    /// The ChatAPI rooms list `?{query}` as `credential` (200 expected): its `data`.
    pub async fn rooms_listed(&self, credential: &str, query: &str) -> Vec<Value> {
        let reply = self
            .get(&format!("{ROOMS}?{query}"), &key(credential))
            .await;
        assert_eq!(reply.status, 200, "rooms ?{query}: {}", reply.text());
        reply.json()["data"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("rooms data is not an array: {}", reply.text()))
    }

    /// Room `uuid` as the ChatAPI rooms list `?{query}` shows it to `credential`.
    pub async fn room_listed(&self, credential: &str, query: &str, uuid: &str) -> Value {
        let rooms = self.rooms_listed(credential, query).await;
        rooms
            .iter()
            .find(|r| r["id"] == uuid)
            .cloned()
            .unwrap_or_else(|| panic!("room {uuid} is not listed: {rooms:?}"))
    }

    /// `method` on `path` (e.g. a message's `…/reactions`, `…/pin`) with `body` (JSON, if
    /// any), as `credential` in the account dialect's header.
    pub async fn chat_request(
        &self,
        method: Method,
        path: &str,
        credential: &str,
        body: Option<&Value>,
    ) -> Reply {
        match body {
            Some(body) => self.json(method, path, &token(credential), body).await,
            None => self.send(method, path, &token(credential), None).await,
        }
    }
}
