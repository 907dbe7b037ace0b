//! Inputs and the side-by-side ratio measurement shared by the crate's
//! `benches/decode.rs` and the measuring tools (`ratio`, `profile`,
//! `alloc_count`, `gen_ndjson`).
//!
//! The three inputs, in `tools/data/`, are written by
//! `scripts/make_bench_data.py`.

use std::{hint::black_box, time::Instant};

use idmefv2::types::{
    AnalyzerCategory, AnalyzerData, AnalyzerMethod, Category, Cause, Content, EntitySector,
    IncidentType, Priority, SourceCategory, Status,
};
use idmefv2::{Analyzer, Attachment, Message, Sensor, Source, Target};
use serde_json::Value;

/// `(name, bytes)` of each benchmark input, smallest first.
pub const INPUTS: [(&str, &[u8]); 3] = [
    ("minimal", include_bytes!("../data/minimal.json")),
    ("typical", include_bytes!("../data/typical.json")),
    ("large", include_bytes!("../data/large.json")),
];

/// Owned parts that a builder takes by value (attachment contents), made
/// once outside the timed loop so that `build` measures the builder and
/// the copies it needs, not the parsing of the inputs.
pub struct Parts {
    pub blobs: Vec<String>,
    pub report: serde_json::Map<String, Value>,
}

impl Parts {
    pub fn from_large() -> Parts {
        let value: Value = serde_json::from_slice(INPUTS[2].1).expect("large input parses");
        let attachments = value["Attachment"].as_array().expect("attachments");
        let blobs = attachments[..2]
            .iter()
            .map(|a| a["Content"].as_str().expect("text content").to_owned())
            .collect();
        let report = attachments[2]["Content"]
            .as_object()
            .expect("object content")
            .clone();
        Parts { blobs, report }
    }
}

/// Builds the message of input `name` with the builders; equal to decoding
/// that input (checked by `check_inputs`).
pub fn build(name: &str, parts: &Parts) -> Message {
    match name {
        "minimal" => Message::builder(Analyzer::builder("lab-probe").ip("192.0.2.10"))
            .id("c185d909-aceb-42a4-b21e-33766535a371")
            .create_time("2025-02-03T10:00:00.123456Z")
            .description("Heartbeat from lab probe")
            .priority(Priority::Info)
            .category(Category::OtherUncategorised)
            .build()
            .expect("minimal builds"),
        "typical" => typical_builder("7ec4adc2-7b0e-4846-afa6-f15cc0e6f2cb", false)
            .build()
            .expect("typical builds"),
        _ => typical_builder("8b3f0c52-91d4-4e55-a1c2-7d3e9f6a4b20", true)
            .attachment(
                Attachment::builder("pcap1")
                    .file_name("capture.pcap")
                    .hash("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
                    .size(17000u32)
                    .content_type("application/vnd.tcpdump.pcap")
                    .content_encoding("base64")
                    .content(Content::Text(parts.blobs[0].clone())),
            )
            .attachment(
                Attachment::builder("binary1")
                    .file_name("dropper.bin")
                    .size(17000u32)
                    .external_uri("https://files.contoso.example/quarantine/dropper.bin")
                    .content_type("application/octet-stream")
                    .content_encoding("base64")
                    .content(Content::Text(parts.blobs[1].clone())),
            )
            .attachment(
                Attachment::builder("report1")
                    .file_name("report.json")
                    .content_type("application/json")
                    .content_encoding("json")
                    .content(Content::Object(parts.report.clone())),
            )
            .build()
            .expect("large builds"),
    }
}

fn typical_builder(id: &str, attachments: bool) -> idmefv2::types::MessageBuilder {
    let mut source = Source::builder("29d17420-789b-4158-8940-ebf128611b83")
        .ip("198.51.100.23")
        .hostname("scanner.badhost.example")
        .category(SourceCategory::CyberNetworkPort)
        .protocol("ipv4")
        .protocol("tcp")
        .protocol("ssh")
        .port(40122u16)
        .port(40188u16)
        .port(40201u16)
        .email("abuse@badhost.example");
    let mut target = Target::builder("50b342fd-5e77-4f96-899b-357f2801a3e4")
        .ip("10.20.1.10")
        .hostname("bastion.rtm.contoso.example")
        .service("sshd")
        .user("root")
        .email("it-ops@contoso.example")
        .port(22u16);
    if attachments {
        source = source.attachment("pcap1");
        target = target.attachment("binary1").attachment("report1");
    }
    Message::builder(
        Analyzer::builder("depot-nids")
            .id("f18c3b2c-f98d-47fe-9119-1a3cdd8c48dd")
            .ip("10.20.0.5")
            .hostname("nids.rtm.contoso.example")
            .model("Suricata 7.0.8")
            .category(AnalyzerCategory::NetNids)
            .data(AnalyzerData::Network)
            .data(AnalyzerData::Connection)
            .method(AnalyzerMethod::Signature)
            .method(AnalyzerMethod::Threshold)
            .location("Rack B4"),
    )
    .id(id)
    .organisation_name("Contoso Logistics")
    .entity_name("Rotterdam depot")
    .entity_sector(EntitySector::LogisticsWarehousing)
    .type_(IncidentType::Cyber)
    .category(Category::AccessForced)
    .category(Category::ReconNetwork)
    .cause(Cause::Malicious)
    .description("Repeated SSH password failures against the depot bastion after a port sweep")
    .status(Status::Event)
    .priority(Priority::Medium)
    .confidence(0.85)
    .create_time("2025-05-19T22:41:08.512Z")
    .start_time("2025-05-19T22:35:00Z")
    .ref_("https://soc.contoso.example/cases/2025-0519-044")
    .ref_("urn:contoso:playbook:ssh-bruteforce")
    .correl_id("e4503dcc-2cd7-4a34-b3be-5eb5eb3f6093")
    .sensor(
        Sensor::builder("tap-core-1")
            .id("0b6e53f1-3c4d-4c1e-9a77-25f6e9c2d101")
            .ip("10.20.0.6")
            .hostname("tap1.rtm.contoso.example")
            .capture_zone("dmz")
            .geo_location("51.9225,4.47917")
            .un_location("NL RTM"),
    )
    .source(source)
    .source(
        Source::builder("3a0c3c7e-42b1-4e0d-8d8e-0b6f4e7a5c11")
            .ip("2001:db8:85a3::8a2e:370:7334")
            .protocol("ipv6")
            .protocol("tcp")
            .protocol("ssh")
            .port(51514u16),
    )
    .target(target)
    .target(
        Target::builder("6f1d2e3c-4b5a-4978-8a6b-5c4d3e2f1a00")
            .ip("10.20.1.11")
            .hostname("bastion2.rtm.contoso.example")
            .service("sshd")
            .port(22u16)
            .port(2222u16),
    )
}

/// Panics unless every input decodes, validates with the schema validator,
/// and equals the message its builder makes, so that no benchmark times a
/// failure path.
pub fn check_inputs(parts: &Parts) {
    for (name, bytes) in INPUTS {
        let message = Message::from_slice(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let value: Value = serde_json::from_slice(bytes).expect("parses");
        idmefv2::validate(&value).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(message.to_value(), value, "{name}: round trip");
        assert_eq!(build(name, parts), message, "{name}: builder");
    }
}

/// Medians of a side-by-side measurement of `ours` against `baseline`.
pub struct Ratio {
    pub ours_ns: f64,
    pub baseline_ns: f64,
    pub ratio: f64,
}

/// Times `ours` and `baseline` in alternating rounds (so that load from
/// other processes hits both alike) and returns the median time per call
/// of each and the median of the per-round ratios.
pub fn side_by_side(
    rounds: usize,
    bytes_per_round: usize,
    input_len: usize,
    mut ours: impl FnMut(),
    mut baseline: impl FnMut(),
) -> Ratio {
    let iters = (bytes_per_round / input_len.max(1)).clamp(20, 20_000);
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        start.elapsed().as_nanos() as f64 / iters as f64
    };
    // Warm up caches and the allocator.
    time(&mut ours);
    time(&mut baseline);
    let (mut a, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (x, y) = if round % 2 == 0 {
            let x = time(&mut ours);
            (x, time(&mut baseline))
        } else {
            let y = time(&mut baseline);
            (time(&mut ours), y)
        };
        a.push(x);
        b.push(y);
        r.push(x / y);
    }
    Ratio {
        ours_ns: median(a),
        baseline_ns: median(b),
        ratio: median(r),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Prints, for each input, decode and encode times against their
/// `serde_json::Value` baselines, and the schema validator's time.
///
/// With `tsv`, prints one tab-separated line per row instead:
/// input, operation, ours (ns), baseline (ns), ratio.
pub fn print_ratios(rounds: usize, tsv: bool) {
    let parts = Parts::from_large();
    check_inputs(&parts);
    if !tsv {
        println!();
        println!("ratios (median of {rounds} alternating rounds; ratio = ours / baseline)");
        println!(
            "{:<8} {:>7} {:<34} {:>11} {:>11} {:>7}",
            "input", "bytes", "what", "ours", "baseline", "ratio"
        );
    }
    let budget = 4 << 20; // bytes decoded per round and side
    for (name, bytes) in INPUTS {
        let message = Message::from_slice(bytes).expect("valid");
        let value: Value = serde_json::from_slice(bytes).expect("parses");
        let rows = [
            (
                "decode: from_slice vs Value",
                side_by_side(
                    rounds,
                    budget,
                    bytes.len(),
                    || drop(black_box(Message::from_slice(black_box(bytes)))),
                    || drop(black_box(serde_json::from_slice::<Value>(black_box(bytes)))),
                ),
            ),
            (
                "encode: to_vec vs to_vec(&Value)",
                side_by_side(
                    rounds,
                    budget,
                    bytes.len(),
                    || drop(black_box(black_box(&message).to_vec())),
                    || drop(black_box(serde_json::to_vec(black_box(&value)))),
                ),
            ),
            (
                "validate: Value+validate() vs Value",
                side_by_side(
                    rounds,
                    budget,
                    bytes.len(),
                    || {
                        let v: Value = serde_json::from_slice(black_box(bytes)).expect("parses");
                        drop(black_box(idmefv2::validate(&v)));
                    },
                    || drop(black_box(serde_json::from_slice::<Value>(black_box(bytes)))),
                ),
            ),
        ];
        for (what, r) in rows {
            if tsv {
                let op = what.split(':').next().unwrap_or(what);
                println!(
                    "{name}\t{op}\t{:.0}\t{:.0}\t{:.3}",
                    r.ours_ns, r.baseline_ns, r.ratio
                );
                continue;
            }
            println!(
                "{name:<8} {:>7} {what:<34} {:>8.2} µs {:>8.2} µs {:>6.2}x",
                bytes.len(),
                r.ours_ns / 1e3,
                r.baseline_ns / 1e3,
                r.ratio
            );
        }
    }
}
