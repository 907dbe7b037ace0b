//! `idmefv2 consume`: read alerts from a JetStream stream through a durable
//! consumer and write them as NDJSON, acknowledging each once written.

use std::{
    io::{self, Write},
    process::ExitCode,
    time::Duration,
};

use idmefv2::nats::{self, Consumer, Delivery};

use crate::publish::{block_on, fail};

pub const EXAMPLES: &str = "\
Examples:
  idmefv2 consume --from nats://127.0.0.1:4222/alerts --durable archive > alerts.ndjson
  idmefv2 consume --from nats://127.0.0.1:4222/alerts.> --durable triage --count 100
  idmefv2 consume --from nats://127.0.0.1:4222/alerts --durable nightly --idle-timeout 5
  idmefv2 consume --from kafka://127.0.0.1:9092/alerts --group archive --idle-timeout 5

Each alert is written on stdout as one line of compact JSON (the same JSON
value as stored; members in their order) and acknowledged only once that
line is flushed. The durable consumer NAME (created on first use, from the
start of the stream, filtered on SUBJECT) remembers what was acknowledged:
run again with the same NAME to go on where it stopped. An alert written
but not acknowledged (the process was killed in between) is delivered
again after 10 seconds, so after a crash an alert may be written twice;
its ID tells.

The stream (IDMEFV2 unless --stream) must exist; `idmefv2 publish` creates
it. A payload that is not a valid alert is not written: it is copied,
with its failures in Idmefv2-Violation headers, to the subject
STREAM.dead-letter (stored in the stream STREAM_DEAD_LETTER, created when
missing), terminated on the source stream, and reported on stderr as
STREAM:SEQUENCE: POINTER: REASON.

With kafka://HOST:PORT/TOPIC the consumer group NAME (--group instead of
--durable) reads the topic from its committed offsets (from the start
when it has none), and an alert's offset is committed only once its line
is flushed (the last ones at exit, the others within a second); a record
that does not decode is copied to TOPIC.dead-letter with its failures in
Idmefv2-Violation headers, reported as TOPIC:PARTITION:OFFSET: POINTER:
REASON, and committed past. --idle-timeout counts from when the group has
given this consumer partitions (joining takes a few seconds).

Without --count or --idle-timeout it runs until stopped.

Exit status: 0 all written, 1 some payloads dead-lettered, 2 usage,
connection or I/O error.";

/// How long an alert written but not acknowledged waits before it is
/// delivered again.
const ACK_WAIT: Duration = Duration::from_secs(10);

/// Arguments of `idmefv2 consume`.
#[derive(clap::Args)]
pub struct Args {
    /// Server, and subject to read (wildcards allowed); or Kafka brokers
    /// and topic.
    #[arg(long, value_name = "nats://HOST:PORT/SUBJECT | kafka://HOST:PORT/TOPIC", value_parser = crate::kafka::any_target)]
    from: crate::kafka::Target,
    /// Stream to read from.
    #[arg(long, value_name = "NAME", default_value = idmefv2::nats::DEFAULT_STREAM, value_parser = stream_name)]
    stream: String,
    /// Name of the durable consumer whose progress the server keeps.
    #[arg(long, value_name = "NAME", value_parser = stream_name, required_unless_present = "group", conflicts_with = "group")]
    durable: Option<String>,
    /// Kafka consumer group whose committed offsets the broker keeps.
    #[arg(long, value_name = "NAME", value_parser = crate::kafka::group_name)]
    group: Option<String>,
    /// Stop after writing N alerts.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Stop once no alert has come for SECS seconds (fractions allowed).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    idle_timeout: Option<Duration>,
    #[command(flatten)]
    where_: crate::filter::Where,
}

/// A stream or consumer name: what NATS accepts, checked here for a clear
/// message.
pub fn stream_name(text: &str) -> Result<String, String> {
    if text.is_empty()
        || text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || ".*>/\\".contains(c))
    {
        return Err("a name is not empty and has no spaces, dots, `*`, `>` or slashes".to_string());
    }
    Ok(text.to_string())
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| "expected a positive number of seconds".to_string())
}

pub fn run(args: Args) -> io::Result<ExitCode> {
    block_on(consume(args))
}

async fn consume(args: Args) -> io::Result<ExitCode> {
    let (from, durable) = match (&args.from, &args.durable, &args.group) {
        (crate::kafka::Target::Kafka(from), None, Some(group)) => {
            return crate::kafka::consume(from, group, args.count, args.idle_timeout).await
        }
        (crate::kafka::Target::Nats(from), Some(durable), None) => (from, durable),
        (crate::kafka::Target::Kafka(_), _, _) => {
            return fail(&"kafka:// takes --group, not --durable")
        }
        (crate::kafka::Target::Nats(_), _, _) => {
            return fail(&"nats:// takes --durable, not --group")
        }
    };
    let client = match nats::connect(from.server()).await {
        Ok(client) => client,
        Err(e) => return fail(&e),
    };
    let mut builder = Consumer::builder(client, &args.stream, durable)
        .filter_subject(from.subject())
        .ack_wait(ACK_WAIT);
    if let Some(count) = args.count {
        builder = builder.max_messages(count);
    }
    if let Some(idle) = args.idle_timeout {
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
                writeln!(err, "{}:{}: {v}", args.stream, dead.sequence)?;
            }
        }
        let delivery = match next {
            Ok(Some(delivery)) => delivery,
            Ok(None) => break,
            Err(e) => return fail(&e),
        };
        if !args.where_.admits(delivery.payload()) {
            if let Err(e) = delivery.ack().await {
                return fail(&e);
            }
            continue;
        }
        let written = out
            .write_all(&line(&delivery))
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if let Err(e) = written {
            // Handed back at once for whoever reads next.
            let _ = delivery.nak(None).await;
            let _ = consumer.flush().await;
            return Err(e);
        }
        if let Err(e) = delivery.ack().await {
            return fail(&e);
        }
    }
    if let Some(line) = args.where_.summary("acknowledged and not written") {
        eprintln!("idmefv2 consume: {line}");
    }
    Ok(if consumer.dead_lettered() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The alert as one line of JSON: typed alerts encoded compactly by the
/// model; older drafts (valid, so JSON) as stored, with line breaks turned
/// into spaces (JSON strings cannot hold a raw one, so only white space
/// between tokens changes).
fn line(delivery: &Delivery) -> Vec<u8> {
    match delivery.message() {
        Some(message) => message.to_vec(),
        None => one_line(delivery.payload()),
    }
}

/// A valid JSON alert of an older draft as one line: line breaks turned
/// into spaces (JSON strings cannot hold a raw one).
pub fn one_line(payload: &[u8]) -> Vec<u8> {
    payload
        .iter()
        .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
        .collect()
}
