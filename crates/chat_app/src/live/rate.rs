//! How fast a client may send frames: a token bucket, and a close for a client that
//! keeps sending while refused.

use std::time::Instant;

/// Frames refused in a row before the connection is closed (4004).
pub const REFUSALS_BEFORE_CLOSE: u32 = 20;

/// What to do with one client frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameVerdict {
    /// Handle it.
    Handle,
    /// Answer `rate_limited` instead.
    Refuse,
    /// Refused too often in a row: close the connection.
    Close,
}

/// A token bucket over client frames: `per_second` on average, `burst` at once.
#[derive(Debug, Clone)]
pub struct FrameRate {
    tokens: f64,
    burst: f64,
    per_second: f64,
    at: Instant,
    refused: u32,
}

impl FrameRate {
    /// A full bucket at `now`. Zero rates count as one.
    pub fn new(per_second: u32, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            tokens: burst,
            burst,
            per_second: f64::from(per_second.max(1)),
            at: now,
            refused: 0,
        }
    }

    /// The verdict on one more frame arriving at `now`.
    pub fn frame(&mut self, now: Instant) -> FrameVerdict {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused = 0;
            FrameVerdict::Handle
        } else {
            self.refused += 1;
            if self.refused >= REFUSALS_BEFORE_CLOSE {
                FrameVerdict::Close
            } else {
                FrameVerdict::Refuse
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_is_handled_then_refused_until_tokens_come_back() {
        let start = Instant::now();
        let mut rate = FrameRate::new(10, 3, start);
        for _ in 0..3 {
            assert_eq!(rate.frame(start), FrameVerdict::Handle);
        }
        assert_eq!(rate.frame(start), FrameVerdict::Refuse);
        // 10 per second: one token after 100 ms.
        assert_eq!(
            rate.frame(start + Duration::from_millis(100)),
            FrameVerdict::Handle
        );
        assert_eq!(
            rate.frame(start + Duration::from_millis(100)),
            FrameVerdict::Refuse
        );
    }

    #[test]
    fn the_bucket_never_holds_more_than_the_burst() {
        let start = Instant::now();
        let mut rate = FrameRate::new(100, 2, start);
        let later = start + Duration::from_secs(60);
        assert_eq!(rate.frame(later), FrameVerdict::Handle);
        assert_eq!(rate.frame(later), FrameVerdict::Handle);
        assert_eq!(rate.frame(later), FrameVerdict::Refuse);
    }

    #[test]
    fn refusals_in_a_row_end_in_a_close_and_a_handled_frame_resets_them() {
        let start = Instant::now();
        let mut rate = FrameRate::new(1, 1, start);
        assert_eq!(rate.frame(start), FrameVerdict::Handle);
        for _ in 1..REFUSALS_BEFORE_CLOSE {
            assert_eq!(rate.frame(start), FrameVerdict::Refuse);
        }
        let later = start + Duration::from_secs(1);
        assert_eq!(rate.frame(later), FrameVerdict::Handle);
        for _ in 1..REFUSALS_BEFORE_CLOSE {
            assert_eq!(rate.frame(later), FrameVerdict::Refuse);
        }
        assert_eq!(rate.frame(later), FrameVerdict::Close);
    }

    #[test]
    fn zero_settings_still_let_a_frame_through() {
        let start = Instant::now();
        let mut rate = FrameRate::new(0, 0, start);
        assert_eq!(rate.frame(start), FrameVerdict::Handle);
        assert_eq!(rate.frame(start), FrameVerdict::Refuse);
    }
}
