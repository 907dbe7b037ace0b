//! The drafts: one per file in `schema/`, found there, ordered, checked,
//! and written out as the `Draft` and `Version` types (`drafts.rs` in
//! `OUT_DIR`).
//!
//! Every file of `schema/` but the value docs ([`crate::docs::FILE`]) is a
//! draft. Adding a draft is adding its file `schema/idmefv2-<Version>.json` (and
//! its upgrade step, which the upgrade module's exhaustive match then
//! asks for). The typed model holds the newest stable draft (one without
//! `-Dev`) and every draft next to it that differs from it only in
//! `Version`: the development name it was published under before its
//! release (`2.D.V08-Dev`) and the later drafts of the same structure.

use std::{fs, path::Path};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

/// One draft and its schema.
pub struct Draft {
    /// The `Version` text, such as `2.D.V09-Dev`.
    pub version: String,
    /// The Rust name of its variant, such as `V09Dev`.
    pub variant: String,
    /// The file, relative to the crate.
    pub file: String,
    /// The schema.
    pub schema: Value,
    /// Its place in the order of drafts: the number, then a `-Dev` before
    /// the release of the same number.
    key: (u32, bool),
}

/// Every draft in `schema/`, oldest first.
pub fn read(dir: &Path) -> Vec<Draft> {
    let mut drafts = Vec::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("schema/ entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == crate::docs::FILE {
            continue;
        }
        let Some(version) = name
            .strip_prefix("idmefv2-")
            .and_then(|n| n.strip_suffix(".json"))
        else {
            panic!("schema/{name}: not named idmefv2-<Version>.json");
        };
        let (number, dev) = match version.strip_suffix("-Dev") {
            Some(release) => (release, true),
            None => (version, false),
        };
        let number: u32 = number
            .strip_prefix("2.D.V")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("schema/{name}: Version is not 2.D.V<number>[-Dev]"));
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("schema/{name}: {e}"));
        let schema: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("schema/{name}: {e}"));
        assert_eq!(
            schema["definitions"]["Version"]["enum"],
            serde_json::json!([version]),
            "schema/{name}: its Version definition must list exactly {version}"
        );
        drafts.push(Draft {
            version: version.to_string(),
            variant: version.trim_start_matches("2.D.").replace('-', ""),
            file: format!("schema/{name}"),
            schema,
            key: (number, !dev),
        });
    }
    drafts.sort_by_key(|d| d.key);
    assert!(!drafts.is_empty(), "schema/ holds no draft");
    drafts
}

/// The schema without what may differ between drafts of one typed model.
fn structure(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(root) = schema.as_object_mut() {
        root.remove("description");
        if let Some(definitions) = root.get_mut("definitions").and_then(Value::as_object_mut) {
            definitions.remove("Version");
        }
    }
    schema
}

/// The drafts the typed model holds: the newest stable draft, the drafts
/// just before it with the same structure (its own development name), and
/// every later one, which must have the same structure. A later draft
/// with another structure fails the build, since the model cannot hold it
/// and no older draft may follow the model.
pub fn typed(drafts: &[Draft]) -> &[Draft] {
    let stable = stable(drafts);
    let model = structure(&drafts[stable].schema);
    for later in &drafts[stable + 1..] {
        assert!(
            structure(&later.schema) == model,
            "{} differs from {} in more than Version: the typed model holds the newest \
             stable draft and the later drafts of the same structure only",
            later.file,
            drafts[stable].file
        );
    }
    let first = drafts[..stable]
        .iter()
        .rposition(|d| structure(&d.schema) != model)
        .map_or(0, |i| i + 1);
    &drafts[first..]
}

/// Where the newest stable draft (one without `-Dev`) is in `drafts`.
fn stable(drafts: &[Draft]) -> usize {
    drafts
        .iter()
        .rposition(|d| d.key.1)
        .expect("schema/ holds no stable draft (one without -Dev) for the typed model")
}

/// The newest stable draft: the typed model's structure and its default
/// `Version`.
pub fn latest(drafts: &[Draft]) -> &Draft {
    &drafts[stable(drafts)]
}

/// The `Draft` and `Version` enums with their names, texts and schemas.
pub fn generate(drafts: &[Draft], typed: &[Draft]) -> TokenStream {
    let variants: Vec<_> = drafts
        .iter()
        .map(|d| format_ident!("{}", d.variant))
        .collect();
    let texts: Vec<&str> = drafts.iter().map(|d| d.version.as_str()).collect();
    let docs: Vec<String> = texts.iter().map(|t| format!("`{t}`.")).collect();
    let files: Vec<String> = drafts.iter().map(|d| format!("/{}", d.file)).collect();
    let count = proc_macro2::Literal::usize_unsuffixed(drafts.len());
    let typed_variants: Vec<_> = typed
        .iter()
        .map(|d| format_ident!("{}", d.variant))
        .collect();
    let typed_count = proc_macro2::Literal::usize_unsuffixed(typed.len());
    let stable = typed
        .iter()
        .rposition(|d| d.key.1)
        .expect("the typed model holds a stable draft");
    let latest = &typed_variants[stable];
    let typed_docs: Vec<String> = typed
        .iter()
        .enumerate()
        .map(|(i, d)| match (i.cmp(&stable), d.key.1) {
            (std::cmp::Ordering::Equal, _) => {
                format!("`{}`, the latest stable draft.", d.version)
            }
            (std::cmp::Ordering::Less, _) => format!(
                "`{}`, the name `{}` was published under before its release: the same \
                 structure, upgraded to it by changing `Version` only.",
                d.version, typed[stable].version
            ),
            (_, false) => format!("`{}`, a draft in development.", d.version),
            (_, true) => format!("`{}`.", d.version),
        })
        .collect();
    let defaults = (0..typed.len()).map(|i| (i == stable).then(|| quote!(#[default])));
    let draft_of_version = typed_variants
        .iter()
        .map(|v| quote!(Version::#v => Draft::#v,));
    let version_of_draft = drafts.iter().zip(&variants).map(|(d, v)| {
        if typed.iter().any(|t| t.version == d.version) {
            quote!(Draft::#v => Some(Version::#v),)
        } else {
            quote!(Draft::#v => None,)
        }
    });
    let facts = facts(drafts, typed);
    let latest_text = &typed[stable].version;
    let version_doc = format!(
        "A draft of IDMEFv2 that [`Message`](crate::Message) can hold, `{latest_text}` \
         (the latest stable draft and the default) or another draft of the same structure."
    );
    quote! {
        /// A draft of IDMEFv2 whose schema this crate embeds, one per file
        /// in `schema/`, ordered from the oldest.
        ///
        /// Every draft is validated by its own schema; the drafts that
        /// [`Draft::version`] maps to a [`Version`] are the ones the typed
        /// model holds, and the older ones are carried forward by
        /// [`upgrade`](crate::upgrade).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Draft { #(#[doc = #docs] #variants,)* }
        impl Draft {
            /// Every draft, oldest first.
            pub const ALL: [Draft; #count] = [#(Draft::#variants),*];
            /// The `Version` text of the draft's messages.
            pub const fn as_str(self) -> &'static str {
                match self { #(Draft::#variants => #texts,)* }
            }
            /// The draft's JSON schema, as embedded in the crate.
            pub const fn schema(self) -> &'static str {
                match self {
                    #(Draft::#variants => include_str!(concat!(env!("CARGO_MANIFEST_DIR"), #files)),)*
                }
            }
            /// The typed model's name for the draft, if the model holds it.
            pub const fn version(self) -> Option<Version> {
                match self { #(#version_of_draft)* }
            }
        }
        #facts
        #[doc = #version_doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Version { #(#defaults #[doc = #typed_docs] #typed_variants,)* }
        impl Version {
            /// Every draft the typed model holds, oldest first.
            pub const ALL: [Version; #typed_count] = [#(Version::#typed_variants),*];
            /// The latest stable draft.
            pub const LATEST: Version = Version::#latest;
            /// The draft this is.
            pub const fn draft(self) -> Draft {
                match self { #(#draft_of_version)* }
            }
        }
    }
}

/// What the upgrade needs to know of the schemas, so that it restates
/// none of it: the members of each class in every draft older than the
/// typed model (the model's own are in the class table), and for every
/// draft the values of each value list that an earlier draft lists and it
/// does not.
fn facts(drafts: &[Draft], typed: &[Draft]) -> TokenStream {
    let definitions = |d: &Draft| {
        d.schema["definitions"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let mut members = Vec::new();
    for d in drafts
        .iter()
        .filter(|d| !typed.iter().any(|t| t.version == d.version))
    {
        let variant = format_ident!("{}", d.variant);
        for (class, definition) in definitions(d) {
            if let Some(properties) = definition["properties"].as_object() {
                let names = properties.keys();
                members.push(quote!((Draft::#variant, #class) => &[#(#names),*],));
            }
        }
    }
    let mut retired = Vec::new();
    let mut listed: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for d in drafts {
        let variant = format_ident!("{}", d.variant);
        for (name, definition) in definitions(d) {
            if name == "Version" || definition.get("enum").is_none() {
                continue;
            }
            let values = strings(&definition["enum"]);
            let earlier = listed.entry(name.clone()).or_default();
            let gone: Vec<&String> = earlier.iter().filter(|v| !values.contains(v)).collect();
            if !gone.is_empty() {
                retired.push(quote!((Draft::#variant, #name) => &[#(#gone),*],));
            }
            for value in values {
                if !earlier.contains(&value) {
                    earlier.push(value);
                }
            }
        }
    }
    quote! {
        impl Draft {
            /// The members of the class `class` in this draft, in schema
            /// order; given for the drafts older than the typed model only.
            pub(crate) fn members(self, class: &str) -> &'static [&'static str] {
                match (self, class) {
                    #(#members)*
                    _ => &[],
                }
            }
            /// The values of the value list `definition` that an earlier
            /// draft lists and this one does not.
            pub(crate) fn retired(self, definition: &str) -> &'static [&'static str] {
                match (self, definition) {
                    #(#retired)*
                    _ => &[],
                }
            }
        }
    }
}
