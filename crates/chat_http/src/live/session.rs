//! One connection's loop: it selects over the client's frames, the hub's deliveries, a
//! heartbeat and its credential's end (revoked, rotated or expired: 4001); every frame
//! out goes with a timeout; every way out unsubscribes, closes the presence session,
//! stops following the credential and is counted
//! (`chat_live_sockets_closed_total{reason}`), and a client too slow for its events is
//! logged once.

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, AggregatedMessageStream, MessageStream, Session};
use chat_app::live::CredentialWatch;
use chat_app::{Connection, Delivery, FrameError, FrameRate, FrameVerdict, LiveSession, Presence};
use futures_util::{FutureExt, StreamExt};
use serde_json::Value;

use super::close::{Ending, close};
use super::dialect::LiveDialect;
use super::events::{mention, render};
use super::frames::{command, envelope, error_data, frame_error, reply};
use super::settings::Live;
use crate::observe::Metrics;

/// A running connection.
struct Socket<D> {
    live: Arc<Live>,
    session: LiveSession,
    dialect: D,
    ws: Session,
    connection: Connection,
    presence: Option<Presence>,
    /// Resolves when the credential stops working; dropped with the socket.
    credential: CredentialWatch,
    metrics: Metrics,
}

/// What an admitted connection starts from.
struct Opening<D> {
    live: Arc<Live>,
    session: LiveSession,
    dialect: D,
    ws: Session,
    stream: MessageStream,
    metrics: Metrics,
}

/// Runs an admitted connection until it ends.
///
/// The returned future lives as long as the socket, and a future takes the room of its
/// largest state for all that time — per idle socket. So what it starts from is boxed (an
/// async fn keeps its arguments for its whole life, even once moved out), the opening
/// (greeting the presence, subscribing) runs in a boxed future of its own, and what stays is
/// the [`Socket`], its stream and the loop: about 3 KiB, where one async fn over it all
/// took 6.2 KiB.
pub(crate) fn run<D: LiveDialect>(
    live: Arc<Live>,
    session: LiveSession,
    dialect: D,
    ws: Session,
    stream: MessageStream,
    metrics: Metrics,
) -> impl Future<Output = ()> {
    run_opening(Box::new(Opening {
        live,
        session,
        dialect,
        ws,
        stream,
        metrics,
    }))
}

async fn run_opening<D: LiveDialect>(opening: Box<Opening<D>>) {
    let Some((mut socket, mut stream)) = Box::pin(open(opening)).await else {
        return;
    };
    let ending = match socket.serve(&mut stream).await {
        Err(ending) => ending,
        Ok(never) => match never {},
    };
    Box::pin(socket.finish(ending)).await;
}

/// Subscribes the connection and opens its presence; `None` if it ended meanwhile (closed
/// and counted).
async fn open<D: LiveDialect>(
    opening: Box<Opening<D>>,
) -> Option<(Socket<D>, AggregatedMessageStream)> {
    let Opening {
        live,
        session,
        dialect,
        ws,
        stream,
        metrics,
    } = *opening;
    let settings = live.settings;
    let stream = stream
        .max_frame_size(settings.max_frame)
        .aggregate_continuations()
        .max_continuation_size(settings.max_frame);
    if session.scope().is_none() {
        end_before_running(&metrics, ws, Ending::Unauthorized).await;
        return None;
    }
    // Followed from before its greeting: a change meanwhile ends it in the loop.
    let credential = live.sessions.follow(&session);
    let presence = Box::pin(live.sessions.open_presence(&session)).await;
    let connection = match Box::pin(live.sessions.subscribe(&session)).await {
        Ok(connection) => connection,
        Err(error) => {
            tracing::warn!(%error, "a socket could not subscribe");
            Box::pin(live.sessions.close(None, presence)).await;
            end_before_running(&metrics, ws, Ending::ServerError).await;
            return None;
        }
    };
    let socket = Socket {
        live,
        session,
        dialect,
        ws,
        connection,
        presence,
        credential,
        metrics,
    };
    Some((socket, stream))
}

/// Hands one frame over to the connection within `timeout`. A frame that had to wait
/// for room in the connection's queue and then found the connection gone was waiting on
/// a client that took nothing: the kernel dropped it (see [`super::tcp`]), so it is too
/// slow, like one that times out.
async fn hand_over<F>(timeout: Duration, send: F) -> Result<(), Ending>
where
    F: Future<Output = Result<(), actix_ws::Closed>>,
{
    let mut send = pin!(send);
    if let Some(sent) = send.as_mut().now_or_never() {
        return sent.map_err(|_| Ending::Lost);
    }
    match tokio::time::timeout(timeout, send).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Ending::Stalled),
        Err(_) => Err(Ending::SendTimeout),
    }
}

/// Whether `error` is the connection breaking off (the client vanished mid-frame, or the
/// kernel dropped it) rather than a frame breaking the protocol; text that is not UTF-8
/// is an I/O error too, of kind `InvalidData`.
fn broken(error: &actix_ws::ProtocolError) -> bool {
    matches!(error, actix_ws::ProtocolError::Io(io) if io.kind() != std::io::ErrorKind::InvalidData)
}

/// Ends a connection that never ran its loop: counted, then closed.
async fn end_before_running(metrics: &Metrics, ws: Session, ending: Ending) {
    metrics.live_closed(ending.label());
    if let Some((code, reason)) = ending.close() {
        close(ws, code, reason).await;
    }
}

impl<D: LiveDialect> Socket<D> {
    async fn serve(
        &mut self,
        stream: &mut AggregatedMessageStream,
    ) -> Result<std::convert::Infallible, Ending> {
        Box::pin(self.greet()).await?;
        Box::pin(self.replay()).await?;
        let settings = self.live.settings;
        let mut heartbeat = tokio::time::interval(settings.heartbeat);
        heartbeat.tick().await;
        let mut heard = Instant::now();
        let mut rate = FrameRate::new(settings.frames_per_second, settings.frame_burst, heard);
        loop {
            tokio::select! {
                frame = stream.next() => {
                    heard = Instant::now();
                    match frame {
                        None => return Err(Ending::Lost),
                        Some(Ok(AggregatedMessage::Text(text))) => match rate.frame(heard) {
                            FrameVerdict::Handle => Box::pin(self.client_frame(&text)).await?,
                            FrameVerdict::Refuse => self.error(&FrameError::RateLimited).await?,
                            FrameVerdict::Close => return Err(Ending::RateLimited),
                        },
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            self.error(&FrameError::NotText).await?;
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            self.send_raw(|s| s.pong(&bytes)).await?;
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Close(_))) => return Err(Ending::ClientClosed),
                        Some(Err(error)) => {
                            if matches!(error, actix_ws::ProtocolError::Overflow) {
                                let message = format!("Frames may be at most {} bytes", settings.max_frame);
                                self.error_frame("frame_too_large", &message).await?;
                                return Err(Ending::FrameTooLarge);
                            }
                            if broken(&error) {
                                return Err(Ending::Lost);
                            }
                            self.error_frame("invalid_frame", &error.to_string()).await?;
                            return Err(Ending::ProtocolError);
                        }
                    }
                }
                delivery = self.connection.deliveries.recv() => {
                    match delivery {
                        Some(delivery) => self.deliver(&delivery).await?,
                        None if self.connection.state.was_too_slow() => {
                            return Err(Ending::QueueOverflow);
                        }
                        None if self.connection.state.was_removed() => return Err(Ending::Removed),
                        None => return Err(Ending::RoomDeleted),
                    }
                }
                _ = heartbeat.tick() => {
                    if heard.elapsed() > settings.idle_timeout {
                        return Err(Ending::Idle);
                    }
                    self.send_raw(|s| s.ping(b"")).await?;
                }
                end = self.credential.ended() => return Err(Ending::Credential(end)),
            }
        }
    }

    async fn finish(&mut self, ending: Ending) {
        self.metrics.live_closed(ending.label());
        match ending {
            Ending::QueueOverflow | Ending::SendTimeout | Ending::Stalled => tracing::warn!(
                connection = %self.connection.id,
                cause = ?ending,
                "a live socket did not keep up with its events: closing it (1013 if the \
                 close can still go out; else the kernel drops the connection)"
            ),
            Ending::ClientClosed
            | Ending::Lost
            | Ending::Idle
            | Ending::RateLimited
            | Ending::FrameTooLarge
            | Ending::ProtocolError
            | Ending::Removed
            | Ending::RoomDeleted
            | Ending::Unauthorized
            | Ending::ServerError
            | Ending::ReplayFailed
            | Ending::Credential(_) => tracing::debug!(
                connection = %self.connection.id,
                reason = ending.label(),
                "a live socket ended"
            ),
        }
        let presence = self.presence.take();
        self.live
            .sessions
            .close(Some(self.connection.id), presence)
            .await;
        if let Some((code, reason)) = ending.close() {
            close(self.ws.clone(), code, reason).await;
        }
    }

    /// Sends one frame; a client that does not take it within the send timeout is too
    /// slow.
    async fn send_text(&mut self, text: String) -> Result<(), Ending> {
        hand_over(self.live.settings.send_timeout, self.ws.text(text)).await
    }

    async fn send_raw<'a, F, Fut>(&'a mut self, send: F) -> Result<(), Ending>
    where
        F: FnOnce(&'a mut Session) -> Fut,
        Fut: Future<Output = Result<(), actix_ws::Closed>> + 'a,
    {
        hand_over(self.live.settings.send_timeout, send(&mut self.ws)).await
    }

    async fn frame(&mut self, kind: &str, data: Value, room: Value) -> Result<(), Ending> {
        self.send_text(envelope(kind, data, room)).await
    }

    async fn error(&mut self, error: &FrameError) -> Result<(), Ending> {
        let (code, message) = frame_error(error);
        self.error_frame(code, &message).await
    }

    async fn error_frame(&mut self, code: &str, message: &str) -> Result<(), Ending> {
        let room = self.dialect.own_room_id();
        self.frame("error", error_data(code, message), room).await
    }

    /// `connection_status`, with who is online in a room socket's room.
    async fn greet(&mut self) -> Result<(), Ending> {
        let online = match self.session.room() {
            Some(room) => Some(
                self.live
                    .sessions
                    .online(self.session.account, room.id)
                    .await,
            ),
            None => None,
        };
        let data = self.dialect.greeting(&self.session, online);
        let room = self.dialect.own_room_id();
        self.frame("connection_status", data, room).await
    }

    /// `since_seq`: the room's messages after it, up to where the live events start.
    async fn replay(&mut self) -> Result<(), Ending> {
        let sessions = self.live.sessions.clone();
        let Some(mut replay) = sessions.replay(&self.session, &self.connection) else {
            return Ok(());
        };
        loop {
            match sessions.replay_page(&self.session, &mut replay).await {
                Ok(Some(page)) => {
                    for view in page {
                        let data = self.dialect.message(view);
                        let room = self.dialect.own_room_id();
                        self.frame("message", data, room).await?;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "a replay could not be read");
                    return Err(Ending::ReplayFailed);
                }
            }
        }
        sessions.replayed(replay, &mut self.connection);
        Ok(())
    }

    /// Renders a delivery for this connection and sends it.
    async fn deliver(&mut self, delivery: &Delivery) -> Result<(), Ending> {
        if !self
            .live
            .sessions
            .shows(&self.session, &self.connection, delivery)
        {
            return Ok(());
        }
        let text: Arc<str> = match self.dialect.shared_key() {
            Some(key) => delivery
                .rendered
                .get_or_render(key, || render(&self.dialect, delivery).unwrap_or_default()),
            None => Arc::from(render(&self.dialect, delivery).unwrap_or_default()),
        };
        if !text.is_empty() {
            self.send_text(text.to_string()).await?;
        }
        // A new message that names this socket's person: a `mention` frame after it.
        let mentioned = self.live.sessions.mentioned(&self.session, delivery);
        if let Some((message, person)) = mentioned {
            let frame = mention(&self.dialect, message, person);
            self.send_text(frame).await?;
        }
        Ok(())
    }

    async fn client_frame(&mut self, text: &str) -> Result<(), Ending> {
        let handled = match command(text) {
            Ok(command) => Box::pin(self.live.sessions.handle(&self.session, command)).await,
            Err(error) => Err(error),
        };
        match handled {
            Ok(answer) => match reply(&self.dialect, answer) {
                Some(frame) => self.send_text(frame).await,
                None => Ok(()),
            },
            Err(error) => self.error(&error).await,
        }
    }
}
