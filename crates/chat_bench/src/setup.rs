//! The benchmark's world, made through the server's own APIs (platform API, ChatAPI rooms,
//! joins and sends), then read back by id from the database for the PostgreSQL limits.
//!
//! - one account (its API key drives the ChatAPI dialect) and one agent (its access token
//!   drives the account dialect);
//! - 100 "send" rooms with one participant each (`p-0` … `p-99`), holding 60 messages;
//! - one hot room with a participant per concurrent client (`h-0` …), holding 60 messages;
//! - one fan-out room with its participants (`f-0` …);
//! - the agent's 200 rooms, each with one more participant (`a-0` …) who sent two
//!   messages there after the agent joined (so each has 2 unread).

use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::{Context, anyhow, bail};
use awc::http::Method;
use diesel::PgConnection;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::load::{Req, execute, http_client};
use crate::sql::{self, Sender};
use crate::ui::Ui;

/// Requests in flight while seeding.
const SEED_CONCURRENCY: usize = 16;

/// Messages each send room (and the hot room) holds before the first measurement, so
/// that "the newest 50" is a full page from the start.
pub const PREFILL: i64 = 60;

/// A small JSON client of the server.
#[derive(Clone)]
pub struct Api {
    client: awc::Client,
    pub base: String,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self {
            client: http_client(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// `method path` with `headers` and a JSON `body`, expecting `expect`; answers the JSON
    /// (`null` for an empty body).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&'static str, String)],
        body: Option<&Value>,
        expect: u16,
    ) -> anyhow::Result<Value> {
        let body = match body {
            Some(body) => Some(Bytes::from(serde_json::to_vec(body)?)),
            None => None,
        };
        let req = Req {
            method: method.clone(),
            url: format!("{}{path}", self.base),
            headers: headers.to_vec(),
            body,
            expect,
        };
        let bytes = execute(&self.client, req)
            .await
            .map_err(|e| anyhow!("{method} {path}: {e}"))?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).with_context(|| format!("{method} {path}: not JSON"))
    }

    /// Waits until `/ready` answers 200.
    pub async fn wait_ready(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            match self.call(Method::GET, "/ready", &[], None, 200).await {
                Ok(_) => return Ok(()),
                Err(error) if Instant::now() >= deadline => {
                    return Err(error.context(format!("{} never became ready", self.base)));
                }
                Err(_) => actix_rt::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

/// A room, by both of its ids.
#[derive(Debug, Clone)]
pub struct Room {
    pub uuid: String,
    pub id: i64,
}

/// Everything the phases need to know about the seeded data.
#[derive(Debug, Clone)]
pub struct World {
    pub account_id: i64,
    pub api_key: String,
    pub agent_token: String,
    /// The send rooms, each with its one participant.
    pub send_rooms: Vec<(Room, Sender)>,
    pub hot_room: Room,
    /// A participant of the hot room for each concurrent client.
    pub hot_senders: Vec<Sender>,
    pub fanout_room: Room,
    /// The fan-out room's participants (ChatAPI user ids).
    pub fanout_people: Vec<String>,
    pub agent_rooms: usize,
    /// The user that history is written as.
    pub history_sender: Sender,
}

/// How much to seed.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub send_rooms: usize,
    pub hot_senders: usize,
    pub fanout_people: usize,
    pub agent_rooms: usize,
}

pub fn api_key_header(key: &str) -> Vec<(&'static str, String)> {
    vec![("x-api-key", key.to_owned())]
}

pub fn str_field(value: &Value, pointer: &str) -> anyhow::Result<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no string at {pointer} in {value}"))
}

/// Seeds the world through the API (on the current actix system), then reads its ids
/// from the database and prefills the send rooms.
/// A new account, through the platform API: its id and API key.
pub async fn create_account(
    api: &Api,
    platform_token: &str,
    name: &str,
    description: &str,
) -> anyhow::Result<(i64, String)> {
    let platform = vec![("authorization", format!("Bearer {platform_token}"))];
    let account = api
        .call(
            Method::POST,
            "/platform/api/v1/accounts",
            &platform,
            Some(&json!({"name": name, "description": description})),
            200,
        )
        .await?;
    let id = account["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("no account id in {account}"))?;
    Ok((id, str_field(&account, "/api_key")?))
}

pub async fn seed(
    ui: &Ui,
    api: &Api,
    platform_token: &str,
    sizes: Sizes,
    conn: &mut PgConnection,
) -> anyhow::Result<World> {
    api.wait_ready(Duration::from_secs(60)).await?;
    let platform = vec![("authorization", format!("Bearer {platform_token}"))];
    let (account_id, api_key) = create_account(api, platform_token, "Bench", "chat-bench").await?;
    let agent = api
        .call(
            Method::POST,
            &format!("/platform/api/v1/accounts/{account_id}/users"),
            &platform,
            Some(&json!({"name": "Bench agent", "role": "agent", "external_id": "bench-agent"})),
            200,
        )
        .await?;
    let agent_token = str_field(&agent, "/access_token")?;
    let key = api_key_header(&api_key);

    // Rooms.
    let mut names: Vec<String> = (0..sizes.send_rooms).map(|i| format!("send {i}")).collect();
    names.push("hot".into());
    names.push("fan-out".into());
    names.extend((0..sizes.agent_rooms).map(|i| format!("agent {i}")));
    let bar = ui.counter(names.len() as u64, "seeding: rooms");
    let uuids: Vec<String> = stream::iter(names)
        .map(|name| {
            let key = &key;
            let bar = &bar;
            async move {
                let room = api
                    .call(
                        Method::POST,
                        "/api/v1/rooms",
                        key,
                        Some(&json!({"name": name})),
                        201,
                    )
                    .await?;
                bar.inc(1);
                str_field(&room, "/data/id")
            }
        })
        .buffered(SEED_CONCURRENCY)
        .try_collect()
        .await?;
    ui.done(&bar);
    let send_uuids = &uuids[..sizes.send_rooms];
    let hot_uuid = uuids[sizes.send_rooms].clone();
    let fanout_uuid = uuids[sizes.send_rooms + 1].clone();
    let agent_uuids = &uuids[sizes.send_rooms + 2..];

    // Participants.
    let mut joins: Vec<(String, String)> = Vec::new();
    for (i, uuid) in send_uuids.iter().enumerate() {
        joins.push((uuid.clone(), format!("p-{i}")));
    }
    for j in 0..sizes.hot_senders {
        joins.push((hot_uuid.clone(), format!("h-{j}")));
    }
    let fanout_people: Vec<String> = (0..sizes.fanout_people).map(|j| format!("f-{j}")).collect();
    for person in &fanout_people {
        joins.push((fanout_uuid.clone(), person.clone()));
    }
    for (i, uuid) in agent_uuids.iter().enumerate() {
        joins.push((uuid.clone(), "bench-agent".into()));
        joins.push((uuid.clone(), format!("a-{i}")));
    }
    let bar = ui.counter(joins.len() as u64, "seeding: joins");
    stream::iter(joins)
        .map(|(uuid, user)| {
            let key = &key;
            let bar = &bar;
            async move {
                api.call(
                    Method::POST,
                    &format!("/api/v1/rooms/{uuid}/join"),
                    key,
                    Some(&json!({"user_id": user, "user_name": format!("Bench {user}")})),
                    200,
                )
                .await?;
                bar.inc(1);
                Ok::<_, anyhow::Error>(())
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    ui.done(&bar);

    // Two messages in each of the agent's rooms, unread by the agent.
    let sends: Vec<(String, String)> = agent_uuids
        .iter()
        .enumerate()
        .flat_map(|(i, uuid)| {
            [
                (uuid.clone(), format!("a-{i}")),
                (uuid.clone(), format!("a-{i}")),
            ]
        })
        .collect();
    let bar = ui.counter(sends.len() as u64, "seeding: agent rooms' messages");
    stream::iter(sends)
        .map(|(uuid, sender)| {
            let key = &key;
            let bar = &bar;
            async move {
                api.call(
                    Method::POST,
                    &format!("/api/v1/rooms/{uuid}/messages"),
                    key,
                    Some(&json!({"sender_id": sender, "content": "Hello, agent"})),
                    201,
                )
                .await?;
                bar.inc(1);
                Ok::<_, anyhow::Error>(())
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    ui.done(&bar);

    // Ids, for the PostgreSQL limits.
    let parsed: Vec<Uuid> = uuids
        .iter()
        .map(|u| Uuid::parse_str(u).with_context(|| format!("room id {u:?} is not a UUID")))
        .collect::<anyhow::Result<_>>()?;
    let room_ids = sql::room_ids(conn, account_id, &parsed)?;
    let room_of = |uuid: &str| -> anyhow::Result<Room> {
        let parsed = Uuid::parse_str(uuid)?;
        let id = *room_ids
            .get(&parsed)
            .ok_or_else(|| anyhow!("room {uuid} is not in the database"))?;
        Ok(Room {
            uuid: uuid.to_owned(),
            id,
        })
    };
    let users = sql::senders(conn, account_id)?;
    let sender_of = |label: &str| -> anyhow::Result<Sender> {
        users
            .get(label)
            .cloned()
            .ok_or_else(|| anyhow!("participant {label} is not a user of the account"))
    };
    let send_rooms = send_uuids
        .iter()
        .enumerate()
        .map(|(i, uuid)| Ok((room_of(uuid)?, sender_of(&format!("p-{i}"))?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let hot_room = room_of(&hot_uuid)?;
    let hot_senders = (0..sizes.hot_senders)
        .map(|j| sender_of(&format!("h-{j}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if hot_senders.is_empty() || send_rooms.is_empty() {
        bail!("nothing to send to");
    }

    // History of the send rooms and the hot room, in bulk.
    let mut prefill: Vec<(i64, Sender)> = send_rooms
        .iter()
        .map(|(room, sender)| (room.id, sender.clone()))
        .collect();
    prefill.push((hot_room.id, hot_senders[0].clone()));
    sql::prefill(conn, account_id, &prefill, PREFILL)?;
    let history_sender = sender_of("p-0")?;

    Ok(World {
        account_id,
        api_key,
        agent_token,
        send_rooms,
        hot_room,
        hot_senders,
        fanout_room: room_of(&fanout_uuid)?,
        fanout_people,
        agent_rooms: agent_uuids.len(),
        history_sender,
    })
}

/// Checks that the measured requests answer what they should: a full page of messages,
/// and the agent's rooms with unread counts. Answers a line for the report.
pub async fn sanity(api: &Api, world: &World) -> anyhow::Result<String> {
    let key = api_key_header(&world.api_key);
    let (room, _) = &world.send_rooms[0];
    let page = api
        .call(
            Method::GET,
            &format!("/api/v1/rooms/{}/messages?limit=50", room.uuid),
            &key,
            None,
            200,
        )
        .await?;
    let listed = page["data"].as_array().map_or(0, Vec::len);
    let rooms = api
        .call(
            Method::GET,
            &format!(
                "/api/v1/accounts/{}/chat_rooms?per_page=100",
                world.account_id
            ),
            &[("api_access_token", world.agent_token.clone())],
            None,
            200,
        )
        .await?;
    let rooms = rooms
        .as_array()
        .ok_or_else(|| anyhow!("the agent's room list is not an array"))?;
    let unread: i64 = rooms
        .iter()
        .filter_map(|room| room["unread_count"].as_i64())
        .sum();
    if listed != 50 {
        bail!("the newest-50 list answered {listed} messages");
    }
    Ok(format!(
        "Checked before measuring: the newest-50 list answers 50 messages; the agent's first \
         page lists {} of its {} rooms, with {unread} unread messages in all.",
        rooms.len(),
        world.agent_rooms
    ))
}
