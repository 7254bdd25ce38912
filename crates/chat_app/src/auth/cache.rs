//! The credential cache: credentials found recently, and accounts as their API key's
//! holder reads them.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chat_domain::{Account, AccountId, TokenHash};

use crate::ports::CredentialOwner;

/// Credentials found recently, so that a busy client's requests do not each look
/// theirs up. An entry lives `ttl`; every change to accounts or keys made on this node
/// empties the cache at once ([`CredentialCache::clear`]), so only another node's
/// change can take up to `ttl` to be seen here. Unknown secrets are never cached.
pub struct CredentialCache {
    ttl: Duration,
    entries: Mutex<HashMap<TokenHash, (CredentialOwner, Instant)>>,
    /// Accounts as their API key's holder reads them (`GET /api/v1/clients/me`).
    accounts: Mutex<HashMap<AccountId, (Account, Instant)>>,
}

impl fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Entries beyond this many empty the cache (a crude bound; a cache this full is being
/// walked by many distinct secrets).
const CACHE_CAPACITY: usize = 100_000;

impl CredentialCache {
    /// A cache whose entries live `ttl` (zero: nothing is cached).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn account(&self, id: AccountId) -> Option<Account> {
        let accounts = self.accounts.lock().ok()?;
        let (account, at) = accounts.get(&id)?;
        (at.elapsed() < self.ttl).then(|| account.clone())
    }

    pub(crate) fn put_account(&self, account: Account) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut accounts) = self.accounts.lock() {
            if accounts.len() >= CACHE_CAPACITY {
                accounts.clear();
            }
            accounts.insert(account.id, (account, Instant::now()));
        }
    }

    pub(crate) fn get(&self, hash: &TokenHash) -> Option<CredentialOwner> {
        let entries = self.entries.lock().ok()?;
        let (owner, at) = entries.get(hash)?;
        (at.elapsed() < self.ttl).then(|| owner.clone())
    }

    pub(crate) fn put(&self, hash: TokenHash, owner: CredentialOwner) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(hash, (owner, Instant::now()));
        }
    }

    /// Forgets every credential: call after any change to accounts or their keys.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
        if let Ok(mut accounts) = self.accounts.lock() {
            accounts.clear();
        }
    }
}
