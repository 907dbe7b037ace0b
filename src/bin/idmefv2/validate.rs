//! `idmefv2 validate`: check messages against the schema of their draft.

use std::{
    borrow::Cow,
    io::{self, Write},
    path::PathBuf,
    process::ExitCode,
};

use clap::{error::ErrorKind, CommandFactory, ValueEnum};
use idmefv2::{Draft, Error, Limits, Message, Version, Violation, ViolationKind};

use crate::{
    check,
    drafts::{older_drafts, typed_drafts},
    input::{for_each_message, framing, MaxBytes},
    report::Status,
};

/// The arguments of `idmefv2 validate`.
#[derive(clap::Args)]
pub struct Args {
    /// One message per non-empty line (a broken line does not stop the
    /// check of the lines after it).
    #[arg(long)]
    ndjson: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print only the summary line (text format).
    #[arg(long, short)]
    quiet: bool,
    /// Also check the specification's rules beyond the schema (older
    /// drafts are then refused: upgrade them first).
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    limits: MaxBytes,
    /// Files holding one or more messages; none or `-` reads standard
    /// input.
    paths: Vec<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One line per error, then a summary.
    Text,
    /// One JSON object per message.
    Json,
}

/// The help text after the options.
pub fn examples() -> String {
    let first = Draft::ALL[0];
    let latest = Version::LATEST;
    let older = older_drafts();
    format!(
        "\
Examples:
  idmefv2 validate fixtures/valid/*.json
  idmefv2 validate --ndjson --format json alerts.ndjson
  idmefv2 validate --strict fixtures/valid/minimal.json
  idmefv2 validate --max-bytes 4194304 big-alerts.ndjson --ndjson
  some-sensor | idmefv2 validate --quiet -

Every draft from {first} on is accepted, each checked against its own
schema; \"version\" in the JSON output is the message's Version.

Text output is one line per error, SOURCE:LINE: POINTER: REASON, then
\"N valid, M invalid\"; LINE is the line of the offending value. JSON
output is one object per message, \"line\" being where it starts:
  {{\"source\":\"a.json\",\"index\":0,\"line\":1,\"valid\":false,\"version\":\"{latest}\",
   \"errors\":[{{\"path\":\"/ID\",\"line\":3,\"message\":\"...\"}}]}}

An input without any message (an empty file, blank lines only) is
reported as \"no message found\" and counts as invalid. A UTF-8
byte-order mark at the start of an input is skipped; anywhere else it is
an error. A message over --max-bytes (1 MiB by default) is refused
without being read whole.

--strict also applies the specification's rules that the schema cannot
express (ports 1-65535, attachment references, calendar dates, ...). Each
such failure is reported like a schema failure, its reason starting with
the rule's name: \"port-range: a port is an integer from 1 to 65535\".
These rules are stated for the current model, so under --strict a message
of an older draft ({older}) is invalid, with one error at
/Version (rule older-draft); carry it forward with `idmefv2 upgrade` and
check the result: idmefv2 upgrade old.json | idmefv2 validate --strict

Exit status: 0 all valid, 1 some invalid, 2 usage or I/O error."
    )
}

/// Runs `idmefv2 validate`.
pub fn run(args: Args) -> io::Result<ExitCode> {
    if args.quiet && args.format == Format::Json {
        let mut cli = crate::Cli::command();
        cli.build();
        let mut command = match cli.find_subcommand("validate").cloned() {
            Some(validate) => validate,
            None => cli,
        };
        command
            .error(
                ErrorKind::ArgumentConflict,
                "--quiet applies to the text format only",
            )
            .exit();
    }
    validate(
        &args.paths,
        args.ndjson,
        args.format,
        args.quiet,
        args.strict,
        &args.limits.limits(),
    )
}

/// Checks one message of any supported draft and gives its `Version`.
///
/// `2.D.V08` and `2.D.V09-Dev` take the typed decoder's single pass; an
/// older draft is explained by the library as [`Error::OlderDraft`] once its
/// own schema accepted it. With `strict`, a typed message is also held to
/// the specification's rules, and an older draft is refused at `/Version`.
fn validate_one(bytes: &[u8], limits: &Limits, strict: bool) -> Result<Cow<'static, str>, Error> {
    match Message::from_slice_with(bytes, limits) {
        Ok(message) => {
            if strict {
                message.validate_strict()?;
            }
            Ok(Cow::Borrowed(message.version.as_str()))
        }
        Err(Error::OlderDraft { version }) if !strict => Ok(Cow::Owned(version)),
        Err(Error::OlderDraft { version }) => {
            let reason = format!(
                "older-draft: the strict rules are checked on {} messages; this valid \
                 {version} message needs `idmefv2 upgrade` first",
                typed_drafts()
            );
            Err(Error::Invalid(
                vec![Violation::new(ViolationKind::Version, reason).at("/Version")].into(),
            ))
        }
        Err(e) => Err(e),
    }
}

fn validate(
    paths: &[PathBuf],
    ndjson: bool,
    format: Format,
    quiet: bool,
    strict: bool,
    limits: &Limits,
) -> io::Result<ExitCode> {
    let mut status = Status::default();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut counts = (0, 0);
    for_each_message(
        paths,
        framing(ndjson),
        limits,
        &mut status,
        |source, index, item| {
            let line = item.line;
            let checked = check::check(item, limits, |bytes| validate_one(bytes, limits, strict));
            match &checked {
                Ok(_) => counts.0 += 1,
                Err(_) => counts.1 += 1,
            }
            match format {
                Format::Json => {
                    let report = check::JsonReport::new(source, index, line, &checked);
                    serde_json::to_writer(&mut out, &report)?;
                    out.write_all(b"\n")
                }
                Format::Text if quiet => Ok(()),
                Format::Text => match &checked {
                    Ok(_) => Ok(()),
                    Err(failure) => failure.write_text(&mut out, source, line),
                },
            }
        },
    )?;
    (status.valid, status.invalid) = counts;
    if format == Format::Text && status.has_summary() {
        writeln!(out, "{} valid, {} invalid", status.valid, status.invalid)?;
    }
    out.flush()?;
    Ok(status.exit_code())
}
