//! Accounts: what the platform operator asks to create or change.

use chat_domain::{AccountName, Description, FieldErrors};

/// A valid request to create an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// The account's name.
    pub name: AccountName,
    /// What the account is for.
    pub description: Option<Description>,
}

impl NewAccount {
    /// Checks raw input, reporting every bad field at once.
    pub fn parse(name: Option<&str>, description: Option<&str>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.collect(AccountName::parse(name.unwrap_or_default()));
        let description = description
            .map(|raw| errors.collect(Description::parse(raw)))
            .unwrap_or(None);
        match name {
            Some(name) if errors.is_empty() => Ok(Self { name, description }),
            _ => Err(errors),
        }
    }
}

/// The fields to change on an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountPatch {
    /// A new name.
    pub name: Option<AccountName>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<Description>>,
    /// Switches the account on or off; an inactive account's credentials stop working.
    pub is_active: Option<bool>,
    /// Switches the chat-rooms feature on or off.
    pub chat_rooms: Option<bool>,
}

impl AccountPatch {
    /// Checks raw input, reporting every bad field at once. For `name` and
    /// `description`, the outer `None` means "not given" and the inner `None` "null":
    /// a null name is blank, a null description clears it.
    pub fn parse(
        name: Option<Option<&str>>,
        description: Option<Option<&str>>,
        is_active: Option<bool>,
        chat_rooms: Option<bool>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = name.and_then(|raw| errors.collect(AccountName::parse(raw.unwrap_or_default())));
        let description = match description {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => errors.collect(Description::parse(raw)).map(Some),
        };
        errors.into_result()?;
        Ok(Self {
            name,
            description,
            is_active,
            chat_rooms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_domain::Problem;

    #[test]
    fn new_account_reports_every_bad_field() {
        let errors = NewAccount::parse(None, Some(&"d".repeat(10_001))).err();
        let fields: Vec<_> = errors
            .iter()
            .flat_map(|e| e.iter().map(|f| (f.field, f.problem.clone())))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("name", Problem::Blank),
                ("description", Problem::TooLong { max: 10_000 })
            ]
        );
    }

    #[test]
    fn patch_distinguishes_absent_null_and_values() {
        let patch = AccountPatch::parse(None, Some(None), Some(false), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(patch.name, None);
        assert_eq!(patch.description, Some(None));
        assert_eq!(patch.is_active, Some(false));
        let blank = AccountPatch::parse(Some(None), None, None, None)
            .err()
            .map(|e| {
                e.iter()
                    .map(|f| (f.field, f.problem.clone()))
                    .collect::<Vec<_>>()
            });
        assert_eq!(blank, Some(vec![("name", Problem::Blank)]));
        let renamed = AccountPatch::parse(Some(Some(" New ")), None, None, Some(true))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(renamed.name.as_ref().map(AccountName::as_str), Some("New"));
        assert_eq!(renamed.chat_rooms, Some(true));
    }
}
