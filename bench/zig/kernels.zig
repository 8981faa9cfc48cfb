//! The benchmark kernels in Zig, as raw exports of a fast-ABI plugin:
//! `wasm_nvim_abi` says so, `wasm_nvim_functions` lists them as raw (plain
//! numbers in and out), `alloc`/`dealloc` serve the host.
const std = @import("std");
const gpa = std.heap.wasm_allocator;

export fn wasm_nvim_abi() u32 {
    return 1;
}

export fn alloc(size: u32) ?[*]u8 {
    const s = gpa.alloc(u8, @max(size, 1)) catch return null;
    return s.ptr;
}

export fn dealloc(ptr: [*]u8, size: u32) void {
    gpa.free(ptr[0..@max(size, 1)]);
}

const list = "[{\"name\":\"zsum\",\"raw\":true},{\"name\":\"zsieve\",\"raw\":true}]";

/// The function list as a packed buffer (`ptr | len << 32`), which the
/// host frees with `dealloc`.
export fn wasm_nvim_functions(_: u32, _: u32) u64 {
    const buf = gpa.alloc(u8, list.len) catch return 0;
    @memcpy(buf, list);
    return @as(u64, @intFromPtr(buf.ptr)) | (@as(u64, list.len) << 32);
}

/// Sum of 0..n; doNotOptimizeAway keeps LLVM from using n(n-1)/2.
export fn zsum(n: i64) i64 {
    var total: i64 = 0;
    var i: i64 = 0;
    while (i < n) : (i += 1) {
        std.mem.doNotOptimizeAway(i);
        total +%= i;
    }
    return total;
}

/// Number of primes below n.
export fn zsieve(n: i32) i32 {
    const size: usize = @intCast(n);
    const composite = gpa.alloc(bool, size) catch return -1;
    defer gpa.free(composite);
    @memset(composite, false);
    var count: i32 = 0;
    var i: usize = 2;
    while (i < size) : (i += 1) {
        if (!composite[i]) {
            count += 1;
            // usize is 32-bit on wasm32: i * i overflows past 65535.
            if (i > 65535) continue;
            var j: usize = i * i;
            while (j < size) : (j += i) composite[j] = true;
        }
    }
    return count;
}
