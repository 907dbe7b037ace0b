//! TLS refusals in words, on both ends, against clients and certificates
//! nobody here wrote (curl, `openssl s_client`, certificates signed by
//! `openssl x509`); and a client that hangs up is not a refusal.
#![cfg(all(feature = "server", feature = "client"))]

use std::{
    io::{Read, Write},
    net::TcpStream,
    sync::{Arc, Mutex},
    time::Duration,
};

use idmefv2::http::{
    client::{Client, SendError},
    server::{Event, FileSink, Server},
    tls::ServerTls,
};
use idmefv2_tools::support::{self, curl::Curl, inproc::InProcess, message, Pki};

/// A receiver with the test CA for clients and `certificate` as its own,
/// recording the connections it refuses.
struct Receiver {
    server: InProcess,
    refusals: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start(pki: &Pki, certificate: &str) -> Receiver {
        let tls = ServerTls::from_pem(
            &pki.read(&format!("{certificate}.pem")),
            &pki.read(&format!("{certificate}.key")),
            &pki.read("ca.pem"),
        )
        .expect("server TLS");
        let refusals = Arc::new(Mutex::new(Vec::new()));
        let seen = refusals.clone();
        let server = Server::new(tls).expect("server").observe(move |event| {
            if let Event::Refused { reason, .. } = event {
                seen.lock().unwrap().push(reason.clone());
            }
        });
        let sink = FileSink::open(pki.path(&format!("{certificate}.ndjson"))).expect("sink");
        let server = InProcess::start(move |listener, stop| server.serve(listener, sink, stop));
        Receiver { server, refusals }
    }

    fn url(&self) -> String {
        format!("https://localhost:{}/", self.server.port)
    }

    fn refusals(&self) -> Vec<String> {
        self.refusals.lock().unwrap().clone()
    }

    /// Waits (bounded) until `count` connections have been refused.
    fn wait_for_refusals(&self, count: usize) -> Vec<String> {
        support::wait_until("the refusal", Duration::from_secs(20), || {
            self.refusals.lock().unwrap().len() >= count
        });
        self.refusals()
    }
}

/// Words a refusal must never be told in: rustls' enum names and Rust
/// debug output.
fn assert_in_words(text: &str) {
    for raw in [
        "Other(",
        "OtherError",
        "peer is incompatible",
        "SupportedVersions",
        "invalid peer certificate",
    ] {
        assert!(!text.contains(raw), "{raw:?} in {text:?}");
    }
}

#[test]
fn the_receiver_logs_why_it_refused_each_client_in_words() {
    support::require(&["curl", "openssl"]);
    let pki = Pki::new();
    pki.expired_leaf("expired-client", &["sensor.test"], true);
    pki.v1_leaf("v1-client", "sensor.test");
    let receiver = Receiver::start(&pki, "server");
    let (_, body) = message();

    // A TLS 1.2 client, as `openssl s_client -tls1_2` is.
    let out = support::run_bounded(
        std::process::Command::new("openssl")
            .args(["s_client", "-tls1_2", "-connect"])
            .arg(format!("127.0.0.1:{}", receiver.server.port))
            .args(["-servername", "localhost", "-cert"])
            .arg(pki.path("client.pem"))
            .arg("-key")
            .arg(pki.path("client.key"))
            .arg("-CAfile")
            .arg(pki.path("ca.pem")),
        Some(b""),
        Duration::from_secs(20),
    );
    assert!(!out.status.success(), "TLS 1.2 got through");
    let mut expected = vec!["TLS handshake failed: TLS 1.2 offered; TLS 1.3 is required"];
    assert_eq!(receiver.wait_for_refusals(1), expected);

    // curl with each certificate that must be refused.
    let cases: [(Option<&str>, &str); 6] = [
        (
            None,
            "TLS handshake failed: the peer presented no certificate; a certificate is required",
        ),
        (
            Some("other-client"),
            "TLS handshake failed: the peer's certificate is not issued by a trusted CA",
        ),
        (
            Some("wildcard-client"),
            "TLS handshake failed: the peer's certificate has a wildcard DNS-ID, which IDMEFv2 \
             peers must not use",
        ),
        (
            Some("cn-client"),
            "TLS handshake failed: the peer's certificate has no DNS-ID (a common name \
             identifies nobody)",
        ),
        (
            Some("expired-client"),
            "TLS handshake failed: the peer's certificate expired at 2021-01-01T00:00:00Z",
        ),
        (
            Some("v1-client"),
            "TLS handshake failed: the peer's certificate is an X.509 version 1 certificate; \
             version 3 (with subject alternative names) is required",
        ),
    ];
    for (client, words) in cases {
        let out = Curl::new(&pki, &receiver.url(), client)
            .arg("--http1.1")
            .header("Content-Type: application/json")
            .post(&body)
            .run();
        assert_eq!(out.status, 0, "{client:?} got an answer: {out:?}");
        expected.push(words);
        assert_eq!(receiver.wait_for_refusals(expected.len()), expected);
    }
    for refusal in receiver.refusals() {
        assert_in_words(&refusal);
    }
    receiver.server.stop();
}

#[test]
fn a_client_that_hangs_up_is_not_logged_as_refused() {
    support::require(&["openssl"]);
    let pki = Pki::new();
    let receiver = Receiver::start(&pki, "server");
    let address = format!("127.0.0.1:{}", receiver.server.port);

    // Connects and closes without a byte; waits for the receiver to close
    // its end, which it does after judging the connection.
    let mut quiet = TcpStream::connect(&address).expect("connect");
    quiet.shutdown(std::net::Shutdown::Write).expect("close");
    let mut rest = Vec::new();
    let _ = quiet.read_to_end(&mut rest);
    assert!(rest.is_empty());

    // Sends a real ClientHello (from `openssl s_client`, captured on a
    // listener of ours), reads the start of the receiver's answer, and
    // closes mid-handshake.
    let hello = client_hello(&pki);
    let mut midway = TcpStream::connect(&address).expect("connect");
    midway.write_all(&hello).expect("send ClientHello");
    let mut first = [0u8; 5];
    midway.read_exact(&mut first).expect("the receiver answers");
    assert_eq!(first[0], 0x16, "a TLS handshake record");
    midway.shutdown(std::net::Shutdown::Write).expect("close");
    let _ = midway.read_to_end(&mut rest);

    // The same, ending with a reset (closing with the answer unread).
    let mut reset = TcpStream::connect(&address).expect("connect");
    reset.write_all(&hello).expect("send ClientHello");
    reset.read_exact(&mut first).expect("the receiver answers");
    drop(reset);

    // A refusal after them all is the only line.
    let out = support::run_bounded(
        std::process::Command::new("openssl").args(["s_client", "-tls1_2", "-connect", &address]),
        Some(b""),
        Duration::from_secs(20),
    );
    assert!(!out.status.success());
    let refusals = receiver.wait_for_refusals(1);
    assert_eq!(
        refusals,
        ["TLS handshake failed: TLS 1.2 offered; TLS 1.3 is required"]
    );
    let Receiver { server, refusals } = receiver;
    server.stop();
    let refusals = refusals.lock().unwrap().clone();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
}

/// The first bytes `openssl s_client` sends: a TLS 1.3 ClientHello.
fn client_hello(pki: &Pki) -> Vec<u8> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let mut openssl = support::Guard::spawn(
        std::process::Command::new("openssl")
            .args(["s_client", "-tls1_3", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-CAfile")
            .arg(pki.path("ca.pem"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    let (mut stream, _) = listener.accept().expect("openssl connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    // A record header, then as many bytes as it says.
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).expect("record header");
    let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut record = vec![0u8; length];
    stream.read_exact(&mut record).expect("record");
    openssl.kill();
    [header.to_vec(), record].concat()
}

#[test]
fn the_sender_is_told_in_words_why_a_receiver_or_its_own_certificate_is_refused() {
    support::require(&["openssl"]);
    let pki = Pki::new();
    pki.expired_leaf("expired-server", &["localhost"], false);
    pki.server_leaf("elsewhere", &["elsewhere.test"], &[]);
    pki.v1_leaf("v1-client", "sensor.test");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (_, body) = message();
    let cases = [
        (
            "expired-server",
            "the peer's certificate expired at 2021-01-01T00:00:00Z",
        ),
        (
            "other-server",
            "the peer's certificate is not issued by a trusted CA",
        ),
        (
            "elsewhere",
            "the peer's certificate does not name localhost (it names elsewhere.test)",
        ),
        (
            "cn-server",
            "the peer's certificate has no DNS-ID (a common name identifies nobody)",
        ),
        (
            "wildcard-server",
            "the peer's certificate has a wildcard DNS-ID, which IDMEFv2 peers must not use",
        ),
    ];
    for (certificate, words) in cases {
        let receiver = Receiver::start(&pki, certificate);
        let client = Client::builder(receiver.url())
            .identity_pem(&pki.read("client.pem"), &pki.read("client.key"))
            .ca_pem(&pki.read("ca.pem"))
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        let error = runtime
            .block_on(client.send_bytes(body.clone(), "application/json"))
            .expect_err(certificate);
        assert_eq!(
            error,
            SendError::Tls {
                reason: words.to_string()
            },
            "{certificate}"
        );
        assert_in_words(&error.to_string());
        receiver.server.stop();
    }

    // Our own certificate, unsuitable: said to be ours, in words.
    let error = Client::builder("https://localhost:1/")
        .identity_pem(&pki.read("v1-client.pem"), &pki.read("v1-client.key"))
        .ca_pem(&pki.read("ca.pem"))
        .build()
        .expect_err("a v1 certificate of ours");
    assert_eq!(
        error.to_string(),
        "client certificate and key: our certificate is an X.509 version 1 certificate; \
         version 3 (with subject alternative names) is required"
    );
    let error = ServerTls::from_pem(
        &pki.read("v1-client.pem"),
        &pki.read("v1-client.key"),
        &pki.read("ca.pem"),
    )
    .expect_err("a v1 certificate of ours");
    assert!(
        error
            .to_string()
            .starts_with("server certificate and key: our certificate is an X.509 version 1"),
        "{error}"
    );
    // A key that is not the certificate's.
    let error = Client::builder("https://localhost:1/")
        .identity_pem(&pki.read("client.pem"), &pki.read("client2.key"))
        .ca_pem(&pki.read("ca.pem"))
        .build()
        .expect_err("a key of another certificate");
    assert_eq!(
        error.to_string(),
        "client certificate and key: our private key does not belong to our certificate"
    );
}
