//! `idmefv2 serve`: receive messages over HTTPS into an NDJSON file, or
//! into a NATS JetStream stream.

use std::{
    fs,
    io::{self, Write},
    net::SocketAddr,
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use clap::Args;
use idmefv2::{
    gateway::nats::StreamSink,
    http::{
        server::{BasicAuth, Dedup, Event, FileSink, Outcome, ReceiveOptions, Server, Sink},
        tls::{Pin, ServerTls},
    },
    sink::Kept,
    Limits,
};

pub const EXAMPLES: &str = "\
Examples:
  idmefv2 serve --listen 127.0.0.1:4690 --cert server.pem --key server.key \\
      --client-ca ca.pem --out alerts.ndjson
  idmefv2 serve --listen [::]:4690 --cert server.pem --key server.key \\
      --client-ca ca.pem --allow-peer sensor1.example.org --upgrade --out alerts.ndjson
  idmefv2 serve --listen 127.0.0.1:4690 --cert server.pem --key server.key \\
      --client-ca ca.pem --forward nats://127.0.0.1:4222/alerts --replicas 3
  idmefv2 serve --listen 127.0.0.1:4690 --cert server.pem --key server.key \\
      --client-ca ca.pem --forward kafka://127.0.0.1:9092/alerts

Each accepted message is appended to --out as one line and synced to disk
before the 204 is sent; messages arriving together share one sync. Every
draft from 2.D.V02 on is accepted as sent; --upgrade stores messages older
than 2.D.V08 carried forward to 2.D.V08 instead.

--repair makes the repairs of `idmefv2 upgrade --repair` on a message its
own draft refuses (a single text where a list of texts is wanted, such as
the string Analyzer.Type of deployed 2.D.V04 converters) and stores the
repaired message; a repair never guesses a value, and a message still
invalid is refused as before. --strict answers 400 to messages that fail
the strict rules (`idmefv2 validate --strict`); they apply to 2.D.V08 and
later, so older drafts need --upgrade with it.

--rejects FILE appends every message refused with 400 to FILE, one JSON
object per line: time, remote, peer, status, violations (pointer, keyword,
reason) and the body as received (`body`, a JSON string; `body_base64`
when it is not UTF-8), synced before the 400 is sent. `idmefv2 send` can
read the bodies back once fixed.

--forward, instead of --out, publishes each accepted message into a NATS
JetStream stream (IDMEFV2 unless --stream, created when missing as
`idmefv2 publish` creates it, with --replicas copies) and answers 204 only
once the stream has acknowledged it. Its JetStream message ID is its ID
plus a digest of its content, so a message sent again within the stream's
duplicate window is stored once, while another alert under a reused ID is
stored too (with the ID alone, JetStream would drop it as a duplicate). When the stream does
not acknowledge within about 10 seconds the answer is 503 with
Retry-After: 1. --forward kafka://HOST:PORT[,HOST:PORT]/TOPIC produces
each message to the Kafka topic instead (created when missing, one
partition; keyed by its ID; acks=all) and answers 204 only once the
broker has acknowledged it, 503 with Retry-After: 1 when it has not
within about 10 seconds; --stream and --replicas are for NATS only.

Clients must present a certificate that chains to --client-ca and holds a
DNS-ID without wildcard; --allow-peer and --pin narrow that further (both
may be repeated; --pin takes the SHA-256 of the certificate's DER encoding
in hex, colons allowed, as `openssl x509 -noout -fingerprint -sha256`
prints it). Only TLS 1.3 is spoken; HTTP/2 is chosen by ALPN.

One line per request goes to stderr:
  REMOTE PEER METHOD PATH STATUS violations=N [POINTER KEYWORD \"REASON\", ...]
      changes=N [POINTER KIND, ...] repeat|id-reused
with PEER the client certificate's first DNS-ID (or the Basic user name),
each violation by pointer and reason (never the value), each change of
--upgrade or --repair by pointer and kind (renamed, repaired, ...), at most
10 of each; lines are written in batches, at most about 20 ms after their
request. SIGINT or SIGTERM stops
the server after the requests in flight are answered.

--dedup[=N] acknowledges a message whose ID and content are those of one
of the last N kept (default 100000) with 204 without writing it again
(its log line says `repeat`): senders that retry deliver at least once,
and this drops the repeats. A message with a kept ID but other content is
stored and logged as `id-reused` (some senders give several alerts one
ID). The window is in memory and filled at start from the last N lines of
--out, so it holds across restarts; repeats older than N messages are
written again. The counts are printed when the server stops.

--insecure-plaintext serves plain HTTP/1.1 without TLS (for senders that
cannot do TLS); it takes no --cert, --key, --client-ca, --allow-peer or --pin.

--basic-auth FILE lets in senders that cannot present a client certificate
(the IDMEFv2 connectors, ElastAlert2, the Graylog plugin) by HTTP Basic
authentication against FILE, an htpasswd file of bcrypt entries
(`htpasswd -B -c FILE USER`). Over TLS, a client with a certificate from
--client-ca needs no password; one without must send the credentials of an
entry of FILE. With --insecure-plaintext, every request must. Missing or
wrong credentials get 401 with WWW-Authenticate; the log's PEER is the user
name. This departs from the transport draft, which requires mutual TLS: the
senders deployed today cannot do client certificates. Over plain HTTP the
password crosses the network readable by anyone. A verified password is
remembered briefly, so that a busy sender does not cost a bcrypt run per
alert.

Exit status: 0 after a clean stop, 2 on a usage, certificate or I/O error.";

/// How long a request waits for the stream's acknowledgement under
/// `--forward` before it is answered 503: less than a sender's usual
/// timeout (30 s for `idmefv2 send`).
const FORWARD_WAIT: Duration = Duration::from_secs(10);

/// The realm of `--basic-auth`'s `WWW-Authenticate` challenge.
const BASIC_REALM: &str = "idmefv2";

/// Options of `idmefv2 serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// The server's certificate chain, PEM (leaf first).
    #[arg(
        long,
        value_name = "PEM",
        required_unless_present = "insecure_plaintext",
        conflicts_with = "insecure_plaintext"
    )]
    cert: Option<PathBuf>,
    /// The server's private key, PEM.
    #[arg(
        long,
        value_name = "PEM",
        required_unless_present = "insecure_plaintext",
        conflicts_with = "insecure_plaintext"
    )]
    key: Option<PathBuf>,
    /// The CA bundle that client certificates must chain to, PEM.
    #[arg(
        long = "client-ca",
        value_name = "PEM",
        required_unless_present = "insecure_plaintext",
        conflicts_with = "insecure_plaintext"
    )]
    client_ca: Option<PathBuf>,
    /// Accept only clients with this DNS-ID (repeatable).
    #[arg(
        long = "allow-peer",
        value_name = "DNSNAME",
        conflicts_with = "insecure_plaintext"
    )]
    allow_peer: Vec<String>,
    /// Accept only client certificates with this SHA-256 fingerprint
    /// (repeatable).
    #[arg(long, value_name = "SHA256", value_parser = parse_pin, conflicts_with = "insecure_plaintext")]
    pin: Vec<Pin>,
    /// The endpoint's path; other paths get 404.
    #[arg(long, value_name = "PATH", default_value = "/")]
    path: String,
    /// Largest message accepted, in bytes; larger ones get 413.
    #[arg(long = "max-bytes", value_name = "BYTES", default_value_t = Limits::DEFAULT_MAX_BYTES,
          value_parser = crate::parse_max_bytes)]
    max_bytes: usize,
    /// Store messages of drafts older than 2.D.V08 upgraded to 2.D.V08.
    #[arg(long)]
    upgrade: bool,
    /// Repair messages their draft's schema refuses (a single text where a
    /// list of texts is wanted) and store them repaired.
    #[arg(long)]
    repair: bool,
    /// Refuse with 400 messages that fail the strict rules.
    #[arg(long)]
    strict: bool,
    /// Append every message refused with 400, as received, to this NDJSON
    /// file (with time, peer, status and violations), synced like --out.
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    #[command(flatten)]
    where_: crate::filter::Where,
    /// The NDJSON file accepted messages are appended to.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "forward",
        conflicts_with = "forward"
    )]
    out: Option<PathBuf>,
    /// Publish accepted messages into a NATS JetStream stream instead of
    /// a file.
    #[arg(long, value_name = "nats://HOST:PORT/SUBJECT | kafka://HOST:PORT/TOPIC", value_parser = crate::kafka::plain_target)]
    forward: Option<crate::kafka::Target>,
    /// The stream --forward publishes into, created when missing.
    #[arg(long, value_name = "NAME", default_value = idmefv2::nats::DEFAULT_STREAM, requires = "forward", value_parser = crate::consume::stream_name)]
    stream: String,
    /// How many servers keep the stream (1 to 5): used when creating it,
    /// checked on an existing one.
    #[arg(long, value_name = "N", requires = "forward", value_parser = clap::value_parser!(u8).range(1..=5))]
    replicas: Option<u8>,
    /// Acknowledge repeats of the last N kept message IDs without writing
    /// them again (N defaults to 100000); the window is filled from --out
    /// at start. (Under --forward the stream's duplicate window does this.)
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "100000", require_equals = true, conflicts_with = "forward")]
    dedup: Option<usize>,
    /// Serve plain HTTP without TLS: no authentication, no secrecy.
    #[arg(long = "insecure-plaintext")]
    insecure_plaintext: bool,
    /// Also let in senders without a client certificate that send the user
    /// name and password of an entry of this htpasswd file (bcrypt, as
    /// `htpasswd -B` writes them) by HTTP Basic authentication.
    #[arg(long = "basic-auth", value_name = "FILE")]
    basic_auth: Option<PathBuf>,
}

pub fn parse_pin(text: &str) -> Result<Pin, String> {
    text.parse()
        .map_err(|e: idmefv2::http::tls::ConfigError| e.to_string())
}

/// Reads a file named by an option, saying which on failure.
pub fn read_option(option: &str, path: &PathBuf) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{option} {}: {e}", path.display()))
}

/// The runtime `serve` and `send` run on (a worker per core).
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

fn fail(reason: impl std::fmt::Display) -> ExitCode {
    eprintln!("idmefv2 serve: {reason}");
    ExitCode::from(2)
}

pub fn serve(args: ServeArgs) -> ExitCode {
    let outcome = server(&args).and_then(|server| serve_on(&args, server, &runtime()?));
    RequestLog::get().flush();
    match outcome {
        Ok(summary) => {
            eprintln!("idmefv2 serve: stopped; {summary}");
            ExitCode::SUCCESS
        }
        Err(reason) => fail(reason),
    }
}

/// Serves until stopped; the summary line's text.
fn serve_on(
    args: &ServeArgs,
    server: Server,
    runtime: &tokio::runtime::Runtime,
) -> Result<String, String> {
    runtime.block_on(async {
        match (&args.out, &args.forward) {
            (Some(out), _) => {
                let sink = Arc::new(
                    FileSink::open(out).map_err(|e| format!("--out {}: {e}", out.display()))?,
                );
                let target = out.display().to_string();
                let repeats = match args.dedup {
                    Some(capacity) => {
                        let dedup = Arc::new(Dedup::new(sink.clone(), capacity));
                        let seeded = dedup
                            .seed_from_ndjson(out)
                            .map_err(|e| format!("--out {}: {e}", out.display()))?;
                        eprintln!(
                            "idmefv2 serve: dropping repeats of the last {capacity} messages \
                             ({seeded} read from {target})"
                        );
                        run(args, server, dedup.clone(), &target).await?;
                        format!(
                            ", {} repeats acknowledged and dropped, {} reused IDs stored",
                            dedup.repeats(),
                            dedup.reused()
                        )
                    }
                    None => {
                        run(args, server, sink.clone(), &target).await?;
                        String::new()
                    }
                };
                let stats = sink.stats();
                Ok(format!(
                    "{} messages kept ({} syncs){repeats}",
                    stats.messages, stats.syncs
                ))
            }
            (None, Some(crate::kafka::Target::Kafka(to))) => {
                if args.replicas.is_some() {
                    return Err("--replicas is for NATS streams, not Kafka topics".to_string());
                }
                let sink = crate::kafka::forward_sink(to, FORWARD_WAIT).await?;
                run(args, server, sink, &format!("Kafka topic {}", to.topic())).await?;
                Ok("every message acknowledged was acknowledged by the broker".to_string())
            }
            (None, Some(crate::kafka::Target::Nats(to))) => {
                let publisher =
                    crate::publish::publisher_for(to, &args.stream, args.replicas, FORWARD_WAIT)
                        .await
                        .map_err(|e| format!("--forward {}: {e}", to.subject()))?;
                let target = format!("stream {} ({})", args.stream, to.subject());
                run(args, server, StreamSink::new(publisher), &target).await?;
                Ok("every message acknowledged was stored by the stream".to_string())
            }
            (None, None) => Err("--out or --forward is required".to_string()),
        }
    })
}

/// Binds, says where messages go, and serves into `sink` until SIGINT or
/// SIGTERM.
async fn run(
    args: &ServeArgs,
    server: Server,
    sink: impl Sink,
    target: &str,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let scheme = if args.insecure_plaintext {
        eprintln!(
            "idmefv2 serve: WARNING: plain HTTP without TLS: senders are not \
             authenticated and messages cross the network readable by anyone"
        );
        "http"
    } else {
        "https"
    };
    let verb = if args.forward.is_some() {
        "forwarding to"
    } else {
        "appending to"
    };
    eprintln!(
        "idmefv2 serve: listening on {scheme}://{local}{}, {verb} {target}",
        args.path
    );
    let served = server.run(listener, args.where_.sink(sink)).await;
    if let Some(line) = args.where_.summary("acknowledged and not stored") {
        RequestLog::get().push(&format!("idmefv2 serve: {line}"));
    }
    served.map_err(|e| format!("stopping: {e}"))
}

fn server(args: &ServeArgs) -> Result<Server, String> {
    let server = match (&args.cert, &args.key, &args.client_ca) {
        (Some(cert), Some(key), Some(client_ca)) => {
            let mut tls = ServerTls::from_pem(
                &read_option("--cert", cert)?,
                &read_option("--key", key)?,
                &read_option("--client-ca", client_ca)?,
            )
            .map_err(|e| e.to_string())?;
            for name in &args.allow_peer {
                tls = tls.allow_peer(name.clone());
            }
            for pin in &args.pin {
                tls = tls.pin(*pin);
            }
            if args.basic_auth.is_some() {
                tls = tls.client_certificate_optional();
            }
            Server::new(tls).map_err(|e| e.to_string())?
        }
        _ if args.insecure_plaintext => Server::insecure_plaintext(),
        _ => return Err("--cert, --key and --client-ca are required".into()),
    };
    let options = ReceiveOptions::default()
        .max_bytes(args.max_bytes)
        .upgrade(args.upgrade)
        .repair(args.repair)
        .strict(args.strict);
    let mut server = server
        .path(args.path.clone())
        .map_err(|e| format!("--path: {e}"))?
        .options(options)
        .observe(log);
    if let Some(file) = &args.basic_auth {
        let text = String::from_utf8(read_option("--basic-auth", file)?)
            .map_err(|_| format!("--basic-auth {}: not UTF-8 text", file.display()))?;
        let users = BasicAuth::from_htpasswd(&text, BASIC_REALM)
            .map_err(|e| format!("--basic-auth {}: {e}", file.display()))?;
        server = server.basic_auth(users);
    }
    if let Some(rejects) = &args.rejects {
        let file =
            FileSink::open(rejects).map_err(|e| format!("--rejects {}: {e}", rejects.display()))?;
        server = server.rejects(file);
    }
    Ok(server)
}

/// One stderr line per request or refused connection, through
/// [`RequestLog`].
fn log(event: &Event) {
    use std::fmt::Write as _;
    // One string per line, formatted before the log's lock is taken.
    let mut line = String::with_capacity(128);
    let _ = match event {
        Event::Request(outcome) => request_line(&mut line, outcome),
        Event::Refused { remote, reason } => write!(line, "{remote} - refused: {reason}"),
        _ => return,
    };
    RequestLog::get().push(&line);
}

/// The most violations or changes a log line names; the rest are counted.
const LOG_ITEMS: usize = 10;

/// The most characters of a reason a log line holds.
const LOG_REASON_CHARS: usize = 160;

/// `REMOTE PEER METHOD PATH STATUS violations=N`, then each violation by
/// pointer, keyword and reason (never the value), each change of an
/// upgrade or repair by pointer and kind, what the dedup window made of
/// the message, and our side's error; bounded by [`LOG_ITEMS`] and
/// [`LOG_REASON_CHARS`].
fn request_line(line: &mut String, outcome: &Outcome) -> std::fmt::Result {
    use std::fmt::Write as _;
    let peer: &dyn std::fmt::Display = match &outcome.peer {
        Some(peer) => peer,
        None => &"-",
    };
    write!(
        line,
        "{} {peer} {} {} {} violations={}",
        outcome.remote,
        outcome.method,
        outcome.path,
        outcome.status,
        outcome.violations.len()
    )?;
    let items = |line: &mut String, all: &mut dyn ExactSizeIterator<Item = String>| {
        let total = all.len();
        let shown: Vec<String> = all.take(LOG_ITEMS).collect();
        let more = total - shown.len();
        let _ = write!(line, " [{}", shown.join(", "));
        if more > 0 {
            let _ = write!(line, ", +{more} more");
        }
        line.push(']');
    };
    if !outcome.violations.is_empty() {
        items(
            line,
            &mut outcome.violations.iter().map(|v| {
                let reason: String = v.reason().chars().take(LOG_REASON_CHARS).collect();
                let cut = if reason.len() < v.reason().len() {
                    "…"
                } else {
                    ""
                };
                format!(
                    "{} {} {:?}",
                    pointer_or_root(v.pointer()),
                    v.keyword(),
                    format!("{reason}{cut}")
                )
            }),
        );
    }
    if !outcome.changes.is_empty() {
        line.push_str(" changes=");
        let _ = write!(line, "{}", outcome.changes.len());
        items(
            line,
            &mut outcome
                .changes
                .iter()
                .map(|c| format!("{} {}", pointer_or_root(&c.pointer), c.kind)),
        );
    }
    if let Some(kept @ (Kept::Repeat | Kept::IdReused | Kept::Unmatched)) = outcome.kept {
        write!(line, " {}", kept.as_str())?;
    }
    match &outcome.detail {
        Some(detail) => write!(line, " error={detail:?}"),
        None => Ok(()),
    }
}

/// A pointer for the log: `(message)` for the whole message.
fn pointer_or_root(pointer: &str) -> &str {
    if pointer.is_empty() {
        "(message)"
    } else {
        pointer
    }
}

/// How late a request's log line may reach stderr.
const LOG_DELAY: Duration = Duration::from_millis(20);

/// Past this many bytes waiting, the request whose line goes past it
/// writes them all itself, so that the memory held stays bounded.
const LOG_PENDING_MAX: usize = 256 * 1024;

/// The request log: lines wait in memory and a thread of their own writes
/// what gathered every [`LOG_DELAY`], so that a busy server makes one
/// `write` per interval instead of one per request (at 10,000 requests a
/// second that write was 7 % of the server's time). [`RequestLog::flush`]
/// writes what waits; `serve` calls it before its last line, so nothing
/// logged is lost on a clean stop.
struct RequestLog {
    pending: std::sync::Mutex<Vec<u8>>,
    waiting: std::sync::Condvar,
    /// Whether the writing thread runs; without it each line is written
    /// as it comes.
    threaded: bool,
}

impl RequestLog {
    /// The process's log, its writing thread started on first use.
    fn get() -> &'static RequestLog {
        static LOG: std::sync::OnceLock<RequestLog> = std::sync::OnceLock::new();
        LOG.get_or_init(|| {
            let spawned = std::thread::Builder::new()
                .name("idmefv2-log".into())
                .spawn(|| {
                    let log = RequestLog::get();
                    loop {
                        let mut pending = log.lock();
                        while pending.is_empty() {
                            pending = log.waiting.wait(pending).unwrap_or_else(|e| e.into_inner());
                        }
                        drop(pending);
                        std::thread::sleep(LOG_DELAY);
                        log.flush();
                    }
                });
            if let Err(e) = &spawned {
                let _ = writeln!(io::stderr(), "idmefv2 serve: log thread: {e}");
            }
            RequestLog {
                pending: std::sync::Mutex::new(Vec::new()),
                waiting: std::sync::Condvar::new(),
                threaded: spawned.is_ok(),
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, line: &str) {
        let mut pending = self.lock();
        let first = pending.is_empty();
        pending.extend_from_slice(b"idmefv2 serve: ");
        pending.extend_from_slice(line.as_bytes());
        pending.push(b'\n');
        let full = pending.len() > LOG_PENDING_MAX;
        drop(pending);
        if first {
            self.waiting.notify_one();
        }
        if full || !self.threaded {
            self.flush();
        }
    }

    /// Writes what waits. Stderr is locked before the lines are taken, so
    /// that two flushes write in the order the lines came.
    fn flush(&self) {
        let mut stderr = io::stderr().lock();
        let lines = std::mem::take(&mut *self.lock());
        if !lines.is_empty() {
            let _ = stderr.write_all(&lines);
        }
    }
}
