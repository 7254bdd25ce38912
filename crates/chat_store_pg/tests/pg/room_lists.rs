//! Room lists answer what they answered when the page and its total were two statements
//! counting the account's rooms: on one varied data set, every combination of search,
//! activity, member, order and window gives the same rooms in the same order, and the same
//! total, as those statements (written out here in SQL, as the store used to build them).

use crate::common::{Fixture, connect, create_account, create_user, execute, fixture};
use chat_app::{Along, ListedRoom, NewRoom, RoomFilter, RoomSort, RoomStore, Unread, Window};
use chat_domain::{AccountId, RoomRef, UserId};
use diesel::sql_types::{BigInt, Text};
use diesel::{PgConnection, QueryableByName, RunQueryDsl};

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The page's ids and the total, as the two statements of the former list gave them: the
/// account's rooms passing every filter (the member as a semi-join on room_members), in
/// the filter's order with ties broken by id, windowed; and the count of the same rooms.
fn former_answer(
    conn: &mut PgConnection,
    account: AccountId,
    filter: &RoomFilter,
) -> (Vec<i64>, i64) {
    let mut conditions = vec![format!("account_id = {}", account.0)];
    if filter.search.is_some() {
        // Case-insensitive substring, written without LIKE (the store's own means), so
        // that `%`, `_` and `\` are plain characters here by construction.
        conditions.push(
            "(strpos(lower(name), lower($1)) > 0 \
              OR strpos(lower(coalesce(description, '')), lower($1)) > 0)"
                .to_owned(),
        );
    }
    if let Some(active) = filter.is_active {
        conditions.push(format!("is_active = {active}"));
    }
    if let Some(member) = filter.member {
        conditions.push(format!(
            "id IN (SELECT room_id FROM room_members \
                    WHERE account_id = {} AND user_id = {})",
            account.0, member.0
        ));
    }
    let order = match filter.sort {
        RoomSort::NameAsc => "name ASC, id ASC",
        RoomSort::NameDesc => "name DESC, id DESC",
        RoomSort::CreatedAsc => "created_at ASC, id ASC",
        RoomSort::CreatedDesc => "created_at DESC, id DESC",
        RoomSort::RecentActivity => "last_message_at DESC, id DESC",
    };
    let conditions = conditions.join(" AND ");
    let page = format!(
        "SELECT id AS n FROM rooms WHERE {conditions} ORDER BY {order} LIMIT {} OFFSET {}",
        filter.window.limit, filter.window.offset
    );
    let total = format!("SELECT count(*) AS n FROM rooms WHERE {conditions}");
    let mut run = |sql: &str| -> Vec<i64> {
        let rows: Vec<Number> = match &filter.search {
            // A statement that does not use $1 may not be given it.
            Some(search) => diesel::sql_query(sql).bind::<Text, _>(search).load(conn),
            None => diesel::sql_query(sql).load(conn),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(|row| row.n).collect()
    };
    let ids = run(&page);
    let total = run(&total)[0];
    (ids, total)
}

#[tokio::test]
async fn every_list_answers_the_page_and_total_the_former_statements_gave() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let other = create_account(&store, "Other", "ck_other").await;
    let empty = create_account(&store, "Empty", "ck_empty").await;
    let ada = create_user(&store, acme.id, "Ada", "administrator").await;
    let bob = create_user(&store, acme.id, "Bob", "agent").await;
    let cid = create_user(&store, acme.id, "Cid", "agent").await;
    let eve = create_user(&store, other.id, "Eve", "administrator").await;

    // 90 rooms in Acme and 30 in Other: repeated names (ties), descriptions or none, one
    // in three inactive, times that tie; Bob belongs to one in two, Ada to one in five,
    // Cid to none; Eve to some of Other's.
    let names = [
        "'alpha'",
        "'Alpha room'",
        "'beta'",
        "'gamma 50% off'",
        "'delta_x'",
        "'back\\slash'",
        "'Zeta'",
    ];
    execute(
        &db,
        &format!(
            "INSERT INTO rooms (account_id, name, description, is_active, created_at, \
                                last_message_at) \
             SELECT CASE WHEN i % 4 = 0 THEN {other} ELSE {acme} END, \
                    (ARRAY[{names}])[1 + i % 7] || CASE WHEN i % 11 = 0 THEN '' ELSE ' ' || i END, \
                    CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN 'the needle ' || i ELSE 'hay' END, \
                    i % 3 <> 2, \
                    timestamptz '2026-01-01' + (i % 13) * interval '1 minute', \
                    timestamptz '2026-02-01' + (i % 9) * interval '1 minute' \
             FROM generate_series(1, 120) AS i",
            acme = acme.id.0,
            other = other.id.0,
            names = names.join(", "),
        ),
    );
    execute(
        &db,
        &format!(
            "INSERT INTO room_members (account_id, room_id, user_id) \
             SELECT r.account_id, r.id, u.id FROM rooms r JOIN users u \
               ON u.account_id = r.account_id \
              AND ((u.id = {bob} AND r.id % 2 = 0) OR (u.id = {ada} AND r.id % 5 = 0) \
                   OR (u.id = {eve} AND r.id % 3 = 0))",
            bob = bob.id.0,
            ada = ada.id.0,
            eve = eve.id.0,
        ),
    );

    let searches = [
        None,
        Some("AL"),
        Some("needle"),
        Some("50%"),
        Some("_"),
        Some("nothing"),
    ];
    let activities = [None, Some(true), Some(false)];
    let members: [Option<UserId>; 5] =
        [None, Some(bob.id), Some(ada.id), Some(cid.id), Some(eve.id)];
    let sorts = [
        RoomSort::NameAsc,
        RoomSort::NameDesc,
        RoomSort::CreatedAsc,
        RoomSort::CreatedDesc,
        RoomSort::RecentActivity,
    ];
    // All of it, a slice in the middle, past the end.
    let windows = [(0, 100), (5, 7), (200, 5)];
    let mut conn = connect(&db);
    let mut checked = 0;
    let mut nonempty = 0;
    for account in [acme.id, other.id, empty.id] {
        for search in searches {
            for is_active in activities {
                for member in members {
                    for sort in sorts {
                        for (offset, limit) in windows {
                            let filter = RoomFilter {
                                search: search.map(str::to_owned),
                                is_active,
                                member,
                                sort,
                                window: Window::new(offset, limit, Window::MAX_LIMIT)
                                    .expect("valid window"),
                            };
                            let expected = former_answer(&mut conn, account, &filter);
                            let (rooms, total) = store
                                .list_rooms(account, filter.clone(), Along::default())
                                .await
                                .expect("rooms listed");
                            let ids: Vec<i64> =
                                rooms.iter().map(|listed| listed.room.id.0).collect();
                            assert_eq!((ids, total), expected, "{account:?} {filter:?}");
                            checked += 1;
                            nonempty += usize::from(!rooms.is_empty());
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 3 * 6 * 3 * 5 * 5 * 3);
    // The data set is not degenerate: many lists find something (none does in the empty
    // account, past the end, for Cid, or for "nothing").
    assert!(nonempty > checked / 10, "{nonempty} of {checked}");
}

#[tokio::test]
async fn a_listed_room_is_the_room_as_found() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let ada = create_user(&store, acme.id, "Ada", "administrator").await;
    let new = NewRoom::parse(
        Some("Described"),
        Some("with a description"),
        Some(
            serde_json::json!({ "max_participants": 5, "topic": "x" })
                .as_object()
                .cloned()
                .expect("an object"),
        ),
    )
    .expect("valid room");
    let described = store
        .create_room(acme.id, new, Some(ada.id))
        .await
        .expect("room created");
    let bare = store
        .create_room(
            acme.id,
            NewRoom::parse(Some("Bare"), None, None).expect("valid room"),
            None,
        )
        .await
        .expect("room created");
    execute(
        &db,
        &format!(
            "UPDATE rooms SET avatar_key = 'avatars/a.png', is_active = false, \
                              message_count = 3, last_message_at = now() + interval '1 hour' \
             WHERE id = {}",
            bare.id.0
        ),
    );

    for member in [None, Some(ada.id)] {
        let filter = RoomFilter {
            search: None,
            is_active: None,
            member,
            sort: RoomSort::CreatedAsc,
            window: Window::new(0, 10, Window::MAX_LIMIT).expect("valid window"),
        };
        let (rooms, _) = store
            .list_rooms(acme.id, filter, Along::default())
            .await
            .expect("rooms listed");
        for ListedRoom { room, .. } in rooms {
            let found = store
                .find_room(acme.id, RoomRef::Id(room.id))
                .await
                .expect("room found");
            assert_eq!(room, found);
        }
    }
    let found = store
        .find_room(acme.id, RoomRef::Id(described.id))
        .await
        .expect("room found");
    assert_eq!(found, described);
}

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    messages: i64,
    #[diesel(sql_type = BigInt)]
    mentions: i64,
}

/// What `user` has not read in `room`, as the membership and the room say it (zeros for a
/// room they do not belong to).
fn unread_of(conn: &mut PgConnection, room: i64, user: i64) -> Unread {
    let sql = format!(
        "SELECT coalesce(max(greatest(r.last_seq - m.last_read_seq, 0)), 0) AS messages, \
                coalesce(max(m.unread_mentions), 0)::bigint AS mentions \
         FROM rooms r JOIN room_members m ON m.room_id = r.id \
         WHERE r.id = {room} AND m.user_id = {user}"
    );
    let rows: Vec<Counts> = diesel::sql_query(&sql)
        .load(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    Unread {
        messages: rows[0].messages,
        mentions: rows[0].mentions,
    }
}

#[tokio::test]
async fn listed_rooms_bring_the_viewers_unread_counts_and_their_members() {
    let Fixture { store, db } = fixture();
    let acme = create_account(&store, "Acme", "ck_acme").await;
    let other = create_account(&store, "Other", "ck_other").await;
    let ada = create_user(&store, acme.id, "Ada", "administrator").await;
    let bob = create_user(&store, acme.id, "Bob", "agent").await;
    let cid = create_user(&store, acme.id, "Cid", "agent").await;
    let eve = create_user(&store, other.id, "Eve", "administrator").await;
    // 30 rooms in Acme, 10 in Other, each with its own last seq; Ada in one in two, Bob in
    // one in three, Cid in none, Eve in Other's; read positions and mentions that differ
    // by member and room (some read past the room's last seq: 0 unread, never negative).
    execute(
        &db,
        &format!(
            "INSERT INTO rooms (account_id, name) \
             SELECT CASE WHEN i % 4 = 0 THEN {other} ELSE {acme} END, 'room ' || i \
             FROM generate_series(1, 40) AS i",
            acme = acme.id.0,
            other = other.id.0,
        ),
    );
    execute(
        &db,
        &format!(
            "INSERT INTO room_members (account_id, room_id, user_id, joined_at) \
             SELECT r.account_id, r.id, u.id, \
                    timestamptz '2026-01-01' + ((r.id * 7 + u.id) % 11) * interval '1 minute' \
             FROM rooms r JOIN users u ON u.account_id = r.account_id \
              AND ((u.id = {ada} AND r.id % 2 = 0) OR (u.id = {bob} AND r.id % 3 = 0) \
                   OR u.id = {eve})",
            ada = ada.id.0,
            bob = bob.id.0,
            eve = eve.id.0,
        ),
    );
    // After the joins (a join reads up to the room's last seq).
    execute(&db, "UPDATE rooms SET last_seq = id % 9");
    execute(
        &db,
        "UPDATE room_members SET last_read_seq = (room_id + user_id) % 5, \
                                 delivered_seq = 9, unread_mentions = (room_id * user_id) % 3",
    );
    let mut conn = connect(&db);
    let mut counted = 0;
    for (account, users) in [
        (acme.id, vec![ada.id, bob.id, cid.id]),
        (other.id, vec![eve.id]),
    ] {
        let viewers = std::iter::once(None).chain(users.iter().copied().map(Some));
        for viewer in viewers.collect::<Vec<_>>() {
            let filter_members = std::iter::once(None).chain(users.iter().copied().map(Some));
            for member in filter_members.collect::<Vec<_>>() {
                for members in [false, true] {
                    let filter = RoomFilter {
                        search: None,
                        is_active: None,
                        member,
                        sort: RoomSort::NameAsc,
                        window: Window::new(0, 100, Window::MAX_LIMIT).expect("valid window"),
                    };
                    let along = Along {
                        unread_of: viewer,
                        members,
                    };
                    let (alone, total) = store
                        .list_rooms(account, filter.clone(), Along::default())
                        .await
                        .expect("rooms listed");
                    let (listed, with_total) = store
                        .list_rooms(account, filter, along)
                        .await
                        .expect("rooms listed");
                    let case = format!("{account:?} viewer {viewer:?} member {member:?}");
                    // What comes along changes neither the page nor its total.
                    assert_eq!(with_total, total, "{case}");
                    let rooms = |page: &[ListedRoom]| -> Vec<_> {
                        page.iter().map(|l| l.room.clone()).collect()
                    };
                    assert_eq!(rooms(&listed), rooms(&alone), "{case}");
                    let expected_members = store
                        .members_of(account, listed.iter().map(|l| l.room.id).collect())
                        .await
                        .expect("members read");
                    for room in &listed {
                        let expected = match viewer {
                            Some(user) => unread_of(&mut conn, room.room.id.0, user.0),
                            None => Unread::default(),
                        };
                        assert_eq!(room.unread, expected, "{case} room {:?}", room.room.id);
                        counted += usize::from(expected.messages > 0 && expected.mentions > 0);
                        let in_order: Vec<UserId> = expected_members
                            .iter()
                            .filter(|(id, _)| *id == room.room.id)
                            .map(|(_, user)| user.id)
                            .collect();
                        let got = room
                            .members
                            .as_ref()
                            .map(|users| users.iter().map(|u| u.id).collect::<Vec<_>>());
                        assert_eq!(got, members.then_some(in_order), "{case}");
                    }
                }
            }
        }
    }
    // The data set is not degenerate: many rooms have unread messages and mentions.
    assert!(counted > 10, "{counted}");
}
