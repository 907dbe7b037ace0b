//! A receiver that validates a stream of alerts: one JSON message per line
//! on standard input (or in the file named), each decoded and checked, the
//! valid ones kept, the others reported with the JSON pointer of every
//! problem and never with the offending value.
//!
//! ```sh
//! cargo run --example sensor -- 3 | cargo run --example receiver
//! cargo run --example receiver -- alerts.ndjson
//! ```
//!
//! Messages of older drafts (still sent by deployed converters) are carried
//! forward to the latest stable draft, with every change the upgrade made
//! reported. Reports go to standard error, one line per problem:
//! `LINE: POINTER: KIND: REASON`; the exit status is 1 when any message was
//! refused. A real receiver would store or forward the accepted messages.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::process::ExitCode;

use idmefv2::upgrade::upgrade_slice;
use idmefv2::{Error, Limits, Message, Version};

/// What became of the messages of a stream.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    accepted: usize,
    upgraded: usize,
    refused: usize,
}

/// Decodes one message under `limits`: a current one directly, an older
/// draft's through the upgrade (whose notes are reported).
fn receive(
    line: &[u8],
    number: usize,
    limits: &Limits,
    report: &mut impl Write,
) -> io::Result<Result<(Message, bool), Error>> {
    match Message::from_slice_with(line, limits) {
        Ok(message) => Ok(Ok((message, false))),
        Err(Error::OlderDraft { .. }) => match upgrade_slice(line, limits, Version::LATEST) {
            Ok(upgraded) => {
                for note in &upgraded.report {
                    writeln!(report, "{number}: {note}")?;
                }
                Ok(Ok((upgraded.message, true)))
            }
            Err(e) => Ok(Err(e)),
        },
        Err(e) => Ok(Err(e)),
    }
}

/// Reads every line of `input`, keeping the valid messages and reporting
/// the refused ones on `report`.
fn run(input: impl BufRead, report: &mut impl Write) -> io::Result<(Tally, Vec<Message>)> {
    // Alerts are small; a megabyte of JSON is not an alert but an attack.
    let limits = Limits::default().with_max_bytes(256 * 1024);
    let mut tally = Tally::default();
    let mut kept = Vec::new();
    for (i, line) in input.split(b'\n').enumerate() {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let number = i + 1;
        match receive(&line, number, &limits, report)? {
            Ok((message, upgraded)) => {
                tally.accepted += 1;
                tally.upgraded += usize::from(upgraded);
                kept.push(message);
            }
            Err(error) => {
                tally.refused += 1;
                for v in error.violations().iter() {
                    let pointer = if v.pointer().is_empty() {
                        "(message)"
                    } else {
                        v.pointer()
                    };
                    writeln!(report, "{number}: {pointer}: {}: {}", v.kind(), v.reason())?;
                }
            }
        }
    }
    Ok((tally, kept))
}

fn main() -> ExitCode {
    let input: Box<dyn BufRead> = match std::env::args().nth(1) {
        None => Box::new(BufReader::new(io::stdin().lock())),
        Some(path) => match File::open(&path) {
            Ok(file) => Box::new(BufReader::new(file)),
            Err(e) => {
                eprintln!("receiver: {path}: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut report = io::stderr().lock();
    match run(input, &mut report) {
        Ok((tally, _kept)) => {
            let _ = writeln!(
                report,
                "{} accepted ({} upgraded), {} refused",
                tally.accepted, tally.upgraded, tally.refused
            );
            if tally.refused == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("receiver: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        value.to_string()
    }

    #[test]
    fn a_mixed_stream_is_sorted_and_reported_without_values() {
        let stream = [
            fixture("fixtures/valid/minimal.json"),
            String::new(),
            fixture("fixtures/invalid/pattern-id-not-uuid.json"),
            fixture("fixtures/drafts/valid/v07-status-and-sectors.json"),
            "{\"Version\": ".to_string(),
        ]
        .join("\n");
        let mut report = Vec::new();
        let (tally, kept) = run(stream.as_bytes(), &mut report).unwrap();
        assert_eq!(
            tally,
            Tally {
                accepted: 2,
                upgraded: 1,
                refused: 2
            }
        );
        assert!(kept.iter().all(|m| m.version == Version::LATEST));
        let report = String::from_utf8(report).unwrap();
        assert!(report.contains("3: /ID: pattern: not a UUID"), "{report}");
        assert!(report.contains("4: /Status: restructured:"), "{report}");
        assert!(
            report.contains("5: (message): input: invalid JSON"),
            "{report}"
        );
        assert!(
            !report.contains("not-a-uuid"),
            "a value was echoed: {report}"
        );
    }
}
