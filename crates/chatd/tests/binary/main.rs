//! The `chatd` binary run as a process, one test binary (one link instead of one per file):
//! the operator's commands (`cli`), the demo account (`demo`), two nodes over one database
//! (`nodes`), three that share NATS and Redis too (`nodes_nats`), and a webhook delivered
//! after a SIGKILL right after the send (`webhooks_crash`).

mod cli;
mod demo;
mod nodes;
mod nodes_nats;
mod webhooks_crash;
