//! `idmefv2 serve`: receive messages over HTTPS into an NDJSON file.

use std::{
    fs,
    io::{self, Write},
    net::SocketAddr,
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
};

use clap::Args;
use idmefv2::{
    http::{
        server::{Dedup, Event, FileSink, ReceiveOptions, Server, Sink},
        tls::{Pin, ServerTls},
    },
    Limits,
};

pub const EXAMPLES: &str = "\
Examples:
  idmefv2 serve --listen 127.0.0.1:4690 --cert server.pem --key server.key \\
      --client-ca ca.pem --out alerts.ndjson
  idmefv2 serve --listen [::]:4690 --cert server.pem --key server.key \\
      --client-ca ca.pem --allow-peer sensor1.example.org --upgrade --out alerts.ndjson

Each accepted message is appended to --out as one line and synced to disk
before the 204 is sent; messages arriving together share one sync. Every
draft from 2.D.V02 on is accepted as sent; --upgrade stores messages older
than 2.D.V08 carried forward to 2.D.V08 instead.

Clients must present a certificate that chains to --client-ca and holds a
DNS-ID without wildcard; --allow-peer and --pin narrow that further (both
may be repeated; --pin takes the SHA-256 of the certificate's DER encoding
in hex, colons allowed, as `openssl x509 -noout -fingerprint -sha256`
prints it). Only TLS 1.3 is spoken; HTTP/2 is chosen by ALPN.

One line per request goes to stderr:
  REMOTE PEER METHOD PATH STATUS violations=N
with PEER the client certificate's first DNS-ID. SIGINT or SIGTERM stops
the server after the requests in flight are answered.

--dedup[=N] acknowledges a message whose ID is among the last N kept
(default 100000) with 204 without writing it again: senders that retry
deliver at least once, and this drops the repeats. The window is in
memory and filled at start from the last N lines of --out, so it holds
across restarts; repeats older than N messages are written again. The
count of repeats dropped is printed when the server stops.

--insecure-plaintext serves plain HTTP/1.1 without TLS (for senders that
cannot do TLS); it takes no --cert, --key, --client-ca, --allow-peer or --pin.

Exit status: 0 after a clean stop, 2 on a usage, certificate or I/O error.";

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
    #[arg(long = "max-bytes", value_name = "N", default_value_t = Limits::DEFAULT_MAX_BYTES)]
    max_bytes: usize,
    /// Store messages of drafts older than 2.D.V08 upgraded to 2.D.V08.
    #[arg(long)]
    upgrade: bool,
    /// The NDJSON file accepted messages are appended to.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Acknowledge repeats of the last N kept message IDs without writing
    /// them again (N defaults to 100000).
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "100000", require_equals = true)]
    dedup: Option<usize>,
    /// Serve plain HTTP without TLS: no authentication, no secrecy.
    #[arg(long = "insecure-plaintext")]
    insecure_plaintext: bool,
}

pub fn parse_pin(text: &str) -> Result<Pin, String> {
    text.parse()
        .map_err(|e: idmefv2::http::tls::ConfigError| e.to_string())
}

/// Reads a file named by an option, saying which on failure.
pub fn read_option(option: &str, path: &PathBuf) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{option} {}: {e}", path.display()))
}

fn fail(reason: impl std::fmt::Display) -> ExitCode {
    eprintln!("idmefv2 serve: {reason}");
    ExitCode::from(2)
}

pub fn serve(args: ServeArgs) -> ExitCode {
    let server = match server(&args) {
        Ok(server) => server,
        Err(reason) => return fail(reason),
    };
    let sink = match FileSink::open(&args.out) {
        Ok(sink) => Arc::new(sink),
        Err(e) => return fail(format!("--out {}: {e}", args.out.display())),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    let dedup = match args.dedup {
        Some(capacity) => {
            let dedup = Arc::new(Dedup::new(sink.clone(), capacity));
            match dedup.seed_from_ndjson(&args.out) {
                Ok(seeded) => eprintln!(
                    "idmefv2 serve: dropping repeats of the last {capacity} message IDs \
                     ({seeded} read from {})",
                    args.out.display()
                ),
                Err(e) => return fail(format!("--out {}: {e}", args.out.display())),
            }
            Some(dedup)
        }
        None => None,
    };
    let result = match &dedup {
        Some(dedup) => runtime.block_on(run(&args, server, dedup.clone())),
        None => runtime.block_on(run(&args, server, sink.clone())),
    };
    if let Err(reason) = result {
        return fail(reason);
    }
    let stats = sink.stats();
    let repeats = dedup.map_or_else(String::new, |d| {
        format!(", {} repeats acknowledged and dropped", d.repeats())
    });
    eprintln!(
        "idmefv2 serve: stopped; {} messages kept ({} syncs){repeats}",
        stats.messages, stats.syncs
    );
    ExitCode::SUCCESS
}

/// Listens and serves into `sink` until a signal.
async fn run<S: Sink>(args: &ServeArgs, server: Server, sink: S) -> Result<(), String> {
    let scheme = if args.insecure_plaintext {
        "http"
    } else {
        "https"
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    if args.insecure_plaintext {
        eprintln!(
            "idmefv2 serve: WARNING: plain HTTP without TLS: senders are not \
             authenticated and messages cross the network readable by anyone"
        );
    }
    eprintln!(
        "idmefv2 serve: listening on {scheme}://{local}{}, appending to {}",
        args.path,
        args.out.display()
    );
    server
        .run(listener, sink)
        .await
        .map_err(|e| format!("stopping: {e}"))
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
            Server::new(tls).map_err(|e| e.to_string())?
        }
        _ if args.insecure_plaintext => Server::insecure_plaintext(),
        _ => return Err("--cert, --key and --client-ca are required".into()),
    };
    let options = ReceiveOptions::default()
        .max_bytes(args.max_bytes)
        .upgrade(args.upgrade);
    Ok(server
        .path(args.path.clone())
        .map_err(|e| format!("--path: {e}"))?
        .options(options)
        .observe(log))
}

/// One stderr line per request or refused connection.
fn log(event: &Event) {
    let line = match event {
        Event::Request(outcome) => {
            let peer = outcome
                .peer
                .as_ref()
                .map_or_else(|| "-".to_string(), |p| p.to_string());
            let mut line = format!(
                "{} {peer} {} {} {} violations={}",
                outcome.remote, outcome.method, outcome.path, outcome.status, outcome.violations
            );
            if let Some(detail) = &outcome.detail {
                line.push_str(&format!(" error={detail:?}"));
            }
            line
        }
        Event::Refused { remote, reason } => format!("{remote} - refused: {reason}"),
        _ => return,
    };
    let _ = writeln!(io::stderr().lock(), "idmefv2 serve: {line}");
}
