//! Search across rooms (CONTRACT §10): `GET /api/v1/messages/search` and the account
//! dialect's `…/chat_rooms/search`: words in any inflection and quoted phrases, best
//! match first, only the rooms the caller may read, never deleted messages. Filters,
//! paging and bad input: `conversations_search_query`.

use awc::http::Method;
use chat_tests::*;
use serde_json::{Value, json};

/// `q=…` for `words`, percent-encoded.
fn q(words: &str) -> String {
    format!("q={}", query_escape(words))
}

/// The contents of a ChatAPI search's results, sorted (for filters that do not decide
/// the order).
fn sorted_contents(found: &Value) -> Vec<String> {
    let mut contents = contents_of(found);
    contents.sort();
    contents
}

/// A message's `id`.
fn id(message: &Value) -> &str {
    str_of(message, "id")
}

fn sorted(items: &[&str]) -> Vec<String> {
    let mut items = strings(items);
    items.sort();
    items
}

#[actix_web::test]
async fn a_word_finds_its_inflections_and_the_best_match_comes_first() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .room_with(&acme.api_key, "General", &[("alice", "Alice")])
        .await;
    let best = app
        .say(
            &acme.api_key,
            &room,
            "alice",
            "deploy, deploy, deploy: the deploy pipeline is ready",
        )
        .await;
    let running = app
        .say(&acme.api_key, &room, "alice", "Who is running the release?")
        .await;
    let runs = app
        .say(&acme.api_key, &room, "alice", "She runs every morning")
        .await;
    app.say(&acme.api_key, &room, "alice", "Nothing to see here")
        .await;
    let once = app
        .say(&acme.api_key, &room, "alice", "one more deploy today")
        .await;

    // `run` finds `running` and `runs` (equal rank: newest first), nothing else.
    let found = app.search_ok(&acme.api_key, &q("run")).await;
    assert_eq!(ids_of(&found), [id(&runs), id(&running)], "{found}");
    assert_eq!(found["status"], "success", "{found}");
    assert_eq!(
        found["pagination"],
        json!({ "skip": 0, "limit": 50, "total": 2, "has_more": false }),
        "{found}"
    );
    // Each result is the message as the ChatAPI renders it, with its room.
    assert_eq!(
        found["data"][0],
        app.chatapi_message(&acme.api_key, str_of(&runs, "id"))
            .await,
        "{found}"
    );
    assert_eq!(found["data"][1]["room_id"], room.as_str(), "{found}");

    // Four times the word outranks once, though older.
    let found = app.search_ok(&acme.api_key, &q("deploying")).await;
    assert_eq!(ids_of(&found), [id(&best), id(&once)], "{found}");
    // Case does not matter; a word nobody wrote finds nothing.
    let found = app.search_ok(&acme.api_key, &q("DEPLOY")).await;
    assert_eq!(found["pagination"]["total"], 2, "{found}");
    let found = app.search_ok(&acme.api_key, &q("kangaroo")).await;
    assert_eq!(found["data"], json!([]), "{found}");
    assert_eq!(found["pagination"]["total"], 0, "{found}");
    // A query of stop words only matches nothing, without an error.
    let found = app.search_ok(&acme.api_key, &q("the")).await;
    assert_eq!(found["data"], json!([]), "{found}");
}

#[actix_web::test]
async fn a_quoted_phrase_matches_its_words_in_that_order() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .room_with(&acme.api_key, "General", &[("alice", "Alice")])
        .await;
    for content in [
        "a quick fox jumps over the dog",
        "the fox quick reflexes impressed us",
        "quick thinking, no animals involved",
    ] {
        app.say(&acme.api_key, &room, "alice", content).await;
    }
    let search = |words: &'static str| {
        let query = q(words);
        let (app, api_key) = (&app, &acme.api_key);
        async move { app.search_ok(api_key, &query).await }
    };
    assert_eq!(
        sorted_contents(&search("\"quick fox\"").await),
        ["a quick fox jumps over the dog"]
    );
    assert_eq!(
        sorted_contents(&search("\"fox quick\"").await),
        ["the fox quick reflexes impressed us"]
    );
    // Without quotes, both words anywhere; `-word` leaves a word out.
    assert_eq!(
        sorted_contents(&search("quick fox").await),
        sorted(&[
            "a quick fox jumps over the dog",
            "the fox quick reflexes impressed us"
        ])
    );
    assert_eq!(
        sorted_contents(&search("quick -fox").await),
        ["quick thinking, no animals involved"]
    );
    assert_eq!(search("quick").await["pagination"]["total"], 3);
}

#[actix_web::test]
async fn a_german_message_is_found_by_an_inflected_german_query() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .room_with(&acme.api_key, "General", &[("alice", "Alice")])
        .await;
    // The language of the message (meta.language) …
    let houses = app
        .send_message_ok(
            &acme.api_key,
            &room,
            json!({
                "sender_id": "alice",
                "content": "Wir haben gestern viele Häuser gekauft",
                "meta": { "language": "de" },
            }),
        )
        .await;
    // … or of its room (the room's meta.language).
    let berlin = app
        .create_room(
            &acme.api_key,
            json!({ "name": "Berlin", "meta": { "language": "de" } }),
        )
        .await;
    let berlin = str_of(&berlin, "id").to_owned();
    app.join_ok(&acme.api_key, &berlin, "alice").await;
    let children = app
        .say(
            &acme.api_key,
            &berlin,
            "alice",
            "Die Kinder spielen in den Gärten",
        )
        .await;

    let found = app
        .search_ok(&acme.api_key, &format!("{}&lang=de", q("Häusern")))
        .await;
    assert_eq!(ids_of(&found), [id(&houses)], "{found}");
    assert_eq!(found["data"][0]["meta"], json!({ "language": "de" }));
    let found = app
        .search_ok(&acme.api_key, &format!("{}&lang=german", q("Kindern")))
        .await;
    assert_eq!(ids_of(&found), [id(&children)], "{found}");
    // Read as English (the default), the inflected German words match nothing.
    for words in ["Häusern", "Kindern"] {
        let found = app.search_ok(&acme.api_key, &q(words)).await;
        assert_eq!(found["pagination"]["total"], 0, "{words}: {found}");
    }
}

#[actix_web::test]
async fn search_never_returns_another_accounts_messages_nor_deleted_ones() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    let ours = app
        .room_with(&acme.api_key, "Billing", &[("alice", "Alice")])
        .await;
    let theirs = app
        .room_with(&globex.api_key, "Billing", &[("alice", "Alice")])
        .await;
    let mine = app
        .say(&acme.api_key, &ours, "alice", "invoice 42 is overdue")
        .await;
    let other = app
        .say(&globex.api_key, &theirs, "alice", "invoice 77 is paid")
        .await;

    for (tenant, expected) in [(&acme, &mine), (&globex, &other)] {
        for credential in [&tenant.api_key, &tenant.admin_token] {
            let found = app.search_ok(credential, &q("invoice")).await;
            assert_eq!(ids_of(&found), [id(expected)], "{found}");
            assert_eq!(found["pagination"]["total"], 1, "{found}");
        }
    }
    // The account dialect: its own account only; another account's path is refused.
    let reply = app
        .chat_search(acme.id, &acme.admin_token, &q("invoice"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(contents_of(&reply.json()), ["invoice 42 is overdue"]);
    let reply = app
        .chat_search(globex.id, &acme.admin_token, &q("invoice"))
        .await;
    assert_eq!(
        assert_account_error(&reply, 401, "another account's search"),
        "You are not authorized to access this account"
    );
    // Naming the other account's room finds nothing of it.
    let reply = app
        .search(
            &acme.api_key,
            &format!("{}&room_ids={theirs}", q("invoice")),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["data"], json!([]), "{}", reply.text());

    // Deleted: gone from the results; restored: back.
    let path = message_path(str_of(&mine, "id"));
    let reply = app
        .send(Method::DELETE, &path, &key(&acme.api_key), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let found = app.search_ok(&acme.api_key, &q("invoice")).await;
    assert_eq!(found["data"], json!([]), "a deleted message: {found}");
    assert_eq!(found["pagination"]["total"], 0, "{found}");
    let reply = app
        .send(
            Method::POST,
            &format!("{path}/restore"),
            &key(&acme.api_key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let found = app.search_ok(&acme.api_key, &q("overdue")).await;
    assert_eq!(ids_of(&found), [id(&mine)], "{found}");
}

#[actix_web::test]
async fn agents_and_end_users_search_only_the_rooms_they_belong_to() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let agent = chat_user_id(&acme.agent);
    let general = app
        .room_with(&acme.api_key, "General", &[("alice", "Alice")])
        .await;
    app.join_ok(&acme.api_key, &general, &agent).await;
    let board = app
        .room_with(&acme.api_key, "Board", &[("bob", "Bob")])
        .await;
    let approved = app
        .say(&acme.api_key, &general, "alice", "budget approved")
        .await;
    let cut = app.say(&acme.api_key, &board, "bob", "budget cut").await;
    let everything = [id(&cut), id(&approved)];

    let found = app.search_ok(&acme.api_key, &q("budget")).await;
    assert_eq!(ids_of(&found), everything, "the API key: {found}");
    let found = app.search_ok(&acme.admin_token, &q("budget")).await;
    assert_eq!(ids_of(&found), everything, "an administrator: {found}");

    // The agent belongs to General only, Alice and Bob to one room each.
    let alice = app.scoped_key(&acme.api_key, "alice", None).await;
    let bob = app.scoped_key(&acme.api_key, "bob", None).await;
    for (who, credential, expected) in [
        ("the agent", &acme.agent_token, &approved),
        ("alice's scoped key", &alice, &approved),
        ("bob's scoped key", &bob, &cut),
    ] {
        let found = app.search_ok(credential, &q("budget")).await;
        assert_eq!(ids_of(&found), [id(expected)], "{who}: {found}");
        assert_eq!(found["pagination"]["total"], 1, "{who}: {found}");
    }
    // Naming a room they may not read does not open it.
    let reply = app
        .search(
            &acme.agent_token,
            &format!("{}&room_ids={board}", q("budget")),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["data"], json!([]), "{}", reply.text());
    // Next to a room of theirs, it adds nothing either.
    let found = app
        .search_ok(
            &acme.agent_token,
            &format!("{}&room_ids={board},{general}", q("budget")),
        )
        .await;
    assert_eq!(ids_of(&found), [id(&approved)], "{found}");
    // The account dialect follows the same rule.
    let reply = app
        .chat_search(acme.id, &acme.agent_token, &q("budget"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(contents_of(&reply.json()), ["budget approved"]);
}
