//! What a new user reaches for first: the value lists with the meaning of
//! each value, a fresh ID and the current time (issue 29).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The meaning of every value of every value list of the latest stable
/// draft, keyed by list name (the schema's definition name) then by value,
/// in schema order: the crate's own documentation file, which its tests
/// hold equal to the schema's lists.
const VALUE_DOCS: &str = include_str!("../../schema/value-docs.json");

/// `{list name: {value: meaning}}`, as a new dict at each call.
#[pyfunction]
pub(crate) fn value_lists(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let mut all: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(VALUE_DOCS).map_err(|e| PyValueError::new_err(e.to_string()))?;
    all.retain(|name, _| !name.starts_with('$'));
    let bytes = serde_json::to_vec(&all).map_err(|e| PyValueError::new_err(e.to_string()))?;
    crate::read::from_json(py, &bytes, None).map_err(|e| crate::read_error(py, &bytes, e))
}

/// A fresh message or object ID: a version 7 UUID in lowercase, as the
/// crate's builders make them.
#[pyfunction]
pub(crate) fn new_id() -> String {
    idmefv2::Id::generate().into_string()
}

/// The current time in UTC, written as the strict rules want it
/// (`2026-03-01T10:00:00.123456789Z`).
#[pyfunction]
pub(crate) fn now() -> String {
    idmefv2::Timestamp::now().into_string()
}
