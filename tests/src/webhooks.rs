//! Webhooks, in both dialects: their paths, creating them, reading their state.

use std::time::{Duration, Instant};

use awc::http::Method;
use serde_json::Value;

use crate::app::{TestApp, api_key_header};

/// The ChatAPI webhooks collection.
pub const WEBHOOKS: &str = "/api/v1/webhooks";

/// The ChatAPI path of one webhook, with `rest` after it (`""`, `"/test"`, …).
pub fn webhook_path(uuid: &str, rest: &str) -> String {
    format!("{WEBHOOKS}/{uuid}{rest}")
}

/// The account dialect's webhooks collection of account `account_id`.
pub fn account_webhooks_path(account_id: impl std::fmt::Display) -> String {
    format!("/api/v1/accounts/{account_id}/webhooks")
}

impl TestApp {
    /// Creates a ChatAPI webhook with `api_key` (`201` expected); answers its `data`.
    pub async fn create_webhook(&self, api_key: &str, body: Value) -> Value {
        let reply = self
            .json(Method::POST, WEBHOOKS, &[api_key_header(api_key)], &body)
            .await;
        assert_eq!(
            reply.status,
            201,
            "creating webhook {body}: {}",
            reply.text()
        );
        reply.json()["data"].clone()
    }

    /// The ChatAPI webhook `uuid` (`200` expected); answers its `data`.
    pub async fn webhook(&self, api_key: &str, uuid: &str) -> Value {
        let reply = self
            .get(&webhook_path(uuid, ""), &[api_key_header(api_key)])
            .await;
        assert_eq!(reply.status, 200, "reading webhook: {}", reply.text());
        reply.json()["data"].clone()
    }

    /// The delivery log of webhook `uuid`, newest first (`200` expected).
    pub async fn webhook_deliveries(&self, api_key: &str, uuid: &str) -> Vec<Value> {
        let reply = self
            .get(
                &webhook_path(uuid, "/deliveries"),
                &[api_key_header(api_key)],
            )
            .await;
        assert_eq!(reply.status, 200, "reading deliveries: {}", reply.text());
        reply.json()["data"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no data array: {}", reply.text()))
    }

    /// Reads webhook `uuid` until `done` holds for it (up to `timeout`); answers it.
    pub async fn webhook_until(
        &self,
        api_key: &str,
        uuid: &str,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let webhook = self.webhook(api_key, uuid).await;
            if done(&webhook) {
                return webhook;
            }
            assert!(
                Instant::now() < deadline,
                "the webhook did not reach the expected state in {timeout:?}: {webhook}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
