//! What Neovim passes to callbacks, typed: take one as an export's parameter
//! (`#[export] fn on_write(ev: AutocmdEvent)`).

use serde::Deserialize;

use crate::{Buffer, Object};

/// An autocmd callback's argument (`:help nvim_create_autocmd()`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct AutocmdEvent {
    /// The autocmd's id.
    pub id: i64,
    /// The event that fired, e.g. `"BufWritePost"`.
    pub event: String,
    #[serde(default)]
    pub group: Option<i64>,
    /// `expand("<amatch>")`
    #[serde(rename = "match", default)]
    pub matched: String,
    /// `expand("<abuf>")`
    pub buf: Buffer,
    /// `expand("<afile>")`
    #[serde(default)]
    pub file: String,
    /// Event data (`nvim_exec_autocmds` `data`, `LspAttach` ...).
    #[serde(default)]
    pub data: Option<Object>,
}

/// A user command's argument (`:help nvim_create_user_command()`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct CommandArgs {
    pub name: String,
    /// The arguments as one string.
    pub args: String,
    /// The arguments split on whitespace.
    pub fargs: Vec<String>,
    pub nargs: String,
    /// `:Cmd!`
    pub bang: bool,
    /// The range's first and last line (1-based).
    pub line1: i64,
    pub line2: i64,
    /// How many range items were given (0, 1 or 2).
    pub range: i64,
    pub count: i64,
    pub reg: String,
    /// Command modifiers as text (`"vertical"`).
    pub mods: String,
    pub smods: Option<Object>,
}

/// What an `on_lines` callback of `nvim_buf_attach` receives: an export
/// whose only parameter is an `OnLines` gets all the arguments.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct OnLines {
    /// Always `"lines"`.
    pub event: String,
    pub buf: Buffer,
    pub changedtick: Option<i64>,
    /// First changed line (0-based).
    pub first: i64,
    /// Last line of the old range (exclusive).
    pub last_old: i64,
    /// Last line of the new range (exclusive).
    pub last_new: i64,
    /// Byte count of the old range.
    pub byte_count: i64,
    #[serde(default)]
    pub deleted_codepoints: Option<i64>,
    #[serde(default)]
    pub deleted_codeunits: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_lines_reads_the_argument_list() {
        let bytes = rmp_serde::to_vec(&("lines", 3, 7, 0, 1, 2, 10)).unwrap();
        let ev: OnLines = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!((ev.buf, ev.first, ev.last_new, ev.deleted_codepoints), (Buffer(3), 0, 2, None));
    }
}
