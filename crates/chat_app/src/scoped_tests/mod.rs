//! What an end user's scoped credential (a scoped key or a signed token) may do across
//! the room, membership and message use cases: each action needs its permission, and
//! the room is looked up before any right is checked.

mod actions;
mod fixtures;
mod rules;
