//! `idmefv2_rs._native.Lines`: the messages of an NDJSON stream, one per
//! line, cut by the crate's `idmefv2::stream` (the command-line tool's
//! reader) from a Python binary file object.

use std::{
    io::{self, BufReader, Read},
    sync::{Arc, Mutex},
};

use idmefv2::stream::{Body, Framing, Splitter};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// How much is asked of the file object at a time.
const CHUNK: usize = 64 * 1024;

/// A Python file object read through its `read` method. An exception it
/// raises is kept for the iterator to raise as it is.
struct PyReader {
    file: Py<PyAny>,
    raised: Arc<Mutex<Option<PyErr>>>,
}

impl PyReader {
    fn keep(&self, error: PyErr) -> io::Error {
        let text = error.to_string();
        *self.raised.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
        io::Error::other(text)
    }
}

impl Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Python::attach(|py| {
            let chunk = self
                .file
                .bind(py)
                .call_method1("read", (buf.len(),))
                .map_err(|e| self.keep(e))?;
            let Ok(bytes) = chunk.cast::<PyBytes>() else {
                return Err(self.keep(pyo3::exceptions::PyTypeError::new_err(
                    "validate_ndjson reads bytes: open the file in binary mode",
                )));
            };
            let data = bytes.as_bytes();
            if data.len() > buf.len() {
                return Err(self.keep(PyRuntimeError::new_err(
                    "the file object's read(n) gave more than n bytes",
                )));
            }
            buf[..data.len()].copy_from_slice(data);
            Ok(data.len())
        })
    }
}

/// The non-blank lines of a binary stream, each as `(line, bytes)`, or
/// `(line, size)` for a line longer than `max_bytes`, which is measured
/// without being kept. A line end may be `\r\n`; a byte-order mark at the
/// start of the stream is skipped.
#[pyclass(module = "idmefv2_rs._native")]
pub(crate) struct Lines {
    splitter: Mutex<Splitter<BufReader<PyReader>>>,
    raised: Arc<Mutex<Option<PyErr>>>,
}

#[pymethods]
impl Lines {
    #[new]
    fn new(file: Py<PyAny>, max_bytes: usize) -> Self {
        let raised = Arc::new(Mutex::new(None));
        let reader = PyReader {
            file,
            raised: Arc::clone(&raised),
        };
        let splitter = Splitter::new(
            BufReader::with_capacity(CHUNK, reader),
            Framing::Lines,
            max_bytes,
        );
        Lines {
            splitter: Mutex::new(splitter),
            raised,
        }
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<(usize, Py<PyAny>)>> {
        let next = self
            .splitter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_item();
        match next {
            Ok(None) => Ok(None),
            Ok(Some(item)) => {
                let body = match item.body {
                    Body::Bytes(bytes) => PyBytes::new(py, &bytes).into_any().unbind(),
                    Body::TooLarge { size, .. } => size.into_pyobject(py)?.into_any().unbind(),
                };
                Ok(Some((item.line, body)))
            }
            Err(e) => {
                let raised = self.raised.lock().unwrap_or_else(|e| e.into_inner()).take();
                Err(raised.unwrap_or_else(|| PyRuntimeError::new_err(e.to_string())))
            }
        }
    }
}
