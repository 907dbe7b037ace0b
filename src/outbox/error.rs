//! What can go wrong: in the outbox itself ([`OutboxError`]) and in one
//! attempt to deliver a message ([`DeliverError`], which a transport's
//! [`Deliver`](super::Deliver) returns).

use std::{
    fmt, io,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use super::DeliveryReport;
use crate::Violation;

/// Why the outbox could not do what was asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum OutboxError {
    /// Reading or writing the spool folder failed.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        error: io::Error,
    },
    /// The journal holds something that is neither a record nor the
    /// interrupted last record of a crash.
    Corrupt {
        /// The journal.
        path: PathBuf,
        /// The line where the bad record starts (from 1).
        line: u64,
        /// Its byte offset from the start of the file.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The journal would grow past its limit.
    Full {
        /// The journal.
        path: PathBuf,
        /// Its size now, in bytes.
        used: u64,
        /// What the messages refused would have taken.
        needed: u64,
        /// [`OutboxOptions::max_bytes`](super::OutboxOptions::max_bytes).
        limit: u64,
    },
    /// Another process (or another [`Outbox`](super::Outbox)) has the spool folder open.
    Locked {
        /// The spool folder.
        path: PathBuf,
    },
    /// A delivery run stopped at a failure that sending again cannot mend
    /// (a TLS failure, the receiver refusing our certificate, a bad
    /// set-up); what was not delivered stays pending.
    Stopped {
        /// The failure ([`DeliverErrorKind::Fatal`]).
        error: DeliverError,
        /// What the run did before it stopped.
        report: Box<DeliveryReport>,
    },
    /// A delivery run gave up: nothing was acknowledged for
    /// [`DeliveryOptions::give_up_after`](super::DeliveryOptions::give_up_after)
    /// while messages were pending; they stay pending.
    GaveUp {
        /// The limit that was reached.
        after: Duration,
        /// The last failure seen.
        last_error: Option<DeliverError>,
        /// What the run did before it gave up.
        report: Box<DeliveryReport>,
    },
}

/// What kind of [`OutboxError`] it is, for code that sorts errors
/// without matching their fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OutboxErrorKind {
    /// [`OutboxError::Io`].
    Io,
    /// [`OutboxError::Corrupt`].
    Corrupt,
    /// [`OutboxError::Full`].
    Full,
    /// [`OutboxError::Locked`].
    Locked,
    /// [`OutboxError::Stopped`].
    Stopped,
    /// [`OutboxError::GaveUp`].
    GaveUp,
}

impl OutboxError {
    /// What kind of error it is.
    pub fn kind(&self) -> OutboxErrorKind {
        match self {
            OutboxError::Io { .. } => OutboxErrorKind::Io,
            OutboxError::Corrupt { .. } => OutboxErrorKind::Corrupt,
            OutboxError::Full { .. } => OutboxErrorKind::Full,
            OutboxError::Locked { .. } => OutboxErrorKind::Locked,
            OutboxError::Stopped { .. } => OutboxErrorKind::Stopped,
            OutboxError::GaveUp { .. } => OutboxErrorKind::GaveUp,
        }
    }

    /// The report of the delivery run that ended with this error
    /// ([`Stopped`](Self::Stopped), [`GaveUp`](Self::GaveUp)).
    pub fn report(&self) -> Option<&DeliveryReport> {
        match self {
            OutboxError::Stopped { report, .. } | OutboxError::GaveUp { report, .. } => {
                Some(report)
            }
            _ => None,
        }
    }
}

impl fmt::Display for OutboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboxError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            OutboxError::Corrupt {
                path,
                line,
                offset,
                reason,
            } => write!(
                f,
                "{}: line {line} (byte {offset}): {reason}; the journal is left as it is \
                 and nothing is sent from it",
                path.display()
            ),
            OutboxError::Full {
                path,
                used,
                needed,
                limit,
            } => {
                if path.as_os_str().is_empty() {
                    f.write_str("the queue in memory is full")?;
                } else {
                    write!(f, "{}: the spool is full", path.display())?;
                }
                write!(
                    f,
                    ": {used} bytes used of {limit}, {needed} more needed; messages leave it \
                     once the receiver acknowledges them"
                )
            }
            OutboxError::Locked { path } => write!(
                f,
                "{}: the spool is in use by another sender",
                path.display()
            ),
            OutboxError::Stopped { error, .. } => write!(f, "{error}"),
            OutboxError::GaveUp {
                after, last_error, ..
            } => {
                write!(
                    f,
                    "gave up after {} s without an acknowledgement",
                    after.as_secs()
                )?;
                if let Some(e) = last_error {
                    write!(f, " (last: {e})")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for OutboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OutboxError::Io { error, .. } => Some(error),
            OutboxError::Stopped { error, .. } => Some(error),
            OutboxError::GaveUp {
                last_error: Some(error),
                ..
            } => Some(error),
            _ => None,
        }
    }
}

pub(super) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> OutboxError + '_ {
    move |error| OutboxError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// What a failed delivery attempt means for the message and the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeliverErrorKind {
    /// The receiver judged the message and refused it (an HTTP 4xx, an
    /// invalid alert): it goes to the dead letters at once, with the
    /// receiver's reasons.
    Refused,
    /// The receiver failed on this message (an HTTP 500): sent again
    /// after a pause, and moved to the dead letters with the receiver's
    /// answers once it has failed
    /// [`DeliveryOptions::max_attempts`](super::DeliveryOptions::max_attempts)
    /// times.
    Failed,
    /// The receiver cannot take messages now (502, 503, 504, 408, 429, no
    /// connection, a timeout): sending pauses and goes on until
    /// [`DeliveryOptions::give_up_after`](super::DeliveryOptions::give_up_after).
    Unavailable,
    /// Sending again cannot help (a TLS failure, the receiver refusing
    /// our certificate, a bad set-up): the run stops at once.
    Fatal,
}

impl fmt::Display for DeliverErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeliverErrorKind::Refused => "refused",
            DeliverErrorKind::Failed => "failed",
            DeliverErrorKind::Unavailable => "unavailable",
            DeliverErrorKind::Fatal => "fatal",
        })
    }
}

/// Why one attempt to deliver a message failed: its
/// [`kind`](Self::kind) (what the engine does next), what the receiver
/// answered when it answered, and the transport's own error as
/// [`source`](std::error::Error::source). Its text is the source's.
#[derive(Clone)]
pub struct DeliverError {
    kind: DeliverErrorKind,
    status: Option<u16>,
    retry_after: Option<Duration>,
    violations: Vec<Violation>,
    source: Arc<dyn std::error::Error + Send + Sync>,
}

impl DeliverError {
    /// A failure of `kind` caused by `source` (the transport's error).
    pub fn new(
        kind: DeliverErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        DeliverError {
            kind,
            status: None,
            retry_after: None,
            violations: Vec::new(),
            source: Arc::from(source.into()),
        }
    }

    /// The receiver's status code (HTTP, or HTTP-like).
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// How long the receiver asked to wait before sending again.
    #[must_use]
    pub fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait;
        self
    }

    /// The receiver's reasons for refusing the message.
    #[must_use]
    pub fn with_violations(mut self, violations: Vec<Violation>) -> Self {
        self.violations = violations;
        self
    }

    /// What the engine does with the message; see [`DeliverErrorKind`].
    pub fn kind(&self) -> DeliverErrorKind {
        self.kind
    }

    /// The receiver's status code, when it answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// How long the receiver asked to wait before sending again.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The receiver's reasons, when it listed them.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The transport's error, to be downcast to its own type (for HTTPS,
    /// `idmefv2::http::client::SendError`).
    pub fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }
}

impl fmt::Debug for DeliverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliverError")
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for DeliverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.source, f)
    }
}

impl std::error::Error for DeliverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
