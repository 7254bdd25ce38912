//! Several nodes on the bench's database (phase `nodes`): the fan-out over them and the send
//! through them, first on a set relaying over NATS (presence and allowances in Redis), then
//! on a set relaying over PostgreSQL, and the two sends compared. scripts/bench.sh starts
//! each set when asked and stops it after its measurements ([`crate::nodes`]), so the sets
//! never share the machine.

use super::http::send_req_to;
use crate::nodes::{NodeSet, Relay};
use crate::stats::percentile_ms;
use crate::*;

impl Run<'_> {
    /// The node sets, one after the other, then the row comparing their sends.
    pub(crate) fn nodes_phases(&mut self, world: &World) {
        if !self.args.nodes_from_stdio {
            let note = "The nodes phase was left out: its node sets are started by \
                        scripts/bench.sh (`--nodes-from-stdio`)."
                .to_owned();
            self.ui.say(&note);
            self.notes.push(note);
            return;
        }
        let c = SEND_TARGET_LEVEL;
        // The same send on the one node, from the send phase or measured now: what the sets'
        // send rows are read against.
        let single = match self.send_baseline.clone() {
            Some(baseline) => Some(baseline),
            None => {
                let measured = self.phase(
                    "send over 100 rooms on the one node (the node sets' baseline)",
                    |r| {
                        r.http(
                            &format!("send a message, 100 rooms, one node · c={c}"),
                            c,
                            r.profile.timing,
                            r.send_req(world, false, c),
                        )
                    },
                );
                if let Some(measured) = &measured {
                    self.limits.push(Row::measured(
                        "nodes_send_one_node",
                        "send a message, 100 rooms, one node (the node sets' baseline, the send \
                         phase left out)",
                        Some(c),
                        measured,
                    ));
                }
                measured
            }
        };
        let mut sends = Vec::new();
        for relay in [Relay::Nats, Relay::Postgres] {
            let name = format!("nodes, {}: fan-out and send", relay.short());
            if let Some(send) =
                self.phase(&name, |r| r.node_set_phase(world, relay, single.as_ref()))
            {
                sends.push((relay, send));
            }
        }
        let nats = sends.iter().find(|(relay, _)| *relay == Relay::Nats);
        let pg = sends.iter().find(|(relay, _)| *relay == Relay::Postgres);
        if let (Some((_, (nats, n))), Some((_, (pg, _)))) = (nats, pg) {
            let mut row = Row::measured(
                "nodes_send_nats_vs_pg",
                &format!(
                    "send a message, 100 rooms, {c} clients over {n} nodes: {} against the {} \
                     (POST …/messages)",
                    Relay::Nats.short(),
                    Relay::Postgres.short()
                ),
                Some(c),
                nats,
            )
            .labelled(format!("send over {n} nodes, NATS vs PostgreSQL relay"))
            .share_of(
                &format!(
                    "send over {n} nodes, {} (same run)",
                    Relay::Postgres.short()
                ),
                pg,
                None,
            )
            .with_note(
                "The NATS set's send as a share of the PostgreSQL set's: the two sets measured \
                 one after the other (NATS first), never at once. The NATS set also keeps \
                 presence and the rate-limit allowances in Redis, the PostgreSQL set keeps \
                 presence in PostgreSQL and allowances per node; the run's own chatd (no \
                 sockets, no requests meanwhile) listens on the PostgreSQL relay as a fourth \
                 node",
            );
            // Its CPU is the two rows' above.
            row.cpu = None;
            self.results.push(row);
        }
    }

    /// One set: started, its fan-out and its send measured, stopped. Answers its send and
    /// the number of nodes.
    fn node_set_phase(
        &mut self,
        world: &World,
        relay: Relay,
        single: Option<&Summary>,
    ) -> anyhow::Result<(Summary, usize)> {
        let set = NodeSet::start(relay)?;
        self.ui.say(format!(
            "  {} nodes ({}): {}",
            set.urls.len(),
            relay.describe(),
            set.urls.join(", ")
        ));
        // The nodes' CPU (and NATS's and Redis's) is ours while the set runs.
        let extra: Vec<(String, String)> = set
            .pids
            .iter()
            .map(|pid| ("chatd".to_owned(), pid.to_string()))
            .chain(
                set.services
                    .iter()
                    .map(|(name, pid)| (name.clone(), pid.to_string())),
            )
            .collect();
        let secs = |extra: &[(String, String)]| -> Vec<f64> {
            extra
                .iter()
                .map(|(_, pid)| cpu::process_secs(pid).unwrap_or(0.0))
                .collect()
        };
        let began = secs(&extra);
        let ours = self.ours.clone();
        self.ours.extend(extra.iter().cloned());
        let measured = self.node_set_measure(world, &set, single);
        self.ours = ours;
        for (((label, _), after), before) in extra.iter().zip(secs(&extra)).zip(began) {
            let label = if label == "chatd" {
                format!("chatd nodes ({})", relay.short())
            } else {
                format!("{label} ({})", relay.short())
            };
            let used = (after - before).max(0.0);
            match self.while_ours.iter_mut().find(|(l, _)| *l == label) {
                Some((_, secs)) => *secs += used,
                None => self.while_ours.push((label, used)),
            }
        }
        if !set.logs.is_empty() {
            self.notes.push(serverlog::summary_of(
                &format!("The {} nodes ({})", set.logs.len(), relay.short()),
                &set.logs,
            ));
        }
        let stopped = set.stop();
        let measured = measured?;
        stopped.context("stopping the node set")?;
        Ok(measured)
    }

    fn node_set_measure(
        &mut self,
        world: &World,
        set: &NodeSet,
        single: Option<&Summary>,
    ) -> anyhow::Result<(Summary, usize)> {
        let relay = set.relay;
        let n = set.urls.len();
        let fanout = self.fanout(world, &set.urls)?;
        let connected = fanout.connected;
        let rounds = &fanout.rounds;
        let each = fanout.summary(rounds.each_from_start.clone());
        let max_ms = rounds
            .each_from_start
            .latencies_us
            .iter()
            .max()
            .map(|us| *us as f64 / 1000.0);
        let last = rounds.last_from_response.clone().summary();
        let split = |us: &[u64]| {
            let mut us = us.to_vec();
            us.sort_unstable();
            let ms = |pct| percentile_ms(&us, pct).map_or("—".into(), |v| format!("{v:.2} ms"));
            format!("p50 {}, p99 {} ({} receipts)", ms(50.0), ms(99.0), us.len())
        };
        let ms = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.2} ms"));
        self.ui.say(format!(
            "  fan-out to {connected} over {n} nodes ({}): each socket from the send: p50 {}, \
             p99 {}, max {}; {} errors",
            relay.short(),
            ms(each.p50_ms),
            ms(each.p99_ms),
            ms(max_ms),
            each.errors
        ));
        let mut row = Row::measured(
            &format!("nodes_ws_fanout_{}", relay.id()),
            &format!(
                "WebSocket fan-out over {n} nodes, {}: one message to {connected} sockets, \
                 send → each socket has it",
                relay.short()
            ),
            None,
            &each,
        )
        .labelled(format!("fan-out over {n} nodes, {}, p99", relay.short()));
        if relay == Relay::Nats {
            row = row.within(
                each.p99_ms,
                NODES_FANOUT_P99_MS,
                &format!("p99 ≤ {NODES_FANOUT_P99_MS} ms"),
            );
        }
        row.throughput = None;
        row.max_ms = max_ms;
        let mut note = format!(
            "nodes with {}; {} rounds, one at a time (20 ms apart), each message posted \
             through the next node in turn; {connected} sockets of {} participants (one each, \
             API key + user_id), socket i on node i mod {n}. The figure is every socket's \
             receipt of every round's message, from the POST's start: max {:.2} ms; sockets on \
             the node that took the POST: {}; on the other nodes: {}. As the one-node row \
             measures it (POST answered → last socket, per round): p50 {:.2} ms, p99 {:.2} ms",
            relay.describe(),
            last.completed,
            world.fanout_people.len(),
            max_ms.unwrap_or(0.0),
            split(&rounds.local_us),
            split(&rounds.remote_us),
            last.p50_ms.unwrap_or(0.0),
            last.p99_ms.unwrap_or(0.0),
        );
        if rounds.duplicates > 0 {
            note.push_str(&format!(
                "; **{} receipts were of a message the socket had already**",
                rounds.duplicates
            ));
        }
        note.push_str(&services_cpu(set, &each));
        let gone = match relay {
            Relay::Postgres => self.wait_presence_gone(Duration::from_secs(30)),
            Relay::Nats => {
                // Presence is in Redis: give the nodes the time the PostgreSQL set gets.
                std::thread::sleep(Duration::from_secs(2));
                "presence sessions (in Redis) not counted".to_owned()
            }
        };
        self.results
            .push(row.with_note(format!("{note}; after closing, {gone}")));

        let c = SEND_TARGET_LEVEL;
        let send = self.http(
            &format!("send over {n} nodes, {} · c={c}", relay.short()),
            c,
            self.profile.timing,
            send_req_to(&set.urls, world, false, c),
        )?;
        let mut row = Row::measured(
            &format!("nodes_send_100_rooms_{}", relay.id()),
            &format!(
                "send a message, 100 rooms, {c} clients over {n} nodes, {} (POST …/messages)",
                relay.short()
            ),
            Some(c),
            &send,
        )
        .labelled(format!("send over {n} nodes, {}", relay.short()))
        .with_note(format!(
            "nodes with {}; client i sends through node i mod {n}, to the rooms of the send \
             row{}",
            relay.describe(),
            services_cpu(set, &send)
        ));
        if let Some(single) = single {
            row = row.share_of(
                "send a message, 100 rooms, one node (same run)",
                single,
                None,
            );
        }
        self.results.push(row);
        Ok((send, n))
    }
}

/// "; meanwhile nats-server 0.05 cores, redis-server 0.10 cores (…)": the CPU of the
/// servers the set uses besides PostgreSQL, which the CPU table has no column for.
fn services_cpu(set: &NodeSet, measured: &Summary) -> String {
    let Some(cpu) = &measured.cpu else {
        return String::new();
    };
    let used: Vec<String> = set
        .services
        .iter()
        .filter_map(|(name, _)| {
            let secs = cpu.of(name)?;
            Some(format!("{name} {:.2} cores", secs / cpu.secs.max(1e-9)))
        })
        .collect();
    if used.is_empty() {
        String::new()
    } else {
        format!(
            "; meanwhile {} (ours, not in the CPU table's others)",
            used.join(", ")
        )
    }
}
