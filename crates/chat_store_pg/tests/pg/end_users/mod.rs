//! End users and their own credentials ([`chat_app::EndUserStore`], CONTRACT §7) against
//! a real server: the users themselves (`people`), scoped keys and revoking signed tokens
//! (`keys`), deleted users (`deleted`), and the seeds of signing secrets (`seeds`).

mod deleted;
mod keys;
mod people;
mod seeds;

use chat_app::{EndUserStore, NewEndUser, UserQuery, Window};
use chat_domain::{AccountId, Email, ExternalId, PersonName, User, UserMeta};
use chat_store_pg::PgStore;
use serde_json::{Value, json};

/// `{...}` as a user's meta.
pub fn meta(value: Value) -> UserMeta {
    match value {
        Value::Object(map) => UserMeta::parse(map).expect("valid meta"),
        other => panic!("not an object: {other}"),
    }
}

pub fn external_id(raw: &str) -> ExternalId {
    ExternalId::parse(raw).expect("valid external id")
}

/// A new end user named by `user_id`, called `name`, with `email` if given.
pub fn end_user(user_id: &str, name: &str, email: Option<&str>) -> NewEndUser {
    NewEndUser {
        user_id: external_id(user_id),
        name: PersonName::parse(name).expect("valid name"),
        email: email.map(|e| Email::parse(e).expect("valid email")),
        meta: meta(json!({})),
    }
}

/// Stores an end user named by `user_id` (also its name).
pub async fn create_end_user(store: &PgStore, account: AccountId, user_id: &str) -> User {
    store
        .create_end_user(account, end_user(user_id, user_id, None))
        .await
        .expect("end user created")
}

/// Everyone (up to 100), or those matching `search`.
pub fn query(offset: i64, limit: i64, search: Option<&str>) -> UserQuery {
    UserQuery {
        window: Window::new(offset, limit, Window::MAX_LIMIT).expect("valid window"),
        search: search.map(str::to_owned),
    }
}

/// The ChatAPI user_ids of a page of users, in order.
pub fn user_ids(users: &[User]) -> Vec<String> {
    users.iter().map(User::chat_user_id).collect()
}
