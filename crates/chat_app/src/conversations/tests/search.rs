//! Search: who reads which rooms, and views across rooms.

use chat_domain::{Permission, Permissions, RoomId, UserId};

use super::*;
use crate::error::Denied;
use crate::model::{MessageDetail, RawSearch, SearchQuery, Window};
use crate::ports::MockRoomStore;

fn query() -> SearchQuery {
    let raw = RawSearch {
        q: Some("hello"),
        ..RawSearch::default()
    };
    let window = Window {
        offset: 0,
        limit: 20,
    };
    SearchQuery::parse(raw, window).unwrap_or_else(|e| panic!("{e:?}"))
}

/// Rooms 5 and 6 read in one call.
fn finding_rooms(rooms: &mut MockRoomStore) {
    rooms.expect_find_rooms().times(1).returning(|_, ids| {
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids, "each room asked once");
        Ok(ids.into_iter().filter_map(room).collect())
    });
}

#[tokio::test]
async fn agents_and_end_users_search_their_own_rooms_others_every_room() {
    let cases: [(Actor, Option<UserId>); 5] = [
        (as_user(ANN), Some(ANN)),
        (scoped(Permissions::DEFAULT), Some(ANN)),
        (as_user(ROOT), None),
        (as_user(DEE), None),
        (api_key(), None),
    ];
    for (actor, reader) in cases {
        let mut ports = Ports::new();
        ports
            .conversations
            .expect_search()
            .withf(move |account, query| {
                *account == ACCOUNT && query.reader == reader && query.text == "hello"
            })
            .times(1)
            .returning(|_, _| Ok((vec![known(1)], 1)));
        finding_rooms(&mut ports.rooms);
        let page = ports
            .build()
            .search(&actor, query(), MessageDetail::Summary)
            .await
            .unwrap_or_else(|e| panic!("{actor:?}: {e}"));
        assert_eq!(page.total, 1);
        assert_eq!(page.items.len(), 1);
    }
}

#[tokio::test]
async fn a_reader_set_by_the_caller_is_replaced_by_the_actors_own() {
    let mut ports = Ports::new();
    ports
        .conversations
        .expect_search()
        .withf(|_, query| query.reader.is_none())
        .times(1)
        .returning(|_, _| Ok((Vec::new(), 0)));
    let forged = SearchQuery {
        reader: Some(CAT),
        ..query()
    };
    let page = ports
        .build()
        .search(&api_key(), forged, MessageDetail::Summary)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn searching_needs_read_messages_of_a_scoped_credential() {
    let mut ports = Ports::new();
    ports.conversations.expect_search().never();
    let refused = ports
        .build()
        .search(
            &scoped(all_but(Permission::ReadMessages)),
            query(),
            MessageDetail::Summary,
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(AppError::Forbidden(Denied::PermissionDenied(
                Permission::ReadMessages
            )))
        ),
        "{refused:?}"
    );
    let platform = Ports::new()
        .build()
        .search(&Actor::Platform, query(), MessageDetail::Summary)
        .await;
    assert!(matches!(platform, Err(AppError::Unauthenticated)));
}

#[tokio::test]
async fn results_of_several_rooms_carry_their_rooms_names_read_in_one_call() {
    let mut ports = Ports::new();
    ports
        .conversations
        .expect_search()
        .returning(|_, _| Ok((vec![known(101), known(1), known(2)], 7)));
    finding_rooms(&mut ports.rooms);
    let page = ports
        .build()
        .search(&api_key(), query(), MessageDetail::Summary)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.total, 7);
    let seen: Vec<(i64, &str)> = page
        .items
        .iter()
        .map(|v| (v.message.id.0, v.room_name.as_str()))
        .collect();
    assert_eq!(seen, [(101, "Sales"), (1, "General"), (2, "General")]);
    // The reply names the message it answers; the summary has no senders or statuses.
    let reply = &page.items[2];
    assert_eq!(reply.in_reply_to.as_ref().map(|r| r.message.id.0), Some(1));
    assert!(
        page.items
            .iter()
            .all(|v| v.sender.is_none() && v.status.is_none())
    );
}

#[tokio::test]
async fn rich_results_have_senders_and_statuses_read_once_per_room() {
    let mut ports = Ports::new();
    ports
        .conversations
        .expect_search()
        .returning(|_, _| Ok((vec![known(101), known(1), known(2)], 3)));
    finding_rooms(&mut ports.rooms);
    // Replace the world's positions with counted ones: one call per room of the page.
    ports.messages.checkpoint();
    ports
        .messages
        .expect_find_messages()
        .times(1)
        .returning(|_, ids| Ok(ids.into_iter().filter_map(|id| message(id.0)).collect()));
    for room in [GENERAL, SALES] {
        ports
            .messages
            .expect_positions()
            .withf(move |_, asked| *asked == room)
            .times(1)
            .returning(|_, _| Ok(Vec::new()));
    }
    let page = ports
        .build()
        .search(&as_user(ROOT), query(), MessageDetail::Rich)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let senders: Vec<Option<UserId>> = page
        .items
        .iter()
        .map(|v| v.sender.as_ref().map(|u| u.id))
        .collect();
    assert_eq!(senders, [Some(CAT), Some(ANN), Some(BOB)]);
    assert!(page.items.iter().all(|v| v.status.is_some()));
}

#[tokio::test]
async fn a_result_whose_room_is_gone_is_left_out() {
    let mut ports = Ports::new();
    ports
        .conversations
        .expect_search()
        .returning(|_, _| Ok((vec![known(101), known(1)], 2)));
    ports
        .rooms
        .expect_find_rooms()
        .returning(|_, _| Ok(room(GENERAL).into_iter().collect()));
    let page = ports
        .build()
        .search(&api_key(), query(), MessageDetail::Summary)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<RoomId> = page.items.iter().map(|v| v.message.room_id).collect();
    assert_eq!(ids, [GENERAL]);
}
