//! Reads of a room's messages by `seq`, in pages.

use chat_app::{MessageFilter, MessageOrder, MessageStore, StoreError, Window};
use chat_domain::{AccountId, Message, RoomId, Seq};

/// How many messages one read of a gap takes.
pub(crate) const GAP_PAGE: i64 = 100;

/// A room's messages after `after` (up to `upto` when given), oldest first, deleted
/// ones included (a seq is a seq).
pub async fn read_after(
    messages: &dyn MessageStore,
    account: AccountId,
    room: RoomId,
    after: Seq,
    upto: Option<Seq>,
) -> Result<Vec<Message>, StoreError> {
    let mut out = Vec::new();
    let mut from = after;
    loop {
        let mut filter = MessageFilter::newest(Window {
            offset: 0,
            limit: GAP_PAGE,
        });
        filter.order = MessageOrder::OldestFirst;
        filter.include_deleted = true;
        filter.after_seq = Some(from);
        filter.before_seq = upto.map(|upto| Seq(upto.0 + 1));
        let (page, _) = messages.list_messages(account, room, filter).await?;
        let full = page.len() as i64 == GAP_PAGE;
        if let Some(last) = page.last() {
            from = last.seq;
        }
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}
