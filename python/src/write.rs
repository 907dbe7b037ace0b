//! Python objects to JSON bytes.
//!
//! A message built in Python is checked by writing it as JSON and handing
//! the bytes to the crate, which then judges it exactly as it judges bytes
//! from the network. Writing is also where values that JSON cannot hold are
//! caught, each with the JSON pointer of its place: `NaN` and infinities,
//! texts with lone surrogates, member names that are not texts, integers
//! beyond the range of a double, objects of other types, and nesting past
//! the limit (which also stops a dict that contains itself).
//!
//! Member order is the dict's own. The output is compact UTF-8.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::idmef::Fault;

/// Why an object could not be written.
pub(crate) enum WriteError {
    /// A value JSON cannot hold, with the pointer of its place.
    Fault(Fault),
    /// Python itself failed (out of memory, say).
    Python(PyErr),
}

impl From<PyErr> for WriteError {
    fn from(e: PyErr) -> Self {
        WriteError::Python(e)
    }
}

impl WriteError {
    /// The same error one level further out, under `segment`.
    fn under(mut self, segment: &str) -> Self {
        if let WriteError::Fault(f) = &mut self {
            crate::idmef::prepend_segment(&mut f.pointer, segment);
        }
        self
    }
}

fn fault(keyword: &str, reason: impl Into<String>) -> WriteError {
    WriteError::Fault(Fault::new(keyword, reason))
}

/// Writes `value` as JSON, allowing at most `max_levels` levels of nested
/// dicts and lists (the top-level dict is level 1).
pub(crate) fn to_json(value: &Bound<'_, PyAny>, max_levels: usize) -> Result<Vec<u8>, WriteError> {
    let mut writer = Writer {
        out: Vec::with_capacity(2048),
        max_levels,
    };
    writer.value(value, 0)?;
    Ok(writer.out)
}

struct Writer {
    out: Vec<u8>,
    max_levels: usize,
}

impl Writer {
    fn value(&mut self, value: &Bound<'_, PyAny>, level: usize) -> Result<(), WriteError> {
        if let Ok(text) = value.cast::<PyString>() {
            return self.text(text);
        }
        if let Ok(flag) = value.cast::<PyBool>() {
            self.out
                .extend_from_slice(if flag.is_true() { b"true" } else { b"false" });
            return Ok(());
        }
        if let Ok(int) = value.cast::<PyInt>() {
            return self.integer(int);
        }
        if let Ok(dict) = value.cast::<PyDict>() {
            return self.object(dict, level + 1);
        }
        if let Ok(list) = value.cast::<PyList>() {
            return self.array(list.iter(), level + 1);
        }
        if let Ok(float) = value.cast::<PyFloat>() {
            return self.float(float.value());
        }
        if value.is_none() {
            self.out.extend_from_slice(b"null");
            return Ok(());
        }
        if let Ok(tuple) = value.cast::<PyTuple>() {
            return self.array(tuple.iter(), level + 1);
        }
        let kind = value.get_type().name()?;
        Err(fault(
            "type",
            format!(
                "a {kind} is not a JSON value (use dict, list, tuple, str, int, float, bool or None)"
            ),
        ))
    }

    fn enter(&self, level: usize) -> Result<(), WriteError> {
        if level > self.max_levels {
            return Err(fault(
                "depth",
                format!(
                    "nesting exceeds the limit of {} levels",
                    self.max_levels
                        .saturating_sub(crate::idmef::STRUCTURE_DEPTH)
                ),
            ));
        }
        Ok(())
    }

    fn object(&mut self, dict: &Bound<'_, PyDict>, level: usize) -> Result<(), WriteError> {
        self.enter(level)?;
        // A snapshot of the items, so that nothing run while writing (a
        // finalizer, another thread) can change the dict under our feet.
        let items = dict.items();
        self.out.push(b'{');
        for (i, item) in items.iter().enumerate() {
            let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            let Ok(key) = key.cast::<PyString>() else {
                let kind = key.get_type().name()?;
                return Err(fault(
                    "type",
                    format!("member names must be texts, and one here is a {kind}"),
                ));
            };
            if i > 0 {
                self.out.push(b',');
            }
            let name = key.encode_utf8().map_err(|_| {
                fault(
                    "type",
                    "a member name holds a lone surrogate, which UTF-8 cannot encode",
                )
            })?;
            write_text(&mut self.out, name.as_bytes());
            self.out.push(b':');
            self.value(&value, level)
                .map_err(|e| e.under(&String::from_utf8_lossy(name.as_bytes())))?;
        }
        self.out.push(b'}');
        Ok(())
    }

    fn array<'py>(
        &mut self,
        items: impl Iterator<Item = Bound<'py, PyAny>>,
        level: usize,
    ) -> Result<(), WriteError> {
        self.enter(level)?;
        self.out.push(b'[');
        for (i, item) in items.enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.value(&item, level)
                .map_err(|e| e.under(&i.to_string()))?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn text(&mut self, text: &Bound<'_, PyString>) -> Result<(), WriteError> {
        // CPython's own UTF-8 encoding, written from its buffer (one copy
        // fewer than a Rust `String` on the stable ABI of Python 3.9).
        let text = text.encode_utf8().map_err(|_| {
            fault(
                "type",
                "the text holds a lone surrogate, which UTF-8 cannot encode",
            )
        })?;
        write_text(&mut self.out, text.as_bytes());
        Ok(())
    }

    fn integer(&mut self, int: &Bound<'_, PyInt>) -> Result<(), WriteError> {
        if let Ok(n) = int.extract::<i64>() {
            return self.number(n);
        }
        if let Ok(n) = int.extract::<u64>() {
            return self.number(n);
        }
        // `int.__repr__` itself, not an override of a subclass: no code of
        // the caller's runs while writing.
        let digits = int
            .py()
            .get_type::<PyInt>()
            .getattr("__repr__")?
            .call1((int,))?
            .extract::<String>()?;
        // JSON readers, the crate's included, hold such a number as a
        // double; one beyond its range would be read as an error.
        if digits.parse::<f64>().map_or(true, f64::is_infinite) {
            return Err(fault(
                "type",
                "the integer is beyond the range of a JSON number (about ±1.8e308)",
            ));
        }
        self.out.extend_from_slice(digits.as_bytes());
        Ok(())
    }

    fn float(&mut self, value: f64) -> Result<(), WriteError> {
        if !value.is_finite() {
            return Err(fault("type", "NaN and infinities are not JSON numbers"));
        }
        // serde_json writes the shortest text that reads back as the same
        // double, as Python's repr does (with an exponent for large ones).
        self.number(value)
    }

    fn number(&mut self, n: impl serde::Serialize) -> Result<(), WriteError> {
        serde_json::to_writer(&mut self.out, &n).map_err(|e| fault("type", e.to_string()))
    }
}

/// Writes UTF-8 `bytes` as a JSON string: quoted, with `"`, `\` and control
/// characters escaped (the short forms where JSON has them), everything
/// else as UTF-8. Runs without any of them are copied whole, found eight
/// bytes at a time: long texts (base64 attachments) are the common case.
fn write_text(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while let Some(i) = crate::scan::special_byte(bytes, start) {
        out.extend_from_slice(&bytes[start..i]);
        match bytes[i] {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}
