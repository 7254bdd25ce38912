//! Search across rooms, its query (CONTRACT §10): every filter of
//! `GET /api/v1/messages/search`, each dialect's pagination (ChatAPI skip/limit/total/
//! has_more, the account dialect's page headers) and its error shapes.

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
        (format!("room_ids={sales}&room_ids={general}"), sorted(&all)),
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
    // A value of the wrong type: 400 INVALID_REQUEST naming it.
    for (query, field) in [
        ("q=run&date_from=yesterday", "date_from"),
        ("q=run&date_to=2025-13-01", "date_to"),
        ("q=run&has_mentions=maybe", "has_mentions"),
        ("q=run&has_attachments=1x", "has_attachments"),
    ] {
        let reply = app.search(&acme.api_key, query).await;
        let error = assert_chatapi_error(&reply, 400, "INVALID_REQUEST", query);
        assert_eq!(keys_of(&error["details"]), [field], "?{query}: {error}");
    }
    // Without a credential: 401 in each dialect's shape.
    let reply = app.get(&format!("{SEARCH}?q=run"), &[]).await;
    assert_chatapi_error(&reply, 401, "UNAUTHORIZED", "no credential");
    let reply = app
        .get(&format!("{}?q=run", chat_search_path(acme.id)), &[])
        .await;
    assert_account_error(&reply, 401, "no credential");
}
