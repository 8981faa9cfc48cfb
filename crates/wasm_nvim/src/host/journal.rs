//! What the user is told: the journal `:Wasm log` shows (output, errors,
//! warnings, slow calls; bounded in entries and bytes), notifications, and
//! a plugin's printed output shown in `:messages`.

use std::collections::VecDeque;

use super::Host;
use crate::bounded;
use crate::nvim::Level;
use crate::output::Output;

/// Entries kept for `:Wasm log`.
const JOURNAL_SIZE: usize = 500;
/// Bytes kept of one entry: enough for any message worth reading.
const JOURNAL_ENTRY_BYTES: usize = 4096;
/// Bytes kept in all: the oldest entries go first.
const JOURNAL_BYTES: usize = 1 << 20;

/// The `:Wasm log` entries, bounded in number and in bytes.
#[derive(Default)]
pub struct Journal {
    entries: VecDeque<String>,
    bytes: usize,
}

impl Journal {
    fn push(&mut self, entry: String) {
        self.bytes += entry.len();
        self.entries.push_back(entry);
        while self.entries.len() > JOURNAL_SIZE || self.bytes > JOURNAL_BYTES {
            let Some(old) = self.entries.pop_front() else { break };
            self.bytes -= old.len();
        }
    }
}

impl Host {
    /// Notes an event for `:Wasm log` (`plugin`: who, `what`: its kind).
    pub fn journal(&self, plugin: &str, what: &str, text: &str) {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let text = bounded::truncate(text, JOURNAL_ENTRY_BYTES);
        self.journal.borrow_mut().push(format!("{h:02}:{m:02}:{s:02} UTC [{plugin}] {what}: {text}"));
    }

    /// The journal, oldest first.
    pub fn journal_entries(&self) -> Vec<String> {
        self.journal.borrow().entries.iter().cloned().collect()
    }

    /// Runs `f` (which shows a notification) unless one is being shown
    /// already (a `vim.notify` replacement that calls wasm_nvim, which
    /// logs): false when it did not run, instead of recursing without end.
    fn notifying(&self, f: impl FnOnce()) -> bool {
        if self.notifying.replace(true) {
            return false;
        }
        f();
        self.notifying.set(false);
        true
    }

    /// Shows output taken with `HostState::take_output` in `:messages`.
    /// Call it with no borrow of the plugin held: it runs Lua (a user's
    /// `nvim_echo` autocmds or hooks may call the plugin again).
    pub fn show_output(&self, output: Option<Output>) {
        let Some(output) = output else { return };
        for (text, highlight) in [(output.stdout, "None"), (output.stderr, "WarningMsg")] {
            if let Some(text) = text {
                self.journal(&output.plugin, if highlight == "None" { "stdout" } else { "stderr" }, &text);
                // Output that cannot be shown must not turn a successful call
                // into a failed one; there is nowhere better to report it.
                let _ = self.nvim.echo(&output.plugin, &text, highlight);
            }
        }
    }

    pub fn warn(&self, msg: &str) {
        self.journal("wasm_nvim", "warning", msg);
        self.notifying(|| drop(self.nvim.notify(msg, Level::Warn)));
    }

    /// A debug message (`setup({ debug = true })`), made only when shown.
    pub fn log(&self, msg: impl FnOnce() -> String) {
        if self.setup().options.debug {
            let msg = msg();
            if !self.notifying(|| drop(self.nvim.notify(&format!("wasm_nvim: {msg}"), Level::Debug))) {
                self.journal("wasm_nvim", "debug", &msg);
            }
        }
    }
}
