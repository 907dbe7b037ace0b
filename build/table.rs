//! The model as data: the table of classes and attributes that IDMEF paths
//! and the strict checks read (`table.rs` in `OUT_DIR`).

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

/// The model as data, for the IDMEF path machinery and the strict checks:
/// every class with every attribute in schema order, whether the attribute
/// is a list, the schema type of its value (or of
/// its items), whether that type is a class, and the `ext-value` entry of
/// its value list when the list has one.
pub fn model_table(schema: &Value) -> TokenStream {
    let definitions = schema["definitions"].as_object().expect("definitions");
    let type_of = |property: &Value| -> String {
        if let Some(reference) = property["$ref"].as_str() {
            let name = reference
                .strip_prefix("#/definitions/")
                .unwrap_or_else(|| panic!("unexpected $ref {reference}"));
            return name.to_string();
        }
        match &property["type"] {
            Value::String(t) => t.clone(),
            other => panic!("property without a single type: {other}"),
        }
    };
    let mut classes = vec![(
        schema["title"].as_str().expect("root title").to_string(),
        schema,
    )];
    for (name, def) in definitions {
        if def.get("properties").is_some() {
            classes.push((name.clone(), def));
        }
    }
    let entries = classes.iter().map(|(name, class)| {
        let attributes = class["properties"]
            .as_object()
            .expect("properties")
            .iter()
            .map(|(json, property)| {
                let list = property["type"] == "array";
                let ty = type_of(if list { &property["items"] } else { property });
                let def = definitions.get(&ty);
                let is_class = def.is_some_and(|d| d.get("properties").is_some());
                let ext_value = def.and_then(|d| d["enum"].as_array()).and_then(|values| {
                    values
                        .iter()
                        .filter_map(Value::as_str)
                        .find(|v| *v == "ext-value" || v.ends_with(".ext-value"))
                });
                let ext_value = match ext_value {
                    Some(v) => quote!(Some(#v)),
                    None => quote!(None),
                };
                quote! {
                    support::Attribute {
                        name: #json,
                        list: #list,
                        ty: #ty,
                        class: #is_class,
                        ext_value: #ext_value,
                    },
                }
            });
        quote! {
            support::Class { name: #name, attributes: &[#(#attributes)*] },
        }
    });
    quote! {
        use crate::model::support;
        /// Every class of the model, the root first.
        pub(crate) static CLASSES: &[support::Class] = &[#(#entries)*];
    }
}
