//! curl, a client nobody here wrote, with the test certificates.

use std::{fs, process::Command, time::Duration};

use super::{run_bounded, Pki};

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
    /// The response body.
    pub body: String,
    /// What curl said on its stderr.
    pub stderr: String,
}

/// A curl command line against a server, with the test certificates.
pub struct Curl {
    args: Vec<String>,
    input: Option<Vec<u8>>,
}

impl Curl {
    /// `curl` for `url` presenting `client` (a name in [`Pki`], or `None`
    /// for no certificate) and trusting the test CA.
    pub fn new(pki: &Pki, url: &str, client: Option<&str>) -> Curl {
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
        Curl { args, input: None }
    }

    /// One more argument.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// A request header, `Name: value`.
    pub fn header(self, header: &str) -> Self {
        self.arg("-H").arg(header)
    }

    /// POSTs `body` (read by curl from its standard input).
    pub fn post(mut self, body: &[u8]) -> Self {
        self.input = Some(body.to_vec());
        self.arg("--data-binary").arg("@-")
    }

    /// Runs it (30 s at most) and reads what it saw.
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
