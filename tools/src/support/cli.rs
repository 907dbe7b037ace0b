//! `idmefv2 serve` and `idmefv2 send` with the test certificates, as
//! processes of the binary the running test was built with
//! ([`super::binary`]).

use std::process::{Command, Stdio};

use super::{binary, free_port, wait_for_port, Guard, Pki};

/// `idmefv2 serve` on a free loopback port with the test server
/// certificate and CA, plus `extra` options; its stderr is piped when
/// `log` is set. Returns once it accepts connections.
pub fn serve(pki: &Pki, extra: &[&str], log: bool) -> (Guard, u16) {
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

/// `idmefv2 serve` on 127.0.0.1:`port` with the test server certificate,
/// key and client CA, not started.
pub fn serve_command(pki: &Pki, port: u16) -> Command {
    serve_command_as(pki, port, "server")
}

/// [`serve_command`] presenting the certificate `NAME.pem`.
pub fn serve_command_as(pki: &Pki, port: u16, name: &str) -> Command {
    let mut command = Command::new(binary());
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--cert", &pki.arg(&format!("{name}.pem"))])
        .args(["--key", &pki.arg(&format!("{name}.key"))])
        .args(["--client-ca", &pki.arg("ca.pem")]);
    command
}

/// [`send_command`] to a receiver on loopback `port`
/// (`https://localhost:PORT/`), run from the repository's root so that
/// fixtures are named as the tests name them; its trust is up to the
/// caller.
pub fn send_to(pki: &Pki, port: u16) -> Command {
    let mut command = send_command(pki);
    command
        .current_dir(crate::fixtures::repository())
        .args(["--url", &format!("https://localhost:{port}/")]);
    command
}

/// `idmefv2 send` presenting the test client certificate, not started;
/// the receiver and its trust are up to the caller.
pub fn send_command(pki: &Pki) -> Command {
    let mut command = Command::new(binary());
    command
        .arg("send")
        .args(["--cert", &pki.arg("client.pem")])
        .args(["--key", &pki.arg("client.key")]);
    command
}
