//! `idmefv2 send`: post messages to an IDMEFv2 receiver over HTTPS (or
//! produce them to a Kafka topic, or publish them into a NATS JetStream
//! stream), through the library's delivery engine (`idmefv2::outbox`): a
//! journal on disk with `--spool`, a queue in memory without; one retry
//! policy either way, whatever carries the messages.

use std::{
    io::{self, IsTerminal, Write},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc, Arc, LazyLock, Mutex,
    },
    time::Duration,
};

use clap::Args;
use idmefv2::{
    http::{
        client::{Client, SendError},
        tls::Pin,
    },
    kafka::{Connection, Producer, Tls},
    nats::Publisher,
    outbox::{
        Deliver, DeliverError, DeliveryOptions, Enqueued, Event, Outbox, OutboxError,
        OutboxOptions, DEFAULT_CONCURRENCY, DEFAULT_FIRST_DELAY, DEFAULT_GIVE_UP_AFTER,
        DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BYTES, DEFAULT_MAX_DELAY, DEFAULT_REMEMBER,
    },
};

use idmefv2::stream::{Body, Splitter};

use crate::{
    check::Failure,
    serve::{parse_pin, read_option, runtime},
};

/// The environment variable `--user` is read from when not given.
pub const USER_ENV: &str = "IDMEFV2_USER";

/// The help text after the options, with the engine's defaults.
pub static EXAMPLES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "\
Examples:
  idmefv2 send --url https://siem.example.org:4690/ --cert sensor.pem \\
      --key sensor.key --ca ca.pem alert.json
  some-sensor | idmefv2 send --url https://siem.example.org:4690/ \\
      --cert sensor.pem --key sensor.key --ca ca.pem --ndjson -
  some-sensor | idmefv2 send --domain example.org --spool /var/spool/idmefv2 \\
      --cert sensor.pem --key sensor.key --ca ca.pem --ndjson -
  idmefv2 send --domain example.org --spool /var/spool/idmefv2 \\
      --cert sensor.pem --key sensor.key --ca ca.pem
  {USER_ENV}=sensor:secret idmefv2 send --url http://10.0.0.5:8080/ \\
      --insecure-plaintext alert.json
  idmefv2 send --url https://siem.example.org:4690/ --ca ca.pem \\
      --ndjson --from-rejects rejects.ndjson
  some-sensor | idmefv2 send --url kafka://127.0.0.1:9092/alerts \\
      --spool /var/spool/idmefv2 --ndjson -

--url kafka://HOST:PORT[,HOST:PORT]/TOPIC produces each message to a
Kafka topic instead (created when missing; idempotent, acks=all; TLS to
the brokers with --ca, --cert and --key, SASL/PLAIN with --user), and
--url nats://HOST:PORT/SUBJECT publishes it into the JetStream stream
{stream}: a message is delivered once the broker or stream acknowledged
it, and the spool, retries and dead letters below are the same.

Each message is sent as it is, as its own POST with Content-Type
application/json (any draft: the receiver judges). Up to --concurrency
requests are in flight at once, multiplexed over HTTP/2 when the receiver
offers it, over several HTTP/1.1 connections otherwise.

The receiver is trusted through --ca (its certificate must chain to it and
name the URL's host, without wildcard), through --pin (the SHA-256 of its
certificate's DER encoding in hex, colons allowed, as `openssl x509 -noout
-fingerprint -sha256` prints it), or both; an https URL needs one of them.
Only TLS 1.3 is spoken. --cert and --key (together) present a client
certificate (mutual TLS); --user USER:PASSWORD (or ${USER_ENV}, which stays
out of the process list) sends HTTP Basic credentials instead or as well.
--insecure-plaintext allows http:// URLs: no TLS at all.

For each refused message the receiver's reasons are printed, one line each,
SOURCE:LINE: POINTER: REASON (or SOURCE:LINE: HTTP STATUS: ANSWER, the
answer cut to one line: an HTML page's title, or the first line), then
\"N accepted, M refused, K not delivered\". A progress line is shown on a
terminal.

Every message goes through one retry policy. A 4xx answer (but 408 and
429) is a refusal: never sent again. A 500 is the receiver failing on that
message: sent again, and given up after --max-attempts such answers (its
answers printed; with --spool, kept in the dead-letter file). Other
failures (502, 503, 504, 408, 429, no connection, a timeout) pause all
sending, from {first} ms doubling up to {max} s, with jitter, never less
than the receiver's Retry-After, and sending goes on until every message
is delivered or nothing was acknowledged for --give-up-after seconds. A
TLS failure (the receiver's certificate not trusted, or ours refused by
the receiver) ends sending at once.

--domain finds the receivers in DNS (the SRV records _idmef._tcp.DOMAIN):
lowest priority first, weighted random within a priority, the next target
when one cannot be reached; no parent domain is tried. The certificate of
the target must name the target host (DNS-ID) or carry the SRV-ID
_idmef.DOMAIN. --dns-server asks that nameserver (and only it) instead of
the system's.

Without --spool, messages wait in memory (at most --spool-max-bytes of
them; reading waits for room), and what is not delivered when sending
stops is reported and dropped. With --spool DIR, every message is first
written to the journal in DIR and synced to disk, then sent; a message
leaves the journal when the receiver answers 2xx, or moves to
DIR/dead-letter.ndjson with the receiver's reasons when refused. What is
not delivered when sending stops stays in DIR for the next run, and the
input is still read to its end into DIR, so that nothing given to the
sender is lost. Killed at any point, the next run resumes from the
journal: with no FILE it only sends what DIR holds; given the same input
again, it skips what the journal shows delivered (by message ID and
SHA-256 of the bytes, for the last {remember} delivered). The journal is
kept under --spool-max-bytes; when full, reading waits for deliveries to
make room, and stops with an error when none can.

--from-rejects reads the file `idmefv2 serve --rejects` writes (with
--ndjson): each line a JSON object whose `body` member holds a refused
message as received, which is sent again.

An input without any message is reported as \"no message found\".

Exit status: 0 all accepted, 1 some refused or an input without any
message, 2 a usage, TLS or connection failure, messages not delivered,
or (with --spool) messages left pending in the spool.",
        first = DEFAULT_FIRST_DELAY.as_millis(),
        max = DEFAULT_MAX_DELAY.as_secs(),
        remember = DEFAULT_REMEMBER,
        stream = idmefv2::nats::DEFAULT_STREAM,
    )
});

/// Options of `idmefv2 send`.
#[derive(Args)]
pub struct SendArgs {
    /// The receiver's URL (https://HOST:PORT/PATH, or http:// with
    /// --insecure-plaintext), or a bus: kafka://HOST:PORT[,HOST:PORT]/TOPIC
    /// (--ca, --cert and --key for TLS to the brokers, --user for
    /// SASL/PLAIN) or nats://HOST:PORT/SUBJECT (into the IDMEFV2 stream).
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
    #[arg(
        long = "give-up-after",
        value_name = "SECS",
        default_value_t = DEFAULT_GIVE_UP_AFTER.as_secs(),
        help = "Stop when nothing was acknowledged for SECS seconds (with --spool, the rest stays in the spool)"
    )]
    give_up_after: u64,
    #[arg(
        long = "max-attempts",
        value_name = "N",
        default_value_t = DEFAULT_MAX_ATTEMPTS,
        value_parser = clap::value_parser!(u32).range(1..),
        help = "Give a message up once the receiver answered 500 to it N times (502, 503, 504, 408, 429 and lost connections are retried until --give-up-after)"
    )]
    max_attempts: u32,
    #[arg(
        long = "spool-max-bytes",
        value_name = "N",
        default_value_t = DEFAULT_MAX_BYTES,
        help = "The most bytes the journal (or, without --spool, the messages waiting in memory) may take"
    )]
    spool_max_bytes: u64,
    /// The client's certificate chain, PEM (leaf first); with --key.
    #[arg(long, value_name = "PEM")]
    cert: Option<PathBuf>,
    /// The client's private key, PEM; with --cert.
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,
    /// CA bundle the receiver's certificate must chain to, PEM.
    #[arg(long, value_name = "PEM")]
    ca: Option<PathBuf>,
    /// Accept only a receiver certificate with this SHA-256 fingerprint
    /// (repeatable).
    #[arg(long, value_name = "SHA256", value_parser = parse_pin)]
    pin: Vec<Pin>,
    /// INSECURE: allow an http:// URL, sending messages and credentials
    /// with no TLS at all (readable and changeable on the way, the
    /// receiver not authenticated).
    #[arg(long = "insecure-plaintext")]
    insecure_plaintext: bool,
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        help = format!("HTTP Basic credentials for the receiver (default: ${USER_ENV}, which keeps the password out of the process list)")
    )]
    user: Option<String>,
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_CONCURRENCY as u16,
        value_parser = clap::value_parser!(u16).range(1..),
        help = "Requests in flight at once"
    )]
    concurrency: u16,
    /// One message per non-empty line.
    #[arg(long)]
    ndjson: bool,
    /// The input is what `idmefv2 serve --rejects` writes: one JSON
    /// object per line, the message to send in its `body` member.
    #[arg(long = "from-rejects", requires = "ndjson")]
    from_rejects: bool,
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

/// The default of `--max-bytes`: the largest message read from the input.
const MAX_INPUT_BYTES: usize = 64 << 20;
/// How many messages one journal write (and sync) takes at most.
const ENQUEUE_BATCH: usize = 512;

/// Where a message came from: the input's name and the line it starts on.
type Origin = (Arc<str>, usize);

/// `count` `thing`s, in good English ("1 message", "2 messages").
fn counted(count: usize, thing: &str) -> String {
    if count == 1 {
        format!("1 {thing}")
    } else {
        format!("{count} {thing}s")
    }
}

/// Counts, and the output they go with.
#[derive(Default)]
struct Tally {
    accepted: AtomicUsize,
    refused: AtomicUsize,
    /// Messages not sent at all (too large, not a rejects record).
    unsent: AtomicUsize,
    read: AtomicUsize,
    skipped: AtomicUsize,
    /// A failure that makes reading on pointless (input, spool).
    fatal: AtomicBool,
    /// Set when reading should stop: the run without spool has ended.
    stop_reading: AtomicBool,
    /// Whether an input held no message at all.
    empty: AtomicBool,
    /// `--max-bytes`, for the reports of messages over it.
    max_bytes: usize,
    /// Whether a progress line is on the terminal.
    progress_shown: AtomicBool,
    output: Mutex<()>,
}

impl Tally {
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

    fn error(&self, text: impl std::fmt::Display) {
        self.print(&format!("idmefv2 send: {text}\n"), true);
    }

    /// Counts and reports a message read but not sent.
    fn unsent(&self, source: &str, line: usize, why: &str) {
        self.unsent.fetch_add(1, Ordering::Relaxed);
        self.print(
            &format!("{source}:{line}: (message): {why}; not sent\n"),
            false,
        );
    }
}

/// A progress line on stderr every 250 ms, when it is a terminal, from
/// the engine's counts.
fn spawn_progress(
    tally: &Arc<Tally>,
    outbox: &Outbox<Origin>,
) -> Option<tokio::task::JoinHandle<()>> {
    io::stderr().is_terminal().then(|| {
        let (tally, outbox) = (tally.clone(), outbox.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            tick.tick().await;
            loop {
                tick.tick().await;
                let counts = outbox.counts();
                let _guard = tally.output.lock().unwrap_or_else(|e| e.into_inner());
                let _ = write!(
                    io::stderr(),
                    "\r\x1b[K{} read: {} accepted, {} refused, {} pending, {} retries",
                    tally.read.load(Ordering::Relaxed),
                    counts.delivered,
                    counts.refused,
                    counts.pending,
                    counts.retries,
                );
                tally.progress_shown.store(true, Ordering::Relaxed);
            }
        })
    })
}

fn fail(reason: impl std::fmt::Display) -> ExitCode {
    eprintln!("idmefv2 send: {reason}");
    ExitCode::from(2)
}

/// The credentials of `--user` or of the environment, split at the first
/// colon as curl does.
fn credentials(args: &SendArgs) -> Result<Option<(String, String)>, String> {
    let given = match &args.user {
        Some(user) => Some(("--user", user.clone())),
        None => std::env::var(USER_ENV).ok().map(|user| (USER_ENV, user)),
    };
    match given {
        None => Ok(None),
        Some((from, text)) => match text.split_once(':') {
            Some((user, password)) if !user.is_empty() => {
                Ok(Some((user.to_string(), password.to_string())))
            }
            _ => Err(format!(
                "{from}: give USER:PASSWORD (a user name, a colon, the password)"
            )),
        },
    }
}

/// A certificate and its key come together (mutual TLS, or TLS to Kafka
/// brokers).
fn check_identity(args: &SendArgs) -> Result<(), String> {
    match (&args.cert, &args.key) {
        (Some(_), None) => {
            return Err(
                "--cert needs --key: mutual TLS presents a certificate together with \
                        its private key"
                    .into(),
            )
        }
        (None, Some(_)) => {
            return Err(
                "--key needs --cert: mutual TLS presents a certificate together with \
                        its private key"
                    .into(),
            )
        }
        _ => {}
    }
    Ok(())
}

/// The usage rules clap cannot say in words: mutual TLS needs both halves,
/// and a receiver reached over TLS must be trusted by something.
fn check_usage(args: &SendArgs) -> Result<(), String> {
    check_identity(args)?;
    let plain = args.url.as_deref().is_some_and(|url| {
        url.get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
    });
    if plain && !args.insecure_plaintext {
        return Err(format!(
            "{}: an http:// URL sends alerts with no TLS at all; give --insecure-plaintext to \
             do so knowingly, or use the receiver's https:// URL",
            args.url.as_deref().unwrap_or_default()
        ));
    }
    if !plain && args.ca.is_none() && args.pin.is_empty() {
        return Err(
            "nothing to trust the receiver by: an https receiver is trusted through --ca (the \
             CA its certificate chains to) or --pin (its certificate's SHA-256), or both"
                .into(),
        );
    }
    Ok(())
}

/// Where `send` delivers: every kind is a deliverer of the one engine.
#[derive(Clone)]
enum Receiver {
    /// An IDMEFv2 receiver over HTTPS (or plain HTTP).
    Http(Client),
    /// A Kafka topic.
    Kafka(Producer),
    /// A subject of a NATS JetStream stream.
    Nats(Publisher),
}

impl Deliver for Receiver {
    async fn deliver(&self, body: &[u8], content_type: &str) -> Result<(), DeliverError> {
        match self {
            Receiver::Http(client) => Deliver::deliver(client, body, content_type).await,
            Receiver::Kafka(producer) => Deliver::deliver(producer, body, content_type).await,
            Receiver::Nats(publisher) => Deliver::deliver(publisher, body, content_type).await,
        }
    }
}

/// For how long a Kafka producer or a NATS publisher sends an alert again
/// by itself before the engine's own retries take over.
const BUS_RETRY: Duration = Duration::from_secs(10);

/// The receiver the arguments name: an HTTPS client, or a producer on a
/// bus (`kafka://`, `nats://`), connected and checked.
fn receiver(args: &SendArgs, runtime: &tokio::runtime::Runtime) -> Result<Receiver, String> {
    let bus = args.url.as_deref().filter(|url| {
        ["kafka://", "nats://"].iter().any(|scheme| {
            url.get(..scheme.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
        })
    });
    let Some(url) = bus else {
        return client(args).map(Receiver::Http);
    };
    check_identity(args)?;
    let https_only = [
        (!args.pin.is_empty(), "--pin"),
        (args.insecure_plaintext, "--insecure-plaintext"),
    ];
    if let Some((_, flag)) = https_only.iter().find(|(given, _)| *given) {
        return Err(format!(
            "{flag} is for https:// and http:// receivers, not {url}"
        ));
    }
    match crate::kafka::plain_target(url)? {
        crate::kafka::Target::Kafka(to) => {
            let mut connection = Connection::new(to.servers());
            if args.ca.is_some() || args.cert.is_some() {
                let mut tls = Tls::new();
                if let Some(ca) = &args.ca {
                    tls = tls.ca(ca);
                }
                if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
                    tls = tls.identity(cert, key);
                }
                connection = connection.tls(tls);
            }
            if let Some((user, password)) = credentials(args)? {
                connection = connection.sasl_plain(user, password);
            }
            runtime
                .block_on(crate::kafka::producer_for(&to, connection, BUS_RETRY))
                .map(Receiver::Kafka)
                .map_err(|e| format!("--url {to}: {e}"))
        }
        crate::kafka::Target::Nats(to) => {
            let given = [
                (args.ca.is_some(), "--ca"),
                (args.cert.is_some(), "--cert"),
                (credentials(args)?.is_some(), "--user"),
            ];
            if let Some((_, flag)) = given.iter().find(|(given, _)| *given) {
                return Err(format!(
                    "{flag} is not taken for nats:// (the server's own URL options are)"
                ));
            }
            runtime
                .block_on(crate::publish::publisher_for(
                    &to,
                    idmefv2::nats::DEFAULT_STREAM,
                    None,
                    BUS_RETRY,
                ))
                .map(Receiver::Nats)
                .map_err(|e| format!("--url {url}: {e}"))
        }
    }
}

fn client(args: &SendArgs) -> Result<Client, String> {
    check_usage(args)?;
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
    if args.insecure_plaintext {
        builder = builder.insecure_plaintext();
    }
    if let Some((user, password)) = credentials(args)? {
        builder = builder.basic_auth(&user, &password);
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
    let (receiver, runtime) = match runtime().and_then(|rt| Ok((receiver(&args, &rt)?, rt))) {
        Ok(started) => started,
        Err(reason) => return fail(reason),
    };
    let options = OutboxOptions::default().max_bytes(args.spool_max_bytes);
    let outbox = match &args.spool {
        Some(dir) => match Outbox::open_tagged(dir, options) {
            Ok((outbox, recovery)) => {
                if let Some(torn) = recovery.torn_tail() {
                    eprintln!("idmefv2 send: {torn}");
                }
                if recovery.pending() > 0 {
                    eprintln!(
                        "idmefv2 send: {} pending in {} from an earlier run",
                        counted(recovery.pending(), "message"),
                        dir.display()
                    );
                }
                outbox
            }
            Err(e) => return fail(e),
        },
        None => Outbox::in_memory_tagged(options),
    };
    let tally = Arc::new(Tally {
        max_bytes: args.max_bytes,
        ..Tally::default()
    });
    let spooled = args.spool.is_some();

    // Input is read on a thread of its own (files and pipes block) and
    // written to the outbox by another, in batches.
    let enqueuer = (!spooled || !args.paths.is_empty()).then(|| {
        let (items, incoming) = mpsc::sync_channel::<Item>(ENQUEUE_BATCH * 2);
        spawn_reader(&args, tally.clone(), move |item| items.send(item).is_ok());
        let hold = outbox.hold_open();
        let (outbox, tally) = (outbox.clone(), tally.clone());
        std::thread::spawn(move || {
            enqueue_items(&outbox, &incoming, &tally);
            drop(hold);
        })
    });

    let delivery = DeliveryOptions::default()
        .concurrency(usize::from(args.concurrency))
        .give_up_after(Some(Duration::from_secs(args.give_up_after)))
        .max_attempts(args.max_attempts);
    let outcome = runtime.block_on(async {
        let progress = spawn_progress(&tally, &outbox);
        let outcome = outbox
            .deliver_with(&receiver, &delivery, |event| observe(event, &tally))
            .await;
        if let Some(progress) = progress {
            progress.abort();
        }
        outcome
    });
    if !spooled {
        // Nothing more can be sent: stop reading.
        tally.stop_reading.store(true, Ordering::Relaxed);
    }
    if let Some(enqueuer) = enqueuer {
        let _ = enqueuer.join();
    }

    let pending = outbox.pending();
    let stopped = match &outcome {
        Ok(_) => None,
        Err(OutboxError::GaveUp { last_error, .. }) => {
            if !spooled {
                let why = last_error
                    .as_ref()
                    .map_or_else(|| "gave up".to_string(), ToString::to_string);
                let mut lines = String::new();
                outbox.for_each_pending(|key, origin| {
                    let (source, line) = place(key, origin);
                    lines.push_str(&format!("{source}:{line}: not delivered: {why}\n"));
                });
                tally.print(&lines, false);
            }
            outcome.as_ref().err()
        }
        Err(e @ OutboxError::Stopped { .. }) => {
            tally.error(e);
            tally.fatal.store(true, Ordering::Relaxed);
            Some(e)
        }
        Err(e) => {
            tally.error(e);
            tally.fatal.store(true, Ordering::Relaxed);
            Some(e)
        }
    };
    let skipped = tally.skipped.load(Ordering::Relaxed);
    if skipped > 0 {
        let why = if spooled {
            "the spool shows them delivered or refused already"
        } else {
            "the same bytes were sent earlier in this run"
        };
        tally.error(format!("{} skipped: {why}", counted(skipped, "message")));
    }
    if let (Some(dir), true) = (&args.spool, pending > 0) {
        let why = stopped.map_or_else(String::new, |e| format!(" ({e})"));
        tally.error(format!(
            "{} still pending in {}{why}; running `{}` again sends them",
            counted(pending, "message"),
            dir.display(),
            resume_command(&args, dir)
        ));
    }
    let (accepted, refused, unsent) = (
        tally.accepted.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        tally.unsent.load(Ordering::Relaxed),
    );
    let undelivered = pending + unsent;
    tally.print(
        &format!("{accepted} accepted, {refused} refused, {undelivered} not delivered\n"),
        false,
    );
    if tally.fatal.load(Ordering::Relaxed) || undelivered > 0 {
        ExitCode::from(2)
    } else if refused > 0 || tally.empty.load(Ordering::Relaxed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A word of a command line, quoted for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The command that sends what `dir` holds to the same receiver with the
/// same trust: this run's receiver, certificate and trust options, and
/// the spool. Credentials are never printed: `--user` is asked for
/// through the environment.
fn resume_command(args: &SendArgs, dir: &Path) -> String {
    let mut words: Vec<String> = vec!["idmefv2".into(), "send".into()];
    let mut option = |name: &str, value: &str| {
        words.push(name.to_string());
        words.push(shell_word(value));
    };
    if let Some(url) = &args.url {
        option("--url", url);
    }
    if let Some(domain) = &args.domain {
        option("--domain", domain);
    }
    if let Some(server) = args.dns_server {
        option("--dns-server", &server.to_string());
    }
    let path = |p: &PathBuf| p.to_string_lossy().into_owned();
    if let Some(cert) = &args.cert {
        option("--cert", &path(cert));
    }
    if let Some(key) = &args.key {
        option("--key", &path(key));
    }
    if let Some(ca) = &args.ca {
        option("--ca", &path(ca));
    }
    for pin in &args.pin {
        option("--pin", &pin.to_string());
    }
    option("--spool", &path(&dir.to_path_buf()));
    if args.insecure_plaintext {
        words.push("--insecure-plaintext".into());
    }
    let mut command = words.join(" ");
    if args.user.is_some() {
        command = format!("{USER_ENV}=USER:PASSWORD {command}");
    }
    command
}

/// Reads the inputs on a thread of its own, one message at a time, handing
/// each to `push` until it returns `false`, a fatal failure is noted, or
/// reading is told to stop.
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
    let from_rejects = args.from_rejects;
    std::thread::spawn(move || {
        for path in crate::sources(&paths) {
            let source: Arc<str> = crate::name(path).into();
            if let Some(notice) = crate::terminal_notice(path) {
                tally.error(notice);
            }
            let mut found = 0usize;
            let mut splitter = match crate::open(path) {
                Ok(reader) => Splitter::new(reader, framing, max_bytes),
                Err(e) => {
                    tally.error(format!("{source}: {e}"));
                    tally.fatal.store(true, Ordering::Relaxed);
                    continue;
                }
            };
            loop {
                if tally.fatal.load(Ordering::Relaxed) || tally.stop_reading.load(Ordering::Relaxed)
                {
                    return;
                }
                match splitter.next_item() {
                    Ok(Some(item)) => {
                        found += 1;
                        tally.read.fetch_add(1, Ordering::Relaxed);
                        let body = match (from_rejects, item.body) {
                            (true, Body::Bytes(record)) => match rejected_body(&record) {
                                Ok(body) => Body::Bytes(body),
                                Err(why) => {
                                    tally.unsent(&source, item.line, why);
                                    continue;
                                }
                            },
                            (_, body) => body,
                        };
                        // Not sent, and counted: what --where leaves out.
                        if matches!(&body, Body::Bytes(b) if !where_.admits(b)) {
                            continue;
                        }
                        let item = Item {
                            source: source.clone(),
                            line: item.line,
                            body,
                        };
                        if !push(item) {
                            return;
                        }
                    }
                    Ok(None) => {
                        if found == 0 {
                            tally.error(format!("{source}: no message found"));
                            tally.empty.store(true, Ordering::Relaxed);
                        }
                        break;
                    }
                    Err(e) => {
                        tally.error(format!("{source}: {e}"));
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

/// The message a rejects record holds: its `body` member, a string.
fn rejected_body(record: &[u8]) -> Result<Vec<u8>, &'static str> {
    let value: serde_json::Value = serde_json::from_slice(record)
        .map_err(|_| "not a rejects record (a JSON object per line)")?;
    match value.get("body") {
        Some(serde_json::Value::String(body)) => Ok(body.clone().into_bytes()),
        _ => Err("not a rejects record: no `body` member holding the message as a string"),
    }
}

/// Writes what the reader gives to the outbox, as many messages per write
/// (and sync) as are waiting (up to [`ENQUEUE_BATCH`]), until the input
/// ends. When the outbox is full, it waits for the engine to make room.
fn enqueue_items(outbox: &Outbox<Origin>, incoming: &mpsc::Receiver<Item>, tally: &Tally) {
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
        let mut items = Vec::with_capacity(batch.len());
        for Item { source, line, body } in batch {
            match body {
                Body::Bytes(bytes) => items.push((bytes, (source, line))),
                Body::TooLarge { size, .. } => tally.unsent(
                    &source,
                    line,
                    &format!(
                        "{size} bytes, more than the {} this tool reads (--max-bytes)",
                        tally.max_bytes
                    ),
                ),
            }
        }
        // All in one sync; when they do not fit together, one by one,
        // waiting for room.
        let outcomes = match outbox.enqueue_all_tagged(items.iter().map(|(b, o)| (b, o.clone()))) {
            Ok(outcomes) => outcomes,
            Err(OutboxError::Full { .. }) => {
                let mut outcomes = Vec::with_capacity(items.len());
                for (body, origin) in items {
                    match outbox.enqueue_tagged_waiting(&body, origin) {
                        Ok(outcome) => outcomes.push(outcome),
                        Err(e) => {
                            tally.error(e);
                            tally.fatal.store(true, Ordering::Relaxed);
                            return;
                        }
                    }
                }
                outcomes
            }
            Err(e) => {
                tally.error(e);
                tally.fatal.store(true, Ordering::Relaxed);
                return;
            }
        };
        let skipped = outcomes
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    Enqueued::AlreadyDelivered(_) | Enqueued::AlreadyRefused(_)
                )
            })
            .count();
        tally.skipped.fetch_add(skipped, Ordering::Relaxed);
    }
}

/// Where a message came from, or the spool and its ID for one enqueued by
/// an earlier run.
fn place(key: &idmefv2::outbox::Key, origin: Option<&Origin>) -> (Arc<str>, usize) {
    origin
        .cloned()
        .unwrap_or_else(|| (format!("spool:{}", key.id().unwrap_or("-")).into(), 0))
}

/// Counts and reports what delivery tells.
fn observe(event: Event<'_, Origin>, tally: &Tally) {
    match event {
        Event::Delivered { .. } => {
            tally.accepted.fetch_add(1, Ordering::Relaxed);
        }
        Event::Refused {
            key,
            tag,
            error,
            answers,
        } => {
            tally.refused.fetch_add(1, Ordering::Relaxed);
            let (source, line) = place(key, tag);
            print_refusal(tally, &source, line, error, answers.len());
        }
        Event::Retrying { error, wait, .. } => {
            tally.error(format!(
                "{error}; sending again in {:.1} s",
                wait.as_secs_f64()
            ));
        }
        _ => {}
    }
}

/// The receiver's answer in one line: `HTTP STATUS: ANSWER`.
fn answer(error: &DeliverError) -> String {
    match error.cause().downcast_ref::<SendError>() {
        Some(
            SendError::Refused { status, body, .. }
            | SendError::Unavailable { status, body, .. }
            | SendError::UnexpectedStatus { status, body },
        ) if !body.is_empty() => format!("HTTP {status}: {body}"),
        Some(SendError::Refused { status, .. } | SendError::Unavailable { status, .. }) => {
            format!("HTTP {status}")
        }
        _ => error.to_string(),
    }
}

/// The receiver's reasons for refusing one message, one line each: each
/// violation it listed, or its answer in one line; `attempts` when it was
/// given up after several.
fn print_refusal(tally: &Tally, source: &str, line: usize, error: &DeliverError, attempts: usize) {
    let mut text = Vec::new();
    let violations = error.violations();
    if violations.is_empty() {
        let _ = write!(text, "{source}:{line}: {}", answer(error));
        if attempts > 1 {
            let _ = write!(text, " ({attempts} times; given up)");
        }
        text.push(b'\n');
    } else {
        let failure = Failure::from_violations(violations.to_vec());
        let _ = failure.write_text(&mut text, source, line);
    }
    tally.print(&String::from_utf8_lossy(&text), false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_said_in_good_english() {
        assert_eq!(counted(1, "message"), "1 message");
        assert_eq!(counted(0, "message"), "0 messages");
        assert_eq!(counted(2, "message"), "2 messages");
    }

    #[test]
    fn shell_words_are_quoted_when_they_need_it() {
        assert_eq!(shell_word("/tmp/a-b_c.pem"), "/tmp/a-b_c.pem");
        assert_eq!(shell_word("https://h:1/p"), "https://h:1/p");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
