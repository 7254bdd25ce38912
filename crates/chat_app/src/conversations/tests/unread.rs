//! The room list's unread counts (`Rooms::list`): whose they are.

use std::sync::Arc;

use chat_domain::UserId;

use super::*;
use crate::model::{Detail, RoomQuery, RoomSort, Unread, Window};
use crate::ports::MockFileStore;
use crate::rooms::Rooms;

fn query(viewer: Option<ExternalId>) -> RoomQuery {
    let window = Window::new(0, 50, 100).unwrap_or_else(|e| panic!("{e}"));
    let query =
        RoomQuery::new(None, None, RoomSort::CreatedDesc, window).unwrap_or_else(|e| panic!("{e}"));
    RoomQuery { viewer, ..query }
}

/// Rooms over the world's ports, listing rooms 5 and 6 (without members); `viewer` (if
/// any) has 4 unread messages, 2 of them mentions, in room 5 only.
fn rooms(viewer: Option<UserId>) -> Rooms {
    let mut ports = Ports::new();
    ports
        .rooms
        .expect_list_rooms()
        .returning(|_, _| Ok(([GENERAL, SALES].into_iter().filter_map(room).collect(), 2)));
    ports
        .rooms
        .expect_members_of()
        .returning(|_, _| Ok(Vec::new()));
    match viewer {
        Some(viewer) => {
            ports
                .messages
                .expect_unread_counts()
                .withf(move |account, user, rooms| {
                    *account == ACCOUNT && *user == viewer && rooms.as_slice() == [GENERAL, SALES]
                })
                .times(1)
                .returning(|_, _, _| {
                    Ok(vec![(
                        GENERAL,
                        Unread {
                            messages: 4,
                            mentions: 2,
                        },
                    )])
                });
        }
        None => {
            ports.messages.expect_unread_counts().never();
        }
    }
    Rooms::new(
        Arc::new(ports.rooms),
        Arc::new(ports.messages),
        Arc::new(ports.users),
        Arc::new(MockFileStore::new()),
        Arc::new(ports.events),
    )
}

fn counts(page: &crate::model::Page<crate::rooms::RoomView>) -> Vec<(i64, i64)> {
    page.items
        .iter()
        .map(|v| (v.unread_count, v.unread_mentions))
        .collect()
}

#[tokio::test]
async fn the_api_key_sees_the_unread_counts_of_the_user_it_names() {
    let page = rooms(Some(BOB))
        .list(&api_key(), query(external("bob")), Detail::Summary)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(counts(&page), [(4, 2), (0, 0)]);
}

#[tokio::test]
async fn a_user_credential_sees_its_own_whoever_is_named() {
    for (actor, user) in [
        (as_user(ANN), ANN),
        (as_user(ROOT), ROOT),
        (scoped(Permissions::DEFAULT), ANN),
    ] {
        for detail in [Detail::Summary, Detail::WithMembers] {
            let page = rooms(Some(user))
                .list(&actor, query(external("bob")), detail)
                .await
                .unwrap_or_else(|e| panic!("{actor:?}: {e}"));
            assert_eq!(counts(&page), [(4, 2), (0, 0)], "{actor:?} {detail:?}");
        }
    }
}

#[tokio::test]
async fn no_viewer_no_unread_counts() {
    let page = rooms(None)
        .list(&api_key(), query(None), Detail::Summary)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(counts(&page), [(0, 0), (0, 0)]);
}

#[tokio::test]
async fn an_unknown_viewer_is_a_user_not_found() {
    let listed = rooms(None)
        .list(&api_key(), query(external("nobody")), Detail::Summary)
        .await;
    assert_eq!(failure(&listed), "NotFound(User)");
}
