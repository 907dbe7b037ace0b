//! `idmefv2 example`: valid messages with a fresh ID and the current time.

use std::{
    io::{self, Write},
    process::ExitCode,
};

use idmefv2::{
    types::{Category, Priority},
    Analyzer, Error, Id, Message, Source, Target, Version,
};

use crate::{drafts::parse_version, pretty::write_line};

/// The arguments of `idmefv2 example`.
#[derive(clap::Args)]
pub struct Args {
    /// Version of the format to use.
    #[arg(long, value_name = "V", default_value_t = Version::LATEST, value_parser = parse_version)]
    version: Version,
    /// How many messages to print.
    #[arg(long, value_name = "N", default_value_t = 1)]
    count: u64,
    /// One compact message per line instead of indented messages.
    #[arg(long)]
    ndjson: bool,
}

/// The help text after the options.
pub const EXAMPLES: &str = "\
Examples:
  idmefv2 example
  idmefv2 example --version 2.D.V09-Dev > alert.json
  idmefv2 example --count 1000 --ndjson | idmefv2 validate --ndjson --quiet

Each message has a fresh ID and the current time. Without --ndjson they
are indented, one after another (a stream `validate` reads as it is).";

/// Runs `idmefv2 example`.
pub fn run(args: Args) -> io::Result<ExitCode> {
    example(args.version, args.count, args.ndjson)
}

fn example(version: Version, count: u64, ndjson: bool) -> io::Result<ExitCode> {
    let mut out = io::stdout().lock();
    for _ in 0..count {
        match example_message(version) {
            Ok(message) if ndjson => write_line(&mut out, &message.to_vec(), false)?,
            Ok(message) => writeln!(out, "{}", message.to_string_pretty())?,
            // Only reachable if the fixed values below stopped being valid.
            Err(e) => {
                eprintln!("idmefv2: {e}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// One example message, with a fresh ID and the current time.
fn example_message(version: Version) -> Result<Message, Error> {
    Message::builder(
        Analyzer::builder("example-ids")
            .hostname("ids.example.org")
            .ip("192.0.2.10")
            .model("idmefv2 example"),
    )
    .version(version)
    .description("Login attempts as root from an outside address")
    .category(Category::AccessForced)
    .priority(Priority::Medium)
    .source(
        Source::builder(Id::generate())
            .ip("198.51.100.23")
            .port(4242u16),
    )
    .target(
        Target::builder(Id::generate())
            .hostname("bastion.example.org")
            .port(22u16),
    )
    .build()
}
