//! How live connections behave, and what a live route needs.

use std::time::Duration;

use chat_app::LiveSessions;

/// Sockets one person may have open on one node, by default.
pub const DEFAULT_SOCKETS_PER_USER: u32 = 20;

/// Client frames one socket may send a second, on average, by default: far above a
/// person typing (a `typing` frame a keystroke at most, a message now and then).
pub const DEFAULT_FRAMES_PER_SECOND: u32 = 20;

/// Client frames one socket may send at once, by default.
pub const DEFAULT_FRAME_BURST: u32 = 40;

/// How live connections behave.
#[derive(Debug, Clone, Copy)]
pub struct LiveSettings {
    /// How often the server pings.
    pub heartbeat: Duration,
    /// A connection silent for this long (no frame, no pong) is closed.
    pub idle_timeout: Duration,
    /// Largest client frame, in bytes.
    pub max_frame: usize,
    /// How long one frame may take to be handed over before the client is too slow
    /// (1013); a connection that takes no byte for this plus
    /// [`CLOSE_WAIT`](super::close::CLOSE_WAIT) is dropped by the kernel
    /// ([`tcp`](super::tcp)).
    pub send_timeout: Duration,
    /// Client frames allowed per second, on average.
    pub frames_per_second: u32,
    /// Client frames allowed in a burst.
    pub frame_burst: u32,
    /// Sockets one person may have open on this node (room sockets and user streams
    /// together); one more is closed with 4004 at open.
    pub sockets_per_user: u32,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(45),
            max_frame: 64 * 1024,
            send_timeout: Duration::from_secs(10),
            frames_per_second: DEFAULT_FRAMES_PER_SECOND,
            frame_burst: DEFAULT_FRAME_BURST,
            sockets_per_user: DEFAULT_SOCKETS_PER_USER,
        }
    }
}

/// The live-session use cases (over this node's hub) and the settings of live
/// connections.
#[derive(Debug, Clone)]
pub struct Live {
    /// What sessions do.
    pub sessions: LiveSessions,
    /// How connections behave.
    pub settings: LiveSettings,
}
