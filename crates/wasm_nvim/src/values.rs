//! The id -> bytes table of one plugin (the seed ABI's "values").
//!
//! Values cross the host/guest boundary by id: the side that produces bytes
//! stores them under an id, the other side reads and consumes them. The
//! table is bounded (entry count and total bytes) and is emptied when the
//! outermost call into the plugin returns, so a guest that never consumes
//! its values cannot grow the host's memory across calls. Every operation is
//! O(1): ids come from a counter, lookups from a hash map.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Most live entries a plugin may hold during one call.
pub const MAX_ENTRIES: usize = 1 << 20;
/// Most bytes a plugin's live values may hold during one call.
pub const MAX_BYTES: usize = 1 << 30;

#[derive(Debug)]
enum Slot {
    /// Handed out by `get_id`, not yet filled by `set_value`.
    Reserved,
    Filled(Vec<u8>),
}

#[derive(Debug)]
pub struct Values {
    slots: HashMap<u32, Slot>,
    next: u32,
    bytes: usize,
}

impl Default for Values {
    fn default() -> Self {
        Values { slots: HashMap::new(), next: 1, bytes: 0 }
    }
}

impl Values {
    /// A fresh id, never 0 and never one that is live.
    fn fresh_id(&mut self) -> Result<u32> {
        if self.slots.len() >= MAX_ENTRIES {
            return Err(Error::limit(format!(
                "more than {MAX_ENTRIES} live values (ids taken with get_id or values never consumed)"
            )));
        }
        // The table is never full (checked above), so this ends; it loops
        // only after the counter wraps around past live ids.
        loop {
            let id = self.next;
            self.next = self.next.wrapping_add(1).max(1);
            if !self.slots.contains_key(&id) {
                return Ok(id);
            }
        }
    }

    /// `get_id`: reserves an id for a value the guest will `set_value`.
    pub fn reserve(&mut self) -> Result<u32> {
        let id = self.fresh_id()?;
        self.slots.insert(id, Slot::Reserved);
        Ok(id)
    }

    /// Stores host-produced bytes under a fresh id.
    pub fn insert(&mut self, bytes: Vec<u8>) -> Result<u32> {
        let id = self.fresh_id()?;
        self.charge(bytes.len())?;
        self.slots.insert(id, Slot::Filled(bytes));
        Ok(id)
    }

    /// `set_value`: fills (or replaces) the value under an id from `get_id`.
    pub fn set(&mut self, id: u32, bytes: Vec<u8>) -> Result<()> {
        let old = match self.slots.get(&id) {
            None => return Err(unknown(id)),
            Some(Slot::Reserved) => 0,
            Some(Slot::Filled(old)) => old.len(),
        };
        self.check_room(bytes.len().saturating_sub(old))?;
        self.bytes = self.bytes - old + bytes.len();
        self.slots.insert(id, Slot::Filled(bytes));
        Ok(())
    }

    /// Checks, before copying anything, that `set_value(id, ..)` may be called.
    pub fn check_settable(&self, id: u32) -> Result<()> {
        if self.slots.contains_key(&id) { Ok(()) } else { Err(unknown(id)) }
    }

    /// Checks that `len` more bytes fit before anything is allocated for them.
    pub fn check_room(&self, len: usize) -> Result<()> {
        if len > MAX_BYTES.saturating_sub(self.bytes) {
            return Err(Error::limit(format!(
                "a value of {len} bytes would take the plugin's live values past {MAX_BYTES} bytes"
            )));
        }
        Ok(())
    }

    fn charge(&mut self, len: usize) -> Result<()> {
        self.check_room(len)?;
        self.bytes += len;
        Ok(())
    }

    /// `get_value_size`: the byte length under `id`, without consuming it.
    pub fn size(&self, id: u32) -> Result<usize> {
        Ok(self.filled(id)?.len())
    }

    /// Consumes the value under `id`.
    pub fn take(&mut self, id: u32) -> Result<Vec<u8>> {
        self.filled(id)?;
        match self.slots.remove(&id) {
            Some(Slot::Filled(bytes)) => {
                self.bytes -= bytes.len();
                Ok(bytes)
            }
            _ => Err(unknown(id)),
        }
    }

    fn filled(&self, id: u32) -> Result<&Vec<u8>> {
        match self.slots.get(&id) {
            Some(Slot::Filled(bytes)) => Ok(bytes),
            Some(Slot::Reserved) => {
                Err(Error::abi(format!("id {id} was reserved with get_id but never set with set_value")))
            }
            None => Err(unknown(id)),
        }
    }

    /// Forgets every value: called when the outermost call into the plugin
    /// returns. Keeps a small allocation around for the next call.
    pub fn clear(&mut self) {
        if self.slots.is_empty() {
            return;
        }
        if self.slots.capacity() > 1024 {
            self.slots = HashMap::new();
        } else {
            self.slots.clear();
        }
        self.bytes = 0;
    }

    /// Recounts the bytes held: what [`Self::bytes`] must say (for tests).
    pub fn recount(&self) -> usize {
        self.slots.values().map(|s| if let Slot::Filled(b) = s { b.len() } else { 0 }).sum()
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

fn unknown(id: u32) -> Error {
    Error::abi(format!("unknown value id {id} (never created, or already consumed)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_set_take_roundtrip() {
        let mut v = Values::default();
        let id = v.reserve().unwrap();
        assert!(v.size(id).is_err(), "reserved but unset has no size");
        v.set(id, b"hello".to_vec()).unwrap();
        assert_eq!(v.size(id).unwrap(), 5);
        assert_eq!(v.bytes(), 5);
        assert_eq!(v.take(id).unwrap(), b"hello");
        assert_eq!(v.bytes(), 0);
        assert!(v.take(id).is_err(), "a value is consumed once");
    }

    #[test]
    fn set_requires_an_id_from_get_id() {
        let mut v = Values::default();
        assert!(matches!(v.set(42, vec![1]), Err(e) if e.kind == crate::error::Kind::Abi));
    }

    #[test]
    fn ids_are_unique_and_never_zero() {
        let mut v = Values { next: u32::MAX, ..Values::default() };
        let a = v.insert(vec![]).unwrap();
        let b = v.insert(vec![]).unwrap();
        assert_eq!(a, u32::MAX);
        assert_eq!(b, 1, "the counter wraps past 0");
        v.next = u32::MAX;
        let c = v.insert(vec![]).unwrap();
        assert_eq!(c, 2, "live ids are skipped");
    }

    #[test]
    fn replacing_a_value_recounts_bytes() {
        let mut v = Values::default();
        let id = v.reserve().unwrap();
        v.set(id, vec![0; 10]).unwrap();
        v.set(id, vec![0; 3]).unwrap();
        assert_eq!(v.bytes(), 3);
    }

    #[test]
    fn byte_cap_is_checked_before_storing() {
        let mut v = Values { bytes: MAX_BYTES - 2, ..Values::default() };
        assert!(matches!(v.insert(vec![0; 3]), Err(e) if e.kind == crate::error::Kind::Limit));
        assert!(v.insert(vec![0; 2]).is_ok());
    }

    #[test]
    fn entry_cap_stops_runaway_get_id() {
        let mut v = Values::default();
        for _ in 0..MAX_ENTRIES {
            v.reserve().unwrap();
        }
        assert!(matches!(v.reserve(), Err(e) if e.kind == crate::error::Kind::Limit));
        v.clear();
        assert!(v.is_empty());
        assert!(v.reserve().is_ok());
    }
}
