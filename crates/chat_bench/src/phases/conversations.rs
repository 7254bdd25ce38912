//! The conversation rows (issue 16): search for one word across the account's rooms at the
//! largest history, the newest-50 list with reactions on every message against the same
//! list without, and what the search index costs a send.

use anyhow::anyhow;
use diesel::connection::SimpleConnection;
use serde_json::Value;

use crate::corpus::{self, Corpus, VOCABULARY};
use crate::load::Timing;
use crate::sql::Sender;
use crate::sql::conversations::{self as conv, SEARCH_INDEX};
use crate::*;

/// Clients of the three rows (the "8 clients").
const CLIENTS: usize = 8;
/// Search: p99 at most this, with the history at its largest (5 M in a full run).
const SEARCH_P99_MS: f64 = 50.0;
/// Results per search request.
const SEARCH_LIMIT: usize = 20;
/// The history size the search target is stated at.
const SEARCH_AT: i64 = 5_000_000;
/// The list with reactions, as a share of the same list without.
const REACTIONS_SHARE: f64 = 0.90;
/// Windows of each list, measured in turns: many short ones, since the machine's speed
/// drifts over seconds (one pair of 3 s windows read 81 %, the next 97 %) and a pair
/// measured back to back shares the drift.
const REACTIONS_ROUNDS: usize = 11;
/// Each window's length, as a share of the profile's.
const REACTIONS_WINDOW_SHARE: f64 = 1.0 / 3.0;
/// The room's newest messages that get reactions (more than the page of 50).
const REACTED: i64 = 100;
/// The reactions on each of them: every emoji by each of `REACTORS` users.
const EMOJI: [&str; 3] = ["👍", "🎉", "❤️"];
const REACTORS: usize = 3;
/// Send with the search index, as a share of the same send without it.
const SEARCH_INDEX_SHARE: f64 = 0.90;
/// Windows of each send, with the search index and without, measured in turns.
const SEARCH_COST_ROUNDS: usize = 2;
/// The reactions row's baseline.
const WITHOUT_REACTIONS: &str = "the same list, a room without reactions, same run";

impl Run<'_> {
    /// `GET /api/v1/messages/search?q=<word>&limit=20` with the API key at 8 clients, over
    /// the whole history as it is now (run after the last growth point): the row with the
    /// target for the word of rank `--search-rank` ("refund", the rarest of the vocabulary
    /// by default), then the same for a common word ("invoice"), reported without a target
    /// to show how the cost grows with the matches.
    pub(crate) fn search_phase(&mut self, world: &World) -> anyhow::Result<()> {
        self.search_row(world, self.args.search_rank, true)?;
        if self.args.search_rank != corpus::COMMON_RANK {
            self.search_row(world, corpus::COMMON_RANK, false)?;
        }
        Ok(())
    }

    /// One search row: the word of `rank`, with the p99 target when `judged`.
    fn search_row(&mut self, world: &World, rank: usize, judged: bool) -> anyhow::Result<()> {
        let c = CLIENTS;
        let corpus = Corpus::new();
        let word = corpus
            .word(rank)
            .ok_or_else(|| anyhow!("--search-rank {rank} is not a rank of 1 to {VOCABULARY}"))?
            .to_owned();
        let stored = sql::stored_messages(&mut self.conn)?;
        let matches = conv::search_matches(&mut self.conn, world.account_id, &word)?;
        let path = format!(
            "/api/v1/messages/search?q={}&limit={SEARCH_LIMIT}",
            query_escape(&word)
        );
        let checked = self.check_search(world, &path, &word, matches);
        self.ui.say(format!("  {checked}"));
        let url = format!("{}{path}", self.args.server.trim_end_matches('/'));
        let key = world.api_key.clone();
        let summary = self.http(
            &format!("search one word at {} stored · c={c}", millions(stored)),
            c,
            self.profile.timing,
            Arc::new(move |_, _| Req::get(url.clone(), vec![("x-api-key", key.clone())])),
        )?;
        let mut notes = vec![
            format!(
                "q={word}, the word of rank {rank} in the history's {VOCABULARY}-word Zipf \
                 vocabulary (expected in {:.3} % of the history's messages): it matches \
                 {matches} of the {stored} messages stored ({:.3} %)",
                corpus.expected_share(rank) * 100.0,
                matches as f64 * 100.0 / stored.max(1) as f64
            ),
            checked,
        ];
        if stored < SEARCH_AT {
            notes.push(format!(
                "judged at {} stored instead of 5M (quick mode, a smaller --growth, or growth \
                 skipped)",
                millions(stored)
            ));
        }
        let (key, what) = if judged {
            ("search_one_word", "one word")
        } else {
            ("search_common_word", "a common word")
        };
        let row = Row::measured(
            key,
            &format!(
                "search {what} across the account's rooms, {} messages stored \
                 (GET /api/v1/messages/search?q={word}&limit={SEARCH_LIMIT})",
                millions(stored)
            ),
            Some(c),
            &summary,
        )
        .labelled(format!("search {what}, {} stored", millions(stored)));
        let row = if judged {
            row.within(
                summary.p99_ms,
                SEARCH_P99_MS,
                &format!("p99 ≤ {SEARCH_P99_MS} ms"),
            )
        } else {
            notes.push(
                "no target: the cost of a search grows with its matches (each is read and \
                 ranked); see docs/decisions.md"
                    .to_owned(),
            );
            row
        };
        self.results.push(row.with_note(notes.join("; ")));
        Ok(())
    }

    /// One search before the load: what it answers, as a line for the row's note.
    fn check_search(&self, world: &World, path: &str, word: &str, matches: i64) -> String {
        let api = Api::new(&self.args.server);
        let key = setup::api_key_header(&world.api_key);
        let answer = actix_rt::System::new().block_on(api.call(Method::GET, path, &key, None, 200));
        let page = match answer {
            Ok(page) => page,
            Err(error) => return format!("**the search failed before the load**: {error:#}"),
        };
        let Some(found) = page["data"].as_array() else {
            return format!(
                "**the search answered no `data` array**: {}",
                report::shorten(&page.to_string(), 200)
            );
        };
        let holding = found
            .iter()
            .filter(|m| {
                m["content"]
                    .as_str()
                    .is_some_and(|c| c.to_lowercase().contains(word))
            })
            .count();
        let expected = usize::try_from(matches).map_or(SEARCH_LIMIT, |m| m.min(SEARCH_LIMIT));
        let total = page.pointer("/pagination/total").and_then(Value::as_i64);
        let ok = found.len() == expected && holding == found.len();
        format!(
            "{} before the load: {} messages ({expected} expected), {holding} of them with the \
             word; pagination.total {}",
            if ok {
                "checked"
            } else {
                "**unexpected answer**"
            },
            found.len(),
            total.map_or("absent".into(), |t| t.to_string())
        )
    }

    /// The newest 50 of a room whose newest 100 messages each carry 3 emoji × 3 users,
    /// against the newest 50 of a room without reactions, at 8 clients, one after the other.
    /// The reactions are seeded in bulk SQL and removed afterwards.
    pub(crate) fn reactions_phase(&mut self, world: &World) -> anyhow::Result<()> {
        let c = CLIENTS;
        let (Some((with_room, _)), Some((without_room, _))) =
            (world.send_rooms.first(), world.send_rooms.get(1))
        else {
            return Err(anyhow!("the reactions row needs two send rooms"));
        };
        let users: Vec<Sender> = world
            .send_rooms
            .iter()
            .take(REACTORS)
            .map(|(_, s)| s.clone())
            .collect();
        let account = world.account_id;
        let seeded = conv::seed_reactions(
            &mut self.conn,
            account,
            with_room.id,
            REACTED,
            &EMOJI,
            &users,
        );
        let measured = seeded.and_then(|reacted| {
            // The same rewrite of the baseline room's rows, then no dead versions in either.
            conv::rewrite_newest(&mut self.conn, account, without_room.id, REACTED)?;
            self.conn.batch_execute("VACUUM messages")?;
            let checked = self.check_reactions(world, &with_room.uuid, &without_room.uuid);
            self.ui.say(format!("  {}", checked.0));
            // In turns: one window each moved the share by ±8 points between runs.
            let [without, with] = self.http_in_turns(
                [
                    (
                        &format!("list newest 50, a room without reactions · c={c}"),
                        self.room_list_req(world, &without_room.uuid),
                    ),
                    (
                        &format!("list newest 50, reactions on every message · c={c}"),
                        self.room_list_req(world, &with_room.uuid),
                    ),
                ],
                c,
                Timing {
                    window: self.profile.timing.window.mul_f64(REACTIONS_WINDOW_SHARE),
                    ..self.profile.timing
                },
                REACTIONS_ROUNDS,
            )?;
            Ok((reacted, checked, without, with))
        });
        let cleared = conv::clear_reactions(&mut self.conn, account, with_room.id);
        let (reacted, (checked, rendered), without, with) = measured?;
        cleared?;
        let mut row = Row::measured(
            "list_newest_50_reactions",
            &format!(
                "list newest 50 with reactions on every message ({} emoji × {REACTORS} users \
                 each) (GET …/messages?limit=50)",
                EMOJI.len()
            ),
            Some(c),
            &with,
        )
        .labelled("list newest 50, with reactions")
        .paired_share_of(WITHOUT_REACTIONS, &with, &without, Some(REACTIONS_SHARE))
        .with_note(format!(
            "{reacted} newest messages of one send room given {} in bulk SQL (message_reactions \
             rows and the messages.reactions summary); the baseline is another send room's \
             newest 50, its rows rewritten alike; the two lists measured in turns, \
             {REACTIONS_ROUNDS} windows of {:.1} s each, {}; {checked}",
            EMOJI.join(" "),
            self.profile.timing.window.as_secs_f64() * REACTIONS_WINDOW_SHARE,
            report::describe_pairs(&with.windows, &without.windows)
        ));
        if !rendered {
            row.met = Some(false);
        }
        self.results.push(row);
        self.limits.push(Row::measured(
            "list_newest_50_no_reactions",
            WITHOUT_REACTIONS,
            Some(c),
            &without,
        ));
        Ok(())
    }

    /// `GET /api/v1/rooms/{uuid}/messages?limit=50`, every client on the same room.
    fn room_list_req(&self, world: &World, uuid: &str) -> MakeReq {
        let url = format!(
            "{}/api/v1/rooms/{uuid}/messages?limit=50",
            self.args.server.trim_end_matches('/')
        );
        let key = world.api_key.clone();
        Arc::new(move |_, _| Req::get(url.clone(), vec![("x-api-key", key.clone())]))
    }

    /// One list of each room before the load: a line for the note, and whether every
    /// message of the room with reactions showed every seeded reaction.
    fn check_reactions(&self, world: &World, with: &str, without: &str) -> (String, bool) {
        let api = Api::new(&self.args.server);
        let key = setup::api_key_header(&world.api_key);
        let list = |uuid: &str| {
            let path = format!("/api/v1/rooms/{uuid}/messages?limit=50");
            actix_rt::System::new().block_on(api.call(Method::GET, &path, &key, None, 200))
        };
        let (page, baseline) = match (list(with), list(without)) {
            (Ok(page), Ok(baseline)) => (page, baseline),
            (Err(error), _) | (_, Err(error)) => {
                return (
                    format!("**a list failed before the load**: {error:#}"),
                    false,
                );
            }
        };
        let messages = page["data"].as_array().map_or(&[][..], Vec::as_slice);
        let complete = messages
            .iter()
            .filter(|m| {
                m["reactions"].as_array().is_some_and(|r| {
                    r.len() == EMOJI.len()
                        && r.iter().all(|e| {
                            e["count"].as_u64() == Some(REACTORS as u64)
                                && e["user_ids"].as_array().map(Vec::len) == Some(REACTORS)
                        })
                })
            })
            .count();
        let kib = |page: &Value| page.to_string().len() as f64 / 1024.0;
        let all = complete == 50 && messages.len() == 50;
        let line = format!(
            "{} before the load: {complete} of the {} messages listed show all {} reactions; \
             the page is {:.1} KiB of JSON with them, {:.1} KiB without",
            if all {
                "checked"
            } else {
                "**the reactions are not rendered**"
            },
            messages.len(),
            EMOJI.len() * REACTORS,
            kib(&page),
            kib(&baseline)
        );
        (line, all)
    }

    /// Send over 100 rooms at 8 clients, each message a sentence of the corpus, with the
    /// search index and then with it dropped; the index is built again from its own
    /// definition whatever happened.
    pub(crate) fn search_cost_phase(&mut self, world: &World) -> anyhow::Result<()> {
        let c = CLIENTS;
        let timing = self.profile.timing;
        let definition =
            conv::index_definition(&mut self.conn, SEARCH_INDEX)?.ok_or_else(|| {
                anyhow!("messages has no index {SEARCH_INDEX} (is the conversations migration in?)")
            })?;
        let corpus = Arc::new(Corpus::new());
        let stored = sql::stored_messages(&mut self.conn)?;
        // Start with an empty pending list; what each window adds to it is merged after.
        conv::clean_pending_list(&mut self.conn)?;
        let without_name = format!("the same send, {SEARCH_INDEX} dropped, same run");
        // In turns, the index dropped after each window with it and built again after each
        // window without: one window each moved the share by ±20 points between runs.
        let (mut pages, mut merge, mut rebuild) = (0_i64, Duration::ZERO, Duration::ZERO);
        let mut rebuilt = Ok(());
        let measured = self.http_in_turns_between(
            [
                (
                    &format!("send a sentence, 100 rooms, with {SEARCH_INDEX} · c={c}"),
                    self.sentence_send_req(world, c, corpus.clone()),
                ),
                (
                    &format!("send a sentence, 100 rooms, without {SEARCH_INDEX} · c={c}"),
                    self.sentence_send_req(world, c, corpus.clone()),
                ),
            ],
            c,
            timing,
            SEARCH_COST_ROUNDS,
            &mut |conn, side| {
                if side == 0 {
                    let began = Instant::now();
                    pages += conv::clean_pending_list(conn)?;
                    merge += began.elapsed();
                    conn.batch_execute(&format!("DROP INDEX {SEARCH_INDEX}"))
                        .with_context(|| format!("dropping {SEARCH_INDEX}"))
                } else {
                    let began = Instant::now();
                    rebuilt = conn
                        .batch_execute(&format!(
                            "SET maintenance_work_mem = '256MB'; {definition}; \
                             RESET maintenance_work_mem"
                        ))
                        .with_context(|| format!("building {SEARCH_INDEX} again: {definition}"));
                    rebuild += began.elapsed();
                    Ok(())
                }
            },
        );
        if measured.is_err() && conv::index_definition(&mut self.conn, SEARCH_INDEX)?.is_none() {
            // A failed window must not leave the history without its index.
            self.conn.batch_execute(&format!(
                "SET maintenance_work_mem = '256MB'; {definition}; RESET maintenance_work_mem"
            ))?;
        }
        let [with, without] = measured?;
        rebuilt?;
        let sent = sql::stored_messages(&mut self.conn)? - stored;
        let rounds = SEARCH_COST_ROUNDS as u32;
        self.ui.say(format!(
            "  {SEARCH_INDEX} built again {rounds} times, {:.1} s each",
            rebuild.as_secs_f64() / f64::from(rounds)
        ));
        let merge_total = merge;
        let merge = merge / rounds;
        let rebuild = rebuild / rounds;
        let example = corpus.sentence(corpus::send_seed(0, 0));
        self.limits.push(Row::measured(
            "send_100_rooms_no_search_index",
            &without_name,
            Some(c),
            &without,
        ));
        self.results.push(
            Row::measured(
                "send_search_index",
                "send a message, 100 rooms, with the search index (POST …/messages)",
                Some(c),
                &with,
            )
            .labelled("send, with the search index")
            .paired_share_of(&without_name, &with, &without, Some(SEARCH_INDEX_SHARE))
            .with_note(format!(
                "each message a sentence of 4–16 words (10 on average) from the history's \
                 vocabulary, e.g. \"{example}\"; measured at {} stored; the two sends in \
                 turns, {SEARCH_COST_ROUNDS} windows each, {}; the {sent} messages of all windows \
                 (warm-ups included) left {pages} pages in the GIN pending list, merged after \
                 each window with the index in {:.0} ms on average ({:.0} µs a message, not in \
                 the figure: a send that fills the list, or autovacuum, pays it); the index was \
                 dropped after each window with it and built again from pg_get_indexdef after \
                 each window without, in {:.1} s on average",
                millions(stored),
                report::describe_pairs(&with.windows, &without.windows),
                merge.as_secs_f64() * 1e3,
                merge_total.as_secs_f64() * 1e6 / sent.max(1) as f64,
                rebuild.as_secs_f64()
            )),
        );
        Ok(())
    }

    /// The send over 100 rooms (as `send_req`), each message a sentence of the corpus.
    fn sentence_send_req(&self, world: &World, concurrency: usize, corpus: Arc<Corpus>) -> MakeReq {
        let base = self.args.server.trim_end_matches('/').to_owned();
        let key = world.api_key.clone();
        let targets: Arc<Vec<(String, String)>> = Arc::new(
            world
                .send_rooms
                .iter()
                .map(|(room, s)| (room.uuid.clone(), s.label.clone()))
                .collect(),
        );
        Arc::new(move |task, iteration| {
            let (uuid, sender) = &targets[spread(task, iteration, concurrency, targets.len())];
            let body = serde_json::json!({
                "sender_id": sender,
                "content": corpus.sentence(corpus::send_seed(task, iteration)),
            });
            Req {
                method: Method::POST,
                url: format!("{base}/api/v1/rooms/{uuid}/messages"),
                headers: vec![("x-api-key", key.clone())],
                body: Some(Bytes::from(body.to_string())),
                expect: 201,
            }
        })
    }
}
