//! The LuaJIT FFI fast path for raw exports.
//!
//! A raw export (plain numbers in and out) is called from Lua through
//! `ffi.C`-style calls into this library, which LuaJIT compiles into its
//! traces: no Lua C API, no mlua, no encoding. The Lua side (helpers.lua,
//! `ffi_wrap`) loads this same library with `ffi.load` by its absolute path
//! (`require` loads it RTLD_LOCAL, so its symbols are not global), keeps a
//! handle per function, and falls back to the regular function whenever
//! the fast path says so (an argument that is not a number, a plugin to
//! instantiate, output to show) or to raise an error.
//!
//! Nothing here may unwind into LuaJIT: every entry point catches panics.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::rc::Rc;

use crate::panics;
use crate::plugin::{FfiOutcome, Plugin};
use crate::raw::{MAX_PARAMS, Num, Numbers};

/// One raw function, as the Lua wrapper holds it (freed by `ffi.gc`). It
/// keeps its plugin alive, as the regular function does.
pub struct FfiFn {
    plugin: Rc<Plugin>,
    index: usize,
    params: Vec<Num>,
    result: Option<Num>,
}

/// Status codes of [`wasm_nvim_ffi_call`].
const OK: i32 = 0;
const ERROR: i32 = 1;
const FALLBACK: i32 = 2;
const OK_SHOW_OUTPUT: i32 = 3;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

impl FfiFn {
    /// A handle for the Lua wrapper: a pointer it passes back on each call.
    pub fn handle(plugin: Rc<Plugin>, index: usize, params: Vec<Num>, result: Option<Num>) -> usize {
        Box::into_raw(Box::new(FfiFn { plugin, index, params, result })) as usize
    }
}

/// Calls the raw function behind `handle` with up to 4 number arguments
/// (`nargs` of them). Sets `*status` to 0 (ok), 1 (error: see
/// [`wasm_nvim_ffi_error`]), 2 (call the regular function instead) or 3 (ok,
/// and the plugin printed something the regular path must show).
///
/// # Safety
/// `handle` comes from [`FfiFn::handle`] and was not freed; `status` points
/// to a writable `int32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasm_nvim_ffi_call(
    handle: *const FfiFn,
    nargs: i32,
    a0: f64,
    a1: f64,
    a2: f64,
    a3: f64,
    status: *mut i32,
) -> f64 {
    // SAFETY: per this function's contract.
    let (f, status) = unsafe { (&*handle, &mut *status) };
    match panics::catch(|| call(f, nargs, [a0, a1, a2, a3])) {
        Ok(Ok((value, code))) => {
            *status = code;
            value
        }
        // FALLBACK, or ERROR with its message already set
        Ok(Err(code)) => {
            *status = code;
            0.0
        }
        Err(e) => {
            set_error(&format!("wasm_nvim: {e}"));
            *status = ERROR;
            0.0
        }
    }
}

fn call(f: &FfiFn, nargs: i32, args: [f64; 4]) -> Result<(f64, i32), i32> {
    let plugin = &f.plugin;
    if nargs as usize != f.params.len() || f.params.len() > 4 {
        return Err(FALLBACK);
    }
    let mut slots = Numbers::new();
    for (i, ty) in f.params.iter().enumerate() {
        slots.values[i] = ty.from_f64(args[i]).ok_or(FALLBACK)?;
    }
    debug_assert!(f.params.len() <= MAX_PARAMS);
    match plugin.call_ffi(f.index, &mut slots) {
        FfiOutcome::Ok => Ok((f.result.map_or(0.0, |t| t.to_f64(slots.values[0])), OK)),
        FfiOutcome::OkShowOutput => Ok((f.result.map_or(0.0, |t| t.to_f64(slots.values[0])), OK_SHOW_OUTPUT)),
        FfiOutcome::Fallback => Err(FALLBACK),
        FfiOutcome::Error(e) => {
            let name = plugin.functions.get(f.index).map_or("?", |s| s.name.as_str());
            set_error(&format!("wasm_nvim: {}.{name}: {e}", plugin.name));
            Err(ERROR)
        }
    }
}

fn set_error(message: &str) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = c);
}

/// The message of the last error on this thread (valid until the next call).
#[unsafe(no_mangle)]
pub extern "C" fn wasm_nvim_ffi_error() -> *const c_char {
    LAST_ERROR.try_with(|e| e.borrow().as_ptr()).unwrap_or(c"wasm_nvim: error".as_ptr())
}

/// Frees a handle (the Lua wrapper's `ffi.gc` finalizer).
///
/// # Safety
/// `handle` comes from [`FfiFn::handle`] and is freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasm_nvim_ffi_free(handle: *mut FfiFn) {
    if !handle.is_null() {
        // SAFETY: per this function's contract; dropping only frees memory
        // and a weak count, which cannot panic.
        drop(unsafe { Box::from_raw(handle) });
    }
}

/// The absolute path of this library, for `ffi.load`.
#[cfg(unix)]
pub fn library_path() -> Option<String> {
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr only reads the address of one of our own functions
    // and fills `info`; `dli_fname` points into the loader's data.
    unsafe {
        if libc::dladdr(wasm_nvim_ffi_error as *const libc::c_void, info.as_mut_ptr()) == 0 {
            return None;
        }
        let info = info.assume_init();
        if info.dli_fname.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(info.dli_fname).to_str().ok().map(str::to_owned)
    }
}

/// The absolute path of this library, for `ffi.load`: the module that
/// contains one of our own functions, and that module's file name.
#[cfg(windows)]
pub fn library_path() -> Option<String> {
    use windows_sys::Win32::Foundation::HMODULE;
    use windows_sys::Win32::System::LibraryLoader::{
        GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, GetModuleFileNameW,
        GetModuleHandleExW,
    };
    let mut module: HMODULE = std::ptr::null_mut();
    let mut buf = vec![0u16; 32 * 1024];
    // SAFETY: FROM_ADDRESS makes the "name" argument an address inside a
    // module (one of our own functions); UNCHANGED_REFCOUNT takes no
    // reference, so nothing must be released. GetModuleFileNameW writes at
    // most `buf.len()` UTF-16 units into `buf` and returns how many.
    let len = unsafe {
        if GetModuleHandleExW(
            GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
            wasm_nvim_ffi_error as *const u16,
            &mut module,
        ) == 0
        {
            return None;
        }
        GetModuleFileNameW(module, buf.as_mut_ptr(), buf.len() as u32) as usize
    };
    if len == 0 || len >= buf.len() {
        return None;
    }
    String::from_utf16(&buf[..len]).ok()
}

#[cfg(not(any(unix, windows)))]
pub fn library_path() -> Option<String> {
    None
}
