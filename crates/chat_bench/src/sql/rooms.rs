//! Direct SQL for the room-list row: an account's rooms grown in bulk.

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::BigInt;

/// Gives the account rooms `from + 1 ..= to` (named by their number) in one statement, then
/// refreshes the planner's statistics. The triggers of `rooms` keep the account's room
/// counts, as they do for rooms made through the API. Answers the rooms added.
pub fn add_rooms(conn: &mut PgConnection, account: i64, from: i64, to: i64) -> anyhow::Result<i64> {
    let added = conn
        .transaction::<_, anyhow::Error, _>(|conn| {
            conn.batch_execute("SET LOCAL synchronous_commit = off")?;
            let added = sql_query(
                "INSERT INTO rooms (account_id, name) \
                 SELECT $1, 'scale room ' || n FROM generate_series($2 + 1, $3) AS n",
            )
            .bind::<BigInt, _>(account)
            .bind::<BigInt, _>(from)
            .bind::<BigInt, _>(to)
            .execute(conn)?;
            Ok(added as i64)
        })
        .context("adding rooms in bulk")?;
    conn.batch_execute("VACUUM ANALYZE rooms")
        .context("VACUUM ANALYZE rooms")?;
    Ok(added)
}
