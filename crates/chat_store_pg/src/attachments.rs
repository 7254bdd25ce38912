//! Attachments of messages, and which stored files rows refer to ([`FileIndex`]).
//!
//! Attachment rows are written with their message, by the one statement of
//! [`chat_app::MessageStore::send`] (from the columns of [`NewAttachments`]), and read
//! with messages: a message row counts its attachments (`attachment_count`), so a page of
//! messages without files costs no second query.

use std::collections::HashMap;

use async_trait::async_trait;
use chat_app::{FileIndex, StoreError};
use chat_domain::{
    AccountId, Attachment, AttachmentId, MessageId, Sniffed, StorageKey, StoredUpload,
};
use diesel::dsl::exists;
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{attachments, rooms};
use crate::{PgStore, corrupt, translate};

/// One row of `attachments`.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = attachments, check_for_backend(diesel::pg::Pg))]
struct AttachmentRow {
    id: i64,
    uuid: Uuid,
    account_id: i64,
    message_id: i64,
    storage_key: String,
    extension: String,
    file_size: i64,
    width: Option<i32>,
    height: Option<i32>,
}

impl TryFrom<AttachmentRow> for Attachment {
    type Error = StoreError;

    fn try_from(row: AttachmentRow) -> Result<Self, StoreError> {
        let invalid = |e: String| corrupt("attachment", row.id, e);
        let key = StorageKey::parse(&row.storage_key).map_err(|e| invalid(e.to_string()))?;
        let size = u64::try_from(row.file_size).map_err(|e| invalid(e.to_string()))?;
        let dimensions = match (row.width, row.height) {
            (Some(w), Some(h)) => Some((
                u32::try_from(w).map_err(|e| invalid(e.to_string()))?,
                u32::try_from(h).map_err(|e| invalid(e.to_string()))?,
            )),
            _ => None,
        };
        Ok(Attachment {
            id: AttachmentId(row.id),
            uuid: row.uuid,
            account_id: AccountId(row.account_id),
            message_id: MessageId(row.message_id),
            key,
            kind: Sniffed::for_extension(&row.extension),
            size,
            dimensions,
        })
    }
}

/// The files of a new message as columns, one array per column in upload order, for
/// the statement that stores the message (`unnest` turns them into rows). The ranges the
/// columns allow are checked here, before anything is written.
#[derive(Debug, Default)]
pub(crate) struct NewAttachments<'a> {
    pub(crate) uuids: Vec<Uuid>,
    pub(crate) storage_keys: Vec<&'a str>,
    pub(crate) extensions: Vec<&'a str>,
    pub(crate) file_sizes: Vec<i64>,
    pub(crate) widths: Vec<Option<i32>>,
    pub(crate) heights: Vec<Option<i32>>,
}

impl<'a> NewAttachments<'a> {
    /// `files` as columns; a `SerializationError` when a number does not fit its column.
    pub(crate) fn of(files: &'a [StoredUpload]) -> QueryResult<Self> {
        let too_big = |what: &str| {
            diesel::result::Error::SerializationError(format!("{what} is out of range").into())
        };
        let dimension = |d: u32| i32::try_from(d).map_err(|_| too_big("an image dimension"));
        let mut columns = NewAttachments::default();
        for file in files {
            let (width, height) = match file.dimensions {
                Some((w, h)) => (Some(dimension(w)?), Some(dimension(h)?)),
                None => (None, None),
            };
            columns.uuids.push(file.uuid);
            columns.storage_keys.push(file.key.as_str());
            columns.extensions.push(file.kind.extension);
            columns
                .file_sizes
                .push(i64::try_from(file.size).map_err(|_| too_big("a file size"))?);
            columns.widths.push(width);
            columns.heights.push(height);
        }
        Ok(columns)
    }

    /// The attachments these columns became, given the ids their rows got (in upload
    /// order) as attachments of `message`: the rows as stored, without reading them back.
    pub(crate) fn stored(
        self,
        account: AccountId,
        message: MessageId,
        ids: Vec<i64>,
    ) -> Result<Vec<Attachment>, StoreError> {
        if ids.len() != self.uuids.len() {
            return Err(StoreError::Unexpected(anyhow::anyhow!(
                "{} attachment rows stored for {} files of message {}",
                ids.len(),
                self.uuids.len(),
                message.0
            )));
        }
        let columns = self
            .uuids
            .into_iter()
            .zip(self.storage_keys)
            .zip(self.extensions)
            .zip(self.file_sizes)
            .zip(self.widths.into_iter().zip(self.heights));
        ids.into_iter()
            .zip(columns)
            .map(
                |(id, ((((uuid, storage_key), extension), file_size), (width, height)))| {
                    Attachment::try_from(AttachmentRow {
                        id,
                        uuid,
                        account_id: account.0,
                        message_id: message.0,
                        storage_key: storage_key.to_owned(),
                        extension: extension.to_owned(),
                        file_size,
                        width,
                        height,
                    })
                },
            )
            .collect()
    }
}

/// The attachments of `messages` (ids of the account's messages), each message's in
/// upload order. One query on the (message_id, position) index.
pub(crate) fn of_messages(
    conn: &mut PgConnection,
    account: AccountId,
    messages: &[i64],
) -> Result<HashMap<i64, Vec<Attachment>>, StoreError> {
    let mut by_message: HashMap<i64, Vec<Attachment>> = HashMap::new();
    if messages.is_empty() {
        return Ok(by_message);
    }
    let rows: Vec<AttachmentRow> = attachments::table
        .filter(attachments::account_id.eq(account.0))
        .filter(attachments::message_id.eq_any(messages))
        .order_by((attachments::message_id, attachments::position))
        .select(AttachmentRow::as_select())
        .load(conn)
        .map_err(translate)?;
    for row in rows {
        let attachment = Attachment::try_from(row)?;
        by_message
            .entry(attachment.message_id.0)
            .or_default()
            .push(attachment);
    }
    Ok(by_message)
}

/// Deletes the attachments of one of the account's messages; answers their keys.
pub(crate) fn delete_of_message(
    conn: &mut PgConnection,
    account: AccountId,
    message: MessageId,
) -> QueryResult<Vec<String>> {
    diesel::delete(
        attachments::table
            .filter(attachments::account_id.eq(account.0))
            .filter(attachments::message_id.eq(message.0)),
    )
    .returning(attachments::storage_key)
    .get_results(conn)
}

#[async_trait]
impl FileIndex for PgStore {
    async fn unreferenced(&self, keys: Vec<StorageKey>) -> Result<Vec<StorageKey>, StoreError> {
        self.with_conn(move |conn| {
            let mut orphans = Vec::new();
            for key in keys {
                // Looked up within the account the key names (both unique indexes).
                let Some(account) = key.account() else {
                    orphans.push(key);
                    continue;
                };
                let referenced: bool = diesel::select(
                    exists(
                        attachments::table
                            .filter(attachments::account_id.eq(account.0))
                            .filter(attachments::storage_key.eq(key.as_str())),
                    )
                    .or(exists(
                        rooms::table
                            .filter(rooms::account_id.eq(account.0))
                            .filter(rooms::avatar_key.eq(key.as_str())),
                    )),
                )
                .get_result(conn)
                .map_err(translate)?;
                if !referenced {
                    orphans.push(key);
                }
            }
            Ok(orphans)
        })
        .await
    }
}
