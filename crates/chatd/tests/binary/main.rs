//! The `chatd` binary run as a process, one test binary (one link instead of one per file):
//! the operator's commands (`cli`), the demo account (`demo`), two nodes over one database
//! (`nodes`), and a webhook delivered after a SIGKILL right after the send (`webhooks_crash`).

mod cli;
mod demo;
mod nodes;
mod webhooks_crash;
