//! A loop over one operation on one benchmark input, to run under a
//! profiler:
//!
//! ```sh
//! cargo build --release -p idmefv2-tools --bin profile
//! valgrind --tool=callgrind target/release/profile decode typical 2000
//! callgrind_annotate callgrind.out.<pid> | head -40
//! ```
//!
//! Operations: `decode` (`Message::from_slice`), `value` (parse into a
//! `serde_json::Value`), `encode` (`Message::to_vec`), `encode-value`
//! (`serde_json::to_vec` of the `Value`), `validate` (`idmefv2::validate`).

use idmefv2_tools::bench as common;

use std::hint::black_box;

use idmefv2::Message;
use serde_json::Value;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (op, input) = match args.as_slice() {
        [_, op, input, ..] => (op.as_str(), input.as_str()),
        _ => {
            eprintln!("usage: profile decode|value|encode|encode-value|validate minimal|typical|large [N]");
            std::process::exit(2);
        }
    };
    let n: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let Some((_, bytes)) = common::INPUTS.iter().find(|(name, _)| *name == input) else {
        eprintln!("unknown input {input}");
        std::process::exit(2);
    };
    let message = Message::from_slice(bytes).expect("valid input");
    let value: Value = serde_json::from_slice(bytes).expect("parses");
    for _ in 0..n {
        match op {
            "decode" => drop(black_box(Message::from_slice(black_box(bytes)))),
            "value" => drop(black_box(serde_json::from_slice::<Value>(black_box(bytes)))),
            "encode" => drop(black_box(black_box(&message).to_vec())),
            "encode-value" => drop(black_box(serde_json::to_vec(black_box(&value)))),
            "validate" => drop(black_box(idmefv2::validate(black_box(&value)))),
            _ => {
                eprintln!("unknown operation {op}");
                std::process::exit(2);
            }
        }
    }
}
