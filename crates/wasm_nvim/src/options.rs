//! `setup({opts})`: defaults, then the user's table, validated key by key.
//!
//! ```lua
//! require("wasm_nvim").setup({
//!   debug = false,
//!   cache = true,
//!   lazy = true,
//!   slow_ms = 100,
//!   limits = { timeout_ms = 10000, memory_mb = 256, max_timeouts = 3, module_mb = 32, module_functions = 50000 },
//!   allow = { lua = true, api = true },
//!   plugins = { stats = { timeout_ms = 5000, data_dir = true, enabled = true, path = "/path/to/stats.wasm",
//!                         allow = { lua = false, api = { "nvim_buf_get_lines" } } } },
//! })
//! ```
//! A wrong type or value is an error naming the option; an unknown key is
//! a warning (a typo should not break a config, but should be seen).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use mlua::{Table, Value};

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::permissions::{ApiGrant, Permissions};

#[derive(Debug, Clone)]
pub struct Options {
    pub debug: bool,
    /// Keep compiled modules under `stdpath("cache")/wasm_nvim`.
    pub cache: bool,
    /// Load a plugin when it is first used, not in `setup()`.
    pub lazy: bool,
    /// Record calls slower than this many ms (0: none).
    pub slow_ms: Option<u64>,
    pub limits: LimitOptions,
    /// What every plugin may reach (`plugins.<name>.allow` overrides it).
    pub allow: AllowOptions,
    pub plugins: HashMap<String, PluginOptions>,
    /// `workers = { threads, timeout_ms, memory_mb }` (see workers/).
    pub workers: WorkersConfig,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            debug: false,
            cache: true,
            lazy: true,
            slow_ms: None,
            limits: LimitOptions::default(),
            allow: AllowOptions::default(),
            plugins: HashMap::new(),
            workers: WorkersConfig::default(),
        }
    }
}

/// Limits as given; `None` keeps the default (or the global value).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LimitOptions {
    /// 0 means no timeout.
    pub timeout_ms: Option<u64>,
    pub memory_mb: Option<u64>,
    pub max_timeouts: Option<u32>,
    pub module_mb: Option<u64>,
    pub module_functions: Option<u32>,
}

/// `allow = { lua = ..., api = ... }` as given; `None` keeps the default.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AllowOptions {
    pub lua: Option<bool>,
    pub api: Option<ApiGrant>,
}

impl AllowOptions {
    fn apply(&self, allow: &mut Permissions) {
        if let Some(lua) = self.lua {
            allow.lua = lua;
        }
        if let Some(api) = &self.api {
            allow.api = api.clone();
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginOptions {
    pub enabled: bool,
    pub limits: LimitOptions,
    pub allow: AllowOptions,
    /// Give the plugin `stdpath("data")/wasm_nvim/<name>` as `/data`.
    pub data_dir: bool,
    /// The file these settings are for (see `identity.rs`).
    pub path: Option<String>,
}

impl Default for PluginOptions {
    fn default() -> Self {
        PluginOptions {
            enabled: true,
            limits: LimitOptions::default(),
            allow: AllowOptions::default(),
            data_dir: false,
            path: None,
        }
    }
}

impl LimitOptions {
    fn apply(&self, limits: &mut Limits) {
        if let Some(ms) = self.timeout_ms {
            limits.timeout = (ms > 0).then(|| Duration::from_millis(ms));
        }
        if let Some(mb) = self.memory_mb {
            limits.memory = usize::try_from(mb).unwrap_or(usize::MAX).saturating_mul(1 << 20);
        }
        if let Some(n) = self.max_timeouts {
            limits.max_timeouts = n;
        }
        if let Some(mb) = self.module_mb {
            limits.module_bytes = mb.saturating_mul(1 << 20);
        }
        if let Some(n) = self.module_functions {
            limits.module_functions = n;
        }
    }
}

impl Options {
    pub fn plugin(&self, name: &str) -> PluginOptions {
        self.plugins.get(name).cloned().unwrap_or_default()
    }

    /// Defaults, then the global `limits`, `slow_ms` and `allow`: what a
    /// plugin without settings of its own gets.
    pub fn global_limits(&self) -> Limits {
        let mut limits = Limits::default();
        self.limits.apply(&mut limits);
        if let Some(ms) = self.slow_ms {
            limits.slow_call = (ms > 0).then(|| Duration::from_millis(ms));
        }
        self.allow.apply(&mut limits.allow);
        limits
    }

    /// `global_limits()`, then `plugins.<name>`.
    pub fn limits_for(&self, name: &str, data_root: &Path) -> Limits {
        let mut limits = self.global_limits();
        let plugin = self.plugin(name);
        plugin.limits.apply(&mut limits);
        plugin.allow.apply(&mut limits.allow);
        if plugin.data_dir {
            limits.data_dir = Some(data_root.join(name));
        }
        limits
    }

    /// For a file named `name` that `plugins.<name>` does not belong to
    /// (an impostor, see `identity.rs`): the global limits, and permissions
    /// no wider than the global ones and the plugin's, so a restriction
    /// the user made for that name still holds and a grant does not pass.
    pub fn limits_for_stranger(&self, name: &str) -> Limits {
        let mut limits = self.global_limits();
        let mut own = limits.allow.clone();
        self.plugin(name).allow.apply(&mut own);
        limits.allow = limits.allow.narrowest(&own);
        limits
    }

    /// Parses the table given to `setup()`; unknown keys go to `warnings`.
    pub fn parse(value: Value, warnings: &mut Vec<String>) -> Result<Options> {
        let mut out = Options::default();
        let table = match value {
            Value::Nil => return Ok(out),
            Value::Table(t) => t,
            other => return Err(Error::value(format!("options must be a table, got {}", other.type_name()))),
        };
        for (key, value) in entries(&table, "options")? {
            match key.as_str() {
                "debug" => out.debug = boolean(value, "debug")?,
                "cache" => out.cache = boolean(value, "cache")?,
                "lazy" => out.lazy = boolean(value, "lazy")?,
                "slow_ms" => out.slow_ms = Some(count(value, "slow_ms", 0)?),
                "allow" => {
                    if let Some(t) = table_or_nil(value, "allow")? {
                        out.allow = allow_options(&t, "allow", warnings)?;
                    }
                }
                "workers" => {
                    if let Some(t) = table_or_nil(value, "workers")? {
                        out.workers = worker_options(&t, warnings)?;
                    }
                }
                "limits" => {
                    if let Some(t) = table_or_nil(value, "limits")? {
                        out.limits = limit_options(&t, "limits", warnings)?;
                    }
                }
                "plugins" => {
                    if let Some(t) = table_or_nil(value, "plugins")? {
                        for (name, value) in entries(&t, "plugins")? {
                            let path = format!("plugins.{name}");
                            if let Some(t) = table_or_nil(value, &path)? {
                                out.plugins.insert(name, plugin_options(&t, &path, warnings)?);
                            }
                        }
                    }
                }
                other => warnings.push(format!("unknown option '{other}' (ignored)")),
            }
        }
        Ok(out)
    }
}

fn limit_options(t: &Table, path: &str, warnings: &mut Vec<String>) -> Result<LimitOptions> {
    let mut out = LimitOptions::default();
    for (key, value) in entries(t, path)? {
        if !limit_option(&mut out, &key, value, path)? {
            warnings.push(format!("unknown option '{path}.{key}' (ignored)"));
        }
    }
    Ok(out)
}

/// Sets one limit; false when `key` is not a limit.
fn limit_option(out: &mut LimitOptions, key: &str, value: Value, path: &str) -> Result<bool> {
    let name = format!("{path}.{key}");
    match key {
        "timeout_ms" => out.timeout_ms = Some(count(value, &name, 0)?),
        "memory_mb" => out.memory_mb = Some(count(value, &name, 1)?),
        "max_timeouts" => out.max_timeouts = Some(u32::try_from(count(value, &name, 0)?).unwrap_or(u32::MAX)),
        "module_mb" => out.module_mb = Some(count(value, &name, 1)?),
        "module_functions" => out.module_functions = Some(u32::try_from(count(value, &name, 1)?).unwrap_or(u32::MAX)),
        _ => return Ok(false),
    }
    Ok(true)
}

fn worker_options(t: &Table, warnings: &mut Vec<String>) -> Result<WorkersConfig> {
    let mut out = WorkersConfig::default();
    for (key, value) in entries(t, "workers")? {
        let name = format!("workers.{key}");
        match key.as_str() {
            "threads" => out.threads = Some(usize::try_from(count(value, &name, 1)?).unwrap_or(usize::MAX).min(64)),
            "timeout_ms" => out.timeout_ms = Some(count(value, &name, 0)?),
            "memory_mb" => out.memory_mb = Some(count(value, &name, 1)?),
            other => warnings.push(format!("unknown option 'workers.{other}' (ignored)")),
        }
    }
    Ok(out)
}

fn plugin_options(t: &Table, path: &str, warnings: &mut Vec<String>) -> Result<PluginOptions> {
    let mut out = PluginOptions::default();
    for (key, value) in entries(t, path)? {
        match key.as_str() {
            "enabled" => out.enabled = boolean(value, &format!("{path}.enabled"))?,
            "data_dir" => out.data_dir = boolean(value, &format!("{path}.data_dir"))?,
            "allow" => {
                let name = format!("{path}.allow");
                if let Some(t) = table_or_nil(value, &name)? {
                    out.allow = allow_options(&t, &name, warnings)?;
                }
            }
            "path" => match value {
                Value::String(s) => out.path = Some(s.to_string_lossy()),
                other => {
                    return Err(Error::value(format!(
                        "option '{path}.path' must be a string, got {}",
                        other.type_name()
                    )));
                }
            },
            other => {
                if !limit_option(&mut out.limits, other, value, path)? {
                    warnings.push(format!("unknown option '{path}.{other}' (ignored)"));
                }
            }
        }
    }
    Ok(out)
}

/// `{ lua = boolean, api = boolean | { "nvim_x", ... } }`.
fn allow_options(t: &Table, path: &str, warnings: &mut Vec<String>) -> Result<AllowOptions> {
    let mut out = AllowOptions::default();
    for (key, value) in entries(t, path)? {
        let name = format!("{path}.{key}");
        match key.as_str() {
            "lua" => out.lua = Some(boolean(value, &name)?),
            "api" => {
                out.api = Some(match value {
                    Value::Boolean(true) => ApiGrant::All,
                    Value::Boolean(false) => ApiGrant::None,
                    Value::Table(list) => {
                        let names = list
                            .sequence_values::<Value>()
                            .map(|v| match v? {
                                Value::String(s) => Ok(s.to_string_lossy()),
                                other => Err(Error::value(format!(
                                    "option '{name}' must list API function names, got a {}",
                                    other.type_name()
                                ))),
                            })
                            .collect::<Result<_>>()?;
                        ApiGrant::Only(names)
                    }
                    other => {
                        return Err(Error::value(format!(
                            "option '{name}' must be a boolean or a list of API function names, got {}",
                            other.type_name()
                        )));
                    }
                })
            }
            _ => warnings.push(format!("unknown option '{name}' (ignored)")),
        }
    }
    Ok(out)
}

fn table_or_nil(value: Value, name: &str) -> Result<Option<Table>> {
    match value {
        Value::Nil => Ok(None),
        Value::Table(t) => Ok(Some(t)),
        other => Err(Error::value(format!("option '{name}' must be a table, got {}", other.type_name()))),
    }
}

/// The table's entries with string keys, sorted (stable messages).
fn entries(t: &Table, name: &str) -> Result<Vec<(String, Value)>> {
    let mut out = Vec::new();
    for pair in t.pairs::<Value, Value>() {
        let (key, value) = pair?;
        let Value::String(key) = key else {
            return Err(Error::value(format!("option '{name}' has a key that is not a string")));
        };
        out.push((key.to_string_lossy(), value));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn boolean(value: Value, name: &str) -> Result<bool> {
    match value {
        Value::Boolean(b) => Ok(b),
        other => Err(Error::value(format!("option '{name}' must be a boolean, got {}", other.type_name()))),
    }
}

fn count(value: Value, name: &str, min: u64) -> Result<u64> {
    match value {
        Value::Integer(i) if i >= 0 && i as u64 >= min => Ok(i as u64),
        other => Err(Error::value(format!(
            "option '{name}' must be an integer >= {min}, got {}",
            match other {
                Value::Integer(i) => i.to_string(),
                Value::Number(n) => n.to_string(),
                other => other.type_name().to_string(),
            }
        ))),
    }
}

/// A job's deadline unless `setup({ workers = { timeout_ms = ... } })`
/// says: longer than a call on the editor's thread, since nothing freezes
/// while a job runs, but a runaway job still ends.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// `setup({ workers = { ... } })` as given; `None` keeps the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkersConfig {
    /// Threads in the pool (default: one per core, at most 8).
    pub threads: Option<usize>,
    /// A job's deadline (wasm time); 0: none.
    pub timeout_ms: Option<u64>,
    /// A worker instance's memory cap (default: the plugin's).
    pub memory_mb: Option<u64>,
}

impl WorkersConfig {
    pub fn job_timeout(&self) -> Option<Duration> {
        match self.timeout_ms {
            Some(0) => None,
            Some(ms) => Some(Duration::from_millis(ms)),
            None => Some(DEFAULT_JOB_TIMEOUT),
        }
    }

    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(default_threads)
    }
}

/// Threads the worker pool has unless `setup({ workers = { threads = n } })`
/// says: one per core, at most 8.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_limits_override_global_ones() {
        let mut o = Options::default();
        o.limits.timeout_ms = Some(2000);
        o.limits.memory_mb = Some(64);
        o.plugins.insert(
            "slow".into(),
            PluginOptions {
                limits: LimitOptions { timeout_ms: Some(0), ..Default::default() },
                data_dir: true,
                ..Default::default()
            },
        );
        let fast = o.limits_for("fast", Path::new("/d"));
        assert_eq!(fast.timeout, Some(Duration::from_secs(2)));
        assert_eq!(fast.memory, 64 << 20);
        assert_eq!(fast.data_dir, None);
        let slow = o.limits_for("slow", Path::new("/d"));
        assert_eq!(slow.timeout, None, "0 means no timeout");
        assert_eq!(slow.memory, 64 << 20);
        assert_eq!(slow.data_dir.as_deref(), Some(Path::new("/d/slow")));
        assert!(o.plugin("other").enabled);
    }
}
