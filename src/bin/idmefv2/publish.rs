//! `idmefv2 publish`: validate messages and publish them into a JetStream
//! stream, waiting for the stream to acknowledge each one.

use std::{
    future::Future,
    io::{self, Write},
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use futures_util::{stream::FuturesUnordered, FutureExt, StreamExt};
use idmefv2::{
    nats::{self, Endpoint, Envelope, Publisher, StreamSpec},
    Limits,
};
use tokio::sync::mpsc;

use crate::check::{self, Failure};

pub const EXAMPLES: &str = "\
Examples:
  idmefv2 publish --to nats://127.0.0.1:4222/alerts fixtures/valid/*.json
  some-sensor | idmefv2 publish --ndjson --to nats://nats.example.org:4222/alerts.ids -
  idmefv2 publish --to nats://127.0.0.1:4222/alerts --stream ALERTS --replicas 3 a.json
  idmefv2 publish --to kafka://127.0.0.1:9092,127.0.0.1:9093/alerts fixtures/valid/*.json

Each message is checked against the schema of its own Version (2.D.V02
on) and published unchanged, with its ID as the JetStream message ID: a
message the stream already holds (within its duplicate window, two
minutes by default) is acknowledged without being stored again, so
publishing the same file twice stores each message once. Messages not
acknowledged in time are sent again for up to 30 seconds; many are in
flight at once.

The stream (IDMEFV2 unless --stream) is created when missing, on disk,
capturing SUBJECT, with --replicas copies (1 by default). An existing
stream must capture exactly SUBJECT, and hold --replicas copies when that
is given.

Invalid messages are reported on stderr as `validate` does
(SOURCE:LINE: POINTER: REASON) and not published; the others still are.
The last line on stdout counts what was acknowledged.

An input without any message is reported as \"no message found\".

With kafka://HOST:PORT[,HOST:PORT]/TOPIC each message goes to the Kafka
topic (created when missing, one partition) with its ID as the record
key and Content-Type and Idmefv2-Version headers, and counts as
acknowledged once the broker has acknowledged it (acks=all, idempotent
producer); --stream and --replicas are for NATS only.

Exit status: 0 all acknowledged, 1 some refused as invalid or an input
without any message, 2 usage, connection or I/O error (or a message the
stream did not acknowledge).";

/// How long an alert the stream did not acknowledge is sent again.
const RETRY_FOR: Duration = Duration::from_secs(30);

/// Arguments of `idmefv2 publish`.
#[derive(clap::Args)]
pub struct Args {
    /// Server and subject (or Kafka brokers and topic) to publish on.
    #[arg(long, value_name = "nats://HOST:PORT/SUBJECT | kafka://HOST:PORT[,HOST:PORT]/TOPIC", value_parser = crate::kafka::plain_target)]
    to: crate::kafka::Target,
    /// Stream to publish into, created when missing.
    #[arg(long, value_name = "NAME", default_value = idmefv2::nats::DEFAULT_STREAM, value_parser = crate::consume::stream_name)]
    stream: String,
    /// How many servers keep the stream (1 to 5): used when creating it,
    /// checked on an existing one.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=5))]
    replicas: Option<u8>,
    /// One message per non-empty line (a broken line does not stop the
    /// lines after it).
    #[arg(long)]
    ndjson: bool,
    #[command(flatten)]
    limits: crate::MaxBytes,
    /// Files holding one or more messages; none or `-` reads standard
    /// input.
    paths: Vec<PathBuf>,
}

/// An address whose subject has no wildcards: one can only publish on a
/// plain subject (a `value_parser` for `--to`, and for any option naming
/// where to forward alerts).
pub fn plain_endpoint(text: &str) -> Result<Endpoint, String> {
    let endpoint: Endpoint = text.parse().map_err(|e: nats::Error| e.to_string())?;
    if endpoint.subject().split('.').any(|t| t == "*" || t == ">") {
        return Err("publishing needs a subject without wildcards".to_string());
    }
    Ok(endpoint)
}

/// What the reading thread hands over, in input order.
pub(crate) enum Read<E> {
    /// A valid message, ready to send.
    Alert {
        source: Arc<str>,
        line: usize,
        envelope: E,
    },
    /// An invalid one.
    Refused {
        source: Arc<str>,
        line: usize,
        failure: Failure,
    },
    /// The end of the input: whether a source could not be read, and
    /// whether one held no message at all.
    End { io_error: bool, empty: bool },
}

/// What was acknowledged, refused or lost on the way.
#[derive(Default)]
struct Tally {
    acknowledged: u64,
    duplicates: u64,
    refused: u64,
    unacknowledged: u64,
    /// Acknowledged only after more than one attempt.
    retried: u64,
}

pub fn run(args: Args) -> io::Result<ExitCode> {
    block_on(publish(args))
}

/// Runs a NATS subcommand on a runtime of its own (two workers: the
/// connection's tasks and ours).
pub fn block_on(command: impl Future<Output = io::Result<ExitCode>>) -> io::Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(command)
}

/// Reports a failure that ends a NATS subcommand (exit status 2).
pub fn fail(e: &dyn std::fmt::Display) -> io::Result<ExitCode> {
    eprintln!("idmefv2: {e}");
    Ok(ExitCode::from(2))
}

/// Connects to the server of `to`, creates `stream` capturing its subject
/// (or checks the one there, and its `replicas` when given) and gives a
/// publisher on that subject that keeps sending an unacknowledged alert for
/// `retry_for`: how `publish` starts, and how `serve --forward` does.
pub async fn publisher_for(
    to: &Endpoint,
    stream: &str,
    replicas: Option<u8>,
    retry_for: Duration,
) -> Result<Publisher, nats::Error> {
    let client = nats::connect(to.server()).await?;
    let mut spec = StreamSpec::new(stream, to.subject());
    if let Some(replicas) = replicas {
        spec = spec.replicas(replicas.into());
    }
    spec.ensure(&client).await?;
    Publisher::builder(client, to.subject())
        .retry_for(retry_for)
        .build()
}

async fn publish(args: Args) -> io::Result<ExitCode> {
    let to = match &args.to {
        crate::kafka::Target::Nats(to) => to,
        crate::kafka::Target::Kafka(_) if args.replicas.is_some() => {
            return fail(&"--replicas is for NATS streams, not Kafka topics")
        }
        crate::kafka::Target::Kafka(to) => {
            let limits = args.limits.limits();
            return crate::kafka::publish(to, args.ndjson, limits, args.paths).await;
        }
    };
    let publisher = match publisher_for(to, &args.stream, args.replicas, RETRY_FOR).await {
        Ok(publisher) => publisher,
        Err(e) => return fail(&e),
    };
    let (tx, mut rx) = mpsc::channel(1024);
    let framing = crate::framing(args.ndjson);
    let paths = args.paths;
    let limits = args.limits.limits();
    let reader =
        std::thread::spawn(move || read(&paths, framing, &limits, &tx, Envelope::from_json));

    let mut tally = Tally::default();
    let mut io_error = false;
    let mut empty = false;
    let mut in_flight = FuturesUnordered::new();
    let stderr = io::stderr();
    while let Some(read) = rx.recv().await {
        match read {
            Read::Alert {
                source,
                line,
                envelope,
            } => match publisher.send(envelope).await {
                Ok(pending) => in_flight.push(async move { (source, line, pending.await) }),
                Err(e) => {
                    eprintln!("idmefv2: {source}:{line}: {e}");
                    tally.unacknowledged += 1;
                }
            },
            Read::Refused {
                source,
                line,
                failure,
            } => {
                tally.refused += 1;
                failure.write_text(&mut stderr.lock(), &source, line)?;
            }
            Read::End {
                io_error: failed,
                empty: none,
            } => (io_error, empty) = (failed, none),
        }
        while let Some(Some(done)) = in_flight.next().now_or_never() {
            tally.record(done);
        }
        if tally.unacknowledged > 0 {
            // The server is gone or refuses: stop reading, settle what is
            // in flight.
            break;
        }
    }
    drop(rx);
    while let Some(done) = in_flight.next().await {
        tally.record(done);
    }
    // The reader stops at its next message once the channel is closed.
    if reader.join().is_err() {
        io_error = true;
    }
    if tally.retried > 0 {
        eprintln!(
            "idmefv2: {} alerts were acknowledged only after being sent again \
             (stored once each: the stream knows their IDs)",
            tally.retried
        );
    }
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} acknowledged ({} already in the stream), {} refused{}",
        tally.acknowledged,
        tally.duplicates,
        tally.refused,
        if tally.unacknowledged > 0 {
            format!(", {} not acknowledged", tally.unacknowledged)
        } else {
            String::new()
        }
    )?;
    out.flush()?;
    Ok(if io_error || tally.unacknowledged > 0 {
        ExitCode::from(2)
    } else if tally.refused > 0 || empty {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

impl Tally {
    fn record(
        &mut self,
        (source, line, outcome): (Arc<str>, usize, Result<nats::Receipt, nats::Error>),
    ) {
        match outcome {
            Ok(receipt) => {
                self.acknowledged += 1;
                self.duplicates += u64::from(receipt.duplicate());
                self.retried += u64::from(receipt.attempts() > 1);
            }
            Err(e) => {
                eprintln!("idmefv2: {source}:{line}: {e}");
                self.unacknowledged += 1;
            }
        }
    }
}

/// Reads and validates every message (on its own thread, so that file
/// reads never hold up the connection), handing each over in order, as
/// `envelope` makes it of a valid message's bytes: the NATS and the Kafka
/// forms of `publish` share it.
pub(crate) fn read<E>(
    paths: &[PathBuf],
    framing: idmefv2::stream::Framing,
    limits: &Limits,
    tx: &mpsc::Sender<Read<E>>,
    envelope: impl Fn(Vec<u8>, &Limits) -> Result<E, idmefv2::Error>,
) {
    let mut status = crate::Status::default();
    let closed = || io::Error::new(io::ErrorKind::BrokenPipe, "publishing stopped");
    let result = crate::for_each_message(paths, framing, limits, &mut status, |source, _, item| {
        let line = item.line;
        let source: Arc<str> = source.into();
        let read = match check::check(item, limits, |bytes| envelope(bytes.to_vec(), limits)) {
            Ok(envelope) => Read::Alert {
                source,
                line,
                envelope,
            },
            Err(failure) => Read::Refused {
                source,
                line,
                failure,
            },
        };
        tx.blocking_send(read).map_err(|_| closed())
    });
    let _ = tx.blocking_send(Read::End {
        io_error: status.io_error || result.is_err(),
        empty: status.empty > 0,
    });
}
