//! Generates the typed IDMEFv2 model from the schemas in `schema/`.
//!
//! The drafts are the files in `schema/` ([`drafts`]); the typed model is
//! generated from the schema of the newest stable one. typify turns that
//! schema into Rust structs and enums; the fix-ups in
//! [`fixups`] then reshape what typify produced so that decoding decides
//! exactly as the schema does, and the serde impls ([`serde`]), builders
//! ([`builder`]) and value lists ([`enums`]) are generated from the same
//! schema, as is the table of classes and attributes ([`table`]). Nothing
//! here touches the network.

mod builder;
mod docs;
mod drafts;
mod enums;
mod fixups;
mod hand_written;
mod model;
mod names;
mod serde;
mod syntax;
mod table;

use std::{env, fs, path::Path};

use proc_macro2::TokenStream;
use serde_json::Value;

fn main() {
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-changed=schema");
    println!("cargo:rerun-if-changed={}", hand_written::TABLE);
    let drafts = drafts::read(Path::new("schema"));
    let typed = drafts::typed(&drafts);
    let model_schema = &drafts::latest(&drafts).schema;
    hand_written::check_pins(&drafts, model_schema);
    let value_docs = docs::ValueDocs::read(Path::new("schema"), model_schema);
    // For messages that name the typed drafts, such as Error::OlderDraft's.
    let names: Vec<&str> = typed.iter().map(|d| d.version.as_str()).collect();
    let names = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    };
    println!("cargo:rustc-env=IDMEFV2_TYPED_DRAFTS={names}");
    let out_dir = env::var("OUT_DIR").expect("OUT_DIR");
    write(&out_dir, "drafts.rs", drafts::generate(&drafts, typed));
    write(&out_dir, "model.rs", model(model_schema, &value_docs));
    write(&out_dir, "table.rs", table::model_table(model_schema));
}

/// typify's output for `schema`, fixed up, with serde impls, builders and
/// the docs of every value.
fn model(schema: &Value, value_docs: &docs::ValueDocs) -> TokenStream {
    let mut settings = typify::TypeSpaceSettings::default();
    settings.with_struct_builder(false);
    for (name, path) in hand_written::replacements() {
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
            syn::Item::Enum(item) => {
                out.extend(enums::value_list_enum(&item, value_docs, &mut tracker))
            }
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
