//! A throw-away PostgreSQL database per test, dropped when the test ends: empty
//! ([`TestDatabase::new`]), or with the schema already in place
//! ([`TestDatabase::migrated`]).
//!
//! Tests run in parallel, each in its own database, on the server named by the
//! `DATABASE_URL` environment variable (default [`DEFAULT_DATABASE_URL`]). A migrated
//! database is a clone (`CREATE DATABASE … TEMPLATE`) of a template migrated once per test
//! run, across the processes of the run (nextest runs each test in its own): see
//! `template`. This crate does not know the migrations: the caller names their folder
//! and the step that applies them ([`Migrations`]). Databases are dropped with
//! `DROP DATABASE … WITH (FORCE)`, so connections left open by the test do not keep them
//! alive.

// Test-only: a missing server should stop the test at once, with a clear message.
#![allow(clippy::expect_used, clippy::panic)]

mod conninfo;
mod template;

use std::fmt;

use diesel::{Connection, PgConnection, RunQueryDsl};

pub use crate::template::Migrations;

use crate::conninfo::{plain, with_database};

/// The server used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for as long as this value does.
pub struct TestDatabase {
    name: String,
    /// The server's URL (without encryption), used to create and drop the database.
    admin_url: String,
    url: String,
}

impl TestDatabase {
    /// Creates an empty `chat_test_<uuid>` on the server of `DATABASE_URL`: for tests of
    /// the migrations themselves, or that need no schema.
    ///
    /// # Panics
    /// When the server cannot be reached or refuses to create the database.
    pub fn new() -> Self {
        Self::create(|conn, name| {
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(conn)
                .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        })
    }

    /// Creates `chat_test_<uuid>` with every migration of `migrations` applied, as a clone
    /// of their template (built first when this is the run's first test to need it).
    ///
    /// # Panics
    /// When the server cannot be reached or refuses, or the migrations fail.
    pub fn migrated(migrations: &Migrations) -> Self {
        let template = migrations.template_name();
        Self::create(|conn, name| {
            template::clone_into(conn, &admin_url(), &template, name, migrations);
        })
    }

    fn create(make: impl FnOnce(&mut PgConnection, &str)) -> Self {
        let admin_url = admin_url();
        let name = format!("chat_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
            panic!(
                "cannot connect to the PostgreSQL server of DATABASE_URL \
                 (or {DEFAULT_DATABASE_URL} when unset) to create a test database: {e}"
            )
        });
        make(&mut conn, &name);
        let url = plain(&with_database(&admin_url, &name));
        Self {
            name,
            admin_url,
            url,
        }
    }

    /// The URL of the new database: the server's URL with the database replaced, and
    /// `sslmode=disable` and `gssencmode=disable` unless it chooses them (see
    /// `conninfo::plain`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The new database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database now, closing every connection to it: lets a test watch a
    /// server lose its database. Dropping the value afterwards does nothing more.
    ///
    /// # Panics
    /// When the server refuses.
    pub fn drop_now(&self) {
        self.try_drop()
            .unwrap_or_else(|e| panic!("cannot drop test database {}: {e}", self.name));
    }

    fn try_drop(&self) -> Result<(), String> {
        let mut conn = PgConnection::establish(&self.admin_url).map_err(|e| e.to_string())?;
        diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .map(drop)
        .map_err(|e| e.to_string())
    }
}

/// The server's maintenance URL: `DATABASE_URL` (or the default), without encryption.
fn admin_url() -> String {
    plain(&std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned()))
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password.
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Err(e) = self.try_drop() {
            eprintln!(
                "chat_test_db: could not drop test database {}: {e}",
                self.name
            );
        }
    }
}
