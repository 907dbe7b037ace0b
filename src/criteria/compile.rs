//! From the syntax tree to what is evaluated: paths resolved against the
//! model, values read as the attribute's type, regular expressions built,
//! negated operators turned into `!` of their positive form. Everything a
//! criterion can get wrong is found here, with its byte position.

use std::net::IpAddr;

use regex::{Regex, RegexBuilder};
use serde_json::Number;

use super::parse::{Ast, Op, Spanned};
use super::CriteriaError;
use crate::{
    model::table::{self, Attribute},
    types::{Id, IpAddress, Timestamp},
    Path,
};

/// Regular expressions compiled larger than this are refused (the
/// `regex` crate's own limit is ten times higher).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The compiled tree.
#[derive(Debug)]
pub(super) enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Leaf { path: Locator, test: Test },
}

/// Which entries of a list a path segment takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Select {
    At(i64),
    Any,
}

/// Where the values of a path are found in a message.
#[derive(Debug)]
pub(super) struct Locator {
    /// The class member and its selection (`None` for a class that is not
    /// a list).
    pub(super) class: Option<(&'static str, Option<Select>)>,
    /// The attribute member and its selection.
    pub(super) attribute: (&'static str, Option<Select>),
}

impl Locator {
    /// Adds what this path reads to `members`.
    fn record(&self, members: &mut Vec<Member>) {
        let (name, attribute) = match self.class {
            Some((class, _)) => (class, Some(self.attribute.0)),
            None => (self.attribute.0, None),
        };
        match members.iter_mut().find(|(n, _)| *n == name) {
            None => members.push((name, attribute.map(|a| vec![a]))),
            Some((_, Some(attributes))) => {
                if let Some(a) = attribute.filter(|a| !attributes.contains(a)) {
                    attributes.push(a);
                }
            }
            Some((_, None)) => {}
        }
    }
}

/// How the values of an attribute compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Number,
    Timestamp,
    Id,
    Ip,
    /// Texts, value lists (by their JSON text) and free content.
    Text,
}

impl Kind {
    /// The kind of an attribute, from its schema type (the table of
    /// `model/hand_written.rs` for the checked ones).
    fn of(attribute: &Attribute) -> Kind {
        match attribute.ty {
            "Integer" | "Confidence" | "integer" | "number" => Kind::Number,
            "Timestamp" => Kind::Timestamp,
            "Id" => Kind::Id,
            "IpAddress" => Kind::Ip,
            _ => Kind::Text,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Number => "a number",
            Kind::Timestamp => "a timestamp",
            Kind::Id => "a UUID",
            Kind::Ip => "an IP address",
            Kind::Text => "a text",
        }
    }
}

/// A number of a criterion, kept exact when it is an integer.
#[derive(Clone, Copy, Debug)]
pub(super) enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    pub(super) fn of(n: &Number) -> Option<Num> {
        if let Some(i) = n.as_i64() {
            Some(Num::Int(i128::from(i)))
        } else if let Some(u) = n.as_u64() {
            Some(Num::Int(i128::from(u)))
        } else {
            n.as_f64().map(Num::Float)
        }
    }
}

/// A value to compare with, read as the attribute's kind.
#[derive(Debug)]
pub(super) enum Operand {
    Number(Num),
    /// A timestamp's text, compared by the instant it names.
    Timestamp(String),
    /// A UUID's 128 bits.
    Id(u128),
    /// An address, and its text for the forms the standard library does
    /// not read (an IPv6 zone).
    Ip(Option<IpAddr>, String),
    Text(String),
}

/// An address block.
#[derive(Debug)]
pub(super) struct Cidr {
    pub(super) network: IpAddr,
    pub(super) bits: u8,
}

/// The ordering operators.
#[derive(Clone, Copy, Debug)]
pub(super) enum Order {
    Lt,
    Le,
    Gt,
    Ge,
}

/// What a leaf checks of each value at its path; the leaf holds when any
/// value passes.
#[derive(Debug)]
pub(super) enum Test {
    Exists,
    Equal(Vec<Operand>),
    /// Lower-case texts.
    EqualNoCase(Vec<String>),
    Regex(Vec<Regex>),
    Substring(Vec<String>),
    /// Lower-case texts.
    SubstringNoCase(Vec<String>),
    Order(Order, Vec<Operand>),
    In(Vec<Cidr>),
}

/// A top-level member a criterion reads: its name, and for a class the
/// attributes read in its entries (`None`: the whole value).
pub(super) type Member = (&'static str, Option<Vec<&'static str>>);

/// Compiles the whole tree; also gives the members its paths read.
pub(super) fn compile(ast: Ast, members: &mut Vec<Member>) -> Result<Node, CriteriaError> {
    Ok(match ast {
        Ast::Or(terms) => Node::Or(
            terms
                .into_iter()
                .map(|t| compile(t, members))
                .collect::<Result<_, _>>()?,
        ),
        Ast::And(terms) => Node::And(
            terms
                .into_iter()
                .map(|t| compile(t, members))
                .collect::<Result<_, _>>()?,
        ),
        Ast::Not(inner) => Node::Not(Box::new(compile(*inner, members)?)),
        Ast::Test { path, op, values } => {
            let (path, kind) = locate(&path)?;
            path.record(members);
            let Some(op) = op else {
                return Ok(Node::Leaf {
                    path,
                    test: Test::Exists,
                });
            };
            let (test, negated) = test(op, kind, values)?;
            let leaf = Node::Leaf { path, test };
            if negated {
                Node::Not(Box::new(leaf))
            } else {
                leaf
            }
        }
    })
}

/// Resolves a path against the model: the crate's [`Path`], where `(*)`
/// also stands for any entry.
fn locate(path: &Spanned<String>) -> Result<(Locator, Kind), CriteriaError> {
    let text = &path.item;
    let (class_text, attribute_text) = match text.split_once('.') {
        Some((c, a)) => (Some(c), a),
        None => (None, text.as_str()),
    };
    let any = |segment: Option<&str>| segment.is_some_and(|s| s.ends_with("(*)"));
    let class_any = any(class_text);
    let attribute_any = any(Some(attribute_text));
    let checked: Path = text
        .replace("(*)", "(0)")
        .parse()
        .map_err(|e: crate::Violation| CriteriaError::new(path.at, e.reason().to_string()))?;
    let select = |index: Option<i64>, any: bool| {
        index.map(|i| if any { Select::Any } else { Select::At(i) })
    };
    let owner = match checked.class() {
        None => table::root(),
        Some(name) => table::aggregates()
            .find(|(a, _)| a.name == name)
            .map(|(_, class)| class)
            .ok_or_else(|| CriteriaError::new(path.at, "unknown class"))?,
    };
    let attribute = owner
        .attribute(checked.attribute())
        .ok_or_else(|| CriteriaError::new(path.at, "unknown attribute"))?;
    let locator = Locator {
        class: checked
            .class()
            .map(|name| (name, select(checked.class_index(), class_any))),
        attribute: (checked.attribute(), select(checked.index(), attribute_any)),
    };
    Ok((locator, Kind::of(attribute)))
}

/// The test of one operator on values of `kind`, and whether the
/// operator was a negated one (the leaf then goes under a `!`).
fn test(
    op: Spanned<Op>,
    kind: Kind,
    values: Vec<Spanned<String>>,
) -> Result<(Test, bool), CriteriaError> {
    let refuse = |allowed: &str| {
        CriteriaError::new(
            op.at,
            format!("this attribute holds {}, which {allowed}", kind.describe()),
        )
    };
    let text_only = || {
        if kind == Kind::Number {
            Err(refuse("is compared with ==, !=, <, <=, > or >="))
        } else {
            Ok(())
        }
    };
    let lower = |values: &[Spanned<String>]| values.iter().map(|v| v.item.to_lowercase()).collect();
    Ok(match op.item {
        Op::Eq | Op::Ne => (
            Test::Equal(
                values
                    .iter()
                    .map(|v| operand(kind, v))
                    .collect::<Result<_, _>>()?,
            ),
            op.item == Op::Ne,
        ),
        Op::EqNoCase | Op::NeNoCase => {
            text_only()?;
            (Test::EqualNoCase(lower(&values)), op.item == Op::NeNoCase)
        }
        Op::Regex | Op::RegexNoCase | Op::NotRegex | Op::NotRegexNoCase => {
            text_only()?;
            let nocase = matches!(op.item, Op::RegexNoCase | Op::NotRegexNoCase);
            let regexes = values
                .iter()
                .map(|v| {
                    RegexBuilder::new(&v.item)
                        .case_insensitive(nocase)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|e| CriteriaError::new(v.at, regex_reason(&e)))
                })
                .collect::<Result<_, _>>()?;
            (
                Test::Regex(regexes),
                matches!(op.item, Op::NotRegex | Op::NotRegexNoCase),
            )
        }
        Op::Substr | Op::NotSubstr => {
            text_only()?;
            (
                Test::Substring(values.into_iter().map(|v| v.item).collect()),
                op.item == Op::NotSubstr,
            )
        }
        Op::SubstrNoCase => {
            text_only()?;
            (Test::SubstringNoCase(lower(&values)), false)
        }
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            if !matches!(kind, Kind::Number | Kind::Timestamp) {
                return Err(refuse(
                    "has no order: <, <=, > and >= compare numbers and timestamps",
                ));
            }
            let order = match op.item {
                Op::Lt => Order::Lt,
                Op::Le => Order::Le,
                Op::Gt => Order::Gt,
                _ => Order::Ge,
            };
            (
                Test::Order(
                    order,
                    values
                        .iter()
                        .map(|v| operand(kind, v))
                        .collect::<Result<_, _>>()?,
                ),
                false,
            )
        }
        Op::In => {
            if kind != Kind::Ip {
                return Err(refuse("is not an address: `in` takes IP addresses"));
            }
            (
                Test::In(values.iter().map(cidr).collect::<Result<_, _>>()?),
                false,
            )
        }
    })
}

/// What the `regex` crate says is wrong, in one line (its own message
/// repeats the pattern).
fn regex_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(_) => {
            format!("this regular expression compiles to more than {REGEX_SIZE_LIMIT} bytes")
        }
        regex::Error::Syntax(text) => {
            let reason = text
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or("invalid syntax");
            format!("invalid regular expression: {reason}")
        }
        _ => "invalid regular expression".to_string(),
    }
}

/// Reads a value as the attribute's kind.
fn operand(kind: Kind, value: &Spanned<String>) -> Result<Operand, CriteriaError> {
    let text = &value.item;
    let refuse = || {
        CriteriaError::new(
            value.at,
            format!(
                "this attribute holds {}; this value is not one",
                kind.describe()
            ),
        )
    };
    Ok(match kind {
        Kind::Number => {
            let n: Number = serde_json::from_str(text).map_err(|_| refuse())?;
            Operand::Number(Num::of(&n).ok_or_else(refuse)?)
        }
        Kind::Timestamp => {
            Timestamp::new(text.as_str()).map_err(|_| refuse())?;
            Operand::Timestamp(text.clone())
        }
        Kind::Id => Operand::Id(
            Id::new(text.as_str())
                .map_err(|_| refuse())?
                .to_uuid()
                .as_u128(),
        ),
        Kind::Ip => {
            IpAddress::new(text.as_str()).map_err(|_| refuse())?;
            Operand::Ip(text.parse().ok(), text.clone())
        }
        Kind::Text => Operand::Text(text.clone()),
    })
}

/// Reads `ADDRESS/BITS`, or an address alone (a block of one).
fn cidr(value: &Spanned<String>) -> Result<Cidr, CriteriaError> {
    let refuse = |reason: &str| CriteriaError::new(value.at, reason);
    let (address, bits) = match value.item.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (value.item.as_str(), None),
    };
    let network: IpAddr = address
        .parse()
        .map_err(|_| refuse("expected an address block such as 10.0.0.0/8 or 2001:db8::/32"))?;
    let width = if network.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => width,
        Some(b) => b
            .parse::<u8>()
            .ok()
            .filter(|&n| n <= width && b.bytes().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| {
                refuse(if network.is_ipv4() {
                    "the prefix length of an IPv4 block is 0 to 32"
                } else {
                    "the prefix length of an IPv6 block is 0 to 128"
                })
            })?,
    };
    Ok(Cidr { network, bits })
}
