//! What a plugin may reach in Neovim, beyond its own memory.
//!
//! By default a plugin may do what a Lua plugin may: call the API and run
//! Lua. That is the trust model (README "Safety"): the sandbox bounds a
//! plugin's memory, its time in wasm and what WASI gives it, not what it
//! asks Neovim to do. A user who wants less withholds it in `setup()`:
//!
//! - `allow.lua = false`: no Lua or Vimscript given as text — `lua_exec`,
//!   `lua_eval`, `nvim.lua` and the API functions in [`CODE_RUNNING`];
//! - `allow.api = false`: no API function at all; `allow.api = { names }`:
//!   only those.
//!
//! A withheld import is linked to a stub whose calls fail naming the
//! permission, so the plugin still loads and its other functions work.
//! `allow.lua = false` alone is not a sandbox: other API functions can
//! still make Neovim run text later (an autocmd's `command`, a keymap's
//! `rhs`, the 'shell' option). `allow.api = false`, or a short list of
//! functions that only read or edit text, is.

use std::collections::BTreeSet;

use crate::error::{Error, Kind};

/// API functions that run Lua, Vimscript, Ex commands or keys given as
/// text (current and deprecated names).
pub const CODE_RUNNING: &[&str] = &[
    "nvim_call_dict_function",
    "nvim_call_function",
    "nvim_cmd",
    "nvim_command",
    "nvim_command_output",
    "nvim_eval",
    "nvim_exec",
    "nvim_exec2",
    "nvim_exec_lua",
    "nvim_execute_lua",
    "nvim_feedkeys",
    "nvim_input",
    "vim_call_function",
    "vim_command",
    "vim_command_output",
    "vim_eval",
    "vim_feedkeys",
    "vim_input",
];

/// Which API functions a plugin may call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ApiGrant {
    #[default]
    All,
    None,
    Only(BTreeSet<String>),
}

/// What one plugin may reach (`allow` in `setup()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    /// Run Lua or Vimscript given as text.
    pub lua: bool,
    pub api: ApiGrant,
}

impl Default for Permissions {
    fn default() -> Self {
        Permissions { lua: true, api: ApiGrant::All }
    }
}

impl Permissions {
    /// Why the plugin may not run Lua, if it may not (`lua_exec` and co).
    pub fn deny_lua(&self, plugin: &str) -> Option<Error> {
        (!self.lua)
            .then(|| denied(format!("plugin '{plugin}' may not run Lua or Vimscript (allow.lua = false in setup())")))
    }

    /// Why the plugin may not call API function `name`, if it may not.
    pub fn deny_api(&self, plugin: &str, name: &str) -> Option<Error> {
        let allowed = match &self.api {
            ApiGrant::All => true,
            ApiGrant::None => false,
            ApiGrant::Only(names) => names.contains(name),
        };
        if !allowed {
            let why = match self.api {
                ApiGrant::None => "allow.api = false",
                _ => "it is not in allow.api",
            };
            return Some(denied(format!("plugin '{plugin}' may not call {name} ({why} in setup())")));
        }
        if CODE_RUNNING.contains(&name) {
            return self.deny_lua(plugin).map(|e| e.context(name));
        }
        None
    }

    /// What both `self` and `other` allow.
    pub fn narrowest(&self, other: &Permissions) -> Permissions {
        let api = match (&self.api, &other.api) {
            (ApiGrant::None, _) | (_, ApiGrant::None) => ApiGrant::None,
            (ApiGrant::All, only) | (only, ApiGrant::All) => only.clone(),
            (ApiGrant::Only(a), ApiGrant::Only(b)) => ApiGrant::Only(a.intersection(b).cloned().collect()),
        };
        Permissions { lua: self.lua && other.lua, api }
    }

    /// For `:Wasm info` and `plugins()`: `lua, api` / `api (3 functions)` / `nothing`.
    pub fn describe(&self) -> String {
        let api = match &self.api {
            ApiGrant::All => Some("api".to_string()),
            ApiGrant::None => None,
            ApiGrant::Only(names) => Some(format!("api ({})", names.iter().cloned().collect::<Vec<_>>().join(", "))),
        };
        let granted: Vec<String> = [self.lua.then(|| "lua".to_string()), api].into_iter().flatten().collect();
        if granted.is_empty() { "nothing (no API, no Lua)".into() } else { granted.join(", ") }
    }
}

fn denied(message: String) -> Error {
    Error::new(Kind::Denied, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_running_functions_need_lua_too() {
        let no_lua = Permissions { lua: false, api: ApiGrant::All };
        assert!(no_lua.deny_api("p", "nvim_buf_get_lines").is_none());
        let e = no_lua.deny_api("p", "nvim_exec2").map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains("nvim_exec2: permission denied: plugin 'p' may not run Lua or Vimscript (allow.lua = false"),
            "{e}"
        );
        assert!(CODE_RUNNING.windows(2).all(|w| w[0] < w[1]), "sorted");
    }

    #[test]
    fn an_api_list_allows_only_its_functions() {
        let only = Permissions { lua: true, api: ApiGrant::Only(["nvim_buf_get_lines".to_string()].into()) };
        assert!(only.deny_api("p", "nvim_buf_get_lines").is_none());
        let e = only.deny_api("p", "nvim_buf_set_lines").map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("may not call nvim_buf_set_lines (it is not in allow.api"), "{e}");
        let none = Permissions { lua: false, api: ApiGrant::None };
        assert!(none.deny_api("p", "nvim_get_current_line").is_some());
        assert_eq!(none.describe(), "nothing (no API, no Lua)");
        assert_eq!(only.describe(), "lua, api (nvim_buf_get_lines)");
    }

    #[test]
    fn narrowest_keeps_every_restriction() {
        let all = Permissions::default();
        let only = Permissions { lua: true, api: ApiGrant::Only(["a".to_string(), "b".to_string()].into()) };
        let other = Permissions { lua: false, api: ApiGrant::Only(["b".to_string(), "c".to_string()].into()) };
        assert_eq!(all.narrowest(&only), only);
        assert_eq!(only.narrowest(&other), Permissions { lua: false, api: ApiGrant::Only(["b".to_string()].into()) });
        assert_eq!(only.narrowest(&Permissions { lua: true, api: ApiGrant::None }).api, ApiGrant::None);
    }
}
