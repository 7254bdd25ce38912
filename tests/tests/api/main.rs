//! Black-box API tests: each test starts the real server on port 0 over its own fresh
//! database and speaks HTTP to it. Test names read as the specification.

mod agents;
mod attachments;
mod clients;
mod credential_sockets;
mod cross_account;
mod docs_examples;
mod docs_webhooks;
mod errors;
mod files;
mod input;
mod jwt;
mod live;
mod live_nodes;
mod members_account;
mod members_chatapi;
mod members_cross;
mod messages_account;
mod messages_chatapi;
mod messages_cross;
mod openapi;
mod operations;
mod platform;
mod rate_limits;
mod readiness;
mod resilience;
mod rooms_account;
mod rooms_chatapi;
mod rooms_cross;
mod scoped_keys;
mod slow_sockets;
mod users;
mod webhooks;
mod webhooks_crud;
mod ws_limits;
