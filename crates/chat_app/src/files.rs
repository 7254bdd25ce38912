//! Stored files (attachments, avatars), read back for serving.
//!
//! Access is granted by the HTTP layer's signed, expiring URLs: a URL names one storage
//! key, and keys carry their account (`accounts/{id}/…`), so a signature made for one
//! account's file never opens another's.

use std::fmt;
use std::sync::Arc;

use chat_domain::StorageKey;

use crate::error::{AppError, Resource};
use crate::ports::{FileStore, StoredFile};

/// The file use cases.
#[derive(Clone)]
pub struct Files {
    store: Arc<dyn FileStore>,
}

impl fmt::Debug for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Files").finish_non_exhaustive()
    }
}

impl Files {
    pub fn new(store: Arc<dyn FileStore>) -> Self {
        Self { store }
    }

    /// The stored file under `key`, streamed. `NotFound(File)` when there is none.
    pub async fn open(&self, key: StorageKey) -> Result<StoredFile, AppError> {
        self.store
            .open(key)
            .await
            .map_err(|e| e.into_app(Resource::File))
    }
}
