//! Load: many concurrent senders, each a client with its own TLS
//! connection sending one fresh message after another, against one
//! release `idmefv2 serve` writing and syncing every message before its
//! 204. Reports the rate, latency, errors, messages acknowledged but
//! missing from the file (must be 0), and the server's resident memory
//! idle and at its peak (`VmHWM`).
//!
//! ```sh
//! cargo bench --features cli --bench load [-- SENDERS SECONDS]   # default 100 30
//! ```

use std::time::Duration;

use idmefv2::http::client::Client;
use idmefv2_tools::support::{load, Pki};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .filter_map(|a| a.parse::<f64>().ok());
    let senders = args.next().unwrap_or(100.0) as usize;
    let seconds = args.next().unwrap_or(30.0);
    let pki = Pki::new();
    let f = load::run(&pki, senders, seconds, |url| {
        let client = Client::builder(url)
            .identity_pem(&pki.read("client.pem"), &pki.read("client.key"))
            .ca_pem(&pki.read("ca.pem"))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        move |body| {
            let client = client.clone();
            async move {
                let sent = client.send_bytes(body, "application/json").await;
                sent.map_err(|e| e.to_string())
            }
        }
    });
    println!("senders: {}", f.senders);
    println!("seconds: {:.1}", f.seconds);
    println!(
        "acknowledged: {} ({:.0} messages/s)",
        f.acknowledged,
        f.rate()
    );
    println!(
        "latency: p50 {:.2} ms, p99 {:.2} ms",
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3
    );
    println!(
        "errors: {}{}",
        f.errors,
        f.first_error
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    println!("lost (acknowledged, not in the file): {}", f.lost);
    println!("lines in the file: {}", f.stored);
    println!(
        "server RSS: {} kB idle, {} kB peak",
        f.idle_rss_kb, f.peak_rss_kb
    );
    if f.errors > 0 || f.lost > 0 || f.stored != f.acknowledged {
        std::process::exit(1);
    }
}
