//! Rooms: what a caller asks to create, change or list, and what the store is asked for.

use chat_domain::{
    Description, ExternalId, FieldError, FieldErrors, Problem, Room, RoomMeta, RoomName,
    StoredUpload, User, UserId, storable,
};
use serde_json::{Map, Value};

use crate::model::Unread;
use crate::model::paging::Window;

/// A valid request to create a room.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRoom {
    /// The room's name.
    pub name: RoomName,
    /// What the room is for.
    pub description: Option<Description>,
    /// The integrator's meta object (`max_participants`, ...).
    pub meta: RoomMeta,
    /// An avatar image received with the request, stored already.
    pub avatar: Option<StoredUpload>,
}

impl NewRoom {
    /// Checks raw input, reporting every bad field at once.
    pub fn parse(
        name: Option<&str>,
        description: Option<&str>,
        meta: Option<Map<String, Value>>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.collect(RoomName::parse(name.unwrap_or_default()));
        let description = description.and_then(|raw| errors.collect(Description::parse(raw)));
        let meta = match meta {
            None => Some(RoomMeta::default()),
            Some(object) => errors.collect(RoomMeta::parse(object)),
        };
        match (name, meta) {
            (Some(name), Some(meta)) if errors.is_empty() => Ok(Self {
                name,
                description,
                meta,
                avatar: None,
            }),
            _ => Err(errors),
        }
    }
}

/// The fields to change on a room; `None` keeps a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoomPatch {
    /// A new name.
    pub name: Option<RoomName>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<Description>>,
    /// Replaces the whole meta object.
    pub meta: Option<RoomMeta>,
    /// `Some(Some(file))` sets a new avatar (stored already), `Some(None)` removes it.
    pub avatar: Option<Option<StoredUpload>>,
}

impl RoomPatch {
    /// Checks raw input. For `name` and `description` the outer `None` means "not
    /// given" and the inner `None` "null": a null name is blank, a null description clears it.
    pub fn parse(
        name: Option<Option<&str>>,
        description: Option<Option<&str>>,
        meta: Option<Map<String, Value>>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = name.and_then(|raw| errors.collect(RoomName::parse(raw.unwrap_or_default())));
        let description = match description {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => errors.collect(Description::parse(raw)).map(Some),
        };
        let meta = meta.and_then(|object| errors.collect(RoomMeta::parse(object)));
        errors.into_result()?;
        Ok(Self {
            name,
            description,
            meta,
            avatar: None,
        })
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The orders a room list can come in; ties are broken by id, in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomSort {
    /// By name, A to Z.
    NameAsc,
    /// By name, Z to A.
    NameDesc,
    /// Oldest first.
    CreatedAsc,
    /// Newest first.
    CreatedDesc,
    /// Most recent message (or creation) first: the account dialect's order.
    RecentActivity,
}

impl RoomSort {
    /// The values the ChatAPI dialect's `sort` parameter accepts.
    pub const CHATAPI: &'static [&'static str] = &["name", "-name", "created_at", "-created_at"];

    /// The ChatAPI dialect's `sort` parameter.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "name" => Ok(RoomSort::NameAsc),
            "-name" => Ok(RoomSort::NameDesc),
            "created_at" => Ok(RoomSort::CreatedAsc),
            "-created_at" => Ok(RoomSort::CreatedDesc),
            _ => Err(FieldError::new(
                "sort",
                Problem::NotIncluded {
                    allowed: Self::CHATAPI,
                },
            )),
        }
    }
}

/// What a caller asks of a room list.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomQuery {
    /// Case-insensitive substring of the name or the description.
    pub search: Option<String>,
    /// Only active (`true`) or inactive (`false`) rooms.
    pub is_active: Option<bool>,
    /// The order of the list.
    pub sort: RoomSort,
    /// Which slice of the list.
    pub window: Window,
    /// Whose unread counts to show (the ChatAPI `user_id` parameter, for the API key);
    /// a user credential always sees its own.
    pub viewer: Option<ExternalId>,
}

impl RoomQuery {
    /// The longest `search` accepted, in characters.
    pub const MAX_SEARCH_CHARS: usize = 255;

    /// Checks the query: a blank `search` is none; a longer one than
    /// [`RoomQuery::MAX_SEARCH_CHARS`], or one the database cannot take (a NUL), is refused.
    pub fn new(
        search: Option<&str>,
        is_active: Option<bool>,
        sort: RoomSort,
        window: Window,
    ) -> Result<Self, FieldError> {
        if let Some(raw) = search {
            storable::text("search", raw)?;
        }
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.chars().count() > Self::MAX_SEARCH_CHARS) {
            return Err(FieldError::new(
                "search",
                Problem::TooLong {
                    max: Self::MAX_SEARCH_CHARS,
                },
            ));
        }
        Ok(Self {
            search: search.map(str::to_owned),
            is_active,
            sort,
            window,
            viewer: None,
        })
    }
}

/// What the store is asked for: the query, restricted to `member`'s rooms when set.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomFilter {
    /// Case-insensitive substring of the name or the description.
    pub search: Option<String>,
    /// Only active (`true`) or inactive (`false`) rooms.
    pub is_active: Option<bool>,
    /// Only the rooms this user belongs to.
    pub member: Option<UserId>,
    /// The order of the list.
    pub sort: RoomSort,
    /// Which slice of the list.
    pub window: Window,
}

/// What a list brings along with each room of its page, read with the page (one unit of
/// work in the store, not a query per kind afterwards).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Along {
    /// Whose unread counts: none without a viewer, and zeros for rooms they do not
    /// belong to.
    pub unread_of: Option<UserId>,
    /// Each room's members, in join order.
    pub members: bool,
}

/// A room of a page and what [`Along`] asked for with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedRoom {
    /// The room.
    pub room: Room,
    /// The viewer's unread counts (zeros without a viewer or a membership).
    pub unread: Unread,
    /// Its members, in join order, when asked for.
    pub members: Option<Vec<User>>,
}

/// How much of a room to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// The room and its counters.
    Summary,
    /// Also its members (the account dialect's `members`, `is_member`).
    WithMembers,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters_are_checked() {
        assert!(Window::new(0, 1, 100).is_ok());
        let fields = |r: Result<Window, FieldErrors>| {
            r.err()
                .map(|e| e.iter().map(|f| f.field).collect::<Vec<_>>())
        };
        assert_eq!(fields(Window::new(-1, 0, 100)), Some(vec!["skip", "limit"]));
        assert_eq!(fields(Window::new(0, 101, 100)), Some(vec!["limit"]));
        assert_eq!(RoomSort::parse("-name"), Ok(RoomSort::NameDesc));
        assert!(RoomSort::parse("updated_at").is_err());
        let window = Window::new(0, 10, 100).unwrap_or_else(|e| panic!("{e}"));
        let blank = RoomQuery::new(Some("   "), None, RoomSort::NameAsc, window);
        assert_eq!(blank.map(|q| q.search), Ok(None));
        assert!(RoomQuery::new(Some(&"s".repeat(256)), None, RoomSort::NameAsc, window).is_err());
        let nul = RoomQuery::new(Some("a\u{0}"), None, RoomSort::NameAsc, window);
        assert_eq!(
            nul.err(),
            Some(FieldError::new("search", Problem::InvalidCharacter))
        );
    }
}
