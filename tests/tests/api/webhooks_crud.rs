//! Managing webhooks in both dialects (CONTRACT §9): the ChatAPI model with its secret,
//! the account dialect's `{webhook: {url, subscriptions}}`, and who may do it.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

const RECEIVER: &str = "http://127.0.0.1:9/hooks";

#[actix_web::test]
async fn creating_a_webhook_answers_201_with_a_generated_secret_shown_again_on_get() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    for path in [WEBHOOKS, "/api/v1/webhooks/"] {
        let reply = app
            .json(
                Method::POST,
                path,
                &[api_key_header(&acme.api_key)],
                &json!({ "url": RECEIVER, "events": ["message.created", "room.created"], "meta": { "team": "a" } }),
            )
            .await;
        assert_eq!(reply.status, 201, "{path}: {}", reply.text());
        let data = reply.json()["data"].clone();
        assert_eq!(
            keys_of(&data),
            [
                "client_id",
                "created_at",
                "custom_headers",
                "events",
                "failure_count",
                "id",
                "is_active",
                "last_delivery_at",
                "meta",
                "room_filters",
                "secret",
                "updated_at",
                "url"
            ]
        );
        assert_uuid(str_of(&data, "id"));
        assert_eq!(data["client_id"], acme.account["uuid"]);
        assert_secret(str_of(&data, "secret"), "whsec_");
        assert_eq!(data["events"], json!(["message.created", "room.created"]));
        assert_eq!(data["is_active"], true);
        assert_eq!(data["failure_count"], 0);
        assert_eq!(data["last_delivery_at"], Value::Null);
        assert_eq!(data["room_filters"], json!([]));
        assert_eq!(data["custom_headers"], json!({}));
        assert_eq!(data["meta"], json!({ "team": "a" }));
        let got = app.webhook(&acme.api_key, str_of(&data, "id")).await;
        assert_eq!(got["secret"], data["secret"]);
    }
    let reply = app.get(WEBHOOKS, &[api_key_header(&acme.api_key)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["pagination"]["total"], 2, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn a_given_secret_is_kept_and_put_replaces_only_the_fields_given() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let webhook = app
        .create_webhook(
            &acme.api_key,
            json!({ "url": RECEIVER, "events": ["room.created"], "secret": "my-own-secret-0123456789" }),
        )
        .await;
    assert_eq!(webhook["secret"], "my-own-secret-0123456789");
    let uuid = str_of(&webhook, "id");
    let reply = app
        .json(
            Method::PUT,
            &webhook_path(uuid, ""),
            &[api_key_header(&acme.api_key)],
            &json!({ "events": ["room.deleted"], "custom_headers": { "X-Env": "prod" } }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = reply.json()["data"].clone();
    assert_eq!(data["events"], json!(["room.deleted"]));
    assert_eq!(data["custom_headers"], json!({ "X-Env": "prod" }));
    assert_eq!(data["url"], RECEIVER);
    assert_eq!(data["secret"], "my-own-secret-0123456789");

    let reply = app
        .send(
            Method::POST,
            &webhook_path(uuid, "/deactivate"),
            &[api_key_header(&acme.api_key)],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["data"]["is_active"], false);

    let reply = app
        .send(
            Method::DELETE,
            &webhook_path(uuid, ""),
            &[api_key_header(&acme.api_key)],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["message"], "Webhook deleted successfully");
    let reply = app
        .get(&webhook_path(uuid, ""), &[api_key_header(&acme.api_key)])
        .await;
    assert_chatapi_error(&reply, 404, "WEBHOOK_NOT_FOUND", "deleted");
}

#[actix_web::test]
async fn invalid_fields_are_422_naming_each_of_them() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let reply = app
        .json(
            Method::POST,
            WEBHOOKS,
            &[api_key_header(&acme.api_key)],
            &json!({
                "url": "ftp://example.com/x",
                "events": ["message.created", "no.such_event"],
                "secret": "short",
                "custom_headers": { "X-ChatAPI-Event": "forged" },
                "room_filters": ["not-a-uuid"],
            }),
        )
        .await;
    let error = assert_chatapi_error(&reply, 422, "VALIDATION_ERROR", "bad fields");
    for field in ["url", "events", "secret", "custom_headers", "room_filters"] {
        assert!(error["details"][field].is_string(), "{field}: {error}");
    }
    let reply = app
        .json(
            Method::POST,
            WEBHOOKS,
            &[api_key_header(&acme.api_key)],
            &json!({ "url": RECEIVER, "events": ["webhook.test"] }),
        )
        .await;
    assert_chatapi_error(
        &reply,
        422,
        "VALIDATION_ERROR",
        "webhook.test is not subscribable",
    );
}

#[actix_web::test]
async fn chatapi_webhooks_take_the_api_key_only_and_hide_other_clients_webhooks() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let webhook = app
        .create_webhook(
            &acme.api_key,
            json!({ "url": RECEIVER, "events": ["room.created"] }),
        )
        .await;
    let uuid = str_of(&webhook, "id");
    for token in [&acme.admin_token, &acme.agent_token] {
        let reply = app.get(WEBHOOKS, &[api_key_header(token)]).await;
        assert_chatapi_error(&reply, 401, "UNAUTHORIZED", "a user's token");
    }
    for path in [
        webhook_path(uuid, ""),
        webhook_path(uuid, "/deliveries"),
        webhook_path("not-a-uuid", ""),
    ] {
        let reply = app.get(&path, &[api_key_header(&globex.api_key)]).await;
        assert_chatapi_error(&reply, 404, "WEBHOOK_NOT_FOUND", &path);
    }
    let reply = app
        .send(
            Method::POST,
            &webhook_path(uuid, "/test"),
            &[api_key_header(&globex.api_key)],
            None,
        )
        .await;
    assert_chatapi_error(&reply, 404, "WEBHOOK_NOT_FOUND", "test of another client's");
    let reply = app
        .send(
            Method::PATCH,
            &webhook_path(uuid, ""),
            &[api_key_header(&acme.api_key)],
            None,
        )
        .await;
    assert_eq!(reply.status, 405, "{}", reply.text());
}

#[actix_web::test]
async fn account_dialect_webhooks_are_managed_by_administrators_and_the_api_key() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let path = account_webhooks_path(acme.id);
    let reply = app
        .json(
            Method::POST,
            &path,
            &[("api_access_token", acme.admin_token.as_str())],
            &json!({ "webhook": { "url": RECEIVER, "subscriptions": ["message.created"] } }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let created = reply.json();
    assert_eq!(
        keys_of(&created),
        ["account_id", "id", "secret", "subscriptions", "url"]
    );
    assert_eq!(created["account_id"], acme.id);
    assert_eq!(created["subscriptions"], json!(["message.created"]));
    assert_secret(str_of(&created, "secret"), "whsec_");
    let id = created["id"].as_i64().unwrap_or_default();

    // The same webhook, seen through the ChatAPI dialect.
    let listed = app
        .get(WEBHOOKS, &[api_key_header(&acme.api_key)])
        .await
        .json();
    assert_eq!(listed["data"][0]["secret"], created["secret"], "{listed}");

    let one = format!("{path}/{id}");
    let reply = app
        .json(
            Method::PATCH,
            &one,
            &[("api_access_token", acme.api_key.as_str())],
            &json!({ "webhook": { "subscriptions": ["room.created", "room.deleted"] } }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json()["subscriptions"],
        json!(["room.created", "room.deleted"])
    );
    let list = app
        .get(&path, &[("api_access_token", acme.admin_token.as_str())])
        .await;
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.json().as_array().map(Vec::len), Some(1));

    let reply = app
        .json(
            Method::POST,
            &path,
            &[("api_access_token", acme.admin_token.as_str())],
            &json!({ "webhook": { "subscriptions": [] } }),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    let attributes = reply.json()["attributes"].clone();
    assert_eq!(attributes, json!(["url", "subscriptions"]), "{attributes}");

    let reply = app
        .send(
            Method::DELETE,
            &one,
            &[("api_access_token", acme.admin_token.as_str())],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = app
        .send(
            Method::DELETE,
            &one,
            &[("api_access_token", acme.admin_token.as_str())],
            None,
        )
        .await;
    assert_account_error(&reply, 404, "deleted");
}

#[actix_web::test]
async fn agents_and_scoped_credentials_are_403_and_other_accounts_webhooks_404() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let theirs = app
        .create_webhook(
            &globex.api_key,
            json!({ "url": RECEIVER, "events": ["room.created"] }),
        )
        .await;
    let path = account_webhooks_path(acme.id);
    let body = json!({ "webhook": { "url": RECEIVER, "subscriptions": ["room.created"] } });
    let scoped = app
        .scoped_key(&acme.api_key, &chat_user_id(&acme.agent), None)
        .await;
    for credential in [acme.agent_token.as_str(), scoped.as_str()] {
        let reply = app
            .json(
                Method::POST,
                &path,
                &[("api_access_token", credential)],
                &body,
            )
            .await;
        assert_account_error(&reply, 403, "create");
        let reply = app.get(&path, &[("api_access_token", credential)]).await;
        assert_account_error(&reply, 403, "list");
    }

    // Globex's webhook, named from Acme's account: nothing there.
    let their_id = app
        .get(
            &account_webhooks_path(globex.id),
            &[("api_access_token", globex.admin_token.as_str())],
        )
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap_or_default();
    assert!(their_id > 0, "{theirs}");
    let reply = app
        .json(
            Method::PATCH,
            &format!("{path}/{their_id}"),
            &[("api_access_token", acme.admin_token.as_str())],
            &body,
        )
        .await;
    assert_account_error(&reply, 404, "another account's webhook");
    // And Acme's token on Globex's path: not its account.
    let reply = app
        .get(
            &account_webhooks_path(globex.id),
            &[("api_access_token", acme.admin_token.as_str())],
        )
        .await;
    assert_account_error(&reply, 401, "another account");
}
