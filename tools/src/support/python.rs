//! Receivers written in Python (`tools/scripts/`), on `http.server` with
//! mutual TLS 1.3 (`mtls.py`): the recorder the client tests send to, and
//! the python-idmefv2 receiver the HTTPS benchmark compares with.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use super::{free_port, wait_for_port, Guard, Pki};

/// The Python of the test virtualenv, which holds what the tests drive from
/// PyPI (`tools/provision/requirements.txt`): the folder `IDMEFV2_TEST_VENV`
/// names, else `target/test-venv` of the workspace, as
/// `scripts/provision.sh` makes it. Fails the test when it is missing.
pub fn venv() -> PathBuf {
    let dir = std::env::var_os("IDMEFV2_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv"));
    let python = dir.join("bin/python");
    assert!(
        python.is_file(),
        "no test virtualenv at {}: run scripts/provision.sh, which makes it",
        dir.display()
    );
    python
}

/// A script of `tools/scripts/`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

/// Runs `script` (a file of `tools/scripts/` taking `PORT CERT KEY CA
/// OUT`) with `python` on a free port, with the test server certificate
/// and CA, writing to `out`; returns once it accepts connections.
pub fn receiver(python: &str, script_name: &str, pki: &Pki, out: &Path) -> (Guard, u16) {
    let port = free_port();
    let guard = Guard::spawn(
        Command::new(python)
            .arg(script(script_name))
            .arg(port.to_string())
            .args([
                pki.arg("server.pem"),
                pki.arg("server.key"),
                pki.arg("ca.pem"),
            ])
            .arg(out),
    );
    wait_for_port(port);
    (guard, port)
}
