//! A seeded generator of IDMEFv2 messages, driven by our schema files, and
//! of mutations that break them in known ways.
//!
//! Used by the `conformance` tool (the differential check against the
//! official schemas) and by the crate's `tests/properties.rs` (proptest).
//! It walks the `properties` and `definitions` of
//! `schema/idmefv2-<version>.json`: every class property can be produced,
//! enum values are handed out in turn so that each one appears, and each
//! `pattern` definition has a hand-written generator of matching texts (with
//! the awkward forms the pattern admits) and a breaker of them.
//!
//! Messages are built as `serde_json::Value`s and written by [`render`],
//! which varies whitespace and string escapes. Two markers let a value say
//! what a `Value` cannot hold: a string starting with [`RAW`] is written
//! as the JSON text that follows it (numbers such as `1e2` or
//! `18446744073709551616`), and an object key starting with [`DUP`] is
//! written without that prefix, so it repeats a member of the same object.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

/// Marks a string to be written as raw JSON text.
pub const RAW: &str = "\u{1}RAW:";
/// Marks an object key to be written as a repeat of another member.
pub const DUP: &str = "\u{1}DUP:";

/// A small seeded PRNG (splitmix64 to seed, xorshift64* to run), so runs
/// are reproducible without a dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True once in `n` times.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What a place in a generated message holds, for mutations to aim at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// An object of a schema class (`Message` for the root).
    Object(String),
    /// A value of an enum definition.
    Enum(String),
    /// A string of a `pattern` definition.
    Pattern(String),
    /// A string with a `format`.
    Format(String),
    /// A draft-04 `integer`.
    Integer,
    /// The `Confidence` number.
    Confidence,
    /// Free attachment content.
    Content,
    /// A plain string.
    Text,
    /// A list.
    Array,
}

/// One generated message: its value (with markers) and its sites.
#[derive(Clone, Debug)]
pub struct Generated {
    pub version: &'static str,
    pub value: Value,
    pub sites: Vec<(String, Site)>,
    /// `Class.Property` and `Definition=value` items the message contains.
    pub covered: BTreeSet<String>,
}

/// Produces messages of one revision from its schema.
pub struct Generator {
    pub version: &'static str,
    schema: Value,
    turns: BTreeMap<String, usize>,
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Generator {
    pub fn new(version: &'static str) -> Self {
        let text = idmefv2::schema(version).unwrap_or_else(|| panic!("no schema for {version}"));
        Generator {
            version,
            schema: serde_json::from_str(text).expect("our schema is JSON"),
            turns: BTreeMap::new(),
        }
    }

    /// One generator per draft of the typed model.
    pub fn all() -> Vec<Generator> {
        idmefv2::Version::ALL
            .iter()
            .map(|v| Generator::new(v.as_str()))
            .collect()
    }

    /// Every `Class.Property` and `Definition=value` item a full run should reach.
    pub fn coverage_goal(&self) -> BTreeSet<String> {
        let mut goal = BTreeSet::new();
        let mut classes = vec![("Message".to_string(), &self.schema)];
        let defs = self.schema["definitions"].as_object().expect("definitions");
        for (name, def) in defs {
            if def.get("properties").is_some() {
                classes.push((name.clone(), def));
            }
            if let Some(values) = def.get("enum").and_then(Value::as_array) {
                for v in values {
                    goal.insert(format!("{name}={}", v.as_str().expect("enum text")));
                }
            }
        }
        for (class, def) in classes {
            for prop in def["properties"].as_object().expect("properties").keys() {
                goal.insert(format!("{class}.{prop}"));
            }
        }
        goal
    }

    /// A valid message (as far as our generators know the patterns).
    pub fn message(&mut self, rng: &mut Rng) -> Generated {
        let mut out = Generated {
            version: self.version,
            value: Value::Null,
            sites: Vec::new(),
            covered: BTreeSet::new(),
        };
        let root = self.schema.clone();
        out.value = self.object("Message", &root, "", rng, &mut out);
        out
    }

    fn object(
        &mut self,
        class: &str,
        def: &Value,
        pointer: &str,
        rng: &mut Rng,
        out: &mut Generated,
    ) -> Value {
        out.sites
            .push((pointer.to_string(), Site::Object(class.into())));
        let required: Vec<&str> = def["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        // Some objects carry every property, most a random half.
        let dense = rng.one_in(4);
        let mut map = Map::new();
        for (name, prop) in def["properties"].as_object().expect("properties") {
            if !required.contains(&name.as_str()) && !dense && rng.one_in(2) {
                continue;
            }
            let child = format!("{pointer}/{}", escape_pointer(name));
            let value = self.value(prop, &child, rng, out);
            out.covered.insert(format!("{class}.{name}"));
            map.insert(name.clone(), value);
        }
        Value::Object(map)
    }

    fn value(&mut self, node: &Value, pointer: &str, rng: &mut Rng, out: &mut Generated) -> Value {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference
                .strip_prefix("#/definitions/")
                .unwrap_or_else(|| panic!("unexpected $ref {reference}"));
            let def = self.schema["definitions"][name].clone();
            return self.definition(name, &def, pointer, rng, out);
        }
        match node.get("type").and_then(Value::as_str) {
            Some("string") => {
                out.sites.push((pointer.to_string(), Site::Text));
                Value::String(text(rng))
            }
            Some("array") => {
                out.sites.push((pointer.to_string(), Site::Array));
                let n = *rng.pick(&[0, 1, 1, 1, 2, 2, 3, 5]);
                let items = &node["items"];
                Value::Array(
                    (0..n)
                        .map(|i| self.value(items, &format!("{pointer}/{i}"), rng, out))
                        .collect(),
                )
            }
            other => panic!("schema node of unexpected type {other:?}: {node}"),
        }
    }

    fn definition(
        &mut self,
        name: &str,
        def: &Value,
        pointer: &str,
        rng: &mut Rng,
        out: &mut Generated,
    ) -> Value {
        if def.get("properties").is_some() {
            return self.object(name, def, pointer, rng, out);
        }
        if let Some(values) = def.get("enum").and_then(Value::as_array) {
            // Values are handed out in turn, from a random start, so a run
            // of a few thousand messages shows every one.
            let turn = self
                .turns
                .entry(name.to_string())
                .or_insert_with(|| rng.below(values.len()));
            let v = values[*turn % values.len()].clone();
            *turn += 1;
            out.covered
                .insert(format!("{name}={}", v.as_str().expect("enum text")));
            out.sites
                .push((pointer.to_string(), Site::Enum(name.into())));
            return v;
        }
        if def.get("pattern").is_some() {
            out.sites
                .push((pointer.to_string(), Site::Pattern(name.into())));
            return Value::String(pattern_text(name, rng));
        }
        if let Some(format) = def.get("format").and_then(Value::as_str) {
            out.sites
                .push((pointer.to_string(), Site::Format(format.into())));
            return Value::String(format_text(format, rng));
        }
        match name {
            "Integer" => {
                out.sites.push((pointer.to_string(), Site::Integer));
                integer(rng)
            }
            "Confidence" => {
                out.sites.push((pointer.to_string(), Site::Confidence));
                confidence(rng)
            }
            "Content" => {
                out.sites.push((pointer.to_string(), Site::Content));
                if rng.one_in(2) {
                    Value::String(text(rng))
                } else {
                    match free_json(rng, 4) {
                        Value::Object(m) => Value::Object(m),
                        other => json!({ "value": other }),
                    }
                }
            }
            _ => panic!("no generator for definition {name}: {def}"),
        }
    }
}

fn raw(text: &str) -> Value {
    Value::String(format!("{RAW}{text}"))
}

/// A plain string: ASCII, accents, other scripts, emoji, control characters,
/// quotes and backslashes.
pub fn text(rng: &mut Rng) -> String {
    const PIECES: [&str; 22] = [
        "a", "Z", "0", " ", "-", "_", ".", "é", "ß", "Ω", "日本", "😀", "\"", "\\", "/", "\n",
        "\t", "\u{0}", "\u{1f}", "\u{7f}", "\u{2028}", "~",
    ];
    match rng.below(6) {
        0 => String::new(),
        1 => "ordinary text".into(),
        _ => (0..rng.range(1, 12)).map(|_| *rng.pick(&PIECES)).collect(),
    }
}

fn hex(rng: &mut Rng, n: usize, case: usize) -> String {
    const LOWER: &[u8] = b"0123456789abcdef";
    const UPPER: &[u8] = b"0123456789ABCDEF";
    (0..n)
        .map(|_| {
            let table = match case {
                0 => LOWER,
                1 => UPPER,
                _ => {
                    if rng.one_in(2) {
                        LOWER
                    } else {
                        UPPER
                    }
                }
            };
            table[rng.below(16)] as char
        })
        .collect()
}

fn alnum(rng: &mut Rng, n: usize) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..n).map(|_| A[rng.below(A.len())] as char).collect()
}

fn digits(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

fn two(rng: &mut Rng, max: usize) -> String {
    format!("{:02}", rng.range(0, max))
}

fn uuid(rng: &mut Rng) -> String {
    let case = rng.below(3);
    [8, 4, 4, 4, 12]
        .iter()
        .map(|&n| hex(rng, n, case))
        .collect::<Vec<_>>()
        .join("-")
}

fn timestamp(rng: &mut Rng) -> String {
    let mut s = format!(
        "{}-{}-{}T{}:{}:{}",
        digits(rng, 4),
        two(rng, 12),
        two(rng, 31),
        two(rng, 23),
        two(rng, 59),
        if rng.one_in(10) {
            "60".to_string()
        } else {
            two(rng, 59)
        }
    );
    if rng.one_in(3) {
        let n = rng.range(1, 12);
        s.push('.');
        s.push_str(&digits(rng, n));
    }
    match rng.below(4) {
        0 => {}
        1 | 2 => s.push('Z'),
        _ => {
            let sign = if rng.one_in(2) { '+' } else { '-' };
            s.push_str(&format!("{sign}{}:{}", two(rng, 23), two(rng, 59)));
        }
    }
    s
}

fn octet(rng: &mut Rng, leading_zeros: bool) -> String {
    let v = rng.range(0, 255);
    match rng.below(5) {
        0 if leading_zeros && v < 100 => format!("{v:03}"),
        1 if v < 10 => format!("0{v}"),
        _ => v.to_string(),
    }
}

fn ipv4(rng: &mut Rng, leading_zeros: bool) -> String {
    (0..4)
        .map(|_| octet(rng, leading_zeros))
        .collect::<Vec<_>>()
        .join(".")
}

fn groups(rng: &mut Rng, n: usize) -> Vec<String> {
    let case = rng.below(3);
    (0..n)
        .map(|_| {
            let len = rng.range(1, 4);
            hex(rng, len, case)
        })
        .collect()
}

fn ip(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 | 1 => ipv4(rng, true),
        2 => groups(rng, 8).join(":"),
        3 | 4 => {
            let total = rng.range(0, 7);
            let left = rng.range(0, total);
            format!(
                "{}::{}",
                groups(rng, left).join(":"),
                groups(rng, total - left).join(":")
            )
        }
        5 => {
            let n = rng.range(0, 4);
            let parts: Vec<String> = (0..n)
                .map(|_| {
                    let len = rng.range(0, 4);
                    format!(":{}", hex(rng, len, 0))
                })
                .collect();
            let zone = rng_len(rng, 1, 6);
            format!("fe80:{}%{}", parts.concat(), alnum(rng, zone))
        }
        6 => {
            let prefix = match rng.below(3) {
                0 => String::new(),
                1 => "ffff:".into(),
                _ => format!("ffff:{}:", "0".repeat(rng.range(1, 4))),
            };
            format!("::{prefix}{}", ipv4(rng, false))
        }
        _ => {
            let n = rng.range(1, 4);
            format!("{}::{}", groups(rng, n).join(":"), ipv4(rng, false))
        }
    }
}

fn rng_len(rng: &mut Rng, lo: usize, hi: usize) -> usize {
    rng.range(lo, hi)
}

fn geo_number(rng: &mut Rng) -> String {
    let sign = *rng.pick(&["", "", "-", "+"]);
    let whole = rng_len(rng, 1, 3);
    let mut s = format!("{sign}{}", digits(rng, whole));
    match rng.below(3) {
        0 => {}
        1 => s.push('.'),
        _ => {
            let n = rng_len(rng, 1, 8);
            s.push('.');
            s.push_str(&digits(rng, n));
        }
    }
    s
}

fn geolocation(rng: &mut Rng) -> String {
    let n = rng.range(2, 3);
    let mut s = geo_number(rng);
    for _ in 1..n {
        s.push_str(if rng.one_in(2) { ", " } else { "," });
        s.push_str(&geo_number(rng));
    }
    s
}

fn upper(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'A' + rng.below(26) as u8))
        .collect()
}

fn token(rng: &mut Rng) -> String {
    const T: &[u8] =
        b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    match rng.below(3) {
        0 => (*rng.pick(&[
            "text",
            "application",
            "image",
            "json",
            "vnd.idmef+json",
            "x-custom",
        ]))
        .to_string(),
        _ => {
            let n = rng_len(rng, 1, 8);
            (0..n).map(|_| T[rng.below(T.len())] as char).collect()
        }
    }
}

fn ows(rng: &mut Rng) -> &'static str {
    rng.pick_str(&["", "", " ", "\t", " \t "])
}

fn media_type(rng: &mut Rng) -> String {
    let mut s = format!("{}/{}", token(rng), token(rng));
    for _ in 0..*rng.pick(&[0, 0, 1, 1, 2]) {
        s.push_str(ows(rng));
        s.push(';');
        s.push_str(ows(rng));
        s.push_str(&token(rng));
        s.push('=');
        if rng.one_in(2) {
            s.push_str(&token(rng));
        } else {
            const Q: [&str; 9] = ["a", " ", "\t", "]", "[", "~", "#", "\\a", "\\ "];
            s.push('"');
            for _ in 0..rng.range(0, 5) {
                s.push_str(rng.pick_str(&Q));
            }
            s.push('"');
        }
    }
    s
}

fn protocol(rng: &mut Rng) -> String {
    let mut s = alnum(rng, 1);
    for _ in 0..rng.range(0, 4) {
        if rng.one_in(3) {
            s.push('-');
        }
        s.push_str(&alnum(rng, 1));
    }
    s
}

fn hash(rng: &mut Rng) -> String {
    let algo = *rng.pick(&["sha256", "SHA-1", "md5", "blake2b-512", "x"]);
    let pairs = rng_len(rng, 1, 32);
    format!("{algo}:{}", hex(rng, pairs * 2, 2))
}

/// A text matching the `pattern` of definition `name`.
pub fn pattern_text(name: &str, rng: &mut Rng) -> String {
    match name {
        "Id" => uuid(rng),
        "Timestamp" => timestamp(rng),
        "IpAddress" => ip(rng),
        "GeoLocation" => geolocation(rng),
        "UnLocode" => {
            let (a, b) = (upper(rng, 2), upper(rng, 3));
            if rng.one_in(2) {
                format!("{a} {b}")
            } else {
                format!("{a}{b}")
            }
        }
        "AttachmentName" => {
            let n = rng_len(rng, 1, 10);
            alnum(rng, n)
        }
        "MediaType" => media_type(rng),
        "Protocol" => protocol(rng),
        "Hash" => hash(rng),
        other => panic!("no text generator for pattern definition {other}"),
    }
}

/// A text of `format` that the validator accepts.
pub fn format_text(format: &str, rng: &mut Rng) -> String {
    match format {
        "email" => (*rng.pick(&[
            "soc@example.org",
            "first.last+tag@mail.example.net",
            "a@b.co",
            "user_name-1@sub.domain.example",
            "x@example.com",
        ]))
        .to_string(),
        "uri" => (*rng.pick(&[
            "https://example.org/path?q=1#frag",
            "http://[2001:db8::1]:8080/a",
            "urn:isbn:0451450523",
            "mailto:soc@example.org",
            "file:///var/log/auth.log",
            "ftp://ftp.example.net/pub/x.txt",
            "x:y",
        ]))
        .to_string(),
        other => panic!("no text generator for format {other}"),
    }
}

fn integer(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0 => json!(0),
        1 => json!(rng.range(1, 65535)),
        2 => json!(-(rng.range(1, 1000) as i64)),
        3 => json!(u64::MAX),
        4 => json!(i64::MIN),
        // Draft-04 integers as the validator reads them past 2^63.
        5 => raw(rng.pick_str(&[
            "18446744073709551616",
            "-9223372036854775809",
            "1e30",
            "1E19",
        ])),
        _ => json!(rng.range(0, 100_000)),
    }
}

fn confidence(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => json!(0),
        1 => json!(1),
        2 => raw(rng.pick_str(&["0.0", "1.0", "-0.0", "1e0", "5E-1", "1e-300", "0.999999"])),
        _ => json!(rng.below(1001) as f64 / 1000.0),
    }
}

/// Free JSON for attachment content, at most `depth` levels deep.
pub fn free_json(rng: &mut Rng, depth: usize) -> Value {
    let pick = if depth == 0 {
        rng.below(5)
    } else {
        rng.below(7)
    };
    match pick {
        0 => Value::Null,
        1 => Value::Bool(rng.one_in(2)),
        2 => json!(rng.next_u64() as i64),
        3 => raw(rng.pick_str(&[
            "1.5",
            "-0",
            "1E+2",
            "0.5e-3",
            "123456789012345678901234567890",
        ])),
        4 => Value::String(text(rng)),
        5 => Value::Array(
            (0..rng.range(0, 3))
                .map(|_| free_json(rng, depth - 1))
                .collect(),
        ),
        _ => {
            const KEYS: [&str; 8] = ["k", "", "a/b", "t~1", "Name", "日本", "\"q\"", " "];
            let mut m = Map::new();
            for _ in 0..rng.range(0, 3) {
                m.insert(rng.pick(&KEYS).to_string(), free_json(rng, depth - 1));
            }
            Value::Object(m)
        }
    }
}

/// A mutation applied to a generated message.
#[derive(Clone, Debug)]
pub struct Mutation {
    /// The kind, such as `pattern_broken:IpAddress` (kind before the colon).
    pub label: String,
    /// Whether the result can no longer be checked as a `Value` (duplicate
    /// members).
    pub malformed: bool,
}

/// The mutation kinds, in the order [`mutate`] cycles through them.
pub const KINDS: [&str; 15] = [
    "enum_misspelt",
    "wrong_type",
    "required_removed",
    "unknown_field",
    "null",
    "pattern_broken",
    "pattern_edit",
    "confidence_range",
    "non_integer",
    "format_broken",
    "version_wrong",
    "version_missing",
    "message_not_object",
    "duplicate_member",
    "escaped_duplicate_member",
];

fn sites_where(g: &Generated, f: impl Fn(&Site) -> bool) -> Vec<&(String, Site)> {
    g.sites.iter().filter(|(_, s)| f(s)).collect()
}

/// Applies one mutation of kind `KINDS[kind % KINDS.len()]` (or the next
/// one that has a place to act on) and says what it did.
pub fn mutate(g: &mut Generated, schema_of: &Generator, kind: usize, rng: &mut Rng) -> Mutation {
    for k in 0..KINDS.len() {
        let name = KINDS[(kind + k) % KINDS.len()];
        if let Some(m) = try_mutate(g, schema_of, name, rng) {
            return m;
        }
    }
    unreachable!("message_not_object always applies")
}

/// Puts `v` at `pointer`; `None` when an earlier mutation removed the place.
fn set(g: &mut Generated, pointer: &str, v: Value) -> Option<()> {
    if pointer.is_empty() {
        g.value = v;
    } else {
        *g.value.pointer_mut(pointer)? = v;
    }
    Some(())
}

fn label(kind: &str, detail: &str) -> Option<Mutation> {
    Some(Mutation {
        label: format!("{kind}:{detail}"),
        malformed: false,
    })
}

fn misspell(rng: &mut Rng, s: &str) -> String {
    match rng.below(6) {
        0 => s.to_lowercase(),
        1 => s.to_uppercase(),
        2 => format!("{s}s"),
        3 => s.chars().skip(1).collect(),
        4 => format!(" {s}"),
        _ => {
            let mut c: Vec<char> = s.chars().collect();
            if c.len() > 2 {
                c.swap(0, 1);
            }
            let out: String = c.into_iter().collect();
            if out == s {
                format!("{s}x")
            } else {
                out
            }
        }
    }
}

fn other_type(rng: &mut Rng, site: &Site) -> Value {
    let choices: Vec<Value> = match site {
        Site::Object(_) => vec![json!([]), json!("object"), json!(1), json!(true)],
        Site::Array => vec![json!({}), json!("a"), json!(0), json!(false)],
        Site::Integer | Site::Confidence => {
            vec![json!("80"), json!(true), json!([1]), json!({"n": 1})]
        }
        Site::Content => vec![json!(1), json!([]), json!(false), json!(["x"])],
        _ => vec![
            json!(1),
            json!(0.5),
            json!(false),
            json!(["x"]),
            json!({"x": "y"}),
        ],
    };
    rng.pick(&choices).clone()
}

/// A text that the `pattern` of definition `name` refuses (as far as the
/// list below knows; the differential check judges each one anyway).
pub fn broken_pattern_text(name: &str, rng: &mut Rng) -> String {
    let list: &[&str] = match name {
        "Id" => &[
            "6ba7b810-9dad-11d1-80b4-00c04fd430c",
            "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
            "6ba7b8109dad11d180b400c04fd430c8",
            "6ba7b810-9dad-11d1-80b4-00c04fd430cg",
            "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c8\n",
            "6ba7b810-9dad-11d1-80b4_00c04fd430c8",
            "",
        ],
        "Timestamp" => &[
            "2025-01-01",
            "2025-01-01T24:00:00Z",
            "2025-01-01 10:00:00Z",
            "2025-01-01t10:00:00z",
            "2025-13-01T10:00:00Z",
            "2025-01-32T10:00:00Z",
            "2025-01-01T10:00:61Z",
            "2025-01-01T10:00:00+0100",
            "2025-01-01T10:00:00+24:00",
            "2025-01-01T10:00:00.Z",
            "2025-01-01T10:00:00Z\n",
            "25-01-01T10:00:00Z",
            "2025-01-01T10:00Z",
            "+2025-01-01T10:00:00Z",
        ],
        "IpAddress" => &[
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.0004",
            "1:::2",
            "1::2::3",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "12345::1",
            "g::1",
            "::ffff:1.2.3.256",
            "::001.2.3.4",
            "::ffff:00000:1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "fe80::1%",
            "fe80::1%eth-0",
            "FE80::1%eth0",
            "fe80::12345%eth0",
            "1.2.3.4 ",
            "",
        ],
        "GeoLocation" => &[
            "48.85",
            "N 48.85, E 2.35",
            "1,2,3,4",
            "1,,2",
            "1 ,2",
            "1,  2",
            ".5,1",
            "1,2,",
            "--1,2",
        ],
        "UnLocode" => &["fr par", "FR-PAR", "FRPA", "FR  PAR", "FRPARI", "F1PAR", ""],
        "AttachmentName" => &["", "a-b", "a b", "é", "a.b", "a_b"],
        "MediaType" => &[
            "text",
            "text/",
            "/plain",
            "text/plain;",
            "text/plain; charset",
            "text/plain; a=\"unterminated",
            "text/plain; a=\"x\\\"\"",
            "text/plain; a=b ",
            "text/plain; a=b;",
            "text plain",
            "text/plain; a=\"é\"",
            "text/plain, a=b",
        ],
        "Protocol" => &["-tcp", "tcp-", "t--p", "", "tcp/udp", "t_p", "tcp "],
        "Hash" => &[
            "sha256:abc",
            ":ab",
            "sha256:",
            "sha 256:ab",
            "sha256:zz",
            "sha256",
            "sha256:ab:cd",
            "sha_256:ab",
        ],
        other => panic!("no breaker for pattern definition {other}"),
    };
    rng.pick(list).to_string()
}

fn pick_site(g: &Generated, rng: &mut Rng, f: impl Fn(&Site) -> bool) -> Option<(String, Site)> {
    let sites = sites_where(g, f);
    if sites.is_empty() {
        None
    } else {
        Some((*rng.pick(&sites)).clone())
    }
}

fn site_name(site: &Site) -> String {
    match site {
        Site::Object(c) => c.clone(),
        Site::Enum(d) | Site::Pattern(d) => d.clone(),
        Site::Format(f) => f.clone(),
        other => format!("{other:?}"),
    }
}

fn try_mutate(g: &mut Generated, gen: &Generator, kind: &str, rng: &mut Rng) -> Option<Mutation> {
    match kind {
        "enum_misspelt" => {
            let (p, site) = pick_site(g, rng, |s| matches!(s, Site::Enum(_)))?;
            let old = g.value.pointer(&p)?.as_str()?.to_string();
            set(g, &p, Value::String(misspell(rng, &old)))?;
            label(kind, &site_name(&site))
        }
        "wrong_type" => {
            let (p, site) = pick_site(g, rng, |_| true)?;
            set(g, &p, other_type(rng, &site))?;
            label(kind, &site_name(&site))
        }
        "required_removed" => {
            let (p, site) = pick_site(g, rng, |s| matches!(s, Site::Object(_)))?;
            let Site::Object(class) = &site else {
                return None;
            };
            let def = if class == "Message" {
                &gen.schema
            } else {
                &gen.schema["definitions"][class]
            };
            let required: Vec<String> = def["required"]
                .as_array()?
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            let member = rng.pick(&required).clone();
            let object = if p.is_empty() {
                &mut g.value
            } else {
                g.value.pointer_mut(&p)?
            };
            object.as_object_mut()?.remove(&member);
            label(kind, &format!("{class}.{member}"))
        }
        "unknown_field" => {
            let (p, site) = pick_site(g, rng, |s| matches!(s, Site::Object(_)))?;
            let name = *rng.pick(&[
                "Foo",
                "name",
                "NAME",
                "ext-Foo",
                "Name ",
                "",
                "Id",
                "Service",
                "Content",
                "Version",
                "CaptureZone",
            ]);
            let object = if p.is_empty() {
                &mut g.value
            } else {
                g.value.pointer_mut(&p)?
            };
            let object = object.as_object_mut()?;
            if object.contains_key(name) {
                return None;
            }
            object.insert(name.into(), json!("x"));
            label(kind, &site_name(&site))
        }
        "null" => {
            let (p, site) = pick_site(g, rng, |_| true)?;
            set(g, &p, Value::Null)?;
            label(kind, &site_name(&site))
        }
        "pattern_broken" => {
            let (p, site) = pick_site(g, rng, |s| matches!(s, Site::Pattern(_)))?;
            let Site::Pattern(def) = &site else {
                return None;
            };
            set(g, &p, Value::String(broken_pattern_text(def, rng)))?;
            label(kind, def)
        }
        "pattern_edit" => {
            // One to three random edits of a matching text, with characters
            // that matter to the patterns: most results no longer match.
            const ALPHABET: [char; 32] = [
                '0', '1', '2', '5', '9', 'a', 'f', 'A', 'F', 'g', 'Z', 'T', 'z', ':', '.', '-',
                '+', '%', '/', ';', '=', '"', '\\', '\t', ' ', ',', '\n', 'é', '[', ']', '6', '_',
            ];
            let (p, site) = pick_site(g, rng, |s| matches!(s, Site::Pattern(_)))?;
            let Site::Pattern(def) = &site else {
                return None;
            };
            let mut chars: Vec<char> = g.value.pointer(&p)?.as_str()?.chars().collect();
            for _ in 0..rng.range(1, 3) {
                let at = rng.below(chars.len() + 1);
                let c = *rng.pick(&ALPHABET);
                match rng.below(3) {
                    0 => chars.insert(at, c),
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ if at < chars.len() => chars[at] = c,
                    _ => chars.push(c),
                }
            }
            set(g, &p, Value::String(chars.into_iter().collect()))?;
            label(kind, def)
        }
        "confidence_range" => {
            let (p, _) = pick_site(g, rng, |s| matches!(s, Site::Confidence))?;
            let v = *rng.pick(&[
                "-0.1",
                "1.0000001",
                "2",
                "1e30",
                "-1e-300",
                "1.5",
                "-1",
                "18446744073709551616",
                "1E1",
            ]);
            set(g, &p, raw(v))?;
            label(kind, v)
        }
        "non_integer" => {
            let (p, _) = pick_site(g, rng, |s| matches!(s, Site::Integer))?;
            let v = *rng.pick(&[
                "80.5",
                "80.0",
                "1e2",
                "1E2",
                "1e16",
                "-1.0",
                "0.0",
                "18446744073709551616",
                "18446744073709551616.0",
                "1e30",
                "1.5e30",
                "-1e30",
                "9223372036854775808",
                "-9223372036854775809",
                "1e-2",
            ]);
            set(g, &p, raw(v))?;
            label(kind, v)
        }
        "format_broken" => {
            let (p, site) = pick_site(g, rng, |s| matches!(s, Site::Format(_)))?;
            let Site::Format(format) = &site else {
                return None;
            };
            let v = match format.as_str() {
                "email" => *rng.pick(&[
                    "no-at.example.org",
                    "a@",
                    "@b.org",
                    "a b@c.org",
                    "a@@b.org",
                    "",
                ]),
                _ => *rng.pick(&[
                    "relative/path",
                    "/absolute/path",
                    "http://exa mple.org/",
                    "://x",
                    "",
                    "//network/path",
                    "http://[::1/",
                ]),
            };
            set(g, &p, Value::String(v.into()))?;
            label(kind, format)
        }
        "version_wrong" => {
            let v = rng
                .pick(&[
                    json!("2.D.V07"),
                    json!("2.d.v08"),
                    json!("2.D.V08 "),
                    json!(" 2.D.V08"),
                    json!("2.D.V09"),
                    json!("2.D.V10-Dev"),
                    json!(8),
                    json!(["2.D.V08"]),
                    json!(""),
                ])
                .clone();
            g.value.as_object_mut()?.insert("Version".into(), v);
            label(kind, gen.version)
        }
        "version_missing" => {
            g.value.as_object_mut()?.remove("Version");
            label(kind, gen.version)
        }
        "message_not_object" => {
            let v = rng
                .pick(&[
                    json!([]),
                    json!("message"),
                    json!(1),
                    json!(null),
                    json!(true),
                ])
                .clone();
            let v = if rng.one_in(2) {
                Value::Array(vec![g.value.clone()])
            } else {
                v
            };
            g.value = v;
            label(kind, "root")
        }
        "duplicate_member" | "escaped_duplicate_member" => {
            // Repeat a member of a class object, or of a content object.
            let (p, site) = pick_site(g, rng, |s| matches!(s, Site::Object(_) | Site::Content))?;
            let object = if p.is_empty() {
                &mut g.value
            } else {
                g.value.pointer_mut(&p)?
            };
            let object = object.as_object_mut()?;
            let keys: Vec<String> = object
                .keys()
                .filter(|k| !k.starts_with('\u{1}'))
                .cloned()
                .collect();
            if keys.is_empty() {
                return None;
            }
            let key = rng.pick(&keys).clone();
            let copy = object[&key].clone();
            let spelled = if kind == "escaped_duplicate_member" {
                // Spell one character of the key as a \u escape.
                let mut out = String::new();
                let at = rng.below(key.chars().count().max(1));
                for (i, c) in key.chars().enumerate() {
                    if i == at && (c as u32) < 0x10000 {
                        out.push_str(&format!("\u{1}ESC{:04x}", c as u32));
                    } else {
                        out.push(c);
                    }
                }
                if key.is_empty() {
                    return None;
                }
                out
            } else {
                key.clone()
            };
            object.insert(format!("{DUP}{spelled}"), copy);
            Some(Mutation {
                label: format!("{kind}:{}", site_name(&site)),
                malformed: true,
            })
        }
        _ => None,
    }
}

/// Writes `value` as JSON text, honouring the [`RAW`] and [`DUP`] markers,
/// with whitespace and string escapes chosen by `rng`.
pub fn render(value: &Value, rng: &mut Rng) -> Vec<u8> {
    let mut out = String::new();
    let style = Style {
        spaces: rng.one_in(3),
        escapes: rng.one_in(4),
    };
    write_value(value, rng, &style, &mut out);
    out.into_bytes()
}

struct Style {
    spaces: bool,
    escapes: bool,
}

fn ws(rng: &mut Rng, style: &Style, out: &mut String) {
    if style.spaces {
        out.push_str(rng.pick_str(&["", " ", "\n", "\t", "\r\n  "]));
    }
}

fn write_value(value: &Value, rng: &mut Rng, style: &Style, out: &mut String) {
    match value {
        Value::String(s) => {
            if let Some(text) = s.strip_prefix(RAW) {
                out.push_str(text);
            } else {
                write_string(s, rng, style, out);
            }
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, style, out);
                write_value(item, rng, style, out);
                ws(rng, style, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, style, out);
                write_string(k.strip_prefix(DUP).unwrap_or(k), rng, style, out);
                ws(rng, style, out);
                out.push(':');
                ws(rng, style, out);
                write_value(v, rng, style, out);
                ws(rng, style, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, rng: &mut Rng, style: &Style, out: &mut String) {
    out.push('"');
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("\u{1}ESC") {
            // A forced \u escape from a duplicate-member mutation.
            out.push_str("\\u");
            out.push_str(&after[..4]);
            rest = &after[4..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        let escape = style.escapes && rng.one_in(5);
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if !escape => out.push_str("\\n"),
            '\t' if !escape => out.push_str("\\t"),
            '/' if escape => out.push_str("\\/"),
            c if (c as u32) < 0x20 || escape => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
