//! Support for the generated builders.

use crate::{Error, Result, SchemaKeyword, Violation};

/// A value that a builder setter accepts for a field of type `T`.
///
/// Every field type accepts itself. Checked text types also accept `&str`
/// and `String`, [`Id`](crate::Id) accepts `uuid::Uuid`,
/// [`Timestamp`](crate::Timestamp) accepts `time::OffsetDateTime`,
/// [`Integer`](crate::types::Integer) accepts Rust integers,
/// [`Confidence`](crate::types::Confidence) accepts `f64`, and a class
/// accepts its builder. A value that fails its check is reported by the
/// enclosing builder's `build()` with the field's JSON pointer.
pub trait IntoField<T> {
    /// Converts or checks the value.
    fn into_field(self) -> Result<T>;
}

impl<T> IntoField<T> for T {
    fn into_field(self) -> Result<T> {
        Ok(self)
    }
}

impl IntoField<String> for &str {
    fn into_field(self) -> Result<String> {
        Ok(self.to_owned())
    }
}

/// Converts `value`, recording any failure under `pointer`.
pub(crate) fn convert<T>(
    value: impl IntoField<T>,
    pointer: &str,
    errors: &mut Vec<Violation>,
) -> Option<T> {
    match value.into_field() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.extend(e.at(pointer));
            None
        }
    }
}

/// The error a builder returns for the conversion failures it collected.
pub(crate) fn refused(errors: Vec<Violation>) -> Error {
    Error::Invalid(errors.into())
}

/// The error for a required field left unset (only reachable when its
/// conversion failed, which is reported already).
pub(crate) fn missing(member: &str) -> Error {
    Error::invalid(Violation::new(SchemaKeyword::Required, format!("{member} is required")).at(""))
}
