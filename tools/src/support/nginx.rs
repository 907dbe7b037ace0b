//! Debian's nginx with a configuration of the test's, in a folder of its
//! own: the HTTPS ceiling in the benchmark, a foreign receiver in the
//! client tests.

use std::{
    fs,
    process::{Command, Stdio},
};

use super::{sbin, wait_for_port, Guard, Pki};

/// Starts Debian's nginx in the foreground with `http` holding the given
/// configuration (server blocks and all), its files in a folder of its
/// own, `workers` worker processes; waits for each of `ports`.
pub fn start(http: &str, workers: usize, ports: &[u16]) -> (Guard, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let d = dir.path().display();
    let config = format!(
        "daemon off;\nuser root;\nworker_processes {workers};\npid {d}/nginx.pid;\n\
         error_log {d}/error.log;\nevents {{ worker_connections 4096; }}\n\
         http {{\n access_log off;\n{http}\n}}\n"
    );
    fs::write(dir.path().join("nginx.conf"), config).expect("write nginx.conf");
    let child = Command::new(sbin("nginx"))
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
pub fn tls(pki: &Pki, server: &str) -> String {
    format!(
        "ssl_protocols TLSv1.3;\nssl_certificate {};\nssl_certificate_key {};\n\
         ssl_client_certificate {};\nssl_verify_client on;\n",
        pki.arg(&format!("{server}.pem")),
        pki.arg(&format!("{server}.key")),
        pki.arg("ca.pem"),
    )
}
