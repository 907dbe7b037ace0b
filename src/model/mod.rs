//! The typed model: the code `build/` generates from the schema, and the
//! hand-written parts it stands on (checked scalar types, their pattern
//! matchers and comparisons, member order, builder support, the table of
//! classes).
//!
//! The generated code refers to [`support`] only, so that the rest of this
//! folder can be rearranged without touching the generator.

mod attachment;
mod builder;
pub(crate) mod check;
pub(crate) mod meaning;
mod order;
pub(crate) mod pattern;
pub(crate) mod scalar;
pub(crate) mod suggest;
pub(crate) mod support;
pub(crate) mod table;

pub(crate) use order::Recording;

/// The generated model: every class and value list of the schema, and the
/// checked scalar types they use.
pub mod types {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
    pub use super::builder::IntoField;
    // Exactly the hand-written types of the table in `hand_written.rs`.
    pub use super::scalar::replacements::*;
}
