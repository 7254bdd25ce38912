//! Rooms and members in the PostgreSQL adapter against a real server: each test in its
//! own fresh database (see `chat_test_db`), so they run in parallel.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

use std::time::Duration;

use crate::common::{Fixture, count, create_account, create_user, execute, fixture};
use chat_app::{Along, NewRoom, RoomFilter, RoomPatch, RoomSort, RoomStore, StoreError, Window};
use chat_domain::{
    Account, AccountId, Description, Room, RoomId, RoomMeta, RoomName, RoomRef, User, UserId,
};
use chat_store_pg::PgStore;
use chat_test_db::TestDatabase;
use serde_json::{Map, Value, json};
use uuid::Uuid;

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn new_room(name: &str, description: Option<&str>, meta: Option<Value>) -> NewRoom {
    NewRoom::parse(Some(name), description, meta.map(object)).expect("valid room")
}

/// Every room of the account, oldest first, in one window.
fn everything() -> RoomFilter {
    RoomFilter {
        search: None,
        is_active: None,
        member: None,
        sort: RoomSort::CreatedAsc,
        window: Window::new(0, Window::MAX_LIMIT, Window::MAX_LIMIT).expect("valid window"),
    }
}

fn searching(search: &str) -> RoomFilter {
    RoomFilter {
        search: Some(search.to_owned()),
        ..everything()
    }
}

fn sorted(sort: RoomSort) -> RoomFilter {
    RoomFilter {
        sort,
        ..everything()
    }
}

fn window(offset: i64, limit: i64) -> RoomFilter {
    RoomFilter {
        window: Window::new(offset, limit, Window::MAX_LIMIT).expect("valid window"),
        ..everything()
    }
}

async fn create_room(
    store: &PgStore,
    account: AccountId,
    name: &str,
    creator: Option<&User>,
) -> Room {
    store
        .create_room(account, new_room(name, None, None), creator.map(|u| u.id))
        .await
        .expect("room created")
}

async fn list(store: &PgStore, account: AccountId, filter: RoomFilter) -> (Vec<RoomId>, i64) {
    let (rooms, total) = store
        .list_rooms(account, filter, Along::default())
        .await
        .expect("rooms listed");
    (
        rooms.into_iter().map(|listed| listed.room.id).collect(),
        total,
    )
}

/// The names of the rooms of the account that pass `filter`.
async fn names(store: &PgStore, account: AccountId, filter: RoomFilter) -> Vec<String> {
    let (rooms, total) = store
        .list_rooms(account, filter, Along::default())
        .await
        .expect("rooms listed");
    assert_eq!(total, i64::try_from(rooms.len()).expect("small"));
    rooms
        .into_iter()
        .map(|listed| listed.room.name.as_str().to_owned())
        .collect()
}

async fn members(store: &PgStore, account: AccountId, rooms: &[&Room]) -> Vec<(RoomId, UserId)> {
    store
        .members_of(account, rooms.iter().map(|room| room.id).collect())
        .await
        .expect("members read")
        .into_iter()
        .map(|(room, user)| (room, user.id))
        .collect()
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

/// Two accounts, each with an administrator and an agent.
struct Tenants {
    acme: Account,
    admin: User,
    agent: User,
    other: Account,
    stranger: User,
}

async fn tenants(store: &PgStore) -> Tenants {
    let acme = create_account(store, "Acme", "ck_acme").await;
    let other = create_account(store, "Other", "ck_other").await;
    Tenants {
        admin: create_user(store, acme.id, "Ada", "administrator").await,
        agent: create_user(store, acme.id, "Bob", "agent").await,
        stranger: create_user(store, other.id, "Eve", "administrator").await,
        acme,
        other,
    }
}

/// Sets a timestamp column of a room behind the store's back, to `seconds` after a fixed
/// instant.
fn set_time(db: &TestDatabase, room: &Room, column: &str, seconds: u32) {
    let updated = execute(
        db,
        &format!(
            "UPDATE rooms SET {column} = timestamptz '2026-01-01 00:00:00+00' \
             + interval '{seconds} seconds' WHERE id = {}",
            room.id.0
        ),
    );
    assert_eq!(updated, 1);
}

#[tokio::test]
async fn a_room_created_by_a_user_has_it_as_first_member() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let meta = json!({
        "category": "support",
        "max_participants": 10,
        "nested": { "tags": ["a", "b"], "\u{e9}t\u{e9}": null, "n": 2.5 }
    });
    let room = store
        .create_room(
            t.acme.id,
            new_room(
                "  General  ",
                Some("Talk about anything"),
                Some(meta.clone()),
            ),
            Some(t.admin.id),
        )
        .await
        .expect("room created");

    assert!(room.id.0 > 0);
    assert!(!room.uuid.is_nil());
    assert_eq!(room.account_id, t.acme.id);
    assert_eq!(room.name.as_str(), "General");
    assert_eq!(
        room.description.as_ref().map(Description::as_str),
        Some("Talk about anything")
    );
    assert_eq!(Value::Object(room.meta.as_map().clone()), meta);
    assert_eq!(room.meta.max_participants(), Some(10));
    assert!(room.is_active);
    assert_eq!(room.member_count, 1);
    assert_eq!(room.message_count, 0);
    assert_eq!(room.last_message_at, room.created_at);
    assert_eq!(room.updated_at, room.created_at);
    let age = time::OffsetDateTime::now_utc() - room.created_at;
    assert!(age.abs() < time::Duration::minutes(1), "{age}");

    assert!(
        store
            .is_member(t.acme.id, room.id, t.admin.id)
            .await
            .expect("membership read")
    );
    assert!(
        !store
            .is_member(t.acme.id, room.id, t.agent.id)
            .await
            .expect("membership read")
    );
    // Of the users asked about, the members, in the order asked, once each.
    let among = store
        .members_among(
            t.acme.id,
            room.id,
            vec![t.agent.id, t.admin.id, UserId(i64::MAX), t.admin.id],
        )
        .await
        .expect("members read");
    assert_eq!(among, [t.admin.id]);
    let listed = store
        .members_of(t.acme.id, vec![room.id])
        .await
        .expect("members read");
    assert_eq!(listed, vec![(room.id, t.admin.clone())]);

    let read = store
        .find_room(t.acme.id, RoomRef::Id(room.id))
        .await
        .expect("room read");
    assert_eq!(read, room);
}

#[tokio::test]
async fn a_room_created_without_a_user_has_no_members() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let room = create_room(&store, t.acme.id, "Lobby", None).await;
    assert_eq!(room.member_count, 0);
    assert_eq!(room.description, None);
    assert_eq!(room.meta, RoomMeta::default());
    assert_eq!(room.last_message_at, room.created_at);
    assert_eq!(members(&store, t.acme.id, &[&room]).await, vec![]);
    assert_eq!(count(&db, "room_members"), 0);

    let second = create_room(&store, t.acme.id, "Lobby", None).await;
    assert_ne!(second.id, room.id);
    assert_ne!(second.uuid, room.uuid);
}

#[tokio::test]
async fn a_creator_outside_the_account_is_not_found_and_nothing_is_stored() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    assert_not_found(
        store
            .create_room(
                t.acme.id,
                new_room("General", None, None),
                Some(t.stranger.id),
            )
            .await,
    );
    assert_not_found(
        store
            .create_room(
                t.acme.id,
                new_room("General", None, None),
                Some(UserId(4242)),
            )
            .await,
    );
    assert_not_found(
        store
            .create_room(AccountId(4242), new_room("General", None, None), None)
            .await,
    );
    assert_eq!(count(&db, "rooms"), 0);
    assert_eq!(count(&db, "room_members"), 0);
}

#[tokio::test]
async fn rooms_are_found_by_id_and_by_uuid() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let first = create_room(&store, t.acme.id, "First", Some(&t.agent)).await;
    let second = create_room(&store, t.acme.id, "Second", None).await;
    for room in [&first, &second] {
        let by_id = store
            .find_room(t.acme.id, RoomRef::Id(room.id))
            .await
            .expect("found by id");
        assert_eq!(&by_id, room);
        let by_uuid = store
            .find_room(t.acme.id, RoomRef::Uuid(room.uuid))
            .await
            .expect("found by uuid");
        assert_eq!(&by_uuid, room);
    }
    assert_not_found(store.find_room(t.acme.id, RoomRef::Id(RoomId(4242))).await);
    assert_not_found(
        store
            .find_room(t.acme.id, RoomRef::Uuid(Uuid::new_v4()))
            .await,
    );
}

#[tokio::test]
async fn another_accounts_room_is_out_of_reach() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let room = store
        .create_room(
            t.acme.id,
            new_room("Secret", Some("acme only"), None),
            Some(t.admin.id),
        )
        .await
        .expect("room created");
    let other = t.other.id;

    assert_not_found(store.find_room(other, RoomRef::Id(room.id)).await);
    assert_not_found(store.find_room(other, RoomRef::Uuid(room.uuid)).await);
    let patch = RoomPatch {
        name: Some(RoomName::parse("Taken over").expect("valid name")),
        ..RoomPatch::default()
    };
    assert_not_found(store.update_room(other, room.id, patch).await);
    assert_not_found(store.set_room_active(other, room.id, false).await);
    assert_not_found(store.delete_room(other, room.id).await);
    // A membership is only seen in its own account.
    assert!(
        !store
            .is_member(other, room.id, t.admin.id)
            .await
            .expect("membership read")
    );
    assert!(
        store
            .members_among(other, room.id, vec![t.admin.id])
            .await
            .expect("members read")
            .is_empty()
    );
    assert_eq!(list(&store, other, everything()).await, (vec![], 0));
    assert_eq!(list(&store, other, searching("secret")).await, (vec![], 0));
    assert_eq!(members(&store, other, &[&room]).await, vec![]);

    // Untouched in its own account.
    let read = store
        .find_room(t.acme.id, RoomRef::Id(room.id))
        .await
        .expect("room read");
    assert_eq!(read, room);
    assert_eq!(
        members(&store, t.acme.id, &[&room]).await,
        vec![(room.id, t.admin.id)]
    );
}

#[tokio::test]
async fn search_matches_the_name_or_the_description_ignoring_case() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let account = t.acme.id;
    for (name, description) in [
        ("Sales Team", None),
        ("Support", Some("Handles SALES escalations")),
        ("Engineering", Some("Builds things")),
        ("Caf\u{e9} Cr\u{e8}me", Some("Coffee")),
    ] {
        store
            .create_room(account, new_room(name, description, None), None)
            .await
            .expect("room created");
    }
    // Another account's rooms never match.
    store
        .create_room(t.other.id, new_room("Sales", None, None), None)
        .await
        .expect("room created");

    for search in ["sales", "SALES", "sAlEs"] {
        assert_eq!(
            names(&store, account, searching(search)).await,
            ["Sales Team", "Support"],
            "{search}"
        );
    }
    assert_eq!(
        names(&store, account, searching("eam")).await,
        ["Sales Team"]
    );
    assert_eq!(
        names(&store, account, searching("THINGS")).await,
        ["Engineering"]
    );
    assert_eq!(
        names(&store, account, searching("CAF\u{c9} CR\u{c8}")).await,
        ["Caf\u{e9} Cr\u{e8}me"]
    );
    assert_eq!(
        list(&store, account, searching("nowhere")).await,
        (vec![], 0)
    );
}

#[tokio::test]
async fn wildcards_and_backslashes_in_a_search_are_literal() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let account = t.acme.id;
    for (name, description) in [
        ("100% done", None),
        ("1000 done", None),
        ("a_b", None),
        ("axb", None),
        ("back\\slash", None),
        ("backslash", Some("no percent here")),
    ] {
        store
            .create_room(account, new_room(name, description, None), None)
            .await
            .expect("room created");
    }
    assert_eq!(
        names(&store, account, searching("100%")).await,
        ["100% done"]
    );
    assert_eq!(names(&store, account, searching("%")).await, ["100% done"]);
    assert_eq!(names(&store, account, searching("a_b")).await, ["a_b"]);
    assert_eq!(names(&store, account, searching("_")).await, ["a_b"]);
    assert_eq!(
        names(&store, account, searching("k\\s")).await,
        ["back\\slash"]
    );
    assert_eq!(
        names(&store, account, searching("\\")).await,
        ["back\\slash"]
    );
    assert_eq!(list(&store, account, searching("%%")).await, (vec![], 0));
}

#[tokio::test]
async fn rooms_are_filtered_by_activity() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let account = t.acme.id;
    let open = create_room(&store, account, "Open", None).await;
    let closed = create_room(&store, account, "Closed", None).await;
    let also_open = create_room(&store, account, "Also open", None).await;
    store
        .set_room_active(account, closed.id, false)
        .await
        .expect("room deactivated");

    let active = |is_active| RoomFilter {
        is_active,
        ..everything()
    };
    assert_eq!(
        list(&store, account, active(Some(true))).await,
        (vec![open.id, also_open.id], 2)
    );
    assert_eq!(
        list(&store, account, active(Some(false))).await,
        (vec![closed.id], 1)
    );
    assert_eq!(
        list(&store, account, active(None)).await,
        (vec![open.id, closed.id, also_open.id], 3)
    );
    // Combined with a search.
    let filter = RoomFilter {
        search: Some("OPEN".to_owned()),
        is_active: Some(true),
        ..everything()
    };
    assert_eq!(
        list(&store, account, filter).await,
        (vec![open.id, also_open.id], 2)
    );
}

#[tokio::test]
async fn the_member_filter_keeps_the_users_rooms_only() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let account = t.acme.id;
    let mine = create_room(&store, account, "Mine", Some(&t.agent)).await;
    let admins = create_room(&store, account, "Admins", Some(&t.admin)).await;
    let nobodys = create_room(&store, account, "Nobody's", None).await;
    let also_mine = create_room(&store, account, "Also mine", Some(&t.agent)).await;

    let of = |user: &User| RoomFilter {
        member: Some(user.id),
        ..everything()
    };
    assert_eq!(
        list(&store, account, of(&t.agent)).await,
        (vec![mine.id, also_mine.id], 2)
    );
    assert_eq!(
        list(&store, account, of(&t.admin)).await,
        (vec![admins.id], 1)
    );
    // A user of another account belongs to none of these.
    assert_eq!(list(&store, account, of(&t.stranger)).await, (vec![], 0));
    assert_eq!(
        list(&store, account, everything()).await,
        (vec![mine.id, admins.id, nobodys.id, also_mine.id], 4)
    );
    let filter = RoomFilter {
        search: Some("also".to_owned()),
        ..of(&t.agent)
    };
    assert_eq!(list(&store, account, filter).await, (vec![also_mine.id], 1));
}

#[tokio::test]
async fn each_sort_is_total_with_ties_broken_by_id() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let account = t.acme.id;
    let r1 = create_room(&store, account, "beta", None).await;
    let r2 = create_room(&store, account, "alpha", None).await;
    let r3 = create_room(&store, account, "gamma", None).await;
    let r4 = create_room(&store, account, "alpha", None).await;
    for (room, created, last_message) in [(&r1, 2, 5), (&r2, 1, 9), (&r3, 1, 5), (&r4, 3, 0)] {
        set_time(&db, room, "created_at", created);
        set_time(&db, room, "last_message_at", last_message);
    }

    let cases = [
        (RoomSort::NameAsc, [&r2, &r4, &r1, &r3]),
        (RoomSort::NameDesc, [&r3, &r1, &r4, &r2]),
        (RoomSort::CreatedAsc, [&r2, &r3, &r1, &r4]),
        (RoomSort::CreatedDesc, [&r4, &r1, &r3, &r2]),
        (RoomSort::RecentActivity, [&r2, &r3, &r1, &r4]),
    ];
    for (sort, expected) in cases {
        let expected: Vec<RoomId> = expected.iter().map(|room| room.id).collect();
        assert_eq!(
            list(&store, account, sorted(sort)).await,
            (expected, 4),
            "{sort:?}"
        );
    }
}

#[tokio::test]
async fn windows_slice_the_list_and_the_total_ignores_them() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let account = t.acme.id;
    let mut ids = Vec::new();
    for n in 1..=7 {
        ids.push(
            create_room(&store, account, &format!("Room {n}"), None)
                .await
                .id,
        );
    }
    create_room(&store, t.other.id, "Elsewhere", None).await;

    assert_eq!(
        list(&store, account, window(0, 3)).await,
        (ids[0..3].to_vec(), 7)
    );
    assert_eq!(
        list(&store, account, window(3, 3)).await,
        (ids[3..6].to_vec(), 7)
    );
    assert_eq!(
        list(&store, account, window(6, 3)).await,
        (ids[6..].to_vec(), 7)
    );
    assert_eq!(list(&store, account, window(7, 3)).await, (vec![], 7));
    assert_eq!(list(&store, account, window(100, 1)).await, (vec![], 7));
    assert_eq!(list(&store, account, window(2, 1)).await, (vec![ids[2]], 7));
    let filtered = RoomFilter {
        search: Some("room 1".to_owned()),
        ..window(0, 1)
    };
    assert_eq!(list(&store, account, filtered).await, (vec![ids[0]], 1));
}

#[tokio::test]
async fn an_update_changes_only_the_patched_fields_and_bumps_updated_at() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let account = t.acme.id;
    let created = store
        .create_room(
            account,
            new_room("General", Some("first"), Some(json!({ "category": "a" }))),
            Some(t.admin.id),
        )
        .await
        .expect("room created");
    tokio::time::sleep(Duration::from_millis(5)).await;

    let renamed = store
        .update_room(
            account,
            created.id,
            RoomPatch {
                name: Some(RoomName::parse("Renamed").expect("valid name")),
                ..RoomPatch::default()
            },
        )
        .await
        .expect("room updated")
        .0;
    assert_eq!(renamed.name.as_str(), "Renamed");
    assert!(renamed.updated_at > created.updated_at);
    assert_eq!(
        Room {
            name: created.name.clone(),
            updated_at: created.updated_at,
            ..renamed.clone()
        },
        created
    );
    tokio::time::sleep(Duration::from_millis(5)).await;

    let cleared = store
        .update_room(
            account,
            created.id,
            RoomPatch {
                description: Some(None),
                ..RoomPatch::default()
            },
        )
        .await
        .expect("room updated")
        .0;
    assert_eq!(cleared.description, None);
    assert_eq!(cleared.name.as_str(), "Renamed");
    assert_eq!(cleared.meta, created.meta);
    assert!(cleared.updated_at > renamed.updated_at);
    tokio::time::sleep(Duration::from_millis(5)).await;

    let new_meta =
        RoomMeta::parse(object(json!({ "max_participants": 3, "x": [1] }))).expect("valid meta");
    let replaced = store
        .update_room(
            account,
            created.id,
            RoomPatch {
                description: Some(Some(Description::parse("second").expect("valid"))),
                meta: Some(new_meta.clone()),
                ..RoomPatch::default()
            },
        )
        .await
        .expect("room updated")
        .0;
    // The whole object is replaced: "category" is gone.
    assert_eq!(replaced.meta, new_meta);
    assert_eq!(
        replaced.description.as_ref().map(Description::as_str),
        Some("second")
    );
    assert_eq!(replaced.name.as_str(), "Renamed");
    assert!(replaced.updated_at > cleared.updated_at);
    assert_eq!(replaced.created_at, created.created_at);
    assert_eq!(replaced.last_message_at, created.last_message_at);
    assert_eq!(replaced.uuid, created.uuid);
    assert_eq!(replaced.member_count, 1);
    assert!(replaced.is_active);

    assert_eq!(
        store
            .find_room(account, RoomRef::Uuid(created.uuid))
            .await
            .expect("room read"),
        replaced
    );
    assert_not_found(
        store
            .update_room(account, RoomId(4242), RoomPatch::default())
            .await,
    );
}

#[tokio::test]
async fn a_room_is_deactivated_and_activated() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let account = t.acme.id;
    let created = create_room(&store, account, "General", Some(&t.agent)).await;
    tokio::time::sleep(Duration::from_millis(5)).await;

    let inactive = store
        .set_room_active(account, created.id, false)
        .await
        .expect("room deactivated");
    assert!(!inactive.is_active);
    assert!(inactive.updated_at > created.updated_at);
    assert_eq!(
        Room {
            is_active: true,
            updated_at: created.updated_at,
            ..inactive.clone()
        },
        created
    );
    tokio::time::sleep(Duration::from_millis(5)).await;

    let active = store
        .set_room_active(account, created.id, true)
        .await
        .expect("room activated");
    assert!(active.is_active);
    assert!(active.updated_at > inactive.updated_at);
    assert_eq!(
        store
            .find_room(account, RoomRef::Id(created.id))
            .await
            .expect("room read"),
        active
    );
    assert_not_found(store.set_room_active(account, RoomId(4242), true).await);
}

#[tokio::test]
async fn deleting_a_room_takes_its_members_along() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let account = t.acme.id;
    let doomed = create_room(&store, account, "Doomed", Some(&t.agent)).await;
    let kept = create_room(&store, account, "Kept", Some(&t.agent)).await;

    let files = store
        .delete_room(account, doomed.id)
        .await
        .expect("room deleted");
    assert_eq!(files, Vec::new(), "a room without files frees none");
    assert_not_found(store.find_room(account, RoomRef::Id(doomed.id)).await);
    assert_not_found(store.find_room(account, RoomRef::Uuid(doomed.uuid)).await);
    assert!(
        !store
            .is_member(account, doomed.id, t.agent.id)
            .await
            .expect("membership read")
    );
    assert!(
        store
            .is_member(account, kept.id, t.agent.id)
            .await
            .expect("membership read")
    );
    assert_eq!(
        members(&store, account, &[&doomed, &kept]).await,
        vec![(kept.id, t.agent.id)]
    );
    assert_eq!(
        list(&store, account, everything()).await,
        (vec![kept.id], 1)
    );
    assert_eq!(count(&db, "room_members"), 1);

    assert_not_found(store.delete_room(account, doomed.id).await);
    assert_eq!(count(&db, "rooms"), 1);
}

#[tokio::test]
async fn members_of_several_rooms_come_in_one_call_in_join_order() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let account = t.acme.id;
    let carol = create_user(&store, account, "Carol", "agent").await;
    let first = create_room(&store, account, "First", Some(&t.agent)).await;
    let second = create_room(&store, account, "Second", None).await;
    let empty = create_room(&store, account, "Empty", None).await;
    let elsewhere = create_room(&store, t.other.id, "Elsewhere", Some(&t.stranger)).await;
    // Members added behind the store's back, to set their join times exactly: joining in
    // an order that is not the order of their ids; two of them at the same instant.
    for (room, user, second_of_joining) in [
        (&first, &carol, 10),
        (&first, &t.admin, 20),
        (&second, &carol, 30),
        (&second, &t.agent, 30),
        (&second, &t.admin, 5),
    ] {
        execute(
            &db,
            &format!(
                "INSERT INTO room_members (account_id, room_id, user_id, joined_at) \
                 VALUES ({}, {}, {}, timestamptz '2030-01-01 00:00:00+00' \
                 + interval '{second_of_joining} seconds')",
                account.0, room.id.0, user.id.0
            ),
        );
    }
    // The creator joined when the room was created, before the dates above.
    let expected = vec![
        (first.id, t.agent.id),
        (first.id, carol.id),
        (first.id, t.admin.id),
        (second.id, t.admin.id),
        // Same instant: by user id.
        (second.id, t.agent.id.min(carol.id)),
        (second.id, t.agent.id.max(carol.id)),
    ];
    assert_eq!(
        members(&store, account, &[&second, &empty, &elsewhere, &first]).await,
        expected
    );
    let full = store
        .members_of(account, vec![first.id])
        .await
        .expect("members read");
    let users: Vec<&str> = full.iter().map(|(_, user)| user.name.as_str()).collect();
    assert_eq!(users, ["Bob", "Carol", "Ada"]);
    assert_eq!(members(&store, account, &[]).await, vec![]);
}

#[tokio::test]
async fn a_search_among_thousands_of_rooms_finds_its_rooms_and_their_total() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    // 2,000 rooms with varied names and descriptions in one account, 500 in another.
    for (account, rooms) in [(t.acme.id, 2000), (t.other.id, 500)] {
        execute(
            &db,
            &format!(
                "INSERT INTO rooms (account_id, name, description) \
                 SELECT {}, 'Room ' || md5(i::text), 'About ' || md5((i * 7)::text) \
                 FROM generate_series(1, {rooms}) AS i",
                account.0
            ),
        );
    }
    let needle = store
        .create_room(
            t.acme.id,
            new_room("The Needle room", None, None),
            Some(t.admin.id),
        )
        .await
        .expect("room created");
    let described = store
        .create_room(
            t.acme.id,
            new_room("Haystack", Some("where the needle hides"), None),
            None,
        )
        .await
        .expect("room created");
    store
        .create_room(t.other.id, new_room("Other needle", None, None), None)
        .await
        .expect("room created");
    // As autovacuum would: moves the GIN indexes' pending entries into the indexes proper
    // and records the statistics the planner costs them with.
    execute(&db, "VACUUM ANALYZE rooms");

    assert_eq!(
        list(&store, t.acme.id, searching("NEEDLE")).await,
        (vec![needle.id, described.id], 2)
    );
    // That the planner serves it with the trigram indexes: the unit tests of `rooms::list`.
}
