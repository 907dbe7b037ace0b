//! Prints decode and encode times of the benchmark inputs side by side with
//! their `serde_json::Value` baselines, and the ratios.
//!
//! ```sh
//! cargo run --release -p idmefv2-tools --bin ratio [-- ROUNDS] [--tsv]
//! ```
//!
//! `--tsv` prints tab-separated lines (input, operation, ours in ns,
//! baseline in ns, ratio) for scripts.

use idmefv2_tools::bench as common;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tsv = args.iter().any(|a| a == "--tsv");
    let rounds = args.iter().find_map(|a| a.parse().ok()).unwrap_or(31);
    common::print_ratios(rounds, tsv);
}
