//! Which file a plugin's settings belong to. Plugins are named by file
//! stem, so any directory earlier on the runtimepath could ship a
//! `wasm/notes.wasm` and receive the real `notes`' data directory and
//! relaxed limits. Settings in `setup({ plugins = { notes = ... } })` are
//! therefore bound to one file:
//!
//! - `plugins.notes.path` names it; or else
//! - the first file that used them is recorded in
//!   `stdpath("data")/wasm_nvim/owners.json` (outside every plugin's
//!   `/data`), and keeps them.
//!
//! That file wins the name even when another comes first on the
//! runtimepath. When it is gone, a file of the same name runs with the
//! defaults (no data directory), with a warning saying how to bind the
//! settings to it. Every shadowed file is warned about.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::options::Options;
use crate::registry::Found;

/// The recorded owner of each name that has settings.
#[derive(Debug, Default)]
pub struct Owners {
    file: PathBuf,
    map: BTreeMap<String, PathBuf>,
    changed: bool,
}

impl Owners {
    /// Reads `<data_root>/owners.json` (missing or unreadable: empty).
    pub fn load(data_root: &Path) -> Owners {
        let file = data_root.join("owners.json");
        let map = crate::files::read_regular(&file, 1 << 20)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Owners { file, map, changed: false }
    }

    /// Writes the record if it changed.
    pub fn save(&self) -> std::io::Result<()> {
        if !self.changed {
            return Ok(());
        }
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_vec_pretty(&self.map).map_err(std::io::Error::other)?;
        let tmp = self.file.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, &self.file)
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Whether `path` may use the settings of `name`, recording it as
    /// their owner when nobody is; the warning to show when not.
    pub fn claim(&mut self, opts: &Options, name: &str, path: &Path) -> std::result::Result<(), String> {
        if !opts.plugins.contains_key(name) {
            return Ok(());
        }
        let path = canonical(path);
        if let Some(wanted) = opts.plugin(name).path {
            if canonical(Path::new(&wanted)) == path {
                self.record(name, path);
                return Ok(());
            }
            return Err(format!(
                "settings for '{name}' are for {wanted} (plugins.{name}.path), not {}; it runs with the defaults",
                path.display()
            ));
        }
        match self.map.get(name) {
            Some(owner) if *owner == path => Ok(()),
            Some(owner) => Err(format!(
                "settings for '{name}' belong to {}, which is not on the runtimepath; {} runs with the defaults. \
                 If it is the same plugin, set plugins.{name}.path = {:?} (or delete {})",
                owner.display(),
                path.display(),
                path.display().to_string(),
                self.file.display()
            )),
            None => {
                self.record(name, path);
                Ok(())
            }
        }
    }

    fn record(&mut self, name: &str, path: PathBuf) {
        if self.map.get(name) != Some(&path) {
            self.map.insert(name.to_string(), path);
            self.changed = true;
        }
    }
}

/// The path with `~/` expanded and links resolved (as given when it does
/// not exist).
fn canonical(path: &Path) -> PathBuf {
    let expanded = match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => Path::new(&home).join(rest),
        _ => path.to_path_buf(),
    };
    std::fs::canonicalize(&expanded).unwrap_or(expanded)
}

/// Reorders discovery so that, for a name with settings, the file they are
/// bound to (by `path`, or the recorded owner) wins over one earlier on the
/// runtimepath.
pub fn prefer_owners(found: Vec<Found>, opts: &Options, owners: &Owners) -> Vec<Found> {
    let wanted = |name: &str| -> Option<PathBuf> {
        opts.plugins.get(name)?;
        match opts.plugin(name).path {
            Some(p) => Some(canonical(Path::new(&p))),
            None => owners.map.get(name).cloned(),
        }
    };
    let mut out = found.clone();
    for (i, f) in found.iter().enumerate() {
        let Found::Shadowed { path, by } = f else { continue };
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else { continue };
        if wanted(name).as_deref() != Some(canonical(path).as_path()) {
            continue;
        }
        // swap: the owner loads, the earlier file is the shadowed one
        for g in out.iter_mut() {
            if let Found::Load(c) = g
                && c.path == *by
            {
                c.path = path.clone();
            }
        }
        out[i] = Found::Shadowed { path: by.clone(), by: path.clone() };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::PluginOptions;
    use crate::registry::{Candidate, discover};

    fn opts_for(name: &str, path: Option<&str>) -> Options {
        let mut opts = Options::default();
        opts.plugins.insert(name.into(), PluginOptions { path: path.map(str::to_string), ..Default::default() });
        opts
    }

    #[test]
    fn the_owner_wins_the_name_and_an_impostor_gets_the_defaults() {
        let files = vec!["/evil/wasm/notes.wasm".to_string(), "/real/wasm/notes.wasm".to_string()];
        let mut owners = Owners::default();
        owners.map.insert("notes".into(), PathBuf::from("/real/wasm/notes.wasm"));
        let opts = opts_for("notes", None);
        let found = prefer_owners(discover(&files), &opts, &owners);
        assert_eq!(found[0], Found::Load(Candidate { name: "notes".into(), path: "/real/wasm/notes.wasm".into() }));
        assert_eq!(
            found[1],
            Found::Shadowed { path: "/evil/wasm/notes.wasm".into(), by: "/real/wasm/notes.wasm".into() }
        );
        assert!(owners.claim(&opts, "notes", Path::new("/real/wasm/notes.wasm")).is_ok());
        let refused = owners.claim(&opts, "notes", Path::new("/evil/wasm/notes.wasm"));
        assert!(refused.is_err_and(|w| w.contains("belong to /real/wasm/notes.wasm")));
    }

    #[test]
    fn the_first_file_claims_unowned_settings_and_path_overrides() {
        let mut owners = Owners::default();
        let opts = opts_for("notes", None);
        assert!(owners.claim(&opts, "notes", Path::new("/a/wasm/notes.wasm")).is_ok());
        assert!(owners.changed);
        assert!(owners.claim(&opts, "other", Path::new("/b/wasm/other.wasm")).is_ok(), "no settings: nothing to bind");
        assert_eq!(owners.map.len(), 1);
        let pinned = opts_for("notes", Some("/b/wasm/notes.wasm"));
        assert!(owners.claim(&pinned, "notes", Path::new("/a/wasm/notes.wasm")).is_err());
        assert!(owners.claim(&pinned, "notes", Path::new("/b/wasm/notes.wasm")).is_ok());
        assert_eq!(owners.map.get("notes"), Some(&PathBuf::from("/b/wasm/notes.wasm")));
    }
}
