//! Who belongs to which room ([`MemberStore`]).
//!
//! Every change runs in one transaction that first locks the room row, then changes
//! `room_members` and keeps `rooms.member_count` exact. Changes to one room therefore run
//! one after the other, and a capacity limit checked inside the transaction holds against
//! concurrent callers. Every query is scoped by `account_id`: a room of another account is
//! not found, and a user of another account fails the composite foreign key (not found).

use std::collections::HashSet;

use async_trait::async_trait;
use chat_app::{MemberChange, MemberStore, StoreError, Window};
use chat_domain::{
    AccountId, ExternalId, MemberMeta, Membership, PersonName, RoomId, User, UserId, WebhookEvent,
};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::schema::{room_members, rooms, users};
use crate::users::{UserRow, upsert_external_user};
use crate::webhooks::record::{Recorded, record_event};
use crate::{PgStore, Rollback, corrupt, translate};

/// A new membership. `joined_at` comes from its `clock_timestamp()` default.
#[derive(Insertable)]
#[diesel(table_name = room_members)]
pub(crate) struct NewMemberRow<'a> {
    pub(crate) account_id: i64,
    pub(crate) room_id: i64,
    pub(crate) user_id: i64,
    pub(crate) meta: &'a Value,
}

/// One membership with its user, as `list_memberships` and `find_membership` read it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = room_members, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MembershipRow {
    room_id: i64,
    #[diesel(embed)]
    user: UserRow,
    joined_at: OffsetDateTime,
    meta: Value,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;

    fn try_from(row: MembershipRow) -> Result<Self, StoreError> {
        let user = User::try_from(row.user)?;
        let what = format!("membership of user {} in room", user.id.0);
        let meta = match row.meta {
            Value::Object(object) => {
                MemberMeta::parse(object).map_err(|e| corrupt(&what, row.room_id, e))?
            }
            other => {
                return Err(corrupt(
                    &what,
                    row.room_id,
                    format_args!("meta is not an object but {other}"),
                ));
            }
        };
        Ok(Membership {
            user,
            joined_at: row.joined_at,
            meta,
        })
    }
}

/// Locks the account's room row until the transaction ends, and reads its member count.
/// `FOR NO KEY UPDATE` is the lock the `member_count` update takes anyway: it serialises
/// membership changes (and waits for a room being deleted), but not the foreign-key checks
/// of rows that merely reference the room. `NotFound` when the account has no such room.
fn lock_room(conn: &mut PgConnection, account: AccountId, room: RoomId) -> QueryResult<i32> {
    rooms::table
        .filter(rooms::account_id.eq(account.0))
        .filter(rooms::id.eq(room.0))
        .select(rooms::member_count)
        .for_no_key_update()
        .first(conn)
}

/// Stores the room's member count (the row is locked by [`lock_room`]).
fn set_member_count(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    count: i64,
) -> Result<(), Rollback> {
    let count = i32::try_from(count).map_err(|_| {
        Rollback::Store(StoreError::Unexpected(anyhow::anyhow!(
            "room {} would have {count} members",
            room.0
        )))
    })?;
    diesel::update(
        rooms::table
            .filter(rooms::account_id.eq(account.0))
            .filter(rooms::id.eq(room.0)),
    )
    .set(rooms::member_count.eq(count))
    .execute(conn)?;
    Ok(())
}

/// Inserts the memberships of those of `users` who are not members yet, with `meta`; the
/// users inserted, in the order given. One statement per user, so that `joined_at`
/// (`clock_timestamp()`, read when each row is inserted) increases in the order given:
/// a single multi-row insert may give several rows the same microsecond, and the join
/// order would then fall back to user ids. A user who is not the account's fails
/// `room_members_account_id_user_id_fkey` (not found), which aborts the transaction.
fn insert_members(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    users: &[UserId],
    meta: &Value,
) -> QueryResult<Vec<UserId>> {
    let mut added = Vec::new();
    for user in users {
        let inserted = diesel::insert_into(room_members::table)
            .values(NewMemberRow {
                account_id: account.0,
                room_id: room.0,
                user_id: user.0,
                meta,
            })
            .on_conflict((room_members::room_id, room_members::user_id))
            .do_nothing()
            .returning(room_members::user_id)
            .get_result::<i64>(conn)
            .optional()?;
        added.extend(inserted.map(UserId));
    }
    Ok(added)
}

/// Records `event` (room.joined, room.left) for each of `users`, none when empty.
fn record_members(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomId,
    event: &str,
    users: &[UserId],
) -> QueryResult<()> {
    if !users.is_empty() {
        record_event(
            conn,
            &Recorded {
                users,
                ..Recorded::of_room(account, event, room)
            },
        )?;
    }
    Ok(())
}

/// Whether a room with `count` members breaks `limit`.
fn exceeds(limit: Option<u64>, count: i64) -> bool {
    limit.is_some_and(|limit| u64::try_from(count).is_ok_and(|count| count > limit))
}

/// The capacity rule of the port: a change that adds someone may not leave the room with
/// more than `limit` members. A change that adds nobody is never refused, even in a room
/// already past a limit lowered after its members joined.
fn check_limit(limit: Option<u64>, added: &[UserId], count: i64) -> Result<(), Rollback> {
    if !added.is_empty() && exceeds(limit, count) {
        return Err(Rollback::Store(StoreError::LimitReached));
    }
    Ok(())
}

/// `usize` to `i64`, for counts of rows that were just read or written.
fn count_of(n: usize) -> Result<i64, Rollback> {
    i64::try_from(n).map_err(|e| Rollback::Store(StoreError::Unexpected(e.into())))
}

/// The ids of `users` that are in `found`, in the order of `users`, each once.
pub(crate) fn in_given_order(users: &[UserId], found: &[i64]) -> Vec<UserId> {
    let mut found: HashSet<i64> = found.iter().copied().collect();
    users
        .iter()
        .filter(|user| found.remove(&user.0))
        .copied()
        .collect()
}

#[async_trait]
impl MemberStore for PgStore {
    async fn add_members(
        &self,
        account: AccountId,
        room: RoomId,
        users: Vec<UserId>,
        meta: MemberMeta,
        limit: Option<u64>,
    ) -> Result<MemberChange, StoreError> {
        let meta = Value::Object(meta.into_map());
        self.with_conn(move |conn| {
            conn.transaction(|conn| {
                let before = lock_room(conn, account, room)?;
                let added = insert_members(conn, account, room, &users, &meta)?;
                if added.is_empty() {
                    return Ok(MemberChange::default());
                }
                let after = i64::from(before) + count_of(added.len())?;
                check_limit(limit, &added, after)?;
                set_member_count(conn, account, room, after)?;
                record_members(
                    conn,
                    account,
                    room,
                    WebhookEvent::RoomJoined.as_str(),
                    &added,
                )?;
                Ok(MemberChange {
                    added,
                    removed: Vec::new(),
                })
            })
            .map_err(Rollback::into_store)
        })
        .await
    }

    async fn add_external_member(
        &self,
        account: AccountId,
        room: RoomId,
        external_id: ExternalId,
        name: PersonName,
        meta: MemberMeta,
        limit: Option<u64>,
    ) -> Result<(User, MemberChange), StoreError> {
        let meta = Value::Object(meta.into_map());
        self.with_conn(move |conn| {
            let (row, change) = conn
                .transaction(|conn| {
                    let before = lock_room(conn, account, room)?;
                    // Rolls back with the transaction when the room refuses.
                    let row = upsert_external_user(conn, account, &external_id, &name)?;
                    let user = [UserId(row.id)];
                    let added = insert_members(conn, account, room, &user, &meta)?;
                    if !added.is_empty() {
                        let after = i64::from(before) + count_of(added.len())?;
                        check_limit(limit, &added, after)?;
                        set_member_count(conn, account, room, after)?;
                        record_members(
                            conn,
                            account,
                            room,
                            WebhookEvent::RoomJoined.as_str(),
                            &added,
                        )?;
                    }
                    Ok((
                        row,
                        MemberChange {
                            added,
                            removed: Vec::new(),
                        },
                    ))
                })
                .map_err(Rollback::into_store)?;
            Ok((User::try_from(row)?, change))
        })
        .await
    }

    async fn remove_members(
        &self,
        account: AccountId,
        room: RoomId,
        users: Vec<UserId>,
    ) -> Result<MemberChange, StoreError> {
        let ids: Vec<i64> = users.iter().map(|user| user.0).collect();
        self.with_conn(move |conn| {
            conn.transaction(|conn| {
                let before = lock_room(conn, account, room)?;
                let deleted: Vec<i64> = diesel::delete(
                    room_members::table
                        .filter(room_members::account_id.eq(account.0))
                        .filter(room_members::room_id.eq(room.0))
                        .filter(room_members::user_id.eq_any(&ids)),
                )
                .returning(room_members::user_id)
                .get_results(conn)?;
                if deleted.is_empty() {
                    return Ok(MemberChange::default());
                }
                let after = i64::from(before) - count_of(deleted.len())?;
                set_member_count(conn, account, room, after)?;
                let removed = in_given_order(&users, &deleted);
                record_members(
                    conn,
                    account,
                    room,
                    WebhookEvent::RoomLeft.as_str(),
                    &removed,
                )?;
                Ok(MemberChange {
                    added: Vec::new(),
                    removed,
                })
            })
            .map_err(Rollback::into_store)
        })
        .await
    }

    async fn replace_members(
        &self,
        account: AccountId,
        room: RoomId,
        users: Vec<UserId>,
        limit: Option<u64>,
    ) -> Result<MemberChange, StoreError> {
        self.with_conn(move |conn| {
            conn.transaction(|conn| {
                let stored_count = lock_room(conn, account, room)?;
                // Read under the lock: nobody changes the set until the transaction ends.
                let current: Vec<UserId> = room_members::table
                    .filter(room_members::account_id.eq(account.0))
                    .filter(room_members::room_id.eq(room.0))
                    .order_by((room_members::joined_at, room_members::user_id))
                    .select(room_members::user_id)
                    .load::<i64>(conn)?
                    .into_iter()
                    .map(UserId)
                    .collect();
                let wanted: HashSet<UserId> = users.iter().copied().collect();
                let removed: Vec<UserId> = current
                    .iter()
                    .filter(|user| !wanted.contains(user))
                    .copied()
                    .collect();
                let deleted = if removed.is_empty() {
                    0
                } else {
                    let ids: Vec<i64> = removed.iter().map(|user| user.0).collect();
                    diesel::delete(
                        room_members::table
                            .filter(room_members::account_id.eq(account.0))
                            .filter(room_members::room_id.eq(room.0))
                            .filter(room_members::user_id.eq_any(ids)),
                    )
                    .execute(conn)?
                };
                let members: HashSet<UserId> = current.iter().copied().collect();
                let missing: Vec<UserId> = users
                    .iter()
                    .filter(|user| !members.contains(user))
                    .copied()
                    .collect();
                let added =
                    insert_members(conn, account, room, &missing, &Value::Object(Map::new()))?;
                let after = count_of(current.len())? - count_of(deleted)? + count_of(added.len())?;
                check_limit(limit, &added, after)?;
                // The count of the rows themselves, which also mends a stored count that
                // drifted; a no-op writes nothing.
                if after != i64::from(stored_count) {
                    set_member_count(conn, account, room, after)?;
                }
                record_members(
                    conn,
                    account,
                    room,
                    WebhookEvent::RoomLeft.as_str(),
                    &removed,
                )?;
                record_members(
                    conn,
                    account,
                    room,
                    WebhookEvent::RoomJoined.as_str(),
                    &added,
                )?;
                Ok(MemberChange { added, removed })
            })
            .map_err(Rollback::into_store)
        })
        .await
    }

    async fn list_memberships(
        &self,
        account: AccountId,
        room: RoomId,
        window: Window,
    ) -> Result<(Vec<Membership>, i64), StoreError> {
        self.with_conn(move |conn| {
            // One snapshot for both, so the total agrees with the page.
            let (rows, total) = conn
                .build_transaction()
                .read_only()
                .repeatable_read()
                .run(|conn| {
                    // The exact count kept with the rows; NotFound when the account has no
                    // such room.
                    let total: i32 = rooms::table
                        .filter(rooms::account_id.eq(account.0))
                        .filter(rooms::id.eq(room.0))
                        .select(rooms::member_count)
                        .first(conn)?;
                    // Read in join order from the (room_id, joined_at, user_id) index.
                    let rows = room_members::table
                        .inner_join(
                            users::table.on(users::id
                                .eq(room_members::user_id)
                                .and(users::account_id.eq(room_members::account_id))),
                        )
                        .filter(room_members::account_id.eq(account.0))
                        .filter(room_members::room_id.eq(room.0))
                        .order_by((room_members::joined_at, room_members::user_id))
                        .offset(window.offset)
                        .limit(window.limit)
                        .select(MembershipRow::as_select())
                        .load(conn)?;
                    Ok::<_, DieselError>((rows, total))
                })
                .map_err(translate)?;
            let memberships = rows
                .into_iter()
                .map(Membership::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((memberships, i64::from(total)))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_exceeded_only_past_it() {
        assert!(!exceeds(None, 1_000_000));
        assert!(!exceeds(Some(2), 2));
        assert!(exceeds(Some(2), 3));
        assert!(!exceeds(Some(0), -1));
        assert!(exceeds(Some(0), 1));
    }

    #[test]
    fn a_change_that_adds_nobody_is_never_refused() {
        assert!(check_limit(Some(2), &[], 5).is_ok());
        assert!(matches!(
            check_limit(Some(2), &[UserId(1)], 3),
            Err(Rollback::Store(StoreError::LimitReached))
        ));
        assert!(check_limit(Some(3), &[UserId(1)], 3).is_ok());
        assert!(check_limit(None, &[UserId(1)], 3).is_ok());
    }

    #[test]
    fn found_ids_come_back_in_the_given_order_once() {
        let users = [UserId(5), UserId(1), UserId(9), UserId(1), UserId(3)];
        assert_eq!(
            in_given_order(&users, &[3, 1, 5, 42]),
            [UserId(5), UserId(1), UserId(3)]
        );
        assert_eq!(in_given_order(&users, &[]), []);
    }

    #[test]
    fn stored_memberships_the_domain_rejects_are_unexpected() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let row = |meta: Value| MembershipRow {
            room_id: 3,
            user: UserRow::for_tests(7),
            joined_at: at,
            meta,
        };
        let membership = Membership::try_from(row(serde_json::json!({ "role": "host" })));
        assert!(membership.is_ok(), "{membership:?}");
        for bad in [
            serde_json::json!([1]),
            Value::Null,
            serde_json::json!({ "blob": "x".repeat(MemberMeta::MAX_BYTES) }),
        ] {
            let result = Membership::try_from(row(bad));
            assert!(
                matches!(result, Err(StoreError::Unexpected(_))),
                "{result:?}"
            );
        }
    }
}
