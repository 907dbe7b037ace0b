//! The builder of every class.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use crate::model::Field;

/// A builder per class: required properties without a default are the
/// arguments of `builder()`, every other property is a chained setter named
/// after the field (list setters append one item). Conversion failures are
/// collected with their JSON pointer and returned by `build()`.
pub fn builder(name: &Ident, fields: &[Field]) -> TokenStream {
    let builder = format_ident!("{name}Builder");
    let builder_doc = format!(
        "Builds a [`{name}`]: start with [`{name}::builder`], chain setters, finish with [`{builder}::build`]."
    );
    // Visible to the crate, for the hand-written setters of `src/model/`
    // (attachment content).
    let slots = fields.iter().map(|f| {
        let (ident, ty) = (f.ident, &f.value_ty);
        quote!(pub(crate) #ident: ::std::option::Option<#ty>,)
    });
    let args: Vec<&Field> = fields
        .iter()
        .filter(|f| f.required && f.default.is_none())
        .collect();
    let arg_params = args.iter().map(|f| {
        let (ident, ty) = (f.ident, &f.value_ty);
        quote!(#ident: impl support::IntoField<#ty>)
    });
    let init = fields.iter().map(|f| {
        let (ident, json) = (f.ident, format!("/{}", f.json));
        if let Some(default) = f.default {
            let default: syn::Expr = syn::parse_str(default).expect("default expr");
            quote!(#ident: Some(#default),)
        } else if f.required {
            quote!(#ident: support::convert(#ident, #json, &mut errors),)
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
                        pub fn #ident(mut self, item: impl support::IntoField<#item>) -> Self {
                            let list = self.#ident.get_or_insert_with(::std::vec::Vec::new);
                            let pointer = format!("{}/{}", #pointer, list.len());
                            if let Some(item) = support::convert(item, &pointer, &mut self.errors) {
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
                        pub fn #ident(mut self, value: impl support::IntoField<#ty>) -> Self {
                            if let Some(value) = support::convert(value, #pointer, &mut self.errors) {
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
            quote!(#ident: self.#ident.ok_or_else(|| support::missing(#json))?,)
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
            pub(crate) errors: ::std::vec::Vec<support::Violation>,
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
            pub fn build(self) -> ::std::result::Result<#name, support::Error> {
                if !self.errors.is_empty() {
                    return Err(support::refused(self.errors));
                }
                Ok(#name { #(#assemble)* order: support::MemberOrder::default() })
            }
        }
        impl support::IntoField<#name> for #builder {
            fn into_field(self) -> ::std::result::Result<#name, support::Error> {
                self.build()
            }
        }
    }
}
