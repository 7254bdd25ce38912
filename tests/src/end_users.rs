//! End users of the ChatAPI dialect (`/api/v1/users`) and their own credentials: scoped
//! keys from a login, and the client's signing secret for signed tokens.

use awc::http::Method;
use serde_json::{Value, json};

use crate::app::{Reply, TestApp, api_key_header};
use crate::assertions::str_of;

/// The ChatAPI users collection.
pub const USERS: &str = "/api/v1/users";

/// `POST` here issues a scoped key.
pub const LOGIN: &str = "/api/v1/users/login";

/// `POST` here revokes a user's scoped keys.
pub const LOGOUT: &str = "/api/v1/users/logout";

/// `POST` here replaces the client's signing secret.
pub const SIGNING_SECRET: &str = "/api/v1/clients/signing-secret";

/// The path of one user, by its ChatAPI `user_id`.
pub fn user_path(user_id: &str) -> String {
    format!("{USERS}/{user_id}")
}

/// A signing secret as the server answered it, with the client it signs for.
#[derive(Debug, Clone)]
pub struct Signing {
    /// `ss_…`: the HMAC key of the client's tokens.
    pub secret: String,
    /// The client's UUID: every token's `iss`.
    pub client_id: String,
}

impl TestApp {
    /// `POST /api/v1/users/login` with `body`, as `credential`.
    pub async fn login(&self, credential: &str, body: &Value) -> Reply {
        self.json(Method::POST, LOGIN, &[api_key_header(credential)], body)
            .await
    }

    /// Logs `user_id` in with `permissions` (the default ones for `None`), keeping the
    /// user's other sessions; answers the scoped key (200 expected).
    pub async fn scoped_key(
        &self,
        api_key: &str,
        user_id: &str,
        permissions: Option<&[&str]>,
    ) -> String {
        let mut body = json!({ "user_id": user_id, "keep_other_sessions": true });
        if let Some(permissions) = permissions {
            body["permissions"] = json!(permissions);
        }
        let reply = self.login(api_key, &body).await;
        assert_eq!(reply.status, 200, "login of {user_id}: {}", reply.text());
        str_of(&reply.json()["data"], "scoped_api_key").to_owned()
    }

    /// `POST /api/v1/users/` with `body`, as `credential`.
    pub async fn create_end_user(&self, credential: &str, body: &Value) -> Reply {
        self.json(Method::POST, USERS, &[api_key_header(credential)], body)
            .await
    }

    /// `GET /api/v1/users/{user_id}` as `credential`.
    pub async fn get_end_user(&self, credential: &str, user_id: &str) -> Reply {
        self.get(&user_path(user_id), &[api_key_header(credential)])
            .await
    }

    /// `PUT /api/v1/users/{user_id}` with `body`, as `credential`.
    pub async fn update_end_user(&self, credential: &str, user_id: &str, body: &Value) -> Reply {
        self.json(
            Method::PUT,
            &user_path(user_id),
            &[api_key_header(credential)],
            body,
        )
        .await
    }

    /// `POST /api/v1/users/logout` with `{user_id}`, as `credential`.
    pub async fn logout(&self, credential: &str, user_id: &str) -> Reply {
        self.json(
            Method::POST,
            LOGOUT,
            &[api_key_header(credential)],
            &json!({ "user_id": user_id }),
        )
        .await
    }

    /// `POST /api/v1/users/{user_id}/revoke-tokens` as `credential`.
    pub async fn revoke_tokens(&self, credential: &str, user_id: &str) -> Reply {
        self.send(
            Method::POST,
            &format!("{}/revoke-tokens", user_path(user_id)),
            &[api_key_header(credential)],
            None,
        )
        .await
    }

    /// Replaces the client's signing secret with its API key (200 expected).
    pub async fn signing_secret(&self, api_key: &str) -> Signing {
        let reply = self
            .send(
                Method::POST,
                SIGNING_SECRET,
                &[api_key_header(api_key)],
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "signing secret: {}", reply.text());
        let data = &reply.json()["data"];
        Signing {
            secret: str_of(data, "signing_secret").to_owned(),
            client_id: str_of(data, "client_id").to_owned(),
        }
    }

    /// Whether `credential` is accepted: `GET /api/v1/rooms` answers 200 (else its
    /// status, which the caller checks).
    pub async fn rooms_status(&self, credential: &str) -> u16 {
        self.get(crate::rooms::ROOMS, &[api_key_header(credential)])
            .await
            .status
    }
}
