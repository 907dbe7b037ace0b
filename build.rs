//! Generates the typed IDMEFv2 model from the schemas in `schema/`.
//!
//! typify turns the schema into Rust structs and enums; this script then
//! reshapes what typify produced so that decoding decides exactly as the
//! schema does (see the named fix-ups below), and generates the serde impls
//! and the builders from the same schema. Nothing here touches the network.

use std::{collections::BTreeMap, env, fs, path::Path};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::{Fields, Ident, Item, Type};

/// Revisions that share one typed model: they differ only in `Version`.
const MODEL_REVISIONS: [&str; 2] = ["2.D.V08", "2.D.V09-Dev"];

/// Schema definitions that map to hand-written types in `src/scalar.rs`
/// (exact text kept, fast checks) or `src/version.rs`.
const HAND_WRITTEN: [(&str, &str); 15] = [
    ("Version", "crate::Version"),
    ("Id", "crate::scalar::Id"),
    ("Timestamp", "crate::scalar::Timestamp"),
    ("IpAddress", "crate::scalar::IpAddress"),
    ("GeoLocation", "crate::scalar::GeoLocation"),
    ("UnLocode", "crate::scalar::UnLocode"),
    ("AttachmentName", "crate::scalar::AttachmentName"),
    ("MediaType", "crate::scalar::MediaType"),
    ("Protocol", "crate::scalar::Protocol"),
    ("Hash", "crate::scalar::Hash"),
    ("Confidence", "crate::scalar::Confidence"),
    ("Email", "crate::scalar::Email"),
    ("Uri", "crate::scalar::Uri"),
    ("Integer", "crate::scalar::Integer"),
    ("Content", "crate::scalar::Content"),
];

/// Required message fields that the builder fills in when not given.
const BUILDER_DEFAULTS: [(&str, &str, &str); 3] = [
    ("Message", "Version", "crate::Version::default()"),
    ("Message", "ID", "crate::scalar::Id::generate()"),
    ("Message", "CreateTime", "crate::scalar::Timestamp::now()"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let schemas: Vec<Value> = MODEL_REVISIONS
        .iter()
        .map(|revision| {
            let path = format!("schema/idmefv2-{revision}.json");
            println!("cargo:rerun-if-changed={path}");
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
        })
        .collect();
    let model_schema = one_model_for_identical_revisions(&schemas);

    let mut settings = typify::TypeSpaceSettings::default();
    settings.with_struct_builder(false);
    for (name, path) in HAND_WRITTEN {
        settings.with_replacement(name, path, std::iter::empty());
    }
    let mut space = typify::TypeSpace::new(&settings);
    let root: schemars::schema::RootSchema =
        serde_json::from_value(model_schema.clone()).expect("schema/ is not a JSON schema");
    space
        .add_root_schema(root)
        .expect("typify rejected the schema");
    let generated: syn::File =
        syn::parse2(space.to_stream()).expect("typify produced invalid Rust");

    let classes = classes_in_schema(&model_schema);
    let mut out = TokenStream::new();
    for item in generated.items {
        match item {
            Item::Struct(item) => {
                let class = classes
                    .get(&item.ident.to_string())
                    .unwrap_or_else(|| panic!("no schema class for struct {}", item.ident));
                out.extend(model_struct(&item, class));
            }
            Item::Enum(item) => out.extend(value_list_enum(&item)),
            // typify's own trait impls and conversion-error module are
            // replaced by the ones generated here.
            Item::Impl(_) | Item::Mod(_) => {}
            other => panic!("unexpected item from typify: {}", quote!(#other)),
        }
    }

    let file: syn::File = syn::parse2(out).expect("generated invalid Rust");
    let out_dir = env::var("OUT_DIR").expect("OUT_DIR");
    let dest = Path::new(&out_dir).join("model.rs");
    fs::write(&dest, prettyplease::unparse(&file)).expect("write generated model");

    let table: syn::File =
        syn::parse2(model_table(&model_schema)).expect("generated invalid table");
    let dest = Path::new(&out_dir).join("table.rs");
    fs::write(&dest, prettyplease::unparse(&table)).expect("write generated table");
}

/// The model as data, for the IDMEF path machinery and the strict checks:
/// every class with every attribute in schema order, whether the attribute
/// is a list, the schema type of its value (or of
/// its items), whether that type is a class, and the `ext-value` entry of
/// its value list when the list has one.
fn model_table(schema: &Value) -> TokenStream {
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
                    crate::table::Attribute {
                        name: #json,
                        list: #list,
                        ty: #ty,
                        class: #is_class,
                        ext_value: #ext_value,
                    },
                }
            });
        quote! {
            crate::table::Class { name: #name, attributes: &[#(#attributes)*] },
        }
    });
    quote! {
        /// Every class of the model, the root first.
        pub(crate) static CLASSES: &[crate::table::Class] = &[#(#entries)*];
    }
}

/// Fix-up: V08 and V09-Dev share their structure and differ only in the
/// `Version` value, so one typed model serves both. Fails the build as soon
/// as the revisions differ in anything else (a new draft must then get its
/// own look).
fn one_model_for_identical_revisions(schemas: &[Value]) -> Value {
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
    let mut versions = Vec::new();
    for schema in schemas {
        assert_eq!(
            strip(schema),
            first,
            "model revisions differ in more than Version"
        );
        let values = schema["definitions"]["Version"]["enum"]
            .as_array()
            .expect("Version is an enum");
        versions.extend(values.iter().cloned());
    }
    let mut model = schemas[0].clone();
    model["definitions"]["Version"]["enum"] = Value::Array(versions);
    model
}

/// One property of a class, in schema order.
struct Property {
    json: String,
    required: bool,
    default: Option<&'static str>,
}

/// Properties of every object type, keyed by the Rust name typify gives it
/// (the schema's title for the root, the definition name otherwise).
fn classes_in_schema(schema: &Value) -> BTreeMap<String, Vec<Property>> {
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

fn doc_attrs(attrs: &[syn::Attribute]) -> Vec<&syn::Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("doc")).collect()
}

/// The `rename = "..."` of a serde attribute, i.e. the JSON name.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                found = Some(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

/// `T` when `ty` is `wrapper<T>` (matched on the last path segment).
fn inner_of<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let seg = path.path.segments.last()?;
    if seg.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// A struct field as the model stores it.
struct Field<'a> {
    ident: &'a Ident,
    json: &'a str,
    docs: Vec<&'a syn::Attribute>,
    /// The value type: `T` for `T` and `Option<T>` fields, `Vec<T>` for lists.
    value_ty: TokenStream,
    /// The element type of a list field.
    item_ty: Option<&'a Type>,
    required: bool,
    default: Option<&'static str>,
}

/// Fix-ups on typify's structs, then the generated serde impls and builder:
/// - fields follow the schema's property order (typify sorts them by name),
///   so encoded messages read in the order of the specification;
/// - an optional list is `Option<Vec<T>>`, not a `Vec<T>` that drops `[]` on
///   output (typify's choice), so an empty list survives a round trip;
/// - decoding accepts only a JSON object and rejects `null` for an optional
///   property, duplicate and unknown members (serde's derive also accepts an
///   array for a struct and `null` for an `Option`, which the schema rejects);
/// - a decoded object remembers the order of its members, and encoding
///   writes them back in that order (members set later follow in schema
///   order), so a message read and written again differs only in spacing.
fn model_struct(item: &syn::ItemStruct, class: &[Property]) -> TokenStream {
    let name = &item.ident;
    let Fields::Named(named) = &item.fields else {
        panic!("{name} is not a struct with named fields")
    };
    let mut by_json: BTreeMap<String, &syn::Field> = BTreeMap::new();
    for f in &named.named {
        let ident = f.ident.as_ref().expect("named field");
        let json = serde_rename(&f.attrs).unwrap_or_else(|| ident.to_string());
        by_json.insert(json, f);
    }
    assert_eq!(
        by_json.len(),
        class.len(),
        "{name}: fields differ from schema"
    );
    let fields: Vec<Field> = class
        .iter()
        .map(|p| {
            let f = by_json
                .get(&p.json)
                .unwrap_or_else(|| panic!("{name}.{}: not generated", p.json));
            let ident = f.ident.as_ref().expect("named field");
            let declared = if p.required {
                &f.ty
            } else {
                inner_of(&f.ty, "Option").unwrap_or(&f.ty)
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

    let docs = doc_attrs(&item.attrs);
    let decls = fields.iter().map(|f| {
        let (ident, ty, docs) = (f.ident, &f.value_ty, &f.docs);
        if f.required {
            quote!(#(#docs)* pub #ident: #ty,)
        } else {
            quote!(#(#docs)* pub #ident: ::std::option::Option<#ty>,)
        }
    });
    assert!(
        fields.len() <= 32,
        "{name}: more members than MemberOrder can hold"
    );
    let serde_impls = serde_impls(name, &fields);
    let builder = builder(name, &fields);
    quote! {
        #(#docs)*
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub struct #name {
            #(#decls)*
            order: crate::order::MemberOrder,
        }
        #serde_impls
        #builder
    }
}

fn serde_impls(name: &Ident, fields: &[Field]) -> TokenStream {
    let name_str = name.to_string();
    let expecting = format!("an IDMEFv2 {name_str} object");
    let json_names: Vec<&str> = fields.iter().map(|f| f.json).collect();
    let tags: Vec<Ident> = (0..fields.len()).map(|i| format_ident!("F{i}")).collect();
    let slots: Vec<Ident> = fields
        .iter()
        .map(|f| format_ident!("v_{}", f.ident))
        .collect();
    let len = fields.len();

    let indexes: Vec<u8> = (0..fields.len() as u8).collect();
    let arms = fields
        .iter()
        .zip(&tags)
        .zip(&slots)
        .map(|((f, tag), slot)| {
            let (json, ty) = (f.json, &f.value_ty);
            quote! {
                Member::#tag => {
                    if #slot.is_some() {
                        return Err(<A::Error as ::serde::de::Error>::duplicate_field(#json));
                    }
                    #slot = Some(map.next_value::<#ty>()?);
                }
            }
        });
    let finish = fields.iter().zip(&slots).map(|(f, slot)| {
        let (ident, json) = (f.ident, f.json);
        if f.required {
            quote!(#ident: #slot.ok_or_else(|| <A::Error as ::serde::de::Error>::missing_field(#json))?,)
        } else {
            quote!(#ident: #slot,)
        }
    });
    // Writing one member, when present.
    let write: Vec<TokenStream> = fields
        .iter()
        .map(|f| {
            let (ident, json) = (f.ident, f.json);
            if f.required {
                quote!(s.serialize_field(#json, &self.#ident)?;)
            } else {
                quote! {
                    if let Some(v) = &self.#ident {
                        s.serialize_field(#json, v)?;
                    }
                }
            }
        })
        .collect();
    let bits: Vec<u32> = (0..fields.len() as u32).map(|i| 1 << i).collect();
    let encode = fields.iter().zip(&indexes).map(|(f, i)| {
        let (ident, json) = (f.ident, f.json);
        if f.required {
            quote!(#i => s.serialize_field(#json, &self.#ident),)
        } else {
            quote! {
                #i => match &self.#ident {
                    Some(v) => s.serialize_field(#json, v),
                    None => Ok(()),
                },
            }
        }
    });
    quote! {
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                const MEMBERS: &[&str] = &[#(#json_names),*];
                #[derive(Clone, Copy)]
                enum Member { #(#tags),* }
                struct MemberVisitor;
                impl ::serde::de::Visitor<'_> for MemberVisitor {
                    type Value = Member;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a member name")
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<Member, E> {
                        match v {
                            #(#json_names => Ok(Member::#tags),)*
                            other => Err(E::unknown_field(other, MEMBERS)),
                        }
                    }
                }
                impl<'de> ::serde::Deserialize<'de> for Member {
                    fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                        d.deserialize_identifier(MemberVisitor)
                    }
                }
                struct ObjectVisitor;
                impl<'de> ::serde::de::Visitor<'de> for ObjectVisitor {
                    type Value = #name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(#expecting)
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> ::std::result::Result<#name, A::Error> {
                        #(let mut #slots = None;)*
                        let mut order = crate::order::MemberOrder::recorder();
                        while let Some(member) = map.next_key::<Member>()? {
                            order.push(member as u8);
                            match member { #(#arms)* }
                        }
                        Ok(#name { #(#finish)* order })
                    }
                }
                d.deserialize_map(ObjectVisitor)
            }
        }
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeStruct as _;
                let mut s = serializer.serialize_struct(#name_str, #len)?;
                if self.order.is_empty() {
                    #(#write)*
                } else {
                    // The members in the order they were read, then any set
                    // since, in schema order.
                    let member = |i: u8, s: &mut S::SerializeStruct| match i {
                        #(#encode)*
                        _ => Ok(()),
                    };
                    let mut written = 0u32;
                    for i in self.order.iter() {
                        written |= 1 << i;
                        member(i, &mut s)?;
                    }
                    #(if written & #bits == 0 { #write })*
                }
                s.end()
            }
        }
    }
}

/// A builder per class: required properties without a default are the
/// arguments of `builder()`, every other property is a chained setter named
/// after the field (list setters append one item). Conversion failures are
/// collected with their JSON pointer and returned by `build()`.
fn builder(name: &Ident, fields: &[Field]) -> TokenStream {
    let builder = format_ident!("{name}Builder");
    let builder_doc = format!(
        "Builds a [`{name}`]: start with [`{name}::builder`], chain setters, finish with [`{builder}::build`]."
    );
    let slots = fields.iter().map(|f| {
        let (ident, ty) = (f.ident, &f.value_ty);
        quote!(#ident: ::std::option::Option<#ty>,)
    });
    let args: Vec<&Field> = fields
        .iter()
        .filter(|f| f.required && f.default.is_none())
        .collect();
    let arg_params = args.iter().map(|f| {
        let (ident, ty) = (f.ident, &f.value_ty);
        quote!(#ident: impl crate::builder::IntoField<#ty>)
    });
    let init = fields.iter().map(|f| {
        let (ident, json) = (f.ident, format!("/{}", f.json));
        if let Some(default) = f.default {
            let default: syn::Expr = syn::parse_str(default).expect("default expr");
            quote!(#ident: Some(#default),)
        } else if f.required {
            quote!(#ident: crate::builder::convert(#ident, #json, &mut errors),)
        } else {
            quote!(#ident: None,)
        }
    });
    let setters = fields
        .iter()
        .filter(|f| !(f.required && f.default.is_none()))
        .map(|f| {
            let ident = f.ident;
            let pointer = format!("/{}", f.json);
            let field_docs = &f.docs;
            match f.item_ty {
                Some(item) => {
                    let doc = format!("Appends one item to `{}`:", f.json);
                    quote! {
                        #[doc = #doc]
                        #(#field_docs)*
                        pub fn #ident(mut self, item: impl crate::builder::IntoField<#item>) -> Self {
                            let list = self.#ident.get_or_insert_with(::std::vec::Vec::new);
                            let pointer = format!("{}/{}", #pointer, list.len());
                            if let Some(item) = crate::builder::convert(item, &pointer, &mut self.errors) {
                                list.push(item);
                            }
                            self
                        }
                    }
                }
                None => {
                    let ty = &f.value_ty;
                    let doc = format!("Sets `{}`:", f.json);
                    quote! {
                        #[doc = #doc]
                        #(#field_docs)*
                        pub fn #ident(mut self, value: impl crate::builder::IntoField<#ty>) -> Self {
                            if let Some(value) = crate::builder::convert(value, #pointer, &mut self.errors) {
                                self.#ident = Some(value);
                            }
                            self
                        }
                    }
                }
            }
        });
    let assemble = fields.iter().map(|f| {
        let ident = f.ident;
        if f.required {
            let json = f.json;
            quote!(#ident: self.#ident.ok_or_else(|| crate::builder::missing(#json))?,)
        } else {
            quote!(#ident: self.#ident,)
        }
    });
    let arg_names: Vec<String> = args.iter().map(|f| format!("`{}`", f.json)).collect();
    let ctor_doc = if arg_names.is_empty() {
        format!("Starts a [`{builder}`].")
    } else {
        format!(
            "Starts a [`{builder}`] from the required {}.",
            arg_names.join(", ")
        )
    };
    quote! {
        #[doc = #builder_doc]
        #[derive(Clone, Debug)]
        #[must_use = "a builder does nothing until `build` is called"]
        pub struct #builder {
            #(#slots)*
            errors: ::std::vec::Vec<crate::Violation>,
        }
        impl #name {
            #[doc = #ctor_doc]
            pub fn builder(#(#arg_params),*) -> #builder {
                let mut errors = ::std::vec::Vec::new();
                #builder { #(#init)* errors }
            }
        }
        impl #builder {
            #(#setters)*
            /// Returns the value, or every conversion failure with its JSON pointer.
            pub fn build(self) -> ::std::result::Result<#name, crate::Error> {
                if !self.errors.is_empty() {
                    return Err(crate::Error::Invalid(self.errors.into()));
                }
                Ok(#name { #(#assemble)* order: crate::order::MemberOrder::default() })
            }
        }
        impl crate::builder::IntoField<#name> for #builder {
            fn into_field(self) -> ::std::result::Result<#name, crate::Error> {
                self.build()
            }
        }
    }
}

/// Value lists become Rust enums whose text is the schema's, read and
/// written as JSON strings only (serde's derive would also accept
/// `{"Variant": null}`). Each Rust name is checked to be readable.
fn value_list_enum(item: &syn::ItemEnum) -> TokenStream {
    let name = &item.ident;
    let docs = doc_attrs(&item.attrs);
    let mut variants = Vec::new();
    let mut texts = Vec::new();
    let mut variant_docs = Vec::new();
    for v in &item.variants {
        assert!(
            matches!(v.fields, Fields::Unit),
            "{name}::{} is not a plain value",
            v.ident
        );
        let text = serde_rename(&v.attrs).unwrap_or_else(|| v.ident.to_string());
        let ident = v.ident.to_string();
        assert!(
            !ident.starts_with("Variant") && !ident.starts_with('X'),
            "{name}: unreadable variant name {ident} for {text:?}"
        );
        variant_docs.push(format!("`{text}`"));
        variants.push(v.ident.clone());
        texts.push(text);
    }
    let expecting = format!("an IDMEFv2 {name} value");
    let count = variants.len();
    quote! {
        #(#docs)*
        #[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
        #[non_exhaustive]
        pub enum #name { #(#[doc = #variant_docs] #variants,)* }
        impl #name {
            /// Every value, in schema order.
            pub const ALL: [Self; #count] = [#(Self::#variants),*];
            /// The value as written in messages.
            pub const fn as_str(self) -> &'static str {
                match self { #(Self::#variants => #texts,)* }
            }
        }
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::std::str::FromStr for #name {
            type Err = crate::Violation;
            fn from_str(s: &str) -> ::std::result::Result<Self, crate::Violation> {
                match s {
                    #(#texts => Ok(Self::#variants),)*
                    _ => Err(crate::Violation::new("enum", concat!("not a ", stringify!(#name), " value"))),
                }
            }
        }
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = #name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(#expecting)
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<#name, E> {
                        match v {
                            #(#texts => Ok(#name::#variants),)*
                            _ => Err(E::invalid_value(::serde::de::Unexpected::Other("an unlisted value"), &self)),
                        }
                    }
                }
                d.deserialize_str(V)
            }
        }
    }
}
