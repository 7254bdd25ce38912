//! Credential changes through the hub: published here, they go to the other nodes and
//! to this node's credential watchers; relayed from another node, to the watchers;
//! after the relay reconnects, the watchers re-check everything. No socket is delivered
//! anything.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_app::live::{CredentialWatcher, MockPresenceStore};
use chat_app::ports::{MockMessageStore, MockRoomStore, MockUserDirectory};
use chat_app::{
    CredentialEvent, DomainEvent, EventPublisher, EventRelay, MessageFilter, Notice, RelayInbox,
    Scope,
};
use chat_domain::{AccountId, RoomId, UserId};
use chat_realtime::{Hub, HubConfig, HubStores};
use tokio::time::{Instant, sleep, timeout};
use uuid::Uuid;

const ACCOUNT: AccountId = AccountId(1);
const WAIT: Duration = Duration::from_secs(2);
const QUIET: Duration = Duration::from_millis(100);

/// A relay that keeps what it is given.
#[derive(Debug, Default)]
struct RecordingRelay(Mutex<Vec<Notice>>);

impl EventRelay for RecordingRelay {
    fn relay(&self, notice: Notice) {
        self.0.lock().expect("relay").push(notice);
    }
}

/// What a watcher was told.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Told {
    Changed(CredentialEvent),
    Missed,
}

/// A watcher that keeps what it is told.
#[derive(Debug, Default)]
struct RecordingWatcher(Mutex<Vec<Told>>);

impl CredentialWatcher for RecordingWatcher {
    fn changed(&self, event: CredentialEvent) {
        self.0.lock().expect("watcher").push(Told::Changed(event));
    }

    fn missed(&self) {
        self.0.lock().expect("watcher").push(Told::Missed);
    }
}

impl RecordingWatcher {
    /// What it was told, once it was told `count` things (failing after a while).
    async fn told(&self, count: usize) -> Vec<Told> {
        let deadline = Instant::now() + WAIT;
        loop {
            let told = self.0.lock().expect("watcher").clone();
            if told.len() >= count {
                return told;
            }
            assert!(Instant::now() < deadline, "told only {told:?}");
            sleep(Duration::from_millis(5)).await;
        }
    }
}

fn start() -> (Hub, Arc<RecordingRelay>) {
    let mut messages = MockMessageStore::new();
    // Where a room socket's deliveries start (no message yet); resync reads nothing.
    messages
        .expect_list_messages()
        .returning(|_, _, _: MessageFilter| Ok((Vec::new(), 0)));
    let mut presence = MockPresenceStore::new();
    presence.expect_heartbeat().returning(|_, _| Ok(()));
    let relay = Arc::new(RecordingRelay::default());
    let hub = Hub::start(
        HubStores {
            rooms: Arc::new(MockRoomStore::new()),
            messages: Arc::new(messages),
            users: Arc::new(MockUserDirectory::new()),
            presence: Arc::new(presence),
        },
        relay.clone(),
        Uuid::from_u128(99),
        HubConfig::default(),
    );
    (hub, relay)
}

fn bob_changed() -> CredentialEvent {
    CredentialEvent {
        account: ACCOUNT,
        user: Some(UserId(7)),
    }
}

#[tokio::test]
async fn a_change_published_here_goes_to_the_other_nodes_and_to_every_watcher_here() {
    let (hub, relay) = start();
    let first = Arc::new(RecordingWatcher::default());
    let second = Arc::new(RecordingWatcher::default());
    hub.watch_credentials(first.clone());
    hub.watch_credentials(second.clone());
    let mut socket = hub
        .subscribe(
            Scope::Room {
                account: ACCOUNT,
                room: RoomId(5),
            },
            Some("bob".to_owned()),
        )
        .await
        .expect("subscribed");

    hub.publish(DomainEvent::Credentials(bob_changed()));
    assert_eq!(first.told(1).await, vec![Told::Changed(bob_changed())]);
    assert_eq!(second.told(1).await, vec![Told::Changed(bob_changed())]);
    assert_eq!(
        relay.0.lock().expect("relay").clone(),
        vec![Notice::Credentials(bob_changed())]
    );
    let delivered = timeout(QUIET, socket.deliveries.recv()).await;
    assert!(delivered.is_err(), "no socket hears of it: {delivered:?}");
}

#[tokio::test]
async fn a_change_relayed_from_another_node_reaches_the_watchers_and_is_not_relayed_back() {
    let (hub, relay) = start();
    let watcher = Arc::new(RecordingWatcher::default());
    hub.watch_credentials(watcher.clone());
    let account_wide = CredentialEvent {
        account: ACCOUNT,
        user: None,
    };
    hub.received(Notice::Credentials(account_wide));
    hub.received(Notice::Credentials(bob_changed()));
    assert_eq!(
        watcher.told(2).await,
        vec![Told::Changed(account_wide), Told::Changed(bob_changed())]
    );
    assert!(relay.0.lock().expect("relay").is_empty());
}

#[tokio::test]
async fn after_the_relay_reconnects_the_watchers_re_check_everything() {
    let (hub, _relay) = start();
    let watcher = Arc::new(RecordingWatcher::default());
    hub.watch_credentials(watcher.clone());
    hub.resync();
    assert_eq!(watcher.told(1).await, vec![Told::Missed]);
}

#[tokio::test]
async fn a_watcher_hears_only_changes_after_it_started_watching() {
    let (hub, _relay) = start();
    hub.publish(DomainEvent::Credentials(bob_changed()));
    let watcher = Arc::new(RecordingWatcher::default());
    hub.watch_credentials(watcher.clone());
    let later = CredentialEvent {
        account: AccountId(2),
        user: None,
    };
    hub.publish(DomainEvent::Credentials(later));
    assert_eq!(watcher.told(1).await, vec![Told::Changed(later)]);
}
