//! The webhook row's receiver: a small actix-web server on 127.0.0.1 (its own thread and
//! runtime, on the same machine as `chatd`) that answers every POST with `200` and counts
//! the distinct deliveries (`X-ChatAPI-Delivery`) and the posts it got.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;

/// What the receiver has seen.
#[derive(Debug, Default)]
struct Seen {
    deliveries: HashSet<String>,
    posts: u64,
}

/// A running receiver; stopped by [`Receiver::stop`].
pub struct Receiver {
    port: u16,
    seen: Arc<Mutex<Seen>>,
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn receive(
    req: HttpRequest,
    _body: web::Bytes,
    seen: web::Data<Mutex<Seen>>,
) -> HttpResponse {
    let delivery = req
        .headers()
        .get("x-chatapi-delivery")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    {
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.posts += 1;
        if let Some(delivery) = delivery {
            seen.deliveries.insert(delivery);
        }
    }
    HttpResponse::Ok().finish()
}

impl Receiver {
    /// Starts the receiver on a free port of 127.0.0.1 with `workers` threads.
    pub fn start(workers: usize) -> anyhow::Result<Self> {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let data = web::Data::from(Arc::clone(&seen));
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let started = tx.clone();
            let outcome = actix_rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .default_service(web::to(receive))
                })
                .workers(workers.max(1))
                .bind(("127.0.0.1", 0))
                .context("binding the webhook receiver")?;
                let port = server
                    .addrs()
                    .first()
                    .map(std::net::SocketAddr::port)
                    .context("the receiver's port")?;
                let server = server.run();
                let _ = started.send(Ok((port, server.handle())));
                server.await.context("serving the webhook receiver")
            });
            if let Err(error) = outcome {
                let _ = tx.send(Err(error));
            }
        });
        let (port, handle) = rx
            .recv_timeout(Duration::from_secs(10))
            .context("the webhook receiver did not start")??;
        Ok(Self {
            port,
            seen,
            handle,
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhook", self.port)
    }

    /// Distinct deliveries and posts so far.
    pub fn counts(&self) -> (u64, u64) {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        (seen.deliveries.len() as u64, seen.posts)
    }

    /// Waits until `expected` distinct deliveries arrived, or `most` passed; answers the
    /// counts and how long it waited.
    pub fn wait_for(&self, expected: u64, most: Duration) -> (u64, u64, Duration) {
        let began = Instant::now();
        loop {
            let (distinct, posts) = self.counts();
            if distinct >= expected || began.elapsed() >= most {
                return (distinct, posts, began.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server and joins its thread.
    pub fn stop(mut self) {
        let handle = self.handle.clone();
        actix_rt::System::new().block_on(handle.stop(true));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
