//! Operating the server: health, readiness, metrics, the OpenAPI document, its explorer,
//! and what is kept in the database.

use awc::http::Method;
use chat_tests::*;
use serde_json::json;

#[actix_web::test]
async fn health_answers_ok() {
    let app = TestApp::spawn().await;
    let reply = app.get("/health", &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({ "status": "ok" }));
    assert!(
        reply
            .header("x-request-id")
            .is_some_and(|id| !id.is_empty())
    );
}

#[actix_web::test]
async fn ready_answers_ready_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let reply = app.get("/ready", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json(), json!({ "status": "ready" }));
}

/// The value of the sample whose line starts with `series` (name and labels, exactly).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        assert_eq!(app.get("/health", &[]).await.status, 200);
    }
    assert_eq!(app.get("/api/v1/clients/me", &[]).await.status, 401);
    let reply = app.get("/metrics", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{:?}",
        reply.header("content-type")
    );
    let text = reply.text();
    // Each test server has its own registry: the counts are exact.
    assert_eq!(
        sample(
            &text,
            r#"http_requests_total{method="GET",route="/health",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"http_requests_total{method="GET",route="/api/v1/clients/me",status="401"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"http_request_duration_seconds_bucket{method="GET",route="/health",status="200",le="+Inf"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"http_request_duration_seconds_count{method="GET",route="/health",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE http_request_duration_seconds histogram"),
        "{text}"
    );
    assert_eq!(
        sample(&text, "db_pool_max_connections"),
        Some(4.0),
        "{text}"
    );
    let connections = sample(&text, "db_pool_connections").unwrap_or(-1.0);
    assert!((1.0..=4.0).contains(&connections), "{text}");
    let idle = sample(&text, "db_pool_idle_connections").unwrap_or(-1.0);
    assert!((0.0..=connections).contains(&idle), "{text}");
}

#[actix_web::test]
async fn metrics_label_routes_by_pattern_never_by_raw_path() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/no/such/route-12345", &[]).await.status, 404);
    assert_eq!(app.get("/api/v1/nope-67890", &[]).await.status, 404);
    let patched = app
        .json(
            Method::PATCH,
            "/platform/api/v1/accounts/424242",
            &[platform_auth()],
            &json!({}),
        )
        .await;
    assert_eq!(patched.status, 404);
    let text = app.get("/metrics", &[]).await.text();
    assert_eq!(
        sample(
            &text,
            r#"http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"http_requests_total{method="PATCH",route="/platform/api/v1/accounts/{id}",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    for raw in ["route-12345", "nope-67890", "424242"] {
        assert!(!text.contains(raw), "the raw path {raw} is a label: {text}");
    }
}

#[actix_web::test]
async fn openapi_document_lists_every_route_with_its_method() {
    let app = TestApp::spawn().await;
    let reply = app.get("/openapi.json", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let doc = reply.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));
    let expected = [
        ("/health", "get"),
        ("/ready", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/docs", "get"),
        ("/docs/swagger-ui-bundle.js", "get"),
        ("/docs/swagger-ui.css", "get"),
        ("/platform/api/v1/accounts", "post"),
        ("/platform/api/v1/accounts/{id}", "patch"),
        ("/platform/api/v1/accounts/{id}/users", "post"),
        ("/api/v1/clients", "post"),
        ("/api/v1/clients/me", "get"),
        ("/api/v1/clients/me", "put"),
        ("/api/v1/clients/me", "delete"),
        ("/api/v1/clients/regenerate-key", "post"),
    ];
    let paths = doc["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths in {doc}"));
    for (path, method) in expected {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is missing from {:?}", paths.keys()));
        assert!(item.get(method).is_some(), "{path} has no {method}: {item}");
        assert!(
            item[method]["responses"]
                .as_object()
                .is_some_and(|r| !r.is_empty()),
            "{path} {method} documents no response"
        );
    }

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["api_key"],
        json!({ "type": "apiKey", "in": "header", "name": "X-API-Key" })
    );
    assert_eq!(
        schemes["api_access_token"],
        json!({ "type": "apiKey", "in": "header", "name": "api_access_token" })
    );
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
}

#[actix_web::test]
async fn openapi_document_agrees_with_what_is_served() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json", &[]).await.json();
    // Creating a client is documented as the 201 it answers; the platform API as 200.
    let clients = &doc["paths"]["/api/v1/clients"]["post"]["responses"];
    assert!(clients.get("201").is_some(), "{clients}");
    let accounts = &doc["paths"]["/platform/api/v1/accounts"]["post"]["responses"];
    assert!(accounts.get("200").is_some(), "{accounts}");
    assert!(accounts.get("401").is_some(), "{accounts}");
    assert!(accounts.get("422").is_some(), "{accounts}");
}

#[actix_web::test]
async fn docs_page_loads_the_explorer_from_the_server_itself() {
    let app = TestApp::spawn().await;
    let page = app.get("/docs", &[]).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        page.header("content-type")
    );
    let html = page.text();
    assert!(html.contains("/docs/swagger-ui-bundle.js"), "{html}");
    assert!(html.contains("/docs/swagger-ui.css"), "{html}");
    assert!(html.contains("/openapi.json"), "{html}");
    for remote in [
        "src=\"http://",
        "src=\"https://",
        "src=\"//",
        "href=\"http",
        "href=\"//",
    ] {
        assert!(!html.contains(remote), "the page loads {remote}…: {html}");
    }
    let trailing = app.get("/docs/", &[]).await;
    assert_eq!(trailing.status, 200, "/docs/ is served too");

    for (path, content_type, at_least) in [
        ("/docs/swagger-ui-bundle.js", "text/javascript", 100_000),
        ("/docs/swagger-ui.css", "text/css", 10_000),
    ] {
        let reply = app.get(path, &[]).await;
        assert_eq!(reply.status, 200, "{path}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|t| t.starts_with(content_type)),
            "{path}: {:?}",
            reply.header("content-type")
        );
        assert!(
            reply.body.len() >= at_least,
            "{path} is only {} bytes",
            reply.body.len()
        );
    }
    let script = app.get("/docs/swagger-ui-bundle.js", &[]).await.text();
    assert!(
        script.contains("SwaggerUIBundle"),
        "not the Swagger UI bundle"
    );
}

/// The whole database of `app`, as `pg_dump --data-only` prints it.
fn dump_database(app: &TestApp) -> String {
    let output = std::process::Command::new("pg_dump")
        .args(["--data-only", "--no-owner", "--dbname", app.database_url()])
        .output()
        .unwrap_or_else(|e| panic!("pg_dump could not be run: {e}"));
    assert!(
        output.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[actix_web::test]
async fn secrets_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let account = app.create_account("Acme Hash Check").await;
    let user = app
        .create_user(
            account["id"].as_i64().unwrap_or_default(),
            json!({ "name": "Ada Hash Check", "email": "ada@example.com" }),
        )
        .await;
    let client = app
        .json(
            Method::POST,
            "/api/v1/clients",
            &[platform_auth()],
            &json!({ "name": "Client Hash Check" }),
        )
        .await
        .json();
    let client_key = str_of(&client["data"], "api_key").to_owned();
    let regenerated = app
        .send(
            Method::POST,
            "/api/v1/clients/regenerate-key",
            &[api_key_header(&client_key)],
            None,
        )
        .await
        .json();
    let secrets = [
        str_of(&account, "api_key").to_owned(),
        str_of(&user, "access_token").to_owned(),
        client_key,
        str_of(&regenerated["data"], "api_key").to_owned(),
        PLATFORM_TOKEN.to_owned(),
    ];

    let dump = dump_database(&app);
    // The dump holds the rows (so an empty dump cannot pass).
    for stored in ["Acme Hash Check", "Ada Hash Check", "Client Hash Check"] {
        assert!(
            dump.contains(stored),
            "{stored} is not in the dump:\n{dump}"
        );
    }
    let lower = dump.to_lowercase();
    for secret in &secrets {
        let hex = secret
            .strip_prefix("ck_")
            .or_else(|| secret.strip_prefix("ut_"))
            .unwrap_or(secret);
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "a secret is stored in clear"
        );
        assert!(
            !lower.contains(&hex.to_lowercase()),
            "a secret's random part is stored in clear"
        );
        // Nor any long piece of it.
        for piece in hex.as_bytes().chunks(16) {
            let piece = String::from_utf8_lossy(piece).to_lowercase();
            assert!(
                !lower.contains(&piece),
                "a piece of a secret is stored: {piece}"
            );
        }
    }
    // One credential per account key and user token: the old client key is gone.
    let credentials = std::process::Command::new("psql")
        .args([
            app.database_url(),
            "-At",
            "-c",
            "select kind, count(*) from credentials group by kind order by kind",
        ])
        .output()
        .unwrap_or_else(|e| panic!("psql could not be run: {e}"));
    assert!(credentials.status.success());
    assert_eq!(
        String::from_utf8_lossy(&credentials.stdout),
        "api_key|2\nuser_token|1\n"
    );
}
