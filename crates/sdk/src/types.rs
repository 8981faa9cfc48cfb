//! Neovim's value types: handles (msgpack extension types 0, 1, 2, as in
//! Neovim's RPC), callbacks, and dynamic objects.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Any value (what the API calls `Object`).
pub type Object = rmpv::Value;

/// A dictionary of options or results (what the API calls `Dict`).
pub type Dict = BTreeMap<String, Object>;

macro_rules! handle {
    ($name:ident, $ext:expr, $what:literal) => {
        #[doc = concat!("A ", $what, " handle. `", stringify!($name), "(0)` is the current one.")]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub i64);

        impl $name {
            /// The current one.
            pub const CURRENT: $name = $name(0);
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut payload = Vec::with_capacity(9);
                rmp::encode::write_sint(&mut payload, self.0).map_err(serde::ser::Error::custom)?;
                s.serialize_newtype_struct(
                    rmp_serde::MSGPACK_EXT_STRUCT_NAME,
                    &($ext, serde_bytes::ByteBuf::from(payload)),
                )
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(HandleVisitor(concat!("a ", $what))).map($name)
            }
        }
    };
}

handle!(Buffer, wasm_nvim_abi::EXT_BUFFER, "buffer");
handle!(Window, wasm_nvim_abi::EXT_WINDOW, "window");
handle!(Tabpage, wasm_nvim_abi::EXT_TABPAGE, "tabpage");

/// Accepts a handle as an extension type or as a plain integer (what Lua
/// passes).
struct HandleVisitor(&'static str);

impl<'de> Visitor<'de> for HandleVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(E::custom)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<i64, D::Error> {
        let (_tag, payload): (i8, serde_bytes::ByteBuf) = Deserialize::deserialize(d)?;
        let mut rd = &payload[..];
        rmp::decode::read_int(&mut rd).map_err(de::Error::custom)
    }
}

/// One of the plugin's exports, passed where Neovim takes a Lua function
/// (an autocmd callback, a keymap, `on_lines` ...). The export receives
/// the Lua arguments; what it returns goes back to Neovim.
///
/// `Callback::new(on_write)` names the `#[export]` function itself, so a
/// typo is a compile error; `Callback::named("x")` takes the export's name
/// (needed for `#[export(name = "x")]`, whose Rust name differs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback(pub String);

impl Callback {
    /// The export `f` (an `#[export]` function, named by its Rust path).
    pub fn new<F: ExportFn<M>, M>(f: F) -> Self {
        let _ = f;
        let path = std::any::type_name::<F>();
        // a function item's type name is its path: `my_plugin::on_write`
        let name = path.rsplit("::").next().unwrap_or(path);
        Callback(name.to_string())
    }

    /// The export named `export`.
    pub fn named(export: impl Into<String>) -> Self {
        Callback(export.into())
    }
}

/// Functions (not strings, not closures' results): what [`Callback::new`]
/// takes. `M` only tells the arities apart.
pub trait ExportFn<M>: Copy + 'static {}

macro_rules! export_fn {
    ($($arg:ident),*) => {
        impl<F, R, $($arg),*> ExportFn<(R, $($arg,)*)> for F where F: Fn($($arg),*) -> R + Copy + 'static {}
    };
}
export_fn!();
export_fn!(A);
export_fn!(A, B);
export_fn!(A, B, C);
export_fn!(A, B, C, D);
export_fn!(A, B, C, D, E);
export_fn!(A, B, C, D, E, G);
export_fn!(A, B, C, D, E, G, H);
export_fn!(A, B, C, D, E, G, H, I);

impl Serialize for Callback {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(wasm_nvim_abi::CALLBACK_KEY, &self.0)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_extension_types_and_accept_integers() {
        let bytes = rmp_serde::to_vec(&Buffer(7)).unwrap();
        assert_eq!(bytes, [0xd4, 0x00, 0x07], "fixext1, type 0, payload 7");
        assert_eq!(rmp_serde::from_slice::<Buffer>(&bytes).unwrap(), Buffer(7));
        assert_eq!(rmp_serde::from_slice::<Window>(&rmp_serde::to_vec(&1005).unwrap()).unwrap(), Window(1005));
    }

    #[test]
    fn callbacks_are_the_host_marker() {
        let v: rmpv::Value = rmp_serde::from_slice(&rmp_serde::to_vec(&Callback::named("on_save")).unwrap()).unwrap();
        assert_eq!(v.to_string(), r#"{"__wasm_callback": "on_save"}"#);
        fn on_write() {}
        assert_eq!(Callback::new(on_write), Callback::named("on_write"), "a function names its export");
    }
}
