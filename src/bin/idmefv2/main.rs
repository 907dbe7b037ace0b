//! `idmefv2`: validate, upgrade, convert and produce IDMEFv2 messages from
//! the shell.
//!
//! Exit status: 0 when every message is valid, 1 when any is invalid, 2 for
//! a usage or I/O error.

// mimalloc rather than the system allocator: `idmefv2 serve` allocates per
// request on several threads, where glibc's malloc cost a tenth of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod check;
mod consume;
mod convert;
mod drafts;
mod example;
mod export;
mod filter;
mod input;
mod kafka;
mod pretty;
mod publish;
mod report;
mod schema;
mod send;
mod serve;
mod upgrade;
mod validate;

use std::{io, process::ExitCode};

use clap::{Parser, Subcommand};
// What the transport subcommands take from the shared modules by their
// old paths (`crate::open`, ...).
use input::{
    for_each_message, framing, name, open, parse_max_bytes, sources, terminal_notice, MaxBytes,
};
use report::Status;

/// Validate, upgrade, convert and produce IDMEFv2 messages.
#[derive(Parser)]
#[command(name = "idmefv2", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check messages against the IDMEFv2 schema of their Version.
    #[command(after_help = validate::examples())]
    Validate(validate::Args),
    /// Carry messages of older drafts forward, reporting every change.
    #[command(after_help = upgrade::examples())]
    Upgrade(upgrade::Args),
    /// Print valid example messages with a fresh ID and the current time.
    #[command(after_help = example::EXAMPLES)]
    Example(example::Args),
    /// Print the JSON schema this tool validates against.
    #[command(after_help = schema::EXAMPLES)]
    Schema(schema::Args),
    /// Decode, validate and re-encode messages by media type.
    #[command(after_help = convert::examples())]
    Convert(convert::Args),
    /// Write messages as OCSF Detection Findings or STIX 2.1 bundles.
    #[command(after_help = export::examples())]
    Export(export::Args),
    /// Write the messages of an NDJSON stream that match IDMEF criteria.
    #[command(after_help = filter::EXAMPLES)]
    Filter(filter::Args),
    /// Validate messages and publish them into a NATS JetStream stream.
    #[command(after_help = publish::EXAMPLES)]
    Publish(publish::Args),
    /// Write the alerts of a NATS JetStream stream as NDJSON.
    #[command(after_help = consume::EXAMPLES)]
    Consume(consume::Args),
    /// Receive messages over HTTPS (mutual TLS) into an NDJSON file.
    #[command(after_help = serve::EXAMPLES)]
    Serve(serve::ServeArgs),
    /// Send messages to an IDMEFv2 receiver over HTTPS (mutual TLS).
    #[command(after_help = send::EXAMPLES.as_str())]
    Send(send::SendArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Upgrade(args) => upgrade::run(args),
        Command::Example(args) => example::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Export(args) => export::run(args),
        Command::Filter(args) => filter::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Consume(args) => consume::run(args),
        Command::Serve(args) => Ok(serve::serve(args)),
        Command::Send(args) => Ok(send::send(args)),
    };
    match result {
        Ok(code) => code,
        // A closed pipe (`| head`) is the reader's choice, not a failure
        // to report.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(2),
        Err(e) => {
            eprintln!("idmefv2: standard output: {e}");
            ExitCode::from(2)
        }
    }
}
