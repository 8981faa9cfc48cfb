//! `#[export]`: turns an ordinary Rust function into a function of a
//! wasm_nvim plugin (msgpack ABI, doc/abi.md). See the `wasm_nvim_sdk` docs.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{ToTokens, format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, FnArg, ItemFn, Lit, Meta, Pat, ReturnType, Token, Type, parse_macro_input};

/// Exports a function to Neovim.
///
/// ```ignore
/// #[export]
/// fn greet(name: &str) -> String { format!("Hello, {name}!") }
/// ```
/// Arguments are deserialized (serde) from the Lua call's arguments, one by
/// one, so a wrong one is named: `argument 1 (name): expected a string, got
/// an integer`; the result is serialized back; a `Result` whose error is
/// `Display` becomes a Lua error. A first parameter `&mut S` receives the
/// plugin's state (`S: wasm_nvim_sdk::Plugin`), which takes no argument.
/// A single parameter of type `OnLines` receives all the arguments (what
/// `nvim_buf_attach` passes). A parameter of type `Result<T>` (the SDK's)
/// receives a bad argument's error instead of failing the call (for plugins
/// that answer `{ error = ... }`). `#[export(raw)]` exports a function of
/// plain numbers called without any encoding; `#[export(name = "x")]`
/// renames it; `#[export(callback)]` exports it for
/// `Callback::new` only: it is not listed among the plugin's functions
/// (`require("wasm_nvim").<plugin>`, `:Wasm info`).
///
/// The parameter names and types and the first doc line go into the
/// module's `wasm_nvim_functions` section, shown by `:Wasm info`.
#[proc_macro_attribute]
pub fn export(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func = parse_macro_input!(item as ItemFn);
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse(attr) {
        Ok(m) => m,
        Err(e) => return e.to_compile_error().into(),
    };
    let mut raw = false;
    let mut listed = true;
    let mut name = func.sig.ident.to_string();
    for meta in metas {
        match meta {
            Meta::Path(p) if p.is_ident("raw") => raw = true,
            Meta::Path(p) if p.is_ident("callback") => listed = false,
            Meta::NameValue(nv) if nv.path.is_ident("name") => match nv.value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => name = s.value(),
                other => return syn::Error::new_spanned(other, "name must be a string").to_compile_error().into(),
            },
            other => {
                return syn::Error::new_spanned(other, "expected `raw`, `callback` or `name = \"...\"`")
                    .to_compile_error()
                    .into();
            }
        }
    }
    match expand(&func, &name, raw, listed) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// One parameter of the exported function.
struct Param {
    name: String,
    ty: Type,
}

fn params(func: &ItemFn) -> syn::Result<Vec<Param>> {
    func.sig
        .inputs
        .iter()
        .enumerate()
        .map(|(i, arg)| match arg {
            FnArg::Typed(pt) => {
                let name = match &*pt.pat {
                    Pat::Ident(id) => id.ident.to_string().trim_start_matches('_').to_string(),
                    _ => format!("arg{}", i + 1),
                };
                Ok(Param { name, ty: (*pt.ty).clone() })
            }
            FnArg::Receiver(r) => Err(syn::Error::new_spanned(r, "an exported function cannot take self")),
        })
        .collect()
}

/// `&mut S`: the plugin's state.
fn state_type(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Reference(r) if r.mutability.is_some() => Some(&r.elem),
        _ => None,
    }
}

fn last_segment_is(ty: &Type, ident: &str) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == ident))
}

/// Type text as written, without the token spacing (`Option<&str>`).
fn type_text(tokens: impl ToTokens) -> String {
    let mut text = tokens.to_token_stream().to_string();
    for (from, to) in [
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        ("& ", "&"),
        (" ,", ","),
        (" :: ", "::"),
        (":: ", "::"),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
        ("' ", "'"),
    ] {
        text = text.replace(from, to);
    }
    text
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn doc_line(func: &ItemFn) -> Option<String> {
    func.attrs.iter().find_map(|a| match &a.meta {
        Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
            Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s.value().trim().to_string()),
            _ => None,
        },
        _ => None,
    })
}

fn expand(func: &ItemFn, name: &str, raw: bool, listed: bool) -> syn::Result<proc_macro2::TokenStream> {
    let ident = &func.sig.ident;
    let all = params(func)?;
    let state = all.first().and_then(|p| state_type(&p.ty)).cloned();
    let lua_params: Vec<&Param> = all.iter().skip(usize::from(state.is_some())).collect();
    let returns = match &func.sig.output {
        ReturnType::Default => String::new(),
        ReturnType::Type(_, ty) => format!(" -> {}", type_text(ty)),
    };
    let signature = format!(
        "({}){returns}",
        lua_params
            .iter()
            .map(|p| format!("{}: {}", p.name, type_text(result_inner(&p.ty).unwrap_or(&p.ty))))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The source line orders the list (the linker concatenates in no useful order).
    let line = func.sig.ident.span().unwrap().line();
    let mut entry =
        format!("{{\"name\":{},\"line\":{line},\"signature\":{}", json_string(name), json_string(&signature));
    if let Some(doc) = doc_line(func) {
        entry.push_str(&format!(",\"doc\":{}", json_string(&doc)));
    }
    entry.push_str(if raw { ",\"raw\":true}" } else { "}" });
    if !listed {
        // Not listed, but the section exists (JSON whitespace): a plugin
        // of callbacks only still has a (empty) function list.
        entry = " ".into();
    }
    let entry_len = entry.len();
    let entry_bytes = syn::LitByteStr::new(entry.as_bytes(), Span::call_site());
    let section = syn::LitStr::new(wasm_nvim_abi::FUNCTIONS_SECTION, Span::call_site());
    let body = if raw {
        if state.is_some() {
            return Err(syn::Error::new_spanned(&func.sig, "a raw export cannot take the plugin state"));
        }
        let types: Vec<&Type> = all.iter().map(|p| &p.ty).collect();
        let args: Vec<_> = (0..types.len()).map(|i| format_ident!("arg{i}")).collect();
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
        let reply = if returns_result {
            quote! { reply_result }
        } else {
            quote! { reply }
        };
        let args: Vec<_> = (0..lua_params.len()).map(|i| format_ident!("arg{i}")).collect();
        let whole = lua_params.len() == 1 && last_segment_is(&lua_params[0].ty, "OnLines");
        let decode = lua_params.iter().enumerate().map(|(i, p)| {
            let (arg, ty, pname) = (&args[i], &p.ty, &p.name);
            let get = if whole {
                quote! { __args.whole() }
            } else {
                quote! { __args.get(#i, #pname) }
            };
            if let Some(inner) = result_inner(ty) {
                // `Result<T>`: the function sees the error.
                return quote! {
                    let #arg: #ty = __args.get::<#inner>(#i, #pname).map_err(::wasm_nvim_sdk::Error::new);
                };
            }
            quote! {
                let #arg: #ty = match #get {
                    Ok(v) => v,
                    Err(e) => return ::wasm_nvim_sdk::__private::fail(e),
                };
            }
        });
        let call = match &state {
            Some(s) => quote! {
                ::wasm_nvim_sdk::__private::with_state::<#s, _>(|__state| ::wasm_nvim_sdk::__private::#reply(#ident(__state, #(#args),*)))
            },
            None => quote! { ::wasm_nvim_sdk::__private::#reply(#ident(#(#args),*)) },
        };
        quote! {
            #[unsafe(export_name = #name)]
            extern "C" fn __wasm_nvim_export(ptr: u32, len: u32) -> u64 {
                // SAFETY: the host allocated the arguments with our `alloc(len)`.
                let __call = unsafe { ::wasm_nvim_sdk::__private::Call::take(ptr, len) };
                let __args = match __call.args() {
                    Ok(a) => a,
                    Err(e) => return ::wasm_nvim_sdk::__private::fail(e),
                };
                #(#decode)*
                #call
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
            #[unsafe(link_section = #section)]
            #[used]
            static ENTRY: [u8; #entry_len] = *#entry_bytes;
        };
    })
}

/// `T` of a parameter typed `Result<T>` (or `Result<T, E>`).
fn result_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last().filter(|s| s.ident == "Result")?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Result"),
        _ => false,
    }
}
