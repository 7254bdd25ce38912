//! The examples of docs/auth.md, run exactly as they are written: each language's JWT
//! example mints a token with the account's signing secret, and the server takes it as
//! the user it names, with the permissions it carries. Python is required; Node.js and
//! Ruby are run when they are on `PATH` (otherwise the test says so and passes).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use awc::http::Method;
use chat_tests::*;
use serde_json::json;

/// A language of the doc's examples, and how to run a file of it.
struct Language {
    /// The name in the doc's `<!-- docs_examples: NAME -->` marker.
    marker: &'static str,
    program: &'static str,
    /// Arguments before the file: Python runs isolated (no user site, no `PYTHON*`
    /// variables), so only its standard library is at hand.
    args: &'static [&'static str],
    extension: &'static str,
}

const PYTHON: Language = Language {
    marker: "jwt-python",
    program: "python3",
    args: &["-I"],
    extension: "py",
};

const NODE: Language = Language {
    marker: "jwt-node",
    program: "node",
    args: &[],
    extension: "js",
};

const RUBY: Language = Language {
    marker: "jwt-ruby",
    program: "ruby",
    args: &[],
    extension: "rb",
};

/// A name with a character outside ASCII, so each example is seen to encode UTF-8.
const USER_NAME: &str = "Zoë Example";

fn auth_doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/auth.md");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The fenced block right after `<!-- docs_examples: {marker} -->` in `doc`.
fn example(doc: &str, marker: &str) -> String {
    let tag = format!("<!-- docs_examples: {marker} -->");
    let mut lines = doc.lines().skip_while(|line| line.trim() != tag).skip(1);
    let fence = lines
        .next()
        .unwrap_or_else(|| panic!("docs/auth.md has no `{tag}`"));
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

/// Saves the doc's example of `language` to a file, runs it with the signing secret,
/// client id, user id and name in the environment, and answers what it printed.
fn mint(language: &Language, secret: &str, client_id: &str, user_id: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let file: PathBuf = std::env::temp_dir().join(format!(
        "chat-docs-example-{}-{nanos}.{}",
        std::process::id(),
        language.extension
    ));
    std::fs::write(&file, example(&auth_doc(), language.marker))
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", file.display()));
    let output = Command::new(language.program)
        .args(language.args)
        .arg(&file)
        .env("CHAT_SIGNING_SECRET", secret)
        .env("CHAT_CLIENT_ID", client_id)
        .env("CHAT_USER_ID", user_id)
        .env("CHAT_USER_NAME", USER_NAME)
        .env("LC_ALL", "C.UTF-8")
        .output();
    let _ = std::fs::remove_file(&file);
    let output = output.unwrap_or_else(|error| panic!("cannot run {}: {error}", language.program));
    assert!(
        output.status.success(),
        "the {} example failed ({}): {}",
        language.marker,
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(
        parts.len(),
        3,
        "the {} example printed {token:?}, not a JWT",
        language.marker
    );
    assert!(
        parts.iter().all(|part| !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')),
        "the {} example printed {token:?}: each part must be base64url without padding",
        language.marker
    );
    token
}

/// Runs the example of `language` against a real server: the token it mints is taken as
/// the user it names (made on first use, with its `name`), with its permissions, and a
/// token it mints with another secret is refused.
async fn assert_example_mints_accepted_tokens(language: &Language) {
    let app = TestApp::spawn().await;
    let account = app.create_account("Docs").await;
    let api_key = str_of(&account, "api_key");
    let reply = app
        .send(
            Method::POST,
            "/api/v1/clients/signing-secret",
            &[api_key_header(api_key)],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = reply.json()["data"].clone();
    let secret = str_of(&data, "signing_secret");
    let client_id = str_of(&data, "client_id");
    assert_eq!(
        client_id,
        str_of(&account, "uuid"),
        "the doc says the client id is the account's UUID"
    );

    let user_id = format!("docs-{}", language.marker);
    let token = mint(language, secret, client_id, &user_id);
    let bearer = format!("Bearer {token}");
    let auth = [("authorization", bearer.as_str())];

    let me = app.get(&format!("/api/v1/users/{user_id}"), &auth).await;
    assert_eq!(me.status, 200, "{}: {}", language.marker, me.text());
    let user = &me.json()["data"];
    assert_eq!(user["user_id"], json!(user_id), "{user}");
    assert_eq!(user["user_name"], json!(USER_NAME), "{user}");

    // The example's `perms` (read, send, join) are the token's: it lists rooms...
    let rooms = app.get("/api/v1/rooms/", &auth).await;
    assert_eq!(rooms.status, 200, "{}: {}", language.marker, rooms.text());
    // ...and may not create one (`manage_rooms`).
    let create = app
        .json(
            Method::POST,
            "/api/v1/rooms/",
            &auth,
            &json!({ "name": "Not allowed" }),
        )
        .await;
    let error = assert_chatapi_error(&create, 403, "PERMISSION_DENIED", language.marker);
    assert_eq!(
        error["details"]["required_permission"], "manage_rooms",
        "{error}"
    );

    // The signature is checked: the same example with another secret is refused.
    let forged = mint(language, &format!("{secret}0"), client_id, &user_id);
    let forged = format!("Bearer {forged}");
    let refused = app
        .get(
            &format!("/api/v1/users/{user_id}"),
            &[("authorization", forged.as_str())],
        )
        .await;
    assert_chatapi_error(&refused, 401, "UNAUTHORIZED", language.marker);
}

/// Runs the example of `language` if its program is installed; says so if it is not.
async fn run_if_installed(language: &Language) {
    if on_path(language.program) {
        assert_example_mints_accepted_tokens(language).await;
    } else {
        eprintln!(
            "skipped: `{}` is not on PATH, so the {} example of docs/auth.md was not run",
            language.program, language.marker
        );
    }
}

#[actix_web::test]
async fn the_python_jwt_example_of_the_auth_doc_mints_tokens_the_server_accepts() {
    assert!(
        on_path(PYTHON.program),
        "python3 is needed to check the Python example of docs/auth.md"
    );
    assert_example_mints_accepted_tokens(&PYTHON).await;
}

#[actix_web::test]
async fn the_node_jwt_example_of_the_auth_doc_mints_tokens_the_server_accepts() {
    run_if_installed(&NODE).await;
}

#[actix_web::test]
async fn the_ruby_jwt_example_of_the_auth_doc_mints_tokens_the_server_accepts() {
    run_if_installed(&RUBY).await;
}

#[test]
fn every_example_of_the_auth_doc_is_found_by_its_marker() {
    let doc = auth_doc();
    for language in [PYTHON, NODE, RUBY] {
        let code = example(&doc, language.marker);
        assert!(
            code.contains("CHAT_SIGNING_SECRET") && code.contains("HS256"),
            "the {} block does not look like the JWT example:\n{code}",
            language.marker
        );
    }
}
