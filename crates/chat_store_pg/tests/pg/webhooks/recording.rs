//! The transactional outbox: each change records its event in its own transaction, only
//! for a matching active webhook of the account.

use std::time::Duration;

use chat_app::{
    MemberStore, MessageStore, RoomPatch, RoomStore, StoreError, WebhookRef, WebhookStore,
};
use chat_domain::{MemberMeta, RoomName, Sender};
use diesel::RunQueryDsl;

use super::{create_room, deliveries_of, events_of, names, number, scene, send, text, webhook};
use crate::common::{connect, create_account, create_user, execute, fixture};

#[tokio::test]
async fn sending_records_nothing_without_a_matching_active_webhook() {
    let crate::common::Fixture { store, db } = fixture();
    let s = scene(&store, "Acme").await;
    let elsewhere = create_room(&store, s.acme.id, "Elsewhere", None).await;
    send(&store, s.acme.id, s.room.id, &s.ann, "no webhook at all").await;
    // Another event, an inactive webhook, a webhook of another room, another account's.
    webhook(&store, s.acme.id, &["room.created"], vec![]).await;
    let off = webhook(&store, s.acme.id, &["message.created"], vec![]).await;
    store
        .set_webhook_active(s.acme.id, WebhookRef::Id(off.id), false)
        .await
        .expect("deactivated");
    webhook(
        &store,
        s.acme.id,
        &["message.created"],
        vec![elsewhere.uuid],
    )
    .await;
    let other = create_account(&store, "Other", "ck_other").await;
    webhook(&store, other.id, &["message.created"], vec![]).await;
    send(&store, s.acme.id, s.room.id, &s.ann, "still nothing").await;
    assert_eq!(events_of(&db, s.acme.id), Vec::<String>::new());
    assert_eq!(
        number(&db, "SELECT count(*) AS n FROM webhook_deliveries"),
        0
    );

    // A matching one (every room), and one filtered on this room: one event, two deliveries.
    let all = webhook(&store, s.acme.id, &["message.created", "room.left"], vec![]).await;
    let here = webhook(&store, s.acme.id, &["message.created"], vec![s.room.uuid]).await;
    let message = send(&store, s.acme.id, s.room.id, &s.ann, "now").await;
    assert_eq!(events_of(&db, s.acme.id), ["message.created"]);
    assert_eq!(deliveries_of(&db, &all), 1);
    assert_eq!(deliveries_of(&db, &here), 1);
    assert_eq!(
        number(
            &db,
            "SELECT message_id AS n FROM webhook_events WHERE event = 'message.created'"
        ),
        message.id.0
    );
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM webhook_events WHERE expanded_at IS NULL"
        ),
        0,
        "nothing to expand without a message.unread_offline webhook"
    );
    assert_eq!(events_of(&db, other.id), Vec::<String>::new());
}

#[tokio::test]
async fn every_change_records_its_event_in_order() {
    let crate::common::Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let ann = create_user(&store, acme.id, "Ann", "agent").await;
    let ben = create_user(&store, acme.id, "Ben", "agent").await;
    let every: Vec<&str> = chat_domain::WebhookEvent::NAMES.to_vec();
    let hook = webhook(&store, acme.id, &every, vec![]).await;
    let room = create_room(&store, acme.id, "General", Some(&ann)).await;
    store
        .add_members(acme.id, room.id, vec![ben.id], MemberMeta::default(), None)
        .await
        .expect("added");
    let message = send(&store, acme.id, room.id, &ann, "hello").await;
    store
        .edit_message(
            acme.id,
            message.id,
            Some(chat_domain::Content::parse("hello!").expect("valid")),
            None,
        )
        .await
        .expect("edited");
    store
        .set_message_deleted(acme.id, message.id, true, None)
        .await
        .expect("deleted");
    // A delete of a deleted message changes nothing and records nothing.
    store
        .set_message_deleted(acme.id, message.id, true, None)
        .await
        .expect("deleted again");
    store
        .set_message_deleted(acme.id, message.id, false, None)
        .await
        .expect("restored");
    store
        .mark_read(acme.id, room.id, ben.id, None)
        .await
        .expect("read");
    // Nothing moves: no event.
    store
        .mark_read(acme.id, room.id, ben.id, None)
        .await
        .expect("read again");
    let patch = RoomPatch {
        name: Some(RoomName::parse("Renamed").expect("valid")),
        description: None,
        meta: None,
        avatar: None,
    };
    store
        .update_room(acme.id, room.id, patch)
        .await
        .expect("updated");
    store
        .set_room_active(acme.id, room.id, false)
        .await
        .expect("off");
    store
        .set_room_active(acme.id, room.id, false)
        .await
        .expect("off again");
    store
        .set_room_active(acme.id, room.id, true)
        .await
        .expect("on");
    store
        .remove_members(acme.id, room.id, vec![ben.id])
        .await
        .expect("removed");
    store
        .delete_room(acme.id, room.id)
        .await
        .expect("room deleted");
    assert_eq!(
        events_of(&db, acme.id),
        [
            "room.created",
            "room.joined",
            "room.joined",
            "message.created",
            "message.updated",
            "message.deleted",
            "message.restored",
            "message.read",
            "room.updated",
            "room.deactivated",
            "room.activated",
            "room.left",
            "room.deleted",
        ]
    );
    assert_eq!(deliveries_of(&db, &hook), 13);
    // Who joined and left, what was read, what the deleted room was.
    assert_eq!(
        names(
            &db,
            "SELECT event || ':' || coalesce(user_id::text, '-') || ':' \
                    || coalesce(message_id::text, '-') || ':' || coalesce(data::text, '-') AS name \
               FROM webhook_events \
              WHERE event IN ('room.joined', 'message.read', 'room.left', 'room.deleted') \
              ORDER BY id"
        ),
        [
            format!("room.joined:{}:-:-", ann.id.0),
            format!("room.joined:{}:-:-", ben.id.0),
            format!("message.read:{}:{}:{{\"seq\": 1}}", ben.id.0, message.id.0),
            format!("room.left:{}:-:-", ben.id.0),
            format!(
                "room.deleted:-:-:{{\"id\": \"{}\", \"name\": \"Renamed\"}}",
                room.uuid
            ),
        ]
    );
    assert_eq!(
        number(
            &db,
            &format!(
                "SELECT count(*) AS n FROM webhook_events WHERE room_id = {} AND account_id = {}",
                room.id.0, acme.id.0
            )
        ),
        13,
        "every event names its room"
    );
}

#[tokio::test]
async fn a_refused_append_records_nothing() {
    let crate::common::Fixture { store, db } = fixture();
    let s = scene(&store, "Acme").await;
    let hook = webhook(&store, s.acme.id, &["message.created"], vec![]).await;
    let other = create_account(&store, "Other", "ck_other").await;
    let stranger = create_user(&store, other.id, "Eve", "agent").await;
    // A sender of another account fails the (deferred) composite foreign key at commit.
    let mut new = text(&s.ann, "from elsewhere");
    new.sender = Sender::User {
        id: stranger.id,
        label: stranger.chat_user_id(),
    };
    let refused = store.append(s.acme.id, s.room.id, new).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
    assert_eq!(deliveries_of(&db, &hook), 0);
    assert_eq!(events_of(&db, s.acme.id), Vec::<String>::new());
    // A membership change refused by its limit rolls its events back too.
    webhook(&store, s.acme.id, &["room.joined"], vec![]).await;
    let dot = create_user(&store, s.acme.id, "Dot", "agent").await;
    let full = store
        .add_members(
            s.acme.id,
            s.room.id,
            vec![dot.id],
            MemberMeta::default(),
            Some(3),
        )
        .await;
    assert!(matches!(full, Err(StoreError::LimitReached)), "{full:?}");
    assert_eq!(events_of(&db, s.acme.id), Vec::<String>::new());
}

#[tokio::test]
async fn unread_offline_expands_to_offline_members_and_coalesces() {
    let crate::common::Fixture { store, db } = fixture();
    let s = scene(&store, "Acme").await;
    let hook = webhook(&store, s.acme.id, &["message.unread_offline"], vec![]).await;
    // Cid has a socket open (on some node); Ben has none; Ann sends.
    execute(
        &db,
        &format!(
            "INSERT INTO presence_sessions (id, node_id, account_id, user_key, user_id, expires_at) \
             VALUES (gen_random_uuid(), gen_random_uuid(), {}, '{}', {}, now() + interval '1 hour')",
            s.acme.id.0, s.cid.id.0, s.cid.id.0
        ),
    );
    let first = send(&store, s.acme.id, s.room.id, &s.ann, "one").await;
    // Recorded for expansion, with no delivery of its own.
    assert_eq!(events_of(&db, s.acme.id), ["message.created"]);
    assert_eq!(deliveries_of(&db, &hook), 0);
    let coalesce = Duration::from_secs(60);
    assert_eq!(
        store.expand_offline(10, coalesce).await.expect("expanded"),
        1
    );
    assert_eq!(
        names(
            &db,
            "SELECT event || ':' || user_id || ':' || message_id AS name FROM webhook_events \
              WHERE event = 'message.unread_offline'"
        ),
        [format!(
            "message.unread_offline:{}:{}",
            s.ben.id.0, first.id.0
        )]
    );
    assert_eq!(deliveries_of(&db, &hook), 1);
    // Coalesced: a second message within the window notifies nobody.
    send(&store, s.acme.id, s.room.id, &s.ann, "two").await;
    assert_eq!(
        store.expand_offline(10, coalesce).await.expect("expanded"),
        0
    );
    assert_eq!(
        store
            .expand_offline(10, coalesce)
            .await
            .expect("nothing left"),
        0
    );
    // Past the window, Ben is told again.
    send(&store, s.acme.id, s.room.id, &s.ann, "three").await;
    assert_eq!(
        store
            .expand_offline(10, Duration::ZERO)
            .await
            .expect("expanded"),
        1
    );
    assert_eq!(deliveries_of(&db, &hook), 2);
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM webhook_events WHERE expanded_at IS NULL"
        ),
        0
    );
}

#[tokio::test]
async fn concurrent_expansions_notify_each_member_once() {
    let crate::common::Fixture { store, db } = fixture();
    let s = scene(&store, "Acme").await;
    let hook = webhook(&store, s.acme.id, &["message.unread_offline"], vec![]).await;
    for i in 0..8 {
        send(&store, s.acme.id, s.room.id, &s.ann, &format!("m{i}")).await;
    }
    let coalesce = Duration::from_secs(60);
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.expand_offline(2, coalesce).await })
        })
        .collect();
    let mut total = 0;
    for racer in racers {
        total += racer.await.expect("joined").expect("expanded");
    }
    // Ben and Cid, once each, whichever message and node came first.
    assert_eq!(total, 2);
    assert_eq!(deliveries_of(&db, &hook), 2);
    assert_eq!(
        number(
            &db,
            "SELECT count(*) AS n FROM webhook_events WHERE expanded_at IS NULL"
        ),
        0
    );
}

#[tokio::test]
async fn the_probe_of_a_send_uses_the_partial_index() {
    let crate::common::Fixture { store: _store, db } = fixture();
    let mut conn = connect(&db);
    diesel::sql_query("SET enable_seqscan = off")
        .execute(&mut conn)
        .expect("set");
    #[derive(diesel::QueryableByName)]
    struct Plan {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let plan: Vec<Plan> = diesel::sql_query(
        "EXPLAIN SELECT w.id FROM webhooks AS w \
          WHERE w.account_id = 1 AND w.is_active \
            AND w.events && ARRAY['message.created', 'message.unread_offline']",
    )
    .load(&mut conn)
    .expect("explained");
    let plan: Vec<String> = plan.into_iter().map(|p| p.line).collect();
    assert!(
        plan.iter()
            .any(|line| line.contains("webhooks_active_by_account")),
        "{plan:#?}"
    );
}
