//! Reading a `.wasm` file's sections directly (wasmtime's `Module` does not
//! expose custom sections).

use crate::error::{Error, Result};

/// The contents of every custom section called `name`, concatenated in
/// file order; `None` if there is none.
pub fn custom_section(wasm: &[u8], name: &str) -> Result<Option<Vec<u8>>> {
    let bad = |what: &str| Error::load(format!("malformed module while reading custom sections: {what}"));
    let mut pos = 8; // magic and version
    let mut found: Option<Vec<u8>> = None;
    while pos < wasm.len() {
        let id = wasm[pos];
        pos += 1;
        let size = leb128(wasm, &mut pos).ok_or_else(|| bad("section size"))? as usize;
        let end = pos.checked_add(size).filter(|&e| e <= wasm.len()).ok_or_else(|| bad("section past the end"))?;
        if id == 0 {
            let mut p = pos;
            let len = leb128(&wasm[..end], &mut p).ok_or_else(|| bad("custom section name"))? as usize;
            let name_end = p.checked_add(len).filter(|&e| e <= end).ok_or_else(|| bad("custom section name"))?;
            if &wasm[p..name_end] == name.as_bytes() {
                found.get_or_insert_with(Vec::new).extend_from_slice(&wasm[name_end..end]);
            }
        }
        pos = end;
    }
    Ok(found)
}

/// How many functions the module defines (its function section's count;
/// imports not included): what compiling it costs is about proportional.
pub fn defined_functions(wasm: &[u8]) -> Result<u32> {
    let bad = |what: &str| Error::load(format!("malformed module while counting functions: {what}"));
    let mut pos = 8; // magic and version
    while pos < wasm.len() {
        let id = wasm[pos];
        pos += 1;
        let size = leb128(wasm, &mut pos).ok_or_else(|| bad("section size"))? as usize;
        let end = pos.checked_add(size).filter(|&e| e <= wasm.len()).ok_or_else(|| bad("section past the end"))?;
        if id == 3 {
            let mut p = pos;
            return leb128(&wasm[..end], &mut p).ok_or_else(|| bad("function count"));
        }
        pos = end;
    }
    Ok(0)
}

/// An unsigned LEB128 number of at most 32 bits.
fn leb128(bytes: &[u8], pos: &mut usize) -> Option<u32> {
    let mut value: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= u32::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_concatenates_custom_sections() {
        let wasm = wat::parse_str(
            r#"(module (@custom "wasm_nvim_functions" "{\"name\":\"a\"}") (@custom "other" "x")
                (@custom "wasm_nvim_functions" "{\"name\":\"b\"}"))"#,
        )
        .unwrap();
        let got = custom_section(&wasm, wasm_nvim_abi::FUNCTIONS_SECTION).unwrap().unwrap();
        assert_eq!(got, br#"{"name":"a"}{"name":"b"}"#);
        assert_eq!(custom_section(&wasm, "nope").unwrap(), None);
    }

    #[test]
    fn counts_defined_functions() {
        let wasm = wat::parse_str(r#"(module (import "a" "b" (func)) (func) (func) (func (export "x")))"#).unwrap();
        assert_eq!(defined_functions(&wasm).unwrap(), 3);
        assert_eq!(defined_functions(&wat::parse_str("(module)").unwrap()).unwrap(), 0);
    }

    #[test]
    fn malformed_sizes_are_errors() {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(custom_section(&wasm, "x").is_err());
    }
}
