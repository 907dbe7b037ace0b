//! JSON bytes to Python objects, built directly (no JSON text handed to
//! `json.loads`, no intermediate tree).
//!
//! The objects are those `json.loads` makes: dict, list, str, int (of any
//! size, from its digits), float (correctly rounded, as Python's own
//! parser does), bool and None. What is refused: anything that is not
//! strict JSON (RFC 8259: no `NaN`, no comments, no lone surrogates, no
//! text after the value) and the same member twice in one object, which
//! `json.loads` would settle silently by keeping the last one.
//!
//! Messages reach this module after the crate has accepted them, so its
//! refusals matter for the plain JSON serializer; it checks everything all
//! the same and never trusts its input.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyType};

/// The member names of the model (classes and attributes), as Python
/// texts made once.
fn model_names(py: Python<'_>) -> &HashMap<&'static str, Py<PyString>, BuildFnv> {
    static NAMES: PyOnceLock<HashMap<&'static str, Py<PyString>, BuildFnv>> = PyOnceLock::new();
    NAMES.get_or_init(py, || {
        crate::idmef::member_names()
            .into_iter()
            .map(|name| (name, PyString::intern(py, name).unbind()))
            .collect()
    })
}

/// FNV-1a: short member names hash faster than with the default SipHash,
/// and no hostile input reaches these maps (they live for one call, or hold
/// the model's names only).
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type BuildFnv = BuildHasherDefault<Fnv>;

/// Deepest nesting read, whatever the caller checked before: keeps the
/// recursion far from the end of any thread's stack.
const MAX_NESTING: usize = 1100;

/// Why bytes could not be read.
pub(crate) enum ReadError {
    /// Not JSON: byte offset and what was wrong there.
    Syntax { offset: usize, reason: &'static str },
    /// The same member twice in one object, at this pointer.
    Duplicate { pointer: String },
    /// Python itself failed.
    Python(PyErr),
}

impl From<PyErr> for ReadError {
    fn from(e: PyErr) -> Self {
        ReadError::Python(e)
    }
}

impl ReadError {
    /// The same error one level further out, under `segment`.
    fn under(mut self, segment: &str) -> Self {
        if let ReadError::Duplicate { pointer } = &mut self {
            crate::idmef::prepend_segment(pointer, segment);
        }
        self
    }

    /// Line and column (both from 1) of a syntax error in `bytes`.
    pub(crate) fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
        let before = &bytes[..offset.min(bytes.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        (line, offset.min(bytes.len()) - start + 1)
    }
}

/// Reads one JSON text. When it is an object and `top` is given, the
/// object is an instance of `top` (a dict subclass, called without
/// arguments) rather than a plain dict.
pub(crate) fn from_json<'py>(
    py: Python<'py>,
    bytes: &[u8],
    top: Option<&Bound<'py, PyType>>,
) -> Result<Bound<'py, PyAny>, ReadError> {
    let mut reader = Reader {
        py,
        bytes,
        pos: 0,
        depth: 0,
        stack: Vec::new(),
        names: HashMap::default(),
    };
    reader.skip_space();
    let value = match (top, reader.peek()) {
        (Some(class), Some(b'{')) => {
            let object = class.call0()?;
            reader.object(object.cast::<PyDict>().map_err(PyErr::from)?)?;
            object
        }
        _ => reader.value()?,
    };
    reader.skip_space();
    if reader.pos != bytes.len() {
        return Err(reader.error("text after the JSON value"));
    }
    Ok(value)
}

struct Reader<'a, 'py> {
    py: Python<'py>,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    /// Elements of the arrays being read, innermost last.
    stack: Vec<Bound<'py, PyAny>>,
    /// Member names met in this text (without escapes) that are not names of
    /// the model, so that a name repeated (in attachment content, say) is
    /// one object.
    names: HashMap<&'a str, Bound<'py, PyString>, BuildFnv>,
}

impl<'a, 'py> Reader<'a, 'py> {
    fn error(&self, reason: &'static str) -> ReadError {
        ReadError::Syntax {
            offset: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, reason: &'static str) -> Result<(), ReadError> {
        self.skip_space();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    fn value(&mut self) -> Result<Bound<'py, PyAny>, ReadError> {
        self.skip_space();
        match self.peek() {
            Some(b'{') => {
                let dict = PyDict::new(self.py);
                self.object(&dict)?;
                Ok(dict.into_any())
            }
            Some(b'[') => self.array(),
            Some(b'"') => {
                let text = self.text()?;
                Ok(PyString::new(self.py, &text).into_any())
            }
            Some(b't') => {
                self.literal(b"true")?;
                Ok(PyBool::new(self.py, true).to_owned().into_any())
            }
            Some(b'f') => {
                self.literal(b"false")?;
                Ok(PyBool::new(self.py, false).to_owned().into_any())
            }
            Some(b'n') => {
                self.literal(b"null")?;
                Ok(self.py.None().into_bound(self.py))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a JSON value")),
            None => Err(self.error("the input ends where a value should be")),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ReadError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    /// The Python text for a member name: one shared object per name of the
    /// model (made once per process), and per other name met in this text.
    fn key(&mut self, name: &'a str) -> Bound<'py, PyString> {
        let py = self.py;
        if let Some(known) = model_names(py).get(name) {
            return known.bind(py).clone();
        }
        self.names
            .entry(name)
            .or_insert_with(|| PyString::new(py, name))
            .clone()
    }

    fn nest(&mut self) -> Result<(), ReadError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error("nested too deeply"));
        }
        Ok(())
    }

    fn object(&mut self, dict: &Bound<'py, PyDict>) -> Result<(), ReadError> {
        self.nest()?;
        self.pos += 1; // the `{`
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name in quotes"));
            }
            let name = self.text()?;
            let key = match name {
                Cow::Borrowed(text) => self.key(text),
                Cow::Owned(ref text) => PyString::new(self.py, text),
            };
            self.expect(b':', "expected `:` after the member name")?;
            let value = self.value().map_err(|e| e.under(&name))?;
            let before = dict.len();
            dict.set_item(key, value)?;
            if dict.len() == before {
                return Err(ReadError::Duplicate {
                    pointer: String::new(),
                }
                .under(&name));
            }
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected `,` or `}` in the object")),
            }
        }
    }

    fn array(&mut self) -> Result<Bound<'py, PyAny>, ReadError> {
        self.nest()?;
        self.pos += 1; // the `[`
        let start = self.stack.len();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                let index = self.stack.len() - start;
                let value = self.value().map_err(|e| e.under(&index.to_string()))?;
                self.stack.push(value);
                self.skip_space();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("expected `,` or `]` in the array")),
                }
            }
        }
        self.depth -= 1;
        let list = PyList::new(self.py, self.stack.drain(start..))?;
        Ok(list.into_any())
    }

    /// A quoted text, the reader on its opening quote.
    fn text(&mut self) -> Result<Cow<'a, str>, ReadError> {
        self.pos += 1;
        let bytes: &'a [u8] = self.bytes;
        let start = self.pos;
        // The common case: no escape, borrowed from the input.
        match crate::scan::special_byte(bytes, start) {
            Some(end) if bytes[end] == b'"' => {
                let text = std::str::from_utf8(&bytes[start..end])
                    .map_err(|_| self.error("text that is not UTF-8"))?;
                self.pos = end + 1;
                Ok(Cow::Borrowed(text))
            }
            _ => self.escaped_text(start).map(Cow::Owned),
        }
    }

    fn escaped_text(&mut self, start: usize) -> Result<String, ReadError> {
        let bytes: &'a [u8] = self.bytes;
        let mut out = String::new();
        let mut run = start;
        self.pos = start;
        loop {
            let Some(&b) = bytes.get(self.pos) else {
                return Err(self.error("the input ends inside a text"));
            };
            match b {
                b'"' | b'\\' => {
                    let plain = std::str::from_utf8(&bytes[run..self.pos])
                        .map_err(|_| self.error("text that is not UTF-8"))?;
                    out.push_str(plain);
                    if b == b'"' {
                        self.pos += 1;
                        return Ok(out);
                    }
                    self.pos += 1;
                    self.escape(&mut out)?;
                    run = self.pos;
                }
                0x00..=0x1f => return Err(self.error("a control character inside a text")),
                _ => self.pos += 1,
            }
        }
    }

    /// One escape, the reader just past its backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), ReadError> {
        let Some(&b) = self.bytes.get(self.pos) else {
            return Err(self.error("the input ends inside a text"));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                match first {
                    0xD800..=0xDBFF => {
                        if !self.bytes[self.pos..].starts_with(b"\\u") {
                            return Err(self.error("a lone surrogate in a \\u escape"));
                        }
                        self.pos += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(self.error("a lone surrogate in a \\u escape"));
                        }
                        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        char::from_u32(code)
                            .ok_or_else(|| self.error("a lone surrogate in a \\u escape"))?
                    }
                    0xDC00..=0xDFFF => return Err(self.error("a lone surrogate in a \\u escape")),
                    code => {
                        char::from_u32(code).ok_or_else(|| self.error("an invalid \\u escape"))?
                    }
                }
            }
            _ => return Err(self.error("an unknown escape in a text")),
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ReadError> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("a \\u escape needs four hexadecimal digits"))?;
        let mut code = 0;
        for &d in digits {
            let v = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.error("a \\u escape needs four hexadecimal digits"))?;
            code = code * 16 + v;
        }
        self.pos += 4;
        Ok(code)
    }

    fn number(&mut self) -> Result<Bound<'py, PyAny>, ReadError> {
        let bytes = self.bytes;
        let start = self.pos;
        let digits = |from: usize| {
            bytes[from..]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .map_or(bytes.len(), |i| from + i)
        };
        let mut pos = start;
        if bytes[pos] == b'-' {
            pos += 1;
        }
        let int_end = digits(pos);
        if int_end == pos {
            return Err(self.error("a number needs digits"));
        }
        if bytes[pos] == b'0' && int_end > pos + 1 {
            return Err(self.error("a number cannot start with 0"));
        }
        pos = int_end;
        let mut integer = true;
        if bytes.get(pos) == Some(&b'.') {
            integer = false;
            let end = digits(pos + 1);
            if end == pos + 1 {
                self.pos = pos + 1;
                return Err(self.error("a number needs digits after `.`"));
            }
            pos = end;
        }
        if let Some(b'e' | b'E') = bytes.get(pos) {
            integer = false;
            pos += 1;
            if let Some(b'+' | b'-') = bytes.get(pos) {
                pos += 1;
            }
            let end = digits(pos);
            if end == pos {
                self.pos = pos;
                return Err(self.error("a number needs digits in its exponent"));
            }
            pos = end;
        }
        // Only ASCII digits, signs, `.` and `e` were taken.
        let text = std::str::from_utf8(&bytes[start..pos]).unwrap_or_default();
        self.pos = pos;
        if integer {
            if let Ok(n) = text.parse::<i64>() {
                return Ok(PyInt::new(self.py, n).into_any());
            }
            // Beyond 64 bits: Python's int reads the digits exactly.
            return Ok(self.py.get_type::<PyInt>().call1((text,))?);
        }
        let value: f64 = text
            .parse()
            .map_err(|_| self.error("a number that cannot be read"))?;
        if value.is_infinite() {
            self.pos = start;
            return Err(self.error("a number beyond the range of a double"));
        }
        Ok(PyFloat::new(self.py, value).into_any())
    }
}
