//! What an end user's own credential (a scoped key or a signed token) lets it do.
//!
//! A scoped credential acts as its user, as an agent, narrowed to a set of
//! [`Permission`]s. The default set ([`Permissions::DEFAULT`]) reads, sends and joins.

use std::fmt;

use crate::validation::{FieldError, Problem};

/// One right a scoped credential may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read rooms it belongs to, their members and messages; mark them read.
    ReadMessages,
    /// Send messages, edit and delete its own, type.
    SendMessages,
    /// Join and leave rooms as itself.
    JoinRooms,
    /// Create rooms, and change or delete the rooms it belongs to.
    ManageRooms,
    /// Add other users to (and remove them from) the rooms it belongs to.
    InviteUsers,
}

impl Permission {
    /// Every permission, in the order the API lists them.
    pub const ALL: [Permission; 5] = [
        Permission::ReadMessages,
        Permission::SendMessages,
        Permission::JoinRooms,
        Permission::ManageRooms,
        Permission::InviteUsers,
    ];

    /// The names the API accepts, in the order of [`Permission::ALL`].
    pub const NAMES: &'static [&'static str] = &[
        "read_messages",
        "send_messages",
        "join_rooms",
        "manage_rooms",
        "invite_users",
    ];

    /// The permission's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadMessages => "read_messages",
            Permission::SendMessages => "send_messages",
            Permission::JoinRooms => "join_rooms",
            Permission::ManageRooms => "manage_rooms",
            Permission::InviteUsers => "invite_users",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Permission::ReadMessages => 1,
            Permission::SendMessages => 1 << 1,
            Permission::JoinRooms => 1 << 2,
            Permission::ManageRooms => 1 << 3,
            Permission::InviteUsers => 1 << 4,
        }
    }

    /// The permission named `name`, exactly as the API spells it.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`Permission`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u8);

impl Permissions {
    /// No permission at all.
    pub const NONE: Permissions = Permissions(0);
    /// Read, send and join: what a login grants unless it asks for others.
    pub const DEFAULT: Permissions = Permissions(0b0_0111);
    /// Every permission.
    pub const ALL: Permissions = Permissions(0b1_1111);

    /// Whether the set holds `permission`.
    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// The set with `permission` added.
    pub fn with(self, permission: Permission) -> Self {
        Self(self.0 | permission.bit())
    }

    /// The permissions in the set, in the order of [`Permission::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// The names of the permissions in the set, to render or store.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }

    /// The set as one byte, to store.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// A set read back from storage; bits that name no permission are dropped.
    pub fn from_bits(bits: u8) -> Self {
        Self(bits & Self::ALL.0)
    }

    /// The set the API names, on field `field`: every name must be one of
    /// [`Permission::NAMES`] (else [`Problem::NotIncluded`]); repeats are harmless. An
    /// empty list is an empty set.
    pub fn parse<'a>(
        field: &'static str,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, FieldError> {
        names.into_iter().try_fold(Self::NONE, |set, name| {
            Permission::parse(name).map(|p| set.with(p)).ok_or_else(|| {
                FieldError::new(
                    field,
                    Problem::NotIncluded {
                        allowed: Permission::NAMES,
                    },
                )
            })
        })
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_set_reads_sends_and_joins_only() {
        assert_eq!(
            Permissions::DEFAULT.names(),
            ["read_messages", "send_messages", "join_rooms"]
        );
        assert!(!Permissions::DEFAULT.contains(Permission::ManageRooms));
        assert_eq!(Permissions::ALL.names(), Permission::NAMES);
    }

    #[test]
    fn names_parse_to_a_set_and_back() {
        let set = Permissions::parse(
            "permissions",
            ["invite_users", "read_messages", "invite_users"],
        );
        assert_eq!(
            set.map(Permissions::names),
            Ok(vec!["read_messages", "invite_users"])
        );
        assert_eq!(Permissions::parse("permissions", []), Ok(Permissions::NONE));
        for set in [Permissions::NONE, Permissions::DEFAULT, Permissions::ALL] {
            assert_eq!(Permissions::from_bits(set.bits()), set);
        }
    }

    #[test]
    fn an_unknown_name_is_refused_on_its_field() {
        let error = Permissions::parse("permissions", ["read_messages", "admin"]);
        assert!(
            matches!(&error, Err(e) if e.field == "permissions"
                && matches!(e.problem, Problem::NotIncluded { .. })),
            "{error:?}"
        );
        assert_eq!(Permission::parse("READ_MESSAGES"), None);
    }
}
