//! Fault injection: `idmefv2 send --spool` delivering to `idmefv2 serve`
//! (or the library's server) over real mutual TLS on loopback while the
//! receiver is killed, the sender is killed, the receiver answers 503, or
//! nothing listens. In each case every message must end up in the
//! receiver's file; repeats are counted and printed, one line per
//! scenario (`cargo test --all-features --test faults -- --nocapture`).
#![cfg(all(feature = "cli", feature = "server"))]

use std::{
    fs,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use idmefv2::http::{
    server::{FileSink, Received, Server, Sink, SinkError},
    tls::ServerTls,
};
use idmefv2_tools::support::{
    faults::{report, serve_on, wait_for_lines, Scenario},
    free_port,
    inproc::InProcess,
};

/// The longest any sender run may take here.
const RUN_LIMIT: Duration = Duration::from_secs(90);

#[test]
fn a_receiver_killed_twice_mid_run_loses_nothing_and_dedup_drops_the_repeats() {
    let started = Instant::now();
    let case = Scenario::new(10_000);
    let port = free_port();
    let mut server = serve_on(&case.pki, port, &case.out, &["--dedup"]);
    let mut sender = case.sender(port, true);
    for threshold in [2_500, 6_000] {
        wait_for_lines(&case.out, threshold, RUN_LIMIT);
        server.kill();
        std::thread::sleep(Duration::from_millis(300));
        server = serve_on(&case.pki, port, &case.out, &["--dedup"]);
    }
    let code = sender.wait_for(RUN_LIMIT).code();
    let (log, output) = case.sender_log();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(output, "10000 accepted, 0 refused, 0 not delivered\n");
    // The sender saw the receiver go away.
    assert!(log.contains("sending again in"), "{log}");
    let counted = case.tally();
    report("(a) receiver SIGKILLed twice", &counted, started.elapsed());
    assert_eq!(counted.lost, 0, "{counted:?}");
    assert_eq!(counted.stored, 10_000);
    // The window is filled from the file at each start: what was kept
    // before a kill and sent again after it is not written twice.
    assert_eq!(counted.repeated, 0, "{counted:?}");
    // A clean stop of the last receiver says how many repeats it dropped
    // (those sent again after the second kill).
    drop(server);
    let server_log = fs::read_to_string(case.out.with_extension("log")).unwrap();
    assert_eq!(
        server_log.matches("dropping repeats of the last").count(),
        3,
        "{server_log}"
    );
    let dropped = server_log
        .lines()
        .find_map(|l| {
            l.split(", ")
                .find(|part| part.ends_with("repeats acknowledged and dropped"))
        })
        .unwrap_or_else(|| panic!("no stop line: {server_log}"));
    eprintln!("          (after the second restart: {dropped})");
}

#[test]
fn a_sender_killed_mid_run_resumes_from_its_journal() {
    let started = Instant::now();
    let case = Scenario::new(4_000);
    let port = free_port();
    let _server = serve_on(&case.pki, port, &case.out, &[]);

    let mut sender = case.sender(port, true);
    wait_for_lines(&case.out, 1_500, RUN_LIMIT);
    sender.kill();
    let before = case.tally().stored;
    assert!(before < 4_000, "killed too late: {before} stored");

    // The same input again: what the journal shows delivered is skipped,
    // the rest (journaled or not yet read) is sent.
    let mut again = case.sender(port, true);
    let code = again.wait_for(RUN_LIMIT).code();
    let (log, _) = case.sender_log();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("messages skipped: the spool shows them delivered"),
        "{log}"
    );
    let counted = case.tally();
    report(
        "(b) sender SIGKILLed and restarted",
        &counted,
        started.elapsed(),
    );
    assert_eq!(counted.lost, 0, "{counted:?}");
    // Only what was in flight when the sender died (16 at most) can come
    // twice: marks are written as each answer comes.
    assert!(counted.repeated <= 16, "{counted:?}");

    // Nothing pending any more: a run with no input sends nothing.
    let mut drain = case.sender(port, false);
    assert_eq!(drain.wait_for(RUN_LIMIT).code(), Some(0));
    let (_, outputs) = case.sender_log();
    assert!(
        outputs.ends_with("0 accepted, 0 refused, 0 not delivered\n"),
        "{outputs}"
    );
    assert_eq!(case.tally().repeated, counted.repeated);
}

/// A sink that answers 503 (with `Retry-After: 1`) until a moment, then
/// keeps messages in a file.
struct Recovering {
    inner: FileSink,
    until: Instant,
    refused: AtomicU64,
}

impl Sink for Recovering {
    async fn keep(&self, message: Received) -> Result<(), SinkError> {
        if Instant::now() < self.until {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(SinkError::unavailable("warming up", Duration::from_secs(1)));
        }
        self.inner.keep(message).await
    }
}

#[test]
fn a_receiver_answering_503_for_a_while_gets_everything_once_it_recovers() {
    let started = Instant::now();
    let case = Scenario::new(2_000);
    let sink = Arc::new(Recovering {
        inner: FileSink::open(&case.out).unwrap(),
        until: Instant::now() + Duration::from_secs(3),
        refused: AtomicU64::new(0),
    });
    let tls = ServerTls::from_pem(
        &case.pki.read("server.pem"),
        &case.pki.read("server.key"),
        &case.pki.read("ca.pem"),
    )
    .unwrap();
    let server = Server::new(tls).unwrap();
    let receiver = InProcess::start(|listener, stop| server.serve(listener, sink.clone(), stop));
    let port = receiver.port;

    let mut sender = case.sender(port, true);
    let code = sender.wait_for(RUN_LIMIT).code();
    let (log, _) = case.sender_log();
    assert_eq!(code, Some(0), "{log}");
    // The first pause would be 125-250 ms; the receiver asked for 1 s.
    assert!(
        log.contains("receiver unavailable (HTTP 503): {\"error\"")
            && log.contains("(retry after 1 s); sending again in 1.0 s"),
        "{log}"
    );
    // Sending pauses for everyone at each failure, at least 1 s: a few
    // waves of 16 requests in 3 s, not a stream of retries.
    let refused = sink.refused.load(Ordering::Relaxed);
    assert!((1..=80).contains(&refused), "{refused} answers 503");
    receiver.stop();
    let counted = case.tally();
    report(
        "(c) receiver answering 503 for 3 s",
        &counted,
        started.elapsed(),
    );
    eprintln!("          ({refused} requests answered 503)");
    assert_eq!(counted.lost, 0, "{counted:?}");
    assert_eq!(counted.repeated, 0, "a 503 keeps nothing: {counted:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "delivered before the receiver recovered?"
    );
}

#[test]
fn nothing_listening_for_a_while_then_a_receiver_starts() {
    let started = Instant::now();
    let case = Scenario::new(2_000);
    let port = free_port();
    let mut sender = case.sender(port, true);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        sender.child().try_wait().unwrap().is_none(),
        "the sender gave up while nothing listened"
    );
    let _server = serve_on(&case.pki, port, &case.out, &[]);
    let code = sender.wait_for(RUN_LIMIT).code();
    let (log, _) = case.sender_log();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("connection failed"), "{log}");
    let counted = case.tally();
    report("(d) nothing listening for 3 s", &counted, started.elapsed());
    assert_eq!(counted.lost, 0, "{counted:?}");
    assert_eq!(counted.repeated, 0, "{counted:?}");
}
