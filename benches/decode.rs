//! Decoding, validation, encoding and building of three IDMEFv2 messages
//! (minimal, typical IDS alert, large with attachments), each next to its
//! untyped `serde_json::Value` baseline, and the check of a `2.D.V04`
//! message (group `v04`). After criterion's report, prints
//! the ratios of a side-by-side run.
//!
//! ```sh
//! cargo bench --bench decode
//! ```

use std::{hint::black_box, time::Duration};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use idmefv2::Message;
use serde_json::Value;

use idmefv2_tools::bench::{build, check_inputs, Parts, INPUTS};

fn decode(c: &mut Criterion) {
    let parts = Parts::from_large();
    check_inputs(&parts);
    for (name, bytes) in INPUTS {
        let message = Message::from_slice(bytes).expect("valid input");
        let value: Value = serde_json::from_slice(bytes).expect("parses");
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(BenchmarkId::new("decode", "Message::from_slice"), |b| {
            b.iter(|| Message::from_slice(black_box(bytes)))
        });
        // The same verdict without building the message (what the
        // receiver does for a sink that stores the body as it came).
        g.bench_function(BenchmarkId::new("check", "idmefv2::validate_slice"), |b| {
            b.iter(|| idmefv2::validate_slice(black_box(bytes), &idmefv2::Limits::default()))
        });
        g.bench_function(BenchmarkId::new("decode", "serde_json::Value"), |b| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(bytes)))
        });
        g.bench_function(
            BenchmarkId::new("validate", "idmefv2::validate(&Value)"),
            |b| b.iter(|| idmefv2::validate(black_box(&value))),
        );
        g.bench_function(BenchmarkId::new("encode", "Message::to_vec"), |b| {
            b.iter(|| black_box(&message).to_vec())
        });
        g.bench_function(
            BenchmarkId::new("encode", "serde_json::to_vec(&Value)"),
            |b| b.iter(|| serde_json::to_vec(black_box(&value))),
        );
        g.bench_function(BenchmarkId::new("build", "builder"), |b| {
            b.iter(|| build(black_box(name), &parts))
        });
        g.finish();
    }
    // What deployed converters send: a valid 2.D.V04 message, checked
    // against its own draft's schema (the receiver's path for it), next to
    // a plain parse of the same bytes.
    let v04: &[u8] = include_bytes!("../fixtures/drafts/valid/v04-converter.json");
    idmefv2::validate_slice(v04, &idmefv2::Limits::default()).expect("a valid 2.D.V04 message");
    let mut g = c.benchmark_group("v04");
    g.throughput(Throughput::Bytes(v04.len() as u64));
    g.bench_function(BenchmarkId::new("check", "idmefv2::validate_slice"), |b| {
        b.iter(|| idmefv2::validate_slice(black_box(v04), &idmefv2::Limits::default()))
    });
    g.bench_function(BenchmarkId::new("decode", "serde_json::Value"), |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(v04)))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = decode
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` runs this binary without `--bench`: the
    // benchmarks then run once each as a smoke test, and the timing
    // summary is skipped.
    if std::env::args().any(|a| a == "--bench") {
        idmefv2_tools::bench::print_ratios(21, false);
    }
}
