//! Users: what the platform operator, the API key or an administrator asks to create
//! or change.

use chat_domain::{
    Availability, Email, ExternalId, FieldError, FieldErrors, PersonName, Problem, Role,
};

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
    /// The availability stored at creation; `None` keeps the default (`offline`).
    pub availability: Option<Availability>,
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
                availability: None,
            }),
            _ => Err(errors),
        }
    }

    /// Checks an agent as the account dialect's `POST …/agents` sends it: as
    /// [`parse`](Self::parse) without an external id, but the e-mail address is required
    /// and an availability may be given. Every bad field is reported at once.
    pub fn parse_agent(
        name: Option<&str>,
        email: Option<&str>,
        role: Option<&str>,
        availability: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let (mut user, mut errors) = match Self::parse(name, email, role, None) {
            Ok(user) => (Some(user), FieldErrors::new()),
            Err(errors) => (None, errors),
        };
        if email.is_none() {
            errors.push(FieldError::new("email", Problem::Blank));
        }
        let availability = availability.and_then(|raw| errors.collect(Availability::parse(raw)));
        match user.as_mut() {
            Some(user) if errors.is_empty() => {
                user.availability = availability;
                Ok(user.clone())
            }
            _ => Err(errors),
        }
    }
}

/// A valid change to a user (`PATCH …/agents/{id}`); absent fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    /// A new name.
    pub name: Option<PersonName>,
    /// A new e-mail address, unique in the account.
    pub email: Option<Email>,
    /// A new role.
    pub role: Option<Role>,
    /// A new stored availability.
    pub availability: Option<Availability>,
}

impl UserPatch {
    /// Checks raw input, reporting every bad field at once. A field given as an empty
    /// string is blank (422), not "unchanged".
    pub fn parse(
        name: Option<&str>,
        email: Option<&str>,
        role: Option<&str>,
        availability: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let patch = Self {
            name: name.and_then(|raw| errors.collect(PersonName::parse(raw))),
            email: email.and_then(|raw| errors.collect(Email::parse(raw))),
            role: role.and_then(|raw| errors.collect(Role::parse(raw))),
            availability: availability.and_then(|raw| errors.collect(Availability::parse(raw))),
        };
        if errors.is_empty() {
            Ok(patch)
        } else {
            Err(errors)
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

    #[test]
    fn an_agent_needs_an_email_and_may_say_its_availability() {
        let agent = NewUser::parse_agent(Some("Ada"), Some("a@b.co"), None, Some("busy"))
            .map(|u| (u.role, u.availability));
        assert_eq!(agent, Ok((Role::Agent, Some(Availability::Busy))));
        let fields = |r: Result<NewUser, FieldErrors>| {
            r.err()
                .map(|e| e.iter().map(|f| f.field).collect::<Vec<_>>())
        };
        assert_eq!(
            fields(NewUser::parse_agent(Some("Ada"), None, None, None)),
            Some(vec!["email"])
        );
        assert_eq!(
            fields(NewUser::parse_agent(
                None,
                Some("x"),
                Some("boss"),
                Some("away")
            )),
            Some(vec!["name", "email", "role", "availability_status"])
        );
    }

    #[test]
    fn a_patch_keeps_absent_fields_and_refuses_blank_ones() {
        assert_eq!(
            UserPatch::parse(None, None, None, None),
            Ok(UserPatch::default())
        );
        let errors = UserPatch::parse(Some(" "), Some(""), Some("x"), Some("y"))
            .err()
            .map(|e| e.iter().map(|f| f.field).collect::<Vec<_>>());
        assert_eq!(
            errors,
            Some(vec!["name", "email", "role", "availability_status"])
        );
    }
}
