//! Text a plugin controls, cut to a size the editor can afford: error
//! messages, journal entries and output can be as long as a plugin likes
//! (a 64 MiB `set_error`, 1 MiB on stdout per call), and each copy of them
//! costs memory and time in Neovim.

/// Most bytes of an error message a plugin gave (`set_error`, a msgpack-ABI
/// error result, a panic message).
pub const MAX_PLUGIN_MESSAGE: usize = 16 * 1024;

/// `text` cut to at most `max` bytes (at a character boundary), with a
/// note saying how much was left out.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}[... {} more bytes cut]", &text[..end], text.len() - end)
}

/// The same for bytes that should be text (lossy for invalid UTF-8);
/// only the kept part is converted.
pub fn truncate_lossy(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut end = max;
    // do not split a UTF-8 sequence: back up over continuation bytes
    while end > 0 && bytes[end] & 0xc0 == 0x80 {
        end -= 1;
    }
    format!("{}[... {} more bytes cut]", String::from_utf8_lossy(&bytes[..end]), bytes.len() - end)
}

/// Frames kept at each end of a chain of nested call errors.
const KEPT_FRAMES: usize = 3;

/// An error that went through many nested calls (plugin -> Lua -> plugin
/// ...) repeats `wasm_nvim: <plugin>.<fn>: ...` once per level: 100 levels
/// make a 20 KB message nobody reads. Keeps the first and last
/// [`KEPT_FRAMES`] frames (where it started, where it failed) and says how
/// many were left out.
pub fn compact_nested(msg: &str) -> String {
    const FRAME: &str = "wasm_nvim: ";
    let starts: Vec<usize> = msg.match_indices(FRAME).map(|(i, _)| i).collect();
    if starts.len() <= 2 * KEPT_FRAMES + 1 {
        return msg.to_string();
    }
    let cut_from = starts[KEPT_FRAMES];
    let resume_at = starts[starts.len() - KEPT_FRAMES];
    let omitted = starts.len() - 2 * KEPT_FRAMES;
    format!("{}[... {omitted} nested calls omitted ...] {}", &msg[..cut_from], &msg[resume_at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_at_a_char_boundary_with_a_note() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("héllo", 2), "h[... 5 more bytes cut]");
        let long = "x".repeat(100_000);
        let cut = truncate(&long, 1000);
        assert!(cut.len() < 1100 && cut.ends_with("[... 99000 more bytes cut]"), "{}", &cut[990..]);
    }

    #[test]
    fn truncate_lossy_counts_every_byte_left_out() {
        assert_eq!(truncate_lossy(b"a\xffb", 10), "a\u{fffd}b");
        let big = vec![b'y'; 50_000];
        let cut = truncate_lossy(&big, 100);
        assert!(cut.starts_with(&"y".repeat(100)) && cut.ends_with("[... 49900 more bytes cut]"), "{cut}");
    }

    #[test]
    fn nested_errors_keep_the_first_and_last_frames() {
        let mut msg = String::from("calls nested deeper than 100 into one plugin");
        for i in 0..100 {
            msg = format!("wasm_nvim: p.f{i}: lua_exec: Lua error: wasm:p:1: {msg}");
        }
        let short = compact_nested(&msg);
        assert!(short.len() < 600, "{} bytes", short.len());
        assert!(short.starts_with("wasm_nvim: p.f99: lua_exec"), "{short}");
        assert!(short.contains("p.f97") && !short.contains("p.f96:"), "{short}");
        assert!(short.contains("[... 94 nested calls omitted ...]"), "{short}");
        assert!(
            short.contains("p.f0: lua_exec") && short.ends_with("calls nested deeper than 100 into one plugin"),
            "{short}"
        );
        assert_eq!(compact_nested("wasm_nvim: a.b: boom"), "wasm_nvim: a.b: boom");
    }
}
