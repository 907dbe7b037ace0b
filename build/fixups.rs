//! The fix-ups applied to what typify produces, so that decoding decides
//! exactly as the schema does.
//!
//! Each fix-up is one function whose first doc line says what typify does
//! and why that is not good enough here. Each one records whether it found
//! something to fix; [`Tracker::finish`] fails the build for a fix-up that
//! found nothing, so that when typify one day does the right thing by
//! itself, the build says which fix-up to remove instead of carrying dead
//! code.

use std::collections::BTreeMap;

use syn::{Item, ItemEnum, ItemStruct, Type};

use crate::syntax::{derives, doc_attrs, inner_of};

/// Which fix-ups found something to fix.
#[derive(Default)]
pub struct Tracker(BTreeMap<&'static str, bool>);

impl Tracker {
    fn record(&mut self, fixup: &'static str, applied: bool) {
        *self.0.entry(fixup).or_default() |= applied;
    }

    /// Fails the build for every fix-up that never applied.
    pub fn finish(self) {
        let stale: Vec<&str> = self
            .0
            .iter()
            .filter(|(_, applied)| !**applied)
            .map(|(name, _)| *name)
            .collect();
        assert!(
            stale.is_empty(),
            "fix-ups with nothing left to fix (typify does it now; remove them from build/fixups.rs): {stale:?}"
        );
    }
}

/// typify adds `FromStr`, `TryFrom`, `Display` and `From<&T>` impls and an
/// `error` module of its own; the generated serde impls and builders
/// replace them, so they are dropped.
pub fn drop_typify_impls(items: Vec<Item>, t: &mut Tracker) -> Vec<Item> {
    let mut kept = Vec::new();
    let mut dropped = 0;
    for item in items {
        match item {
            Item::Struct(_) | Item::Enum(_) => kept.push(item),
            Item::Impl(_) | Item::Mod(_) => dropped += 1,
            other => panic!("unexpected item from typify: {}", quote::quote!(#other)),
        }
    }
    t.record("drop_typify_impls", dropped > 0);
    kept
}

/// typify sorts struct fields by name; the model keeps the schema's
/// property order, so that encoded messages read in the order of the
/// specification.
pub fn fields_in_schema_order<'a>(
    item: &'a ItemStruct,
    schema_order: &[&str],
    json_name: impl Fn(&syn::Field) -> String,
    t: &mut Tracker,
) -> Vec<&'a syn::Field> {
    let syn::Fields::Named(named) = &item.fields else {
        panic!("{} is not a struct with named fields", item.ident)
    };
    let by_json: BTreeMap<String, &syn::Field> =
        named.named.iter().map(|f| (json_name(f), f)).collect();
    assert_eq!(
        by_json.len(),
        schema_order.len(),
        "{}: fields differ from schema",
        item.ident
    );
    let ordered: Vec<&syn::Field> = schema_order
        .iter()
        .map(|json| {
            *by_json
                .get(*json)
                .unwrap_or_else(|| panic!("{}.{json}: not generated", item.ident))
        })
        .collect();
    let typify_order: Vec<&syn::Field> = named.named.iter().collect();
    let reordered = ordered
        .iter()
        .zip(&typify_order)
        .any(|(a, b)| !std::ptr::eq(*a, *b));
    t.record("fields_in_schema_order", reordered);
    ordered
}

/// typify declares an optional list as a `Vec<T>` that leaves `[]` out on
/// output; the model declares every optional field `Option<T>`, so an
/// empty list survives a round trip. Returns the value type `T`.
pub fn optional_list_as_option<'a>(field: &'a syn::Field, t: &mut Tracker) -> &'a Type {
    let inner = inner_of(&field.ty, "Option");
    t.record("optional_list_as_option", inner.is_none());
    inner.unwrap_or(&field.ty)
}

/// typify derives serde's `Deserialize` for structs, which also accepts a
/// JSON array for a struct and `null` for an optional member, both refused
/// by the schema; the derive is dropped (only the docs are kept) and
/// strict serde impls are generated instead.
pub fn replace_struct_serde<'a>(item: &'a ItemStruct, t: &mut Tracker) -> Vec<&'a syn::Attribute> {
    t.record("replace_struct_serde", derives(&item.attrs, "Deserialize"));
    doc_attrs(&item.attrs)
}

/// typify derives serde's `Deserialize` for value lists, which also
/// accepts `{"Variant": null}`; the derive is dropped (only the docs are
/// kept) and impls that read and write JSON strings only are generated.
pub fn replace_enum_serde<'a>(item: &'a ItemEnum, t: &mut Tracker) -> Vec<&'a syn::Attribute> {
    t.record("replace_enum_serde", derives(&item.attrs, "Deserialize"));
    doc_attrs(&item.attrs)
}
