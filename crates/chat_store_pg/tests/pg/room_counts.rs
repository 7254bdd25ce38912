//! `account_room_counts`, the per-account room counts that room lists read their total
//! from: kept exact by triggers on `rooms`, whoever changes the rooms (the store, bulk SQL,
//! a cascade) and however many change them at once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::common::{
    Fixture, connect, create_account, create_user, execute, fixture, racing_store,
};
use chat_app::{NewRoom, RoomFilter, RoomSort, RoomStore, StoreError, Window};
use chat_domain::{Account, AccountId, Room, User};
use chat_store_pg::PgStore;
use chat_test_db::TestDatabase;
use diesel::sql_types::BigInt;
use diesel::{PgConnection, QueryableByName, RunQueryDsl};

/// An account's counts: rooms, and active rooms.
#[derive(Debug, PartialEq, Eq, QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    account_id: i64,
    #[diesel(sql_type = BigInt)]
    rooms: i64,
    #[diesel(sql_type = BigInt)]
    active_rooms: i64,
}

fn load_counts(db: &TestDatabase, sql: &str) -> Vec<Counts> {
    diesel::sql_query(sql)
        .load(&mut connect(db))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The counts the triggers keep, by account.
fn kept(db: &TestDatabase) -> Vec<Counts> {
    load_counts(
        db,
        "SELECT account_id, rooms, active_rooms FROM account_room_counts ORDER BY account_id",
    )
}

/// The counts as counting the rooms gives them, for every account.
fn counted(db: &TestDatabase) -> Vec<Counts> {
    load_counts(
        db,
        "SELECT a.id AS account_id, count(r.id) AS rooms, \
                count(r.id) FILTER (WHERE r.is_active) AS active_rooms \
           FROM accounts a LEFT JOIN rooms r ON r.account_id = a.id \
          GROUP BY a.id ORDER BY a.id",
    )
}

/// The kept counts are the counted ones, and are `expected` for `account`.
#[track_caller]
fn assert_counts(db: &TestDatabase, account: AccountId, expected: (i64, i64)) {
    let kept = kept(db);
    assert_eq!(kept, counted(db));
    let counts = kept
        .iter()
        .find(|counts| counts.account_id == account.0)
        .expect("the account has its counts");
    assert_eq!((counts.rooms, counts.active_rooms), expected);
}

/// The totals of the store's lists without a search or a member (the ones read from the
/// counts): all rooms, active ones, inactive ones.
async fn totals(store: &PgStore, account: AccountId) -> (i64, i64, i64) {
    let mut totals = [0; 3];
    for (total, is_active) in totals.iter_mut().zip([None, Some(true), Some(false)]) {
        let filter = RoomFilter {
            search: None,
            is_active,
            member: None,
            sort: RoomSort::CreatedDesc,
            window: Window::new(0, 1, Window::MAX_LIMIT).expect("valid window"),
        };
        *total = store
            .list_rooms(account, filter, chat_app::Along::default())
            .await
            .expect("rooms listed")
            .1;
    }
    (totals[0], totals[1], totals[2])
}

fn new_room(name: &str) -> NewRoom {
    NewRoom::parse(Some(name), None, None).expect("valid room")
}

async fn create_room(
    store: &PgStore,
    account: AccountId,
    name: &str,
    creator: Option<&User>,
) -> Room {
    store
        .create_room(account, new_room(name), creator.map(|user| user.id))
        .await
        .expect("room created")
}

/// Two accounts with an administrator each.
async fn accounts(store: &PgStore) -> (Account, User, Account, User) {
    let acme = create_account(store, "Acme", "ck_acme").await;
    let other = create_account(store, "Other", "ck_other").await;
    let ada = create_user(store, acme.id, "Ada", "administrator").await;
    let eve = create_user(store, other.id, "Eve", "administrator").await;
    (acme, ada, other, eve)
}

#[tokio::test]
async fn a_new_account_starts_with_no_rooms() {
    let Fixture { store, db } = fixture();
    let (acme, _, other, _) = accounts(&store).await;
    assert_counts(&db, acme.id, (0, 0));
    assert_counts(&db, other.id, (0, 0));
    assert_eq!(totals(&store, acme.id).await, (0, 0, 0));
}

#[tokio::test]
async fn counts_follow_creating_deactivating_activating_and_deleting_rooms() {
    let Fixture { store, db } = fixture();
    let (acme, ada, other, eve) = accounts(&store).await;
    let account = acme.id;

    let first = create_room(&store, account, "First", Some(&ada)).await;
    let second = create_room(&store, account, "Second", None).await;
    let third = create_room(&store, account, "Third", None).await;
    create_room(&store, other.id, "Elsewhere", Some(&eve)).await;
    assert_counts(&db, account, (3, 3));
    assert_counts(&db, other.id, (1, 1));

    // A creation that fails (a creator of another account) rolls its count back too.
    let refused = store
        .create_room(account, new_room("Refused"), Some(eve.id))
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
    assert_counts(&db, account, (3, 3));

    store
        .set_room_active(account, second.id, false)
        .await
        .expect("deactivated");
    assert_counts(&db, account, (3, 2));
    // Deactivating an inactive room changes nothing.
    store
        .set_room_active(account, second.id, false)
        .await
        .expect("deactivated again");
    assert_counts(&db, account, (3, 2));
    store
        .set_room_active(account, third.id, false)
        .await
        .expect("deactivated");
    assert_counts(&db, account, (3, 1));
    assert_eq!(totals(&store, account).await, (3, 1, 2));
    store
        .set_room_active(account, third.id, true)
        .await
        .expect("activated");
    store
        .set_room_active(account, first.id, true)
        .await
        .expect("activated (it was)");
    assert_counts(&db, account, (3, 2));

    // Deleting an inactive room, then an active one (with a member).
    store
        .delete_room(account, second.id)
        .await
        .expect("deleted");
    assert_counts(&db, account, (2, 2));
    store.delete_room(account, first.id).await.expect("deleted");
    assert_counts(&db, account, (1, 1));
    // A room of another account is not found, and nothing changes.
    let missing = store.delete_room(other.id, third.id).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    assert_counts(&db, account, (1, 1));
    assert_counts(&db, other.id, (1, 1));
    assert_eq!(totals(&store, account).await, (1, 1, 0));
    assert_eq!(totals(&store, other.id).await, (1, 1, 0));
}

#[tokio::test]
async fn counts_follow_bulk_statements_behind_the_stores_back() {
    let Fixture { store, db } = fixture();
    let (acme, _, other, _) = accounts(&store).await;
    // One statement, rooms of two accounts, one in three inactive.
    execute(
        &db,
        &format!(
            "INSERT INTO rooms (account_id, name, is_active) \
             SELECT CASE WHEN i % 4 = 0 THEN {other} ELSE {acme} END, 'Room ' || i, i % 3 <> 0 \
             FROM generate_series(1, 1200) AS i",
            acme = acme.id.0,
            other = other.id.0,
        ),
    );
    assert_counts(&db, acme.id, (900, 600));
    assert_counts(&db, other.id, (300, 200));
    assert_eq!(totals(&store, acme.id).await, (900, 600, 300));

    // One update flipping many rooms, some of them to the state they had.
    execute(
        &db,
        &format!(
            "UPDATE rooms SET is_active = (id % 2 = 0) WHERE account_id = {}",
            acme.id.0
        ),
    );
    assert_eq!(kept(&db), counted(&db));
    // Updates that do not name is_active (as sending a message does) change nothing.
    execute(
        &db,
        "UPDATE rooms SET last_seq = last_seq + 1, message_count = 1",
    );
    assert_eq!(kept(&db), counted(&db));

    execute(
        &db,
        &format!(
            "DELETE FROM rooms WHERE account_id = {} AND id % 5 = 0",
            acme.id.0
        ),
    );
    assert_eq!(kept(&db), counted(&db));
    let (all, active, inactive) = totals(&store, acme.id).await;
    assert_eq!(all, active + inactive);
    assert!(all < 900, "{all}");

    // Rooms emptied at once: every account's counts go to zero.
    execute(&db, "TRUNCATE rooms CASCADE");
    assert_counts(&db, acme.id, (0, 0));
    assert_counts(&db, other.id, (0, 0));
}

#[tokio::test]
async fn deleting_an_account_takes_its_counts_and_leaves_the_others() {
    let Fixture { store, db } = fixture();
    let (acme, ada, other, _) = accounts(&store).await;
    for n in 0..3 {
        create_room(&store, acme.id, &format!("Acme {n}"), Some(&ada)).await;
    }
    create_room(&store, other.id, "Other", None).await;

    // The cascade deletes the rooms, whose trigger finds the counts row gone or still
    // there: either way the delete succeeds.
    execute(
        &db,
        &format!("DELETE FROM accounts WHERE id = {}", acme.id.0),
    );
    assert_eq!(
        kept(&db),
        [Counts {
            account_id: other.id.0,
            rooms: 1,
            active_rooms: 1
        }]
    );
    assert_eq!(kept(&db), counted(&db));
}

fn execute_on(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Waits until `n` sessions wait for a lock.
async fn until_waiting(db: &TestDatabase, n: i64) {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = connect(db);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: Waiting = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result(&mut conn)
        .expect("pg_stat_activity");
        if waiting.n >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} sessions ever waited for the lock",
            waiting.n
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn rooms_created_at_once_take_turns_on_the_count_and_none_is_lost() {
    let Fixture { store, db } = fixture();
    let (acme, ada, _, _) = accounts(&store).await;
    let racing = racing_store(&db, 8);

    // Hold the account's counts row: all eight creations insert their room, then queue on
    // the row; released together, each adds its own room.
    let mut holder = connect(&db);
    execute_on(&mut holder, "BEGIN");
    execute_on(
        &mut holder,
        &format!(
            "SELECT rooms FROM account_room_counts WHERE account_id = {} FOR UPDATE",
            acme.id.0
        ),
    );
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let racing = racing.clone();
            let (account, creator) = (acme.id, ada.id);
            tokio::spawn(async move {
                racing
                    .create_room(account, new_room(&format!("Racing {n}")), Some(creator))
                    .await
            })
        })
        .collect();
    until_waiting(&db, 8).await;
    execute_on(&mut holder, "COMMIT");
    let mut ids = HashSet::new();
    for task in tasks {
        let room = task.await.expect("finished").expect("room created");
        ids.insert(room.id);
    }
    assert_eq!(ids.len(), 8);
    assert_counts(&db, acme.id, (8, 8));
}

#[tokio::test]
async fn concurrent_creates_deletes_and_toggles_keep_the_counts_exact() {
    let Fixture { store, db } = fixture();
    let (acme, ada, other, eve) = accounts(&store).await;
    let racing = racing_store(&db, 8);
    let mut existing = Vec::new();
    for n in 0..24 {
        existing.push(create_room(&store, acme.id, &format!("Existing {n}"), None).await);
    }

    // At once: 32 creations in each account (with and without a creator), 8 deletions,
    // and 8 rooms deactivated, 4 of them twice.
    let mut tasks = Vec::new();
    for n in 0..32 {
        for (account, creator) in [(acme.id, &ada), (other.id, &eve)] {
            let racing = racing.clone();
            let creator = (n % 2 == 0).then_some(creator.id);
            tasks.push(tokio::spawn(async move {
                racing
                    .create_room(account, new_room(&format!("New {n}")), creator)
                    .await
                    .map(drop)
            }));
        }
    }
    for room in &existing[..8] {
        let (racing, id) = (racing.clone(), room.id);
        tasks.push(tokio::spawn(async move {
            racing.delete_room(acme.id, id).await.map(drop)
        }));
    }
    for (i, room) in existing[8..16].iter().enumerate() {
        for _ in 0..(1 + i % 2) {
            let (racing, id) = (racing.clone(), room.id);
            tasks.push(tokio::spawn(async move {
                racing.set_room_active(acme.id, id, false).await.map(drop)
            }));
        }
    }
    for task in tasks {
        task.await.expect("finished").expect("done");
    }

    assert_counts(&db, acme.id, (24 + 32 - 8, 24 + 32 - 8 - 8));
    assert_counts(&db, other.id, (32, 32));
    assert_eq!(totals(&store, acme.id).await, (48, 40, 8));
}
