//! Validated, durably acknowledged messages per second over HTTPS with
//! mutual TLS 1.3, next to nginx answering `return 204` with the same TLS
//! set-up (the ceiling) and a Python receiver on python-idmefv2 (what users
//! have today), all under the same load generator: this crate's client,
//! N requests in flight, the typical benchmark message.
//!
//! ```sh
//! cargo bench --features cli --bench http [-- SECONDS]
//! ```
//!
//! `IDMEFV2_BENCH_ONLY=idmefv2` (or `nginx`, `Python`) measures that
//! receiver alone, for profiling; `IDMEFV2_BENCH_CELL=1.1/128` (HTTP
//! version, then requests in flight) measures that one cell.
//!
//! Needs nginx (Debian's nginx-light) and python3 with venv; the Python
//! receiver's virtualenv is made in $IDMEFV2_BENCH_VENV (default
//! /tmp/idmefv2-bench-venv) with `pip install idmefv2` when missing.
//! Everything runs on this machine's loopback: load generator and
//! receivers share the same cores.

use std::{
    path::Path,
    process::Command,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use idmefv2::http::client::Client;
use idmefv2_tools::support::{self, faults, free_port, nginx, python, Pki};

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

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn main() {
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
    println!("| receiver | HTTP | in flight | messages/s | p50 ms | p99 ms | errors | server CPU (cores) |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut ours_acknowledged = 0;
    let mut error_notes = Vec::new();
    // IDMEFV2_BENCH_ONLY=idmefv2 (or nginx, Python) measures one receiver
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
                    println!("| {name} | {protocol} | {in_flight} | no HTTP/2 | | | | |");
                    continue;
                }
                let client = client(&pki, port, http1);
                let before = cpu_seconds(ours.id(), ticks);
                let started = Instant::now();
                let cell = load(&runtime, &client, &body, in_flight, seconds);
                // Only for ours: one process to read (nginx has workers).
                let cores = match (port == ours_port, before, cpu_seconds(ours.id(), ticks)) {
                    (true, Some(b), Some(a)) => {
                        format!("{:.2}", (a - b) / started.elapsed().as_secs_f64())
                    }
                    _ => String::new(),
                };
                if port == ours_port {
                    // Warm-up included: every 204 is a line in the file.
                    ours_acknowledged += cell.acknowledged;
                }
                println!(
                    "| {name} | {protocol} | {in_flight} | {:.0} | {} | {} | {} | {cores} |",
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
            ratios.push((protocol, in_flight, rates[0] / rates[1]));
        }
    }
    for note in &error_notes {
        println!("\nfirst error: {note}");
    }
    println!("\n| HTTP | in flight | idmefv2 serve / nginx |");
    println!("|---|---:|---:|");
    for (protocol, in_flight, ratio) in ratios.into_iter().filter(|r| r.2.is_finite()) {
        println!("| {protocol} | {in_flight} | {ratio:.2} |");
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
