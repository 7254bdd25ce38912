//! WebSockets: many room sockets held open on the load threads (awc, one actix system per
//! thread), each answering pings and reporting when a `message` frame arrives; the
//! fan-out rounds; the server's resident memory.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use actix_codec::Framed;
use anyhow::{Context, anyhow, bail};
use awc::BoxedSocket;
use awc::http::Method;
use awc::ws::{Codec, Frame, Message};
use futures_util::{SinkExt, StreamExt, stream};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::watch;

use crate::setup::Api;
use crate::stats::{Outcome, micros};
use crate::ui::Ui;

/// Sockets each load thread opens at once.
const CONNECT_CONCURRENCY: usize = 16;

/// An open client WebSocket.
type Socket = Framed<BoxedSocket, Codec>;

/// A `message` frame arrived: its seq, when, and on which socket (its index in the URLs
/// given to [`open`]).
pub type Receipt = (i64, Instant, usize);

/// Sockets held open until [`Sockets::close`].
#[derive(Debug)]
pub struct Sockets {
    threads: Vec<JoinHandle<anyhow::Result<()>>>,
    stop: watch::Sender<bool>,
    /// Sockets admitted (their `connection_status` arrived).
    pub connected: usize,
    /// Sockets that failed to open or were refused.
    pub failed: usize,
    pub first_error: Option<String>,
    /// Sockets the server closed (or that broke) after they opened.
    closed: Arc<AtomicUsize>,
    /// How long opening them all took.
    pub opening: Duration,
}

impl Sockets {
    /// Sockets closed by the server, or broken, since they opened.
    pub fn closed(&self) -> usize {
        self.closed.load(Ordering::Relaxed)
    }

    /// Closes every socket (by ending the threads' actix systems) and waits for the threads.
    pub fn close(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        for thread in self.threads {
            thread
                .join()
                .map_err(|_| anyhow!("a socket thread panicked"))??;
        }
        Ok(())
    }
}

/// What a load thread reports once it has opened its share.
struct Opened {
    connected: usize,
    failed: usize,
    first_error: Option<String>,
}

/// Opens a WebSocket to each of `urls` over `threads` threads; each socket answers pings
/// and, when `receipts` is given, reports the seq of every `message` frame it receives.
pub fn open(
    ui: &Ui,
    label: &str,
    threads: usize,
    urls: Vec<String>,
    receipts: Option<UnboundedSender<Receipt>>,
) -> anyhow::Result<Sockets> {
    let began = Instant::now();
    let total = urls.len();
    let threads = threads.clamp(1, total.max(1));
    let (stop, stop_rx) = watch::channel(false);
    let progress = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let (report, reports) = mpsc::channel::<Opened>();
    let mut shares: Vec<Vec<(usize, String)>> = vec![Vec::new(); threads];
    for (i, url) in urls.into_iter().enumerate() {
        shares[i % threads].push((i, url));
    }
    let mut handles = Vec::new();
    for (t, share) in shares.into_iter().enumerate() {
        let mut stop_rx = stop_rx.clone();
        let progress = progress.clone();
        let closed = closed.clone();
        let report = report.clone();
        let receipts = receipts.clone();
        let handle = thread::Builder::new()
            .name(format!("sockets-{t}"))
            .spawn(move || {
                actix_rt::System::new().block_on(async move {
                    let client = awc::Client::builder()
                        .connector(awc::Connector::new().limit(0))
                        .timeout(Duration::from_secs(30))
                        .finish();
                    let results: Vec<(usize, Result<Socket, String>)> = stream::iter(share)
                        .map(|(index, url)| {
                            let client = &client;
                            let progress = &progress;
                            async move {
                                let opened = connect(client, &url).await;
                                progress.fetch_add(1, Ordering::Relaxed);
                                (index, opened)
                            }
                        })
                        .buffer_unordered(CONNECT_CONCURRENCY)
                        .collect()
                        .await;
                    let mut opened = Opened {
                        connected: 0,
                        failed: 0,
                        first_error: None,
                    };
                    for (index, result) in results {
                        match result {
                            Ok(framed) => {
                                opened.connected += 1;
                                actix_rt::spawn(hold(
                                    framed,
                                    index,
                                    receipts.clone(),
                                    closed.clone(),
                                ));
                            }
                            Err(error) => {
                                opened.failed += 1;
                                opened.first_error.get_or_insert(error);
                            }
                        }
                    }
                    let _ = report.send(opened);
                    // Hold the sockets until told to stop; leaving drops them all.
                    while !*stop_rx.borrow() {
                        if stop_rx.changed().await.is_err() {
                            break;
                        }
                    }
                    Ok(())
                })
            })
            .context("starting a socket thread")?;
        handles.push(handle);
    }
    drop(report);
    let bar = ui.counter(total as u64, label);
    let mut sockets = Sockets {
        threads: handles,
        stop,
        connected: 0,
        failed: 0,
        first_error: None,
        closed,
        opening: Duration::ZERO,
    };
    let mut reported = 0;
    while reported < threads {
        bar.set_position(progress.load(Ordering::Relaxed) as u64);
        match reports.recv_timeout(Duration::from_millis(100)) {
            Ok(opened) => {
                reported += 1;
                sockets.connected += opened.connected;
                sockets.failed += opened.failed;
                if sockets.first_error.is_none() {
                    sockets.first_error = opened.first_error;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                ui.done(&bar);
                // A thread ended before reporting: close the others and say why.
                let _ = sockets.stop.send(true);
                for thread in sockets.threads {
                    match thread.join() {
                        Ok(Err(error)) => return Err(error),
                        Err(_) => bail!("a socket thread panicked"),
                        Ok(Ok(())) => {}
                    }
                }
                bail!("a socket thread ended early");
            }
        }
    }
    ui.done(&bar);
    sockets.opening = began.elapsed();
    Ok(sockets)
}

/// Opens one socket and waits for its first frame, which must be `connection_status`.
async fn connect(client: &awc::Client, url: &str) -> Result<Socket, String> {
    let (response, mut framed) = client
        .ws(url)
        .max_frame_size(4 * 1024 * 1024)
        .connect()
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    if response.status().as_u16() != 101 {
        return Err(format!("upgrade answered {}", response.status()));
    }
    let first = actix_rt::time::timeout(Duration::from_secs(30), framed.next())
        .await
        .map_err(|_| "no first frame within 30 s".to_owned())?;
    match first {
        Some(Ok(Frame::Text(bytes))) => {
            let frame: FrameHead = serde_json::from_slice(&bytes)
                .map_err(|e| format!("first frame is not JSON: {e}"))?;
            if frame.kind == "connection_status" {
                Ok(framed)
            } else {
                Err(format!("first frame is {:?}", frame.kind))
            }
        }
        Some(Ok(Frame::Close(reason))) => Err(format!("closed at once: {reason:?}")),
        Some(Ok(other)) => Err(format!("first frame: {other:?}")),
        Some(Err(e)) => Err(format!("reading the first frame: {e}")),
        None => Err("closed before the first frame".into()),
    }
}

#[derive(Debug, Deserialize)]
struct FrameHead {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<FrameData>,
}

#[derive(Debug, Deserialize)]
struct FrameData {
    #[serde(default)]
    seq: Option<i64>,
}

/// The seq of a `message` frame.
fn message_seq(text: &[u8]) -> Option<i64> {
    let frame: FrameHead = serde_json::from_slice(text).ok()?;
    if frame.kind != "message" {
        return None;
    }
    frame.data?.seq
}

/// Reads socket `index` until it ends: answers pings, reports `message` frames.
async fn hold(
    mut framed: Socket,
    index: usize,
    receipts: Option<UnboundedSender<Receipt>>,
    closed: Arc<AtomicUsize>,
) {
    loop {
        match framed.next().await {
            Some(Ok(Frame::Text(bytes))) => {
                let at = Instant::now();
                if let Some(receipts) = &receipts
                    && let Some(seq) = message_seq(&bytes)
                {
                    let _ = receipts.send((seq, at, index));
                }
            }
            Some(Ok(Frame::Ping(payload))) => {
                if framed.send(Message::Pong(payload)).await.is_err() {
                    closed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            Some(Ok(Frame::Close(_))) | Some(Err(_)) | None => {
                closed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Some(Ok(_)) => {}
        }
    }
}

/// A channel for receipts.
pub fn receipts() -> (UnboundedSender<Receipt>, UnboundedReceiver<Receipt>) {
    unbounded_channel()
}

/// What the fan-out rounds measured.
#[derive(Debug, Default)]
pub struct FanoutRounds {
    /// Per round: from the POST's response to the last socket's receipt (a frame that
    /// arrived before the response counts as 0).
    pub last_from_response: Outcome,
    /// Per round: from the POST's start to the last socket's receipt.
    pub last_from_start: Outcome,
    /// Per socket and round: from the POST's start to that socket's receipt; a socket that
    /// did not receive the message within 10 s is an error.
    pub each_from_start: Outcome,
    /// The same latencies (µs), of the sockets on the node that took the POST only…
    pub local_us: Vec<u64>,
    /// …and of the sockets on the other nodes.
    pub remote_us: Vec<u64>,
    /// Receipts of a message a socket had received already (each must arrive once).
    pub duplicates: u64,
}

/// The fan-out rounds: `warmup + rounds` messages sent to the room one after the other,
/// round *r* through `apis[r % apis.len()]` (the nodes in turn); each round waits until
/// all `expected` sockets have the message. Socket *i* (its index in the URLs given to
/// [`open`]) is taken to be on node `i % apis.len()`.
#[allow(clippy::too_many_arguments)]
pub async fn fanout_rounds(
    ui: &Ui,
    apis: &[Api],
    api_key: &str,
    room_uuid: &str,
    sender: &str,
    receipts: &mut UnboundedReceiver<Receipt>,
    expected: usize,
    warmup: usize,
    rounds: usize,
    gap: Duration,
) -> FanoutRounds {
    let mut out = FanoutRounds::default();
    let m = &mut out;
    let nodes = apis.len().max(1);
    let headers = vec![("x-api-key", api_key.to_owned())];
    let bar = ui.counter((warmup + rounds) as u64, "fan-out rounds");
    let began = Instant::now();
    for (round, api) in apis.iter().cycle().take(warmup + rounds).enumerate() {
        let measured = round >= warmup;
        let node = round % nodes;
        let body = json!({"sender_id": sender, "content": format!("fan-out {round}")});
        let t0 = Instant::now();
        let sent = api
            .call(
                Method::POST,
                &format!("/api/v1/rooms/{room_uuid}/messages"),
                &headers,
                Some(&body),
                201,
            )
            .await;
        let answered = Instant::now();
        let seq = match sent.map(|m| m.pointer("/data/seq").and_then(|s| s.as_i64())) {
            Ok(Some(seq)) => seq,
            Ok(None) => {
                m.last_from_response.fail("the send answered no seq");
                if measured {
                    m.each_from_start.fail("the send answered no seq");
                }
                continue;
            }
            Err(error) => {
                if measured {
                    m.last_from_response.fail(error.to_string());
                    m.each_from_start.fail(error.to_string());
                }
                continue;
            }
        };
        let deadline = answered + Duration::from_secs(10);
        let mut seen: HashSet<usize> = HashSet::with_capacity(expected);
        let mut arrivals: Vec<(usize, Instant)> = Vec::with_capacity(expected);
        while arrivals.len() < expected {
            let left = deadline.saturating_duration_since(Instant::now());
            match actix_rt::time::timeout(left, receipts.recv()).await {
                Ok(Some((s, at, socket))) if s == seq => {
                    if seen.insert(socket) {
                        arrivals.push((socket, at));
                    } else if measured {
                        m.duplicates += 1;
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        if measured {
            for &(socket, at) in &arrivals {
                let us = micros(at.saturating_duration_since(t0));
                m.each_from_start.latencies_us.push(us);
                if socket % nodes == node {
                    m.local_us.push(us);
                } else {
                    m.remote_us.push(us);
                }
            }
            let got = arrivals.len();
            let last = arrivals.iter().map(|(_, at)| *at).max();
            match last {
                Some(last) if got == expected => {
                    m.last_from_response
                        .latencies_us
                        .push(micros(last.saturating_duration_since(answered)));
                    m.last_from_start
                        .latencies_us
                        .push(micros(last.saturating_duration_since(t0)));
                }
                _ => {
                    let error =
                        format!("seq {seq}: {got} of {expected} sockets received it within 10 s");
                    m.each_from_start.errors += (expected - got) as u64;
                    m.each_from_start
                        .error_sample
                        .get_or_insert_with(|| error.clone());
                    m.last_from_response.fail(error);
                }
            }
        }
        bar.inc(1);
        actix_rt::time::sleep(gap).await;
    }
    ui.done(&bar);
    // Drain what came late.
    while receipts.try_recv().is_ok() {}
    let window = began.elapsed();
    m.last_from_response.window = window;
    m.last_from_start.window = window;
    m.each_from_start.window = window;
    out
}

/// VmRSS of process `pid`, in bytes.
pub fn resident_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow!("bad VmRSS line {line:?}"))?
        .parse()
        .with_context(|| format!("bad VmRSS line {line:?}"))?;
    Ok(kb * 1024)
}

/// The soft limit on open files of process `pid` ("self" for this one).
pub fn open_files_limit(pid: &str) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    if soft == "unlimited" {
        Some(u64::MAX)
    } else {
        soft.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_seq_of_message_frames_only() {
        let message = br#"{"data":{"seq":7,"message_type":"text"},"room_id":"r","timestamp":"t","type":"message"}"#;
        assert_eq!(message_seq(message), Some(7));
        let presence = br#"{"data":{"user_id":"x"},"type":"presence"}"#;
        assert_eq!(message_seq(presence), None);
        assert_eq!(message_seq(b"not json"), None);
    }
}
