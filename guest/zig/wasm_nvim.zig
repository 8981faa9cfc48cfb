//! wasm_nvim.zig — write Neovim plugins in Zig, run by wasm_nvim.
//!
//! One file, no dependencies beyond `std`. A whole plugin:
//!
//! ```zig
//! const nvim = @import("wasm_nvim");
//!
//! /// Panics reach the user's error message instead of a bare trap.
//! pub const panic = nvim.panic;
//!
//! comptime {
//!     nvim.exportFunctions(struct {
//!         pub fn greet(name: []const u8, punctuation: ?[]const u8) ![]const u8 {
//!             return nvim.format("Hello, {s}{s}", .{ name, punctuation orelse "!" });
//!         }
//!     });
//! }
//! ```
//!
//! Build it with `zig build-exe -target wasm32-freestanding -fno-entry
//! -rdynamic -O ReleaseSafe --dep wasm_nvim -Mroot=greet.zig
//! -Mwasm_nvim=guest/zig/wasm_nvim.zig`, put the result at
//! `wasm/greet.wasm` in a runtimepath directory, and from Lua:
//! `require("wasm_nvim").greet.greet("you")` → `"Hello, you!"`.
//!
//! # The ABI
//!
//! The SDK speaks wasm_nvim's *msgpack ABI*, specified in `doc/abi.md`; you
//! never have to touch it. Importing this file exports what every plugin
//! needs (`wasm_nvim_abi`, `alloc`, `dealloc`); `exportFunctions` exports
//! the function list (`wasm_nvim_functions`) and one export per function.
//! The ABI's names and numbers come from `wasm_nvim_abi.zig`, generated
//! from the `wasm_nvim_abi` crate the host uses (`make gen`).
//!
//! # Memory
//!
//! Inside an exported call, `scratch()` is an arena freed when the call
//! returns (the outermost call, if Lua re-enters the plugin). Values
//! the SDK decodes for you — arguments, results of `call`/`lua` and the typed
//! bindings — live there, so a plugin rarely frees anything. Long-lived state
//! belongs in `gpa`, the general-purpose allocator behind `alloc`/`dealloc`.
//!
//! # Errors
//!
//! Calls into Neovim return `Error!T`. Each error comes with a message (see
//! `errorMessage`): Neovim's own (`error.NvimError`), the plugin's (`fail`,
//! `error.Failed`) or a decoding one (`error.BadValue`). An exported function
//! that returns an error fails its Lua call with that message, or with the
//! error's name for the plugin's own errors (`error.NotFound` → "NotFound").
//! Nothing here traps on bad input: only `@panic` and safety checks do, and
//! with `pub const panic = nvim.panic;` their message reaches the user.

const std = @import("std");
const builtin = @import("builtin");
const Allocator = std.mem.Allocator;
/// The ABI's names and numbers (generated from the `wasm_nvim_abi` crate).
pub const abi = @import("wasm_nvim_abi.zig");

const is_wasm = builtin.target.cpu.arch.isWasm();

// ---------------------------------------------------------------------------
// Memory and the required exports
// ---------------------------------------------------------------------------

/// The general-purpose allocator: what `alloc`/`dealloc` use, so anything
/// handed to the host (results, error messages) comes from here. Use it for
/// state that outlives a call. (Outside wasm, for `zig test`: the page
/// allocator.)
pub const gpa: Allocator = if (is_wasm) std.heap.wasm_allocator else std.heap.page_allocator;

comptime {
    // Only in wasm: `zig test wasm_nvim.zig` on the host must not export
    // `alloc` into a native test binary.
    if (is_wasm) {
        @export(&wasmNvimAbi, .{ .name = abi.abi_export });
        @export(&allocExport, .{ .name = abi.alloc_export });
        @export(&deallocExport, .{ .name = abi.dealloc_export });
    }
}

/// `wasm_nvim_abi() -> i32`: selects the msgpack ABI, this version.
fn wasmNvimAbi() callconv(.c) i32 {
    return abi.abi_version;
}

/// `alloc(size) -> ptr`: memory for the host to write into. Never returns a
/// zero-sized block, so every pointer handed out is a real allocation; 0
/// (out of memory) is an error the host reports.
fn allocExport(size: u32) callconv(.c) ?[*]u8 {
    const block = gpa.alloc(u8, @max(size, 1)) catch return null;
    return block.ptr;
}

/// `dealloc(ptr, size)`: frees what `alloc(size)` returned.
fn deallocExport(ptr: ?[*]u8, size: u32) callconv(.c) void {
    const p = ptr orelse return;
    gpa.free(p[0..@max(size, 1)]);
}

/// Takes ownership of `len` bytes at `ptr` from the host (its `alloc(len)`);
/// release them with `freeBuffer`. `len == 0` means no buffer.
fn takeBuffer(ptr: u32, len: u32) []u8 {
    if (len == 0) return &.{};
    const p: [*]u8 = @ptrFromInt(ptr);
    return p[0..len];
}

/// Frees a buffer from `takeBuffer` (or one allocated by `gpa` with exactly
/// this length), with the size `alloc` used.
fn freeBuffer(buf: []u8) void {
    if (buf.len > 0) gpa.free(buf);
}

/// `ptr | len << 32 | error << 63` (doc/abi.md); `buf.len <= abi.packed_max_len`.
fn pack(buf: []const u8, is_error: bool) u64 {
    if (buf.len == 0 and !is_error) return abi.packed_nil;
    const ptr: u64 = @intFromPtr(buf.ptr);
    const len: u64 = @min(buf.len, abi.packed_max_len);
    return ptr | (len << abi.packed_len_shift) | (if (is_error) abi.packed_error_bit else 0);
}

var arena_state: std.heap.ArenaAllocator = .init(gpa);
/// How many exported calls are running (Lua may call the plugin again
/// while it waits on Neovim); the arena is reset when the last one returns.
var depth: u32 = 0;

/// The scratch allocator of the current call: an arena freed when the
/// (outermost) exported call returns. Arguments, decoded results and
/// `format` strings live here. Do not keep pointers into it across calls.
pub fn scratch() Allocator {
    return arena_state.allocator();
}

fn enterCall() void {
    if (depth == 0) clearError();
    depth += 1;
}

fn leaveCall() void {
    depth -= 1;
    // Keep up to 64 KiB for the next call, give back the rest.
    if (depth == 0) _ = arena_state.reset(.{ .retain_with_limit = 64 * 1024 });
}

/// `std.fmt.allocPrint` into `scratch()`: `nvim.format("{d} lines", .{n})`.
pub fn format(comptime fmt: []const u8, args: anytype) Allocator.Error![]u8 {
    return std.fmt.allocPrint(scratch(), fmt, args);
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// What calls into Neovim (and `fail`) return. Every one of these errors
/// carries a message, `errorMessage()`, which an exported function that
/// returns the error passes on to its Lua caller.
pub const Error = error{
    /// Neovim said no: an API error, a Lua error. The message is Neovim's,
    /// e.g. "nvim_buf_get_lines: Lua error: Index out of bounds".
    NvimError,
    /// The plugin's own error, from `fail`.
    Failed,
    /// A value was not what the code reading it expected.
    BadValue,
    OutOfMemory,
};

/// The message of the last error (gpa-owned, exactly its length, so it can
/// be handed to the host as is), or null.
var error_message: ?[]u8 = null;

fn clearError() void {
    if (error_message) |m| freeBuffer(m);
    error_message = null;
}

/// Takes ownership of `msg` (gpa-allocated) as the current error message.
fn setErrorOwned(msg: []u8) void {
    clearError();
    error_message = if (msg.len == 0) null else msg;
}

fn setErrorFmt(comptime fmt: []const u8, args: anytype) void {
    clearError();
    error_message = std.fmt.allocPrint(gpa, fmt, args) catch null;
}

/// The message that goes with the last `Error` (empty if none): read it
/// when you catch an error instead of returning it.
pub fn errorMessage() []const u8 {
    return error_message orelse "";
}

/// Fails the current call with a formatted message:
/// `return nvim.fail("invalid range {d}-{d}", .{ first, last });`
/// The Lua caller gets `wasm_nvim: <plugin>.<function>: <message>`; the
/// plugin keeps its state (no trap).
pub fn fail(comptime fmt: []const u8, args: anytype) error{Failed} {
    setErrorFmt(fmt, args);
    return error.Failed;
}

// ---------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------

const host = struct {
    fn fixed(comptime T: type, comptime name: []const u8) *const T {
        return @extern(*const T, .{ .name = name, .library_name = abi.msgpack_module });
    }
    const lua = fixed(fn (code_ptr: u32, code_len: u32, args_ptr: u32, args_len: u32) callconv(.c) u64, abi.lua_import);
    const panic = fixed(fn (ptr: u32, len: u32) callconv(.c) void, abi.panic_import);
    const has = fixed(fn (name_ptr: u32, name_len: u32) callconv(.c) i32, abi.has_import);
    const version = fixed(fn () callconv(.c) u64, abi.version_import);
};

/// The panic handler. Re-export it from your root file:
///
///     pub const panic = nvim.panic;
///
/// A panic (`@panic`, or a safety check in Debug/ReleaseSafe builds) then
/// sends its message to the host (`nvim.panic`) before trapping, and the Lua
/// caller sees `wasm_nvim: <plugin>.<function>: the plugin panicked:
/// <message>` and a wasm backtrace. A trap resets the plugin: a fresh
/// instance runs the next call. (Expected failures are errors, not panics:
/// see `fail`.)
pub const panic = std.debug.FullPanic(onPanic);

fn onPanic(msg: []const u8, _: ?usize) noreturn {
    @branchHint(.cold);
    if (is_wasm) host.panic(@intCast(@intFromPtr(msg.ptr)), @intCast(msg.len));
    @trap();
}

// ---------------------------------------------------------------------------
// Neovim's handle types and other special values
// ---------------------------------------------------------------------------

/// A buffer handle. `.current` (0) is the current buffer; others come from
/// the API or from Lua numbers: `@enumFromInt(n)`.
pub const Buffer = enum(i64) {
    current = 0,
    _,
    /// Msgpack extension type of this handle in Neovim's results.
    pub const wasm_nvim_handle: i8 = abi.ext_buffer;
};

/// A window handle (`.current` = 0).
pub const Window = enum(i64) {
    current = 0,
    _,
    pub const wasm_nvim_handle: i8 = abi.ext_window;
};

/// A tabpage handle (`.current` = 0).
pub const Tabpage = enum(i64) {
    current = 0,
    _,
    pub const wasm_nvim_handle: i8 = abi.ext_tabpage;
};

/// One of the plugin's exported functions, passed where Neovim takes a Lua
/// function (autocmd callback, keymap, `on_lines`...):
/// `.{ .callback = nvim.Callback{ .name = "on_save" } }`. It is written as
/// `{"__wasm_callback": name}`; the export receives the Lua arguments like
/// any exported function. See `:h wasm_nvim-callbacks`.
pub const Callback = struct {
    name: []const u8,
    pub const wasm_nvim_callback = {};
};

/// A value as raw msgpack bytes: as an argument of an exported function it
/// accepts anything (decode it later with `Reader.init(raw.msgpack)`); when
/// written, its bytes are copied as they are (build them with a `Writer`).
pub const Raw = struct {
    msgpack: []const u8,
    pub const wasm_nvim_raw = {};
};

/// `vim.log.levels`, for `notifyLevel`.
pub const LogLevel = enum(u8) { trace = 0, debug = 1, info = 2, warn = 3, err = 4, off = 5 };

// ---------------------------------------------------------------------------
// MessagePack: Writer
// ---------------------------------------------------------------------------

/// Builds msgpack in a growing buffer.
///
///     var w = nvim.Writer.init(nvim.scratch());
///     try w.arrayHeader(2);
///     try w.str("hello");
///     try w.int(42);
///     // w.bytes() is now [ "hello", 42 ]
///
/// `write(value)` encodes any supported Zig value (see `Writer.write`).
pub const Writer = struct {
    list: std.ArrayList(u8) = .empty,
    allocator: Allocator,

    pub fn init(allocator: Allocator) Writer {
        return .{ .allocator = allocator };
    }

    pub fn deinit(w: *Writer) void {
        w.list.deinit(w.allocator);
    }

    /// What has been written so far.
    pub fn bytes(w: *const Writer) []const u8 {
        return w.list.items;
    }

    /// The bytes, owned by the caller (exactly their length); the writer
    /// is empty afterwards.
    pub fn toOwnedSlice(w: *Writer) Allocator.Error![]u8 {
        return w.list.toOwnedSlice(w.allocator);
    }

    fn put(w: *Writer, data: []const u8) Allocator.Error!void {
        try w.list.appendSlice(w.allocator, data);
    }

    fn putMarker(w: *Writer, marker: u8, comptime T: type, value: T) Allocator.Error!void {
        var buf: [1 + @sizeOf(T)]u8 = undefined;
        buf[0] = marker;
        std.mem.writeInt(T, buf[1..], value, .big);
        try w.put(&buf);
    }

    pub fn nil(w: *Writer) Allocator.Error!void {
        try w.put(&.{0xc0});
    }

    pub fn boolean(w: *Writer, v: bool) Allocator.Error!void {
        try w.put(&.{if (v) 0xc3 else 0xc2});
    }

    /// A signed integer, in the smallest encoding.
    pub fn int(w: *Writer, v: i64) Allocator.Error!void {
        if (v >= 0) return w.uint(@intCast(v));
        if (v >= -32) return w.put(&.{@bitCast(@as(i8, @intCast(v)))});
        if (v >= std.math.minInt(i8)) return w.putMarker(0xd0, i8, @intCast(v));
        if (v >= std.math.minInt(i16)) return w.putMarker(0xd1, i16, @intCast(v));
        if (v >= std.math.minInt(i32)) return w.putMarker(0xd2, i32, @intCast(v));
        return w.putMarker(0xd3, i64, v);
    }

    /// An unsigned integer, in the smallest encoding.
    pub fn uint(w: *Writer, v: u64) Allocator.Error!void {
        if (v <= 0x7f) return w.put(&.{@intCast(v)});
        if (v <= std.math.maxInt(u8)) return w.putMarker(0xcc, u8, @intCast(v));
        if (v <= std.math.maxInt(u16)) return w.putMarker(0xcd, u16, @intCast(v));
        if (v <= std.math.maxInt(u32)) return w.putMarker(0xce, u32, @intCast(v));
        return w.putMarker(0xcf, u64, v);
    }

    /// A float64 (Lua numbers are doubles).
    pub fn float(w: *Writer, v: f64) Allocator.Error!void {
        try w.putMarker(0xcb, u64, @bitCast(v));
    }

    fn header(w: *Writer, len: usize, fix: ?u8, fix_max: usize, m8: ?u8, m16: u8, m32: u8) Allocator.Error!void {
        if (fix != null and len <= fix_max) return w.put(&.{fix.? | @as(u8, @intCast(len))});
        if (m8 != null and len <= std.math.maxInt(u8)) return w.putMarker(m8.?, u8, @intCast(len));
        if (len <= std.math.maxInt(u16)) return w.putMarker(m16, u16, @intCast(len));
        // Wasm32 memory cannot hold more than 4 GiB: usize fits u32.
        return w.putMarker(m32, u32, @intCast(len));
    }

    /// Text (msgpack str). Bytes that are not valid UTF-8 are written as
    /// `bin` instead, which Lua also reads as a string.
    pub fn str(w: *Writer, s: []const u8) Allocator.Error!void {
        if (!std.unicode.utf8ValidateSlice(s)) return w.bin(s);
        try w.header(s.len, 0xa0, 31, 0xd9, 0xda, 0xdb);
        try w.put(s);
    }

    /// Binary data (msgpack bin); Lua reads it as a string.
    pub fn bin(w: *Writer, s: []const u8) Allocator.Error!void {
        try w.header(s.len, null, 0, 0xc4, 0xc5, 0xc6);
        try w.put(s);
    }

    /// Starts an array of `len` values: write them next.
    pub fn arrayHeader(w: *Writer, len: usize) Allocator.Error!void {
        try w.header(len, 0x90, 15, null, 0xdc, 0xdd);
    }

    /// Starts a map of `len` key/value pairs: write key, value, key, ...
    pub fn mapHeader(w: *Writer, len: usize) Allocator.Error!void {
        try w.header(len, 0x80, 15, null, 0xde, 0xdf);
    }

    /// Copies already-encoded msgpack.
    pub fn raw(w: *Writer, msgpack: []const u8) Allocator.Error!void {
        try w.put(msgpack);
    }

    /// Writes any supported value:
    /// - `void`, `null` → nil; `bool`; integers; floats (as float64)
    /// - strings: `[]const u8`, `[]u8`, string literals, `[N]u8`,
    ///   `[*:0]const u8` → str (bin if not UTF-8)
    /// - other slices and arrays → array; tuples (`.{ 1, "a" }`) → array
    /// - structs → map of field name → value
    /// - optionals → nil or the value; pointers to one value → that value
    /// - `Buffer`/`Window`/`Tabpage` → their number; other enums and enum
    ///   literals → their name (a string)
    /// - `Callback` → `{"__wasm_callback": name}`; `Raw` → its bytes
    pub fn write(w: *Writer, value: anytype) Allocator.Error!void {
        const T = @TypeOf(value);
        switch (@typeInfo(T)) {
            .void, .null => try w.nil(),
            .bool => try w.boolean(value),
            .comptime_int => if (value < 0) try w.int(value) else try w.uint(value),
            .int => |i| if (i.signedness == .unsigned) try w.uint(value) else try w.int(value),
            .comptime_float, .float => try w.float(value),
            .optional => if (value) |v| try w.write(v) else try w.nil(),
            .enum_literal => try w.str(@tagName(value)),
            .@"enum" => if (@hasDecl(T, "wasm_nvim_handle"))
                try w.int(@intFromEnum(value))
            else
                try w.str(@tagName(value)),
            .array => |a| if (a.child == u8) try w.str(&value) else {
                try w.arrayHeader(a.len);
                for (value) |item| try w.write(item);
            },
            .pointer => |p| switch (p.size) {
                .one => switch (@typeInfo(p.child)) {
                    .array => |a| if (a.child == u8) try w.str(value) else try w.write(value.*),
                    else => try w.write(value.*),
                },
                .slice => if (p.child == u8) try w.str(value) else {
                    try w.arrayHeader(value.len);
                    for (value) |item| try w.write(item);
                },
                .many, .c => if (p.child == u8 and p.sentinel() != null and p.sentinel().? == 0)
                    try w.str(std.mem.span(value))
                else
                    @compileError("wasm_nvim: cannot write " ++ @typeName(T) ++ " (unknown length)"),
            },
            .@"struct" => |s| {
                if (@hasDecl(T, "wasm_nvim_raw")) return w.raw(value.msgpack);
                if (@hasDecl(T, "wasm_nvim_callback")) {
                    try w.mapHeader(1);
                    try w.str(abi.callback_key);
                    return w.str(value.name);
                }
                if (s.is_tuple) {
                    try w.arrayHeader(s.field_names.len);
                    inline for (s.field_names) |name| try w.write(@field(value, name));
                } else {
                    try w.mapHeader(s.field_names.len);
                    inline for (s.field_names) |name| {
                        try w.str(name);
                        try w.write(@field(value, name));
                    }
                }
            },
            else => @compileError("wasm_nvim: cannot write a value of type " ++ @typeName(T)),
        }
    }
};

// ---------------------------------------------------------------------------
// MessagePack: Reader
// ---------------------------------------------------------------------------

/// What a msgpack value is, as `Reader.peek` sees it.
pub const Kind = enum {
    nil,
    bool,
    int,
    float,
    str,
    bin,
    array,
    map,
    ext,
    /// Not a value: the data ended (or holds the reserved byte 0xc1).
    invalid,

    /// For messages: "a string", "nil", ...
    pub fn describe(k: Kind) []const u8 {
        return switch (k) {
            .nil => "nil",
            .bool => "a boolean",
            .int => "an integer",
            .float => "a float",
            .str => "a string",
            .bin => "binary data",
            .array => "an array",
            .map => "a table",
            .ext => "a msgpack extension",
            .invalid => "invalid or truncated msgpack",
        };
    }
};

/// Errors of `Reader`: `BadValue` (see `Reader.expected`/`Reader.found`
/// for the message) or `OutOfMemory` (reading slices allocates).
pub const ReadError = error{ BadValue, OutOfMemory };

/// Reads msgpack from a byte slice, bounds checked: malformed or truncated
/// data is `error.BadValue`, never a trap. Typed reads (`int`, `str`, ...)
/// leave the position unchanged when the value has another type, so a
/// caller may `peek` and try something else.
///
///     var r = nvim.Reader.init(bytes);
///     const n = try r.arrayHeader();
///     for (0..n) |_| total += try r.int(i64);
///
/// `read(T)` decodes any supported type; strings are slices of the input
/// (zero-copy) unless `copy_strings` is set.
pub const Reader = struct {
    bytes: []const u8,
    pos: usize = 0,
    /// Where `read` allocates slices (and copied strings); null means
    /// `scratch()`.
    allocator: ?Allocator = null,
    /// Copy strings and `Raw` values into `allocator` instead of pointing
    /// into `bytes` (set it when `bytes` will be freed before the values).
    copy_strings: bool = false,
    /// After `error.BadValue`: what the failing read wanted, e.g.
    /// "an integer (i32)", and what it found, e.g. "a string".
    expected: []const u8 = "",
    found: []const u8 = "",

    pub fn init(bytes: []const u8) Reader {
        return .{ .bytes = bytes };
    }

    /// No bytes left.
    pub fn atEnd(r: *const Reader) bool {
        return r.pos >= r.bytes.len;
    }

    /// A msgpack header: the kind, and its count (array, map), byte length
    /// (str, bin, ext payload) or value (bool, int, float).
    const Head = struct {
        kind: Kind,
        len: u32 = 0,
        boolean: bool = false,
        int: i128 = 0,
        float: f64 = 0,
        ext_type: i8 = 0,
    };

    fn take(r: *Reader, n: usize) ?[]const u8 {
        if (n > r.bytes.len - r.pos) return null;
        defer r.pos += n;
        return r.bytes[r.pos..][0..n];
    }

    fn takeInt(r: *Reader, comptime T: type) ?T {
        const b = r.take(@sizeOf(T)) orelse return null;
        return std.mem.readInt(T, b[0..@sizeOf(T)], .big);
    }

    /// Parses one header, consuming it (payloads of str/bin/ext excluded).
    /// On `.invalid` the position is unspecified: callers restore it.
    fn head(r: *Reader) Head {
        const m = (r.take(1) orelse return .{ .kind = .invalid })[0];
        const invalid: Head = .{ .kind = .invalid };
        return switch (m) {
            0x00...0x7f => .{ .kind = .int, .int = m },
            0x80...0x8f => .{ .kind = .map, .len = m & 0x0f },
            0x90...0x9f => .{ .kind = .array, .len = m & 0x0f },
            0xa0...0xbf => .{ .kind = .str, .len = m & 0x1f },
            0xc0 => .{ .kind = .nil },
            0xc1 => invalid,
            0xc2, 0xc3 => .{ .kind = .bool, .boolean = m == 0xc3 },
            0xc4 => .{ .kind = .bin, .len = r.takeInt(u8) orelse return invalid },
            0xc5 => .{ .kind = .bin, .len = r.takeInt(u16) orelse return invalid },
            0xc6 => .{ .kind = .bin, .len = r.takeInt(u32) orelse return invalid },
            0xc7, 0xc8, 0xc9 => blk: {
                const len: u32 = switch (m) {
                    0xc7 => r.takeInt(u8) orelse return invalid,
                    0xc8 => r.takeInt(u16) orelse return invalid,
                    else => r.takeInt(u32) orelse return invalid,
                };
                break :blk .{ .kind = .ext, .len = len, .ext_type = r.takeInt(i8) orelse return invalid };
            },
            0xca => .{ .kind = .float, .float = @as(f32, @bitCast(r.takeInt(u32) orelse return invalid)) },
            0xcb => .{ .kind = .float, .float = @bitCast(r.takeInt(u64) orelse return invalid) },
            0xcc => .{ .kind = .int, .int = r.takeInt(u8) orelse return invalid },
            0xcd => .{ .kind = .int, .int = r.takeInt(u16) orelse return invalid },
            0xce => .{ .kind = .int, .int = r.takeInt(u32) orelse return invalid },
            0xcf => .{ .kind = .int, .int = r.takeInt(u64) orelse return invalid },
            0xd0 => .{ .kind = .int, .int = r.takeInt(i8) orelse return invalid },
            0xd1 => .{ .kind = .int, .int = r.takeInt(i16) orelse return invalid },
            0xd2 => .{ .kind = .int, .int = r.takeInt(i32) orelse return invalid },
            0xd3 => .{ .kind = .int, .int = r.takeInt(i64) orelse return invalid },
            0xd4...0xd8 => .{
                .kind = .ext,
                .len = @as(u32, 1) << @intCast(m - 0xd4),
                .ext_type = r.takeInt(i8) orelse return invalid,
            },
            0xd9 => .{ .kind = .str, .len = r.takeInt(u8) orelse return invalid },
            0xda => .{ .kind = .str, .len = r.takeInt(u16) orelse return invalid },
            0xdb => .{ .kind = .str, .len = r.takeInt(u32) orelse return invalid },
            0xdc => .{ .kind = .array, .len = r.takeInt(u16) orelse return invalid },
            0xdd => .{ .kind = .array, .len = r.takeInt(u32) orelse return invalid },
            0xde => .{ .kind = .map, .len = r.takeInt(u16) orelse return invalid },
            0xdf => .{ .kind = .map, .len = r.takeInt(u32) orelse return invalid },
            0xe0...0xff => .{ .kind = .int, .int = @as(i8, @bitCast(m)) },
        };
    }

    /// The kind of the next value, without consuming it.
    pub fn peek(r: *const Reader) Kind {
        var copy = r.*;
        return copy.head().kind;
    }

    /// Records a mismatch for the message and returns `error.BadValue`.
    /// `start` is where the value began: the position goes back there.
    fn mismatch(r: *Reader, start: usize, expected: []const u8, found: []const u8) error{BadValue} {
        r.pos = start;
        r.expected = expected;
        r.found = found;
        return error.BadValue;
    }

    /// Reads a header of one of the `kinds`, or fails saying `expected`.
    fn expect(r: *Reader, comptime kinds: []const Kind, expected: []const u8) error{BadValue}!Head {
        const start = r.pos;
        const h = r.head();
        inline for (kinds) |k| if (h.kind == k) return h;
        return r.mismatch(start, expected, h.kind.describe());
    }

    /// Consumes a nil.
    pub fn nil(r: *Reader) ReadError!void {
        _ = try r.expect(&.{.nil}, "nil");
    }

    pub fn boolean(r: *Reader) ReadError!bool {
        return (try r.expect(&.{.bool}, "a boolean")).boolean;
    }

    /// Any msgpack integer that fits `T`. A float is accepted when it is a
    /// whole number (Lua's 3.0); a fraction is an error.
    pub fn int(r: *Reader, comptime T: type) ReadError!T {
        const expected = comptime describe(T);
        const start = r.pos;
        const h = try r.expect(&.{ .int, .float }, expected);
        const whole: i128 = if (h.kind == .int) h.int else blk: {
            // 2^53: beyond it doubles are all whole but no longer exact.
            if (@floor(h.float) != h.float or @abs(h.float) > 9007199254740992.0)
                return r.mismatch(start, expected, "a float");
            break :blk @intFromFloat(h.float);
        };
        return std.math.cast(T, whole) orelse r.mismatch(start, expected, "an integer out of range");
    }

    /// A float or an integer, as `T` (f32 or f64).
    pub fn float(r: *Reader, comptime T: type) ReadError!T {
        const h = try r.expect(&.{ .float, .int }, "a number");
        return if (h.kind == .float) @floatCast(h.float) else @floatFromInt(h.int);
    }

    /// A string (str or bin), as a slice of the input.
    pub fn str(r: *Reader) ReadError![]const u8 {
        const start = r.pos;
        const h = try r.expect(&.{ .str, .bin }, "a string");
        return r.take(h.len) orelse r.mismatch(start, "a string", Kind.invalid.describe());
    }

    /// The element count of an array; read that many values next.
    pub fn arrayHeader(r: *Reader) ReadError!u32 {
        return (try r.expect(&.{.array}, "an array")).len;
    }

    /// The pair count of a map; read key, value, key, ... next. An empty
    /// array counts as an empty map (Lua's `{}` may arrive as either).
    pub fn mapHeader(r: *Reader) ReadError!u32 {
        const start = r.pos;
        const h = try r.expect(&.{ .map, .array }, "a table");
        if (h.kind == .array and h.len > 0) return r.mismatch(start, "a table", "an array");
        return h.len;
    }

    /// A handle (`Buffer`, `Window`, `Tabpage`): Neovim's extension type,
    /// or a plain integer as Lua passes it.
    pub fn handle(r: *Reader, comptime H: type) ReadError!H {
        const expected = comptime describe(H);
        const start = r.pos;
        const h = try r.expect(&.{ .ext, .int }, expected);
        if (h.kind == .int) {
            return @enumFromInt(std.math.cast(i64, h.int) orelse return r.mismatch(start, expected, "an integer out of range"));
        }
        if (h.ext_type != H.wasm_nvim_handle) return r.mismatch(start, expected, "another kind of handle");
        const payload = r.take(h.len) orelse return r.mismatch(start, expected, Kind.invalid.describe());
        var inner = Reader.init(payload);
        const id = inner.int(i64) catch return r.mismatch(start, expected, "a malformed handle");
        return @enumFromInt(id);
    }

    /// Skips one whole value, however deeply nested (no recursion).
    pub fn skip(r: *Reader) ReadError!void {
        const start = r.pos;
        var left: u64 = 1;
        while (left > 0) : (left -= 1) {
            const h = r.head();
            switch (h.kind) {
                .invalid => return r.mismatch(start, "a value", Kind.invalid.describe()),
                .array => left += h.len,
                .map => left += @as(u64, h.len) * 2,
                .str, .bin, .ext => _ = r.take(h.len) orelse
                    return r.mismatch(start, "a value", Kind.invalid.describe()),
                else => {},
            }
        }
    }

    /// One whole value, as its msgpack bytes.
    pub fn rawValue(r: *Reader) ReadError!Raw {
        const start = r.pos;
        try r.skip();
        return .{ .msgpack = try r.own(r.bytes[start..r.pos]) };
    }

    fn alloc(r: *const Reader) Allocator {
        return r.allocator orelse scratch();
    }

    fn own(r: *const Reader, s: []const u8) Allocator.Error![]const u8 {
        return if (r.copy_strings) r.alloc().dupe(u8, s) else s;
    }

    /// Reads a value of type `T`:
    /// - `bool`; integers (range checked); `f32`/`f64` (integers accepted)
    /// - `[]const u8`: a string (str or bin)
    /// - `?T`: nil → null, else a `T`
    /// - `[]const T` or `[]T`: an array, allocated (see `allocator`)
    /// - structs: a table; unknown keys are skipped, missing fields take
    ///   their default value, or null if optional (else it is an error)
    /// - tuples: an array with at least as many elements
    /// - `Buffer`/`Window`/`Tabpage`; other enums by name (a string)
    /// - `Raw`: any value, as bytes; `void`: any value, skipped
    pub fn read(r: *Reader, comptime T: type) ReadError!T {
        switch (@typeInfo(T)) {
            .void => return r.skip(),
            .bool => return r.boolean(),
            .int => return r.int(T),
            .float => return r.float(T),
            .optional => |o| {
                if (r.peek() == .nil) {
                    r.pos += 1;
                    return null;
                }
                const start = r.pos;
                return r.read(o.child) catch |e| {
                    // Say "or nil" unless the mismatch is deeper inside.
                    if (e == error.BadValue and r.pos == start) r.expected = comptime describe(T);
                    return e;
                };
            },
            .@"enum" => {
                if (@hasDecl(T, "wasm_nvim_handle")) return r.handle(T);
                const start = r.pos;
                const name = try r.str();
                return std.meta.stringToEnum(T, name) orelse
                    r.mismatch(start, comptime describe(T), "another string");
            },
            .pointer => |p| {
                if (p.size != .slice) @compileError("wasm_nvim: cannot read " ++ @typeName(T) ++ "; use a slice");
                if (p.child == u8) {
                    if (!p.attrs.@"const") @compileError("wasm_nvim: read strings as []const u8, not []u8");
                    return r.own(try r.str());
                }
                // Other slices are freshly allocated: `[]T` is fine too.
                const start = r.pos;
                const n = try r.arrayHeader();
                // Every element takes at least one byte: a length beyond the
                // data is malformed, not a reason to allocate gigabytes.
                if (n > r.bytes.len - r.pos) return r.mismatch(start, comptime describe(T), Kind.invalid.describe());
                const items = try r.alloc().alloc(p.child, n);
                for (items) |*item| item.* = try r.read(p.child);
                return items;
            },
            .@"struct" => |s| {
                if (T == Raw) return r.rawValue();
                if (s.is_tuple) return r.readTuple(T);
                return r.readStruct(T);
            },
            else => @compileError("wasm_nvim: cannot read a value of type " ++ @typeName(T)),
        }
    }

    fn readTuple(r: *Reader, comptime T: type) ReadError!T {
        const s = @typeInfo(T).@"struct";
        const start = r.pos;
        const n = try r.arrayHeader();
        if (n < s.field_names.len) return r.mismatch(start, comptime describe(T), "a shorter array");
        var out: T = undefined;
        inline for (s.field_names, s.field_types) |name, FT| @field(out, name) = try r.read(FT);
        for (s.field_names.len..n) |_| try r.skip();
        return out;
    }

    fn readStruct(r: *Reader, comptime T: type) ReadError!T {
        const s = @typeInfo(T).@"struct";
        const start = r.pos;
        const n = try r.mapHeader();
        var out: T = undefined;
        var seen: [s.field_names.len]bool = @splat(false);
        for (0..n) |_| {
            if (r.peek() != .str) {
                // A number key (Lua list part): not a field, skip the pair.
                try r.skip();
                try r.skip();
                continue;
            }
            const key = try r.str();
            var matched = false;
            inline for (s.field_names, s.field_types, 0..) |name, FT, i| {
                if (!matched and std.mem.eql(u8, key, name)) {
                    @field(out, name) = try r.read(FT);
                    seen[i] = true;
                    matched = true;
                }
            }
            if (!matched) try r.skip();
        }
        inline for (s.field_names, s.field_types, s.field_attrs, 0..) |name, FT, attrs, i| {
            if (!seen[i]) {
                if (attrs.defaultValue(FT)) |d| {
                    @field(out, name) = d;
                } else if (@typeInfo(FT) == .optional) {
                    @field(out, name) = null;
                } else {
                    return r.mismatch(start, "a table with the field '" ++ name ++ "'", "a table without it");
                }
            }
        }
        return out;
    }
};

/// How a type is named in error messages: "an integer (i32)", "a string".
pub fn describe(comptime T: type) []const u8 {
    return switch (@typeInfo(T)) {
        .void => "any value",
        .bool => "a boolean",
        .int => "an integer (" ++ @typeName(T) ++ ")",
        .float => "a number",
        .optional => |o| describe(o.child) ++ " or nil",
        .@"enum" => if (@hasDecl(T, "wasm_nvim_handle"))
            switch (T.wasm_nvim_handle) {
                abi.ext_buffer => "a buffer",
                abi.ext_window => "a window",
                else => "a tabpage",
            }
        else
            "one of the strings of " ++ @typeName(T),
        .pointer => |p| if (p.child == u8) "a string" else "an array",
        .@"struct" => |s| if (T == Raw) "any value" else if (s.is_tuple) "an array" else "a table",
        else => @typeName(T),
    };
}

// ---------------------------------------------------------------------------
// Calling Neovim
// ---------------------------------------------------------------------------

/// What a call into Neovim returned: msgpack bytes, owned by the plugin
/// until `deinit`. For zero-copy reading in hot loops; `call`/`lua`
/// decode into `scratch()` for you.
pub const Reply = struct {
    /// Empty means nil.
    bytes: []u8,

    /// A reader over the result (nil if Neovim returned nothing). Strings
    /// it reads point into `bytes`: use them before `deinit`.
    pub fn reader(reply: *const Reply) Reader {
        return Reader.init(if (reply.bytes.len == 0) &.{0xc0} else reply.bytes);
    }

    pub fn deinit(reply: *Reply) void {
        freeBuffer(reply.bytes);
        reply.bytes = &.{};
    }
};

/// The type of every `nvim.<name>` import.
const Import = *const fn (args_ptr: u32, args_len: u32) callconv(.c) u64;

/// The import `nvim.<name>`, declared on first use: any function of
/// `api_info()` works, e.g. `"nvim_win_get_cursor"`.
fn import(comptime name: []const u8) Import {
    return @extern(Import, .{ .name = name, .library_name = abi.msgpack_module });
}

/// Encodes call arguments (a tuple) as a msgpack array; none → no buffer.
fn encodeArgs(args: anytype) Allocator.Error![]u8 {
    if (@typeInfo(@TypeOf(args)).@"struct".field_names.len == 0) return &.{};
    var w = Writer.init(gpa);
    errdefer w.deinit();
    try w.write(args);
    return w.toOwnedSlice();
}

/// Turns a packed result into a `Reply`, or its error into `error.NvimError`
/// with the host's message (which names the API function, e.g.
/// "nvim_buf_get_lines: Lua error: Index out of bounds").
fn unpackReply(what: ?[]const u8, packed_result: u64) Error!Reply {
    const buf = takeBuffer(@truncate(packed_result & abi.packed_ptr_mask), @truncate((packed_result >> abi.packed_len_shift) & abi.packed_max_len));
    if (packed_result & abi.packed_error_bit == 0) return .{ .bytes = buf };
    // The host allocated the message with our `alloc(len)`: it becomes the
    // error message as is (freed with the same length later).
    if (buf.len > 0) setErrorOwned(buf) else setErrorFmt("{s}: failed", .{what orelse "lua"});
    return error.NvimError;
}

/// Calls the API function `name` with `args` (a tuple: `.{ buf, 0, -1 }`)
/// and returns the raw reply. Free it with `reply.deinit()`.
pub fn callReply(comptime name: []const u8, args: anytype) Error!Reply {
    const bytes = try encodeArgs(args);
    defer freeBuffer(bytes);
    return callEncoded(name, bytes);
}

/// Calls the API function `name` with arguments already encoded as a
/// msgpack array (e.g. with a `Writer`; empty for none).
pub fn callEncoded(comptime name: []const u8, args_msgpack: []const u8) Error!Reply {
    const packed_result = import(name)(@intCast(@intFromPtr(args_msgpack.ptr)), @intCast(args_msgpack.len));
    return unpackReply(name, packed_result);
}

/// Decodes a reply as `T` into `scratch()` and frees it.
fn decodeReply(comptime T: type, what: []const u8, reply_in: Reply) Error!T {
    var reply = reply_in;
    defer reply.deinit();
    var r = reply.reader();
    r.copy_strings = true;
    return r.read(T) catch |e| switch (e) {
        error.BadValue => {
            setErrorFmt("{s}: unexpected result: expected {s}, got {s}", .{ what, r.expected, r.found });
            return error.BadValue;
        },
        error.OutOfMemory => return error.OutOfMemory,
    };
}

/// Calls the API function `name` with `args` (a tuple) and decodes its
/// result as `T` (`void` ignores it). Strings and slices live in
/// `scratch()`. Any API function works:
///
///     const cursor = try nvim.call(struct { i64, i64 }, "nvim_win_get_cursor", .{nvim.Window.current});
pub fn call(comptime T: type, comptime name: []const u8, args: anytype) Error!T {
    return decodeReply(T, name, try callReply(name, args));
}

/// Whether this Neovim has API function `name` and a plugin can call it.
/// A plugin runs on every Neovim its users have: ask before calling a
/// function newer than the oldest one you support (calling a missing one is
/// an error naming the Neovim it needs).
///
///     if (nvim.has("nvim_ui_send")) try nvim.call(void, "nvim_ui_send", .{"..."});
pub fn has(name: []const u8) bool {
    return host.has(@intCast(@intFromPtr(name.ptr)), @intCast(name.len)) == 1;
}

/// The running Neovim's version and API level (what `since` counts).
pub const Version = struct { major: u16, minor: u16, patch: u16, api_level: u16 };

/// The running Neovim's version and API level.
pub fn version() Version {
    const v = host.version();
    return .{
        .major = @truncate(v >> abi.version_major_shift),
        .minor = @truncate(v >> abi.version_minor_shift),
        .patch = @truncate(v >> abi.version_patch_shift),
        .api_level = @truncate(v >> abi.version_api_level_shift),
    };
}

/// Runs Lua `code` with `args` (a tuple) as its `...` and returns its first
/// result as `T` (`void` ignores it). The host compiles each text once.
///
///     const n = try nvim.lua(i64, "return #vim.api.nvim_list_bufs()", .{});
///     try nvim.lua(void, "vim.fn.setreg('a', ...)", .{"text"});
pub fn lua(comptime T: type, code: []const u8, args: anytype) Error!T {
    return decodeReply(T, "lua", try luaReply(code, args));
}

/// `lua`, returning the raw reply (free it with `deinit`).
pub fn luaReply(code: []const u8, args: anytype) Error!Reply {
    const bytes = try encodeArgs(args);
    defer freeBuffer(bytes);
    const packed_result = host.lua(
        @intCast(@intFromPtr(code.ptr)),
        @intCast(code.len),
        @intCast(@intFromPtr(bytes.ptr)),
        @intCast(bytes.len),
    );
    return unpackReply(null, packed_result);
}

/// `vim.notify(text)` (INFO).
pub fn notify(text: []const u8) Error!void {
    return lua(void, "vim.notify(...)", .{text});
}

/// `vim.notify(text, level)`.
pub fn notifyLevel(text: []const u8, level: LogLevel) Error!void {
    return lua(void, "vim.notify(...)", .{ text, @intFromEnum(level) });
}

/// Typed bindings for every API function Lua can call, generated from
/// Neovim's API metadata (`make gen`): `nvim.api.nvim_win_get_cursor(win)`.
pub const api = @import("wasm_nvim_api.zig");

// Typed bindings for a few API functions, by hand (`api` has them all).

/// `nvim_get_current_buf()`.
pub fn getCurrentBuf() Error!Buffer {
    return call(Buffer, "nvim_get_current_buf", .{});
}

/// `nvim_buf_line_count(buf)`.
pub fn bufLineCount(buf: Buffer) Error!i64 {
    return call(i64, "nvim_buf_line_count", .{buf});
}

/// `nvim_buf_get_lines(buf, start, end, strict)`: lines `start..end`
/// (0-based, end exclusive, negative counts from the end: -1 is past the
/// last line). Lines are bytes (any encoding); they and the list (yours to
/// reorder) live in `scratch()`.
pub fn bufGetLines(buf: Buffer, start: i64, end: i64, strict: bool) Error![][]const u8 {
    return call([][]const u8, "nvim_buf_get_lines", .{ buf, start, end, strict });
}

/// `nvim_buf_set_lines(buf, start, end, strict, lines)`: replaces lines
/// `start..end` (indexed as in `bufGetLines`) with `lines`.
pub fn bufSetLines(buf: Buffer, start: i64, end: i64, strict: bool, lines: []const []const u8) Error!void {
    return call(void, "nvim_buf_set_lines", .{ buf, start, end, strict, lines });
}

/// `nvim_get_current_line()`.
pub fn getCurrentLine() Error![]const u8 {
    return call([]const u8, "nvim_get_current_line", .{});
}

/// `nvim_set_current_line(line)`.
pub fn setCurrentLine(line: []const u8) Error!void {
    return call(void, "nvim_set_current_line", .{line});
}

// ---------------------------------------------------------------------------
// Exporting functions
// ---------------------------------------------------------------------------

/// Exports plugin functions, callable from Lua as
/// `require("wasm_nvim").<plugin>.<name>(...)`. Call it once, in a
/// `comptime` block, with either a namespace (its `pub fn`s are exported
/// under their names) or a struct literal of functions (`.{ .name = fn }`):
///
///     comptime { nvim.exportFunctions(@import("functions.zig")); }
///     comptime { nvim.exportFunctions(.{ .reverse = reverse, .count = count }); }
///
/// Parameters take the Lua arguments in order, decoded with `Reader.read`
/// (so: bool, integers, floats, `[]const u8`, optionals, `[]const T`,
/// structs, handles, `Raw`). Missing trailing arguments are nil (fine for
/// optionals), extra ones are ignored, a wrong type fails the call with
/// e.g. "argument 2: expected an integer (i64), got a string". A parameter
/// of type `std.mem.Allocator` takes no argument: it receives `scratch()`.
///
/// The result is encoded with `Writer.write` (void and null are nil). An
/// error union fails the call when it is an error: with `errorMessage()`
/// for the SDK's errors (`fail`, failed Neovim calls), else the error's name.
/// A function with its parameter names, so a wrong argument is named:
/// `.reverse = nvim.named(reverse, .{ "first", "last" })` gives
/// "argument 2 (last): expected an integer (i64), got a string".
pub fn named(comptime f: anytype, comptime names: anytype) type {
    return struct {
        pub const wasm_nvim_named = true;
        pub const function = f;
        pub const param_names: []const []const u8 = &names;
    };
}

fn unwrapFn(comptime entry: anytype) struct { f: @TypeOf(if (@TypeOf(entry) == type and @hasDecl(entry, "wasm_nvim_named")) entry.function else entry), names: []const []const u8 } {
    if (@TypeOf(entry) == type and @hasDecl(entry, "wasm_nvim_named")) return .{ .f = entry.function, .names = entry.param_names };
    return .{ .f = entry, .names = &.{} };
}

pub fn exportFunctions(comptime functions: anytype) void {
    const is_namespace = @TypeOf(functions) == type;
    const Container = if (is_namespace) functions else @TypeOf(functions);
    const info = @typeInfo(Container).@"struct";
    const names = if (is_namespace) info.decl_names else info.field_names;
    // Name checks and the JSON are built at compile time: room for many.
    @setEvalBranchQuota(2000 + 2000 * names.len);

    comptime var json: []const u8 = "[";
    inline for (names) |name| {
        const entry = comptime unwrapFn(@field(functions, name));
        const f = entry.f;
        if (@typeInfo(@TypeOf(f)) != .@"fn") {
            // A namespace may hold other declarations; a literal may not.
            if (is_namespace) continue else @compileError("wasm_nvim: ." ++ name ++ " is not a function");
        }
        comptime checkName(name);
        @export(&Exported(f, entry.names).call, .{ .name = name });
        json = json ++ (if (json.len > 1) "," else "") ++ "{\"name\":\"" ++ name ++ "\"}";
    }
    const list = json ++ "]";

    const Functions = struct {
        /// `wasm_nvim_functions(ptr, len) -> i64`: the JSON function list.
        fn wasmNvimFunctions(ptr: u32, len: u32) callconv(.c) u64 {
            freeBuffer(takeBuffer(ptr, len));
            const buf = gpa.dupe(u8, list) catch @panic("out of memory");
            return pack(buf, false);
        }
    };
    @export(&Functions.wasmNvimFunctions, .{ .name = abi.functions_export });
}

fn checkName(comptime name: []const u8) void {
    for (name) |c| switch (c) {
        'a'...'z', 'A'...'Z', '0'...'9', '_' => {},
        else => @compileError("wasm_nvim: function name '" ++ name ++ "' must be letters, digits and '_'"),
    };
    const reserved = [_][]const u8{ abi.alloc_export, abi.dealloc_export, abi.memory_export, abi.abi_export, abi.functions_export, "_start", abi.initialize_export };
    for (reserved) |r| if (std.mem.eql(u8, name, r))
        @compileError("wasm_nvim: '" ++ name ++ "' is an export of the ABI; rename the function");
}

/// The export for `f`: `(args_ptr, args_len) -> packed result`.
fn Exported(comptime f: anytype, comptime names: []const []const u8) type {
    return struct {
        fn call(ptr: u32, len: u32) callconv(.c) u64 {
            const args = takeBuffer(ptr, len);
            enterCall();
            defer leaveCall();
            // Arguments may be slices of `args`, and so may the result:
            // freed only after the result is encoded.
            defer freeBuffer(args);
            return invoke(f, names, args);
        }
    };
}

fn invoke(comptime f: anytype, comptime names: []const []const u8, args_msgpack: []const u8) u64 {
    const F = @TypeOf(f);
    const params = @typeInfo(F).@"fn".param_types;
    var args: std.meta.ArgsTuple(F) = undefined;
    var r = Reader.init(args_msgpack);
    const given: u32 = if (args_msgpack.len == 0) 0 else r.arrayHeader() catch
        return replyError("the arguments are not a msgpack array");

    comptime var lua_index: u32 = 0;
    inline for (params, 0..) |maybe_type, i| {
        const T = maybe_type orelse @compileError("wasm_nvim: exported functions cannot have generic parameters");
        if (T == Allocator) {
            args[i] = scratch();
            continue;
        }
        const at = comptime if (lua_index < names.len)
            std.fmt.comptimePrint("argument {d} ({s})", .{ lua_index + 1, names[lua_index] })
        else
            std.fmt.comptimePrint("argument {d}", .{lua_index + 1});
        if (lua_index < given) {
            args[i] = r.read(T) catch |e| switch (e) {
                error.OutOfMemory => return replyError("out of memory"),
                error.BadValue => return replyErrorFmt("{s}: expected {s}, got {s}", .{ at, r.expected, r.found }),
            };
        } else if (@typeInfo(T) == .optional) {
            args[i] = null;
        } else {
            return replyErrorFmt("{s}: expected {s}, got nil", .{ at, comptime describe(T) });
        }
        lua_index += 1;
    }
    return replyWith(@call(.auto, f, args));
}

/// Encodes what an exported function returned.
fn replyWith(result: anytype) u64 {
    if (@typeInfo(@TypeOf(result)) == .error_union) {
        const value = result catch |e| return replyFailure(e);
        return replyWith(value);
    }
    if (@TypeOf(result) == void) return 0;
    var w = Writer.init(gpa);
    w.write(result) catch {
        w.deinit();
        return replyError("out of memory (encoding the result)");
    };
    const bytes = w.toOwnedSlice() catch {
        w.deinit();
        return replyError("out of memory (encoding the result)");
    };
    // Nil is the empty reply: nothing for the host to copy or free.
    if (bytes.len == 1 and bytes[0] == 0xc0) {
        freeBuffer(bytes);
        return 0;
    }
    if (bytes.len > abi.packed_max_len) {
        freeBuffer(bytes);
        return replyError("the result is too large (2 GiB or more)");
    }
    return pack(bytes, false);
}

/// The reply for an error returned by an exported function.
fn replyFailure(err: anyerror) u64 {
    const sdk_error = err == error.NvimError or err == error.Failed or err == error.BadValue;
    if (sdk_error) {
        if (error_message) |msg| {
            // Handed over to the host, which frees it with `dealloc`.
            error_message = null;
            return pack(msg, true);
        }
    }
    if (err == error.OutOfMemory) return replyError("out of memory");
    return replyError(@errorName(err));
}

/// The error reply `msg` (copied: the host frees what it is given).
fn replyError(msg: []const u8) u64 {
    const buf = gpa.dupe(u8, if (msg.len == 0) "error" else msg) catch @panic("out of memory");
    return pack(buf, true);
}

fn replyErrorFmt(comptime fmt: []const u8, args: anytype) u64 {
    const buf = std.fmt.allocPrint(gpa, fmt, args) catch @panic("out of memory");
    if (buf.len == 0) return replyError("error");
    return pack(buf, true);
}

// ---------------------------------------------------------------------------
// Tests (`zig test guest/zig/wasm_nvim.zig`, on the host)
// ---------------------------------------------------------------------------

test "writer and reader round trip" {
    const t = std.testing;
    var w = Writer.init(t.allocator);
    defer w.deinit();
    const Opts = struct { upper: bool = false, prefix: ?[]const u8 };
    try w.write(.{ -1, 200, -40000, 1 << 40, 1.5, "héllo", true, null, Buffer.current, .{ .prefix = "> " } });
    var r = Reader.init(w.bytes());
    r.allocator = t.allocator;
    try t.expectEqual(10, try r.arrayHeader());
    try t.expectEqual(-1, try r.int(i8));
    try t.expectError(error.BadValue, r.int(i8)); // 200 does not fit i8
    try t.expectEqual(2, r.pos); // ...and the position stays put
    try t.expectEqual(200, try r.int(u8));
    try t.expectError(error.BadValue, r.int(i16));
    try t.expectEqualStrings("an integer out of range", r.found);
    try t.expectEqual(-40000, try r.int(i32));
    try t.expectEqual(1 << 40, try r.read(i64));
    try t.expectEqual(1.5, try r.read(f64));
    try t.expectEqualStrings("héllo", try r.read([]const u8));
    try t.expectEqual(true, try r.read(bool));
    try t.expectEqual(null, try r.read(?i64));
    try t.expectEqual(Buffer.current, try r.read(Buffer));
    const o = try r.read(Opts);
    try t.expectEqual(false, o.upper);
    try t.expectEqualStrings("> ", o.prefix.?);
    try t.expect(r.atEnd());
}

test "handles, lists, skipping and malformed input" {
    const t = std.testing;
    // nvim_get_current_buf's reply: fixext1, type 0, payload 1.
    var r = Reader.init(&.{ 0xd4, 0x00, 0x01 });
    try t.expectEqual(@as(Buffer, @enumFromInt(1)), try r.read(Buffer));
    r = Reader.init(&.{ 0xd4, 0x01, 0x01 });
    try t.expectError(error.BadValue, r.read(Buffer));

    var arena = std.heap.ArenaAllocator.init(t.allocator);
    defer arena.deinit();
    var w = Writer.init(arena.allocator());
    try w.write(.{ .{ "a", "b" }, .{ .x = .{ 1, 2, 3 } }, 7 });
    r = Reader.init(w.bytes());
    r.allocator = arena.allocator();
    _ = try r.arrayHeader();
    const lines = try r.read([]const []const u8);
    try t.expectEqual(2, lines.len);
    try r.skip();
    try t.expectEqual(7, try r.read(u32));

    // Truncated: a str8 of 5 bytes with 2 present; an array claiming more
    // elements than there are bytes.
    r = Reader.init(&.{ 0xd9, 0x05, 'a', 'b' });
    try t.expectError(error.BadValue, r.read([]const u8));
    try t.expectEqual(0, r.pos);
    r = Reader.init(&.{ 0xdd, 0xff, 0xff, 0xff, 0xff });
    r.allocator = arena.allocator();
    try t.expectError(error.BadValue, r.read([]const i64));
    r = Reader.init(&.{ 0x91, 0xc1 });
    try t.expectError(error.BadValue, r.skip());
    r = Reader.init(&.{});
    try t.expectError(error.BadValue, r.read(bool));
}
