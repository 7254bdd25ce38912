//! Request bodies, read only when the handler asks: raw ([`Body`]) or JSON ([`Json`]).

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{ApiError, Dialect, RequestError};

/// A request body, read only when the handler asks for it ([`Body::json`],
/// [`Body::upload_form`]). Extractors run concurrently, so a body read during extraction could
/// fail before authentication does; reading in the handler, after the credential
/// extractor has succeeded, makes "401 before any body error" hold, and spares reading
/// the bodies of unauthenticated callers. Every failure renders in dialect `D`.
pub struct Body<D> {
    pub(super) payload: Payload,
    pub(super) headers: HeaderMap,
    /// The JSON limit, which also bounds a form's text fields.
    pub(super) limit: usize,
    dialect: PhantomData<fn() -> D>,
}

impl<D> std::fmt::Debug for Body<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<D: Dialect> Body<D> {
    /// Whether the body is `multipart/form-data`.
    pub fn is_multipart(&self) -> bool {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data")
            })
    }

    pub(super) fn declared_length(&self) -> Option<usize> {
        self.headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
    }

    /// Reads and parses a JSON object.
    pub async fn json<T: DeserializeOwned>(mut self) -> Result<T, ApiError<D>> {
        let declared = self.declared_length();
        let body = read_limited(&mut self.payload, self.limit, declared).await?;
        Ok(parse_json(&body)?)
    }
}

impl<D: Dialect> FromRequest for Body<D> {
    type Error = ApiError<D>;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<Data<AppState>>()
            .map_or(crate::DEFAULT_JSON_LIMIT, |state| state.json_limit);
        std::future::ready(Ok(Self {
            payload: payload.take(),
            headers: req.headers().clone(),
            limit,
            dialect: PhantomData,
        }))
    }
}

/// A JSON body of type `T`, read by [`Json::read`] (see [`Body`] for why it is lazy).
pub struct Json<T, D> {
    body: Body<D>,
    shape: PhantomData<fn() -> T>,
}

impl<T, D> std::fmt::Debug for Json<T, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.body.fmt(f)
    }
}

impl<T: DeserializeOwned, D: Dialect> Json<T, D> {
    /// Reads and parses the body.
    pub async fn read(self) -> Result<T, ApiError<D>> {
        self.body.json().await
    }

    /// Reads and parses the body, which may be absent: an empty body (or only
    /// whitespace) is `None`; anything else must be a JSON object of type `T`.
    pub async fn read_optional(mut self) -> Result<Option<T>, ApiError<D>> {
        let declared = self.body.declared_length();
        let body = read_limited(&mut self.body.payload, self.body.limit, declared).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        Ok(Some(parse_json(&body)?))
    }
}

impl<T: 'static, D: Dialect> FromRequest for Json<T, D> {
    type Error = ApiError<D>;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = Body::<D>::from_request(req, payload).into_inner();
        std::future::ready(body.map(|body| Self {
            body,
            shape: PhantomData,
        }))
    }
}

/// An oversized body is read and discarded up to this many bytes, so that the client
/// receives the 413 instead of a reset connection. Beyond it the connection is closed.
pub(super) const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

async fn read_limited(
    payload: &mut Payload,
    limit: usize,
    declared: Option<usize>,
) -> Result<Bytes, RequestError> {
    let too_large = RequestError::PayloadTooLarge { limit };
    if declared.is_some_and(|len| len > DRAIN_LIMIT) {
        return Err(too_large);
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    let mut seen = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| RequestError::MalformedBody(e.to_string()))?;
        seen = seen.saturating_add(chunk.len());
        if seen > DRAIN_LIMIT {
            return Err(too_large);
        }
        if seen <= limit {
            body.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(too_large);
    }
    Ok(body.freeze())
}

/// Parses a JSON object, naming the field at fault when a value has the wrong type.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, RequestError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(RequestError::MalformedBody("the body is empty".to_owned())),
        // serde would happily read a struct from an array: only objects are bodies here.
        Some(b'{') => {}
        Some(_) => {
            return Err(RequestError::MalformedBody(
                "the body must be a JSON object".to_owned(),
            ));
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        classify(&path, &inner)
    })?;
    deserializer
        .end()
        .map_err(|e| RequestError::MalformedBody(strip_position(&e)))?;
    Ok(value)
}

fn classify(path: &str, error: &serde_json::Error) -> RequestError {
    use serde_json::error::Category;
    let reason = strip_position(error);
    match error.classify() {
        Category::Io | Category::Syntax | Category::Eof => RequestError::MalformedBody(reason),
        Category::Data => {
            let parent = if path == "." { "" } else { path };
            let unknown = reason
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split_once('`'))
                .map(|(name, _)| name);
            match (unknown, parent) {
                // serde_path_to_error's path already ends with the unknown field's name.
                (Some(name), "") => RequestError::WrongField {
                    field: name.to_owned(),
                    reason: "is not a known field".to_owned(),
                },
                (Some(_), path) => RequestError::WrongField {
                    field: path.to_owned(),
                    reason: "is not a known field".to_owned(),
                },
                (None, "") => RequestError::MalformedBody(format!(
                    "the body must be a JSON object ({reason})"
                )),
                (None, parent) => match parent.split_once('[') {
                    // `user_ids[0]`: the field is `user_ids`; the element goes in the reason.
                    Some((field, element)) => RequestError::WrongField {
                        field: field.to_owned(),
                        reason: format!("element [{element}: {reason}"),
                    },
                    None => RequestError::WrongField {
                        field: parent.to_owned(),
                        reason,
                    },
                },
            }
        }
    }
}

/// serde_json appends ` at line L column C`; the field name says more to an API user.
fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: Option<String>,
        features: Option<Features>,
        ids: Option<Vec<i64>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Features {
        chat_rooms: Option<bool>,
    }

    fn field_of(result: Result<Body, RequestError>) -> Option<String> {
        match result {
            Err(RequestError::WrongField { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn wrong_types_name_their_field() {
        assert_eq!(
            field_of(parse_json(br#"{"name": 5}"#)),
            Some("name".to_owned())
        );
        assert_eq!(
            field_of(parse_json(br#"{"features": {"chat_rooms": "yes"}}"#)),
            Some("features.chat_rooms".to_owned())
        );
        assert_eq!(
            field_of(parse_json(br#"{"nmae": "x"}"#)),
            Some("nmae".to_owned())
        );
        assert_eq!(
            field_of(parse_json(br#"{"features": {"rooms": true}}"#)),
            Some("features.rooms".to_owned())
        );
    }

    #[test]
    fn malformed_bodies_are_not_field_errors() {
        for body in [&b""[..], b"  ", b"{", b"[1]", b"\"x\"", b"{} {}", b"nul"] {
            let result: Result<Body, _> = parse_json(body);
            assert!(
                matches!(result, Err(RequestError::MalformedBody(_))),
                "{:?}: {result:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn positions_are_stripped_from_reasons() {
        let result: Result<Body, _> = parse_json(br#"{"name": 5}"#);
        match result {
            Err(RequestError::WrongField { reason, .. }) => {
                assert!(!reason.contains("line"), "{reason}");
                assert!(reason.contains("expected a string"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
