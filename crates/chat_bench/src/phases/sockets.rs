//! The WebSocket phases: fan-out to one room, idle sockets, and waiting for their presence to go.

use crate::stats::Outcome;
use crate::*;

/// One fan-out measured: its rounds, how its sockets fared, and the CPU it used.
pub(crate) struct Fanout {
    pub(crate) rounds: live::FanoutRounds,
    /// Sockets open for the rounds.
    pub(crate) connected: usize,
    /// Sockets that did not open, and why (the first).
    failed: usize,
    first_error: Option<String>,
    /// Sockets the server closed during the rounds.
    closed: usize,
    cpu: cpu::CpuUse,
}

impl Fanout {
    /// `outcome` (one of the rounds') summed up, with the CPU of the rounds, and the
    /// sockets that did not open or were closed counted as errors.
    pub(crate) fn summary(&self, outcome: Outcome) -> Summary {
        let mut summary = outcome.summary();
        summary.foreign_cpu_pct = self.cpu.foreign_percent();
        summary.cpu = Some(self.cpu.clone());
        if self.failed > 0 {
            summary.errors += self.failed as u64;
            summary.error_sample.get_or_insert_with(|| {
                format!(
                    "a socket did not open: {}",
                    self.first_error.clone().unwrap_or_default()
                )
            });
        }
        if self.closed > 0 {
            summary.errors += self.closed as u64;
            summary.error_sample.get_or_insert_with(|| {
                format!("{} sockets were closed during the rounds", self.closed)
            });
        }
        summary
    }
}

impl Run<'_> {
    pub(crate) fn fanout_phase(&mut self, world: &World) -> anyhow::Result<()> {
        let fanout = self.fanout(world, std::slice::from_ref(&self.args.server))?;
        let connected = fanout.connected;
        let summary = fanout.summary(fanout.rounds.last_from_response.clone());
        let start = fanout.rounds.last_from_start.clone().summary();
        self.ui
            .say(format!("  fan-out to {connected}: {}", describe(&summary)));
        let mut row = Row::measured(
            "ws_fanout",
            &format!("WebSocket fan-out: one message to {connected} sockets, POST answered → last socket has it"),
            None,
            &summary,
        )
        .labelled(format!("fan-out to {connected} sockets, p99"))
        .within(summary.p99_ms, FANOUT_P99_MS, &format!("p99 ≤ {FANOUT_P99_MS} ms"))
        .with_note(format!(
            "{} rounds, one at a time (20 ms apart), {connected} sockets of {} participants (one each, \
             API key + user_id); from the POST's start instead: p50 {:.2} ms, p99 {:.2} ms",
            summary.completed,
            world.fanout_people.len(),
            start.p50_ms.unwrap_or(0.0),
            start.p99_ms.unwrap_or(0.0)
        ));
        row.throughput = None;
        let gone = self.wait_presence_gone(Duration::from_secs(30));
        row.note = row.note.map(|n| format!("{n}; after closing, {gone}"));
        self.results.push(row);
        Ok(())
    }

    /// The fan-out rounds over `servers` (one chatd, or the nodes of a set): a socket per
    /// participant of the fan-out room, socket *i* on `servers[i % n]`, and each round's
    /// message posted through the servers in turn (see [`live::fanout_rounds`]). The
    /// sockets are closed before it answers.
    pub(crate) fn fanout(&mut self, world: &World, servers: &[String]) -> anyhow::Result<Fanout> {
        let bases: Vec<String> = servers.iter().map(|s| ws_base(s)).collect();
        let key = query_escape(&world.api_key);
        let room = world.fanout_room.uuid.clone();
        let urls: Vec<String> = world
            .fanout_people
            .iter()
            .zip(bases.iter().cycle())
            .map(|(p, base)| format!("{base}/ws/{room}?token={key}&user_id={}", query_escape(p)))
            .collect();
        let wanted = urls.len();
        let over = if servers.len() > 1 {
            format!(" over {} nodes", servers.len())
        } else {
            String::new()
        };
        let (tx, mut rx) = live::receipts();
        let sockets = live::open(
            &self.ui,
            &format!("fan-out: opening {wanted} sockets{over}"),
            self.args.threads,
            urls,
            Some(tx),
        )?;
        self.ui.say(format!(
            "  {} sockets open in {:.1} s ({} failed{})",
            sockets.connected,
            sockets.opening.as_secs_f64(),
            sockets.failed,
            sockets
                .first_error
                .as_ref()
                .map_or(String::new(), |e| format!(", e.g. {e}"))
        ));
        // Let the presence announcements of the opening settle.
        std::thread::sleep(Duration::from_secs(1));
        while rx.try_recv().is_ok() {}
        let connected = sockets.connected;
        let ui = self.ui.clone();
        let servers = servers.to_vec();
        let api_key = world.api_key.clone();
        let sender = world
            .fanout_people
            .first()
            .cloned()
            .unwrap_or_else(|| "f-0".into());
        let (warmup, rounds) = (self.profile.fanout_warmup, self.profile.fanout_rounds);
        let before = cpu::reading(&self.ours, &self.database);
        let measured = actix_rt::System::new().block_on(async move {
            let apis: Vec<Api> = servers.iter().map(|s| Api::new(s)).collect();
            live::fanout_rounds(
                &ui,
                &apis,
                &api_key,
                &room,
                &sender,
                &mut rx,
                connected,
                warmup,
                rounds,
                Duration::from_millis(20),
            )
            .await
        });
        let cpu = before.since(&self.ours, &self.database, self.cores);
        let fanout = Fanout {
            rounds: measured,
            connected,
            failed: sockets.failed,
            first_error: sockets.first_error.clone(),
            closed: sockets.closed(),
            cpu,
        };
        sockets.close()?;
        Ok(fanout)
    }

    pub(crate) fn idle_phase(&mut self, world: &World) -> anyhow::Result<()> {
        let pid = self.args.server_pid;
        let mut wanted = self.profile.idle_sockets;
        // Each socket is a file in both processes; leave room for everything else.
        let margin = 200u64;
        let ours = live::open_files_limit("self");
        let theirs = live::open_files_limit(&pid.to_string());
        let room_for = ours
            .unwrap_or(u64::MAX)
            .min(theirs.unwrap_or(u64::MAX))
            .saturating_sub(margin);
        let mut notes = Vec::new();
        if (wanted as u64) > room_for {
            notes.push(format!(
                "the open-files limit (load generator {}, server {}) allows only {room_for} sockets, not {wanted}",
                ours.map_or("?".into(), |v| v.to_string()),
                theirs.map_or("?".into(), |v| v.to_string())
            ));
            wanted = usize::try_from(room_for).unwrap_or(usize::MAX);
        }
        let base = ws_base(&self.args.server);
        let key = query_escape(&world.api_key);
        let urls: Vec<String> = (0..wanted)
            .map(|i| {
                let (room, sender) = &world.send_rooms[i % world.send_rooms.len()];
                format!(
                    "{base}/ws/{}?token={key}&user_id={}",
                    room.uuid,
                    query_escape(&sender.label)
                )
            })
            .collect();
        let before = live::resident_bytes(pid)?;
        let sockets = live::open(
            &self.ui,
            &format!("idle: opening {wanted} sockets"),
            self.args.threads,
            urls,
            None,
        )?;
        self.ui.say(format!(
            "  {} sockets open in {:.1} s ({} failed{})",
            sockets.connected,
            sockets.opening.as_secs_f64(),
            sockets.failed,
            sockets
                .first_error
                .as_ref()
                .map_or(String::new(), |e| format!(", e.g. {e}"))
        ));
        std::thread::sleep(Duration::from_secs(5));
        let after = live::resident_bytes(pid)?;
        let connected = sockets.connected;
        let closed = sockets.closed();
        let failed = sockets.failed;
        let first_error = sockets.first_error.clone();
        let opening = sockets.opening;
        sockets.close()?;
        let mib = |b: f64| b / (1024.0 * 1024.0);
        let per_socket = if connected > 0 {
            (after as f64 - before as f64) / connected as f64
        } else {
            0.0
        };
        // Judged at 10,000 sockets: measured there, or extrapolated from what was measured.
        let at_target = if connected >= IDLE_TARGET_SOCKETS {
            after as f64
        } else {
            before as f64 + per_socket * IDLE_TARGET_SOCKETS as f64
        };
        if connected < IDLE_TARGET_SOCKETS {
            notes.push(format!(
                "{connected} sockets measured, not {IDLE_TARGET_SOCKETS}: judged on the extrapolation \
                 {:.1} MiB + {IDLE_TARGET_SOCKETS} × {:.1} KiB = {:.1} MiB",
                mib(before as f64),
                per_socket / 1024.0,
                mib(at_target)
            ));
        }
        notes.push(format!(
            "VmRSS {:.1} MiB before opening, {:.1} MiB with {connected} open ({:.1} KiB per socket); \
             opening took {:.1} s ({:.0}/s), sockets spread over the 100 send rooms, 100 per \
             participant at most",
            mib(before as f64),
            mib(after as f64),
            per_socket / 1024.0,
            opening.as_secs_f64(),
            connected as f64 / opening.as_secs_f64().max(1e-9)
        ));
        let summary = Summary {
            completed: connected as u64,
            errors: (failed + closed) as u64,
            error_sample: first_error
                .or_else(|| (closed > 0).then(|| format!("{closed} sockets closed by the server"))),
            throughput: 0.0,
            p50_ms: None,
            p99_ms: None,
            foreign_cpu_pct: None,
            cpu: None,
            windows: Vec::new(),
        };
        let mut row = Row::measured(
            "ws_idle_rss",
            &format!(
                "server resident memory (VmRSS) with {connected} idle WebSockets: {:.1} MiB",
                mib(after as f64)
            ),
            None,
            &summary,
        )
        .labelled(format!("VmRSS at {IDLE_TARGET_SOCKETS} idle sockets"))
        .within(
            Some(mib(at_target)),
            IDLE_BUDGET_MIB,
            &format!("≤ {IDLE_BUDGET_MIB} MiB at {IDLE_TARGET_SOCKETS} sockets"),
        )
        .with_note(notes.join("; "));
        row.throughput = None;
        row.value = Some(mib(after as f64));
        row.unit = Some("MiB".into());
        self.ui.say(format!(
            "  VmRSS {:.1} → {:.1} MiB with {connected} sockets",
            mib(before as f64),
            mib(after as f64)
        ));
        // The history's bulk insert, next, needs no quiet machine: the server's clean-up
        // may go on meanwhile (the growth measurements come after it).
        let gone = self.wait_presence_gone(Duration::from_secs(5));
        row.note = row.note.map(|n| format!("{n}; after closing, {gone}"));
        self.results.push(row);
        Ok(())
    }

    /// Waits until the server has closed the sockets' presence sessions (until their count
    /// is 0 or has not moved for 3 s; `most` at most), so that the next phase does not share
    /// the machine with that clean-up. Answers a sentence about it.
    pub(crate) fn wait_presence_gone(&mut self, most: Duration) -> String {
        let began = Instant::now();
        let mut last = i64::MAX;
        let mut still_since = Instant::now();
        let mut count = 0;
        while began.elapsed() < most {
            count = match sql::presence_sessions(&mut self.conn) {
                Ok(count) => count,
                Err(_) => break,
            };
            if count == 0 {
                break;
            }
            if count < last {
                last = count;
                still_since = Instant::now();
            } else if still_since.elapsed() > Duration::from_secs(3) {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let took = began.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_millis(500));
        if count == 0 {
            format!("the server closed their presence sessions within {took:.1} s")
        } else {
            format!(
                "{count} presence sessions were still open {took:.1} s after the sockets closed"
            )
        }
    }
}
