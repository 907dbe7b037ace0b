//! Hand-written matchers for the `pattern` keywords of the `IDMEFv2` JSON schema.
//!
//! Each function accepts exactly the strings that the corresponding ECMA-262
//! regular expression accepts (anchored at both ends, `$` without a trailing
//! newline, ASCII-only character classes). They work on the UTF-8 bytes of
//! the input: every byte of a non-ASCII character is >= 0x80 and is rejected
//! by all the byte classes used below, just as the regexes reject the
//! character. No function allocates, indexes unchecked or panics.

/// Drops the leading bytes that satisfy `keep` and returns what follows.
#[inline]
fn skip_while(b: &[u8], keep: impl Fn(u8) -> bool) -> &[u8] {
    let n = b.iter().position(|&c| !keep(c)).unwrap_or(b.len());
    b.get(n..).unwrap_or_default()
}

/// Consumes one or more bytes satisfying `keep`; `None` if the first byte fails.
#[inline]
fn skip_some(b: &[u8], keep: impl Fn(u8) -> bool) -> Option<&[u8]> {
    let rest = skip_while(b, keep);
    (rest.len() < b.len()).then_some(rest)
}

#[inline]
fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

#[inline]
fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

#[inline]
fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// Checks a UUID-shaped identifier: hex blocks of 8-4-4-4-12 separated by dashes.
pub(crate) fn is_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => is_hex(c),
        })
}

/// Two bytes forming an hour `00`..`23`.
#[inline]
fn is_hour(h0: u8, h1: u8) -> bool {
    matches!((h0, h1), (b'0'..=b'1', b'0'..=b'9') | (b'2', b'0'..=b'3'))
}

/// Two bytes forming a minute `00`..`59`.
#[inline]
fn is_minute(m0: u8, m1: u8) -> bool {
    matches!((m0, m1), (b'0'..=b'5', b'0'..=b'9'))
}

/// Checks an RFC 3339-like date-time whose fraction and UTC offset are both optional.
pub(crate) fn is_timestamp(s: &str) -> bool {
    let Some((head, rest)) = s.as_bytes().split_at_checked(19) else {
        return false;
    };
    let &[y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0, s1] =
        head
    else {
        return false;
    };
    let date_ok = [y0, y1, y2, y3].iter().all(|&c| is_digit(c))
        // The month may be 00..12 (00 included).
        && matches!((mo0, mo1), (b'0', b'0'..=b'9') | (b'1', b'0'..=b'2'))
        // The day may be 00..31, independently of the month.
        && matches!((d0, d1), (b'0'..=b'2', b'0'..=b'9') | (b'3', b'0'..=b'1'));
    let time_ok =
        is_hour(h0, h1) && is_minute(mi0, mi1) && (is_minute(s0, s1) || (s0 == b'6' && s1 == b'0'));
    if !(date_ok && time_ok) {
        return false;
    }
    // Optional fraction: a dot and at least one digit.
    let rest = match rest.split_first() {
        Some((b'.', frac)) => match skip_some(frac, is_digit) {
            Some(r) => r,
            None => return false,
        },
        _ => rest,
    };
    // Optional zone: `Z` or a signed `hh:mm` offset.
    match *rest {
        [] | [b'Z'] => true,
        [sign, h0, h1, b':', m0, m1] => {
            matches!(sign, b'+' | b'-') && is_hour(h0, h1) && is_minute(m0, m1)
        }
        _ => false,
    }
}

/// Consumes one geolocation coordinate (`[-+]?digits(.digits*)?`) and returns the rest.
#[inline]
fn geo_number(b: &[u8]) -> Option<&[u8]> {
    let b = match b.split_first() {
        Some((b'+' | b'-', t)) => t,
        _ => b,
    };
    let rest = skip_some(b, is_digit)?;
    Some(match rest.split_first() {
        Some((b'.', t)) => skip_while(t, is_digit),
        _ => rest,
    })
}

/// Checks two or three comma-separated decimal numbers (no range check on the values).
pub(crate) fn is_geolocation(s: &str) -> bool {
    let Some(mut rest) = geo_number(s.as_bytes()) else {
        return false;
    };
    let mut extra = 0usize;
    while let Some((b',', t)) = rest.split_first() {
        let t = match t.split_first() {
            Some((b' ', u)) => u,
            _ => t,
        };
        match geo_number(t) {
            Some(r) if extra < 2 => rest = r,
            _ => return false,
        }
        extra += 1;
    }
    rest.is_empty() && extra >= 1
}

/// Checks a UN/LOCODE: two upper-case letters, an optional space, three upper-case letters.
pub(crate) fn is_unlocode(s: &str) -> bool {
    match *s.as_bytes() {
        [a, b, c, d, e] | [a, b, b' ', c, d, e] => {
            [a, b, c, d, e].iter().all(u8::is_ascii_uppercase)
        }
        _ => false,
    }
}

/// Checks a non-empty string made only of ASCII letters and digits.
pub(crate) fn is_attachment_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_alnum)
}

/// Checks alphanumeric runs joined by single dashes (no leading, trailing or doubled dash).
pub(crate) fn is_protocol(s: &str) -> bool {
    // `after_alnum` tells whether the previous byte was a letter or digit.
    let mut after_alnum = false;
    for c in s.bytes() {
        if is_alnum(c) {
            after_alnum = true;
        } else if c == b'-' && after_alnum {
            after_alnum = false;
        } else {
            return false;
        }
    }
    after_alnum
}

/// Checks `algorithm:hexdigest` where the digest is a non-empty even number of hex digits.
pub(crate) fn is_hash(s: &str) -> bool {
    let b = s.as_bytes();
    // Neither side may contain a colon, so the first one is the separator.
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return false;
    };
    let algo = b.get(..colon).unwrap_or_default();
    let digest = b.get(colon + 1..).unwrap_or_default();
    !algo.is_empty()
        && algo.iter().all(|&c| is_alnum(c) || c == b'-')
        && !digest.is_empty()
        && digest.len() % 2 == 0
        && digest.iter().all(|&c| is_hex(c))
}

/// A byte allowed in an HTTP token (RFC 7230 `tchar`).
#[inline]
fn is_tchar(c: u8) -> bool {
    is_alnum(c)
        || matches!(
            c,
            b'-' | b'!'
                | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// A plain byte allowed inside a quoted parameter value (no `"` and no `\`).
#[inline]
fn is_qdtext(c: u8) -> bool {
    matches!(c, b'\t' | b' ' | b'!' | 0x23..=0x5B | 0x5D..=0x7E)
}

/// Consumes the body of a quoted string (after its opening quote) up to and
/// including the closing quote, returning what follows.
#[inline]
fn quoted_rest(mut b: &[u8]) -> Option<&[u8]> {
    loop {
        b = match *b {
            [b'"', ref rest @ ..] => return Some(rest),
            // Only a tab, a space, a letter or a digit may be escaped.
            [b'\\', e, ref rest @ ..] if e == b'\t' || e == b' ' || is_alnum(e) => rest,
            [c, ref rest @ ..] if is_qdtext(c) => rest,
            _ => return None,
        };
    }
}

/// Checks a `type/subtype` media type followed by any number of `;name=value` parameters.
pub(crate) fn is_media_type(s: &str) -> bool {
    let is_ws = |c: u8| c == b' ' || c == b'\t';
    let Some(rest) = skip_some(s.as_bytes(), is_tchar) else {
        return false;
    };
    let Some((b'/', rest)) = rest.split_first() else {
        return false;
    };
    let Some(mut rest) = skip_some(rest, is_tchar) else {
        return false;
    };
    while !rest.is_empty() {
        let Some((b';', r)) = skip_while(rest, is_ws).split_first() else {
            return false;
        };
        let Some(r) = skip_some(skip_while(r, is_ws), is_tchar) else {
            return false;
        };
        let Some((b'=', value)) = r.split_first() else {
            return false;
        };
        let after = match value.split_first() {
            Some((b'"', q)) => quoted_rest(q),
            _ => skip_some(value, is_tchar),
        };
        match after {
            Some(r) => rest = r,
            None => return false,
        }
    }
    true
}

/// Numeric value of 1 to 3 ASCII digits, `None` for anything else.
#[inline]
fn small_number(d: &[u8]) -> Option<u32> {
    if d.is_empty() || d.len() > 3 || !d.iter().all(|&c| is_digit(c)) {
        return None;
    }
    Some(d.iter().fold(0, |acc, &c| acc * 10 + u32::from(c - b'0')))
}

/// Octet of a stand-alone IPv4 address: 1 to 3 digits worth at most 255 (leading zeros allowed).
#[inline]
fn is_plain_octet(d: &[u8]) -> bool {
    small_number(d).is_some_and(|v| v <= 255)
}

/// Octet of an IPv4 address embedded in IPv6: 1 or 2 digits of any kind, or
/// 3 digits from 100 to 255 (so `001` is refused while `01` is fine).
#[inline]
fn is_embedded_octet(d: &[u8]) -> bool {
    match small_number(d) {
        Some(v) if d.len() == 3 => (100..=255).contains(&v),
        Some(_) => true,
        None => false,
    }
}

/// Dotted quad whose four parts all satisfy `octet`.
#[inline]
fn is_ipv4_with(b: &[u8], octet: fn(&[u8]) -> bool) -> bool {
    let mut parts = 0usize;
    for part in b.split(|&c| c == b'.') {
        if parts == 4 || !octet(part) {
            return false;
        }
        parts += 1;
    }
    parts == 4
}

/// Number of 1-4 digit hex groups in `b` when it is exactly `h(:h)*`; an empty input counts 0.
#[inline]
fn hex_group_count(b: &[u8]) -> Option<usize> {
    if b.is_empty() {
        return Some(0);
    }
    let mut n = 0usize;
    for g in b.split(|&c| c == b':') {
        if g.is_empty() || g.len() > 4 || !g.iter().all(|&c| is_hex(c)) {
            return None;
        }
        n += 1;
    }
    Some(n)
}

/// The link-local alternative: `fe80:`, up to four `:` + 0-4 hex digits, `%`, an alphanumeric zone.
fn is_fe80_with_zone(b: &[u8]) -> bool {
    let Some(mut rest) = b.strip_prefix(b"fe80:") else {
        return false;
    };
    for _ in 0..4 {
        match rest.split_first() {
            Some((b':', t)) => {
                let n = t.iter().take(4).take_while(|&&c| is_hex(c)).count();
                rest = t.get(n..).unwrap_or_default();
            }
            _ => break,
        }
    }
    match rest.split_first() {
        Some((b'%', zone)) => !zone.is_empty() && zone.iter().all(|&c| is_alnum(c)),
        _ => false,
    }
}

/// What may follow a leading `::` when an IPv4 address ends the string:
/// the address itself, or `ffff:` / `ffff:0{1,4}:` before it.
fn is_v4_after_leading_double_colon(b: &[u8]) -> bool {
    if is_ipv4_with(b, is_embedded_octet) {
        return true;
    }
    let Some(t) = b.strip_prefix(b"ffff:") else {
        return false;
    };
    if is_ipv4_with(t, is_embedded_octet) {
        return true;
    }
    let zeros = t.iter().take_while(|&&c| c == b'0').count();
    (1..=4).contains(&zeros)
        && matches!(t.get(zeros..).and_then(<[u8]>::split_first),
            Some((b':', v4)) if is_ipv4_with(v4, is_embedded_octet))
}

/// Checks the schema's IPv4/IPv6 union (full, `::`-compressed, IPv4-suffixed and `fe80:...%zone` forms).
pub(crate) fn is_ip(s: &str) -> bool {
    let b = s.as_bytes();
    if is_ipv4_with(b, is_plain_octet) || is_fe80_with_zone(b) {
        return true;
    }
    // Apart from the `fe80` form handled above, every IPv6 alternative has
    // either no `::` (eight groups) or exactly one `::`.
    let Some(i) = b.windows(2).position(|w| w == b"::") else {
        return hex_group_count(b) == Some(8);
    };
    let left = b.get(..i).unwrap_or_default();
    let right = b.get(i + 2..).unwrap_or_default();
    // `left` cannot end with `:` because `i` is the first `::`.
    let Some(l) = hex_group_count(left) else {
        return false;
    };
    if let Some(r) = hex_group_count(right) {
        // Groups on both sides of `::` together must not exceed seven.
        return l + r <= 7;
    }
    if l == 0 {
        is_v4_after_leading_double_colon(right)
    } else {
        l <= 4 && is_ipv4_with(right, is_embedded_octet)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::sample::select;
    use proptest::string::string_regex;
    use std::sync::OnceLock;

    use crate::model::scalar::PATTERNS;

    type Matcher = fn(&str) -> bool;

    /// The pinned patterns (the build holds them equal to the schema's)
    /// compiled with an ECMA-262 engine, used as the oracle.
    fn oracles() -> &'static [(&'static str, regress::Regex)] {
        static ORACLES: OnceLock<Vec<(&'static str, regress::Regex)>> = OnceLock::new();
        ORACLES.get_or_init(|| {
            PATTERNS
                .iter()
                .map(|&(name, pattern, _)| {
                    let re = regress::Regex::new(pattern)
                        .unwrap_or_else(|e| panic!("bad pattern for {name}: {e}"));
                    (name, re)
                })
                .collect()
        })
    }

    fn matcher(name: &str) -> Matcher {
        PATTERNS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|&(_, _, f)| f)
            .expect("known definition")
    }

    /// What the ECMA-262 engine says about `s` for definition `name`.
    fn regex_accepts(name: &str, s: &str) -> bool {
        let re = oracles()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, re)| re)
            .expect("known definition");
        match re.find(s) {
            Some(m) => {
                // The patterns are anchored, so any match must cover the input.
                assert_eq!(
                    (m.start(), m.end()),
                    (0, s.len()),
                    "{name}: partial match on {s:?}"
                );
                true
            }
            None => false,
        }
    }

    /// Panics if our matcher and the oracle disagree on `s`.
    fn check(name: &str, s: &str) {
        let expected = regex_accepts(name, s);
        assert_eq!(
            matcher(name)(s),
            expected,
            "{name} disagrees with the regex on {s:?}"
        );
    }

    /// Calls `f` on every string of length `0..=max_len` over `alphabet`, each prefixed by `prefix`.
    fn for_all_strings(prefix: &str, alphabet: &[char], max_len: usize, mut f: impl FnMut(&str)) {
        let mut idx: Vec<usize> = Vec::new();
        let mut s = String::new();
        loop {
            s.clear();
            s.push_str(prefix);
            s.extend(idx.iter().map(|&i| alphabet[i]));
            f(&s);
            // Odometer-style increment; grows the length when all positions wrap.
            let mut pos = 0;
            loop {
                if pos == idx.len() {
                    if idx.len() == max_len {
                        return;
                    }
                    idx.push(0);
                    break;
                }
                idx[pos] += 1;
                if idx[pos] < alphabet.len() {
                    break;
                }
                idx[pos] = 0;
                pos += 1;
            }
        }
    }

    /// Characters used to perturb generated strings.
    const NOISE: &[char] = &[
        '0', '1', '2', '5', '6', '9', 'a', 'f', 'F', 'g', 'A', 'Z', 'T', 'z', '-', '+', ':', '.',
        ',', '/', ';', '=', '%', '"', '\\', ' ', '\t', '\n', '!', '#', '~', '[', ']', '^', '`',
        '\u{7f}', '\u{0}', 'é', '€',
    ];

    #[derive(Clone, Debug)]
    enum Edit {
        Insert(usize, char),
        Delete(usize),
        Replace(usize, char),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), select(NOISE)).prop_map(|(p, c)| Edit::Insert(p, c)),
            any::<usize>().prop_map(Edit::Delete),
            (any::<usize>(), select(NOISE)).prop_map(|(p, c)| Edit::Replace(p, c)),
        ]
    }

    fn apply(s: &str, edits: &[Edit]) -> String {
        let mut chars: Vec<char> = s.chars().collect();
        for e in edits {
            match *e {
                Edit::Insert(p, c) => chars.insert(p % (chars.len() + 1), c),
                Edit::Delete(p) if !chars.is_empty() => {
                    chars.remove(p % chars.len());
                }
                Edit::Replace(p, c) if !chars.is_empty() => {
                    let n = chars.len();
                    chars[p % n] = c;
                }
                _ => {}
            }
        }
        chars.into_iter().collect()
    }

    /// Strings from `base`, then zero to three random single-character edits.
    fn near(base: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
        (base, proptest::collection::vec(edit(), 0..=3)).prop_map(|(s, e)| apply(&s, &e))
    }

    fn gen(re: &str) -> BoxedStrategy<String> {
        string_regex(re).expect("generator regex").boxed()
    }

    const HEX: &str = "[0-9a-fA-F]{1,4}";
    const OCT: &str = "(25[0-9]|2[0-9][0-9]|1[0-9][0-9]|0[0-9]{0,2}|[0-9]{1,2}|[3-9][0-9][0-9])";

    fn ip_gen() -> BoxedStrategy<String> {
        let v4 = format!(r"({OCT}\.){{3}}{OCT}");
        let hex5 = "[0-9a-fA-F]{1,5}";
        prop_oneof![
            gen(&v4),
            gen(&format!(r"({OCT}\.){{2,4}}{OCT}")),
            gen(&format!("({HEX}:){{6,8}}{HEX}")),
            gen(&format!("({hex5}:){{0,8}}{hex5}")),
            gen(&format!("({HEX}(:{HEX}){{0,7}})?::({HEX}(:{HEX}){{0,7}})?")),
            gen(&format!(
                "({HEX}(:{HEX}){{0,5}})?::?({hex5}(:{HEX}){{0,5}})?:?"
            )),
            gen("fe80:(:[0-9a-fA-F]{0,5}){0,5}%[a-zA-Z0-9]{0,4}"),
            gen(&format!("::(ffff(:0{{1,5}})?:)?{v4}")),
            gen(&format!("({HEX}:){{0,5}}:{v4}")),
            gen(&format!("({HEX}:){{1,6}}{v4}")),
        ]
        .boxed()
    }

    fn generator(name: &str) -> BoxedStrategy<String> {
        match name {
            "Id" => prop_oneof![
                gen("[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"),
                gen("[0-9A-Fa-g]{7,9}(-[0-9A-Fa-f]{3,5}){2,4}-[0-9A-Fa-f]{11,13}"),
            ]
            .boxed(),
            "Timestamp" => prop_oneof![
                gen(
                    r"[0-9]{4}-(0[0-9]|1[0-2])-([0-2][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,3})?(Z|[-+]([01][0-9]|2[0-3]):[0-5][0-9])?",
                ),
                gen(
                    r"[0-9]{4}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{0,3})?(Z|[-+][0-2][0-9]:[0-6][0-9])?",
                ),
            ]
            .boxed(),
            "GeoLocation" => {
                gen(r"[-+]?[0-9]{1,3}(\.[0-9]{0,3})?(, ?[-+]?[0-9]{1,3}(\.[0-9]{0,3})?){0,3}")
            }
            "UnLocode" => prop_oneof![
                gen("[A-Z]{2} ?[A-Z]{3}"),
                gen("[A-Za-z]{1,3} ?[A-Z0-9]{2,4}"),
            ]
            .boxed(),
            "AttachmentName" => gen("[a-zA-Z0-9]{0,10}[._ -]?[a-zA-Z0-9]{0,4}"),
            "Protocol" => prop_oneof![
                gen("[a-zA-Z0-9]{1,3}(-?[a-zA-Z0-9]{1,3}){0,3}"),
                gen("-?([a-zA-Z0-9]{1,3}-{0,2}){0,4}"),
            ]
            .boxed(),
            "Hash" => prop_oneof![
                gen("[a-zA-Z0-9-]{1,8}:([a-fA-F0-9]{2}){1,5}"),
                gen("[a-zA-Z0-9-]{0,8}:{1,2}[a-fA-F0-9g]{0,10}"),
            ]
            .boxed(),
            "MediaType" => gen(
                r#"[a-z+.!-]{1,8}/[a-z0-9+.-]{1,8}([ \t]{0,2};[ \t]{0,2}[a-z*]{1,5}=([a-z0-9-]{1,5}|"([a-z \t!#\[\]~]|\\[a-z0-9 \t"\\])*")){0,3}"#,
            ),
            "IpAddress" => ip_gen(),
            _ => unreachable!("unknown definition {name}"),
        }
    }

    fn agree(name: &str, s: &str) -> Result<(), TestCaseError> {
        prop_assert_eq!(
            matcher(name)(s),
            regex_accepts(name, s),
            "{} on {:?}",
            name,
            s
        );
        Ok(())
    }

    macro_rules! fuzz {
        ($($test:ident => $name:literal),* $(,)?) => {
            /// The definitions the tests below fuzz.
            const FUZZED: &[&str] = &[$($name),*];
            proptest! {
                #![proptest_config(ProptestConfig::with_cases(20_000))]
                $(
                    #[test]
                    fn $test(s in near(generator($name))) {
                        agree($name, &s)?;
                    }
                )*
            }
        };
    }

    fuzz! {
        fuzz_id => "Id",
        fuzz_timestamp => "Timestamp",
        fuzz_geolocation => "GeoLocation",
        fuzz_unlocode => "UnLocode",
        fuzz_attachment_name => "AttachmentName",
        fuzz_protocol => "Protocol",
        fuzz_hash => "Hash",
        fuzz_media_type => "MediaType",
        fuzz_ip => "IpAddress",
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5_000))]
        /// Arbitrary Unicode text, checked against every pattern.
        #[test]
        fn fuzz_arbitrary_text(s in "\\PC{0,40}") {
            for &(name, _, _) in PATTERNS {
                agree(name, &s)?;
            }
        }
    }

    /// Hand-picked inputs per definition: `(text, whether the regex should accept it)`.
    /// The label is checked against the oracle too, which documents the surprising cases.
    const EXAMPLES: &[(&str, &[(&str, bool)])] = &[
        (
            "Id",
            &[
                ("3f2504e0-4f89-11d3-9a0c-0305e82c3301", true),
                ("3F2504E0-4F89-11D3-9A0C-0305E82C3301", true),
                ("3f2504e0-4f89-11d3-9a0c-0305e82c3301\n", false),
                ("3f2504e0-4f89-11d3-9a0c-0305e82c330", false),
                ("3f2504e04f8911d39a0c0305e82c3301", false),
                ("{3f2504e0-4f89-11d3-9a0c-0305e82c3301}", false),
                ("3f2504e0-4f89-11d3-9a0c-0305e82c330é", false),
                ("", false),
            ],
        ),
        (
            "Timestamp",
            &[
                ("2021-01-02T03:04:05Z", true),
                ("2021-01-02T03:04:05", true),
                ("2021-00-00T23:59:60.123456789+23:59", true),
                ("2021-02-31T00:00:00-00:00", true),
                ("2021-13-02T03:04:05Z", false),
                ("2021-01-32T03:04:05Z", false),
                ("2021-01-02T24:00:00Z", false),
                ("2021-01-02T03:04:61Z", false),
                ("2021-01-02T03:04:05.Z", false),
                ("2021-01-02T03:04:05+0100", false),
                ("2021-01-02t03:04:05z", false),
                ("2021-01-02T03:04:05Z\n", false),
                ("2021-01-02 03:04:05Z", false),
                ("２021-01-02T03:04:05Z", false),
                ("", false),
            ],
        ),
        (
            "GeoLocation",
            &[
                ("48.85,2.35", true),
                ("-48.85, +2.35, 35", true),
                ("1.,2.", true),
                ("999999,999999", true),
                ("48.85", false),
                ("1,2,3,4", false),
                (".5,1", false),
                ("1,  2", false),
                ("1 ,2", false),
                ("1,2\n", false),
                ("1,2é", false),
                ("", false),
            ],
        ),
        (
            "UnLocode",
            &[
                ("FRPAR", true),
                ("FR PAR", true),
                ("FR  PAR", false),
                ("frpar", false),
                ("FRPA", false),
                ("FRPAR\n", false),
                ("FRPAÉ", false),
                ("", false),
            ],
        ),
        (
            "AttachmentName",
            &[
                ("a", true),
                ("Report2024", true),
                ("report.pdf", false),
                ("a\n", false),
                ("é", false),
                ("", false),
            ],
        ),
        (
            "Protocol",
            &[
                ("tcp", true),
                ("ipv6-icmp", true),
                ("a-b-c", true),
                ("-tcp", false),
                ("tcp-", false),
                ("a--b", false),
                ("tcp\n", false),
                ("tcp_x", false),
                ("", false),
            ],
        ),
        (
            "Hash",
            &[
                ("sha256:00ff", true),
                ("-:AB", true),
                ("sha-1:0", false),
                ("sha256:", false),
                (":00", false),
                ("sha256:0g", false),
                ("a:b:cc", false),
                ("sha256:00\n", false),
                ("", false),
            ],
        ),
        (
            "MediaType",
            &[
                ("text/plain", true),
                ("text/plain; charset=utf-8", true),
                ("text/plain \t;\t a=\"x y\\ z\"", true),
                ("a/b;c=\"\"", true),
                ("*/*", true),
                ("a/b;c=\"\\\"\"", false),
                ("a/b;c=\"\\\\\"", false),
                ("a/b;c=\"\\", false),
                ("a/b;", false),
                ("a/b ", false),
                ("a/b;c=", false),
                ("a/b/c", false),
                ("text/plain\n", false),
                ("a/b;c=\"é\"", false),
                ("", false),
            ],
        ),
        (
            "IpAddress",
            &[
                ("192.168.0.1", true),
                ("001.002.003.004", true),
                ("256.1.1.1", false),
                ("1.2.3", false),
                ("2001:db8:0:0:0:0:0:1", true),
                ("2001:db8::1", true),
                ("::", true),
                ("::1", true),
                ("1::", true),
                ("1:2:3:4:5:6:7::", true),
                ("::2:3:4:5:6:7:8", true),
                ("1:2:3:4:5:6:7::8", false),
                ("1::2::3", false),
                (":::", false),
                ("1:2:3:4:5:6:7:8:9", false),
                ("12345::", false),
                ("fe80::1%eth0", true),
                ("fe80:%0", true),
                ("fe80:::::%x", true),
                ("fe80::::::%x", false),
                ("FE80::1%eth0", false),
                ("fe80::1%", false),
                ("::ffff:1.2.3.4", true),
                ("::ffff:0:1.2.3.4", true),
                ("::ffff:0000:01.2.3.4", true),
                ("::FFFF:1.2.3.4", false),
                ("::001.2.3.4", false),
                ("1:2:3:4::1.2.3.4", true),
                ("1:2:3:4:5::1.2.3.4", false),
                ("1:2:3:4:5:6:1.2.3.4", false),
                ("::1\n", false),
                ("::1é", false),
                ("", false),
            ],
        ),
    ];

    /// Every pattern of the table is fuzzed and has hand-picked examples.
    #[test]
    fn every_pattern_is_tested() {
        for &(name, _, _) in PATTERNS {
            assert!(FUZZED.contains(&name), "{name} is not fuzzed");
            assert!(
                EXAMPLES.iter().any(|(n, _)| *n == name),
                "{name} has no examples"
            );
        }
        assert_eq!(FUZZED.len(), PATTERNS.len());
    }

    #[test]
    fn hand_picked_examples() {
        for &(name, cases) in EXAMPLES {
            for &(s, label) in cases {
                let regex = regex_accepts(name, s);
                assert_eq!(
                    regex, label,
                    "{name}: regex verdict on {s:?} is not {label}"
                );
                assert_eq!(
                    matcher(name)(s),
                    regex,
                    "{name} disagrees with the regex on {s:?}"
                );
            }
        }
    }

    /// Every single-character insertion, deletion and replacement of every
    /// hand-picked example, using all of ASCII plus a few non-ASCII characters
    /// (so each character class is probed with every possible byte).
    #[test]
    fn single_edits_of_examples() {
        let all: Vec<char> = (0u8..=0x7F)
            .map(char::from)
            .chain(['\u{80}', 'é', '€', '\u{10348}'])
            .collect();
        for &(name, cases) in EXAMPLES {
            for &(s, _) in cases {
                let chars: Vec<char> = s.chars().collect();
                for p in 0..=chars.len() {
                    for &c in &all {
                        let mut v = chars.clone();
                        v.insert(p, c);
                        check(name, &v.iter().collect::<String>());
                        if p < chars.len() {
                            let mut v = chars.clone();
                            v[p] = c;
                            check(name, &v.iter().collect::<String>());
                        }
                    }
                    if p < chars.len() {
                        let mut v = chars.clone();
                        v.remove(p);
                        check(name, &v.iter().collect::<String>());
                    }
                }
            }
        }
    }

    #[test]
    fn exhaustive_unlocode() {
        for_all_strings("", &['A', 'Z', 'a', ' ', '1'], 6, |s| check("UnLocode", s));
        for_all_strings("FR", &['P', ' ', '\n'], 5, |s| check("UnLocode", s));
    }

    #[test]
    fn exhaustive_attachment_name() {
        let alphabet = ['a', 'Z', '0', '-', ' ', 'é', '\n', '.'];
        for_all_strings("", &alphabet, 4, |s| check("AttachmentName", s));
    }

    #[test]
    fn exhaustive_protocol() {
        for_all_strings("", &['a', 'Z', '0', '-', '_', '\n'], 5, |s| {
            check("Protocol", s)
        });
    }

    #[test]
    fn exhaustive_hash() {
        let alphabet = ['a', 'F', 'g', '0', '-', ':', '\n'];
        for_all_strings("", &alphabet, 5, |s| check("Hash", s));
        for_all_strings("", &['a', '0', ':', '-'], 7, |s| check("Hash", s));
    }

    #[test]
    fn exhaustive_geolocation() {
        let alphabet = ['1', '.', ',', ' ', '-', '+'];
        for_all_strings("", &alphabet, 6, |s| check("GeoLocation", s));
        for_all_strings("1,1", &[',', '1', '.', ' ', '\n'], 5, |s| {
            check("GeoLocation", s)
        });
    }

    #[test]
    fn exhaustive_media_type() {
        let alphabet = ['a', '/', ';', '=', '"', ' '];
        for_all_strings("", &alphabet, 6, |s| check("MediaType", s));
        let alphabet = ['a', ';', '=', '"', '\\', ' ', '\t', '!'];
        for_all_strings("a/a;b=", &alphabet, 5, |s| check("MediaType", s));
    }

    #[test]
    fn exhaustive_id_positions() {
        let base = "0123abcd-ABCD-ef01-2345-6789abcdefAB";
        let alphabet = ['0', '9', 'a', 'f', 'g', 'A', 'F', 'G', '-', ' ', '\n', 'é'];
        let chars: Vec<char> = base.chars().collect();
        check("Id", base);
        for p in 0..chars.len() {
            for q in p..chars.len() {
                for &c in &alphabet {
                    for &d in &alphabet[..4] {
                        let mut v = chars.clone();
                        v[p] = c;
                        v[q] = d;
                        check("Id", &v.iter().collect::<String>());
                    }
                }
            }
        }
    }

    #[test]
    fn exhaustive_timestamp_fields() {
        let base = "2024-12-31T23:59:60.5+23:59";
        // Byte offsets of the two-digit fields: month, day, hour, minute,
        // second, offset hour, offset minute; plus a digit of the year.
        for start in [5usize, 8, 11, 14, 17, 21, 24, 2] {
            for tens in (b'0'..=b'9').chain(*b"a:-") {
                for units in (b'0'..=b'9').chain(*b"Z ") {
                    let mut v = base.as_bytes().to_vec();
                    v[start] = tens;
                    v[start + 1] = units;
                    let s = String::from_utf8(v).expect("ASCII");
                    check("Timestamp", &s);
                    // Also without fraction and without zone.
                    check("Timestamp", &s.replace(".5", ""));
                    check("Timestamp", s.get(..21).unwrap_or_default());
                }
            }
        }
        // Every combination of fraction and zone suffixes.
        let fracs = ["", ".", ".0", ".123456789", "..1", ".a"];
        let zones = [
            "", "Z", "z", "+00:00", "-23:59", "+24:00", "+0000", "Z+01:00", "+01", "\n",
        ];
        for f in fracs {
            for z in zones {
                check("Timestamp", &format!("2024-01-01T00:00:00{f}{z}"));
            }
        }
    }

    /// Calls `f` on every concatenation of `0..=max` items of `pieces`.
    fn for_all_concatenations(pieces: &[&str], max: u32, mut f: impl FnMut(&str)) {
        let n = pieces.len();
        let mut s = String::new();
        for len in 0..=max {
            for mut code in 0..n.pow(len) {
                s.clear();
                for _ in 0..len {
                    s.push_str(pieces[code % n]);
                    code /= n;
                }
                f(&s);
            }
        }
    }

    /// Concatenations of up to four tricky IP fragments, and of up to six
    /// fragments from a smaller set.
    #[test]
    fn exhaustive_ip_pieces() {
        let pieces = [
            "0",
            "ffff",
            "FFFF",
            "fe80",
            "1",
            "12345",
            ":",
            "::",
            ":::",
            "1.2.3.4",
            "01.2.3.4",
            "001.2.3.4",
            "256.1.1.1",
            "255.255.255.255",
            "%eth0",
            "%",
            ".",
        ];
        for_all_concatenations(&pieces, 4, |s| check("IpAddress", s));
        let fewer = ["0", "ffff", "fe80", ":", "::", "1.2.3.4", "%eth0"];
        for_all_concatenations(&fewer, 6, |s| check("IpAddress", s));
    }

    /// Every split of up to nine groups around an optional `::`, with several tails.
    #[test]
    fn exhaustive_ip_group_counts() {
        let groups = ["0", "ffff", "FFFF", "fe80", "abcd", "1"];
        let tails = [
            "",
            "1.2.3.4",
            "01.2.3.4",
            "001.2.3.4",
            "255.255.255.255",
            "256.1.1.1",
            "%eth0",
            "12345",
        ];
        let join = |k: usize, offset: usize| {
            (0..k)
                .map(|i| groups[(i + offset) % groups.len()])
                .collect::<Vec<_>>()
                .join(":")
        };
        for offset in 0..groups.len() {
            for l in 0..=9 {
                check("IpAddress", &join(l, offset));
                for r in 0..=9 {
                    let body = format!("{}::{}", join(l, offset), join(r, offset + 1));
                    for tail in tails {
                        check("IpAddress", &format!("{body}{tail}"));
                        if r > 0 {
                            check("IpAddress", &format!("{body}:{tail}"));
                        }
                    }
                }
                for tail in tails {
                    check("IpAddress", &format!("{}:{tail}", join(l, offset)));
                }
            }
        }
        // The link-local form with zero to five segments of zero to five hex digits.
        for k in 0..=5 {
            for g in ["", "1", "ab", "abcd", "abcde", "g"] {
                for zone in ["%eth0", "%", "%e-0", "", "%0\n"] {
                    let mut s = String::from("fe80:");
                    for _ in 0..k {
                        s.push(':');
                        s.push_str(g);
                    }
                    s.push_str(zone);
                    check("IpAddress", &s);
                }
            }
        }
        // The IPv4-mapped prefix with various zero runs and embedded octets.
        for zeros in ["", ":0", ":00", ":0000", ":00000", ":1"] {
            for pre in ["::", "::ffff", "::FFFF", "1::ffff", "::ffff:"] {
                for o in [
                    "0", "00", "000", "01", "001", "099", "100", "199", "200", "249", "255", "256",
                    "300", "1000",
                ] {
                    check("IpAddress", &format!("{pre}{zeros}:{o}.{o}.1.1"));
                    check("IpAddress", &format!("{pre}{zeros}:1.1.1.{o}"));
                    check("IpAddress", &format!("{o}.1.1.{o}"));
                }
            }
        }
    }
}
