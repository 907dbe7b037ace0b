//! Cutting an input stream into messages without reading it whole, and
//! finding the line of a value in a message (for reports that point into
//! a file).
//!
//! Two framings: a sequence of JSON texts separated by optional whitespace
//! ([`Framing::Json`]), and one message per non-empty line
//! ([`Framing::Lines`]). Either way only the current message's bytes are
//! held, and a message longer than the byte limit is skipped over (its
//! size still counted) instead of being buffered.
//!
//! A UTF-8 byte-order mark at the very start of the stream is skipped:
//! editors write one at the start of a file, and RFC 8259 (section 8.1)
//! lets a reader ignore it. Lines and columns then count from after it, as
//! an editor shows them. A mark anywhere else is kept with the bytes that
//! follow it, where decoding refuses it by name (a file appended to
//! another, say).

use std::io::{self, BufRead, Read};

/// How messages are delimited in a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// JSON texts one after another, whitespace between them optional.
    Json,
    /// One message per line; blank lines are skipped.
    Lines,
}

/// One message cut from a stream.
#[derive(Debug, PartialEq, Eq)]
pub struct Item {
    /// 1-based line of the message's first byte.
    pub line: usize,
    /// 1-based column (in bytes) of the message's first byte.
    pub column: usize,
    /// The message, or how long it was when it went over the limit.
    pub body: Body,
}

/// The bytes of a message, unless there were too many.
#[derive(Debug, PartialEq, Eq)]
pub enum Body {
    /// The message's bytes.
    Bytes(Vec<u8>),
    /// The message had `size` bytes, more than the limit; none were kept.
    TooLarge {
        /// Length of the message in bytes.
        size: usize,
        /// Whether the input ended inside the message (an array, object or
        /// string left open), which is then the likelier fault.
        unclosed: bool,
    },
}

/// What the JSON framing is in the middle of.
#[derive(Clone, Copy, Debug)]
enum State {
    /// Between messages.
    Between,
    /// Inside an array or object: nesting depth, whether inside a string,
    /// and whether the previous byte was a backslash in that string.
    Nested {
        depth: usize,
        in_string: bool,
        escaped: bool,
    },
    /// Inside a string at the top level.
    String { escaped: bool },
    /// Inside a bare word (number, literal or garbage).
    Word,
}

/// A position in a stream: 1-based line and byte column.
#[derive(Clone, Copy, Debug)]
struct Pos {
    line: usize,
    column: usize,
}

impl Pos {
    /// Moves the position past `bytes`.
    fn advance(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
    }
}

/// The bytes of the message being read, kept only while within the limit.
struct Current {
    limit: usize,
    buf: Vec<u8>,
    size: usize,
}

impl Current {
    /// Adds `bytes` to the message, or only counts them once it is over
    /// the limit (and drops what was kept).
    fn keep(&mut self, bytes: &[u8]) {
        self.size += bytes.len();
        if self.size <= self.limit {
            self.buf.extend_from_slice(bytes);
        } else if self.buf.capacity() > 0 {
            self.buf = Vec::new();
        }
    }

    fn finish(&mut self, start: Pos, unclosed: bool) -> Item {
        let size = std::mem::take(&mut self.size);
        let body = if size > self.limit {
            Body::TooLarge { size, unclosed }
        } else {
            Body::Bytes(std::mem::take(&mut self.buf))
        };
        Item {
            line: start.line,
            column: start.column,
            body,
        }
    }
}

/// The UTF-8 encoding of U+FEFF.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// A reader that drops a byte-order mark at the start of its stream and
/// passes everything else on unchanged.
struct SkipBom<R> {
    inner: R,
    lead: Lead,
}

/// What [`SkipBom`] knows of the start of the stream.
enum Lead {
    /// Nothing read yet.
    Unread,
    /// The first bytes matched the start of a mark and then the stream
    /// went on otherwise: those bytes, still to be passed on from `pos`.
    Held {
        bytes: [u8; 2],
        len: usize,
        pos: usize,
    },
    /// The start is behind: a mark, if there was one, is dropped.
    Passed,
    /// The stream ended before its first byte. It is not read again: a
    /// terminal would wait for a second end of input.
    Empty,
}

impl<R: BufRead> SkipBom<R> {
    /// Reads the start of the stream byte by byte, as far as it matches
    /// the mark (reading buffers of any size, even one byte).
    fn read_lead(&mut self) -> io::Result<()> {
        let mut held = [0; 2];
        let mut len = 0;
        loop {
            let chunk = self.inner.fill_buf()?;
            match chunk.first() {
                None if len == 0 => {
                    self.lead = Lead::Empty;
                    return Ok(());
                }
                Some(&b) if b == BOM[len] => {
                    self.inner.consume(1);
                    if len == 2 {
                        self.lead = Lead::Passed;
                        return Ok(());
                    }
                    held[len] = b;
                    len += 1;
                }
                _ => break,
            }
        }
        self.lead = Lead::Held {
            bytes: held,
            len,
            pos: 0,
        };
        Ok(())
    }
}

impl<R: BufRead> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for SkipBom<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if matches!(self.lead, Lead::Unread) {
            self.read_lead()?;
        }
        if let Lead::Held { len, pos, .. } = self.lead {
            if pos >= len {
                self.lead = Lead::Passed;
            }
        }
        match &self.lead {
            Lead::Held { bytes, len, pos } => Ok(&bytes[*pos..*len]),
            Lead::Empty => Ok(&[]),
            _ => self.inner.fill_buf(),
        }
    }

    fn consume(&mut self, amount: usize) {
        match &mut self.lead {
            Lead::Held { len, pos, .. } if *pos < *len => *pos = (*pos + amount).min(*len),
            _ => self.inner.consume(amount),
        }
    }
}

/// Reads messages from `reader` one at a time.
pub struct Splitter<R> {
    reader: SkipBom<R>,
    framing: Framing,
    /// Position of the next byte to be read.
    pos: Pos,
    current: Current,
}

impl<R: BufRead> Splitter<R> {
    /// A splitter that refuses to keep messages longer than `limit` bytes.
    pub fn new(reader: R, framing: Framing, limit: usize) -> Self {
        Splitter {
            reader: SkipBom {
                inner: reader,
                lead: Lead::Unread,
            },
            framing,
            pos: Pos { line: 1, column: 1 },
            current: Current {
                limit,
                buf: Vec::new(),
                size: 0,
            },
        }
    }

    /// The next message, or `None` at the end of the stream.
    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        match self.framing {
            Framing::Json => self.next_json(),
            Framing::Lines => self.next_line(),
        }
    }

    fn next_json(&mut self) -> io::Result<Option<Item>> {
        let mut state = State::Between;
        let mut first = self.pos;
        loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok(match state {
                    State::Between => None,
                    State::Word => Some(self.current.finish(first, false)),
                    State::Nested { .. } | State::String { .. } => {
                        Some(self.current.finish(first, true))
                    }
                });
            }
            let mut start = 0;
            let mut end = None;
            for (i, &b) in chunk.iter().enumerate() {
                state = match state {
                    State::Between => {
                        if b.is_ascii_whitespace() {
                            continue;
                        }
                        self.pos.advance(&chunk[start..i]);
                        start = i;
                        first = self.pos;
                        match b {
                            b'{' | b'[' => State::Nested {
                                depth: 1,
                                in_string: false,
                                escaped: false,
                            },
                            b'"' => State::String { escaped: false },
                            b'}' | b']' => {
                                // A stray closing bracket is a message of
                                // its own (and a syntax error).
                                end = Some(i + 1);
                                break;
                            }
                            _ => State::Word,
                        }
                    }
                    State::Nested {
                        depth,
                        in_string: true,
                        escaped,
                    } => State::Nested {
                        depth,
                        in_string: b != b'"' || escaped,
                        escaped: b == b'\\' && !escaped,
                    },
                    State::Nested {
                        depth,
                        in_string: false,
                        ..
                    } => {
                        let depth = match b {
                            b'{' | b'[' => depth + 1,
                            b'}' | b']' => depth - 1,
                            _ => depth,
                        };
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                        State::Nested {
                            depth,
                            in_string: b == b'"',
                            escaped: false,
                        }
                    }
                    State::String { escaped } => {
                        if b == b'"' && !escaped {
                            end = Some(i + 1);
                            break;
                        }
                        State::String {
                            escaped: b == b'\\' && !escaped,
                        }
                    }
                    State::Word => {
                        if b.is_ascii_whitespace() || b"{}[]\"".contains(&b) {
                            end = Some(i);
                            break;
                        }
                        State::Word
                    }
                };
            }
            let taken = end.unwrap_or(chunk.len());
            if !matches!(state, State::Between) || end.is_some() {
                self.current.keep(&chunk[start..taken]);
            }
            self.pos.advance(&chunk[start..taken]);
            self.reader.consume(taken);
            if end.is_some() {
                return Ok(Some(self.current.finish(first, false)));
            }
        }
    }

    fn next_line(&mut self) -> io::Result<Option<Item>> {
        // One byte over the limit is kept so that a trailing `\r` can be
        // dropped before the length is judged.
        let limit = self.current.limit;
        self.current.limit = limit + 1;
        let item = self.read_line();
        self.current.limit = limit;
        let Some(mut item) = item? else {
            return Ok(None);
        };
        if let Body::Bytes(bytes) = &mut item.body {
            if bytes.len() > limit {
                item.body = Body::TooLarge {
                    size: bytes.len(),
                    unclosed: false,
                };
            }
        }
        Ok(Some(item))
    }

    /// The next non-blank line, without its line end.
    fn read_line(&mut self) -> io::Result<Option<Item>> {
        loop {
            let first = self.pos;
            let mut ended = false;
            let mut any = false;
            // The line's last byte, kept or not: a `\r` before the `\n` is
            // the line end's, and never counts in the size.
            let mut last = None;
            while !ended {
                let chunk = self.reader.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                any = true;
                let (take, used) = match chunk.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        ended = true;
                        (i, i + 1)
                    }
                    None => (chunk.len(), chunk.len()),
                };
                if take > 0 {
                    last = Some(chunk[take - 1]);
                }
                self.current.keep(&chunk[..take]);
                self.reader.consume(used);
            }
            if !any {
                return Ok(None);
            }
            self.pos.line += 1;
            let current = &mut self.current;
            if last == Some(b'\r') {
                if current.size <= current.limit {
                    current.buf.pop();
                }
                current.size -= 1;
            }
            if current.size <= current.limit && current.buf.iter().all(u8::is_ascii_whitespace) {
                current.buf.clear();
                current.size = 0;
                continue;
            }
            return Ok(Some(current.finish(first, false)));
        }
    }
}

/// How many lines of `message` come before the one where the value at
/// `pointer` starts; 0 when the pointer leads nowhere (a member that is
/// missing names its object, which is found).
pub fn lines_before(message: &[u8], pointer: &str) -> usize {
    let at = locate(message, pointer).unwrap_or(0);
    message[..at].iter().filter(|&&b| b == b'\n').count()
}

/// The offset in `json` where the value at `pointer` (RFC 6901) starts.
/// It reads only as far as it needs and gives `None` for text that is not
/// what the pointer expects; it never fails otherwise.
fn locate(json: &[u8], pointer: &str) -> Option<usize> {
    let mut at = skip_space(json, 0);
    if pointer.is_empty() {
        return Some(at);
    }
    for segment in pointer.strip_prefix('/')?.split('/') {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        at = match json.get(at)? {
            b'{' => member(json, at + 1, &segment)?,
            b'[' => element(json, at + 1, segment.parse().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// The start of the value of the member `name` of the object whose members
/// start at `at`.
fn member(json: &[u8], mut at: usize, name: &str) -> Option<usize> {
    loop {
        at = skip_space(json, at);
        match json.get(at)? {
            b'"' => {}
            _ => return None,
        }
        let end = skip_value(json, at)?;
        let key: String = serde_json::from_slice(json.get(at..end)?).ok()?;
        at = skip_space(json, end);
        if json.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(json, at + 1);
        if key == name {
            return Some(at);
        }
        at = skip_space(json, skip_value(json, at)?);
        match json.get(at)? {
            b',' => at += 1,
            _ => return None,
        }
    }
}

/// The start of element `index` of the array whose elements start at `at`.
fn element(json: &[u8], mut at: usize, index: usize) -> Option<usize> {
    for _ in 0..index {
        at = skip_space(json, skip_value(json, skip_space(json, at))?);
        match json.get(at)? {
            b',' => at += 1,
            _ => return None,
        }
    }
    let at = skip_space(json, at);
    (json.get(at)? != &b']').then_some(at)
}

fn skip_space(json: &[u8], mut at: usize) -> usize {
    while json.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The offset just past the value starting at `at`.
fn skip_value(json: &[u8], at: usize) -> Option<usize> {
    match json.get(at)? {
        b'"' => skip_string(json, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match json.get(i)? {
                    b'"' => {
                        i = skip_string(json, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let end = json[at..]
                .iter()
                .position(|b| b.is_ascii_whitespace() || b",:}]".contains(b))
                .map_or(json.len(), |n| at + n);
            Some(end)
        }
    }
}

/// The offset just past the string whose opening quote is at `at`.
fn skip_string(json: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        match json.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8], framing: Framing, limit: usize, chunk: usize) -> Vec<Item> {
        let reader = io::BufReader::with_capacity(chunk, input);
        let mut s = Splitter::new(reader, framing, limit);
        let mut out = Vec::new();
        while let Some(item) = s.next_item().unwrap() {
            out.push(item);
        }
        out
    }

    fn texts(items: &[Item]) -> Vec<(usize, usize, String)> {
        items
            .iter()
            .map(|i| match &i.body {
                Body::Bytes(b) => (i.line, i.column, String::from_utf8_lossy(b).into_owned()),
                Body::TooLarge { size, unclosed } => (
                    i.line,
                    i.column,
                    format!("<{size}{}>", ["", " open"][*unclosed as usize]),
                ),
            })
            .collect()
    }

    #[test]
    fn json_texts_are_cut_where_they_end_whatever_the_chunk_size() {
        let input = b"{\"a\": \"}\\\"{\"}\n  [1, [2]] \"s\\\"\" 12 true{}\n\n}x";
        for chunk in [1, 2, 3, 7, 64] {
            assert_eq!(
                texts(&split(input, Framing::Json, 100, chunk)),
                [
                    (1, 1, "{\"a\": \"}\\\"{\"}".to_string()),
                    (2, 3, "[1, [2]]".to_string()),
                    (2, 12, "\"s\\\"\"".to_string()),
                    (2, 18, "12".to_string()),
                    (2, 21, "true".to_string()),
                    (2, 25, "{}".to_string()),
                    (4, 1, "}".to_string()),
                    (4, 2, "x".to_string()),
                ],
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn truncated_text_is_returned_at_the_end() {
        let items = split(b"{\"a\": [1,\n", Framing::Json, 100, 4);
        assert_eq!(texts(&items), [(1, 1, "{\"a\": [1,\n".to_string())]);
    }

    #[test]
    fn oversized_texts_are_counted_not_kept() {
        let input = b"{\"a\": \"0123456789\"} {\"b\": 1}";
        for chunk in [1, 5, 64] {
            let items = split(input, Framing::Json, 10, chunk);
            assert_eq!(
                texts(&items),
                [
                    (1, 1, "<19>".to_string()),
                    (1, 21, "{\"b\": 1}".to_string())
                ]
            );
        }
    }

    #[test]
    fn oversized_text_left_open_at_the_end_says_so() {
        let items = split(b"{} {\"a\": [1, 2, 3, 4, 5, 6]", Framing::Json, 10, 4);
        assert_eq!(
            texts(&items),
            [(1, 1, "{}".to_string()), (1, 4, "<24 open>".to_string())]
        );
        let items = split(b"12345678901", Framing::Json, 10, 4);
        assert_eq!(texts(&items), [(1, 1, "<11>".to_string())]);
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped_and_any_other_kept() {
        let bom = "\u{feff}";
        for chunk in [1, 2, 3, 64] {
            // NDJSON: the first message is not lost to the mark.
            let input = format!("{bom}{{\"a\":1}}\n{{\"b\":2}}\n");
            assert_eq!(
                texts(&split(input.as_bytes(), Framing::Lines, 100, chunk)),
                [
                    (1, 1, "{\"a\":1}".to_string()),
                    (2, 1, "{\"b\":2}".to_string())
                ],
                "chunk size {chunk}"
            );
            // JSON texts: no stray message made of the mark.
            let input = format!("{bom}\n  {{\"a\": 1}} {bom}{{}}");
            assert_eq!(
                texts(&split(input.as_bytes(), Framing::Json, 100, chunk)),
                [
                    (2, 3, "{\"a\": 1}".to_string()),
                    (2, 12, bom.to_string()),
                    (2, 15, "{}".to_string())
                ],
                "chunk size {chunk}"
            );
            // The start of a mark that is not one is passed on.
            let input = b"\xEF\xBB{} \xEFx";
            assert_eq!(
                texts(&split(input, Framing::Json, 100, chunk)),
                [
                    (1, 1, "\u{fffd}".to_string()),
                    (1, 3, "{}".to_string()),
                    (1, 6, "\u{fffd}x".to_string())
                ],
                "chunk size {chunk}"
            );
            // A mark alone is no message at all.
            assert!(split(bom.as_bytes(), Framing::Json, 100, chunk).is_empty());
            assert!(split(bom.as_bytes(), Framing::Lines, 100, chunk).is_empty());
        }
    }

    /// A terminal: after an end of input, reading again waits for more
    /// (here: gives more), so an empty stream must not be read twice.
    struct Terminal(Vec<&'static [u8]>);

    impl io::Read for Terminal {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(next) = self.0.first_mut() else {
                return Ok(0);
            };
            let n = next.len().min(buf.len());
            buf[..n].copy_from_slice(&next[..n]);
            *next = &next[n..];
            if next.is_empty() {
                self.0.remove(0);
            }
            Ok(n)
        }
    }

    #[test]
    fn an_empty_stream_is_read_once() {
        for framing in [Framing::Json, Framing::Lines] {
            let reader = io::BufReader::new(Terminal(vec![b"", b"{}\n"]));
            let mut s = Splitter::new(reader, framing, 100);
            assert_eq!(s.next_item().unwrap(), None, "{framing:?}");
        }
    }

    #[test]
    fn lines_skip_blanks_strip_cr_and_cap_length() {
        let input = b"{\"a\":1}\r\n\n   \nnot json\n0123456789012\n{}";
        for chunk in [1, 4, 64] {
            assert_eq!(
                texts(&split(input, Framing::Lines, 10, chunk)),
                [
                    (1, 1, "{\"a\":1}".to_string()),
                    (4, 1, "not json".to_string()),
                    (5, 1, "<13>".to_string()),
                    (6, 1, "{}".to_string()),
                ],
                "chunk size {chunk}"
            );
        }
        // Exactly at the limit, with or without `\r`, is kept.
        let items = split(b"0123456789\r\n0123456789", Framing::Lines, 10, 3);
        assert_eq!(
            texts(&items),
            [
                (1, 1, "0123456789".to_string()),
                (2, 1, "0123456789".to_string())
            ]
        );
        // Over it, the size counts the line's bytes without its `\r\n`
        // or `\n`, however far past the limit the `\r` falls.
        for chunk in [1, 4, 64] {
            let items = split(
                b"0123456789012\r\n012345678901234567890\r\n{}",
                Framing::Lines,
                10,
                chunk,
            );
            assert_eq!(
                texts(&items),
                [
                    (1, 1, "<13>".to_string()),
                    (2, 1, "<21>".to_string()),
                    (3, 1, "{}".to_string())
                ],
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn pointers_lead_to_the_line_of_their_value() {
        let json = br#"{
  "Version": "2.D.V08",
  "Na\u006De": {"x": [1, "a,]}", {"y": null}]},
  "List": [
    "first",
    [2, 3],
    {
      "~/": true
    }
  ]
}"#;
        let line = |pointer: &str| lines_before(json, pointer);
        assert_eq!(line(""), 0);
        assert_eq!(line("/Version"), 1);
        assert_eq!(line("/Name/x/2/y"), 2);
        assert_eq!(line("/List"), 3);
        assert_eq!(line("/List/0"), 4);
        assert_eq!(line("/List/1/1"), 5);
        assert_eq!(line("/List/2/~0~1"), 7);
        // Nowhere to go: the message's first line.
        for nowhere in ["/Missing", "/List/3", "/Version/0", "/List/x", "Version"] {
            assert_eq!(line(nowhere), 0, "{nowhere}");
        }
        // Broken or truncated text never makes it fail.
        for cut in 0..json.len() {
            let _ = lines_before(&json[..cut], "/List/2/~0~1");
        }
    }
}
