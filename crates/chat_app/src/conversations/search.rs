//! Search across the rooms a caller may read.

use chat_domain::Permission;

use super::Conversations;
use crate::access::message_error;
use crate::actor::Actor;
use crate::error::AppError;
use crate::messages::MessageView;
use crate::model::{MessageDetail, Page, SearchQuery};

impl Conversations {
    /// Messages matching `query` across the rooms the caller may read (agents and end
    /// users: the rooms they belong to), best match first, never deleted ones.
    pub async fn search(
        &self,
        actor: &Actor,
        query: SearchQuery,
        detail: MessageDetail,
    ) -> Result<Page<MessageView>, AppError> {
        let account = actor.account_id()?;
        actor.require(Permission::ReadMessages)?;
        // Agents and end users read their own rooms only; whatever the query says
        // otherwise, the store is told whose rooms they are.
        let query = SearchQuery {
            reader: actor.limited_to(),
            ..query
        };
        let (messages, total) = self
            .conversations
            .search(account, query)
            .await
            .map_err(message_error)?;
        let items = self.views().across(account, messages, detail).await?;
        Ok(Page { items, total })
    }
}
