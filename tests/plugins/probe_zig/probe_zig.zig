//! What a Zig SDK plugin sees of the running Neovim (versions_spec): which
//! API functions it may call, its version, and the error a function this
//! Neovim lacks gives; and the generated bindings `nvim.api.*` in use
//! (sdk_bindings_spec).
const nvim = @import("wasm_nvim");

pub const panic = nvim.panic;

comptime {
    nvim.exportFunctions(.{ .has_api = hasApi, .nvim_version = nvimVersion, .try_ui_send = tryUiSend, .buf_summary = bufSummary });
}

fn hasApi(name: []const u8) bool {
    return nvim.has(name);
}

fn nvimVersion() struct { u16, u16, u16, u16 } {
    const v = nvim.version();
    return .{ v.major, v.minor, v.patch, v.api_level };
}

/// "sent", or the message of the error the plugin got.
fn tryUiSend(content: []const u8) []const u8 {
    nvim.api.nvim_ui_send(content) catch return nvim.errorMessage();
    return "sent";
}

/// The current buffer's line count and first line; sets `b:probe` to the
/// arguments (an Array parameter).
fn bufSummary(first: i64, second: i64) !struct { i64, []const u8 } {
    const count = try nvim.api.nvim_buf_line_count(.current);
    const lines = try nvim.api.nvim_buf_get_lines(.current, 0, 1, false);
    try nvim.api.nvim_buf_set_var(.current, "probe", .{ first, second });
    return .{ count, lines[0] };
}
