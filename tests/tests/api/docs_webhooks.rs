//! The signature-verifying examples of docs/webhooks.md, run exactly as they are written
//! against a real delivery: each accepts the delivery's raw body with its signature and
//! timestamp headers and the webhook's secret, and refuses the body with one byte changed
//! and a timestamp 10 minutes old. Python is required; Node.js and Ruby are run when they
//! are on `PATH` (otherwise the test says so and passes).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use chat_tests::*;
use serde_json::json;

/// A language of the doc's examples, and how to run a file of it.
struct Language {
    /// The name in the doc's `<!-- docs_examples: NAME -->` marker.
    marker: &'static str,
    program: &'static str,
    /// Python runs isolated (no user site, no `PYTHON*` variables): standard library only.
    args: &'static [&'static str],
    extension: &'static str,
}

const PYTHON: Language = Language {
    marker: "webhook-python",
    program: "python3",
    args: &["-I"],
    extension: "py",
};

const NODE: Language = Language {
    marker: "webhook-node",
    program: "node",
    args: &[],
    extension: "js",
};

const RUBY: Language = Language {
    marker: "webhook-ruby",
    program: "ruby",
    args: &[],
    extension: "rb",
};

fn webhooks_doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/webhooks.md");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The fenced block right after `<!-- docs_examples: {marker} -->` in `doc`.
fn example(doc: &str, marker: &str) -> String {
    let tag = format!("<!-- docs_examples: {marker} -->");
    let mut lines = doc.lines().skip_while(|line| line.trim() != tag).skip(1);
    let fence = lines
        .next()
        .unwrap_or_else(|| panic!("docs/webhooks.md has no `{tag}`"));
    assert!(
        fence.starts_with("```"),
        "`{tag}` must be followed by a fenced block, not {fence:?}"
    );
    let body: Vec<&str> = lines.take_while(|line| !line.starts_with("```")).collect();
    assert!(!body.is_empty(), "the block after `{tag}` is empty");
    body.join("\n") + "\n"
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Runs the example in `file` with `body` on stdin and the secret, signature and
/// timestamp in the environment; answers its exit code and what it printed (stdout, then
/// stderr).
fn verify(
    language: &Language,
    file: &Path,
    body: &[u8],
    secret: &str,
    signature: &str,
    timestamp: &str,
) -> (Option<i32>, String, String) {
    let mut child = Command::new(language.program)
        .args(language.args)
        .arg(file)
        .env("CHAT_WEBHOOK_SECRET", secret)
        .env("CHAT_WEBHOOK_SIGNATURE", signature)
        .env("CHAT_WEBHOOK_TIMESTAMP", timestamp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", language.program));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(body)
            .unwrap_or_else(|error| panic!("{} reads no stdin: {error}", language.marker));
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|error| panic!("{} did not end: {error}", language.marker));
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A real `message.created` delivery to a receiver; answers it and the webhook's secret.
async fn delivery() -> (WebhookRequest, String) {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let acme = app.tenant("Acme").await;
    let webhook = app
        .create_webhook(
            &acme.api_key,
            json!({ "url": receiver.url("/hooks"), "events": ["message.created"] }),
        )
        .await;
    let secret = str_of(&webhook, "secret").to_owned();
    let room = app
        .create_room(&acme.api_key, json!({ "name": "General" }))
        .await;
    let room = str_of(&room, "id");
    let agent = chat_user_id(&acme.agent);
    app.join_ok(&acme.api_key, room, &agent).await;
    app.send_message_ok(
        &acme.api_key,
        room,
        json!({ "sender_id": agent, "content": "Hello" }),
    )
    .await;
    let got = receiver.wait_for_event("message.created").await;
    assert!(got.signed_with(&secret), "bad signature: {:?}", got.headers);
    (got, secret)
}

/// The doc's example of `language` accepts the real delivery and refuses a changed body
/// and a stale timestamp.
async fn assert_example_verifies_deliveries(language: &Language) {
    let (got, secret) = delivery().await;
    let header = |name: &str| {
        got.header(name)
            .unwrap_or_else(|| panic!("no {name}: {:?}", got.headers))
    };
    let (signature, timestamp) = (header("x-chatapi-signature"), header("x-chatapi-timestamp"));
    let sent_at: i64 = timestamp
        .parse()
        .unwrap_or_else(|error| panic!("timestamp {timestamp:?}: {error}"));
    let stale = (sent_at - 600).to_string();
    let mut tampered = got.body.clone();
    let at = tampered
        .windows(5)
        .position(|w| w == b"Hello")
        .unwrap_or_else(|| panic!("no content in {}", String::from_utf8_lossy(&got.body)));
    tampered[at] = b'J';

    let file = std::env::temp_dir().join(format!(
        "chat-docs-{}-{}.{}",
        language.marker,
        std::process::id(),
        language.extension
    ));
    std::fs::write(&file, example(&webhooks_doc(), language.marker))
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", file.display()));
    let genuine = verify(language, &file, &got.body, &secret, signature, timestamp);
    let changed = verify(language, &file, &tampered, &secret, signature, timestamp);
    let old = verify(language, &file, &got.body, &secret, signature, &stale);
    let _ = std::fs::remove_file(&file);

    for ((code, stdout, stderr), expected, case) in [
        (genuine, (Some(0), "valid"), "the delivery as sent"),
        (changed, (Some(1), "invalid"), "one byte changed"),
        (old, (Some(1), "invalid"), "a timestamp 10 minutes old"),
    ] {
        assert_eq!(
            (code, stdout.as_str()),
            expected,
            "{}, {case}: {stderr}",
            language.marker
        );
    }
}

/// Runs the example of `language` if its program is installed; says so if it is not.
async fn run_if_installed(language: &Language) {
    if on_path(language.program) {
        assert_example_verifies_deliveries(language).await;
    } else {
        eprintln!(
            "skipped: `{}` is not on PATH, so the {} example of docs/webhooks.md was not run",
            language.program, language.marker
        );
    }
}

#[actix_web::test]
async fn the_python_example_of_the_webhooks_doc_verifies_real_deliveries() {
    assert!(
        on_path(PYTHON.program),
        "python3 is needed to check the Python example of docs/webhooks.md"
    );
    assert_example_verifies_deliveries(&PYTHON).await;
}

#[actix_web::test]
async fn the_node_example_of_the_webhooks_doc_verifies_real_deliveries() {
    run_if_installed(&NODE).await;
}

#[actix_web::test]
async fn the_ruby_example_of_the_webhooks_doc_verifies_real_deliveries() {
    run_if_installed(&RUBY).await;
}
