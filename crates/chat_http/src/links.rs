//! Absolute, signed URLs of stored files (`data_url`, `thumb_url`, `avatar_url`), made
//! for the request being answered.

use actix_web::dev::Payload;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use chat_domain::{Attachment, FileType, StorageKey};

use crate::AppState;
use crate::signing::UrlSigner;

/// Makes the URLs of stored files for one response: `{base}/files/{key}?expires=…&
/// signature=…`, where `base` is the configured public URL, else the scheme and host the
/// request came to. Every URL of a response expires at the same time.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
    signer: UrlSigner,
    now: i64,
    ttl_secs: i64,
}

impl Links {
    pub fn new(base: impl Into<String>, signer: UrlSigner, now: i64, ttl_secs: i64) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
            signer,
            now,
            ttl_secs,
        }
    }

    /// What URLs start with.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The same links, expiring from now (for a long-lived connection).
    pub fn refreshed(&self) -> Self {
        Self {
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
            ..self.clone()
        }
    }

    /// The signed URL of the stored file `key`.
    pub fn file_url(&self, key: &StorageKey) -> String {
        let path = format!("/files/{key}");
        format!(
            "{}{}",
            self.base,
            self.signer.signed_path(&path, self.now, self.ttl_secs)
        )
    }

    /// An attachment's `data_url`, and its `thumb_url`: the same URL for images (no
    /// resized copies are made), `""` for anything else.
    pub fn attachment_urls(&self, attachment: &Attachment) -> (String, String) {
        let data_url = self.file_url(&attachment.key);
        let thumb_url = match attachment.kind.file_type {
            FileType::Image => data_url.clone(),
            _ => String::new(),
        };
        (data_url, thumb_url)
    }

    /// Links for `req`, from the application's settings.
    pub fn for_request(req: &HttpRequest, state: &AppState) -> Self {
        let base = match &state.public_url {
            Some(url) => url.clone(),
            None => {
                let info = req.connection_info();
                format!("{}://{}", info.scheme(), info.host())
            }
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Self::new(base, state.signer.clone(), now, state.file_url_ttl_secs)
    }
}

impl FromRequest for Links {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let links = match req.app_data::<Data<AppState>>() {
            Some(state) => Ok(Self::for_request(req, state)),
            None => Err(actix_web::error::ErrorInternalServerError(
                "application state is not registered",
            )),
        };
        std::future::ready(links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_absolute_signed_and_verifiable() {
        let signer = UrlSigner::new(b"0123456789abcdef0123456789abcdef");
        let links = Links::new("https://chat.example.com/", signer.clone(), 1_000, 60);
        let key =
            StorageKey::parse("accounts/3/attachments/a.png").unwrap_or_else(|e| panic!("{e}"));
        let url = links.file_url(&key);
        let rest = url
            .strip_prefix("https://chat.example.com/files/accounts/3/attachments/a.png?expires=1060&signature=")
            .unwrap_or_else(|| panic!("unexpected shape: {url}"));
        assert_eq!(
            signer.verify("/files/accounts/3/attachments/a.png", 1060, rest, 1_000),
            Ok(())
        );
    }
}
