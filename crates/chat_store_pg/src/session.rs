//! The settings of every connection the store works on, and the statements that opt out.
//!
//! **Generic plans.** A statement the store prepares (diesel's cache, [`crate::prepared`])
//! is planned for its bound values on each of its first five executions; PostgreSQL then
//! keeps one generic plan only if it looks no dearer than those (`plan_cache_mode = auto`).
//! The send statement never passed that test: planned for its values, its empty mention
//! and file arrays make it look cheaper than a plan for any arrays, so it was planned again
//! on every send, ~2 ms of PostgreSQL's CPU against ~1 ms to run it. The newest-50 page was
//! planned again on every read as well (~0.2 ms of ~0.4). Every connection of the store
//! therefore runs `plan_cache_mode = force_generic_plan`: each statement is planned once per
//! connection (docs/decisions.md, "Generic plans").
//!
//! A generic plan knows no value, so it cannot judge how many rows a pattern matches. The
//! statements whose best plan depends on their values — an `ILIKE` search of rooms, users
//! or message texts, whose trigram index helps only for some patterns — run in
//! [`with_custom_plans`], planned for their values as before. Nothing else is planned
//! for its values: every other statement reads by key (account, room, seq, id) or by
//! a range of one.

use diesel::connection::SimpleConnection;
use diesel::result::Error as DieselError;
use diesel::{Connection, PgConnection};

/// What every connection of the store runs once, when opened.
const SESSION: &str = "SET plan_cache_mode = force_generic_plan";

/// What [`with_custom_plans`] runs first, inside its transaction.
const CUSTOM_PLANS: &str = "SET LOCAL plan_cache_mode = auto";

/// Applies [`SESSION`] to `conn`: for the pool's connections (as they are opened) and for
/// the benchmark's own (its limits run the store's statements as the server does).
pub(crate) fn configure(conn: &mut PgConnection) -> Result<(), DieselError> {
    conn.batch_execute(SESSION)
}

/// Runs `f` in a transaction (a savepoint inside one already open) whose statements are
/// planned for their values, as PostgreSQL's default would: for the statements whose best
/// plan depends on a value (see the module's documentation). The setting ends with the
/// transaction, committed or not.
pub(crate) fn with_custom_plans<T, E>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DieselError>,
{
    conn.transaction(|conn| {
        plan_for_values(conn)?;
        f(conn)
    })
}

/// Inside a transaction of the caller's: its statements from here on are planned for their
/// values, until it ends ([`with_custom_plans`] opens one).
pub(crate) fn plan_for_values(conn: &mut PgConnection) -> Result<(), DieselError> {
    conn.batch_execute(CUSTOM_PLANS)
}

#[cfg(test)]
mod tests {
    use chat_test_db::TestDatabase;
    use diesel::sql_types::Text;
    use diesel::{QueryableByName, RunQueryDsl, sql_query};

    use super::*;

    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        plan_cache_mode: String,
    }

    fn mode(conn: &mut PgConnection) -> Result<String, DieselError> {
        Ok(
            sql_query("SELECT current_setting('plan_cache_mode') AS plan_cache_mode")
                .get_result::<Setting>(conn)?
                .plan_cache_mode,
        )
    }

    #[test]
    fn custom_plans_last_for_their_transaction_only() -> anyhow::Result<()> {
        let db = TestDatabase::new();
        let mut conn = PgConnection::establish(db.url())?;
        configure(&mut conn)?;
        assert_eq!(mode(&mut conn)?, "force_generic_plan");
        let inside = with_custom_plans(&mut conn, mode)?;
        assert_eq!(inside, "auto");
        assert_eq!(mode(&mut conn)?, "force_generic_plan");
        // A failed statement rolls the setting back with the transaction.
        let failed: Result<String, DieselError> = with_custom_plans(&mut conn, |conn| {
            sql_query("SELECT 1 / 0 AS plan_cache_mode").get_result::<Setting>(conn)?;
            mode(conn)
        });
        assert!(failed.is_err());
        assert_eq!(mode(&mut conn)?, "force_generic_plan");
        // Inside a transaction of the caller's, a savepoint; the caller's statements after
        // it are planned for their values until the caller's transaction ends.
        let modes = conn.transaction(|conn| {
            let inner = with_custom_plans(conn, mode)?;
            Ok::<_, DieselError>((inner, mode(conn)?))
        })?;
        assert_eq!(modes, ("auto".to_owned(), "auto".to_owned()));
        assert_eq!(mode(&mut conn)?, "force_generic_plan");
        Ok(())
    }
}
