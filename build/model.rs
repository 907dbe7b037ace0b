//! The classes of the model: typify's structs, fixed up, with their serde
//! impls and builders.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;
use syn::{Ident, Type};

use crate::fixups::{self, Tracker};
use crate::syntax::{doc_attrs, inner_of, serde_rename};

/// Required message fields that the builder fills in when not given.
const BUILDER_DEFAULTS: [(&str, &str, &str); 3] = [
    ("Message", "Version", "support::Version::default()"),
    ("Message", "ID", "support::Id::generate()"),
    ("Message", "CreateTime", "support::Timestamp::now()"),
];

/// One property of a class, in schema order.
pub struct Property {
    json: String,
    required: bool,
    default: Option<&'static str>,
}

/// Properties of every object type, keyed by the Rust name typify gives it
/// (the schema's title for the root, the definition name otherwise).
pub fn classes_in_schema(schema: &Value) -> BTreeMap<String, Vec<Property>> {
    let mut classes = BTreeMap::new();
    let mut add = |name: &str, class: &Value| {
        let required: Vec<&str> = class["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let props = class["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} has no properties"))
            .keys()
            .map(|json| Property {
                json: json.clone(),
                required: required.contains(&json.as_str()),
                default: BUILDER_DEFAULTS
                    .iter()
                    .find(|(c, p, _)| *c == name && p == json)
                    .map(|(_, _, d)| *d),
            })
            .collect();
        classes.insert(name.to_string(), props);
    };
    add(schema["title"].as_str().expect("root title"), schema);
    for (name, def) in schema["definitions"].as_object().expect("definitions") {
        if def.get("properties").is_some() {
            add(name, def);
        }
    }
    classes
}

/// A struct field as the model stores it.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub json: &'a str,
    pub docs: Vec<&'a syn::Attribute>,
    /// The value type: `T` for `T` and `Option<T>` fields, `Vec<T>` for lists.
    pub value_ty: TokenStream,
    /// The element type of a list field.
    pub item_ty: Option<&'a Type>,
    pub required: bool,
    pub default: Option<&'static str>,
}

/// One class: typify's struct with the fix-ups of [`fixups`] applied, then
/// its serde impls ([`crate::serde::serde_impls`]) and its builder
/// ([`crate::builder::builder`]).
pub fn model_struct(item: &syn::ItemStruct, class: &[Property], t: &mut Tracker) -> TokenStream {
    let name = &item.ident;
    let json_name = |f: &syn::Field| {
        let ident = f.ident.as_ref().expect("named field");
        serde_rename(&f.attrs).unwrap_or_else(|| ident.to_string())
    };
    let schema_order: Vec<&str> = class.iter().map(|p| p.json.as_str()).collect();
    let ordered = fixups::fields_in_schema_order(item, &schema_order, json_name, t);
    let fields: Vec<Field> = class
        .iter()
        .zip(ordered)
        .map(|(p, f)| {
            let ident = f.ident.as_ref().expect("named field");
            let declared = if p.required {
                &f.ty
            } else {
                fixups::optional_list_as_option(f, t)
            };
            let item_ty = inner_of(declared, "Vec");
            Field {
                ident,
                json: &p.json,
                docs: doc_attrs(&f.attrs),
                value_ty: quote!(#declared),
                item_ty,
                required: p.required,
                default: p.default,
            }
        })
        .collect();

    let docs = fixups::replace_struct_serde(item, t);
    // Each field's docs end with the member name it has in JSON, which
    // the Rust name (snake case, `ref_` for `Ref`) does not show.
    let decls = fields.iter().map(|f| {
        let (ident, ty, docs) = (f.ident, &f.value_ty, &f.docs);
        let member = format!(
            "JSON member `{}`{}.",
            f.json,
            if f.required { ", required" } else { "" }
        );
        if f.required {
            quote!(#(#docs)* #[doc = ""] #[doc = #member] pub #ident: #ty,)
        } else {
            quote!(#(#docs)* #[doc = ""] #[doc = #member] pub #ident: ::std::option::Option<#ty>,)
        }
    });
    assert!(
        fields.len() <= 32,
        "{name}: more members than MemberOrder can hold"
    );
    let serde_impls = crate::serde::serde_impls(name, &fields);
    let builder = crate::builder::builder(name, &fields);
    quote! {
        #(#docs)*
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub struct #name {
            #(#decls)*
            order: support::MemberOrder,
        }
        #serde_impls
        #builder
    }
}
