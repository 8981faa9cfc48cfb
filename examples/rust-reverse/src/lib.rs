//! Reverses lines `first..=last` of the current buffer, with the Rust SDK.
use wasm_nvim_sdk::prelude::*;

#[export]
fn reverse(first: i64, last: i64) -> Result<usize> {
    if first < 1 || last < first {
        return Err(Error::new(format!("invalid range {first}-{last}")));
    }
    let mut lines = api::nvim_buf_get_lines(Buffer::CURRENT, first - 1, last, true)?;
    lines.reverse();
    api::nvim_buf_set_lines(Buffer::CURRENT, first - 1, last, true, &lines)?;
    notify(&format!("Reversed {} lines", lines.len()), LogLevel::Info)?;
    Ok(lines.len())
}
