//! Everything the generated model (`model.rs` and `table.rs` in `OUT_DIR`)
//! refers to, in one place: the hand-written types that replace schema
//! definitions, builder support, member order and the table's types.

pub(crate) use super::builder::{convert, missing, refused, IntoField};
pub(crate) use super::check::{check_by_decoding, Check, Checked, Owned};
pub(crate) use super::order::MemberOrder;
pub(crate) use super::scalar::replacements::*;
pub(crate) use super::table::{Attribute, Class};
pub(crate) use crate::{Error, SchemaKeyword, Version, Violation};

/// The refusal of `given`, which is not one of the values of the list
/// `name`, in the words schema validation uses for it.
pub(crate) fn unlisted(name: &str, given: &str, values: &[&str]) -> Violation {
    let reason = super::suggest::unlisted(Some(name), Some(given), values);
    Violation::new(SchemaKeyword::Enum, reason)
}
