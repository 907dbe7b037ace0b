//! Running a compiled criterion on a message's JSON value: no allocation
//! but for the case-insensitive tests, and never a panic whatever the value
//! holds (an untyped message of any draft, or no message at all).

use std::{cmp::Ordering, net::IpAddr};

use serde_json::{Map, Value};

use super::compile::{Cidr, Locator, Node, Num, Operand, Order, Select, Test};
use crate::model::{meaning, meaning::Meaning, pattern};

impl Node {
    pub(super) fn eval(&self, root: &Value) -> bool {
        match self {
            Node::Or(terms) => terms.iter().any(|t| t.eval(root)),
            Node::And(terms) => terms.iter().all(|t| t.eval(root)),
            Node::Not(inner) => !inner.eval(root),
            Node::Leaf { path, test } => path.any(root, &mut |v| test.holds(v)),
        }
    }
}

impl Locator {
    /// Whether `f` holds for some value at this path.
    fn any(&self, root: &Value, f: &mut dyn FnMut(&Value) -> bool) -> bool {
        let Some(root) = root.as_object() else {
            return false;
        };
        match self.class {
            None => attribute(root, self.attribute, f),
            Some((name, select)) => {
                let Some(value) = root.get(name) else {
                    return false;
                };
                pick(value, select, &mut |entry| {
                    entry
                        .as_object()
                        .is_some_and(|object| attribute(object, self.attribute, f))
                })
            }
        }
    }
}

fn attribute(
    object: &Map<String, Value>,
    (name, select): (&'static str, Option<Select>),
    f: &mut dyn FnMut(&Value) -> bool,
) -> bool {
    match object.get(name) {
        None => false,
        Some(value) => pick(value, select, f),
    }
}

/// The entries of `value` that `select` takes. A value that should be a
/// list and is not (a single text where an older draft has one) counts as
/// a list of that one value.
fn pick(value: &Value, select: Option<Select>, f: &mut dyn FnMut(&Value) -> bool) -> bool {
    let one = std::slice::from_ref(value);
    let list = match (select, value) {
        (None, _) => return !value.is_null() && f(value),
        (Some(_), Value::Array(list)) => list.as_slice(),
        (Some(_), _) => one,
    };
    match select {
        Some(Select::At(index)) => {
            let i = if index >= 0 {
                usize::try_from(index).ok()
            } else {
                usize::try_from(index.unsigned_abs())
                    .ok()
                    .and_then(|back| list.len().checked_sub(back))
            };
            i.and_then(|i| list.get(i))
                .is_some_and(|v| !v.is_null() && f(v))
        }
        _ => list.iter().any(|v| !v.is_null() && f(v)),
    }
}

impl Test {
    fn holds(&self, value: &Value) -> bool {
        match self {
            Test::Exists => true,
            Test::Equal(operands) => operands
                .iter()
                .any(|o| compare(o, value) == Some(Ordering::Equal)),
            Test::EqualNoCase(texts) => value.as_str().is_some_and(|s| {
                let s = s.to_lowercase();
                texts.contains(&s)
            }),
            Test::Regex(regexes) => value
                .as_str()
                .is_some_and(|s| regexes.iter().any(|r| r.is_match(s))),
            Test::Substring(texts) => value
                .as_str()
                .is_some_and(|s| texts.iter().any(|t| s.contains(t.as_str()))),
            Test::SubstringNoCase(texts) => value.as_str().is_some_and(|s| {
                let s = s.to_lowercase();
                texts.iter().any(|t| s.contains(t.as_str()))
            }),
            Test::Order(order, operands) => operands.iter().any(|o| {
                compare(o, value).is_some_and(|c| match order {
                    Order::Lt => c == Ordering::Less,
                    Order::Le => c != Ordering::Greater,
                    Order::Gt => c == Ordering::Greater,
                    Order::Ge => c != Ordering::Less,
                })
            }),
            Test::In(blocks) => value
                .as_str()
                .and_then(address)
                .is_some_and(|a| blocks.iter().any(|b| b.holds(a))),
        }
    }
}

/// How `value` compares with `operand`; `None` when the value is not of
/// the operand's kind (an untyped message may hold anything).
fn compare(operand: &Operand, value: &Value) -> Option<Ordering> {
    match operand {
        Operand::Number(n) => {
            let v = Num::of(value.as_number()?)?;
            match (v, *n) {
                (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
                (a, b) => float(a).partial_cmp(&float(b)),
            }
        }
        Operand::Timestamp(t) => {
            let v = value.as_str().filter(|s| pattern::is_timestamp(s))?;
            Some(meaning::Instant::key(v).cmp(&meaning::Instant::key(t)))
        }
        Operand::Id(id) => {
            let v = value.as_str().filter(|s| pattern::is_id(s))?;
            Some(meaning::Uuid::key(v).cmp(id))
        }
        Operand::Ip(address, text) => {
            let v = value.as_str()?;
            let same = match (address, v.parse::<IpAddr>()) {
                (Some(a), Ok(b)) => a.to_canonical() == b.to_canonical(),
                _ => v.eq_ignore_ascii_case(text),
            };
            same.then_some(Ordering::Equal)
        }
        Operand::Text(t) => (value.as_str()? == t).then_some(Ordering::Equal),
    }
}

fn float(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    }
}

/// The address a text names, IPv4-mapped IPv6 addresses as IPv4 and an
/// IPv6 zone (`%eth0`) set aside.
fn address(text: &str) -> Option<IpAddr> {
    let text = text.split_once('%').map_or(text, |(a, _)| a);
    text.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

impl Cidr {
    fn holds(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix(
                u128::from(n.to_bits()),
                u128::from(a.to_bits()),
                32,
                self.bits,
            ),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix(n.to_bits(), a.to_bits(), 128, self.bits),
            _ => false,
        }
    }
}

/// Whether the first `bits` of two numbers `width` bits wide agree.
fn prefix(a: u128, b: u128, width: u8, bits: u8) -> bool {
    let shift = u32::from(width.saturating_sub(bits));
    a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
}
