//! Query-string parsing, through the ChatAPI dialect's errors.
use super::*;
use crate::chatapi::ChatApi;

fn query(raw: &str) -> Query<ChatApi> {
    Query {
        raw: raw.to_owned(),
        dialect: PhantomData,
    }
}

fn field_of(error: &ApiError<ChatApi>) -> Option<String> {
    match error.failure() {
        crate::error::Failure::Request(RequestError::WrongField { field, .. }) => {
            Some(field.clone())
        }
        crate::error::Failure::App(chat_app::AppError::Invalid(errors)) => {
            errors.iter().next().map(|e| e.field.to_owned())
        }
        _ => None,
    }
}

#[test]
fn a_list_is_split_on_commas_across_every_occurrence() {
    let q = query("room_ids=a,%20b,,c&other=x&room_ids=d%2Ce&room_ids=");
    let items = q.list("room_ids").unwrap_or_else(|_| panic!("a list"));
    assert_eq!(items, ["a", "b", "c", "d", "e"]);
    let none = q.list("sender_ids").unwrap_or_else(|_| panic!("a list"));
    assert!(none.is_empty());
}

#[test]
fn a_nul_in_a_list_is_refused_on_its_name() {
    let refused = query("sender_ids=a,b%00").list("sender_ids");
    let Err(error) = refused else {
        panic!("a NUL must be refused");
    };
    assert_eq!(field_of(&error).as_deref(), Some("sender_ids"));
}

#[test]
fn booleans_are_true_or_false_and_anything_else_names_the_parameter() {
    let q = query("a=true&b=FALSE&c=1&d=0&e=yes");
    let value = |name| q.boolean(name).unwrap_or_else(|_| panic!("{name}"));
    assert_eq!(value("a"), Some(true));
    assert_eq!(value("b"), Some(false));
    assert_eq!(value("c"), Some(true));
    assert_eq!(value("d"), Some(false));
    assert_eq!(value("missing"), None);
    let Err(error) = q.boolean("e") else {
        panic!("`yes` is no boolean");
    };
    assert_eq!(field_of(&error).as_deref(), Some("e"));
}
