//! Stored files (attachments, avatars): receiving uploads, reading them back for
//! serving, removing them once nothing refers to them, and sweeping orphans.
//!
//! An upload streams into the [`FileStore`] as it arrives ([`Upload`]): its first bytes
//! say what it is ([`sniff`]), never its name, and it is refused as soon as it passes its
//! size limit. The file is stored before the database row that refers to it, and
//! removed after the row that referred to it is gone, so a crash in between leaves at
//! worst an orphan file — never a row pointing at nothing. [`Files::sweep`] removes
//! orphans older than a grace period.
//!
//! Access is granted by the HTTP layer's signed, expiring URLs: a URL names one storage
//! key, and keys carry their account (`accounts/{id}/…`), so a signature made for one
//! account's file never opens another's.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chat_domain::{
    AccountId, FieldError, FileType, Problem, SNIFF_LEN, Sniffed, StorageKey, StoredUpload,
    image_size, sniff,
};
use uuid::Uuid;

use crate::error::{AppError, Resource};
use crate::ports::{FileIndex, FileStore, FileWriter, StoreError, StoredFile};

/// How much may be uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Files sent with one message.
    pub files_per_message: usize,
    /// Bytes of one attached file.
    pub file_bytes: u64,
    /// Bytes of one room avatar.
    pub avatar_bytes: u64,
}

impl Default for UploadLimits {
    /// 15 files of 40 MiB per message; avatars of 15 MiB.
    fn default() -> Self {
        Self {
            files_per_message: 15,
            file_bytes: 40 * 1024 * 1024,
            avatar_bytes: 15 * 1024 * 1024,
        }
    }
}

/// What an upload is for; it decides the limit, the accepted kinds and the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadPurpose {
    /// A file sent with a message: any kind.
    Attachment,
    /// A room's avatar: JPEG, PNG, GIF or WebP only.
    Avatar,
}

impl UploadPurpose {
    /// The input field errors name.
    pub fn field(self) -> &'static str {
        match self {
            UploadPurpose::Attachment => "attachments",
            UploadPurpose::Avatar => "avatar",
        }
    }
}

/// What a sweep found and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Stored files looked at.
    pub examined: usize,
    /// Files deleted: nothing referred to them and they were older than the grace period.
    pub deleted: usize,
}

/// The file use cases.
#[derive(Clone)]
pub struct Files {
    store: Arc<dyn FileStore>,
    limits: UploadLimits,
}

impl fmt::Debug for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Files")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

fn file_error(error: StoreError) -> AppError {
    error.into_app(Resource::File)
}

impl Files {
    pub fn new(store: Arc<dyn FileStore>, limits: UploadLimits) -> Self {
        Self { store, limits }
    }

    pub fn limits(&self) -> UploadLimits {
        self.limits
    }

    /// Starts receiving one uploaded file of `account`. Feed it with [`Upload::write`],
    /// then [`Upload::finish`] (or drop it: nothing is kept).
    pub fn receive(&self, account: AccountId, purpose: UploadPurpose) -> Upload {
        let limit = match purpose {
            UploadPurpose::Attachment => self.limits.file_bytes,
            UploadPurpose::Avatar => self.limits.avatar_bytes,
        };
        Upload {
            store: self.store.clone(),
            account,
            purpose,
            limit,
            head: Vec::new(),
            size: 0,
            open: None,
        }
    }

    /// The stored file under `key`, streamed. `NotFound(File)` when there is none.
    pub async fn open(&self, key: StorageKey) -> Result<StoredFile, AppError> {
        self.store.open(key).await.map_err(file_error)
    }

    /// Removes files nothing refers to any more (or never will: an upload whose message
    /// was refused). Best effort: a file that cannot be removed now is left for
    /// [`Files::sweep`], and only logged.
    pub async fn discard(&self, keys: Vec<StorageKey>) {
        discard(self.store.as_ref(), keys).await;
    }

    /// Deletes every stored file that no attachment or avatar refers to and that was
    /// last modified more than `grace` before `now`. The grace period spares files whose
    /// row is being written right now (a file is stored before its row commits).
    pub async fn sweep(
        &self,
        index: &dyn FileIndex,
        grace: Duration,
        now: SystemTime,
    ) -> Result<SweepReport, AppError> {
        let listed = self.store.keys().await.map_err(file_error)?;
        let mut report = SweepReport {
            examined: listed.len(),
            deleted: 0,
        };
        let old: Vec<StorageKey> = listed
            .into_iter()
            .filter(|file| {
                now.duration_since(file.modified)
                    .is_ok_and(|age| age > grace)
            })
            .map(|file| file.key)
            .collect();
        for batch in old.chunks(SWEEP_BATCH) {
            let orphans = index
                .unreferenced(batch.to_vec())
                .await
                .map_err(file_error)?;
            for key in orphans {
                self.store.delete(key).await.map_err(file_error)?;
                report.deleted += 1;
            }
        }
        Ok(report)
    }
}

/// How many keys one look-up of references asks about.
const SWEEP_BATCH: usize = 500;

/// Best-effort removal of `keys` (see [`Files::discard`]).
pub(crate) async fn discard(store: &dyn FileStore, keys: Vec<StorageKey>) {
    for key in keys {
        if let Err(error) = store.delete(key.clone()).await {
            tracing::warn!(%key, %error, "a stored file could not be removed; the sweep will");
        }
    }
}

/// One file being received. Its first [`SNIFF_LEN`] bytes are held until they say what
/// the file is (and so its key); from then on every chunk goes straight to storage, so
/// a large file is never whole in memory. Past its limit it is refused, and what was
/// written is discarded.
pub struct Upload {
    store: Arc<dyn FileStore>,
    account: AccountId,
    purpose: UploadPurpose,
    limit: u64,
    head: Vec<u8>,
    size: u64,
    open: Option<Opened>,
}

/// The writer, once the head has said what the file is.
struct Opened {
    writer: Box<dyn FileWriter>,
    uuid: Uuid,
    key: StorageKey,
    kind: Sniffed,
    dimensions: Option<(u32, u32)>,
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("purpose", &self.purpose)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Upload {
    /// Takes the next chunk. Refuses (and discards everything) when the file passes its
    /// limit — `Invalid` naming the purpose's field, with the limit — or, for an avatar,
    /// when its first bytes are not an accepted image.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        self.size = self.size.saturating_add(chunk.len() as u64);
        if self.size > self.limit {
            self.abort().await;
            return Err(FieldError::new(
                self.purpose.field(),
                Problem::TooLarge {
                    max_bytes: usize::try_from(self.limit).unwrap_or(usize::MAX),
                },
            )
            .into());
        }
        match &mut self.open {
            Some(opened) => {
                if let Err(error) = opened.writer.write(chunk).await {
                    self.abort().await;
                    return Err(file_error(error));
                }
            }
            None => {
                self.head.extend_from_slice(chunk);
                if self.head.len() >= SNIFF_LEN {
                    self.start().await?;
                }
            }
        }
        Ok(())
    }

    /// Makes the file durable under its key and answers what was stored. Nothing refers
    /// to it yet: the caller hands it to what it belongs to, or discards it.
    pub async fn finish(mut self) -> Result<StoredUpload, AppError> {
        if self.open.is_none() {
            self.start().await?;
        }
        let Some(opened) = self.open.take() else {
            return Err(AppError::Unexpected(anyhow::anyhow!(
                "an upload finished without a writer"
            )));
        };
        let size = opened.writer.commit().await.map_err(file_error)?;
        Ok(StoredUpload {
            uuid: opened.uuid,
            key: opened.key,
            kind: opened.kind,
            size,
            dimensions: opened.dimensions,
        })
    }

    /// Discards what was written; nothing becomes visible.
    pub async fn abort(&mut self) {
        self.head = Vec::new();
        if let Some(opened) = self.open.take() {
            opened.writer.abort().await;
        }
    }

    /// Decides what the file is from its head, and opens its writer with the head.
    async fn start(&mut self) -> Result<(), AppError> {
        let kind = sniff(&self.head);
        if self.purpose == UploadPurpose::Avatar && !kind.is_avatar_image() {
            self.abort().await;
            return Err(FieldError::new(
                "avatar",
                Problem::Invalid(format!(
                    "must be a JPEG, PNG, GIF or WebP image, not {}",
                    kind.mime
                )),
            )
            .into());
        }
        let dimensions = match kind.file_type {
            FileType::Image => image_size(&self.head),
            _ => None,
        };
        let uuid = Uuid::new_v4();
        let key = match self.purpose {
            UploadPurpose::Attachment => {
                StorageKey::for_attachment(self.account, uuid, kind.extension)
            }
            UploadPurpose::Avatar => StorageKey::for_avatar(self.account, uuid, kind.extension),
        }
        .map_err(|e| AppError::Unexpected(anyhow::Error::new(e)))?;
        let mut writer = self.store.create(key.clone()).await.map_err(file_error)?;
        let head = std::mem::take(&mut self.head);
        if let Err(error) = writer.write(&head).await {
            writer.abort().await;
            return Err(file_error(error));
        }
        self.open = Some(Opened {
            writer,
            uuid,
            key,
            kind,
            dimensions,
        });
        Ok(())
    }
}
