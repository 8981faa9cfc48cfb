//! The current setup: what the last `setup()` was given and what it made
//! of it. One value, replaced whole by each `setup()` that succeeds.

use std::path::PathBuf;

use crate::options::Options;

#[derive(Debug, Default)]
pub struct Setup {
    /// The options as the user gave them, for `reload()`.
    pub given: Option<mlua::Value>,
    /// ... parsed: plugins loaded later take their limits from here.
    pub options: Options,
    /// Where compiled modules are kept; `None`: not kept (`cache = false`).
    pub cache_dir: Option<PathBuf>,
}
