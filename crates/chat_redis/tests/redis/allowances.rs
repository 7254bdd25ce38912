//! Shared allowances (GCRA in Redis): a burst, then refusals with a sane wait; refills
//! over time; one key is one allowance for every client (node), and keys do not mix.

use std::time::Duration;

use chat_redis::{Allowance, Gcra, RedisAllowances};

use crate::common::Space;

async fn take(allowances: &RedisAllowances, key: &str, per_sec: u32, burst: u32) -> Gcra {
    allowances
        .take(key, per_sec, burst)
        .await
        .expect("allowance answered")
}

/// Takes until refused; answers how many were allowed (at most `limit`).
async fn drain(allowances: &RedisAllowances, key: &str, per_sec: u32, burst: u32) -> u32 {
    let mut allowed = 0;
    while take(allowances, key, per_sec, burst).await.allowed {
        allowed += 1;
        assert!(allowed <= burst + 5, "never refused");
    }
    allowed
}

#[tokio::test]
async fn a_burst_is_allowed_then_refused_with_a_sane_retry_after() {
    let space = Space::new();
    let allowances = space.allowances().await;
    // Two a second: one every 500 ms, so the test's own pace cannot refill it.
    let mut seen = Vec::new();
    for _ in 0..3 {
        let gcra = take(&allowances, "requests:k", 2, 3).await;
        assert!(gcra.allowed, "{gcra:?}");
        assert_eq!(gcra.retry_after, None);
        seen.push(gcra.remaining);
    }
    assert_eq!(seen, [2, 1, 0]);

    let refused = take(&allowances, "requests:k", 2, 3).await;
    assert!(!refused.allowed);
    assert_eq!(refused.remaining, 0);
    let wait = refused.retry_after.expect("a wait when refused");
    assert!(
        wait > Duration::from_millis(300) && wait <= Duration::from_millis(500),
        "{wait:?}"
    );
    // Full again when the next one is allowed, plus the two intervals after it.
    assert_eq!(
        refused.reset_after,
        wait + Duration::from_secs(1),
        "{refused:?}"
    );
    // A refused request is not counted: the wait does not grow.
    let again = take(&allowances, "requests:k", 2, 3).await;
    assert!(again.retry_after.expect("still refused") <= wait);
}

#[tokio::test]
async fn an_allowance_refills_over_time_and_its_key_expires_when_full() {
    let space = Space::new();
    let allowances = space.allowances().await;
    // Ten a second: one every 100 ms.
    assert_eq!(drain(&allowances, "sends:k", 10, 2).await, 2);
    let ttl = space.pttl("gcra:sends:k").await;
    assert!(ttl > 0 && ttl <= 200, "expires when full again: {ttl} ms");

    tokio::time::sleep(Duration::from_millis(120)).await;
    let one = take(&allowances, "sends:k", 10, 2).await;
    assert!(one.allowed, "refilled by one: {one:?}");
    assert!(!take(&allowances, "sends:k", 10, 2).await.allowed);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(space.pttl("gcra:sends:k").await, -2, "full: no key left");
    let full = take(&allowances, "sends:k", 10, 2).await;
    assert_eq!((full.allowed, full.remaining), (true, 1), "{full:?}");
}

#[tokio::test]
async fn two_clients_of_one_key_share_its_allowance() {
    let space = Space::new();
    let (node_a, node_b) = (space.allowances().await, space.allowances().await);
    assert!(take(&node_a, "requests:shared", 1, 3).await.allowed);
    assert!(take(&node_a, "requests:shared", 1, 3).await.allowed);
    let last = take(&node_b, "requests:shared", 1, 3).await;
    assert_eq!((last.allowed, last.remaining), (true, 0), "{last:?}");
    assert!(!take(&node_a, "requests:shared", 1, 3).await.allowed);
    assert!(!take(&node_b, "requests:shared", 1, 3).await.allowed);
}

#[tokio::test]
async fn different_keys_have_allowances_of_their_own() {
    let space = Space::new();
    let allowances = space.allowances().await;
    assert_eq!(drain(&allowances, "requests:one", 1, 2).await, 2);
    let other = take(&allowances, "requests:two", 1, 2).await;
    assert_eq!((other.allowed, other.remaining), (true, 1), "{other:?}");
    // Nor do prefixes: another deployment on the same Redis.
    let elsewhere = Space::new();
    let theirs = take(&elsewhere.allowances().await, "requests:one", 1, 2).await;
    assert!(theirs.allowed, "{theirs:?}");
}

#[tokio::test]
async fn a_zero_rate_or_burst_counts_as_one() {
    let space = Space::new();
    let allowances = space.allowances().await;
    let first = take(&allowances, "requests:z", 0, 0).await;
    assert_eq!((first.allowed, first.remaining), (true, 0), "{first:?}");
    let refused = take(&allowances, "requests:z", 0, 0).await;
    let wait = refused.retry_after.expect("refused");
    assert!(
        wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
        "{wait:?}"
    );
}

/// A send's two allowances in one round trip: the general one, then the send one; the
/// first that refuses stops it, and the answer names which one spoke.
#[tokio::test]
async fn allowances_taken_in_turn_stop_at_the_first_refusal() {
    let space = Space::new();
    let allowances = space.allowances().await;
    let general = Allowance {
        key: "requests:k",
        per_sec: 1,
        burst: 2,
    };
    let sends = Allowance {
        key: "sends:k",
        per_sec: 1,
        burst: 1,
    };
    let both = [general, sends];
    let (last, first) = allowances.take_in_turn(&both).await.expect("answered");
    assert_eq!((last, first.allowed, first.remaining), (1, true, 0));
    // The send allowance is spent: refused by it, the general one having counted it.
    let (last, second) = allowances.take_in_turn(&both).await.expect("answered");
    assert_eq!((last, second.allowed), (1, false));
    // The general allowance is spent too now: refused by it, the send one not asked.
    let (last, third) = allowances.take_in_turn(&both).await.expect("answered");
    assert_eq!((last, third.allowed), (0, false));
    assert!(
        allowances.take_in_turn(&[]).await.is_err(),
        "nothing to take from"
    );
}
