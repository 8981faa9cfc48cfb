/*
 * wasm_nvim.h - a single-header C SDK for wasm_nvim plugins (the msgpack ABI).
 *
 * A wasm_nvim plugin is a WebAssembly module, `wasm/<stem>.wasm` on Neovim's
 * 'runtimepath'; Lua calls it as `require("wasm_nvim").<stem>.<function>(...)`.
 * This header implements the plugin's side of the "msgpack ABI" (values are
 * MessagePack; the ABI is specified in doc/abi.md) so that a plugin is just:
 *
 *     #define WASM_NVIM_IMPLEMENTATION       // in exactly one .c file
 *     #include "wasm_nvim.h"
 *
 *     // greet("World") == "Hello, World!"
 *     WASM_NVIM_EXPORT(greet) {              // receives `args`, writes `ret`
 *         wn_str name = wn_read_str(args);   // argument 1, must be a string
 *         if (wn_failed(args)) return WN_ERROR;  // "argument 1: expected ..."
 *         wn_write_strf(ret, "Hello, %.*s!", (int)name.len, name.ptr);
 *         return WN_OK;
 *     }
 *
 *     WASM_NVIM_FUNCTIONS("greet")           // the list the host asks for
 *
 * Build (see guest/c/README.md), a WASI "reactor" (a library: no main; the
 * host runs its `_initialize` export once, which sets up wasi-libc):
 *
 *     zig cc --target=wasm32-wasi -O2 -mexec-model=reactor -s \
 *         -Wl,-z,stack-size=1048576 -I guest/c -o wasm/greet.wasm src/greet.c
 *
 * Why wasm32-wasi and not freestanding: the SDK needs an allocator that the
 * host can use through `alloc`/`dealloc`, and plugins want memcpy, snprintf
 * and friends; wasi-libc has all of that (printf is most of the ~20 KB it
 * adds; the reverse example is 35 KB in all). WASI also sends stdout and
 * stderr to `:messages`, handy for debugging.
 *
 * Why stb-style (declarations always, implementation once): the exports
 * every plugin needs (`alloc`, `dealloc`, `wasm_nvim_abi`) must exist exactly
 * once in the module, and a plugin may span several .c files. Without
 * WASM_NVIM_IMPLEMENTATION this header only declares things.
 *
 * ---------------------------------------------------------------------------
 * THE ABI
 *
 *  The msgpack ABI is specified in doc/abi.md; this header implements the
 *  plugin's side (the exports `wasm_nvim_abi`, `alloc`, `dealloc`,
 *  `wasm_nvim_functions` and one `(args_ptr, args_len) -> packed result`
 *  export per function; the imports of module "nvim"). Its names and
 *  numbers come from wasm_nvim_abi.h, generated from the `wasm_nvim_abi`
 *  crate the host uses (`make gen`).
 *
 * MEMORY RULES
 *
 *  - `alloc` is malloc (plus one hidden byte set to 0 after the buffer, so
 *    every buffer the host writes is also a NUL-terminated C string);
 *    `dealloc` is free. Anything you pass around may be freed with free().
 *  - A wn_str (bytes + length, NOT NUL-terminated) read from `args` is valid
 *    until your function returns; one read from a wn_result until
 *    wn_result_free(). Copy it (wn_str_dup) to keep it longer.
 *  - wn_call()/wn_lua() consume the writer holding the arguments (it is
 *    emptied and may be reused). Every wn_result must be freed with
 *    wn_result_free() or wn_fail().
 *
 * ERRORS NEVER TRAP
 *
 *  - Readers and writers have sticky errors: after the first failure every
 *    read returns a zero value and every write is ignored, so read a whole
 *    value and check once: `if (wn_failed(r)) ...`.
 *  - A function fails with `return wn_error(ret, "fmt", ...)`. If the
 *    `args` reader failed, the call fails with its message ("argument 2:
 *    expected an integer, got a string") whatever the function returned, so
 *    `if (wn_failed(args)) return WN_ERROR;` is enough.
 *  - An API error comes back as a wn_result with `.error` set; forward it
 *    with `return wn_fail(ret, &res);`. Out of memory is an error too.
 *  - wn_panic() is the only deliberate trap (the plugin's state is reset).
 *
 * All names start with `wn_` (types, functions), `WN_` or `WASM_NVIM_`
 * (macros); `wn__` names are internal.
 */
#ifndef WASM_NVIM_H
#define WASM_NVIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm_nvim_abi.h" /* the ABI's names and numbers, generated (make gen) */

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Types ============================================================== */

/* What a plugin function returns. */
typedef enum wn_status { WN_OK = 0, WN_ERROR = 1 } wn_status;

/* The kinds of msgpack values, as wn_peek() reports them. */
typedef enum wn_type {
    WN_NIL,
    WN_BOOL,
    WN_INT,
    WN_FLOAT, /* float32 or float64 */
    WN_STR,   /* str: Neovim writes valid UTF-8 text as str ...            */
    WN_BIN,   /* ... and other bytes as bin; wn_read_str() reads both      */
    WN_ARRAY,
    WN_MAP,
    WN_EXT,   /* extension: Buffer (0), Window (1), Tabpage (2) handles     */
    WN_END,   /* nothing left to read, or the reader has failed             */
    WN_INVALID
} wn_type;

/* A byte string: `len` bytes at `ptr`, not NUL-terminated. Print it with
 * printf("%.*s", (int)s.len, s.ptr). */
typedef struct wn_str {
    const char *ptr;
    uint32_t len;
} wn_str;

/* Reads msgpack from a buffer it does not own. Fields are private except
 * `error` (empty while all is well). */
typedef struct wn_reader {
    const uint8_t *pos, *end;
    uint64_t left;   /* values still to read to finish the current top-level one */
    uint32_t index;  /* 1-based number of the current top-level value */
    bool args;       /* an argument list: "argument N: " in errors, nil past the end */
    char error[160]; /* why the first failed read failed ("" if none did) */
    const char *const *names; /* parameter names for errors (wn_arg_names) */
    uint32_t n_names;
} wn_reader;

/* Names the parameters, so errors say "argument 2 (last): expected ...":
 *     wn_arg_names(args, "first", "last");                                  */
#define wn_arg_names(r, ...)                                                  \
    do {                                                                      \
        static const char *const wn__names[] = {__VA_ARGS__};                 \
        (r)->names = wn__names;                                               \
        (r)->n_names = (uint32_t)(sizeof wn__names / sizeof *wn__names);      \
    } while (0)

/* Writes msgpack into a growing malloc'd buffer. Start with `= {0}`
 * (WN_WRITER). Fields are read-only for you. */
typedef struct wn_writer {
    uint8_t *data;
    uint32_t len, cap;
    bool failed;   /* out of memory, or over 2 GiB: writes are ignored */
    bool is_error; /* holds an error message (set by wn_error) */
} wn_writer;
#define WN_WRITER {0}

/* The result of calling Neovim (wn_call, wn_lua, wn_notify). Either
 * `error` is set (NUL-terminated message), or `value` reads the result
 * (nil when the call returned nothing). Free with wn_result_free(). */
typedef struct wn_result {
    const char *error;
    wn_reader value;  /* when `error` is set: already failed with (the start of) it */
    const char *name; /* the import called, for error messages */
    uint8_t *data;   /* the buffer the host allocated (owned) */
    uint32_t len;
} wn_result;

/* A raw import of module "nvim" (WN_MSGPACK_MODULE): (args_ptr, args_len) -> packed result. */
typedef uint64_t (*wn_import)(uint32_t args_ptr, uint32_t args_len);

/* The C function behind a WASM_NVIM_EXPORT. */
typedef wn_status (*wn_function)(wn_reader *args, wn_writer *ret);

/* vim.log.levels, for wn_notify_level(). */
enum { WN_LOG_TRACE = 0, WN_LOG_DEBUG = 1, WN_LOG_INFO = 2, WN_LOG_WARN = 3, WN_LOG_ERROR = 4 };

#if defined(__GNUC__) || defined(__clang__)
#define WN__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define WN__PRINTF(fmt, args)
#endif

/* ==== Imports: the Neovim API ============================================= */

/* Declares the import `nvim.<name>` as the C function `name`, e.g.
 *     WASM_NVIM_IMPORT(nvim_win_get_cursor);
 * Call it with wn_call(name, &args). An import you never call is not
 * imported. wasm_nvim_api.h (generated from Neovim's API metadata, included
 * at the end of this header) declares every API function Lua can call, and
 * a typed wn_nvim_<name>(...) for each. */
#define WASM_NVIM_IMPORT(name) \
    __attribute__((import_module(WN_MSGPACK_MODULE), import_name(#name))) uint64_t name(uint32_t args_ptr, uint32_t args_len)

/* `nvim.has`, `nvim.version`: use wn_has() and wn_version(). */
__attribute__((import_module(WN_MSGPACK_MODULE), import_name(WN_HAS_IMPORT))) int32_t wn_sys_has(uint32_t name_ptr,
                                                                                             uint32_t name_len);
__attribute__((import_module(WN_MSGPACK_MODULE), import_name(WN_VERSION_IMPORT))) uint64_t wn_sys_version(void);

/* `nvim.lua`: runs the Lua chunk with the msgpack array as `...`. Use wn_lua(). */
__attribute__((import_module(WN_MSGPACK_MODULE), import_name(WN_LUA_IMPORT))) uint64_t wn_sys_lua(
    uint32_t code_ptr, uint32_t code_len, uint32_t args_ptr, uint32_t args_len);
/* `nvim.panic`: the message for the trap that follows. Use wn_panic(). */
__attribute__((import_module(WN_MSGPACK_MODULE), import_name(WN_PANIC_IMPORT))) void wn_sys_panic(uint32_t ptr,
                                                                                                uint32_t len);

/* ==== Exporting functions ================================================= */

/* Defines the export `name`, callable from Lua as
 * require("wasm_nvim").<plugin>.name(...). Follow it with the body, which
 * sees two parameters:
 *     wn_reader *args  the Lua arguments, one value after the other
 *                      (missing trailing arguments read as nil)
 *     wn_writer *ret   write ONE value here (or none: nil)
 * and returns WN_OK, or wn_error(...)/wn_fail(...). The same export can be
 * a callback (wn_write_callback), called with the callback's arguments. */
#define WASM_NVIM_EXPORT(name)                                                              \
    static wn_status wn_fn_##name(wn_reader *args, wn_writer *ret);                         \
    uint64_t wn_export_##name(uint32_t args_ptr, uint32_t args_len);                        \
    __attribute__((export_name(#name))) uint64_t wn_export_##name(uint32_t args_ptr,        \
                                                                   uint32_t args_len) {     \
        return wn__dispatch(args_ptr, args_len, wn_fn_##name);                              \
    }                                                                                       \
    static wn_status wn_fn_##name(__attribute__((unused)) wn_reader *args,                  \
                                  __attribute__((unused)) wn_writer *ret)

/* Lists the functions Lua may call (the `wasm_nvim_functions` export), once
 * per plugin: WASM_NVIM_FUNCTIONS("greet", "reverse"). Callbacks need not be
 * listed. WN_RAW("sum") lists a raw function: an export of plain numbers
 * (up to 8 i32/i64/float/double parameters, at most one result; no msgpack,
 * the fastest call, may not call Neovim), defined with WN_EXPORT_NAME:
 *     WN_EXPORT_NAME(sum) int64_t sum(int64_t n) { ... }                       */
#define WASM_NVIM_FUNCTIONS(...)                                                  \
    static const char *const wn__function_names[] = {__VA_ARGS__, NULL};          \
    uint64_t wn__functions_export(uint32_t args_ptr, uint32_t args_len);          \
    __attribute__((export_name(WN_FUNCTIONS_EXPORT))) uint64_t wn__functions_export(   \
        uint32_t args_ptr, uint32_t args_len) {                                   \
        return wn__list_functions(args_ptr, args_len, wn__function_names);        \
    }
#define WN_RAW(name) "\x01" name
#define WN_EXPORT_NAME(name) __attribute__((export_name(#name)))

/* ==== Returning from a function =========================================== */

/* Fails the call: `ret` is replaced by the formatted message. Lua raises
 * "wasm_nvim: <plugin>.<function>: <message>". Returns WN_ERROR. */
wn_status wn_error(wn_writer *ret, const char *fmt, ...) WN__PRINTF(2, 3);
wn_status wn_verror(wn_writer *ret, const char *fmt, va_list ap);
/* Fails the call with the error of a Neovim call (or "<import>: <what was
 * wrong with its result>" if reading it failed), and frees `res`. */
wn_status wn_fail(wn_writer *ret, wn_result *res);
/* Shorthands: write one value to `ret`, return WN_OK. */
wn_status wn_return_int(wn_writer *ret, int64_t v);
wn_status wn_return_bool(wn_writer *ret, bool v);
wn_status wn_return_double(wn_writer *ret, double v);
wn_status wn_return_cstr(wn_writer *ret, const char *s);

/* ==== Reading msgpack ===================================================== */

/* A reader over `len` bytes at `data` (for your own buffers; `args` and
 * wn_result.value are set up for you). */
void wn_reader_init(wn_reader *r, const void *data, size_t len);
/* True once a read failed; r->error says why. */
bool wn_failed(const wn_reader *r);
/* The type of the next value, without reading it (WN_END at the end of the
 * data, and after a failure). */
wn_type wn_peek(const wn_reader *r);
/* True when no bytes are left (e.g. after the last argument). */
bool wn_at_end(const wn_reader *r);

/* Typed reads. A value of another type fails the reader (it is not
 * consumed) and returns 0 / false / an empty string. */
bool wn_read_nil(wn_reader *r);         /* next is nil: reads it, true; else reads nothing, false */
bool wn_read_bool(wn_reader *r);
int64_t wn_read_int(wn_reader *r);      /* any msgpack integer that fits int64 (not a float) */
double wn_read_double(wn_reader *r);    /* a float, or an integer converted */
wn_str wn_read_str(wn_reader *r);       /* str or bin (any bytes), pointing into the buffer */
int64_t wn_read_handle(wn_reader *r);   /* a Buffer/Window/Tabpage extension, or an integer */
uint32_t wn_read_array(wn_reader *r);   /* an array header: that many values follow */
uint32_t wn_read_map(wn_reader *r);     /* a map header: that many key, value pairs follow;
                                           an empty array (Lua's {}) counts as an empty map */
void wn_skip(wn_reader *r);             /* skips one whole value (arrays and maps included) */
wn_str wn_read_raw(wn_reader *r);       /* skips one value, returns its msgpack bytes */
/* An array of strings (e.g. buffer lines) as a malloc'd array of `*n` slices
 * into the buffer; free() it. NULL (and the reader failed) on error. */
wn_str *wn_read_lines(wn_reader *r, uint32_t *n);

/* wn_str helpers. */
wn_str wn_cstr(const char *s);               /* a slice of a C string */
bool wn_str_eq(wn_str s, const char *cstr);  /* same bytes as the C string? */
char *wn_str_dup(wn_str s);                  /* malloc'd NUL-terminated copy (NULL: out of memory) */

/* ==== Writing msgpack ===================================================== */

void wn_write_nil(wn_writer *w);
void wn_write_bool(wn_writer *w, bool v);
void wn_write_int(wn_writer *w, int64_t v);     /* shortest encoding */
void wn_write_double(wn_writer *w, double v);   /* float64; NaN and infinities pass */
void wn_write_str(wn_writer *w, const void *s, size_t len); /* a Lua string: any bytes */
void wn_write_cstr(wn_writer *w, const char *s);
void wn_write_strf(wn_writer *w, const char *fmt, ...) WN__PRINTF(2, 3); /* printf into a string */
void wn_write_vstrf(wn_writer *w, const char *fmt, va_list ap);
void wn_write_bin(wn_writer *w, const void *data, size_t len);
void wn_write_array(wn_writer *w, uint32_t n); /* then write n values */
void wn_write_map(wn_writer *w, uint32_t n);   /* then write n keys and values, alternating */
/* Array/map header whose size is known only later: write the header with
 * `mark = wn_write_array_later(w)`, write the values, then
 * wn_patch_array(w, mark, count) (or _map). */
uint32_t wn_write_array_later(wn_writer *w);
uint32_t wn_write_map_later(wn_writer *w);
void wn_patch_array(wn_writer *w, uint32_t mark, uint32_t n);
void wn_patch_map(wn_writer *w, uint32_t mark, uint32_t n);
void wn_write_lines(wn_writer *w, const wn_str *lines, uint32_t n); /* an array of strings */
/* The export `name` of this plugin as a Lua function, wherever the API
 * takes one (autocmd callbacks, user commands, keymaps, nvim_buf_attach). */
void wn_write_callback(wn_writer *w, const char *name);
void wn_write_raw(wn_writer *w, const void *msgpack, size_t len); /* already-encoded value(s) */
/* The value written into `value` (nil if NULL or empty), which is freed. */
void wn_write_value(wn_writer *w, wn_writer *value);
void wn_writer_free(wn_writer *w); /* frees the buffer; the writer is empty again */

/* ==== Calling Neovim ====================================================== */

/* Calls an API import with the arguments in `args` (a msgpack array: start
 * it with wn_write_array; NULL for none), then empties `args`. */
#define wn_call(import, args) wn_call_named((import), #import, (args))
wn_result wn_call_named(wn_import import, const char *name, wn_writer *args);
/* Whether this Neovim has API function `name` and a plugin can call it. A
 * plugin runs on every Neovim its users have: ask before calling a function
 * newer than the oldest one you support (calling a missing one returns an
 * error naming the Neovim it needs). E.g. wn_has("nvim_ui_send"). */
bool wn_has(const char *name);
/* The running Neovim's version and API level (what `since` counts). */
typedef struct wn_version_t {
    uint16_t major, minor, patch, api_level;
} wn_version_t;
wn_version_t wn_version(void);
/* Runs the Lua chunk `code` with `args` (a msgpack array, or NULL) as `...`;
 * the result is its first return value. E.g. wn_lua("return vim.fn.line(...)", &a).
 * A nil inside the array arrives as vim.NIL: leave trailing nils out. */
wn_result wn_lua(const char *code, wn_writer *args);
/* vim.notify(<formatted text>), at the default / a given level. */
wn_result wn_notify(const char *fmt, ...) WN__PRINTF(1, 2);
wn_result wn_notify_level(int level, const char *fmt, ...) WN__PRINTF(2, 3);
/* No error, and no read from `value` failed. */
bool wn_result_ok(const wn_result *res);
/* Frees the result's buffer (harmless on nil results and twice). */
void wn_result_free(wn_result *res);
/* Frees a result you do not care about, error included. */
void wn_discard(wn_result res);

/* Traps with a message, which Lua shows in the error; the host drops the
 * plugin's instance (the next call starts fresh). For bugs only. */
void wn_panic(const char *fmt, ...) WN__PRINTF(1, 2) __attribute__((noreturn));

/* Internal, used by the macros above. */
uint64_t wn__dispatch(uint32_t args_ptr, uint32_t args_len, wn_function fn);
uint64_t wn__list_functions(uint32_t args_ptr, uint32_t args_len, const char *const *names);

/* Every API function: its import and a typed wn_nvim_<name>(...). */
#include "wasm_nvim_api.h"

#ifdef __cplusplus
}
#endif
#endif /* WASM_NVIM_H */

/* ========================================================================== */
/*                              IMPLEMENTATION                                */
/* ========================================================================== */
#if defined(WASM_NVIM_IMPLEMENTATION) && !defined(WASM_NVIM_IMPLEMENTED)
#define WASM_NVIM_IMPLEMENTED

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Packed buffers carry a 31-bit length. */
#define WN__MAX_LEN WN_PACKED_MAX_LEN

#define WN__PTR(u32) ((uint8_t *)(uintptr_t)(u32))
#define WN__ADDR(ptr) ((uint32_t)(uintptr_t)(ptr))

/* ---- The exports every plugin needs -------------------------------------- */

/* The msgpack ABI, this version. */
__attribute__((export_name(WN_ABI_EXPORT))) int32_t wn__abi(void);
int32_t wn__abi(void) { return (int32_t)WN_ABI_VERSION; }

/* Memory the host writes into (arguments, API results). One extra byte,
 * zeroed, makes every such buffer a C string as well. Never returns 0 for
 * a valid size (the host treats 0 as failure). */
__attribute__((export_name(WN_ALLOC_EXPORT))) void *wn__alloc(uint32_t size);
void *wn__alloc(uint32_t size) {
    if (size >= WN__MAX_LEN) return NULL;
    uint8_t *p = malloc((size_t)size + 1);
    if (p) p[size] = 0;
    return p;
}

/* Frees what alloc() returned and what we hand to the host (writers'
 * buffers, from malloc/realloc). free() knows the size. */
__attribute__((export_name(WN_DEALLOC_EXPORT))) void wn__dealloc(void *ptr, uint32_t size);
void wn__dealloc(void *ptr, uint32_t size) {
    (void)size;
    free(ptr);
}

/* ---- Writer -------------------------------------------------------------- */

/* Room for `extra` more bytes, or the writer fails. */
static bool wn__reserve(wn_writer *w, size_t extra) {
    if (w->failed) return false;
    if (extra > WN__MAX_LEN - w->len) {
        w->failed = true;
        return false;
    }
    size_t need = (size_t)w->len + extra;
    if (need <= w->cap) return true;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < need) cap = cap > WN__MAX_LEN / 2 ? WN__MAX_LEN : cap * 2;
    uint8_t *p = realloc(w->data, cap);
    if (!p) {
        w->failed = true;
        return false;
    }
    w->data = p;
    w->cap = (uint32_t)cap;
    return true;
}

static void wn__put(wn_writer *w, const void *src, size_t n) {
    if (n == 0 || !wn__reserve(w, n)) return;
    memcpy(w->data + w->len, src, n);
    w->len += (uint32_t)n;
}

/* A marker byte, then the low `n` bytes of `v` big-endian (msgpack's order). */
static void wn__put_be(wn_writer *w, uint8_t marker, uint64_t v, int n) {
    uint8_t b[9];
    b[0] = marker;
    for (int i = 0; i < n; i++) b[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    wn__put(w, b, (size_t)n + 1);
}

void wn_write_nil(wn_writer *w) { wn__put(w, "\xc0", 1); }
void wn_write_bool(wn_writer *w, bool v) { wn__put(w, v ? "\xc3" : "\xc2", 1); }

void wn_write_int(wn_writer *w, int64_t v) {
    if (v >= 0) {
        uint64_t u = (uint64_t)v;
        if (u < 0x80) wn__put_be(w, (uint8_t)u, 0, 0);        /* positive fixint */
        else if (u <= 0xff) wn__put_be(w, 0xcc, u, 1);
        else if (u <= 0xffff) wn__put_be(w, 0xcd, u, 2);
        else if (u <= 0xffffffffu) wn__put_be(w, 0xce, u, 4);
        else wn__put_be(w, 0xcf, u, 8);
    } else {
        uint64_t u = (uint64_t)v; /* two's complement bits (well-defined) */
        if (v >= -32) wn__put_be(w, (uint8_t)u, 0, 0);         /* negative fixint 0xe0..0xff */
        else if (v >= INT8_MIN) wn__put_be(w, 0xd0, u, 1);
        else if (v >= INT16_MIN) wn__put_be(w, 0xd1, u, 2);
        else if (v >= INT32_MIN) wn__put_be(w, 0xd2, u, 4);
        else wn__put_be(w, 0xd3, u, 8);
    }
}

void wn_write_double(wn_writer *w, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    wn__put_be(w, 0xcb, bits, 8);
}

/* A length header: fix form (small lengths, `fix` | n), then 8/16/32 bits. */
static void wn__header(wn_writer *w, size_t n, uint8_t fix, size_t fix_max, uint8_t m8, uint8_t m16, uint8_t m32) {
    if (n > WN__MAX_LEN) w->failed = true;
    else if (n <= fix_max) wn__put_be(w, (uint8_t)(fix | n), 0, 0);
    else if (m8 && n <= 0xff) wn__put_be(w, m8, n, 1);
    else if (n <= 0xffff) wn__put_be(w, m16, n, 2);
    else wn__put_be(w, m32, n, 4);
}

void wn_write_str(wn_writer *w, const void *s, size_t len) {
    wn__header(w, len, 0xa0, 31, 0xd9, 0xda, 0xdb);
    wn__put(w, s, len);
}

void wn_write_cstr(wn_writer *w, const char *s) { wn_write_str(w, s, strlen(s)); }

void wn_write_bin(wn_writer *w, const void *data, size_t len) {
    if (len > WN__MAX_LEN) w->failed = true;
    else if (len <= 0xff) wn__put_be(w, 0xc4, len, 1);
    else if (len <= 0xffff) wn__put_be(w, 0xc5, len, 2);
    else wn__put_be(w, 0xc6, len, 4);
    wn__put(w, data, len);
}

void wn_write_array(wn_writer *w, uint32_t n) { wn__header(w, n, 0x90, 15, 0, 0xdc, 0xdd); }
void wn_write_map(wn_writer *w, uint32_t n) { wn__header(w, n, 0x80, 15, 0, 0xde, 0xdf); }

/* Reserves a 32-bit header (array32 / map32), filled in by wn_patch_*. */
uint32_t wn_write_array_later(wn_writer *w) {
    uint32_t mark = w->len;
    wn__put_be(w, 0xdd, 0, 4);
    return mark;
}
uint32_t wn_write_map_later(wn_writer *w) {
    uint32_t mark = w->len;
    wn__put_be(w, 0xdf, 0, 4);
    return mark;
}
static void wn__patch(wn_writer *w, uint32_t mark, uint8_t marker, uint32_t n) {
    if (w->failed) return;
    if ((uint64_t)mark + 5 > w->len || w->data[mark] != marker)
        wn_panic("wn_patch_%s: mark %u is not from wn_write_%s_later", marker == 0xdd ? "array" : "map", (unsigned)mark,
                 marker == 0xdd ? "array" : "map");
    for (int i = 0; i < 4; i++) w->data[mark + 1 + (uint32_t)i] = (uint8_t)(n >> (8 * (3 - i)));
}
void wn_patch_array(wn_writer *w, uint32_t mark, uint32_t n) { wn__patch(w, mark, 0xdd, n); }
void wn_patch_map(wn_writer *w, uint32_t mark, uint32_t n) { wn__patch(w, mark, 0xdf, n); }

/* printf straight into the buffer: measure, reserve, format. */
static void wn__vformat(wn_writer *w, bool as_str, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        static const char bad[] = "(bad format string)";
        if (as_str) wn_write_str(w, bad, sizeof bad - 1);
        else wn__put(w, bad, sizeof bad - 1);
        return;
    }
    if (as_str) wn__header(w, (size_t)n, 0xa0, 31, 0xd9, 0xda, 0xdb);
    if (!wn__reserve(w, (size_t)n + 1)) return; /* + 1: vsnprintf's NUL */
    vsnprintf((char *)w->data + w->len, (size_t)n + 1, fmt, ap);
    w->len += (uint32_t)n;
}

void wn_write_vstrf(wn_writer *w, const char *fmt, va_list ap) { wn__vformat(w, true, fmt, ap); }
void wn_write_strf(wn_writer *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wn__vformat(w, true, fmt, ap);
    va_end(ap);
}

void wn_write_lines(wn_writer *w, const wn_str *lines, uint32_t n) {
    wn_write_array(w, n);
    for (uint32_t i = 0; i < n; i++) wn_write_str(w, lines[i].ptr, lines[i].len);
}

void wn_write_callback(wn_writer *w, const char *name) {
    wn_write_map(w, 1);
    wn_write_cstr(w, WN_CALLBACK_KEY);
    wn_write_cstr(w, name);
}

void wn_write_raw(wn_writer *w, const void *msgpack, size_t len) { wn__put(w, msgpack, len); }

void wn_write_value(wn_writer *w, wn_writer *value) {
    if (!value || (value->len == 0 && !value->failed)) {
        wn_write_nil(w);
    } else if (value->failed) {
        w->failed = true;
    } else {
        wn__put(w, value->data, value->len);
    }
    wn_writer_free(value);
}

void wn_writer_free(wn_writer *w) {
    if (!w) return;
    free(w->data);
    *w = (wn_writer)WN_WRITER;
}

/* ---- Reader -------------------------------------------------------------- */

void wn_reader_init(wn_reader *r, const void *data, size_t len) {
    memset(r, 0, sizeof *r);
    r->pos = data;
    r->end = r->pos ? r->pos + len : r->pos;
}

bool wn_failed(const wn_reader *r) { return r->error[0] != 0; }
bool wn_at_end(const wn_reader *r) { return r->pos >= r->end; }

/* Records the first failure, prefixed "argument N: " in an argument list. */
WN__PRINTF(2, 3) static void wn__fail(wn_reader *r, const char *fmt, ...) {
    if (r->error[0]) return;
    size_t at = 0;
    if (r->args && r->index > 0 && r->names && r->index <= r->n_names) {
        int n = snprintf(r->error, sizeof r->error, "argument %u (%s): ", (unsigned)r->index, r->names[r->index - 1]);
        at = n > 0 ? (size_t)n : 0;
    } else if (r->args && r->index > 0) {
        int n = snprintf(r->error, sizeof r->error, "argument %u: ", (unsigned)r->index);
        at = n > 0 ? (size_t)n : 0;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error + at, sizeof r->error - at, fmt, ap);
    va_end(ap);
    if (!r->error[0]) r->error[0] = '?'; /* never "failed" with an empty message */
}

static uint64_t wn__be(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* One msgpack value at the reader's position, described, bounds checked. */
typedef struct wn__item {
    wn_type type;
    uint8_t marker;
    size_t head;    /* marker and length bytes (and an ext's type byte) */
    size_t body;    /* payload bytes after the head: string data, number bytes */
    uint32_t count; /* array elements, or map pairs */
} wn__item;

/* How the marker byte `m` encodes a value: its type, the width of its
 * length field (`lw`, bytes) or of its fixed payload (`fixed`). */
static wn_type wn__classify(uint8_t m, int *lw, int *fixed, int *head_extra) {
    *lw = 0, *fixed = 0, *head_extra = 0;
    if (m <= 0x7f || m >= 0xe0) return WN_INT; /* fixints */
    if (m <= 0x8f) return WN_MAP;
    if (m <= 0x9f) return WN_ARRAY;
    if (m <= 0xbf) return WN_STR;
    switch (m) {
    case 0xc0: return WN_NIL;
    case 0xc2: case 0xc3: return WN_BOOL;
    case 0xc4: *lw = 1; return WN_BIN;
    case 0xc5: *lw = 2; return WN_BIN;
    case 0xc6: *lw = 4; return WN_BIN;
    case 0xc7: *lw = 1, *head_extra = 1; return WN_EXT;
    case 0xc8: *lw = 2, *head_extra = 1; return WN_EXT;
    case 0xc9: *lw = 4, *head_extra = 1; return WN_EXT;
    case 0xca: *fixed = 4; return WN_FLOAT;
    case 0xcb: *fixed = 8; return WN_FLOAT;
    case 0xcc: case 0xd0: *fixed = 1; return WN_INT;
    case 0xcd: case 0xd1: *fixed = 2; return WN_INT;
    case 0xce: case 0xd2: *fixed = 4; return WN_INT;
    case 0xcf: case 0xd3: *fixed = 8; return WN_INT;
    case 0xd4: *fixed = 1, *head_extra = 1; return WN_EXT;
    case 0xd5: *fixed = 2, *head_extra = 1; return WN_EXT;
    case 0xd6: *fixed = 4, *head_extra = 1; return WN_EXT;
    case 0xd7: *fixed = 8, *head_extra = 1; return WN_EXT;
    case 0xd8: *fixed = 16, *head_extra = 1; return WN_EXT;
    case 0xd9: *lw = 1; return WN_STR;
    case 0xda: *lw = 2; return WN_STR;
    case 0xdb: *lw = 4; return WN_STR;
    case 0xdc: *lw = 2; return WN_ARRAY;
    case 0xdd: *lw = 4; return WN_ARRAY;
    case 0xde: *lw = 2; return WN_MAP;
    case 0xdf: *lw = 4; return WN_MAP;
    default: return WN_INVALID; /* 0xc1 */
    }
}

/* Nothing left, in an argument list, between arguments: a missing
 * trailing argument, which is nil. */
static bool wn__virtual_nil(const wn_reader *r) { return r->args && r->left == 0 && r->pos >= r->end; }

/* Describes the next value; false (and the reader failed) if it is
 * truncated or invalid. Does not move. */
static bool wn__describe(wn_reader *r, wn__item *it) {
    memset(it, 0, sizeof *it);
    size_t avail = (size_t)(r->end - r->pos);
    if (avail == 0) {
        wn__fail(r, "unexpected end of data");
        return false;
    }
    const uint8_t *p = r->pos;
    int lw, fixed, extra;
    it->marker = p[0];
    it->type = wn__classify(p[0], &lw, &fixed, &extra);
    if (it->type == WN_INVALID) {
        wn__fail(r, "invalid msgpack byte 0x%02x", (unsigned)p[0]);
        return false;
    }
    size_t n = 0; /* a length or count in the marker or after it */
    if (p[0] >= 0x80 && p[0] <= 0xbf) n = p[0] & (p[0] <= 0x9f ? 0x0f : 0x1f);
    it->head = 1 + (size_t)lw + (size_t)extra;
    if (it->head > avail) {
        wn__fail(r, "unexpected end of data");
        return false;
    }
    if (lw) n = (size_t)wn__be(p + 1, lw);
    avail -= it->head;
    if (it->type == WN_ARRAY || it->type == WN_MAP) {
        /* every element takes a byte at least: a count beyond the data is
         * malformed, and caught before anyone allocates for it */
        if (n > (it->type == WN_MAP ? avail / 2 : avail)) {
            wn__fail(r, "%s of %zu elements in %zu bytes", it->type == WN_MAP ? "map" : "array", n, avail);
            return false;
        }
        it->count = (uint32_t)n;
        return true;
    }
    it->body = fixed ? (size_t)fixed : n;
    if (it->body > avail) {
        wn__fail(r, "unexpected end of data");
        return false;
    }
    return true;
}

/* Starting a value: at depth 0 it is the next top-level one. */
static void wn__enter(wn_reader *r) {
    if (r->left == 0) {
        r->index++;
        r->left = 1;
    }
}

/* Done with the item: move past it; `children` values (array elements,
 * map keys and values) now follow it. */
static void wn__consume(wn_reader *r, const wn__item *it, uint64_t children) {
    r->pos += it->head + it->body;
    r->left = r->left - 1 + children;
}

wn_type wn_peek(const wn_reader *r) {
    if (r->error[0]) return WN_END;
    if (wn__virtual_nil(r)) return WN_NIL;
    if (r->pos >= r->end) return WN_END;
    int lw, fixed, extra;
    return wn__classify(r->pos[0], &lw, &fixed, &extra);
}

static const char *wn__type_name(wn_type t) {
    switch (t) {
    case WN_NIL: return "nil";
    case WN_BOOL: return "a boolean";
    case WN_INT: return "an integer";
    case WN_FLOAT: return "a float";
    case WN_STR: return "a string";
    case WN_BIN: return "binary data";
    case WN_ARRAY: return "an array";
    case WN_MAP: return "a table";
    case WN_EXT: return "an extension";
    case WN_END: return "nothing";
    default: return "invalid data";
    }
}

/* Begins a typed read: the next value, described. False if the reader has
 * failed or the value is malformed. */
static bool wn__begin(wn_reader *r, wn__item *it) {
    if (r->error[0]) return false;
    bool missing = wn__virtual_nil(r);
    wn__enter(r);
    if (missing) { /* an empty item: consuming it moves nothing */
        memset(it, 0, sizeof *it);
        it->type = WN_NIL;
        return true;
    }
    return wn__describe(r, it);
}

static void wn__mismatch(wn_reader *r, const char *want, const wn__item *it) {
    wn__fail(r, "expected %s, got %s", want, wn__type_name(it->type));
}

/* The integer of an INT item at `p`; false if a uint64 exceeds INT64_MAX. */
static bool wn__int_value(const uint8_t *p, const wn__item *it, int64_t *out) {
    uint8_t m = it->marker;
    if (m <= 0x7f) {
        *out = m;
        return true;
    }
    if (m >= 0xe0) {
        *out = (int64_t)m - 256;
        return true;
    }
    int n = (int)it->body;
    uint64_t u = wn__be(p + 1, n);
    if (m >= 0xcc && m <= 0xcf) { /* unsigned */
        if (u > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)u;
        return true;
    }
    if (n < 8 && (u >> (8 * n - 1)) & 1) u |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    memcpy(out, &u, sizeof *out); /* two's complement reinterpretation */
    return true;
}

static double wn__float_value(const uint8_t *p, const wn__item *it) {
    if (it->marker == 0xca) {
        uint32_t bits = (uint32_t)wn__be(p + 1, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        return (double)f;
    }
    uint64_t bits = wn__be(p + 1, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

bool wn_read_nil(wn_reader *r) {
    if (wn_peek(r) != WN_NIL) return false;
    wn_skip(r);
    return true;
}

bool wn_read_bool(wn_reader *r) {
    wn__item it;
    if (!wn__begin(r, &it)) return false;
    if (it.type != WN_BOOL) {
        wn__mismatch(r, "a boolean", &it);
        return false;
    }
    bool v = it.marker == 0xc3;
    wn__consume(r, &it, 0);
    return v;
}


/* The value of an INT item (after wn__begin); fails the reader on a
 * uint64 beyond INT64_MAX. */
static int64_t wn__read_int_item(wn_reader *r, const wn__item *it) {
    int64_t v;
    if (!wn__int_value(r->pos, it, &v)) {
        wn__fail(r, "integer %llu is out of range", (unsigned long long)wn__be(r->pos + 1, 8));
        return 0;
    }
    wn__consume(r, it, 0);
    return v;
}

int64_t wn_read_int(wn_reader *r) {
    wn__item it;
    if (!wn__begin(r, &it)) return 0;
    if (it.type == WN_FLOAT) {
        wn__fail(r, "expected an integer (i64), got a float");
        return 0;
    }
    if (it.type != WN_INT) {
        wn__mismatch(r, "an integer (i64)", &it);
        return 0;
    }
    return wn__read_int_item(r, &it);
}

double wn_read_double(wn_reader *r) {
    wn__item it;
    if (!wn__begin(r, &it)) return 0;
    double v;
    if (it.type == WN_FLOAT) {
        v = wn__float_value(r->pos, &it);
    } else if (it.type == WN_INT) {
        int64_t i;
        v = wn__int_value(r->pos, &it, &i) ? (double)i : (double)wn__be(r->pos + 1, 8);
    } else {
        wn__mismatch(r, "a number", &it);
        return 0;
    }
    wn__consume(r, &it, 0);
    return v;
}

wn_str wn_read_str(wn_reader *r) {
    wn_str s = {"", 0};
    wn__item it;
    if (!wn__begin(r, &it)) return s;
    if (it.type != WN_STR && it.type != WN_BIN) {
        wn__mismatch(r, "a string", &it);
        return s;
    }
    s.ptr = (const char *)r->pos + it.head;
    s.len = (uint32_t)it.body;
    wn__consume(r, &it, 0);
    return s;
}

/* Neovim writes handles as extension types 0 (Buffer), 1 (Window) and 2
 * (Tabpage) whose payload is a msgpack integer: d4 00 01 is Buffer 1. */
int64_t wn_read_handle(wn_reader *r) {
    wn__item it;
    if (!wn__begin(r, &it)) return 0;
    if (it.type == WN_INT) return wn__read_int_item(r, &it);
    if (it.type != WN_EXT || r->pos[it.head - 1] > WN_EXT_TABPAGE) {
        wn__fail(r, "expected a handle, got %s", it.type == WN_EXT ? "another extension" : wn__type_name(it.type));
        return 0;
    }
    wn_reader payload;
    wn_reader_init(&payload, r->pos + it.head, it.body);
    int64_t v = wn_read_int(&payload);
    if (wn_failed(&payload) || !wn_at_end(&payload)) {
        wn__fail(r, "malformed handle");
        return 0;
    }
    wn__consume(r, &it, 0);
    return v;
}

uint32_t wn_read_array(wn_reader *r) {
    wn__item it;
    if (!wn__begin(r, &it)) return 0;
    if (it.type != WN_ARRAY) {
        wn__mismatch(r, "an array", &it);
        return 0;
    }
    wn__consume(r, &it, it.count);
    return it.count;
}

uint32_t wn_read_map(wn_reader *r) {
    wn__item it;
    if (!wn__begin(r, &it)) return 0;
    if (it.type == WN_ARRAY && it.count == 0) { /* Lua's {} */
        wn__consume(r, &it, 0);
        return 0;
    }
    if (it.type != WN_MAP) {
        wn__mismatch(r, "a table", &it);
        return 0;
    }
    wn__consume(r, &it, 2 * (uint64_t)it.count);
    return it.count;
}

/* Iterative: `pending` counts the values still to skip, so deep nesting
 * costs no stack. */
void wn_skip(wn_reader *r) {
    wn__item it;
    if (!wn__begin(r, &it)) return;
    uint64_t pending = 1;
    for (;;) {
        r->pos += it.head + it.body;
        pending = pending - 1 + (it.type == WN_MAP ? 2 * (uint64_t)it.count : it.type == WN_ARRAY ? it.count : 0);
        if (pending == 0) break;
        if (!wn__describe(r, &it)) return;
    }
    r->left -= 1;
}

wn_str wn_read_raw(wn_reader *r) {
    wn_str s = {"", 0};
    if (wn__virtual_nil(r) && !r->error[0]) {
        wn_skip(r);
        s.ptr = "\xc0";
        s.len = 1;
        return s;
    }
    const uint8_t *start = r->pos;
    wn_skip(r);
    if (wn_failed(r)) return s;
    s.ptr = (const char *)start;
    s.len = (uint32_t)(r->pos - start);
    return s;
}

wn_str *wn_read_lines(wn_reader *r, uint32_t *n) {
    *n = 0;
    uint32_t count = wn_read_array(r);
    if (wn_failed(r)) return NULL;
    wn_str *lines = calloc(count ? count : 1, sizeof *lines); /* calloc checks count * size */
    if (!lines) {
        wn__fail(r, "out of memory for %u lines", (unsigned)count);
        return NULL;
    }
    for (uint32_t i = 0; i < count; i++) lines[i] = wn_read_str(r);
    if (wn_failed(r)) {
        free(lines);
        return NULL;
    }
    *n = count;
    return lines;
}

wn_str wn_cstr(const char *s) {
    wn_str out = {s, (uint32_t)strlen(s)};
    return out;
}

bool wn_str_eq(wn_str s, const char *cstr) {
    size_t n = strlen(cstr);
    return n == s.len && memcmp(s.ptr, cstr, n) == 0;
}

char *wn_str_dup(wn_str s) {
    char *p = malloc((size_t)s.len + 1);
    if (!p) return NULL;
    memcpy(p, s.ptr, s.len);
    p[s.len] = 0;
    return p;
}

/* ---- Results and errors -------------------------------------------------- */

wn_status wn_verror(wn_writer *ret, const char *fmt, va_list ap) {
    ret->len = 0;
    ret->failed = false;
    ret->is_error = true;
    wn__vformat(ret, false, fmt, ap);
    return WN_ERROR;
}

wn_status wn_error(wn_writer *ret, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wn_verror(ret, fmt, ap);
    va_end(ap);
    return WN_ERROR;
}

wn_status wn_fail(wn_writer *ret, wn_result *res) {
    if (res->error) wn_error(ret, "%s", res->error); /* the host's message names the function */
    else if (wn_failed(&res->value)) wn_error(ret, "%s: unexpected result: %s", res->name, res->value.error);
    else wn_error(ret, "%s failed", res->name);
    wn_result_free(res);
    return WN_ERROR;
}

wn_status wn_return_int(wn_writer *ret, int64_t v) {
    wn_write_int(ret, v);
    return WN_OK;
}
wn_status wn_return_bool(wn_writer *ret, bool v) {
    wn_write_bool(ret, v);
    return WN_OK;
}
wn_status wn_return_double(wn_writer *ret, double v) {
    wn_write_double(ret, v);
    return WN_OK;
}
wn_status wn_return_cstr(wn_writer *ret, const char *s) {
    wn_write_cstr(ret, s);
    return WN_OK;
}

/* The writer as a packed buffer the host takes over (and frees with
 * dealloc): ptr | len << 32 | error << 63. */
static uint64_t wn__give(wn_writer *w, bool error) {
    if (w->failed) { /* out of memory: say so, in a fresh small buffer */
        wn_writer_free(w);
        wn_error(w, "out of memory (or a result over 2 GiB)");
        if (w->failed) wn_panic("out of memory");
        error = true;
    }
    if (w->len == 0) { /* nil, or an empty message: no buffer */
        wn_writer_free(w);
        return error ? WN_PACKED_ERROR_BIT : WN_PACKED_NIL;
    }
    uint64_t packed = (uint64_t)WN__ADDR(w->data) | (uint64_t)w->len << WN_PACKED_LEN_SHIFT |
                      (error ? WN_PACKED_ERROR_BIT : 0);
    *w = (wn_writer)WN_WRITER; /* the host owns the buffer now */
    return packed;
}

uint64_t wn__dispatch(uint32_t args_ptr, uint32_t args_len, wn_function fn) {
    uint8_t *buf = WN__PTR(args_ptr); /* from our alloc(args_len); ours to free */
    wn_reader args;
    wn_writer ret = WN_WRITER;
    wn_reader_init(&args, buf, args_len);
    if (args_len > 0) {
        wn_read_array(&args);
        if (wn_failed(&args)) {
            wn_error(&ret, "bad arguments: %s", args.error);
            free(buf);
            return wn__give(&ret, true);
        }
    }
    args.args = true; /* from here on: argument 1, 2, ... */
    args.index = 0;
    args.left = 0;
    wn_status status = fn(&args, &ret);
    if (wn_failed(&args)) /* a bad argument explains whatever followed */
        status = wn_error(&ret, "%s", args.error);
    else if (status != WN_OK && !ret.is_error)
        wn_error(&ret, "failed (returned WN_ERROR without a message)");
    else if (ret.is_error && ret.len == 0)
        wn_error(&ret, "failed (with an empty error message)");
    free(buf);
    return wn__give(&ret, status != WN_OK || ret.is_error);
}

/* The JSON text [{"name":"a"},{"name":"b","raw":true}] */
uint64_t wn__list_functions(uint32_t args_ptr, uint32_t args_len, const char *const *names) {
    (void)args_len;
    free(WN__PTR(args_ptr)); /* the host passes none */
    wn_writer w = WN_WRITER;
    wn__put(&w, "[", 1);
    for (size_t i = 0; names[i]; i++) {
        const char *name = names[i];
        bool raw = name[0] == '\x01';
        if (raw) name++;
        wn__put(&w, i ? ",{\"name\":\"" : "{\"name\":\"", i ? 10 : 9);
        for (const char *c = name; *c; c++) {
            char esc[8];
            if (*c == '"' || *c == '\\') wn__put(&w, (char[]){'\\', *c}, 2);
            else if ((unsigned char)*c < 0x20) wn__put(&w, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", (unsigned)(unsigned char)*c));
            else wn__put(&w, c, 1);
        }
        wn__put(&w, raw ? "\",\"raw\":true}" : "\"}", raw ? 13 : 2);
    }
    wn__put(&w, "]", 1);
    return wn__give(&w, false);
}

/* ---- Calling Neovim ------------------------------------------------------ */

/* Takes over a packed buffer the host returned (allocated with our alloc). */
static wn_result wn__result(uint64_t packed, const char *name) {
    wn_result res;
    memset(&res, 0, sizeof res);
    res.name = name;
    res.data = WN__PTR((uint32_t)(packed & WN_PACKED_PTR_MASK));
    res.len = (uint32_t)(packed >> WN_PACKED_LEN_SHIFT) & WN__MAX_LEN;
    if (res.len == 0) res.data = NULL; /* nil: there is no buffer */
    if (packed & WN_PACKED_ERROR_BIT) {
        /* alloc's extra zero byte ends the message */
        res.error = res.data ? (const char *)res.data : "(no message)";
        wn_reader_init(&res.value, NULL, 0);
        snprintf(res.value.error, sizeof res.value.error, "%s", res.error);
        if (!res.value.error[0]) res.value.error[0] = '?';
    } else if (res.data) {
        wn_reader_init(&res.value, res.data, res.len);
    } else {
        wn_reader_init(&res.value, "\xc0", 1);
    }
    return res;
}

/* An SDK-side failure, shaped like a host error. */
static wn_result wn__result_error(const char *name, const char *message) {
    wn_result res = wn__result(WN_PACKED_ERROR_BIT, name);
    res.error = message;
    snprintf(res.value.error, sizeof res.value.error, "%s", message);
    return res;
}

bool wn_has(const char *name) { return wn_sys_has((uint32_t)(uintptr_t)name, (uint32_t)strlen(name)) == 1; }

wn_version_t wn_version(void) {
    uint64_t v = wn_sys_version();
    return (wn_version_t){(uint16_t)(v >> WN_VERSION_MAJOR_SHIFT), (uint16_t)(v >> WN_VERSION_MINOR_SHIFT),
                          (uint16_t)(v >> WN_VERSION_PATCH_SHIFT), (uint16_t)(v >> WN_VERSION_API_LEVEL_SHIFT)};
}

wn_result wn_call_named(wn_import import, const char *name, wn_writer *args) {
    if (args && args->failed) {
        wn_writer_free(args);
        return wn__result_error(name, "out of memory writing the arguments");
    }
    uint32_t ptr = args ? WN__ADDR(args->data) : 0, len = args ? args->len : 0;
    uint64_t packed = import(len ? ptr : 0, len);
    wn_writer_free(args);
    return wn__result(packed, name);
}

wn_result wn_lua(const char *code, wn_writer *args) {
    if (args && args->failed) {
        wn_writer_free(args);
        return wn__result_error("lua", "out of memory writing the arguments");
    }
    uint32_t ptr = args ? WN__ADDR(args->data) : 0, len = args ? args->len : 0;
    uint64_t packed = wn_sys_lua(WN__ADDR(code), (uint32_t)strlen(code), len ? ptr : 0, len);
    wn_writer_free(args);
    return wn__result(packed, "lua");
}

static wn_result wn__vnotify(int level, const char *fmt, va_list ap) {
    wn_writer a = WN_WRITER;
    wn_write_array(&a, level < 0 ? 1 : 2); /* a nil inside an array would arrive as vim.NIL */
    wn_write_vstrf(&a, fmt, ap);
    if (level >= 0) wn_write_int(&a, level);
    return wn_lua("vim.notify(...)", &a);
}

wn_result wn_notify(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wn_result res = wn__vnotify(-1, fmt, ap);
    va_end(ap);
    return res;
}

wn_result wn_notify_level(int level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wn_result res = wn__vnotify(level, fmt, ap);
    va_end(ap);
    return res;
}

bool wn_result_ok(const wn_result *res) { return !res->error && !wn_failed(&res->value); }

void wn_result_free(wn_result *res) {
    free(res->data);
    res->data = NULL;
    res->len = 0;
}

void wn_discard(wn_result res) { wn_result_free(&res); }

void wn_panic(const char *fmt, ...) {
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    wn_sys_panic(WN__ADDR(text), (uint32_t)len);
    __builtin_trap();
}

#endif /* WASM_NVIM_IMPLEMENTATION */
