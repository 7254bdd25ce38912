//! Pins: pinning and unpinning (a repeat changes nothing), who pinned, and a room's pins.

use chat_app::{ConversationStore, MessageStore};
use chat_domain::{MessageId, RoomId, Sender};

use super::{Scene, assert_not_found, contents, find, scene, send, text, window};
use crate::common::{Fixture, fixture};

#[tokio::test]
async fn pins_say_who_pinned_them_and_list_newest_first() {
    let Fixture { store, db: _db } = fixture();
    let Scene {
        acme,
        ann,
        ben,
        dee,
        general,
        random,
        other,
        ..
    } = scene(&store).await;
    let a = acme.id;
    let first = send(&store, a, general.id, text(&ann, "first")).await;
    let second = send(&store, a, general.id, text(&ben, "second")).await;
    let third = send(&store, a, general.id, text(&ben, "third")).await;
    send(&store, a, general.id, text(&ann, "not pinned")).await;
    let other_room = send(&store, a, random.id, text(&ann, "elsewhere")).await;
    assert_eq!(first.pin, None);

    let (pinned, changed) = store
        .set_pin(a, second.id, true, Some(dee.id))
        .await
        .expect("pinned");
    assert!(changed);
    let pin = pinned.pin.clone().expect("a pin");
    assert_eq!(
        pin.pinned_by,
        Sender::User {
            id: dee.id,
            label: "dee".to_owned()
        }
    );
    assert_eq!(find(&store, a, second.id).await.pin, Some(pin.clone()));
    // Pinning again changes nothing, not even who pinned.
    let (again, changed) = store
        .set_pin(a, second.id, true, Some(ann.id))
        .await
        .expect("pinned again");
    assert!(!changed);
    assert_eq!(again.pin, Some(pin));

    let (by_key, _) = store
        .set_pin(a, first.id, true, None)
        .await
        .expect("pinned");
    assert_eq!(by_key.pin.map(|p| p.pinned_by), Some(Sender::System));
    store
        .set_pin(a, third.id, true, Some(ben.id))
        .await
        .expect("pinned");
    store
        .set_pin(a, other_room.id, true, None)
        .await
        .expect("pinned");

    let (pins, total) = store
        .pins(a, general.id, window(0, 50))
        .await
        .expect("pins");
    assert_eq!(
        (contents(&pins), total),
        (vec!["third", "first", "second"], 3)
    );
    assert!(pins.iter().all(|m| m.room_uuid == general.uuid));
    let (page, total) = store.pins(a, general.id, window(1, 1)).await.expect("pins");
    assert_eq!((contents(&page), total), (vec!["first"], 3));

    // Unpinning; again changes nothing.
    let (unpinned, changed) = store
        .set_pin(a, first.id, false, Some(ann.id))
        .await
        .expect("unpinned");
    assert!(changed);
    assert_eq!(unpinned.pin, None);
    let (_, changed) = store
        .set_pin(a, first.id, false, None)
        .await
        .expect("unpinned again");
    assert!(!changed);

    // A deleted message is no pin of the room, and cannot be pinned or unpinned; restored,
    // it is pinned again.
    store
        .set_message_deleted(a, third.id, true, None)
        .await
        .expect("deleted");
    let (pins, total) = store
        .pins(a, general.id, window(0, 50))
        .await
        .expect("pins");
    assert_eq!((contents(&pins), total), (vec!["second"], 1));
    assert_not_found(store.set_pin(a, third.id, false, None).await);
    assert_not_found(store.set_pin(a, third.id, true, None).await);
    store
        .set_message_deleted(a, third.id, false, None)
        .await
        .expect("restored");
    assert_eq!(
        store
            .pins(a, general.id, window(0, 50))
            .await
            .expect("pins")
            .1,
        2
    );

    // Not found: another account's message or room, no message, no room, a user of
    // another account.
    assert_not_found(store.set_pin(other.id, first.id, true, None).await);
    assert_not_found(store.set_pin(a, MessageId(i64::MAX), true, None).await);
    assert_not_found(store.pins(other.id, general.id, window(0, 50)).await);
    assert_not_found(store.pins(a, RoomId(i64::MAX), window(0, 50)).await);
    let s_eve = crate::common::create_user(&store, other.id, "Ivy", "agent").await;
    assert_not_found(store.set_pin(a, first.id, true, Some(s_eve.id)).await);
    assert_eq!(find(&store, a, first.id).await.pin, None);
}
