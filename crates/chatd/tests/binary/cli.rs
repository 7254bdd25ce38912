//! The `chatd` binary as an operator runs it: commands print JSON whose secrets work,
//! bad input fails with a message and a non-zero status, and SIGTERM stops the server.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chat_test_db::TestDatabase;
use serde_json::Value;

const PLATFORM_TOKEN: &str = "cli-test-platform-token-0123456789abcdef";

fn chatd(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatd"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("CHAT_PLATFORM_TOKEN", PLATFORM_TOKEN)
        .env("RUST_LOG", "info")
        .output()
        .expect("chatd runs")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "chatd failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn migrate_applies_the_migrations_and_is_idempotent() {
    let db = TestDatabase::new();
    for _ in 0..2 {
        let output = chatd(&db, &["migrate"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            "migrations are up to date"
        );
    }
}

#[actix_web::test]
async fn operator_commands_print_accounts_and_users_whose_secrets_work() {
    let db = TestDatabase::new();
    let account = json_of(&chatd(
        &db,
        &[
            "account",
            "create",
            "--name",
            "Acme",
            "--description",
            "Ops",
        ],
    ));
    assert_eq!(account["name"], "Acme");
    assert_eq!(account["description"], "Ops");
    assert_eq!(account["features"]["chat_rooms"], true);
    let api_key = account["api_key"].as_str().expect("api_key").to_owned();
    assert!(
        api_key.starts_with("ck_") && api_key.len() == 67,
        "{api_key}"
    );
    let account_id = account["id"].as_i64().expect("id").to_string();

    let output = chatd(
        &db,
        &[
            "user",
            "create",
            "--account-id",
            &account_id,
            "--name",
            "Ada",
            "--email",
            "ada@example.com",
            "--role",
            "administrator",
        ],
    );
    let user = json_of(&output);
    assert_eq!(
        user["account_id"].as_i64().map(|id| id.to_string()),
        Some(account_id)
    );
    assert_eq!(user["role"], "administrator");
    let token = user["access_token"].as_str().expect("access_token");
    assert!(token.starts_with("ut_"), "{token}");
    for secret in [api_key.as_str(), token] {
        assert!(
            !String::from_utf8_lossy(&output.stderr).contains(secret),
            "a secret was logged"
        );
    }

    // The printed key is the account's key: a server over the same database accepts it.
    let settings = chatd::Settings {
        database_url: Some(chatd::Secret::new(db.url())),
        nats_url: None,
        nats_subject_prefix: "chat.events".to_owned(),
        redis_url: None,
        redis_prefix: "chat:".to_owned(),
        bind: "127.0.0.1:0".parse().unwrap(),
        platform_token: None,
        secret_key: None,
        url_secret: None,
        db_pool_size: 2,
        db_timeout_secs: 3,
        search_concurrency: 0,
        json_limit: 1024,
        storage_dir: "target/cli-test-storage".into(),
        max_files_per_message: 15,
        max_file_bytes: 1024 * 1024,
        max_avatar_bytes: 1024 * 1024,
        max_upload_bytes: 16 * 1024 * 1024,
        file_url_ttl_secs: 60,
        public_url: None,
        app_dir: None,
        ws_heartbeat_secs: 15,
        ws_idle_secs: 45,
        ws_queue: 256,
        ws_send_timeout_secs: 10,
        presence_ttl_secs: 30,
        presence_heartbeat_secs: 10,
        credential_cache_secs: 5,
        workers: 1,
        webhook_retry_schedule: "30,120,480,1920".to_owned(),
        webhook_log_days: 7,
        webhook_allow_private: false,
        offline_notice_secs: 60,
        log_format: chatd::LogFormat::Text,
        rate: chatd::RateSettings::default(),
    };
    let app = chatd::Application::build(settings).await.expect("builds");
    let url = format!("http://127.0.0.1:{}/api/v1/clients/me", app.port());
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());
    let mut reply = awc::Client::default()
        .get(url)
        .insert_header(("X-API-Key", api_key.as_str()))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status().as_u16(), 200);
    let body: Value = reply.json().await.expect("JSON");
    assert_eq!(body["data"]["id"], account["uuid"]);
    handle.stop(true).await;
}

#[test]
fn invalid_operator_input_fails_with_a_message() {
    let db = TestDatabase::new();
    let blank = chatd(&db, &["account", "create", "--name", "  "]);
    assert!(!blank.status.success());
    assert!(
        String::from_utf8_lossy(&blank.stderr).contains("name can't be blank"),
        "{}",
        String::from_utf8_lossy(&blank.stderr)
    );
    let missing = chatd(
        &db,
        &["user", "create", "--account-id", "999", "--name", "Ada"],
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such account"));
    let role = chatd(
        &db,
        &[
            "user",
            "create",
            "--account-id",
            "1",
            "--name",
            "A",
            "--role",
            "boss",
        ],
    );
    assert!(!role.status.success());
    assert!(String::from_utf8_lossy(&role.stderr).contains("role"));
}

#[test]
fn a_short_platform_token_is_refused_at_start() {
    let db = TestDatabase::new();
    let output = Command::new(env!("CARGO_BIN_EXE_chatd"))
        .args(["migrate"])
        .env("DATABASE_URL", db.url())
        .env("CHAT_PLATFORM_TOKEN", "short")
        .output()
        .expect("chatd runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CHAT_PLATFORM_TOKEN"), "{stderr}");
    assert!(
        !stderr.contains("short"),
        "the token itself was printed: {stderr}"
    );
}

#[test]
fn a_short_secret_key_is_refused_at_start() {
    let db = TestDatabase::new();
    let output = Command::new(env!("CARGO_BIN_EXE_chatd"))
        .args(["migrate"])
        .env("DATABASE_URL", db.url())
        .env("CHAT_SECRET_KEY", "tiny-secret-key")
        .output()
        .expect("chatd runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CHAT_SECRET_KEY"), "{stderr}");
    assert!(
        !stderr.contains("tiny-secret-key"),
        "the key itself was printed: {stderr}"
    );
}

/// `GET /health` over a plain socket answers 200.
fn health_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut reply = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut reply).is_ok()
        && reply.starts_with("HTTP/1.1 200")
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let db = TestDatabase::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatd"))
        .args(["serve"])
        .env("DATABASE_URL", db.url())
        .env("CHAT_BIND", "127.0.0.1:0")
        .env("CHAT_WORKERS", "1")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("chatd starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut port = None;
    while Instant::now() < deadline && port.is_none() {
        match lines.next() {
            Some(Ok(line)) => {
                port = line
                    .split("listening on: 127.0.0.1:")
                    .nth(1)
                    .and_then(|rest| rest.trim().parse::<u16>().ok());
            }
            Some(Err(_)) | None => break,
        }
    }
    let port = port.expect("chatd never said where it listens");
    // Signal handlers are installed as the server starts running: wait until it serves.
    let serving = (0..100).any(|_| {
        let answered = health_ok(port);
        if !answered {
            std::thread::sleep(Duration::from_millis(50));
        }
        answered
    });
    assert!(serving, "chatd never answered /health");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("chatd exits");
    assert!(status.success(), "exit status {status:?}; log: {rest:?}");
    assert!(
        rest.iter().any(|line| line.contains("chatd stopped")),
        "{rest:?}"
    );
}
