//! The untyped floor for NDJSON validation: parses every line of a file into
//! a `serde_json::Value` and drops it, as fast as `serde_json` allows.
//! Time it next to the validating command on the same file:
//!
//! ```sh
//! cargo run --release -p idmefv2-tools --bin gen_ndjson -- 100000 /tmp/alerts.ndjson
//! cargo build --release -p idmefv2-tools --bin ndjson_baseline
//! hyperfine 'target/release/ndjson_baseline /tmp/alerts.ndjson' \
//!           'idmefv2 validate --ndjson --quiet /tmp/alerts.ndjson'
//! ```
//!
//! Blank lines are skipped; a line that is not JSON stops the run with its
//! line number and exit status 1.

use std::{
    fs::File,
    io::{BufRead, BufReader},
    process::ExitCode,
};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: ndjson_baseline FILE");
        return ExitCode::from(2);
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return ExitCode::SUCCESS,
            Ok(_) => {}
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::from(2);
            }
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&line) {
            eprintln!("{path}:{number}: {e}");
            return ExitCode::FAILURE;
        }
    }
}
