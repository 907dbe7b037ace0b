//! `idmefv2_rs.Criteria`: the crate's IDMEF criteria for Python.

use idmefv2::criteria::Criteria;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::idmef;

/// IDMEF criteria such as `Priority == High && Source(*).IP in
/// 10.0.0.0/8`, compiled once.
#[pyclass(name = "Criteria", module = "idmefv2_rs", frozen)]
pub(crate) struct PyCriteria {
    compiled: Criteria,
    text: String,
}

#[pymethods]
impl PyCriteria {
    /// Compiles `text`; a criterion that does not compile raises
    /// ValueError with its byte position.
    #[new]
    fn new(text: &str) -> PyResult<Self> {
        Criteria::parse(text)
            .map(|compiled| PyCriteria {
                compiled,
                text: text.to_string(),
            })
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Whether a message (a dict of any draft, not checked) matches.
    fn matches(&self, py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<bool> {
        let json = crate::message_json(py, message, idmef::DEFAULT_MAX_DEPTH)?;
        self.compiled
            .matches_json(&json)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The text the criteria were compiled from.
    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let text = PyString::new(py, &self.text).repr()?;
        Ok(format!("Criteria({text})"))
    }
}
