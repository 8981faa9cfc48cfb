//! Discovery of plugins on the runtimepath and the names they get.
//!
//! Every `wasm/*.wasm` of every runtimepath entry is a plugin, named by its
//! file stem (`wasm/stats.wasm` is `require("wasm_nvim").stats`). When two
//! entries hold the same stem, the first in runtimepath order wins, as for
//! Lua modules; the other is skipped (logged with `debug = true`). Names
//! that would hide a field of the module table are skipped with a warning.
//! A stem that is not a Lua identifier still works: `wasm["my-plugin"]`.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::plugin::Plugin;

/// Fields of the module table; a plugin cannot take these names.
pub const RESERVED: &[&str] = &["setup", "plugins", "version", "_noop"];

/// The loaded plugins, in runtimepath order.
#[derive(Debug, Default)]
pub struct Registry {
    plugins: Vec<Rc<Plugin>>,
}

impl Registry {
    pub fn get(&self, name: &str) -> Option<Rc<Plugin>> {
        self.plugins.iter().find(|p| &*p.name == name).cloned()
    }

    pub fn by_key(&self, key: u64) -> Option<Rc<Plugin>> {
        self.plugins.iter().find(|p| p.key == key).cloned()
    }

    pub fn all(&self) -> Vec<Rc<Plugin>> {
        self.plugins.clone()
    }

    pub fn replace(&mut self, plugins: Vec<Rc<Plugin>>) -> Vec<Rc<Plugin>> {
        std::mem::replace(&mut self.plugins, plugins)
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
    Shadowed { path: PathBuf, by: PathBuf },
    /// The stem is a field of the module table, or not valid UTF-8.
    BadName { path: PathBuf, why: String },
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
        if RESERVED.contains(&name) {
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
        let found = discover(&["/a/wasm/stats.wasm".into(), "/b/wasm/stats.wasm".into(), "/b/wasm/my-plugin.wasm".into()]);
        assert_eq!(found[0], Found::Load(Candidate { name: "stats".into(), path: "/a/wasm/stats.wasm".into() }));
        assert_eq!(found[1], Found::Shadowed { path: "/b/wasm/stats.wasm".into(), by: "/a/wasm/stats.wasm".into() });
        assert!(matches!(&found[2], Found::Load(c) if c.name == "my-plugin"));
    }

    #[test]
    fn reserved_names_are_refused() {
        let found = discover(&["/a/wasm/setup.wasm".into()]);
        assert!(matches!(&found[0], Found::BadName { why, .. } if why.contains("'setup'")));
    }
}
