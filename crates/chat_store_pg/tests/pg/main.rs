//! The PostgreSQL adapter against a real server, as one test binary (one link instead of
//! one per file): each test in a database of its own, cloned from a template migrated
//! once (see `chat_test_db`), so they run in parallel.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

mod common;

mod accounts_users_pool;
mod attachments;
mod conversations;
mod delivered;
mod end_users;
mod members;
mod messages;
mod plans;
mod presence;
mod room_counts;
mod room_lists;
mod rooms;
mod webhooks;
