//! What the integration tests that run real programs share: child
//! processes that die with the test, free loopback ports, certificates made
//! on the spot, curl and nginx; the NATS servers are in [`nats`].
#![allow(dead_code)]

#[cfg(feature = "cli")]
pub mod faults;
#[cfg(feature = "server")]
pub mod inproc;
#[cfg(feature = "cli")]
pub mod load;
pub mod nats;

use std::{
    fs,
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    time::{Duration, Instant},
};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Every certificate the tests need, as PEM files in a temporary folder:
///
/// | name | issuer | names |
/// |---|---|---|
/// | `ca` | itself | CA |
/// | `server` | `ca` | DNS `localhost`, IP `127.0.0.1` |
/// | `client` | `ca` | DNS `sensor.test` |
/// | `client2` | `ca` | DNS `other.test` |
/// | `other-ca` | itself | CA nobody trusts |
/// | `other-client` | `other-ca` | DNS `sensor.test` |
/// | `other-server` | `other-ca` | DNS `localhost` |
/// | `wildcard-server` | `ca` | DNS `localhost`, `*.localhost` |
/// | `wildcard-client` | `ca` | DNS `sensor.test`, `*.sensor.test` |
/// | `cn-server` | `ca` | CN `localhost` only |
/// | `cn-client` | `ca` | CN `sensor.test` only |
///
/// Each `NAME` has `NAME.pem` (certificate) and `NAME.key` (private key).
pub struct Pki {
    pub dir: tempfile::TempDir,
    ca: Option<Issuer>,
}

struct Issuer {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Pki {
    /// The folder is under Cargo's `target/tmp`, on the build's disk (not
    /// a tmpfs `/tmp`), so that the file sink's syncs are real.
    pub fn new() -> Pki {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temporary folder");
        let mut pki = Pki { dir, ca: None };
        let ca = pki.ca("ca", "IDMEFv2 test CA");
        let other = pki.ca("other-ca", "Untrusted test CA");
        let server = ExtendedKeyUsagePurpose::ServerAuth;
        let client = ExtendedKeyUsagePurpose::ClientAuth;
        pki.leaf(
            "server",
            &ca,
            &["localhost", "127.0.0.1"],
            None,
            server.clone(),
        );
        pki.leaf("client", &ca, &["sensor.test"], None, client.clone());
        pki.leaf("client2", &ca, &["other.test"], None, client.clone());
        pki.leaf(
            "other-client",
            &other,
            &["sensor.test"],
            None,
            client.clone(),
        );
        pki.leaf("other-server", &other, &["localhost"], None, server.clone());
        pki.leaf(
            "wildcard-server",
            &ca,
            &["localhost", "*.localhost"],
            None,
            server.clone(),
        );
        pki.leaf(
            "wildcard-client",
            &ca,
            &["sensor.test", "*.sensor.test"],
            None,
            client.clone(),
        );
        pki.leaf("cn-server", &ca, &[], Some("localhost"), server);
        pki.leaf("cn-client", &ca, &[], Some("sensor.test"), client);
        pki.ca = Some(ca);
        pki
    }

    fn write(&self, name: &str, cert: &rcgen::Certificate, key: &KeyPair) {
        fs::write(self.path(&format!("{name}.pem")), cert.pem()).expect("write certificate");
        fs::write(self.path(&format!("{name}.key")), key.serialize_pem()).expect("write key");
    }

    fn ca(&self, name: &str, common_name: &str) -> Issuer {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).expect("CA certificate");
        self.write(name, &cert, &key);
        Issuer { cert, key }
    }

    fn leaf(
        &self,
        name: &str,
        issuer: &Issuer,
        names: &[&str],
        common_name: Option<&str>,
        usage: ExtendedKeyUsagePurpose,
    ) {
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        let mut dn = DistinguishedName::new();
        if let Some(cn) = common_name {
            dn.push(DnType::CommonName, cn);
        }
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        let cert = params
            .signed_by(&key, &issuer.cert, &issuer.key)
            .expect("leaf certificate");
        self.write(name, &cert, &key);
    }

    /// One more server certificate from the test CA, `NAME.pem` and
    /// `NAME.key`, naming `dns_ids` (DNS-IDs) and `srv_ids` (RFC 4985
    /// SRV-IDs such as `_idmef.example.test`, written by hand since rcgen
    /// only makes UTF8String other names).
    pub fn server_leaf(&self, name: &str, dns_ids: &[&str], srv_ids: &[&str]) {
        fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            let mut out = vec![tag];
            let length = content.len();
            if length < 0x80 {
                out.push(length as u8);
            } else {
                out.extend([0x82, (length >> 8) as u8, length as u8]);
            }
            out.extend_from_slice(content);
            out
        }
        let issuer = self.ca.as_ref().expect("the test CA");
        let mut names = Vec::new();
        for dns in dns_ids {
            names.extend(tlv(0x82, dns.as_bytes()));
        }
        for srv in srv_ids {
            // otherName [0] { id-on-dnsSRV, [0] EXPLICIT IA5String }
            let oid = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x07]);
            let value = tlv(0xa0, &tlv(0x16, srv.as_bytes()));
            names.extend(tlv(0xa0, &[oid, value].concat()));
        }
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name = DistinguishedName::new();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
            &[2, 5, 29, 17],
            tlv(0x30, &names),
        )];
        let cert = params
            .signed_by(&key, &issuer.cert, &issuer.key)
            .expect("leaf certificate");
        self.write(name, &cert, &key);
    }

    /// A file of the folder.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// A file's path as text, for command lines.
    pub fn arg(&self, file: &str) -> String {
        self.path(file).to_string_lossy().into_owned()
    }

    pub fn read(&self, file: &str) -> Vec<u8> {
        fs::read(self.path(file)).expect("read PEM")
    }

    /// The SHA-256 fingerprint of `NAME.pem`, as `openssl x509
    /// -fingerprint -sha256` prints it (uppercase, colons).
    pub fn fingerprint(&self, name: &str) -> String {
        let pins = idmefv2::http::tls::Pin::of_pem(&self.read(&format!("{name}.pem")))
            .expect("certificate");
        pins[0]
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// A child process stopped and reaped when dropped, even when the test
/// panics: SIGTERM first, so that nginx takes its workers along, then
/// SIGKILL after two seconds. [`Guard::kill`] is the abrupt stop (SIGKILL
/// at once) that fault tests use.
pub struct Guard {
    child: Option<Child>,
}

impl Guard {
    /// Watches a child that is already running.
    pub fn new(child: Child) -> Self {
        Guard { child: Some(child) }
    }

    /// Its process ID.
    pub fn id(&self) -> u32 {
        self.child.as_ref().expect("the process was killed").id()
    }

    /// Starts `command`, with a clear panic if it cannot be started.
    pub fn spawn(command: &mut Command) -> Self {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", command.get_program()));
        Guard { child: Some(child) }
    }

    /// The process, while it has not been killed.
    pub fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("the process was killed")
    }

    /// Kills it at once (SIGKILL: no chance to clean up) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Waits for it to exit, for at most `limit`; kills it and panics past
    /// that.
    pub fn wait_for(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child().try_wait().expect("wait for child") {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!("child still running after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Guard {
    /// Everything it writes on its piped stdout and stderr until it exits
    /// (within `limit`), and its exit code.
    pub fn output(&mut self, limit: Duration) -> (i32, String, String) {
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                if let Some(mut pipe) = pipe {
                    pipe.read_to_string(&mut text).expect("read output");
                }
                text
            })
        };
        let child = self.child();
        let out = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let err = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let status = self.wait_for(limit);
        let code = status.code().expect("exited with a code");
        (code, out.join().unwrap(), err.join().unwrap())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// Waits until something accepts connections on `port` (10 s at most).
pub fn wait_for_port(port: u16) {
    let address: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on port {port} after 10 s");
}

/// Whether a program is on the PATH (or at an absolute path).
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the programs a test drives are installed. In CI (`CI=true`)
/// a missing one fails the test, since `.ci/run` installs them; on a
/// developer's machine the test says what is missing and passes over.
pub fn require(programs: &[&str]) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| !(have(p) || Path::new("/usr/sbin").join(p).exists()))
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI must have {missing:?} (see .ci/run)"
    );
    eprintln!("skipped: {missing:?} not installed (.ci/run installs them)");
    false
}

/// Runs `command` with a deadline, killing it when it is exceeded.
pub fn run_bounded(command: &mut Command, input: Option<&[u8]>, limit: Duration) -> Output {
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let pid = child.id();
    let (done, waiting) = std::sync::mpsc::channel();
    let watchdog = std::thread::spawn(move || {
        if waiting.recv_timeout(limit).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    let output = child.wait_with_output().expect("wait for the command");
    let _ = done.send(());
    let _ = watchdog.join();
    output
}

/// What curl saw of one exchange.
#[derive(Debug)]
pub struct Exchange {
    /// curl's exit code (0: an HTTP answer came).
    pub exit: i32,
    /// The status code (0 when there was none).
    pub status: u16,
    /// `1.1` or `2`.
    pub version: String,
    /// Response headers, lowercased names, as one text.
    pub headers: String,
    pub body: String,
    pub stderr: String,
}

/// A curl command line against a server, with the test certificates.
pub struct Curl<'a> {
    pki: &'a Pki,
    args: Vec<String>,
    input: Option<Vec<u8>>,
}

impl<'a> Curl<'a> {
    /// `curl` for `url` presenting `client` (a name in [`Pki`], or `None`
    /// for no certificate) and trusting the test CA.
    pub fn new(pki: &'a Pki, url: &str, client: Option<&str>) -> Curl<'a> {
        let mut args: Vec<String> = ["-sS", "--max-time", "20", "--cacert"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.push(pki.arg("ca.pem"));
        if let Some(client) = client {
            args.extend([
                "--cert".into(),
                pki.arg(&format!("{client}.pem")),
                "--key".into(),
                pki.arg(&format!("{client}.key")),
            ]);
        }
        args.push(url.to_string());
        Curl {
            pki,
            args,
            input: None,
        }
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    pub fn header(self, header: &str) -> Self {
        self.arg("-H").arg(header)
    }

    /// POSTs `body` (read by curl from its standard input).
    pub fn post(mut self, body: &[u8]) -> Self {
        self.input = Some(body.to_vec());
        self.arg("--data-binary").arg("@-")
    }

    pub fn run(self) -> Exchange {
        let out = tempfile::tempdir().expect("temporary folder");
        let headers = out.path().join("headers");
        let body = out.path().join("body");
        let mut command = Command::new("curl");
        command
            .args(&self.args)
            .arg("-D")
            .arg(&headers)
            .arg("-o")
            .arg(&body)
            .args(["-w", "%{http_code} %{http_version}"]);
        let output = run_bounded(&mut command, self.input.as_deref(), Duration::from_secs(30));
        let written = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut parts = written.split_whitespace();
        let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let version = parts.next().unwrap_or_default().to_string();
        let _ = self.pki;
        Exchange {
            exit: output.status.code().unwrap_or(-1),
            status,
            version,
            headers: fs::read_to_string(&headers)
                .unwrap_or_default()
                .to_ascii_lowercase(),
            body: fs::read_to_string(&body).unwrap_or_default(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// A fixture message of the repository.
pub fn fixture(path: &str) -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("fixture")
}

/// A fresh valid 2.D.V08 message with its ID.
pub fn message() -> (String, Vec<u8>) {
    let message = idmefv2::Message::builder(idmefv2::Analyzer::builder("test-ids").ip("192.0.2.1"))
        .description("test alert")
        .build()
        .expect("valid message");
    (message.id.to_string(), message.to_vec())
}

/// The nginx binary: on the PATH, or where Debian puts it.
pub fn nginx_binary() -> String {
    if have("nginx") {
        "nginx".into()
    } else {
        "/usr/sbin/nginx".into()
    }
}

/// Starts Debian's nginx in the foreground with `http` holding the given
/// configuration (server blocks and all), its files in a folder of its
/// own, `workers` worker processes; waits for each of `ports`.
pub fn nginx(http: &str, workers: usize, ports: &[u16]) -> (Guard, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path().display();
    let config = format!(
        "daemon off;\nuser root;\nworker_processes {workers};\npid {d}/nginx.pid;\n\
         error_log {d}/error.log;\nevents {{ worker_connections 4096; }}\n\
         http {{\n access_log off;\n{http}\n}}\n"
    );
    fs::write(dir.path().join("nginx.conf"), config).expect("write nginx.conf");
    let child = Command::new(nginx_binary())
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let guard = Guard::new(child);
    for port in ports {
        wait_for_port(*port);
    }
    (guard, dir)
}

/// nginx's TLS set-up as our server's: TLS 1.3 only, `server` as its
/// certificate, client certificates from the test CA required.
pub fn nginx_tls(pki: &Pki, server: &str) -> String {
    format!(
        "ssl_protocols TLSv1.3;\nssl_certificate {};\nssl_certificate_key {};\n\
         ssl_client_certificate {};\nssl_verify_client on;\n",
        pki.arg(&format!("{server}.pem")),
        pki.arg(&format!("{server}.key")),
        pki.arg("ca.pem"),
    )
}

/// `idmefv2 serve` on a free loopback port with the test server
/// certificate and CA, plus `extra` options; its stderr is piped when
/// `log` is set. Returns once it accepts connections.
#[cfg(feature = "cli")]
pub fn serve_cli(pki: &Pki, extra: &[&str], log: bool) -> (Guard, u16) {
    let port = free_port();
    let child = serve_command(pki, port)
        .args(extra)
        .stderr(if log { Stdio::piped() } else { Stdio::null() })
        .spawn()
        .expect("start idmefv2 serve");
    let guard = Guard::new(child);
    wait_for_port(port);
    (guard, port)
}

/// Polls `ready` every 20 ms until it holds, panicking with `what` after
/// `limit`.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "{what}: not after {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The text of a file, or an empty string if there is none yet.
pub fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// `idmefv2 serve` on 127.0.0.1:`port` with the test server certificate,
/// key and client CA, not started.
#[cfg(feature = "cli")]
pub fn serve_command(pki: &Pki, port: u16) -> Command {
    serve_command_as(pki, port, "server")
}

/// [`serve_command`] presenting the certificate `NAME.pem`.
#[cfg(feature = "cli")]
pub fn serve_command_as(pki: &Pki, port: u16, name: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_idmefv2"));
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--cert", &pki.arg(&format!("{name}.pem"))])
        .args(["--key", &pki.arg(&format!("{name}.key"))])
        .args(["--client-ca", &pki.arg("ca.pem")]);
    command
}

/// `idmefv2 send` presenting the test client certificate, not started;
/// the receiver and its trust are up to the caller.
#[cfg(feature = "cli")]
pub fn send_command(pki: &Pki) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_idmefv2"));
    command
        .arg("send")
        .args(["--cert", &pki.arg("client.pem")])
        .args(["--key", &pki.arg("client.key")]);
    command
}

/// The `q` quantile (0 to 1) of sorted durations; zero when there are
/// none.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(index).copied().unwrap_or_default()
}
