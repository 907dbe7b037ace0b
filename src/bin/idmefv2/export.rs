//! `idmefv2 export`: alerts as OCSF Detection Findings or STIX 2.1
//! bundles, one compact JSON line each.

use std::{
    io::{self, Write},
    path::PathBuf,
    process::ExitCode,
};

use idmefv2::{
    export::{Format, OCSF_VERSION, STIX_VERSION},
    stream::lines_before,
    Draft, Version,
};

use crate::{
    check,
    input::{for_each_message, framing, MaxBytes},
    pretty::write_line,
    report::Status,
};

/// The help text after the options.
pub fn examples() -> String {
    let latest = Version::LATEST;
    let first = Draft::ALL[0];
    format!(
        "\
Examples:
  idmefv2 export --to ocsf alert.json
  idmefv2 export --to stix --ndjson alerts.ndjson > bundles.ndjson
  some-sensor | idmefv2 export --to ocsf --ndjson - > findings.ndjson

--to ocsf writes one OCSF {OCSF_VERSION} Detection Finding per message
(class_uid 2004, type_uid 200401) whose raw_data is the message exactly
as read; --to stix writes one STIX {STIX_VERSION} bundle per message, its
ids derived from the message ID, so that the same alert always gives the
same bundle. The output is one compact JSON object per line (NDJSON),
whatever the input framing.

Messages of every draft from {first} on are read; one older than the
typed model is first carried to {latest} as `idmefv2 upgrade` does, each
change reported on stderr as SOURCE:LINE: POINTER: KIND: REASON.
Invalid messages are reported on stderr as `validate` does and not
written; so are valid ones holding a value the chosen format cannot hold
(a timestamp naming no instant, such as a leap second or one without a
UTC offset; an IPv4 address with leading zeros; an IPv6 address with a
zone index; a port above 65535; for STIX, an EndTime before the
StartTime), their reason starting \"cannot export:\".

Exit status: 0 all written, 1 some invalid or not exportable, 2 usage or
I/O error."
    )
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse().map_err(|_| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        format!("known formats: {}", names.join(", "))
    })
}

/// Arguments of `idmefv2 export`.
#[derive(clap::Args)]
pub struct Args {
    /// Format to write: ocsf (a Detection Finding) or stix (a bundle).
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    to: Format,
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

pub fn run(args: Args) -> io::Result<ExitCode> {
    let limits = args.limits.limits();
    let mut status = Status::default();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let stderr = io::stderr();
    let mut counts = (0, 0);
    for_each_message(
        &args.paths,
        framing(args.ndjson),
        &limits,
        &mut status,
        |source, _index, item| {
            let line = item.line;
            // Each upgrade note on the line of its value in the input.
            let export = |bytes: &[u8]| {
                args.to.export_slice(bytes, &limits).map(|exported| {
                    let below: Vec<usize> = exported
                        .report
                        .iter()
                        .map(|note| lines_before(bytes, &note.pointer))
                        .collect();
                    (exported, below)
                })
            };
            match check::check(item, &limits, export) {
                Ok((exported, below)) => {
                    counts.0 += 1;
                    let mut err = stderr.lock();
                    for (note, below) in exported.report.iter().zip(below) {
                        writeln!(err, "{source}:{}: {note}", line + below)?;
                    }
                    let text = serde_json::to_vec(&exported.value).map_err(io::Error::other)?;
                    write_line(&mut out, &text, false)
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
