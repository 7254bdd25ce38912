//! A run: driving its phases in order, and the helpers every phase uses.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use diesel::{Connection, PgConnection};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::args::{Profile, RunArgs};
use crate::load::{self, MakeReq, PgOp, Timing};
use crate::report::{self, Machine, Phase, Report, Row};
use crate::setup::{self, Api, World};
use crate::stats::{Outcome, Summary};
use crate::ui::Ui;
use crate::{cpu, live, serverlog, sql};

/// A run in progress: what it has measured so far.
pub(crate) struct Run<'a> {
    pub(crate) ui: Ui,
    pub(crate) args: &'a RunArgs,
    pub(crate) profile: Profile,
    pub(crate) conn: PgConnection,
    pub(crate) results: Vec<Row>,
    pub(crate) limits: Vec<Row>,
    pub(crate) phases: Vec<Phase>,
    pub(crate) notes: Vec<String>,
    /// Whether leftover presence sessions were reported already.
    pub(crate) presence_noted: bool,
    /// The send over 100 rooms at the target concurrency, without webhooks (the webhook
    /// row's baseline).
    pub(crate) send_baseline: Option<Summary>,
    /// Our processes (label, pid: chatd, the bare handler, this one), for the CPU
    /// accounting.
    pub(crate) ours: Vec<(String, String)>,
    /// Our database's name (its backends' CPU is ours).
    pub(crate) database: String,
    pub(crate) cores: usize,
    /// The limits whose prepared statements were noted already.
    pub(crate) checked_limits: Vec<String>,
    /// CPU seconds of processes that were ours for a while only (the node sets' chatd, and
    /// the NATS and Redis servers they used), by label: in the whole run's note, not in
    /// its "other processes".
    pub(crate) while_ours: Vec<(String, f64)>,
}

/// Send, list and their growth with the history.
pub(crate) struct GrowthPoint {
    pub(crate) target: i64,
    pub(crate) stored: i64,
    pub(crate) table_bytes: i64,
    pub(crate) send: Summary,
    pub(crate) list: Summary,
}

pub(crate) fn run(mut args: RunArgs) -> anyhow::Result<()> {
    // Connect as the server does: over loopback without TLS unless the URL asks for it.
    args.database_url = chat_store_pg::with_default_sslmode(&args.database_url).into_owned();
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
        checked_limits: Vec::new(),
        while_ours: Vec::new(),
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
        run.phase("send over 100 rooms, and its limits (b) and (a)", |r| {
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
        run.phase("send to one hot room, and its limits (b) and (a)", |r| {
            r.send_phase(&world, true)
        });
    }
    if !run.skipped("list") {
        run.phase("list newest 50, and its limit (c)", |r| {
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
    // Before the history grows: the node sets' send is read against the send above.
    if !run.skipped("nodes") {
        run.nodes_phases(&world);
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

    // Last: a million rooms make every later statement on `rooms` slower.
    if !run.skipped("roomscale") {
        run.phase(
            "the room list of an account of a thousand rooms, then a million",
            |r| r.room_scale_phase(),
        );
    }

    let used = whole_run.since(&run.ours, &run.database, run.cores);
    let while_ours: f64 = run.while_ours.iter().map(|(_, secs)| secs).sum();
    let parts: Vec<String> = used
        .ours
        .iter()
        .chain(&run.while_ours)
        .map(|(label, secs)| format!("{label} {secs:.0} s"))
        .chain([
            format!("PostgreSQL {:.0} s", used.postgres),
            format!(
                "PostgreSQL backends that ended or served other databases (the history's bulk \
                 writers among them) {:.0} s",
                used.postgres_others
            ),
            format!(
                "other processes {:.0} s",
                (used.foreign - while_ours).max(0.0)
            ),
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

pub(crate) fn describe(s: &Summary) -> String {
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
    pub(crate) fn skipped(&self, what: &str) -> bool {
        self.args.skip.iter().any(|s| s == what)
    }

    /// Runs one phase, timing it; a failure is noted in the report and the run goes on.
    pub(crate) fn phase<T>(
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

    pub(crate) fn setup(&mut self) -> anyhow::Result<World> {
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
        // Statistics (and a vacuum) of the world just seeded (users, rooms, memberships),
        // as autovacuum would soon have them (it may be off on the bench's server):
        // without, the planner guesses (an agent's list read every user of the account to
        // find its members).
        diesel::connection::SimpleConnection::batch_execute(&mut self.conn, "VACUUM ANALYZE")
            .context("VACUUM ANALYZE after the setup")?;
        Ok(world)
    }

    pub(crate) fn http(
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

    /// Two loads measured in turns (a, b, a, b, …, `rounds` windows each), so that what
    /// drifts on the machine meanwhile (another process, the caches, the clock) falls on
    /// both alike; each side's figures are of its windows together.
    pub(crate) fn http_in_turns(
        &mut self,
        sides: [(&str, MakeReq); 2],
        concurrency: usize,
        timing: Timing,
        rounds: usize,
    ) -> anyhow::Result<[Summary; 2]> {
        self.http_in_turns_between(sides, concurrency, timing, rounds, &mut |_, _| Ok(()))
    }

    /// [`Run::http_in_turns`], with `between` called on the run's connection after each
    /// window, with the side just measured (0 or 1): what changes the machine between the
    /// two sides (an index dropped, built again).
    pub(crate) fn http_in_turns_between(
        &mut self,
        sides: [(&str, MakeReq); 2],
        concurrency: usize,
        timing: Timing,
        rounds: usize,
        between: &mut dyn FnMut(&mut PgConnection, usize) -> anyhow::Result<()>,
    ) -> anyhow::Result<[Summary; 2]> {
        let mut outcomes = [Outcome::default(), Outcome::default()];
        let mut windows: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let mut cpu: [Option<cpu::CpuUse>; 2] = [None, None];
        for round in 1..=rounds {
            for (side, (label, make)) in sides.iter().enumerate() {
                let before = cpu::reading(&self.ours, &self.database);
                let outcome = load::http_phase(
                    &self.ui,
                    &format!("{label} ({round} of {rounds})"),
                    self.args.threads,
                    concurrency,
                    timing,
                    make.clone(),
                )?;
                let used = before.since(&self.ours, &self.database, self.cores);
                match &mut cpu[side] {
                    Some(sum) => sum.add(&used),
                    none => *none = Some(used),
                }
                let secs = outcome.window.as_secs_f64();
                if secs > 0.0 {
                    windows[side].push(outcome.latencies_us.len() as f64 / secs);
                }
                let window = outcomes[side].window + outcome.window;
                outcomes[side].merge(outcome);
                outcomes[side].window = window;
                between(&mut self.conn, side)?;
            }
        }
        let [a, b] = outcomes;
        let [cpu_a, cpu_b] = cpu;
        let [windows_a, windows_b] = windows;
        let summaries =
            [(a, cpu_a, windows_a), (b, cpu_b, windows_b)].map(|(outcome, used, windows)| {
                let mut summary = outcome.summary();
                summary.windows = windows;
                summary.foreign_cpu_pct = used.as_ref().and_then(cpu::CpuUse::foreign_percent);
                summary.cpu = used;
                summary
            });
        for ((label, _), summary) in sides.iter().zip(&summaries) {
            self.ui.say(format!(
                "  {label} ({rounds} windows): {}",
                describe(summary)
            ));
        }
        Ok(summaries)
    }

    pub(crate) fn pg(
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

/// The machine and its PostgreSQL.
pub(crate) fn machine(conn: &mut PgConnection, server_pid: u32) -> Machine {
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
