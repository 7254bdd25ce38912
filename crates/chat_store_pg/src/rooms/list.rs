//! A list of rooms: one page and its total, in one statement.
//!
//! The total never counts the account's rooms: without a search or a member, it is read
//! from `account_room_counts`, which triggers on `rooms` keep exact (all rooms, or the
//! active ones); with a member alone, it counts the member's memberships (an index-only
//! range of the (account_id, user_id, room_id) index, as long as the member's rooms). Only
//! a search, or a member with `is_active`, counts the rooms that pass, as the page has to
//! find them too. The statement is one snapshot, so the total always agrees with the page,
//! and one round trip: no transaction around two statements.
//!
//! With a viewer, each room of the page comes with the viewer's unread counts, from the
//! viewer's membership: the one the member filter joins already when the viewer is the
//! member (a user's own list), else one primary-key lookup per room of the page.

use chat_app::{RoomFilter, RoomSort, StoreError, Unread};
use chat_domain::{AccountId, UserId};
use diesel::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};

use super::rows::RoomRow;
use crate::prepared::Binds;
use crate::session::with_custom_plans;
use crate::{contains_pattern, translate};

/// The columns of [`RoomRow`].
const COLUMNS: &str = "r.id, r.uuid, r.account_id, r.name, r.description, r.meta, \
    r.is_active, r.member_count, r.message_count, r.last_message_at, r.created_at, \
    r.updated_at, r.avatar_key";

/// A row of the statement: the total, and one room of the page, or none (`NULL`s) when the
/// page is empty, so that the total comes back even then.
#[derive(QueryableByName)]
struct Listed {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(embed)]
    room: Option<RoomRow>,
    /// The viewer's unread messages; `NULL` without a viewer or a membership.
    #[diesel(sql_type = Nullable<BigInt>)]
    unread_messages: Option<i64>,
    /// The viewer's unread mentions; `NULL` likewise.
    #[diesel(sql_type = Nullable<Integer>)]
    unread_mentions: Option<i32>,
}

/// The page of the rooms of `account` that pass `filter`, each with `viewer`'s unread
/// counts (zeros without one), and how many pass.
pub(super) fn list(
    conn: &mut PgConnection,
    account: AccountId,
    filter: &RoomFilter,
    viewer: Option<UserId>,
) -> Result<(Vec<(RoomRow, Unread)>, i64), StoreError> {
    let (sql, binds) = statement(account, filter, viewer);
    let statement = binds.into_statement(&sql);
    let rows: Vec<Listed> = if filter.search.is_some() {
        // Whether the trigram indexes help depends on the pattern.
        with_custom_plans(conn, |conn| statement.load(conn))
    } else {
        statement.load(conn)
    }
    .map_err(translate)?;
    let total = rows.first().map_or(0, |row| row.total);
    let page = rows.into_iter().filter_map(|row| {
        let unread = Unread {
            messages: row.unread_messages.unwrap_or(0),
            mentions: row.unread_mentions.map_or(0, i64::from),
        };
        row.room.map(|room| (room, unread))
    });
    Ok((page.collect(), total))
}

/// The order of `sort` over the alias `table`: every order is total (ties broken by id, in
/// the same direction) and served by an index on (account_id, …).
fn order(sort: RoomSort, table: &str) -> String {
    let (column, direction) = match sort {
        RoomSort::NameAsc => ("name", "ASC"),
        RoomSort::NameDesc => ("name", "DESC"),
        RoomSort::CreatedAsc => ("created_at", "ASC"),
        RoomSort::CreatedDesc => ("created_at", "DESC"),
        RoomSort::RecentActivity => ("last_message_at", "DESC"),
    };
    format!("{table}.{column} {direction}, {table}.id {direction}")
}

/// The statement of a list, and its values. Its text depends only on which filters are
/// present, on the order and on whose unread counts (at most 120 texts, each prepared once
/// per connection); every value is bound.
fn statement(account: AccountId, filter: &RoomFilter, viewer: Option<UserId>) -> (String, Binds) {
    let mut binds = Binds::new();
    let account = binds.bind::<BigInt, _>(account.0);
    let mut from = "rooms r".to_owned();
    let mut filters = format!("r.account_id = {account}");
    let member = filter.member.map(|member| {
        let member = binds.bind::<BigInt, _>(member.0);
        // At most one membership per room and user (the primary key): a join repeats no
        // room.
        from.push_str(&format!(
            " JOIN room_members m ON m.room_id = r.id AND m.account_id = r.account_id \
              AND m.user_id = {member}"
        ));
        member
    });
    if let Some(search) = &filter.search {
        let pattern = binds.bind::<Text, _>(contains_pattern(search));
        // Served by the trigram GIN indexes on name and description.
        filters.push_str(&format!(
            " AND (r.name ILIKE {pattern} OR r.description ILIKE {pattern})"
        ));
    }
    let active = filter.is_active.map(|active| {
        let active = binds.bind::<Bool, _>(active);
        filters.push_str(&format!(" AND r.is_active = {active}"));
        active
    });
    let total = match (&filter.search, member, active) {
        (None, None, None) => {
            format!("SELECT c.rooms FROM account_room_counts c WHERE c.account_id = {account}")
        }
        (None, None, Some(active)) => format!(
            "SELECT CASE WHEN {active} THEN c.active_rooms ELSE c.rooms - c.active_rooms END \
             FROM account_room_counts c WHERE c.account_id = {account}"
        ),
        // Every membership's room is a room of its account (the foreign key).
        (None, Some(member), None) => format!(
            "SELECT count(*) FROM room_members m \
             WHERE m.account_id = {account} AND m.user_id = {member}"
        ),
        (Some(_), _, _) | (None, Some(_), Some(_)) => {
            format!("SELECT count(*) FROM {from} WHERE {filters}")
        }
    };
    // The viewer's counts: from the member filter's membership when it is theirs, else
    // from their membership of each room of the page, looked up after the page is cut.
    let (inner_unread, join_viewer, outer_unread) = match viewer {
        None => (
            String::new(),
            String::new(),
            ", NULL::bigint AS unread_messages, NULL::integer AS unread_mentions",
        ),
        Some(viewer) if filter.member == Some(viewer) => (
            ", greatest(r.last_seq - m.last_read_seq, 0) AS unread_messages, \
             m.unread_mentions AS unread_mentions"
                .to_owned(),
            // p.* carries them.
            String::new(),
            "",
        ),
        Some(viewer) => {
            let viewer = binds.bind::<BigInt, _>(viewer.0);
            (
                ", r.last_seq".to_owned(),
                format!(
                    " LEFT JOIN room_members v ON v.room_id = p.id \
                      AND v.account_id = p.account_id AND v.user_id = {viewer}"
                ),
                ", greatest(p.last_seq - v.last_read_seq, 0) AS unread_messages, \
                 v.unread_mentions AS unread_mentions",
            )
        }
    };
    let limit = binds.bind::<BigInt, _>(filter.window.limit);
    let offset = binds.bind::<BigInt, _>(filter.window.offset);
    // An account without its counts row has no rooms: 0, as a count would say.
    let sql = format!(
        "SELECT coalesce(({total}), 0) AS total, p.*{outer_unread} \
         FROM (SELECT {COLUMNS}{inner_unread} FROM {from} WHERE {filters} \
               ORDER BY {inner} LIMIT {limit} OFFSET {offset}) p{join_viewer} \
         RIGHT JOIN (SELECT) one ON true \
         ORDER BY {outer}",
        inner = order(filter.sort, "r"),
        outer = order(filter.sort, "p"),
    );
    (sql, binds)
}

#[cfg(test)]
mod tests {
    use chat_app::Window;
    use chat_domain::UserId;
    use chat_test_db::TestDatabase;
    use diesel::sql_types::Text;
    use diesel::{Connection, QueryableByName};

    use super::*;

    /// A database with every migration, 3,000 rooms in account 1 (one in three inactive,
    /// varied names and descriptions), 500 in account 2, and user 1 of account 1 a member
    /// of 200 of them; analyzed, as autovacuum would.
    fn database() -> (TestDatabase, PgConnection) {
        let db = crate::testing::migrated_database();
        let mut conn =
            PgConnection::establish(db.url()).unwrap_or_else(|e| panic!("the test database: {e}"));
        for sql in [
            "INSERT INTO accounts (name) VALUES ('one'), ('two')",
            "INSERT INTO users (account_id, name, role) VALUES (1, 'Ada', 'agent')",
            "INSERT INTO rooms (account_id, name, description, is_active) \
             SELECT 1 + (i > 3000)::int, 'Room ' || md5(i::text), 'About ' || md5((i * 7)::text), \
                    i % 3 <> 0 \
             FROM generate_series(1, 3500) AS i",
            "INSERT INTO room_members (account_id, room_id, user_id) \
             SELECT 1, id, 1 FROM rooms WHERE account_id = 1 AND id % 15 = 0",
            "VACUUM ANALYZE",
            // As a guard against a plan that merely happens to be cheaper on so small a
            // table (the plans of the counts and of a member's list are also those the
            // planner picks on its own at 1,000,000 rooms).
            "SET enable_seqscan = off",
        ] {
            diesel::sql_query(sql)
                .execute(&mut conn)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        (db, conn)
    }

    #[derive(QueryableByName)]
    struct PlanLine {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }

    /// The plan of the list statement for `filter`, with its values bound.
    fn plan_of(conn: &mut PgConnection, filter: &RoomFilter) -> String {
        let (sql, binds) = statement(AccountId(1), filter, None);
        let lines: Vec<PlanLine> = binds
            .into_statement(&format!("EXPLAIN {sql}"))
            .load(conn)
            .unwrap_or_else(|e| panic!("EXPLAIN {sql}: {e}"));
        lines
            .into_iter()
            .map(|line| line.line)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn filter(search: Option<&str>, is_active: Option<bool>, member: Option<i64>) -> RoomFilter {
        RoomFilter {
            search: search.map(str::to_owned),
            is_active,
            member: member.map(UserId),
            sort: RoomSort::CreatedDesc,
            window: Window::new(0, 50, Window::MAX_LIMIT)
                .unwrap_or_else(|e| panic!("a valid window: {e:?}")),
        }
    }

    /// How many times the plan reads `rooms` (each scan of it names it `on rooms`).
    fn reads_of_rooms(plan: &str) -> usize {
        plan.matches(" on rooms ").count()
    }

    #[test]
    fn without_a_search_or_a_member_the_total_is_read_not_counted() {
        let (_db, mut conn) = database();
        for is_active in [None, Some(true), Some(false)] {
            let plan = plan_of(&mut conn, &filter(None, is_active, None));
            assert!(plan.contains("account_room_counts_pkey"), "{plan}");
            assert!(!plan.contains("Aggregate"), "{plan}");
            // The page alone reads rooms, along its index.
            assert_eq!(reads_of_rooms(&plan), 1, "{plan}");
            assert!(plan.contains("rooms_account_created_idx"), "{plan}");
        }
    }

    #[test]
    fn a_members_total_counts_their_memberships_only() {
        let (_db, mut conn) = database();
        let plan = plan_of(&mut conn, &filter(None, None, Some(1)));
        assert!(
            plan.contains("Index Only Scan using room_members_account_user_idx"),
            "{plan}"
        );
        // The page reads the member's rooms; the total reads no room.
        assert_eq!(reads_of_rooms(&plan), 1, "{plan}");
        // With is_active, it must read the rooms to count them.
        let plan = plan_of(&mut conn, &filter(None, Some(true), Some(1)));
        assert_eq!(reads_of_rooms(&plan), 2, "{plan}");
    }

    #[test]
    fn a_search_is_served_by_the_trigram_indexes_for_the_page_and_the_total() {
        let (_db, mut conn) = database();
        let plan = plan_of(&mut conn, &filter(Some("needle"), None, None));
        assert_eq!(plan.matches("rooms_name_trgm_idx").count(), 2, "{plan}");
        assert_eq!(
            plan.matches("rooms_description_trgm_idx").count(),
            2,
            "{plan}"
        );
    }
}
