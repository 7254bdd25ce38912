//! `chat-bench`: the load generator of `make bench` (scripts/bench.sh starts the servers and
//! calls it). It seeds a running `chatd`, measures it, measures the limits of the same
//! machine in the same run (raw PostgreSQL over direct connections, a bare actix-web
//! handler), and writes `latest.md`, `latest.json` and `latest.svg`.
//!
//! ```text
//! chat-bench run --server http://127.0.0.1:P --bare http://127.0.0.1:Q \
//!     --database-url postgres://…/chat_bench --server-pid PID [--quick] [--out docs/benchmarks]
//! chat-bench reset-db --admin-url postgres://…/postgres --name chat_bench   # prints its URL
//! chat-bench free-port                                                     # prints a free port
//! ```
//!
//! See docs/benchmarks/README.md for what is measured and how to read the report.

mod corpus;
mod cpu;
mod growth;
mod live;
mod load;
mod phases;
mod report;
mod serverlog;
mod setup;
mod sql;
mod stats;
mod ui;
mod webhook;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::web::Bytes;
use anyhow::Context;
use awc::http::Method;
use clap::{Args, Parser, Subcommand};
use diesel::{Connection, PgConnection};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::load::{MakeReq, PgOp, Req, Timing};
use crate::report::{Machine, Phase, Report, Row};
use crate::setup::{Api, Sizes, World};
use crate::stats::Summary;
use crate::ui::Ui;

#[derive(Debug, Parser)]
#[command(name = "chat-bench", about = "The load generator of `make bench`")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Seed a running server, measure it and its limits, write the report.
    Run(Box<RunArgs>),
    /// Drop and create a database; print its URL.
    ResetDb {
        /// A URL of the PostgreSQL server (any database the user may connect to).
        #[arg(long)]
        admin_url: String,
        #[arg(long, default_value = "chat_bench")]
        name: String,
    },
    /// Print a TCP port free on 127.0.0.1.
    FreePort,
    /// Write latest.md and latest.svg again from a latest.json (after a change to how they
    /// are drawn).
    Render {
        #[arg(default_value = "docs/benchmarks/latest.json")]
        json: PathBuf,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Base URL of the chatd under test.
    #[arg(long)]
    server: String,
    /// Base URL of chat-bench-bare.
    #[arg(long)]
    bare: String,
    /// The server's database (for the raw limits, ids and the history).
    #[arg(long, env = "BENCH_DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// The server's pid (its resident memory is read from /proc).
    #[arg(long)]
    server_pid: u32,
    /// The server's platform token.
    #[arg(long, env = "CHAT_PLATFORM_TOKEN", hide_env_values = true)]
    platform_token: String,
    /// Where the report goes.
    #[arg(long, default_value = "docs/benchmarks")]
    out: PathBuf,
    /// Shorter phases, fewer levels, smaller history and fewer idle sockets.
    #[arg(long)]
    quick: bool,
    /// Load-generator threads for HTTP and WebSocket clients.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Seconds the release build took (for the report's phases).
    #[arg(long)]
    build_secs: Option<f64>,
    /// Seconds the script spent before this run (database, servers), for the phases.
    #[arg(long)]
    prepare_secs: Option<f64>,
    /// Unix time at which the script started (the report's total).
    #[arg(long)]
    started_at: Option<f64>,
    /// Concurrency levels (default 1,8,32,64; quick 1,32).
    #[arg(long, value_delimiter = ',')]
    levels: Option<Vec<usize>>,
    /// Measured seconds per point (default 3; quick 1).
    #[arg(long)]
    window_secs: Option<f64>,
    /// Warm-up seconds per point (default 0.5; quick 0.3).
    #[arg(long)]
    warmup_secs: Option<f64>,
    /// Sockets in the fan-out room.
    #[arg(long)]
    fanout_sockets: Option<usize>,
    /// Measured fan-out rounds (default 100; quick 30).
    #[arg(long)]
    fanout_rounds: Option<usize>,
    /// Idle sockets (default 10000; quick 2000).
    #[arg(long)]
    idle_sockets: Option<usize>,
    /// Stored-message counts of the growth points (default 0,1000000,5000000; quick
    /// 0,100000,500000).
    #[arg(long, value_delimiter = ',')]
    growth: Option<Vec<i64>>,
    /// The server's log: its warnings and errors are summed up in the report.
    #[arg(long)]
    server_log: Option<PathBuf>,
    /// The bare handler's pid (its CPU use is reported).
    #[arg(long)]
    bare_pid: Option<u32>,
    /// The server's CHAT_WORKERS, as configured (for the report).
    #[arg(long, default_value = "default (cores)")]
    server_workers: String,
    /// The server's CHAT_DB_POOL_SIZE, as configured (for the report).
    #[arg(long, default_value = "16")]
    db_pool_size: String,
    /// The server's source revision (for the report).
    #[arg(long, default_value = "unknown")]
    revision: String,
    /// The vocabulary rank (1 = the most frequent) of the word the search row looks for:
    /// by default "refund" (the rarest), in about 0.026 % of the history's messages; the
    /// common word "invoice" (0.11 %) is searched too, without a target.
    #[arg(long, default_value_t = corpus::SEARCH_RANK)]
    search_rank: usize,
    /// Phases to leave out: send, webhook, hot, list, reactions, me, rooms, fanout, idle,
    /// growth, search, searchcost.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
}

/// What one run measures, and how long.
#[derive(Debug, Clone)]
struct Profile {
    quick: bool,
    levels: Vec<usize>,
    timing: Timing,
    growth_concurrency: usize,
    growth: Vec<i64>,
    fanout_sockets: usize,
    fanout_warmup: usize,
    fanout_rounds: usize,
    idle_sockets: usize,
    send_rooms: usize,
    agent_rooms: usize,
}

/// The figures the issue sets targets for, and at what.
const IDLE_TARGET_SOCKETS: usize = 10_000;
const SEND_SHARE: f64 = 0.60;
const SEND_TARGET_LEVEL: usize = 32;
/// Send throughput with one webhook on message.created, as a share of the same send without.
const WEBHOOK_SHARE: f64 = 0.80;
/// How long the webhook row waits, after its load, for every event to be delivered.
const WEBHOOK_DRAIN: Duration = Duration::from_secs(120);
const LIST_SHARE: f64 = 0.70;
const AUTH_SHARE: f64 = 0.40;
const FANOUT_P99_MS: f64 = 20.0;
const IDLE_BUDGET_MIB: f64 = 200.0;
const GROWTH_FACTOR: f64 = 1.3;

impl Profile {
    fn new(args: &RunArgs) -> Self {
        let quick = args.quick;
        let levels = args.levels.clone().unwrap_or_else(|| {
            if quick {
                vec![1, 32]
            } else {
                vec![1, 8, 32, 64]
            }
        });
        let window = args.window_secs.unwrap_or(if quick { 1.0 } else { 3.0 });
        let warmup = args.warmup_secs.unwrap_or(if quick { 0.3 } else { 0.5 });
        Self {
            quick,
            timing: Timing {
                warmup: Duration::from_secs_f64(warmup.max(0.0)),
                window: Duration::from_secs_f64(window.max(0.1)),
            },
            growth_concurrency: 1,
            growth: args.growth.clone().unwrap_or_else(|| {
                if quick {
                    vec![0, 100_000, 500_000]
                } else {
                    vec![0, 1_000_000, 5_000_000]
                }
            }),
            fanout_sockets: args.fanout_sockets.unwrap_or(1000),
            fanout_warmup: 5,
            fanout_rounds: args.fanout_rounds.unwrap_or(if quick { 30 } else { 100 }),
            idle_sockets: args.idle_sockets.unwrap_or(if quick {
                2000
            } else {
                IDLE_TARGET_SOCKETS
            }),
            send_rooms: 100,
            agent_rooms: 200,
            levels,
        }
    }

    fn sizes(&self) -> Sizes {
        Sizes {
            send_rooms: self.send_rooms,
            hot_senders: self.levels.iter().copied().max().unwrap_or(1).max(1),
            fanout_people: self.fanout_sockets,
            agent_rooms: self.agent_rooms,
        }
    }

    fn mode(&self) -> &'static str {
        if self.quick { "quick" } else { "full" }
    }
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run(args) => run(*args),
        Command::ResetDb { admin_url, name } => {
            println!("{}", sql::reset_database(&admin_url, &name)?);
            Ok(())
        }
        Command::Render { json } => {
            let report = Report::read(&json)?;
            let dir = json
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            report.write(dir)
        }
        Command::FreePort => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            println!("{}", listener.local_addr()?.port());
            Ok(())
        }
    }
}

/// A run in progress: what it has measured so far.
struct Run<'a> {
    ui: Ui,
    args: &'a RunArgs,
    profile: Profile,
    conn: PgConnection,
    results: Vec<Row>,
    limits: Vec<Row>,
    phases: Vec<Phase>,
    notes: Vec<String>,
    /// Whether leftover presence sessions were reported already.
    presence_noted: bool,
    /// The send over 100 rooms at the target concurrency, without webhooks (the webhook
    /// row's baseline).
    send_baseline: Option<Summary>,
    /// Our processes (label, pid: chatd, the bare handler, this one), for the CPU
    /// accounting.
    ours: Vec<(String, String)>,
    /// Our database's name (its backends' CPU is ours).
    database: String,
    cores: usize,
}

/// Send, list and their growth with the history.
struct GrowthPoint {
    target: i64,
    stored: i64,
    table_bytes: i64,
    send: Summary,
    list: Summary,
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let profile = Profile::new(&args);
    let ui = Ui::new();
    let conn = PgConnection::establish(&args.database_url)
        .with_context(|| format!("connecting to {}", sql::redact(&args.database_url)))?;
    let mut run = Run {
        ui,
        args: &args,
        profile,
        conn,
        results: Vec::new(),
        limits: Vec::new(),
        phases: Vec::new(),
        notes: Vec::new(),
        presence_noted: false,
        send_baseline: None,
        ours: [
            Some(("chatd", args.server_pid.to_string())),
            args.bare_pid
                .map(|pid| ("chat-bench-bare", pid.to_string())),
            Some(("chat-bench", "self".to_owned())),
        ]
        .into_iter()
        .flatten()
        .map(|(label, pid)| (label.to_owned(), pid))
        .collect(),
        database: sql::database_name(&args.database_url),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
    };
    if let Some(secs) = args.build_secs {
        run.phases.push(Phase {
            name: "release build (`cargo build --release -p chatd -p chat_bench`)".into(),
            secs,
        });
    }
    if let Some(secs) = args.prepare_secs {
        run.phases.push(Phase {
            name: "fresh database, servers started".into(),
            secs,
        });
    }
    let mut machine = machine(&mut run.conn, args.server_pid);
    let whole_run = cpu::reading(&run.ours, &run.database);
    if let Some(busy) = machine.busy_before_pct
        && busy > 25.0
    {
        let note = format!(
            "**The machine was not quiet**: {busy:.0} % of its CPU time was busy in the second \
             before the run (load average {}). Every figure, ours and the limits alike, is lower \
             than on a quiet machine, and noisier.",
            machine
                .load_average_start
                .map_or("?".into(), |l| format!("{l:.2}"))
        );
        run.ui.say(&note);
        run.notes.push(note);
    }
    run.ui.say(format!(
        "{} mode: {} cores, {}, PostgreSQL {}",
        run.profile.mode(),
        machine.cores,
        report::bytes(machine.memory_bytes as f64),
        machine.postgres_version
    ));

    let world = {
        let began = Instant::now();
        run.ui
            .say("setup: account, rooms, participants through the API");
        let world = run.setup()?;
        run.phases.push(Phase {
            name: "setup: account, rooms, joins and messages through the API; prefill".into(),
            secs: began.elapsed().as_secs_f64(),
        });
        world
    };

    let mut growth_points: Vec<GrowthPoint> = Vec::new();
    let targets = run.profile.growth.clone();
    let growth = !run.skipped("growth") && !targets.is_empty();
    // The first growth point now, while the history is (about) empty; the others at the end.
    let growth = growth && run.growth_step(&world, targets[0], &mut growth_points);
    if !run.skipped("send") {
        run.phase("send over 100 rooms, and the raw insert limit", |r| {
            r.send_phase(&world, false)
        });
    }
    if !run.skipped("webhook") {
        run.phase(
            "send with one webhook on message.created, and its deliveries",
            |r| r.webhook_phase(&world),
        );
    }
    if !run.skipped("hot") {
        run.phase("send to one hot room, and the raw insert limit", |r| {
            r.send_phase(&world, true)
        });
    }
    if !run.skipped("list") {
        run.phase("list newest 50, and the raw select limit", |r| {
            r.list_phase(&world)
        });
    }
    if !run.skipped("reactions") {
        run.phase(
            "list newest 50 with reactions on every message, and without",
            |r| r.reactions_phase(&world),
        );
    }
    if !run.skipped("me") {
        run.phase("clients/me, and the bare handler limit", |r| {
            r.me_phase(&world)
        });
    }
    if !run.skipped("rooms") {
        run.phase("the agent's rooms (account dialect)", |r| {
            r.rooms_phase(&world)
        });
    }
    if !run.skipped("fanout") {
        run.phase("WebSocket fan-out", |r| r.fanout_phase(&world));
    }
    if !run.skipped("idle") {
        run.phase("idle WebSockets", |r| r.idle_phase(&world));
    }
    if growth {
        for &target in &targets[1..] {
            if !run.growth_step(&world, target, &mut growth_points) {
                break;
            }
        }
    }
    run.growth_rows(&growth_points);
    // Search reads the history at its largest.
    if !run.skipped("search") {
        run.phase("search one word across the account's rooms", |r| {
            r.search_phase(&world)
        });
    }
    if !run.skipped("searchcost") {
        run.phase("send with and without the search index", |r| {
            r.search_cost_phase(&world)
        });
    }

    let used = whole_run.since(&run.ours, &run.database, run.cores);
    let parts: Vec<String> = used
        .ours
        .iter()
        .map(|(label, secs)| format!("{label} {secs:.0} s"))
        .chain([
            format!("PostgreSQL {:.0} s", used.postgres),
            format!(
                "PostgreSQL backends that ended or served other databases (the history's bulk \
                 writers among them) {:.0} s",
                used.postgres_others
            ),
            format!("other processes {:.0} s", used.foreign),
        ])
        .collect();
    run.notes.push(format!(
        "CPU over the whole run ({:.0} s × {} cores = {:.0} core-seconds): {}.",
        used.secs,
        run.cores,
        used.capacity,
        parts.join(", ")
    ));
    if let Some(log) = &args.server_log {
        run.notes.push(serverlog::summary(log));
    }
    machine.load_average_end = cpu::load_average();
    if !std::path::Path::new(&format!("/proc/{}", args.server_pid)).exists() {
        run.notes
            .push("**The server was no longer running at the end of the run.**".into());
    }
    if let Some(started) = args.started_at {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        run.phases.push(Phase {
            name: "total (from `make bench` to the report)".into(),
            secs: now - started,
        });
    }
    let date = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| "?".into());
    let mut report = Report {
        date,
        mode: run.profile.mode().into(),
        machine,
        setup: report::Setup {
            server_workers: args.server_workers.clone(),
            db_pool_size: args.db_pool_size.clone(),
            revision: args.revision.clone(),
            load_threads: args.threads,
            warmup_secs: run.profile.timing.warmup.as_secs_f64(),
            window_secs: run.profile.timing.window.as_secs_f64(),
            levels: run.profile.levels.clone(),
        },
        results: run.results,
        limits: run.limits,
        phases: run.phases,
        notes: run.notes,
        targets_met: 0,
        targets_missed: 0,
    };
    report.count_targets();
    report.write(&args.out)?;
    run.ui.say(format!(
        "report written to {}/latest.{{md,json,svg}}: {} targets met, {} missed",
        args.out.display(),
        report.targets_met,
        report.targets_missed
    ));
    Ok(())
}

/// Index of the room client `task` uses on its `iteration`-th turn: clients walk the rooms
/// in step, so that every room is used at every concurrency.
fn spread(task: usize, iteration: u64, concurrency: usize, rooms: usize) -> usize {
    let rooms = rooms.max(1) as u64;
    ((task as u64 + iteration * concurrency as u64) % rooms) as usize
}

/// Percent-encodes a query value.
fn query_escape(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn ws_base(http: &str) -> String {
    let http = http.trim_end_matches('/');
    if let Some(rest) = http.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = http.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        http.to_owned()
    }
}

fn describe(s: &Summary) -> String {
    let ms = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.2} ms"));
    let errors = if s.errors > 0 {
        format!(
            ", {} ERRORS (e.g. {})",
            s.errors,
            s.error_sample.as_deref().unwrap_or("?")
        )
    } else {
        String::new()
    };
    let noise = match s.foreign_cpu_pct {
        Some(p) if p > report::NOISY_PCT => {
            format!(" (noisy: other processes used {p:.0} % of the CPU)")
        }
        _ => String::new(),
    };
    format!(
        "{} /s, p50 {}, p99 {}{errors}{noise}",
        report::rate(s.throughput),
        ms(s.p50_ms),
        ms(s.p99_ms)
    )
}

impl Run<'_> {
    fn skipped(&self, what: &str) -> bool {
        self.args.skip.iter().any(|s| s == what)
    }

    /// Runs one phase, timing it; a failure is noted in the report and the run goes on.
    fn phase<T>(
        &mut self,
        name: &str,
        body: impl FnOnce(&mut Self) -> anyhow::Result<T>,
    ) -> Option<T> {
        let began = Instant::now();
        self.ui.say(name);
        let outcome = body(self);
        self.phases.push(Phase {
            name: name.to_owned(),
            secs: began.elapsed().as_secs_f64(),
        });
        match outcome {
            Ok(value) => Some(value),
            Err(error) => {
                self.ui.say(format!("FAILED: {name}: {error:#}"));
                self.notes.push(format!("**{name} failed**: {error:#}"));
                None
            }
        }
    }

    fn setup(&mut self) -> anyhow::Result<World> {
        let sizes = self.profile.sizes();
        let ui = self.ui.clone();
        let server = self.args.server.clone();
        let token = self.args.platform_token.clone();
        let conn = &mut self.conn;
        let (world, sanity) = actix_rt::System::new().block_on(async move {
            let api = Api::new(&server);
            let world = setup::seed(&ui, &api, &token, sizes, conn).await?;
            let sanity = setup::sanity(&api, &world).await?;
            Ok::<_, anyhow::Error>((world, sanity))
        })?;
        // The bare handler answers too.
        let bare = self.args.bare.clone();
        actix_rt::System::new().block_on(async move {
            Api::new(&bare)
                .wait_ready(Duration::from_secs(30))
                .await
                .context("the bare handler")
        })?;
        self.notes.push(sanity);
        Ok(world)
    }

    fn http(
        &self,
        label: &str,
        concurrency: usize,
        timing: Timing,
        make: MakeReq,
    ) -> anyhow::Result<Summary> {
        let before = cpu::reading(&self.ours, &self.database);
        let outcome = load::http_phase(
            &self.ui,
            label,
            self.args.threads,
            concurrency,
            timing,
            make,
        )?;
        let mut summary = outcome.summary();
        let used = before.since(&self.ours, &self.database, self.cores);
        summary.foreign_cpu_pct = used.foreign_percent();
        summary.cpu = Some(used);
        self.ui.say(format!("  {label}: {}", describe(&summary)));
        Ok(summary)
    }

    fn pg(
        &self,
        label: &str,
        concurrency: usize,
        timing: Timing,
        op: PgOp,
    ) -> anyhow::Result<Summary> {
        let before = cpu::reading(&self.ours, &self.database);
        let mut used = None;
        let outcome = load::pg_phase(
            &self.ui,
            label,
            &self.args.database_url,
            concurrency,
            timing,
            op,
            // Read while the clients' backends are still there.
            || used = Some(before.since(&self.ours, &self.database, self.cores)),
        )?;
        // Let the clients' backends end, and be reaped, before the next reading (an ended
        // backend's time counts as the postmaster's children's).
        std::thread::sleep(Duration::from_millis(200));
        let mut summary = outcome.summary();
        summary.foreign_cpu_pct = used.as_ref().and_then(cpu::CpuUse::foreign_percent);
        summary.cpu = used;
        self.ui.say(format!("  {label}: {}", describe(&summary)));
        Ok(summary)
    }
}

/// A count as "1.2M", "120k" or "950".
fn millions(n: i64) -> String {
    if n >= 1_000_000 {
        format!("{:.2}M", n as f64 / 1e6)
    } else if n >= 10_000 {
        format!("{:.0}k", n as f64 / 1e3)
    } else {
        n.to_string()
    }
}

/// The machine and its PostgreSQL.
fn machine(conn: &mut PgConnection, server_pid: u32) -> Machine {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("?".into(), |(_, v)| v.trim().to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or("?".into(), |s| s.trim().to_owned());
    let postgres_settings = [
        "shared_buffers",
        "max_connections",
        "synchronous_commit",
        "fsync",
        "wal_level",
    ]
    .iter()
    .map(|name| ((*name).to_owned(), sql::show(conn, name)))
    .collect();
    Machine {
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        memory_bytes: memory_kb * 1024,
        cpu_model,
        kernel,
        postgres_version: sql::show(conn, "server_version"),
        postgres_settings,
        open_files_limit_bench: live::open_files_limit("self"),
        open_files_limit_server: live::open_files_limit(&server_pid.to_string()),
        load_average_start: cpu::load_average(),
        load_average_end: None,
        busy_before_pct: cpu::busy_percent(Duration::from_secs(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_walk_every_room() {
        let mut seen = [false; 100];
        for iteration in 0..100 {
            seen[spread(0, iteration, 1, 100)] = true;
        }
        assert!(seen.iter().all(|s| *s));
        // At 32 clients, client 3 on its second turn is at room 35.
        assert_eq!(spread(3, 1, 32, 100), 35);
    }

    #[test]
    fn escapes_query_values() {
        assert_eq!(query_escape("ck_a-b.c~"), "ck_a-b.c~");
        assert_eq!(query_escape("a b&c"), "a%20b%26c");
        assert_eq!(ws_base("http://127.0.0.1:8000/"), "ws://127.0.0.1:8000");
    }
}
