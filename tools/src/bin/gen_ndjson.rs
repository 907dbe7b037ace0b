//! Writes an NDJSON file of valid IDMEFv2 messages for throughput tests:
//!
//! ```sh
//! cargo run --release -p idmefv2-tools --bin gen_ndjson -- COUNT FILE
//! ```
//!
//! The lines cycle through the benchmark inputs in `tools/data/`: in
//! every 100 lines, 1 large message (~50 KB, attachments), 19 minimal ones
//! and 80 typical IDS alerts. Every message gets its own `ID` and
//! `CreateTime`, and every line is checked with `Message::from_slice`
//! before it is written.

use idmefv2_tools::bench as common;

use std::{
    fs::File,
    io::{BufWriter, Write},
    process::ExitCode,
};

use idmefv2::{Id, Message, Timestamp};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(count), Some(path)) = (args.get(1).and_then(|a| a.parse::<u64>().ok()), args.get(2))
    else {
        eprintln!("usage: gen_ndjson COUNT FILE");
        return ExitCode::from(2);
    };
    let templates: Vec<Message> = common::INPUTS
        .iter()
        .map(|(_, bytes)| Message::from_slice(bytes).expect("benchmark inputs are valid"))
        .collect();
    let file = match File::create(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = BufWriter::new(file);
    let mut bytes = 0usize;
    for n in 0..count {
        let template = match n % 100 {
            0 => &templates[2],
            1..=19 => &templates[0],
            _ => &templates[1],
        };
        let mut message = template.clone();
        // A version 4 layout with the line number in the last group.
        let id = format!("6a1f0c2e-5b7d-4c3e-9f10-{n:012x}");
        message.id = id.parse::<Id>().expect("a well-formed UUID");
        let seconds = n % 60;
        let minutes = (n / 60) % 60;
        let time = format!("2025-06-01T12:{minutes:02}:{seconds:02}.{:03}Z", n % 1000);
        message.create_time = time.parse::<Timestamp>().expect("a well-formed timestamp");
        let mut line = message.to_vec();
        if let Err(e) = Message::from_slice(&line) {
            eprintln!("line {}: generated an invalid message: {e}", n + 1);
            return ExitCode::FAILURE;
        }
        line.push(b'\n');
        bytes += line.len();
        if let Err(e) = out.write_all(&line) {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    }
    if let Err(e) = out.flush() {
        eprintln!("{path}: {e}");
        return ExitCode::from(2);
    }
    eprintln!("{path}: {count} messages, {bytes} bytes");
    ExitCode::SUCCESS
}
