//! The report: `latest.md` (one table), `latest.json` (the same, machine-readably) and
//! `latest.svg` (each measurement as a bar against its target).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::stats::Summary;

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
            note: None,
        }
    }

    /// Compares our throughput with `limit`'s; `target` is the share to reach, if any.
    pub fn share_of(mut self, name: &str, limit: &Summary, target: Option<f64>) -> Self {
        self.limit = Some(Limit {
            name: name.to_owned(),
            throughput: Some(limit.throughput),
            p50_ms: limit.p50_ms,
            p99_ms: limit.p99_ms,
        });
        self.kind = Some(Kind::Share);
        self.ratio = match self.throughput {
            Some(ours) if limit.throughput > 0.0 => Some(ours / limit.throughput),
            _ => None,
        };
        if let Some(share) = target {
            self.target = Some(Target {
                text: format!("≥ {:.0} % of limit", share * 100.0),
                kind: Kind::Share,
                threshold: share,
            });
        }
        self.judge()
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

    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
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
    pub fn count_targets(&mut self) {
        self.targets_met = self.results.iter().filter(|r| r.met == Some(true)).count();
        self.targets_missed = self.results.iter().filter(|r| r.met == Some(false)).count();
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

    fn markdown(&self) -> String {
        let mut md = String::new();
        let m = &self.machine;
        let _ = writeln!(md, "# Benchmarks: latest run\n");
        let _ = writeln!(
            md,
            "Written by `make bench` ({} mode) on {}. How to run and read it: [README.md](README.md).\n",
            self.mode, self.date
        );
        let _ = writeln!(md, "| machine | |\n|---|---|");
        let _ = writeln!(md, "| cores | {} |", m.cores);
        let _ = writeln!(md, "| memory | {} |", bytes(m.memory_bytes as f64));
        let _ = writeln!(md, "| CPU | {} |", m.cpu_model);
        let _ = writeln!(md, "| kernel | {} |", m.kernel);
        let _ = writeln!(md, "| PostgreSQL | {} |", m.postgres_version);
        let settings: Vec<String> = m
            .postgres_settings
            .iter()
            .map(|(k, v)| format!("`{k}={v}`"))
            .collect();
        let _ = writeln!(md, "| PostgreSQL settings | {} |", settings.join(", "));
        let _ = writeln!(
            md,
            "| open files (load generator / server) | {} / {} |",
            opt_count(m.open_files_limit_bench),
            opt_count(m.open_files_limit_server)
        );
        let _ = writeln!(
            md,
            "| quiet? | {} CPU busy in the second before the run; load average {} at the start, {} at the end |",
            m.busy_before_pct
                .map_or("?".into(), |b| format!("{b:.0} %")),
            m.load_average_start
                .map_or("?".into(), |l| format!("{l:.2}")),
            m.load_average_end.map_or("?".into(), |l| format!("{l:.2}"))
        );
        let s = &self.setup;
        let _ = writeln!(
            md,
            "| server | `CHAT_WORKERS={}`, `CHAT_DB_POOL_SIZE={}`, `RUST_LOG=warn` |",
            s.server_workers, s.db_pool_size
        );
        let _ = writeln!(md, "| server revision | {} |", s.revision);
        let _ = writeln!(
            md,
            "| load | {} load threads (awc), closed loop; {:.1} s warm-up, then {:.1} s measured per point; concurrency {} |",
            s.load_threads,
            s.warmup_secs,
            s.window_secs,
            s.levels
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(
            md,
            "\n**Targets: {} met, {} missed.**\n",
            self.targets_met, self.targets_missed
        );
        let _ = writeln!(
            md,
            "| measurement | concurrency | throughput (req/s) | p50 | p99 | limit | ratio | target | met? | errors |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---|---:|---|:---:|---:|");
        for row in &self.results {
            let _ = writeln!(
                md,
                "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                row.measurement,
                marks(row),
                row.concurrency.map_or("—".into(), |c| c.to_string()),
                row.throughput.map_or("—".into(), rate),
                ms(row.p50_ms),
                ms(row.p99_ms),
                limit_cell(row),
                ratio_cell(row),
                row.target.as_ref().map_or("—".into(), |t| t.text.clone()),
                match row.met {
                    Some(true) => "✅ met",
                    Some(false) => "❌ missed",
                    None => "",
                },
                row.errors
            );
        }
        let notes: Vec<&Row> = self
            .results
            .iter()
            .filter(|r| r.note.is_some() || r.error_sample.is_some())
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(md, "\nAbout some rows:\n");
            for row in notes {
                let concurrency = row
                    .concurrency
                    .map_or(String::new(), |c| format!(" (concurrency {c})"));
                if let Some(note) = &row.note {
                    let _ = writeln!(md, "- {}{concurrency}: {note}", row.measurement);
                }
                if let Some(error) = &row.error_sample {
                    let _ = writeln!(
                        md,
                        "- {}{concurrency}: **{} errors**, e.g. `{}`",
                        row.measurement,
                        row.errors,
                        error.replace('`', "'")
                    );
                }
            }
        }
        let disturbed: Vec<f64> = self
            .results
            .iter()
            .chain(self.limits.iter())
            .filter(|r| noisy(r))
            .filter_map(|r| r.foreign_cpu_pct)
            .collect();
        if !disturbed.is_empty() {
            let low = disturbed.iter().copied().fold(f64::MAX, f64::min);
            let high = disturbed.iter().copied().fold(0.0, f64::max);
            let _ = writeln!(
                md,
                "\n⚡ {} of the {} points were disturbed: others (other processes, PostgreSQL \
                 for other databases) used {low:.0}–{high:.0} % of the machine's CPU meanwhile \
                 (each point's share: `foreign_cpu_pct` in latest.json; in cores: the \
                 \"others\" column below).",
                disturbed.len(),
                self.results
                    .iter()
                    .chain(self.limits.iter())
                    .filter(|r| r.cpu.is_some())
                    .count()
            );
        }
        let _ = writeln!(
            md,
            "\n## The limits' own figures\n\nMeasured in the same run, interleaved with ours at each concurrency.\n"
        );
        let _ = writeln!(
            md,
            "| limit | concurrency | throughput (per s) | p50 | p99 | errors |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
        for row in &self.limits {
            let _ = writeln!(
                md,
                "| {}{} | {} | {} | {} | {} | {} |",
                row.measurement,
                marks(row),
                row.concurrency.map_or("—".into(), |c| c.to_string()),
                row.throughput.map_or("—".into(), rate),
                ms(row.p50_ms),
                ms(row.p99_ms),
                row.errors
            );
        }
        let _ = writeln!(
            md,
            "\n## Where the CPU went\n\nCPU used during each point (warm-up included), in cores \
             (CPU seconds per second), and per completed request. PostgreSQL is the backends \
             of the benchmark's database and the processes of no database (WAL writer, \
             checkpointer…); others are everything else: other processes (a build, a test \
             suite) and PostgreSQL's work for other databases. Above {NOISY_PCT:.0} % of the \
             machine for others (⚡), the figure is disturbed.\n"
        );
        let _ = writeln!(
            md,
            "| measurement | concurrency | per s | chatd | PostgreSQL | load generator | bare handler | others | chatd per request | PostgreSQL per request |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for row in self.results.iter().chain(self.limits.iter()) {
            let (Some(cpu), Some(rate)) = (&row.cpu, row.throughput) else {
                continue;
            };
            let cores = |secs: Option<f64>| match secs {
                Some(s) if cpu.secs > 0.0 => format!("{:.2}", s / cpu.secs),
                _ => "—".into(),
            };
            let per_request = |secs: Option<f64>| match secs {
                Some(s) if rate > 0.0 && cpu.secs > 0.0 => {
                    format!("{:.0} µs", s * 1e6 / (rate * cpu.secs))
                }
                _ => "—".into(),
            };
            let _ = writeln!(
                md,
                "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                row.label,
                marks(row),
                row.concurrency.map_or("—".into(), |c| c.to_string()),
                rate_cell(rate),
                cores(cpu.of("chatd")),
                cores(Some(cpu.postgres)),
                cores(cpu.of("chat-bench")),
                cores(cpu.of("chat-bench-bare")),
                cores(Some(cpu.foreign + cpu.postgres_others)),
                per_request(cpu.of("chatd")),
                per_request(Some(cpu.postgres)),
            );
        }
        let _ = writeln!(md, "\n## Phases\n\n| phase | time |\n|---|---:|");
        for phase in &self.phases {
            let _ = writeln!(md, "| {} | {:.1} s |", phase.name, phase.secs);
        }
        if !self.notes.is_empty() {
            let _ = writeln!(md, "\n## Notes\n");
            for note in &self.notes {
                let _ = writeln!(md, "- {note}");
            }
        }
        let _ = writeln!(
            md,
            "\n![Each measurement against its target](latest.svg)\n\nThe same data: [latest.json](latest.json)."
        );
        md
    }

    fn svg(&self) -> String {
        const WIDTH: f64 = 960.0;
        const LABEL: f64 = 300.0;
        const BAR: f64 = 560.0;
        const ROW: f64 = 20.0;
        let sections: [(Kind, &str); 3] = [
            (
                Kind::Share,
                "Throughput as a share of its limit (higher is better; tick: target)",
            ),
            (
                Kind::Factor,
                "Latency (p50) as a multiple of its value with 0 stored (lower is better; tick: target)",
            ),
            (
                Kind::Budget,
                "Share of an absolute budget used (lower is better; tick: the budget)",
            ),
        ];
        let mut body = String::new();
        let mut y = 80.0;
        for (kind, title) in sections {
            let rows: Vec<&Row> = self
                .results
                .iter()
                .filter(|r| r.kind == Some(kind) && r.ratio.is_some())
                .collect();
            if rows.is_empty() {
                continue;
            }
            let floor = match kind {
                Kind::Share => 1.0,
                Kind::Factor => 1.5,
                Kind::Budget => 1.2,
            };
            let scale = rows
                .iter()
                .filter_map(|r| r.ratio)
                .chain(
                    rows.iter()
                        .filter_map(|r| r.target.as_ref().map(|t| t.threshold)),
                )
                .fold(floor, f64::max)
                * 1.05;
            let _ = writeln!(
                body,
                r#"<text x="10" y="{:.0}" font-weight="bold">{}</text>"#,
                y + 4.0,
                xml(title)
            );
            y += 14.0;
            // Gridlines at each quarter of the scale's unit.
            let unit_x = |v: f64| LABEL + (v / scale) * BAR;
            let top = y;
            let bottom = y + ROW * rows.len() as f64;
            let mut tick = 0.0;
            while tick <= scale {
                let x = unit_x(tick);
                let _ = writeln!(
                    body,
                    r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#e0e0e0"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#757575">{}</text>"##,
                    bottom + 11.0,
                    match kind {
                        Kind::Share | Kind::Budget => format!("{:.0}%", tick * 100.0),
                        Kind::Factor => format!("{tick:.2}×"),
                    }
                );
                tick += 0.25;
            }
            for row in rows {
                let ratio = row.ratio.unwrap_or(0.0);
                let color = match row.met {
                    Some(true) => "#2e7d32",
                    Some(false) => "#c62828",
                    None => "#90a4ae",
                };
                let mut label = match row.concurrency {
                    Some(c) => format!("{} · c={c}", row.label),
                    None => row.label.clone(),
                };
                label = shorten(&label, 46);
                label.push_str(&marks(row));
                let w = (ratio / scale * BAR).clamp(0.0, BAR);
                let tick_x = row
                    .target
                    .as_ref()
                    .map_or(0.0, |t| unit_x(t.threshold) - LABEL);
                let text_x = LABEL + w.max(tick_x) + 5.0;
                let _ = writeln!(
                    body,
                    r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{LABEL}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}">{}</text>"##,
                    LABEL - 6.0,
                    y + 14.0,
                    xml(&label),
                    y + 3.0,
                    ROW - 6.0,
                    text_x,
                    y + 14.0,
                    xml(&match kind {
                        Kind::Share | Kind::Budget => format!("{:.0} %", ratio * 100.0),
                        Kind::Factor => format!("{ratio:.2}×"),
                    })
                );
                if let Some(target) = &row.target {
                    let x = unit_x(target.threshold);
                    let _ = writeln!(
                        body,
                        r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#212121" stroke-width="2"/>"##,
                        y + 1.0,
                        y + ROW - 1.0
                    );
                }
                y += ROW;
            }
            y += 34.0;
        }
        let height = y + 10.0;
        let m = &self.machine;
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(
            svg,
            r##"<rect width="100%" height="100%" fill="#ffffff"/><text x="10" y="22" font-size="16" font-weight="bold">chat-rooms benchmarks ({} mode): {} met, {} missed</text><text x="10" y="42" fill="#424242">{}</text><text x="10" y="58" font-size="11" fill="#616161">green: target met · red: missed · grey: no target · ⚠ errors · ⚡ disturbed by other processes</text>"##,
            self.mode,
            self.targets_met,
            self.targets_missed,
            xml(&format!(
                "{} · {} cores · {} · {} · PostgreSQL {}",
                self.date,
                m.cores,
                bytes(m.memory_bytes as f64),
                m.cpu_model,
                m.postgres_version
            ))
        );
        svg.push_str(&body);
        svg.push_str("</svg>\n");
        svg
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

fn limit_cell(row: &Row) -> String {
    match (&row.limit, row.kind) {
        (Some(limit), Some(Kind::Share)) => format!(
            "{} req/s ({})",
            limit.throughput.map_or("—".into(), rate),
            limit.name
        ),
        (Some(limit), Some(Kind::Factor)) => {
            format!("p50 {} ({})", ms(limit.p50_ms), limit.name)
        }
        (Some(limit), _) => limit.name.clone(),
        (None, _) => "—".into(),
    }
}

fn ratio_cell(row: &Row) -> String {
    match (row.ratio, row.kind) {
        (Some(r), Some(Kind::Share)) => format!("{:.1} %", r * 100.0),
        (Some(r), Some(Kind::Factor)) => format!("{r:.2}×"),
        (Some(r), Some(Kind::Budget)) => format!("{:.0} % of budget", r * 100.0),
        _ => "—".into(),
    }
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

fn rate_cell(v: f64) -> String {
    if v > 0.0 { rate(v) } else { "—".into() }
}

fn ms(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0} ms"),
        Some(v) if v >= 10.0 => format!("{v:.1} ms"),
        Some(v) => format!("{v:.2} ms"),
        None => "—".into(),
    }
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

fn opt_count(v: Option<u64>) -> String {
    match v {
        Some(u64::MAX) => "unlimited".into(),
        Some(v) => rate(v as f64),
        None => "?".into(),
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

    #[test]
    fn formats_rates_and_escapes_xml() {
        assert_eq!(rate(1234567.4), "1,234,567");
        assert_eq!(rate(999.0), "999");
        assert_eq!(xml("a<b&c"), "a&lt;b&amp;c");
    }
}
