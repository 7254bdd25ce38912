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
    /// File use cases over `store`, within `limits`.
    pub fn new(store: Arc<dyn FileStore>, limits: UploadLimits) -> Self {
        Self { store, limits }
    }

    /// How much may be uploaded.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{ListedFile, MockFileIndex, MockFileStore};
    use async_trait::async_trait;
    use std::sync::Mutex;

    const ACCOUNT: AccountId = AccountId(7);

    /// What a [`Recording`] writer saw: every chunk written, in order, and how it ended.
    #[derive(Debug, Default)]
    struct Log {
        chunks: Vec<Vec<u8>>,
        committed: bool,
        aborted: bool,
    }

    impl Log {
        fn bytes(&self) -> Vec<u8> {
            self.chunks.concat()
        }

        fn chunk_sizes(&self) -> Vec<usize> {
            self.chunks.iter().map(Vec::len).collect()
        }
    }

    /// A writer that keeps every chunk in a shared log and answers the bytes it took
    /// when it commits.
    #[derive(Clone, Default)]
    struct Recording(Arc<Mutex<Log>>);

    impl Recording {
        fn log(&self) -> std::sync::MutexGuard<'_, Log> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    #[async_trait]
    impl FileWriter for Recording {
        async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
            self.log().chunks.push(chunk.to_vec());
            Ok(())
        }
        async fn commit(self: Box<Self>) -> Result<u64, StoreError> {
            let mut log = self.log();
            log.committed = true;
            Ok(log.chunks.iter().map(|c| c.len() as u64).sum())
        }
        async fn abort(self: Box<Self>) {
            self.log().aborted = true;
        }
    }

    /// A store whose `create` is expected `times` times and hands out `writer`; the keys
    /// it was asked to create are kept in `created`.
    fn store_with(
        writer: &Recording,
        times: usize,
    ) -> (MockFileStore, Arc<Mutex<Vec<StorageKey>>>) {
        let created = Arc::new(Mutex::new(Vec::new()));
        let (seen, writer) = (created.clone(), writer.clone());
        let mut store = MockFileStore::new();
        store.expect_create().times(times).returning(move |key| {
            seen.lock().unwrap_or_else(|e| e.into_inner()).push(key);
            Ok(Box::new(writer.clone()))
        });
        store.expect_delete().never();
        (store, created)
    }

    fn files(store: MockFileStore, limits: UploadLimits) -> Files {
        Files::new(Arc::new(store), limits)
    }

    /// The head of a PNG with its IHDR chunk (as in chat_domain's fixtures).
    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(&13u32.to_be_bytes());
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    /// A PNG of `len` bytes: the head, then a recognisable pattern.
    fn png_of_len(width: u32, height: u32, len: usize) -> Vec<u8> {
        let mut b = png(width, height);
        let start = b.len();
        b.extend((start..len).map(|i| (i % 251) as u8));
        b.truncate(len);
        b
    }

    /// The fields of an `Invalid` error with their problems; empty for anything else.
    fn invalid_fields<T: fmt::Debug>(result: &Result<T, AppError>) -> Vec<(&'static str, Problem)> {
        match result {
            Err(AppError::Invalid(errors)) => errors
                .iter()
                .map(|e| (e.field, e.problem.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn key_of(account: AccountId, folder: &str, uuid: Uuid, ext: &str) -> String {
        format!(
            "accounts/{}/{folder}/{}.{ext}",
            account.0,
            uuid.as_hyphenated()
        )
    }

    #[tokio::test]
    async fn a_png_attachment_is_keyed_by_what_its_bytes_say() {
        let writer = Recording::default();
        let (store, created) = store_with(&writer, 1);
        let bytes = png_of_len(800, 600, 1000);
        let mut upload =
            files(store, UploadLimits::default()).receive(ACCOUNT, UploadPurpose::Attachment);
        // Several chunks, the first one cutting the PNG header.
        for chunk in [&bytes[..5], &bytes[5..40], &bytes[40..700], &bytes[700..]] {
            upload.write(chunk).await.unwrap_or_else(|e| panic!("{e}"));
        }
        let stored = upload.finish().await.unwrap_or_else(|e| panic!("{e}"));

        assert_eq!(
            stored.key.as_str(),
            key_of(ACCOUNT, "attachments", stored.uuid, "png")
        );
        assert_eq!(stored.key.account(), Some(ACCOUNT));
        assert_eq!(stored.kind, Sniffed::PNG);
        assert_eq!(stored.size, 1000);
        assert_eq!(stored.dimensions, Some((800, 600)));
        let created = created.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(created, std::slice::from_ref(&stored.key));
        let log = writer.log();
        assert_eq!(log.bytes(), bytes);
        assert!(log.committed);
        assert!(!log.aborted);
    }

    #[tokio::test]
    async fn the_stored_size_is_what_the_writer_committed() {
        /// A writer whose storage reports its own idea of the size.
        struct Reporting(u64);

        #[async_trait]
        impl FileWriter for Reporting {
            async fn write(&mut self, _chunk: &[u8]) -> Result<(), StoreError> {
                Ok(())
            }
            async fn commit(self: Box<Self>) -> Result<u64, StoreError> {
                Ok(self.0)
            }
            async fn abort(self: Box<Self>) {}
        }

        let mut store = MockFileStore::new();
        store
            .expect_create()
            .times(1)
            .returning(|_| Ok(Box::new(Reporting(4242))));
        let mut upload =
            files(store, UploadLimits::default()).receive(ACCOUNT, UploadPurpose::Attachment);
        upload
            .write(&png(1, 1))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let stored = upload.finish().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored.size, 4242);
    }

    #[tokio::test]
    async fn a_large_file_holds_its_head_until_sniff_len_then_streams_in_order() {
        const CHUNK: usize = 10 * 1024;
        let writer = Recording::default();
        let (store, created) = store_with(&writer, 1);
        let total = 3 * SNIFF_LEN + 1234;
        let bytes = png_of_len(4000, 3000, total);
        let mut upload =
            files(store, UploadLimits::default()).receive(ACCOUNT, UploadPurpose::Attachment);
        let mut sent = 0;
        for chunk in bytes.chunks(CHUNK) {
            upload.write(chunk).await.unwrap_or_else(|e| panic!("{e}"));
            sent += chunk.len();
            let opened = !created.lock().unwrap_or_else(|e| e.into_inner()).is_empty();
            // Nothing is created, let alone written, before the head is complete.
            assert_eq!(opened, sent >= SNIFF_LEN, "after {sent} bytes");
            assert_eq!(writer.log().bytes(), bytes[..if opened { sent } else { 0 }]);
        }
        let stored = upload.finish().await.unwrap_or_else(|e| panic!("{e}"));

        // The head goes in one write (the chunks held until SNIFF_LEN), then each chunk
        // as it came.
        let head = SNIFF_LEN.div_ceil(CHUNK) * CHUNK;
        let mut expected = vec![head];
        expected.extend(bytes[head..].chunks(CHUNK).map(<[u8]>::len));
        let log = writer.log();
        assert_eq!(log.chunk_sizes(), expected);
        assert_eq!(log.bytes(), bytes);
        assert!(log.committed && !log.aborted);
        assert_eq!(stored.size, total as u64);
        assert_eq!(stored.kind, Sniffed::PNG);
        assert_eq!(stored.dimensions, Some((4000, 3000)));
        assert_eq!(
            stored.key.as_str(),
            key_of(ACCOUNT, "attachments", stored.uuid, "png")
        );
    }

    #[tokio::test]
    async fn a_file_exactly_at_its_limit_is_accepted() {
        let writer = Recording::default();
        let (store, _) = store_with(&writer, 1);
        let limits = UploadLimits {
            file_bytes: 100,
            ..UploadLimits::default()
        };
        let bytes = png_of_len(2, 2, 100);
        let mut upload = files(store, limits).receive(ACCOUNT, UploadPurpose::Attachment);
        upload
            .write(&bytes[..60])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        upload
            .write(&bytes[60..])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let stored = upload.finish().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored.size, 100);
    }

    #[tokio::test]
    async fn a_small_attachment_past_its_limit_is_refused_before_anything_is_created() {
        let mut store = MockFileStore::new();
        store.expect_create().never();
        store.expect_delete().never();
        let limits = UploadLimits {
            file_bytes: 100,
            ..UploadLimits::default()
        };
        let bytes = png_of_len(2, 2, 101);
        let mut upload = files(store, limits).receive(ACCOUNT, UploadPurpose::Attachment);
        upload
            .write(&bytes[..60])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let refused = upload.write(&bytes[60..]).await;
        assert_eq!(
            invalid_fields(&refused),
            [("attachments", Problem::TooLarge { max_bytes: 100 })]
        );
    }

    #[tokio::test]
    async fn a_large_attachment_past_its_limit_aborts_its_writer() {
        const CHUNK: usize = 10 * 1024;
        let writer = Recording::default();
        let (store, _) = store_with(&writer, 1);
        let limit = SNIFF_LEN + 3 * CHUNK + 17;
        let limits = UploadLimits {
            file_bytes: limit as u64,
            ..UploadLimits::default()
        };
        let bytes = png_of_len(10, 10, limit + CHUNK);
        let mut upload = files(store, limits).receive(ACCOUNT, UploadPurpose::Attachment);
        let mut refused = None;
        let mut sent = 0;
        for chunk in bytes.chunks(CHUNK) {
            if let Err(error) = upload.write(chunk).await {
                refused = Some(error);
                break;
            }
            sent += chunk.len();
        }
        assert!(
            sent <= limit,
            "{sent} bytes were taken past the limit {limit}"
        );
        let refused = refused.map_or(Ok(()), Err);
        assert_eq!(
            invalid_fields(&refused),
            [("attachments", Problem::TooLarge { max_bytes: limit })]
        );
        let log = writer.log();
        assert!(log.aborted, "the writer was not aborted");
        assert!(!log.committed, "the writer was committed");
        // Nothing past the limit reached storage.
        assert_eq!(log.bytes(), bytes[..sent]);
    }

    #[tokio::test]
    async fn a_png_avatar_is_keyed_under_avatars() {
        let writer = Recording::default();
        let (store, created) = store_with(&writer, 1);
        let bytes = png_of_len(64, 48, 500);
        let mut upload =
            files(store, UploadLimits::default()).receive(ACCOUNT, UploadPurpose::Avatar);
        upload
            .write(&bytes[..200])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        upload
            .write(&bytes[200..])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let stored = upload.finish().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            stored.key.as_str(),
            key_of(ACCOUNT, "avatars", stored.uuid, "png")
        );
        assert_eq!(stored.kind, Sniffed::PNG);
        assert_eq!(stored.size, 500);
        assert_eq!(stored.dimensions, Some((64, 48)));
        let created = created.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(created, [stored.key]);
        let log = writer.log();
        assert_eq!(log.bytes(), bytes);
        assert!(log.committed && !log.aborted);
    }

    #[tokio::test]
    async fn an_avatar_of_text_is_refused_and_nothing_is_created() {
        // A short one, refused on finish; a long one, refused once its head is complete.
        let short = b"<svg>an image.png, says its name</svg>".to_vec();
        let long = "x".repeat(SNIFF_LEN + 10).into_bytes();
        for bytes in [short, long] {
            let mut store = MockFileStore::new();
            store.expect_create().never();
            store.expect_delete().never();
            let mut upload =
                files(store, UploadLimits::default()).receive(ACCOUNT, UploadPurpose::Avatar);
            let mut result = Ok(());
            for chunk in bytes.chunks(10 * 1024) {
                result = upload.write(chunk).await;
                if result.is_err() {
                    break;
                }
            }
            let result = match result {
                Ok(()) => upload.finish().await.map(drop),
                Err(error) => Err(error),
            };
            let fields = invalid_fields(&result);
            assert_eq!(
                fields.iter().map(|(field, _)| *field).collect::<Vec<_>>(),
                ["avatar"],
                "{} bytes: {result:?}",
                bytes.len()
            );
            assert!(
                matches!(&fields[0].1, Problem::Invalid(reason) if reason.contains("text/plain")),
                "{fields:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_avatar_past_its_limit_is_too_large() {
        let mut store = MockFileStore::new();
        store.expect_create().never();
        let limits = UploadLimits {
            avatar_bytes: 64,
            ..UploadLimits::default()
        };
        let mut upload = files(store, limits).receive(ACCOUNT, UploadPurpose::Avatar);
        let refused = upload.write(&png_of_len(10, 10, 65)).await;
        assert_eq!(
            invalid_fields(&refused),
            [("avatar", Problem::TooLarge { max_bytes: 64 })]
        );
        // The attachment limit does not apply to avatars, nor the avatar limit to files.
        let writer = Recording::default();
        let (store, _) = store_with(&writer, 1);
        let limits = UploadLimits {
            avatar_bytes: 64,
            file_bytes: 10,
            ..UploadLimits::default()
        };
        let mut upload = files(store, limits).receive(ACCOUNT, UploadPurpose::Avatar);
        upload
            .write(&png_of_len(10, 10, 64))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(upload.finish().await.is_ok());
    }

    #[tokio::test]
    async fn a_dropped_or_aborted_upload_commits_nothing() {
        let writer = Recording::default();
        let (store, _) = store_with(&writer, 1);
        let mut upload =
            files(store, UploadLimits::default()).receive(ACCOUNT, UploadPurpose::Attachment);
        upload
            .write(&png_of_len(3, 3, SNIFF_LEN + 1))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        upload.abort().await;
        drop(upload);
        let log = writer.log();
        assert!(log.aborted && !log.committed);
    }

    // --- sweep -----------------------------------------------------------------------

    fn attachment_key(n: u128) -> StorageKey {
        StorageKey::for_attachment(ACCOUNT, Uuid::from_u128(n), "png")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn listed(key: &StorageKey, modified: SystemTime) -> ListedFile {
        ListedFile {
            key: key.clone(),
            modified,
        }
    }

    #[tokio::test]
    async fn a_sweep_asks_only_about_old_files_and_deletes_only_the_unreferenced() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let grace = Duration::from_secs(3600);
        let ago = |secs: u64| now - Duration::from_secs(secs);
        let (old_orphan, old_used, older_orphan) =
            (attachment_key(1), attachment_key(2), attachment_key(3));
        let (fresh, at_grace, future) = (attachment_key(4), attachment_key(5), attachment_key(6));
        let files_listed = vec![
            listed(&old_orphan, ago(3601)),
            listed(&fresh, ago(10)),
            listed(&old_used, ago(7200)),
            listed(&at_grace, ago(3600)),
            listed(&future, now + Duration::from_secs(60)),
            listed(&older_orphan, ago(1_000_000)),
        ];
        let mut store = MockFileStore::new();
        store
            .expect_keys()
            .times(1)
            .returning(move || Ok(files_listed.clone()));
        for key in [old_orphan.clone(), older_orphan.clone()] {
            store
                .expect_delete()
                .withf(move |k| *k == key)
                .times(1)
                .returning(|_| Ok(()));
        }
        let mut index = MockFileIndex::new();
        let asked = vec![old_orphan.clone(), old_used.clone(), older_orphan.clone()];
        let orphans = vec![old_orphan.clone(), older_orphan.clone()];
        index
            .expect_unreferenced()
            .withf(move |keys| *keys == asked)
            .times(1)
            .returning(move |_| Ok(orphans.clone()));

        let report = files(store, UploadLimits::default())
            .sweep(&index, grace, now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            report,
            SweepReport {
                examined: 6,
                deleted: 2
            }
        );
    }

    #[tokio::test]
    async fn a_sweep_of_nothing_old_asks_nothing() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let fresh = attachment_key(1);
        let mut store = MockFileStore::new();
        store
            .expect_keys()
            .returning(move || Ok(vec![listed(&fresh, now)]));
        store.expect_delete().never();
        let mut index = MockFileIndex::new();
        index.expect_unreferenced().never();
        let report = files(store, UploadLimits::default())
            .sweep(&index, Duration::from_secs(60), now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            report,
            SweepReport {
                examined: 1,
                deleted: 0
            }
        );
    }

    #[tokio::test]
    async fn a_sweep_asks_about_many_files_in_batches() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let old = now - Duration::from_secs(86_400);
        let keys: Vec<StorageKey> = (0..1201).map(attachment_key).collect();
        let listing: Vec<ListedFile> = keys.iter().map(|k| listed(k, old)).collect();
        let mut store = MockFileStore::new();
        store.expect_keys().returning(move || Ok(listing.clone()));
        store.expect_delete().times(1201).returning(|_| Ok(()));
        let batches = Arc::new(Mutex::new(Vec::new()));
        let seen = batches.clone();
        let mut index = MockFileIndex::new();
        index.expect_unreferenced().returning(move |keys| {
            seen.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(keys.len());
            Ok(keys)
        });
        let report = files(store, UploadLimits::default())
            .sweep(&index, Duration::from_secs(60), now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            report,
            SweepReport {
                examined: 1201,
                deleted: 1201
            }
        );
        let batches = batches.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(batches, [500, 500, 201]);
    }

    #[tokio::test]
    async fn a_sweep_stops_when_the_index_cannot_answer() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let old = attachment_key(1);
        let mut store = MockFileStore::new();
        store
            .expect_keys()
            .returning(move || Ok(vec![listed(&old, SystemTime::UNIX_EPOCH)]));
        store.expect_delete().never();
        let mut index = MockFileIndex::new();
        index
            .expect_unreferenced()
            .returning(|_| Err(StoreError::Unavailable(anyhow::anyhow!("down"))));
        let result = files(store, UploadLimits::default())
            .sweep(&index, Duration::from_secs(60), now)
            .await;
        assert!(
            matches!(result, Err(AppError::Unavailable(_))),
            "{result:?}"
        );
    }
}
