//! Commands, queries and paging: the plain data the use cases take and the ports
//! receive. Below both, so neither imports the other to name them.

pub mod accounts;
pub mod conversations;
pub mod end_users;
pub mod members;
pub mod messages;
pub mod paging;
pub mod rooms;
pub mod users;
pub mod webhooks;

pub use accounts::{AccountPatch, NewAccount};
pub use conversations::{Mention, RawSearch, SearchQuery};
pub use end_users::{EndUserPatch, Login, NewEndUser, UserQuery};
pub use members::{Join, UserIds};
pub use messages::{
    MessageDetail, MessageFilter, MessageOrder, NewMessage, Outgoing, RawOutgoing, SendContext,
    SendRules, Sent, Speaker, Unread,
};
pub use paging::{Page, Window};
pub use rooms::{Along, Detail, ListedRoom, NewRoom, RoomFilter, RoomPatch, RoomQuery, RoomSort};
pub use users::{NewUser, UserPatch};
pub use webhooks::{NewWebhook, RawWebhook, WebhookPatch};
