//! A sensor that raises alerts: it builds IDMEFv2 messages for the login
//! failures it saw, checks them against the specification's rules, and
//! writes them to standard output, one JSON message per line.
//!
//! ```sh
//! cargo run --example sensor -- 3 > alerts.ndjson
//! cargo run --example sensor -- 3 | cargo run --example receiver
//! ```
//!
//! The argument is how many alerts to write (default 3). A real sensor
//! would send each encoded message to a SIEM instead; the encoding by media
//! type is the same.

use std::io::{self, Write};
use std::process::ExitCode;

use idmefv2::types::{Category, Priority, SourceCategory, TargetCategory};
use idmefv2::{Analyzer, Attachment, Id, Message, Source, Target};

/// What the sensor saw: repeated failed logins from one address.
struct Sighting {
    attacker: &'static str,
    port: u16,
    user: &'static str,
    failures: usize,
}

const SIGHTINGS: [Sighting; 3] = [
    Sighting {
        attacker: "198.51.100.23",
        port: 40122,
        user: "root",
        failures: 12,
    },
    Sighting {
        attacker: "203.0.113.9",
        port: 51500,
        user: "admin",
        failures: 40,
    },
    Sighting {
        attacker: "2001:db8::7",
        port: 60001,
        user: "backup",
        failures: 5,
    },
];

/// The alert for one sighting. Required values are builder arguments;
/// `Version`, `ID` and `CreateTime` get their defaults (the latest stable
/// draft, a fresh UUID, now).
fn alert(seen: &Sighting) -> idmefv2::Result<Message> {
    let priority = if seen.failures >= 20 {
        Priority::High
    } else {
        Priority::Medium
    };
    // The log lines behind the alert travel with it, as an attachment that
    // the source and target refer to by name.
    let log = format!(
        "{} failed logins as {} from {}",
        seen.failures, seen.user, seen.attacker
    );
    Message::builder(
        Analyzer::builder("edge-auth-monitor")
            .hostname("auth-monitor.example.org")
            .ip("192.0.2.10")
            .model("idmefv2 example sensor"),
    )
    .description(format!(
        "{} failed SSH logins as {}",
        seen.failures, seen.user
    ))
    .category(Category::AccessForced)
    .priority(priority)
    .source(
        Source::builder(Id::generate())
            .ip(seen.attacker)
            .port(seen.port)
            .category(SourceCategory::CyberNetworkPort)
            .attachment("authlog"),
    )
    .target(
        Target::builder(Id::generate())
            .hostname("bastion.example.org")
            .port(22u16)
            .service("sshd")
            .user(seen.user)
            .category(TargetCategory::ItEndpoints)
            .attachment("authlog"),
    )
    .attachment(
        Attachment::builder("authlog")
            .file_name("auth.log")
            .content_type("text/plain; charset=utf-8")
            .content_encoding("json")
            .content(serde_json::json!({ "summary": log })),
    )
    .build()
}

/// Builds `count` alerts, checks each against the rules beyond the schema
/// (a port of 0 or a dangling attachment name would be caught here), and
/// writes each encoded as `application/json` on its own line.
fn run(count: usize, out: &mut impl Write) -> Result<(), Box<dyn std::error::Error>> {
    for seen in SIGHTINGS.iter().cycle().take(count) {
        let message = alert(seen)?;
        message.validate_strict()?;
        let encoded = message.serialize("application/json")?;
        out.write_all(&encoded.payload)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let count = match std::env::args().nth(1).map(|a| a.parse::<usize>()) {
        None => 3,
        Some(Ok(count)) => count,
        Some(Err(_)) => {
            eprintln!("usage: sensor [COUNT]");
            return ExitCode::from(2);
        }
    };
    let mut out = io::stdout().lock();
    match run(count, &mut out).and_then(|()| Ok(out.flush()?)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sensor: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alert_is_valid_and_reads_back_the_same() {
        let mut out = Vec::new();
        run(5, &mut out).unwrap();
        let lines: Vec<&[u8]> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 5);
        for line in lines {
            let message = Message::from_slice(line).unwrap();
            message.validate_strict().unwrap();
            assert_eq!(message.to_vec(), line);
        }
    }

    #[test]
    fn a_bad_address_is_refused_with_its_pointer() {
        let seen = Sighting {
            attacker: "300.1.1.1",
            port: 1,
            user: "x",
            failures: 1,
        };
        let error = alert(&seen).unwrap_err();
        assert_eq!(error.violations()[0].pointer(), "/Source/0/IP");
    }
}
