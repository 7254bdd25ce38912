//! What the relay's two threads share with the handle: the stop flag, the count of
//! dropped notices, and the pause between attempts to reach the database.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a relay thread waits at most before looking at the stop flag again.
pub(crate) const TICK: Duration = Duration::from_millis(50);

/// The pauses between attempts to reach the database: 100 ms, doubling up to 2 s.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MOST: Duration = Duration::from_secs(2);

    pub(crate) fn new() -> Self {
        Self { next: Self::FIRST }
    }

    pub(crate) fn next(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(Self::MOST);
        pause
    }

    pub(crate) fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

/// What the relay's threads share with it.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) stopped: AtomicBool,
    /// Whether notices are being dropped because the queue is full (logged once per
    /// episode), and how many were.
    pub(crate) overflowing: AtomicBool,
    pub(crate) dropped: AtomicU64,
}

impl Shared {
    pub(crate) fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Sleeps `pause`, waking up to look at the stop flag; false when stopped.
    pub(crate) fn pause(&self, pause: Duration) -> bool {
        let until = Instant::now() + pause;
        loop {
            if self.stopped() {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(TICK));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_backoff_doubles_from_100_ms_up_to_2_s() {
        let mut backoff = Backoff::new();
        let pauses: Vec<u128> = (0..7).map(|_| backoff.next().as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1600, 2000, 2000]);
        backoff.reset();
        assert_eq!(backoff.next(), Duration::from_millis(100));
    }
}
