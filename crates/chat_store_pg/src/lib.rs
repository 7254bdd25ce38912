//! The PostgreSQL adapter: implements `chat_app`'s storage ports with diesel over an
//! r2d2 connection pool.
//!
//! Diesel is blocking, so every database call, checking a connection out of the pool
//! included, runs on tokio's blocking threads (`PgStore::with_conn`); async workers
//! never wait on the database. Database errors become [`StoreError`]s in one place
//! (`translate`), as the ports document. Rows are read into structs of this crate and
//! converted to domain values with `TryFrom`; a stored value the domain rejects is
//! `Unexpected`, never a panic.

mod accounts;
mod agents;
mod attachments;
pub mod bench;
mod conversations;
mod credentials;
mod end_users;
mod members;
mod messages;
mod pool;
mod prepared;
mod presence;
mod rooms;
mod schema;
mod send_queue;
mod session;
#[cfg(test)]
mod testing;
mod tls;
mod users;
mod webhooks;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use chat_app::{PoolState, StoreError, StoreHealth};
use diesel::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::BigInt;
use diesel::{QueryResult, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tokio::sync::Semaphore;

pub use tls::with_default_sslmode;

type Pool = r2d2::Pool<pool::Manager>;

/// Every migration of `migrations/`, compiled in.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The `pg_advisory_lock` key that serialises migrations across server processes
/// ("chatmigr" in ASCII). Any fixed number works, as long as nothing else uses it.
const MIGRATION_LOCK_KEY: i64 = 0x6368_6174_6d69_6772;

/// How the connection pool behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once. Connections are opened on demand, not up front.
    pub max_size: u32,
    /// How long a caller waits for a connection (checking out one, or opening one)
    /// before the store answers `Unavailable`.
    pub connect_timeout: Duration,
    /// Most searches run at once (at least 1); more wait their turn, first come first
    /// served. A search reads every match (milliseconds of one core for a common word):
    /// as many at once as there are cores finish soonest, one after another, where more
    /// would share the cores and all finish late (docs/decisions.md).
    pub search_concurrency: usize,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            connect_timeout: Duration::from_secs(3),
            search_concurrency: std::thread::available_parallelism().map_or(2, usize::from),
        }
    }
}

/// The storage ports over one PostgreSQL database. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Turns to run a search (`PoolOptions::search_concurrency`).
    searches: Arc<Semaphore>,
    /// Group commit of plain sends (`messages::committer`), started by the first one.
    sends: Arc<OnceLock<send_queue::SendQueue>>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the pool's own Debug: its connection manager holds the URL, which may carry
        // a password.
        let state = self.pool.state();
        f.debug_struct("PgStore")
            .field("max_size", &self.pool.max_size())
            .field("connections", &state.connections)
            .field("idle", &state.idle_connections)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Builds the pool without connecting yet (r2d2 `build_unchecked`), with
    /// `connection_timeout` = `connect_timeout`, so a server can start, and report itself
    /// not ready, while the database is down.
    ///
    /// Errors when an option is out of range (a zero size or timeout).
    pub fn connect(database_url: &str, options: PoolOptions) -> anyhow::Result<PgStore> {
        if options.max_size == 0 {
            anyhow::bail!("the database pool size must be at least 1");
        }
        if options.connect_timeout.is_zero() {
            anyhow::bail!("the database connect timeout must be positive");
        }
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size)
            // Open connections on demand rather than `max_size` of them at start-up:
            // several servers (and parallel tests) share the server's `max_connections`.
            .min_idle(Some(0))
            .connection_timeout(options.connect_timeout)
            .build_unchecked(pool::Manager::new(database_url));
        Ok(PgStore {
            pool,
            searches: Arc::new(Semaphore::new(options.search_concurrency.max(1))),
            sends: Arc::new(OnceLock::new()),
        })
    }

    /// Runs pending embedded migrations under a PostgreSQL advisory lock (`pg_advisory_lock`
    /// with a fixed key) so several server processes starting at once do not race; returns
    /// the versions applied. Blocking: callers run it before serving or inside
    /// `spawn_blocking`.
    ///
    /// Each migration runs in its own transaction. A process that waited for the lock
    /// finds the migrations already applied and returns an empty list.
    pub fn run_migrations(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self
            .pool
            .get()
            .context("cannot reach the database to run migrations")?;
        advisory_lock(&mut conn, "pg_advisory_lock").context("cannot take the migration lock")?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| anyhow!(e));
        // Unlock whatever happened. Should this fail, the connection is most likely gone,
        // and the server released the lock with the session. (A panic in between drops the
        // connection from the pool, which also ends the session.)
        let unlocked = advisory_lock(&mut conn, "pg_advisory_unlock");
        let applied = applied.context("running database migrations failed")?;
        unlocked.context("cannot release the migration lock")?;
        Ok(applied)
    }

    /// [`PgStore::with_conn`] in a search's turn (`PoolOptions::search_concurrency`).
    async fn with_search_turn<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    {
        // The semaphore is never closed.
        let _turn = self.searches.acquire().await.map_err(|e| {
            StoreError::Unexpected(anyhow!(e).context("the searches' turns are closed"))
        })?;
        self.with_conn(f).await
    }

    /// Runs `f` with a pooled connection on tokio's blocking threads.
    async fn with_conn<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        blocking(move || f(&mut *checkout(&pool)?)).await
    }
}

/// A connection of `pool`; `Unavailable` when none comes within its checkout timeout.
pub(crate) fn checkout(pool: &Pool) -> Result<r2d2::PooledConnection<pool::Manager>, StoreError> {
    pool.get()
        .map_err(|e| StoreError::Unavailable(anyhow!(e).context("no database connection")))
}

/// Runs `f` on a blocking thread.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Unexpected(anyhow!(e).context("database task failed")))?
}

/// Calls `pg_advisory_lock` or `pg_advisory_unlock` on the migration key.
fn advisory_lock(conn: &mut PgConnection, function: &str) -> QueryResult<usize> {
    diesel::sql_query(format!("SELECT {function}($1)"))
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)
}

/// The longest a readiness ping waits for a pooled connection: a probe is answered well
/// within a second, whatever the pool's checkout timeout. A pool busy that long with
/// requests reads as not ready, too.
const PING_CHECKOUT: Duration = Duration::from_millis(500);

/// The unique index or constraint names that stand for an input field, and that field.
const DUPLICATE_FIELDS: &[(&str, &str)] = &[
    ("users_account_email_key", "email"),
    ("users_account_external_id_key", "external_id"),
];

/// The foreign keys whose violation means the addressed parent does not exist (in the
/// account: the composite keys of tenant tables also refuse another account's row).
const MISSING_PARENT_KEYS: &[&str] = &[
    "users_account_id_fkey",
    "rooms_account_id_fkey",
    "room_members_account_id_room_id_fkey",
    "room_members_account_id_user_id_fkey",
    "messages_account_id_room_id_fkey",
    // Deferred: reported by the commit of the transaction that inserted the message.
    "messages_account_id_sender_user_id_fkey",
    "presence_sessions_account_id_fkey",
    "presence_sessions_account_id_room_id_fkey",
    "presence_sessions_account_id_user_id_fkey",
];

/// The one translation of diesel errors into the ports' [`StoreError`].
///
/// A unique violation of an index that no input field stands for (say, two tokens with
/// the same hash) is `Unexpected`: the caller could not have avoided it.
pub(crate) fn translate(error: DieselError) -> StoreError {
    if connection_lost(&error) {
        return StoreError::Unavailable(error.into());
    }
    match &error {
        DieselError::NotFound => StoreError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let field = info.constraint_name().and_then(|name| {
                DUPLICATE_FIELDS
                    .iter()
                    .find(|(constraint, _)| *constraint == name)
                    .map(|(_, field)| *field)
            });
            match field {
                Some(field) => StoreError::Duplicate(field),
                None => StoreError::Unexpected(error.into()),
            }
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info)
            if info
                .constraint_name()
                .is_some_and(|name| MISSING_PARENT_KEYS.contains(&name)) =>
        {
            StoreError::NotFound
        }
        _ => StoreError::Unexpected(error.into()),
    }
}

/// Why a transaction rolled back: a database error, or a rule of a port (a limit) found
/// inside it.
pub(crate) enum Rollback {
    Database(DieselError),
    /// A rule of the port (a limit), or a value out of range.
    Store(StoreError),
}

impl From<DieselError> for Rollback {
    fn from(error: DieselError) -> Self {
        Rollback::Database(error)
    }
}

impl Rollback {
    /// The port's error: database errors through the one `translate`.
    pub(crate) fn into_store(self) -> StoreError {
        match self {
            Rollback::Database(error) => translate(error),
            Rollback::Store(error) => error,
        }
    }
}

/// Whether `error` means the connection (or the server) went away.
pub(crate) fn connection_lost(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        DieselError::RollbackErrorOnCommit { commit_error, .. } => connection_lost(commit_error),
        _ => false,
    }
}

/// The error for a stored value that the domain does not accept.
pub(crate) fn corrupt(what: &str, id: impl fmt::Display, problem: impl fmt::Display) -> StoreError {
    StoreError::Unexpected(anyhow!("stored {what} {id} is not valid: {problem}"))
}

/// `search` as an `ILIKE` pattern matching it anywhere, its own `%`, `_` and `\` taken
/// literally. Backslash is PostgreSQL's default `LIKE` escape character (independent of
/// `standard_conforming_strings`, and the pattern is a bound parameter anyway).
pub(crate) fn contains_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in search.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
impl StoreHealth for PgStore {
    /// Waits at most 500 ms for a connection (or the pool's own timeout, if
    /// shorter), not the pool's checkout timeout that requests wait.
    async fn ping(&self) -> Result<(), StoreError> {
        let pool = self.pool.clone();
        let wait = PING_CHECKOUT.min(pool.connection_timeout());
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get_timeout(wait).map_err(|e| {
                StoreError::Unavailable(anyhow!(e).context("no database connection"))
            })?;
            diesel::sql_query("SELECT 1")
                .execute(&mut **conn)
                .map(drop)
                // Whatever went wrong, the database did not answer as it should.
                .map_err(|e| StoreError::Unavailable(e.into()))
        })
        .await
        .map_err(|e| StoreError::Unexpected(anyhow!(e).context("database task failed")))?
    }

    fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max_size: self.pool.max_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailable_and_unknown_ones_unexpected() {
        let closed = DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection".to_owned()),
        );
        assert!(matches!(translate(closed), StoreError::Unavailable(_)));
        assert!(matches!(
            translate(DieselError::BrokenTransactionManager),
            StoreError::Unavailable(_)
        ));
        let commit = DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(DieselError::BrokenTransactionManager),
            commit_error: Box::new(DieselError::DatabaseError(
                DatabaseErrorKind::UnableToSendCommand,
                Box::new("no connection".to_owned()),
            )),
        };
        assert!(matches!(translate(commit), StoreError::Unavailable(_)));
        assert!(matches!(
            translate(DieselError::NotFound),
            StoreError::NotFound
        ));
        let check = DieselError::DatabaseError(
            DatabaseErrorKind::CheckViolation,
            Box::new("check".to_owned()),
        );
        assert!(matches!(translate(check), StoreError::Unexpected(_)));
        // A unique violation without a known constraint name names no input field.
        let unique = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key".to_owned()),
        );
        assert!(matches!(translate(unique), StoreError::Unexpected(_)));
    }

    #[test]
    fn search_text_is_matched_literally_anywhere() {
        assert_eq!(contains_pattern("sales"), "%sales%");
        assert_eq!(contains_pattern("100%"), "%100\\%%");
        assert_eq!(contains_pattern("a_b"), "%a\\_b%");
        assert_eq!(contains_pattern("C:\\dir"), "%C:\\\\dir%");
        assert_eq!(contains_pattern("%_\\"), "%\\%\\_\\\\%");
        assert_eq!(contains_pattern("été"), "%été%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn out_of_range_options_are_refused_instead_of_panicking() {
        let url = "postgres://127.0.0.1:1/none";
        let zero_size = PoolOptions {
            max_size: 0,
            ..PoolOptions::default()
        };
        assert!(PgStore::connect(url, zero_size).is_err());
        let zero_timeout = PoolOptions {
            connect_timeout: Duration::ZERO,
            ..PoolOptions::default()
        };
        assert!(PgStore::connect(url, zero_timeout).is_err());
    }

    #[test]
    fn debug_output_hides_the_url() {
        let store = PgStore::connect(
            "postgres://user:hunter2@127.0.0.1:1/db",
            PoolOptions::default(),
        );
        let printed = format!("{store:?}");
        assert!(printed.contains("PgStore"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
