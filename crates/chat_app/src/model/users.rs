//! Users: what the platform operator asks to create.

use chat_domain::{Email, ExternalId, FieldErrors, PersonName, Role};

/// A valid request to create a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The user's name.
    pub name: PersonName,
    /// The user's e-mail address, unique in the account.
    pub email: Option<Email>,
    /// The user's role in the account.
    pub role: Role,
    /// The integrator's id for the user (the ChatAPI `user_id`), unique in the account.
    pub external_id: Option<ExternalId>,
}

impl NewUser {
    /// Checks raw input, reporting every bad field at once. `role` defaults to agent.
    pub fn parse(
        name: Option<&str>,
        email: Option<&str>,
        role: Option<&str>,
        external_id: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.collect(PersonName::parse(name.unwrap_or_default()));
        let email = email.and_then(|raw| errors.collect(Email::parse(raw)));
        let role = match role {
            None => Some(Role::Agent),
            Some(raw) => errors.collect(Role::parse(raw)),
        };
        let external_id = external_id.and_then(|raw| errors.collect(ExternalId::parse(raw)));
        match (name, role) {
            (Some(name), Some(role)) if errors.is_empty() => Ok(Self {
                name,
                email,
                role,
                external_id,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_defaults_to_agent_and_bad_fields_are_all_reported() {
        let user = NewUser::parse(Some("Ada"), None, None, None).map(|u| u.role);
        assert_eq!(user, Ok(Role::Agent));
        let errors = NewUser::parse(Some(" "), Some("nope"), Some("boss"), Some(""))
            .err()
            .map(|e| e.iter().map(|f| f.field).collect::<Vec<_>>());
        assert_eq!(errors, Some(vec!["name", "email", "role", "external_id"]));
    }
}
