//! The shared allowances as the limits use them, over a fake store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chat_domain::TokenHash;
use futures_util::future::BoxFuture;

use super::buckets::{Allowance, RateLimits};
use super::config::{Rate, RateConfig};
use super::shared::{Bucket, SharedBuckets, key_text};
use super::verdict::Verdict;

/// Records each round trip's buckets, and answers from a fixed number of tokens per
/// bucket, stopping at the first empty one; or fails every round trip.
#[derive(Debug, Default)]
struct Fake {
    failing: bool,
    left: Mutex<HashMap<Bucket, u32>>,
    asked: Mutex<Vec<(Vec<Bucket>, String)>>,
}

impl SharedBuckets for Fake {
    fn take<'a>(
        &'a self,
        key: &'a TokenHash,
        buckets: &'a [(Bucket, Rate)],
    ) -> BoxFuture<'a, anyhow::Result<Verdict>> {
        Box::pin(async move {
            if self.failing {
                anyhow::bail!("the store is away");
            }
            if let Ok(mut asked) = self.asked.lock() {
                asked.push((buckets.iter().map(|(b, _)| *b).collect(), key_text(key)));
            }
            let mut left = self.left.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            let mut verdict = None;
            for (bucket, rate) in buckets {
                let tokens = left.entry(*bucket).or_insert(rate.burst);
                let allowed = *tokens > 0;
                *tokens = tokens.saturating_sub(1);
                let told = Verdict {
                    limit: rate.burst,
                    remaining: *tokens,
                    reset: 0,
                    retry_after: (!allowed).then_some(7),
                };
                verdict = Some(told);
                if !allowed {
                    break;
                }
            }
            verdict.ok_or_else(|| anyhow::anyhow!("no bucket"))
        })
    }
}

fn config() -> RateConfig {
    RateConfig {
        requests: Rate {
            per_sec: 1,
            burst: 5,
        },
        sends: Rate {
            per_sec: 1,
            burst: 1,
        },
        ..RateConfig::default()
    }
}

#[tokio::test]
async fn a_send_takes_from_both_shared_buckets_in_one_round_trip_and_reports_the_last() {
    let fake = Arc::new(Fake::default());
    let limits = RateLimits::new(config()).with_shared(fake.clone());
    let key = TokenHash::of("sk_secret");
    let first = limits.take_shared(Allowance::Sends, &key).await;
    assert_eq!(
        (first.limit, first.remaining, first.retry_after),
        (1, 0, None)
    );
    let second = limits.take_shared(Allowance::Sends, &key).await;
    assert_eq!(second.retry_after, Some(7), "{second:?}");
    let asked = fake.asked.lock().map(|a| a.clone()).unwrap_or_default();
    let trips: Vec<Vec<Bucket>> = asked.iter().map(|(b, _)| b.clone()).collect();
    let send = vec![Bucket::Requests, Bucket::Sends];
    assert_eq!(trips, [send.clone(), send]);
    // A plain request asks the general bucket only.
    limits.take_shared(Allowance::Requests, &key).await;
    let last = fake.asked.lock().map(|a| a.last().cloned()).ok().flatten();
    assert_eq!(last.map(|(b, _)| b), Some(vec![Bucket::Requests]));
    // Keyed by the credential's hash, never the secret.
    assert!(
        asked
            .iter()
            .all(|(_, k)| k.len() == 64 && !k.contains("secret"))
    );
}

#[tokio::test]
async fn a_shared_store_that_cannot_answer_leaves_the_nodes_own_buckets_in_charge() {
    let limits = RateLimits::new(config()).with_shared(Arc::new(Fake {
        failing: true,
        ..Fake::default()
    }));
    let key = TokenHash::of("sk_secret");
    let seen: Vec<Option<u64>> = {
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(
                limits
                    .take_shared(Allowance::Requests, &key)
                    .await
                    .retry_after,
            );
        }
        seen
    };
    // The node's own bucket of 5: five pass, the sixth waits.
    assert_eq!(seen[..5], [None; 5]);
    assert!(seen[5].is_some(), "{seen:?}");
}
