//! Many senders against one `idmefv2 serve`: each sender is a client of
//! its own (its own TLS connection), sending one fresh message after
//! another for a while. Shared by the short test (`tests/load.rs`) and the
//! benchmark (`benches/load.rs`), which give the client (the crate's HTTPS
//! client, a transport type this crate does not name).

use std::{
    collections::HashSet,
    fs,
    future::Future,
    time::{Duration, Instant},
};

use super::{faults::serve_on, free_port, quantile, Pki};

/// What one run measured.
#[derive(Debug)]
pub struct Figures {
    /// Senders at once.
    pub senders: usize,
    /// How long the run took.
    pub seconds: f64,
    /// 2xx answers.
    pub acknowledged: usize,
    /// Sends that failed.
    pub errors: usize,
    /// The first failure's reason.
    pub first_error: Option<String>,
    /// Acknowledged IDs missing from the receiver's file.
    pub lost: usize,
    /// Lines in the receiver's file.
    pub stored: usize,
    /// The median latency of the acknowledged sends.
    pub p50: Duration,
    /// Their 99th percentile.
    pub p99: Duration,
    /// The server's resident memory before the load (kB, `VmRSS`).
    pub idle_rss_kb: u64,
    /// Its peak resident memory over the run (kB, `VmHWM`).
    pub peak_rss_kb: u64,
}

impl Figures {
    /// Acknowledged messages per second.
    pub fn rate(&self) -> f64 {
        self.acknowledged as f64 / self.seconds
    }
}

/// A field of `/proc/PID/status`, in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A valid message with an ID made from the sender and its count.
fn body(sender: usize, count: usize) -> (String, Vec<u8>) {
    let id = format!("{sender:08x}-0000-4000-8000-{count:012x}");
    let text = format!(
        r#"{{"Version":"2.D.V08","ID":"{id}","CreateTime":"2025-01-01T00:00:00Z","Description":"load","Analyzer":{{"Name":"load-{sender}","IP":"192.0.2.1"}}}}"#
    );
    (id, text.into_bytes())
}

/// Runs `senders` clients against a fresh `idmefv2 serve` for `seconds`.
/// `connect(url)` makes one client (presenting the test client
/// certificate of `pki`) and returns its send: a JSON body in, `Ok` once
/// acknowledged, the reason otherwise.
pub fn run<C, S, F>(pki: &Pki, senders: usize, seconds: f64, connect: C) -> Figures
where
    C: Fn(&str) -> S,
    S: Fn(Vec<u8>) -> F + Send + 'static,
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let port = free_port();
    let out = pki.path("load.ndjson");
    let _ = fs::remove_file(&out);
    let mut server = serve_on(pki, port, &out, &[]);
    let pid = server.id();
    std::thread::sleep(Duration::from_millis(200));
    let idle_rss_kb = status_kb(pid, "VmRSS:");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let url = format!("https://localhost:{port}/");
    let limit = Duration::from_secs_f64(seconds);
    let results = runtime.block_on(async {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for sender in 0..senders {
            let send = connect(&url);
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut first = None;
                let mut count = 0;
                while started.elapsed() < limit {
                    let (id, body) = body(sender, count);
                    count += 1;
                    let sent = Instant::now();
                    match send(body).await {
                        Ok(()) => {
                            latencies.push(sent.elapsed());
                            acked.push(id);
                        }
                        Err(e) => {
                            errors += 1;
                            first.get_or_insert(e);
                        }
                    }
                }
                (acked, latencies, errors, first)
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.push(task.await.expect("sender task"));
        }
        (all, started.elapsed())
    });
    let (all, took) = results;
    let peak_rss_kb = status_kb(pid, "VmHWM:");
    server.terminate(Duration::from_secs(30));

    let mut acked = Vec::new();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for (ids, times, failed, first) in all {
        acked.extend(ids);
        latencies.extend(times);
        errors += failed;
        if first_error.is_none() {
            first_error = first;
        }
    }
    latencies.sort();
    let at = |q: f64| quantile(&latencies, q);
    let text = fs::read_to_string(&out).unwrap_or_default();
    let stored_ids: HashSet<&str> = text
        .lines()
        .filter_map(|l| l.split("\"ID\":\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    Figures {
        senders,
        seconds: took.as_secs_f64(),
        acknowledged: acked.len(),
        errors,
        first_error,
        lost: acked
            .iter()
            .filter(|id| !stored_ids.contains(id.as_str()))
            .count(),
        stored: text.lines().count(),
        p50: at(0.5),
        p99: at(0.99),
        idle_rss_kb,
        peak_rss_kb,
    }
}
