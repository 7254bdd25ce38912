//! How many sockets each person has open on this node: a place per socket, taken at
//! admission and given back when the connection's [`SocketPlace`] is dropped (on every
//! way out of the connection, a panic included).
//!
//! The count is per node; a count shared by every node needs a shared store.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chat_domain::{AccountId, UserId};

type Key = (AccountId, UserId);

/// The open sockets of each person on this node. Cheap to clone (the counts are
/// shared).
#[derive(Clone, Default)]
pub struct OpenSockets {
    counts: Arc<Mutex<HashMap<Key, u32>>>,
}

impl fmt::Debug for OpenSockets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenSockets").finish_non_exhaustive()
    }
}

impl OpenSockets {
    /// No socket open.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a place for one more socket of `user` in `account`, if they have fewer than
    /// `limit` open (a limit of zero counts as one); `None` when they have `limit`
    /// already.
    pub fn take(&self, account: AccountId, user: UserId, limit: u32) -> Option<SocketPlace> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let open = counts.entry((account, user)).or_insert(0);
        if *open >= limit.max(1) {
            return None;
        }
        *open += 1;
        Some(SocketPlace {
            sockets: Some((self.clone(), (account, user))),
        })
    }

    /// How many sockets `user` in `account` has open on this node.
    pub fn open(&self, account: AccountId, user: UserId) -> u32 {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(&(account, user)).copied().unwrap_or(0)
    }

    fn give_back(&self, key: Key) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = counts.get_mut(&key) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                counts.remove(&key);
            }
        }
    }
}

/// One socket's place among its person's open sockets, given back when dropped. A
/// socket without a person (an API-key listener) holds a place that counts nothing.
#[must_use = "the place is given back as soon as it is dropped"]
pub struct SocketPlace {
    sockets: Option<(OpenSockets, Key)>,
}

impl SocketPlace {
    /// A place that counts nothing (a socket without a person).
    pub fn uncounted() -> Self {
        Self { sockets: None }
    }
}

impl fmt::Debug for SocketPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketPlace")
            .field("counted", &self.sockets.is_some())
            .finish()
    }
}

impl Drop for SocketPlace {
    fn drop(&mut self) {
        if let Some((sockets, key)) = self.sockets.take() {
            sockets.give_back(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACME: AccountId = AccountId(1);
    const ALICE: UserId = UserId(10);
    const BOB: UserId = UserId(11);

    /// A place that must be free.
    fn taken(sockets: &OpenSockets, account: AccountId, user: UserId, limit: u32) -> SocketPlace {
        match sockets.take(account, user, limit) {
            Some(place) => place,
            None => panic!("{user:?} of {account:?} should get a place (limit {limit})"),
        }
    }

    #[test]
    fn a_person_gets_up_to_the_limit_and_no_more() {
        let sockets = OpenSockets::new();
        let places: Vec<_> = (0..3).map(|_| taken(&sockets, ACME, ALICE, 3)).collect();
        assert_eq!(sockets.open(ACME, ALICE), 3);
        assert!(sockets.take(ACME, ALICE, 3).is_none());
        assert_eq!(sockets.open(ACME, ALICE), 3, "a refusal takes no place");
        drop(places);
        assert_eq!(sockets.open(ACME, ALICE), 0);
    }

    #[test]
    fn a_dropped_place_lets_the_next_socket_in() {
        let sockets = OpenSockets::new();
        let first = taken(&sockets, ACME, ALICE, 1);
        assert!(sockets.take(ACME, ALICE, 1).is_none());
        drop(first);
        let _second = taken(&sockets, ACME, ALICE, 1);
        assert_eq!(sockets.open(ACME, ALICE), 1);
    }

    #[test]
    fn people_and_accounts_are_counted_apart() {
        let sockets = OpenSockets::new();
        let _alice = taken(&sockets, ACME, ALICE, 1);
        let _bob = taken(&sockets, ACME, BOB, 1);
        let _other = taken(&sockets, AccountId(2), ALICE, 1);
        assert!(sockets.take(ACME, ALICE, 1).is_none());
    }

    #[test]
    fn a_zero_limit_counts_as_one_and_uncounted_places_count_nothing() {
        let sockets = OpenSockets::new();
        let _place = taken(&sockets, ACME, ALICE, 0);
        assert!(sockets.take(ACME, ALICE, 0).is_none());
        drop(SocketPlace::uncounted());
        assert_eq!(sockets.open(ACME, ALICE), 1);
    }

    #[test]
    fn a_place_is_given_back_when_its_owner_panics() {
        let sockets = OpenSockets::new();
        let held = sockets.clone();
        let task = std::thread::spawn(move || {
            let _place = taken(&held, ACME, ALICE, 1);
            panic!("the connection task fails");
        });
        assert!(task.join().is_err());
        assert_eq!(sockets.open(ACME, ALICE), 0);
    }
}
