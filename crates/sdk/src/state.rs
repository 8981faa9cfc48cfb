//! A plugin's state: one value per instance, made by [`Plugin::init`] on
//! first use, lent to exports that take `&mut S` as their first parameter.
//!
//! The re-entrancy rule is enforced, not just documented: while an export
//! holds the state, a call that re-enters the plugin through Neovim (an
//! autocmd the export triggered, Lua calling back) and wants the state too
//! fails with a clear error instead of aliasing it.

use std::any::Any;
use std::cell::{Cell, RefCell};

use crate::{Error, Result};

/// A plugin's state. `init` runs once per instance: on the first call that
/// needs the state, and again after a reload or a trap (each starts a fresh
/// instance; callbacks survive both, state does not).
///
/// ```ignore
/// #[derive(Default)]
/// struct Todo { count: usize }
/// impl Plugin for Todo {
///     fn init() -> Result<Self> { Ok(Todo::default()) }
/// }
/// #[export]
/// fn count(todo: &mut Todo) -> usize { todo.count }
/// ```
pub trait Plugin: Sized + 'static {
    fn init() -> Result<Self>;
}

thread_local! {
    static STATE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    static IN_USE: Cell<bool> = const { Cell::new(false) };
}

/// Clears `IN_USE` and puts the state back, also when `f` unwinds.
struct Lent(Option<Box<dyn Any>>);

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(state) = self.0.take() {
            STATE.with_borrow_mut(|s| *s = Some(state));
        }
        IN_USE.set(false);
    }
}

/// Runs `f` with the plugin's state (made with `S::init()` if there is none
/// yet). Fails, without running `f`, when the state is already lent to an
/// outer call: a re-entrant call.
pub fn with<S: Plugin, R>(f: impl FnOnce(&mut S) -> R) -> Result<R> {
    if IN_USE.replace(true) {
        return Err(Error::new(
            "the plugin's state is in use by an outer call (this call re-entered the plugin through Neovim); \
             defer it with vim.schedule, or let go of the state before calling Neovim",
        ));
    }
    let mut lent = Lent(STATE.with_borrow_mut(Option::take));
    if lent.0.is_none() {
        lent.0 = Some(Box::new(S::init()?));
    }
    let state = lent
        .0
        .as_mut()
        .and_then(|b| b.downcast_mut::<S>())
        .ok_or_else(|| Error::new(format!("the plugin's state is not a {}", std::any::type_name::<S>())))?;
    Ok(f(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u32);
    impl Plugin for Counter {
        fn init() -> Result<Self> {
            Ok(Counter(10))
        }
    }

    #[test]
    fn init_once_and_no_reentry() {
        assert_eq!(
            with(|c: &mut Counter| {
                c.0 += 1;
                c.0
            })
            .unwrap(),
            11
        );
        assert_eq!(with(|c: &mut Counter| c.0).unwrap(), 11);
        let nested = with(|_: &mut Counter| with(|c: &mut Counter| c.0)).unwrap();
        assert!(nested.unwrap_err().message().contains("re-entered"));
        assert_eq!(with(|c: &mut Counter| c.0).unwrap(), 11, "usable after the refused re-entry");
    }
}
