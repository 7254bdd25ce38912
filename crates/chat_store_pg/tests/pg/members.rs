//! Members ([`MemberStore`]) and the user directory ([`UserDirectory`]) in the PostgreSQL
//! adapter against a real server: each test in its own fresh database (see
//! `chat_test_db`), so they run in parallel.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::common::{
    Fixture, connect, count, create_account, create_user, execute, fixture, new_user, racing_store,
};
use chat_app::{
    MemberChange, MemberStore, NewRoom, RoomStore, StoreError, UserDirectory, UserStore, Window,
};
use chat_domain::{
    Account, AccountId, ExternalId, MemberMeta, Membership, PersonName, Role, Room, RoomId,
    TokenHash, User, UserId,
};
use chat_store_pg::PgStore;
use chat_test_db::TestDatabase;
use diesel::sql_types::BigInt;
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use serde_json::{Map, Value, json};

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn member_meta(value: Value) -> MemberMeta {
    MemberMeta::parse(object(value)).expect("valid member meta")
}

fn ids(users: &[&User]) -> Vec<UserId> {
    users.iter().map(|user| user.id).collect()
}

fn window(offset: i64, limit: i64) -> Window {
    Window::new(offset, limit, 1000).expect("valid window")
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

fn assert_limit_reached<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::LimitReached)),
        "{result:?}"
    );
}

fn added(users: Vec<UserId>) -> MemberChange {
    MemberChange {
        added: users,
        removed: Vec::new(),
    }
}

fn removed(users: Vec<UserId>) -> MemberChange {
    MemberChange {
        added: Vec::new(),
        removed: users,
    }
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn numbers(conn: &mut PgConnection, sql: &str) -> Vec<i64> {
    diesel::sql_query(sql)
        .load::<Number>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|row| row.n)
        .collect()
}

/// The room's members in join order, read behind the store's back, after checking that
/// the room's `member_count` is exactly the number of its rows.
fn stored_members(db: &TestDatabase, room: &Room) -> Vec<UserId> {
    let mut conn = connect(db);
    let members = numbers(
        &mut conn,
        &format!(
            "SELECT user_id AS n FROM room_members WHERE room_id = {} \
             ORDER BY joined_at, user_id",
            room.id.0
        ),
    );
    let member_count = numbers(
        &mut conn,
        &format!(
            "SELECT member_count::bigint AS n FROM rooms WHERE id = {}",
            room.id.0
        ),
    );
    assert_eq!(
        member_count,
        [i64::try_from(members.len()).expect("small")],
        "member_count of room {} is not its number of rows",
        room.id.0
    );
    members.into_iter().map(UserId).collect()
}

/// Two accounts: Acme with four agents (Ann, Ben, Cid, Dot, made in that order) and a room
/// created by nobody; Other with a user of its own and a room.
struct Tenants {
    acme: Account,
    ann: User,
    ben: User,
    cid: User,
    dot: User,
    room: Room,
    other: Account,
    stranger: User,
    elsewhere: Room,
}

async fn create_room(store: &PgStore, account: AccountId, name: &str, meta: Option<Value>) -> Room {
    let new = NewRoom::parse(Some(name), None, meta.map(object)).expect("valid room");
    store
        .create_room(account, new, None)
        .await
        .expect("room created")
}

async fn tenants(store: &PgStore) -> Tenants {
    let acme = create_account(store, "Acme", "ck_acme").await;
    let other = create_account(store, "Other", "ck_other").await;
    Tenants {
        ann: create_user(store, acme.id, "Ann", "agent").await,
        ben: create_user(store, acme.id, "Ben", "agent").await,
        cid: create_user(store, acme.id, "Cid", "agent").await,
        dot: create_user(store, acme.id, "Dot", "agent").await,
        room: create_room(store, acme.id, "General", None).await,
        stranger: create_user(store, other.id, "Eve", "administrator").await,
        elsewhere: create_room(store, other.id, "Elsewhere", None).await,
        acme,
        other,
    }
}

async fn add(
    store: &PgStore,
    account: AccountId,
    room: RoomId,
    users: &[&User],
    limit: Option<u64>,
) -> Result<MemberChange, StoreError> {
    store
        .add_members(account, room, ids(users), MemberMeta::default(), limit)
        .await
}

async fn list(
    store: &PgStore,
    account: AccountId,
    room: RoomId,
    window: Window,
) -> (Vec<Membership>, i64) {
    store
        .list_memberships(account, room, window)
        .await
        .expect("memberships listed")
}

/// How many sessions of the test database wait for a lock.
fn waiting_for_a_lock(conn: &mut PgConnection) -> i64 {
    numbers(
        conn,
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .first()
    .copied()
    .unwrap_or_default()
}

/// Waits (yielding to the spawned tasks) until `n` sessions wait for a lock. Watches from
/// a connection of its own: a session inside a transaction keeps seeing the statistics
/// snapshot it took first.
async fn until_waiting(db: &TestDatabase, n: i64) {
    let mut conn = connect(db);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting = waiting_for_a_lock(&mut conn);
        if waiting >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {waiting} of {n} sessions ever waited for the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn added_users_join_in_the_order_given_with_the_meta() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let meta = json!({ "role": "guest", "nested": { "tags": ["a"], "n": 2.5 } });
    // Not the order of their ids.
    let change = store
        .add_members(
            t.acme.id,
            t.room.id,
            ids(&[&t.cid, &t.ann, &t.dot]),
            member_meta(meta.clone()),
            None,
        )
        .await
        .expect("members added");
    assert_eq!(change, added(ids(&[&t.cid, &t.ann, &t.dot])));
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.cid, &t.ann, &t.dot]));

    let (memberships, total) = list(&store, t.acme.id, t.room.id, window(0, 100)).await;
    assert_eq!(total, 3);
    let users: Vec<&User> = memberships.iter().map(|m| &m.user).collect();
    assert_eq!(users, [&t.cid, &t.ann, &t.dot]);
    for membership in &memberships {
        assert_eq!(Value::Object(membership.meta.as_map().clone()), meta);
        let age = time::OffsetDateTime::now_utc() - membership.joined_at;
        assert!(age.abs() < time::Duration::minutes(1), "{age}");
    }
    // Strictly increasing: the join order does not hang on the tie-break by user id.
    assert!(
        memberships
            .windows(2)
            .all(|pair| pair[0].joined_at < pair[1].joined_at),
        "{memberships:?}"
    );

    let room = store
        .find_room(t.acme.id, chat_domain::RoomRef::Id(t.room.id))
        .await
        .expect("room read");
    assert_eq!(room.member_count, 3);
    // Nothing else of the room changes.
    assert_eq!(
        Room {
            member_count: t.room.member_count,
            ..room
        },
        t.room
    );
}

#[tokio::test]
async fn existing_members_are_skipped_and_keep_their_place_and_meta() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let first = member_meta(json!({ "first": true }));
    let change = store
        .add_members(t.acme.id, t.room.id, ids(&[&t.ben]), first.clone(), None)
        .await
        .expect("member added");
    assert_eq!(change, added(ids(&[&t.ben])));

    // Ben already is a member, and Ann is given twice.
    let change = store
        .add_members(
            t.acme.id,
            t.room.id,
            ids(&[&t.ann, &t.ben, &t.ann, &t.cid]),
            member_meta(json!({ "second": true })),
            None,
        )
        .await
        .expect("members added");
    assert_eq!(change, added(ids(&[&t.ann, &t.cid])));
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ben, &t.ann, &t.cid]));
    let (memberships, total) = list(&store, t.acme.id, t.room.id, window(0, 100)).await;
    assert_eq!(total, 3);
    assert_eq!(memberships[0].user, t.ben);
    assert_eq!(memberships[0].meta, first);

    // Nobody new: nothing changes.
    let change = add(&store, t.acme.id, t.room.id, &[&t.cid, &t.ben], None)
        .await
        .expect("nothing added");
    assert_eq!(change, MemberChange::default());
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ben, &t.ann, &t.cid]));
    let change = add(&store, t.acme.id, t.room.id, &[], None)
        .await
        .expect("nothing added");
    assert_eq!(change, MemberChange::default());
    assert_eq!(stored_members(&db, &t.room).len(), 3);
}

#[tokio::test]
async fn a_limit_admits_members_up_to_it_and_refuses_the_next_changing_nothing() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let (acme, room) = (t.acme.id, t.room.id);

    let change = add(&store, acme, room, &[&t.ann, &t.ben], Some(2))
        .await
        .expect("exactly up to the limit");
    assert_eq!(change, added(ids(&[&t.ann, &t.ben])));
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ann, &t.ben]));

    // One more is one too many, alone or after an existing member.
    assert_limit_reached(add(&store, acme, room, &[&t.cid], Some(2)).await);
    assert_limit_reached(add(&store, acme, room, &[&t.ann, &t.cid], Some(2)).await);
    assert_limit_reached(add(&store, acme, room, &[&t.cid, &t.dot], Some(3)).await);
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ann, &t.ben]));

    // Existing members only: nothing would change, so nothing is refused.
    let change = add(&store, acme, room, &[&t.ben, &t.ann], Some(2))
        .await
        .expect("nobody new");
    assert_eq!(change, MemberChange::default());

    // With room for one, [existing, new] fits.
    let change = add(&store, acme, room, &[&t.ann, &t.cid], Some(3))
        .await
        .expect("one new member fits");
    assert_eq!(change, added(ids(&[&t.cid])));
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ann, &t.ben, &t.cid]));

    // A limit lowered below the members the room has: the room keeps them, adding
    // nobody is not refused, adding anyone is.
    assert_eq!(
        add(&store, acme, room, &[&t.ann], Some(1))
            .await
            .expect("nobody new"),
        MemberChange::default()
    );
    assert_limit_reached(add(&store, acme, room, &[&t.dot], Some(1)).await);
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ann, &t.ben, &t.cid]));
}

#[tokio::test]
async fn twenty_racers_for_ten_seats_get_exactly_ten() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let room = create_room(
        &store,
        acme.id,
        "Popular",
        Some(json!({ "max_participants": 10 })),
    )
    .await;
    let limit = room.meta.max_participants();
    assert_eq!(limit, Some(10));
    let mut racers = Vec::new();
    for n in 0..20 {
        racers.push(
            create_user(&store, acme.id, &format!("Racer {n}"), "agent")
                .await
                .id,
        );
    }
    let pool = 10;
    let racing = racing_store(&db, pool);

    // Hold the room row so that every racer with a connection queues on its lock, then
    // let them all go at once.
    let mut holder = connect(&db);
    execute_on(&mut holder, "BEGIN");
    execute_on(
        &mut holder,
        &format!("SELECT id FROM rooms WHERE id = {} FOR UPDATE", room.id.0),
    );
    let tasks: Vec<_> = racers
        .iter()
        .map(|&user| {
            let racing = racing.clone();
            let (account, room) = (acme.id, room.id);
            tokio::spawn(async move {
                let result = racing
                    .add_members(account, room, vec![user], MemberMeta::default(), limit)
                    .await;
                (user, result)
            })
        })
        .collect();
    until_waiting(&db, i64::from(pool)).await;
    execute_on(&mut holder, "COMMIT");

    let mut winners = HashSet::new();
    let mut refused = 0;
    for task in tasks {
        let (user, result) = task.await.expect("racer finished");
        match result {
            Ok(change) => {
                assert_eq!(change, added(vec![user]));
                winners.insert(user);
            }
            Err(StoreError::LimitReached) => refused += 1,
            Err(other) => panic!("racer {user:?}: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 10);
    assert_eq!(refused, 10);
    let members = stored_members(&db, &room);
    assert_eq!(members.len(), 10);
    assert_eq!(members.into_iter().collect::<HashSet<_>>(), winners);
}

fn execute_on(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test]
async fn a_user_outside_the_account_is_not_found_and_nothing_changes() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let (acme, room) = (t.acme.id, t.room.id);
    add(&store, acme, room, &[&t.ann], None)
        .await
        .expect("member added");

    // Ben would be inserted before the stranger fails: the transaction takes him back.
    assert_not_found(add(&store, acme, room, &[&t.ben, &t.stranger], None).await);
    assert_not_found(add(&store, acme, room, &[&t.ben, &t.stranger], Some(1)).await);
    assert_not_found(
        store
            .add_members(
                acme,
                room,
                vec![t.ben.id, UserId(4242)],
                MemberMeta::default(),
                None,
            )
            .await,
    );
    assert_not_found(
        store
            .replace_members(acme, room, ids(&[&t.ben, &t.stranger]), None)
            .await,
    );
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ann]));
    assert_eq!(stored_members(&db, &t.elsewhere), []);
    assert_eq!(count(&db, "room_members"), 1);

    // Removing someone who is no user of the account removes nobody.
    let change = store
        .remove_members(acme, room, ids(&[&t.stranger]))
        .await
        .expect("nobody removed");
    assert_eq!(change, MemberChange::default());
}

#[tokio::test]
async fn another_accounts_room_is_not_found_by_every_method() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    add(&store, t.acme.id, t.room.id, &[&t.ann], None)
        .await
        .expect("member added");
    for (account, room) in [
        (t.other.id, t.room.id),
        (t.acme.id, t.elsewhere.id),
        (t.acme.id, RoomId(4242)),
        (AccountId(4242), t.room.id),
    ] {
        assert_not_found(
            store
                .add_members(account, room, vec![t.ben.id], MemberMeta::default(), None)
                .await,
        );
        // Even with users of that account.
        assert_not_found(
            store
                .add_members(
                    account,
                    room,
                    vec![t.stranger.id],
                    MemberMeta::default(),
                    None,
                )
                .await,
        );
        assert_not_found(
            store
                .add_members(account, room, vec![], MemberMeta::default(), None)
                .await,
        );
        assert_not_found(store.remove_members(account, room, vec![t.ann.id]).await);
        assert_not_found(store.remove_members(account, room, vec![]).await);
        assert_not_found(
            store
                .replace_members(account, room, vec![t.ben.id], None)
                .await,
        );
        assert_not_found(store.replace_members(account, room, vec![], None).await);
        assert_not_found(store.list_memberships(account, room, window(0, 10)).await);
    }
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ann]));
    assert_eq!(stored_members(&db, &t.elsewhere), []);
}

#[tokio::test]
async fn removing_takes_out_only_members_in_the_order_given() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let (acme, room) = (t.acme.id, t.room.id);
    add(&store, acme, room, &[&t.ann, &t.ben, &t.cid], None)
        .await
        .expect("members added");

    // Dot is no member; 4242 is nobody; Cid is given twice.
    let change = store
        .remove_members(
            acme,
            room,
            vec![t.cid.id, t.dot.id, UserId(4242), t.ann.id, t.cid.id],
        )
        .await
        .expect("members removed");
    assert_eq!(change, removed(ids(&[&t.cid, &t.ann])));
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ben]));

    let change = store
        .remove_members(acme, room, ids(&[&t.cid, &t.ann]))
        .await
        .expect("nobody removed");
    assert_eq!(change, MemberChange::default());
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ben]));
    let change = store
        .remove_members(acme, room, vec![])
        .await
        .expect("nobody removed");
    assert_eq!(change, MemberChange::default());

    let change = store
        .remove_members(acme, room, ids(&[&t.ben]))
        .await
        .expect("last member removed");
    assert_eq!(change, removed(ids(&[&t.ben])));
    assert_eq!(stored_members(&db, &t.room), []);

    // Removed members can join again, at the end.
    add(&store, acme, room, &[&t.ann], None)
        .await
        .expect("added");
    add(&store, acme, room, &[&t.cid, &t.ben], None)
        .await
        .expect("added");
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ann, &t.cid, &t.ben]));
}

#[tokio::test]
async fn replacing_adds_the_missing_and_removes_the_others_in_one_call() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let (acme, room) = (t.acme.id, t.room.id);
    let eli = create_user(&store, acme, "Eli", "agent").await;
    // Join order Cid, Ann, Ben: not the order of their ids.
    add(&store, acme, room, &[&t.cid, &t.ann, &t.ben], None)
        .await
        .expect("members added");

    let change = store
        .replace_members(acme, room, ids(&[&eli, &t.ben, &t.dot]), Some(3))
        .await
        .expect("members replaced");
    assert_eq!(
        change,
        MemberChange {
            added: ids(&[&eli, &t.dot]),
            // In join order.
            removed: ids(&[&t.cid, &t.ann]),
        }
    );
    // Ben keeps his place; the new members follow in the order given.
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ben, &eli, &t.dot]));
    let (memberships, _) = list(&store, acme, room, window(0, 10)).await;
    assert!(memberships.iter().all(|m| m.meta == MemberMeta::default()));

    // Everyone out.
    let change = store
        .replace_members(acme, room, vec![], Some(3))
        .await
        .expect("members replaced");
    assert_eq!(change, removed(ids(&[&t.ben, &eli, &t.dot])));
    assert_eq!(stored_members(&db, &t.room), []);

    // Into an empty room, a user given twice counted once.
    let change = store
        .replace_members(acme, room, ids(&[&t.ann, &t.cid, &t.ann]), Some(2))
        .await
        .expect("members replaced");
    assert_eq!(change, added(ids(&[&t.ann, &t.cid])));
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ann, &t.cid]));
}

/// The transaction id that last wrote the room's row.
fn room_version(db: &TestDatabase, room: &Room) -> i64 {
    numbers(
        &mut connect(db),
        &format!(
            "SELECT xmin::text::bigint AS n FROM rooms WHERE id = {}",
            room.id.0
        ),
    )[0]
}

#[tokio::test]
async fn replacing_with_the_same_set_changes_nothing() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let (acme, room) = (t.acme.id, t.room.id);
    store
        .add_members(
            acme,
            room,
            ids(&[&t.ann, &t.ben]),
            member_meta(json!({ "kept": 1 })),
            None,
        )
        .await
        .expect("members added");
    let (before, _) = list(&store, acme, room, window(0, 10)).await;
    let version = room_version(&db, &t.room);

    let change = store
        .replace_members(acme, room, ids(&[&t.ben, &t.ann]), Some(2))
        .await
        .expect("members replaced");
    assert_eq!(change, MemberChange::default());
    let (after, total) = list(&store, acme, room, window(0, 10)).await;
    // Same members, same times, same meta.
    assert_eq!(after, before);
    assert_eq!(total, 2);
    assert_eq!(
        room_version(&db, &t.room),
        version,
        "the room row was rewritten"
    );
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ann, &t.ben]));
}

#[tokio::test]
async fn replacing_past_the_limit_is_refused_and_changes_nothing() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let (acme, room) = (t.acme.id, t.room.id);
    add(&store, acme, room, &[&t.ann, &t.ben], None)
        .await
        .expect("members added");

    assert_limit_reached(
        store
            .replace_members(acme, room, ids(&[&t.ann, &t.cid, &t.dot]), Some(2))
            .await,
    );
    assert_limit_reached(
        store
            .replace_members(acme, room, ids(&[&t.ann, &t.ben, &t.cid]), Some(2))
            .await,
    );
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.ann, &t.ben]));

    // Swapping both is within the limit: the count checked is the final one.
    let change = store
        .replace_members(acme, room, ids(&[&t.cid, &t.dot]), Some(2))
        .await
        .expect("members replaced");
    assert_eq!(
        change,
        MemberChange {
            added: ids(&[&t.cid, &t.dot]),
            removed: ids(&[&t.ann, &t.ben]),
        }
    );
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.cid, &t.dot]));

    // Shrinking a room that is past a lowered limit is not refused.
    let change = store
        .replace_members(acme, room, ids(&[&t.dot]), Some(0))
        .await
        .expect("members replaced");
    assert_eq!(change, removed(ids(&[&t.cid])));
    assert_eq!(stored_members(&db, &t.room), ids(&[&t.dot]));
}

#[tokio::test]
async fn memberships_are_listed_in_join_order_in_windows_with_the_total() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let (acme, room) = (t.acme.id, t.room.id);
    let eli = create_user(&store, acme, "Eli", "agent").await;
    let order = [&t.dot, &eli, &t.ann, &t.cid, &t.ben];
    add(&store, acme, room, &order, None)
        .await
        .expect("members added");
    add(&store, t.other.id, t.elsewhere.id, &[&t.stranger], None)
        .await
        .expect("member added elsewhere");
    assert_eq!(stored_members(&db, &t.room), ids(&order));

    let page = |offset, limit| {
        let store = store.clone();
        async move {
            let (memberships, total) = list(&store, acme, room, window(offset, limit)).await;
            let users: Vec<UserId> = memberships.into_iter().map(|m| m.user.id).collect();
            (users, total)
        }
    };
    let all = ids(&order);
    assert_eq!(page(0, 2).await, (all[0..2].to_vec(), 5));
    assert_eq!(page(2, 2).await, (all[2..4].to_vec(), 5));
    assert_eq!(page(4, 2).await, (all[4..].to_vec(), 5));
    assert_eq!(page(5, 2).await, (vec![], 5));
    assert_eq!(page(1000, 1).await, (vec![], 5));
    assert_eq!(page(0, 1000).await, (all, 5));

    // The users come whole.
    let (memberships, _) = list(&store, acme, room, window(1, 1)).await;
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].user, eli);

    let empty = create_room(&store, acme, "Empty", None).await;
    assert_eq!(
        list(&store, acme, empty.id, window(0, 10)).await,
        (vec![], 0)
    );
}

#[tokio::test]
async fn stored_member_meta_the_domain_rejects_is_unexpected() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    add(&store, t.acme.id, t.room.id, &[&t.ann], None)
        .await
        .expect("member added");
    execute(
        &db,
        &format!(
            "UPDATE room_members SET meta = jsonb_build_object('blob', repeat('x', 17000)) \
             WHERE room_id = {}",
            t.room.id.0
        ),
    );
    let result = store
        .list_memberships(t.acme.id, t.room.id, window(0, 10))
        .await;
    assert!(
        matches!(result, Err(StoreError::Unexpected(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn users_are_found_by_id_in_the_order_asked_within_the_account() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let found = store
        .find_users(
            t.acme.id,
            vec![
                t.cid.id,
                UserId(4242),
                t.ann.id,
                t.stranger.id,
                t.cid.id,
                t.dot.id,
            ],
        )
        .await
        .expect("users found");
    assert_eq!(found, vec![t.cid.clone(), t.ann.clone(), t.dot.clone()]);
    assert_eq!(
        store
            .find_users(t.other.id, ids(&[&t.ann, &t.stranger]))
            .await
            .expect("users found"),
        vec![t.stranger.clone()]
    );
    assert_eq!(
        store.find_users(t.acme.id, vec![]).await.expect("no users"),
        vec![]
    );
    assert_eq!(
        store
            .find_users(AccountId(4242), ids(&[&t.ann]))
            .await
            .expect("no users"),
        vec![]
    );
}

async fn create_external_user(
    store: &PgStore,
    account: AccountId,
    name: &str,
    external_id: &str,
) -> User {
    store
        .create_user(
            account,
            new_user(name, None, "agent", Some(external_id)),
            TokenHash::of(&format!("ut_{}_{name}", account.0)),
        )
        .await
        .expect("user created")
}

async fn by_chat_id(store: &PgStore, account: AccountId, chat_id: &str) -> Option<UserId> {
    store
        .find_by_chat_id(account, chat_id.to_owned())
        .await
        .expect("look-up works")
        .map(|user| user.id)
}

#[tokio::test]
async fn a_chat_id_names_a_user_by_external_id_else_by_integer_id() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let acme = t.acme.id;
    let ext = create_external_user(&store, acme, "Ext", "user_123").await;

    // By external id, whole.
    let found = store
        .find_by_chat_id(acme, "user_123".to_owned())
        .await
        .expect("look-up works");
    assert_eq!(found, Some(ext.clone()));
    assert_eq!(by_chat_id(&store, acme, "USER_123").await, None);
    assert_eq!(by_chat_id(&store, acme, "user_12").await, None);

    // By integer id, for a user without an external id.
    let ann = t.ann.id.0;
    assert_eq!(
        by_chat_id(&store, acme, &ann.to_string()).await,
        Some(t.ann.id)
    );
    // A user with an external id is only named by it.
    assert_eq!(by_chat_id(&store, acme, &ext.id.0.to_string()).await, None);
    // Only the canonical spelling of an integer.
    for other in [
        format!("0{ann}"),
        format!("+{ann}"),
        format!("-{ann}"),
        format!("{ann} "),
        format!("{ann}.0"),
        "007".to_owned(),
        "-1".to_owned(),
        "abc".to_owned(),
        "0".to_owned(),
        "99999999999999999999".to_owned(),
    ] {
        assert_eq!(by_chat_id(&store, acme, &other).await, None, "{other:?}");
    }

    // An external id that spells the integer id of a user without one would make two
    // users share a ChatAPI user_id: it is refused, and the id keeps naming that user.
    let refused = store
        .create_user(
            acme,
            new_user("Shadow", None, "agent", Some(&t.ben.id.0.to_string())),
            TokenHash::of("ut_shadow"),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Duplicate("external_id"))),
        "{refused:?}"
    );
    assert_eq!(
        by_chat_id(&store, acme, &t.ben.id.0.to_string()).await,
        Some(t.ben.id)
    );
    // Spelling the id of a user who HAS an external id is no clash: that id names nobody.
    let spelled = create_external_user(&store, acme, "Spelled", &ext.id.0.to_string()).await;
    assert_eq!(
        by_chat_id(&store, acme, &ext.id.0.to_string()).await,
        Some(spelled.id)
    );

    // Nothing of another account.
    let other = t.other.id;
    assert_eq!(by_chat_id(&store, other, "user_123").await, None);
    assert_eq!(by_chat_id(&store, other, &ann.to_string()).await, None);
    assert_eq!(
        by_chat_id(&store, acme, &t.stranger.id.0.to_string()).await,
        None
    );
    assert_eq!(
        by_chat_id(&store, other, &t.stranger.id.0.to_string()).await,
        Some(t.stranger.id)
    );
}

fn external_id(raw: &str) -> ExternalId {
    ExternalId::parse(raw).expect("valid external id")
}

fn person(raw: &str) -> PersonName {
    PersonName::parse(raw).expect("valid name")
}

#[tokio::test]
async fn an_external_user_is_created_once_as_an_agent_without_a_credential() {
    let Fixture { store, db } = fixture();
    let t = tenants(&store).await;
    let acme = t.acme.id;
    let credentials = count(&db, "credentials");
    let users = count(&db, "users");

    let created = store
        .ensure_external_user(acme, external_id("visitor-9"), person("Visitor"))
        .await
        .expect("user created");
    assert_eq!(created.account_id, acme);
    assert_eq!(created.external_id, Some(external_id("visitor-9")));
    assert_eq!(created.name.as_str(), "Visitor");
    assert_eq!(created.role, Role::Agent);
    assert_eq!(created.email, None);
    assert_eq!(count(&db, "users"), users + 1);
    assert_eq!(count(&db, "credentials"), credentials);

    // Again, under another name: the same user, unchanged.
    let again = store
        .ensure_external_user(acme, external_id("visitor-9"), person("Someone else"))
        .await
        .expect("user found");
    assert_eq!(again, created);
    assert_eq!(count(&db, "users"), users + 1);
    assert_eq!(
        by_chat_id(&store, acme, "visitor-9").await,
        Some(created.id)
    );

    // The same external id in another account is another user.
    let theirs = store
        .ensure_external_user(t.other.id, external_id("visitor-9"), person("Visitor"))
        .await
        .expect("user created");
    assert_ne!(theirs.id, created.id);
    assert_eq!(theirs.account_id, t.other.id);

    // A user made another way is found, not duplicated.
    let made = create_external_user(&store, acme, "Made", "made-1").await;
    let found = store
        .ensure_external_user(acme, external_id("made-1"), person("Other name"))
        .await
        .expect("user found");
    assert_eq!(found, made);

    assert_not_found(
        store
            .ensure_external_user(AccountId(4242), external_id("visitor-9"), person("Visitor"))
            .await,
    );
    assert_eq!(count(&db, "users"), users + 3);
}

#[tokio::test]
async fn concurrent_calls_for_one_external_id_make_one_user() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let pool = 10;
    let racing = racing_store(&db, pool);

    // An uncommitted insert of the same external id makes every caller wait on it; when
    // it rolls back, the callers race each other.
    let mut holder = connect(&db);
    execute_on(&mut holder, "BEGIN");
    execute_on(
        &mut holder,
        &format!(
            "INSERT INTO users (account_id, external_id, name, role) \
             VALUES ({}, 'first-timer', 'Holder', 'agent')",
            acme.id.0
        ),
    );
    let tasks: Vec<_> = (0..10)
        .map(|n| {
            let racing = racing.clone();
            let account = acme.id;
            tokio::spawn(async move {
                racing
                    .ensure_external_user(
                        account,
                        external_id("first-timer"),
                        person(&format!("Caller {n}")),
                    )
                    .await
            })
        })
        .collect();
    until_waiting(&db, i64::from(pool)).await;
    execute_on(&mut holder, "ROLLBACK");

    let mut users = Vec::new();
    for task in tasks {
        users.push(task.await.expect("caller finished").expect("user ensured"));
    }
    let first = &users[0];
    assert!(users.iter().all(|user| user == first), "{users:?}");
    assert!(first.name.as_str().starts_with("Caller "), "{first:?}");
    assert_eq!(count(&db, "users"), 1);

    // Without the holder, too.
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let racing = racing.clone();
            let account = acme.id;
            tokio::spawn(async move {
                racing
                    .ensure_external_user(account, external_id("second-timer"), person("Caller"))
                    .await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for task in tasks {
        ids.insert(
            task.await
                .expect("caller finished")
                .expect("user ensured")
                .id,
        );
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(count(&db, "users"), 2);
}

#[tokio::test]
async fn an_external_member_is_created_with_the_join_or_not_at_all() {
    let Fixture { store, db: _db } = fixture();
    let t = tenants(&store).await;
    let acme = t.acme.id;
    let room = t.room.id;
    add(&store, acme, room, &[&t.ann], None)
        .await
        .expect("ann joins");

    // The room is full: the join is refused and the user it would have made is not kept.
    let refused = store
        .add_external_member(
            acme,
            room,
            external_id("newcomer"),
            person("New"),
            MemberMeta::default(),
            Some(1),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::LimitReached)),
        "{refused:?}"
    );
    assert_eq!(by_chat_id(&store, acme, "newcomer").await, None);

    // With room to spare: made and joined in one go, counted once.
    let (user, change) = store
        .add_external_member(
            acme,
            room,
            external_id("newcomer"),
            person("New"),
            MemberMeta::default(),
            Some(2),
        )
        .await
        .expect("joined");
    assert_eq!(user.name.as_str(), "New");
    assert_eq!(change.added, vec![user.id]);
    assert_eq!(by_chat_id(&store, acme, "newcomer").await, Some(user.id));
    // Again: the same user, already a member, nothing added.
    let (again, change) = store
        .add_external_member(
            acme,
            room,
            external_id("newcomer"),
            person("Other Name"),
            MemberMeta::default(),
            Some(2),
        )
        .await
        .expect("answered");
    assert_eq!(again.id, user.id);
    assert!(change.added.is_empty());
    let (members, total) = list(&store, acme, room, Window::new(0, 10, 100).expect("window")).await;
    assert_eq!(total, 2);
    assert_eq!(members.len(), 2);

    // Another account's room: not found, and nobody made.
    let elsewhere = store
        .add_external_member(
            acme,
            t.elsewhere.id,
            external_id("ghost"),
            person("Ghost"),
            MemberMeta::default(),
            None,
        )
        .await;
    assert!(
        matches!(elsewhere, Err(StoreError::NotFound)),
        "{elsewhere:?}"
    );
    assert_eq!(by_chat_id(&store, acme, "ghost").await, None);
}
