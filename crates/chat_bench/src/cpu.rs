//! Whether the machine was quiet: how busy its CPUs were, and who used them (from /proc).
//! The benchmarks share two cores with PostgreSQL; anything else running at the same time
//! (a build, a test suite) lowers every figure, ours and the limits alike.

use std::time::{Duration, Instant};

/// Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// The whole machine's CPU time so far, in ticks: (busy, total).
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|f| f.parse().ok())
        .collect();
    if fields.len() < 5 {
        return None;
    }
    let total: u64 = fields.iter().sum();
    // idle + iowait
    let idle = fields[3] + fields[4];
    Some((total - idle, total))
}

/// CPU time used by process `pid` so far (all its threads), in seconds.
pub fn process_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_SEC)
}

/// The 1-minute load average.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// How busy the machine's CPUs are over `window`, in percent of all of them.
pub fn busy_percent(window: Duration) -> Option<f64> {
    let (busy0, total0) = machine_ticks()?;
    std::thread::sleep(window);
    let (busy1, total1) = machine_ticks()?;
    let total = total1.checked_sub(total0)?;
    (total > 0).then(|| (busy1 - busy0) as f64 * 100.0 / total as f64)
}

/// CPU seconds used so far by `postgres` processes, split three ways.
#[derive(Debug, Clone, Copy, Default)]
struct PgSecs {
    /// Backends connected to our database.
    ours: f64,
    /// Processes of no database: the postmaster, WAL writer, checkpointer, background
    /// writer… (they work for every database, ours included).
    shared: f64,
    /// Backends of other databases, and every backend that has ended (the postmaster
    /// reaps them: their time is in its children's time). Our own backends are read
    /// before they end.
    others: f64,
}

fn postgres_secs(database: &str) -> PgSecs {
    let mut secs = PgSecs::default();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return secs;
    };
    let ours_marker = format!(" {database} ");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str() else { continue };
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if &stat[open + 1..close] != "postgres" {
            continue;
        }
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0) as f64
                / TICKS_PER_SEC
        };
        // utime, stime, cutime, cstime: fields 14 to 17 of the line.
        let own = ticks(11) + ticks(12);
        secs.others += ticks(13) + ticks(14);
        // The process title: "postgres: 15/main: user database 127.0.0.1(port) state".
        let title = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
            .unwrap_or_default();
        if title.contains(&ours_marker) {
            secs.ours += own;
        } else if title.contains('(') || title.contains("[local]") {
            secs.others += own;
        } else {
            secs.shared += own;
        }
    }
    secs
}

/// A reading of who has used the CPUs so far.
#[derive(Debug, Clone)]
pub struct Reading {
    at: Instant,
    busy: f64,
    /// Each of our processes' CPU seconds, in the order of the pids given.
    ours: Vec<f64>,
    postgres: PgSecs,
}

/// CPU seconds used between two readings.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CpuUse {
    /// Wall-clock seconds between the readings.
    pub secs: f64,
    /// The machine's capacity over them: secs × cores.
    pub capacity: f64,
    /// Each of our processes, as labelled.
    pub ours: Vec<(String, f64)>,
    /// PostgreSQL for us: the backends of our database and the processes of no database
    /// (WAL writer, checkpointer…).
    pub postgres: f64,
    /// PostgreSQL for others: backends of other databases, and backends that ended.
    pub postgres_others: f64,
    /// Everything else: builds, test suites, other servers.
    pub foreign: f64,
}

impl CpuUse {
    /// Percent of the machine's CPU used by others: other processes than ours and
    /// PostgreSQL's work for other databases.
    pub fn foreign_percent(&self) -> Option<f64> {
        (self.capacity > 0.0)
            .then(|| ((self.foreign + self.postgres_others) * 100.0 / self.capacity).min(100.0))
    }

    /// Adds the use of another interval (of the same processes, labelled alike).
    pub fn add(&mut self, other: &CpuUse) {
        self.secs += other.secs;
        self.capacity += other.capacity;
        // The same processes, in the same order (several may share a label).
        for ((_, secs), (_, more)) in self.ours.iter_mut().zip(&other.ours) {
            *secs += more;
        }
        self.postgres += other.postgres;
        self.postgres_others += other.postgres_others;
        self.foreign += other.foreign;
    }

    /// CPU seconds of our processes labelled `label` (several chatd nodes: their sum).
    pub fn of(&self, label: &str) -> Option<f64> {
        self.ours
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, s)| *s)
            .reduce(|a, b| a + b)
    }
}

/// Reads the machine's busy time, ours (`pids`) and PostgreSQL's (`database` is ours).
pub fn reading(pids: &[(String, String)], database: &str) -> Reading {
    Reading {
        at: Instant::now(),
        busy: machine_ticks().map_or(0.0, |(busy, _)| busy as f64 / TICKS_PER_SEC),
        ours: pids
            .iter()
            .map(|(_, pid)| process_secs(pid).unwrap_or(0.0))
            .collect(),
        postgres: postgres_secs(database),
    }
}

impl Reading {
    /// What was used since this reading; `pids` and `database` as given to [`reading`].
    pub fn since(&self, pids: &[(String, String)], database: &str, cores: usize) -> CpuUse {
        let now = reading(pids, database);
        let secs = now.at.duration_since(self.at).as_secs_f64();
        let ours: Vec<(String, f64)> = pids
            .iter()
            .zip(now.ours.iter().zip(&self.ours))
            .map(|((label, _), (after, before))| (label.clone(), (after - before).max(0.0)))
            .collect();
        let ours_total: f64 = ours.iter().map(|(_, s)| s).sum();
        // A backend of ours that ended meanwhile takes its time with it: never below 0.
        let postgres = (now.postgres.ours - self.postgres.ours).max(0.0)
            + (now.postgres.shared - self.postgres.shared).max(0.0);
        let postgres_others = (now.postgres.others - self.postgres.others).max(0.0);
        let busy = (now.busy - self.busy).max(0.0);
        CpuUse {
            secs,
            capacity: secs * cores as f64,
            ours,
            postgres,
            postgres_others,
            foreign: (busy - ours_total - postgres - postgres_others).max(0.0),
        }
    }
}
