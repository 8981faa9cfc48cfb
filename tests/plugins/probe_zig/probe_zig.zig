//! What a Zig SDK plugin sees of the running Neovim (versions_spec): which
//! API functions it may call, its version, and the error a function this
//! Neovim lacks gives.
const nvim = @import("wasm_nvim");

pub const panic = nvim.panic;

comptime {
    nvim.exportFunctions(.{ .has_api = hasApi, .nvim_version = nvimVersion, .try_ui_send = tryUiSend });
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
    nvim.call(void, "nvim_ui_send", .{content}) catch return nvim.errorMessage();
    return "sent";
}
