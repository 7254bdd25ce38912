//! The command line: its subcommands, the options of `run`, and the [`Profile`] they make.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::corpus;
use crate::load::Timing;
use crate::setup::Sizes;

#[derive(Debug, Parser)]
#[command(name = "chat-bench", about = "The load generator of `make bench`")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
pub(crate) struct RunArgs {
    /// Base URL of the chatd under test.
    #[arg(long)]
    pub(crate) server: String,
    /// Base URL of chat-bench-bare.
    #[arg(long)]
    pub(crate) bare: String,
    /// The server's database (for the raw limits, ids and the history).
    #[arg(long, env = "BENCH_DATABASE_URL", hide_env_values = true)]
    pub(crate) database_url: String,
    /// The server's pid (its resident memory is read from /proc).
    #[arg(long)]
    pub(crate) server_pid: u32,
    /// The server's platform token.
    #[arg(long, env = "CHAT_PLATFORM_TOKEN", hide_env_values = true)]
    pub(crate) platform_token: String,
    /// Where the report goes.
    #[arg(long, default_value = "docs/benchmarks")]
    pub(crate) out: PathBuf,
    /// Shorter phases, fewer levels, smaller history and fewer idle sockets.
    #[arg(long)]
    pub(crate) quick: bool,
    /// Load-generator threads for HTTP and WebSocket clients.
    #[arg(long, default_value_t = 2)]
    pub(crate) threads: usize,
    /// Seconds the release build took (for the report's phases).
    #[arg(long)]
    pub(crate) build_secs: Option<f64>,
    /// Seconds the script spent before this run (database, servers), for the phases.
    #[arg(long)]
    pub(crate) prepare_secs: Option<f64>,
    /// Unix time at which the script started (the report's total).
    #[arg(long)]
    pub(crate) started_at: Option<f64>,
    /// Concurrency levels (default 1,8,32,64; quick 1,32).
    #[arg(long, value_delimiter = ',')]
    pub(crate) levels: Option<Vec<usize>>,
    /// Measured seconds per point (default 3; quick 1).
    #[arg(long)]
    pub(crate) window_secs: Option<f64>,
    /// Warm-up seconds per point (default 0.5; quick 0.3).
    #[arg(long)]
    pub(crate) warmup_secs: Option<f64>,
    /// Sockets in the fan-out room.
    #[arg(long)]
    pub(crate) fanout_sockets: Option<usize>,
    /// Measured fan-out rounds (default 100; quick 30).
    #[arg(long)]
    pub(crate) fanout_rounds: Option<usize>,
    /// Idle sockets (default 10000; quick 2000).
    #[arg(long)]
    pub(crate) idle_sockets: Option<usize>,
    /// Stored-message counts of the growth points (default 0,1000000,5000000; quick
    /// 0,100000,500000).
    #[arg(long, value_delimiter = ',')]
    pub(crate) growth: Option<Vec<i64>>,
    /// The server's log: its warnings and errors are summed up in the report.
    #[arg(long)]
    pub(crate) server_log: Option<PathBuf>,
    /// The bare handler's pid (its CPU use is reported).
    #[arg(long)]
    pub(crate) bare_pid: Option<u32>,
    /// The server's CHAT_WORKERS, as configured (for the report).
    #[arg(long, default_value = "default (cores)")]
    pub(crate) server_workers: String,
    /// The server's CHAT_DB_POOL_SIZE, as configured (for the report).
    #[arg(long, default_value = "16")]
    pub(crate) db_pool_size: String,
    /// The server's source revision (for the report).
    #[arg(long, default_value = "unknown")]
    pub(crate) revision: String,
    /// The vocabulary rank (1 = the most frequent) of the word the search row looks for:
    /// by default "refund" (the rarest), in about 0.026 % of the history's messages; the
    /// common word "invoice" (0.11 %) is searched too, without a target.
    #[arg(long, default_value_t = corpus::SEARCH_RANK)]
    pub(crate) search_rank: usize,
    /// Phases to leave out: send, webhook, hot, list, reactions, me, rooms, fanout, idle,
    /// nodes, growth, search, searchcost, roomscale.
    #[arg(long, value_delimiter = ',')]
    pub(crate) skip: Vec<String>,
    /// The `nodes` phase asks for its node sets on standard output and reads the answers on
    /// standard input (scripts/bench.sh starts and stops them: see `nodes.rs`). Without
    /// it, the phase is left out.
    #[arg(long)]
    pub(crate) nodes_from_stdio: bool,
}

/// What one run measures, and how long.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub(crate) quick: bool,
    pub(crate) levels: Vec<usize>,
    pub(crate) timing: Timing,
    pub(crate) growth_concurrency: usize,
    pub(crate) growth: Vec<i64>,
    pub(crate) fanout_sockets: usize,
    pub(crate) fanout_warmup: usize,
    pub(crate) fanout_rounds: usize,
    pub(crate) idle_sockets: usize,
    /// The account sizes (rooms) the room list is measured at: the first is the baseline,
    /// the last is judged.
    pub(crate) room_scale: Vec<i64>,
    pub(crate) send_rooms: usize,
    pub(crate) agent_rooms: usize,
}

/// The figures the issue sets targets for, and at what.
pub(crate) const IDLE_TARGET_SOCKETS: usize = 10_000;
/// Send throughput as a share of (b), the server's own send statements, at the judged levels.
pub(crate) const SEND_SHARE: f64 = 0.60;
/// The levels the send rows' share of (b) is judged at.
pub(crate) const SEND_JUDGED_LEVELS: [usize; 2] = [1, SEND_TARGET_LEVEL];
/// Send throughput as a share of (a), the physical insert, at [`SEND_TARGET_LEVEL`].
pub(crate) const SEND_PHYSICAL_SHARE: f64 = 0.15;
/// The concurrency of the send targets that are stated at one level (and of the webhook row).
pub(crate) const SEND_TARGET_LEVEL: usize = 32;
/// Send throughput with one webhook on message.created, as a share of the same send without.
pub(crate) const WEBHOOK_SHARE: f64 = 0.80;
/// How long the webhook row waits, after its load, for every event to be delivered.
pub(crate) const WEBHOOK_DRAIN: Duration = Duration::from_secs(120);
/// List throughput as a share of (c), the server's own page read, at every level.
pub(crate) const LIST_SHARE: f64 = 0.80;
pub(crate) const AUTH_SHARE: f64 = 0.40;
pub(crate) const FANOUT_P99_MS: f64 = 20.0;
/// The fan-out over several nodes (NATS relay): p99 of each socket's receipt, from the send.
pub(crate) const NODES_FANOUT_P99_MS: f64 = 25.0;
pub(crate) const IDLE_BUDGET_MIB: f64 = 200.0;
pub(crate) const GROWTH_FACTOR: f64 = 1.3;

impl Profile {
    pub(crate) fn new(args: &RunArgs) -> Self {
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
            room_scale: if quick {
                vec![1_000, 100_000]
            } else {
                vec![1_000, 1_000_000]
            },
            send_rooms: 100,
            agent_rooms: 200,
            levels,
        }
    }

    pub(crate) fn sizes(&self) -> Sizes {
        Sizes {
            send_rooms: self.send_rooms,
            hot_senders: self.levels.iter().copied().max().unwrap_or(1).max(1),
            fanout_people: self.fanout_sockets,
            agent_rooms: self.agent_rooms,
        }
    }

    pub(crate) fn mode(&self) -> &'static str {
        if self.quick { "quick" } else { "full" }
    }
}
