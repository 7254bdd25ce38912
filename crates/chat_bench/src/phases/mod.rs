//! The measured phases of a run, as methods of [`crate::Run`], by what they load.

mod conversations;
mod history;
mod http;
mod nodes;
mod room_scale;
mod sockets;
