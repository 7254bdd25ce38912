//! The Redis adapter against a real Redis (`CHAT_TEST_REDIS_URL`, else
//! `redis://127.0.0.1:6379`), as one test binary: each test under a key prefix of its
//! own, so they run in parallel. Without a Redis, every test fails and says so.

// Tests stop at the first surprise, with the reason.
#![allow(clippy::expect_used)]

mod common;

mod allowances;
mod nodes;
mod presence;
