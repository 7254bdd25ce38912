//! Extractors shared by both dialects; their failures render in the route's dialect.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{FromRequest, HttpRequest};
use chat_app::{Actor, AppError, Files, Upload, UploadPurpose};
use chat_domain::{AccountId, FieldError, Problem, StoredUpload};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{ApiError, Dialect, RequestError};

/// The headers that may carry a credential, besides `Authorization: Bearer`.
const CREDENTIAL_HEADERS: [&str; 2] = ["x-api-key", "api_access_token"];

/// The credential presented with a request, from `X-API-Key`, `api_access_token` or
/// `Authorization: Bearer`. Several headers must agree; if they differ, or a header is
/// not text, the request carries no usable credential.
pub(crate) fn presented_credential(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let mut found: Option<String> = None;
    let bearer = headers.get_all(AUTHORIZATION).map(|value| {
        let text = value.to_str().map_err(|_| AppError::Unauthenticated)?;
        match text.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(token.trim().to_owned())
            }
            _ => Err(AppError::Unauthenticated),
        }
    });
    let others = CREDENTIAL_HEADERS.iter().flat_map(|name| {
        headers.get_all(*name).map(|value| {
            value
                .to_str()
                .map(|text| text.trim().to_owned())
                .map_err(|_| AppError::Unauthenticated)
        })
    });
    for candidate in bearer.chain(others) {
        let candidate = candidate?;
        match &found {
            Some(previous) if *previous != candidate => return Err(AppError::Unauthenticated),
            Some(_) => {}
            None => found = Some(candidate),
        }
    }
    Ok(found)
}

/// The authenticated caller. Fails with 401 in dialect `D`.
#[derive(Debug)]
pub struct Authenticated<D> {
    pub actor: Actor,
    dialect: PhantomData<D>,
}

impl<D: Dialect> FromRequest for Authenticated<D> {
    type Error = ApiError<D>;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let presented = presented_credential(req.headers());
        let state = req.app_data::<Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                AppError::Unexpected(anyhow::anyhow!("application state is not registered"))
            })?;
            let actor = state.app.auth.authenticate(presented?.as_deref()).await?;
            Ok(Self {
                actor,
                dialect: PhantomData,
            })
        })
    }
}

/// A caller holding the platform token; any other credential fails with 401 in dialect
/// `D`, before the body is read, so that other callers learn nothing from validation.
#[derive(Debug)]
pub struct PlatformCaller<D> {
    pub actor: Actor,
    dialect: PhantomData<D>,
}

impl<D: Dialect> FromRequest for PlatformCaller<D> {
    type Error = ApiError<D>;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = Authenticated::<D>::from_request(req, payload);
        Box::pin(async move {
            let actor = authenticated.await?.actor;
            actor.require_platform()?;
            Ok(Self {
                actor,
                dialect: PhantomData,
            })
        })
    }
}

/// A request body, read only when the handler asks for it ([`Body::json`],
/// [`Body::form`]). Extractors run concurrently, so a body read during extraction could
/// fail before authentication does; reading in the handler, after the credential
/// extractor has succeeded, makes "401 before any body error" hold, and spares reading
/// the bodies of unauthenticated callers. Every failure renders in dialect `D`.
pub struct Body<D> {
    payload: Payload,
    headers: HeaderMap,
    limit: usize,
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

    fn declared_length(&self) -> Option<usize> {
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

/// A file field a form may carry: its name, what its files are for, and how many it may
/// carry.
#[derive(Debug, Clone, Copy)]
pub struct FileField {
    pub name: &'static str,
    pub purpose: UploadPurpose,
    pub max: usize,
}

/// A `multipart/form-data` body whose files were streamed to storage: its text fields,
/// in order, and the files received, by field, in order. Nothing refers to the files
/// yet; the use case they are handed to attaches them or removes them.
#[derive(Debug, Default)]
pub struct UploadForm {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(&'static str, StoredUpload)>,
}

impl UploadForm {
    /// The last value of text field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The files received in field `name`, in order.
    pub fn take_files(&mut self, name: &str) -> Vec<StoredUpload> {
        let (taken, kept) = std::mem::take(&mut self.files)
            .into_iter()
            .partition(|(field, _)| *field == name);
        self.files = kept;
        taken.into_iter().map(|(_, file)| file).collect()
    }
}

impl<D: Dialect> Body<D> {
    /// Reads a `multipart/form-data` body whose file parts (in the fields of `accepts`)
    /// stream into storage as they arrive, for `account`. Text fields may take the JSON
    /// limit in all; the whole body `max_body` bytes (413 beyond). A file in a field
    /// not accepted, one file too many, or a file refused by [`Files`] (too large, not
    /// an image where one is wanted) fails with 422 — and on any failure every file
    /// stored so far is removed, so nothing half-stored remains.
    pub async fn upload_form(
        self,
        files: &Files,
        account: AccountId,
        accepts: &[FileField],
        max_body: u64,
    ) -> Result<UploadForm, ApiError<D>> {
        let limit = usize::try_from(max_body).unwrap_or(usize::MAX);
        if self
            .declared_length()
            .is_some_and(|len| len as u64 > max_body)
        {
            return Err(RequestError::PayloadTooLarge { limit }.into());
        }
        let text_limit = self.limit;
        let mut multipart = actix_multipart::Multipart::new(&self.headers, self.payload);
        let mut form = UploadForm::default();
        let read = read_upload_form::<D>(
            &mut multipart,
            &mut form,
            files,
            account,
            accepts,
            Limits {
                body: max_body,
                text: text_limit,
            },
        )
        .await;
        match read {
            Ok(()) => Ok(form),
            Err(error) => {
                let stored = form.files.drain(..).map(|(_, file)| file.key).collect();
                files.discard(stored).await;
                drain(&mut multipart).await;
                Err(error)
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    body: u64,
    text: usize,
}

fn malformed(error: actix_multipart::MultipartError) -> RequestError {
    RequestError::MalformedMultipart(error.to_string())
}

async fn read_upload_form<D: Dialect>(
    multipart: &mut actix_multipart::Multipart,
    form: &mut UploadForm,
    files: &Files,
    account: AccountId,
    accepts: &[FileField],
    limits: Limits,
) -> Result<(), ApiError<D>> {
    let mut seen = 0u64;
    let mut text_seen = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .is_some();
        if !is_file {
            let mut value = BytesMut::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(malformed)?;
                seen = seen.saturating_add(chunk.len() as u64);
                text_seen = text_seen.saturating_add(chunk.len());
                if seen > limits.body || text_seen > limits.text {
                    let limit = if seen > limits.body {
                        usize::try_from(limits.body).unwrap_or(usize::MAX)
                    } else {
                        limits.text
                    };
                    return Err(RequestError::PayloadTooLarge { limit }.into());
                }
                value.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(value.to_vec()).map_err(|_| RequestError::WrongField {
                field: name.clone(),
                reason: "is not UTF-8 text".to_owned(),
            })?;
            form.fields.push((name, text));
            continue;
        }
        let Some(accepted) = accepts.iter().find(|accepted| accepted.name == name) else {
            return Err(RequestError::WrongField {
                field: name,
                reason: "does not take a file".to_owned(),
            }
            .into());
        };
        let count = form
            .files
            .iter()
            .filter(|(f, _)| *f == accepted.name)
            .count();
        if count >= accepted.max {
            let reason = match accepted.max {
                1 => "takes one file".to_owned(),
                max => format!("takes at most {max} files"),
            };
            return Err(FieldError::new(accepted.purpose.field(), Problem::Invalid(reason)).into());
        }
        let mut upload = files.receive(account, accepted.purpose);
        let streamed = stream_file::<D>(&mut field, &mut upload, &mut seen, limits.body).await;
        if let Err(error) = streamed {
            upload.abort().await;
            return Err(error);
        }
        form.files.push((accepted.name, upload.finish().await?));
    }
    Ok(())
}

/// Streams one file part into `upload`, counting the body's bytes.
async fn stream_file<D: Dialect>(
    field: &mut actix_multipart::Field,
    upload: &mut Upload,
    seen: &mut u64,
    max_body: u64,
) -> Result<(), ApiError<D>> {
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(malformed)?;
        *seen = seen.saturating_add(chunk.len() as u64);
        if *seen > max_body {
            let limit = usize::try_from(max_body).unwrap_or(usize::MAX);
            return Err(RequestError::PayloadTooLarge { limit }.into());
        }
        upload.write(&chunk).await?;
    }
    Ok(())
}

/// Reads and discards what is left of a refused body, up to [`DRAIN_LIMIT`], so that
/// the client receives the error instead of a reset connection.
async fn drain(multipart: &mut actix_multipart::Multipart) {
    let mut budget = DRAIN_LIMIT;
    while let Some(Ok(mut field)) = multipart.next().await {
        while let Some(Ok(chunk)) = field.next().await {
            match budget.checked_sub(chunk.len()) {
                Some(left) => budget = left,
                None => return,
            }
        }
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

/// The query string, parsed only when the handler asks (so that it never answers
/// before authentication does). Values are the last of each name.
#[derive(Debug)]
pub struct Query<D> {
    raw: String,
    dialect: PhantomData<fn() -> D>,
}

impl<D: Dialect> Query<D> {
    /// Every `name=value` pair, decoded.
    pub fn pairs(&self) -> Result<Vec<(String, String)>, ApiError<D>> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&self.raw)
            .map_err(|e| RequestError::MalformedQuery(e.to_string()).into())
    }

    /// The last value of `name`, if any.
    pub fn get(&self, name: &str) -> Result<Option<String>, ApiError<D>> {
        Ok(self
            .pairs()?
            .into_iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value))
    }

    /// `name` as an integer; a value that is not one is the wrong type.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError<D>> {
        self.get(name)?
            .map(|raw| {
                raw.trim().parse::<i64>().map_err(|_| {
                    RequestError::WrongField {
                        field: name.to_owned(),
                        reason: format!("must be an integer, got {raw:?}"),
                    }
                    .into()
                })
            })
            .transpose()
    }

    /// `name` as a boolean (`true`/`false`, `1`/`0`).
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError<D>> {
        self.get(name)?
            .map(|raw| match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(RequestError::WrongField {
                    field: name.to_owned(),
                    reason: format!("must be true or false, got {raw:?}"),
                }
                .into()),
            })
            .transpose()
    }
}

impl<D: Dialect> FromRequest for Query<D> {
    type Error = ApiError<D>;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self {
            raw: req.query_string().to_owned(),
            dialect: PhantomData,
        }))
    }
}

/// An oversized body is read and discarded up to this many bytes, so that the client
/// receives the 413 instead of a reset connection. Beyond it the connection is closed.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

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
    use actix_web::http::header::{HeaderName, HeaderValue};
    use serde::Deserialize;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn each_credential_header_is_accepted() {
        for pairs in [
            [("x-api-key", "k1")],
            [("api_access_token", "k1")],
            [("authorization", "Bearer k1")],
            [("authorization", "bearer   k1 ")],
        ] {
            assert_eq!(
                presented_credential(&headers(&pairs)).ok(),
                Some(Some("k1".to_owned())),
                "{pairs:?}"
            );
        }
        assert_eq!(presented_credential(&headers(&[])).ok(), Some(None));
    }

    #[test]
    fn disagreeing_or_non_bearer_credentials_are_refused() {
        let cases: [&[(&'static str, &'static str)]; 3] = [
            &[("x-api-key", "k1"), ("api_access_token", "k2")],
            &[("authorization", "Basic dXNlcjpwYXNz")],
            &[("authorization", "Bearer k1"), ("x-api-key", "k2")],
        ];
        for pairs in cases {
            assert!(presented_credential(&headers(pairs)).is_err(), "{pairs:?}");
        }
        let agreeing = headers(&[("authorization", "Bearer k1"), ("x-api-key", "k1")]);
        assert_eq!(
            presented_credential(&agreeing).ok(),
            Some(Some("k1".to_owned()))
        );
    }

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
