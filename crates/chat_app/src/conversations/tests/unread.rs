//! The room list's unread counts (`Rooms::list`): whose they are.

use std::sync::Arc;

use chat_domain::UserId;

use super::*;
use crate::model::{Detail, ListedRoom, RoomQuery, RoomSort, Unread, Window};
use crate::ports::MockFileStore;
use crate::rooms::Rooms;

fn query(viewer: Option<ExternalId>) -> RoomQuery {
    let window = Window::new(0, 50, 100).unwrap_or_else(|e| panic!("{e}"));
    let query =
        RoomQuery::new(None, None, RoomSort::CreatedDesc, window).unwrap_or_else(|e| panic!("{e}"));
    RoomQuery { viewer, ..query }
}

/// Rooms over the world's ports, listing rooms 5 and 6 (without members) with the unread
/// counts of `viewer`, who must be the one asked for: 4 unread messages, 2 of them
/// mentions, in room 5 only.
fn rooms(viewer: Option<UserId>) -> Rooms {
    let mut ports = Ports::new();
    // As the store does: the counts come with the page, for the viewer it is asked for.
    ports
        .rooms
        .expect_list_rooms()
        .withf(move |account, _, along| *account == ACCOUNT && along.unread_of == viewer)
        .returning(|_, _, along| {
            let listed = [GENERAL, SALES].into_iter().filter_map(room).map(|room| {
                let unread = match along.unread_of {
                    Some(_) if room.id == GENERAL => Unread {
                        messages: 4,
                        mentions: 2,
                    },
                    _ => Unread::default(),
                };
                let members = along.members.then(Vec::new);
                ListedRoom {
                    room,
                    unread,
                    members,
                }
            });
            Ok((listed.collect(), 2))
        });
    ports.rooms.expect_members_of().never();
    ports.messages.expect_unread_counts().never();
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
