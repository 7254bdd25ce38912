//! The `chatd` binary run as a process, one test binary (one link instead of one per file):
//! the operator's commands (`cli`) and two nodes over one database (`nodes`).

mod cli;
mod nodes;
