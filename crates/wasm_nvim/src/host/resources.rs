//! What each plugin registered with callbacks (autocmds, user commands,
//! keymaps), by plugin key: deleted when the plugin goes, re-bound to the
//! new code when it is reloaded.

use std::collections::HashMap;

use super::Host;
use crate::key::PluginKey;
use crate::nvim::callbacks::{Maker, Resource, Tracked};

/// The registrations of every plugin.
#[derive(Default)]
pub struct Resources(HashMap<PluginKey, Vec<Tracked>>);

impl Host {
    /// Remembers something a plugin registered with the callbacks `maker` made.
    pub fn track(&self, maker: &Maker, resource: Resource) {
        let tracked = Tracked { resource, exports: maker.exports() };
        self.resources.borrow_mut().0.entry(maker.key).or_default().push(tracked);
    }

    /// Deletes what an unloaded plugin registered with callbacks.
    pub fn release(&self, key: PluginKey) {
        let resources = self.resources.borrow_mut().0.remove(&key).unwrap_or_default();
        for tracked in &resources {
            self.release_one(tracked);
        }
    }

    fn release_one(&self, tracked: &Tracked) {
        if let Err(e) = self.nvim.release(&tracked.resource) {
            self.log(|| format!("releasing {}: {e}", tracked.resource));
        }
    }

    /// After plugin `key` was reloaded (same key, new code): deletes what
    /// it registered with a callback whose export is gone, saying so; the
    /// rest keeps calling the new code. Returns what was dropped.
    pub fn rebind(&self, key: PluginKey, still_exported: impl Fn(&str) -> bool) -> Vec<String> {
        let mut resources = self.resources.borrow_mut().0.remove(&key).unwrap_or_default();
        let (kept, gone): (Vec<Tracked>, Vec<Tracked>) =
            resources.drain(..).partition(|t| t.exports.iter().all(|e| still_exported(e)));
        if !kept.is_empty() {
            self.resources.borrow_mut().0.insert(key, kept);
        }
        gone.iter()
            .map(|t| {
                self.release_one(t);
                format!("{} (its callback '{}' is no longer exported)", t.resource, t.exports.join("', '"))
            })
            .collect()
    }
}
