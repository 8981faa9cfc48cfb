//! `reverse(first, last)`: reverses lines first..last (1-based, inclusive)
//! of the current buffer, says so with vim.notify and returns the count.
//! Every failure (a bad range, an API error) is a Lua error, not a trap.
const std = @import("std");
const nvim = @import("wasm_nvim");

/// Panics reach the user's error message.
pub const panic = nvim.panic;

comptime {
    nvim.exportFunctions(.{ .reverse = nvim.named(reverse, .{ "first", "last" }) });
}

fn reverse(first: i64, last: i64) !i64 {
    if (first < 1 or last < first) return nvim.fail("invalid range {d}-{d}", .{ first, last });
    // An API error (e.g. "Index out of bounds") comes back with its message.
    const lines = try nvim.bufGetLines(.current, first - 1, last, true);
    std.mem.reverse([]const u8, lines);
    try nvim.bufSetLines(.current, first - 1, last, true, lines);
    try nvim.notify(try nvim.format("Reversed {d} lines", .{lines.len}));
    return @intCast(lines.len);
}
