//! Alerts through a real Kafka-protocol broker (tansu 0.6.0, see
//! `idmefv2_tools::support::kafka`): producing, consuming in a group,
//! dead letters, mutual TLS, and the faults a deployment meets (the broker
//! killed during a publish, a consumer killed while writing, the broker
//! down under `serve --forward`). Every process runs on loopback, on ports
//! picked here, and is killed when its test ends.
#![cfg(feature = "kafka")]

use std::{collections::BTreeSet, time::Duration};

use idmefv2::{
    kafka::{
        self, rdkafka, Class, Connection, Consumer, ErrorKind, Producer, Tls, CONTENT_TYPE_HEADER,
        VERSION_HEADER,
    },
    types::Category,
    Analyzer, Message,
};
use idmefv2_tools::support::{
    kafka::{Broker, TlsProxy},
    Pki,
};

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
            Message::builder(Analyzer::builder("kafka-test").ip("192.0.2.7"))
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

/// Every delivery a fresh group reads from `topic` until nothing comes for
/// two seconds: (key, version, content type, typed ID or none).
async fn drain(
    connection: &Connection,
    topic: &str,
    group: &str,
) -> (Vec<(String, String, String, Option<String>)>, u64) {
    let mut consumer = Consumer::builder(connection.clone(), topic, group)
        .idle_timeout(Duration::from_secs(2))
        .build()
        .await
        .expect("consumer");
    let mut seen = Vec::new();
    while let Some(delivery) = consumer.next().await.expect("next") {
        seen.push((
            String::from_utf8(delivery.key().unwrap_or_default().to_vec()).unwrap(),
            delivery.version().to_string(),
            delivery.content_type().to_string(),
            delivery.message().map(|m| m.id.as_str().to_string()),
        ));
        delivery.ack().expect("ack");
    }
    consumer.commit().await.expect("commit");
    (seen, consumer.dead_lettered())
}

#[test]
fn alerts_go_round_trip_with_their_key_and_headers() {
    let broker = Broker::memory();
    runtime().block_on(async {
        let connection = Connection::new(broker.bootstrap());
        connection.ensure_topic("alerts", 1).await.unwrap();
        // Twice: an existing topic is fine.
        connection.ensure_topic("alerts", 1).await.unwrap();
        let producer = Producer::builder(connection.clone(), "alerts")
            .build()
            .unwrap();
        let sent = alerts(20);
        for alert in &sent {
            producer.publish(alert).await.unwrap();
        }
        producer.publish_json(V04).await.unwrap();
        let (seen, dead) = drain(&connection, "alerts", "round-trip").await;
        assert_eq!(dead, 0);
        assert_eq!(seen.len(), 21);
        for (alert, (key, version, content_type, id)) in sent.iter().zip(&seen) {
            assert_eq!(key, alert.id.as_str());
            assert_eq!(version, alert.version.as_str());
            assert_eq!(content_type, "application/json");
            assert_eq!(id.as_deref(), Some(alert.id.as_str()));
        }
        let (key, version, _, typed) = &seen[20];
        assert_eq!(
            (key.as_str(), version.as_str()),
            ("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "2.D.V04")
        );
        assert_eq!(*typed, None, "an older draft is handed out untyped");

        // The group committed: a new member of it reads nothing again.
        let (again, _) = drain(&connection, "alerts", "round-trip").await;
        assert!(again.is_empty(), "{again:?}");

        // The headers as another client sees them.
        use rdkafka::consumer::{Consumer as _, StreamConsumer};
        use rdkafka::message::{Headers as _, Message as _};
        let raw: StreamConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap())
            .set("group.id", "raw-reader")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "6000")
            .create()
            .unwrap();
        raw.subscribe(&["alerts"]).unwrap();
        let first = tokio::time::timeout(Duration::from_secs(30), raw.recv())
            .await
            .expect("a record within 30 s")
            .unwrap();
        let headers: Vec<(String, Vec<u8>)> = first
            .headers()
            .unwrap()
            .iter()
            .map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec()))
            .collect();
        assert_eq!(
            headers,
            vec![
                (
                    CONTENT_TYPE_HEADER.to_string(),
                    b"application/json".to_vec()
                ),
                (
                    VERSION_HEADER.to_string(),
                    sent[0].version.as_str().as_bytes().to_vec()
                ),
            ]
        );
        assert_eq!(first.payload().unwrap(), sent[0].to_vec());
    });
}

#[test]
fn an_invalid_alert_is_refused_before_the_topic_and_foreign_records_are_dead_lettered() {
    let broker = Broker::memory();
    runtime().block_on(async {
        let connection = Connection::new(broker.bootstrap());
        connection.ensure_topic("checked", 1).await.unwrap();
        let producer = Producer::builder(connection.clone(), "checked")
            .build()
            .unwrap();
        let bad = br#"{"Version": "2.D.V04", "ID": "x", "CreateTime": "2021-05-01T10:00:00Z",
            "Analyzer": {"Name": "ids", "IP": "192.0.2.1"}}"#;
        let error = producer.publish_json(&bad[..]).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Refused);
        assert_eq!(error.class(), Class::Permanent);
        let pointers: Vec<String> = error
            .refusal()
            .unwrap()
            .violations()
            .iter()
            .map(|v| v.pointer().to_string())
            .collect();
        assert!(pointers.contains(&"/ID".to_string()), "{pointers:?}");
        let error = producer
            .deliver(b"{}", "application/json")
            .await
            .unwrap_err();
        assert_eq!(error.class(), Class::Permanent);

        // Another producer puts something that is not an alert on the
        // topic, between two alerts.
        use rdkafka::producer::{FutureProducer, FutureRecord};
        let raw: FutureProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap())
            .create()
            .unwrap();
        let good = alerts(2);
        producer.publish(&good[0]).await.unwrap();
        raw.send(
            FutureRecord::<(), _>::to("checked").payload("[1, 2]"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        producer
            .deliver(&good[1].to_vec(), "application/json")
            .await
            .unwrap();

        // Only the two alerts come out; the foreign record is copied to
        // the dead-letter topic and committed past.
        let (seen, dead) = drain(&connection, "checked", "checker").await;
        let ids: Vec<Option<String>> = seen.into_iter().map(|s| s.3).collect();
        let want: Vec<Option<String>> = good.iter().map(|m| Some(m.id.to_string())).collect();
        assert_eq!(ids, want);
        assert_eq!(dead, 1);

        use rdkafka::consumer::{Consumer as _, StreamConsumer};
        use rdkafka::message::{Headers as _, Message as _};
        let reader: StreamConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap())
            .set("group.id", "dead-reader")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "6000")
            .create()
            .unwrap();
        reader.subscribe(&["checked.dead-letter"]).unwrap();
        let letter = tokio::time::timeout(Duration::from_secs(30), reader.recv())
            .await
            .expect("a dead letter within 30 s")
            .unwrap();
        assert_eq!(letter.payload().unwrap(), b"[1, 2]");
        let headers: Vec<(String, String)> = letter
            .headers()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h.key.to_string(),
                    String::from_utf8(h.value.unwrap_or_default().to_vec()).unwrap(),
                )
            })
            .collect();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {name} in {headers:?}"))
        };
        assert_eq!(get(kafka::SOURCE_TOPIC_HEADER), "checked");
        assert_eq!(get(kafka::SOURCE_OFFSET_HEADER), "1");
        assert_eq!(get(kafka::VIOLATION_COUNT_HEADER), "1");
        let listed: serde_json::Value =
            serde_json::from_str(&get(kafka::VIOLATIONS_HEADER)).unwrap();
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
        assert!(listed[0]["pointer"].is_string(), "{listed}");
    });
}

#[test]
fn mutual_tls_through_a_proxy_refuses_a_client_without_a_certificate() {
    let pki = Pki::new();
    let (mut proxy, listener) = TlsProxy::bind();
    let broker = Broker::behind(proxy.port());
    proxy.forward_to(listener, &pki, broker.port());
    let servers = format!("127.0.0.1:{}", proxy.port());
    runtime().block_on(async {
        let tls = Tls::new().ca(pki.path("ca.pem"));
        let with = Connection::new(&servers).tls(
            tls.clone()
                .identity(pki.path("client.pem"), pki.path("client.key")),
        );
        with.ensure_topic("secure", 1).await.unwrap();
        let producer = Producer::builder(with.clone(), "secure")
            .deliver_within(Duration::from_secs(20))
            .build()
            .unwrap();
        let sent = alerts(3);
        for alert in &sent {
            producer.publish(alert).await.unwrap();
        }
        let (seen, _) = drain(&with, "secure", "secure-reader").await;
        assert_eq!(seen.len(), 3);

        // No client certificate: the proxy ends the handshake, and the
        // alert is not acknowledged.
        let without = Connection::new(&servers).tls(tls.clone());
        let refused = Producer::builder(without, "secure")
            .deliver_within(Duration::from_secs(3))
            .build()
            .unwrap();
        let error = refused.publish(&alerts(1)[0]).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Publish, "{error}");
        // A certificate from a CA the proxy does not trust: refused too.
        let stranger = Connection::new(&servers)
            .tls(tls.identity(pki.path("other-client.pem"), pki.path("other-client.key")));
        let refused = Producer::builder(stranger, "secure")
            .deliver_within(Duration::from_secs(3))
            .build()
            .unwrap();
        assert!(refused.publish(&alerts(1)[0]).await.is_err());
        // Nothing more reached the topic.
        let (seen, _) = drain(&with, "secure", "secure-audit").await;
        assert_eq!(seen.len(), 3);
    });
}

#[cfg(feature = "cli")]
mod cli {
    use std::{
        io::{BufRead, BufReader, Write},
        process::{Command, Stdio},
        sync::{
            atomic::{AtomicBool, AtomicU64, Ordering},
            Arc,
        },
    };

    use idmefv2_tools::support::{self, curl::Curl, Guard};
    use tempfile::NamedTempFile;

    use super::*;

    fn idmefv2() -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_idmefv2"));
        command.stdin(Stdio::null());
        command
    }

    /// Runs the tool to its end (two minutes at most).
    fn run(args: &[&str]) -> (i32, String, String) {
        let mut command = idmefv2();
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Guard::spawn(&mut command).output(Duration::from_secs(120))
    }

    fn consume(from: &str, group: &str, more: &[&str]) -> (i32, String, String) {
        let mut args = vec!["consume", "--from", from, "--group", group];
        args.extend(more);
        run(&args)
    }

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

    /// Sent, lost and repeated, from the IDs sent and those read.
    fn tally(sent: &[Message], read: &[String]) -> (usize, usize) {
        let unique: BTreeSet<&String> = read.iter().collect();
        let lost = sent
            .iter()
            .filter(|m| !unique.contains(&m.id.to_string()))
            .count();
        (lost, read.len() - unique.len())
    }

    #[test]
    fn publish_then_consume_round_trip_and_refusals() {
        let broker = Broker::memory();
        let to = broker.url("cli");
        let sent = alerts(50);
        let file = ndjson(&sent);
        let (code, out, err) = run(&[
            "publish",
            "--ndjson",
            "--to",
            &to,
            file.path().to_str().unwrap(),
        ]);
        assert_eq!(
            (code, out.as_str()),
            (0, "50 acknowledged, 0 refused\n"),
            "{err}"
        );
        // An invalid alert: refused with its pointer, not sent.
        let mut bad = NamedTempFile::new().unwrap();
        bad.write_all(br#"{"Version": "2.D.V08", "ID": "nope"}"#)
            .unwrap();
        let (code, out, err) = run(&["publish", "--to", &to, bad.path().to_str().unwrap()]);
        assert_eq!(
            (code, out.as_str()),
            (1, "0 acknowledged, 1 refused\n"),
            "{err}"
        );
        assert!(err.contains(":1: "), "{err}");
        // --max-bytes as for NATS.
        let (code, _, err) = run(&[
            "publish",
            "--max-bytes",
            "100",
            "--to",
            &to,
            file.path().to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{err}");

        let (code, out, err) = consume(&to, "reader", &["--idle-timeout", "2"]);
        assert_eq!(code, 0, "{err}");
        let want: Vec<String> = sent.iter().map(|m| m.id.to_string()).collect();
        assert_eq!(ids(&out), want);
        let (code, out, _) = consume(&to, "reader", &["--idle-timeout", "1"]);
        assert_eq!((code, out.as_str()), (0, ""), "committed: nothing again");
        let (code, out, err) = consume(&to, "counted", &["--count", "7"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(ids(&out), want[..7]);
        // Usage: a group is for Kafka, --durable for NATS.
        let (code, _, err) = run(&["consume", "--from", &to, "--durable", "d"]);
        assert_eq!(code, 2, "{err}");
    }

    #[test]
    fn send_spools_alerts_to_a_topic_through_the_delivery_engine() {
        // `send --url kafka://…`: the HTTPS sender's engine with the Kafka
        // producer as its deliverer. Valid alerts are acknowledged by the
        // broker and leave the spool; an invalid one is dead-lettered with
        // its pointer, never reaching the topic; a second run finds
        // nothing left to send.
        let broker = Broker::memory();
        let to = broker.url("sent");
        let sent = alerts(30);
        let mut lines = Vec::new();
        for message in &sent {
            lines.extend(message.to_vec());
            lines.push(b'\n');
        }
        lines.extend_from_slice(b"{\"Version\": \"2.D.V08\", \"ID\": \"nope\"}\n");
        let mut file = NamedTempFile::new().unwrap();
        file.write_all(&lines).unwrap();
        let spool = tempfile::tempdir().unwrap();
        let spool_arg = spool.path().to_str().unwrap();
        let path = file.path().to_str().unwrap();
        let (code, out, err) = run(&["send", "--url", &to, "--spool", spool_arg, "--ndjson", path]);
        // The refusal's reasons, one line each, as for an HTTPS receiver.
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            out.ends_with("\n30 accepted, 1 refused, 0 not delivered\n"),
            "{out}"
        );
        assert!(
            out.contains(&format!("{path}:31: /ID: not a UUID")),
            "{out}"
        );
        let dead = std::fs::read_to_string(spool.path().join("dead-letter.ndjson")).unwrap();
        assert_eq!(dead.lines().count(), 1, "{dead}");
        let (code, out, err) = run(&["send", "--url", &to, "--spool", spool_arg]);
        assert_eq!(
            (code, out.as_str()),
            (0, "0 accepted, 0 refused, 0 not delivered\n"),
            "{err}"
        );
        // Each alert once; in the order of their acknowledgements, which
        // --concurrency lets come in any order.
        let (code, out, err) = consume(&to, "sent-reader", &["--idle-timeout", "2"]);
        assert_eq!(code, 0, "{err}");
        let mut want: Vec<String> = sent.iter().map(|m| m.id.to_string()).collect();
        let mut got = ids(&out);
        want.sort();
        got.sort();
        assert_eq!(got, want);
        // What is for HTTPS receivers only is refused by name.
        let (code, _, err) = run(&["send", "--url", &to, "--insecure-plaintext", path]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("--insecure-plaintext is for https://"),
            "{err}"
        );
    }

    #[test]
    fn the_broker_killed_after_half_the_acknowledgements_loses_nothing() {
        const SENT: usize = 10_000;
        const KILL_AFTER: u64 = 5_000;
        let mut broker = Broker::s3();
        let to = broker.url("crash");
        let bootstrap = broker.bootstrap();
        let sent = alerts(SENT);
        let lines: Vec<Vec<u8>> = sent
            .iter()
            .map(|m| {
                let mut line = m.to_vec();
                line.push(b'\n');
                line
            })
            .collect();

        // The publish reads its standard input: the first half, then the
        // rest once the broker is dead.
        let mut command = idmefv2();
        command
            .args(["publish", "--ndjson", "--to", &to, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut publish = Guard::spawn(&mut command);
        let mut stdin = publish.child().stdin.take().unwrap();
        for line in &lines[..KILL_AFTER as usize] {
            stdin.write_all(line).unwrap();
        }
        stdin.flush().unwrap();

        // A watcher in a group of its own counts what the topic holds: a
        // record is readable only once the broker acknowledged it.
        let stored = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (stored, stop, bootstrap) = (stored.clone(), stop.clone(), bootstrap.clone());
            std::thread::spawn(move || {
                runtime().block_on(async {
                    let mut consumer =
                        Consumer::builder(Connection::new(bootstrap), "crash", "watch")
                            .idle_timeout(Duration::from_millis(500))
                            .build()
                            .await
                            .unwrap();
                    while !stop.load(Ordering::Relaxed) {
                        while let Ok(Some(d)) = consumer.next().await {
                            stored.fetch_add(1, Ordering::Relaxed);
                            let _ = d.ack();
                            if stored.load(Ordering::Relaxed) >= KILL_AFTER {
                                return;
                            }
                        }
                    }
                })
            })
        };
        support::wait_until(
            "the first half acknowledged",
            Duration::from_secs(90),
            || stored.load(Ordering::Relaxed) >= KILL_AFTER,
        );
        stop.store(true, Ordering::Relaxed);
        watcher.join().unwrap();
        assert!(publish.is_running(), "the publish ended before the kill");
        broker.kill();
        // The second half goes to librdkafka while the broker is dead.
        for line in &lines[KILL_AFTER as usize..] {
            stdin.write_all(line).unwrap();
        }
        drop(stdin);
        std::thread::sleep(Duration::from_secs(2));
        broker.start();
        let (code, out, err) = publish.output(Duration::from_secs(120));
        assert_eq!(code, 0, "{out}{err}\n{}", broker.log());
        assert_eq!(out, format!("{SENT} acknowledged, 0 refused\n"), "{err}");

        let (code, out, err) = consume(&to, "audit", &["--idle-timeout", "3"]);
        assert_eq!(code, 0, "{err}");
        let read = ids(&out);
        let (lost, repeated) = tally(&sent, &read);
        eprintln!(
            "broker killed after {KILL_AFTER} acknowledgements: sent {SENT}, stored {}, \
             lost {lost}, repeated {repeated}",
            read.len()
        );
        assert_eq!(lost, 0);
    }

    #[test]
    fn a_consumer_killed_mid_stream_resumes_from_its_committed_offset() {
        const SENT: usize = 3000;
        const KILL_AFTER: usize = 1000;
        let broker = Broker::memory();
        let to = broker.url("resume");
        let sent = alerts(SENT);
        let file = ndjson(&sent);
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
            .args(["consume", "--from", &to, "--group", "survivor"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut first = Guard::spawn(&mut command);
        let stdout = first.child().stdout.take().unwrap();
        let (lines_tx, lines_rx) = std::sync::mpsc::channel();
        let (go_on, paused) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut count = 0;
            loop {
                // After KILL_AFTER lines the reader stops until the kill:
                // the pipe fills and the consumer blocks writing.
                if count == KILL_AFTER {
                    let _ = paused.recv();
                }
                count += 1;
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
                .recv_timeout(Duration::from_secs(60))
                .expect("consume stalled or ended early");
            written.push_str(std::str::from_utf8(&line).unwrap());
        }
        // Let a commit or two happen, so that the restart resumes from a
        // committed offset rather than from the start.
        std::thread::sleep(Duration::from_millis(2500));
        first.kill();
        drop(go_on);
        reader.join().unwrap();
        for line in lines_rx.try_iter().filter(|l| l.ends_with(b"\n")) {
            written.push_str(std::str::from_utf8(&line).unwrap());
        }
        let before = ids(&written);
        assert!(before.len() < SENT, "the first consumer read everything");

        let (code, out, err) = consume(&to, "survivor", &["--idle-timeout", "3"]);
        assert_eq!(code, 0, "{err}");
        let after = ids(&out);
        let all: Vec<String> = before.iter().chain(&after).cloned().collect();
        let (lost, repeated) = tally(&sent, &all);
        eprintln!(
            "consumer killed after {} lines: sent {SENT}, read {}, lost {lost}, repeated {repeated}",
            before.len(),
            all.len(),
        );
        assert_eq!(lost, 0);
        // It resumed from a committed offset, not from the start.
        assert!(after.len() < SENT, "read everything again");
        assert_eq!(after.last(), Some(&sent[SENT - 1].id.to_string()));
    }

    #[test]
    fn the_gateway_answers_503_while_the_broker_is_down_and_stores_after() {
        support::require(&["curl"]);
        let pki = Pki::new();
        let mut broker = Broker::s3();
        let to = broker.url("gateway");
        let (mut serve, port) = support::cli::serve(&pki, &["--forward", &to], false);
        let url = format!("https://localhost:{port}/");
        let (first, second) = {
            let mut two = alerts(2);
            (two.remove(0), two.remove(0))
        };
        let post = |alert: &Message| {
            Curl::new(&pki, &url, Some("client"))
                .header("Content-Type: application/json")
                .post(&alert.to_vec())
                .run()
        };
        assert_eq!(post(&first).status, 204);

        broker.kill();
        let down = post(&second);
        assert_eq!(down.status, 503, "{}", down.body);
        assert!(down.headers.contains("retry-after: 1"), "{}", down.headers);

        broker.start();
        // The sender retries, as told; the producer reconnects.
        let mut answer = post(&second);
        for _ in 0..5 {
            if answer.status == 204 {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
            answer = post(&second);
        }
        assert_eq!(answer.status, 204, "{}", answer.body);
        assert!(serve.is_running());

        let (code, out, err) = consume(&to, "gateway-audit", &["--idle-timeout", "2"]);
        assert_eq!(code, 0, "{err}");
        let read = ids(&out);
        assert!(read.contains(&first.id.to_string()), "{read:?}");
        assert!(read.contains(&second.id.to_string()), "{read:?}");
    }
}
