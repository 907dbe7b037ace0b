//! `_native.Sender`: messages handed to the crate's outbox (in memory, or
//! journaled in a spool folder) and delivered by its HTTPS client from a
//! background runtime; `wait` tells Python what became of them.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use idmefv2::{
    http::client::{Client, SendError},
    outbox::{DeliverError, DeliveryOptions, Enqueued, Event, HoldOpen, Outbox, OutboxOptions},
};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// How often `wait` looks at the outbox (and lets Python handle signals).
const POLL: Duration = Duration::from_millis(10);

/// How long a stopped delivery run waits before it starts again by itself.
const RESTART_AFTER: Duration = Duration::from_secs(30);

/// What the delivery task tells the Python side.
#[derive(Default)]
struct Report {
    /// Messages refused for good, in words, not yet reported by `wait`.
    refused: Vec<String>,
    /// Why the last delivery run stopped (a TLS failure, say), until it
    /// is reported.
    stopped: Option<String>,
    /// The last transient failure, for a message still pending.
    last_failure: Option<String>,
    /// In memory only: no connection to the receiver could be made since
    /// the last delivery. Without a spool that is
    /// a failure `wait` reports at once; the messages are still retried.
    unreachable: bool,
}

struct Shared {
    report: Mutex<Report>,
    /// Wakes the delivery task after a stopped run.
    kick: tokio::sync::Notify,
}

impl Shared {
    fn report(&self) -> std::sync::MutexGuard<'_, Report> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What lives while the sender runs.
struct Running {
    runtime: tokio::runtime::Runtime,
    /// Keeps the delivery run going while the outbox is empty.
    hold: HoldOpen,
}

/// A sender of encoded messages to one receiver, durable with a spool.
#[pyclass(module = "idmefv2_rs._native", frozen)]
pub(crate) struct Sender {
    outbox: Outbox,
    shared: Arc<Shared>,
    running: Mutex<Option<Running>>,
}

#[allow(clippy::too_many_arguments)]
#[pymethods]
impl Sender {
    /// Requests in flight at once unless told otherwise (the crate's
    /// default).
    #[classattr]
    const DEFAULT_CONCURRENCY: usize = idmefv2::outbox::DEFAULT_CONCURRENCY;

    /// Sets up the client and opens the outbox (the spool when given),
    /// then starts delivering: what a spool holds from an earlier process
    /// is sent first.
    #[new]
    #[pyo3(signature = (url, content_type, my_cert, my_key, ca_cert, pins, spool, timeout, concurrency, plaintext))]
    fn new(
        py: Python<'_>,
        url: &str,
        content_type: &str,
        my_cert: Option<Vec<u8>>,
        my_key: Option<Vec<u8>>,
        ca_cert: Option<Vec<u8>>,
        pins: Vec<String>,
        spool: Option<std::path::PathBuf>,
        timeout: f64,
        concurrency: usize,
        plaintext: bool,
    ) -> PyResult<Sender> {
        let mut builder = Client::builder(url).timeout(super::seconds("timeout", timeout)?);
        match (my_cert, my_key) {
            (Some(cert), Some(key)) => builder = builder.identity_pem(&cert, &key),
            (None, None) => {}
            _ => {
                return Err(PyValueError::new_err(
                    "my_cert and my_key go together: the certificate and its private key",
                ))
            }
        }
        if let Some(ca) = ca_cert {
            builder = builder.ca_pem(&ca);
        }
        for pin in super::pins(&pins)? {
            builder = builder.pin(pin);
        }
        if plaintext {
            builder = builder.insecure_plaintext();
        }
        let runtime = super::runtime("idmefv2-send", 1)?;
        // hyper's connection pool needs the runtime while it is built.
        let client = {
            let _entered = runtime.enter();
            builder
                .build()
                .map_err(|e| PyValueError::new_err(e.to_string()))?
        };
        let options = OutboxOptions::default().content_type(content_type);
        let outbox = match spool {
            Some(dir) => {
                let (outbox, recovery) = py
                    .detach(|| Outbox::open(&dir, options))
                    .map_err(|e| PyOSError::new_err(e.to_string()))?;
                if let Some(torn) = recovery.torn_tail() {
                    // A record a crash cut short was never acknowledged to
                    // the caller; say so once, as the CLI does.
                    let warnings = py.import("warnings")?;
                    warnings.call_method1("warn", (torn.to_string(),))?;
                }
                outbox
            }
            None => Outbox::in_memory(options),
        };
        let shared = Arc::new(Shared {
            report: Mutex::new(Report::default()),
            kick: tokio::sync::Notify::new(),
        });
        let hold = outbox.hold_open();
        let delivery = DeliveryOptions::default()
            .concurrency(concurrency.max(1))
            // A started transport keeps trying; `wait` reports what is
            // late.
            .give_up_after(None);
        runtime.spawn(drive(outbox.clone(), client, delivery, shared.clone()));
        Ok(Sender {
            outbox,
            shared,
            running: Mutex::new(Some(Running { runtime, hold })),
        })
    }

    /// Hands one encoded message to the outbox; with a spool, returns once
    /// it is synced to disk. True when taken, False when the outbox holds
    /// it already (same ID and bytes): it is not sent twice.
    fn send(&self, py: Python<'_>, body: &[u8]) -> PyResult<bool> {
        if self.lock_running().is_none() {
            return Err(PyRuntimeError::new_err("the transport is stopped"));
        }
        let outcome = py
            .detach(|| self.outbox.enqueue(body))
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        self.shared.kick.notify_one();
        Ok(matches!(outcome, Enqueued::Queued(_)))
    }

    /// Waits until nothing is pending, at most `timeout` seconds; gives
    /// back every reason a message was not delivered (empty when all was):
    /// refusals, a stopped run, and what is still pending at the end,
    /// which without a spool is as soon as the receiver cannot be
    /// reached.
    fn wait(&self, py: Python<'_>, timeout: f64) -> PyResult<Vec<String>> {
        let limit = super::seconds("timeout", timeout)?;
        self.shared.kick.notify_one();
        let start = Instant::now();
        loop {
            let stopped = py.detach(|| {
                let until = Instant::now() + Duration::from_millis(100);
                loop {
                    let report = self.shared.report();
                    if self.outbox.pending() == 0 || report.stopped.is_some() || report.unreachable
                    {
                        return true;
                    }
                    drop(report);
                    if Instant::now() >= until || start.elapsed() >= limit {
                        return false;
                    }
                    std::thread::sleep(POLL);
                }
            });
            py.check_signals()?;
            if stopped || start.elapsed() >= limit {
                break;
            }
        }
        let mut report = self.shared.report();
        let mut reasons = std::mem::take(&mut report.refused);
        let pending = self.outbox.pending();
        let stopped = report.stopped.take();
        report.unreachable = false;
        if let Some(stopped) = &stopped {
            reasons.push(format!("sending stopped: {stopped}"));
        }
        if pending > 0 {
            let mut text = format!(
                "{pending} message{} not delivered after {:.1} s",
                if pending == 1 { "" } else { "s" },
                start.elapsed().as_secs_f64()
            );
            if let Some(dir) = self.outbox.dir() {
                text.push_str(&format!(" (kept in the spool {})", dir.display()));
            }
            if let Some(last) = &report.last_failure {
                text.push_str(&format!("; last failure: {last}"));
            }
            reasons.push(text);
        }
        drop(report);
        if stopped.is_some() {
            self.shared.kick.notify_one();
        }
        Ok(reasons)
    }

    /// Messages not delivered yet.
    fn pending(&self) -> usize {
        self.outbox.pending()
    }

    /// Stops delivering at once; what is pending stays in the spool (or is
    /// dropped, in memory).
    fn close(&self, py: Python<'_>) {
        let running = self.lock_running().take();
        if let Some(Running { runtime, hold }) = running {
            drop(hold);
            py.detach(|| runtime.shutdown_timeout(Duration::from_secs(2)));
        }
    }
}

impl Drop for Sender {
    /// A sender dropped without `close` (its Python object collected):
    /// the runtime is let go without waiting, since waiting here would
    /// hold the GIL that its threads may need.
    fn drop(&mut self) {
        if let Some(Running { runtime, hold }) = self.lock_running().take() {
            drop(hold);
            runtime.shutdown_background();
        }
    }
}

impl Sender {
    fn lock_running(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs the outbox's delivery for as long as the runtime lives: a run
/// that stops (a TLS failure) is reported and started again at the next
/// message or wait.
async fn drive(outbox: Outbox, client: Client, options: DeliveryOptions, shared: Arc<Shared>) {
    let in_memory = outbox.dir().is_none();
    loop {
        let ended = outbox
            .deliver_with(&client, &options, |event| match event {
                Event::Delivered { .. } => {
                    // A stop that sending again got past lost nothing.
                    let mut report = shared.report();
                    report.last_failure = None;
                    report.stopped = None;
                    report.unreachable = false;
                }
                Event::Refused { key, answers, .. } => {
                    let id = key.id().unwrap_or("(no ID)");
                    shared
                        .report()
                        .refused
                        .push(format!("message {id} refused: {}", answers.join("; ")));
                }
                Event::Retrying { error, .. } => {
                    let mut report = shared.report();
                    report.last_failure = Some(error.to_string());
                    report.unreachable |= in_memory && could_not_connect(error);
                }
                _ => {}
            })
            .await;
        let Err(e) = ended else { return };
        shared.report().stopped = Some(e.to_string());
        // Start again once `wait` has reported the stop and a message or a
        // wait comes, or after a pause in any case.
        let pause = tokio::time::sleep(RESTART_AFTER);
        tokio::pin!(pause);
        loop {
            tokio::select! {
                () = shared.kick.notified() => {
                    if shared.report().stopped.is_none() {
                        break;
                    }
                }
                () = &mut pause => break,
            }
        }
    }
}

/// Whether a failed send never reached the receiver: the connection could
/// not be made (refused, no route, no address). The client says so only in
/// words: hyper-util's connect errors read `client error (Connect)`. A
/// connection lost later (a receiver that refused our certificate may
/// close it before its TLS alert is read) is not one of these: sending
/// again then finds out more.
fn could_not_connect(error: &DeliverError) -> bool {
    match error.cause().downcast_ref::<SendError>() {
        Some(SendError::Connection { reason }) => reason.contains("(Connect)"),
        _ => false,
    }
}
