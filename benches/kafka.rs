//! Alerts per second through a Kafka-protocol broker (tansu 0.6.0 in
//! memory, started here on loopback), produced and consumed with
//! `idmefv2::kafka` (validation, headers, key, decoding, offsets stored on
//! acknowledgement; consumed typed, and checked without building the
//! message) beside raw rdkafka on the same bytes with the same
//! settings (`acks=all`, idempotence, the same headers and key; no
//! validation, no decoding): the ceiling the library works under.
//!
//! `cargo bench --features kafka --bench kafka -- [COUNT] [ROUNDS]`
//! (default 20000 alerts, 3 rounds; the median round is reported).

use std::time::{Duration, Instant};

use futures_util::{stream::FuturesUnordered, FutureExt, StreamExt};
use idmefv2::{
    kafka::{
        self as kafka,
        rdkafka::{
            self,
            consumer::{CommitMode, Consumer as _, StreamConsumer},
            message::{Header, OwnedHeaders},
            producer::{future_producer::DeliveryFuture, FutureProducer, FutureRecord},
        },
        Connection, Consumer, Envelope, Producer, CONTENT_TYPE_HEADER, VERSION_HEADER,
    },
    Id, Limits, Message,
};
use idmefv2_tools::support::kafka::Broker;

/// Sends in flight at once, for both sides.
const WINDOW: usize = 1024;

/// An alert's ID and its encoding.
type Input = (String, Vec<u8>);

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
            (message.id.as_str().to_string(), message.to_vec())
        })
        .collect()
}

/// Produces every input with the library, as `idmefv2 publish` does:
/// validate, then send with up to [`WINDOW`] unacknowledged.
async fn ours_publish(connection: &Connection, topic: &str, inputs: &[Input]) {
    let producer = Producer::builder(connection.clone(), topic)
        .build()
        .expect("producer");
    let limits = Limits::default();
    let mut pending: FuturesUnordered<kafka::Pending> = FuturesUnordered::new();
    let mut stored = 0;
    for (_, payload) in inputs {
        if pending.len() == WINDOW {
            pending
                .next()
                .await
                .expect("in flight")
                .expect("acknowledged");
            stored += 1;
        }
        let envelope = Envelope::from_json(payload.clone(), &limits).expect("valid");
        pending.push(producer.send(envelope).await.expect("sent"));
        while let Some(Some(receipt)) = pending.next().now_or_never() {
            receipt.expect("acknowledged");
            stored += 1;
        }
    }
    while let Some(receipt) = pending.next().await {
        receipt.expect("acknowledged");
        stored += 1;
    }
    assert_eq!(stored, inputs.len());
}

/// The same bytes, key and headers with rdkafka alone, the same settings
/// and window.
async fn raw_publish(servers: &str, topic: &str, inputs: &[Input]) {
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", servers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    // The draft header: one parse, outside the loop.
    let version = Message::from_slice(&inputs[0].1).expect("valid").version;
    let mut pending: FuturesUnordered<DeliveryFuture> = FuturesUnordered::new();
    let mut stored = 0;
    for (id, payload) in inputs {
        if pending.len() == WINDOW {
            let done = pending.next().await.expect("in flight");
            done.expect("report").expect("acknowledged");
            stored += 1;
        }
        let headers = OwnedHeaders::new_with_capacity(2)
            .insert(Header {
                key: CONTENT_TYPE_HEADER,
                value: Some("application/json"),
            })
            .insert(Header {
                key: VERSION_HEADER,
                value: Some(version.as_str()),
            });
        let record = FutureRecord::to(topic)
            .key(id.as_bytes())
            .payload(&payload[..])
            .headers(headers);
        let future = producer
            .send_result(record)
            .map_err(|(e, _)| e)
            .expect("queued");
        pending.push(future);
        while let Some(Some(done)) = pending.next().now_or_never() {
            done.expect("report").expect("acknowledged");
            stored += 1;
        }
    }
    while let Some(done) = pending.next().await {
        done.expect("report").expect("acknowledged");
        stored += 1;
    }
    assert_eq!(stored, inputs.len());
}

/// Reads `count` alerts in a group with the library's consumer, decoding
/// each and acknowledging it, then commits.
async fn ours_consume(mut consumer: Consumer, count: usize, typed: bool) {
    let mut seen = 0;
    while let Some(delivery) = consumer.next().await.expect("received") {
        assert_eq!(delivery.message().is_some(), typed);
        delivery.ack().expect("acknowledged");
        seen += 1;
    }
    consumer.commit().await.expect("committed");
    assert_eq!(seen, count);
}

/// The same with rdkafka alone: receive, store the offset, commit at the
/// end; no decoding.
async fn raw_consume(consumer: StreamConsumer, topic: &str, count: usize) {
    for _ in 0..count {
        let message = consumer.recv().await.expect("received");
        consumer
            .store_offset(
                topic,
                rdkafka::Message::partition(&message),
                rdkafka::Message::offset(&message),
            )
            .expect("stored");
    }
    consumer
        .commit_consumer_state(CommitMode::Sync)
        .expect("committed");
}

/// The group members of one round: the library's typed and check-only
/// consumers (on the same topic, in groups of their own) and raw rdkafka's.
async fn consumers(
    connection: &Connection,
    round: usize,
    count: usize,
) -> (Consumer, Consumer, StreamConsumer) {
    let mut ours = Vec::new();
    for typed in [true, false] {
        let group = if typed { "ours-typed" } else { "ours-checked" };
        ours.push(
            Consumer::builder(connection.clone(), format!("ours-{round}"), group)
                .typed(typed)
                .max_messages(count as u64)
                .build()
                .await
                .expect("consumer"),
        );
    }
    let raw: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", connection.servers())
        .set("group.id", "raw")
        .set("enable.auto.offset.store", "false")
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "1000")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .expect("consumer");
    raw.subscribe(&[&format!("raw-{round}")])
        .expect("subscribe");
    let checked = ours.pop().expect("two");
    let typed = ours.pop().expect("two");
    (typed, checked, raw)
}

async fn timed(work: impl std::future::Future<Output = ()>) -> Duration {
    let start = Instant::now();
    work.await;
    start.elapsed()
}

/// Rates (alerts per second): produce ours/raw, consume ours typed/raw,
/// consume ours checked only; the median of `rounds`.
async fn measure(
    broker: &Broker,
    (ours_inputs, raw_inputs): (&[Input], &[Input]),
    rounds: usize,
) -> [f64; 5] {
    let connection = Connection::new(broker.bootstrap());
    let mut rates: [Vec<f64>; 5] = Default::default();
    let n = ours_inputs.len();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    for round in 0..rounds {
        let (ours_topic, raw_topic) = (format!("ours-{round}"), format!("raw-{round}"));
        for topic in [&ours_topic, &raw_topic] {
            connection.ensure_topic(topic, 1).await.expect("topic");
        }
        // Alternate which side goes first, so that warm-up and load do not
        // favour one.
        let ours_first = round % 2 == 0;
        for ours in [ours_first, !ours_first] {
            let d = if ours {
                timed(ours_publish(&connection, &ours_topic, ours_inputs)).await
            } else {
                timed(raw_publish(connection.servers(), &raw_topic, raw_inputs)).await
            };
            rates[usize::from(!ours)].push(rate(d));
        }
        let (mut typed, mut checked, raw_consumer) = consumers(&connection, round, n).await;
        // The first record waits for the group join: fetch it before the
        // clock starts, on every side.
        for consumer in [&mut typed, &mut checked] {
            let first = consumer.next().await.expect("received").expect("one");
            first.ack().expect("acknowledged");
        }
        let raw_first = raw_consumer.recv().await.expect("received");
        let (partition, offset) = (
            rdkafka::Message::partition(&raw_first),
            rdkafka::Message::offset(&raw_first),
        );
        drop(raw_first);
        raw_consumer
            .store_offset(&raw_topic, partition, offset)
            .expect("stored");
        let (mut typed, mut checked, mut raw_consumer) =
            (Some(typed), Some(checked), Some(raw_consumer));
        let rest = |d: Duration| (n - 1) as f64 / d.as_secs_f64();
        // Each side goes first in turn.
        for side in (0..3).map(|i| (i + round) % 3) {
            let d = match side {
                0 => timed(ours_consume(typed.take().expect("once"), n - 1, true)).await,
                1 => timed(ours_consume(checked.take().expect("once"), n - 1, false)).await,
                _ => {
                    let consumer = raw_consumer.take().expect("once");
                    timed(raw_consume(consumer, &raw_topic, n - 1)).await
                }
            };
            rates[[2, 4, 3][side]].push(rest(d));
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
    let count = numbers.first().copied().unwrap_or(20_000).max(2);
    let rounds = numbers.get(1).copied().unwrap_or(3).max(1);
    let (ours_inputs, raw_inputs) = (inputs(count), inputs(count));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let broker = Broker::memory();
    let [ours_pub, raw_pub, ours_con, raw_con, checked_con] =
        runtime.block_on(measure(&broker, (&ours_inputs, &raw_inputs), rounds));
    println!(
        "{count} alerts of {} bytes, {rounds} rounds, median round, tansu 0.6.0 in memory\n",
        ours_inputs[0].1.len()
    );
    println!("| step | idmefv2::kafka (alerts/s) | raw rdkafka (alerts/s) | ours / raw |");
    println!("|---|---:|---:|---:|");
    for (step, ours, raw) in [
        ("produce (acknowledged)", ours_pub, raw_pub),
        ("consume, typed (committed)", ours_con, raw_con),
        ("consume, checked only (committed)", checked_con, raw_con),
    ] {
        println!("| {step} | {ours:.0} | {raw:.0} | {:.2} |", ours / raw);
    }
}
