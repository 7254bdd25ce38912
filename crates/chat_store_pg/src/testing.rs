//! What the crate's own tests share: a fresh database with every migration.

use chat_test_db::{Migrations, TestDatabase};

use crate::{PgStore, PoolOptions};

fn migrate(url: &str) -> Result<(), String> {
    let store = PgStore::connect(url, PoolOptions::default()).map_err(|e| format!("{e:#}"))?;
    store
        .run_migrations()
        .map(drop)
        .map_err(|e| format!("{e:#}"))
}

/// A fresh database with every migration of `migrations/` (a clone of the template).
pub(crate) fn migrated_database() -> TestDatabase {
    TestDatabase::migrated(&Migrations {
        dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"),
        apply: migrate,
    })
}
