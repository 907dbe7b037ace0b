//! Exports of messages as OCSF Detection Findings and STIX 2.1 bundles
//! (`Message.to_ocsf()`, `Message.to_stix()`), through the crate's
//! `idmefv2::export`.

use idmefv2::{export::Format, Limits};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::idmef::{self, Refusal};

/// The export of a message given as a dict, in `format` (`ocsf` or
/// `stix`), as a Python dict. A message of an older draft is upgraded
/// first; a refusal (invalid message, or a value the format cannot hold)
/// is a `ValidationError` naming the pointer.
#[pyfunction]
#[pyo3(signature = (message, format, max_depth))]
pub(crate) fn export<'py>(
    py: Python<'py>,
    message: &Bound<'py, PyAny>,
    format: &str,
    max_depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let format: Format = format
        .parse()
        .map_err(|e: idmefv2::Error| PyValueError::new_err(e.to_string()))?;
    let json = crate::message_json(py, message, max_depth)?;
    let limits: Limits = idmef::limits(usize::MAX, max_depth);
    let exported = format
        .export_slice(&json, &limits)
        .map_err(|e| crate::refused(py, Refusal::from(e)))?;
    let bytes =
        serde_json::to_vec(&exported.value).map_err(|e| PyValueError::new_err(e.to_string()))?;
    crate::read::from_json(py, &bytes, None).map_err(|e| crate::read_error(py, &bytes, e))
}
