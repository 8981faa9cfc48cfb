//! The plugins' lifecycle: `setup()` discovers them (and, with
//! `lazy = false`, loads them all), reading `wasm.<name>` loads one, and
//! `reload()` replaces one (or all) from disk, releasing what the old one
//! registered with callbacks.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use mlua::{Lua, Table, Value};

use crate::error::{Error, Result};
use crate::host::{Host, Setup};
use crate::identity::{self, Owners};
use crate::limits::Limits;
use crate::options::Options;
use crate::plugin::Plugin;
use crate::registry::{self, Candidate, Entry, Found, LoadState};

pub mod table;

/// `setup(opts)`: validates the options, discovers every `wasm/*.wasm` on
/// the runtimepath, forgets (and releases) the plugins of the previous
/// setup, and loads the new ones now (`lazy = false`) or on first use.
pub fn setup(rt: &'static Host, lua: &Lua, opts: Value) -> Result<()> {
    setup_keeping(rt, lua, opts, &[])
}

/// `setup()`, except that the callbacks of the plugins in `keep` whose file
/// is still found are not released (a reload replaces them in place).
fn setup_keeping(rt: &'static Host, lua: &Lua, opts: Value, keep: &[Rc<Plugin>]) -> Result<()> {
    rt.start_setup();
    let given = opts.clone();
    let mut warnings = Vec::new();
    let opts = Options::parse(opts, &mut warnings)?;
    let cache_dir = if opts.cache { Some(rt.nvim.cache_dir()?) } else { None };
    rt.replace_setup(Setup { given: Some(given), options: opts.clone(), cache_dir });
    for w in warnings {
        rt.warn(&format!("wasm_nvim.setup: {w}"));
    }
    let data_root = rt.nvim.data_root()?;
    let files = rt.nvim.runtime_wasm_files()?;
    rt.log(|| format!("found {} wasm file(s) on the runtimepath", files.len()));
    let mut owners = Owners::load(&data_root);
    let mut entries = Vec::new();
    let mut shadowed = Vec::new();
    for found in identity::prefer_owners(registry::discover(&files), &opts, &owners) {
        match found {
            Found::Load(c) if !opts.plugin(&c.name).enabled => {
                rt.log(|| format!("skipping '{}': disabled in setup()", c.name));
            }
            Found::Load(c) => entries.push(pending(rt, &opts, &mut owners, c, &data_root)),
            Found::Shadowed { path, by } => {
                let warning = format!(
                    "wasm_nvim: skipping {}: same name as {}, which is loaded instead",
                    path.display(),
                    by.display()
                );
                rt.warn(&warning);
                shadowed.push(warning);
            }
            Found::BadName { path, why } => rt.warn(&format!("wasm_nvim: skipping {}: {why}", path.display())),
        }
    }
    if let Err(e) = owners.save() {
        rt.warn(&format!(
            "wasm_nvim: cannot record which file plugin settings belong to in {}: {e}",
            owners.file().display()
        ));
    }
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    let lazy = opts.lazy;
    let old = registry::with_mut(|r| {
        r.shadowed = shadowed;
        r.replace(entries)
    });
    if let Some(table) = rt.module() {
        for plugin in &old {
            table.raw_set(&*plugin.name, Value::Nil)?;
        }
    }
    for plugin in old {
        let kept = keep.iter().any(|k| k.key == plugin.key) && names.iter().any(|n| **n == *plugin.name);
        if !kept {
            retire(&plugin);
            rt.release(plugin.key);
        }
    }
    if !lazy {
        // the kept ones are reloaded in place by the caller
        for name in names.into_iter().filter(|n| !keep.iter().any(|k| *k.name == **n)) {
            if let Err(e) = load(rt, lua, &name) {
                rt.warn(&format!("wasm_nvim: skipping {e}"));
            }
        }
    }
    Ok(())
}

/// A plugin to load on first use, with its settings if they belong to
/// its file (see `identity.rs`), else the defaults.
fn pending(rt: &Host, opts: &Options, owners: &mut Owners, c: Candidate, data_root: &Path) -> Entry {
    let limits = match owners.claim(opts, &c.name, &c.path) {
        Ok(()) => opts.limits_for(&c.name, data_root),
        Err(warning) => {
            rt.warn(&format!("wasm_nvim: {warning}"));
            opts.limits_for_stranger(&c.name)
        }
    };
    Entry { limits: Arc::new(limits), name: c.name, path: c.path, state: LoadState::Pending, load_ms: None }
}

/// Adds the plugins whose directories joined the runtimepath since
/// `setup()` (a plugin manager loading one on demand, `:packadd`), so they
/// work without another `setup()`. Plugins already known are untouched.
pub fn discover_added(rt: &'static Host) -> Result<()> {
    if !rt.is_set_up() {
        return Ok(());
    }
    let files = rt.nvim.runtime_wasm_files()?;
    let added: Vec<Candidate> = {
        let setup = rt.setup();
        let opts = &setup.options;
        registry::with(|registry| {
            registry::discover(&files)
                .into_iter()
                .filter_map(|found| match found {
                    Found::Load(c) if registry.entry(&c.name).is_none() && opts.plugin(&c.name).enabled => Some(c),
                    _ => None,
                })
                .collect()
        })
    };
    if added.is_empty() {
        return Ok(()); // the usual case: nothing new, no more work
    }
    let data_root = rt.nvim.data_root()?;
    let mut owners = Owners::load(&data_root);
    for c in added {
        // logged with no borrow held: logging runs Lua (vim.notify)
        rt.log(|| format!("found '{}' ({}) after setup()", c.name, c.path.display()));
        let opts = rt.setup().options.clone();
        let entry = pending(rt, &opts, &mut owners, c, &data_root);
        registry::with_mut(|r| r.add(entry));
    }
    let _ = owners.save();
    Ok(())
}

/// Loads plugin `name` if it is not loaded yet and puts its table into the
/// module; returns the table, or `None` for a name that is no plugin (after
/// looking for plugins added to the runtimepath since `setup()`).
pub fn load(rt: &'static Host, lua: &Lua, name: &str) -> Result<Option<Table>> {
    if registry::with(|r| r.entry(name).is_none()) {
        discover_added(rt)?;
    }
    let next = registry::with_mut(|registry| {
        let Some(entry) = registry.entry_mut(name) else { return Ok(None) };
        match &entry.state {
            LoadState::Pending => {
                entry.state = LoadState::Loading;
                Ok(Some((entry.path.clone(), entry.limits.clone())))
            }
            LoadState::Loaded(_) => Ok(None),
            LoadState::Failed(e) => Err(e.clone()),
            LoadState::Loading => Err(Error::load(format!("plugin '{name}' used itself while it was loading"))),
        }
    })?;
    let Some((path, limits)) = next else {
        return Ok(module_field(rt, name)); // loaded already, or no plugin
    };
    let started = Instant::now();
    let loaded = Plugin::load(rt, name, &path, limits).map(Rc::new);
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let table = match &loaded {
        Ok(plugin) => Some(table::plugin_table(rt, lua, plugin)?),
        Err(_) => None,
    };
    let placed = registry::with_mut(|registry| {
        let entry = registry.entry_mut(name).filter(|e| matches!(e.state, LoadState::Loading))?;
        entry.load_ms = Some(ms);
        entry.state = match &loaded {
            Ok(plugin) => LoadState::Loaded(Rc::clone(plugin)),
            Err(e) => LoadState::Failed(e.clone().context(format!("plugin '{name}' ({})", path.display()))),
        };
        Some(())
    });
    if placed.is_none() {
        // a setup() ran meanwhile: this load is of the old generation
        return Ok(None);
    }
    match loaded {
        Ok(plugin) => {
            if let (Some(module), Some(table)) = (rt.module(), &table) {
                module.raw_set(name, table.clone())?;
            }
            // logged once the plugin is in place and no registry borrow is
            // held: logging runs Lua (vim.notify, which a user may have
            // replaced with code that calls wasm_nvim)
            rt.log(|| {
                let names: Vec<&str> = plugin.functions.iter().map(|f| f.name.as_str()).collect();
                format!(
                    "loaded '{name}' from {} in {ms:.1} ms ({} in {:.1} ms): {}",
                    path.display(),
                    plugin.compiled.outcome.as_str(),
                    plugin.compiled.ms,
                    names.join(", ")
                )
            });
            Ok(table)
        }
        Err(e) => {
            let e = e.context(format!("plugin '{name}' ({})", path.display()));
            rt.journal(name, "load failed", &e.to_string());
            Err(e)
        }
    }
}

fn module_field(rt: &Host, name: &str) -> Option<Table> {
    rt.module().and_then(|m| m.raw_get::<Option<Table>>(name).ok().flatten())
}

/// `reload(name)` (`:Wasm reload {name}`): loads plugin `name` afresh
/// from its file. Only when that works is the old version replaced; the
/// new one takes over the old one's key, so every callback the plugin
/// registered (autocmds, user commands, keymaps, buffer attachments,
/// timers) re-binds by export name to the new code, and those whose export
/// is gone are dropped with a notice. The new instance starts with fresh
/// state, as after a trap. A failed reload keeps the old version and goes
/// into `:Wasm log`. Without a name: every plugin (see [`reload_all`]).
pub fn reload(rt: &'static Host, lua: &Lua, name: Option<&str>) -> Result<()> {
    let Some(name) = name else {
        return reload_all(rt, lua);
    };
    let (path, limits, old) = registry::with(|registry| {
        let entry = registry.entry(name).ok_or_else(|| Error::load(format!("no plugin named '{name}'")))?;
        let old = match &entry.state {
            LoadState::Loaded(p) => Some(Rc::clone(p)),
            _ => None,
        };
        Ok::<_, Error>((entry.path.clone(), entry.limits.clone(), old))
    })?;
    replace(rt, lua, name, &path, limits, old.as_ref())
        .inspect_err(|e| rt.journal(name, "reload failed", &e.to_string()))
}

/// Loads `name` from `path` in place of `old` (keeping its key and
/// callbacks), or afresh when it was not loaded.
fn replace(
    rt: &'static Host,
    lua: &Lua,
    name: &str,
    path: &Path,
    limits: Arc<Limits>,
    old: Option<&Rc<Plugin>>,
) -> Result<()> {
    if old.is_some_and(|p| p.is_running()) {
        return Err(Error::load(format!(
            "cannot reload '{name}' while it is running (from its own callback: use vim.schedule)"
        )));
    }
    let started = Instant::now();
    let loaded = match old {
        Some(old) => Plugin::load_with_key(rt, name, path, old.key, limits),
        None => Plugin::load(rt, name, path, limits),
    };
    let plugin = Rc::new(loaded.map_err(|e| e.context(format!("reloading '{name}'")))?);
    let table = table::plugin_table(rt, lua, &plugin)?;
    let dropped = rt.rebind(plugin.key, |export| plugin.target(export).is_ok());
    registry::with_mut(|r| {
        if let Some(entry) = r.entry_mut(name) {
            entry.path = path.to_owned();
            entry.state = LoadState::Loaded(Rc::clone(&plugin));
            entry.load_ms = Some(started.elapsed().as_secs_f64() * 1e3);
        }
    });
    if let Some(module) = rt.module() {
        module.raw_set(name, table)?;
    }
    if let Some(old) = old {
        // its key and callbacks now belong to the new plugin: its instance,
        // code and worker jobs go
        retire(old);
    }
    rt.journal(name, "reloaded", &path.display().to_string());
    for what in dropped {
        rt.warn(&format!("wasm_nvim: reloaded '{name}': dropped {what}"));
    }
    Ok(())
}

/// `reload()` (`:Wasm reload`): finds added and removed files as
/// `setup()` does with the options it was last given, and reloads every
/// loaded plugin that is still there in place, as `reload(name)` does:
/// its callbacks keep working. Plugins whose file is gone are released;
/// one that fails to reload keeps its old version (and the error is in
/// `:Wasm log`).
fn reload_all(rt: &'static Host, lua: &Lua) -> Result<()> {
    let loaded: Vec<Rc<Plugin>> = registry::with(|r| r.loaded().collect());
    let opts = rt.setup().given.clone().unwrap_or(Value::Nil);
    setup_keeping(rt, lua, opts, &loaded)?;
    for old in loaded {
        let name = old.name.to_string();
        let Some((path, limits)) = registry::with(|r| r.entry(&name).map(|e| (e.path.clone(), e.limits.clone())))
        else {
            continue; // its file is gone: released by setup
        };
        if let Err(e) = replace(rt, lua, &name, &path, limits, Some(&old)) {
            // keep the old version working
            registry::with_mut(|r| {
                if let Some(entry) = r.entry_mut(&name) {
                    entry.state = LoadState::Loaded(Rc::clone(&old));
                }
            });
            if let (Some(module), Ok(table)) = (rt.module(), table::plugin_table(rt, lua, &old)) {
                module.raw_set(&*name, table)?;
            }
            rt.journal(&name, "reload failed", &e.to_string());
            rt.warn(&format!("wasm_nvim.reload: {e} (kept the old version)"));
        }
    }
    Ok(())
}

/// A plugin replaced by a reload or `setup()`: its instance and code go at
/// once (`Plugin::retire`), and so do its worker jobs.
fn retire(plugin: &Plugin) {
    plugin.retire();
    crate::workers::release(plugin.key);
}
