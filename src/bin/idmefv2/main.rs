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
mod kafka;
mod pretty;
mod publish;
mod send;
mod serve;
mod split;

use std::{
    borrow::Cow,
    fs::File,
    io::{self, BufRead, BufReader, IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
};

use clap::{error::ErrorKind, CommandFactory, Parser, Subcommand, ValueEnum};
use idmefv2::{
    codec,
    types::{Category, Priority},
    upgrade::{Options, UpgradeNote},
    Analyzer, Draft, Error, Id, Limits, Message, Source, Target, Version, Violation, ViolationKind,
};

use check::Failure;
use split::{Framing, Splitter};

/// The typed model's drafts, for help texts: `2.D.V08 and 2.D.V09-Dev`.
fn typed_drafts() -> String {
    let names: Vec<&str> = Version::ALL.iter().map(|v| v.as_str()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// The drafts older than the typed model, for help texts: `2.D.V02 to
/// 2.D.V07`.
fn older_drafts() -> String {
    let older: Vec<&str> = Draft::ALL
        .iter()
        .filter(|d| d.version().is_none())
        .map(|d| d.as_str())
        .collect();
    match older.as_slice() {
        [] => "none".to_string(),
        [one] => (*one).to_string(),
        [first, .., last] => format!("{first} to {last}"),
    }
}

fn validate_examples() -> String {
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

const EXAMPLE_EXAMPLES: &str = "\
Examples:
  idmefv2 example
  idmefv2 example --version 2.D.V09-Dev > alert.json
  idmefv2 example --count 1000 --ndjson | idmefv2 validate --ndjson --quiet

Each message has a fresh ID and the current time. Without --ndjson they
are indented, one after another (a stream `validate` reads as it is).";

const SCHEMA_EXAMPLES: &str = "\
Examples:
  idmefv2 schema > idmefv2-2.D.V08.json
  idmefv2 schema --version 2.D.V09-Dev";

fn convert_examples() -> String {
    let typed = typed_drafts();
    format!(
        "\
Examples:
  idmefv2 convert alert.json > alert.min.json
  idmefv2 convert --pretty --to text/json alerts.json
  cat alerts.json | idmefv2 convert --pretty
  idmefv2 convert --ndjson alerts.ndjson > clean.ndjson

Invalid messages are reported on stderr (as `validate` does) and not
written; the exit status is then 1. Conversion works on the typed model,
{typed}: a message of an older draft is reported as
needing an upgrade and not written; `idmefv2 upgrade` carries it forward."
    )
}

fn upgrade_examples() -> String {
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
    #[command(after_help = validate_examples())]
    Validate {
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
    },
    /// Carry messages of older drafts forward, reporting every change.
    #[command(after_help = upgrade_examples())]
    Upgrade {
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
    },
    /// Print valid example messages with a fresh ID and the current time.
    #[command(after_help = EXAMPLE_EXAMPLES)]
    Example {
        /// Version of the format to use.
        #[arg(long, value_name = "V", default_value_t = Version::LATEST, value_parser = parse_version)]
        version: Version,
        /// How many messages to print.
        #[arg(long, value_name = "N", default_value_t = 1)]
        count: u64,
        /// One compact message per line instead of indented messages.
        #[arg(long)]
        ndjson: bool,
    },
    /// Print the JSON schema this tool validates against.
    #[command(after_help = SCHEMA_EXAMPLES)]
    Schema {
        /// Version of the format whose schema to print.
        #[arg(long, value_name = "V", default_value_t = Draft::from(Version::LATEST), value_parser = parse_draft)]
        version: Draft,
    },
    /// Decode, validate and re-encode messages by media type.
    #[command(after_help = convert_examples())]
    Convert {
        /// Media type of the input.
        #[arg(long, value_name = "MEDIA_TYPE", default_value = "application/json")]
        from: String,
        /// Media type of the output.
        #[arg(long, value_name = "MEDIA_TYPE", default_value = "application/json")]
        to: String,
        /// Indent the output (JSON output only); otherwise one message per
        /// line.
        #[arg(long)]
        pretty: bool,
        /// One input message per non-empty line (a broken line does not stop
        /// the lines after it).
        #[arg(long)]
        ndjson: bool,
        #[command(flatten)]
        limits: MaxBytes,
        /// Files holding one or more messages; none or `-` reads standard
        /// input.
        paths: Vec<PathBuf>,
    },
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
    #[command(after_help = send::EXAMPLES)]
    Send(send::SendArgs),
}

/// The size limit of the subcommands that read messages.
#[derive(clap::Args)]
struct MaxBytes {
    /// Largest message accepted, in bytes; a longer one is refused without
    /// being read whole.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT_MAX_BYTES,
          value_parser = parse_max_bytes)]
    max_bytes: usize,
}

impl MaxBytes {
    fn limits(&self) -> Limits {
        Limits::default().with_max_bytes(self.max_bytes)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One line per error, then a summary.
    Text,
    /// One JSON object per message.
    Json,
}

fn parse_version(text: &str) -> Result<Version, String> {
    text.parse().map_err(|_| {
        let all: Vec<&str> = Version::ALL.iter().map(|v| v.as_str()).collect();
        format!("unknown version; supported: {}", all.join(", "))
    })
}

/// A `--max-bytes` value: at least one byte.
fn parse_max_bytes(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("a message has at least one byte".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err("a whole number of bytes, such as 1048576".to_string()),
    }
}

fn parse_draft(text: &str) -> Result<Draft, String> {
    text.parse().map_err(|_| {
        let all = idmefv2::supported_versions();
        format!("unknown version; supported: {}", all.join(", "))
    })
}

/// Why the tool stopped or what it ran into, for the exit status.
#[derive(Default)]
struct Status {
    invalid: usize,
    valid: usize,
    io_error: bool,
    /// Messages found in all inputs.
    found: usize,
    /// Inputs that held no message at all.
    empty: usize,
}

impl Status {
    fn exit_code(&self) -> ExitCode {
        if self.io_error {
            ExitCode::from(2)
        } else if self.invalid > 0 || self.empty > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }

    /// Whether to print the `N valid, M invalid` line: not when every
    /// input was found empty, which has been said already.
    fn has_summary(&self) -> bool {
        self.found > 0 || self.empty == 0
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate {
            ndjson,
            format,
            quiet,
            strict,
            limits,
            paths,
        } => {
            if quiet && format == Format::Json {
                let mut cli = Cli::command();
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
            validate(&paths, ndjson, format, quiet, strict, &limits.limits())
        }
        Command::Upgrade {
            to,
            pretty,
            ndjson,
            repair,
            limits,
            paths,
        } => {
            let options = Options::default().repair(repair).limits(limits.limits());
            upgrade(&paths, to, options, pretty, ndjson)
        }
        Command::Example {
            version,
            count,
            ndjson,
        } => example(version, count, ndjson),
        Command::Schema { version } => schema(version),
        Command::Convert {
            from,
            to,
            pretty,
            ndjson,
            limits,
            paths,
        } => convert(&paths, &from, &to, pretty, ndjson, &limits.limits()),
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

/// The inputs named on the command line: `-` (or none) is standard input.
fn sources(paths: &[PathBuf]) -> Vec<Option<&PathBuf>> {
    if paths.is_empty() {
        vec![None]
    } else {
        paths
            .iter()
            .map(|p| (p.as_os_str() != "-").then_some(p))
            .collect()
    }
}

/// Opens one input; `None` is standard input.
fn open(path: Option<&PathBuf>) -> io::Result<Box<dyn BufRead>> {
    const CHUNK: usize = 64 * 1024;
    Ok(match path {
        None => Box::new(BufReader::with_capacity(CHUNK, io::stdin().lock())),
        Some(p) => Box::new(BufReader::with_capacity(CHUNK, File::open(p)?)),
    })
}

fn name(path: Option<&PathBuf>) -> String {
    path.map_or_else(|| "-".to_string(), |p| p.to_string_lossy().into_owned())
}

/// What the tool says when it reads standard input from a terminal, where
/// it would otherwise seem to hang: `Some` only for standard input
/// (`path` `None`) on a terminal.
fn terminal_notice(path: Option<&PathBuf>) -> Option<&'static str> {
    (path.is_none() && io::stdin().is_terminal())
        .then_some("reading messages from standard input; end with Ctrl-D (Ctrl-Z on Windows)")
}

/// Runs `each` on every message of every source, reporting I/O errors on
/// stderr (naming the source) and going on with the next source. A source
/// without any message is reported as such, and standard input read from
/// a terminal is announced (the tool would otherwise seem to hang).
fn for_each_message(
    paths: &[PathBuf],
    framing: Framing,
    limits: &Limits,
    status: &mut Status,
    mut each: impl FnMut(&str, usize, split::Item) -> io::Result<()>,
) -> io::Result<()> {
    for path in sources(paths) {
        let source = name(path);
        if let Some(notice) = terminal_notice(path) {
            eprintln!("idmefv2: {notice}");
        }
        let mut splitter = match open(path) {
            Ok(reader) => Splitter::new(reader, framing, limits.max_bytes),
            Err(e) => {
                eprintln!("idmefv2: {source}: {e}");
                status.io_error = true;
                continue;
            }
        };
        let mut index = 0;
        loop {
            match splitter.next_item() {
                Ok(Some(item)) => {
                    each(&source, index, item)?;
                    index += 1;
                    status.found += 1;
                }
                Ok(None) => {
                    if index == 0 {
                        eprintln!("idmefv2: {source}: no message found");
                        status.empty += 1;
                    }
                    break;
                }
                Err(e) => {
                    eprintln!("idmefv2: {source}: {e}");
                    status.io_error = true;
                    break;
                }
            }
        }
    }
    Ok(())
}

fn framing(ndjson: bool) -> Framing {
    if ndjson {
        Framing::Lines
    } else {
        Framing::Json
    }
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

fn convert(
    paths: &[PathBuf],
    from: &str,
    to: &str,
    pretty: bool,
    ndjson: bool,
    limits: &Limits,
) -> io::Result<ExitCode> {
    let usage = |e: &dyn std::fmt::Display| {
        eprintln!("idmefv2: {e}");
        Ok(ExitCode::from(2))
    };
    let decoder = match codec::find(from) {
        Ok(c) => c,
        Err(e) => return usage(&e),
    };
    let encoder = match codec::find(to) {
        Ok(c) => c,
        Err(e) => return usage(&e),
    };
    if pretty && !pretty::is_json(encoder.media_type()) {
        return usage(&format!(
            "--pretty indents JSON output only, not {}",
            encoder.media_type()
        ));
    }
    let mut status = Status::default();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let stderr = io::stderr();
    let mut counts = (0, 0);
    for_each_message(
        paths,
        framing(ndjson),
        limits,
        &mut status,
        |source, _index, item| {
            let line = item.line;
            let checked = check::check(item, limits, |bytes| decoder.decode(bytes, limits))
                .and_then(|message| {
                    encoder
                        .encode(&message)
                        .map_err(|e| Failure::from_error(&e, None))
                });
            match checked {
                Ok(encoded) => {
                    counts.0 += 1;
                    write_line(&mut out, &encoded, pretty)
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

/// Writes one encoded message (indented with `pretty`) and a newline.
fn write_line(out: &mut impl Write, encoded: &[u8], pretty: bool) -> io::Result<()> {
    if pretty {
        out.write_all(&pretty::indent(encoded))?;
    } else {
        out.write_all(encoded)?;
    }
    out.write_all(b"\n")
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
                        .map(|note| check::lines_before(bytes, &note.pointer))
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
    .category(Category::AccessUnauthorized)
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

fn schema(draft: Draft) -> io::Result<ExitCode> {
    let mut out = io::stdout().lock();
    out.write_all(draft.schema().as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
