//! The report: `latest.md` (one table), `latest.json` (the same, machine-readably) and
//! `latest.svg` (each measurement as a bar against its target).

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::stats::Summary;

mod markdown;
mod svg;

/// How a row compares with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Our throughput as a share of the limit's: higher is better.
    Share,
    /// Our latency as a multiple of a baseline latency: lower is better.
    Factor,
    /// An absolute figure against a budget: lower is better.
    Budget,
}

/// A target: `kind` says which way it points.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub text: String,
    pub kind: Kind,
    pub threshold: f64,
}

/// What a row is compared with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Limit {
    pub name: String,
    pub throughput: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// A second limit a row's throughput is compared with, beside its first (the send rows:
/// (a), the physical insert, beside (b), the server's own send statements), with a target
/// of its own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Also {
    pub limit: Limit,
    /// Ours / this limit's throughput.
    pub ratio: Option<f64>,
    pub target: Option<Target>,
    pub met: Option<bool>,
}

/// One line of the table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub measurement: String,
    /// A short name for the chart.
    pub label: String,
    pub concurrency: Option<usize>,
    pub throughput: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// The largest latency, where a row shows it (in its note too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<f64>,
    pub completed: u64,
    pub errors: u64,
    pub error_sample: Option<String>,
    /// Percent of the CPU other processes used during the measurement (see `Summary`).
    pub foreign_cpu_pct: Option<f64>,
    /// Who used the CPU during the measurement (warm-up included).
    pub cpu: Option<crate::cpu::CpuUse>,
    /// An absolute reading (memory), with its unit.
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub limit: Option<Limit>,
    /// Share: ours / limit throughput; Factor: ours / baseline latency; Budget: value /
    /// budget.
    pub ratio: Option<f64>,
    pub kind: Option<Kind>,
    pub target: Option<Target>,
    pub met: Option<bool>,
    /// A second limit (throughput shares only), judged on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub also: Option<Also>,
    pub note: Option<String>,
}

impl Row {
    /// A row of measured requests, without comparison yet.
    pub fn measured(id: &str, measurement: &str, concurrency: Option<usize>, s: &Summary) -> Self {
        Self {
            id: id.to_owned(),
            measurement: measurement.to_owned(),
            label: measurement.to_owned(),
            concurrency,
            throughput: Some(s.throughput),
            p50_ms: s.p50_ms,
            p99_ms: s.p99_ms,
            max_ms: None,
            completed: s.completed,
            errors: s.errors,
            error_sample: s.error_sample.clone(),
            foreign_cpu_pct: s.foreign_cpu_pct,
            cpu: s.cpu.clone(),
            value: None,
            unit: None,
            limit: None,
            ratio: None,
            kind: None,
            target: None,
            met: None,
            also: None,
            note: None,
        }
    }

    /// Compares our throughput with `limit`'s; `target` is the share to reach, if any.
    pub fn share_of(mut self, name: &str, limit: &Summary, target: Option<f64>) -> Self {
        self.limit = Some(Limit::of(name, limit));
        self.kind = Some(Kind::Share);
        self.ratio = share(self.throughput, limit);
        if let Some(share) = target {
            self.target = Some(share_target(share));
        }
        self.judge()
    }

    /// [`Row::share_of`], for `ours` and `limit` measured in turns: the share is the median
    /// of each window's share of the `limit` window measured next to it, so that one slow
    /// stretch of the machine (a few seconds that moved one window by ten points) weighs
    /// as one window pair, not as a tenth of the whole. The overall rates stay the row's.
    pub fn paired_share_of(
        self,
        name: &str,
        ours: &Summary,
        limit: &Summary,
        target: Option<f64>,
    ) -> Self {
        let mut row = self.share_of(name, limit, target);
        if let Some(median) = paired_share(&ours.windows, &limit.windows) {
            row.ratio = Some(median);
            row = row.judge();
        }
        row
    }

    /// Compares our throughput with a second limit's too (after [`Row::share_of`]);
    /// `target` is the share of it to reach, if any, judged apart from the first.
    pub fn also_share_of(mut self, name: &str, limit: &Summary, target: Option<f64>) -> Self {
        let ratio = share(self.throughput, limit);
        let target = target.map(share_target);
        let met = target
            .as_ref()
            .map(|target| ratio.is_some_and(|ratio| ratio >= target.threshold) && self.errors == 0);
        self.also = Some(Also {
            limit: Limit::of(name, limit),
            ratio,
            target,
            met,
        });
        self
    }

    /// Whether each of the row's targets is met: the first limit's, then the second's.
    pub fn verdicts(&self) -> impl Iterator<Item = bool> + '_ {
        self.met
            .into_iter()
            .chain(self.also.as_ref().and_then(|also| also.met))
    }

    /// Compares our p50 with a baseline p50 (`factor` at most, when judged).
    pub fn factor_of(mut self, name: &str, baseline: &Summary, factor: Option<f64>) -> Self {
        self.limit = Some(Limit {
            name: name.to_owned(),
            throughput: Some(baseline.throughput),
            p50_ms: baseline.p50_ms,
            p99_ms: baseline.p99_ms,
        });
        self.kind = Some(Kind::Factor);
        self.ratio = match (self.p50_ms, baseline.p50_ms) {
            (Some(ours), Some(base)) if base > 0.0 => Some(ours / base),
            _ => None,
        };
        self.target = factor.map(|factor| Target {
            text: format!("p50 ≤ {factor}× its value at 0"),
            kind: Kind::Factor,
            threshold: factor,
        });
        self.judge()
    }

    /// Compares `measured` with a budget.
    pub fn within(mut self, measured: Option<f64>, budget: f64, text: &str) -> Self {
        self.kind = Some(Kind::Budget);
        self.ratio = measured.map(|m| m / budget);
        self.target = Some(Target {
            text: text.to_owned(),
            kind: Kind::Budget,
            threshold: 1.0,
        });
        self.judge()
    }

    fn judge(mut self) -> Self {
        self.met = match (&self.target, self.ratio) {
            (Some(target), Some(ratio)) => Some(match target.kind {
                Kind::Share => ratio >= target.threshold,
                Kind::Factor | Kind::Budget => ratio <= target.threshold,
            }),
            (Some(_), None) => Some(false),
            _ => None,
        };
        // A measurement with errors does not meet its target.
        if self.errors > 0 && self.met == Some(true) {
            self.met = Some(false);
        }
        self
    }

    /// Our throughput against a floor of `floor` requests a second (`text` says it).
    pub fn at_least(mut self, floor: f64, text: &str) -> Self {
        self.kind = Some(Kind::Share);
        self.ratio = self.throughput.map(|t| t / floor);
        self.target = Some(Target {
            text: text.to_owned(),
            kind: Kind::Share,
            threshold: 1.0,
        });
        self.judge()
    }

    /// Says the row's target in other words (its threshold stays).
    pub fn with_target_text(mut self, text: impl Into<String>) -> Self {
        if let Some(target) = &mut self.target {
            target.text = text.into();
        }
        self
    }

    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

impl Limit {
    fn of(name: &str, limit: &Summary) -> Self {
        Self {
            name: name.to_owned(),
            throughput: Some(limit.throughput),
            p50_ms: limit.p50_ms,
            p99_ms: limit.p99_ms,
        }
    }

    /// The limit's letter in the report, "(a)" of "(a) physical insert", if it has one.
    pub fn tag(&self) -> Option<&str> {
        let (tag, _) = self.name.split_once(' ')?;
        (tag.len() == 3 && tag.starts_with('(') && tag.ends_with(')')).then_some(tag)
    }
}

/// Ours as a share of `limit`'s throughput.
fn share(ours: Option<f64>, limit: &Summary) -> Option<f64> {
    ours.filter(|_| limit.throughput > 0.0)
        .map(|ours| ours / limit.throughput)
}

/// The median of the window pairs' shares, when both sides have the same windows.
pub fn paired_share(ours: &[f64], limit: &[f64]) -> Option<f64> {
    if ours.is_empty() || ours.len() != limit.len() || limit.iter().any(|&l| l <= 0.0) {
        return None;
    }
    let mut shares: Vec<f64> = ours.iter().zip(limit).map(|(o, l)| o / l).collect();
    shares.sort_by(f64::total_cmp);
    let mid = shares.len() / 2;
    Some(if shares.len() % 2 == 1 {
        shares[mid]
    } else {
        (shares[mid - 1] + shares[mid]) / 2.0
    })
}

/// The window pairs' shares, for a row's note: `window shares 97 %, 88 %, 95 % (median)`.
pub fn describe_pairs(ours: &[f64], limit: &[f64]) -> String {
    let shares: Vec<String> = ours
        .iter()
        .zip(limit)
        .map(|(o, l)| format!("{:.0} %", o / l * 100.0))
        .collect();
    format!(
        "window shares {} (the row's share is their median)",
        shares.join(", ")
    )
}

fn share_target(share: f64) -> Target {
    Target {
        text: format!("≥ {:.0} % of limit", share * 100.0),
        kind: Kind::Share,
        threshold: share,
    }
}

/// The machine, and the PostgreSQL it ran on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_bytes: u64,
    pub cpu_model: String,
    pub kernel: String,
    pub postgres_version: String,
    pub postgres_settings: Vec<(String, String)>,
    pub open_files_limit_bench: Option<u64>,
    pub open_files_limit_server: Option<u64>,
    /// 1-minute load average when the run started and when it ended.
    pub load_average_start: Option<f64>,
    pub load_average_end: Option<f64>,
    /// Percent of the machine's CPU busy in the second before the run.
    pub busy_before_pct: Option<f64>,
}

/// How the server and the load were configured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setup {
    pub server_workers: String,
    pub db_pool_size: String,
    pub revision: String,
    pub load_threads: usize,
    pub warmup_secs: f64,
    pub window_secs: f64,
    pub levels: Vec<usize>,
}

/// A phase of the run and how long it took.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub secs: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub date: String,
    pub mode: String,
    pub machine: Machine,
    pub setup: Setup,
    pub results: Vec<Row>,
    /// The limits' own figures.
    pub limits: Vec<Row>,
    pub phases: Vec<Phase>,
    pub notes: Vec<String>,
    pub targets_met: usize,
    pub targets_missed: usize,
}

impl Report {
    /// Counts the targets met and missed, a row's second limit's included.
    pub fn count_targets(&mut self) {
        let verdicts = || self.results.iter().flat_map(Row::verdicts);
        self.targets_met = verdicts().filter(|met| *met).count();
        self.targets_missed = verdicts().filter(|met| !*met).count();
    }

    /// Reads a report written before (`latest.json`).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Writes `latest.md`, `latest.json` and `latest.svg` into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let json = serde_json::to_string_pretty(self)?;
        write(dir, "latest.json", &(json + "\n"))?;
        write(dir, "latest.md", &self.markdown())?;
        write(dir, "latest.svg", &self.svg())?;
        Ok(())
    }
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// Other processes used more than this share of the CPU (percent): the figure is noisy.
pub const NOISY_PCT: f64 = 10.0;

fn noisy(row: &Row) -> bool {
    row.foreign_cpu_pct.is_some_and(|p| p > NOISY_PCT)
}

/// ⚠ for errors, ⚡ for a measurement disturbed by other processes.
fn marks(row: &Row) -> String {
    let mut marks = String::new();
    if row.errors > 0 {
        marks.push_str(" ⚠");
    }
    if noisy(row) {
        marks.push_str(" ⚡");
    }
    marks
}

/// A rate with thousands separators.
pub fn rate(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Bytes in MiB or GiB.
pub fn bytes(v: f64) -> String {
    let mib = v / (1024.0 * 1024.0);
    if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.1} MiB")
    }
}

pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(throughput: f64, p50: f64) -> Summary {
        Summary {
            completed: 10,
            errors: 0,
            error_sample: None,
            throughput,
            p50_ms: Some(p50),
            p99_ms: Some(p50 * 2.0),
            foreign_cpu_pct: None,
            cpu: None,
            windows: Vec::new(),
        }
    }

    #[test]
    fn shares_and_factors_are_judged_each_their_way() {
        let ours = summary(700.0, 1.2);
        let row = Row::measured("x", "x", Some(32), &ours).share_of(
            "raw",
            &summary(1000.0, 1.0),
            Some(0.6),
        );
        assert_eq!(row.met, Some(true));
        let row = Row::measured("x", "x", Some(1), &ours).factor_of(
            "at 0",
            &summary(1.0, 1.0),
            Some(1.3),
        );
        assert_eq!(row.met, Some(true));
        let row = Row::measured("x", "x", Some(1), &ours).factor_of(
            "at 0",
            &summary(1.0, 0.5),
            Some(1.3),
        );
        assert_eq!(row.met, Some(false));
        let row = Row::measured("x", "x", None, &ours).within(Some(25.0), 20.0, "p99 ≤ 20 ms");
        assert_eq!(row.met, Some(false));
    }

    #[test]
    fn errors_spoil_a_target() {
        let mut ours = summary(700.0, 1.2);
        ours.errors = 3;
        let row = Row::measured("x", "x", Some(32), &ours).share_of(
            "raw",
            &summary(1000.0, 1.0),
            Some(0.6),
        );
        assert_eq!(row.met, Some(false));
    }

    /// A send row at 32 clients: 700/s against (b) 1,000/s and (a) 5,000/s.
    fn send_row(b_target: Option<f64>, a_target: Option<f64>) -> Row {
        Row::measured("send", "send", Some(32), &summary(700.0, 1.2))
            .labelled("send, 100 rooms")
            .share_of("(b) send statement", &summary(1000.0, 1.0), b_target)
            .also_share_of("(a) physical insert", &summary(5000.0, 0.2), a_target)
    }

    #[test]
    fn a_second_limit_is_judged_apart_from_the_first() -> anyhow::Result<()> {
        let row = send_row(Some(0.6), Some(0.15));
        assert_eq!(row.met, Some(true));
        let also = row
            .also
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no second limit"))?;
        assert_eq!(also.ratio, Some(0.14));
        assert_eq!(also.met, Some(false));
        assert_eq!(row.verdicts().collect::<Vec<_>>(), [true, false]);
        // Without targets there is nothing to judge, on either limit.
        let row = send_row(None, None);
        assert_eq!(row.verdicts().count(), 0);
        assert_eq!(row.also.as_ref().and_then(|a| a.ratio), Some(0.14));
        // Errors spoil the second target too.
        let mut ours = summary(4000.0, 1.0);
        ours.errors = 1;
        let row = Row::measured("x", "x", Some(32), &ours).also_share_of(
            "(a) physical insert",
            &summary(5000.0, 0.2),
            Some(0.15),
        );
        assert_eq!(row.also.and_then(|a| a.met), Some(false));
        Ok(())
    }

    #[test]
    fn every_target_of_a_row_is_counted() {
        let mut report = Report {
            date: "d".into(),
            mode: "quick".into(),
            machine: Machine {
                cores: 2,
                memory_bytes: 0,
                cpu_model: "cpu".into(),
                kernel: "k".into(),
                postgres_version: "15".into(),
                postgres_settings: Vec::new(),
                open_files_limit_bench: None,
                open_files_limit_server: None,
                load_average_start: None,
                load_average_end: None,
                busy_before_pct: None,
            },
            setup: Setup {
                server_workers: "2".into(),
                db_pool_size: "16".into(),
                revision: "r".into(),
                load_threads: 2,
                warmup_secs: 0.3,
                window_secs: 1.0,
                levels: vec![1, 32],
            },
            results: vec![send_row(Some(0.6), Some(0.15)), send_row(Some(0.8), None)],
            limits: Vec::new(),
            phases: Vec::new(),
            notes: Vec::new(),
            targets_met: 0,
            targets_missed: 0,
        };
        report.count_targets();
        assert_eq!((report.targets_met, report.targets_missed), (1, 2));
        let md = report.markdown();
        assert!(md.contains(
            "| ↳ the same, against a second limit | 32 | | | | 5,000 req/s ((a) physical insert) \
             | 14.0 % | ≥ 15 % of limit | ❌ missed | |"
        ));
        assert!(
            md.contains("1,000 req/s ((b) send statement) | 70.0 % | ≥ 60 % of limit | ✅ met")
        );
        let svg = report.svg();
        assert!(svg.contains(">send, 100 rooms · c=32 · of (b)<"));
        assert!(svg.contains(">↳ the same, of (a) physical insert<"));
        assert!(svg.contains(">14 %<"));
        // A report written before rows had a second limit still reads.
        let mut json = serde_json::to_value(&report).unwrap_or_default();
        if let Some(rows) = json["results"].as_array_mut() {
            for row in rows {
                row.as_object_mut().map(|row| row.remove("also"));
            }
        }
        let old: Result<Report, _> = serde_json::from_value(json);
        assert!(old.is_ok_and(|old| old.results.iter().all(|r| r.also.is_none())));
    }

    #[test]
    fn limits_are_tagged_by_their_letter() {
        let limit = |name: &str| Limit::of(name, &summary(1.0, 1.0));
        assert_eq!(limit("(a) physical insert").tag(), Some("(a)"));
        assert_eq!(limit("bare actix-web handler").tag(), None);
        assert_eq!(limit("(abc) x").tag(), None);
    }

    #[test]
    fn formats_rates_and_escapes_xml() {
        assert_eq!(rate(1234567.4), "1,234,567");
        assert_eq!(rate(999.0), "999");
        assert_eq!(xml("a<b&c"), "a&lt;b&amp;c");
    }

    #[test]
    fn a_floor_is_met_at_or_above_it_and_a_target_keeps_its_threshold_when_reworded() {
        let below =
            Row::measured("r", "r", Some(32), &summary(600.0, 1.0)).at_least(1500.0, "≥ 1500");
        assert_eq!((below.ratio, below.met), (Some(0.4), Some(false)));
        let at =
            Row::measured("r", "r", Some(32), &summary(1500.0, 1.0)).at_least(1500.0, "≥ 1500");
        assert_eq!(at.met, Some(true));

        let base = summary(100.0, 1.0);
        let slower = Row::measured("r", "r", Some(1), &summary(100.0, 1.4))
            .factor_of("at 1000 rooms", &base, Some(1.3))
            .with_target_text("p50 ≤ 1.3× its value at 1000 rooms");
        let target = slower
            .target
            .as_ref()
            .map(|t| (t.text.as_str(), t.threshold));
        assert_eq!(target, Some(("p50 ≤ 1.3× its value at 1000 rooms", 1.3)));
        assert_eq!(slower.met, Some(false));
        let untargeted = Row::measured("r", "r", Some(1), &base).with_target_text("ignored");
        assert!(untargeted.target.is_none());
    }

    #[test]
    fn a_share_in_turns_is_the_median_of_its_window_pairs() {
        // One slow window of ours (60 of 100) moves the overall share, not the median.
        let ours = [95.0, 60.0, 96.0];
        let limit = [100.0, 100.0, 100.0];
        assert_eq!(paired_share(&ours, &limit), Some(0.95));
        assert_eq!(paired_share(&[90.0, 100.0], &[100.0, 100.0]), Some(0.95));
        assert_eq!(paired_share(&ours, &limit[..2]), None);
        assert_eq!(paired_share(&[], &[]), None);
        assert_eq!(paired_share(&[1.0], &[0.0]), None);

        let mut with = summary(250.0 / 3.0, 1.0);
        with.windows = ours.to_vec();
        let mut without = summary(100.0, 1.0);
        without.windows = limit.to_vec();
        let row = Row::measured("r", "r", Some(8), &with);
        let overall = row.clone().share_of("base", &without, Some(0.9));
        assert_eq!(overall.met, Some(false));
        let paired = row.paired_share_of("base", &with, &without, Some(0.9));
        assert_eq!((paired.ratio, paired.met), (Some(0.95), Some(true)));
        assert_eq!(
            describe_pairs(&ours, &limit),
            "window shares 95 %, 60 %, 96 % (the row's share is their median)"
        );
    }
}
