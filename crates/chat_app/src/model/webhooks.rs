//! Webhooks: what an integration asks to create or change, from either dialect.

use chat_domain::{
    CustomHeaders, FieldError, FieldErrors, Problem, WebhookEvents, WebhookMeta, WebhookSecret,
    WebhookUrl,
};
use serde_json::{Map, Value};
use uuid::Uuid;

/// A webhook request body as received, every field optional (the parsers say which
/// are required). ChatAPI: `{url, events, secret?, custom_headers?, room_filters?,
/// meta?, is_active?}`; account dialect: `{url, subscriptions}` (as `events`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawWebhook {
    /// `url`.
    pub url: Option<String>,
    /// `events` (ChatAPI) or `subscriptions` (account dialect).
    pub events: Option<Vec<String>>,
    /// `secret`.
    pub secret: Option<String>,
    /// `custom_headers`: an object of strings.
    pub custom_headers: Option<Map<String, Value>>,
    /// `room_filters`: room uuids.
    pub room_filters: Option<Vec<String>>,
    /// `meta`: an object.
    pub meta: Option<Map<String, Value>>,
    /// `is_active`.
    pub is_active: Option<bool>,
}

/// A valid request to create a webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    /// Where deliveries go.
    pub url: WebhookUrl,
    /// What it subscribes to.
    pub events: WebhookEvents,
    /// The signing key given; `None`: the use case generates one (the store always
    /// receives `Some`).
    pub secret: Option<WebhookSecret>,
    /// Extra headers of every delivery.
    pub custom_headers: CustomHeaders,
    /// Room uuids it is limited to; empty: every room.
    pub room_filters: Vec<Uuid>,
    /// Free-form data.
    pub meta: WebhookMeta,
    /// Whether deliveries are made (default true).
    pub is_active: bool,
}

impl NewWebhook {
    /// Checks raw input, reporting every bad field at once. `events_field` names the
    /// events in errors: `"events"` (ChatAPI) or `"subscriptions"` (account dialect).
    pub fn parse(raw: RawWebhook, events_field: &'static str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let url = errors.collect(WebhookUrl::parse(raw.url.as_deref().unwrap_or_default()));
        let events = errors.collect(WebhookEvents::parse(
            events_field,
            raw.events.as_deref().unwrap_or_default(),
        ));
        let secret = raw
            .secret
            .as_deref()
            .and_then(|s| errors.collect(WebhookSecret::parse(s)));
        let custom_headers = errors
            .collect(CustomHeaders::parse(raw.custom_headers.unwrap_or_default()))
            .unwrap_or_default();
        let room_filters = errors
            .collect(room_filters(raw.room_filters.unwrap_or_default()))
            .unwrap_or_default();
        let meta = errors
            .collect(WebhookMeta::parse(raw.meta.unwrap_or_default()))
            .unwrap_or_default();
        match (url, events) {
            (Some(url), Some(events)) if errors.is_empty() => Ok(Self {
                url,
                events,
                secret,
                custom_headers,
                room_filters,
                meta,
                is_active: raw.is_active.unwrap_or(true),
            }),
            _ => Err(errors),
        }
    }
}

/// The fields to change on a webhook; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookPatch {
    /// A new URL.
    pub url: Option<WebhookUrl>,
    /// New subscriptions (replacing the old).
    pub events: Option<WebhookEvents>,
    /// A new signing key.
    pub secret: Option<WebhookSecret>,
    /// New custom headers (replacing the old).
    pub custom_headers: Option<CustomHeaders>,
    /// New room filters (replacing the old).
    pub room_filters: Option<Vec<Uuid>>,
    /// New meta (replacing the old).
    pub meta: Option<WebhookMeta>,
}

impl WebhookPatch {
    /// Checks raw input, reporting every bad field at once; fields absent stay as they
    /// are. `is_active` is not changed here (activate/deactivate do that).
    pub fn parse(raw: RawWebhook, events_field: &'static str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let url = raw
            .url
            .as_deref()
            .and_then(|u| errors.collect(WebhookUrl::parse(u)));
        let events = raw
            .events
            .as_deref()
            .and_then(|e| errors.collect(WebhookEvents::parse(events_field, e)));
        let secret = raw
            .secret
            .as_deref()
            .and_then(|s| errors.collect(WebhookSecret::parse(s)));
        let custom_headers = raw
            .custom_headers
            .and_then(|h| errors.collect(CustomHeaders::parse(h)));
        let room_filters = raw
            .room_filters
            .and_then(|r| errors.collect(room_filters(r)));
        let meta = raw.meta.and_then(|m| errors.collect(WebhookMeta::parse(m)));
        errors.into_result()?;
        Ok(Self {
            url,
            events,
            secret,
            custom_headers,
            room_filters,
            meta,
        })
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Room uuids (repeats dropped, order kept). Field `room_filters`.
fn room_filters(raw: Vec<String>) -> Result<Vec<Uuid>, FieldError> {
    const MAX: usize = 1000;
    if raw.len() > MAX {
        return Err(FieldError::new(
            "room_filters",
            Problem::Invalid(format!("has too many rooms (maximum is {MAX})")),
        ));
    }
    let mut rooms = Vec::with_capacity(raw.len());
    for r in raw {
        let uuid = Uuid::parse_str(r.trim()).map_err(|_| {
            FieldError::new(
                "room_filters",
                Problem::Invalid(format!("{r:?} is not a room id")),
            )
        })?;
        if !rooms.contains(&uuid) {
            rooms.push(uuid);
        }
    }
    Ok(rooms)
}
