//! The contract between the wasm_nvim host and its plugins, as constants:
//! the names both sides must spell alike and the bit layouts both sides
//! must pack alike. The host and the Rust SDK use this crate; the Zig and C
//! SDKs get the same values generated from this file (`make gen` writes
//! `guest/zig/wasm_nvim_abi.zig` and `guest/c/wasm_nvim_abi.h`).
//!
//! The ABI itself (both ABIs, what every import and export does, how values
//! are encoded, errors, callbacks, versioning) is specified in one place,
//! `doc/abi.md` in the repository:
//! <https://github.com/wasm-nvim/wasm_nvim/blob/main/doc/abi.md>.
//!
//! Two ABIs exist. The **seed ABI** (imports from module [`SEED_MODULE`],
//! values as JSON by id) is the one of the project's seed. The **msgpack
//! ABI** (imports from module [`MSGPACK_MODULE`], msgpack in the plugin's
//! memory) is chosen by exporting [`ABI_EXPORT`]` () -> i32` returning
//! [`ABI_VERSION`]; the SDKs speak it.
//!
//! Every constant below is one line of the form `pub const NAME: T = value;`
//! with a literal value: `scripts/gen_guest_api.lua` reads them so.

#![no_std]

// ---- Versioning -------------------------------------------------------------

/// The msgpack ABI version this crate describes: what [`ABI_EXPORT`] returns.
pub const ABI_VERSION: u32 = 1;

// ---- Exports of a plugin ----------------------------------------------------

/// The export `() -> i32` that selects the msgpack ABI by returning [`ABI_VERSION`]; without it a
/// plugin speaks the seed ABI.
pub const ABI_EXPORT: &str = "wasm_nvim_abi";
/// The export `(size: i32) -> i32`: memory of `size` bytes the host writes into (both ABIs); 0 is a
/// failure.
pub const ALLOC_EXPORT: &str = "alloc";
/// The export `(ptr: i32, size: i32)`: frees what [`ALLOC_EXPORT`] returned, or a buffer the plugin
/// handed over (both ABIs).
pub const DEALLOC_EXPORT: &str = "dealloc";
/// The export of the plugin's linear memory (both ABIs).
pub const MEMORY_EXPORT: &str = "memory";
/// The seed ABI's export `() -> i32`: the id of the JSON list of the plugin's functions.
pub const FUNCTIONALITY_EXPORT: &str = "functionality";
/// The msgpack ABI's export `(ptr: i32, len: i32) -> i64` returning the JSON function list as a
/// packed result, for a plugin without the [`FUNCTIONS_SECTION`] custom section.
pub const FUNCTIONS_EXPORT: &str = "wasm_nvim_functions";
/// The WASI reactor's export `()`, run once after instantiation when present.
pub const INITIALIZE_EXPORT: &str = "_initialize";

/// The custom section in which a msgpack-ABI plugin lists its functions: JSON objects, concatenated
/// (one small section per function, joined by the linker).
pub const FUNCTIONS_SECTION: &str = "wasm_nvim_functions";

// ---- Import modules ---------------------------------------------------------

/// The import module of the seed ABI: `get_id`, `get_addr`, `get_value_size`, `get_value_addr`,
/// `set_value`, `set_error`, `lua_exec`, `lua_eval` and the `nvim_*` API.
pub const SEED_MODULE: &str = "host";
/// The import module of the msgpack ABI: `lua`, `panic`, `has`, `version`, `job_progress`,
/// `job_cancelled` and the `nvim_*` API.
pub const MSGPACK_MODULE: &str = "nvim";
/// WASI preview 1, which the host provides (its `poll_oneoff` bounded by the call's time budget).
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

// ---- Imports of the msgpack ABI (module `nvim`) -----------------------------

/// `lua(code_ptr: i32, code_len: i32, args_ptr: i32, args_len: i32) -> i64`: runs a Lua chunk with
/// the arguments as its `...`; a packed result.
pub const LUA_IMPORT: &str = "lua";
/// `panic(ptr: i32, len: i32)`: the message of the trap that follows (at most 64 KiB are kept).
pub const PANIC_IMPORT: &str = "panic";
/// `has(name_ptr: i32, name_len: i32) -> i32`: 1 when the plugin can call API function `name`, else
/// 0.
pub const HAS_IMPORT: &str = "has";
/// `version() -> i64`: the running Neovim, packed as [`pack_version`] says.
pub const VERSION_IMPORT: &str = "version";
/// `job_progress(ptr: i32, len: i32) -> i32`: reports a msgpack value to a worker job's owner; 1
/// when the job was cancelled.
pub const JOB_PROGRESS_IMPORT: &str = "job_progress";
/// `job_cancelled() -> i32`: 1 when the worker job running this call was cancelled.
pub const JOB_CANCELLED_IMPORT: &str = "job_cancelled";

// ---- Imports of the seed ABI (module `host`) --------------------------------

/// `get_id() -> i32`: a fresh value id.
pub const GET_ID_IMPORT: &str = "get_id";
/// `get_addr(ptr: i32) -> i32`: returns `ptr` (the seed's way to take an address).
pub const GET_ADDR_IMPORT: &str = "get_addr";
/// `get_value_size(id: i32) -> i32`: the byte size of the value under `id`.
pub const GET_VALUE_SIZE_IMPORT: &str = "get_value_size";
/// `get_value_addr(id: i32) -> i32`: copies the value under `id` into memory from the plugin's
/// `alloc`, forgets the id, returns the address.
pub const GET_VALUE_ADDR_IMPORT: &str = "get_value_addr";
/// `set_value(id: i32, ptr: i32, size: i32)`: stores `size` bytes at `ptr` under `id`, then calls
/// the plugin's `dealloc(ptr, size)`.
pub const SET_VALUE_IMPORT: &str = "set_value";
/// `set_error(id: i32)`: the current call fails with the text under `id` once the export returns
/// (no trap).
pub const SET_ERROR_IMPORT: &str = "set_error";
/// `lua_exec(id: i32)`: runs the Lua code under `id`.
pub const LUA_EXEC_IMPORT: &str = "lua_exec";
/// `lua_eval(id: i32) -> i32`: evaluates the Lua expression under `id`; the id of its JSON result.
pub const LUA_EVAL_IMPORT: &str = "lua_eval";

// ---- Values -----------------------------------------------------------------

/// The key of a callback: `{"__wasm_callback": "<export>"}` (JSON in the seed ABI, a msgpack map in
/// the msgpack ABI) becomes a Lua function calling that export.
pub const CALLBACK_KEY: &str = "__wasm_callback";
/// The msgpack extension type of a Buffer handle (its payload is a msgpack integer), as in Neovim's
/// RPC.
pub const EXT_BUFFER: i8 = 0;
/// The msgpack extension type of a Window handle.
pub const EXT_WINDOW: i8 = 1;
/// The msgpack extension type of a Tabpage handle.
pub const EXT_TABPAGE: i8 = 2;

// ---- Packed results: `ptr | len << 32 | error << 63` --------------------------

/// Where a packed result's length starts (bits 32..63).
pub const PACKED_LEN_SHIFT: u32 = 32;
/// The bit of a packed result that says its buffer is an error message (UTF-8 text), not a value.
pub const PACKED_ERROR_SHIFT: u32 = 63;
/// The mask of a packed result's pointer (bits 0..32).
pub const PACKED_PTR_MASK: u64 = 0xffff_ffff;
/// The largest length a packed result holds (31 bits), and the mask of its length once shifted
/// down.
pub const PACKED_MAX_LEN: u32 = 0x7fff_ffff;
/// The error bit of a packed result, in place.
pub const PACKED_ERROR_BIT: u64 = 0x8000_0000_0000_0000;
/// The packed result of nil (no buffer, no error).
pub const PACKED_NIL: u64 = 0;

/// A packed result taken apart: `len` bytes at `ptr` in the plugin's memory (from its `alloc`; no
/// buffer when `len` is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packed {
    pub ptr: u32,
    pub len: u32,
    /// The buffer holds an error message (UTF-8 text), not a msgpack value.
    pub error: bool,
}

impl Packed {
    /// Takes a packed result apart (see [`unpack`]).
    pub const fn from_u64(packed: u64) -> Packed {
        unpack(packed)
    }

    /// Packs it (see [`pack`]).
    pub const fn to_u64(self) -> u64 {
        pack(self.ptr, self.len, self.error)
    }
}

/// `ptr | len << 32 | error << 63`. A `len` over [`PACKED_MAX_LEN`] is cut to 31 bits (it would
/// overwrite the error bit).
pub const fn pack(ptr: u32, len: u32, error: bool) -> u64 {
    let error = if error { PACKED_ERROR_BIT } else { 0 };
    ptr as u64 | ((len & PACKED_MAX_LEN) as u64) << PACKED_LEN_SHIFT | error
}

/// The pointer, length and error bit of a packed result.
pub const fn unpack(packed: u64) -> Packed {
    Packed {
        ptr: (packed & PACKED_PTR_MASK) as u32,
        len: (packed >> PACKED_LEN_SHIFT) as u32 & PACKED_MAX_LEN,
        error: packed & PACKED_ERROR_BIT != 0,
    }
}

// ---- The version word: `major << 48 | minor << 32 | patch << 16 | api_level` --

/// Where the major version sits in the word `version()` returns.
pub const VERSION_MAJOR_SHIFT: u32 = 48;
/// Where the minor version sits.
pub const VERSION_MINOR_SHIFT: u32 = 32;
/// Where the patch version sits.
pub const VERSION_PATCH_SHIFT: u32 = 16;
/// Where the API level sits (what `since` in the API metadata counts).
pub const VERSION_API_LEVEL_SHIFT: u32 = 0;
/// Each field is 16 bits; the host clamps larger numbers to this.
pub const VERSION_FIELD_MASK: u64 = 0xffff;

/// A Neovim version and API level, as the version word carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
    pub patch: u16,
    /// What `since` in the API metadata (and in the SDKs' binding docs) counts.
    pub api_level: u16,
}

/// `major << 48 | minor << 32 | patch << 16 | api_level`.
pub const fn pack_version(v: Version) -> u64 {
    (v.major as u64) << VERSION_MAJOR_SHIFT
        | (v.minor as u64) << VERSION_MINOR_SHIFT
        | (v.patch as u64) << VERSION_PATCH_SHIFT
        | (v.api_level as u64) << VERSION_API_LEVEL_SHIFT
}

/// The fields of a version word.
pub const fn unpack_version(word: u64) -> Version {
    Version {
        major: (word >> VERSION_MAJOR_SHIFT & VERSION_FIELD_MASK) as u16,
        minor: (word >> VERSION_MINOR_SHIFT & VERSION_FIELD_MASK) as u16,
        patch: (word >> VERSION_PATCH_SHIFT & VERSION_FIELD_MASK) as u16,
        api_level: (word >> VERSION_API_LEVEL_SHIFT & VERSION_FIELD_MASK) as u16,
    }
}

/// Whether two strings are equal, at compile time: lets an attribute that
/// takes only a literal (`#[link(wasm_import_module = "nvim")]`) be checked
/// against this crate, `const _: () = assert!(same(MSGPACK_MODULE, "nvim"));`.
pub const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_round_trips() {
        for p in [
            Packed { ptr: 0, len: 0, error: false },
            Packed { ptr: u32::MAX, len: PACKED_MAX_LEN, error: true },
            Packed { ptr: 1024, len: 5, error: false },
            Packed { ptr: 0, len: 0, error: true },
            Packed { ptr: 7, len: 1, error: true },
        ] {
            assert_eq!(Packed::from_u64(p.to_u64()), p);
            assert_eq!(unpack(pack(p.ptr, p.len, p.error)), p);
        }
    }

    #[test]
    fn packed_layout_is_ptr_len_error() {
        assert_eq!(pack(0x1234, 5, false), 0x0000_0005_0000_1234);
        assert_eq!(pack(0x1234, 5, true), 0x8000_0005_0000_1234);
        assert_eq!(pack(0, 0, false), PACKED_NIL);
        assert_eq!(pack(0, 0, true), 1 << 63, "an error without a buffer");
        assert_eq!(unpack(u64::MAX), Packed { ptr: u32::MAX, len: PACKED_MAX_LEN, error: true });
        assert_eq!(pack(1, u32::MAX, false) >> 63, 0, "a length over 31 bits never sets the error bit");
    }

    #[test]
    fn masks_agree_with_shifts() {
        assert_eq!(PACKED_ERROR_BIT, 1 << PACKED_ERROR_SHIFT);
        assert_eq!(PACKED_PTR_MASK, (1 << PACKED_LEN_SHIFT) - 1);
        assert_eq!(u64::from(PACKED_MAX_LEN), (1 << (PACKED_ERROR_SHIFT - PACKED_LEN_SHIFT)) - 1);
        assert_eq!(VERSION_FIELD_MASK, u64::from(u16::MAX));
    }

    #[test]
    fn version_word() {
        let v = Version { major: 0, minor: 11, patch: 4, api_level: 13 };
        assert_eq!(pack_version(v), 11 << 32 | 4 << 16 | 13);
        assert_eq!(unpack_version(pack_version(v)), v);
        let max = Version { major: u16::MAX, minor: 1, patch: 2, api_level: 3 };
        assert_eq!(unpack_version(pack_version(max)), max);
        assert!(Version { major: 0, minor: 12, patch: 0, api_level: 14 } > v);
    }

    #[test]
    fn same_compares_strings() {
        const { assert!(same(MSGPACK_MODULE, "nvim")) };
        assert!(same("", ""));
        assert!(!same("nvim", "nvi"));
        assert!(!same("host", "nvim"));
    }
}
