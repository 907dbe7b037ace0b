//! Generates the typed IDMEFv2 model from the schemas in `schema/`.
//!
//! typify turns the schema into Rust structs and enums; the fix-ups in
//! [`fixups`] then reshape what typify produced so that decoding decides
//! exactly as the schema does, and the serde impls ([`serde`]), builders
//! ([`builder`]) and value lists ([`enums`]) are generated from the same
//! schema, as is the table of classes and attributes ([`table`]). Nothing
//! here touches the network.

mod builder;
mod enums;
mod fixups;
mod model;
mod serde;
mod syntax;
mod table;

use std::{env, fs, path::Path};

use proc_macro2::TokenStream;
use serde_json::Value;

/// Revisions that share one typed model: they differ only in `Version`.
const MODEL_REVISIONS: [&str; 2] = ["2.D.V08", "2.D.V09-Dev"];

/// Schema definitions that map to hand-written types in `src/scalar.rs`
/// (exact text kept, fast checks) or `src/version.rs`.
const HAND_WRITTEN: [(&str, &str); 15] = [
    ("Version", "support::Version"),
    ("Id", "support::Id"),
    ("Timestamp", "support::Timestamp"),
    ("IpAddress", "support::IpAddress"),
    ("GeoLocation", "support::GeoLocation"),
    ("UnLocode", "support::UnLocode"),
    ("AttachmentName", "support::AttachmentName"),
    ("MediaType", "support::MediaType"),
    ("Protocol", "support::Protocol"),
    ("Hash", "support::Hash"),
    ("Confidence", "support::Confidence"),
    ("Email", "support::Email"),
    ("Uri", "support::Uri"),
    ("Integer", "support::Integer"),
    ("Content", "support::Content"),
];

fn main() {
    println!("cargo:rerun-if-changed=build");
    let schemas: Vec<Value> = MODEL_REVISIONS
        .iter()
        .map(|revision| {
            let path = format!("schema/idmefv2-{revision}.json");
            println!("cargo:rerun-if-changed={path}");
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
        })
        .collect();
    let model_schema = one_model(&schemas);
    let out_dir = env::var("OUT_DIR").expect("OUT_DIR");
    write(&out_dir, "model.rs", model(model_schema));
    write(&out_dir, "table.rs", table::model_table(model_schema));
}

/// The schema of the typed model. The revisions it holds differ only in
/// their `Version` value, which is the hand-written `Version` type for all
/// of them, so the first revision's schema serves; the build fails as soon
/// as the revisions differ in anything else.
fn one_model(schemas: &[Value]) -> &Value {
    let strip = |schema: &Value| {
        let mut schema = schema.clone();
        let obj = schema.as_object_mut().expect("schema root is an object");
        obj.remove("description");
        obj["definitions"]
            .as_object_mut()
            .expect("definitions")
            .remove("Version");
        schema
    };
    let first = strip(&schemas[0]);
    for schema in schemas {
        assert_eq!(
            strip(schema),
            first,
            "model revisions differ in more than Version"
        );
    }
    &schemas[0]
}

/// typify's output for `schema`, fixed up, with serde impls and builders.
fn model(schema: &Value) -> TokenStream {
    let mut settings = typify::TypeSpaceSettings::default();
    settings.with_struct_builder(false);
    for (name, path) in HAND_WRITTEN {
        settings.with_replacement(name, path, std::iter::empty());
    }
    let mut space = typify::TypeSpace::new(&settings);
    let root: schemars::schema::RootSchema =
        serde_json::from_value(schema.clone()).expect("schema/ is not a JSON schema");
    space
        .add_root_schema(root)
        .expect("typify rejected the schema");
    let generated: syn::File =
        syn::parse2(space.to_stream()).expect("typify produced invalid Rust");

    let mut tracker = fixups::Tracker::default();
    let classes = model::classes_in_schema(schema);
    // The one path into the crate: everything else is named through it.
    let mut out = quote::quote!(
        use crate::model::support;
    );
    for item in fixups::drop_typify_impls(generated.items, &mut tracker) {
        match item {
            syn::Item::Struct(item) => {
                let class = classes
                    .get(&item.ident.to_string())
                    .unwrap_or_else(|| panic!("no schema class for struct {}", item.ident));
                out.extend(model::model_struct(&item, class, &mut tracker));
            }
            syn::Item::Enum(item) => out.extend(enums::value_list_enum(&item, &mut tracker)),
            _ => {}
        }
    }
    tracker.finish();
    out
}

/// Writes `tokens` as formatted Rust to `OUT_DIR/name`.
fn write(out_dir: &str, name: &str, tokens: TokenStream) {
    let file: syn::File = syn::parse2(tokens).unwrap_or_else(|e| panic!("{name}: {e}"));
    let dest = Path::new(out_dir).join(name);
    fs::write(&dest, prettyplease::unparse(&file)).unwrap_or_else(|e| panic!("{name}: {e}"));
}
