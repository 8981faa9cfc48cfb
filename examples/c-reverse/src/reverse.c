/*
 * reverse.c - the "reverse" plugin with the C SDK (guest/c/wasm_nvim.h).
 *
 *   require("wasm_nvim").reverse_c.reverse(first, last)
 *
 * reverses lines first..last (1-based, inclusive) of the current buffer,
 * notifies "Reversed N lines" and returns N.
 */
#define WASM_NVIM_IMPLEMENTATION
#include "wasm_nvim.h"

WASM_NVIM_EXPORT(reverse) {
    wn_arg_names(args, "first", "last");
    int64_t first = wn_read_int(args), last = wn_read_int(args);
    if (wn_failed(args)) return WN_ERROR; /* e.g. "argument 2 (last): expected an integer (i64), got nil" */
    if (first < 1 || last < first)
        return wn_error(ret, "invalid range %lld-%lld", (long long)first, (long long)last);

    /* nvim_buf_get_lines(0, first - 1, last, true) */
    wn_writer a = WN_WRITER;
    wn_write_array(&a, 4);
    wn_write_int(&a, 0), wn_write_int(&a, first - 1), wn_write_int(&a, last), wn_write_bool(&a, true);
    wn_result got = wn_call(nvim_buf_get_lines, &a);
    uint32_t n;
    wn_str *lines = wn_read_lines(&got.value, &n); /* slices into got's buffer */
    if (!lines) return wn_fail(ret, &got);          /* e.g. "Index out of bounds" */

    for (uint32_t i = 0; i < n / 2; i++) {
        wn_str t = lines[i];
        lines[i] = lines[n - 1 - i], lines[n - 1 - i] = t;
    }

    /* nvim_buf_set_lines(0, first - 1, last, true, lines) */
    wn_write_array(&a, 5);
    wn_write_int(&a, 0), wn_write_int(&a, first - 1), wn_write_int(&a, last), wn_write_bool(&a, true);
    wn_write_lines(&a, lines, n);
    free(lines);
    wn_result_free(&got); /* the lines were copied into `a` */
    wn_result set = wn_call(nvim_buf_set_lines, &a);
    if (set.error) return wn_fail(ret, &set);
    wn_result_free(&set);

    wn_result note = wn_notify("Reversed %u lines", (unsigned)n);
    if (note.error) return wn_fail(ret, &note);
    return wn_return_int(ret, n);
}

WASM_NVIM_FUNCTIONS("reverse")
