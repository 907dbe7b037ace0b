//! `idmefv2 convert`: decode, validate and re-encode messages by media type.

use std::{
    io::{self, Write},
    path::PathBuf,
    process::ExitCode,
};

use idmefv2::{codec, Limits};

use crate::{
    check::{self, Failure},
    drafts::typed_drafts,
    input::{for_each_message, framing, MaxBytes},
    pretty::write_line,
    report::Status,
};

/// The arguments of `idmefv2 convert`.
#[derive(clap::Args)]
pub struct Args {
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
}

/// The help text after the options.
pub fn examples() -> String {
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

/// Runs `idmefv2 convert`.
pub fn run(args: Args) -> io::Result<ExitCode> {
    convert(
        &args.paths,
        &args.from,
        &args.to,
        args.pretty,
        args.ndjson,
        &args.limits.limits(),
    )
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
    if pretty && !codec::is_json(encoder.media_type()) {
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
