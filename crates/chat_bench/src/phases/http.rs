//! The HTTP phases: send (with and without a webhook), list, an authenticated request, the
//! rooms page; and the requests and limits they are measured against (the PostgreSQL
//! limits' operations are in [`crate::limits`]).

use crate::*;

/// (a), the physical limit of a send.
const PHYSICAL: &str = "(a) physical insert";
/// (b), the server's own send.
const STATEMENT: &str = "(b) the server's send statements";
/// (c), the server's own newest-50 read.
const LIST_SELECT: &str = "(c) the server's newest-50 read";
/// The agent's room list: at least this many a second, at `AGENT_ROOMS_AT` clients.
const AGENT_ROOMS_FLOOR: f64 = 1500.0;
const AGENT_ROOMS_AT: usize = 32;

impl Run<'_> {
    pub(crate) fn send_req(&self, world: &World, hot: bool, concurrency: usize) -> MakeReq {
        send_req_to(
            std::slice::from_ref(&self.args.server),
            world,
            hot,
            concurrency,
        )
    }

    pub(crate) fn list_req(&self, world: &World, concurrency: usize) -> MakeReq {
        let base = self.args.server.trim_end_matches('/').to_owned();
        let key = world.api_key.clone();
        let rooms: Arc<Vec<String>> = Arc::new(
            world
                .send_rooms
                .iter()
                .map(|(r, _)| r.uuid.clone())
                .collect(),
        );
        Arc::new(move |task, iteration| {
            let uuid = &rooms[spread(task, iteration, concurrency, rooms.len())];
            Req::get(
                format!("{base}/api/v1/rooms/{uuid}/messages?limit={}", limits::PAGE),
                vec![("x-api-key", key.clone())],
            )
        })
    }

    /// Notes once what the limits leave prepared (see [`limits::prepared`]).
    fn check_limits(&mut self, checks: &[(&str, PgOp)]) -> anyhow::Result<()> {
        let mut lines = Vec::new();
        for (name, op) in checks {
            if self.checked_limits.iter().any(|checked| checked == name) {
                continue;
            }
            lines.push(limits::prepared(&self.args.database_url, name, op, 2)?);
            self.checked_limits.push((*name).to_owned());
        }
        if !lines.is_empty() {
            let note = format!("Limits checked before their load: {}.", lines.join("; "));
            self.ui.say(format!("  {note}"));
            self.notes.push(note);
        }
        Ok(())
    }

    /// A send row at each level: ours, then (b) the server's send statements, then (a) the
    /// physical insert, each at the same concurrency over the same rooms and senders.
    pub(crate) fn send_phase(&mut self, world: &World, hot: bool) -> anyhow::Result<()> {
        let (id, what, rooms) = if hot {
            (
                "send_hot_room",
                "send a message, one hot room",
                "one hot room",
            )
        } else {
            ("send_100_rooms", "send a message, 100 rooms", "100 rooms")
        };
        limits::create_physical_table(&mut self.conn)?;
        self.check_limits(&[
            (STATEMENT, limits::send_statement(world, hot, 1)?),
            (PHYSICAL, limits::physical_insert(world, hot, 1)),
        ])?;
        let suffix = if hot { "_hot_room" } else { "" };
        for &c in &self.profile.levels.clone() {
            let timing = self.profile.timing;
            let ours = self.http(
                &format!("{what} · c={c}"),
                c,
                timing,
                self.send_req(world, hot, c),
            )?;
            let statement = self.pg(
                &format!("{STATEMENT}, {rooms} · c={c}"),
                c,
                timing,
                limits::send_statement(world, hot, c)?,
            )?;
            let physical = self.pg(
                &format!("{PHYSICAL}, {rooms} · c={c}"),
                c,
                timing,
                limits::physical_insert(world, hot, c),
            )?;
            if c == SEND_TARGET_LEVEL && !hot {
                self.send_baseline = Some(ours.clone());
            }
            self.results.push(
                Row::measured(id, &format!("{what} (POST …/messages)"), Some(c), &ours)
                    .labelled(what)
                    .share_of(
                        STATEMENT,
                        &statement,
                        SEND_JUDGED_LEVELS.contains(&c).then_some(SEND_SHARE),
                    )
                    .also_share_of(
                        PHYSICAL,
                        &physical,
                        (c == SEND_TARGET_LEVEL).then_some(SEND_PHYSICAL_SHARE),
                    ),
            );
            self.limits.push(Row::measured(
                &format!("limit_send_statement{suffix}"),
                &format!(
                    "{STATEMENT}: chat_store_pg::bench::send_context then ::append, one send per transaction, {rooms}"
                ),
                Some(c),
                &statement,
            ));
            self.limits.push(Row::measured(
                &format!("limit_insert_physical{suffix}"),
                &format!("{PHYSICAL}: one prepared single-row INSERT per transaction, {rooms}"),
                Some(c),
                &physical,
            ));
        }
        Ok(())
    }

    /// Send over 100 rooms at the target concurrency with one active webhook on
    /// `message.created` pointing at a receiver on this machine; compared with the same send
    /// without webhooks (the send phase's, else measured here first). After the load, waits
    /// for every event the load made to be delivered; the webhook is deleted at the end.
    pub(crate) fn webhook_phase(&mut self, world: &World) -> anyhow::Result<()> {
        let c = SEND_TARGET_LEVEL;
        let timing = self.profile.timing;
        let baseline = match self.send_baseline.clone() {
            Some(baseline) => baseline,
            None => self.http(
                &format!("send a message, 100 rooms, no webhook · c={c}"),
                c,
                timing,
                self.send_req(world, false, c),
            )?,
        };
        let receiver = webhook::Receiver::start(2)?;
        let api = Api::new(&self.args.server);
        let key = setup::api_key_header(&world.api_key);
        let body = serde_json::json!({
            "url": receiver.url(),
            "events": ["message.created"],
        });
        let created = actix_rt::System::new().block_on(api.call(
            Method::POST,
            "/api/v1/webhooks/",
            &key,
            Some(&body),
            201,
        ));
        let webhook = match created {
            Ok(created) => setup::str_field(&created, "/data/id")?,
            Err(error) => {
                receiver.stop();
                return Err(error.context(
                    "creating the webhook (the server needs CHAT_WEBHOOK_ALLOW_PRIVATE=1 for a \
                     receiver on 127.0.0.1)",
                ));
            }
        };
        let before = sql::stored_messages(&mut self.conn)?;
        let measured = self.http(
            &format!("send a message, 100 rooms, one webhook · c={c}"),
            c,
            timing,
            self.send_req(world, false, c),
        );
        let after = sql::stored_messages(&mut self.conn)?;
        let expected = u64::try_from(after - before).unwrap_or(0);
        let (delivered, posts, waited) = receiver.wait_for(expected, WEBHOOK_DRAIN);
        let deleted = actix_rt::System::new().block_on(api.call(
            Method::DELETE,
            &format!("/api/v1/webhooks/{webhook}"),
            &key,
            None,
            200,
        ));
        receiver.stop();
        let ours = measured?;
        let all = delivered >= expected;
        let note = format!(
            "{} {delivered} of the {expected} message.created events the load made (warm-up \
             included) delivered {} after the load ended; {posts} posts in all (a post more \
             than the deliveries is a retry or a duplicate); receiver: actix-web, 2 workers, \
             on this machine.",
            if all {
                "Every event delivered:"
            } else {
                "**Not every event delivered**:"
            },
            if all {
                format!("within {:.1} s", waited.as_secs_f64())
            } else {
                format!("in the {:.0} s waited", waited.as_secs_f64())
            },
        );
        self.ui.say(format!("  {note}"));
        let mut row = Row::measured(
            "send_100_rooms_webhook",
            "send a message, 100 rooms, one webhook on message.created (POST …/messages)",
            Some(c),
            &ours,
        )
        .labelled("send, one webhook")
        .share_of(
            "send a message, 100 rooms, no webhook (same run)",
            &baseline,
            Some(WEBHOOK_SHARE),
        )
        .with_note(note);
        if !all {
            row.met = Some(false);
        }
        self.results.push(row);
        deleted.context("deleting the bench's webhook")?;
        Ok(())
    }

    /// A list row at each level: ours, then (c) the server's page read, at the same
    /// concurrency over the same rooms.
    pub(crate) fn list_phase(&mut self, world: &World) -> anyhow::Result<()> {
        self.check_limits(&[(LIST_SELECT, limits::list_select(world, 1)?)])?;
        for &c in &self.profile.levels.clone() {
            let timing = self.profile.timing;
            let ours = self.http(
                &format!("list newest 50 · c={c}"),
                c,
                timing,
                self.list_req(world, c),
            )?;
            let limit = self.pg(
                &format!("{LIST_SELECT} · c={c}"),
                c,
                timing,
                limits::list_select(world, c)?,
            )?;
            self.results.push(
                Row::measured(
                    "list_newest_50",
                    "list newest 50 (GET …/messages?limit=50)",
                    Some(c),
                    &ours,
                )
                .labelled("list newest 50")
                .share_of(LIST_SELECT, &limit, Some(LIST_SHARE)),
            );
            self.limits.push(Row::measured(
                "limit_list_select",
                &format!("{LIST_SELECT}: chat_store_pg::bench::room_page, newest 50, 100 rooms"),
                Some(c),
                &limit,
            ));
        }
        Ok(())
    }

    pub(crate) fn me_phase(&mut self, world: &World) -> anyhow::Result<()> {
        let base = self.args.server.trim_end_matches('/').to_owned();
        let bare = self.args.bare.trim_end_matches('/').to_owned();
        let key = world.api_key.clone();
        let limit_name = "bare actix-web handler";
        for &c in &self.profile.levels.clone() {
            let timing = self.profile.timing;
            let (base, key) = (base.clone(), key.clone());
            let ours = self.http(
                &format!("clients/me · c={c}"),
                c,
                timing,
                Arc::new(move |_, _| {
                    Req::get(
                        format!("{base}/api/v1/clients/me"),
                        vec![("x-api-key", key.clone())],
                    )
                }),
            )?;
            let bare = bare.clone();
            let limit = self.http(
                &format!("{limit_name} · c={c}"),
                c,
                timing,
                Arc::new(move |_, _| Req::get(format!("{bare}/api/v1/clients/me"), Vec::new())),
            )?;
            self.results.push(
                Row::measured(
                    "clients_me",
                    "authenticated request, no query beyond the credential (GET /api/v1/clients/me)",
                    Some(c),
                    &ours,
                )
                .labelled("GET /api/v1/clients/me")
                .share_of(limit_name, &limit, Some(AUTH_SHARE)),
            );
            self.limits.push(Row::measured(
                "limit_bare_handler",
                limit_name,
                Some(c),
                &limit,
            ));
        }
        Ok(())
    }

    pub(crate) fn rooms_phase(&mut self, world: &World) -> anyhow::Result<()> {
        let base = self.args.server.trim_end_matches('/').to_owned();
        let url = format!(
            "{base}/api/v1/accounts/{}/chat_rooms?per_page=100",
            world.account_id
        );
        let token = world.agent_token.clone();
        crate::sql::settle_rooms(&mut self.conn)?;
        self.notes.push(
            "The agent's rooms: measured after VACUUM ANALYZE of rooms and room_members (the \
             send phases before leave dead versions of the rooms' rows; autovacuum may be off \
             on this server)."
                .to_owned(),
        );
        for &c in &self.profile.levels.clone() {
            let (url, token) = (url.clone(), token.clone());
            let ours = self.http(
                &format!("agent's rooms · c={c}"),
                c,
                self.profile.timing,
                Arc::new(move |_, _| {
                    Req::get(url.clone(), vec![("api_access_token", token.clone())])
                }),
            )?;
            let row = Row::measured(
                    "agent_rooms",
                    &format!(
                        "an agent's rooms with unread counts, member of {} (GET /api/v1/accounts/{{id}}/chat_rooms?per_page=100)",
                        world.agent_rooms
                    ),
                    Some(c),
                    &ours,
                )
                .labelled("an agent's 200 rooms");
            let row = if c == AGENT_ROOMS_AT {
                row.at_least(
                    AGENT_ROOMS_FLOOR,
                    &format!("≥ {AGENT_ROOMS_FLOOR} req/s at {AGENT_ROOMS_AT} clients"),
                )
            } else {
                row
            };
            self.results.push(row);
        }
        Ok(())
    }
}

/// The send of [`Run::send_req`] through `servers` (one chatd, or the nodes of a set):
/// client *i* sends through `servers[i % n]`, to the rooms it would use on one server.
pub(crate) fn send_req_to(
    servers: &[String],
    world: &World,
    hot: bool,
    concurrency: usize,
) -> MakeReq {
    let bases: Vec<String> = servers
        .iter()
        .map(|s| s.trim_end_matches('/').to_owned())
        .collect();
    let key = world.api_key.clone();
    let targets = Arc::new(limits::send_targets(world, hot));
    Arc::new(move |task, iteration| {
        let i = limits::send_target(hot, task, iteration, concurrency, targets.len());
        let (_, uuid, sender) = &targets[i];
        let base = &bases[task % bases.len().max(1)];
        Req {
            method: Method::POST,
            url: format!("{base}/api/v1/rooms/{uuid}/messages"),
            headers: vec![("x-api-key", key.clone())],
            body: Some(Bytes::from(format!(
                r#"{{"sender_id":"{}","content":"{}"}}"#,
                sender.label,
                limits::content(task, iteration)
            ))),
            expect: 201,
        }
    })
}
