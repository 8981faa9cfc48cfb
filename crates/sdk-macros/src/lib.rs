//! `#[export]`: turns an ordinary Rust function into a function of a
//! wasm_nvim plugin (fast ABI). See the `wasm_nvim_sdk` docs.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, FnArg, ItemFn, Lit, Meta, ReturnType, Token, Type, parse_macro_input};

/// Exports a function to Neovim.
///
/// ```ignore
/// #[export]
/// fn greet(name: String) -> String { format!("Hello, {name}!") }
/// ```
/// Arguments are deserialized (serde) from the Lua call's arguments, the
/// result is serialized back; a `Result` whose error is `Display` becomes
/// a Lua error. `#[export(raw)]` exports a function of plain numbers
/// called without any encoding; `#[export(name = "x")]` renames it.
#[proc_macro_attribute]
pub fn export(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func = parse_macro_input!(item as ItemFn);
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse(attr) {
        Ok(m) => m,
        Err(e) => return e.to_compile_error().into(),
    };
    let mut raw = false;
    let mut name = func.sig.ident.to_string();
    for meta in metas {
        match meta {
            Meta::Path(p) if p.is_ident("raw") => raw = true,
            Meta::NameValue(nv) if nv.path.is_ident("name") => match nv.value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => name = s.value(),
                other => return syn::Error::new_spanned(other, "name must be a string").to_compile_error().into(),
            },
            other => {
                return syn::Error::new_spanned(other, "expected `raw` or `name = \"...\"`").to_compile_error().into();
            }
        }
    }
    match expand(&func, &name, raw) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(func: &ItemFn, name: &str, raw: bool) -> syn::Result<proc_macro2::TokenStream> {
    let ident = &func.sig.ident;
    let mut types: Vec<Type> = Vec::new();
    for arg in &func.sig.inputs {
        match arg {
            FnArg::Typed(pt) => types.push((*pt.ty).clone()),
            FnArg::Receiver(r) => return Err(syn::Error::new_spanned(r, "an exported function cannot take self")),
        }
    }
    let args: Vec<_> = (0..types.len()).map(|i| format_ident!("arg{i}")).collect();
    let entry = if raw { format!("{{\"name\":\"{name}\",\"raw\":true}}") } else { format!("{{\"name\":\"{name}\"}}") };
    let entry_len = entry.len();
    let entry_bytes = syn::LitByteStr::new(entry.as_bytes(), Span::call_site());
    let body = if raw {
        let ret = match &func.sig.output {
            ReturnType::Default => quote! {},
            ReturnType::Type(_, ty) => quote! { -> #ty },
        };
        quote! {
            #[unsafe(export_name = #name)]
            extern "C" fn __wasm_nvim_export(#(#args: #types),*) #ret {
                #ident(#(#args),*)
            }
        }
    } else {
        let returns_result = match &func.sig.output {
            ReturnType::Type(_, ty) => is_result(ty),
            ReturnType::Default => false,
        };
        let reply = if returns_result { quote! { reply_result } } else { quote! { reply } };
        let arity = types.len();
        if arity == 0 {
            quote! {
                #[unsafe(export_name = #name)]
                extern "C" fn __wasm_nvim_export(ptr: u32, len: u32) -> u64 {
                    ::wasm_nvim_sdk::__private::export0(ptr, len, || ::wasm_nvim_sdk::__private::#reply(#ident()))
                }
            }
        } else {
            quote! {
                #[unsafe(export_name = #name)]
                extern "C" fn __wasm_nvim_export(ptr: u32, len: u32) -> u64 {
                    ::wasm_nvim_sdk::__private::export(ptr, len, #arity, |(#(#args,)*): (#(#types,)*)| {
                        ::wasm_nvim_sdk::__private::#reply(#ident(#(#args),*))
                    })
                }
            }
        }
    };
    Ok(quote! {
        #func
        const _: () = {
            #body
            // One entry of the plugin's function list: the linker
            // concatenates every such section into one.
            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "wasm_nvim_functions")]
            #[used]
            static ENTRY: [u8; #entry_len] = *#entry_bytes;
        };
    })
}

fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Result"),
        _ => false,
    }
}
