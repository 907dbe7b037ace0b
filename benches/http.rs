//! Validated, durably acknowledged messages per second over HTTPS with
//! mutual TLS 1.3, next to nginx answering `return 204` with the same TLS
//! set-up (the ceiling), the crate's `Server` checking every message but
//! keeping none (what durability costs), hyper and rustls alone reading
//! each body and answering 204 (the floor of the stack the server is
//! built on), and a Python receiver on python-idmefv2 (what users have
//! today), all under the same load generator: this crate's client, N
//! requests in flight, the typical benchmark message.
//!
//! ```sh
//! cargo bench --features cli --bench http [-- SECONDS]
//! ```
//!
//! `IDMEFV2_BENCH_ONLY=idmefv2` (or `nginx`, `checks`, `hyper`,
//! `Python`) measures that receiver alone, for profiling; `IDMEFV2_BENCH_CELL=1.1/128` (HTTP
//! version, then requests in flight) measures that one cell.
//!
//! Each row also gives the CPU that the receiver (when it is one process:
//! not nginx, not Python) and the load generator (this process) used
//! during the cell, in cores, and the shares of the machine's CPU time
//! left idle (or waiting for the disk) and stolen by the hypervisor: with
//! two cores shared by everything, an idle share means the receiver was
//! waiting, not computing.
//!
//! Needs nginx (Debian's nginx-light) and python3 with venv; the Python
//! receiver's virtualenv is made in $IDMEFV2_BENCH_VENV (default
//! /tmp/idmefv2-bench-venv) with `pip install idmefv2` when missing.
//! Everything runs on this machine's loopback: load generator and
//! receivers share the same cores.

use std::{
    future::Future,
    path::Path,
    process::Command,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use idmefv2::http::{
    client::Client,
    server::{Received, Server, Sink, SinkError},
    tls::ServerTls,
};
use idmefv2_tools::support::{self, faults, free_port, nginx, python, Guard, Pki};

const IN_FLIGHT: [usize; 3] = [1, 16, 128];

/// One measured cell.
struct Cell {
    rate: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
    acknowledged: usize,
    /// The first error seen, if any.
    first_error: Option<String>,
}

/// Runs `in_flight` send loops against `url` for `seconds` after a warm-up
/// second, and measures every acknowledged request.
fn load(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    body: &bytes::Bytes,
    in_flight: usize,
    seconds: f64,
) -> Cell {
    runtime.block_on(async {
        let mut outcomes = Vec::new();
        for (phase, length) in [(0, 1.0), (1, seconds)] {
            let stop = Arc::new(AtomicBool::new(false));
            let mut tasks = Vec::new();
            let started = Instant::now();
            for _ in 0..in_flight {
                let (client, body, stop) = (client.clone(), body.clone(), stop.clone());
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut errors = 0;
                    let mut first = None;
                    while !stop.load(Ordering::Relaxed) {
                        let sent = Instant::now();
                        match client.send_bytes(body.clone(), "application/json").await {
                            Ok(()) => latencies.push(sent.elapsed()),
                            Err(e) => {
                                errors += 1;
                                first.get_or_insert(e.to_string());
                            }
                        }
                    }
                    (latencies, errors, first)
                }));
            }
            tokio::time::sleep(Duration::from_secs_f64(length)).await;
            stop.store(true, Ordering::Relaxed);
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut first_error = None;
            for task in tasks {
                let (l, e, first) = task.await.expect("load task");
                latencies.extend(l);
                errors += e;
                first_error = first_error.or(first);
            }
            let elapsed = started.elapsed();
            if phase == 1 {
                outcomes.push((latencies, errors, elapsed, first_error));
            }
        }
        let (mut latencies, errors, elapsed, first_error) = outcomes.pop().expect("measured");
        latencies.sort();
        let at = |q: f64| support::quantile(&latencies, q);
        Cell {
            rate: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: at(0.50),
            p99: at(0.99),
            errors,
            acknowledged: latencies.len(),
            first_error,
        }
    })
}

fn client(pki: &Pki, port: u16, http1: bool) -> Client {
    let mut builder = Client::builder(format!("https://localhost:{port}/"))
        .identity_pem(&pki.read("client.pem"), &pki.read("client.key"))
        .ca_pem(&pki.read("ca.pem"));
    if http1 {
        builder = builder.http1_only();
    }
    builder.build().expect("client")
}

/// The Python receiver's interpreter, with python-idmefv2 installed.
fn python_venv() -> String {
    let venv = std::env::var("IDMEFV2_BENCH_VENV").unwrap_or("/tmp/idmefv2-bench-venv".into());
    let python = format!("{venv}/bin/python");
    if !Path::new(&python).exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv", &venv])
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(format!("{venv}/bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "idmefv2",
                ])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "could not make the virtualenv {venv} with idmefv2");
    }
    python
}

/// CPU time (user + system) a process has used, from /proc (clock ticks
/// as `getconf CLK_TCK` gives them).
fn cpu_seconds(pid: u32, ticks: f64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are
    // the 14th and 15th fields of the line.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let used: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(used / ticks)
}

/// The machine's CPU time so far, from the first line of /proc/stat:
/// (idle and waiting for I/O, stolen by the hypervisor, all), in ticks.
fn machine_ticks() -> Option<(u64, u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map_while(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is
    // already inside user).
    let idle = fields.get(3)? + fields.get(4)?;
    let steal = *fields.get(7)?;
    Some((idle, steal, fields.iter().take(8).sum()))
}

/// The shares of the machine's CPU time since `before` (from
/// [`machine_ticks`]) spent idle or waiting for I/O, and stolen, as
/// percentages.
fn machine_shares(before: Option<(u64, u64, u64)>) -> (String, String) {
    match (before, machine_ticks()) {
        (Some((i0, s0, t0)), Some((i1, s1, t1))) if t1 > t0 => {
            let share =
                |a: u64, b: u64| format!("{:.0}", (b - a) as f64 * 100.0 / (t1 - t0) as f64);
            (share(i0, i1), share(s0, s1))
        }
        _ => (String::new(), String::new()),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// A receiver that checks every message as `idmefv2 serve` does but keeps
/// none: the crate's `Server` with a sink that drops what it is given.
/// What `idmefv2 serve` costs beyond it is durability and the request log.
struct Discard;

impl Sink for Discard {
    fn keep(&self, _message: Received) -> impl Future<Output = Result<(), SinkError>> + Send {
        std::future::ready(Ok(()))
    }

    /// As `idmefv2 serve`'s file sink: the message is checked, not built.
    fn needs_typed_message(&self) -> bool {
        false
    }
}

/// The receivers the bench runs as children of its own: the same
/// executable started again with [`RECEIVER_PORT`] and [`RECEIVER_KIND`]
/// set, so that each is a process of its own, as the others are.
#[derive(Clone, Copy)]
enum Kind {
    /// [`Discard`] behind the crate's `Server`.
    Checks,
    /// hyper and rustls alone with the same TLS set-up, reading each body
    /// and answering 204: the floor of the stack the crate's server is
    /// built on.
    Floor,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Checks => "checks",
            Kind::Floor => "floor",
        }
    }
}

/// Set in a child receiver: its port, and which one it is.
const RECEIVER_PORT: &str = "IDMEFV2_BENCH_RECEIVER_PORT";
const RECEIVER_KIND: &str = "IDMEFV2_BENCH_RECEIVER_KIND";

/// Serves as the child receiver the environment names, until killed.
fn run_child_receiver(port: &str) {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let read = |name: &str| std::fs::read(var(name)).expect("read a certificate file");
    let (cert, key, ca) = (
        read("IDMEFV2_BENCH_CERT"),
        read("IDMEFV2_BENCH_KEY"),
        read("IDMEFV2_BENCH_CA"),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
            .await
            .expect("bind");
        if var(RECEIVER_KIND) == Kind::Floor.name() {
            floor(listener, floor_tls(&cert, &key, &ca)).await;
        } else {
            let tls = ServerTls::from_pem(&cert, &key, &ca).expect("server TLS");
            Server::new(tls)
                .expect("server")
                .run(listener, Discard)
                .await
                .expect("serve");
        }
    });
}

/// TLS 1.3 only, client certificates required and verified against the
/// CA, HTTP/2 or HTTP/1.1 by ALPN: what `ServerTls` sets up, built here
/// from rustls directly.
fn floor_tls(cert: &[u8], key: &[u8], ca: &[u8]) -> Arc<rustls::ServerConfig> {
    use rustls_pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ca) {
        roots.add(ca.expect("CA PEM")).expect("CA certificate");
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .expect("client verifier");
    let chain = CertificateDer::pem_slice_iter(cert)
        .collect::<Result<Vec<_>, _>>()
        .expect("certificate PEM");
    let key = PrivateKeyDer::from_pem_slice(key).expect("key PEM");
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .expect("server certificate");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Accepts connections and answers every request 204 once its body is
/// read, nothing more.
async fn floor(listener: tokio::net::TcpListener, tls: Arc<rustls::ServerConfig>) {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // As the crate's server does: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            let answer = hyper::service::service_fn(
                |request: hyper::Request<hyper::body::Incoming>| async move {
                    let read = request.into_body().collect().await.map(|_| ());
                    let mut response = hyper::Response::new(Empty::<bytes::Bytes>::new());
                    *response.status_mut() = hyper::StatusCode::NO_CONTENT;
                    read.map(|()| response)
                },
            );
            let io = TokioIo::new(stream);
            if h2 {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(io, answer)
                    .await;
            } else {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, answer)
                    .await;
            }
        });
    }
}

/// Starts a child receiver of `kind` on `port`.
fn child_receiver(pki: &Pki, kind: Kind, port: u16) -> Guard {
    let guard = Guard::spawn(
        Command::new(std::env::current_exe().expect("this benchmark's path"))
            .env(RECEIVER_PORT, port.to_string())
            .env(RECEIVER_KIND, kind.name())
            .env("IDMEFV2_BENCH_CERT", pki.arg("server.pem"))
            .env("IDMEFV2_BENCH_KEY", pki.arg("server.key"))
            .env("IDMEFV2_BENCH_CA", pki.arg("ca.pem")),
    );
    support::wait_for_port(port);
    guard
}

fn main() {
    if let Ok(port) = std::env::var(RECEIVER_PORT) {
        return run_child_receiver(&port);
    }
    // `cargo bench` passes `--bench`; a number is the measuring time.
    let seconds: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4.0);
    let pki = Pki::new();
    let (_, typical) = idmefv2_tools::bench::INPUTS
        .iter()
        .find(|(name, _)| *name == "typical")
        .expect("a typical input");
    let body = bytes::Bytes::from_static(typical);
    let work = tempfile::tempdir().expect("temporary folder");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // Ours: the release `idmefv2 serve`, its log going to `ours.log`.
    let ours_port = free_port();
    let out = work.path().join("ours.ndjson");
    let mut ours = faults::serve_on(&pki, ours_port, &out, &[]);

    // nginx: the same TLS, `return 204`, one worker per core, no cap on
    // requests per connection (its default of 1000 closes connections
    // under load, which the other receivers do not).
    let nginx_port = free_port();
    let http = format!(
        "{}\nkeepalive_requests 100000000;\n\
         server {{ listen 127.0.0.1:{nginx_port} ssl http2; location / {{ return 204; }} }}\n",
        nginx::tls(&pki, "server")
    );
    let (_nginx, _nginx_dir) = nginx::start(&http, 2, &[nginx_port]);

    // The crate's server checking every message and keeping none.
    let discard_port = free_port();
    let discard = child_receiver(&pki, Kind::Checks, discard_port);
    // hyper and rustls alone, answering 204 once the body is read.
    let floor_port = free_port();
    let floor = child_receiver(&pki, Kind::Floor, floor_port);

    // Python: http.server + ssl + python-idmefv2, fsync per message.
    let (python, python_port) = python::receiver(
        &python_venv(),
        "python_receiver.py",
        &pki,
        &work.path().join("python.ndjson"),
    );

    println!(
        "{} s per cell after 1 s of warm-up, typical message ({} bytes), mutual TLS 1.3\n",
        seconds,
        body.len()
    );
    let ticks: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    println!(
        "| receiver | HTTP | in flight | messages/s | p50 ms | p99 ms | errors | server CPU (cores) \
         | load generator CPU (cores) | machine idle % | stolen % |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut ours_acknowledged = 0;
    let mut error_notes = Vec::new();
    // IDMEFV2_BENCH_ONLY=idmefv2 (or nginx, checks, hyper, Python) measures one receiver
    // alone, for profiling it.
    let only = std::env::var("IDMEFV2_BENCH_ONLY").ok();
    let cell_only = std::env::var("IDMEFV2_BENCH_CELL").ok();
    let mut ratios = Vec::new();
    for (protocol, http1) in [("2", false), ("1.1", true)] {
        for in_flight in IN_FLIGHT {
            let mut rates = Vec::new();
            for (name, port) in [
                ("idmefv2 serve", ours_port),
                ("nginx return 204", nginx_port),
                ("checks, nothing kept", discard_port),
                ("hyper + rustls, body read, 204", floor_port),
                ("Python idmefv2", python_port),
            ] {
                let skipped = only.as_deref().is_some_and(|o| !name.starts_with(o))
                    || cell_only
                        .as_deref()
                        .is_some_and(|c| c != format!("{protocol}/{in_flight}"));
                if skipped {
                    rates.push(f64::NAN);
                    continue;
                }
                if name == "Python idmefv2" && !http1 {
                    println!("| {name} | {protocol} | {in_flight} | no HTTP/2 | | | | | | | |");
                    continue;
                }
                let client = client(&pki, port, http1);
                // One process to read for ours and the discarding
                // receiver (nginx has workers, Python is not measured).
                let single = if port == ours_port {
                    Some(ours.id())
                } else if port == discard_port {
                    Some(discard.id())
                } else if port == floor_port {
                    Some(floor.id())
                } else {
                    None
                };
                let before = single.and_then(|pid| cpu_seconds(pid, ticks));
                let generator_before = cpu_seconds(std::process::id(), ticks);
                let machine_before = machine_ticks();
                let started = Instant::now();
                let cell = load(&runtime, &client, &body, in_flight, seconds);
                let (idle, stolen) = machine_shares(machine_before);
                let elapsed = started.elapsed().as_secs_f64();
                // CPU seconds used over the cell's seconds: cores.
                let cores_used = |before: Option<f64>, after: Option<f64>| match (before, after) {
                    (Some(b), Some(a)) => format!("{:.2}", (a - b) / elapsed),
                    _ => String::new(),
                };
                let generator =
                    cores_used(generator_before, cpu_seconds(std::process::id(), ticks));
                let cores = cores_used(before, single.and_then(|pid| cpu_seconds(pid, ticks)));
                if port == ours_port {
                    // Warm-up included: every 204 is a line in the file.
                    ours_acknowledged += cell.acknowledged;
                }
                println!(
                    "| {name} | {protocol} | {in_flight} | {:.0} | {} | {} | {} | {cores} \
                     | {generator} | {idle} | {stolen} |",
                    cell.rate,
                    ms(cell.p50),
                    ms(cell.p99),
                    cell.errors
                );
                rates.push(cell.rate);
                if let Some(e) = cell.first_error {
                    error_notes.push(format!(
                        "{name}, HTTP/{protocol}, {in_flight} in flight: {e}"
                    ));
                }
            }
            ratios.push((
                protocol,
                in_flight,
                rates[0] / rates[1],
                rates[2] / rates[1],
                rates[3] / rates[1],
            ));
        }
    }
    for note in &error_notes {
        println!("\nfirst error: {note}");
    }
    println!(
        "\n| HTTP | in flight | idmefv2 serve / nginx | checks, nothing kept / nginx \
         | hyper + rustls / nginx |"
    );
    println!("|---|---:|---:|---:|---:|");
    let shown = |r: f64| {
        if r.is_finite() {
            format!("{r:.2}")
        } else {
            String::new()
        }
    };
    for (protocol, in_flight, ours, discard, floor) in ratios {
        if ours.is_finite() || discard.is_finite() || floor.is_finite() {
            println!(
                "| {protocol} | {in_flight} | {} | {} | {} |",
                shown(ours),
                shown(discard),
                shown(floor)
            );
        }
    }
    drop(python);
    // Stop ours cleanly to read how many syncs the messages took.
    ours.terminate(Duration::from_secs(30));
    let lines = std::fs::read_to_string(&out)
        .expect("output")
        .lines()
        .count();
    let log = std::fs::read_to_string(out.with_extension("log")).unwrap_or_default();
    let summary = log
        .lines()
        .find(|l| l.contains("stopped;"))
        .unwrap_or("(no summary line)");
    println!(
        "\nidmefv2 serve: {lines} lines in its file for at least {ours_acknowledged} measured 204s; {summary}"
    );
}
