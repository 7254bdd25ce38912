//! How the store's hottest statements (a send's context and its append, a page) are
//! planned: once per connection (a generic plan), not again on every call
//! (docs/decisions.md, "Generic plans"). Run through
//! `chat_store_pg::bench`, which runs the port's statements on a connection set up as the
//! pool's are.

use chat_app::{MessageFilter, NewMessage, NewRoom, RoomStore, Speaker, Window};
use chat_domain::{Content, MessageKind, MessageMeta, RoomRef, Sender};
use chat_store_pg::bench;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::common::{connect, create_account, create_user, fixture};

#[derive(QueryableByName, Debug)]
struct Plans {
    #[diesel(sql_type = Text)]
    statement: String,
    #[diesel(sql_type = BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = BigInt)]
    custom_plans: i64,
}

#[tokio::test]
async fn a_send_and_a_page_are_planned_once_per_connection() {
    let fx = fixture();
    let acme = create_account(&fx.store, "Acme", "ck_acme").await;
    let ann = create_user(&fx.store, acme.id, "Ann", "agent").await;
    let new_room = NewRoom::parse(Some("General"), None, None).expect("valid room");
    let room = fx
        .store
        .create_room(acme.id, new_room, Some(ann.id))
        .await
        .expect("room created");
    let mut conn = connect(&fx.db);
    bench::configure(&mut conn).expect("connection set up");
    let newest = MessageFilter::newest(Window::new(0, 50, Window::MAX_LIMIT).expect("window"));
    // More than the five calls PostgreSQL plans for their values before it weighs a
    // generic plan.
    for n in 1..=8 {
        let new = NewMessage {
            sender: Sender::User {
                id: ann.id,
                label: ann.chat_user_id(),
            },
            sender_name: None,
            content: Content::parse(&format!("message {n}")).expect("content"),
            kind: MessageKind::Text,
            meta: MessageMeta::default(),
            reply_to: None,
            echo_id: None,
            attachments: Vec::new(),
            mentions: Vec::new(),
        };
        let speaker = Some(Speaker::ChatId(ann.chat_user_id()));
        let context = bench::send_context(&mut conn, acme.id, RoomRef::Id(room.id), speaker, None)
            .expect("context read");
        assert_eq!(context.room.id, room.id);
        assert_eq!(
            context.speaker.map(|(user, member)| (user.id, member)),
            Some((ann.id, true))
        );
        let (sent, created) = bench::append(&mut conn, acme.id, room.id, new).expect("sent");
        assert!(created);
        assert_eq!(sent.seq.0, n);
        let (_, page, total) =
            bench::room_page(&mut conn, acme.id, RoomRef::Id(room.id), &newest).expect("page read");
        assert_eq!(page.len() as i64, n);
        assert_eq!(total, n);
    }
    let plans: Vec<Plans> = diesel::sql_query(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements",
    )
    .load(&mut conn)
    .expect("pg_prepared_statements");
    let append = plans
        .iter()
        .find(|p| p.statement.contains("INSERT INTO messages"))
        .unwrap_or_else(|| panic!("no send statement among {plans:?}"));
    assert_eq!(
        (append.generic_plans, append.custom_plans),
        (8, 0),
        "{append:?}"
    );
    let context = plans
        .iter()
        .find(|p| p.statement.contains("LEFT OUTER JOIN \"room_members\""))
        .unwrap_or_else(|| panic!("no send context statement among {plans:?}"));
    assert_eq!(
        (context.generic_plans, context.custom_plans),
        (8, 0),
        "{context:?}"
    );
    let pages = plans
        .iter()
        .filter(|p| p.statement.contains("FROM \"messages\""))
        .collect::<Vec<_>>();
    assert!(!pages.is_empty(), "no page statement among {plans:?}");
    for plan in plans {
        assert_eq!(plan.custom_plans, 0, "planned for its values: {plan:?}");
    }
}
