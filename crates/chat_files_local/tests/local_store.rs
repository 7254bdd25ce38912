//! The local adapter against a real directory: each test gets its own under the
//! system temp dir, removed when the test ends.

use std::future::poll_fn;
use std::path::PathBuf;

use chat_app::{FileStore, StoreError, StoredFile};
use chat_domain::{AccountId, StorageKey};
use chat_files_local::{CHUNK_SIZE, LocalFileStore};
use uuid::Uuid;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A fresh directory, deleted on drop.
struct TempRoot(PathBuf);

impl TempRoot {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!("chat_files_local-{}", Uuid::new_v4())))
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn store() -> Result<(TempRoot, LocalFileStore), std::io::Error> {
    let root = TempRoot::new();
    let store = LocalFileStore::new(root.0.join("files"))?;
    Ok((root, store))
}

fn attachment(ext: &str) -> Result<StorageKey, chat_domain::InvalidStorageKey> {
    StorageKey::for_attachment(AccountId(7), Uuid::new_v4(), ext)
}

/// Every chunk of the file, in order.
async fn chunks(file: StoredFile) -> Result<Vec<Vec<u8>>, std::io::Error> {
    let mut stream = file.chunks;
    let mut out = Vec::new();
    while let Some(chunk) = poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        out.push(chunk?);
    }
    Ok(out)
}

async fn read_all(
    store: &LocalFileStore,
    key: &StorageKey,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let file = store.open(key.clone()).await?;
    let len = file.len;
    let bytes = chunks(file).await?.concat();
    assert_eq!(bytes.len() as u64, len, "len matches the bytes streamed");
    Ok(bytes)
}

fn partial_files(store: &LocalFileStore) -> Result<usize, std::io::Error> {
    Ok(std::fs::read_dir(store.root().join(".partial"))?.count())
}

fn not_found(result: Result<StoredFile, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound))
}

#[tokio::test]
async fn new_creates_the_root_and_its_partial_directory() -> TestResult {
    let root = TempRoot::new();
    let nested = root.0.join("a").join("b");
    let store = LocalFileStore::new(nested.clone())?;
    assert!(nested.join(".partial").is_dir());
    assert_eq!(store.root(), nested.as_path());
    // Opening an existing root again is fine.
    LocalFileStore::new(nested)?;
    Ok(())
}

#[tokio::test]
async fn chunks_written_then_committed_read_back_the_same() -> TestResult {
    let (_root, store) = store()?;
    let key = attachment("txt")?;
    let mut writer = store.create(key.clone()).await?;
    for chunk in [&b"hello, "[..], b"", b"wide ", b"world"] {
        writer.write(chunk).await?;
    }
    assert_eq!(writer.commit().await?, 17);
    assert_eq!(read_all(&store, &key).await?, b"hello, wide world");
    assert_eq!(partial_files(&store)?, 0);
    // Stored where the key says.
    let on_disk: PathBuf = key
        .segments()
        .fold(store.root().to_path_buf(), |p, s| p.join(s));
    assert_eq!(std::fs::read(on_disk)?, b"hello, wide world");
    Ok(())
}

#[tokio::test]
async fn an_empty_file_commits_and_streams_nothing() -> TestResult {
    let (_root, store) = store()?;
    let key = attachment("bin")?;
    assert_eq!(store.create(key.clone()).await?.commit().await?, 0);
    let file = store.open(key).await?;
    assert_eq!(file.len, 0);
    assert!(chunks(file).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn nothing_is_visible_until_the_writer_commits() -> TestResult {
    let (_root, store) = store()?;
    let key = attachment("png")?;
    let mut writer = store.create(key.clone()).await?;
    writer.write(b"partial data").await?;
    assert!(not_found(store.open(key.clone()).await));
    assert!(store.keys().await?.is_empty());
    assert_eq!(partial_files(&store)?, 1);
    writer.commit().await?;
    assert_eq!(read_all(&store, &key).await?, b"partial data");
    assert_eq!(listed_keys(&store).await?, vec![key]);
    Ok(())
}

#[tokio::test]
async fn an_aborted_writer_leaves_nothing() -> TestResult {
    let (_root, store) = store()?;
    let key = attachment("png")?;
    let mut writer = store.create(key.clone()).await?;
    writer.write(&[1; 1000]).await?;
    writer.abort().await;
    assert!(not_found(store.open(key).await));
    assert!(store.keys().await?.is_empty());
    assert_eq!(partial_files(&store)?, 0);
    Ok(())
}

#[tokio::test]
async fn a_dropped_writer_leaves_nothing() -> TestResult {
    let (_root, store) = store()?;
    let key = attachment("png")?;
    let mut writer = store.create(key.clone()).await?;
    writer.write(&[2; 1000]).await?;
    assert_eq!(partial_files(&store)?, 1);
    drop(writer);
    assert!(not_found(store.open(key).await));
    assert!(store.keys().await?.is_empty());
    assert_eq!(partial_files(&store)?, 0);
    Ok(())
}

#[tokio::test]
async fn an_abort_does_not_touch_an_earlier_file_under_the_key() -> TestResult {
    let (_root, store) = store()?;
    let key = attachment("txt")?;
    let mut first = store.create(key.clone()).await?;
    first.write(b"first").await?;
    first.commit().await?;
    let mut second = store.create(key.clone()).await?;
    second.write(b"second").await?;
    second.abort().await;
    assert_eq!(read_all(&store, &key).await?, b"first");
    Ok(())
}

#[tokio::test]
async fn committing_again_under_a_key_replaces_the_file() -> TestResult {
    let (_root, store) = store()?;
    let key = attachment("txt")?;
    for content in [&b"a longer first version"[..], b"short"] {
        let mut writer = store.create(key.clone()).await?;
        writer.write(content).await?;
        writer.commit().await?;
    }
    assert_eq!(read_all(&store, &key).await?, b"short");
    assert_eq!(store.keys().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn open_of_a_missing_key_or_a_directory_is_not_found() -> TestResult {
    let (_root, store) = store()?;
    assert!(not_found(store.open(attachment("png")?).await));
    let key = attachment("png")?;
    store.create(key).await?.commit().await?;
    // `accounts/7/attachments` is a directory now, not a file.
    assert!(not_found(
        store
            .open(StorageKey::parse("accounts/7/attachments")?)
            .await
    ));
    Ok(())
}

#[tokio::test]
async fn delete_removes_and_is_idempotent() -> TestResult {
    let (_root, store) = store()?;
    let key = attachment("pdf")?;
    let mut writer = store.create(key.clone()).await?;
    writer.write(b"%PDF-1.4").await?;
    writer.commit().await?;
    store.delete(key.clone()).await?;
    assert!(not_found(store.open(key.clone()).await));
    store.delete(key).await?;
    store.delete(attachment("pdf")?).await?;
    store.delete(StorageKey::parse("accounts/7")?).await?;
    assert!(store.keys().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn keys_lists_committed_files_only() -> TestResult {
    let (_root, store) = store()?;
    let a = attachment("png")?;
    let b = StorageKey::for_avatar(AccountId(8), Uuid::new_v4(), "webp")?;
    for key in [&a, &b] {
        store.create(key.clone()).await?.commit().await?;
    }
    let mut in_progress = store.create(attachment("mp4")?).await?;
    in_progress.write(b"not yet").await?;
    store.create(attachment("mp3")?).await?.abort().await;
    let deleted = attachment("gif")?;
    store.create(deleted.clone()).await?.commit().await?;
    store.delete(deleted).await?;
    // A file no key can name, left by hand, is not listed.
    std::fs::write(store.root().join("notes.txt.bak"), b"junk")?;

    let listed = store.keys().await?;
    let now = std::time::SystemTime::now();
    for file in &listed {
        // Just written: modified within the last minute, not in the future.
        let age = now.duration_since(file.modified)?;
        assert!(age.as_secs() < 60, "{file:?}");
    }
    let mut keys: Vec<StorageKey> = listed.into_iter().map(|file| file.key).collect();
    keys.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(keys, expected);
    in_progress.abort().await;
    Ok(())
}

#[tokio::test]
async fn a_5_mb_file_round_trips_in_64_kib_chunks() -> TestResult {
    let (_root, store) = store()?;
    let key = attachment("bin")?;
    let size = 5 * 1024 * 1024 + 123;
    let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let mut writer = store.create(key.clone()).await?;
    for chunk in data.chunks(64 * 1024) {
        writer.write(chunk).await?;
    }
    assert_eq!(writer.commit().await?, size as u64);

    let file = store.open(key).await?;
    assert_eq!(file.len, size as u64);
    let chunks = chunks(file).await?;
    assert!(
        chunks.len() >= size / CHUNK_SIZE,
        "streamed, not read whole"
    );
    assert!(
        chunks
            .iter()
            .all(|c| !c.is_empty() && c.len() <= CHUNK_SIZE)
    );
    assert!(chunks.concat() == data, "same bytes back");
    Ok(())
}

#[tokio::test]
async fn writers_of_the_same_key_do_not_share_a_partial_file() -> TestResult {
    let (_root, store) = store()?;
    let key = attachment("txt")?;
    let mut one = store.create(key.clone()).await?;
    let mut two = store.create(key.clone()).await?;
    one.write(b"one").await?;
    two.write(b"two").await?;
    assert_eq!(partial_files(&store)?, 2);
    one.commit().await?;
    assert_eq!(read_all(&store, &key).await?, b"one");
    two.commit().await?;
    assert_eq!(read_all(&store, &key).await?, b"two");
    assert_eq!(partial_files(&store)?, 0);
    Ok(())
}

/// The keys `keys()` lists, without their times.
async fn listed_keys(store: &LocalFileStore) -> Result<Vec<StorageKey>, StoreError> {
    Ok(store
        .keys()
        .await?
        .into_iter()
        .map(|file| file.key)
        .collect())
}

#[tokio::test]
async fn a_restart_removes_partial_files_abandoned_long_ago_only() -> TestResult {
    let root = TempRoot::new();
    let dir = root.0.join("files");
    let partial = LocalFileStore::new(dir.clone())?.root().join(".partial");
    let old = partial.join("left-by-a-crash");
    let young = partial.join("being-written-by-another-process");
    std::fs::write(&old, b"half")?;
    std::fs::write(&young, b"half")?;
    let long_ago = std::time::SystemTime::now()
        - chat_files_local::PARTIAL_MAX_AGE
        - std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&old)?
        .set_modified(long_ago)?;

    let store = LocalFileStore::new(dir)?;
    assert!(!old.exists(), "the abandoned partial file is removed");
    assert!(young.exists(), "a recent partial file is left alone");
    assert_eq!(partial_files(&store)?, 1);
    Ok(())
}
