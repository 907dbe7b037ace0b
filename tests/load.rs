//! A short, bounded version of the load benchmark (`benches/load.rs`):
//! 100 senders, each with its own TLS connection, for 3 seconds against
//! one `idmefv2 serve`. Every acknowledged message must be in the file,
//! no request may fail, and the server's memory must stay bounded. Rates
//! are not judged here (benchmarks do that); this checks correctness
//! under concurrency.
#![cfg(feature = "cli")]

use std::time::Duration;

use idmefv2::http::client::Client;
use idmefv2_tools::support::{load, Pki};

#[test]
fn a_hundred_senders_for_three_seconds_lose_nothing() {
    let pki = Pki::new();
    let figures = load::run(&pki, 100, 3.0, |url| {
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
    eprintln!(
        "100 senders, {:.1} s: {} acknowledged, {} errors, {} lost, {} lines stored, \
         server RSS {} kB idle, {} kB peak",
        figures.seconds,
        figures.acknowledged,
        figures.errors,
        figures.lost,
        figures.stored,
        figures.idle_rss_kb,
        figures.peak_rss_kb
    );
    assert_eq!(figures.errors, 0, "{:?}", figures.first_error);
    assert!(figures.acknowledged >= 100, "{figures:?}");
    assert_eq!(figures.lost, 0, "{figures:?}");
    assert_eq!(figures.stored, figures.acknowledged);
    // 100 connections and their buffers: tens of MB, not hundreds.
    assert!(
        figures.peak_rss_kb > 0 && figures.peak_rss_kb < 256 * 1024,
        "{figures:?}"
    );
}
