//! The node sets of the `nodes` phase. scripts/bench.sh starts a set of chatd nodes on the
//! bench's database when asked, and stops it after, one set at a time (the machine's cores
//! are shared): the requests go out on this process's standard output, one line each, and
//! the answers come back on its standard input.
//!
//! ```text
//! → start nats        (a set relaying over NATS, presence and allowances in Redis)
//! → start pg          (a set relaying over PostgreSQL LISTEN/NOTIFY)
//! ← ok urls=http://127.0.0.1:P,… pids=N,… logs=.local/bench/node-nats-1.log,… services=nats-server:N,redis-server:N
//! → stop
//! ← ok
//! ← error <why>       (to either request)
//! ```

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, anyhow, bail};

/// How the nodes of a set keep each other in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relay {
    /// `CHAT_NATS_URL` and `CHAT_REDIS_URL` set: events over NATS, presence and rate-limit
    /// allowances in Redis.
    Nats,
    /// Neither: events over PostgreSQL LISTEN/NOTIFY, presence in PostgreSQL, allowances
    /// per node.
    Postgres,
}

impl Relay {
    /// The word of the request.
    fn word(self) -> &'static str {
        match self {
            Self::Nats => "nats",
            Self::Postgres => "pg",
        }
    }

    /// For row ids.
    pub fn id(self) -> &'static str {
        self.word()
    }

    /// For labels: "NATS relay + Redis".
    pub fn short(self) -> &'static str {
        match self {
            Self::Nats => "NATS relay + Redis",
            Self::Postgres => "PostgreSQL relay",
        }
    }

    /// For notes.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Nats => {
                "events relayed over NATS (CHAT_NATS_URL), presence and rate-limit allowances \
                 in Redis (CHAT_REDIS_URL)"
            }
            Self::Postgres => {
                "events relayed over PostgreSQL LISTEN/NOTIFY, presence in PostgreSQL, \
                 allowances per node (neither CHAT_NATS_URL nor CHAT_REDIS_URL)"
            }
        }
    }
}

/// A running set of nodes, as scripts/bench.sh started it. A set not stopped (a panic)
/// is stopped by scripts/bench.sh before the next one starts, or when it ends.
#[derive(Debug)]
pub struct NodeSet {
    pub relay: Relay,
    /// Each node's base URL.
    pub urls: Vec<String>,
    pub pids: Vec<u32>,
    /// Each node's log.
    pub logs: Vec<PathBuf>,
    /// The servers the set uses besides PostgreSQL (nats-server, redis-server), when
    /// scripts/bench.sh found their pids: their CPU is the set's.
    pub services: Vec<(String, u32)>,
}

impl NodeSet {
    /// Asks scripts/bench.sh for a set relaying over `relay`, and waits until its nodes are
    /// ready.
    pub fn start(relay: Relay) -> anyhow::Result<Self> {
        let answer = ask(&format!("start {}", relay.word()))?;
        parse(relay, &answer).with_context(|| format!("the answer to `start`: {answer:?}"))
    }

    /// Asks scripts/bench.sh to stop the set, and waits until it has.
    pub fn stop(self) -> anyhow::Result<()> {
        ask("stop").map(drop)
    }
}

/// Sends one request; answers what follows `ok`.
fn ask(request: &str) -> anyhow::Result<String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{request}")
        .and_then(|()| out.flush())
        .with_context(|| format!("asking scripts/bench.sh to {request}"))?;
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("reading the answer to `{request}`"))?;
    if read == 0 {
        bail!("no answer to `{request}`: standard input is closed (run through scripts/bench.sh)");
    }
    answer(line.trim_end())
}

/// What follows `ok`, or the error an `error …` line says.
fn answer(line: &str) -> anyhow::Result<String> {
    if line == "ok" {
        Ok(String::new())
    } else if let Some(rest) = line.strip_prefix("ok ") {
        Ok(rest.trim().to_owned())
    } else if let Some(why) = line.strip_prefix("error ") {
        Err(anyhow!("scripts/bench.sh: {why}"))
    } else {
        Err(anyhow!("scripts/bench.sh answered {line:?}"))
    }
}

/// `urls=… pids=… logs=… services=name:pid,…`.
fn parse(relay: Relay, answer: &str) -> anyhow::Result<NodeSet> {
    let field = |key: &str| -> Vec<&str> {
        answer
            .split_whitespace()
            .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
            .map(|value| value.split(',').filter(|v| !v.is_empty()).collect())
            .unwrap_or_default()
    };
    let urls: Vec<String> = field("urls").into_iter().map(str::to_owned).collect();
    if urls.is_empty() {
        bail!("no node URLs");
    }
    let pids = field("pids")
        .into_iter()
        .map(|pid| pid.parse::<u32>().with_context(|| format!("pid {pid:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if pids.len() != urls.len() {
        bail!("{} URLs but {} pids", urls.len(), pids.len());
    }
    let services = field("services")
        .into_iter()
        .map(|service| {
            let (name, pid) = service
                .split_once(':')
                .ok_or_else(|| anyhow!("service {service:?} is not name:pid"))?;
            Ok((name.to_owned(), pid.parse::<u32>()?))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(NodeSet {
        relay,
        urls,
        pids,
        logs: field("logs").into_iter().map(PathBuf::from).collect(),
        services,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_set_from_the_answer() -> anyhow::Result<()> {
        let answer = "urls=http://127.0.0.1:1,http://127.0.0.1:2 pids=10,20 \
                      logs=a.log,b.log services=nats-server:5,redis-server:6";
        let set = parse(Relay::Nats, answer)?;
        assert_eq!(set.urls, ["http://127.0.0.1:1", "http://127.0.0.1:2"]);
        assert_eq!(set.pids, [10, 20]);
        assert_eq!(set.logs, [PathBuf::from("a.log"), PathBuf::from("b.log")]);
        assert_eq!(
            set.services,
            [
                ("nats-server".to_owned(), 5),
                ("redis-server".to_owned(), 6)
            ]
        );
        let bare = parse(Relay::Postgres, "urls=http://h:1 pids=7 services=")?;
        assert!(bare.services.is_empty() && bare.logs.is_empty());
        Ok(())
    }

    #[test]
    fn refuses_a_set_it_cannot_use() {
        assert!(parse(Relay::Nats, "pids=1").is_err());
        assert!(parse(Relay::Nats, "urls=http://h:1,http://h:2 pids=1").is_err());
        assert!(parse(Relay::Nats, "urls=http://h:1 pids=x").is_err());
        assert!(parse(Relay::Nats, "urls=http://h:1 pids=1 services=nats").is_err());
    }

    #[test]
    fn reads_answers_and_errors() {
        assert_eq!(answer("ok").ok(), Some(String::new()));
        assert_eq!(answer("ok urls=x").ok(), Some("urls=x".to_owned()));
        let error = answer("error nats: no server").err().map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("scripts/bench.sh: nats: no server"));
        assert!(answer("what").is_err());
    }
}
