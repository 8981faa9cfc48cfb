/* What a C SDK plugin sees of the running Neovim (versions_spec): which API
 * functions it may call, its version, and the error a function this Neovim
 * lacks gives; and the generated bindings wn_nvim_* in use (sdk_bindings_spec). */
#define WASM_NVIM_IMPLEMENTATION
#include "wasm_nvim.h"

WASM_NVIM_EXPORT(has_api) {
    wn_str name = wn_read_str(args);
    if (wn_failed(args)) return WN_ERROR;
    char *cname = wn_str_dup(name);
    if (!cname) return wn_error(ret, "out of memory");
    bool has = wn_has(cname);
    free(cname);
    return wn_return_bool(ret, has);
}

WASM_NVIM_EXPORT(nvim_version) {
    wn_version_t v = wn_version();
    wn_write_array(ret, 4);
    wn_write_int(ret, v.major), wn_write_int(ret, v.minor), wn_write_int(ret, v.patch), wn_write_int(ret, v.api_level);
    return WN_OK;
}

/* "sent", or the message of the error the plugin got. */
WASM_NVIM_EXPORT(try_ui_send) {
    wn_str content = wn_read_str(args);
    if (wn_failed(args)) return WN_ERROR;
    wn_result sent = wn_nvim_ui_send(content); /* only Neovim 0.12 has it */
    if (sent.error) {
        wn_write_cstr(ret, sent.error);
    } else {
        wn_write_cstr(ret, "sent");
    }
    wn_result_free(&sent);
    return WN_OK;
}

/* The current buffer's line count and first line; sets b:probe to the
 * arguments (an Array parameter). */
WASM_NVIM_EXPORT(buf_summary) {
    int64_t first = wn_read_int(args), second = wn_read_int(args);
    if (wn_failed(args)) return WN_ERROR;
    wn_writer pair = WN_WRITER;
    wn_write_array(&pair, 2);
    wn_write_int(&pair, first), wn_write_int(&pair, second);
    wn_result set = wn_nvim_buf_set_var(0, wn_cstr("probe"), &pair);
    if (set.error) return wn_fail(ret, &set);
    wn_result_free(&set);
    wn_result count = wn_nvim_buf_line_count(0);
    if (count.error) return wn_fail(ret, &count);
    int64_t n = wn_read_int(&count.value);
    wn_result_free(&count);
    wn_result lines = wn_nvim_buf_get_lines(0, 0, 1, false);
    if (lines.error) return wn_fail(ret, &lines);
    uint32_t got = 0;
    wn_str *line = wn_read_lines(&lines.value, &got);
    wn_write_array(ret, 2);
    wn_write_int(ret, n);
    wn_write_str(ret, got ? line[0].ptr : "", got ? line[0].len : 0);
    free(line);
    wn_result_free(&lines);
    return WN_OK;
}

WASM_NVIM_FUNCTIONS("has_api", "nvim_version", "try_ui_send", "buf_summary")
