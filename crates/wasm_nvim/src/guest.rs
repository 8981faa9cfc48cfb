//! The guest's side of the contract (`memory`, `alloc`, `dealloc`, looked
//! up once per instance) and moving bytes in and out of guest memory,
//! bounds checked: everything the host reads from a plugin goes through
//! here.

use wasmtime::{AsContext, AsContextMut, Func, Instance, Memory};

use wasm_nvim_abi as abi;

use crate::error::{Error, Result};
use crate::shape::{ExportFn, call_checked};

/// The guest's side of the contract, looked up once per instance.
#[derive(Clone)]
pub struct Guest {
    pub io: GuestIo,
    /// In the order of the plugin's function list.
    pub exports: Vec<ExportFn>,
}

/// What the host needs to move bytes in and out of the guest (`Copy`).
#[derive(Clone, Copy)]
pub struct GuestIo {
    pub memory: Memory,
    /// `alloc(size: i32) -> i32`, type checked.
    alloc: Func,
    /// `dealloc(ptr: i32, size: i32)`, type checked.
    dealloc: Func,
}

impl Guest {
    /// Resolves `memory`, `alloc` and `dealloc`, with the name of whatever
    /// is missing or has the wrong type.
    pub fn resolve(instance: &Instance, mut store: impl AsContextMut) -> Result<Self> {
        let memory = instance
            .get_memory(&mut store, abi::MEMORY_EXPORT)
            .ok_or_else(|| Error::load("missing export 'memory' (the plugin must export its linear memory)"))?;
        let alloc = *instance
            .get_typed_func::<u32, u32>(&mut store, abi::ALLOC_EXPORT)
            .map_err(|e| export_type_error(e, abi::ALLOC_EXPORT, "(size: i32) -> i32"))?
            .func();
        let dealloc = *instance
            .get_typed_func::<(u32, u32), ()>(&mut store, abi::DEALLOC_EXPORT)
            .map_err(|e| export_type_error(e, abi::DEALLOC_EXPORT, "(ptr: i32, size: i32)"))?
            .func();
        Ok(Guest { io: GuestIo { memory, alloc, dealloc }, exports: Vec::new() })
    }
}

impl GuestIo {
    /// Calls the guest's `alloc`.
    pub fn alloc(&self, ctx: impl AsContextMut, size: u32) -> wasmtime::Result<u32> {
        // SAFETY: `alloc` was checked to be `(i32) -> i32` and belongs to
        // this guest's store, which `ctx` is.
        Ok(unsafe { call_checked(self.alloc, ctx, &[size], 1)? }.get_i32() as u32)
    }

    /// Calls the guest's `dealloc`.
    pub fn dealloc(&self, ctx: impl AsContextMut, ptr: u32, size: u32) -> wasmtime::Result<()> {
        // SAFETY: `dealloc` was checked to be `(i32, i32)`, as above.
        unsafe { call_checked(self.dealloc, ctx, &[ptr, size], 0) }.map(drop)
    }

    /// Copies `bytes` into memory the guest allocates for them (`None` for
    /// no bytes): the guest owns it from then on.
    pub fn give<T: 'static>(&self, mut store: impl AsContextMut<Data = T>, bytes: &[u8]) -> Result<u32> {
        if bytes.is_empty() {
            return Ok(0);
        }
        let len = u32::try_from(bytes.len()).map_err(|_| Error::limit("a value of 4 GiB or more"))?;
        let ptr = self.alloc(&mut store, len).map_err(|e| Error::from_wasm(e).context("alloc"))?;
        if ptr == 0 {
            return Err(Error::abi(format!("alloc({len}) returned 0")));
        }
        write_bytes(&mut store, self.memory, ptr, bytes)?;
        Ok(ptr)
    }
}

fn export_type_error(e: wasmtime::Error, name: &str, ty: &str) -> Error {
    Error::load(format!("export '{name}' must be a function {ty}: {e:#}"))
}

/// `ptr | len << 32 | error << 63`: how msgpack-ABI functions return a
/// buffer (the layout is the ABI crate's).
pub use wasm_nvim_abi::Packed;

/// Copies `len` bytes at `ptr` out of guest memory, bounds checked.
pub fn read_bytes<T: 'static>(store: impl AsContext<Data = T>, memory: Memory, ptr: u32, len: u32) -> Result<Vec<u8>> {
    let data = memory.data(&store);
    let start = ptr as usize;
    start
        .checked_add(len as usize)
        .and_then(|end| data.get(start..end))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| Error::abi(format!("range {ptr}+{len} is outside the plugin's memory ({} bytes)", data.len())))
}

/// Copies `bytes` into guest memory at `ptr`, bounds checked.
pub fn write_bytes<T: 'static>(
    store: impl AsContextMut<Data = T>,
    memory: Memory,
    ptr: u32,
    bytes: &[u8],
) -> Result<()> {
    let mut store = store;
    let data = memory.data_mut(&mut store);
    let size = data.len();
    let start = ptr as usize;
    start
        .checked_add(bytes.len())
        .and_then(|end| data.get_mut(start..end))
        .map(|dst| dst.copy_from_slice(bytes))
        .ok_or_else(|| {
            Error::abi(format!(
                "alloc returned {ptr}, but {ptr}+{} is outside the plugin's memory ({size} bytes)",
                bytes.len()
            ))
        })
}
