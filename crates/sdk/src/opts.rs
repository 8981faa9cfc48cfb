//! Option tables of the common API calls, typed. Every field is optional
//! and left out when `None`: `AutocmdOpts { callback: Some(Callback::new(on_write)), ..Default::default() }`.

use serde::Serialize;

use crate::{Buffer, Callback, Object, Window};

macro_rules! options {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, Serialize)]
        pub struct $name {
            $($(#[$fmeta])* #[serde(skip_serializing_if = "Option::is_none")] pub $field: Option<$ty>,)*
        }
    };
}

/// A built-in completion (`"file"`) or an export computing it.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Complete {
    Builtin(String),
    Export(Callback),
}

options! {
    /// `nvim_create_autocmd(event, opts)`.
    AutocmdOpts {
        /// A group name or id.
        group: Object,
        pattern: Vec<String>,
        buffer: Buffer,
        desc: String,
        callback: Callback,
        command: String,
        once: bool,
        nested: bool,
    }
}

options! {
    /// `nvim_exec_autocmds(event, opts)`.
    ExecAutocmdsOpts {
        /// A group name or id.
        group: Object,
        pattern: Vec<String>,
        buffer: Buffer,
        /// Process modelines after the autocmds.
        modeline: bool,
        data: Object,
    }
}

options! {
    /// `nvim_buf_attach(buffer, send_buffer, opts)`: the events, each an
    /// export (`on_lines` receives an [`OnLines`](crate::OnLines); the
    /// others `(event: String, buf: Buffer, ...)`). Returning `true` detaches.
    BufAttachOpts {
        on_lines: Callback,
        on_bytes: Callback,
        on_changedtick: Callback,
        on_detach: Callback,
        on_reload: Callback,
        utf_sizes: bool,
        preview: bool,
    }
}

options! {
    /// `nvim_create_augroup(name, opts)`.
    AugroupOpts { clear: bool }
}

options! {
    /// `nvim_create_user_command(name, command, opts)`.
    UserCommandOpts {
        /// `0`, `1` (integers: `"1"` is refused), `"*"`, `"?"` or `"+"`.
        nargs: Object,
        complete: Complete,
        /// `true`, `"%"` or a default count.
        range: Object,
        count: i64,
        bang: bool,
        bar: bool,
        desc: String,
        force: bool,
        preview: Callback,
    }
}

options! {
    /// `nvim_set_keymap(mode, lhs, rhs, opts)` / `nvim_buf_set_keymap`.
    KeymapOpts {
        noremap: bool,
        nowait: bool,
        silent: bool,
        script: bool,
        expr: bool,
        unique: bool,
        replace_keycodes: bool,
        callback: Callback,
        desc: String,
    }
}

options! {
    /// `nvim_buf_set_extmark(buffer, ns_id, line, col, opts)`.
    ExtmarkOpts {
        id: i64,
        end_row: i64,
        end_col: i64,
        hl_group: String,
        hl_eol: bool,
        /// `[(text, highlight), ...]`
        virt_text: Vec<(String, String)>,
        /// `"eol"`, `"overlay"`, `"right_align"`, `"inline"`
        virt_text_pos: String,
        virt_text_win_col: i64,
        virt_lines: Vec<Vec<(String, String)>>,
        virt_lines_above: bool,
        hl_mode: String,
        priority: i64,
        right_gravity: bool,
        end_right_gravity: bool,
        strict: bool,
        sign_text: String,
        sign_hl_group: String,
        number_hl_group: String,
        line_hl_group: String,
        undo_restore: bool,
        invalidate: bool,
    }
}

options! {
    /// `nvim_open_win(buffer, enter, config)` / `nvim_win_set_config`.
    WinConfig {
        /// `"editor"`, `"win"`, `"cursor"`, `"mouse"`, `"laststatus"`, `"tabline"`
        relative: String,
        win: Window,
        anchor: String,
        width: i64,
        height: i64,
        bufpos: (i64, i64),
        row: f64,
        col: f64,
        focusable: bool,
        external: bool,
        zindex: i64,
        /// `"minimal"`
        style: String,
        /// `"none"`, `"single"`, `"double"`, `"rounded"`, ... or a list
        border: Object,
        title: Object,
        title_pos: String,
        footer: Object,
        footer_pos: String,
        noautocmd: bool,
        fixed: bool,
        hide: bool,
        /// `"left"`, `"right"`, `"above"`, `"below"`
        split: String,
        vertical: bool,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_fields_are_left_out() {
        let opts = AutocmdOpts {
            callback: Some(Callback::named("on_write")),
            pattern: Some(vec!["*".into()]),
            ..Default::default()
        };
        let v: rmpv::Value = rmp_serde::from_slice(&rmp_serde::to_vec_named(&opts).unwrap()).unwrap();
        assert_eq!(v.to_string(), r#"{"pattern": ["*"], "callback": {"__wasm_callback": "on_write"}}"#);
    }
}
