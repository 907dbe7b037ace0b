//! Real `nats-server` processes on loopback: one alone, or a cluster of
//! several, each with JetStream and its store in a temporary directory; or
//! one without JetStream, as a server started without `-js` is. Killed
//! when dropped.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use super::{free_port, read_lossy, wait_until, Guard};

/// The `nats-server` binary: `NATS_SERVER` if set, else the first on
/// `PATH`, else where Debian's package puts it (`/usr/sbin`, which is not
/// on every user's `PATH`).
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return path.into();
    }
    super::require(&["nats-server"]);
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/nats-server"))
}

/// One server, which can be killed and started again on the same ports and
/// store.
pub struct Server {
    name: String,
    port: u16,
    args: Vec<String>,
    log: PathBuf,
    starts: usize,
    process: Option<Guard>,
}

impl Server {
    /// The client URL, `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's name (its JetStream peer name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts it and waits until it says it is ready.
    pub fn start(&mut self) {
        assert!(self.process.is_none(), "{} is already running", self.name);
        let mut command = Command::new(binary());
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.process = Some(Guard::spawn(&mut command));
        self.starts += 1;
        let (log, starts) = (self.log.clone(), self.starts);
        let process = self.process.as_mut().expect("just started");
        wait_until(
            &format!("{} ready (log {})", self.name, log.display()),
            Duration::from_secs(20),
            || {
                assert!(
                    process.is_running(),
                    "nats-server exited: {}",
                    read_lossy(&log)
                );
                read_lossy(&log).matches("Server is ready").count() >= starts
            },
        );
    }

    /// Kills it with SIGKILL, as a crash or a pulled plug would.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }
}

/// The arguments every server gets: loopback only, JetStream on, a store,
/// a name, a log file.
fn common_args(port: u16, store: &Path, name: &str, log: &Path) -> Vec<String> {
    vec![
        "-a".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        "-js".into(),
        "-sd".into(),
        store.display().to_string(),
        "--server_name".into(),
        name.into(),
        "-l".into(),
        log.display().to_string(),
    ]
}

/// Servers that are stopped when this is dropped, with their stores.
pub struct Servers {
    /// The servers, in the order they were made.
    pub nodes: Vec<Server>,
    _dir: tempfile::TempDir,
}

impl Servers {
    /// One JetStream server.
    pub fn single() -> Self {
        Servers::alone(true)
    }

    /// One server without JetStream (no `-js`): core NATS only.
    pub fn without_jetstream() -> Self {
        Servers::alone(false)
    }

    fn alone(jetstream: bool) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = free_port();
        let store = dir.path().join("store");
        let log = dir.path().join("server.log");
        let mut args = common_args(port, &store, "single", &log);
        if !jetstream {
            args.retain(|arg| arg != "-js");
            let at = args.iter().position(|arg| arg == "-sd").expect("-sd");
            args.drain(at..at + 2);
        }
        let mut server = Server {
            name: "single".into(),
            port,
            args,
            log,
            starts: 0,
            process: None,
        };
        server.start();
        Servers {
            nodes: vec![server],
            _dir: dir,
        }
    }

    /// A JetStream cluster of `size` servers on loopback, routes between
    /// all of them.
    pub fn cluster(size: usize) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let ports: Vec<(u16, u16)> = (0..size).map(|_| (free_port(), free_port())).collect();
        let mut nodes: Vec<Server> = ports
            .iter()
            .enumerate()
            .map(|(i, &(port, cluster_port))| {
                let name = format!("n{i}");
                let routes: Vec<String> = ports
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, &(_, c))| format!("nats://127.0.0.1:{c}"))
                    .collect();
                let store = dir.path().join(&name);
                let log = dir.path().join(format!("{name}.log"));
                let mut args = common_args(port, &store, &name, &log);
                args.extend([
                    "--cluster_name".into(),
                    "idmefv2-test".into(),
                    "--cluster".into(),
                    format!("nats://127.0.0.1:{cluster_port}"),
                    "--routes".into(),
                    routes.join(","),
                ]);
                Server {
                    name,
                    port,
                    args,
                    log,
                    starts: 0,
                    process: None,
                }
            })
            .collect();
        for node in &mut nodes {
            node.start();
        }
        Servers { nodes, _dir: dir }
    }

    /// The client URL of the first server.
    pub fn url(&self) -> String {
        self.nodes[0].url()
    }
}
