//! One connection's loop: it selects over the client's frames, the hub's deliveries and
//! a heartbeat; every frame out goes with a timeout; every way out unsubscribes and
//! closes the presence session.

use std::sync::Arc;
use std::time::Instant;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, MessageStream, Session};
use chat_app::{Connection, Delivery, FrameError, FrameRate, FrameVerdict, LiveSession, Presence};
use futures_util::StreamExt;
use serde_json::Value;

use super::close::{
    ACCESS_DENIED, RATE_LIMITED, ROOM_NOT_FOUND, SERVER_ERROR, TOO_SLOW, UNAUTHORIZED, close,
};
use super::dialect::LiveDialect;
use super::events::render;
use super::frames::{command, envelope, error_data, frame_error, reply};
use super::settings::Live;

/// Why a connection loop ended.
enum Exit {
    /// The client closed, went silent or vanished: nothing more to say.
    Gone,
    /// Close with this code.
    Close(u16, &'static str),
}

/// A running connection.
struct Socket<D> {
    live: Live,
    session: LiveSession,
    dialect: D,
    ws: Session,
    connection: Connection,
    presence: Option<Presence>,
}

/// Runs an admitted connection until it ends.
pub(crate) async fn run<D: LiveDialect>(
    live: Live,
    session: LiveSession,
    dialect: D,
    ws: Session,
    stream: MessageStream,
) {
    let settings = live.settings;
    let mut stream = stream
        .max_frame_size(settings.max_frame)
        .aggregate_continuations()
        .max_continuation_size(settings.max_frame);
    if session.scope().is_none() {
        return close(ws, UNAUTHORIZED, "unauthorized").await;
    }
    let presence = Box::pin(live.sessions.open_presence(&session)).await;
    let connection = match Box::pin(live.sessions.subscribe(&session)).await {
        Ok(connection) => connection,
        Err(error) => {
            tracing::warn!(%error, "a socket could not subscribe");
            Box::pin(live.sessions.close(None, presence)).await;
            return close(ws, SERVER_ERROR, "server error").await;
        }
    };
    let mut socket = Socket {
        live,
        session,
        dialect,
        ws,
        connection,
        presence,
    };
    let exit = match socket.serve(&mut stream).await {
        Err(exit) => exit,
        Ok(never) => match never {},
    };
    Box::pin(socket.finish(exit)).await;
}

impl<D: LiveDialect> Socket<D> {
    async fn serve(
        &mut self,
        stream: &mut AggregatedMessageStream,
    ) -> Result<std::convert::Infallible, Exit> {
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
                        None => return Err(Exit::Gone),
                        Some(Ok(AggregatedMessage::Text(text))) => match rate.frame(heard) {
                            FrameVerdict::Handle => Box::pin(self.client_frame(&text)).await?,
                            FrameVerdict::Refuse => self.error(&FrameError::RateLimited).await?,
                            FrameVerdict::Close => {
                                return Err(Exit::Close(RATE_LIMITED, "rate limited"));
                            }
                        },
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            self.error(&FrameError::NotText).await?;
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            self.send_raw(|s| s.pong(&bytes)).await?;
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Close(_))) => return Err(Exit::Gone),
                        Some(Err(error)) => {
                            if matches!(error, actix_ws::ProtocolError::Overflow) {
                                let message = format!("Frames may be at most {} bytes", settings.max_frame);
                                self.error_frame("frame_too_large", &message).await?;
                                return Err(Exit::Close(1009, "frame too large"));
                            }
                            self.error_frame("invalid_frame", &error.to_string()).await?;
                            return Err(Exit::Close(1002, "protocol error"));
                        }
                    }
                }
                delivery = self.connection.deliveries.recv() => {
                    match delivery {
                        Some(delivery) => self.deliver(&delivery).await?,
                        None if self.connection.state.was_too_slow() => {
                            return Err(Exit::Close(TOO_SLOW, "too slow: reconnect with since_seq"));
                        }
                        None if self.connection.state.was_removed() => {
                            return Err(Exit::Close(ACCESS_DENIED, "no longer a member"));
                        }
                        None => return Err(Exit::Close(ROOM_NOT_FOUND, "room deleted")),
                    }
                }
                _ = heartbeat.tick() => {
                    if heard.elapsed() > settings.idle_timeout {
                        return Err(Exit::Close(1001, "idle"));
                    }
                    self.send_raw(|s| s.ping(b"")).await?;
                }
            }
        }
    }

    async fn finish(&mut self, exit: Exit) {
        let presence = self.presence.take();
        self.live
            .sessions
            .close(Some(self.connection.id), presence)
            .await;
        if let Exit::Close(code, reason) = exit {
            close(self.ws.clone(), code, reason).await;
        }
    }

    /// Sends one frame; a client that does not take it in time is gone.
    async fn send_text(&mut self, text: String) -> Result<(), Exit> {
        let timeout = self.live.settings.send_timeout;
        match tokio::time::timeout(timeout, self.ws.text(text)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Exit::Gone),
            Err(_) => Err(Exit::Close(TOO_SLOW, "too slow")),
        }
    }

    async fn send_raw<'a, F, Fut>(&'a mut self, send: F) -> Result<(), Exit>
    where
        F: FnOnce(&'a mut Session) -> Fut,
        Fut: std::future::Future<Output = Result<(), actix_ws::Closed>> + 'a,
    {
        let timeout = self.live.settings.send_timeout;
        match tokio::time::timeout(timeout, send(&mut self.ws)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Exit::Gone),
            Err(_) => Err(Exit::Close(TOO_SLOW, "too slow")),
        }
    }

    async fn frame(&mut self, kind: &str, data: Value, room: Value) -> Result<(), Exit> {
        self.send_text(envelope(kind, data, room)).await
    }

    async fn error(&mut self, error: &FrameError) -> Result<(), Exit> {
        let (code, message) = frame_error(error);
        self.error_frame(code, &message).await
    }

    async fn error_frame(&mut self, code: &str, message: &str) -> Result<(), Exit> {
        let room = self.dialect.own_room_id();
        self.frame("error", error_data(code, message), room).await
    }

    /// `connection_status`, with who is online in a room socket's room.
    async fn greet(&mut self) -> Result<(), Exit> {
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
    async fn replay(&mut self) -> Result<(), Exit> {
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
                    return Err(Exit::Close(SERVER_ERROR, "replay failed"));
                }
            }
        }
        sessions.replayed(replay, &mut self.connection);
        Ok(())
    }

    /// Renders a delivery for this connection and sends it.
    async fn deliver(&mut self, delivery: &Delivery) -> Result<(), Exit> {
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
        if text.is_empty() {
            return Ok(());
        }
        self.send_text(text.to_string()).await
    }

    async fn client_frame(&mut self, text: &str) -> Result<(), Exit> {
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
