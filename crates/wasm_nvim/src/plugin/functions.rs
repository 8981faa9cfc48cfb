//! A plugin's function list: which ABI it speaks (`wasm_nvim_abi`), the
//! functions it lists (`functionality` for the seed ABI, the
//! `wasm_nvim_functions` custom section or export for the msgpack ABI) and
//! the shape each one is called with. Everything here reads what a plugin
//! controls, so every size is bounded.

use serde::Deserialize;
use wasm_nvim_abi as abi;
use wasmtime::{InstancePre, Store};

use crate::bounded;
use crate::call::invoke;
use crate::error::{Error, Result};
use crate::shape::{Abi, ExportFn, FunctionSpec, Payload, Reply, Shape};
use crate::state::HostState;

/// The msgpack ABI is chosen by exporting `wasm_nvim_abi() -> i32` returning 1.
pub(super) fn detect_abi(store: &mut Store<HostState>) -> Result<Abi> {
    let instance = store.data().instance.ok_or_else(|| Error::internal("no instance"))?;
    let Some(marker) = instance.get_func(&mut *store, abi::ABI_EXPORT) else { return Ok(Abi::Seed) };
    let marker = marker
        .typed::<(), u32>(&*store)
        .map_err(|e| Error::load(format!("export 'wasm_nvim_abi' must have type () -> i32: {e:#}")))?;
    match invoke(&mut *store, &ExportFn::Raw(*marker.func()), Payload::None)? {
        Reply::Number(slots) if slots.values[0].get_i32() as u32 == abi::ABI_VERSION => Ok(Abi::Msgpack),
        Reply::Number(slots) => Err(Error::load(format!(
            "wasm_nvim_abi() returned {}; this wasm_nvim speaks version {}",
            slots.values[0].get_i32(),
            abi::ABI_VERSION
        ))),
        _ => Err(Error::internal("wasm_nvim_abi() gave no result")),
    }
}

/// The name of the custom section a msgpack-ABI plugin may list its
/// functions in (one JSON object per function, concatenated — what a
/// linker makes of one small section per function).
pub use wasm_nvim_abi::FUNCTIONS_SECTION;

/// Asks the plugin for its function list, per ABI, and resolves each
/// function's shape.
pub(super) fn list_functions(
    store: &mut Store<HostState>,
    abi: Abi,
    pre: &InstancePre<HostState>,
    wasm: &[u8],
) -> Result<Vec<FunctionSpec>> {
    let instance = store.data().instance.ok_or_else(|| Error::internal("no instance"))?;
    let section = match abi {
        Abi::Msgpack => crate::wasmfile::custom_section(wasm, FUNCTIONS_SECTION)?,
        Abi::Seed => None,
    };
    let (export, list) = match (abi, section) {
        (Abi::Msgpack, Some(section)) => {
            let mut objects: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&section)
                .into_iter()
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| Error::load(format!("custom section {FUNCTIONS_SECTION}: {e}")))?;
            // The linker concatenates the entries in no useful order; the
            // Rust SDK writes each one's source line: list them as written.
            objects.sort_by_key(|o| o.get("line").and_then(serde_json::Value::as_u64).unwrap_or(u64::MAX));
            (FUNCTIONS_SECTION, serde_json::to_vec(&objects).map(Reply::Bytes).map_err(Error::from))
        }
        (Abi::Seed, _) => {
            let f = instance
                .get_typed_func::<(), u32>(&mut *store, abi::FUNCTIONALITY_EXPORT)
                .map_err(|e| Error::load(format!("export 'functionality' must be a function () -> i32: {e:#}")))?;
            (abi::FUNCTIONALITY_EXPORT, invoke(&mut *store, &ExportFn::Ret(*f.func()), Payload::None))
        }
        (Abi::Msgpack, None) => {
            let f = instance.get_typed_func::<(u32, u32), u64>(&mut *store, abi::FUNCTIONS_EXPORT).map_err(|e| {
                Error::load(format!("export 'wasm_nvim_functions' must be a function (i32, i32) -> i64: {e:#}"))
            })?;
            (abi::FUNCTIONS_EXPORT, invoke(&mut *store, &ExportFn::Msgpack(*f.func()), Payload::Bytes(Vec::new())))
        }
    };
    let json = match list.map_err(|e| e.context(export))? {
        Reply::Bytes(bytes) => bytes,
        _ => return Err(Error::load(format!("{export} returned nothing"))),
    };
    let listed = parse_functionality(&json).map_err(|e| e.context(export))?;
    listed
        .into_iter()
        .map(|f| {
            let shape = if f.raw {
                let ty = pre.module().get_export(&f.name).and_then(|e| e.func().cloned());
                ty.as_ref().and_then(Shape::raw).ok_or_else(|| {
                    Error::load(format!(
                        "raw export '{}' must be a function of numbers with at most one result",
                        f.name
                    ))
                })?
            } else {
                match abi {
                    Abi::Seed => Shape::Seed { takes_arg: f.takes_arg, returns: f.returns },
                    Abi::Msgpack => Shape::Msgpack,
                }
            };
            Ok(FunctionSpec { name: f.name, shape, signature: f.signature, doc: f.doc })
        })
        .collect()
}

#[derive(Deserialize)]
struct ListEntry {
    name: String,
    #[serde(default)]
    params: serde_json::Value,
    #[serde(default)]
    returns: serde_json::Value,
    #[serde(default)]
    raw: bool,
    /// Written by the SDKs: shown by `:Wasm info`, never interpreted.
    #[serde(default)]
    signature: serde_json::Value,
    #[serde(default)]
    doc: serde_json::Value,
}

/// One entry of a function list, before its shape is resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    /// `params` is not `"void"` (seed ABI): the export takes one value id.
    pub takes_arg: bool,
    /// `returns` is not `"void"` (seed ABI): the export returns one value id.
    pub returns: bool,
    /// Called with plain numbers, no encoding.
    pub raw: bool,
    pub signature: Option<String>,
    pub doc: Option<String>,
}

/// A short text field of the list, if it is one (cut at 200 characters).
fn text_field(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(|s| s.chars().take(200).collect())
}

/// `"void"` (or a missing field) means none; any other value means one id.
fn is_void(v: &serde_json::Value) -> bool {
    v.is_null() || v.as_str() == Some("void")
}

/// Most functions a plugin may list (the whole Neovim API is ~200).
pub const MAX_FUNCTIONS: usize = 10_000;
/// Longest function name, in bytes.
pub const MAX_NAME: usize = 1024;

/// Parses the JSON array `functionality` (or `wasm_nvim_functions`) returns.
pub fn parse_functionality(json: &[u8]) -> Result<Vec<Listed>> {
    let entries: Vec<ListEntry> = serde_json::from_slice(json).map_err(|e| {
        Error::load(format!(
            "expected a JSON array of {{\"name\", \"params\", \"returns\"}} objects, got {:?}: {e}",
            String::from_utf8_lossy(&json[..json.len().min(80)])
        ))
    })?;
    if entries.len() > MAX_FUNCTIONS {
        return Err(Error::load(format!("the plugin lists {} functions, more than {MAX_FUNCTIONS}", entries.len())));
    }
    let mut out: Vec<Listed> = Vec::with_capacity(entries.len());
    let mut names = std::collections::HashSet::with_capacity(entries.len());
    for spec in entries {
        if spec.name.is_empty() {
            return Err(Error::load("a function has an empty name"));
        }
        if spec.name.len() > MAX_NAME {
            return Err(Error::load(format!(
                "a function name of {} bytes ({:?}...); names are at most {MAX_NAME} bytes",
                spec.name.len(),
                bounded::truncate(&spec.name, 40)
            )));
        }
        if !names.insert(spec.name.clone()) {
            return Err(Error::load(format!("function '{}' is listed twice", spec.name)));
        }
        out.push(Listed {
            takes_arg: !is_void(&spec.params),
            returns: !is_void(&spec.returns),
            raw: spec.raw,
            signature: text_field(&spec.signature),
            doc: text_field(&spec.doc),
            name: spec.name,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_example() {
        let specs = parse_functionality(br#"[{"name":"hi", "params": "void", "returns": "void"}]"#).unwrap();
        assert_eq!(
            specs,
            vec![Listed {
                name: "hi".into(),
                takes_arg: false,
                returns: false,
                raw: false,
                signature: None,
                doc: None
            }]
        );
    }

    #[test]
    fn anything_but_void_means_one_value() {
        let specs = parse_functionality(br#"[{"name":"f","params":"string","returns":{"t":1}},{"name":"g"}]"#).unwrap();
        assert!(specs[0].takes_arg && specs[0].returns);
        assert!(!specs[1].takes_arg && !specs[1].returns, "missing fields are void");
    }

    #[test]
    fn rejects_malformed_lists() {
        assert!(parse_functionality(b"{\"name\":\"x\"}").is_err());
        assert!(parse_functionality(b"[{\"params\":\"void\"}]").is_err());
        assert!(parse_functionality(b"[{\"name\":\"\"}]").is_err());
        assert!(parse_functionality(b"[{\"name\":\"a\"},{\"name\":\"a\"}]").is_err());
        assert!(parse_functionality(b"[{\"name\":\"a\"").is_err());
    }

    #[test]
    fn long_lists_and_names_are_refused_and_duplicates_found_fast() {
        let list =
            |n: usize| format!("[{}]", (0..n).map(|i| format!(r#"{{"name":"f{i}"}}"#)).collect::<Vec<_>>().join(","));
        assert_eq!(parse_functionality(list(MAX_FUNCTIONS).as_bytes()).map(|l| l.len()).ok(), Some(MAX_FUNCTIONS));
        let err =
            parse_functionality(list(MAX_FUNCTIONS + 1).as_bytes()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("lists 10001 functions, more than 10000"), "{err}");
        let long = format!(r#"[{{"name":"{}"}}]"#, "n".repeat(MAX_NAME + 1));
        assert!(parse_functionality(long.as_bytes()).is_err());
        let mut dup = list(MAX_FUNCTIONS - 1);
        dup.insert_str(dup.len() - 1, r#",{"name":"f0"}"#);
        let err = parse_functionality(dup.as_bytes()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("'f0' is listed twice"), "{err}");
    }
}
