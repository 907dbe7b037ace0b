//! What the fault and load tests share: inputs of many messages, `idmefv2
//! serve` on a port of the test's choosing (so that it can be killed and
//! started again on the same one), `idmefv2 send --spool` as a child, and
//! the count of what reached the receiver's file.

use std::{
    collections::{HashMap, HashSet},
    fs,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use super::{
    cli::{send_command, serve_command},
    wait_for_port, wait_until, Guard, Pki,
};

/// `count` fresh valid messages, one per line, and their IDs.
pub fn ndjson_input(count: usize) -> (Vec<u8>, Vec<String>) {
    let mut text = Vec::new();
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let (id, body) = super::message();
        text.extend_from_slice(&body);
        text.push(b'\n');
        ids.push(id);
    }
    (text, ids)
}

/// A file opened for appending (created when missing).
fn append(path: &Path) -> fs::File {
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open a log file")
}

/// `idmefv2 serve` on 127.0.0.1:`port` appending to `out` (its log to
/// `OUT.log`), with `extra` options; returns once it accepts connections.
pub fn serve_on(pki: &Pki, port: u16, out: &Path, extra: &[&str]) -> Guard {
    let child = serve_command(pki, port)
        .arg("--out")
        .arg(out)
        .args(extra)
        .stderr(append(&out.with_extension("log")))
        .spawn()
        .expect("start idmefv2 serve");
    let guard = Guard::new(child);
    wait_for_port(port);
    guard
}

/// `idmefv2 send --spool SPOOL --ndjson INPUT` (or without input when
/// `input` is `None`) to `url`, as a child whose stderr goes to
/// `SPOOL.log` and stdout to `SPOOL.out`.
pub fn send_spooled(
    pki: &Pki,
    url: &str,
    spool: &Path,
    input: Option<&Path>,
    extra: &[&str],
) -> Guard {
    let mut command = send_command(pki);
    command
        .args(["--url", url, "--ca", &pki.arg("ca.pem")])
        .arg("--spool")
        .arg(spool)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(append(&spool.with_extension("out")))
        .stderr(append(&spool.with_extension("log")));
    if let Some(input) = input {
        command.arg("--ndjson").arg(input);
    }
    Guard::new(command.spawn().expect("start idmefv2 send"))
}

/// One scenario's files: a PKI folder holding `input.ndjson` with
/// `count` messages, the receiver's `alerts.ndjson` and the `spool`.
pub struct Scenario {
    /// The certificates, and the folder of everything else.
    pub pki: Pki,
    /// The IDs of the input's messages, in order.
    pub ids: Vec<String>,
    /// `input.ndjson`.
    pub input: PathBuf,
    /// The receiver's file, `alerts.ndjson`.
    pub out: PathBuf,
    /// The sender's spool folder.
    pub spool: PathBuf,
}

impl Scenario {
    /// A fresh PKI folder with an input of `count` messages.
    pub fn new(count: usize) -> Scenario {
        let pki = Pki::new();
        let (text, ids) = ndjson_input(count);
        let input = pki.path("input.ndjson");
        fs::write(&input, text).expect("write the input");
        Scenario {
            out: pki.path("alerts.ndjson"),
            spool: pki.path("spool"),
            pki,
            ids,
            input,
        }
    }

    /// The sender on the scenario's input (or none) to `port`.
    pub fn sender(&self, port: u16, with_input: bool) -> Guard {
        let url = format!("https://localhost:{port}/");
        let input = with_input.then_some(self.input.as_path());
        send_spooled(&self.pki, &url, &self.spool, input, &[])
    }

    /// The sender's stderr and stdout so far.
    pub fn sender_log(&self) -> (String, String) {
        let read = |p: PathBuf| fs::read_to_string(p).unwrap_or_default();
        (
            read(self.spool.with_extension("log")),
            read(self.spool.with_extension("out")),
        )
    }

    /// What reached the receiver's file.
    pub fn tally(&self) -> Tally {
        tally(&self.out, &self.ids)
    }
}

/// Waits until `file` has at least `lines` lines (`limit` at most).
pub fn wait_for_lines(file: &Path, lines: usize, limit: Duration) {
    let what = format!("{} holding {lines} lines", file.display());
    wait_until(&what, limit, || {
        fs::read(file).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) >= lines
    });
}

/// What reached the receiver's file, against what was sent.
#[derive(Debug)]
pub struct Tally {
    /// Messages sent.
    pub sent: usize,
    /// Sent IDs found in the file at least once.
    pub stored: usize,
    /// Sent IDs not in the file.
    pub lost: usize,
    /// Lines holding an ID already seen on an earlier line.
    pub repeated: usize,
    /// Lines that are not a JSON object with an ID (cut by a kill).
    pub torn: usize,
}

/// Counts the IDs of the NDJSON file `out` against `sent`.
pub fn tally(out: &Path, sent: &[String]) -> Tally {
    let text = fs::read(out).unwrap_or_default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut torn = 0;
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let id = serde_json::from_slice::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("ID").and_then(|id| id.as_str().map(str::to_string)));
        match id {
            Some(id) => *seen.entry(id).or_default() += 1,
            None => torn += 1,
        }
    }
    let sent_set: HashSet<&String> = sent.iter().collect();
    let stored = sent_set.iter().filter(|id| seen.contains_key(**id)).count();
    Tally {
        sent: sent.len(),
        stored,
        lost: sent.len() - stored,
        repeated: seen.values().map(|n| n - 1).sum(),
        torn,
    }
}

/// The line each scenario prints, for the record.
pub fn report(scenario: &str, tally: &Tally, took: Duration) {
    eprintln!(
        "scenario {scenario}: sent {}, stored {}, lost {}, repeated {} (torn lines {}), {:.1} s",
        tally.sent,
        tally.stored,
        tally.lost,
        tally.repeated,
        tally.torn,
        took.as_secs_f64()
    );
}
