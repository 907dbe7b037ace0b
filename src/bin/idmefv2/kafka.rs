//! The Kafka forms of `idmefv2 publish`, `consume` and `serve --forward`:
//! `kafka://HOST:PORT[,HOST:PORT]/TOPIC` where the NATS forms take
//! `nats://HOST:PORT/SUBJECT`, with the same reports and exit codes.

use std::{
    io::{self, Write},
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use futures_util::{stream::FuturesUnordered, FutureExt, StreamExt};
use idmefv2::{
    gateway::kafka::TopicSink,
    kafka::{self, Connection, Consumer, Envelope, Producer},
    nats, Limits,
};
use tokio::sync::mpsc;

use crate::publish::{fail, read, Read};

/// Where `publish --to` and `serve --forward` send, and `consume --from`
/// reads: a NATS subject or a Kafka topic, told apart by the scheme.
#[derive(Clone, Debug)]
pub enum Target {
    /// `nats://HOST:PORT/SUBJECT`.
    Nats(nats::Endpoint),
    /// `kafka://HOST:PORT[,HOST:PORT]/TOPIC`.
    Kafka(kafka::Endpoint),
}

/// A `kafka://` address, or a NATS one with a plain subject (the
/// `value_parser` of `--to` and `--forward`).
pub fn plain_target(text: &str) -> Result<Target, String> {
    if text.starts_with("kafka://") {
        return kafka_endpoint(text);
    }
    crate::publish::plain_endpoint(text).map(Target::Nats)
}

/// A `kafka://` address, or a NATS one, wildcards allowed (the
/// `value_parser` of `consume --from`).
pub fn any_target(text: &str) -> Result<Target, String> {
    if text.starts_with("kafka://") {
        return kafka_endpoint(text);
    }
    text.parse()
        .map(Target::Nats)
        .map_err(|e: nats::Error| e.to_string())
}

fn kafka_endpoint(text: &str) -> Result<Target, String> {
    text.parse()
        .map(Target::Kafka)
        .map_err(|e: kafka::Error| e.to_string())
}

/// A consumer group name: not empty, no control characters.
pub fn group_name(text: &str) -> Result<String, String> {
    if text.is_empty() || text.chars().any(char::is_control) {
        return Err("a group name is not empty and has no control characters".to_string());
    }
    Ok(text.to_string())
}

/// For how long an alert the broker did not acknowledge is sent again.
const DELIVER_WITHIN: Duration = Duration::from_secs(30);

/// Makes sure the topic exists (one partition when it is created) and
/// gives a producer to it over `connection`, as `publish`, `serve
/// --forward` and `send` start.
pub async fn producer_for(
    to: &kafka::Endpoint,
    connection: Connection,
    deliver_within: Duration,
) -> Result<Producer, kafka::Error> {
    connection.ensure_topic(to.topic(), 1).await?;
    Producer::builder(connection, to.topic())
        .deliver_within(deliver_within)
        .build()
}

/// The sink of `serve --forward kafka://…`: 204 once the broker has
/// acknowledged, 503 with `Retry-After` when it does not within `wait`.
pub async fn forward_sink(to: &kafka::Endpoint, wait: Duration) -> Result<TopicSink, String> {
    let producer = producer_for(to, Connection::new(to.servers()), wait)
        .await
        .map_err(|e| format!("--forward {to}: {e}"))?;
    Ok(TopicSink::new(producer))
}

/// `idmefv2 publish --to kafka://…`: what was read from `paths`, each
/// valid alert produced to the topic and acknowledged.
pub async fn publish(
    to: &kafka::Endpoint,
    ndjson: bool,
    limits: Limits,
    paths: Vec<PathBuf>,
) -> io::Result<ExitCode> {
    let producer = match producer_for(to, Connection::new(to.servers()), DELIVER_WITHIN).await {
        Ok(producer) => producer,
        Err(e) => return fail(&e),
    };
    let (tx, mut rx) = mpsc::channel(1024);
    let framing = crate::framing(ndjson);
    let reader =
        std::thread::spawn(move || read(&paths, framing, &limits, &tx, Envelope::from_json));

    let (mut acknowledged, mut refused, mut unacknowledged) = (0u64, 0u64, 0u64);
    let (mut io_error, mut empty) = (false, false);
    let mut in_flight = FuturesUnordered::new();
    let stderr = io::stderr();
    type Done = (Arc<str>, usize, Result<kafka::Receipt, kafka::Error>);
    fn record((source, line, outcome): Done, acknowledged: &mut u64, unacknowledged: &mut u64) {
        match outcome {
            Ok(_) => *acknowledged += 1,
            Err(e) => {
                eprintln!("idmefv2: {source}:{line}: {e}");
                *unacknowledged += 1;
            }
        }
    }
    while let Some(read) = rx.recv().await {
        match read {
            Read::Alert {
                source,
                line,
                envelope,
            } => match producer.send(envelope).await {
                Ok(pending) => in_flight.push(async move { (source, line, pending.await) }),
                Err(e) => {
                    eprintln!("idmefv2: {source}:{line}: {e}");
                    unacknowledged += 1;
                }
            },
            Read::Refused {
                source,
                line,
                failure,
            } => {
                refused += 1;
                failure.write_text(&mut stderr.lock(), &source, line)?;
            }
            Read::End {
                io_error: failed,
                empty: none,
            } => (io_error, empty) = (failed, none),
        }
        while let Some(Some(done)) = in_flight.next().now_or_never() {
            record(done, &mut acknowledged, &mut unacknowledged);
        }
        if unacknowledged > 0 {
            break;
        }
    }
    drop(rx);
    while let Some(done) = in_flight.next().await {
        record(done, &mut acknowledged, &mut unacknowledged);
    }
    if reader.join().is_err() {
        io_error = true;
    }
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{acknowledged} acknowledged, {refused} refused{}",
        if unacknowledged > 0 {
            format!(", {unacknowledged} not acknowledged")
        } else {
            String::new()
        }
    )?;
    out.flush()?;
    Ok(if io_error || unacknowledged > 0 {
        ExitCode::from(2)
    } else if refused > 0 || empty {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `idmefv2 consume --from kafka://…`: every alert of the topic the group
/// has not committed, as NDJSON on stdout, each committed once written.
pub async fn consume(
    from: &kafka::Endpoint,
    group: &str,
    count: Option<u64>,
    idle_timeout: Option<Duration>,
) -> io::Result<ExitCode> {
    let mut builder = Consumer::builder(Connection::new(from.servers()), from.topic(), group);
    if let Some(count) = count {
        builder = builder.max_messages(count);
    }
    if let Some(idle) = idle_timeout {
        builder = builder.idle_timeout(idle);
    }
    let mut consumer = match builder.build().await {
        Ok(consumer) => consumer,
        Err(e) => return fail(&e),
    };
    let mut out = io::stdout().lock();
    let stderr = io::stderr();
    loop {
        let next = consumer.next().await;
        for dead in consumer.drain_dead_letters() {
            let mut err = stderr.lock();
            for v in &dead.violations {
                writeln!(
                    err,
                    "{}:{}:{}: {v}",
                    from.topic(),
                    dead.partition,
                    dead.offset
                )?;
            }
        }
        let delivery = match next {
            Ok(Some(delivery)) => delivery,
            Ok(None) => break,
            Err(e) => return fail(&e),
        };
        let line = match delivery.message() {
            Some(message) => message.to_vec(),
            None => crate::consume::one_line(delivery.payload()),
        };
        out.write_all(&line)?;
        out.write_all(b"\n")?;
        out.flush()?;
        if let Err(e) = delivery.ack() {
            return fail(&e);
        }
    }
    if let Err(e) = consumer.commit().await {
        return fail(&e);
    }
    Ok(if consumer.dead_lettered() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
