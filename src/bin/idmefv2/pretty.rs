//! Indenting encoded JSON without decoding it, so that nothing (member
//! order, number forms) changes but whitespace.

/// Writes one encoded message (indented with `pretty`) and a newline.
pub fn write_line(
    out: &mut impl std::io::Write,
    encoded: &[u8],
    pretty: bool,
) -> std::io::Result<()> {
    if pretty {
        out.write_all(&indent(encoded))?;
    } else {
        out.write_all(encoded)?;
    }
    out.write_all(b"\n")
}

/// `json` indented by two spaces per level, `"name": value` in objects and
/// empty arrays and objects kept on one line. Whitespace outside strings is
/// replaced; everything else is copied as it is.
pub fn indent(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * depth, b' ');
    };
    let mut bytes = json.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if in_string {
            out.push(b);
            in_string = b != b'"' || escaped;
            escaped = b == b'\\' && !escaped;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b'{' | b'[' => {
                out.push(b);
                while bytes.next_if(u8::is_ascii_whitespace).is_some() {}
                match bytes.peek() {
                    Some(b'}' | b']') => {}
                    _ => {
                        depth += 1;
                        newline(&mut out, depth);
                    }
                }
            }
            b'}' | b']' => {
                if !matches!(out.last(), Some(b'{' | b'[')) {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            b if b.is_ascii_whitespace() => {}
            b => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_like_serde_json_pretty() {
        let value = serde_json::json!({
            "b": [1, 2.5, {"c": "x,y:{[\"\\"}, [], {}],
            "a": {"d": null, "e": [true]},
            "f": []
        });
        let compact = serde_json::to_vec(&value).unwrap();
        let expected = serde_json::to_vec_pretty(&value).unwrap();
        assert_eq!(
            String::from_utf8(indent(&compact)).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        assert_eq!(indent(b"[ ]"), b"[]");
    }
}
