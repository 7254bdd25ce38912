//! Closed-loop load: `concurrency` clients, each sending its next request when the previous
//! one is answered, for a warm-up and then a fixed window. Only what completes inside the
//! window counts; every completed request's latency is kept.
//!
//! HTTP clients are awc on actix-rt (`!Send`): each load thread runs one actix system
//! with one `awc::Client`, and the clients are tasks spread over the threads. The
//! PostgreSQL limits are a plain loop: one std thread per client with its own connection.

use std::sync::{Arc, Barrier, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::{Context, anyhow};
use awc::http::Method;
use diesel::{Connection, PgConnection};

use crate::stats::{Outcome, micros};
use crate::ui::Ui;

/// How long a phase warms up and then measures.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub warmup: Duration,
    pub window: Duration,
}

/// One HTTP request to make.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    /// A JSON body.
    pub body: Option<Bytes>,
    /// The status that counts as success.
    pub expect: u16,
}

impl Req {
    pub fn get(url: String, headers: Vec<(&'static str, String)>) -> Self {
        Self {
            method: Method::GET,
            url,
            headers,
            body: None,
            expect: 200,
        }
    }
}

/// The request client `task` makes on its `iteration`-th turn.
pub type MakeReq = Arc<dyn Fn(usize, u64) -> Req + Send + Sync>;

/// One operation of client `task` on its `iteration`-th turn, over its own connection.
pub type PgOp = Arc<dyn Fn(&mut PgConnection, usize, u64) -> anyhow::Result<()> + Send + Sync>;

/// An HTTP client for one load thread: no limit on connections, a generous timeout.
pub fn http_client() -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().limit(0))
        .timeout(Duration::from_secs(30))
        .finish()
}

/// Sends `req` and reads the whole answer; an unexpected status is an error naming it.
pub async fn execute(client: &awc::Client, req: Req) -> Result<Bytes, String> {
    let mut request = client.request(req.method, &req.url);
    for (name, value) in req.headers {
        request = request.insert_header((name, value));
    }
    let sent = match req.body {
        Some(body) => {
            request
                .insert_header(("content-type", "application/json"))
                .send_body(body)
                .await
        }
        None => request.send().await,
    };
    let mut response = sent.map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .map_err(|e| format!("reading the body failed: {e}"))?;
    if status != req.expect {
        let text = String::from_utf8_lossy(&body);
        let text: String = text.chars().take(300).collect();
        return Err(format!("status {status} (expected {}): {text}", req.expect));
    }
    Ok(body)
}

/// Runs `concurrency` HTTP clients over `threads` load threads for `timing`.
pub fn http_phase(
    ui: &Ui,
    label: &str,
    threads: usize,
    concurrency: usize,
    timing: Timing,
    make: MakeReq,
) -> anyhow::Result<Outcome> {
    let threads = threads.clamp(1, concurrency.max(1));
    let barrier = Arc::new(Barrier::new(threads + 1));
    let start: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let mut handles: Vec<JoinHandle<anyhow::Result<Outcome>>> = Vec::new();
    for t in 0..threads {
        let tasks: Vec<usize> = (t..concurrency).step_by(threads).collect();
        let barrier = barrier.clone();
        let start = start.clone();
        let make = make.clone();
        let handle = thread::Builder::new()
            .name(format!("load-{t}"))
            .spawn(move || {
                actix_rt::System::new().block_on(async move {
                    let client = http_client();
                    // Nothing else runs on this thread yet: blocking here is fine.
                    barrier.wait();
                    let t0 = *start.get().ok_or_else(|| anyhow!("no start time"))?;
                    let warm_end = t0 + timing.warmup;
                    let end = warm_end + timing.window;
                    let joins: Vec<_> = tasks
                        .into_iter()
                        .map(|task| {
                            actix_rt::spawn(http_client_loop(
                                client.clone(),
                                make.clone(),
                                task,
                                warm_end,
                                end,
                            ))
                        })
                        .collect();
                    let mut outcome = Outcome::default();
                    for join in joins {
                        outcome.merge(join.await.context("a load task failed")?);
                    }
                    Ok(outcome)
                })
            })
            .context("starting a load thread")?;
        handles.push(handle);
    }
    let _ = start.set(Instant::now());
    barrier.wait();
    collect(ui, label, timing, handles)
}

async fn http_client_loop(
    client: awc::Client,
    make: MakeReq,
    task: usize,
    warm_end: Instant,
    end: Instant,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut iteration = 0u64;
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        let req = make(task, iteration);
        iteration += 1;
        let result = execute(&client, req).await;
        let t1 = Instant::now();
        if t1 >= warm_end && t1 < end {
            match result {
                Ok(_) => outcome.latencies_us.push(micros(t1 - t0)),
                Err(error) => outcome.fail(error),
            }
        }
    }
    outcome
}

/// Runs `concurrency` std threads, each with its own PostgreSQL connection, repeating `op`
/// for `timing`. `at_end` runs once every client has stopped but before the connections
/// close (so that their backends' CPU time can still be read).
pub fn pg_phase(
    ui: &Ui,
    label: &str,
    database_url: &str,
    concurrency: usize,
    timing: Timing,
    op: PgOp,
    at_end: impl FnOnce(),
) -> anyhow::Result<Outcome> {
    let barrier = Arc::new(Barrier::new(concurrency + 1));
    let stopped = Arc::new(Barrier::new(concurrency + 1));
    let release = Arc::new(Barrier::new(concurrency + 1));
    let start: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let mut handles: Vec<JoinHandle<anyhow::Result<Outcome>>> = Vec::new();
    for task in 0..concurrency {
        let barrier = barrier.clone();
        let stopped = stopped.clone();
        let release = release.clone();
        let start = start.clone();
        let op = op.clone();
        let url = database_url.to_owned();
        let handle = thread::Builder::new()
            .name(format!("pg-{task}"))
            .spawn(move || {
                let connected = connect_as_server(&url);
                // Every thread meets every barrier, also when connecting failed, or the
                // others would wait forever.
                barrier.wait();
                match connected {
                    Ok(mut conn) => {
                        let result = pg_client_loop(&mut conn, &op, task, &start, timing);
                        stopped.wait();
                        release.wait();
                        drop(conn);
                        result
                    }
                    Err(error) => {
                        stopped.wait();
                        release.wait();
                        Err(error)
                    }
                }
            })
            .context("starting a PostgreSQL client thread")?;
        handles.push(handle);
    }
    let _ = start.set(Instant::now());
    barrier.wait();
    let began = Instant::now();
    let bar = ui.timer(timing.warmup + timing.window, label);
    let total = timing.warmup + timing.window;
    while began.elapsed() < total {
        bar.set_position(u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX));
        thread::sleep(Duration::from_millis(50));
    }
    stopped.wait();
    at_end();
    release.wait();
    ui.done(&bar);
    merge(handles, timing)
}

fn pg_client_loop(
    conn: &mut PgConnection,
    op: &PgOp,
    task: usize,
    start: &OnceLock<Instant>,
    timing: Timing,
) -> anyhow::Result<Outcome> {
    let t0 = *start.get().ok_or_else(|| anyhow!("no start time"))?;
    let warm_end = t0 + timing.warmup;
    let end = warm_end + timing.window;
    let mut outcome = Outcome::default();
    let mut iteration = 0u64;
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        let result = op(conn, task, iteration);
        iteration += 1;
        let t1 = Instant::now();
        if t1 >= warm_end && t1 < end {
            match result {
                Ok(()) => outcome.latencies_us.push(micros(t1 - t0)),
                Err(error) => outcome.fail(format!("{error:#}")),
            }
        }
    }
    Ok(outcome)
}

/// Shows the phase's progress until its threads end, then merges what they measured.
fn collect(
    ui: &Ui,
    label: &str,
    timing: Timing,
    handles: Vec<JoinHandle<anyhow::Result<Outcome>>>,
) -> anyhow::Result<Outcome> {
    let began = Instant::now();
    let bar = ui.timer(timing.warmup + timing.window, label);
    while !handles.iter().all(JoinHandle::is_finished) {
        bar.set_position(u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX));
        thread::sleep(Duration::from_millis(50));
    }
    ui.done(&bar);
    merge(handles, timing)
}

/// Merges what the threads measured.
fn merge(
    handles: Vec<JoinHandle<anyhow::Result<Outcome>>>,
    timing: Timing,
) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    for handle in handles {
        let part = handle
            .join()
            .map_err(|_| anyhow!("a load thread panicked"))??;
        outcome.merge(part);
    }
    outcome.window = timing.window;
    Ok(outcome)
}

/// A connection to `url` set up as the server's pooled ones are
/// ([`chat_store_pg::bench::configure`]: generic plans), for the limits' clients.
pub fn connect_as_server(url: &str) -> anyhow::Result<PgConnection> {
    let mut conn = PgConnection::establish(url).context("connecting to PostgreSQL")?;
    chat_store_pg::bench::configure(&mut conn).context("setting the connection up")?;
    Ok(conn)
}
