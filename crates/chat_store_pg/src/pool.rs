//! The connection pool's manager: diesel's, with a connection tested on checkout only
//! when it has sat idle.
//!
//! r2d2 tests every connection it hands out (`test_on_check_out`); diesel's test is a
//! `SELECT 1` round trip, one more statement for every request (a send checked out two
//! connections, so two). A connection returned a moment ago was working a moment ago: it
//! is handed out as it is. One idle for longer than [`TESTED_AFTER`] (the database may have
//! restarted, or a proxy dropped it) is tested as before. A connection found lost in use is
//! not returned to the pool: r2d2 asks [`ManageConnection::has_broken`] on every return, and
//! diesel answers yes once libpq no longer knows the connection's transaction state (as
//! after a closed connection). So the cost of not testing is at most one failed call for a
//! connection the server closed within the last second, answered `Unavailable` like any
//! lost connection.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::r2d2::{ConnectionManager, Error, ManageConnection};

use crate::session;

/// How long a connection may sit in the pool and still be handed out without a test.
pub(crate) const TESTED_AFTER: Duration = Duration::from_secs(1);

/// diesel's manager, skipping the checkout test for connections used within
/// [`TESTED_AFTER`]. (No `Debug`: it holds the database URL, which may carry a password.)
pub(crate) struct Manager {
    diesel: ConnectionManager<PgConnection>,
}

impl Manager {
    pub(crate) fn new(database_url: &str) -> Self {
        Self {
            diesel: ConnectionManager::new(database_url),
        }
    }
}

/// A pooled PostgreSQL connection and when it was last returned to the pool.
pub(crate) struct Connection {
    pg: PgConnection,
    returned: Instant,
}

impl Deref for Connection {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.pg
    }
}

impl DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.pg
    }
}

impl ManageConnection for Manager {
    type Connection = Connection;
    type Error = Error;

    /// A new connection, set up for the store (generic plans: see [`session`]).
    fn connect(&self) -> Result<Connection, Error> {
        let mut pg = self.diesel.connect()?;
        session::configure(&mut pg).map_err(Error::QueryError)?;
        Ok(Connection {
            pg,
            returned: Instant::now(),
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), Error> {
        if conn.returned.elapsed() < TESTED_AFTER {
            return Ok(());
        }
        self.diesel.is_valid(&mut conn.pg)
    }

    /// Called by r2d2 on every return: the moment [`is_valid`](Self::is_valid) counts from.
    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.returned = Instant::now();
        self.diesel.has_broken(&mut conn.pg)
    }
}

#[cfg(test)]
mod tests {
    use chat_test_db::TestDatabase;
    use diesel::sql_types::Text;
    use diesel::{QueryableByName, RunQueryDsl};

    use super::*;

    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        mode: String,
    }

    #[test]
    fn the_pools_connections_plan_each_statement_once() {
        let db = TestDatabase::new();
        let manager = Manager::new(db.url());
        let mut conn = manager
            .connect()
            .unwrap_or_else(|e| panic!("the test database: {e}"));
        let mode: Mode = diesel::sql_query("SELECT current_setting('plan_cache_mode') AS mode")
            .get_result(&mut *conn)
            .unwrap_or_else(|e| panic!("the setting: {e}"));
        assert_eq!(mode.mode, "force_generic_plan");
    }
}
