//! Rooms and their members ([`RoomStore`]).
//!
//! Every query is scoped by `account_id`: a room of another account is not found.

mod list;
mod rows;

use std::collections::HashMap;

use async_trait::async_trait;
use chat_app::{Along, ListedRoom, NewRoom, RoomFilter, RoomPatch, RoomStore, StoreError};
use chat_domain::{
    AccountId, Description, Membership, Room, RoomId, RoomRef, StorageKey, User, UserId,
    WebhookEvent,
};
use diesel::dsl::{exists, now};
use diesel::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;

use self::rows::{NewRoomRow, RoomChanges};
use crate::members::{MembershipRow, NewMemberRow, in_given_order};
use crate::schema::{attachments, room_members, rooms, users};
use crate::users::UserRow;
use crate::webhooks::record::{Recorded, record_event};
use crate::{PgStore, corrupt, translate};

pub(crate) use self::rows::RoomRow;

/// What a room event's payload says of the room if it is deleted before the event is
/// delivered (its ChatAPI id and name; a delivery renders the room as it is when it can).
fn gone_room(row: &RoomRow) -> Value {
    serde_json::json!({ "id": row.uuid, "name": row.name })
}

/// [`RoomStore::find_room`] on the caller's connection: the room with this id or UUID;
/// `NotFound` when the account has none.
pub(crate) fn find(
    conn: &mut PgConnection,
    account: AccountId,
    room: RoomRef,
) -> Result<Room, StoreError> {
    let query = rooms::table
        .filter(rooms::account_id.eq(account.0))
        .select(RoomRow::as_select())
        .into_boxed();
    let query = match room {
        RoomRef::Id(id) => query.filter(rooms::id.eq(id.0)),
        RoomRef::Uuid(uuid) => query.filter(rooms::uuid.eq(uuid)),
    };
    Room::try_from(query.first(conn).map_err(translate)?)
}

#[async_trait]
impl RoomStore for PgStore {
    async fn create_room(
        &self,
        account: AccountId,
        new: NewRoom,
        creator: Option<UserId>,
    ) -> Result<Room, StoreError> {
        self.with_conn(move |conn| {
            let row = conn
                .transaction(|conn| {
                    // A missing account fails rooms_account_id_fkey: NotFound.
                    let row = diesel::insert_into(rooms::table)
                        .values(NewRoomRow {
                            account_id: account.0,
                            name: new.name.as_str(),
                            description: new.description.as_ref().map(Description::as_str),
                            meta: Value::Object(new.meta.into_map()),
                            // The creator's membership, inserted next.
                            member_count: i32::from(creator.is_some()),
                            avatar_key: new.avatar.as_ref().map(|file| file.key.as_str()),
                        })
                        .returning(RoomRow::as_returning())
                        .get_result(conn)?;
                    if let Some(creator) = creator {
                        // A creator that is not a user of the account fails
                        // room_members_account_id_user_id_fkey: NotFound, and the room
                        // goes with the transaction.
                        diesel::insert_into(room_members::table)
                            .values(NewMemberRow {
                                account_id: account.0,
                                room_id: row.id,
                                user_id: creator.0,
                                meta: &Value::Object(Map::new()),
                            })
                            .execute(conn)?;
                    }
                    let created = Recorded {
                        room_uuid: Some(row.uuid),
                        data: Some(gone_room(&row)),
                        ..Recorded::of_room(
                            account,
                            WebhookEvent::RoomCreated.as_str(),
                            RoomId(row.id),
                        )
                    };
                    record_event(conn, &created)?;
                    if let Some(creator) = creator {
                        let users = [creator];
                        record_event(
                            conn,
                            &Recorded {
                                event: WebhookEvent::RoomJoined.as_str(),
                                users: &users,
                                data: None,
                                ..created
                            },
                        )?;
                    }
                    Ok::<_, diesel::result::Error>(row)
                })
                .map_err(translate)?;
            Room::try_from(row)
        })
        .await
    }

    async fn find_room(&self, account: AccountId, room: RoomRef) -> Result<Room, StoreError> {
        self.with_conn(move |conn| find(conn, account, room)).await
    }

    async fn find_rooms(
        &self,
        account: AccountId,
        ids: Vec<RoomId>,
    ) -> Result<Vec<Room>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|room| room.0).collect();
        self.with_conn(move |conn| {
            // One query: `id = ANY($ids)` on the primary key, scoped by account.
            let rows = rooms::table
                .filter(rooms::account_id.eq(account.0))
                .filter(rooms::id.eq_any(ids))
                .select(RoomRow::as_select())
                .load(conn)
                .map_err(translate)?;
            rows.into_iter().map(Room::try_from).collect()
        })
        .await
    }

    async fn list_rooms(
        &self,
        account: AccountId,
        filter: RoomFilter,
        along: Along,
    ) -> Result<(Vec<ListedRoom>, i64), StoreError> {
        self.with_conn(move |conn| {
            let (rows, total) = list::list(conn, account, &filter, along.unread_of)?;
            let mut members_of: HashMap<RoomId, Vec<User>> = HashMap::new();
            if along.members && !rows.is_empty() {
                let ids = rows.iter().map(|(row, _)| row.id).collect();
                for (room, user) in members(conn, account, ids)? {
                    members_of.entry(room).or_default().push(user);
                }
            }
            let rooms = rows
                .into_iter()
                .map(|(row, unread)| {
                    let room = Room::try_from(row)?;
                    let members = along
                        .members
                        .then(|| members_of.remove(&room.id).unwrap_or_default());
                    Ok(ListedRoom {
                        room,
                        unread,
                        members,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok((rooms, total))
        })
        .await
    }

    async fn update_room(
        &self,
        account: AccountId,
        room: RoomId,
        patch: RoomPatch,
    ) -> Result<(Room, Option<StorageKey>), StoreError> {
        let changes_avatar = patch.avatar.is_some();
        let changes = RoomChanges::from(patch);
        self.with_conn(move |conn| {
            let (row, previous) = conn
                .transaction(|conn| {
                    let target = rooms::table
                        .filter(rooms::account_id.eq(account.0))
                        .filter(rooms::id.eq(room.0));
                    // The avatar being replaced, read under the row lock the update
                    // then keeps, so two replacements cannot both miss the one between.
                    let previous: Option<String> = if changes_avatar {
                        target
                            .select(rooms::avatar_key)
                            .for_no_key_update()
                            .first(conn)?
                    } else {
                        None
                    };
                    let row: RoomRow = diesel::update(target)
                        .set((changes, rooms::updated_at.eq(now)))
                        .returning(RoomRow::as_returning())
                        .get_result(conn)?;
                    record_event(
                        conn,
                        &Recorded {
                            room_uuid: Some(row.uuid),
                            data: Some(gone_room(&row)),
                            ..Recorded::of_room(account, WebhookEvent::RoomUpdated.as_str(), room)
                        },
                    )?;
                    Ok::<_, diesel::result::Error>((row, previous))
                })
                .map_err(translate)?;
            let replaced = previous
                .filter(|previous| row.avatar_key.as_ref() != Some(previous))
                .map(|key| StorageKey::parse(&key).map_err(|e| corrupt("room", row.id, e)))
                .transpose()?;
            Ok((Room::try_from(row)?, replaced))
        })
        .await
    }

    async fn set_room_active(
        &self,
        account: AccountId,
        room: RoomId,
        active: bool,
    ) -> Result<Room, StoreError> {
        self.with_conn(move |conn| {
            let row = conn
                .transaction(|conn| {
                    let target = rooms::table
                        .filter(rooms::account_id.eq(account.0))
                        .filter(rooms::id.eq(room.0));
                    // The state before, under the lock the update keeps: only a change
                    // of state is an event.
                    let was: bool = target
                        .select(rooms::is_active)
                        .for_no_key_update()
                        .first(conn)?;
                    let row: RoomRow = diesel::update(target)
                        .set((rooms::is_active.eq(active), rooms::updated_at.eq(now)))
                        .returning(RoomRow::as_returning())
                        .get_result(conn)?;
                    if was != active {
                        let event = if active {
                            WebhookEvent::RoomActivated.as_str()
                        } else {
                            WebhookEvent::RoomDeactivated.as_str()
                        };
                        record_event(
                            conn,
                            &Recorded {
                                room_uuid: Some(row.uuid),
                                data: Some(gone_room(&row)),
                                ..Recorded::of_room(account, event, room)
                            },
                        )?;
                    }
                    Ok::<_, diesel::result::Error>(row)
                })
                .map_err(translate)?;
            Room::try_from(row)
        })
        .await
    }

    async fn delete_room(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<Vec<StorageKey>, StoreError> {
        self.with_conn(move |conn| {
            let keys = conn
                .transaction(|conn| {
                    // Members, messages and attachments go by ON DELETE CASCADE. The
                    // room row is locked first (as sending a message locks it), so no
                    // attachment can be added between reading the keys and the delete.
                    let target = rooms::table
                        .filter(rooms::account_id.eq(account.0))
                        .filter(rooms::id.eq(room.0));
                    let (avatar, uuid, name): (Option<String>, Uuid, String) = target
                        .select((rooms::avatar_key, rooms::uuid, rooms::name))
                        .for_update()
                        .first(conn)?;
                    let mut keys: Vec<String> = attachments::table
                        .filter(attachments::account_id.eq(account.0))
                        .filter(attachments::room_id.eq(room.0))
                        .select(attachments::storage_key)
                        .load(conn)?;
                    diesel::delete(target).execute(conn)?;
                    // The room is gone at delivery time: its id and name go with the event.
                    record_event(
                        conn,
                        &Recorded {
                            room_uuid: Some(uuid),
                            data: Some(serde_json::json!({ "id": uuid, "name": name })),
                            ..Recorded::of_room(account, WebhookEvent::RoomDeleted.as_str(), room)
                        },
                    )?;
                    keys.extend(avatar);
                    Ok(keys)
                })
                .map_err(translate)?;
            keys.iter()
                .map(|key| StorageKey::parse(key).map_err(|e| corrupt("room", room.0, e)))
                .collect()
        })
        .await
    }

    async fn is_member(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
    ) -> Result<bool, StoreError> {
        self.with_conn(move |conn| {
            diesel::select(exists(
                room_members::table
                    .filter(room_members::account_id.eq(account.0))
                    .filter(room_members::room_id.eq(room.0))
                    .filter(room_members::user_id.eq(user.0)),
            ))
            .get_result(conn)
            .map_err(translate)
        })
        .await
    }

    async fn members_among(
        &self,
        account: AccountId,
        room: RoomId,
        users: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<i64> = users.iter().map(|user| user.0).collect();
        self.with_conn(move |conn| {
            // The (room_id, user_id) primary key.
            let found: Vec<i64> = room_members::table
                .filter(room_members::account_id.eq(account.0))
                .filter(room_members::room_id.eq(room.0))
                .filter(room_members::user_id.eq_any(wanted))
                .select(room_members::user_id)
                .load(conn)
                .map_err(translate)?;
            Ok(in_given_order(&users, &found))
        })
        .await
    }

    async fn find_membership(
        &self,
        account: AccountId,
        room: RoomId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError> {
        self.with_conn(move |conn| {
            // The membership's primary key, and the user's.
            let row = room_members::table
                .inner_join(
                    users::table.on(users::id
                        .eq(room_members::user_id)
                        .and(users::account_id.eq(room_members::account_id))),
                )
                .filter(room_members::account_id.eq(account.0))
                .filter(room_members::room_id.eq(room.0))
                .filter(room_members::user_id.eq(user.0))
                .select(MembershipRow::as_select())
                .first(conn)
                .optional()
                .map_err(translate)?;
            row.map(Membership::try_from).transpose()
        })
        .await
    }

    async fn members_of(
        &self,
        account: AccountId,
        rooms: Vec<RoomId>,
    ) -> Result<Vec<(RoomId, User)>, StoreError> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rooms.iter().map(|room| room.0).collect();
        self.with_conn(move |conn| members(conn, account, ids))
            .await
    }
}

/// [`RoomStore::members_of`] on the caller's connection: the members of each of the rooms
/// `ids` (not empty), each room's in join order.
fn members(
    conn: &mut PgConnection,
    account: AccountId,
    ids: Vec<i64>,
) -> Result<Vec<(RoomId, User)>, StoreError> {
    // The memberships, each room's in join order, from the (room_id, joined_at, user_id)
    // index; then their users by primary key. (One join let the planner hash the account's
    // every user to find a hundred rooms' members: 2 ms.)
    let memberships: Vec<(i64, i64)> = room_members::table
        .filter(room_members::account_id.eq(account.0))
        .filter(room_members::room_id.eq_any(ids))
        .order_by((
            room_members::room_id,
            room_members::joined_at,
            room_members::user_id,
        ))
        .select((room_members::room_id, room_members::user_id))
        .load(conn)
        .map_err(translate)?;
    let mut wanted: Vec<i64> = memberships.iter().map(|(_, user)| *user).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let users: HashMap<i64, User> = users::table
        .filter(users::account_id.eq(account.0))
        .filter(users::id.eq_any(wanted))
        .select(UserRow::as_select())
        .load(conn)
        .map_err(translate)?
        .into_iter()
        .map(|row| User::try_from(row).map(|user| (user.id.0, user)))
        .collect::<Result<_, _>>()?;
    // A membership's user is the account's (the foreign key): each is found.
    Ok(memberships
        .into_iter()
        .filter_map(|(room, user)| users.get(&user).map(|u| (RoomId(room), u.clone())))
        .collect())
}
