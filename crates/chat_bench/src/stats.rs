//! What one phase measured: every completed operation's latency, the errors, the time.

use std::time::Duration;

/// The raw result of a fixed-duration phase (or of a series of rounds).
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Latency of every operation that succeeded inside the measured window, in µs.
    pub latencies_us: Vec<u64>,
    /// Operations that failed inside the measured window.
    pub errors: u64,
    /// One failure, as an example.
    pub error_sample: Option<String>,
    /// The measured window (after the warm-up).
    pub window: Duration,
}

impl Outcome {
    /// Adds another thread's or task's share.
    pub fn merge(&mut self, other: Outcome) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        if self.error_sample.is_none() {
            self.error_sample = other.error_sample;
        }
    }

    /// Records one failure.
    pub fn fail(&mut self, error: impl Into<String>) {
        self.errors += 1;
        if self.error_sample.is_none() {
            self.error_sample = Some(error.into());
        }
    }

    /// Sorts the latencies and sums them up.
    pub fn summary(mut self) -> Summary {
        self.latencies_us.sort_unstable();
        let completed = self.latencies_us.len() as u64;
        let secs = self.window.as_secs_f64();
        let throughput = if secs > 0.0 {
            completed as f64 / secs
        } else {
            0.0
        };
        Summary {
            completed,
            errors: self.errors,
            error_sample: self.error_sample,
            throughput,
            p50_ms: percentile_ms(&self.latencies_us, 50.0),
            p99_ms: percentile_ms(&self.latencies_us, 99.0),
            foreign_cpu_pct: None,
            cpu: None,
            windows: Vec::new(),
        }
    }
}

/// A phase summed up.
#[derive(Debug, Clone)]
pub struct Summary {
    pub completed: u64,
    pub errors: u64,
    pub error_sample: Option<String>,
    /// Completed operations per second of the measured window.
    pub throughput: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Percent of the machine's CPU used meanwhile by processes other than ours and
    /// PostgreSQL (a build, a test suite…): the measurement's noise.
    pub foreign_cpu_pct: Option<f64>,
    /// Who used the CPU during the measurement (warm-up included).
    pub cpu: Option<crate::cpu::CpuUse>,
    /// The throughput of each window, for a side measured in turns with another (empty
    /// otherwise): see [`crate::report::Row::paired_share_of`].
    pub windows: Vec<f64>,
}

/// Nearest-rank percentile of sorted µs values, in ms.
pub fn percentile_ms(sorted_us: &[u64], pct: f64) -> Option<f64> {
    if sorted_us.is_empty() {
        return None;
    }
    let rank = ((pct / 100.0) * sorted_us.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted_us.len()) - 1;
    Some(sorted_us[index] as f64 / 1000.0)
}

/// Microseconds of a duration, saturating.
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=100).map(|v| v * 1000).collect();
        assert_eq!(percentile_ms(&values, 50.0), Some(50.0));
        assert_eq!(percentile_ms(&values, 99.0), Some(99.0));
        assert_eq!(percentile_ms(&[7000], 99.0), Some(7.0));
        assert_eq!(percentile_ms(&[], 50.0), None);
    }

    #[test]
    fn throughput_is_per_second_of_the_window() {
        let outcome = Outcome {
            latencies_us: vec![1; 500],
            window: Duration::from_millis(250),
            ..Outcome::default()
        };
        let summary = outcome.summary();
        assert_eq!(summary.completed, 500);
        assert!((summary.throughput - 2000.0).abs() < 1e-6);
    }
}
