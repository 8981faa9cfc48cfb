//! The compiled-module cache: Cranelift output kept on disk under
//! `stdpath("cache")/wasm_nvim`, so a plugin is compiled once, not at every
//! Neovim start (about 100 ms for a 100 KB module here, against well under
//! a millisecond to load the cached code).
//!
//! An entry's name is the SHA-256 of the `.wasm` plus a hash of everything
//! the machine code depends on: this library's version and the engine's
//! compatibility hash (wasmtime version, compiler settings, CPU features).
//! Each file carries the SHA-256 of the `.wasm` it was compiled from and a
//! CRC-32 of its contents: an entry of another module copied under this
//! one's name, or a truncated or corrupted entry, is detected before
//! wasmtime sees it (deserializing is `unsafe` because wasmtime trusts
//! those bytes) and rebuilt. An entry is read only if it is a regular file
//! of sane size (a FIFO put there must not block Neovim).
//!
//! The directory is pruned after each new entry: entries unused for
//! [`MAX_AGE`] go, then the least recently used until the rest fit in
//! [`MAX_BYTES`]. A hit refreshes the entry's time.
//!
//! What this does not do: authenticate entries. Whoever can write the
//! cache directory can write code Neovim will run, as with any file under
//! the user's home that Neovim loads.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use crate::error::{Error, Result};
use crate::files;

const MAGIC: &[u8; 8] = b"wnvmc\x00\x00\x02";
/// Magic, the source's SHA-256, the artifact's CRC-32.
const HEADER: usize = MAGIC.len() + 32 + 4;
/// Largest entry read (compiled code is a few times the module's size).
const MAX_ENTRY: u64 = 1 << 30;
/// Entries unused this long are deleted.
pub const MAX_AGE: Duration = Duration::from_secs(60 * 24 * 3600);
/// The cache is kept under this many bytes.
pub const MAX_BYTES: u64 = 512 << 20;

/// How a module was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Loaded from the cache.
    Hit,
    /// Compiled, and stored for next time.
    Compiled,
    /// A corrupt entry was found, so it was compiled again and replaced.
    Rebuilt,
    /// Compiled without the cache (disabled, or it could not be written).
    Uncached,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hit => "cached",
            Outcome::Compiled => "compiled",
            Outcome::Rebuilt => "rebuilt (corrupt cache entry)",
            Outcome::Uncached => "compiled (no cache)",
        }
    }
}

/// The file a module's compiled code is kept in.
pub fn entry_path(dir: &Path, engine: &Engine, wasm: &[u8]) -> PathBuf {
    entry_path_for(dir, engine, &Sha256::digest(wasm).into())
}

fn entry_path_for(dir: &Path, engine: &Engine, digest: &[u8; 32]) -> PathBuf {
    let mut h = DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    engine.precompile_compatibility_hash().hash(&mut h);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}-{:016x}.cwasm", h.finish()))
}

/// Compiles `wasm`, or loads its compiled code from `dir`.
pub fn load(dir: Option<&Path>, engine: &Engine, wasm: &[u8]) -> Result<(Module, Outcome)> {
    let compile = || Module::new(engine, wasm).map_err(|e| Error::load(format!("invalid module: {e:#}")));
    let Some(dir) = dir else { return Ok((compile()?, Outcome::Uncached)) };
    let source: [u8; 32] = Sha256::digest(wasm).into();
    let path = entry_path_for(dir, engine, &source);
    let mut outcome = Outcome::Compiled;
    match files::read_regular(&path, MAX_ENTRY) {
        Ok(file) => match checked_artifact(&file, &source) {
            // SAFETY: the bytes were written by `store` below from
            // `Module::serialize` of an engine with the same compatibility
            // hash (it is in the file name) for this very source (its
            // SHA-256 is in the header), and the CRC shows they are
            // unchanged since. wasmtime still checks the header and version.
            Some(artifact) => match unsafe { Module::deserialize(engine, artifact) } {
                Ok(module) => {
                    touch(&path);
                    return Ok((module, Outcome::Hit));
                }
                Err(_) => outcome = Outcome::Rebuilt,
            },
            None => outcome = Outcome::Rebuilt,
        },
        Err(files::Refused::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => outcome = Outcome::Rebuilt,
    }
    let module = compile()?;
    if store(&path, &source, &module).is_err() {
        outcome = Outcome::Uncached;
    } else {
        prune(dir, MAX_AGE, MAX_BYTES);
    }
    Ok((module, outcome))
}

/// The artifact inside a cache file, if the file is whole and was compiled
/// from `source` (its SHA-256).
fn checked_artifact<'a>(file: &'a [u8], source: &[u8; 32]) -> Option<&'a [u8]> {
    let (header, artifact) = (file.get(..HEADER)?, file.get(HEADER..)?);
    let digest = header.get(MAGIC.len()..MAGIC.len() + 32)?;
    let crc = u32::from_le_bytes(header.get(MAGIC.len() + 32..)?.try_into().ok()?);
    (header.starts_with(MAGIC) && digest == source && crc32fast::hash(artifact) == crc).then_some(artifact)
}

/// Marks an entry as used now (its modification time), for pruning.
fn touch(path: &Path) {
    if let Ok(f) = fs::OpenOptions::new().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Deletes entries unused for `max_age`, then the least recently used
/// until the rest fit in `max_bytes`. Errors are ignored: pruning is
/// housekeeping, and another Neovim may be pruning the same directory.
pub fn prune(dir: &Path, max_age: Duration, max_bytes: u64) {
    let Ok(read) = fs::read_dir(dir) else { return };
    let now = SystemTime::now();
    let mut entries: Vec<(SystemTime, u64, PathBuf)> = read
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((meta.modified().unwrap_or(UNIX_EPOCH), meta.len(), e.path()))
        })
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.0)); // newest first
    let mut kept = 0u64;
    for (modified, size, path) in entries {
        let old = now.duration_since(modified).is_ok_and(|age| age > max_age);
        if old || kept.saturating_add(size) > max_bytes {
            let _ = fs::remove_file(&path);
        } else {
            kept += size;
        }
    }
}

/// Writes the entry atomically (temporary file, then rename), so a reader
/// never sees half of it.
fn store(path: &Path, source: &[u8; 32], module: &Module) -> std::io::Result<()> {
    let artifact = module.serialize().map_err(std::io::Error::other)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(MAGIC)?;
    f.write_all(source)?;
    f.write_all(&crc32fast::hash(&artifact).to_le_bytes())?;
    f.write_all(&artifact)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAT: &str = r#"(module (func (export "f") (result i32) (i32.const 42)))"#;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("wasm_nvim-cache-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn compiled_then_cached_then_rebuilt_when_corrupt() {
        let engine = Engine::default();
        let wasm = wat::parse_str(WAT).unwrap();
        let d = dir();
        assert_eq!(load(Some(&d), &engine, &wasm).unwrap().1, Outcome::Compiled);
        assert_eq!(load(Some(&d), &engine, &wasm).unwrap().1, Outcome::Hit);
        let path = entry_path(&d, &engine, &wasm);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(load(Some(&d), &engine, &wasm).unwrap().1, Outcome::Rebuilt);
        fs::write(&path, &bytes[..10]).unwrap();
        assert_eq!(load(Some(&d), &engine, &wasm).unwrap().1, Outcome::Rebuilt);
        assert_eq!(load(Some(&d), &engine, &wasm).unwrap().1, Outcome::Hit);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn an_entry_of_another_module_is_not_used() {
        let engine = Engine::default();
        let a = wat::parse_str(WAT).unwrap();
        let b = wat::parse_str(r#"(module (func (export "f") (result i32) (i32.const 7)))"#).unwrap();
        let d = std::env::temp_dir().join(format!("wasm_nvim-cache-other-{}", std::process::id()));
        assert_eq!(load(Some(&d), &engine, &a).unwrap().1, Outcome::Compiled);
        assert_eq!(load(Some(&d), &engine, &b).unwrap().1, Outcome::Compiled);
        fs::copy(entry_path(&d, &engine, &a), entry_path(&d, &engine, &b)).unwrap();
        assert_eq!(load(Some(&d), &engine, &b).unwrap().1, Outcome::Rebuilt);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn prune_drops_old_entries_then_the_least_recently_used() {
        let d = std::env::temp_dir().join(format!("wasm_nvim-cache-prune-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        let now = SystemTime::now();
        for (name, age_days, size) in [("old", 90u64, 10usize), ("a", 3, 100), ("b", 2, 100), ("c", 1, 100)] {
            let path = d.join(format!("{name}.cwasm"));
            fs::write(&path, vec![0u8; size]).unwrap();
            let f = fs::OpenOptions::new().append(true).open(&path).unwrap();
            f.set_modified(now - Duration::from_secs(age_days * 86400)).unwrap();
        }
        fs::write(d.join("keep.txt"), b"not an entry").unwrap();
        prune(&d, Duration::from_secs(30 * 86400), 250);
        let mut left: Vec<String> =
            fs::read_dir(&d).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        assert_eq!(left, ["b.cwasm", "c.cwasm", "keep.txt"]);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn engines_with_other_settings_use_other_entries() {
        let wasm = wat::parse_str(WAT).unwrap();
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let metered = Engine::new(&config).unwrap();
        let d = Path::new("/x");
        assert_ne!(entry_path(d, &Engine::default(), &wasm), entry_path(d, &metered, &wasm));
    }
}
