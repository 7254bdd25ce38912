//! The test servers' databases: clones of a template migrated once per test run (see
//! `chat_test_db`).

use std::time::Duration;

use chat_store_pg::{PgStore, PoolOptions};
use chat_test_db::{Migrations, TestDatabase};

/// The server's migrations: the files of `migrations/`, applied as the server applies
/// them.
pub const MIGRATIONS: Migrations = Migrations {
    dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations"),
    apply: migrate,
};

fn migrate(url: &str) -> Result<(), String> {
    let options = PoolOptions {
        max_size: 1,
        connect_timeout: Duration::from_secs(10),
        ..PoolOptions::default()
    };
    let store = PgStore::connect(url, options).map_err(|e| format!("{e:#}"))?;
    store
        .run_migrations()
        .map(drop)
        .map_err(|e| format!("{e:#}"))
}

/// A fresh database of its own with every migration applied.
pub fn migrated_database() -> TestDatabase {
    TestDatabase::migrated(&MIGRATIONS)
}

/// Runs `sql` on the database at `url` with `psql` (for checks of what is stored, and
/// to age rows); answers what it printed, unaligned, one row a line.
pub fn run_sql(url: &str, sql: &str) -> String {
    let output = std::process::Command::new("psql")
        .args(["-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql, url])
        .output()
        .unwrap_or_else(|e| panic!("psql could not be run: {e}"));
    assert!(
        output.status.success(),
        "psql failed on {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
