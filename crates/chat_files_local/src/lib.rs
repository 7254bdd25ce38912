//! The [`FileStore`] port over a local directory.
//!
//! A committed file lives at `root/<key>` (one directory per key segment). A file being
//! written lives at `root/.partial/<random uuid>` until its writer commits: the data is
//! flushed and fsynced, then renamed into place, which is atomic because both paths are
//! on the same filesystem — a reader sees the whole file or none. No [`StorageKey`] can
//! start with a dot, so `.partial` never collides with a key.
//!
//! Every operation uses `tokio::fs`, which runs the blocking calls on tokio's blocking
//! pool, never on an async worker thread.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use chat_app::{FileStore, FileWriter, ListedFile, StoreError, StoredFile};
use chat_domain::StorageKey;
use futures_core::Stream;
use tokio::fs::{self, File};
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use uuid::Uuid;

/// How much [`LocalFileStore::open`] reads per chunk.
pub const CHUNK_SIZE: usize = 64 * 1024;

const PARTIAL_DIR: &str = ".partial";

/// Partial files older than this were abandoned by a process that died.
pub const PARTIAL_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Files under one directory on the local filesystem.
#[derive(Debug, Clone)]
pub struct LocalFileStore {
    root: PathBuf,
    partial: PathBuf,
}

impl LocalFileStore {
    /// A store rooted at `root`, creating it and `root/.partial` when missing. Partial
    /// files older than [`PARTIAL_MAX_AGE`] are left-overs of a process that died while
    /// writing them, and are removed (younger ones may belong to another process sharing
    /// the directory). Called once at start-up, so it may block.
    pub fn new(root: PathBuf) -> io::Result<Self> {
        let partial = root.join(PARTIAL_DIR);
        std::fs::create_dir_all(&partial)?;
        let now = std::time::SystemTime::now();
        for entry in std::fs::read_dir(&partial)? {
            let entry = entry?;
            let stale = entry
                .metadata()
                .and_then(|meta| meta.modified())
                .is_ok_and(|modified| {
                    now.duration_since(modified)
                        .is_ok_and(|age| age > PARTIAL_MAX_AGE)
                });
            if stale && let Err(error) = std::fs::remove_file(entry.path()) {
                tracing::warn!(path = %entry.path().display(), %error, "a stale partial file could not be removed");
            }
        }
        Ok(Self { root, partial })
    }

    /// The directory files are stored under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &StorageKey) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(key.segments());
        path
    }
}

fn unexpected(error: io::Error, doing: &str, path: &Path) -> StoreError {
    StoreError::Unexpected(anyhow::Error::new(error).context(format!("{doing} {}", path.display())))
}

#[async_trait]
impl FileStore for LocalFileStore {
    async fn create(&self, key: StorageKey) -> Result<Box<dyn FileWriter>, StoreError> {
        let partial = self.partial.join(Uuid::new_v4().to_string());
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&partial)
            .await
            .map_err(|e| unexpected(e, "creating", &partial))?;
        Ok(Box::new(LocalWriter {
            file: Some(file),
            partial,
            target: self.path_of(&key),
            written: 0,
            done: false,
        }))
    }

    async fn open(&self, key: StorageKey) -> Result<StoredFile, StoreError> {
        let path = self.path_of(&key);
        let file = match File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(e) => return Err(unexpected(e, "opening", &path)),
        };
        let meta = file
            .metadata()
            .await
            .map_err(|e| unexpected(e, "reading metadata of", &path))?;
        if !meta.is_file() {
            // A key that names a directory (a prefix of other keys) holds no file.
            return Err(StoreError::NotFound);
        }
        Ok(StoredFile {
            len: meta.len(),
            chunks: Box::pin(Chunks {
                file,
                buf: Vec::new(),
                done: false,
            }),
        })
    }

    async fn delete(&self, key: StorageKey) -> Result<(), StoreError> {
        let path = self.path_of(&key);
        match fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => match fs::metadata(&path).await {
                Ok(meta) if meta.is_dir() => Ok(()),
                _ => Err(unexpected(e, "deleting", &path)),
            },
        }
    }

    async fn keys(&self) -> Result<Vec<ListedFile>, StoreError> {
        let mut keys = Vec::new();
        let mut pending = vec![(self.root.clone(), String::new())];
        while let Some((dir, prefix)) = pending.pop() {
            let mut entries = fs::read_dir(&dir)
                .await
                .map_err(|e| unexpected(e, "listing", &dir))?;
            while let Some(entry) = entries
                .next_entry()
                .await
                .map_err(|e| unexpected(e, "listing", &dir))?
            {
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue; // not UTF-8: no key names it
                };
                if prefix.is_empty() && name == PARTIAL_DIR {
                    continue;
                }
                let relative = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                };
                let kind = entry
                    .file_type()
                    .await
                    .map_err(|e| unexpected(e, "inspecting", &entry.path()))?;
                if kind.is_dir() {
                    pending.push((entry.path(), relative));
                } else if kind.is_file() {
                    // Files no key could name (put there by hand) are not ours to list.
                    if let Ok(key) = StorageKey::parse(&relative) {
                        let modified = entry
                            .metadata()
                            .await
                            .and_then(|meta| meta.modified())
                            .map_err(|e| unexpected(e, "inspecting", &entry.path()))?;
                        keys.push(ListedFile { key, modified });
                    }
                }
            }
        }
        Ok(keys)
    }
}

/// A file being written under `.partial`, renamed to `target` on commit.
struct LocalWriter {
    /// `None` once closed.
    file: Option<File>,
    partial: PathBuf,
    target: PathBuf,
    written: u64,
    /// Committed or aborted: nothing left to clean up.
    done: bool,
}

impl fmt::Debug for LocalWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalWriter")
            .field("partial", &self.partial)
            .field("target", &self.target)
            .field("written", &self.written)
            .finish()
    }
}

impl LocalWriter {
    fn file(&mut self) -> Result<&mut File, StoreError> {
        self.file.as_mut().ok_or_else(|| {
            StoreError::Unexpected(anyhow::anyhow!("file writer used after it was closed"))
        })
    }

    async fn finish(&mut self) -> Result<u64, StoreError> {
        let partial = self.partial.clone();
        let file = self.file()?;
        file.flush()
            .await
            .map_err(|e| unexpected(e, "flushing", &partial))?;
        file.sync_all()
            .await
            .map_err(|e| unexpected(e, "syncing", &partial))?;
        self.file = None;
        if let Some(parent) = self.target.parent() {
            fs::create_dir_all(parent)
                .await
                .map_err(|e| unexpected(e, "creating", parent))?;
        }
        fs::rename(&self.partial, &self.target)
            .await
            .map_err(|e| unexpected(e, "moving into place", &self.target))?;
        self.done = true;
        // Best effort: make the rename itself durable (directories cannot be opened
        // for syncing on every platform).
        if let Some(parent) = self.target.parent()
            && let Ok(dir) = File::open(parent).await
        {
            let _ = dir.sync_all().await;
        }
        Ok(self.written)
    }

    async fn discard(&mut self) {
        self.file = None;
        let _ = fs::remove_file(&self.partial).await;
        self.done = true;
    }
}

#[async_trait]
impl FileWriter for LocalWriter {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        let partial = self.partial.clone();
        self.file()?
            .write_all(chunk)
            .await
            .map_err(|e| unexpected(e, "writing", &partial))?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<u64, StoreError> {
        let result = self.finish().await;
        if result.is_err() && !self.done {
            self.discard().await;
        }
        result
    }

    async fn abort(mut self: Box<Self>) {
        self.discard().await;
    }
}

impl Drop for LocalWriter {
    /// A writer dropped mid-upload (a client that went away) removes its partial file.
    /// One unlink, synchronous: cheap enough not to matter to the runtime.
    fn drop(&mut self) {
        if !self.done {
            self.file = None;
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// A file read in chunks of up to [`CHUNK_SIZE`] bytes.
struct Chunks {
    file: File,
    buf: Vec<u8>,
    done: bool,
}

impl Stream for Chunks {
    type Item = io::Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        this.buf.resize(CHUNK_SIZE, 0);
        let mut read = ReadBuf::new(&mut this.buf);
        match Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                this.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                if n == 0 {
                    this.done = true;
                    return Poll::Ready(None);
                }
                let mut chunk = std::mem::take(&mut this.buf);
                chunk.truncate(n);
                Poll::Ready(Some(Ok(chunk)))
            }
        }
    }
}
