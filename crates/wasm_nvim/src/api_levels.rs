//! Which Neovim has which API function.
//!
//! A plugin is compiled once and run on every Neovim its users have, so it
//! may import a function the running Neovim lacks (one added later, or one
//! removed). Such a plugin still loads; only calling that function fails,
//! with an error that says which Neovim it needs. The levels come from the
//! newest supported Neovim's metadata (`api_levels_gen.rs`, written by
//! `make gen`; `tests/nvim/sdk_rust_spec.lua` checks it is current).

use crate::error::{Error, Kind};
use crate::nvim::Version;

#[path = "api_levels_gen.rs"]
mod generated;

/// The API level at which `name` appeared, if the newest supported API
/// has it.
pub fn since(name: &str) -> Option<u32> {
    generated::SINCE
        .binary_search_by(|(n, _)| n.cmp(&name))
        .ok()
        .and_then(|i| generated::SINCE.get(i))
        .map(|(_, level)| *level)
}

/// The first Neovim release of an API level (those the tests have seen
/// and the two before them).
fn release_of(level: u32) -> Option<&'static str> {
    match level {
        12 => Some("0.10"),
        13 => Some("0.11"),
        14 => Some("0.12"),
        _ => None,
    }
}

/// Whether `name` looks like an API function (they all follow one of
/// these naming schemes), so an import of it is one the host should
/// answer even when this Neovim does not have it.
pub fn is_api_name(name: &str) -> bool {
    name.starts_with("nvim_") || since(name).is_some()
}

/// The error for calling API function `name`, which the running Neovim
/// does not have (it reads `<name>: needs API level 14 ...`).
pub fn missing(name: &str, running: &Version) -> Error {
    let here = format!("Neovim {} (API level {})", running.text, running.api_level);
    let message = match since(name) {
        Some(level) if level > running.api_level => match release_of(level) {
            Some(release) => format!("needs API level {level} (Neovim {release}); this is {here}"),
            None => format!("needs API level {level}; this is {here}"),
        },
        // Known to the newest API but gone here: removed after deprecation.
        Some(_) => format!("not in {here} (removed)"),
        None => format!("unknown in {here}"),
    };
    Error::new(Kind::Unavailable, message).context(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v011() -> Version {
        Version { major: 0, minor: 11, patch: 4, api_level: 13, text: "0.11.4".into() }
    }

    #[test]
    fn the_table_is_sorted_and_knows_old_and_new_functions() {
        assert!(generated::SINCE.windows(2).all(|w| w[0].0 < w[1].0), "sorted, no duplicates");
        assert_eq!(since("nvim_buf_get_lines"), Some(1));
        assert_eq!(since("nvim_open_win"), Some(6));
        assert_eq!(since("nvim_no_such_function"), None);
    }

    #[test]
    fn missing_functions_name_the_level_they_need_and_the_running_version() {
        let newer = generated::SINCE.iter().find(|(_, level)| *level > 13).map(|(n, _)| *n);
        if let Some(name) = newer {
            let e = missing(name, &v011()).to_string();
            assert!(
                e.contains(&format!("{name}: needs API level")) && e.contains("Neovim 0.11.4 (API level 13)"),
                "{e}"
            );
        }
        let e = missing("nvim_frobnicate", &v011()).to_string();
        assert!(e.contains("nvim_frobnicate: unknown in Neovim 0.11.4"), "{e}");
        assert!(is_api_name("nvim_frobnicate") && is_api_name("buffer_get_line") && !is_api_name("get_id"));
    }
}
