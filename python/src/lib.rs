//! `idmefv2_rs._native`: the compiled half of the `idmefv2_rs` Python
//! package.
//!
//! The Python modules (`idmefv2_rs/*.py`) give the python-idmefv2 API; the
//! functions here do the work with the `idmefv2` crate. Messages cross the
//! boundary as JSON bytes in both directions: a dict is written as JSON
//! ([`write`]) and judged by the crate exactly as bytes from the network
//! are; accepted bytes are turned into Python objects directly ([`read`]).
//! Every refusal becomes a Python exception of `idmefv2_rs.exceptions`;
//! nothing here panics on input.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyTuple, PyType};

mod criteria;
mod export;
mod idmef;
mod lines;
mod path;
mod read;
mod scan;
mod values;
mod write;
// The transports (idmefv2_rs.transport).
mod transport;

use idmef::{Fault, Refusal};
use read::ReadError;
use write::WriteError;

/// Deepest attachment content a caller may allow: the crate reads nested
/// JSON recursively, and this keeps it well inside a thread's stack.
const MAX_DEPTH_LIMIT: usize = 1000;

static VALIDATION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static SERIALIZATION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static VIOLATION: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn exception_class<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &str,
) -> PyResult<&'py Bound<'py, PyType>> {
    cell.import(py, "idmefv2_rs.exceptions", name)
}

/// `idmefv2_rs.exceptions.ValidationError` carrying every fault.
fn validation_error(py: Python<'_>, faults: Vec<Fault>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let violation = exception_class(py, &VIOLATION, "Violation")?;
        let list = PyList::empty(py);
        for f in faults {
            list.append(violation.call1((f.pointer, f.keyword, f.reason))?)?;
        }
        let error = exception_class(py, &VALIDATION_ERROR, "ValidationError")?.call1((list,))?;
        Ok(PyErr::from_value(error))
    };
    build().unwrap_or_else(|e| e)
}

/// `idmefv2_rs.exceptions.SerializationError` with `text`.
fn serialization_error(py: Python<'_>, text: String) -> PyErr {
    match exception_class(py, &SERIALIZATION_ERROR, "SerializationError")
        .and_then(|class| class.call1((text,)))
    {
        Ok(error) => PyErr::from_value(error),
        Err(e) => e,
    }
}

fn refused(py: Python<'_>, refusal: Refusal) -> PyErr {
    match refusal {
        Refusal::Syntax(text) => serialization_error(py, text),
        Refusal::Invalid(faults) => validation_error(py, faults),
    }
}

fn read_error(py: Python<'_>, bytes: &[u8], error: ReadError) -> PyErr {
    match error {
        ReadError::Syntax { offset, reason } => {
            let (line, column) = ReadError::position(bytes, offset);
            serialization_error(
                py,
                format!("invalid JSON at line {line}, column {column}: {reason}"),
            )
        }
        ReadError::Duplicate { pointer } => {
            serialization_error(py, format!("{pointer}: member appears twice in one object"))
        }
        ReadError::Python(e) => e,
    }
}

/// A dict (or any value) as JSON, refusals as `ValidationError`.
fn message_json(py: Python<'_>, message: &Bound<'_, PyAny>, max_depth: usize) -> PyResult<Vec<u8>> {
    let max_depth = checked_depth(max_depth)?;
    write::to_json(message, idmef::STRUCTURE_DEPTH + max_depth).map_err(|e| match e {
        WriteError::Fault(f) => validation_error(py, vec![f]),
        WriteError::Python(e) => e,
    })
}

fn checked_depth(max_depth: usize) -> PyResult<usize> {
    if max_depth > MAX_DEPTH_LIMIT {
        return Err(PyValueError::new_err(format!(
            "max_depth is at most {MAX_DEPTH_LIMIT}"
        )));
    }
    Ok(max_depth)
}

/// Validates a message given as a dict against the schema of its
/// `Version` (and the strict rules with `strict`).
#[pyfunction]
#[pyo3(signature = (message, strict, max_depth))]
fn check(
    py: Python<'_>,
    message: &Bound<'_, PyAny>,
    strict: bool,
    max_depth: usize,
) -> PyResult<()> {
    let json = message_json(py, message, max_depth)?;
    idmef::check(&json, &idmef::limits(usize::MAX, max_depth), strict).map_err(|r| refused(py, r))
}

/// Validates a dict and gives its JSON encoding.
#[pyfunction]
#[pyo3(signature = (message, max_depth))]
fn encode<'py>(
    py: Python<'py>,
    message: &Bound<'py, PyAny>,
    max_depth: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let json = message_json(py, message, max_depth)?;
    idmef::check(&json, &idmef::limits(usize::MAX, max_depth), false)
        .map_err(|r| refused(py, r))?;
    Ok(PyBytes::new(py, &json))
}

/// Any JSON-shaped Python value as JSON bytes, without IDMEFv2 checks;
/// what JSON cannot hold is a `SerializationError`.
#[pyfunction]
fn dumps<'py>(py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let levels = idmef::STRUCTURE_DEPTH + MAX_DEPTH_LIMIT;
    match write::to_json(value, levels) {
        Ok(json) => Ok(PyBytes::new(py, &json)),
        Err(WriteError::Fault(f)) => {
            let pointer = if f.pointer.is_empty() {
                "(value)"
            } else {
                &f.pointer
            };
            Err(serialization_error(py, format!("{pointer}: {}", f.reason)))
        }
        Err(WriteError::Python(e)) => Err(e),
    }
}

/// Strict JSON bytes as Python objects, without IDMEFv2 checks.
#[pyfunction]
fn loads<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    read::from_json(py, data, None).map_err(|e| read_error(py, data, e))
}

/// Validates encoded bytes, then builds the message as an instance of
/// `cls` (a dict subclass), or a plain dict.
#[pyfunction]
#[pyo3(signature = (data, cls, max_bytes, max_depth))]
fn decode<'py>(
    py: Python<'py>,
    data: &[u8],
    cls: Option<Bound<'py, PyType>>,
    max_bytes: usize,
    max_depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let limits = idmef::limits(max_bytes, checked_depth(max_depth)?);
    idmef::check(data, &limits, false).map_err(|r| refused(py, r))?;
    read::from_json(py, data, cls.as_ref()).map_err(|e| read_error(py, data, e))
}

/// Validates one encoded message and gives the exception that says why it
/// is refused, or None.
#[pyfunction]
#[pyo3(signature = (data, strict, max_bytes, max_depth))]
fn refusal(
    py: Python<'_>,
    data: &[u8],
    strict: bool,
    max_bytes: usize,
    max_depth: usize,
) -> PyResult<Option<Py<PyAny>>> {
    let limits = idmef::limits(max_bytes, checked_depth(max_depth)?);
    Ok(idmef::check(data, &limits, strict)
        .err()
        .map(|r| refused(py, r).into_value(py).into_any()))
}

/// The exception for an input of `size` bytes over `max_bytes`, for
/// inputs measured without being kept.
#[pyfunction]
fn too_large(py: Python<'_>, size: usize, max_bytes: usize) -> Py<PyAny> {
    refused(py, idmef::too_large(size, max_bytes))
        .into_value(py)
        .into_any()
}

/// Carries a message of any draft to `to`: (message, draft it came from,
/// notes as tuples).
#[pyfunction]
#[pyo3(signature = (message, to, cls, max_depth))]
fn upgrade<'py>(
    py: Python<'py>,
    message: &Bound<'py, PyAny>,
    to: Option<&str>,
    cls: Option<Bound<'py, PyType>>,
    max_depth: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    let json = message_json(py, message, max_depth)?;
    let limits = idmef::limits(usize::MAX, max_depth);
    let done = idmef::upgrade(&json, &limits, to).map_err(|e| match e {
        Ok(text) => PyValueError::new_err(text),
        Err(r) => refused(py, r),
    })?;
    let upgraded =
        read::from_json(py, &done.json, cls.as_ref()).map_err(|e| read_error(py, &done.json, e))?;
    let notes = PyList::empty(py);
    for note in done.notes {
        let value = match &note.value {
            Some(json) => read::from_json(py, json, None).map_err(|e| read_error(py, json, e))?,
            None => py.None().into_bound(py),
        };
        let fields = (
            note.pointer,
            note.kind,
            note.draft,
            note.reason,
            value,
            note.moved_to,
        );
        notes.append(fields)?;
    }
    (upgraded, done.from, notes).into_pyobject(py)
}

/// The value at `path` in a (typed-draft) message, or None.
#[pyfunction]
fn get_path<'py>(
    py: Python<'py>,
    message: &Bound<'py, PyAny>,
    path: &path::PyPath,
) -> PyResult<Bound<'py, PyAny>> {
    let json = message_json(py, message, idmef::DEFAULT_MAX_DEPTH)?;
    let limits = idmef::limits(usize::MAX, idmef::DEFAULT_MAX_DEPTH);
    match idmef::get(&json, &limits, &path.0).map_err(|r| refused(py, r))? {
        Some(value) => read::from_json(py, &value, None).map_err(|e| read_error(py, &value, e)),
        None => Ok(py.None().into_bound(py)),
    }
}

/// The message's content with `value` put at `path`, as a new dict.
#[pyfunction]
fn set_path<'py>(
    py: Python<'py>,
    message: &Bound<'py, PyAny>,
    path: &path::PyPath,
    value: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let json = message_json(py, message, idmef::DEFAULT_MAX_DEPTH)?;
    let value = message_json(py, value, idmef::DEFAULT_MAX_DEPTH)?;
    let limits = idmef::limits(usize::MAX, idmef::DEFAULT_MAX_DEPTH);
    let updated = idmef::set(&json, &limits, &path.0, &value).map_err(|r| refused(py, r))?;
    read::from_json(py, &updated, None).map_err(|e| read_error(py, &updated, e))
}

/// The `Version` values validated, oldest first.
#[pyfunction]
fn supported_versions() -> Vec<&'static str> {
    idmef::supported_versions()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_MAX_BYTES", idmef::DEFAULT_MAX_BYTES)?;
    m.add("DEFAULT_MAX_DEPTH", idmef::DEFAULT_MAX_DEPTH)?;
    m.add("MAX_DEPTH_LIMIT", MAX_DEPTH_LIMIT)?;
    m.add_class::<path::PyPath>()?;
    m.add_class::<lines::Lines>()?;
    m.add_class::<criteria::PyCriteria>()?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(dumps, m)?)?;
    m.add_function(wrap_pyfunction!(loads, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(refusal, m)?)?;
    m.add_function(wrap_pyfunction!(too_large, m)?)?;
    m.add_function(wrap_pyfunction!(upgrade, m)?)?;
    m.add_function(wrap_pyfunction!(get_path, m)?)?;
    m.add_function(wrap_pyfunction!(set_path, m)?)?;
    m.add_function(wrap_pyfunction!(supported_versions, m)?)?;
    m.add_function(wrap_pyfunction!(export::export, m)?)?;
    m.add_function(wrap_pyfunction!(values::value_lists, m)?)?;
    m.add_function(wrap_pyfunction!(values::new_id, m)?)?;
    m.add_function(wrap_pyfunction!(values::now, m)?)?;
    // The transports (idmefv2_rs.transport).
    transport::register(m)?;
    Ok(())
}
