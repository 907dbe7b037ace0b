//! The HTTPS receiver, driven by curl (a client nobody here wrote) and by
//! the `idmefv2 serve` command line.
#![cfg(all(feature = "server", feature = "client"))]

use std::{
    fs,
    future::Future,
    io,
    sync::{Arc, Mutex},
    time::Duration,
};

use idmefv2::http::{
    client::Client,
    server::{Event, FileSink, ReceiveOptions, Received, Server, Sink, SinkError},
    tls::{Pin, ServerTls},
};
use idmefv2_tools::support::{
    self,
    curl::{Curl, Exchange},
    fixture, message, Pki,
};

/// A server running on its own runtime thread, stopped when dropped.
struct Running {
    port: u16,
    events: Arc<Mutex<Vec<Event>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// Stops the server and waits until it has closed its sink.
    fn stop(&mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().expect("server thread"),
            None => Ok(()),
        }
    }

    /// The requests answered so far: (peer, status, violations).
    fn requests(&self) -> Vec<(String, u16, usize)> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::Request(o) => Some((
                    o.peer.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                    o.status,
                    o.violations.len(),
                )),
                _ => None,
            })
            .collect()
    }

    fn refused_connections(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::Refused { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn start<S: Sink>(server: Server, sink: S) -> Running {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let server = server.observe(move |e| seen.lock().unwrap().push(e.clone()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let port = listener.local_addr().expect("address").port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            server
                .serve(listener, sink, async {
                    let _ = stopped.await;
                })
                .await
        })
    });
    Running {
        port,
        events,
        stop: Some(stop),
        thread: Some(thread),
    }
}

fn tls(pki: &Pki) -> ServerTls {
    ServerTls::from_pem(
        &pki.read("server.pem"),
        &pki.read("server.key"),
        &pki.read("ca.pem"),
    )
    .expect("server TLS")
}

/// A server at `/` writing to `out.ndjson` in the PKI's folder.
fn file_server(pki: &Pki, tls: ServerTls, options: ReceiveOptions) -> (Running, Arc<FileSink>) {
    let sink = Arc::new(FileSink::open(pki.path("out.ndjson")).expect("sink"));
    let server = Server::new(tls).expect("server").options(options);
    (start(server, sink.clone()), sink)
}

/// POSTs `body` as `application/json` with curl, presenting `client`.
fn post(pki: &Pki, url: &str, client: &str, version: &str, body: &[u8]) -> Exchange {
    Curl::new(pki, url, Some(client))
        .arg(version)
        .header("Content-Type: application/json")
        .post(body)
        .run()
}

fn lines(pki: &Pki) -> Vec<String> {
    fs::read_to_string(pki.path("out.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_valid_message_is_acknowledged_with_204_over_http2_and_http11_and_stored() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (server, sink) = file_server(&pki, tls(&pki), ReceiveOptions::default());
    let (id2, body2) = message();
    let (id1, body1) = message();
    let h2 = post(&pki, &server.url("/"), "client", "--http2", &body2);
    assert_eq!(
        (h2.exit, h2.status, h2.version.as_str()),
        (0, 204, "2"),
        "{h2:?}"
    );
    let h1 = post(&pki, &server.url("/"), "client", "--http1.1", &body1);
    assert_eq!(
        (h1.exit, h1.status, h1.version.as_str()),
        (0, 204, "1.1"),
        "{h1:?}"
    );
    assert!(h1.body.is_empty());
    let stored = lines(&pki);
    assert_eq!(stored.len(), 2);
    assert!(stored[0].contains(&id2) && stored[1].contains(&id1));
    assert_eq!(stored[1].as_bytes(), body1.as_slice(), "kept byte for byte");
    assert_eq!(sink.stats().messages, 2);
    assert_eq!(
        server.requests(),
        [
            ("sensor.test".to_string(), 204, 0),
            ("sensor.test".to_string(), 204, 0)
        ]
    );
}

#[test]
fn http11_keeps_the_connection_and_http2_multiplexes_one() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (server, _sink) = file_server(&pki, tls(&pki), ReceiveOptions::default());
    let (_, body) = message();
    let url = server.url("/");
    for version in ["--http1.1", "--http2"] {
        // One curl run, three transfers: only the first one connects.
        fs::write(pki.path("body.json"), &body).unwrap();
        let out = support::run_bounded(
            std::process::Command::new("curl")
                .args(["-sS", "--max-time", "20", version, "--cacert"])
                .arg(pki.path("ca.pem"))
                .arg("--cert")
                .arg(pki.path("client.pem"))
                .arg("--key")
                .arg(pki.path("client.key"))
                .args(["-H", "Content-Type: application/json", "--data-binary"])
                .arg(format!("@{}", pki.path("body.json").display()))
                .args(["-w", "%{http_code} %{num_connects} %{http_version}\\n"])
                .args([&url, &url, &url]),
            None,
            Duration::from_secs(30),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let v = if version == "--http2" { "2" } else { "1.1" };
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                format!("204 1 {v}"),
                format!("204 0 {v}"),
                format!("204 0 {v}")
            ],
            "{version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn chunked_bodies_are_read_over_http11() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (server, _sink) = file_server(&pki, tls(&pki), ReceiveOptions::default());
    let (id, body) = message();
    let out = Curl::new(&pki, &server.url("/"), Some("client"))
        .arg("--http1.1")
        .header("Content-Type: application/json")
        .header("Transfer-Encoding: chunked")
        .post(&body)
        .run();
    assert_eq!((out.exit, out.status), (0, 204), "{out:?}");
    assert!(lines(&pki)[0].contains(&id));
}

#[test]
fn other_methods_get_405_with_allow_post_and_other_paths_404() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (server, _sink) = file_server(&pki, tls(&pki), ReceiveOptions::default());
    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let out = Curl::new(&pki, &server.url("/"), Some("client"))
            .arg("--http1.1")
            .arg("-X")
            .arg(method)
            .run();
        assert_eq!(out.status, 405, "{method}: {out:?}");
        assert!(out.headers.contains("allow: post\r\n"), "{}", out.headers);
    }
    let head = Curl::new(&pki, &server.url("/"), Some("client"))
        .arg("--http1.1")
        .arg("--head")
        .run();
    assert_eq!(head.status, 405);
    let (_, body) = message();
    let out = post(&pki, &server.url("/alerts"), "client", "--http1.1", &body);
    assert_eq!(out.status, 404, "{out:?}");
    assert!(lines(&pki).is_empty());
}

#[test]
fn the_path_is_configurable() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let sink = Arc::new(FileSink::open(pki.path("out.ndjson")).unwrap());
    let server = Server::new(tls(&pki)).unwrap().path("/idmef/v2").unwrap();
    let server = start(server, sink);
    let (_, body) = message();
    let ask = |path: &str| post(&pki, &server.url(path), "client", "--http1.1", &body).status;
    assert_eq!(ask("/idmef/v2"), 204);
    assert_eq!(ask("/"), 404);
    assert_eq!(ask("/idmef/v2/"), 404);
    assert!(Server::new(tls(&pki)).unwrap().path("idmef").is_err());
}

#[test]
fn content_type_picks_the_codec_and_unknown_types_get_415() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (server, _sink) = file_server(&pki, tls(&pki), ReceiveOptions::default());
    let (_, body) = message();
    let ask = |content_type: Option<&str>| {
        let mut curl = Curl::new(&pki, &server.url("/"), Some("client")).arg("--http1.1");
        curl = match content_type {
            Some(t) => curl.header(&format!("Content-Type: {t}")),
            // curl's own default for --data is a form type; remove it.
            None => curl.header("Content-Type:"),
        };
        curl.post(&body).run()
    };
    assert_eq!(ask(Some("Application/JSON; charset=utf-8")).status, 204);
    assert_eq!(ask(Some("text/json")).status, 204);
    let refused = ask(Some("application/x-idmefv2"));
    assert_eq!(refused.status, 415, "{refused:?}");
    assert!(refused.headers.contains("content-type: application/json"));
    let answer: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
    assert!(answer["supported"]
        .as_array()
        .unwrap()
        .contains(&"application/json".into()));
    assert_eq!(ask(None).status, 415);
    assert_eq!(ask(Some("application/x-www-form-urlencoded")).status, 415);
}

#[test]
fn accept_is_negotiated_and_406_when_nothing_fits() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (server, _sink) = file_server(&pki, tls(&pki), ReceiveOptions::default());
    let (_, body) = message();
    let ask = |accept: &str| {
        Curl::new(&pki, &server.url("/"), Some("client"))
            .arg("--http1.1")
            .header("Content-Type: application/json")
            .header(accept)
            .post(&body)
            .run()
    };
    // No Accept at all (curl's default */* removed): application/json.
    assert_eq!(ask("Accept:").status, 204);
    assert_eq!(ask("Accept: application/json").status, 204);
    assert_eq!(ask("Accept: text/html, */*;q=0.1").status, 204);
    let refused = ask("Accept: application/x-example-type");
    assert_eq!(refused.status, 406, "{refused:?}");
    let answer: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(answer["alternatives"][0], "application/json");
    assert_eq!(ask("Accept: application/json;q=0").status, 406);
    // The refusal of an invalid message comes in the negotiated type.
    let invalid = Curl::new(&pki, &server.url("/"), Some("client"))
        .arg("--http1.1")
        .header("Content-Type: application/json")
        .header("Accept: text/json")
        .post(b"{}")
        .run();
    assert_eq!(invalid.status, 400);
    assert!(
        invalid.headers.contains("content-type: text/json"),
        "{}",
        invalid.headers
    );
}

#[test]
fn bodies_over_the_limit_get_413_by_length_or_while_streaming() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let options = ReceiveOptions::default().max_bytes(1024);
    let (server, _sink) = file_server(&pki, tls(&pki), options);
    let big = vec![b' '; 5000];
    let declared = Curl::new(&pki, &server.url("/"), Some("client"))
        .arg("--http1.1")
        .header("Content-Type: application/json")
        .header("Expect: 100-continue")
        .post(&big)
        .run();
    assert_eq!(declared.status, 413, "{declared:?}");
    let streamed = Curl::new(&pki, &server.url("/"), Some("client"))
        .arg("--http1.1")
        .header("Content-Type: application/json")
        .header("Transfer-Encoding: chunked")
        .header("Expect: 100-continue")
        .post(&big)
        .run();
    assert_eq!(streamed.status, 413, "{streamed:?}");
    // At the limit is fine.
    let (_, body) = message();
    assert!(body.len() <= 1024);
    let fits = post(&pki, &server.url("/"), "client", "--http1.1", &body);
    assert_eq!(fits.status, 204);
}

#[test]
fn invalid_messages_get_400_listing_every_violation_without_values() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (server, _sink) = file_server(&pki, tls(&pki), ReceiveOptions::default());
    let bad =
        br#"{"Version": "2.D.V08", "ID": "secret-token-4404", "CreateTime": "2025-01-01T00:00:00Z",
                   "Analyzer": {"Name": "x", "IP": "300.1.1.1"}}"#;
    for version in ["--http1.1", "--http2"] {
        let out = post(&pki, &server.url("/"), "client", version, bad);
        assert_eq!(out.status, 400, "{out:?}");
        let answer: serde_json::Value = serde_json::from_str(&out.body).unwrap();
        let mut pointers: Vec<&str> = answer["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()));
                v["pointer"].as_str().unwrap()
            })
            .collect();
        pointers.sort();
        assert_eq!(pointers, ["/Analyzer/IP", "/ID"]);
        assert!(!out.body.contains("secret-token") && !out.body.contains("300.1.1.1"));
    }
    for broken in [&b"{\"Version\": "[..], b"[]", b"", b"{} {}"] {
        let out = post(&pki, &server.url("/"), "client", "--http1.1", broken);
        assert_eq!(out.status, 400, "{broken:?}: {out:?}");
        let answer: serde_json::Value = serde_json::from_str(&out.body).unwrap();
        assert!(!answer["violations"].as_array().unwrap().is_empty());
    }
    assert!(lines(&pki).is_empty());
    assert_eq!(server.requests()[0], ("sensor.test".into(), 400, 2));
}

#[test]
fn every_draft_is_accepted_as_sent_or_upgraded_on_request() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let v04 = fixture("fixtures/drafts/valid/v04-minimal.json");
    let v07 = fixture("fixtures/drafts/valid/v07-minimal.json");
    {
        let (server, _sink) = file_server(&pki, tls(&pki), ReceiveOptions::default());
        for body in [&v04, &v07] {
            let out = post(&pki, &server.url("/"), "client", "--http1.1", body);
            assert_eq!(out.status, 204, "{out:?}");
        }
        let stored = lines(&pki);
        // As sent, on one line: the pretty-printed fixture's line breaks
        // became spaces, nothing else changed.
        let flat: Vec<u8> = v04
            .iter()
            .map(|&b| if b == b'\n' { b' ' } else { b })
            .collect();
        assert_eq!(stored[0].as_bytes(), flat.as_slice());
        let value: serde_json::Value = serde_json::from_str(&stored[1]).unwrap();
        assert_eq!(value["Version"], "2.D.V07");
    }
    fs::remove_file(pki.path("out.ndjson")).unwrap();
    let (server, _sink) = file_server(&pki, tls(&pki), ReceiveOptions::default().upgrade(true));
    let out = post(&pki, &server.url("/"), "client", "--http1.1", &v04);
    assert_eq!(out.status, 204);
    let value: serde_json::Value = serde_json::from_str(&lines(&pki)[0]).unwrap();
    assert_eq!(value["Version"], "2.D.V08");
    assert_eq!(value["ID"], "6ba7b801-9dad-11d1-80b4-00c04fd430c8");
    idmefv2::validate(&value).expect("the stored message is a valid 2.D.V08 message");
}

/// A sink that refuses everything, as a full disk or a down database would.
struct Failing(Option<Duration>);

impl Sink for Failing {
    fn keep(&self, _message: Received) -> impl Future<Output = Result<(), SinkError>> + Send {
        let error = match self.0 {
            Some(after) => SinkError::unavailable("database down", after),
            None => SinkError::internal("bug"),
        };
        std::future::ready(Err(error))
    }
}

/// A sink that notes what it was handed: whether the typed message came,
/// the ID and the version.
#[derive(Clone)]
struct Noting {
    typed: bool,
    seen: Arc<Mutex<Vec<(bool, String, String)>>>,
}

impl Sink for Noting {
    fn keep(&self, message: Received) -> impl Future<Output = Result<(), SinkError>> + Send {
        self.seen
            .lock()
            .unwrap()
            .push((message.message.is_some(), message.id, message.version));
        std::future::ready(Ok(()))
    }

    fn needs_typed_message(&self) -> bool {
        self.typed
    }
}

#[test]
fn a_sink_that_needs_no_typed_message_gets_the_id_without_it() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (id, body) = message();
    for typed in [true, false] {
        let sink = Noting {
            typed,
            seen: Arc::default(),
        };
        let server = start(Server::new(tls(&pki)).unwrap(), sink.clone());
        let out = post(&pki, &server.url("/"), "client", "--http1.1", &body);
        assert_eq!(out.status, 204, "{out:?}");
        // An invalid message is refused the same way either way.
        let broken = String::from_utf8(body.clone())
            .unwrap()
            .replace("192.0.2.1", "192.0.2.300");
        let out = post(
            &pki,
            &server.url("/"),
            "client",
            "--http1.1",
            broken.as_bytes(),
        );
        assert_eq!(out.status, 400, "{out:?}");
        assert!(out.body.contains("/Analyzer/IP"), "{}", out.body);
        let seen = sink.seen.lock().unwrap().clone();
        assert_eq!(seen, [(typed, id.clone(), "2.D.V08".to_string())]);
    }
}

#[test]
fn a_sink_failure_is_503_with_retry_after_or_500() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (_, body) = message();
    for (sink, status, retry) in [
        (
            Failing(Some(Duration::from_millis(2500))),
            503,
            Some("retry-after: 3\r\n"),
        ),
        (Failing(None), 500, None),
    ] {
        let server = start(Server::new(tls(&pki)).unwrap(), sink);
        let out = post(&pki, &server.url("/"), "client", "--http2", &body);
        assert_eq!(out.status, status, "{out:?}");
        if let Some(retry) = retry {
            assert!(out.headers.contains(retry), "{}", out.headers);
        }
        // The sink's reason stays in the server's log.
        assert!(!out.body.contains("database") && !out.body.contains("bug"));
    }
}

#[test]
fn clients_without_a_trusted_identity_are_refused_during_the_handshake() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (server, _sink) = file_server(&pki, tls(&pki), ReceiveOptions::default());
    let (_, body) = message();
    let cases: [(&str, Option<&str>, &[&str]); 5] = [
        ("no certificate", None, &[]),
        ("untrusted CA", Some("other-client"), &[]),
        ("wildcard DNS-ID", Some("wildcard-client"), &[]),
        ("common name only", Some("cn-client"), &[]),
        ("TLS 1.2 at most", Some("client"), &["--tls-max", "1.2"]),
    ];
    for (case, client, extra) in cases {
        for version in ["--http1.1", "--http2"] {
            let mut curl = Curl::new(&pki, &server.url("/"), client).arg(version);
            for arg in extra {
                curl = curl.arg(arg);
            }
            let out = curl
                .header("Content-Type: application/json")
                .post(&body)
                .run();
            assert_ne!(out.exit, 0, "{case} {version}: {out:?}");
            assert_eq!(out.status, 0, "{case} {version}: {out:?}");
        }
    }
    assert!(lines(&pki).is_empty());
    assert!(server.requests().is_empty());
    let refused = server.refused_connections();
    assert_eq!(refused.len(), 10, "{refused:?}");
    assert!(
        refused.iter().any(|r| r.contains("wildcard")),
        "{refused:?}"
    );
    assert!(
        refused.iter().any(|r| r.contains("no DNS-ID")),
        "{refused:?}"
    );
}

#[test]
fn allowed_peers_and_pins_narrow_who_gets_in() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (_, body) = message();
    let ask = |server: &Running, client: &str| {
        post(&pki, &server.url("/"), client, "--http1.1", &body).status
    };
    {
        let (server, _sink) = file_server(
            &pki,
            tls(&pki).allow_peer("OTHER.test"),
            ReceiveOptions::default(),
        );
        assert_eq!(ask(&server, "client2"), 204);
        assert_eq!(ask(&server, "client"), 0);
    }
    let pin: Pin = pki.fingerprint("client").parse().unwrap();
    let (server, _sink) = file_server(&pki, tls(&pki).pin(pin), ReceiveOptions::default());
    assert_eq!(ask(&server, "client"), 204);
    assert_eq!(ask(&server, "client2"), 0);
}

#[test]
fn every_acknowledged_message_is_in_the_file_and_concurrent_ones_share_syncs() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let (server, sink) = file_server(&pki, tls(&pki), ReceiveOptions::default());
    let client = Client::builder(server.url("/"))
        .identity_pem(&pki.read("client.pem"), &pki.read("client.key"))
        .ca_pem(&pki.read("ca.pem"))
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    const COUNT: usize = 300;
    let acknowledged: Vec<String> = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..COUNT {
            let client = client.clone();
            tasks.spawn(async move {
                let (id, body) = message();
                client
                    .send_bytes(body, "application/json")
                    .await
                    .map(|()| id)
            });
        }
        let mut ids = Vec::new();
        while let Some(result) = tasks.join_next().await {
            ids.push(result.unwrap().expect("acknowledged"));
        }
        ids
    });
    // Read right after the last 204, before anything else happens.
    let stored = fs::read_to_string(pki.path("out.ndjson")).unwrap();
    for id in &acknowledged {
        assert!(
            stored.contains(id.as_str()),
            "{id} acknowledged but not stored"
        );
    }
    assert_eq!(stored.lines().count(), COUNT);
    let stats = sink.stats();
    assert_eq!(stats.messages, COUNT as u64);
    // How many share each sync depends on how the requests' arrivals fall
    // on this machine (one run here had at least half as many syncs as
    // messages); that queued messages share one is shown by
    // `the_file_sink_shares_one_sync_among_queued_messages`. Here: some do.
    assert!(
        stats.syncs < stats.messages,
        "no group commit: {} syncs for {} messages",
        stats.syncs,
        stats.messages
    );
}

#[test]
fn the_file_sink_shares_one_sync_among_queued_messages() {
    let pki = Pki::new();
    let sink = FileSink::open(pki.path("out.ndjson")).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Build the requests a server would hand over at once: the sink queues
    // each when `keep` is called, before anything is awaited.
    let received: Vec<Received> = (0..100)
        .map(|_| received_for(&runtime, message().1))
        .collect();
    let pending: Vec<_> = received.into_iter().map(|r| sink.keep(r)).collect();
    runtime.block_on(async {
        for p in pending {
            p.await.expect("kept");
        }
    });
    let stats = sink.stats();
    assert_eq!(stats.messages, 100);
    // Without group commit this is 100. The writer takes what is queued
    // when it wakes, so if this thread is preempted while queueing (other
    // tests share the two cores) a few small batches go first: a run of
    // CI here on a fast disk made 12 syncs. A quarter leaves room for
    // that and still fails when messages are synced one by one.
    assert!(stats.syncs <= 25, "{stats:?}");
    assert_eq!(lines(&pki).len(), 100);
}

/// A [`Received`] as the extractor makes it, through a real request.
fn received_for(runtime: &tokio::runtime::Runtime, body: Vec<u8>) -> Received {
    use axum::extract::FromRequest;
    let request = axum::http::Request::post("/")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    let idmefv2::http::server::Idmef(received) = runtime
        .block_on(idmefv2::http::server::Idmef::from_request(request, &()))
        .expect("valid");
    received
}

/// A sink that takes its time, to catch a request in flight; it raises
/// its flag when a message arrives.
struct Slow(Arc<FileSink>, Arc<std::sync::atomic::AtomicBool>);

impl Sink for Slow {
    fn keep(&self, message: Received) -> impl Future<Output = Result<(), SinkError>> + Send {
        let inner = self.0.clone();
        self.1.store(true, std::sync::atomic::Ordering::SeqCst);
        async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            inner.keep(message).await
        }
    }
}

#[test]
fn shutdown_lets_requests_in_flight_finish() {
    support::require(&["curl"]);
    let pki = Pki::new();
    let file = Arc::new(FileSink::open(pki.path("out.ndjson")).unwrap());
    let arrived = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut server = start(
        Server::new(tls(&pki)).unwrap(),
        Slow(file.clone(), arrived.clone()),
    );
    let (id, body) = message();
    let url = server.url("/");
    let curl = std::thread::spawn({
        let ca = pki.path("ca.pem");
        let (cert, key) = (pki.path("client.pem"), pki.path("client.key"));
        move || {
            let mut command = std::process::Command::new("curl");
            command
                .args(["-sS", "--max-time", "20", "--http2", "--cacert"])
                .arg(ca)
                .arg("--cert")
                .arg(cert)
                .arg("--key")
                .arg(key)
                .args([
                    "-H",
                    "Content-Type: application/json",
                    "--data-binary",
                    "@-",
                ])
                .args(["-o", "/dev/null", "-w", "%{http_code}", &url]);
            support::run_bounded(&mut command, Some(&body), Duration::from_secs(30))
        }
    });
    // Wait until the request is in the sink, then stop.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !arrived.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            std::time::Instant::now() < deadline,
            "the request never came"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server.stop().expect("clean stop");
    let out = curl.join().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "204");
    assert!(lines(&pki)[0].contains(&id));
}

#[cfg(feature = "cli")]
mod cli {
    use std::process::{Command, Stdio};

    use super::*;
    use support::Guard;

    #[test]
    fn idmefv2_serve_logs_each_request_and_stops_cleanly_on_sigterm() {
        support::require(&["curl"]);
        let pki = Pki::new();
        let out_file = pki.arg("out.ndjson");
        let (mut child, port) = support::cli::serve(
            &pki,
            &[
                "--allow-peer",
                "sensor.test",
                "--max-bytes",
                "4096",
                "--path",
                "/alerts",
                "--out",
                &out_file,
            ],
            true,
        );
        let url = format!("https://localhost:{port}/alerts");
        let (id, body) = message();
        let ask = |body: &[u8], client: &str| post(&pki, &url, client, "--http1.1", body).status;
        assert_eq!(ask(&body, "client"), 204);
        assert_eq!(ask(b"{}", "client"), 400);
        assert_eq!(ask(&body, "client2"), 0);
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = child.wait_for(Duration::from_secs(30));
        let log = child.stderr();
        assert_eq!(status.code(), Some(0), "{log}");
        let requests: Vec<&str> = log.lines().filter(|l| l.contains(" POST ")).collect();
        assert_eq!(requests.len(), 2, "{log}");
        assert!(
            requests[0].ends_with("sensor.test POST /alerts 204 violations=0"),
            "{log}"
        );
        assert!(
            requests[1].contains("sensor.test POST /alerts 400 violations="),
            "{log}"
        );
        assert!(!requests[1].ends_with("violations=0"));
        assert!(log.contains("refused: TLS handshake failed"), "{log}");
        assert!(log.contains("stopped; 1 messages kept"), "{log}");
        assert!(lines(&pki)[0].contains(&id));
    }

    /// The request log is written in batches, but a line still shows while
    /// the server runs, not only when it stops.
    #[test]
    fn idmefv2_serve_logs_while_running() {
        support::require(&["curl"]);
        let pki = Pki::new();
        let port = support::free_port();
        let log_path = pki.path("serve.log");
        let log_file = fs::File::create(&log_path).unwrap();
        let mut child = Guard::spawn(
            support::cli::serve_command(&pki, port)
                .args(["--out", &pki.arg("out.ndjson")])
                .stderr(Stdio::from(log_file)),
        );
        support::wait_for_port(port);
        let url = format!("https://localhost:{port}/");
        let (_, body) = message();
        assert_eq!(post(&pki, &url, "client", "--http1.1", &body).status, 204);
        support::wait_until("the request's log line", Duration::from_secs(5), || {
            support::read_lossy(&log_path).contains(" POST / 204 violations=0")
        });
        // Still running: the line did not wait for the stop.
        assert!(child.is_running());
        let logged = support::read_lossy(&log_path);
        assert!(!logged.contains("stopped;"), "{logged}");
        child.terminate(Duration::from_secs(30));
    }

    #[test]
    fn idmefv2_serve_refuses_contradictory_options() {
        let pki = Pki::new();
        let run = |args: &[&str]| {
            support::run_bounded(
                Command::new(env!("CARGO_BIN_EXE_idmefv2"))
                    .arg("serve")
                    .args(args),
                None,
                Duration::from_secs(10),
            )
        };
        let out = run(&["--listen", "127.0.0.1:0", "--out", &pki.arg("o")]);
        assert_eq!(out.status.code(), Some(2));
        let out = run(&[
            "--listen",
            "127.0.0.1:0",
            "--insecure-plaintext",
            "--cert",
            &pki.arg("server.pem"),
            "--out",
            &pki.arg("o"),
        ]);
        assert_eq!(out.status.code(), Some(2));
        let out = run(&[
            "--listen",
            "127.0.0.1:0",
            "--cert",
            &pki.arg("client.key"),
            "--key",
            &pki.arg("server.key"),
            "--client-ca",
            &pki.arg("ca.pem"),
            "--out",
            &pki.arg("o"),
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("server certificate"));
        // No message fits in zero bytes: refused like `validate --max-bytes 0`.
        let out = run(&[
            "--listen",
            "127.0.0.1:0",
            "--insecure-plaintext",
            "--out",
            &pki.arg("o"),
            "--max-bytes",
            "0",
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("at least one byte"));
    }

    #[test]
    fn insecure_plaintext_serves_http11_without_tls_and_says_so() {
        support::require(&["curl"]);
        let pki = Pki::new();
        let port = support::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_idmefv2"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--insecure-plaintext", "--out", &pki.arg("out.ndjson")])
            .stderr(Stdio::piped())
            .spawn()
            .expect("start idmefv2 serve");
        let mut child = Guard::new(child);
        support::wait_for_port(port);
        let (_, body) = message();
        let out = support::run_bounded(
            Command::new("curl")
                .args([
                    "-sS",
                    "--max-time",
                    "10",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                ])
                .args([
                    "-H",
                    "Content-Type: application/json",
                    "--data-binary",
                    "@-",
                ])
                .arg(format!("http://127.0.0.1:{port}/")),
            Some(&body),
            Duration::from_secs(20),
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "204");
        // No h2c, even when asked for with prior knowledge.
        let out = support::run_bounded(
            Command::new("curl")
                .args(["-sS", "--max-time", "10", "--http2-prior-knowledge"])
                .arg(format!("http://127.0.0.1:{port}/")),
            None,
            Duration::from_secs(20),
        );
        assert_ne!(out.status.code(), Some(0));
        child.terminate(Duration::from_secs(30));
        let log = child.stderr();
        assert!(log.contains("WARNING: plain HTTP without TLS"), "{log}");
        assert!(log.contains(" - POST / 204 violations=0"), "{log}");
    }
}

/// The extractor under `options`, on `body`.
fn judged(
    options: ReceiveOptions,
    body: &[u8],
) -> Result<Received, idmefv2::http::server::Rejection> {
    use axum::extract::FromRequest;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut request = axum::http::Request::post("/")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_vec()))
        .unwrap();
    request.extensions_mut().insert(options);
    runtime
        .block_on(idmefv2::http::server::Idmef::from_request(request, &()))
        .map(|idmefv2::http::server::Idmef(received)| received)
}

/// --repair alone keeps the draft; with --upgrade the repaired message is
/// carried forward, the repairs first in the report; --strict refuses an
/// older draft it cannot judge, and `2.D.V08-Dev` is carried to its
/// release by --upgrade.
#[test]
fn repair_upgrade_and_strict_combine_at_the_receiver() {
    use idmefv2::upgrade::NoteKind;
    let v04 = fixture("fixtures/drafts/repair/v04-nids-portscan.json");
    let refused = judged(ReceiveOptions::default(), &v04).unwrap_err();
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.body().map(|b| b.to_vec()), Some(v04.clone()));

    let repaired = judged(ReceiveOptions::default().repair(true), &v04).unwrap();
    assert_eq!(repaired.version, "2.D.V04");
    assert_eq!(repaired.upgraded_from, None);
    assert!(repaired
        .upgrade_report
        .iter()
        .all(|n| n.kind == NoteKind::Repaired));
    assert_eq!(repaired.upgrade_report.len(), 4);
    idmefv2::validate_slice(&repaired.body, &idmefv2::Limits::default()).unwrap();

    let both = judged(ReceiveOptions::default().repair(true).upgrade(true), &v04).unwrap();
    assert_eq!(both.version, "2.D.V08");
    assert_eq!(both.upgraded_from.as_deref(), Some("2.D.V04"));
    assert_eq!(both.upgrade_report[0].kind, NoteKind::Repaired);
    assert!(both
        .upgrade_report
        .iter()
        .any(|n| n.kind != NoteKind::Repaired));
    let message = both.message.expect("typed");
    assert_eq!(message.to_vec(), both.body.to_vec());

    let strict = judged(ReceiveOptions::default().repair(true).strict(true), &v04).unwrap_err();
    assert_eq!(strict.violations()[0].pointer(), "/Version");

    let dev = fixture("fixtures/valid/graylog-v08-dev.json");
    let kept = judged(ReceiveOptions::default(), &dev).unwrap();
    assert_eq!(kept.version, "2.D.V08-Dev");
    assert_eq!(kept.body.to_vec(), dev);
    let upgraded = judged(ReceiveOptions::default().upgrade(true), &dev).unwrap();
    assert_eq!(upgraded.version, "2.D.V08");
    assert_eq!(upgraded.upgraded_from.as_deref(), Some("2.D.V08-Dev"));
    assert!(upgraded.upgrade_report.is_empty());
}
