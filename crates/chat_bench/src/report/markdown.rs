//! `latest.md`: the report as one markdown table.

use std::fmt::Write as _;

use super::{Kind, NOISY_PCT, Report, Row, bytes, marks, noisy, rate};

impl Report {
    pub(super) fn markdown(&self) -> String {
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
                verdict(row.met),
                row.errors
            );
            if let Some(also) = &row.also {
                let _ = writeln!(
                    md,
                    "| ↳ the same, against a second limit | {} | | | | {} req/s ({}) | {} | {} | {} | |",
                    row.concurrency.map_or("—".into(), |c| c.to_string()),
                    also.limit.throughput.map_or("—".into(), rate),
                    also.limit.name,
                    also.ratio
                        .map_or("—".into(), |r| format!("{:.1} %", r * 100.0)),
                    also.target.as_ref().map_or("—".into(), |t| t.text.clone()),
                    verdict(also.met),
                );
            }
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

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "✅ met",
        Some(false) => "❌ missed",
        None => "",
    }
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

fn opt_count(v: Option<u64>) -> String {
    match v {
        Some(u64::MAX) => "unlimited".into(),
        Some(v) => rate(v as f64),
        None => "?".into(),
    }
}
