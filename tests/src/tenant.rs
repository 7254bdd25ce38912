//! A tenant to test with: an account, its administrator and its agent.

use serde_json::Value;

use crate::app::TestApp;
use crate::assertions::str_of;

/// One account with its API key, an administrator and an agent, each with their token.
#[derive(Debug)]
pub struct Tenant {
    pub account: Value,
    pub id: i64,
    pub api_key: String,
    pub admin: Value,
    pub admin_token: String,
    pub agent: Value,
    pub agent_token: String,
}

impl TestApp {
    /// Creates an account named `name` with an administrator and an agent.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let account = self.create_account(name).await;
        let id = account["id"].as_i64().expect("an integer account id");
        let admin = self
            .create_user(
                id,
                serde_json::json!({ "name": "Ada Admin", "role": "administrator" }),
            )
            .await;
        let agent = self
            .create_user(
                id,
                serde_json::json!({ "name": "Alan Agent", "role": "agent" }),
            )
            .await;
        Tenant {
            api_key: str_of(&account, "api_key").to_owned(),
            admin_token: str_of(&admin, "access_token").to_owned(),
            agent_token: str_of(&agent, "access_token").to_owned(),
            account,
            id,
            admin,
            agent,
        }
    }

    /// An account-dialect room of `tenant` named `name`, made by its administrator (a
    /// member), with its agent added; answers the room's integer id and its UUID.
    pub async fn chat_room_with_agent(&self, tenant: &Tenant, name: &str) -> (i64, String) {
        let room = self
            .create_chat_room(tenant.id, &tenant.admin_token, name, None)
            .await;
        let id = room["id"].as_i64().expect("an integer room id");
        let agent = tenant.agent["id"].as_i64().expect("an integer user id");
        let reply = self
            .members_request(
                awc::http::Method::POST,
                tenant.id,
                id,
                &tenant.admin_token,
                &serde_json::json!({ "user_ids": [agent] }),
            )
            .await;
        assert_eq!(reply.status, 200, "adding the agent: {}", reply.text());
        let uuid = self.room_uuid_of(tenant.id, &tenant.admin_token, id).await;
        (id, uuid)
    }
}
