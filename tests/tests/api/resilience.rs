//! The server outlives its database: requests that need it answer 503 in their
//! dialect, and the process keeps serving what does not need it.

use chat_tests::*;

#[actix_web::test]
async fn losing_the_database_answers_503_in_each_dialect_and_health_stays_up() {
    let app = TestApp::spawn_with(|settings| settings.db_timeout_secs = 1).await;
    let account = app.create_account("Acme").await;
    let key = str_of(&account, "api_key").to_owned();
    let before = app.get("/api/v1/clients/me", &[("x-api-key", &key)]).await;
    assert_eq!(before.status, 200, "{}", before.text());

    app.database().drop_now();

    // Listing rooms needs the database (the credential itself may be remembered for a
    // few seconds, and /clients/me with it: CHAT_CREDENTIAL_CACHE_SECS).
    let chatapi = app.get("/api/v1/rooms", &[("x-api-key", &key)]).await;
    assert_eq!(chatapi.status, 503, "{}", chatapi.text());
    assert_eq!(chatapi.json()["error"]["code"], "SERVICE_UNAVAILABLE");
    assert_eq!(chatapi.json()["status"], "error");
    assert_eq!(chatapi.header("retry-after"), Some("1"));

    let account_dialect = app
        .json(
            awc::http::Method::PATCH,
            "/platform/api/v1/accounts/1",
            &[platform_auth()],
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(account_dialect.status, 503, "{}", account_dialect.text());
    assert!(account_dialect.json()["error"].is_string());
    assert_eq!(account_dialect.header("retry-after"), Some("1"));

    let ready = app.get("/ready", &[]).await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json(), serde_json::json!({ "status": "unavailable" }));

    let health = app.get("/health", &[]).await;
    assert_eq!(health.status, 200);
}
