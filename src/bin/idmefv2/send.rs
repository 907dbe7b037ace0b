//! `idmefv2 send`: post messages to an IDMEFv2 receiver over HTTPS.

use std::{
    io::{self, IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use clap::Args;
use idmefv2::http::{
    client::{Client, SendError},
    tls::Pin,
};

use crate::{
    check::Failure,
    serve::{parse_pin, read_option},
    split::{Body, Splitter},
};

pub const EXAMPLES: &str = "\
Examples:
  idmefv2 send --url https://siem.example.org:4690/ --cert sensor.pem \\
      --key sensor.key --ca ca.pem alert.json
  some-sensor | idmefv2 send --url https://siem.example.org:4690/ \\
      --cert sensor.pem --key sensor.key --ca ca.pem --ndjson -

Each message is sent as it is, as its own POST with Content-Type
application/json (any draft: the receiver judges). Up to --concurrency
requests are in flight at once, multiplexed over HTTP/2 when the receiver
offers it, over several HTTP/1.1 connections otherwise.

The receiver is trusted through --ca (its certificate must chain to it and
name the URL's host, without wildcard), through --pin (the SHA-256 of its
certificate's DER encoding in hex, colons allowed, as `openssl x509 -noout
-fingerprint -sha256` prints it), or both. Only TLS 1.3 is spoken.

For each refused message the receiver's reasons are printed, one line each,
SOURCE:LINE: POINTER: REASON (or SOURCE:LINE: HTTP STATUS: BODY when the
receiver gives no list), then \"N accepted, M refused, K not delivered\".
A 5xx answer, a timeout or a lost connection is tried twice more (after
the receiver's Retry-After, at most 10 s). A progress line is shown on a
terminal.

Exit status: 0 all accepted, 1 some refused (4xx), 2 a usage, TLS or
connection failure, or a 5xx that persisted.";

/// Options of `idmefv2 send`.
#[derive(Args)]
pub struct SendArgs {
    /// The receiver's URL (https://HOST:PORT/PATH).
    #[arg(long, value_name = "URL")]
    url: String,
    /// The client's certificate chain, PEM (leaf first).
    #[arg(long, value_name = "PEM", requires = "key")]
    cert: Option<PathBuf>,
    /// The client's private key, PEM.
    #[arg(long, value_name = "PEM", requires = "cert")]
    key: Option<PathBuf>,
    /// CA bundle the receiver's certificate must chain to, PEM.
    #[arg(long, value_name = "PEM", required_unless_present = "pin")]
    ca: Option<PathBuf>,
    /// Accept only a receiver certificate with this SHA-256 fingerprint
    /// (repeatable).
    #[arg(long, value_name = "SHA256", value_parser = parse_pin)]
    pin: Vec<Pin>,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// One message per non-empty line.
    #[arg(long)]
    ndjson: bool,
    /// Files holding one or more messages; none or `-` reads standard
    /// input.
    paths: Vec<PathBuf>,
}

/// How many tries a transiently failed message gets.
const ATTEMPTS: u32 = 3;
/// The longest wait between two tries.
const MAX_WAIT: Duration = Duration::from_secs(10);
/// The largest message read from the input; the receiver has its own limit.
const MAX_INPUT_BYTES: usize = 64 << 20;

/// Counts, and the output they go with.
#[derive(Default)]
struct Tally {
    accepted: AtomicUsize,
    refused: AtomicUsize,
    undelivered: AtomicUsize,
    read: AtomicUsize,
    /// A failure that makes sending the rest pointless (TLS, input).
    fatal: AtomicBool,
    /// Whether a progress line is on the terminal.
    progress_shown: AtomicBool,
    output: Mutex<()>,
}

impl Tally {
    fn done(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
            + self.refused.load(Ordering::Relaxed)
            + self.undelivered.load(Ordering::Relaxed)
    }

    /// Prints `text` on stdout (or stderr), clearing the progress line
    /// first.
    fn print(&self, text: &str, to_stderr: bool) {
        let _guard = self.output.lock().unwrap_or_else(|e| e.into_inner());
        if self.progress_shown.swap(false, Ordering::Relaxed) {
            let _ = write!(io::stderr(), "\r\x1b[K");
        }
        if to_stderr {
            let _ = io::stderr().write_all(text.as_bytes());
        } else {
            let _ = io::stdout().lock().write_all(text.as_bytes());
        }
    }

    fn show_progress(&self) {
        let _guard = self.output.lock().unwrap_or_else(|e| e.into_inner());
        let _ = write!(
            io::stderr(),
            "\r\x1b[K{} sent of {} read: {} accepted, {} refused, {} not delivered",
            self.done(),
            self.read.load(Ordering::Relaxed),
            self.accepted.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
            self.undelivered.load(Ordering::Relaxed),
        );
        self.progress_shown.store(true, Ordering::Relaxed);
    }
}

fn fail(reason: impl std::fmt::Display) -> ExitCode {
    eprintln!("idmefv2 send: {reason}");
    ExitCode::from(2)
}

fn client(args: &SendArgs) -> Result<Client, String> {
    let mut builder = Client::builder(args.url.clone());
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        builder = builder.identity_pem(&read_option("--cert", cert)?, &read_option("--key", key)?);
    }
    if let Some(ca) = &args.ca {
        builder = builder.ca_pem(&read_option("--ca", ca)?);
    }
    for pin in &args.pin {
        builder = builder.pin(*pin);
    }
    builder.build().map_err(|e| e.to_string())
}

/// One message read from the input.
struct Item {
    source: Arc<str>,
    line: usize,
    body: Body,
}

pub fn send(args: SendArgs) -> ExitCode {
    let client = match client(&args) {
        Ok(client) => client,
        Err(reason) => return fail(reason),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    let tally = Arc::new(Tally::default());
    let concurrency = usize::from(args.concurrency);
    let (items, mut incoming) = tokio::sync::mpsc::channel::<Item>(concurrency);

    // The input is read on a thread of its own (files and pipes block).
    let reader = {
        let tally = tally.clone();
        let paths = args.paths.clone();
        let framing = crate::framing(args.ndjson);
        std::thread::spawn(move || {
            for path in crate::sources(&paths) {
                let source: Arc<str> = crate::name(path).into();
                let mut splitter = match crate::open(path) {
                    Ok(reader) => Splitter::new(reader, framing, MAX_INPUT_BYTES),
                    Err(e) => {
                        tally.print(&format!("idmefv2 send: {source}: {e}\n"), true);
                        tally.fatal.store(true, Ordering::Relaxed);
                        continue;
                    }
                };
                loop {
                    if tally.fatal.load(Ordering::Relaxed) {
                        return;
                    }
                    match splitter.next_item() {
                        Ok(Some(item)) => {
                            tally.read.fetch_add(1, Ordering::Relaxed);
                            let item = Item {
                                source: source.clone(),
                                line: item.line,
                                body: item.body,
                            };
                            if items.blocking_send(item).is_err() {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tally.print(&format!("idmefv2 send: {source}: {e}\n"), true);
                            tally.fatal.store(true, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }
        })
    };

    runtime.block_on(async {
        let progress = io::stderr().is_terminal().then(|| {
            let tally = tally.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    tally.show_progress();
                }
            })
        });
        let slots = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        while let Some(item) = incoming.recv().await {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let client = client.clone();
            let tally = tally.clone();
            tasks.spawn(async move {
                deliver(&client, item, &tally).await;
                drop(slot);
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
        if let Some(progress) = progress {
            progress.abort();
        }
    });
    let _ = reader.join();

    let (accepted, refused, undelivered) = (
        tally.accepted.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        tally.undelivered.load(Ordering::Relaxed),
    );
    tally.print(
        &format!("{accepted} accepted, {refused} refused, {undelivered} not delivered\n"),
        false,
    );
    if tally.fatal.load(Ordering::Relaxed) || undelivered > 0 {
        ExitCode::from(2)
    } else if refused > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Sends one message, trying again after transient failures, and reports.
async fn deliver(client: &Client, item: Item, tally: &Tally) {
    let Item { source, line, body } = item;
    let body = match body {
        Body::Bytes(bytes) => bytes::Bytes::from(bytes),
        Body::TooLarge { size, .. } => {
            tally.undelivered.fetch_add(1, Ordering::Relaxed);
            tally.print(
                &format!(
                    "{source}:{line}: (message): {size} bytes, more than the {MAX_INPUT_BYTES} \
                     this tool reads; not sent\n"
                ),
                false,
            );
            return;
        }
    };
    let mut attempt = 1;
    let outcome = loop {
        if tally.fatal.load(Ordering::Relaxed) {
            tally.undelivered.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let outcome = client.send_bytes(body.clone(), "application/json").await;
        match &outcome {
            Err(e)
                if !e.is_permanent()
                    && !matches!(e, SendError::Tls { .. })
                    && attempt < ATTEMPTS =>
            {
                let wait = e
                    .retry_after()
                    .unwrap_or(Duration::from_millis(500) * attempt)
                    .min(MAX_WAIT);
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            _ => break outcome,
        }
    };
    match outcome {
        Ok(()) => {
            tally.accepted.fetch_add(1, Ordering::Relaxed);
        }
        Err(SendError::Refused {
            status,
            violations,
            body,
            ..
        }) => {
            tally.refused.fetch_add(1, Ordering::Relaxed);
            let mut text = Vec::new();
            if violations.is_empty() {
                let _ = writeln!(text, "{source}:{line}: HTTP {status}: {body}");
            } else {
                let failure = Failure::from_violations(violations);
                let _ = failure.write_text(&mut text, &source, line);
            }
            tally.print(&String::from_utf8_lossy(&text), false);
        }
        Err(e) => {
            tally.undelivered.fetch_add(1, Ordering::Relaxed);
            if matches!(e, SendError::Tls { .. }) {
                // Every other message would fail the same way.
                if !tally.fatal.swap(true, Ordering::Relaxed) {
                    tally.print(&format!("idmefv2 send: {e}\n"), true);
                }
            } else {
                tally.print(&format!("{source}:{line}: not delivered: {e}\n"), false);
            }
        }
    }
}
