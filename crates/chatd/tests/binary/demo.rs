//! `chatd demo` as an operator runs it, checked through the use cases over the same
//! database: a new account on each run, three people whose links sign in as them, three
//! rooms with the right members, and a conversation with a mention, a reply and a
//! reaction.
#![allow(clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

use chat_app::{Actor, ChatApp, Detail, MessageDetail, MessageFilter, RoomQuery, RoomSort, Window};
use chat_domain::{RoomRef, Sender};
use chat_test_db::TestDatabase;
use clap::Parser;
use serde_json::Value;
use uuid::Uuid;

const URL: &str = "http://chat.example.test:9000";

/// A database and a storage folder for the demo's runs; the folder is removed on drop.
struct Scratch {
    db: TestDatabase,
    storage: PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let db = TestDatabase::new();
        let storage = std::env::temp_dir().join("chat-demo-test").join(db.name());
        Self { db, storage }
    }

    /// Runs `chatd demo` with `args` (and `env`) over the database.
    fn demo(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_chatd"))
            .arg("demo")
            .args(args)
            .env("DATABASE_URL", self.db.url())
            .env("CHAT_STORAGE_DIR", &self.storage)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .output()
            .expect("chatd runs");
        assert!(
            output.status.success(),
            "chatd demo {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn demo_json(&self) -> Value {
        let output = self.demo(&["--url", &format!("{URL}/"), "--json"], &[]);
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }

    /// The use cases over the same database, as `chatd` wires them.
    async fn app(&self) -> ChatApp {
        #[derive(Parser)]
        struct Flags {
            #[command(flatten)]
            settings: chatd::Settings,
        }
        let storage = self.storage.to_string_lossy();
        let flags = Flags::try_parse_from([
            "chatd",
            "--database-url",
            self.db.url(),
            "--storage-dir",
            &storage,
        ])
        .expect("settings");
        chatd::wire(&flags.settings).await.expect("wires").1
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.storage);
    }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {value}"))
}

fn number(value: &Value, key: &str) -> i64 {
    value[key]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer {key} in {value}"))
}

#[actix_web::test]
async fn demo_makes_three_people_whose_links_sign_in_as_them() {
    let scratch = Scratch::new();
    let made = scratch.demo_json();
    let app = scratch.app().await;
    let account_id = number(&made, "account_id");

    // The API key is the new account's, with chat rooms on.
    let api_key = text(&made, "api_key");
    assert!(api_key.starts_with("ck_"), "{api_key}");
    let api = app
        .auth
        .authenticate(Some(api_key))
        .await
        .expect("the API key works");
    let Actor::ApiKey(access) = api else {
        panic!("the API key acts as {api:?}");
    };
    assert_eq!(access.id.0, account_id);
    assert_eq!(access.uuid.to_string(), text(&made, "client_id"));
    assert!(access.features.chat_rooms);

    // Each person's token is theirs, and their link carries it in the fragment only.
    let users = made["users"].as_array().expect("users");
    let people: Vec<(&str, &str)> = users
        .iter()
        .map(|user| (text(user, "user_id"), text(user, "name")))
        .collect();
    assert_eq!(
        people,
        [
            ("ann", "Ann Lee"),
            ("bob", "Bob Byrne"),
            ("cat", "Cat Cruz")
        ]
    );
    for user in users {
        let token = text(user, "token");
        assert!(token.starts_with("sk_"), "{token}");
        let link = text(user, "link");
        assert_eq!(link, format!("{URL}/app/#token={token}"));
        assert!(!link.contains('?'), "{link}");
        let actor = app
            .auth
            .authenticate(Some(token))
            .await
            .unwrap_or_else(|e| panic!("{}'s token is refused: {e}", text(user, "user_id")));
        let Actor::User {
            account, user_id, ..
        } = actor
        else {
            panic!("a token acts as {actor:?}");
        };
        assert_eq!(account.id.0, account_id);
        assert_eq!(user_id.0, number(user, "id"));
    }
    let ids: Vec<i64> = users.iter().map(|user| number(user, "id")).collect();

    // Three rooms, each with its members.
    let window = Window::new(0, 100, Window::MAX_LIMIT).expect("window");
    let query = RoomQuery::new(None, None, RoomSort::CreatedAsc, window).expect("query");
    let listed = app
        .rooms
        .list(&api, query, Detail::WithMembers)
        .await
        .expect("rooms");
    let mut names: Vec<&str> = listed
        .items
        .iter()
        .map(|view| view.room.name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Ann and Bob", "General", "Random"]);
    let rooms = made["rooms"].as_array().expect("rooms");
    assert_eq!(rooms.len(), 3);
    let expected = [
        ("General", vec!["ann", "bob", "cat"]),
        ("Ann and Bob", vec!["ann", "bob"]),
        ("Random", vec!["ann", "bob", "cat"]),
    ];
    for (room, (name, members)) in rooms.iter().zip(&expected) {
        let uuid: Uuid = text(room, "id").parse().expect("a room UUID");
        let view = app
            .rooms
            .get(&api, RoomRef::Uuid(uuid), Detail::WithMembers)
            .await
            .expect("the room exists");
        assert_eq!(view.room.name.as_str(), *name);
        assert_eq!(text(room, "name"), *name);
        assert_eq!(view.room.id.0, number(room, "account_room_id"));
        let mut held: Vec<String> = view
            .members
            .expect("members")
            .iter()
            .map(|member| member.chat_user_id())
            .collect();
        held.sort_unstable();
        assert_eq!(held, *members, "members of {name}");
        assert_eq!(room["members"], serde_json::json!(members));
    }

    // A conversation in General: all three speak, bob is mentioned, one reply, one reaction.
    let general: Uuid = text(&rooms[0], "id").parse().expect("a room UUID");
    let page = app
        .messages
        .list(
            &api,
            RoomRef::Uuid(general),
            MessageFilter::newest(window),
            MessageDetail::Summary,
        )
        .await
        .expect("messages");
    assert!(page.total >= 4, "{} messages", page.total);
    let messages: Vec<_> = page.items.iter().map(|view| &view.message).collect();
    for id in &ids {
        assert!(
            messages
                .iter()
                .any(|m| matches!(m.sender, Sender::User { id: sender, .. } if sender.0 == *id)),
            "user {id} says nothing"
        );
    }
    assert!(
        messages
            .iter()
            .any(|m| m.mentions.iter().any(|person| person.label == "bob")),
        "nobody mentions bob"
    );
    assert!(messages.iter().any(|m| m.reply_to.is_some()), "no reply");
    assert!(
        messages.iter().any(|m| !m.reactions.is_empty()),
        "no reaction"
    );
}

#[actix_web::test]
async fn each_run_makes_a_new_account_and_keeps_the_earlier_ones() {
    let scratch = Scratch::new();
    let first = scratch.demo_json();
    let second = scratch.demo_json();
    assert_ne!(first["account_id"], second["account_id"]);
    assert_ne!(first["api_key"], second["api_key"]);
    let app = scratch.app().await;
    for made in [&first, &second] {
        for user in made["users"].as_array().expect("users") {
            let actor = app
                .auth
                .authenticate(Some(text(user, "token")))
                .await
                .expect("the token still works");
            assert_eq!(
                actor.account().map(|account| account.id.0),
                Some(number(made, "account_id"))
            );
        }
    }
}

#[test]
fn the_text_links_a_wildcard_bind_to_loopback_and_hides_the_api_key() {
    let scratch = Scratch::new();
    let output = scratch.demo(&[], &[("CHAT_BIND", "0.0.0.0:8123")]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(lines[0].contains("Demo account"), "{stdout}");
    for (line, name) in lines[1..4].iter().zip(["Ann Lee", "Bob Byrne", "Cat Cruz"]) {
        let link = line
            .strip_prefix(&format!("{name}  "))
            .unwrap_or_else(|| panic!("{line:?} does not start with {name:?}"));
        let token = link
            .strip_prefix("http://127.0.0.1:8123/app/#token=")
            .unwrap_or_else(|| panic!("{link:?} is not a link to the app with a token"));
        assert!(token.starts_with("sk_") && token.len() > 3, "{token}");
    }
    assert!(lines[4].contains("two windows"), "{stdout}");
    assert!(!stdout.contains("ck_"), "the API key was printed: {stdout}");
}
