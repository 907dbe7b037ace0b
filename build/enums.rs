//! Value lists: Rust enums whose text is the schema's.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Fields;

use crate::docs::ValueDocs;
use crate::fixups::{self, Tracker};
use crate::names::variant_name;
use crate::syntax::serde_rename;

/// A value list as a Rust enum whose text is the schema's, read and written
/// as JSON strings only (see [`fixups::replace_enum_serde`]). Each variant
/// is named by the one rule of [`crate::names`] (typify's names mix
/// `AvailabilityDDoS` with `TheftIp`) and documented with the value's text
/// from `schema/value-docs.json`.
pub fn value_list_enum(item: &syn::ItemEnum, docs: &ValueDocs, t: &mut Tracker) -> TokenStream {
    let name = &item.ident;
    let list = name.to_string();
    let enum_docs = fixups::replace_enum_serde(item, t);
    let mut variants: Vec<syn::Ident> = Vec::new();
    let mut texts = Vec::new();
    let mut variant_docs = Vec::new();
    for v in &item.variants {
        assert!(
            matches!(v.fields, Fields::Unit),
            "{name}::{} is not a plain value",
            v.ident
        );
        let text = serde_rename(&v.attrs).unwrap_or_else(|| v.ident.to_string());
        let ident = quote::format_ident!("{}", variant_name(&text));
        assert!(
            !variants.contains(&ident),
            "{name}: two values are both named {ident}, one of them {text:?}"
        );
        variant_docs.push(format!("`{text}`: {}", docs.of(&list, &text)));
        variants.push(ident);
        texts.push(text);
    }
    let expecting = format!("an IDMEFv2 {name} value");
    let name_str = name.to_string();
    let count = variants.len();
    quote! {
        #(#enum_docs)*
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
            type Err = support::Violation;
            fn from_str(s: &str) -> ::std::result::Result<Self, support::Violation> {
                match s {
                    #(#texts => Ok(Self::#variants),)*
                    other => Err(support::unlisted(#name_str, other, &[#(#texts),*])),
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
        // A value decodes to a plain `Copy` value: checking is decoding.
        support::check_by_decoding!(#name);
    }
}
