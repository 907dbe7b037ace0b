//! The serde impls of every class: strict decoding (an object only, no
//! `null` for an optional member, no member twice, no unknown member) that
//! records the order members came in, and encoding in that order.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use crate::model::Field;

/// `Deserialize` and `Serialize` for the class `name`: a decoded object
/// remembers the order of its members, and encoding writes them back in
/// that order (members set later follow in schema order), so a message
/// read and written again differs only in spacing.
pub fn serde_impls(name: &Ident, fields: &[Field]) -> TokenStream {
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
    // The checker (`src/model/check.rs`): the same members and the same
    // duplicate, unknown and missing rules, each value checked and dropped.
    // The root keeps its `Version` and `ID` for the caller.
    let kept_members: &[&str] = if name_str == "Message" {
        &["Version", "ID"]
    } else {
        &[]
    };
    let check_ty = |f: &Field| {
        let ty = &f.value_ty;
        if kept_members.contains(&f.json) {
            quote!(support::Owned<#ty>)
        } else {
            quote!(#ty)
        }
    };
    let check_arms = fields
        .iter()
        .zip(&tags)
        .zip(&slots)
        .map(|((f, tag), slot)| {
            let (json, ty) = (f.json, check_ty(f));
            quote! {
                Member::#tag => {
                    if #slot.is_some() {
                        return Err(<A::Error as ::serde::de::Error>::duplicate_field(#json));
                    }
                    #slot = Some(map.next_value::<support::Checked<#ty>>()?.0);
                }
            }
        });
    let check_required = fields.iter().zip(&slots).filter(|(f, _)| f.required).map(|(f, slot)| {
        let json = f.json;
        quote!(let #slot = #slot.ok_or_else(|| <A::Error as ::serde::de::Error>::missing_field(#json))?;)
    });
    let (kept_slots, kept_tys): (Vec<&Ident>, Vec<&TokenStream>) = kept_members
        .iter()
        .map(|m| {
            let i = fields
                .iter()
                .position(|f| f.json == *m && f.required)
                .unwrap_or_else(|| panic!("{name_str}: no required member {m}"));
            (&slots[i], &fields[i].value_ty)
        })
        .unzip();
    quote! {
        const _: () = {
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
            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                    struct ObjectVisitor;
                    impl<'de> ::serde::de::Visitor<'de> for ObjectVisitor {
                        type Value = #name;
                        fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                            f.write_str(#expecting)
                        }
                        fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> ::std::result::Result<#name, A::Error> {
                            #(let mut #slots = None;)*
                            let mut order = support::MemberOrder::recorder();
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
            impl support::Check for #name {
                type Kept = (#(#kept_tys,)*);
                fn check<'de, D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self::Kept, D::Error> {
                    struct CheckVisitor;
                    impl<'de> ::serde::de::Visitor<'de> for CheckVisitor {
                        type Value = (#(#kept_tys,)*);
                        fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                            f.write_str(#expecting)
                        }
                        // A member's slot holds what its check kept, `()` for most.
                        #[allow(unused_variables, clippy::unit_arg, clippy::let_unit_value)]
                        fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> ::std::result::Result<Self::Value, A::Error> {
                            #(let mut #slots = None;)*
                            while let Some(member) = map.next_key::<Member>()? {
                                match member { #(#check_arms)* }
                            }
                            #(#check_required)*
                            Ok((#(#kept_slots,)*))
                        }
                    }
                    d.deserialize_map(CheckVisitor)
                }
            }
        };
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
