//! `chat-bench-bare`: the HTTP limit of the benchmarks. A bare actix-web server whose only
//! handler answers every GET with a fixed JSON body (about the size of
//! `GET /api/v1/clients/me`): no middleware, no credential, no database. Whatever rate the
//! load generator reaches against it is the most any route of `chatd` could reach on the
//! same machine with the same client.
//!
//! `chat-bench-bare [--bind 127.0.0.1:8001] [--workers N]` (workers default to the number
//! of cores, as `chatd`'s `CHAT_WORKERS` does).

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use clap::Parser;

/// A fixed body shaped like the ChatAPI's client envelope.
const BODY: &str = r#"{"data":{"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","name":"Bench","description":null,"is_active":true,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"},"status":"success"}"#;

#[derive(Debug, Parser)]
#[command(
    name = "chat-bench-bare",
    about = "A bare actix-web handler: the HTTP limit"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8001")]
    bind: String,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    workers: Option<usize>,
}

async fn fixed() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(BODY)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let workers = match args.workers {
        Some(n) => n.max(1),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| App::new().default_service(web::to(fixed)))
            .workers(workers)
            .bind(&args.bind)
            .with_context(|| format!("binding {}", args.bind))?
            .run()
            .await
            .context("serving")
    })
}
