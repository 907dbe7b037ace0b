//! The HTTPS sender against receivers nobody here wrote: Python's
//! `ssl` + `http.server` (which records what arrives) and Debian's nginx
//! with mutual TLS; and `idmefv2 send` against both and against
//! `idmefv2 serve`.
#![cfg(feature = "client")]

use std::{fs, time::Duration};

use idmefv2::http::{
    client::{Client, SendError},
    tls::Pin,
};
use idmefv2_tools::support::{self, fixture, free_port, message, nginx, Guard, Pki};

fn client(pki: &Pki, url: &str) -> idmefv2::http::client::ClientBuilder {
    Client::builder(url)
        .identity_pem(&pki.read("client.pem"), &pki.read("client.key"))
        .ca_pem(&pki.read("ca.pem"))
        .timeout(Duration::from_secs(10))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The Python recorder on a free port, writing to `received.ndjson`.
fn recorder(pki: &Pki) -> (Guard, u16) {
    support::python::receiver("python3", "recorder.py", pki, &pki.path("received.ndjson"))
}

fn recorded(pki: &Pki) -> Vec<serde_json::Value> {
    fs::read_to_string(pki.path("received.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn each_message_is_one_post_with_its_content_type_and_body() {
    support::require(&["python3"]);
    let pki = Pki::new();
    let (_python, port) = recorder(&pki);
    let url = format!("https://localhost:{port}/ingest");
    let async_client = client(&pki, &url).build().expect("client");
    let mut sent: Vec<Vec<u8>> = Vec::new();
    runtime().block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (_, body) = message();
            sent.push(body.clone());
            let client = async_client.clone();
            tasks.push(tokio::spawn(async move {
                client.send_bytes(body, "application/json").await
            }));
        }
        for task in tasks {
            task.await.unwrap().expect("accepted");
        }
        // An older draft, as a deployed converter would send it.
        let v04 = fixture("fixtures/drafts/valid/v04-minimal.json");
        sent.push(v04.clone());
        async_client
            .send_bytes(v04, "application/json")
            .await
            .expect("accepted");
    });
    // The typed send and the blocking facade.
    let typed = idmefv2::Message::from_slice(&message().1).unwrap();
    sent.push(typed.to_vec());
    let blocking = client(&pki, &url).build_blocking().expect("client");
    blocking.send(&typed).expect("accepted");

    let records = recorded(&pki);
    assert_eq!(records.len(), sent.len());
    let mut bodies: Vec<String> = records
        .iter()
        .map(|r| {
            assert_eq!(r["method"], "POST");
            assert_eq!(r["path"], "/ingest");
            assert_eq!(r["content_type"], "application/json");
            assert_eq!(r["peer"], serde_json::json!(["sensor.test"]));
            assert_eq!(r["version"], "HTTP/1.1");
            r["body"].as_str().unwrap().to_string()
        })
        .collect();
    let mut expected: Vec<String> = sent
        .iter()
        .map(|b| String::from_utf8(b.clone()).unwrap())
        .collect();
    bodies.sort();
    expected.sort();
    assert_eq!(bodies, expected);
}

/// nginx on one port, with a location per kind of answer.
fn answering_nginx(pki: &Pki) -> (Guard, tempfile::TempDir, u16) {
    let port = free_port();
    let http = format!(
        "{tls}\nserver {{\n listen 127.0.0.1:{port} ssl http2;\n\
         location = /ok {{ return 204; }}\n\
         location = /invalid {{ default_type application/json; \
           return 400 '{{\"violations\":[{{\"pointer\":\"/ID\",\"reason\":\"not a UUID\"}}]}}'; }}\n\
         location = /busy {{ add_header Retry-After 1 always; return 503; }}\n\
         location = /foreign {{ default_type text/plain; return 403 'go away'; }}\n}}\n",
        tls = nginx::tls(pki, "server"),
    );
    let (guard, dir) = nginx::start(&http, 1, &[port]);
    (guard, dir, port)
}

#[test]
fn a_foreign_servers_answers_sort_into_accepted_refused_and_transient() {
    support::require(&["nginx"]);
    let pki = Pki::new();
    let (_nginx, _dir, port) = answering_nginx(&pki);
    let (_, body) = message();
    let runtime = runtime();
    for name in ["http/2", "http/1.1"] {
        let send = |path: &str| {
            let mut builder = client(&pki, &format!("https://localhost:{port}{path}"));
            if name == "http/1.1" {
                builder = builder.http1_only();
            }
            let client = builder.build().unwrap();
            runtime.block_on(client.send_bytes(body.clone(), "application/json"))
        };
        assert_eq!(send("/ok"), Ok(()), "{name}");
        let invalid = send("/invalid").unwrap_err();
        assert!(invalid.is_permanent(), "{name}: {invalid}");
        assert_eq!(invalid.status(), Some(400));
        assert_eq!(invalid.violations()[0].pointer(), "/ID");
        assert_eq!(invalid.violations()[0].reason(), "not a UUID");
        let busy = send("/busy").unwrap_err();
        assert!(!busy.is_permanent(), "{name}: {busy}");
        assert_eq!(busy.status(), Some(503));
        assert_eq!(busy.retry_after(), Some(Duration::from_secs(1)));
        let foreign = send("/foreign").unwrap_err();
        assert!(foreign.is_permanent());
        assert!(
            matches!(&foreign, SendError::Refused { status: 403, body, violations } if body == "go away" && violations.is_empty()),
            "{foreign:?}"
        );
        assert!(foreign.to_string().contains("go away"));
    }
}

#[test]
fn server_certificates_without_a_proper_identity_are_refused() {
    support::require(&["nginx"]);
    let pki = Pki::new();
    let ports: Vec<u16> = (0..5).map(|_| free_port()).collect();
    let block = |port: u16, cert: &str, protocols: &str| {
        format!(
            "server {{\n listen 127.0.0.1:{port} ssl;\n ssl_protocols {protocols};\n\
             ssl_certificate {};\n ssl_certificate_key {};\n\
             location / {{ return 204; }}\n}}\n",
            pki.arg(&format!("{cert}.pem")),
            pki.arg(&format!("{cert}.key")),
        )
    };
    let http = format!(
        "ssl_client_certificate {};\nssl_verify_client on;\n{}{}{}{}{}",
        pki.arg("ca.pem"),
        block(ports[0], "server", "TLSv1.3"),
        block(ports[1], "wildcard-server", "TLSv1.3"),
        block(ports[2], "cn-server", "TLSv1.3"),
        block(ports[3], "other-server", "TLSv1.3"),
        block(ports[4], "server", "TLSv1.2"),
    );
    let (_nginx, _dir) = nginx::start(&http, 1, &ports);
    let (_, body) = message();
    let runtime = runtime();
    let send = |builder: idmefv2::http::client::ClientBuilder| {
        let client = builder.build().unwrap();
        runtime.block_on(client.send_bytes(body.clone(), "application/json"))
    };
    let url = |port: u16| format!("https://localhost:{port}/");
    assert_eq!(send(client(&pki, &url(ports[0]))), Ok(()));
    for (case, port) in [
        ("wildcard DNS-ID", ports[1]),
        ("common name only", ports[2]),
        ("untrusted CA", ports[3]),
        ("TLS 1.2 only", ports[4]),
    ] {
        let error = send(client(&pki, &url(port))).unwrap_err();
        assert!(matches!(error, SendError::Tls { .. }), "{case}: {error:?}");
        assert!(!error.is_permanent(), "{case}");
    }
    let error = send(client(&pki, &url(ports[1]))).unwrap_err();
    assert!(error.to_string().contains("wildcard"), "{error}");

    // Pins: the pinned certificate alone is enough trust; another is not;
    // a pinned wildcard certificate is still refused.
    let pinned = |cert: &str, port: u16| {
        Client::builder(url(port))
            .identity_pem(&pki.read("client.pem"), &pki.read("client.key"))
            .pin(pki.fingerprint(cert).parse::<Pin>().unwrap())
    };
    assert_eq!(send(pinned("server", ports[0])), Ok(()));
    assert!(matches!(
        send(pinned("client", ports[0])),
        Err(SendError::Tls { .. })
    ));
    assert!(matches!(
        send(pinned("wildcard-server", ports[1])),
        Err(SendError::Tls { .. })
    ));
    assert!(matches!(
        send(client(&pki, &url(ports[0])).pin(pki.fingerprint("client").parse().unwrap())),
        Err(SendError::Tls { .. })
    ));
    // Nobody listening: a connection failure, transient too.
    let error = send(client(&pki, &url(free_port()))).unwrap_err();
    assert!(matches!(error, SendError::Connection { .. }), "{error:?}");
    assert!(client(&pki, "http://localhost/").build().is_err());
    assert!(Client::builder("https://localhost/").build().is_err());
}

#[cfg(all(feature = "cli", feature = "server"))]
mod cli {
    use std::{
        process::{Command, Output},
        time::Instant,
    };

    use super::*;

    fn send(pki: &Pki, url: &str, extra: &[&str], input: &[u8]) -> Output {
        support::run_bounded(
            support::cli::send_command(pki)
                .args(["--url", url])
                .args(["--ca", &pki.arg("ca.pem")])
                .args(extra),
            Some(input),
            Duration::from_secs(60),
        )
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn idmefv2_send_exit_codes_reasons_and_summary_against_nginx() {
        support::require(&["nginx"]);
        let pki = Pki::new();
        let (_nginx, _dir, port) = answering_nginx(&pki);
        let url = |path: &str| format!("https://localhost:{port}{path}");
        let ndjson: Vec<u8> = (0..5)
            .flat_map(|_| {
                let mut line = message().1;
                line.push(b'\n');
                line
            })
            .collect();
        let ok = send(
            &pki,
            &url("/ok"),
            &["--ndjson", "--concurrency", "3"],
            &ndjson,
        );
        assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
        assert_eq!(text(&ok.stdout), "5 accepted, 0 refused, 0 not delivered\n");

        let refused = send(&pki, &url("/invalid"), &[], &message().1);
        assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
        assert_eq!(
            text(&refused.stdout),
            "-:1: /ID: not a UUID\n0 accepted, 1 refused, 0 not delivered\n"
        );
        let foreign = send(&pki, &url("/foreign"), &[], &message().1);
        assert_eq!(foreign.status.code(), Some(1));
        assert!(text(&foreign.stdout).starts_with("-:1: HTTP 403: go away\n"));

        let started = Instant::now();
        let busy = send(&pki, &url("/busy"), &["--give-up-after", "3"], &message().1);
        assert_eq!(busy.status.code(), Some(2));
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "tried again after Retry-After"
        );
        assert!(text(&busy.stdout).contains("not delivered: receiver unavailable (HTTP 503)"));
        assert!(text(&busy.stdout).ends_with("0 accepted, 0 refused, 1 not delivered\n"));
    }

    #[test]
    fn idmefv2_send_stops_at_a_tls_failure_and_refuses_bad_usage() {
        support::require(&["nginx"]);
        let pki = Pki::new();
        let port = free_port();
        let http = format!(
            "{}\nserver {{ listen 127.0.0.1:{port} ssl; location / {{ return 204; }} }}\n",
            nginx::tls(&pki, "wildcard-server")
        );
        let (_nginx, _dir) = nginx::start(&http, 1, &[port]);
        let input: Vec<u8> = [message().1, message().1, message().1].concat();
        let out = send(&pki, &format!("https://localhost:{port}/"), &[], &input);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert_eq!(stderr.matches("TLS failed").count(), 1, "{stderr}");
        assert!(stderr.contains("wildcard"), "{stderr}");
        assert!(text(&out.stdout).ends_with("0 accepted, 0 refused, 3 not delivered\n"));

        let usage = support::run_bounded(
            Command::new(env!("CARGO_BIN_EXE_idmefv2")).args([
                "send",
                "--url",
                "https://localhost:1/",
                "--pin",
                "12:34",
            ]),
            None,
            Duration::from_secs(10),
        );
        assert_eq!(usage.status.code(), Some(2));
        assert!(text(&usage.stderr).contains("64 hexadecimal digits"));
    }

    #[test]
    fn idmefv2_send_to_idmefv2_serve_with_a_pinned_server() {
        let pki = Pki::new();
        let out_file = pki.arg("alerts.ndjson");
        let pin = pki.fingerprint("client");
        let (_serve, port) = support::cli::serve(&pki, &["--pin", &pin, "--out", &out_file], false);
        let files = [
            "fixtures/valid/minimal.json",
            "fixtures/drafts/valid/v04-minimal.json",
            "fixtures/invalid/pattern-id-not-uuid.json",
        ];
        let out = support::run_bounded(
            support::cli::send_to(&pki, port)
                .args(["--pin", &pki.fingerprint("server")])
                .args(files),
            None,
            Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            "fixtures/invalid/pattern-id-not-uuid.json:1: /ID: not a UUID \
             (8-4-4-4-12 hexadecimal digits)\n2 accepted, 1 refused, 0 not delivered\n"
        );
        let stored = fs::read_to_string(pki.path("alerts.ndjson")).unwrap();
        assert_eq!(stored.lines().count(), 2);
        assert!(stored.contains("\"2.D.V04\""));

        // An input without any message; a message over --max-bytes.
        let sending = |args: &[&str]| {
            let out = support::run_bounded(
                support::cli::send_to(&pki, port)
                    .args(["--pin", &pki.fingerprint("server")])
                    .args(args),
                Some(b""),
                Duration::from_secs(60),
            );
            (out.status.code(), text(&out.stdout), text(&out.stderr))
        };
        assert_eq!(
            sending(&[]),
            (
                Some(1),
                "0 accepted, 0 refused, 0 not delivered\n".to_string(),
                "idmefv2 send: -: no message found\n".to_string()
            )
        );
        // The message, not the newline after it.
        let size = fs::read(files[0]).unwrap().trim_ascii_end().len();
        let (code, stdout, stderr) = sending(&["--max-bytes", "100", files[0]]);
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(
            stdout,
            format!(
                "{}:1: (message): {size} bytes, more than the 100 this tool reads \
                 (--max-bytes); not sent\n0 accepted, 0 refused, 1 not delivered\n",
                files[0]
            )
        );
        assert_eq!(
            fs::read_to_string(pki.path("alerts.ndjson")).unwrap(),
            stored
        );
    }

    /// The shell words of a command line, with single quotes.
    fn words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        let mut any = false;
        for c in line.chars() {
            match c {
                '\'' => {
                    quoted = !quoted;
                    any = true;
                }
                c if c.is_whitespace() && !quoted => {
                    if any {
                        words.push(std::mem::take(&mut word));
                        any = false;
                    }
                }
                c => {
                    word.push(c);
                    any = true;
                }
            }
        }
        if any {
            words.push(word);
        }
        words
    }

    /// The commands and the outputs of the transport walkthrough
    /// (`docs/transport.md`), in order:
    /// the lines of each `sh` block (continuations joined, comments
    /// dropped) and each `text` block.
    fn walkthrough() -> (Vec<String>, Vec<String>) {
        let guide =
            fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/transport.md")).unwrap();
        let section = guide.as_str();
        let (mut commands, mut outputs) = (Vec::new(), Vec::new());
        for (i, block) in section.split("```").enumerate() {
            if i % 2 == 0 {
                continue;
            }
            let (kind, body) = block.split_once('\n').unwrap_or_default();
            match kind {
                "sh" => {
                    for line in body.replace("\\\n", " ").lines() {
                        let line = line.trim();
                        if !line.is_empty() && !line.starts_with('#') {
                            commands.push(line.to_string());
                        }
                    }
                }
                "text" => outputs.push(body.to_string()),
                _ => {}
            }
        }
        (commands, outputs)
    }

    #[test]
    fn the_readme_walkthrough_runs_as_written() {
        support::require(&["openssl", "curl"]);
        let (commands, outputs) = walkthrough();
        let find = |prefix: &str| {
            commands
                .iter()
                .find(|c| c.starts_with(prefix))
                .unwrap_or_else(|| panic!("no `{prefix}` in docs/transport.md"))
                .clone()
        };
        let root = env!("CARGO_MANIFEST_DIR");
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        std::os::unix::fs::symlink(format!("{root}/fixtures"), dir.path().join("fixtures"))
            .unwrap();
        let script = words(&find("scripts/make_test_pki.sh"));
        let made = support::run_bounded(
            Command::new("bash")
                .arg(format!("{root}/{}", script[0]))
                .args(&script[1..])
                .current_dir(dir.path()),
            None,
            Duration::from_secs(60),
        );
        assert!(made.status.success(), "{}", text(&made.stderr));

        // The walkthrough's port, moved to a free one.
        let port = free_port().to_string();
        let local = |line: String| line.replace("4690", &port);
        let serve = words(&local(find("idmefv2 serve")));
        let child = Command::new(env!("CARGO_BIN_EXE_idmefv2"))
            .args(&serve[1..])
            .current_dir(dir.path())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut serve = Guard::new(child);
        support::wait_for_port(port.parse().unwrap());

        let example = words(&find("idmefv2 example"));
        assert_eq!(example[2..], [">", "alert.json"]);
        let alert = Command::new(env!("CARGO_BIN_EXE_idmefv2"))
            .arg("example")
            .output()
            .unwrap();
        fs::write(dir.path().join("alert.json"), alert.stdout).unwrap();

        let send = words(&local(find("idmefv2 send")));
        let sent = support::run_bounded(
            Command::new(env!("CARGO_BIN_EXE_idmefv2"))
                .args(&send[1..])
                .current_dir(dir.path()),
            None,
            Duration::from_secs(60),
        );
        assert_eq!(sent.status.code(), Some(1), "{}", text(&sent.stderr));
        assert_eq!(text(&sent.stdout), outputs[0]);

        let curl = words(&local(find("curl ")));
        let answer = support::run_bounded(
            Command::new("curl")
                .args(["-sS", "--max-time", "20"])
                .args(&curl[1..])
                .current_dir(dir.path()),
            None,
            Duration::from_secs(30),
        );
        assert_eq!(format!("{}\n", text(&answer.stdout)), outputs[2]);

        let stored = fs::read_to_string(dir.path().join("alerts.ndjson")).unwrap();
        assert_eq!(stored.lines().count(), 2);
        serve.terminate(Duration::from_secs(30));
        let log = serve.stderr();
        // The log as the walkthrough shows it, client ports and order aside
        // (send has several requests in flight), and without the test's
        // readiness probe (a connection closed before any handshake).
        let shape = |text: &str| -> Vec<String> {
            let mut lines: Vec<String> = text
                .lines()
                .filter(|l| !l.contains("stopped;") && !l.contains("handshake eof"))
                .map(|l| {
                    l.split(' ')
                        .map(|w| {
                            if w.starts_with("127.0.0.1:") {
                                "ADDRESS"
                            } else {
                                w
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                        .replace(&format!("127.0.0.1:{port}/"), "127.0.0.1:4690/")
                })
                .collect();
            lines.sort();
            lines
        };
        let mut expected = shape(&outputs[1]);
        // curl's request comes after the walkthrough's three.
        expected.push(
            "idmefv2 serve: ADDRESS sensor.example POST / 400 violations=1 \
             [/ID pattern \"not a UUID (8-4-4-4-12 hexadecimal digits)\"]"
                .into(),
        );
        expected.sort();
        assert_eq!(shape(&log), expected, "{log}");
    }
}
