//! `chatd demo`: a new account "Demo" with three people, three rooms and a short
//! conversation, each person logged in with a link that opens the web client as them.
//!
//! Everything goes through the use cases, as an integration would: the platform makes the
//! account, its API key makes the users and rooms and logs the users in (scoped keys),
//! and the users speak and react with their own keys. The send use case stamps messages
//! with the time they are stored, so the whole conversation is from today.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use chat_app::{
    AccountPatch, Actor, AppError, ChatApp, Detail, Login, MessageDetail, NewAccount, NewEndUser,
    NewRoom, Outgoing, RawOutgoing, UserIds,
};
use chat_domain::{
    Account, Emoji, FieldErrors, Message, MessageRef, Room, RoomRef, SecretToken, User,
};
use chatd::Settings;
use serde_json::{Map, Value, json};

/// The people: ChatAPI `user_id` and display name.
const PEOPLE: [(&str, &str); 3] = [
    ("ann", "Ann Lee"),
    ("bob", "Bob Byrne"),
    ("cat", "Cat Cruz"),
];

/// The rooms and their members; the conversation happens in the first.
const ROOMS: [(&str, &[&str]); 3] = [
    ("General", &["ann", "bob", "cat"]),
    ("Ann and Bob", &["ann", "bob"]),
    ("Random", &["ann", "bob", "cat"]),
];

/// How long each person's link works: seven days.
const KEY_TTL_SECS: i64 = 7 * 24 * 3600;

/// What the demo made.
pub struct Demo {
    /// Where the links point, without a trailing `/`.
    base: String,
    account: Account,
    api_key: SecretToken,
    people: Vec<Person>,
    rooms: Vec<DemoRoom>,
}

/// A user and the scoped key it was logged in with.
struct Person {
    user: User,
    key: SecretToken,
    /// Who the key acts as.
    actor: Actor,
}

struct DemoRoom {
    room: Room,
    members: &'static [&'static str],
}

/// Makes the demo over the database of `settings` (migrating it first); the links start
/// with `url`, by default `http://` and the bind address (a wildcard one as loopback).
pub async fn seed(settings: &Settings, url: Option<&str>) -> Result<Demo> {
    let base = match url {
        Some(url) => base_url(url)?,
        None => default_url(settings.bind),
    };
    let (store, app) = chatd::wire(settings).await?;
    let store = Arc::new(store);
    // Scoped keys need no signing master: without one, only signing secrets are refused.
    let (app, end_users) = app.with_end_users(store.clone(), store, None);

    let new = NewAccount::parse(Some("Demo"), Some("Made by `chatd demo`")).map_err(invalid)?;
    let issued = app
        .accounts
        .create(&Actor::Platform, new)
        .await
        .context("cannot create the demo account")?;
    let mut account = issued.account;
    if !account.features.chat_rooms {
        let patch = AccountPatch {
            chat_rooms: Some(true),
            ..AccountPatch::default()
        };
        account = app
            .accounts
            .update(&Actor::Platform, account.id, patch)
            .await
            .context("cannot switch chat rooms on for the demo account")?;
    }
    let api = app
        .auth
        .authenticate(Some(issued.api_key.expose()))
        .await
        .context("the demo account's new API key was refused")?;

    let mut people = Vec::with_capacity(PEOPLE.len());
    for (user_id, name) in PEOPLE {
        let new = NewEndUser::parse(Some(user_id), Some(name), None, None).map_err(invalid)?;
        end_users
            .create(&api, new)
            .await
            .with_context(|| format!("cannot create user {user_id}"))?;
        let login = Login::parse(Some(user_id), None, Some(KEY_TTL_SECS), None, Some(true))
            .map_err(invalid)?;
        let issued = end_users
            .login(&api, login)
            .await
            .with_context(|| format!("cannot log {user_id} in"))?;
        let actor = app
            .auth
            .authenticate(Some(issued.key.expose()))
            .await
            .with_context(|| format!("{user_id}'s new scoped key was refused"))?;
        people.push(Person {
            user: issued.user,
            key: issued.key,
            actor,
        });
    }

    let mut rooms = Vec::with_capacity(ROOMS.len());
    for (name, members) in ROOMS {
        let new = NewRoom::parse(Some(name), None, None).map_err(invalid)?;
        let room = app
            .rooms
            .create(&api, new, Detail::Summary)
            .await
            .with_context(|| format!("cannot create room {name}"))?
            .room;
        let ids = members
            .iter()
            .map(|user_id| person(&people, user_id).map(|p| p.user.id.0))
            .collect::<Result<Vec<_>>>()?;
        let ids = UserIds::parse(Some(ids)).map_err(|e| invalid(e.into()))?;
        app.members
            .add(&api, RoomRef::Id(room.id), ids)
            .await
            .with_context(|| format!("cannot add the members of {name}"))?;
        rooms.push(DemoRoom { room, members });
    }
    let general = rooms.first().context("the demo has no rooms")?;
    converse(&app, RoomRef::Id(general.room.id), &people).await?;

    tracing::info!(account = account.id.0, "demo account made");
    Ok(Demo {
        base,
        account,
        api_key: issued.api_key,
        people,
        rooms,
    })
}

/// One message of the conversation in General.
struct Line {
    /// Who says it (ChatAPI `user_id`).
    by: &'static str,
    text: &'static str,
    /// Whom it mentions, given in `meta.mentions` as the web client gives them.
    mentions: &'static [&'static str],
    /// The earlier line it replies to, by index.
    reply_to: Option<usize>,
}

const CONVERSATION: [Line; 5] = [
    Line {
        by: "ann",
        text: "Good morning! General is the room where all three of us are.",
        mentions: &[],
        reply_to: None,
    },
    Line {
        by: "bob",
        text: "Morning! The coffee machine on the second floor works again ☕",
        mentions: &[],
        reply_to: None,
    },
    Line {
        by: "cat",
        text: "@bob could you post the notes from the planning meeting here?",
        mentions: &["bob"],
        reply_to: None,
    },
    Line {
        by: "bob",
        text: "Sure, right after lunch.",
        mentions: &[],
        reply_to: Some(2),
    },
    Line {
        by: "ann",
        text: "Reply, react or type here, and watch the other window.",
        mentions: &[],
        reply_to: None,
    },
];

/// Who reacts, to which line (by index), with what.
const REACTION: (&str, usize, &str) = ("ann", 1, "🎉");

/// Says [`CONVERSATION`] in `room`, each line with its speaker's own key, and adds
/// [`REACTION`].
async fn converse(app: &ChatApp, room: RoomRef, people: &[Person]) -> Result<()> {
    let mut said: Vec<Message> = Vec::with_capacity(CONVERSATION.len());
    for line in &CONVERSATION {
        let reply_to = line
            .reply_to
            .map(|index| said.get(index).context("a reply to a line not said yet"))
            .transpose()?
            .map(|message| MessageRef::Id(message.id));
        let meta = (!line.mentions.is_empty()).then(|| {
            let mut meta = Map::new();
            meta.insert("mentions".to_owned(), json!(line.mentions));
            meta
        });
        let out = Outgoing::parse(RawOutgoing {
            content: Some(line.text),
            meta,
            reply_to,
            ..RawOutgoing::default()
        })
        .context("the demo's own message was refused")?;
        let speaker = person(people, line.by)?;
        let (view, _) = app
            .messages
            .send(
                &speaker.actor,
                room,
                out,
                Vec::new(),
                MessageDetail::Summary,
            )
            .await
            .with_context(|| format!("cannot send {:?}", line.text))?;
        said.push(view.message);
    }
    let (by, index, emoji) = REACTION;
    let message = said.get(index).context("a reaction to a line not said")?;
    let emoji = Emoji::parse(emoji).map_err(|e| invalid(e.into()))?;
    app.conversations
        .react(
            &person(people, by)?.actor,
            None,
            MessageRef::Id(message.id),
            emoji,
            None,
            true,
            MessageDetail::Summary,
        )
        .await
        .context("cannot add the demo reaction")?;
    Ok(())
}

fn person<'a>(people: &'a [Person], user_id: &str) -> Result<&'a Person> {
    people
        .iter()
        .find(|p| p.user.chat_user_id() == user_id)
        .ok_or_else(|| anyhow!("no demo user {user_id}"))
}

/// Input the demo made itself was refused: a bug in the demo.
fn invalid(errors: FieldErrors) -> anyhow::Error {
    anyhow::Error::new(AppError::from(errors)).context("the demo's own data was refused")
}

impl Demo {
    /// The link that opens the web client as `person`: the key in the fragment, which the
    /// browser never sends to a server.
    fn link(&self, person: &Person) -> String {
        format!("{}/app/#token={}", self.base, person.key.expose())
    }

    /// Everything made, the account's API key included (`--json`).
    pub fn to_json(&self) -> Value {
        let users: Vec<Value> = self
            .people
            .iter()
            .map(|person| {
                json!({
                    "user_id": person.user.chat_user_id(),
                    "name": person.user.name.as_str(),
                    "id": person.user.id.0,
                    "token": person.key.expose(),
                    "link": self.link(person),
                })
            })
            .collect();
        let rooms: Vec<Value> = self
            .rooms
            .iter()
            .map(|demo| {
                json!({
                    "id": demo.room.uuid.to_string(),
                    "account_room_id": demo.room.id.0,
                    "name": demo.room.name.as_str(),
                    "members": demo.members,
                })
            })
            .collect();
        json!({
            "account_id": self.account.id.0,
            "client_id": self.account.uuid.to_string(),
            "api_key": self.api_key.expose(),
            "users": users,
            "rooms": rooms,
        })
    }

    /// A heading, one `Name  link` line per person and a hint; no API key.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "Demo account {} is ready: {} people, {} rooms. Each link signs in as one person \
             for 7 days:\n",
            self.account.id.0,
            self.people.len(),
            self.rooms.len()
        );
        for person in &self.people {
            text.push_str(&format!(
                "{}  {}\n",
                person.user.name.as_str(),
                self.link(person)
            ));
        }
        text.push_str(&format!(
            "Open two of these links in two windows (with chatd serving {}) and chat between \
             them.\n",
            self.base
        ));
        text
    }
}

/// `--url` without its trailing `/`: an `http` or `https` base, with no query or fragment.
fn base_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let host = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .with_context(|| format!("--url {url:?} must start with http:// or https://"))?;
    if host.is_empty() || url.contains(['?', '#']) {
        bail!("--url {url:?} must be a server's base URL (no query, no fragment)");
    }
    Ok(url.to_owned())
}

/// `http://` and the bind address, a wildcard address (`0.0.0.0`, `[::]`) as loopback.
fn default_url(bind: SocketAddr) -> String {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, bind.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(raw: &str) -> SocketAddr {
        raw.parse()
            .unwrap_or_else(|e| panic!("{raw} is not an address: {e}"))
    }

    #[test]
    fn a_wildcard_bind_address_links_to_loopback() {
        assert_eq!(default_url(addr("0.0.0.0:8000")), "http://127.0.0.1:8000");
        assert_eq!(default_url(addr("[::]:8080")), "http://[::1]:8080");
        assert_eq!(
            default_url(addr("192.168.1.5:9000")),
            "http://192.168.1.5:9000"
        );
    }

    #[test]
    fn the_url_loses_its_trailing_slash_and_must_be_http() {
        assert_eq!(
            base_url("https://chat.example.com/").ok().as_deref(),
            Some("https://chat.example.com")
        );
        assert!(base_url("chat.example.com").is_err());
        assert!(base_url("http://").is_err());
        assert!(base_url("http://host/?x=1").is_err());
        assert!(base_url("http://host/#token=x").is_err());
    }
}
