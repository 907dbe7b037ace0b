//! Alerts per second through NATS JetStream, published and consumed with
//! `idmefv2::nats` (validation, decoding, message IDs, acknowledgements)
//! beside raw async-nats on the same bytes (no decoding, no validation): the
//! ceiling the library works under. One JetStream server, then a
//! three-server cluster with three-replica streams; both started here, on
//! loopback.
//!
//! `cargo bench --features nats --bench nats -- [COUNT] [ROUNDS]`
//! (default 20000 alerts, 3 rounds; the median round is reported).

use std::time::{Duration, Instant};

use async_nats::{
    header::{HeaderMap, NATS_MESSAGE_ID},
    jetstream::{
        self,
        consumer::{pull, PullConsumer},
        AckKind,
    },
};
use bytes::Bytes;
use futures_util::{stream::FuturesUnordered, FutureExt, StreamExt};
use idmefv2::{
    nats::{self, Consumer, Envelope, Publisher, StreamSpec},
    Id, Limits, Message,
};
use idmefv2_tools::support::nats::Servers;

/// Publishes in flight at once, for both sides.
const WINDOW: usize = 256;

/// An alert's ID (for the raw side's `Nats-Msg-Id`) and its encoding.
type Input = (String, Bytes);

/// The typical benchmark alert (1.8 KB), once per ID.
fn inputs(count: usize) -> Vec<Input> {
    let (_, typical) = idmefv2_tools::bench::INPUTS
        .iter()
        .find(|(name, _)| *name == "typical")
        .expect("a typical input");
    let template = Message::from_slice(typical).expect("valid input");
    (0..count)
        .map(|_| {
            let mut message = template.clone();
            message.id = Id::generate();
            (message.id.as_str().to_string(), message.to_vec().into())
        })
        .collect()
}

/// Publishes every input with the library, as `idmefv2 publish` does:
/// validate, then send with up to [`WINDOW`] unacknowledged.
async fn ours_publish(client: &async_nats::Client, subject: &str, inputs: &[Input]) {
    let publisher = Publisher::builder(client.clone(), subject)
        .max_in_flight(WINDOW)
        .build()
        .expect("publisher");
    let limits = Limits::default();
    let mut pending = FuturesUnordered::new();
    let mut stored = 0;
    for (_, payload) in inputs {
        let envelope = Envelope::from_json(payload.clone(), &limits).expect("valid");
        pending.push(publisher.send(envelope).await.expect("sent"));
        while let Some(Some(receipt)) = pending.next().now_or_never() {
            stored += usize::from(!receipt.expect("acknowledged").duplicate());
        }
    }
    while let Some(receipt) = pending.next().await {
        stored += usize::from(!receipt.expect("acknowledged").duplicate());
    }
    assert_eq!(stored, inputs.len());
}

/// The same bytes and headers with async-nats alone, the same window.
async fn raw_publish(client: &async_nats::Client, subject: &str, inputs: &[Input]) {
    let js = jetstream::new(client.clone());
    let mut pending = FuturesUnordered::new();
    let mut stored = 0;
    for (id, payload) in inputs {
        // The window: acknowledgements complete only when polled, so wait
        // for one here rather than inside the client.
        if pending.len() == WINDOW {
            let ack: Result<jetstream::publish::PublishAck, _> =
                pending.next().await.expect("in flight");
            stored += usize::from(!ack.expect("acknowledged").duplicate);
        }
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, id.as_str());
        headers.insert("Content-Type", "application/json");
        let ack = js
            .publish_with_headers(subject.to_string(), headers, payload.clone())
            .await
            .expect("sent");
        pending.push(std::future::IntoFuture::into_future(ack));
        while let Some(Some(ack)) = pending.next().now_or_never() {
            stored += usize::from(!ack.expect("acknowledged").duplicate);
        }
    }
    while let Some(ack) = pending.next().await {
        stored += usize::from(!ack.expect("acknowledged").duplicate);
    }
    assert_eq!(stored, inputs.len());
}

/// Reads `count` alerts through the library's consumer, decoding each and
/// acknowledging it.
async fn ours_consume(mut consumer: Consumer, count: usize) {
    let mut seen = 0;
    while let Some(delivery) = consumer.next().await.expect("pulled") {
        assert!(delivery.message().is_some());
        delivery.ack().await.expect("acknowledged");
        seen += 1;
    }
    consumer.flush().await.expect("flushed");
    assert_eq!(seen, count);
}

/// The same with async-nats alone: pull batches of 256 and acknowledge,
/// without decoding.
async fn raw_consume(client: &async_nats::Client, consumer: PullConsumer, count: usize) {
    let mut seen = 0;
    while seen < count {
        let mut batch = consumer
            .batch()
            .max_messages((count - seen).min(256))
            .expires(Duration::from_secs(5))
            .messages()
            .await
            .expect("pulled");
        while let Some(message) = batch.next().await {
            message
                .expect("message")
                .ack_with(AckKind::Ack)
                .await
                .expect("acknowledged");
            seen += 1;
        }
    }
    client.flush().await.expect("flushed");
}

/// The durable consumers of one round, made before the clock starts (the
/// library's also sets up its dead-letter stream).
async fn consumers(client: &async_nats::Client, count: usize) -> (Consumer, PullConsumer) {
    let ours = Consumer::builder(client.clone(), "BENCH", "ours")
        .filter_subject("bench.ours")
        .max_messages(count as u64)
        .build()
        .await
        .expect("consumer");
    let js = jetstream::new(client.clone());
    let raw = js
        .get_stream("BENCH")
        .await
        .expect("stream")
        .get_or_create_consumer(
            "raw",
            pull::Config {
                durable_name: Some("raw".into()),
                filter_subject: "bench.raw".into(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await
        .expect("consumer");
    (ours, raw)
}

/// A fresh stream for one round, capturing both sides' subjects: the same
/// stream leader serves both. (Each side has its own alerts, so that
/// neither sees the other's IDs as duplicates.)
async fn fresh_stream(client: &async_nats::Client, replicas: usize) {
    let js = jetstream::new(client.clone());
    let _ = js.delete_stream("BENCH").await;
    let spec = StreamSpec::new("BENCH", "bench.ours")
        .subject("bench.raw")
        .replicas(replicas);
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = spec.ensure(client).await {
        // A new cluster takes a moment to elect its leaders.
        assert!(Instant::now() < deadline, "stream BENCH: {e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn timed(work: impl std::future::Future<Output = ()>) -> Duration {
    let start = Instant::now();
    work.await;
    start.elapsed()
}

/// Rates (alerts per second) of one setup: publish ours/raw, consume
/// ours/raw, the median of `rounds`.
async fn measure(
    url: &str,
    replicas: usize,
    (ours_inputs, raw_inputs): (&[Input], &[Input]),
    rounds: usize,
) -> [f64; 4] {
    let client = nats::connect(url).await.expect("connect");
    let mut rates: [Vec<f64>; 4] = Default::default();
    let n = ours_inputs.len();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    for round in 0..rounds {
        fresh_stream(&client, replicas).await;
        // Alternate which side goes first, so that warm-up and load do not
        // favour one.
        let ours_first = round % 2 == 0;
        for ours in [ours_first, !ours_first] {
            let d = if ours {
                timed(ours_publish(&client, "bench.ours", ours_inputs)).await
            } else {
                timed(raw_publish(&client, "bench.raw", raw_inputs)).await
            };
            rates[usize::from(!ours)].push(rate(d));
        }
        let (ours_consumer, raw_consumer) = consumers(&client, n).await;
        let (mut ours_consumer, mut raw_consumer) = (Some(ours_consumer), Some(raw_consumer));
        for ours in [ours_first, !ours_first] {
            let d = if ours {
                timed(ours_consume(ours_consumer.take().expect("once"), n)).await
            } else {
                let consumer = raw_consumer.take().expect("once");
                timed(raw_consume(&client, consumer, n)).await
            };
            rates[2 + usize::from(!ours)].push(rate(d));
        }
    }
    rates.map(|mut r| {
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    })
}

fn main() {
    // `cargo bench` adds `--bench`; only bare numbers are ours.
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(|a| a.parse().expect("COUNT and ROUNDS are whole numbers"))
        .collect();
    let count = numbers.first().copied().unwrap_or(20_000);
    let rounds = numbers.get(1).copied().unwrap_or(3).max(1);
    let (ours_inputs, raw_inputs) = (inputs(count), inputs(count));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    println!(
        "{count} alerts of {} bytes, {rounds} rounds, median round\n",
        ours_inputs[0].1.len()
    );
    println!(
        "| setup | step | idmefv2::nats (alerts/s) | raw async-nats (alerts/s) | ours / raw |"
    );
    println!("|---|---|---:|---:|---:|");
    for (setup, size, replicas) in [("1 server", 1, 1), ("3-server cluster, R3", 3, 3)] {
        let servers = if size == 1 {
            Servers::single()
        } else {
            Servers::cluster(size)
        };
        let [op, rp, oc, rc] = runtime.block_on(measure(
            &servers.url(),
            replicas,
            (&ours_inputs, &raw_inputs),
            rounds,
        ));
        for (step, ours, raw) in [("publish", op, rp), ("consume", oc, rc)] {
            println!(
                "| {setup} | {step} | {ours:.0} | {raw:.0} | {:.2} |",
                ours / raw
            );
        }
    }
}
