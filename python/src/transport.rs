//! The transports of `idmefv2_rs.transport`: the native sender and
//! receiver behind its `Transport` objects. Both are the crate's own parts
//! run on a tokio runtime each object owns: the sender is the delivery
//! engine `idmefv2::outbox` driving `idmefv2::http::client::Client`; the
//! receiver is `idmefv2::http::server::Server` with a sink that puts
//! messages on a Python `queue.Queue`. Python only chooses, serializes and
//! raises; nothing of a transport is written twice.

use std::time::Duration;

use idmefv2::http::tls::Pin;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

#[path = "transport_receive.rs"]
mod receive;
#[path = "transport_send.rs"]
mod send;

/// Adds the transport classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<send::Sender>()?;
    m.add_class::<receive::Receiver>()?;
    Ok(())
}

/// Certificate fingerprints as given in Python (hex, colons allowed).
fn pins(texts: &[String]) -> PyResult<Vec<Pin>> {
    texts
        .iter()
        .map(|t| {
            t.parse::<Pin>()
                .map_err(|e| PyValueError::new_err(format!("pin {t:?}: {e}")))
        })
        .collect()
}

/// A duration in seconds given by Python, refused when negative or not
/// finite.
fn seconds(what: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| PyValueError::new_err(format!("{what}: {value} is not a number of seconds")))
}

/// A runtime of its own for one transport object: a worker thread or two,
/// so that Python threads never run async code.
fn runtime(name: &str, workers: usize) -> PyResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("async runtime: {e}")))
}
