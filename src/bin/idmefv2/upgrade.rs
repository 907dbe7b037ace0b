//! `idmefv2 upgrade`: carry messages of older drafts forward, reporting
//! every change.

use std::{
    io::{self, Write},
    path::PathBuf,
    process::ExitCode,
};

use idmefv2::{
    upgrade::{Options, UpgradeNote},
    Error, Message, Version,
};

use crate::{
    check,
    drafts::parse_version,
    input::{for_each_message, framing, MaxBytes},
    pretty::write_line,
    report::Status,
};

/// The arguments of `idmefv2 upgrade`.
#[derive(clap::Args)]
pub struct Args {
    /// Draft to carry messages to. Without it, messages are carried to
    /// the latest stable draft and those already newer pass through
    /// unchanged; with it, a message newer than V is refused (there is
    /// no downgrade).
    #[arg(long, value_name = "V", value_parser = parse_version)]
    to: Option<Version>,
    /// Indent the output; otherwise one message per line.
    #[arg(long)]
    pretty: bool,
    /// One message per non-empty line (a broken line does not stop the
    /// lines after it).
    #[arg(long)]
    ndjson: bool,
    /// Make a single text a one-element list where the message's draft
    /// wants a list of texts, reporting each repair.
    #[arg(long)]
    repair: bool,
    #[command(flatten)]
    limits: MaxBytes,
    /// Files holding one or more messages; none or `-` reads standard
    /// input.
    paths: Vec<PathBuf>,
}

/// The help text after the options.
pub fn examples() -> String {
    let latest = Version::LATEST;
    let newer: Vec<&str> = Version::ALL
        .iter()
        .filter(|v| **v > latest)
        .map(|v| v.as_str())
        .collect();
    let past = if newer.is_empty() {
        String::new()
    } else {
        format!(" ({} when the target is\n{latest})", newer.join(", "))
    };
    let dev = Version::ALL.last().copied().unwrap_or(latest);
    format!(
        "\
Examples:
  idmefv2 upgrade old-alert.json > alert.json
  idmefv2 upgrade --ndjson legacy.ndjson > current.ndjson 2> upgrade-report.txt
  idmefv2 upgrade --to {dev} --pretty fixtures/drafts/valid/v04-minimal.json
  idmefv2 upgrade --repair fixtures/drafts/repair/v04-nids-portscan.json

Every message older than the target draft (--to, {latest} by default) is
checked against its own draft's schema and carried forward; a message
already at the target, or past it{past}, is written with the same content: there is no going back.
Messages are written on stdout, one compact line each unless --pretty.

Every change the upgrade makes besides Version is reported on stderr, one
line per change, SOURCE:LINE: POINTER: KIND: REASON, with the pointer into
(and the line of) the original message (for an invented value, where it
now sits) and KIND one of renamed, restructured, extended, invented,
dropped, repaired. Values are never printed. Invalid messages, and valid
ones that cannot be carried forward, are reported on stderr as `validate`
does and not written.

--repair makes a single text where the message's draft wants a list of
texts (\"Type\": \"Cyber\", \"Status\": \"Incident\", ...) a list of that text,
reporting each repair (KIND repaired), before the message is checked; the
places come from the draft's schema, and nothing else is fixed.

Exit status: 0 all written, 1 some invalid or not upgradable, 2 usage or
I/O error."
    )
}

/// Runs `idmefv2 upgrade`.
pub fn run(args: Args) -> io::Result<ExitCode> {
    let options = Options::default()
        .repair(args.repair)
        .limits(args.limits.limits());
    upgrade(&args.paths, args.to, options, args.pretty, args.ndjson)
}

/// Carries one message to `target`: typed messages at or past it are kept
/// as they are, older ones go through the library's upgrade (as do, with
/// repair on, typed messages that need repairs).
fn upgrade_one(
    bytes: &[u8],
    options: &Options,
    target: Option<Version>,
) -> Result<(Message, Vec<UpgradeNote>), Error> {
    let passes = |v: Version| match target {
        Some(target) => v == target,
        None => v >= Version::LATEST,
    };
    let options = options.target(target.unwrap_or(Version::LATEST));
    let upgrade = || {
        options
            .upgrade_slice(bytes)
            .map(|upgraded| (upgraded.message, upgraded.report))
    };
    match Message::from_slice_with(bytes, &options.limits) {
        Ok(message) if passes(message.version) => Ok((message, Vec::new())),
        // An Error::Upgrade says that the message itself was valid and the
        // upgrade is what failed; the report leads each reason with that.
        Ok(_) | Err(Error::OlderDraft { .. }) => upgrade(),
        Err(Error::Invalid(_)) if options.repair => upgrade(),
        Err(e) => Err(e),
    }
}

fn upgrade(
    paths: &[PathBuf],
    target: Option<Version>,
    options: Options,
    pretty: bool,
    ndjson: bool,
) -> io::Result<ExitCode> {
    let limits = options.limits;
    let mut status = Status::default();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let stderr = io::stderr();
    let mut counts = (0, 0);
    for_each_message(
        paths,
        framing(ndjson),
        &limits,
        &mut status,
        |source, _index, item| {
            let line = item.line;
            // Each note on the line of its value in the input (the line of
            // the message for a value that was not there).
            let upgrade = |bytes: &[u8]| {
                upgrade_one(bytes, &options, target).map(|(message, report)| {
                    let below: Vec<usize> = report
                        .iter()
                        .map(|note| idmefv2::stream::lines_before(bytes, &note.pointer))
                        .collect();
                    (message, report, below)
                })
            };
            match check::check(item, &limits, upgrade) {
                Ok((message, report, below)) => {
                    counts.0 += 1;
                    let mut err = stderr.lock();
                    for (note, below) in report.iter().zip(below) {
                        writeln!(err, "{source}:{}: {note}", line + below)?;
                    }
                    write_line(&mut out, &message.to_vec(), pretty)
                }
                Err(failure) => {
                    counts.1 += 1;
                    failure.write_text(&mut stderr.lock(), source, line)
                }
            }
        },
    )?;
    (status.valid, status.invalid) = counts;
    out.flush()?;
    Ok(status.exit_code())
}
