//! `multipart/form-data` bodies whose files stream into storage as they arrive.

use actix_web::web::BytesMut;
use chat_app::{Files, Upload, UploadPurpose};
use chat_domain::{AccountId, FieldError, Problem, StoredUpload};
use futures_util::StreamExt;

use super::body::{Body, DRAIN_LIMIT};
use crate::error::{ApiError, Dialect, RequestError};

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
        let mut multipart =
            Parts::new(actix_multipart::Multipart::new(&self.headers, self.payload));
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

/// The fields of a multipart body, never polled again once the stream has failed:
/// actix-multipart panics ("Multipart polled after finish") when asked for a field after
/// answering an error of its own, e.g. for a `Content-Type` without a boundary.
struct Parts {
    inner: actix_multipart::Multipart,
    failed: bool,
}

impl Parts {
    fn new(inner: actix_multipart::Multipart) -> Self {
        Self {
            inner,
            failed: false,
        }
    }

    async fn next(
        &mut self,
    ) -> Option<Result<actix_multipart::Field, actix_multipart::MultipartError>> {
        if self.failed {
            return None;
        }
        let next = self.inner.next().await;
        self.failed = matches!(next, Some(Err(_)));
        next
    }
}

fn malformed(error: actix_multipart::MultipartError) -> RequestError {
    RequestError::MalformedMultipart(error.to_string())
}

async fn read_upload_form<D: Dialect>(
    multipart: &mut Parts,
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
async fn drain(multipart: &mut Parts) {
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

/// `checked`, or its failure once `uploads` are removed: files stream into storage
/// before the rest of the body is checked, and a refused body must leave none behind.
/// On success the caller hands the uploads to the use case, which then owns them.
pub async fn unless_refused<T, E>(
    files: &Files,
    uploads: &[StoredUpload],
    checked: Result<T, E>,
) -> Result<T, E> {
    if checked.is_err() {
        files
            .discard(uploads.iter().map(|file| file.key.clone()).collect())
            .await;
    }
    checked
}
