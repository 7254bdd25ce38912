//! Two nodes (two `RedisPresence` values, each on a connection of its own, one prefix)
//! see each other's users, and a node that stops beating (killed) takes its users
//! offline within the time-to-live.

use std::time::Duration;

use uuid::Uuid;

use crate::common::{Memberships, Space};
use crate::presence::{ACME, ANN, BEN, GENERAL, LONG, close, online, online_users, open, session};
use chat_app::PresenceStore;

#[tokio::test]
async fn two_nodes_see_each_others_users_and_count_them_together() {
    let space = Space::new();
    let members = Memberships::default();
    members.add(ACME, GENERAL, &[BEN]);
    let (a, b) = (
        space.presence(&members).await,
        space.presence(&members).await,
    );
    let (node_a, node_b) = (Uuid::new_v4(), Uuid::new_v4());

    let ann_on_a = session(node_a, ACME, Some(GENERAL), "ann", Some(ANN));
    let ben_on_a = session(node_a, ACME, None, "ben", Some(BEN));
    assert_eq!(open(&a, &ann_on_a, LONG).await, 1);
    open(&a, &ben_on_a, LONG).await;
    assert_eq!(online(&b, ACME, GENERAL).await, ["ann", "ben"]);
    assert_eq!(online_users(&b, ACME, &[ANN, BEN]).await, [ANN, BEN]);

    // Ann's second device, on the other node: one person, two sessions.
    let ann_on_b = session(node_b, ACME, Some(GENERAL), "ann", Some(ANN));
    assert_eq!(open(&b, &ann_on_b, LONG).await, 2);
    assert_eq!(close(&a, &ann_on_a).await, 1, "still there through b");
    assert_eq!(close(&b, &ann_on_b).await, 0);
    assert_eq!(online(&a, ACME, GENERAL).await, ["ben"]);
}

#[tokio::test]
async fn a_node_that_stops_beating_takes_its_users_offline_within_the_ttl() {
    let space = Space::new();
    let members = Memberships::default();
    members.add(ACME, GENERAL, &[BEN]);
    let (killed, alive) = (
        space.presence(&members).await,
        space.presence(&members).await,
    );
    let (killed_node, alive_node) = (Uuid::new_v4(), Uuid::new_v4());
    let ttl = Duration::from_millis(800);

    let ann_killed = session(killed_node, ACME, Some(GENERAL), "ann", Some(ANN));
    let ben_killed = session(killed_node, ACME, None, "ben", Some(BEN));
    let ann_alive = session(alive_node, ACME, Some(GENERAL), "ann", Some(ANN));
    open(&killed, &ann_killed, ttl).await;
    open(&killed, &ben_killed, ttl).await;
    assert_eq!(open(&alive, &ann_alive, ttl).await, 2);
    assert_eq!(online(&alive, ACME, GENERAL).await, ["ann", "ben"]);

    // The killed node says nothing more; the other keeps beating.
    drop(killed);
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        alive.heartbeat(alive_node, ttl).await.expect("heartbeat");
    }
    assert_eq!(online(&alive, ACME, GENERAL).await, ["ann"]);
    assert!(online_users(&alive, ACME, &[BEN]).await.is_empty());
    // Swept by the live node's heartbeat: only its own session is left.
    assert_eq!(space.sessions().await, 1);
    assert_eq!(close(&alive, &ann_alive).await, 0, "the last of Ann");
    assert_eq!(space.keys().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_session_opened_again_on_another_node_is_renewed_by_that_node() {
    let space = Space::new();
    let members = Memberships::default();
    let (a, b) = (
        space.presence(&members).await,
        space.presence(&members).await,
    );
    let (node_a, node_b) = (Uuid::new_v4(), Uuid::new_v4());
    let ttl = Duration::from_millis(500);
    let moved = session(node_a, ACME, Some(GENERAL), "ann", None);
    open(&a, &moved, ttl).await;
    // A retry that reached the other node: the session is now b's to renew.
    let mut again = moved.clone();
    again.node = node_b;
    assert_eq!(open(&b, &again, ttl).await, 1);
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        b.heartbeat(node_b, ttl).await.expect("heartbeat");
    }
    assert_eq!(online(&a, ACME, GENERAL).await, ["ann"]);
    a.heartbeat(node_a, ttl).await.expect("heartbeat");
    let keys = space.keys().await;
    assert!(
        !keys.contains(&format!("presence:node:{node_a}")),
        "{keys:?}"
    );
    assert_eq!(close(&a, &moved).await, 0);
}

#[tokio::test]
async fn heartbeats_renew_and_sweep_more_sessions_than_one_batch() {
    let space = Space::new();
    let store = space.presence(&Memberships::default()).await;
    let (busy, dead) = (Uuid::new_v4(), Uuid::new_v4());
    let short = Duration::from_millis(300);
    // More than two batches of each (500 a script).
    for i in 0..1100 {
        open(
            &store,
            &session(busy, ACME, Some(GENERAL), &format!("u{i}"), None),
            short,
        )
        .await;
        open(
            &store,
            &session(dead, ACME, Some(GENERAL), &format!("d{i}"), None),
            short,
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        online(&store, ACME, GENERAL).await.is_empty(),
        "all expired"
    );

    store.heartbeat(busy, LONG).await.expect("heartbeat");
    let back = online(&store, ACME, GENERAL).await;
    assert_eq!(back.len(), 1100, "every session of the node renewed");
    assert!(back.iter().all(|key| key.starts_with('u')));
    assert_eq!(space.sessions().await, 1100, "every dead one swept");
}
