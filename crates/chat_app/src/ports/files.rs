//! Where uploaded files are kept, and which of them rows refer to.

use std::fmt;
use std::pin::Pin;
use std::time::SystemTime;

use async_trait::async_trait;
use chat_domain::StorageKey;
use futures_core::Stream;

use super::error::StoreError;

/// The bytes of a stored file, as chunks read on demand.
pub type FileChunks = Pin<Box<dyn Stream<Item = Result<Vec<u8>, std::io::Error>> + Send>>;

/// A stored file opened for reading: its size, and its bytes as a stream, so a large
/// file is never whole in memory.
pub struct StoredFile {
    /// The size in bytes, known before reading (for `Content-Length`).
    pub len: u64,
    /// The bytes in order; an error ends the stream.
    pub chunks: FileChunks,
}

impl fmt::Debug for StoredFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredFile")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Where uploaded files (attachments, room avatars) are kept, by [`StorageKey`].
///
/// Uploads stream in: [`FileStore::create`] hands out a [`FileWriter`] that takes the
/// bytes chunk by chunk, and the file appears under its key only when the writer
/// commits, all at once — a reader never sees half a file, and an upload that fails or
/// is abandoned leaves nothing behind. Committing under a key that already holds a
/// file replaces it.
///
/// Errors: `NotFound` only where a method says so; storage that cannot be reached is
/// `Unavailable`; anything else (I/O, permissions) is `Unexpected`.
///
/// The local-filesystem adapter writes to a hidden partial file and renames it into
/// place. An S3-compatible adapter maps onto the same shape without touching the use
/// cases: `create` starts a multipart upload (`CreateMultipartUpload`), `write` buffers
/// up to the part size and sends `UploadPart`, `commit` sends the last part and
/// `CompleteMultipartUpload` (small files can be one `PutObject`), `abort` sends
/// `AbortMultipartUpload`; `open` is a streamed `GetObject` (its `Content-Length` is
/// `len`), `delete` is `DeleteObject` (already idempotent) and `keys` pages through
/// `ListObjectsV2`. A bucket lifecycle rule on incomplete multipart uploads plays the
/// part of the local adapter's clean-up of abandoned partial files.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Starts writing the file `key`. Nothing is readable under `key` (and an earlier
    /// file there stays as it was) until the writer commits.
    async fn create(&self, key: StorageKey) -> Result<Box<dyn FileWriter>, StoreError>;

    /// Opens the committed file `key` for streaming. `NotFound` when there is none.
    async fn open(&self, key: StorageKey) -> Result<StoredFile, StoreError>;

    /// Deletes the file `key`. A key with no file is `Ok` too, so a retry is harmless.
    async fn delete(&self, key: StorageKey) -> Result<(), StoreError>;

    /// Every committed file, in no particular order; files being written are not
    /// listed. For a sweep of files no attachment or avatar refers to.
    async fn keys(&self) -> Result<Vec<ListedFile>, StoreError>;
}

/// A committed file, as [`FileStore::keys`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// Its key.
    pub key: StorageKey,
    /// When it was last written (committed).
    pub modified: SystemTime,
}

/// Which stored files rows refer to, for the sweep of orphans.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait FileIndex: Send + Sync {
    /// Those of `keys` that no attachment and no room avatar refers to. Each key is
    /// looked up within the account it names (`accounts/{id}/…`); a key of no account
    /// is unreferenced.
    async fn unreferenced(&self, keys: Vec<StorageKey>) -> Result<Vec<StorageKey>, StoreError>;
}

/// One file being written to a [`FileStore`]. Either `commit` or `abort` ends it; a
/// writer dropped without either is aborted, as far as the adapter can do without
/// waiting.
#[async_trait]
pub trait FileWriter: Send {
    /// Appends `chunk` to the file.
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError>;

    /// Makes the file durable and visible under its key, all at once. Answers its size
    /// in bytes. On error nothing new is visible and the partial data is removed.
    async fn commit(self: Box<Self>) -> Result<u64, StoreError>;

    /// Discards what was written; nothing becomes visible.
    async fn abort(self: Box<Self>);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_domain::{AccountId, StorageKey};
    use uuid::Uuid;

    /// A writer that only counts, to show the mock can hand out any `FileWriter`.
    struct Counting(u64);

    #[async_trait]
    impl FileWriter for Counting {
        async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
            self.0 += chunk.len() as u64;
            Ok(())
        }
        async fn commit(self: Box<Self>) -> Result<u64, StoreError> {
            Ok(self.0)
        }
        async fn abort(self: Box<Self>) {}
    }

    fn key() -> Result<StorageKey, chat_domain::InvalidStorageKey> {
        StorageKey::for_attachment(AccountId(1), Uuid::nil(), "png")
    }

    #[tokio::test]
    async fn file_store_is_mockable_with_a_streaming_writer()
    -> Result<(), Box<dyn std::error::Error>> {
        let expected = key()?;
        let mut store = MockFileStore::new();
        store
            .expect_create()
            .withf(move |k| *k == expected)
            .times(1)
            .returning(|_| Ok(Box::new(Counting(0))));
        store.expect_open().returning(|_| Err(StoreError::NotFound));

        let mut writer = store.create(key()?).await?;
        writer.write(b"abc").await?;
        writer.write(b"de").await?;
        assert_eq!(writer.commit().await?, 5);
        assert!(matches!(
            store.open(key()?).await,
            Err(StoreError::NotFound)
        ));
        Ok(())
    }
}
