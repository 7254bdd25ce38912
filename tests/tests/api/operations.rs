use chat_tests::*;

#[actix_web::test]
async fn health_answers_ok() {
    let app = TestApp::spawn().await;
    let reply = app.get("/health", &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({ "status": "ok" }));
    assert!(reply.header("x-request-id").is_some_and(|id| !id.is_empty()));
}
