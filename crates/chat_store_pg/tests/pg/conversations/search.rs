//! Search across an account's rooms: words in any inflection, phrases, ranking, every
//! filter, the language, and the index that serves it.

use std::time::{Duration, Instant};

use chat_app::{ConversationStore, Mention, MessageStore, SearchQuery};
use chat_domain::{AccountId, MessageKind, RoomRef};
use chat_store_pg::PgStore;

use super::{
    Scene, contents, language, mentioning, query, room, scene, send, system, text, window,
    with_file, with_meta,
};
use crate::common::{Fixture, execute, fixture, options};
use crate::webhooks::{names, number};

/// The contents found, in their order, and the total (asserted to agree when the page
/// holds every match).
async fn found(store: &PgStore, account: AccountId, query: SearchQuery) -> (Vec<String>, i64) {
    let (messages, total) = store.search(account, query).await.expect("searched");
    for message in &messages {
        assert_eq!(message.account_id, account);
        assert_eq!(message.deleted_at, None);
    }
    let contents = contents(&messages).into_iter().map(str::to_owned).collect();
    (contents, total)
}

/// The contents found, sorted, when the page holds every match.
async fn found_set(store: &PgStore, account: AccountId, query: SearchQuery) -> Vec<String> {
    let (mut contents, total) = found(store, account, query).await;
    assert_eq!(total, contents.len() as i64, "{contents:?}");
    contents.sort();
    contents
}

#[tokio::test]
async fn words_match_in_any_inflection_and_phrases_in_order_best_first() {
    let Fixture { store, db: _db } = fixture();
    let Scene {
        acme,
        ann,
        ben,
        cid,
        general,
        other,
        eve,
        elsewhere,
        ..
    } = scene(&store).await;
    let g = general.id;
    send(
        &store,
        acme.id,
        g,
        text(&ann, "I was running late this morning"),
    )
    .await;
    send(&store, acme.id, g, text(&ben, "we run together")).await;
    send(
        &store,
        acme.id,
        g,
        text(&ann, "run run run, said the coach"),
    )
    .await;
    send(&store, acme.id, g, text(&cid, "the quick brown fox jumps")).await;
    send(&store, acme.id, g, text(&ben, "brown is the quick dog")).await;
    let gone = send(&store, acme.id, g, text(&ann, "run away")).await;
    store
        .set_message_deleted(acme.id, gone.id, true, None)
        .await
        .expect("deleted");
    send(
        &store,
        other.id,
        elsewhere.id,
        text(&eve, "running elsewhere"),
    )
    .await;

    // `run` finds `running`; the most matches first, then the newest; never a deleted
    // message, never another account's.
    let (hits, total) = found(&store, acme.id, query("run")).await;
    assert_eq!(
        hits,
        [
            "run run run, said the coach",
            "we run together",
            "I was running late this morning"
        ]
    );
    assert_eq!(total, 3);
    let (page, total) = found(
        &store,
        acme.id,
        SearchQuery {
            window: window(1, 1),
            ..query("Running")
        },
    )
    .await;
    assert_eq!((page, total), (vec!["we run together".to_owned()], 3));
    let (theirs, total) = found(&store, other.id, query("run")).await;
    assert_eq!((theirs, total), (vec!["running elsewhere".to_owned()], 1));

    // A quoted phrase: its words in that order; words alone: all of them, anywhere.
    assert_eq!(
        found_set(&store, acme.id, query("\"quick brown\"")).await,
        ["the quick brown fox jumps"]
    );
    assert_eq!(
        found_set(&store, acme.id, query("quick brown")).await,
        ["brown is the quick dog", "the quick brown fox jumps"]
    );
    // Leaving a word out, and choices.
    assert_eq!(
        found_set(&store, acme.id, query("run -late")).await,
        ["run run run, said the coach", "we run together"]
    );
    assert_eq!(
        found_set(&store, acme.id, query("fox or dog")).await,
        ["brown is the quick dog", "the quick brown fox jumps"]
    );

    // Restored, it is found again.
    store
        .set_message_deleted(acme.id, gone.id, false, None)
        .await
        .expect("restored");
    assert_eq!(found(&store, acme.id, query("run")).await.1, 4);
}

#[tokio::test]
async fn a_query_without_words_finds_nothing_and_is_no_error() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    send(
        &store,
        s.acme.id,
        s.general.id,
        text(&s.ann, "the end of it"),
    )
    .await;
    for nothing in ["the and of", "\" - or", "!!!", "\"\"", "&|:*"] {
        assert_eq!(
            found(&store, s.acme.id, query(nothing)).await,
            (Vec::new(), 0),
            "{nothing:?}"
        );
    }
}

#[tokio::test]
async fn every_filter_narrows_the_matches() {
    let Fixture { store, db: _db } = fixture();
    let s = scene(&store).await;
    let (acme, g) = (s.acme.id, s.general.id);
    let one = send(&store, acme, g, text(&s.ann, "report one")).await;
    let two = send(
        &store,
        acme,
        g,
        mentioning(text(&s.ben, "report two"), vec![Mention::Id(s.cid.id)]),
    )
    .await;
    let three = send(&store, acme, g, system("report three")).await;
    send(
        &store,
        acme,
        g,
        with_file(text(&s.ann, "report four"), acme),
    )
    .await;
    send(&store, acme, s.random.id, text(&s.ben, "report five")).await;
    send(
        &store,
        s.other.id,
        s.elsewhere.id,
        text(&s.eve, "report six"),
    )
    .await;
    assert_eq!(two.mentions.len(), 1);
    let all = [
        "report five",
        "report four",
        "report one",
        "report three",
        "report two",
    ];
    let q = || query("reports");
    assert_eq!(found_set(&store, acme, q()).await, all);

    // Rooms, by id or by uuid; another account's room is none of ours.
    let rooms = |rooms| SearchQuery { rooms, ..q() };
    assert_eq!(
        found_set(&store, acme, rooms(vec![RoomRef::Id(s.random.id)])).await,
        ["report five"]
    );
    assert_eq!(
        found_set(&store, acme, rooms(vec![RoomRef::Uuid(s.general.uuid)])).await,
        ["report four", "report one", "report three", "report two"]
    );
    assert_eq!(
        found_set(
            &store,
            acme,
            rooms(vec![
                RoomRef::Uuid(s.general.uuid),
                RoomRef::Id(s.random.id)
            ])
        )
        .await,
        all
    );
    for theirs in [RoomRef::Uuid(s.elsewhere.uuid), RoomRef::Id(s.elsewhere.id)] {
        assert_eq!(
            found_set(&store, acme, rooms(vec![theirs])).await,
            Vec::<String>::new()
        );
    }

    // Senders (`system` for system messages), kinds.
    let senders = |senders: Vec<String>| SearchQuery { senders, ..q() };
    assert_eq!(
        found_set(&store, acme, senders(vec!["system".to_owned()])).await,
        ["report three"]
    );
    assert_eq!(
        found_set(&store, acme, senders(vec![s.ben.chat_user_id()])).await,
        ["report five", "report two"]
    );
    let kinds = |kinds| SearchQuery { kinds, ..q() };
    assert_eq!(
        found_set(&store, acme, kinds(vec![MessageKind::System])).await,
        ["report three"]
    );
    assert_eq!(
        found_set(
            &store,
            acme,
            kinds(vec![MessageKind::Text, MessageKind::System])
        )
        .await,
        all
    );

    // Dates, both ends included.
    let between = |from, to| SearchQuery { from, to, ..q() };
    assert_eq!(
        found_set(
            &store,
            acme,
            between(Some(two.created_at), Some(three.created_at))
        )
        .await,
        ["report three", "report two"]
    );
    assert_eq!(
        found_set(&store, acme, between(None, Some(one.created_at))).await,
        ["report one"]
    );

    // Mentions, files.
    let mentions = |has| SearchQuery {
        has_mentions: Some(has),
        ..q()
    };
    assert_eq!(
        found_set(&store, acme, mentions(true)).await,
        ["report two"]
    );
    assert_eq!(found_set(&store, acme, mentions(false)).await.len(), 4);
    let files = |has| SearchQuery {
        has_attachments: Some(has),
        ..q()
    };
    assert_eq!(found_set(&store, acme, files(true)).await, ["report four"]);
    assert_eq!(found_set(&store, acme, files(false)).await.len(), 4);

    // A reader: only the rooms they belong to.
    let reader = |user: &chat_domain::User| SearchQuery {
        reader: Some(user.id),
        ..q()
    };
    assert_eq!(
        found_set(&store, acme, reader(&s.cid)).await,
        ["report four", "report one", "report three", "report two"]
    );
    assert_eq!(found_set(&store, acme, reader(&s.ben)).await, all);
    assert_eq!(
        found_set(&store, acme, reader(&s.out)).await,
        Vec::<String>::new()
    );
    assert_eq!(
        found_set(&store, acme, reader(&s.eve)).await,
        Vec::<String>::new()
    );

    // Together.
    let narrow = SearchQuery {
        reader: Some(s.cid.id),
        senders: vec![s.ben.chat_user_id()],
        has_mentions: Some(true),
        ..q()
    };
    assert_eq!(found_set(&store, acme, narrow).await, ["report two"]);
}

#[tokio::test]
async fn messages_are_indexed_in_their_language_or_their_rooms() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    let german = room(&store, s.acme.id, "Haus", &s.ann, Some(language("de"))).await;
    let in_german = send(
        &store,
        s.acme.id,
        german.id,
        text(&s.ann, "Die Häuser sind alt"),
    )
    .await;
    let in_english = send(
        &store,
        s.acme.id,
        s.general.id,
        text(&s.ann, "Häuser am See"),
    )
    .await;
    let in_french = send(
        &store,
        s.acme.id,
        german.id,
        with_meta(
            text(&s.ann, "Les chevaux courent"),
            serde_json::json!({ "language": "fr" }),
        ),
    )
    .await;
    let unknown = send(
        &store,
        s.acme.id,
        s.general.id,
        with_meta(
            text(&s.ann, "plain words"),
            serde_json::json!({ "language": "klingon" }),
        ),
    )
    .await;
    let config = |id: chat_domain::MessageId| {
        names(
            &db,
            &format!(
                "SELECT search_config::text AS name FROM messages WHERE id = {}",
                id.0
            ),
        )
    };
    assert_eq!(config(in_german.id), ["german"]);
    assert_eq!(config(in_english.id), ["english"]);
    assert_eq!(config(in_french.id), ["french"]);
    assert_eq!(config(unknown.id), ["english"]);

    let in_lang = |text: &str, lang: Option<&str>| SearchQuery {
        language: lang.map(str::to_owned),
        ..query(text)
    };
    assert_eq!(
        found_set(&store, s.acme.id, in_lang("Haus", Some("de"))).await,
        ["Die Häuser sind alt"]
    );
    assert_eq!(
        found_set(&store, s.acme.id, in_lang("haus", Some("german"))).await,
        ["Die Häuser sind alt"]
    );
    // English does not know that Häuser are houses: the English message is found by the
    // word as written, the German one by any of its forms in German.
    assert_eq!(
        found_set(&store, s.acme.id, in_lang("Häuser", None)).await,
        ["Häuser am See"]
    );
    assert_eq!(
        found_set(&store, s.acme.id, in_lang("Häuser", Some("de"))).await,
        ["Die Häuser sind alt"]
    );
    assert_eq!(
        found_set(&store, s.acme.id, in_lang("cheval", Some("fr"))).await,
        ["Les chevaux courent"]
    );
}

#[tokio::test]
async fn the_search_reads_the_search_index() {
    let Fixture { store, db } = fixture();
    let s = scene(&store).await;
    send(&store, s.acme.id, s.general.id, text(&s.ben, "needle")).await;
    // A history of some size (written behind the store's back), so that the planner
    // weighs its choices as it would in production rather than reading a tiny table whole.
    execute(
        &db,
        &format!(
            "INSERT INTO messages (account_id, room_id, seq, sender_user_id, sender_label, \
                                   content, message_type) \
             SELECT {account}, {room}, 1000 + g, {user}, '{label}', \
                    'haystack number ' || g, 'text' \
               FROM generate_series(1, 5000) AS g",
            account = s.acme.id.0,
            room = s.general.id.0,
            user = s.ann.id.0,
            label = s.ann.chat_user_id(),
        ),
    );
    execute(&db, "ANALYZE messages");
    // Still small enough to be read whole (that is cheaper than any index, up to some
    // thousands of rows); the sessions of the store below may not, and must find the
    // index that serves the search.
    execute(
        &db,
        &format!("ALTER DATABASE \"{}\" SET enable_seqscan = off", db.name()),
    );
    // (scans, entries read) of the search index.
    let reads = || {
        let read = |column: &str| {
            number(
                &db,
                &format!(
                    "SELECT {column} AS n FROM pg_stat_user_indexes \
                      WHERE indexrelname = 'messages_search_idx'"
                ),
            )
        };
        (read("idx_scan"), read("idx_tup_read"))
    };
    let before = reads();
    let fresh = PgStore::connect(db.url(), options()).expect("valid options");
    let (hits, total) = found(
        &fresh,
        s.acme.id,
        SearchQuery {
            reader: Some(s.ben.id),
            ..query("needle")
        },
    )
    .await;
    assert_eq!((hits, total), (vec!["needle".to_owned()], 1));
    // A session reports its statistics when it ends (or, idle, after a while).
    drop(fresh);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let after = reads();
        if after.0 > before.0 {
            // The words were looked up in the index: the one match, not the account's
            // thousands of messages (which the account's column alone would give).
            assert!(after.1 - before.1 < 10, "{before:?} {after:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "messages_search_idx was not scanned: {after:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
