//! Search across rooms (CONTRACT §10): `GET /api/v1/messages/search` and the account
//! dialect's `…/chat_rooms/search`: words in any inflection and quoted phrases, best
//! match first, only the rooms the caller may read, never deleted messages, every filter,
//! each dialect's pagination and error shape.

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

/// Asserts a ChatAPI 422 VALIDATION_ERROR whose `details` name exactly `fields`.
fn assert_validation(reply: &Reply, fields: &[&str], context: &str) {
    let error = assert_chatapi_error(reply, 422, "VALIDATION_ERROR", context);
    assert_eq!(keys_of(&error["details"]), fields, "{context}: {error}");
}

/// Asserts an account-dialect 422 `{message, attributes}` naming exactly `attributes`.
fn assert_account_validation(reply: &Reply, attributes: &[&str], context: &str) {
    assert_eq!(reply.status, 422, "{context}: {}", reply.text());
    let body = reply.json();
    assert_eq!(
        keys_of(&body),
        ["attributes", "message"],
        "{context}: {body}"
    );
    assert_eq!(body["attributes"], json!(attributes), "{context}: {body}");
}

// ---------------------------------------------------------------- words and ranking

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

// ---------------------------------------------------------------- who sees what

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
            assert_eq!(ids_of(&found), [id(&expected)], "{found}");
            assert_eq!(found["pagination"]["total"], 1, "{found}");
        }
    }
    // Naming the other account's room finds nothing of it.
    let reply = app
        .search(
            &acme.api_key,
            &format!("{}&room_ids={theirs}", q("invoice")),
        )
        .await;
    if reply.status == 200 {
        assert_eq!(reply.json()["data"], json!([]), "{}", reply.text());
    } else {
        assert_chatapi_error(&reply, 404, "ROOM_NOT_FOUND", "another account's room");
    }

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
        assert_eq!(ids_of(&found), [id(&expected)], "{who}: {found}");
        assert_eq!(found["pagination"]["total"], 1, "{who}: {found}");
    }
    // Naming a room they may not read does not open it.
    let reply = app
        .search(
            &acme.agent_token,
            &format!("{}&room_ids={board}", q("budget")),
        )
        .await;
    if reply.status == 200 {
        assert_eq!(reply.json()["data"], json!([]), "{}", reply.text());
    } else {
        assert_chatapi_error(&reply, 403, "ROOM_ACCESS_DENIED", "a room not theirs");
    }
    // The account dialect follows the same rule.
    let reply = app
        .chat_search(acme.id, &acme.agent_token, &q("budget"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(contents_of(&reply.json()), ["budget approved"]);
}

// ---------------------------------------------------------------- filters

#[actix_web::test]
async fn every_filter_narrows_the_search() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let admin = chat_user_id(&acme.admin);
    let general = app
        .room_with(
            &acme.api_key,
            "General",
            &[("alice", "Alice"), ("bob", "Bob"), (&admin, "Ada Admin")],
        )
        .await;
    let sales = app
        .room_with(&acme.api_key, "Sales", &[("alice", "Alice")])
        .await;
    let old = app
        .say(&acme.api_key, &general, "alice", "report from last year")
        .await;
    app.sql(&format!(
        "UPDATE messages SET created_at = '2025-01-10T12:00:00Z' WHERE uuid = '{}'",
        str_of(&old, "id")
    ));
    app.say(&acme.api_key, &general, "alice", "report one")
        .await;
    app.send_message_ok(
        &acme.api_key,
        &general,
        json!({ "sender_id": "bob", "content": "report two for Alice", "meta": { "mentions": ["alice"] } }),
    )
    .await;
    app.send_message_ok(
        &acme.api_key,
        &general,
        json!({ "sender_id": "alice", "content": "report poll: which format?", "message_type": "poll" }),
    )
    .await;
    app.say(&acme.api_key, &sales, "alice", "report in sales")
        .await;
    // A message with a file, sent in the account dialect by the administrator.
    let general_id = app.room_int_id(&general);
    let (content_type, body) = multipart_body(
        &[("chat_room_message[content]", "report attached")],
        &[("chat_room_message[attachments][]", "chart.png", PNG_BYTES)],
    );
    let reply = app
        .send_as(
            Method::POST,
            &chat_messages_path(acme.id, general_id),
            &token(&acme.admin_token),
            &content_type,
            body,
        )
        .await;
    assert_eq!(reply.status, 200, "sending a file: {}", reply.text());

    let all = [
        "report from last year",
        "report one",
        "report two for Alice",
        "report poll: which format?",
        "report in sales",
        "report attached",
    ];
    let without = |left_out: &[&str]| -> Vec<String> {
        let kept: Vec<&str> = all
            .iter()
            .copied()
            .filter(|c| !left_out.contains(c))
            .collect();
        sorted(&kept)
    };
    let cases: Vec<(String, Vec<String>)> = vec![
        (String::new(), sorted(&all)),
        (format!("room_ids={sales}"), sorted(&["report in sales"])),
        (format!("room_ids={general},{sales}"), sorted(&all)),
        (
            "sender_ids=bob".to_owned(),
            sorted(&["report two for Alice"]),
        ),
        (
            format!("sender_ids=bob,{admin}"),
            sorted(&["report two for Alice", "report attached"]),
        ),
        (
            "message_types=poll".to_owned(),
            sorted(&["report poll: which format?"]),
        ),
        (
            format!("message_types=text&room_ids={sales}"),
            sorted(&["report in sales"]),
        ),
        (
            "message_types=poll,video".to_owned(),
            sorted(&["report poll: which format?"]),
        ),
        (
            "date_from=2025-01-01T00:00:00Z&date_to=2025-01-31T23:59:59Z".to_owned(),
            sorted(&["report from last year"]),
        ),
        (
            "date_from=2025-02-01T00:00:00Z".to_owned(),
            without(&["report from last year"]),
        ),
        (
            "date_to=2025-02-01T00:00:00Z".to_owned(),
            sorted(&["report from last year"]),
        ),
        (
            "has_mentions=true".to_owned(),
            sorted(&["report two for Alice"]),
        ),
        (
            "has_mentions=false".to_owned(),
            without(&["report two for Alice"]),
        ),
        (
            "has_attachments=true".to_owned(),
            sorted(&["report attached"]),
        ),
        (
            "has_attachments=false".to_owned(),
            without(&["report attached"]),
        ),
        (
            format!(
                "sender_ids=alice&room_ids={general}&has_mentions=false&date_from=2025-02-01T00:00:00Z"
            ),
            sorted(&["report one", "report poll: which format?"]),
        ),
    ];
    for (filter, expected) in cases {
        let query = format!("{}&{filter}", q("report"));
        let found = app.search_ok(&acme.api_key, &query).await;
        assert_eq!(sorted_contents(&found), expected, "?{filter}: {found}");
        assert_eq!(
            found["pagination"]["total"],
            expected.len(),
            "?{filter}: {found}"
        );
    }
    // The custom type is rendered as stored.
    let found = app
        .search_ok(
            &acme.api_key,
            &format!("{}&message_types=poll", q("report")),
        )
        .await;
    assert_eq!(found["data"][0]["message_type"], "poll", "{found}");
}

// ---------------------------------------------------------------- pagination

#[actix_web::test]
async fn search_results_are_paged_in_each_dialects_style() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let admin = chat_user_id(&acme.admin);
    let room = app
        .room_with(&acme.api_key, "General", &[(&admin, "Ada Admin")])
        .await;
    for n in 1..=7 {
        app.say(&acme.api_key, &room, &admin, &format!("standup note {n}"))
            .await;
    }
    let notes =
        |ns: &[i32]| -> Vec<String> { ns.iter().map(|n| format!("standup note {n}")).collect() };
    // ChatAPI: skip/limit, total, has_more; equal ranks come newest first.
    for (window, expected, has_more) in [
        ("limit=3", notes(&[7, 6, 5]), true),
        ("skip=3&limit=3", notes(&[4, 3, 2]), true),
        ("skip=6&limit=3", notes(&[1]), false),
        ("skip=9&limit=3", notes(&[]), false),
    ] {
        let found = app
            .search_ok(&acme.api_key, &format!("{}&{window}", q("standup")))
            .await;
        assert_eq!(contents_of(&found), expected, "?{window}: {found}");
        assert_eq!(found["pagination"]["total"], 7, "?{window}: {found}");
        assert_eq!(
            found["pagination"]["has_more"], has_more,
            "?{window}: {found}"
        );
        assert_eq!(found["pagination"]["limit"], 3, "?{window}: {found}");
    }
    // The account dialect: page/per_page and the page headers of its message list.
    let room_id = app.room_int_id(&room);
    let reply = app
        .chat_search(
            acme.id,
            &acme.admin_token,
            &format!("{}&page=2&per_page=3", q("standup")),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let page = reply.json();
    assert_eq!(contents_of(&page), notes(&[4, 3, 2]), "{page}");
    assert_eq!(
        [
            reply.header("x-total-count"),
            reply.header("x-current-page"),
            reply.header("x-per-page"),
            reply.header("x-total-pages"),
        ],
        [Some("7"), Some("2"), Some("3"), Some("3")]
    );
    // Each result in the account dialect's message JSON: the viewer sent them.
    let first = &page[0];
    assert_eq!(first["conversation_id"], room_id, "{first}");
    assert_eq!(first["room_name"], "General", "{first}");
    assert_eq!(first["message_type"], "outgoing", "{first}");
    assert_eq!(first["sender"]["id"], acme.admin["id"], "{first}");
    assert!(first["id"].is_i64(), "{first}");
    let reply = app
        .chat_search(acme.id, &acme.admin_token, &q("nothing-like-it"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), json!([]));
    assert_eq!(reply.header("x-total-count"), Some("0"));
    assert_eq!(reply.header("x-total-pages"), Some("1"));
}

// ---------------------------------------------------------------- bad input

#[actix_web::test]
async fn bad_search_input_is_422_in_each_dialects_shape() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("Acme").await;
    let room = app
        .room_with(&acme.api_key, "General", &[("alice", "Alice")])
        .await;
    for (query, fields) in [
        (String::new(), vec!["q"]),
        ("q=".to_owned(), vec!["q"]),
        ("q=%20%20%20".to_owned(), vec!["q"]),
        ("q=run&lang=klingon".to_owned(), vec!["lang"]),
        ("q=run&room_ids=not-a-uuid".to_owned(), vec!["room_ids"]),
        (format!("q=run&room_ids={room},42"), vec!["room_ids"]),
        (
            "q=run&message_types=Poll!".to_owned(),
            vec!["message_types"],
        ),
        (
            "q=run&date_from=2025-02-01T00:00:00Z&date_to=2025-01-01T00:00:00Z".to_owned(),
            vec!["date_from"],
        ),
        (format!("q={}&lang=xx", "a".repeat(300)), vec!["lang", "q"]),
    ] {
        let reply = app.search(&acme.api_key, &query).await;
        assert_validation(&reply, &fields, &format!("?{query}"));
    }
    for (query, attributes) in [
        ("q=", vec!["q"]),
        ("q=%20", vec!["q"]),
        ("q=run&lang=klingon", vec!["lang"]),
    ] {
        let reply = app.chat_search(acme.id, &acme.admin_token, query).await;
        assert_account_validation(&reply, &attributes, &format!("account ?{query}"));
    }
    // Without a credential: 401 in each dialect's shape.
    let reply = app.get(&format!("{SEARCH}?q=run"), &[]).await;
    assert_chatapi_error(&reply, 401, "UNAUTHORIZED", "no credential");
    let reply = app
        .get(&format!("{}?q=run", chat_search_path(acme.id)), &[])
        .await;
    assert_account_error(&reply, 401, "no credential");
}
