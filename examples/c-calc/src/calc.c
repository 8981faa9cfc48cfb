/*
 * calc.c - a small calculator plugin for wasm_nvim, written in plain C.
 *
 *   require("wasm_nvim").calc.calc("2*(3+4)")   --> { value = 14 }
 *   require("wasm_nvim").calc.calc("1/0")       --> { error = "division by zero at position 2" }
 *   require("wasm_nvim").calc.calc_line()       -- "2*(3+4)" becomes "2*(3+4) = 14"
 *
 * How a C plugin talks to wasm_nvim (the "seed ABI"):
 *
 *  - Every value crossing the boundary is JSON text, named by a u32 "id".
 *  - The host reaches into our linear memory through our exports `alloc`
 *    and `dealloc`, which here are just malloc/free from wasi-libc.
 *  - To READ a value: get_value_size(id), then get_value_addr(id). The host
 *    calls our alloc(size), copies the bytes there and forgets the id; the
 *    memory is ours and we free() it.
 *  - To RETURN a value: get_id() for a fresh id, then set_value(id, ptr, len).
 *    The host copies the bytes and calls our dealloc(ptr, len), so the
 *    buffer must come from malloc and we must NOT free it ourselves.
 *  - Neovim's API is imported as host.nvim_<name>: the arguments are one
 *    id holding a JSON array, the result (if any) is a new id.
 *  - `functionality` tells the host which functions we export and whether
 *    they take/return a value ("void" = nothing).
 *
 * Built as a WASI reactor (see build.sh): the host calls the `_initialize`
 * export once after instantiation, which sets up wasi-libc (malloc, stdio).
 * Pointers are plain u32 offsets into our memory in wasm32, so we pass them
 * straight to the host (the seed's get_addr import would be the identity).
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The ABI: imports from module "host", and our exports --------------- */

#define HOST_IMPORT(name) __attribute__((import_module("host"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

HOST_IMPORT("get_id") uint32_t host_get_id(void);
HOST_IMPORT("get_value_size") uint32_t host_get_value_size(uint32_t id);
HOST_IMPORT("get_value_addr") char *host_get_value_addr(uint32_t id);
HOST_IMPORT("set_value") void host_set_value(uint32_t id, const char *ptr, uint32_t size);
/* nvim_get_current_line() takes no arguments and returns a string: () -> u32 */
HOST_IMPORT("nvim_get_current_line") uint32_t nvim_get_current_line(void);
/* nvim_set_current_line(line) returns nothing: (u32 id of ["line"]) -> () */
HOST_IMPORT("nvim_set_current_line") void nvim_set_current_line(uint32_t args_id);

EXPORT("alloc") void *plugin_alloc(uint32_t size) {
    return malloc(size ? size : 1); /* never 0: the host treats 0 as failure */
}

EXPORT("dealloc") void plugin_dealloc(void *ptr, uint32_t size) {
    (void)size; /* free() knows the size */
    free(ptr);
}

/* ---- A growable byte buffer --------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static void buf_add(Buf *b, const char *s, size_t n) {
    if (n == 0) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) abort(); /* out of memory: traps; the host resets the plugin */
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void buf_str(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }
static void buf_char(Buf *b, char c) { buf_add(b, &c, 1); }

/* ---- Moving values in and out ------------------------------------------- */

/* Takes the value under `id` from the host: a malloc'd buffer (free it). */
static char *take_value(uint32_t id, size_t *len) {
    *len = host_get_value_size(id); /* does not consume the id */
    return host_get_value_addr(id); /* calls our alloc; the id is gone now */
}

/* Hands the bytes of `b` to the host under a fresh id and returns the id.
 * The host frees the buffer through our dealloc, so `b` is emptied. */
static uint32_t give_value(Buf *b) {
    if (!b->data) buf_char(b, ' '); /* never hand over a NULL pointer */
    uint32_t id = host_get_id();
    host_set_value(id, b->data, (uint32_t)b->len);
    *b = (Buf){0};
    return id;
}

/* ---- Tiny JSON ---------------------------------------------------------- */

static int hex4(const char *s, size_t n, size_t i, unsigned *out) {
    unsigned v = 0;
    if (i + 4 > n) return -1;
    for (size_t k = i; k < i + 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(Buf *b, unsigned cp) {
    char u[4];
    if (cp < 0x80) { u[0] = (char)cp; buf_add(b, u, 1); }
    else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3F));
        buf_add(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        buf_add(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F));
        buf_add(b, u, 4);
    }
}

static int is_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Decodes a JSON document that must be a single string into `out`.
 * Returns 0 on success, -1 if the text is not exactly one JSON string. */
static int json_string(const char *s, size_t n, Buf *out) {
    size_t i = 0;
    while (i < n && is_ws(s[i])) i++;
    if (i >= n || s[i++] != '"') return -1;
    for (;;) {
        if (i >= n) return -1;
        char c = s[i++];
        if (c == '"') break;
        if (c != '\\') { buf_char(out, c); continue; }
        if (i >= n) return -1;
        switch (s[i++]) {
        case '"': buf_char(out, '"'); break;
        case '\\': buf_char(out, '\\'); break;
        case '/': buf_char(out, '/'); break;
        case 'b': buf_char(out, '\b'); break;
        case 'f': buf_char(out, '\f'); break;
        case 'n': buf_char(out, '\n'); break;
        case 'r': buf_char(out, '\r'); break;
        case 't': buf_char(out, '\t'); break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(s, n, i, &cp)) return -1;
            i += 4;
            /* a surrogate pair encodes one code point above U+FFFF */
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' &&
                !hex4(s, n, i + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD; /* a lone surrogate: the replacement character */
            }
            put_utf8(out, cp);
            break;
        }
        default: return -1;
        }
    }
    while (i < n && is_ws(s[i])) i++;
    return i == n ? 0 : -1;
}

/* Writes `s` as a JSON string literal. */
static void put_json_string(Buf *b, const char *s, size_t n) {
    buf_char(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
        case '"': buf_str(b, "\\\""); break;
        case '\\': buf_str(b, "\\\\"); break;
        case '\n': buf_str(b, "\\n"); break;
        case '\t': buf_str(b, "\\t"); break;
        case '\r': buf_str(b, "\\r"); break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                buf_str(b, esc);
            } else {
                buf_char(b, (char)c);
            }
        }
    }
    buf_char(b, '"');
}

/* Writes a finite number in its shortest clean form: "14", "0.5",
 * "0.30000000000000004", "1e+300". Integers never get a fraction. */
static void put_number(Buf *b, double v) {
    char tmp[40];
    if (v == 0) v = 0; /* turns -0 into 0 */
    if (v == trunc(v) && fabs(v) < 1e16) {
        snprintf(tmp, sizeof tmp, "%.0f", v);
    } else {
        /* %.17g always round-trips; use fewer digits when they do too */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v) break;
        }
    }
    buf_str(b, tmp);
}

/* {"value": v} or {"error": "..."}, handed to the host. */
static uint32_t reply_value(double v) {
    Buf b = {0};
    buf_str(&b, "{\"value\":");
    put_number(&b, v);
    buf_char(&b, '}');
    return give_value(&b);
}

static uint32_t reply_error(const char *msg) {
    Buf b = {0};
    buf_str(&b, "{\"error\":");
    put_json_string(&b, msg, strlen(msg));
    buf_char(&b, '}');
    return give_value(&b);
}

/* ---- The evaluator: recursive descent over doubles ----------------------
 *
 *   expr  := term  (('+' | '-') term)*
 *   term  := unary (('*' | '/' | '%') unary)*
 *   unary := ('-' | '+') unary | power           so -2^2 = -(2^2)
 *   power := atom ('^' unary)?                   right-assoc: 2^3^2 = 2^9
 *   atom  := number | '(' expr ')' | pi | e | name '(' expr (',' expr)* ')'
 *
 * Positions in messages are 1-based byte offsets into the expression.
 */

#define MAX_DEPTH 200 /* deeper nesting is an error, not a stack overflow */

typedef struct {
    const char *s;
    size_t n, pos;
    int depth;
    char err[128]; /* the first error; empty while all is well */
} Parser;

static double fail(Parser *p, size_t at, const char *fmt, ...) {
    if (p->err[0]) return NAN; /* keep the first error */
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(p->err, sizeof p->err - 32, fmt, ap);
    va_end(ap);
    if (k < 0) k = 0;
    if ((size_t)k > sizeof p->err - 33) k = (int)(sizeof p->err - 33);
    snprintf(p->err + k, sizeof p->err - (size_t)k, " at position %zu", at + 1);
    return NAN;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

/* The next non-blank byte (skipping it), or -1 at the end. */
static int peek(Parser *p) {
    while (p->pos < p->n && is_ws(p->s[p->pos])) p->pos++;
    return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1;
}

static double unexpected(Parser *p) {
    int c = peek(p);
    if (c < 0) return fail(p, p->pos, "unexpected end of input");
    if (c > 0x20 && c < 0x7F) return fail(p, p->pos, "unexpected '%c'", c);
    return fail(p, p->pos, "unexpected character");
}

/* Every operation's result must stay a finite number (JSON has no inf/nan). */
static double check(Parser *p, double v, size_t at) {
    if (isnan(v)) return fail(p, at, "result is not a real number");
    if (isinf(v)) return fail(p, at, "result out of range");
    return v;
}

static double parse_expr(Parser *p);
static double parse_unary(Parser *p);

static double parse_number(Parser *p) {
    const char *s = p->s;
    size_t start = p->pos, i = start, digits = 0;
    while (i < p->n && is_digit(s[i])) i++, digits++;
    if (i < p->n && s[i] == '.')
        for (i++; i < p->n && is_digit(s[i]); i++) digits++;
    if (digits == 0) return unexpected(p); /* a lone '.' */
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) { /* exponent, only if digits follow */
        size_t j = i + 1;
        if (j < p->n && (s[j] == '+' || s[j] == '-')) j++;
        if (j < p->n && is_digit(s[j]))
            for (i = j; i < p->n && is_digit(s[i]); i++) {}
    }
    /* strtod needs a NUL-terminated copy (and would accept hex/inf/nan) */
    char *copy = malloc(i - start + 1);
    if (!copy) abort();
    memcpy(copy, s + start, i - start);
    copy[i - start] = '\0';
    double v = strtod(copy, NULL);
    free(copy);
    p->pos = i;
    return check(p, v, start);
}

static const struct {
    const char *name;
    double (*one)(double);         /* a function of exactly one argument, or */
    double (*fold)(double, double); /* one folding any number of arguments */
} FUNCS[] = {
    {"sqrt", sqrt, NULL}, {"abs", fabs, NULL}, {"floor", floor, NULL},
    {"ceil", ceil, NULL}, {"min", NULL, fmin}, {"max", NULL, fmax},
};

static double parse_name(Parser *p) {
    size_t start = p->pos;
    while (p->pos < p->n && (is_alpha(p->s[p->pos]) || is_digit(p->s[p->pos]))) p->pos++;
    const char *name = p->s + start;
    size_t len = p->pos - start;
    if (len == 2 && !memcmp(name, "pi", 2)) return 3.14159265358979323846;
    if (len == 1 && name[0] == 'e') return 2.71828182845904523536;

    for (size_t f = 0; f < sizeof FUNCS / sizeof FUNCS[0]; f++) {
        if (strlen(FUNCS[f].name) != len || memcmp(FUNCS[f].name, name, len)) continue;
        if (peek(p) != '(') return fail(p, p->pos, "expected '(' after %s", FUNCS[f].name);
        p->pos++;
        double v = 0;
        int argc = 0;
        do {
            if (argc > 0) p->pos++; /* the ',' */
            double arg = parse_expr(p);
            if (p->err[0]) return NAN;
            if (argc++ == 0) v = arg;
            else if (FUNCS[f].fold) v = FUNCS[f].fold(v, arg); /* else: counted, rejected below */
        } while (peek(p) == ',');
        if (peek(p) != ')') return fail(p, p->pos, "expected ')'");
        p->pos++;
        if (FUNCS[f].one) {
            if (argc != 1) return fail(p, start, "%s expects 1 argument, got %d", FUNCS[f].name, argc);
            v = FUNCS[f].one(v);
        }
        return check(p, v, start);
    }
    return fail(p, start, "unknown name '%.*s'", (int)(len > 32 ? 32 : len), name);
}

static double parse_atom(Parser *p) {
    int c = peek(p);
    if (c == '(') {
        p->pos++;
        double v = parse_expr(p);
        if (p->err[0]) return NAN;
        if (peek(p) != ')') return p->pos < p->n ? unexpected(p) : fail(p, p->pos, "expected ')'");
        p->pos++;
        return v;
    }
    if (is_digit(c) || c == '.') return parse_number(p);
    if (is_alpha(c)) return parse_name(p);
    return unexpected(p);
}

static double parse_power(Parser *p) {
    double base = parse_atom(p);
    if (p->err[0] || peek(p) != '^') return base;
    size_t at = p->pos++;
    double exp = parse_unary(p); /* unary, not atom: 2^-1 and 2^3^2 work */
    if (p->err[0]) return NAN;
    return check(p, pow(base, exp), at);
}

static double parse_unary(Parser *p) {
    if (++p->depth > MAX_DEPTH) return fail(p, p->pos, "expression nested too deeply");
    double v;
    int c = peek(p);
    if (c == '-' || c == '+') {
        p->pos++;
        v = parse_unary(p);
        if (c == '-') v = -v;
    } else {
        v = parse_power(p);
    }
    p->depth--;
    return v;
}

static double parse_term(Parser *p) {
    double v = parse_unary(p);
    for (;;) {
        int op = peek(p);
        if (p->err[0] || (op != '*' && op != '/' && op != '%')) return v;
        size_t at = p->pos++;
        double r = parse_unary(p);
        if (p->err[0]) return NAN;
        if (op != '*' && r == 0) return fail(p, at, op == '/' ? "division by zero" : "modulo by zero");
        /* % is C's fmod: the result has the sign of the left operand */
        v = check(p, op == '*' ? v * r : op == '/' ? v / r : fmod(v, r), at);
    }
}

static double parse_expr(Parser *p) {
    double v = parse_term(p);
    for (;;) {
        int op = peek(p);
        if (p->err[0] || (op != '+' && op != '-')) return v;
        size_t at = p->pos++;
        double r = parse_term(p);
        if (p->err[0]) return NAN;
        v = check(p, op == '+' ? v + r : v - r, at);
    }
}

/* Evaluates s[0..n). Returns 0 and sets *out, or -1 with a message in err. */
static int evaluate(const char *s, size_t n, double *out, char err[128]) {
    Parser p = {.s = s, .n = n};
    if (peek(&p) < 0) {
        snprintf(err, 128, "empty expression");
        return -1;
    }
    double v = parse_expr(&p);
    if (!p.err[0] && peek(&p) >= 0) unexpected(&p); /* e.g. "1 2" or "2)" */
    if (p.err[0]) {
        memcpy(err, p.err, sizeof p.err);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- The exported functions ---------------------------------------------- */

/* calc("2*(3+4)") -> {"value": 14}; bad input -> {"error": "..."} */
EXPORT("calc") uint32_t calc(uint32_t arg_id) {
    size_t n;
    char *json = take_value(arg_id, &n);
    Buf expr = {0};
    double v;
    char err[128];
    uint32_t id;
    if (json_string(json, n, &expr) != 0)
        id = reply_error("calc expects a string, e.g. calc(\"1 + 2\")");
    else if (evaluate(expr.data, expr.len, &v, err) != 0)
        id = reply_error(err);
    else
        id = reply_value(v);
    free(json);
    free(expr.data);
    return id;
}

/* Evaluates the current line and rewrites it as "<expr> = <result>". An
 * existing "= ..." is replaced. On error the line is left as it was. */
EXPORT("calc_line") uint32_t calc_line(void) {
    size_t n;
    char *json = take_value(nvim_get_current_line(), &n);
    Buf line = {0};
    double v;
    char err[128];
    uint32_t id;
    if (json_string(json, n, &line) != 0) {
        id = reply_error("could not read the current line");
    } else {
        char *eq = line.data ? memchr(line.data, '=', line.len) : NULL;
        size_t end = eq ? (size_t)(eq - line.data) : line.len;
        while (end > 0 && is_ws(line.data[end - 1])) end--;
        if (evaluate(line.data, end, &v, err) != 0) {
            id = reply_error(err);
        } else {
            Buf text = {0}, args = {0};
            buf_add(&text, line.data, end); /* keeps the indentation */
            buf_str(&text, " = ");
            put_number(&text, v);
            buf_char(&args, '['); /* API arguments are a JSON array */
            put_json_string(&args, text.data, text.len);
            buf_char(&args, ']');
            nvim_set_current_line(give_value(&args));
            free(text.data);
            id = reply_value(v);
        }
    }
    free(json);
    free(line.data);
    return id;
}

/* The list of exports the host may call, with their value shapes. */
EXPORT("functionality") uint32_t functionality(void) {
    Buf b = {0};
    buf_str(&b, "[{\"name\":\"calc\",\"params\":\"string\",\"returns\":\"object\"},"
                "{\"name\":\"calc_line\",\"params\":\"void\",\"returns\":\"object\"}]");
    return give_value(&b);
}
