//! wordcount: line/word/character statistics for a Neovim buffer, as a
//! wasm_nvim plugin written only against the seed ABI (the "host" imports
//! described in the seed README) with nothing but the Zig standard library.
//!
//! Every value that crosses the boundary is JSON text stored under a u32 id:
//!   * to read a value the host gave us:  get_value_size(id), then
//!     get_value_addr(id) (the host calls our `alloc`, copies the bytes in
//!     and forgets the id; we own and must free that memory);
//!   * to give a value to the host: get_id(), then set_value(id, ptr, len)
//!     (the host copies the bytes and calls our `dealloc(ptr, len)`, so the
//!     buffer must come from our allocator and we must not free it again).
//!
//! Counting rules (the same for a buffer and for `count_text`):
//!   lines        number of lines
//!   bytes        sum of the lines' byte lengths (newlines are not counted)
//!   chars        UTF-8 code points, newlines not counted (every byte that is
//!                not a continuation byte 0b10xxxxxx counts as one)
//!   words        maximal runs of bytes that are not ASCII whitespace
//!                (space, \t, \n, \r, \v, \f)
//!   blank_lines  lines with no word (empty or only whitespace)

const std = @import("std");
const json = std.json;

// ---------------------------------------------------------------------------
// Host imports (wasm import module "host"), declared as in the seed README.

extern "host" fn get_id() u32;
extern "host" fn get_addr(ptr: [*]const u8) u32;
extern "host" fn get_value_size(id: u32) u32;
extern "host" fn get_value_addr(id: u32) [*]u8;
extern "host" fn set_value(id: u32, loc: u32, size: u32) void;
extern "host" fn lua_exec(id: u32) void;

// Neovim API functions: `(u32)` = id of a JSON array of the arguments,
// `-> u32` = id of the JSON result.
extern "host" fn nvim_buf_get_lines(args: u32) u32;
extern "host" fn nvim_buf_line_count(args: u32) u32;
extern "host" fn nvim_buf_get_name(args: u32) u32;

// ---------------------------------------------------------------------------
// Memory the host uses to hand values over (`alloc`) and give them back
// (`dealloc`). One allocator for everything, so dealloc(ptr, size) is valid
// for any buffer we pass to set_value.

const gpa = std.heap.wasm_allocator;

/// The address `alloc(0)` returns: a real, non-zero address of zero bytes.
var empty: [1]u8 = .{0};

export fn alloc(size: u32) u32 {
    if (size == 0) return get_addr(&empty);
    const buf = gpa.alloc(u8, size) catch return 0; // 0 = out of memory
    return get_addr(buf.ptr);
}

export fn dealloc(ptr: u32, size: u32) void {
    if (ptr == 0 or size == 0) return;
    const p: [*]u8 = @ptrFromInt(ptr);
    gpa.free(p[0..size]);
}

/// Out of memory: trap. The host turns a trap into a Lua error naming the
/// plugin and function, and starts the plugin afresh on its next call.
fn oom() noreturn {
    @trap();
}

// ---------------------------------------------------------------------------
// Values by id.

/// Takes the value under `id` (consuming the id). Caller frees it with `gpa`.
fn takeValue(id: u32) []u8 {
    const size = get_value_size(id); // first: get_value_addr forgets the id
    const ptr = get_value_addr(id); // the host called our alloc(size)
    return ptr[0..size];
}

/// Takes the value under `id` and parses its JSON into a `T` that lives in
/// `arena`; `null` if it is not valid JSON of that shape.
fn takeJson(comptime T: type, arena: std.mem.Allocator, id: u32) ?T {
    const text = takeValue(id);
    defer gpa.free(text);
    // alloc_always: copy strings into the arena, so `text` can be freed now.
    return json.parseFromSliceLeaky(T, arena, text, .{ .allocate = .alloc_always }) catch null;
}

/// Gives `bytes` (allocated with `gpa`, exactly this long) to the host under
/// a fresh id. The host frees them through our `dealloc`.
fn giveOwned(bytes: []u8) u32 {
    const id = get_id();
    set_value(id, get_addr(bytes.ptr), @intCast(bytes.len));
    return id;
}

/// Gives a copy of `text`: set_value frees what it is given, so even a
/// string literal must be copied into `gpa` memory first.
fn giveText(text: []const u8) u32 {
    return giveOwned(gpa.dupe(u8, text) catch oom());
}

/// Gives any value as JSON.
fn giveJson(value: anytype) u32 {
    return giveOwned(json.Stringify.valueAlloc(gpa, value, .{}) catch oom());
}

/// Raises a Lua error in the caller: `lua_exec` runs `error(...)`, the host
/// turns the failing Lua chunk into a trap and then into a Lua error that
/// already names the plugin and function ("wasm_nvim: wordcount.stats: ..."). `args` must not contain "]==]" (they are our own words/numbers).
fn raise(comptime fmt: []const u8, args: anytype) noreturn {
    const chunk = std.fmt.allocPrint(gpa, "error([==[" ++ fmt ++ "]==], 0)", args) catch oom();
    lua_exec(giveOwned(chunk));
    @trap(); // not reached: lua_exec does not return after error()
}

/// The Lua name of a JSON value's type, for error messages.
fn luaType(v: json.Value) []const u8 {
    return switch (v) {
        .null => "nil",
        .bool => "boolean",
        .integer, .float, .number_string => "number",
        .string => "string",
        .array, .object => "table",
    };
}

// ---------------------------------------------------------------------------
// Counting.

const Stats = struct {
    lines: u64 = 0,
    words: u64 = 0,
    chars: u64 = 0,
    bytes: u64 = 0,
    blank_lines: u64 = 0,

    fn addLine(s: *Stats, line: []const u8) void {
        var words: u64 = 0;
        var in_word = false;
        for (line) |b| {
            if (b & 0xC0 != 0x80) s.chars += 1; // not a UTF-8 continuation byte
            const space = std.ascii.isWhitespace(b);
            if (!space and !in_word) words += 1;
            in_word = !space;
        }
        s.lines += 1;
        s.bytes += line.len;
        s.words += words;
        if (words == 0) s.blank_lines += 1;
    }

    fn ofLines(lines: []const []const u8) Stats {
        var s: Stats = .{};
        for (lines) |line| s.addLine(line);
        return s;
    }
};

// ---------------------------------------------------------------------------
// Talking to Neovim.

/// nvim_buf_get_lines(0, first, last, strict) of the current buffer
/// (0-based, end-exclusive, -1 = the end).
fn bufLines(arena: std.mem.Allocator, first: i64, last: i64) []const []const u8 {
    const args = std.fmt.allocPrint(gpa, "[0, {d}, {d}, false]", .{ first, last }) catch oom();
    const id = nvim_buf_get_lines(giveOwned(args));
    return takeJson([]const []const u8, arena, id) orelse raise("could not read the buffer's lines", .{});
}

fn bufLineCount(arena: std.mem.Allocator) i64 {
    return takeJson(i64, arena, nvim_buf_line_count(giveText("[0]"))) orelse
        raise("could not read the buffer's line count", .{});
}

fn bufName(arena: std.mem.Allocator) []const u8 {
    return takeJson([]const u8, arena, nvim_buf_get_name(giveText("[0]"))) orelse "";
}

// ---------------------------------------------------------------------------
// Exports.

const Functionality = struct { name: []const u8, params: []const u8, returns: []const u8 };

const functions = [_]Functionality{
    .{ .name = "stats", .params = "void", .returns = "object" },
    .{ .name = "count_text", .params = "string", .returns = "object" },
    .{ .name = "range_stats", .params = "object", .returns = "object" },
    .{ .name = "report", .params = "void", .returns = "void" },
};

/// What this plugin exports: `[{"name": ..., "params": ..., "returns": ...}]`.
export fn functionality() u32 {
    return giveJson(functions);
}

/// wasm.wordcount.stats() -> { lines, words, chars, bytes, blank_lines } of
/// the current buffer.
export fn stats() u32 {
    var arena: std.heap.ArenaAllocator = .init(gpa);
    defer arena.deinit();
    return giveJson(Stats.ofLines(bufLines(arena.allocator(), 0, -1)));
}

/// wasm.wordcount.count_text(s) -> the same statistics for the string `s`,
/// split into lines on "\n" exactly like vim.split(s, "\n"): "" is one blank
/// line, and "a\n" is two lines (the second one blank).
export fn count_text(arg: u32) u32 {
    var arena: std.heap.ArenaAllocator = .init(gpa);
    defer arena.deinit();
    const value = takeJson(json.Value, arena.allocator(), arg) orelse .null;
    const text = switch (value) {
        .string => |s| s,
        else => raise("expected a string, got {s}", .{luaType(value)}),
    };
    var s: Stats = .{};
    var it = std.mem.splitScalar(u8, text, '\n');
    while (it.next()) |line| s.addLine(line);
    return giveJson(s);
}

/// wasm.wordcount.range_stats({ first = n, last = n }) -> the statistics of
/// lines first..last (1-based, inclusive) of the current buffer.
export fn range_stats(arg: u32) u32 {
    var arena: std.heap.ArenaAllocator = .init(gpa);
    defer arena.deinit();
    const a = arena.allocator();
    const Range = struct { first: i64, last: i64 };
    const range = takeJson(Range, a, arg) orelse
        raise("expected {{ first = n, last = n }} (1-based, inclusive)", .{});
    if (range.first < 1 or range.last < range.first)
        raise("bad range {d}..{d}", .{ range.first, range.last });
    const count = bufLineCount(a);
    if (range.last > count)
        raise("line {d} is past the end of the buffer ({d} lines)", .{ range.last, count });
    return giveJson(Stats.ofLines(bufLines(a, range.first - 1, range.last)));
}

/// wasm.wordcount.report() prints a one-line summary of the current buffer
/// on WASI stdout, which wasm_nvim shows in :messages.
export fn report() void {
    var arena: std.heap.ArenaAllocator = .init(gpa);
    defer arena.deinit();
    const a = arena.allocator();
    const s = Stats.ofLines(bufLines(a, 0, -1));
    const name = bufName(a);
    const line = std.fmt.allocPrint(a, "{s}: {d} line{s}, {d} word{s}, {d} char{s}, {d} byte{s}, {d} blank\n", .{
        if (name.len == 0) "[No Name]" else std.fs.path.basename(name),
        s.lines,
        plural(s.lines),
        s.words,
        plural(s.words),
        s.chars,
        plural(s.chars),
        s.bytes,
        plural(s.bytes),
        s.blank_lines,
    }) catch oom();
    // Zig 0.16+ does I/O through an `Io` instance; a -fno-entry library has
    // no main() to receive one, so use the standard single-threaded one.
    const io = std.Io.Threaded.global_single_threaded.io();
    std.Io.File.stdout().writeStreamingAll(io, line) catch {};
}

fn plural(n: u64) []const u8 {
    return if (n == 1) "" else "s";
}
