//! `idmefv2 send`: post messages to an IDMEFv2 receiver over HTTPS.

use std::{
    collections::HashMap,
    io::{self, IsTerminal, Write},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc, Arc, Mutex,
    },
    time::Duration,
};

use clap::Args;
use idmefv2::http::{
    client::{Client, SendError},
    outbox::{DeliveryOptions, Enqueued, Event, Key, Outbox, OutboxError, OutboxOptions},
    tls::Pin,
};

use crate::{
    check::Failure,
    serve::{parse_pin, read_option, runtime},
    split::{Body, Splitter},
};

pub const EXAMPLES: &str = "\
Examples:
  idmefv2 send --url https://siem.example.org:4690/ --cert sensor.pem \\
      --key sensor.key --ca ca.pem alert.json
  some-sensor | idmefv2 send --url https://siem.example.org:4690/ \\
      --cert sensor.pem --key sensor.key --ca ca.pem --ndjson -
  some-sensor | idmefv2 send --domain example.org --spool /var/spool/idmefv2 \\
      --cert sensor.pem --key sensor.key --ca ca.pem --ndjson -
  idmefv2 send --domain example.org --spool /var/spool/idmefv2 \\
      --cert sensor.pem --key sensor.key --ca ca.pem

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
Without --spool, a 5xx answer, a timeout or a lost connection is tried
twice more (after the receiver's Retry-After, at most 10 s), and a message
still not delivered then is reported and dropped. A progress line is shown
on a terminal.

--domain finds the receivers in DNS (the SRV records _idmef._tcp.DOMAIN):
lowest priority first, weighted random within a priority, the next target
when one cannot be reached; no parent domain is tried. The certificate of
the target must name the target host (DNS-ID) or carry the SRV-ID
_idmef.DOMAIN. --dns-server asks that nameserver (and only it) instead of
the system's.

With --spool DIR, every message is first written to the journal in DIR
and synced to disk, then sent; a message leaves the journal when the
receiver answers 2xx, or moves to DIR/dead-letter.ndjson with the
receiver's reasons on a 4xx. Transient failures (5xx, 408, 429, no
connection, a timeout) pause all sending, from 250 ms doubling up to 30 s,
with jitter, never less than the receiver's Retry-After, and sending goes
on until every message is delivered or nothing was acknowledged for
--give-up-after seconds; what is left stays in DIR for the next run. A
TLS failure ends sending at once (the messages stay in DIR). Either way
the input is still read to its end into DIR, so that nothing given to the
sender is lost. Killed at any point, the next run resumes from the
journal: with no FILE it only sends what DIR holds; given the same input
again, it skips what the journal shows delivered (by message ID and
SHA-256 of the bytes, for the last 100,000 delivered). The journal is kept
under --spool-max-bytes; when full, reading waits for deliveries to make
room, and stops with an error when none can.

An input without any message is reported as \"no message found\".

Exit status: 0 all accepted, 1 some refused (4xx) or an input without any
message, 2 a usage, TLS or
connection failure, a 5xx that persisted, or (with --spool) messages left
pending in the spool.";

/// Options of `idmefv2 send`.
#[derive(Args)]
pub struct SendArgs {
    /// The receiver's URL (https://HOST:PORT/PATH).
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "domain",
        conflicts_with = "domain"
    )]
    url: Option<String>,
    /// Find the receivers of DOMAIN by its DNS SRV records
    /// (_idmef._tcp.DOMAIN).
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
    /// The nameserver to ask for --domain (ADDR:PORT), instead of the
    /// system's.
    #[arg(long = "dns-server", value_name = "ADDR:PORT", requires = "domain")]
    dns_server: Option<SocketAddr>,
    /// Keep every message in a journal in DIR until it is delivered.
    #[arg(long, value_name = "DIR")]
    spool: Option<PathBuf>,
    /// With --spool: stop when nothing was acknowledged for SECS seconds
    /// (the rest stays in the spool).
    #[arg(
        long = "give-up-after",
        value_name = "SECS",
        default_value_t = 300,
        requires = "spool"
    )]
    give_up_after: u64,
    /// With --spool: the most bytes the journal may take.
    #[arg(long = "spool-max-bytes", value_name = "N", default_value_t = 256 << 20, requires = "spool")]
    spool_max_bytes: u64,
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
    /// Largest message read from the input, in bytes; a longer one is
    /// reported and not sent (the receiver has its own limit).
    #[arg(long, value_name = "BYTES", default_value_t = MAX_INPUT_BYTES,
          value_parser = crate::parse_max_bytes)]
    max_bytes: usize,
    #[command(flatten)]
    where_: crate::filter::Where,
    /// Files holding one or more messages; `-` reads standard input, and
    /// so does no FILE at all, except with --spool, where no FILE only
    /// sends what the spool holds.
    paths: Vec<PathBuf>,
}

/// How many tries a transiently failed message gets.
const ATTEMPTS: u32 = 3;
/// The longest wait between two tries.
const MAX_WAIT: Duration = Duration::from_secs(10);
/// The default of `--max-bytes`: the largest message read from the input.
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
    /// Whether an input held no message at all.
    empty: AtomicBool,
    /// `--max-bytes`, for the reports of messages over it.
    max_bytes: usize,
    /// Whether a progress line is on the terminal.
    progress_shown: AtomicBool,
    output: Mutex<()>,
}

impl Tally {
    fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            ..Self::default()
        }
    }

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

    /// Counts and reports a message too large to read, so not sent.
    fn too_large(&self, source: &str, line: usize, size: usize) {
        self.undelivered.fetch_add(1, Ordering::Relaxed);
        self.print(
            &format!(
                "{source}:{line}: (message): {size} bytes, more than the {} \
                 this tool reads (--max-bytes); not sent\n",
                self.max_bytes
            ),
            false,
        );
    }

    /// The exit status: 2 after a fatal failure or with `undelivered`
    /// messages, 1 when some were refused, else 0.
    fn exit_code(&self, undelivered: usize) -> ExitCode {
        if self.fatal.load(Ordering::Relaxed) || undelivered > 0 {
            ExitCode::from(2)
        } else if self.refused.load(Ordering::Relaxed) > 0 || self.empty.load(Ordering::Relaxed) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
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

/// A progress line on stderr every 250 ms, when it is a terminal.
fn spawn_progress(tally: &Arc<Tally>) -> Option<tokio::task::JoinHandle<()>> {
    io::stderr().is_terminal().then(|| {
        let tally = tally.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            tick.tick().await;
            loop {
                tick.tick().await;
                tally.show_progress();
            }
        })
    })
}

fn fail(reason: impl std::fmt::Display) -> ExitCode {
    eprintln!("idmefv2 send: {reason}");
    ExitCode::from(2)
}

fn client(args: &SendArgs) -> Result<Client, String> {
    let mut builder = match (&args.url, &args.domain) {
        (Some(url), _) => Client::builder(url.clone()),
        (None, Some(domain)) => Client::discover(domain.clone()),
        (None, None) => return Err("--url or --domain is required".into()),
    };
    if let Some(server) = args.dns_server {
        builder = builder.dns_server(server);
    }
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
    let (client, runtime) = match client(&args).and_then(|client| Ok((client, runtime()?))) {
        Ok(started) => started,
        Err(reason) => return fail(reason),
    };
    if let Some(dir) = &args.spool {
        return send_spooled(&args, client, &runtime, dir);
    }
    let tally = Arc::new(Tally::new(args.max_bytes));
    let concurrency = usize::from(args.concurrency);
    let (items, mut incoming) = tokio::sync::mpsc::channel::<Item>(concurrency);

    // The input is read on a thread of its own (files and pipes block).
    let reader = spawn_reader(&args, tally.clone(), move |item| {
        items.blocking_send(item).is_ok()
    });

    runtime.block_on(async {
        let progress = spawn_progress(&tally);
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
    tally.exit_code(undelivered)
}

/// Sends one message, trying again after transient failures, and reports.
async fn deliver(client: &Client, item: Item, tally: &Tally) {
    let Item { source, line, body } = item;
    let body = match body {
        Body::Bytes(bytes) => bytes::Bytes::from(bytes),
        Body::TooLarge { size, .. } => {
            tally.too_large(&source, line, size);
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
        Err(error) if error.is_permanent() => {
            tally.refused.fetch_add(1, Ordering::Relaxed);
            print_refusal(tally, &source, line, &error);
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

/// How many messages one journal write (and sync) takes at most.
const ENQUEUE_BATCH: usize = 512;

/// Where each message of this run came from, for its refusal line.
type Origins = Arc<Mutex<HashMap<Key, (Arc<str>, usize)>>>;

/// `idmefv2 send --spool DIR`: through the durable outbox.
fn send_spooled(
    args: &SendArgs,
    client: Client,
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
) -> ExitCode {
    let options = OutboxOptions::default().max_bytes(args.spool_max_bytes);
    let (outbox, recovery) = match Outbox::open(dir, options) {
        Ok(opened) => opened,
        Err(e) => return fail(e),
    };
    if let Some(torn) = recovery.torn_tail() {
        eprintln!("idmefv2 send: {torn}");
    }
    if recovery.pending() > 0 {
        eprintln!(
            "idmefv2 send: {} messages pending in {} from an earlier run",
            recovery.pending(),
            dir.display()
        );
    }
    let tally = Arc::new(Tally::new(args.max_bytes));
    let skipped = Arc::new(AtomicUsize::new(0));
    let origins: Origins = Arc::default();
    // Set once delivery has ended: a full spool can no longer drain.
    let ended = Arc::new(AtomicBool::new(false));

    let enqueuer = (!args.paths.is_empty()).then(|| {
        let (items, incoming) = mpsc::sync_channel::<Item>(ENQUEUE_BATCH * 2);
        spawn_reader(args, tally.clone(), move |item| items.send(item).is_ok());
        let hold = outbox.hold_open();
        let (outbox, tally, skipped, origins, ended) = (
            outbox.clone(),
            tally.clone(),
            skipped.clone(),
            origins.clone(),
            ended.clone(),
        );
        std::thread::spawn(move || {
            enqueue_items(&outbox, &incoming, &tally, &skipped, &origins, &ended);
            drop(hold);
        })
    });

    let delivery = DeliveryOptions::default()
        .concurrency(usize::from(args.concurrency))
        .give_up_after(Some(Duration::from_secs(args.give_up_after)));
    let outcome = runtime.block_on(async {
        let progress = spawn_progress(&tally);
        let report = outbox
            .deliver_with(&client, &delivery, |event| {
                observe(event, &tally, &origins);
            })
            .await;
        if let Some(progress) = progress {
            progress.abort();
        }
        report
    });
    ended.store(true, Ordering::Relaxed);
    if let Some(enqueuer) = enqueuer {
        let _ = enqueuer.join();
    }
    let report = match outcome {
        Ok(report) => report,
        Err(e) => {
            tally.print(&format!("idmefv2 send: {e}\n"), true);
            tally.fatal.store(true, Ordering::Relaxed);
            Default::default()
        }
    };
    let pending = outbox.pending();
    let (accepted, refused, too_large) = (
        tally.accepted.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        tally.undelivered.load(Ordering::Relaxed),
    );
    let skipped = skipped.load(Ordering::Relaxed);
    if skipped > 0 {
        tally.print(
            &format!(
                "idmefv2 send: {skipped} messages skipped: the spool shows them delivered or \
                 refused already\n"
            ),
            true,
        );
    }
    if pending > 0 {
        let why = report
            .stopped
            .as_ref()
            .map_or_else(String::new, |stop| format!(" ({stop})"));
        tally.print(
            &format!(
                "idmefv2 send: {pending} messages still pending in {}{why}; running \
                 `idmefv2 send --spool {}` again sends them\n",
                dir.display(),
                dir.display()
            ),
            true,
        );
    }
    tally.print(
        &format!(
            "{accepted} accepted, {refused} refused, {} not delivered\n",
            pending + too_large
        ),
        false,
    );
    tally.exit_code(pending + too_large)
}

/// Reads the inputs on a thread of its own, one message at a time, handing
/// each to `push` until it returns `false` or a fatal failure is noted.
fn spawn_reader(
    args: &SendArgs,
    tally: Arc<Tally>,
    mut push: impl FnMut(Item) -> bool + Send + 'static,
) -> std::thread::JoinHandle<()> {
    let paths = args.paths.clone();
    let where_ = crate::filter::Where {
        criteria: args.where_.criteria.clone(),
    };
    let framing = crate::framing(args.ndjson);
    let max_bytes = args.max_bytes;
    std::thread::spawn(move || {
        for path in crate::sources(&paths) {
            let source: Arc<str> = crate::name(path).into();
            if let Some(notice) = crate::terminal_notice(path) {
                tally.print(&format!("idmefv2 send: {notice}\n"), true);
            }
            let mut found = 0usize;
            let mut splitter = match crate::open(path) {
                Ok(reader) => Splitter::new(reader, framing, max_bytes),
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
                        found += 1;
                        tally.read.fetch_add(1, Ordering::Relaxed);
                        if matches!(&item.body, Body::Bytes(b) if !where_.admits(b)) {
                            continue;
                        }
                        let item = Item {
                            source: source.clone(),
                            line: item.line,
                            body: item.body,
                        };
                        if !push(item) {
                            return;
                        }
                    }
                    Ok(None) => {
                        if found == 0 {
                            tally.print(
                                &format!("idmefv2 send: {source}: no message found\n"),
                                true,
                            );
                            tally.empty.store(true, Ordering::Relaxed);
                        }
                        break;
                    }
                    Err(e) => {
                        tally.print(&format!("idmefv2 send: {source}: {e}\n"), true);
                        tally.fatal.store(true, Ordering::Relaxed);
                        break;
                    }
                }
            }
        }
        if let Some(line) = where_.summary("not sent") {
            tally.print(&format!("idmefv2 send: {line}\n"), true);
        }
    })
}

/// Writes what the reader gives to the journal, as many messages per sync
/// as are waiting (up to [`ENQUEUE_BATCH`]), until the input ends. Input
/// is read to its end even after delivery stopped, so that nothing handed
/// to the sender is lost: it waits in the spool for the next run. Only a
/// full spool with nothing left to deliver stops it.
fn enqueue_items(
    outbox: &Outbox,
    incoming: &mpsc::Receiver<Item>,
    tally: &Tally,
    skipped: &AtomicUsize,
    origins: &Origins,
    ended: &AtomicBool,
) {
    loop {
        let Ok(first) = incoming.recv() else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < ENQUEUE_BATCH {
            match incoming.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let mut bodies = Vec::with_capacity(batch.len());
        let mut places = Vec::with_capacity(batch.len());
        for Item { source, line, body } in batch {
            match body {
                Body::Bytes(bytes) => {
                    bodies.push(bytes);
                    places.push((source, line));
                }
                Body::TooLarge { size, .. } => tally.too_large(&source, line, size),
            }
        }
        // All in one sync; when they do not fit together, one by one.
        let outcomes = match outbox.enqueue_all(&bodies) {
            Ok(outcomes) => outcomes,
            Err(OutboxError::Full { .. }) => {
                let mut outcomes = Vec::with_capacity(bodies.len());
                for body in &bodies {
                    match enqueue_when_room(outbox, body, ended) {
                        Ok(outcome) => outcomes.push(outcome),
                        Err(e) => {
                            tally.print(&format!("idmefv2 send: {e}\n"), true);
                            tally.fatal.store(true, Ordering::Relaxed);
                            return;
                        }
                    }
                }
                outcomes
            }
            Err(e) => {
                tally.print(&format!("idmefv2 send: {e}\n"), true);
                tally.fatal.store(true, Ordering::Relaxed);
                return;
            }
        };
        let mut known = origins.lock().unwrap_or_else(|e| e.into_inner());
        for (outcome, place) in outcomes.into_iter().zip(places) {
            match outcome {
                Enqueued::AlreadyDelivered(_) | Enqueued::AlreadyRefused(_) => {
                    skipped.fetch_add(1, Ordering::Relaxed);
                }
                other => {
                    known.insert(other.key().clone(), place);
                }
            }
        }
    }
}

/// Enqueues one message, waiting while the spool is full and deliveries
/// may still make room.
fn enqueue_when_room(
    outbox: &Outbox,
    body: &[u8],
    ended: &AtomicBool,
) -> Result<Enqueued, OutboxError> {
    loop {
        match outbox.enqueue(body) {
            Err(OutboxError::Full { .. })
                if outbox.pending() > 0 && !ended.load(Ordering::Relaxed) =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Counts and reports what delivery tells.
fn observe(event: Event<'_>, tally: &Tally, origins: &Origins) {
    let origin = |key: &Key| {
        origins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key)
    };
    match event {
        Event::Delivered { key } => {
            origin(key);
            tally.accepted.fetch_add(1, Ordering::Relaxed);
        }
        Event::Refused { key, error } => {
            tally.refused.fetch_add(1, Ordering::Relaxed);
            let (source, line): (Arc<str>, usize) = origin(key)
                .unwrap_or_else(|| (format!("spool:{}", key.id().unwrap_or("-")).into(), 0));
            print_refusal(tally, &source, line, error);
        }
        Event::Retrying { error, wait } => {
            tally.print(
                &format!(
                    "idmefv2 send: {error}; sending again in {:.1} s\n",
                    wait.as_secs_f64()
                ),
                true,
            );
        }
        _ => {}
    }
}

/// The receiver's reasons for refusing one message, one line each.
fn print_refusal(tally: &Tally, source: &str, line: usize, error: &SendError) {
    let mut text = Vec::new();
    let violations = error.violations();
    if violations.is_empty() {
        let status = error.status().unwrap_or_default();
        let body = match error {
            SendError::Refused { body, .. } => body.as_str(),
            _ => "",
        };
        let _ = writeln!(text, "{source}:{line}: HTTP {status}: {body}");
    } else {
        let failure = Failure::from_violations(violations.to_vec());
        let _ = failure.write_text(&mut text, source, line);
    }
    tally.print(&String::from_utf8_lossy(&text), false);
}
