//! Webhooks: where an account wants its events POSTed, and the rules of delivery.
//!
//! Every value here is built through `parse`, which names the input field at fault.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::credential::EntropyUnavailable;
use crate::{AccountId, FieldError, Problem, storable};

/// The integer id of a webhook (the account dialect's `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebhookId(pub i64);

/// After this many failed deliveries in a row, a webhook is switched off.
pub const DEACTIVATE_AFTER_FAILURES: i32 = 5;

/// The events a webhook can subscribe to (CONTRACT §9), and `webhook.test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    /// `message.created`
    MessageCreated,
    /// `message.updated`
    MessageUpdated,
    /// `message.deleted`
    MessageDeleted,
    /// `message.restored`
    MessageRestored,
    /// `room.created`
    RoomCreated,
    /// `room.updated`
    RoomUpdated,
    /// `room.deleted`
    RoomDeleted,
    /// `room.activated`
    RoomActivated,
    /// `room.deactivated`
    RoomDeactivated,
    /// `room.joined`
    RoomJoined,
    /// `room.left`
    RoomLeft,
    /// `reaction.added`
    ReactionAdded,
    /// `reaction.removed`
    ReactionRemoved,
    /// `message.read`
    MessageRead,
    /// `message.unread_offline`: a member with no open socket got a message.
    MessageUnreadOffline,
    /// `webhook.test`: sent on request to one webhook; never subscribable.
    Test,
}

impl WebhookEvent {
    /// Every subscribable event, in CONTRACT order (`Test` excluded).
    pub const SUBSCRIBABLE: [WebhookEvent; 15] = [
        WebhookEvent::MessageCreated,
        WebhookEvent::MessageUpdated,
        WebhookEvent::MessageDeleted,
        WebhookEvent::MessageRestored,
        WebhookEvent::RoomCreated,
        WebhookEvent::RoomUpdated,
        WebhookEvent::RoomDeleted,
        WebhookEvent::RoomActivated,
        WebhookEvent::RoomDeactivated,
        WebhookEvent::RoomJoined,
        WebhookEvent::RoomLeft,
        WebhookEvent::ReactionAdded,
        WebhookEvent::ReactionRemoved,
        WebhookEvent::MessageRead,
        WebhookEvent::MessageUnreadOffline,
    ];

    /// The names of the subscribable events, in CONTRACT order.
    pub const NAMES: &'static [&'static str] = &[
        "message.created",
        "message.updated",
        "message.deleted",
        "message.restored",
        "room.created",
        "room.updated",
        "room.deleted",
        "room.activated",
        "room.deactivated",
        "room.joined",
        "room.left",
        "reaction.added",
        "reaction.removed",
        "message.read",
        "message.unread_offline",
    ];

    /// The event's wire name (`"message.created"`).
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::Test => "webhook.test",
            other => Self::NAMES[other.index()],
        }
    }

    /// The event named `raw` (`webhook.test` included), or `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw == "webhook.test" {
            return Some(WebhookEvent::Test);
        }
        Self::NAMES
            .iter()
            .position(|name| *name == raw)
            .map(|i| Self::SUBSCRIBABLE[i])
    }

    /// Whether a webhook may subscribe to it (all but `webhook.test`).
    pub fn is_subscribable(self) -> bool {
        self != WebhookEvent::Test
    }

    fn index(self) -> usize {
        match self {
            WebhookEvent::MessageCreated => 0,
            WebhookEvent::MessageUpdated => 1,
            WebhookEvent::MessageDeleted => 2,
            WebhookEvent::MessageRestored => 3,
            WebhookEvent::RoomCreated => 4,
            WebhookEvent::RoomUpdated => 5,
            WebhookEvent::RoomDeleted => 6,
            WebhookEvent::RoomActivated => 7,
            WebhookEvent::RoomDeactivated => 8,
            WebhookEvent::RoomJoined => 9,
            WebhookEvent::RoomLeft => 10,
            WebhookEvent::ReactionAdded => 11,
            WebhookEvent::ReactionRemoved => 12,
            WebhookEvent::MessageRead => 13,
            WebhookEvent::MessageUnreadOffline => 14,
            WebhookEvent::Test => 15,
        }
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty set of subscribable events.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WebhookEvents(u16);

impl WebhookEvents {
    /// Keeps the events named in `names` (repeats are harmless). Field `field`:
    /// [`Problem::Blank`] when empty, [`Problem::NotIncluded`] for an unknown name
    /// (or `webhook.test`).
    pub fn parse<S: AsRef<str>>(field: &'static str, names: &[S]) -> Result<Self, FieldError> {
        let mut bits = 0u16;
        for name in names {
            match WebhookEvent::parse(name.as_ref().trim()) {
                Some(event) if event.is_subscribable() => bits |= 1 << event.index(),
                _ => {
                    return Err(FieldError::new(
                        field,
                        Problem::NotIncluded {
                            allowed: WebhookEvent::NAMES,
                        },
                    ));
                }
            }
        }
        if bits == 0 {
            return Err(FieldError::new(field, Problem::Blank));
        }
        Ok(Self(bits))
    }

    /// The set of exactly these events (no check that it is non-empty; for adapters
    /// reading stored rows and for tests).
    pub fn of(events: &[WebhookEvent]) -> Self {
        Self(
            events
                .iter()
                .filter(|e| e.is_subscribable())
                .fold(0, |bits, e| bits | (1 << e.index())),
        )
    }

    /// Whether `event` is in the set.
    pub fn contains(&self, event: WebhookEvent) -> bool {
        event.is_subscribable() && self.0 & (1 << event.index()) != 0
    }

    /// The events of the set, in CONTRACT order.
    pub fn iter(&self) -> impl Iterator<Item = WebhookEvent> + '_ {
        WebhookEvent::SUBSCRIBABLE
            .into_iter()
            .filter(|e| self.contains(*e))
    }

    /// The names of the events of the set, in CONTRACT order.
    pub fn names(&self) -> Vec<&'static str> {
        self.iter().map(WebhookEvent::as_str).collect()
    }
}

impl fmt::Debug for WebhookEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// Where deliveries go: an absolute `http` or `https` URL with a host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebhookUrl {
    raw: String,
    https: bool,
    host: String,
    port: Option<u16>,
}

impl WebhookUrl {
    /// The longest URL accepted.
    pub const MAX_CHARS: usize = 2048;

    /// Checks `raw` (trimmed): `http://` or `https://`, a host (name, IPv4, or `[IPv6]`),
    /// an optional port, no user info, no whitespace or control characters, at most
    /// [`MAX_CHARS`](Self::MAX_CHARS). Field `url`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        let invalid = |reason: &str| FieldError::new("url", Problem::Invalid(reason.to_owned()));
        if raw.is_empty() {
            return Err(FieldError::new("url", Problem::Blank));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "url",
                Problem::TooLong {
                    max: Self::MAX_CHARS,
                },
            ));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        let lower = raw.to_ascii_lowercase();
        let (https, rest) = if lower.starts_with("https://") {
            (true, &raw["https://".len()..])
        } else if lower.starts_with("http://") {
            (false, &raw["http://".len()..])
        } else {
            return Err(invalid("must be an http or https URL"));
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.contains('@') {
            return Err(invalid("must not contain user information"));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let close = bracketed
                .find(']')
                .ok_or_else(|| invalid("has a malformed host"))?;
            let host = &bracketed[..close];
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(invalid("has a malformed host"));
            }
            let after = &bracketed[close + 1..];
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| invalid("has a malformed host"))?,
                ),
            };
            (host.to_ascii_lowercase(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_ascii_lowercase(), Some(port)),
                None => (authority.to_ascii_lowercase(), None),
            }
        };
        if host.is_empty() {
            return Err(invalid("must have a host"));
        }
        if !host.contains(':')
            && !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(invalid("has a malformed host"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| invalid("has a malformed port"))?,
            ),
        };
        Ok(Self {
            raw: raw.to_owned(),
            https,
            host,
            port,
        })
    }

    /// The URL as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The host, lowercased; an IPv6 address without its brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port given, else 443 for https and 80 for http.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// Whether the scheme is https.
    pub fn is_https(&self) -> bool {
        self.https
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// The key deliveries are signed with (HMAC-SHA256), shared with the integrator.
/// `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// The shortest secret accepted.
    pub const MIN_CHARS: usize = 16;
    /// The longest secret accepted.
    pub const MAX_CHARS: usize = 256;

    /// 16 to 256 visible ASCII characters. Field `secret`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.is_empty() {
            return Err(FieldError::new("secret", Problem::Blank));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::new(
                "secret",
                Problem::Invalid("must be visible ASCII characters".to_owned()),
            ));
        }
        if raw.len() < Self::MIN_CHARS {
            return Err(FieldError::new(
                "secret",
                Problem::Invalid(format!(
                    "is too short (minimum is {} characters)",
                    Self::MIN_CHARS
                )),
            ));
        }
        if raw.len() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "secret",
                Problem::TooLong {
                    max: Self::MAX_CHARS,
                },
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A new secret: `whsec_` and 64 lowercase hex digits from the OS random source.
    pub fn generate() -> Result<Self, EntropyUnavailable> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| EntropyUnavailable(e.to_string()))?;
        let mut secret = String::with_capacity(6 + 64);
        secret.push_str("whsec_");
        for b in bytes {
            secret.push_str(&format!("{b:02x}"));
        }
        Ok(Self(secret))
    }

    /// The secret in clear (to show its owner, to sign, to store).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// Extra headers sent with every delivery of a webhook, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomHeaders(Vec<(String, String)>);

impl CustomHeaders {
    /// The most headers accepted.
    pub const MAX_HEADERS: usize = 20;
    /// The longest header name accepted.
    pub const MAX_NAME: usize = 64;
    /// The longest header value accepted.
    pub const MAX_VALUE: usize = 1024;

    /// Checks a JSON object of string values. Field `custom_headers`: at most 20 headers;
    /// names are RFC 7230 tokens of at most 64 characters and not reserved
    /// (`Content-Type`, `Content-Length`, `Host`, `User-Agent`, `X-ChatAPI-*`, any case);
    /// values are strings of visible ASCII and spaces, at most 1024 characters.
    pub fn parse(object: Map<String, Value>) -> Result<Self, FieldError> {
        let invalid = |reason: String| FieldError::new("custom_headers", Problem::Invalid(reason));
        if object.len() > Self::MAX_HEADERS {
            return Err(invalid(format!(
                "has too many headers (maximum is {})",
                Self::MAX_HEADERS
            )));
        }
        let mut headers = Vec::with_capacity(object.len());
        for (name, value) in object {
            let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
            if name.is_empty() || name.len() > Self::MAX_NAME || !name.bytes().all(token) {
                return Err(invalid(format!("has an invalid header name ({name})")));
            }
            let lower = name.to_ascii_lowercase();
            if matches!(
                lower.as_str(),
                "content-type" | "content-length" | "host" | "user-agent"
            ) || lower.starts_with("x-chatapi-")
            {
                return Err(invalid(format!("may not set the {name} header")));
            }
            let Value::String(value) = value else {
                return Err(invalid(format!("{name} must be a string")));
            };
            if value.len() > Self::MAX_VALUE
                || !value.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
            {
                return Err(invalid(format!("has an invalid value for {name}")));
            }
            headers.push((name, value));
        }
        Ok(Self(headers))
    }

    /// The headers, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// As a JSON object (to store or to render).
    pub fn to_map(&self) -> Map<String, Value> {
        self.0
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect()
    }

    /// Whether there is no header.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Free-form data an integration keeps on a webhook.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookMeta(Map<String, Value>);

impl WebhookMeta {
    /// The most bytes the object may take, serialised as compact JSON.
    pub const MAX_BYTES: usize = 16 * 1024;

    /// Keeps `object` if its compact JSON takes at most 16 KiB and the database can
    /// keep it. Field `meta`.
    pub fn parse(object: Map<String, Value>) -> Result<Self, FieldError> {
        let size = Value::Object(object.clone()).to_string().len();
        if size > Self::MAX_BYTES {
            return Err(FieldError::new(
                "meta",
                Problem::TooLarge {
                    max_bytes: Self::MAX_BYTES,
                },
            ));
        }
        storable::json("meta", &object)?;
        Ok(Self(object))
    }

    /// The object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The object, owned.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

/// A webhook of an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// The integer id (account dialect).
    pub id: WebhookId,
    /// The ChatAPI id.
    pub uuid: Uuid,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Where deliveries go.
    pub url: WebhookUrl,
    /// What it subscribes to.
    pub events: WebhookEvents,
    /// The signing key.
    pub secret: WebhookSecret,
    /// Whether deliveries are made.
    pub is_active: bool,
    /// Extra headers of every delivery.
    pub custom_headers: CustomHeaders,
    /// Room uuids it is limited to; empty: every room.
    pub room_filters: Vec<Uuid>,
    /// Free-form data.
    pub meta: WebhookMeta,
    /// Failed deliveries in a row.
    pub failure_count: i32,
    /// When a delivery last succeeded.
    pub last_delivery_at: Option<OffsetDateTime>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was last changed.
    pub updated_at: OffsetDateTime,
}

/// The pauses before each retry: after the n-th failed attempt, wait the n-th pause;
/// when there is none, the delivery has failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl Default for RetrySchedule {
    /// 30 s, 2 min, 8 min, 32 min (CONTRACT §9): five attempts in all.
    fn default() -> Self {
        Self(
            [30, 120, 480, 1920]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl RetrySchedule {
    /// Comma-separated whole seconds (`"1,1,1,1"`); empty means no retry.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Self(Vec::new()));
        }
        raw.split(',')
            .map(|part| {
                part.trim()
                    .parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| format!("not a number of seconds: {part:?}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The pause after `attempts_made` failed attempts (1-based), or `None` when the
    /// schedule is spent and the delivery has failed.
    pub fn after(&self, attempts_made: i32) -> Option<Duration> {
        let index = usize::try_from(attempts_made).ok()?.checked_sub(1)?;
        self.0.get(index).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn events_round_trip_and_sets() {
        for (event, name) in WebhookEvent::SUBSCRIBABLE.iter().zip(WebhookEvent::NAMES) {
            assert_eq!(event.as_str(), *name);
            assert_eq!(WebhookEvent::parse(name), Some(*event));
        }
        assert_eq!(
            WebhookEvent::parse("webhook.test"),
            Some(WebhookEvent::Test)
        );
        assert_eq!(WebhookEvent::parse("nope"), None);
        let set = WebhookEvents::parse("events", &["room.left", "message.created", "room.left"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.names(), ["message.created", "room.left"]);
        assert!(set.contains(WebhookEvent::RoomLeft));
        assert!(!set.contains(WebhookEvent::Test));
        let empty: [&str; 0] = [];
        assert_eq!(
            WebhookEvents::parse("events", &empty).map_err(|e| e.problem),
            Err(Problem::Blank)
        );
        assert!(WebhookEvents::parse("subscriptions", &["webhook.test"]).is_err());
        assert_eq!(
            WebhookEvents::parse("subscriptions", &["x"]).map_err(|e| e.field),
            Err("subscriptions")
        );
    }

    #[test]
    fn urls() {
        let url = WebhookUrl::parse(" https://Example.com:8443/hook?a=1 ")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.as_str(), "https://Example.com:8443/hook?a=1");
        assert_eq!(url.host(), "example.com");
        assert_eq!(url.port_or_default(), 8443);
        assert!(url.is_https());
        let plain = WebhookUrl::parse("http://10.0.0.1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plain.port_or_default(), 80);
        let v6 = WebhookUrl::parse("http://[::1]:9000/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v6.host(), "::1");
        assert_eq!(v6.port_or_default(), 9000);
        for bad in [
            "",
            "ftp://example.com",
            "https://",
            "https://user:pw@example.com/",
            "https://exa mple.com",
            "https://example.com:99999/",
            "https://[nothex]/",
            "example.com",
        ] {
            assert_eq!(
                WebhookUrl::parse(bad).map_err(|e| e.field),
                Err("url"),
                "{bad}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert!(WebhookUrl::parse(&long).is_err());
    }

    #[test]
    fn secrets() {
        assert!(WebhookSecret::parse("short").is_err());
        assert!(WebhookSecret::parse(&"a".repeat(257)).is_err());
        assert!(WebhookSecret::parse("sixteen chars ok").is_err()); // space
        assert!(WebhookSecret::parse("0123456789abcdef").is_ok());
        let generated = WebhookSecret::generate().unwrap_or_else(|e| panic!("{e}"));
        assert!(generated.expose().starts_with("whsec_"));
        assert_eq!(generated.expose().len(), 70);
        assert!(WebhookSecret::parse(generated.expose()).is_ok());
        assert!(!format!("{generated:?}").contains("whsec_"));
    }

    #[test]
    fn custom_headers() {
        let ok = CustomHeaders::parse(object(
            json!({"X-Token": "abc def", "Authorization": "Bearer x"}),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.iter().count(), 2);
        for bad in [
            json!({"Content-Type": "text/plain"}),
            json!({"x-chatapi-signature": "x"}),
            json!({"HOST": "x"}),
            json!({"User-Agent": "x"}),
            json!({"Content-Length": "1"}),
            json!({"bad name": "x"}),
            json!({"X-A": 1}),
            json!({"X-A": "line\nbreak"}),
            json!({"X-A": "é"}),
        ] {
            assert_eq!(
                CustomHeaders::parse(object(bad.clone())).map_err(|e| e.field),
                Err("custom_headers"),
                "{bad}"
            );
        }
        let many: Map<String, Value> = (0..21)
            .map(|i| (format!("X-{i}"), Value::String("v".into())))
            .collect();
        assert!(CustomHeaders::parse(many).is_err());
    }

    #[test]
    fn meta_size() {
        assert!(WebhookMeta::parse(object(json!({"a": 1}))).is_ok());
        let big = object(json!({"a": "x".repeat(16 * 1024)}));
        assert_eq!(WebhookMeta::parse(big).map_err(|e| e.field), Err("meta"));
    }

    #[test]
    fn retry_schedule() {
        let default = RetrySchedule::default();
        assert_eq!(default.after(1), Some(Duration::from_secs(30)));
        assert_eq!(default.after(4), Some(Duration::from_secs(1920)));
        assert_eq!(default.after(5), None);
        assert_eq!(default.after(0), None);
        let quick = RetrySchedule::parse("1,1,1,1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(quick.0.len(), 4);
        assert!(RetrySchedule::parse("1,x").is_err());
    }
}
