//! Helpers shared by the integration tests that run real servers: child
//! processes that die with the test, free loopback ports, and the servers
//! themselves (one file per kind).
#![allow(dead_code)]

pub mod nats;

use std::{
    io::Read,
    net::TcpListener,
    path::Path,
    process::{Child, Command, ExitStatus},
    time::{Duration, Instant},
};

/// A child process that is killed (SIGKILL) and reaped when dropped, so that
/// a failing test leaves nothing running.
pub struct Guard {
    child: Option<Child>,
}

impl Guard {
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
        self.kill();
    }
}

/// A loopback TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a loopback port")
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
