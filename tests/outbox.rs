//! The durable outbox from the outside: `idmefv2 send --spool` against
//! `idmefv2 serve` (refusals to the dead-letter file, giving up with the
//! rest kept, draining, a full spool, a TLS failure, a damaged journal),
//! and the library's `Outbox` and `Dedup` against each other.
#![cfg(all(feature = "cli", feature = "server"))]

use std::{fs, process::Output, sync::Arc, time::Duration};

use idmefv2::{
    http::{
        client::Client,
        server::{Dedup, FileSink, Server},
        tls::ServerTls,
    },
    outbox::{DeliveryOptions, Enqueued, Outbox, OutboxOptions},
};
use idmefv2_tools::support::{
    self, cli, faults, fixture, free_port, inproc::InProcess, message, Pki,
};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `idmefv2 send --spool SPOOL` to `port` trusting `ca`, with `extra`
/// options and files, bounded to a minute.
fn send(pki: &Pki, port: u16, ca: &str, extra: &[&str]) -> Output {
    support::run_bounded(
        cli::send_to(pki, port)
            .args(["--ca", &pki.arg(ca), "--spool", &pki.arg("spool")])
            .args(extra),
        None,
        Duration::from_secs(60),
    )
}

#[test]
fn refusals_go_to_the_dead_letter_file_with_the_receivers_reasons() {
    let pki = Pki::new();
    let out = pki.arg("alerts.ndjson");
    let (_serve, port) = cli::serve(&pki, &["--out", &out], false);
    let files = [
        "fixtures/valid/minimal.json",
        "fixtures/invalid/pattern-id-not-uuid.json",
    ];
    let first = send(&pki, port, "ca.pem", &files);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout),
        "fixtures/invalid/pattern-id-not-uuid.json:1: /ID: not a UUID \
         (8-4-4-4-12 hexadecimal digits)\n1 accepted, 1 refused, 0 not delivered\n"
    );
    let dead = fs::read_to_string(pki.path("spool/dead-letter.ndjson")).unwrap();
    assert_eq!(dead.lines().count(), 1);
    let entry: serde_json::Value = serde_json::from_str(dead.trim()).unwrap();
    assert_eq!(entry["status"], 400);
    assert_eq!(entry["violations"][0]["pointer"], "/ID");
    let original = fixture("fixtures/invalid/pattern-id-not-uuid.json");
    assert_eq!(
        entry["body"].as_str().unwrap().as_bytes(),
        original.trim_ascii_end()
    );
    assert_eq!(entry["digest"].as_str().unwrap().len(), 64);
    assert!(entry["refused_at"].as_str().unwrap().ends_with('Z'));

    // The same files again: nothing is sent.
    let again = send(&pki, port, "ca.pem", &files);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stdout),
        "0 accepted, 0 refused, 0 not delivered\n"
    );
    assert!(text(&again.stderr).contains("2 messages skipped"));
    assert_eq!(fs::read_to_string(&out).unwrap().lines().count(), 1);
}

#[test]
fn giving_up_keeps_the_rest_for_a_later_run_that_drains_it() {
    let pki = Pki::new();
    let input = pki.path("input.ndjson");
    let (text_in, ids) = faults::ndjson_input(20);
    fs::write(&input, text_in).unwrap();
    let port = free_port();
    let input_arg = input.to_string_lossy().into_owned();
    let gave_up = send(
        &pki,
        port,
        "ca.pem",
        &["--give-up-after", "1", "--ndjson", &input_arg],
    );
    assert_eq!(gave_up.status.code(), Some(2), "{}", text(&gave_up.stderr));
    assert_eq!(
        text(&gave_up.stdout),
        "0 accepted, 0 refused, 20 not delivered\n"
    );
    let stderr = text(&gave_up.stderr);
    assert!(
        stderr.contains("20 messages still pending in")
            && stderr.contains("gave up after 1 s without an acknowledgement"),
        "{stderr}"
    );

    // A receiver comes; a run without input sends what the spool holds.
    let out = pki.path("alerts.ndjson");
    let _serve = faults::serve_on(&pki, port, &out, &[]);
    let drained = send(&pki, port, "ca.pem", &[]);
    assert_eq!(drained.status.code(), Some(0), "{}", text(&drained.stderr));
    assert!(text(&drained.stderr).contains("20 messages pending in"));
    assert_eq!(
        text(&drained.stdout),
        "20 accepted, 0 refused, 0 not delivered\n"
    );
    let counted = faults::tally(&out, &ids);
    assert_eq!((counted.lost, counted.repeated), (0, 0));
}

#[test]
fn a_full_spool_a_tls_failure_and_a_damaged_journal_stop_with_a_reason() {
    let pki = Pki::new();
    let (text_in, _) = faults::ndjson_input(50);
    let input = pki.path("input.ndjson");
    fs::write(&input, text_in).unwrap();
    let input_arg = input.to_string_lossy().into_owned();

    // Room for a few messages, nobody to deliver to: full, and said so.
    let port = free_port();
    let full = send(
        &pki,
        port,
        "ca.pem",
        &[
            "--spool-max-bytes",
            "3000",
            "--give-up-after",
            "1",
            "--ndjson",
            &input_arg,
        ],
    );
    assert_eq!(full.status.code(), Some(2));
    let stderr = text(&full.stderr);
    assert!(stderr.contains("the spool is full"), "{stderr}");
    assert!(fs::metadata(pki.path("spool/journal")).unwrap().len() <= 3000);

    // A receiver whose certificate the sender does not trust: the run
    // stops at once, the messages stay.
    let (_serve, port) = cli::serve(&pki, &["--out", &pki.arg("alerts.ndjson")], false);
    let started = std::time::Instant::now();
    let tls = send(&pki, port, "other-ca.pem", &[]);
    assert_eq!(tls.status.code(), Some(2));
    assert!(started.elapsed() < Duration::from_secs(20));
    let stderr = text(&tls.stderr);
    assert!(
        stderr.contains("TLS failed") && stderr.contains("still pending"),
        "{stderr}"
    );

    // A byte changed in the middle of the journal: refused, with where.
    let journal = pki.path("spool/journal");
    let mut bytes = fs::read(&journal).unwrap();
    let at = bytes.windows(6).position(|w| w == b"Analyz").unwrap();
    bytes[at] = b'a';
    fs::write(&journal, &bytes).unwrap();
    let damaged = send(&pki, port, "ca.pem", &[]);
    assert_eq!(damaged.status.code(), Some(2));
    let stderr = text(&damaged.stderr);
    assert!(
        stderr.contains("line 2 (byte 17): message 1 does not match its SHA-256 digest"),
        "{stderr}"
    );
    assert_eq!(fs::read(&journal).unwrap(), bytes, "left as it was");
}

#[test]
fn the_library_outbox_delivers_to_a_deduplicating_server() {
    let pki = Pki::new();
    let out = pki.path("alerts.ndjson");
    let (_, first) = message();
    // A message kept before a restart of the receiver.
    fs::write(&out, [first.as_slice(), b"\n{\"ID\": \"torn"].concat()).unwrap();
    let sink = Arc::new(Dedup::new(FileSink::open(&out).unwrap(), 1000));
    assert_eq!(sink.seed_from_ndjson(&out).unwrap(), 1);
    let tls = ServerTls::from_pem(
        &pki.read("server.pem"),
        &pki.read("server.key"),
        &pki.read("ca.pem"),
    )
    .unwrap();
    let server = Server::new(tls).unwrap();
    let receiver = InProcess::start(|listener, stop| server.serve(listener, sink.clone(), stop));
    let port = receiver.port;

    let client = Client::builder(format!("https://localhost:{port}/"))
        .identity_pem(&pki.read("client.pem"), &pki.read("client.key"))
        .ca_pem(&pki.read("ca.pem"))
        .build()
        .unwrap();
    let spool = pki.path("lib-spool");
    let (outbox, _) = Outbox::open(&spool, OutboxOptions::default()).unwrap();
    let (_, second) = message();
    let queued = outbox
        .enqueue_all([first.clone(), second.clone(), second.clone()])
        .unwrap();
    assert!(matches!(queued[2], Enqueued::AlreadyPending(_)));
    let report = receiver
        .runtime
        .block_on(outbox.deliver(&client, &DeliveryOptions::default()))
        .unwrap();
    assert_eq!((report.delivered, report.pending), (2, 0));
    // The first was kept before: acknowledged, not written again.
    assert_eq!(sink.repeats(), 1);
    receiver.stop();
    let stored = fs::read_to_string(&out).unwrap();
    assert_eq!(stored.lines().count(), 3, "{stored}");
    assert!(stored.ends_with(&format!("{}\n", text(&second))));
}
