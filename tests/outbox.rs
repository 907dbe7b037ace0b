//! The delivery engine from the outside: `idmefv2 send --spool` against
//! `idmefv2 serve` (refusals to the dead-letter file, giving up with the
//! rest kept, draining, a full spool, a TLS failure, a damaged journal,
//! the resume hint run as printed, our certificate refused), against a
//! plain-HTTP Python receiver (a poison message answered 500, Basic
//! credentials), the library's `Outbox` and `Dedup` against each other,
//! and a spool delivered to a real nats-server.
#![cfg(all(feature = "cli", feature = "server"))]

use std::{fs, process::Output, sync::Arc, time::Duration};

use idmefv2::{
    http::{
        client::Client,
        server::{Dedup, FileSink, Server},
        tls::ServerTls,
    },
    outbox::{DeliverErrorKind, DeliveryOptions, Enqueued, Outbox, OutboxError, OutboxOptions},
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
    // The receiver's keyword comes through: one JSON shape of a violation.
    assert_eq!(entry["violations"][0]["keyword"], "pattern");
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

/// The messages of `input` (NDJSON) as `send --ndjson` numbers them.
fn lines_of(count: usize) -> (Vec<u8>, Vec<String>) {
    faults::ndjson_input(count)
}

/// `tools/scripts/plain_receiver.py` on a free port: plain HTTP, 500 to
/// bodies holding `poison`, 204 to the rest (kept in `out`), Basic
/// credentials `user` required when given.
fn plain_receiver(
    out: &std::path::Path,
    poison: &str,
    user: Option<&str>,
) -> (support::Guard, u16) {
    let python = support::python::venv();
    let port = free_port();
    let mut command = std::process::Command::new(python);
    command
        .arg(support::python::script("plain_receiver.py"))
        .arg(port.to_string())
        .arg(out)
        .arg(poison);
    if let Some(user) = user {
        command.arg(user);
    }
    let guard = support::Guard::spawn(&mut command);
    support::wait_for_port(port);
    (guard, port)
}

/// `idmefv2 send` to `url`, with `extra` options, input `input`, bounded
/// to a minute; no client certificate, no trust options.
fn send_plain(url: &str, extra: &[&str], input: &[u8], env: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::new(support::binary());
    command
        .args(["send", "--url", url])
        .args(extra)
        .env_remove("IDMEFV2_USER");
    for (name, value) in env {
        command.env(name, value);
    }
    support::run_bounded(&mut command, Some(input), Duration::from_secs(60))
}

#[test]
fn a_message_answered_500_is_dead_lettered_after_max_attempts_and_the_rest_delivered() {
    let pki = Pki::new();
    let (input, ids) = lines_of(10);
    let poison = ids[4].clone();
    let out = pki.path("kept.ndjson");
    let (_receiver, port) = plain_receiver(&out, &poison, None);
    let spool = pki.arg("plain-spool");
    let run = send_plain(
        &format!("http://127.0.0.1:{port}/"),
        &[
            "--insecure-plaintext",
            "--spool",
            &spool,
            "--max-attempts",
            "3",
            "--ndjson",
            "-",
        ],
        &input,
        &[],
    );
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    // One line for the poison message: the status and the HTML page's
    // title, not the page.
    assert_eq!(
        text(&run.stdout),
        "-:5: HTTP 500: 500 Internal Server Error (3 times; given up)\n\
         9 accepted, 1 refused, 0 not delivered\n"
    );
    let kept = fs::read_to_string(&out).unwrap();
    assert_eq!(kept.lines().count(), 9);
    assert!(!kept.contains(&poison));
    // The receiver saw the poison exactly three times.
    let log = fs::read_to_string(out.with_extension("ndjson.log")).unwrap();
    let poisoned = log
        .lines()
        .filter(|l| l.contains("\"poison\": true"))
        .count();
    assert_eq!(poisoned, 3, "{log}");
    let dead = fs::read_to_string(pki.path("plain-spool/dead-letter.ndjson")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(dead.trim()).unwrap();
    assert_eq!(entry["id"], poison.as_str());
    assert_eq!(entry["status"], 500);
    let answers = entry["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 3);
    assert!(answers
        .iter()
        .all(|a| a.as_str().unwrap().contains("500 Internal Server Error")));
    // Without --insecure-plaintext, an http:// URL is refused in words.
    let refused = send_plain(&format!("http://127.0.0.1:{port}/"), &[], &input, &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("give --insecure-plaintext"),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn send_user_passes_basic_credentials_from_the_flag_or_the_environment() {
    let pki = Pki::new();
    let out = pki.path("kept.ndjson");
    let (_receiver, port) = plain_receiver(&out, "no-poison", Some("sensor:s3cret"));
    let url = format!("http://127.0.0.1:{port}/");
    let (_, body) = message();
    let plain = ["--insecure-plaintext"];
    let from_env = send_plain(&url, &plain, &body, &[("IDMEFV2_USER", "sensor:s3cret")]);
    assert_eq!(
        from_env.status.code(),
        Some(0),
        "{}",
        text(&from_env.stderr)
    );
    let (_, body2) = message();
    let from_flag = send_plain(
        &url,
        &["--insecure-plaintext", "--user", "sensor:s3cret"],
        &body2,
        &[],
    );
    assert_eq!(
        from_flag.status.code(),
        Some(0),
        "{}",
        text(&from_flag.stderr)
    );
    assert_eq!(
        text(&from_flag.stdout),
        "1 accepted, 0 refused, 0 not delivered\n"
    );
    // A wrong password, and none at all: the receiver's 401, one line.
    for extra in [&["--user", "sensor:wrong"][..], &[]] {
        let refused = send_plain(&url, &[&plain[..], extra].concat(), &body, &[]);
        assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
        assert_eq!(
            text(&refused.stdout),
            "-:1: HTTP 401: unauthorized\n0 accepted, 1 refused, 0 not delivered\n"
        );
    }
    let kept = fs::read_to_string(&out).unwrap();
    assert_eq!(kept.lines().count(), 2);
    let log = fs::read_to_string(out.with_extension("ndjson.log")).unwrap();
    let users: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["user"].clone())
        .collect();
    assert_eq!(
        users,
        [
            serde_json::json!("sensor"),
            serde_json::json!("sensor"),
            serde_json::json!("sensor"),
            serde_json::Value::Null
        ]
    );
    // A malformed --user is refused before anything is sent.
    let bad = send_plain(
        &url,
        &["--insecure-plaintext", "--user", "nocolon"],
        &body,
        &[],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("USER:PASSWORD"));
}

#[test]
fn send_says_which_flags_are_missing_for_mutual_tls_and_trust() {
    let pki = Pki::new();
    let url = "https://localhost:1/";
    let (_, body) = message();
    let cases: [(&[&str], &str); 3] = [
        (
            &["--cert", &pki.arg("client.pem"), "--ca", &pki.arg("ca.pem")],
            "--cert needs --key",
        ),
        (
            &["--key", &pki.arg("client.key"), "--ca", &pki.arg("ca.pem")],
            "--key needs --cert",
        ),
        (&[], "nothing to trust the receiver by"),
    ];
    for (args, expected) in cases {
        let out = send_plain(url, args, &body, &[]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("required arguments"), "{stderr}");
    }
}

#[test]
fn the_resume_hint_is_a_command_that_works_as_printed() {
    let pki = Pki::new();
    let (input, ids) = lines_of(3);
    fs::write(pki.path("input.ndjson"), &input).unwrap();
    let port = free_port();
    let first = send(
        &pki,
        port,
        "ca.pem",
        &["--give-up-after", "1", "--ndjson", &pki.arg("input.ndjson")],
    );
    assert_eq!(first.status.code(), Some(2));
    let stderr = text(&first.stderr);
    assert!(stderr.contains("3 messages still pending in"), "{stderr}");
    let hint = stderr
        .split("running `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no hint: {stderr}"));
    assert!(hint.starts_with("idmefv2 send "), "{hint}");

    let out = pki.path("alerts.ndjson");
    let _serve = faults::serve_on(&pki, port, &out, &[]);
    let binary = support::binary();
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let again = support::run_bounded(
        std::process::Command::new("sh")
            .args(["-c", hint])
            .env("PATH", path)
            .current_dir(pki.path("")),
        None,
        Duration::from_secs(60),
    );
    assert_eq!(
        again.status.code(),
        Some(0),
        "{hint}: {}",
        text(&again.stderr)
    );
    assert_eq!(
        text(&again.stdout),
        "3 accepted, 0 refused, 0 not delivered\n"
    );
    assert!(text(&again.stderr).contains("3 messages pending in"));
    let counted = faults::tally(&out, &ids);
    assert_eq!((counted.lost, counted.repeated), (0, 0));

    // One message: said in the singular.
    let (one, _) = lines_of(1);
    fs::write(pki.path("one.ndjson"), &one).unwrap();
    let single = send(
        &pki,
        free_port(),
        "ca.pem",
        &["--give-up-after", "1", "--ndjson", &pki.arg("one.ndjson")],
    );
    let stderr = text(&single.stderr);
    assert!(stderr.contains("1 message still pending in"), "{stderr}");
}

/// `idmefv2 serve` on a free port trusting only `other-ca.pem` for client
/// certificates: it refuses ours.
fn serve_refusing_our_certificate(pki: &Pki) -> (support::Guard, u16) {
    let port = free_port();
    let guard = support::Guard::spawn(
        std::process::Command::new(support::binary())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args([
                "--cert",
                &pki.arg("server.pem"),
                "--key",
                &pki.arg("server.key"),
            ])
            .args(["--client-ca", &pki.arg("other-ca.pem")])
            .args(["--out", &pki.arg("refusing.ndjson")])
            .stderr(std::process::Stdio::null()),
    );
    support::wait_for_port(port);
    (guard, port)
}

#[test]
fn a_receiver_refusing_our_client_certificate_stops_the_cli_at_once() {
    let pki = Pki::new();
    let (_serve, port) = serve_refusing_our_certificate(&pki);
    let (input, _) = lines_of(5);
    fs::write(pki.path("input.ndjson"), &input).unwrap();
    // With the spool and the default --give-up-after of minutes: it must
    // stop at the first refusal, never "sending again".
    let spooled = send(
        &pki,
        port,
        "ca.pem",
        &["--ndjson", &pki.arg("input.ndjson")],
    );
    assert_eq!(spooled.status.code(), Some(2));
    let stderr = text(&spooled.stderr);
    assert!(
        stderr.contains("TLS failed") && stderr.contains("refused our client certificate"),
        "{stderr}"
    );
    assert!(!stderr.contains("sending again"), "{stderr}");
    assert!(stderr.contains("5 messages still pending in"), "{stderr}");
    // Without the spool, and without any client certificate.
    let bare = support::run_bounded(
        std::process::Command::new(support::binary())
            .args(["send", "--url", &format!("https://localhost:{port}/")])
            .args([
                "--ca",
                &pki.arg("ca.pem"),
                "--ndjson",
                &pki.arg("input.ndjson"),
            ]),
        None,
        Duration::from_secs(60),
    );
    assert_eq!(bare.status.code(), Some(2));
    let stderr = text(&bare.stderr);
    assert!(
        stderr.contains("TLS failed") && !stderr.contains("sending again"),
        "{stderr}"
    );
    assert!(text(&bare.stdout).ends_with("0 accepted, 0 refused, 5 not delivered\n"));
}

#[test]
fn a_receiver_refusing_our_client_certificate_is_a_library_error() {
    let pki = Pki::new();
    let (_serve, port) = serve_refusing_our_certificate(&pki);
    let client = Client::builder(format!("https://localhost:{port}/"))
        .identity_pem(&pki.read("client.pem"), &pki.read("client.key"))
        .ca_pem(&pki.read("ca.pem"))
        .build()
        .unwrap();
    let outbox = Outbox::in_memory(OutboxOptions::default());
    let (_, body) = message();
    outbox.enqueue(&body).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // Default options: giving up would take minutes; a fatal error ends
    // the run at the first answer.
    let error = runtime
        .block_on(outbox.deliver(&client, &DeliveryOptions::default()))
        .unwrap_err();
    let OutboxError::Stopped {
        error: cause,
        report,
    } = &error
    else {
        panic!("{error}")
    };
    assert_eq!(cause.kind(), DeliverErrorKind::Fatal);
    assert_eq!(error.kind(), idmefv2::outbox::OutboxErrorKind::Stopped);
    assert!(
        error.to_string().contains("refused our client certificate"),
        "{error}"
    );
    assert_eq!((report.delivered, report.pending), (0, 1));
    assert!(std::error::Error::source(&error).is_some());
    assert_eq!(outbox.counts().pending, 1);
}

#[test]
fn a_spool_delivers_through_nats_jetstream_and_dead_letters_an_invalid_alert() {
    use idmefv2::nats::{self, Publisher, StreamSpec};
    let servers = support::nats::Servers::single();
    let pki = Pki::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (outbox, _) = Outbox::open(pki.path("nats-spool"), OutboxOptions::default()).unwrap();
    let (input, ids) = lines_of(20);
    let mut bodies: Vec<&[u8]> = input
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let invalid = br#"{"Version":"2.D.V08","ID":"not-a-uuid"}"#;
    bodies.insert(7, invalid);
    outbox.enqueue_all(&bodies).unwrap();
    let (report, stored) = runtime.block_on(async {
        let client = nats::connect(&servers.url()).await.expect("connect");
        StreamSpec::new("SPOOLED", "spooled.alerts")
            .ensure(&client)
            .await
            .expect("stream");
        let publisher = Publisher::builder(client.clone(), "spooled.alerts")
            .build()
            .expect("publisher");
        let report = outbox
            .deliver(&publisher, &DeliveryOptions::default())
            .await
            .expect("delivered");
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream("SPOOLED").await.expect("stream");
        (report, stream.info().await.expect("info").state.messages)
    });
    assert_eq!(
        (report.delivered, report.refused, report.pending),
        (20, 1, 0)
    );
    assert_eq!(stored, 20);
    assert_eq!(ids.len(), 20);
    let dead = fs::read_to_string(pki.path("nats-spool/dead-letter.ndjson")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(dead.trim()).unwrap();
    assert_eq!(entry["body"].as_str().unwrap().as_bytes(), invalid);
    assert!(entry["violations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["pointer"] == "/ID"));
}

#[test]
fn send_from_rejects_sends_the_body_of_each_record_again() {
    let pki = Pki::new();
    let out = pki.path("kept.ndjson");
    let (_receiver, port) = plain_receiver(&out, "no-poison", None);
    let (_, first) = message();
    let (_, second) = message();
    let record = |body: &[u8]| {
        serde_json::json!({
            "time": "2026-01-01T00:00:00Z",
            "status": 400,
            "body": String::from_utf8(body.to_vec()).unwrap(),
        })
        .to_string()
    };
    let rejects = format!(
        "{}\n{}\n{}\n",
        record(&first),
        r#"{"time":"2026-01-01T00:00:00Z","status":400}"#,
        record(&second)
    );
    let run = send_plain(
        &format!("http://127.0.0.1:{port}/"),
        &["--insecure-plaintext", "--ndjson", "--from-rejects", "-"],
        rejects.as_bytes(),
        &[],
    );
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert_eq!(
        text(&run.stdout),
        "-:2: (message): not a rejects record: no `body` member holding the message as a \
         string; not sent\n2 accepted, 0 refused, 1 not delivered\n"
    );
    // Each body as it was in its record (in either order: two in flight).
    let kept = fs::read(&out).unwrap();
    let mut lines: Vec<&[u8]> = kept
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    let mut expected = [first.as_slice(), second.as_slice()];
    expected.sort();
    assert_eq!(lines, expected);
}
