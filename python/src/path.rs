//! `idmefv2_rs.Path`: the crate's IDMEF paths for Python.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::idmef;

/// An IDMEF path such as `Source(0).IP`, parsed and normalized.
#[pyclass(name = "Path", module = "idmefv2_rs", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PyPath(pub(crate) idmef::Path);

#[pymethods]
impl PyPath {
    #[new]
    fn new(text: &str) -> PyResult<Self> {
        idmef::parse_path(text).map(PyPath).map_err(|reason| {
            PyValueError::new_err(format!("{text:?} is not an IDMEF path: {reason}"))
        })
    }

    /// Every attribute of the model as a path, in schema order.
    #[staticmethod]
    fn all() -> Vec<PyPath> {
        idmef::Path::all().into_iter().map(PyPath).collect()
    }

    /// The class (`Source`), or None for an attribute of the message
    /// itself.
    #[getter]
    fn class_name(&self) -> Option<&'static str> {
        self.0.class()
    }

    /// The index into the class, when the class is a list.
    #[getter]
    fn class_index(&self) -> Option<i64> {
        self.0.class_index()
    }

    /// The attribute's member name.
    #[getter]
    fn attribute(&self) -> &'static str {
        self.0.attribute()
    }

    /// The index into the attribute, when the attribute is a list.
    #[getter]
    fn index(&self) -> Option<i64> {
        self.0.index()
    }

    /// The JSON pointer of the value (`/Source/0/IP`), or None when an
    /// index counts from the end.
    #[getter]
    fn pointer(&self) -> Option<String> {
        self.0.to_pointer()
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        // Paths hold names, digits, dots, parentheses and minus signs only.
        format!("Path('{}')", self.0)
    }
}
