//! `chatd`: the chat-rooms server and its operator commands.

mod demo;

use std::process::ExitCode;

use chat_app::{Actor, AppError, NewAccount, NewUser};
use chat_domain::AccountId;
use chat_http::account::platform::{AccountJson, UserJson};
use chatd::{Application, Settings};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "chatd",
    version,
    about = "Chat-rooms server: rooms, members, messages and live events over two HTTP dialects"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Manage accounts without the platform token.
    Account {
        #[command(subcommand)]
        action: AccountCommand,
    },
    /// Manage users without the platform token.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Manage stored files.
    Files {
        #[command(subcommand)]
        action: FilesCommand,
    },
    /// Make a new demo account (three users, three rooms, a short conversation) and print
    /// a link per user that opens the web client signed in as them.
    Demo {
        /// The server the links point to [default: http:// and the bind address].
        #[arg(long)]
        url: Option<String>,
        /// Print one JSON object, with the account's API key, instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum FilesCommand {
    /// Delete stored files no attachment or avatar refers to (left by a crash between
    /// storing a file and its row, or between a delete and the file's removal).
    Sweep {
        /// Spare files younger than this many seconds: their row may be being written.
        #[arg(long, default_value_t = 3600)]
        grace_secs: u64,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create an account; prints it as JSON with its API key (shown once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user of an account; prints it as JSON with its access token (shown once).
    Create {
        #[arg(long)]
        account_id: i64,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// administrator or agent
        #[arg(long, default_value = "agent")]
        role: String,
        #[arg(long)]
        external_id: Option<String>,
    },
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    chatd::init_tracing(cli.settings.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chatd: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let application = Application::build(settings.clone()).await?;
            tracing::info!(bind = %settings.bind, port = application.port(), "chatd listening");
            application.run_until_stopped().await?;
            tracing::info!("chatd stopped");
        }
        Command::Migrate => {
            let (store, _) = chatd::wire(&settings).await?;
            drop(store);
            println!("migrations are up to date");
        }
        Command::Account {
            action: AccountCommand::Create { name, description },
        } => {
            let (_, app) = chatd::wire(&settings).await?;
            let new = NewAccount::parse(Some(&name), description.as_deref())
                .map_err(|e| anyhow::anyhow!("invalid account: {e}"))?;
            let issued = app
                .accounts
                .create(&Actor::Platform, new)
                .await
                .map_err(explain)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&AccountJson::from(&issued))?
            );
        }
        Command::User {
            action:
                UserCommand::Create {
                    account_id,
                    name,
                    email,
                    role,
                    external_id,
                },
        } => {
            let (_, app) = chatd::wire(&settings).await?;
            let new = NewUser::parse(
                Some(&name),
                email.as_deref(),
                Some(&role),
                external_id.as_deref(),
            )
            .map_err(|e| anyhow::anyhow!("invalid user: {e}"))?;
            let issued = app
                .users
                .create(&Actor::Platform, AccountId(account_id), new)
                .await
                .map_err(explain)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&UserJson::from(&issued))?
            );
        }
        Command::Files {
            action: FilesCommand::Sweep { grace_secs },
        } => {
            let grace = std::time::Duration::from_secs(grace_secs);
            let report = chatd::sweep_files(&settings, grace).await?;
            println!(
                "examined {} stored files, deleted {} orphans",
                report.examined, report.deleted
            );
        }
        Command::Demo { url, json } => {
            let made = demo::seed(&settings, url.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&made.to_json())?);
            } else {
                print!("{}", made.to_text());
            }
        }
    }
    Ok(())
}

/// Operator-facing words for a use-case error.
fn explain(error: AppError) -> anyhow::Error {
    match error {
        AppError::Invalid(errors) => anyhow::anyhow!("invalid input: {errors}"),
        AppError::NotFound(resource) => anyhow::anyhow!("no such {resource}"),
        other => anyhow::Error::new(other),
    }
}
