//! Serving stored files by signed, expiring URL (`GET /files/{key}?expires=…&signature=…`).
//!
//! No credential is needed — an `<img>` must be able to load it — so the URL itself is the
//! credential: an HMAC over the path and the expiry with the server's secret. Keys carry
//! their account, so a URL signed for one account's file opens nothing else.

use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, ContentDisposition, DispositionParam,
    DispositionType,
};
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse, get};
use chat_app::{AppError, Resource};
use chat_domain::{FileType, Sniffed, StorageKey};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::signing::SignatureError;

/// `{"error": "..."}`
#[derive(Debug, Serialize, ToSchema)]
pub struct FileErrorBody {
    pub error: &'static str,
}

fn refused() -> HttpResponse {
    HttpResponse::Forbidden().json(FileErrorBody {
        error: "This link is invalid or has expired",
    })
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(FileErrorBody {
        error: "File not found",
    })
}

/// The `expires` and `signature` query parameters, if both are there and well formed.
fn signature_of(req: &HttpRequest) -> Option<(i64, String)> {
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string()).ok()?;
    let value = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    Some((value("expires")?.parse().ok()?, value("signature")?))
}

/// A stored file. The URL is handed out, already signed, in the JSON of what holds the
/// file (`data_url`, `thumb_url`, `avatar_url`).
#[utoipa::path(
    tag = "operations",
    params(
        ("key" = String, Path, description = "The file's storage key"),
        ("expires" = i64, Query, description = "Unix time the link stops working"),
        ("signature" = String, Query, description = "HMAC-SHA256 of the path and expiry"),
    ),
    responses(
        (status = 200, description = "The file, with its Content-Type, Content-Length, caching and Content-Disposition", content_type = "*/*", body = String),
        (status = 403, description = "Tampered or expired link", body = FileErrorBody),
        (status = 404, description = "No such file", body = FileErrorBody),
        (status = 503, description = "The storage cannot be read right now", body = FileErrorBody),
    )
)]
#[get("/files/{key:.*}")]
pub async fn serve_file(
    state: Data<AppState>,
    req: HttpRequest,
    key: Path<String>,
) -> HttpResponse {
    let Some((expires, signature)) = signature_of(&req) else {
        return refused();
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match state.signer.verify(req.path(), expires, &signature, now) {
        Ok(()) => {}
        Err(SignatureError::Expired | SignatureError::Invalid) => return refused(),
    }
    // A signed path that is not a valid key names nothing we stored.
    let Ok(key) = StorageKey::parse(&key) else {
        return not_found();
    };
    let name = key.segments().last().unwrap_or_default().to_owned();
    let kind = Sniffed::for_extension(name.rsplit_once('.').map_or("", |(_, ext)| ext));
    let file = match state.app.files.open(key).await {
        Ok(file) => file,
        Err(AppError::NotFound(Resource::File)) => return not_found(),
        Err(error) => {
            tracing::error!(error = %error, "a stored file could not be opened");
            return HttpResponse::ServiceUnavailable().json(FileErrorBody {
                error: "The file cannot be read right now",
            });
        }
    };
    let disposition = match kind.file_type {
        FileType::Image | FileType::Video | FileType::Audio => DispositionType::Inline,
        FileType::File if kind == Sniffed::PDF || kind == Sniffed::TEXT => DispositionType::Inline,
        FileType::File => DispositionType::Attachment,
    };
    // Cache for as long as the link lives, privately: the link is a credential.
    let max_age = (expires - now).max(0);
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, kind.mime))
        .insert_header((CACHE_CONTROL, format!("private, max-age={max_age}")))
        .insert_header((
            CONTENT_DISPOSITION,
            ContentDisposition {
                disposition,
                parameters: vec![DispositionParam::Filename(name)],
            },
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .no_chunking(file.len)
        .streaming(file.chunks.map(|chunk| chunk.map(Bytes::from)))
}
