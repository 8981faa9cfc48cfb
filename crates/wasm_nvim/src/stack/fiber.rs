//! Windows: one fiber per thread, kept for the thread's life, that
//! outermost plugin calls run on.
//!
//! Neovim's main thread on Windows has a 1 MiB stack, less than a plugin's
//! budget, so every outermost call needs another stack. A fiber is the
//! only supported way to have one on Windows (the OS tracks stack bounds
//! per fiber; exception dispatch and stack probes rely on them). Creating
//! and deleting one per call, as `stacker::grow` does, cost about 27 µs
//! per call under Wine; switching to a kept one costs about a microsecond.
//! Nested entries that need a stack while this one is busy still get a
//! fresh `stacker` segment.

use std::cell::{Cell, OnceCell};
use std::ffi::c_void;
use std::ptr;

use windows_sys::Win32::System::Memory::{MEMORY_BASIC_INFORMATION, VirtualQuery};
use windows_sys::Win32::System::Threading::{
    ConvertFiberToThread, ConvertThreadToFiber, CreateFiber, DeleteFiber, IsThreadAFiber, SwitchToFiber,
};

/// Kept off the bottom of the fiber's stack: the guard page and what
/// Windows reserves for handling a stack overflow.
const BOTTOM_RESERVE: usize = 64 << 10;

/// What the thread and its fiber share: the job to run and where to return.
struct Mailbox {
    /// The job, lifetime erased; set only while `run` waits for it.
    job: Cell<Option<*mut (dyn FnMut(usize) + 'static)>>,
    /// The fiber `run` switched from.
    parent: Cell<*mut c_void>,
}

/// This thread's kept fiber.
struct Kept {
    fiber: *mut c_void,
    mailbox: *mut Mailbox,
    busy: Cell<bool>,
}

impl Drop for Kept {
    fn drop(&mut self) {
        // SAFETY: the fiber is not running (the thread is exiting on its
        // own stack) and is never used again; the mailbox was made by
        // `Box::into_raw` and the deleted fiber no longer refers to it.
        unsafe {
            DeleteFiber(self.fiber);
            drop(Box::from_raw(self.mailbox));
        }
    }
}

thread_local! {
    /// Created on first use; None if it could not be (then never retried).
    static KEPT: OnceCell<Option<Kept>> = const { OnceCell::new() };
}

/// The fiber's body: runs each job it is given, then switches back.
unsafe extern "system" fn fiber_main(param: *mut c_void) {
    // SAFETY: `param` is the mailbox `create` made for this fiber; it
    // outlives the fiber (dropped only after `DeleteFiber`).
    let mailbox = unsafe { &*(param as *const Mailbox) };
    let low = stack_low();
    loop {
        if let Some(job) = mailbox.job.take() {
            // SAFETY: `run` set `job` from a live `&mut dyn FnMut` and
            // waits, not touching it, until this switches back. Jobs do not
            // unwind (`run`'s contract).
            unsafe { (*job)(low) };
        }
        // SAFETY: `parent` is the fiber `run` switched from, still alive.
        unsafe { SwitchToFiber(mailbox.parent.get()) };
    }
}

/// The lowest address on the current (fiber) stack safe to use.
fn stack_low() -> usize {
    let marker = 0u8;
    let mut info = std::mem::MaybeUninit::<MEMORY_BASIC_INFORMATION>::zeroed();
    // SAFETY: queries the region holding a live local into a buffer of
    // the size given.
    let got = unsafe {
        VirtualQuery(
            std::hint::black_box(&marker) as *const u8 as *const c_void,
            info.as_mut_ptr(),
            std::mem::size_of::<MEMORY_BASIC_INFORMATION>(),
        )
    };
    if got == 0 {
        // unknown bounds: report no room, so nested entries take segments
        return usize::MAX;
    }
    // SAFETY: VirtualQuery filled it.
    let info = unsafe { info.assume_init() };
    info.AllocationBase as usize + BOTTOM_RESERVE
}

/// A fiber with `size` bytes of committed stack, or None.
fn create(size: usize) -> Option<Kept> {
    let mailbox = Box::into_raw(Box::new(Mailbox { job: Cell::new(None), parent: Cell::new(ptr::null_mut()) }));
    // SAFETY: the fiber runs `fiber_main` on the mailbox, which lives as
    // long as the fiber (`Kept::drop`).
    let fiber = unsafe { CreateFiber(size, Some(fiber_main), mailbox as *mut c_void) };
    if fiber.is_null() {
        // SAFETY: made by `Box::into_raw` above, not shared.
        drop(unsafe { Box::from_raw(mailbox) });
        return None;
    }
    Some(Kept { fiber, mailbox, busy: Cell::new(false) })
}

/// Whether this thread has its kept fiber (or failed to make it).
pub fn exists() -> bool {
    KEPT.with(|cell| cell.get().is_some())
}

/// Runs `job` on this thread's kept fiber (with `size` bytes of stack),
/// passing it the lowest usable stack address. Returns false, without
/// running it, when the fiber is busy (a nested entry), the thread is
/// already a fiber, or no fiber can be had. `job` must not unwind.
pub fn run(size: usize, job: &mut dyn FnMut(usize)) -> bool {
    // SAFETY: plain queries and conversions of the current thread; the
    // job pointer is handed to the fiber only for the duration of the
    // switch, during which this frame waits.
    KEPT.with(|cell| unsafe {
        if IsThreadAFiber() != 0 {
            return false;
        }
        let Some(kept) = cell.get_or_init(|| create(size)) else { return false };
        if kept.busy.replace(true) {
            return false;
        }
        let parent = ConvertThreadToFiber(ptr::null());
        if parent.is_null() {
            kept.busy.set(false);
            return false;
        }
        let mailbox = &*kept.mailbox;
        mailbox.parent.set(parent);
        let job: *mut (dyn FnMut(usize) + '_) = job;
        // erase the lifetime: the fiber drops the pointer before switching back
        mailbox
            .job
            .set(Some(std::mem::transmute::<*mut (dyn FnMut(usize) + '_), *mut (dyn FnMut(usize) + 'static)>(job)));
        SwitchToFiber(kept.fiber);
        mailbox.job.set(None);
        ConvertFiberToThread();
        kept.busy.set(false);
        true
    })
}
