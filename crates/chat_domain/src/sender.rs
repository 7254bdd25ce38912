//! Who said or did something: a user of the account, or the system.

use crate::user::UserId;

/// Who said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// A user of the account; `label` is its ChatAPI `user_id` when it spoke.
    User {
        /// The user's integer id.
        id: UserId,
        /// How the ChatAPI dialect names it (`sender_id`).
        label: String,
    },
    /// The system (the API key speaking for nobody).
    System,
}

impl Sender {
    /// The ChatAPI dialect's `sender_id`.
    pub fn label(&self) -> &str {
        match self {
            Sender::User { label, .. } => label,
            Sender::System => "system",
        }
    }

    /// The user who spoke; `None` for the system.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Sender::User { id, .. } => Some(*id),
            Sender::System => None,
        }
    }
}
