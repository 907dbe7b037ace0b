//! `_native.Receiver`: the crate's HTTPS (or plain HTTP) server, whose
//! sink builds each accepted message as a Python object and puts it on a
//! `queue.Queue`. A full queue is answered 503 with `Retry-After`, so the
//! sender keeps the message and tries again.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use idmefv2::{
    codec::is_json,
    http::{
        server::{ReceiveOptions, Received, Server, Sink, SinkError},
        tls::ServerTls,
    },
};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::read;

/// Puts accepted messages on a Python queue.
struct QueueSink {
    queue: Arc<Py<PyAny>>,
    /// The class messages are built as (`idmefv2_rs.Message`).
    cls: Arc<Py<PyType>>,
    /// `queue.Full`.
    full: Arc<Py<PyType>>,
    retry_after: Duration,
}

impl QueueSink {
    fn put(&self, received: &Received) -> Result<(), SinkError> {
        let other;
        let json: &[u8] = if is_json(&received.content_type) {
            &received.body
        } else {
            // Another encoding: the typed message the server built from it.
            other = received.message.as_ref().map(|m| m.to_vec());
            match &other {
                Some(json) => json,
                None => return Err(SinkError::internal("no message was built from the body")),
            }
        };
        Python::attach(|py| {
            let message = read::from_json(py, json, Some(self.cls.bind(py)))
                .map_err(|_| SinkError::internal("the accepted message could not be built"))?;
            match self.queue.bind(py).call_method1("put_nowait", (message,)) {
                Ok(_) => Ok(()),
                Err(e) if e.is_instance(py, self.full.bind(py)) => Err(SinkError::unavailable(
                    "the receiving queue is full",
                    self.retry_after,
                )),
                Err(e) => Err(SinkError::internal(format!("the receiving queue: {e}"))),
            }
        })
    }
}

impl Sink for QueueSink {
    async fn keep(&self, message: Received) -> Result<(), SinkError> {
        let sink = QueueSink {
            queue: self.queue.clone(),
            cls: self.cls.clone(),
            full: self.full.clone(),
            retry_after: self.retry_after,
        };
        // Taking the GIL may wait: not on the server's async threads.
        tokio::task::spawn_blocking(move || sink.put(&message))
            .await
            .unwrap_or_else(|e| Err(SinkError::internal(format!("the queue task: {e}"))))
    }

    fn needs_typed_message(&self) -> bool {
        // JSON bodies are built into Python objects from their bytes.
        false
    }
}

/// What lives while the receiver runs.
struct Running {
    runtime: tokio::runtime::Runtime,
    shutdown: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Receiver {
    /// A receiver dropped without `close`: the server stops without
    /// waiting, since waiting here would hold the GIL that its sink needs.
    fn drop(&mut self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(running) = running {
            running.runtime.shutdown_background();
        }
    }
}

/// An IDMEFv2 endpoint feeding a Python queue.
#[pyclass(module = "idmefv2_rs._native", frozen)]
pub(crate) struct Receiver {
    address: SocketAddr,
    running: Mutex<Option<Running>>,
}

#[allow(clippy::too_many_arguments)]
#[pymethods]
impl Receiver {
    /// Listens on `host`:`port` (0: any free port) and serves until
    /// `close`. With `tls` (certificate, key and client CA, PEM), mutual
    /// TLS 1.3 as `idmefv2 serve` does it; without, plain HTTP.
    #[new]
    #[pyo3(signature = (host, port, path, queue, message_class, tls, allow_peers, pins, upgrade, max_bytes, retry_after))]
    fn new(
        py: Python<'_>,
        host: &str,
        port: u16,
        path: &str,
        queue: Py<PyAny>,
        message_class: Py<PyType>,
        tls: Option<(Vec<u8>, Vec<u8>, Vec<u8>)>,
        allow_peers: Vec<String>,
        pins: Vec<String>,
        upgrade: bool,
        max_bytes: usize,
        retry_after: f64,
    ) -> PyResult<Receiver> {
        let config = |e: idmefv2::http::tls::ConfigError| PyValueError::new_err(e.to_string());
        let server = match tls {
            Some((cert, key, ca)) => {
                let mut tls = ServerTls::from_pem(&cert, &key, &ca).map_err(config)?;
                for peer in allow_peers {
                    tls = tls.allow_peer(peer);
                }
                for pin in super::pins(&pins)? {
                    tls = tls.pin(pin);
                }
                Server::new(tls).map_err(config)?
            }
            None if allow_peers.is_empty() && pins.is_empty() => Server::insecure_plaintext(),
            None => {
                return Err(PyValueError::new_err(
                    "allowed peers and pins are checked over TLS only (https)",
                ))
            }
        };
        let server = server.path(path).map_err(config)?.options(
            ReceiveOptions::default()
                .max_bytes(max_bytes)
                .upgrade(upgrade),
        );
        let full = py.import("queue")?.getattr("Full")?.cast_into::<PyType>()?;
        let sink = QueueSink {
            queue: Arc::new(queue),
            cls: Arc::new(message_class),
            full: Arc::new(full.unbind()),
            retry_after: super::seconds("retry_after", retry_after)?,
        };
        let runtime = super::runtime("idmefv2-receive", 2)?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let listener = py
            .detach(|| runtime.block_on(tokio::net::TcpListener::bind((host.as_str(), port))))
            .map_err(|e| PyOSError::new_err(format!("listening on {host} port {port}: {e}")))?;
        let address = listener
            .local_addr()
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(server.serve(listener, sink, async move {
            let _ = stop.await;
        }));
        Ok(Receiver {
            address,
            running: Mutex::new(Some(Running {
                runtime,
                shutdown,
                served,
            })),
        })
    }

    /// The address and port listened on.
    #[getter]
    fn address(&self) -> (String, u16) {
        (self.address.ip().to_string(), self.address.port())
    }

    /// Stops accepting, lets requests in flight finish, and stops.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(Running {
            runtime,
            shutdown,
            served,
        }) = running
        else {
            return Ok(());
        };
        let _ = shutdown.send(());
        let outcome = py.detach(|| {
            let outcome = runtime.block_on(served);
            runtime.shutdown_timeout(Duration::from_secs(2));
            outcome
        });
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(PyOSError::new_err(e.to_string())),
            Err(e) => Err(PyOSError::new_err(format!("the server task: {e}"))),
        }
    }
}
