//! Fixtures shared by the integration tests: a migrated store over a fresh database (a
//! clone of a template migrated once per test run, see `chat_test_db`), and helpers to
//! fill it and to look behind the store's back.

// Each test file uses its own subset.
#![allow(dead_code)]

use std::time::Duration;

use chat_app::{AccountStore, DeliveredMark, NewAccount, NewUser, UserStore};
use chat_domain::{Account, AccountId, RoomId, Seq, TokenHash, User, UserId};
use chat_store_pg::{PgStore, PoolOptions};
use chat_test_db::{Migrations, TestDatabase};
use diesel::{Connection, PgConnection, RunQueryDsl};

/// Every migration's version, as diesel names them, in order.
pub const MIGRATIONS: &[&str] = &[
    "20261121000001",
    "20261121000002",
    "20261121000003",
    "20261121000004",
    "20261121000005",
    "20261121000006",
    "20261206000001",
    "20261206000002",
    "20261206000003",
    "20261206000004",
    "20261206000005",
    "20261206000006",
    "20261206000007",
    "20261207000001",
    "20261207000002",
    "20261207000003",
    "20261207000004",
];

/// A migrated store over a fresh database. The store is declared first, so it (and its
/// connections) go before the database is dropped. Bind `db` to a name (`db: _db`, not
/// `..`), or the database is dropped at once.
pub struct Fixture {
    pub store: PgStore,
    pub db: TestDatabase,
}

pub fn options() -> PoolOptions {
    PoolOptions {
        max_size: 4,
        connect_timeout: Duration::from_secs(5),
        ..PoolOptions::default()
    }
}

pub fn all_migrations() -> Vec<String> {
    MIGRATIONS.iter().map(|v| (*v).to_owned()).collect()
}

/// The migrations of `migrations/`, as the test databases' template gets them.
pub const SCHEMA: Migrations = Migrations {
    dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"),
    apply: migrate,
};

fn migrate(url: &str) -> Result<(), String> {
    let store = PgStore::connect(url, options()).map_err(|e| format!("{e:#}"))?;
    store
        .run_migrations()
        .map(drop)
        .map_err(|e| format!("{e:#}"))
}

/// A fresh database with every migration applied: a clone of the template.
pub fn migrated_database() -> TestDatabase {
    TestDatabase::migrated(&SCHEMA)
}

/// A store over a fresh, migrated database. The store finds nothing left to migrate:
/// the template holds every migration the store knows.
pub fn fixture() -> Fixture {
    let db = migrated_database();
    let store = PgStore::connect(db.url(), options()).expect("pool options are valid");
    let applied = store.run_migrations().expect("migrations run");
    assert_eq!(
        applied,
        Vec::<String>::new(),
        "the template is fully migrated"
    );
    Fixture { store, db }
}

/// A store over a fresh, empty database that the store migrates itself (every migration
/// applied), for tests of the migrations.
pub fn fixture_migrated_by_the_store() -> Fixture {
    let db = TestDatabase::new();
    let store = PgStore::connect(db.url(), options()).expect("pool options are valid");
    let applied = store.run_migrations().expect("migrations run");
    assert_eq!(applied, all_migrations());
    Fixture { store, db }
}

pub fn new_account(name: &str, description: Option<&str>) -> NewAccount {
    NewAccount::parse(Some(name), description).expect("valid account")
}

pub fn new_user(name: &str, email: Option<&str>, role: &str, external_id: Option<&str>) -> NewUser {
    NewUser::parse(Some(name), email, Some(role), external_id).expect("valid user")
}

pub async fn create_account(store: &PgStore, name: &str, key: &str) -> Account {
    store
        .create_account(new_account(name, None), TokenHash::of(key))
        .await
        .expect("account created")
}

/// A user of `account` named `name`, with a token derived from the name and the account.
pub async fn create_user(store: &PgStore, account: AccountId, name: &str, role: &str) -> User {
    store
        .create_user(
            account,
            new_user(name, None, role, None),
            TokenHash::of(&format!("ut_{}_{name}", account.0)),
        )
        .await
        .expect("user created")
}

/// A second store on the same database with a pool of its own, for racing callers.
pub fn racing_store(db: &TestDatabase, max_size: u32) -> PgStore {
    PgStore::connect(
        db.url(),
        PoolOptions {
            max_size,
            connect_timeout: Duration::from_secs(20),
            ..PoolOptions::default()
        },
    )
    .expect("pool options are valid")
}

/// A connection of its own to the test database.
pub fn connect(db: &TestDatabase) -> PgConnection {
    PgConnection::establish(db.url()).expect("test database reachable")
}

/// Runs `sql` behind the store's back.
pub fn execute(db: &TestDatabase, sql: &str) -> usize {
    diesel::sql_query(sql)
        .execute(&mut connect(db))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of `table`, counted behind the store's back.
pub fn count(db: &TestDatabase, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<Count>(&mut connect(db))
        .expect("count")
        .n
}

/// A delivered mark of `user` in `room` up to `upto`.
pub fn mark(room: RoomId, user: UserId, upto: Seq) -> DeliveredMark {
    DeliveredMark { room, user, upto }
}
