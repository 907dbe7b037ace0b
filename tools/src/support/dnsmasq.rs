//! Debian's dnsmasq as a small authoritative DNS server on loopback, for
//! the SRV discovery tests.

use std::{
    fs,
    path::Path,
    process::{Command, Stdio},
};

use super::{sbin, wait_for_port, Guard};

/// dnsmasq on 127.0.0.1:`port`, authoritative for `test.` with only the
/// given records (`--srv-host` values, and host names that resolve to
/// 127.0.0.1); its pid file and log in `dir`.
pub fn start(dir: &Path, port: u16, srv: &[String], hosts: &[&str]) -> Guard {
    let mut command = Command::new(sbin("dnsmasq"));
    command
        .args([
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
        ])
        .args([
            "--no-hosts",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg("--local=/test/")
        .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
        .arg("--log-facility=-")
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("dnsmasq.log")).expect("dnsmasq's log file"));
    for record in srv {
        command.arg(format!("--srv-host={record}"));
    }
    for host in hosts {
        command.arg(format!("--host-record={host},127.0.0.1"));
    }
    let guard = Guard::spawn(&mut command);
    wait_for_port(port);
    guard
}
