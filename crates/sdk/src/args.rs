//! Reading an export's arguments one by one, so that a wrong one is named:
//! `argument 2 (last): expected an integer (i64), got a string` — the
//! wording of the Zig and C SDKs too.

use serde::Deserialize;

use crate::describe::{Wanted, wanted};

/// The msgpack array of a call's arguments, split into its elements
/// (slices of the host's buffer: `&str` parameters borrow from it).
pub struct Args<'a> {
    bytes: &'a [u8],
    items: Vec<&'a [u8]>,
}

impl<'a> Args<'a> {
    /// Splits `bytes` (empty: no arguments).
    pub fn split(bytes: &'a [u8]) -> Result<Args<'a>, String> {
        if bytes.is_empty() {
            return Ok(Args { bytes, items: Vec::new() });
        }
        let mut rd = bytes;
        let n =
            rmp::decode::read_array_len(&mut rd).map_err(|_| "the arguments are not a msgpack array".to_string())?;
        let mut items = Vec::with_capacity((n as usize).min(64));
        for _ in 0..n {
            let len = value_len(rd).ok_or_else(|| "the arguments are truncated or malformed msgpack".to_string())?;
            let (item, rest) = rd.split_at(len);
            items.push(item);
            rd = rest;
        }
        Ok(Args { bytes, items })
    }

    /// All the arguments as one value (an array): `OnLines`.
    pub fn whole<T: Deserialize<'a>>(&self) -> Result<T, String> {
        let bytes = if self.bytes.is_empty() { &[0x90][..] } else { self.bytes };
        rmp_serde::from_slice(bytes).map_err(|e| format!("the arguments: {}", tidy(&e.to_string())))
    }

    /// Argument `index` (0-based) as `T`; a missing one is nil.
    pub fn get<T: Deserialize<'a>>(&self, index: usize, name: &str) -> Result<T, String> {
        const NIL: &[u8] = &[0xc0];
        let item = self.items.get(index).copied().unwrap_or(NIL);
        let wanted = || wanted::<T>();
        // `{}` from Lua is an empty array: for a struct or map it is an empty table.
        let item = if item == [0x90] && wanted().table { &[0x80][..] } else { item };
        rmp_serde::from_slice::<T>(item).map_err(|e| {
            let Wanted { text, .. } = wanted();
            let got = kind(item);
            let at = format!("argument {} ({name})", index + 1);
            if matches!(got, "nil") || !fits(&text, got) {
                format!("{at}: expected {text}, got {got}")
            } else {
                format!("{at}: {}", tidy(&e.to_string()))
            }
        })
    }
}

/// Whether a value of kind `got` is of the kind `expected` describes (then
/// the error is deeper inside it, and serde's message says where).
fn fits(expected: &str, got: &str) -> bool {
    let table = got == "a table" || got == "an array";
    expected.split(" or ").any(|e| {
        e == "any value"
            || e == got
            || (e.starts_with("an integer") && got == "an integer")
            || (e == "a number" && (got == "an integer" || got == "a float"))
            || (e == "a string" && got == "binary data")
            || ((e == "a table" || e == "an array") && table)
            || (matches!(e, "a buffer" | "a window" | "a tabpage") && (got == "an integer" || got == "a handle"))
    })
}

/// serde's nested messages without rmp's internals. rmp_serde reads a
/// boolean or number field with its own code, which says `wrong msgpack
/// marker FixStr(3)` for a string: that becomes `invalid type: a string,
/// expected a boolean or a number`. (Decoding again through a deserializer
/// that says which type the field wants would cost ~70 KB per plugin.)
fn tidy(message: &str) -> String {
    let Some(marker) = message.strip_prefix("wrong msgpack marker ") else {
        return message.to_string();
    };
    let got = match marker.split('(').next().unwrap_or(marker) {
        "Null" => "nil",
        "FixStr" | "Str8" | "Str16" | "Str32" => "a string",
        "FixArray" | "Array16" | "Array32" => "an array",
        "FixMap" | "Map16" | "Map32" => "a table",
        "Bin8" | "Bin16" | "Bin32" => "binary data",
        m if m.contains("Ext") => "a handle",
        _ => return format!("unexpected value {marker}"),
    };
    format!("invalid type: {got}, expected a boolean or a number")
}

/// What a msgpack value is, in the words the SDKs share.
pub fn kind(bytes: &[u8]) -> &'static str {
    match bytes.first() {
        None | Some(0xc0) => "nil",
        Some(0xc2 | 0xc3) => "a boolean",
        Some(0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xd3) => "an integer",
        Some(0xca | 0xcb) => "a float",
        Some(0xa0..=0xbf | 0xd9..=0xdb) => "a string",
        Some(0xc4..=0xc6) => "binary data",
        Some(0x90..=0x9f | 0xdc | 0xdd) => "an array",
        Some(0x80..=0x8f | 0xde | 0xdf) => "a table",
        Some(0xd4..=0xd8 | 0xc7..=0xc9) => "a handle",
        Some(_) => "invalid msgpack",
    }
}

/// The byte length of the first msgpack value in `bytes`, bounds checked.
pub fn value_len(bytes: &[u8]) -> Option<usize> {
    let mut pos = 0usize;
    let mut pending: u64 = 1;
    while pending > 0 {
        pending -= 1;
        let m = *bytes.get(pos)?;
        pos += 1;
        let be = |pos: usize, n: usize| -> Option<u64> {
            let b = bytes.get(pos..pos.checked_add(n)?)?;
            Some(b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
        };
        let (skip, more): (u64, u64) = match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, u64::from(m & 0x0f) * 2),
            0x90..=0x9f => (0, u64::from(m & 0x0f)),
            0xa0..=0xbf => (u64::from(m & 0x1f), 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xce | 0xd2 | 0xca => (4, 0),
            0xcf | 0xd3 | 0xcb => (8, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xc4 | 0xd9 => (1 + be(pos, 1)?, 0),
            0xc5 | 0xda => (2 + be(pos, 2)?, 0),
            0xc6 | 0xdb => (4 + be(pos, 4)?, 0),
            0xc7 => (2 + be(pos, 1)?, 0),
            0xc8 => (3 + be(pos, 2)?, 0),
            0xc9 => (5 + be(pos, 4)?, 0),
            0xdc => (2, be(pos, 2)?),
            0xdd => (4, be(pos, 4)?),
            0xde => (2, be(pos, 2)? * 2),
            0xdf => (4, be(pos, 4)? * 2),
            _ => return None, // 0xc1 is never used
        };
        pos = pos.checked_add(usize::try_from(skip).ok()?)?;
        if pos > bytes.len() {
            return None;
        }
        // every element is at least one byte: a count past the data is malformed
        pending = pending.checked_add(more)?;
        if pending > (bytes.len() - pos) as u64 {
            return None;
        }
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &impl serde::Serialize) -> Vec<u8> {
        rmp_serde::to_vec(v).unwrap()
    }

    #[test]
    fn wrong_and_missing_arguments_are_named() {
        let bytes = args(&("x",));
        let a = Args::split(&bytes).unwrap();
        assert_eq!(
            a.get::<i64>(0, "first").unwrap_err(),
            "argument 1 (first): expected an integer (i64), got a string"
        );
        assert_eq!(a.get::<i64>(1, "last").unwrap_err(), "argument 2 (last): expected an integer (i64), got nil");
        assert_eq!(a.get::<Option<i64>>(1, "last").unwrap(), None);
        assert_eq!(a.get::<&str>(0, "s").unwrap(), "x");
        assert_eq!(a.get::<bool>(0, "b").unwrap_err(), "argument 1 (b): expected a boolean, got a string");
        assert_eq!(a.get::<Vec<String>>(0, "v").unwrap_err(), "argument 1 (v): expected an array, got a string");
    }

    #[test]
    fn an_empty_lua_table_is_an_empty_options_struct() {
        #[derive(serde::Deserialize, Debug, PartialEq, Default)]
        struct Opts {
            unique: Option<bool>,
            name: Option<String>,
        }
        let bytes = args(&(Vec::<u8>::new(),));
        let a = Args::split(&bytes).unwrap();
        assert_eq!(a.get::<Opts>(0, "opts").unwrap(), Opts::default());
        assert_eq!(a.get::<Option<Opts>>(0, "opts").unwrap(), Some(Opts::default()));
        assert_eq!(a.get::<Vec<i64>>(0, "list").unwrap(), Vec::<i64>::new());
        let bytes = args(&(std::collections::BTreeMap::from([("unique", "yes")]),));
        assert_eq!(
            Args::split(&bytes).unwrap().get::<Opts>(0, "opts").unwrap_err(),
            "argument 1 (opts): invalid type: a string, expected a boolean or a number"
        );
        let bytes = args(&(5,));
        assert_eq!(
            Args::split(&bytes).unwrap().get::<Opts>(0, "opts").unwrap_err(),
            "argument 1 (opts): expected a table, got an integer"
        );
    }

    #[test]
    fn value_lengths_are_bounds_checked() {
        let v = args(&(1, "abc", vec![1.5, 2.0], (true, ()), u64::MAX));
        assert_eq!(value_len(&v), Some(v.len()));
        for cut in 0..v.len() {
            assert_eq!(value_len(&v[..cut]), None, "truncated at {cut}");
        }
        assert_eq!(value_len(&[0xdd, 0xff, 0xff, 0xff, 0xff]), None, "a huge count with no data");
        assert_eq!(value_len(&[0xc1]), None);
    }
}
