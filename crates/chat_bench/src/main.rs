//! `chat-bench`: the load generator of `make bench` (scripts/bench.sh starts the servers and
//! calls it). It seeds a running `chatd`, measures it, measures the limits of the same
//! machine in the same run (PostgreSQL over direct connections: a physical insert, and the
//! store's own send and page read; a bare actix-web handler), and writes `latest.md`,
//! `latest.json` and `latest.svg`.
//!
//! ```text
//! chat-bench run --server http://127.0.0.1:P --bare http://127.0.0.1:Q \
//!     --database-url postgres://…/chat_bench --server-pid PID [--quick] [--out docs/benchmarks]
//! chat-bench reset-db --admin-url postgres://…/postgres --name chat_bench   # prints its URL
//! chat-bench free-port                                                     # prints a free port
//! ```
//!
//! Under scripts/bench.sh, `run` also gets `--nodes-from-stdio`: its phase `nodes` asks the
//! script for sets of three more nodes, one set at a time (see `nodes.rs`).
//!
//! See docs/benchmarks/README.md for what is measured and how to read the report.

mod args;
mod corpus;
mod cpu;
mod growth;
mod limits;
mod live;
mod load;
mod nodes;
mod phases;
mod report;
mod run;
mod serverlog;
mod setup;
mod sql;
mod stats;
mod ui;
mod webhook;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::Context;
use awc::http::Method;
use clap::Parser;

use crate::load::{MakeReq, PgOp, Req};
use crate::report::{Report, Row};
use crate::setup::{Api, World};
use crate::stats::Summary;

pub(crate) use crate::args::*;
pub(crate) use crate::run::*;

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
