//! Everything the generated model (`model.rs` and `table.rs` in `OUT_DIR`)
//! refers to, in one place: the hand-written types that replace schema
//! definitions, builder support, member order and the table's types.

pub(crate) use super::builder::{convert, missing, refused, IntoField};
pub(crate) use super::order::MemberOrder;
pub(crate) use super::scalar::replacements::*;
pub(crate) use super::table::{Attribute, Class};
pub(crate) use crate::{Error, SchemaKeyword, Version, Violation};

/// The refusal of a text that is not one of the values of the list `name`.
pub(crate) fn unlisted(name: &str) -> Violation {
    Violation::new(SchemaKeyword::Enum, format!("not a {name} value"))
}
