//! The web client (`/app`): plain ES modules and CSS from `assets/app/`, embedded in the
//! binary (the build script lists the folder), served with a strict content security
//! policy. It uses only the public API and WebSockets; `assets/app/README.md` explains it.
//!
//! With a development folder (`CHAT_APP_DIR`), files are read from disk on each request
//! instead, so the client can be edited without rebuilding the server.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, HeaderValue, IF_NONE_MATCH,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::web::Bytes;
use actix_web::web::{Data, Path as UrlPath};
use actix_web::{HttpRequest, HttpResponse, get, web};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::chatapi::{ChatApi, ErrorBody};
use crate::error::{Dialect, Failure, RequestError};

/// The client's files: (path under `/app/`, contents), from the build script.
const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/web_client_assets.rs"));

/// Only the client's own origin: no inline script or style, no CDN, not framed. Images
/// may be `blob:` (previews of files being uploaded) and `data:`.
const POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; \
                      style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; \
                      form-action 'self'; frame-ancestors 'none'";

/// An embedded file with its entity tag.
struct Embedded {
    body: &'static [u8],
    etag: String,
}

static EMBEDDED: LazyLock<HashMap<&'static str, Embedded>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(path, body)| {
            let digest = Sha256::digest(body);
            let etag = format!("\"{}\"", hex(&digest[..12]));
            (path, Embedded { body, etag })
        })
        .collect()
});

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The media type of a client file, by its extension.
fn media_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "webmanifest") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A path under `/app/` that names a file of the folder: segments of letters, digits,
/// `.`, `_` and `-`, none of them `.` or `..` or hidden.
fn safe_path(path: &str) -> Option<&str> {
    let ok = !path.is_empty()
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    ok.then_some(path)
}

/// The web client's page.
#[utoipa::path(
    tag = "web client",
    responses((status = 200, description = "The web client's HTML page (`/app/` is the same)", content_type = "text/html", body = String))
)]
#[get("/app")]
pub async fn app_page(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    serve(&req, state.app_dir.as_deref(), "index.html").await
}

/// One of the web client's files (scripts, style sheets, images).
#[utoipa::path(
    tag = "web client",
    params(("path" = String, Path, description = "The file's path under `/app/`, such as `js/main.js`")),
    responses(
        (status = 200, description = "The file, with its media type", content(
            (String = "text/javascript"),
            (String = "text/css"),
            (String = "text/html"),
            (String = "image/svg+xml"),
            (String = "image/png"),
            (String = "application/json"),
        )),
        (status = 304, description = "Unchanged since the `If-None-Match` tag"),
        (status = 404, description = "No such file", body = ErrorBody),
    )
)]
#[get("/app/{path:.+}")]
pub async fn app_file(
    req: HttpRequest,
    state: Data<AppState>,
    path: UrlPath<String>,
) -> HttpResponse {
    serve(&req, state.app_dir.as_deref(), &path.into_inner()).await
}

async fn serve(req: &HttpRequest, dir: Option<&Path>, path: &str) -> HttpResponse {
    let Some(path) = safe_path(path) else {
        return not_found();
    };
    match dir {
        None => match EMBEDDED.get(path) {
            // The embedded bytes themselves, not a copy per request.
            Some(file) => respond(req, path, Bytes::from_static(file.body), &file.etag),
            None => not_found(),
        },
        Some(dir) => {
            let full: PathBuf = dir.join(path);
            match web::block(move || std::fs::read(full)).await {
                Ok(Ok(body)) => {
                    let etag = format!("\"{}\"", hex(&Sha256::digest(&body)[..12]));
                    respond(req, path, Bytes::from(body), &etag)
                }
                _ => not_found(),
            }
        }
    }
}

/// The file, or `304` when the client's copy has its tag. Every answer is revalidated
/// (`no-cache`): the files keep their names from one release to the next.
fn respond(req: &HttpRequest, path: &str, body: Bytes, etag: &str) -> HttpResponse {
    let unchanged = req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((CACHE_CONTROL, "no-cache"))
        .insert_header((ETAG, etag))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((REFERRER_POLICY, "no-referrer"))
        .insert_header((CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)));
    if unchanged {
        return response.finish();
    }
    response
        .insert_header((CONTENT_TYPE, media_type(path)))
        .body(body)
}

fn not_found() -> HttpResponse {
    ChatApi::render(&Failure::Request(RequestError::RouteNotFound))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_module_are_embedded() {
        assert!(EMBEDDED.contains_key("index.html"), "{:?}", EMBEDDED.keys());
        assert!(
            EMBEDDED.keys().any(|path| path.ends_with(".js")),
            "{:?}",
            EMBEDDED.keys()
        );
        assert!(EMBEDDED.keys().all(|path| !path.ends_with(".md")));
    }

    #[test]
    fn paths_outside_the_folder_are_refused() {
        for bad in [
            "",
            "../Cargo.toml",
            "js/../../x",
            "/etc/passwd",
            ".env",
            "a//b",
            "a b",
        ] {
            assert_eq!(safe_path(bad), None, "{bad:?}");
        }
        for good in ["index.html", "js/main.js", "img/logo-2.svg"] {
            assert_eq!(safe_path(good), Some(good));
        }
    }

    #[test]
    fn media_types_follow_the_extension() {
        assert_eq!(media_type("js/main.js"), "text/javascript; charset=utf-8");
        assert_eq!(media_type("app.css"), "text/css; charset=utf-8");
        assert_eq!(media_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(media_type("x"), "application/octet-stream");
    }
}
