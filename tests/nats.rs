//! Alerts through real `nats-server` processes (JetStream): publishing,
//! consuming, dead letters, stream set-up, and the faults a deployment meets
//! (a cluster node killed during a publish, a consumer killed while
//! writing). Every server runs on loopback, on ports picked here, and is
//! killed when its test ends.
#![cfg(feature = "nats")]

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use idmefv2::{
    nats::{self, Consumer, Error, Publisher, StreamSpec},
    types::Category,
    Analyzer, Message,
};
use idmefv2_tools::support::nats::Servers;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// `n` valid alerts, each with its own ID.
fn alerts(n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| {
            Message::builder(Analyzer::builder("nats-test").ip("192.0.2.7"))
                .description(format!("alert number {i}"))
                .category(Category::ReconNetwork)
                .build()
                .expect("valid alert")
        })
        .collect()
}

/// A valid 2.D.V04 alert, as deployed senders still emit them.
const V04: &[u8] = br#"{"Version": "2.D.V04", "ID": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "CreateTime": "2021-05-01T10:00:00Z", "Status": "Event",
    "Analyzer": {"Name": "ids", "IP": "192.0.2.1"}}"#;

/// Runs `test` with a client of a fresh single server, which stops when the
/// test returns (or panics).
fn with_server(test: impl AsyncFnOnce(async_nats::Client)) {
    let servers = Servers::single();
    runtime().block_on(async {
        let client = nats::connect(&servers.url()).await.expect("connect");
        test(client).await;
    });
}

/// Creates stream `name` capturing `subject` and publishes `alerts` there.
async fn stream_of(
    client: &async_nats::Client,
    name: &str,
    subject: &str,
    alerts: &[Message],
) -> Publisher {
    StreamSpec::new(name, subject)
        .ensure(client)
        .await
        .expect("stream");
    let publisher = Publisher::builder(client.clone(), subject)
        .build()
        .expect("publisher");
    for alert in alerts {
        publisher.publish(alert).await.expect("published");
    }
    publisher
}

/// A consumer that ends once nothing came for `idle`.
async fn idle_consumer(
    client: &async_nats::Client,
    stream: &str,
    durable: &str,
    idle: Duration,
) -> Consumer {
    Consumer::builder(client.clone(), stream, durable)
        .idle_timeout(idle)
        .build()
        .await
        .expect("consumer")
}

/// Hands every delivery to `each` and acknowledges it, until `consumer`
/// ends; gives how many.
async fn drain(consumer: &mut Consumer, mut each: impl FnMut(&nats::Delivery)) -> u64 {
    consumer
        .run(async |delivery| {
            each(delivery);
            Ok::<(), std::convert::Infallible>(())
        })
        .await
        .expect("consumed")
}

/// How many messages a stream holds.
async fn stored(client: &async_nats::Client, stream: &str) -> u64 {
    let js = async_nats::jetstream::new(client.clone());
    let mut stream = js.get_stream(stream).await.expect("stream exists");
    stream.info().await.expect("stream info").state.messages
}

#[test]
fn published_alerts_come_back_decoded_and_a_republished_one_is_stored_once() {
    with_server(async |client| {
        let publisher = stream_of(&client, "ROUND", "round.trip", &[]).await;
        let sent = alerts(20);
        let mut sequences = BTreeSet::new();
        for alert in &sent {
            let receipt = publisher.publish(alert).await.unwrap();
            assert_eq!(receipt.stream(), "ROUND");
            assert!(!receipt.duplicate());
            sequences.insert(receipt.sequence());
        }
        assert_eq!(sequences.len(), 20);
        // The same alert again: acknowledged, recognised, not stored.
        let again = publisher.publish(&sent[3]).await.unwrap();
        assert!(again.duplicate());
        // Clones share the publisher; an older draft goes out unchanged.
        let older = publisher.clone().publish_json(V04).await.unwrap();
        assert!(!older.duplicate());
        // An invalid alert is refused before it is sent.
        let bad = publisher
            .publish_json(&br#"{"Version": "2.D.V08", "ID": "x"}"#[..])
            .await
            .unwrap_err();
        assert!(matches!(bad, Error::Refused(_)), "{bad}");
        assert_eq!(stored(&client, "ROUND").await, 21);
        // As stored: the ID as message ID, the codec's media type.
        let js = async_nats::jetstream::new(client.clone());
        let first = js
            .get_stream("ROUND")
            .await
            .unwrap()
            .get_raw_message(1)
            .await
            .unwrap();
        let header = |name: &str| first.headers.get(name).map(|v| v.as_str().to_string());
        assert_eq!(header("Nats-Msg-Id").as_deref(), Some(sent[0].id.as_str()));
        assert_eq!(header("Content-Type").as_deref(), Some("application/json"));
        assert_eq!(first.payload.as_ref(), sent[0].to_vec());

        let mut consumer =
            idle_consumer(&client, "ROUND", "reader", Duration::from_millis(800)).await;
        let mut typed = Vec::new();
        let mut older = Vec::new();
        let handled = drain(&mut consumer, |delivery| {
            assert_eq!(delivery.content_type(), "application/json");
            assert_eq!(delivery.subject(), "round.trip");
            assert_eq!(delivery.delivered(), 1);
            match delivery.message() {
                Some(m) => typed.push(m.clone()),
                None => older.push((delivery.version().to_string(), delivery.payload().to_vec())),
            }
        })
        .await;
        assert_eq!(handled, 21);
        assert_eq!(typed, sent);
        assert_eq!(older, [("2.D.V04".to_string(), V04.to_vec())]);
        assert_eq!(consumer.dead_lettered(), 0);

        // Acknowledged means gone: the same durable consumer finds nothing.
        let mut again = idle_consumer(&client, "ROUND", "reader", Duration::from_millis(300)).await;
        assert!(again.next().await.unwrap().is_none());

        // Another codec's media type travels with the alert and picks the
        // codec on the way out.
        let text = Publisher::builder(client.clone(), "round.trip")
            .media_type("text/json; charset=utf-8")
            .build()
            .unwrap();
        let alert = alerts(1).remove(0);
        text.publish(&alert).await.unwrap();
        // Each call to next() waits up to the idle timeout again.
        let delivery = again.next().await.unwrap().expect("the text/json alert");
        assert_eq!(delivery.content_type(), "text/json; charset=utf-8");
        assert_eq!(delivery.message(), Some(&alert));
        delivery.ack().await.unwrap();
    });
}

#[test]
fn a_failing_handler_gets_its_alert_again() {
    with_server(async |client| {
        let sent = alerts(3);
        stream_of(&client, "RETRY", "retry", &sent).await;
        let mut consumer =
            idle_consumer(&client, "RETRY", "picky", Duration::from_millis(800)).await;
        let failed = consumer
            .run(async |delivery| {
                if delivery.message() == Some(&sent[1]) {
                    Err("disk full")
                } else {
                    Ok(())
                }
            })
            .await
            .unwrap_err();
        assert!(matches!(failed, nats::RunError::Handler("disk full")));
        // Not acknowledged, handed back: it comes again (after or before
        // the third, already pulled), marked as delivered twice.
        let mut later = Vec::new();
        drain(&mut consumer, |d| {
            later.push((d.message().cloned(), d.delivered()))
        })
        .await;
        later.sort_by_key(|(_, delivered)| *delivered);
        assert_eq!(
            later,
            [(Some(sent[2].clone()), 1), (Some(sent[1].clone()), 2)]
        );
    });
}

/// An idle timeout ends a consumer that read everything, not one whose
/// deliveries were lost on their way (as when a node restarts with a pull's
/// answer in flight): those come again after the acknowledgement wait, and
/// the consumer waits for them. Deliveries it handed out itself and that are
/// not settled yet do not keep it waiting.
#[test]
fn an_idle_consumer_waits_for_deliveries_lost_on_their_way() {
    use futures_util::StreamExt;
    with_server(async |client| {
        let sent = alerts(10);
        stream_of(&client, "LOST", "lost", &sent).await;
        let mut consumer = Consumer::builder(client.clone(), "LOST", "reader")
            .ack_wait(Duration::from_secs(2))
            .idle_timeout(Duration::from_millis(300))
            .build()
            .await
            .expect("consumer");
        // Five deliveries of the same durable consumer that nobody settles:
        // the server awaits their acknowledgement.
        let js = async_nats::jetstream::new(client.clone());
        let raw: async_nats::jetstream::consumer::PullConsumer = js
            .get_stream("LOST")
            .await
            .unwrap()
            .get_consumer("reader")
            .await
            .unwrap();
        let mut lost = raw.fetch().max_messages(5).messages().await.unwrap();
        let mut taken = 0;
        while let Some(message) = lost.next().await {
            message.expect("a delivery");
            taken += 1;
        }
        assert_eq!(taken, 5);
        let mut got = BTreeSet::new();
        let handled = drain(&mut consumer, |d| {
            got.insert(d.message().unwrap().id.as_str().to_string());
        })
        .await;
        let want: BTreeSet<String> = sent.iter().map(|m| m.id.as_str().to_string()).collect();
        assert_eq!((handled, got), (10, want));
        let info = consumer_info(&client, "LOST", "reader").await;
        assert_eq!((info.num_pending, info.num_ack_pending), (0, 0));

        // Deliveries held unsettled by the caller: the consumer ends
        // without waiting for them, and they are settled afterwards.
        let mut holder = idle_consumer(&client, "LOST", "holder", Duration::from_millis(300)).await;
        let mut held = Vec::new();
        while let Some(delivery) = holder.next().await.expect("next") {
            held.push(delivery);
        }
        assert_eq!(held.len(), 10);
        for delivery in held {
            delivery.ack().await.expect("ack");
        }
        holder.flush().await.expect("flush");
    });
}

#[test]
fn an_alert_no_stream_takes_is_an_error_once_the_retry_window_is_over() {
    with_server(async |client| {
        let publisher = Publisher::builder(client.clone(), "unheard")
            .ack_timeout(Duration::from_millis(200))
            .retry_for(Duration::from_millis(600))
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let error = publisher.publish(&alerts(1)[0]).await.unwrap_err();
        match &error {
            Error::Publish {
                subject, attempts, ..
            } => assert!(subject == "unheard" && *attempts > 1, "{error}"),
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        // A wildcard is no subject to publish on.
        let wildcard = Publisher::builder(client, "alerts.*").build().unwrap_err();
        assert!(matches!(wildcard, Error::Address { .. }), "{wildcard}");
    });
}

#[test]
fn a_server_without_jetstream_is_named_with_the_flag_to_start_it_with() {
    let servers = Servers::without_jetstream();
    let address = servers.url();
    let server = address.trim_start_matches("nats://").to_string();
    let expected = format!(
        "the NATS server at {server} has no JetStream: start nats-server with -js (and -sd DIR \
         to keep the store)"
    );
    runtime().block_on(async {
        let client = nats::connect(&address).await.expect("connect");
        let error = StreamSpec::new("IDMEFV2", "alerts")
            .ensure(&client)
            .await
            .expect_err("no JetStream");
        assert!(matches!(error, Error::NoJetStream { .. }), "{error:?}");
        assert_eq!(error.to_string(), expected);
        let error = Consumer::builder(client, "IDMEFV2", "archiver")
            .build()
            .await
            .expect_err("no JetStream");
        assert_eq!(error.to_string(), expected);
    });
}

#[test]
fn an_alert_over_the_server_size_limit_fails_at_the_first_attempt() {
    with_server(async |client| {
        let publisher = stream_of(&client, "BIG", "big", &[]).await;
        let mut alert = alerts(1).remove(0);
        alert.note = Some("x".repeat(1_100_000)); // the server takes 1 MiB
        let started = std::time::Instant::now();
        let error = publisher.publish(&alert).await.unwrap_err();
        assert!(
            matches!(error, Error::Publish { attempts: 1, .. }),
            "{error}"
        );
        // Not retried for the 30 s window: sending it again cannot help.
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(stored(&client, "BIG").await, 0);
    });
}

#[test]
fn an_existing_stream_with_another_configuration_is_named_and_refused() {
    with_server(async |client| {
        let spec = StreamSpec::new("SHAPE", "shape.a");
        spec.ensure(&client).await.unwrap();
        // Ensuring it again, or without saying how many replicas, is fine.
        spec.clone().ensure(&client).await.unwrap();
        let other = StreamSpec::new("SHAPE", "shape.b").ensure(&client).await;
        match other {
            Err(Error::StreamMismatch {
                stream,
                field,
                expected,
                found,
            }) => {
                assert_eq!((stream.as_str(), field), ("SHAPE", "subjects"));
                assert_eq!(
                    (expected.as_str(), found.as_str()),
                    ("[shape.b]", "[shape.a]")
                );
            }
            other => panic!("{other:?}"),
        }
        let replicas = spec.clone().replicas(3).ensure(&client).await.unwrap_err();
        assert!(
            matches!(
                &replicas,
                Error::StreamMismatch {
                    field: "replicas",
                    ..
                }
            ),
            "{replicas}"
        );
        assert_eq!(
            replicas.to_string(),
            "stream SHAPE exists with replicas 1, not 3"
        );
        // Memory storage is not what alerts need.
        let js = async_nats::jetstream::new(client.clone());
        js.create_stream(async_nats::jetstream::stream::Config {
            name: "VOLATILE".into(),
            subjects: vec!["volatile".into()],
            storage: async_nats::jetstream::stream::StorageType::Memory,
            ..Default::default()
        })
        .await
        .unwrap();
        let memory = StreamSpec::new("VOLATILE", "volatile")
            .ensure(&client)
            .await
            .unwrap_err();
        assert!(
            matches!(
                &memory,
                Error::StreamMismatch {
                    field: "storage",
                    ..
                }
            ),
            "{memory}"
        );
        // Consuming a stream that is not there says so.
        let missing = Consumer::builder(client, "NOWHERE", "c")
            .build()
            .await
            .unwrap_err();
        assert!(matches!(missing, Error::NoStream { .. }), "{missing}");
    });
}

#[test]
fn invalid_payloads_go_to_the_dead_letter_subject_with_their_violations() {
    with_server(async |client| {
        StreamSpec::new("DLQ", "dlq.in")
            .ensure(&client)
            .await
            .unwrap();
        // Another producer, which does not validate, puts three payloads in.
        let js = async_nats::jetstream::new(client.clone());
        let secret = "do-not-leak-198.51.100.99";
        let invalid = format!(
            r#"{{"Version": "2.D.V08", "ID": "{secret}", "CreateTime": "2025-01-01T00:00:00Z",
                "Analyzer": {{"Name": "x", "IP": "{secret}"}}}}"#
        );
        let valid = alerts(1).remove(0);
        for payload in [
            invalid.as_bytes().to_vec(),
            b"{\"Version\": ".to_vec(),
            valid.to_vec(),
        ] {
            js.publish("dlq.in", payload.into())
                .await
                .unwrap()
                .await
                .unwrap();
        }

        let mut consumer =
            idle_consumer(&client, "DLQ", "checker", Duration::from_millis(800)).await;
        assert_eq!(consumer.dead_letter_subject(), "DLQ.dead-letter");
        let mut handed = Vec::new();
        drain(&mut consumer, |d| handed.push(d.message().cloned())).await;
        assert_eq!(handed, [Some(valid)]);
        assert_eq!(consumer.dead_lettered(), 2);
        let dead: Vec<_> = consumer.drain_dead_letters().collect();
        assert_eq!(dead.iter().map(|d| d.sequence).collect::<Vec<_>>(), [1, 2]);

        // The copies: the payload byte for byte, where it came from, and
        // each failure as pointer, keyword and reason; never the value.
        let mut dlq = js.get_stream("DLQ_DEAD_LETTER").await.unwrap();
        assert_eq!(dlq.info().await.unwrap().state.messages, 2);
        let first = dlq.get_raw_message(1).await.unwrap();
        assert_eq!(first.payload.as_ref(), invalid.as_bytes());
        let headers = &first.headers;
        let one = |name: &str| headers.get(name).map(|v| v.as_str().to_string());
        assert_eq!(one(nats::SOURCE_STREAM_HEADER).as_deref(), Some("DLQ"));
        assert_eq!(one(nats::SOURCE_SUBJECT_HEADER).as_deref(), Some("dlq.in"));
        assert_eq!(one(nats::SOURCE_SEQUENCE_HEADER).as_deref(), Some("1"));
        assert_eq!(one("Nats-Msg-Id").as_deref(), Some("DLQ:1"));
        assert_eq!(one(nats::VIOLATION_COUNT_HEADER).as_deref(), Some("2"));
        let listed: Vec<serde_json::Value> =
            serde_json::from_str(&one(nats::VIOLATIONS_HEADER).unwrap()).unwrap();
        let violations: BTreeMap<String, serde_json::Value> = listed
            .into_iter()
            .map(|json| (json["pointer"].as_str().unwrap().to_string(), json))
            .collect();
        assert_eq!(
            violations.keys().collect::<Vec<_>>(),
            ["/Analyzer/IP", "/ID"]
        );
        assert_eq!(violations["/ID"]["keyword"], "pattern");
        assert!(violations["/ID"]["reason"]
            .as_str()
            .unwrap()
            .contains("UUID"));
        for (name, values) in headers.iter() {
            for value in values {
                assert!(!value.as_str().contains(secret), "{name} leaks the value");
            }
        }
        let second = dlq.get_raw_message(2).await.unwrap();
        let syntax = second
            .headers
            .get(nats::VIOLATIONS_HEADER)
            .unwrap()
            .as_str();
        assert!(syntax.contains("invalid JSON"), "{syntax}");

        // Terminated on the source: never delivered again.
        let mut info = consumer_info(&client, "DLQ", "checker").await;
        assert_eq!((info.num_pending, info.num_ack_pending), (0, 0));
        tokio::time::sleep(Duration::from_millis(300)).await;
        info = consumer_info(&client, "DLQ", "checker").await;
        assert_eq!(info.num_redelivered, 0);
    });
}

async fn consumer_info(
    client: &async_nats::Client,
    stream: &str,
    durable: &str,
) -> async_nats::jetstream::consumer::Info {
    let js = async_nats::jetstream::new(client.clone());
    js.get_stream(stream)
        .await
        .unwrap()
        .consumer_info(durable)
        .await
        .unwrap()
}

/// An HTTPS receiver whose sink is the stream: the 204 comes only once
/// JetStream stored the message, and a stream that cannot store it gives
/// the sender a 503 to retry on. Real TLS on both legs, real servers.
#[cfg(all(feature = "server", feature = "client"))]
mod gateway {
    use std::time::Duration;

    use idmefv2::{
        gateway::nats::StreamSink,
        http::{
            client::{Client, SendError},
            server::Server,
            tls::ServerTls,
        },
        nats::{self, Publisher, StreamSpec},
    };
    use idmefv2_tools::support::Pki;

    use super::{alerts, runtime, stored, Servers, V04};

    #[test]
    fn a_204_means_stored_and_a_stream_that_cannot_store_means_503() {
        let mut servers = Servers::single();
        let pki = Pki::new();
        runtime().block_on(async {
            let client = nats::connect(&servers.url()).await.expect("connect");
            StreamSpec::new("GATEWAY", "gateway.in")
                .ensure(&client)
                .await
                .expect("stream");
            let publisher = Publisher::builder(client.clone(), "gateway.in")
                .ack_timeout(Duration::from_millis(300))
                .retry_for(Duration::from_secs(1))
                .build()
                .expect("publisher");
            let tls = ServerTls::from_pem(
                &pki.read("server.pem"),
                &pki.read("server.key"),
                &pki.read("ca.pem"),
            )
            .expect("server TLS");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let serving = tokio::spawn(Server::new(tls).expect("server").serve(
                listener,
                StreamSink::new(publisher),
                async {
                    let _ = stopped.await;
                },
            ));
            let sender = Client::builder(format!("https://localhost:{port}/"))
                .identity_pem(&pki.read("client.pem"), &pki.read("client.key"))
                .ca_pem(&pki.read("ca.pem"))
                .build()
                .expect("client");

            // Every acknowledged alert is in the stream, once even when sent
            // twice; an older draft goes on as it came.
            let sent = alerts(40);
            for alert in &sent {
                sender.send(alert).await.expect("accepted");
            }
            sender
                .send(&sent[0])
                .await
                .expect("a repeat is accepted too");
            sender
                .send_bytes(V04.to_vec(), "application/json")
                .await
                .expect("2.D.V04 accepted");
            assert_eq!(stored(&client, "GATEWAY").await, 41);

            // The stream's server dies: nothing is acknowledged, and the
            // sender is told to come back.
            servers.nodes[0].kill();
            let late = &alerts(1)[0];
            match sender.send(late).await {
                Err(e @ SendError::Unavailable { .. }) => {
                    assert_eq!(e.status(), Some(503), "{e}");
                    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)), "{e}");
                }
                other => panic!("expected 503 with Retry-After, got {other:?}"),
            }
            // Back up (same port, same store): the retry is stored.
            servers.nodes[0].start();
            let mut delivered = false;
            for _ in 0..40 {
                match sender.send(late).await {
                    Ok(()) => {
                        delivered = true;
                        break;
                    }
                    Err(e) if !e.is_permanent() => {
                        tokio::time::sleep(Duration::from_millis(250)).await
                    }
                    Err(e) => panic!("refused for good: {e}"),
                }
            }
            assert!(delivered, "not stored after the stream came back");
            assert_eq!(stored(&client, "GATEWAY").await, 42);
            let _ = stop.send(());
            serving.await.unwrap().expect("clean stop");
        });
    }
}

/// The command-line tool, against the same servers.
#[cfg(feature = "cli")]
mod cli {
    use std::{
        collections::BTreeSet,
        io::{BufRead, BufReader, Write},
        process::{Command, Stdio},
        time::{Duration, Instant},
    };

    use idmefv2::{nats, Message};
    use idmefv2_tools::support;
    use tempfile::NamedTempFile;

    use super::{alerts, consumer_info, runtime, stored, Servers};

    fn idmefv2() -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_idmefv2"));
        command.stdin(Stdio::null());
        command
    }

    /// Runs the tool to its end (a minute at most).
    fn run(args: &[&str]) -> (i32, String, String) {
        let mut command = idmefv2();
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        support::Guard::spawn(&mut command).output(Duration::from_secs(60))
    }

    /// `idmefv2 consume --from FROM --durable DURABLE MORE...`, to its end.
    fn consume(from: &str, durable: &str, more: &[&str]) -> (i32, String, String) {
        let mut args = vec!["consume", "--from", from, "--durable", durable];
        args.extend(more);
        run(&args)
    }

    /// A runtime and a client of `servers`, for looking into the streams.
    fn looking_glass(servers: &Servers) -> (tokio::runtime::Runtime, async_nats::Client) {
        let rt = runtime();
        let client = rt.block_on(nats::connect(&servers.url())).expect("connect");
        (rt, client)
    }

    /// `messages` as an NDJSON file.
    fn ndjson(messages: &[Message]) -> NamedTempFile {
        let mut file = NamedTempFile::new().unwrap();
        for m in messages {
            file.write_all(&m.to_vec()).unwrap();
            file.write_all(b"\n").unwrap();
        }
        file.flush().unwrap();
        file
    }

    fn ids(lines: &str) -> Vec<String> {
        lines
            .lines()
            .map(|l| {
                let v: serde_json::Value =
                    serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
                v["ID"].as_str().unwrap().to_string()
            })
            .collect()
    }

    #[test]
    fn publishing_the_same_file_twice_stores_each_alert_once() {
        let servers = Servers::single();
        let sent = alerts(200);
        let file = ndjson(&sent);
        let path = file.path().to_str().unwrap();
        let to = format!("{}/twice", servers.url());
        let (code, out, err) = run(&["publish", "--ndjson", "--to", &to, path]);
        assert_eq!(
            (code, out.as_str()),
            (0, "200 acknowledged (0 already in the stream), 0 refused\n"),
            "{err}"
        );
        let (code, out, err) = run(&["publish", "--ndjson", "--to", &to, path]);
        assert_eq!(
            (code, out.as_str()),
            (
                0,
                "200 acknowledged (200 already in the stream), 0 refused\n"
            ),
            "{err}"
        );
        let (rt, client) = looking_glass(&servers);
        assert_eq!(rt.block_on(stored(&client, "IDMEFV2")), 200);

        let from = format!("{}/twice", servers.url());
        let (code, out, err) = consume(&from, "d", &["--count", "150"]);
        assert_eq!(code, 0, "{err}");
        let mut got = ids(&out);
        let (code, out, err) = consume(&from, "d", &["--idle-timeout", "1"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(got.len(), 150);
        got.extend(ids(&out));
        let want: Vec<String> = sent.iter().map(|m| m.id.as_str().to_string()).collect();
        assert_eq!(got, want, "every alert once, in order");
        // Consumed lines decode to the very alerts published.
        let (_, out, _) = consume(&from, "again", &["--count", "1"]);
        assert_eq!(
            Message::from_slice(out.trim_end().as_bytes()).unwrap(),
            sent[0]
        );
    }

    #[test]
    fn exit_statuses_tell_refused_from_unreachable() {
        let servers = Servers::single();
        let to = format!("{}/status", servers.url());
        let root = env!("CARGO_MANIFEST_DIR");
        let valid = format!("{root}/fixtures/valid/minimal.json");
        let invalid = format!("{root}/fixtures/invalid/pattern-id-not-uuid.json");
        let older = format!("{root}/fixtures/drafts/valid/v04-minimal.json");
        let (code, out, err) = run(&["publish", "--to", &to, &valid, &invalid, &older]);
        assert_eq!(code, 1, "{out}{err}");
        assert_eq!(out, "2 acknowledged (0 already in the stream), 1 refused\n");
        assert_eq!(
            err,
            // The line of the offending value, not of the message's start.
            format!("{invalid}:3: /ID: not a UUID (8-4-4-4-12 hexadecimal digits)\n")
        );
        // An input without any message, and one over --max-bytes.
        let empty = NamedTempFile::new().unwrap();
        let empty = empty.path().to_str().unwrap();
        let (code, out, err) = run(&["publish", "--to", &to, &valid, empty]);
        assert_eq!(code, 1, "{out}{err}");
        assert_eq!(out, "1 acknowledged (1 already in the stream), 0 refused\n");
        assert_eq!(err, format!("idmefv2: {empty}: no message found\n"));
        let size = std::fs::read(&valid).unwrap().trim_ascii_end().len();
        let (code, out, err) = run(&["publish", "--to", &to, "--max-bytes", "100", &valid]);
        assert_eq!(code, 1, "{out}{err}");
        assert_eq!(out, "0 acknowledged (0 already in the stream), 1 refused\n");
        assert!(
            err.contains(&format!(
                "message of {size} bytes exceeds the limit of 100 bytes"
            )),
            "{err}"
        );
        // Another subject for the same stream: its configuration differs.
        let elsewhere = format!("{}/other", servers.url());
        let (code, _, err) = run(&["publish", "--to", &elsewhere, &valid]);
        assert_eq!(code, 2);
        assert!(
            err.contains("stream IDMEFV2 exists with subjects [status], not [other]"),
            "{err}"
        );
        // Nobody listening; a malformed address; a wildcard to publish on.
        let port = support::free_port();
        let (code, _, err) = run(&[
            "publish",
            "--to",
            &format!("nats://127.0.0.1:{port}/a"),
            &valid,
        ]);
        assert_eq!(code, 2);
        assert!(err.contains("cannot connect"), "{err}");
        let (code, _, _) = run(&["publish", "--to", "127.0.0.1:4222/a", &valid]);
        assert_eq!(code, 2);
        let (code, _, _) = run(&["publish", "--to", &format!("{}/a.>", servers.url()), &valid]);
        assert_eq!(code, 2);
        let (code, _, err) = consume(&to, "x", &["--stream", "NONE"]);
        assert_eq!(code, 2);
        assert!(err.contains("no stream named NONE"), "{err}");
        // The older draft comes out as it went in, on one line.
        let (code, out, _) = consume(&to, "all", &["--idle-timeout", "0.5"]);
        assert_eq!(code, 0);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        let stored: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        let file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&older).unwrap()).unwrap();
        assert_eq!(stored, file);
    }

    #[test]
    fn consume_reports_dead_letters_on_stderr_and_exits_1() {
        let servers = Servers::single();
        let (rt, client) = looking_glass(&servers);
        rt.block_on(async {
            nats::StreamSpec::new("IDMEFV2", "raw")
                .ensure(&client)
                .await
                .unwrap();
            let js = async_nats::jetstream::new(client.clone());
            js.publish("raw", "[1, 2]".into())
                .await
                .unwrap()
                .await
                .unwrap();
        });
        let from = format!("{}/raw", servers.url());
        let (code, out, err) = consume(&from, "d", &["--idle-timeout", "0.5"]);
        assert_eq!((code, out.as_str()), (1, ""));
        assert!(err.starts_with("IDMEFV2:1: "), "{err}");
        assert_eq!(rt.block_on(stored(&client, "IDMEFV2_DEAD_LETTER")), 1);
    }

    #[test]
    fn a_consumer_killed_mid_stream_loses_nothing() {
        const SENT: usize = 3000;
        const KILL_AFTER: usize = 1000;
        let servers = Servers::single();
        let sent = alerts(SENT);
        let file = ndjson(&sent);
        let to = format!("{}/killed", servers.url());
        let (code, _, err) = run(&[
            "publish",
            "--ndjson",
            "--to",
            &to,
            file.path().to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");

        let mut command = idmefv2();
        command
            .args(["consume", "--from", &to, "--durable", "survivor"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut first = support::Guard::spawn(&mut command);
        // Lines are read on a thread of their own, so that a consumer that
        // stalls fails the test (after 30 s) instead of hanging it.
        let stdout = first.child().stdout.take().unwrap();
        let (lines_tx, lines_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if lines_tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let mut written = String::new();
        for _ in 0..KILL_AFTER {
            let line = lines_rx
                .recv_timeout(Duration::from_secs(30))
                .expect("consume stalled or ended early");
            written.push_str(std::str::from_utf8(&line).unwrap());
        }
        first.kill();
        reader.join().unwrap();
        // Whatever it wrote before dying counts; a line cut short does not
        // (it was not flushed, so not acknowledged either).
        for line in lines_rx.try_iter().filter(|l| l.ends_with(b"\n")) {
            written.push_str(std::str::from_utf8(&line).unwrap());
        }

        let started = Instant::now();
        let (code, out, err) = consume(&to, "survivor", &["--idle-timeout", "12"]);
        assert_eq!(code, 0, "{err}");
        let before = ids(&written);
        let after = ids(&out);
        let all: BTreeSet<&String> = before.iter().chain(&after).collect();
        let want: BTreeSet<String> = sent.iter().map(|m| m.id.as_str().to_string()).collect();
        let lost = want.iter().filter(|id| !all.contains(id)).count();
        let repeated = before.len() + after.len() - all.len();
        eprintln!(
            "consumer killed after {} lines: sent {SENT}, consumed {}, lost {lost}, repeated {repeated} \
             (restart took {:?})",
            before.len(),
            all.len(),
            started.elapsed()
        );
        assert_eq!(lost, 0);
        assert_eq!(all.len(), SENT);
        // Only alerts written but not acknowledged come twice: at most one
        // pull's worth.
        assert!(repeated <= 256, "{repeated} repeated");
        let (rt, client) = looking_glass(&servers);
        let info = rt.block_on(consumer_info(&client, "IDMEFV2", "survivor"));
        assert_eq!((info.num_pending, info.num_ack_pending), (0, 0));
    }

    #[test]
    fn a_cluster_node_killed_during_a_publish_loses_and_repeats_nothing() {
        const SENT: usize = 10_000;
        let mut servers = Servers::cluster(3);
        let sent = alerts(SENT);
        let file = ndjson(&sent);
        let rt = runtime();
        // The stream, on all three servers; its leader is the one to kill.
        let (client, leader) = rt.block_on(async {
            let client = nats::connect(&servers.url()).await.unwrap();
            let spec = nats::StreamSpec::new("IDMEFV2", "cluster").replicas(3);
            let deadline = Instant::now() + Duration::from_secs(30);
            // The cluster needs a moment to elect its JetStream leader.
            while let Err(e) = spec.ensure(&client).await {
                assert!(Instant::now() < deadline, "no stream: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let js = async_nats::jetstream::new(client.clone());
            let mut stream = js.get_stream("IDMEFV2").await.unwrap();
            let info = stream.info().await.unwrap();
            let leader = info
                .cluster
                .as_ref()
                .and_then(|c| c.leader.clone())
                .unwrap();
            (client, leader)
        });
        let victim = servers
            .nodes
            .iter()
            .position(|n| n.name() == leader)
            .unwrap();
        let entry = (victim + 1) % 3;
        let watcher_node = (victim + 2) % 3;
        let watcher = rt
            .block_on(nats::connect(&servers.nodes[watcher_node].url()))
            .unwrap();
        drop(client);

        let to = format!("{}/cluster", servers.nodes[entry].url());
        let mut command = idmefv2();
        command
            .args(["publish", "--ndjson", "--replicas", "3", "--to", &to])
            .arg(file.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut publish = support::Guard::spawn(&mut command);
        let mut progress = 0;
        support::wait_until(
            "a fifth of the alerts stored",
            Duration::from_secs(60),
            || {
                progress = rt.block_on(stored(&watcher, "IDMEFV2"));
                progress >= SENT as u64 / 5
            },
        );
        // Still publishing: the kill lands in the middle of it.
        assert!(publish.is_running(), "the publish ended before the kill");
        servers.nodes[victim].kill();
        let killed_at = progress;
        assert!(killed_at < SENT as u64, "all stored before the kill");
        std::thread::sleep(Duration::from_secs(2));
        servers.nodes[victim].start();
        let (code, out, err) = publish.output(Duration::from_secs(90));
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.starts_with(&format!("{SENT} acknowledged")), "{out}");
        // The kill did hit publishes in flight: they had to be sent again.
        assert!(
            err.contains("acknowledged only after being sent again"),
            "{out}{err}"
        );

        // Read it all back through the node that never went down.
        let received = rt.block_on(async {
            assert_eq!(stored(&watcher, "IDMEFV2").await, SENT as u64);
            // While the restarted node catches up, the cluster's JetStream
            // API can answer past the consumer's 5 s deadline (seen with
            // the other tests running beside this one): ask again, for a
            // while. Building is idempotent (get or create).
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut consumer = loop {
                let built = nats::Consumer::builder(watcher.clone(), "IDMEFV2", "audit")
                    .idle_timeout(Duration::from_secs(3))
                    .build()
                    .await;
                match built {
                    Ok(consumer) => break consumer,
                    Err(e) => {
                        assert!(Instant::now() < deadline, "no consumer: {e}");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            };
            let mut ids = Vec::new();
            super::drain(&mut consumer, |d| {
                ids.push(d.message().unwrap().id.as_str().to_string());
            })
            .await;
            // What the server says was left for the consumer when it
            // ended: not yet delivered, and delivered but not acknowledged.
            let info = consumer_info(&watcher, "IDMEFV2", "audit").await;
            let left = format!(
                "consumer ended with {} pending, {} awaiting acknowledgement, {} redelivered",
                info.num_pending, info.num_ack_pending, info.num_redelivered
            );
            (ids, left)
        });
        let (received, left) = received;
        let unique: BTreeSet<&String> = received.iter().collect();
        let want: BTreeSet<String> = sent.iter().map(|m| m.id.as_str().to_string()).collect();
        let lost = want.iter().filter(|id| !unique.contains(id)).count();
        let repeated = received.len() - unique.len();
        eprintln!(
            "leader {leader} killed at {killed_at} stored: sent {SENT}, consumed {}, lost {lost}, \
             repeated {repeated}; {left}; publish said: {} {}",
            received.len(),
            out.trim_end(),
            err.trim_end()
        );
        assert_eq!((lost, repeated, received.len()), (0, 0, SENT), "{left}");
    }

    /// publish, consume and serve --forward against a server started
    /// without -js: each stops at once and says how to start one.
    #[test]
    fn a_server_without_jetstream_is_a_clear_error_for_each_command() {
        let servers = Servers::without_jetstream();
        let hint = "has no JetStream: start nats-server with -js (and -sd DIR to keep the store)";
        let to = format!("{}/alerts", servers.url());
        let file = ndjson(&alerts(1));
        let (code, _, err) = run(&[
            "publish",
            "--ndjson",
            "--to",
            &to,
            file.path().to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(hint), "{err}");
        let (code, _, err) = consume(&to, "archive", &["--idle-timeout", "1"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(hint), "{err}");
        #[cfg(all(feature = "server", feature = "client"))]
        {
            let pki = support::Pki::new();
            let mut serve = support::cli::serve_command(&pki, support::free_port());
            serve
                .args(["--forward", &to])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let (code, _, err) = support::Guard::spawn(&mut serve).output(Duration::from_secs(60));
            assert_ne!(code, 0, "{err}");
            assert!(err.contains(hint), "{err}");
        }
    }

    /// `idmefv2 serve --forward`: what `idmefv2 send` delivers comes out of
    /// the stream, each alert once, with an invalid one refused at the door.
    #[cfg(all(feature = "server", feature = "client"))]
    #[test]
    fn serve_forward_is_a_gateway_into_the_stream() {
        let servers = Servers::single();
        let pki = support::Pki::new();
        let forward = format!("{}/gateway.cli", servers.url());
        let (serve, port) = support::cli::serve(
            &pki,
            &["--forward", &forward, "--stream", "GATEWAYCLI"],
            false,
        );
        let sent = alerts(30);
        let file = ndjson(&sent);
        let send = |paths: &[&str]| {
            let mut args = vec![
                "send".to_string(),
                "--url".to_string(),
                format!("https://localhost:{port}/"),
            ];
            for (option, file) in [
                ("--cert", "client.pem"),
                ("--key", "client.key"),
                ("--ca", "ca.pem"),
            ] {
                args.push(option.to_string());
                args.push(pki.arg(file));
            }
            args.push("--ndjson".to_string());
            args.extend(paths.iter().map(|p| p.to_string()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&args)
        };
        let path = file.path().to_str().unwrap();
        let mut broken = sent[0].to_value();
        broken["ID"] = "not-a-uuid".into();
        let mut invalid = NamedTempFile::new().unwrap();
        writeln!(invalid, "{broken}").unwrap();
        let invalid = invalid.path().to_str().unwrap();
        let (code, out, err) = send(&[path, invalid]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            out.contains("30 accepted, 1 refused, 0 not delivered"),
            "{out}{err}"
        );
        // Sent again: accepted, and still stored once.
        let (code, out, err) = send(&[path]);
        assert_eq!(code, 0, "{out}{err}");
        let (rt, client) = looking_glass(&servers);
        assert_eq!(rt.block_on(stored(&client, "GATEWAYCLI")), 30);

        let (code, out, err) = consume(
            &forward,
            "archive",
            &["--stream", "GATEWAYCLI", "--idle-timeout", "1"],
        );
        assert_eq!(code, 0, "{err}");
        let got: BTreeSet<String> = ids(&out).into_iter().collect();
        let want: BTreeSet<String> = sent.iter().map(|m| m.id.as_str().to_string()).collect();
        assert_eq!(got, want);
        drop(serve);
    }
}
