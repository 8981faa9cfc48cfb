/* What a C SDK plugin sees of the running Neovim (versions_spec): which API
 * functions it may call, its version, and the error a function this Neovim
 * lacks gives. */
#define WASM_NVIM_IMPLEMENTATION
#include "wasm_nvim.h"

WASM_NVIM_IMPORT(nvim_ui_send); /* only Neovim 0.12 has it */

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
    wn_writer a = WN_WRITER;
    wn_write_array(&a, 1);
    wn_write_str(&a, content.ptr, content.len);
    wn_result sent = wn_call(nvim_ui_send, &a);
    if (sent.error) {
        wn_write_cstr(ret, sent.error);
    } else {
        wn_write_cstr(ret, "sent");
    }
    wn_result_free(&sent);
    return WN_OK;
}

WASM_NVIM_FUNCTIONS("has_api", "nvim_version", "try_ui_send")
