//! The harness of the black-box tests: a real `chatd` application on port 0, over a
//! fresh PostgreSQL database of its own (a clone of a template migrated once per test
//! run), and an HTTP client to speak to it.
//!
//! One module per concern; everything is re-exported here, so a test says
//! `use chat_tests::*;`.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test harness: failing loudly is the point

mod app;
mod assertions;
mod brokers;
mod conversations;
mod database;
mod end_users;
mod jwt;
mod live;
mod members;
mod messages;
mod multipart;
mod openapi;
mod raw_socket;
mod receiver;
mod reply;
mod rooms;
mod tenant;
mod webhooks;

pub use app::*;
pub use assertions::*;
pub use brokers::*;
pub use conversations::*;
pub use database::*;
pub use end_users::*;
pub use jwt::*;
pub use live::*;
pub use members::*;
pub use messages::*;
pub use multipart::*;
pub use openapi::{ApiDocument, api_document};
pub use raw_socket::*;
pub use receiver::*;
pub use reply::*;
pub use rooms::*;
pub use tenant::*;
pub use webhooks::*;
