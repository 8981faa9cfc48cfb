//! The plugins on the runtimepath: discovery, names, and each one's state
//! (not loaded yet, loaded, failed to load).
//!
//! Every `wasm/*.wasm` of every runtimepath entry is a plugin, named by its
//! file stem (`wasm/stats.wasm` is `require("wasm_nvim").stats`). When two
//! entries hold the same stem, the first in runtimepath order wins, as for
//! Lua modules; the other is skipped with a warning (settings bound to a file can make it win:
//! `identity.rs`). Names
//! that would hide a field of the module table are skipped with a warning.
//! A stem that is not a Lua identifier still works: `wasm["my-plugin"]`.
//!
//! With `lazy = true` (the default) `setup()` only discovers: a plugin is
//! compiled (or loaded from the cache) and instantiated when Lua first
//! reads `wasm.<name>`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::key::PluginKey;
use crate::limits::Limits;
use crate::plugin::Plugin;

thread_local! {
    /// The plugins of Neovim's main thread (the only one with Lua).
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
}

/// Reads the registry. `f` must not run Lua (which may load a plugin).
pub fn with<R>(f: impl FnOnce(&Registry) -> R) -> R {
    REGISTRY.with_borrow(f)
}

/// Changes the registry. `f` must not run Lua.
pub fn with_mut<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    REGISTRY.with_borrow_mut(f)
}

/// A loaded plugin by name.
pub fn plugin(name: &str) -> Option<Rc<Plugin>> {
    with(|r| r.get(name))
}

/// The loaded plugin with this key; `None` once it was unloaded.
pub fn by_key(key: PluginKey) -> Option<Rc<Plugin>> {
    with(|r| r.by_key(key))
}

/// Fields of the module table; a plugin cannot take these names (nor any
/// name starting with `_`).
pub const RESERVED: &[&str] = &["setup", "plugins", "version", "reload", "worker", "spawn", "jobs"];

/// Where one plugin is in its life.
#[derive(Debug, Clone)]
pub enum LoadState {
    /// Discovered; loads on first use.
    Pending,
    /// Being loaded (guards against a plugin reaching itself while loading).
    Loading,
    Loaded(Rc<Plugin>),
    /// Why it could not be loaded.
    Failed(crate::error::Error),
}

/// One plugin file on the runtimepath.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub path: PathBuf,
    pub limits: Arc<Limits>,
    pub state: LoadState,
    /// Time `Plugin::load` took, when it ran.
    pub load_ms: Option<f64>,
}

/// The plugins, in runtimepath order.
#[derive(Debug, Default)]
pub struct Registry {
    entries: Vec<Entry>,
    /// Warnings about files skipped because another has their name, for
    /// `:checkhealth`.
    pub shadowed: Vec<String>,
}

impl Registry {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    pub fn entry_mut(&mut self, name: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.name == name)
    }

    /// A loaded plugin by name.
    pub fn get(&self, name: &str) -> Option<Rc<Plugin>> {
        match &self.entry(name)?.state {
            LoadState::Loaded(p) => Some(Rc::clone(p)),
            _ => None,
        }
    }

    /// A loaded plugin by its key (what callbacks hold).
    pub fn by_key(&self, key: PluginKey) -> Option<Rc<Plugin>> {
        self.loaded().find(|p| p.key == key)
    }

    pub fn loaded(&self) -> impl Iterator<Item = Rc<Plugin>> + '_ {
        self.entries.iter().filter_map(|e| match &e.state {
            LoadState::Loaded(p) => Some(Rc::clone(p)),
            _ => None,
        })
    }

    /// Adds a plugin found after `setup()` (its directory joined the
    /// runtimepath later, e.g. a plugin manager loaded it on demand).
    pub fn add(&mut self, entry: Entry) {
        if self.entry(&entry.name).is_none() {
            self.entries.push(entry);
        }
    }

    /// Replaces every entry; returns the plugins that were loaded.
    pub fn replace(&mut self, entries: Vec<Entry>) -> Vec<Rc<Plugin>> {
        let old = std::mem::replace(&mut self.entries, entries);
        old.into_iter()
            .filter_map(|e| match e.state {
                LoadState::Loaded(p) => Some(p),
                _ => None,
            })
            .collect()
    }
}

/// A `.wasm` file found on the runtimepath, with the name it will get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    pub path: PathBuf,
}

/// What discovery decided about each file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Load(Candidate),
    /// Same stem as an earlier file on the runtimepath.
    Shadowed {
        path: PathBuf,
        by: PathBuf,
    },
    /// The stem is a field of the module table, or not valid UTF-8.
    BadName {
        path: PathBuf,
        why: String,
    },
}

/// Decides the name of each file, in runtimepath order.
pub fn discover(files: &[String]) -> Vec<Found> {
    let mut taken: Vec<Candidate> = Vec::new();
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let path = Path::new(file);
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            out.push(Found::BadName { path: path.into(), why: "file name is not valid UTF-8".into() });
            continue;
        };
        if RESERVED.contains(&name) || name.starts_with('_') {
            out.push(Found::BadName {
                path: path.into(),
                why: format!("'{name}' is a field of the wasm_nvim module; rename the file"),
            });
            continue;
        }
        if let Some(first) = taken.iter().find(|c| c.name == name) {
            out.push(Found::Shadowed { path: path.into(), by: first.path.clone() });
            continue;
        }
        let candidate = Candidate { name: name.to_string(), path: path.into() };
        taken.push(candidate.clone());
        out.push(Found::Load(candidate));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_on_the_runtimepath_wins() {
        let found =
            discover(&["/a/wasm/stats.wasm".into(), "/b/wasm/stats.wasm".into(), "/b/wasm/my-plugin.wasm".into()]);
        assert_eq!(found[0], Found::Load(Candidate { name: "stats".into(), path: "/a/wasm/stats.wasm".into() }));
        assert_eq!(found[1], Found::Shadowed { path: "/b/wasm/stats.wasm".into(), by: "/a/wasm/stats.wasm".into() });
        assert!(matches!(&found[2], Found::Load(c) if c.name == "my-plugin"));
    }

    #[test]
    fn reserved_names_are_refused() {
        let found = discover(&["/a/wasm/setup.wasm".into(), "/a/wasm/_x.wasm".into()]);
        assert!(matches!(&found[0], Found::BadName { why, .. } if why.contains("'setup'")));
        assert!(matches!(&found[1], Found::BadName { .. }));
    }
}
