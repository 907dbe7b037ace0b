//! `idmefv2 schema`: the embedded JSON schema of a draft.

use std::{
    io::{self, Write},
    process::ExitCode,
};

use idmefv2::{Draft, Version};

use crate::drafts::parse_draft;

/// The arguments of `idmefv2 schema`.
#[derive(clap::Args)]
pub struct Args {
    /// Version of the format whose schema to print.
    #[arg(long, value_name = "V", default_value_t = Draft::from(Version::LATEST), value_parser = parse_draft)]
    version: Draft,
}

/// The help text after the options.
pub const EXAMPLES: &str = "\
Examples:
  idmefv2 schema > idmefv2-2.D.V08.json
  idmefv2 schema --version 2.D.V09-Dev";

/// Runs `idmefv2 schema`.
pub fn run(args: Args) -> io::Result<ExitCode> {
    schema(args.version)
}

fn schema(draft: Draft) -> io::Result<ExitCode> {
    let mut out = io::stdout().lock();
    out.write_all(draft.schema().as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
