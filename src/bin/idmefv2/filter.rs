//! `idmefv2 filter`: the messages of an NDJSON stream that match IDMEF
//! criteria, written unchanged; and the criteria argument that `serve`,
//! `send` and `consume` take as `--where`.

use std::{
    future::Future,
    io::{self, Write},
    path::PathBuf,
    process::ExitCode,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use idmefv2::{
    criteria::Criteria,
    sink::{Kept, Received, Sink, SinkError},
    stream::Framing,
    Limits,
};

use crate::{
    check,
    input::{for_each_message, MaxBytes},
    report::Status,
};

pub const EXAMPLES: &str = "\
Examples:
  idmefv2 filter 'Priority == High' alerts.ndjson > high.ndjson
  idmefv2 filter 'Source(*).IP in 10.0.0.0/8 && CreateTime >= 2025-01-01T00:00:00Z' a.ndjson
  idmefv2 filter --count 'Analyzer.Name =* suricata' alerts.ndjson
  idmefv2 filter --invert 'Category(*) ~ \"^Recon\\.\"' alerts.ndjson
  some-sensor | idmefv2 filter 'Description <>* ssh || Target(*).Port(*) == (22 || 2222)'

CRITERIA tests IDMEF paths (as Message::get reads them, `(*)` meaning any
entry, a negative index counting from the end) with the operators
== (or =), !=, =* and !=* (letter case aside), ~ and ~* (regular
expression), !~, !~*, <> and <>* (contains), !<>, <, <=, >, >= and `in`
(an address inside a block such as 10.0.0.0/8); a path alone holds when
the message has a value there; tests combine with &&, || and ! in
parentheses, and (A || B) as a value means either. Values compare by the
attribute's type: timestamps by instant, numbers as numbers, value lists
by their text. The whole language: docs/criteria.md.

Input is NDJSON, one message per non-empty line. Each message is checked
against the schema of its Version (every draft is accepted); a message
that matches (or, with --invert, does not) is written on stdout exactly as
it came, byte for byte, with a newline. An invalid message is reported on
stderr as `validate` reports it (SOURCE:LINE: POINTER: REASON) and never
written, whether or not --invert is given. A criterion that does not
compile is refused before anything is read, with its byte position.

Exit status: 0 all messages valid (whether any matched or not), 1 some
invalid, 2 usage or I/O error.";

/// Arguments of `idmefv2 filter`.
#[derive(clap::Args)]
pub struct Args {
    /// The criteria messages must match (see below).
    #[arg(value_name = "CRITERIA", value_parser = criteria)]
    criteria: Arc<Criteria>,
    /// Print only the number of messages selected.
    #[arg(long)]
    count: bool,
    /// Select the messages that do not match instead.
    #[arg(long)]
    invert: bool,
    #[command(flatten)]
    limits: MaxBytes,
    /// NDJSON files; none or `-` reads standard input.
    paths: Vec<PathBuf>,
}

/// Compiles a criteria argument; a refusal shows where, under the text.
pub fn criteria(text: &str) -> Result<Arc<Criteria>, String> {
    Criteria::parse(text).map(Arc::new).map_err(|e| {
        if text.contains(['\n', '\r']) {
            return e.to_string();
        }
        let column = text.get(..e.position()).map_or(0, |t| t.chars().count());
        format!("{e}\n  {text}\n  {:column$}^", "")
    })
}

/// The `--where` option of `serve`, `send` and `consume`.
#[derive(clap::Args)]
pub struct Where {
    /// Only alerts that match these IDMEF criteria (as `idmefv2 filter`
    /// takes them); the others are counted and passed over: acknowledged
    /// and not stored (serve), not sent (send), acknowledged and not
    /// written (consume).
    #[arg(long = "where", value_name = "CRITERIA", value_parser = criteria)]
    pub criteria: Option<Arc<Criteria>>,
}

/// Alerts that a `--where` passed over in this process.
static UNMATCHED: AtomicU64 = AtomicU64::new(0);

impl Where {
    /// Whether the alert encoded in `bytes` passes (without `--where`,
    /// every alert does); counts those that do not. Bytes that cannot be
    /// read as a JSON object pass, so that whatever checks them next
    /// reports them rather than their vanishing here.
    pub fn admits(&self, bytes: &[u8]) -> bool {
        self.count(
            self.criteria
                .as_ref()
                .is_none_or(|c| c.matches_json(bytes).unwrap_or(true)),
        )
    }

    /// Whether a received alert passes: by its body when that is JSON,
    /// otherwise by its typed message.
    fn admits_received(&self, received: &Received) -> bool {
        self.count(
            self.criteria
                .as_ref()
                .is_none_or(|c| match c.matches_json(&received.body) {
                    Ok(pass) => pass,
                    Err(_) => received.message.as_ref().is_none_or(|m| c.matches(m)),
                }),
        )
    }

    fn count(&self, pass: bool) -> bool {
        if !pass {
            UNMATCHED.fetch_add(1, Ordering::Relaxed);
        }
        pass
    }

    /// The line that says how many alerts were passed over, when
    /// `--where` was given.
    pub fn summary(&self, what: &str) -> Option<String> {
        self.criteria.as_ref().map(|_| {
            let n = UNMATCHED.load(Ordering::Relaxed);
            format!("{n} alerts did not match --where ({what})")
        })
    }

    /// `sink` keeping only the alerts that pass; the others are
    /// acknowledged and not stored.
    pub fn sink<S: Sink>(&self, sink: S) -> WhereSink<S> {
        WhereSink {
            inner: sink,
            filter: Where {
                criteria: self.criteria.clone(),
            },
        }
    }
}

/// A sink that stores only the alerts matching `--where`.
pub struct WhereSink<S> {
    inner: S,
    filter: Where,
}

impl<S: Sink> Sink for WhereSink<S> {
    fn keep(&self, message: Received) -> impl Future<Output = Result<(), SinkError>> + Send {
        let pass = self.filter.admits_received(&message);
        async move {
            if pass {
                self.inner.keep(message).await
            } else {
                Ok(())
            }
        }
    }

    // What the inner sink did (a repeat, an ID reused) stays visible in
    // the request log, and so does a message left out.
    fn keep_noted(
        &self,
        message: Received,
    ) -> impl Future<Output = Result<Kept, SinkError>> + Send {
        let pass = self.filter.admits_received(&message);
        async move {
            if pass {
                self.inner.keep_noted(message).await
            } else {
                Ok(Kept::Unmatched)
            }
        }
    }

    fn needs_typed_message(&self) -> bool {
        self.inner.needs_typed_message()
    }

    fn close(&self) -> impl Future<Output = Result<(), SinkError>> + Send {
        self.inner.close()
    }
}

pub fn run(args: Args) -> io::Result<ExitCode> {
    let limits: Limits = args.limits.limits();
    let mut status = Status::default();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let stderr = io::stderr();
    let (mut selected, mut counts) = (0usize, (0, 0));
    let mut kept = Vec::new();
    for_each_message(
        &args.paths,
        Framing::Lines,
        &limits,
        &mut status,
        |source, _index, item| {
            let line = item.line;
            let checked = check::check(item, &limits, |bytes| {
                idmefv2::validate_slice(bytes, &limits)?;
                let chosen = args.criteria.matches_json(bytes)? != args.invert;
                if chosen && !args.count {
                    kept.clear();
                    kept.extend_from_slice(bytes);
                }
                Ok(chosen)
            });
            match checked {
                Ok(chosen) => {
                    counts.0 += 1;
                    if chosen {
                        selected += 1;
                        if !args.count {
                            out.write_all(&kept)?;
                            out.write_all(b"\n")?;
                        }
                    }
                    Ok(())
                }
                Err(failure) => {
                    counts.1 += 1;
                    failure.write_text(&mut stderr.lock(), source, line)
                }
            }
        },
    )?;
    (status.valid, status.invalid) = counts;
    if args.count {
        writeln!(out, "{selected}")?;
    }
    out.flush()?;
    Ok(status.exit_code())
}
