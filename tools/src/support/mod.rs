//! What the crate's integration tests and benchmarks that run real programs
//! share: child processes that die with the test, free loopback ports,
//! certificates made on the spot ([`pki`]), curl ([`curl`]), nginx
//! ([`nginx`]), nats-server ([`nats`]), a Kafka-protocol broker and a
//! mutual-TLS proxy in front of it ([`kafka`]), dnsmasq ([`dnsmasq`]), the Python
//! receivers ([`python`]), the `idmefv2` binary's `serve` and `send`
//! ([`cli`]), and the fault and load runs built on them ([`faults`],
//! [`load`]).
//!
//! This crate depends on `idmefv2` without its transport features (a
//! dev-dependency with them would turn them on for every test build of the
//! crate), so nothing here names the HTTPS or NATS types: what needs them
//! takes a closure from the test ([`inproc::InProcess`], [`load::run`]), or
//! drives the `idmefv2` binary as a process.

pub mod cli;
pub mod curl;
pub mod dnsmasq;
pub mod faults;
pub mod inproc;
pub mod kafka;
pub mod load;
pub mod nats;
pub mod nginx;
pub mod pki;
pub mod python;

use std::{
    fs,
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    time::{Duration, Instant},
};

pub use pki::Pki;

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

    /// Asks it to stop (SIGTERM) and waits for it to exit, for at most
    /// `limit`; kills it and panics past that.
    pub fn terminate(&mut self, limit: Duration) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.id().to_string()])
            .status();
        self.wait_for(limit)
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
                return status;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!("child still running after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything it writes on its piped stdout and stderr until it exits
    /// (within `limit`), and its exit code.
    pub fn output(&mut self, limit: Duration) -> (i32, String, String) {
        let child = self.child();
        let out = drain(child.stdout.take());
        let err = drain(child.stderr.take());
        let status = self.wait_for(limit);
        let code = status.code().expect("exited with a code");
        (code, out.join().unwrap(), err.join().unwrap())
    }

    /// What it wrote on its piped stderr, once it has exited.
    pub fn stderr(&mut self) -> String {
        drain(self.child().stderr.take()).join().unwrap()
    }
}

/// Reads a pipe to its end on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            pipe.read_to_string(&mut text).expect("read output");
        }
        text
    })
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

/// Polls `ready` every 20 ms until it holds, panicking with `what` after
/// `limit`.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "{what}: not after {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a program is on the PATH (or at an absolute path).
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `program` on the PATH, or where Debian puts it (`/usr/sbin`, which is
/// not on every user's PATH).
pub fn sbin(program: &str) -> PathBuf {
    if have(program) {
        program.into()
    } else {
        Path::new("/usr/sbin").join(program)
    }
}

/// The Debian package of each program the tests drive, from
/// `tools/provision/programs.txt` (which `scripts/provision.sh` installs).
pub fn package_of(program: &str) -> Option<&'static str> {
    include_str!("../../provision/programs.txt")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once(char::is_whitespace))
        .find(|(name, _)| *name == program)
        .map(|(_, package)| package.trim())
}

/// Fails the test, naming what installs them, unless the programs it drives
/// are installed. A test that needs a program never passes without it:
/// `scripts/test.sh` (the README's test command) installs them first.
pub fn require(programs: &[&str]) {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| !(have(p) || Path::new("/usr/sbin").join(p).exists()))
        .collect();
    if missing.is_empty() {
        return;
    }
    let packages: Vec<&str> = missing.iter().map(|p| package_of(p).unwrap_or(p)).collect();
    panic!(
        "this test drives {missing:?}, which this machine lacks: run scripts/provision.sh \
         (or apt-get install {})",
        packages.join(" ")
    );
}

/// Runs `command` with a deadline, killing it when it is exceeded; its
/// stdin is `input` (written from a thread of its own, so that a full
/// stdout pipe cannot stall the test) or nothing.
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
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", command.get_program()));
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

/// The text of a file, or an empty string if there is none yet.
pub fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A file of the repository, by its path from the root.
pub fn fixture(path: &str) -> Vec<u8> {
    let path = crate::fixtures::repository().join(path);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fresh valid 2.D.V08 message with its ID.
pub fn message() -> (String, Vec<u8>) {
    let message = idmefv2::Message::builder(idmefv2::Analyzer::builder("test-ids").ip("192.0.2.1"))
        .description("test alert")
        .build()
        .expect("valid message");
    (message.id.to_string(), message.to_vec())
}

/// The `q` quantile (0 to 1) of sorted durations; zero when there are
/// none.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(index).copied().unwrap_or_default()
}

/// The build folder of the running test or benchmark: Cargo puts their
/// executables in `PROFILE/deps/`, and the package's binaries in
/// `PROFILE/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the running executable");
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not in a Cargo build folder", exe.display()))
        .to_path_buf()
}

/// A folder for temporary files on the build's disk, as Cargo's
/// `CARGO_TARGET_TMPDIR` (`target/tmp`): not a tmpfs `/tmp`, so that
/// syncs are real.
pub fn target_tmp() -> PathBuf {
    let profile = profile_dir();
    let dir = profile.parent().unwrap_or(&profile).join("tmp");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// The `idmefv2` binary of the same build as the running test or
/// benchmark (Cargo builds it for them when the `cli` feature is on), or
/// the one `IDMEFV2_BINARY` names: another build, to compare two under
/// the same benchmark in one session.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("IDMEFV2_BINARY") {
        return path.into();
    }
    let path = profile_dir().join(format!("idmefv2{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: the tests and benchmarks that run it need --features cli",
        path.display()
    );
    path
}
