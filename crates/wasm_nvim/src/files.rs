//! Reading files whose kind and size someone else controls (a plugin's
//! `.wasm`, a compile-cache entry): only regular files, only up to a size.
//! A `wasm/x.wasm` that is a symlink to `/dev/zero` would otherwise be read
//! until memory runs out, and a FIFO would block Neovim forever.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub enum Refused {
    /// A FIFO, device, socket or directory.
    NotRegular,
    /// Larger than the limit (`size` bytes, or more if it grew meanwhile).
    TooLarge {
        size: u64,
    },
    Io(std::io::Error),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::NotRegular => f.write_str("not a regular file (a FIFO, device or directory), so it is not read"),
            Refused::TooLarge { size } => write!(f, "the file is {}", mib(*size)),
            Refused::Io(e) => write!(f, "cannot read: {e}"),
        }
    }
}

/// `3.0 MiB`.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// Opens without blocking (a FIFO with no writer would block `open`).
fn open(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// The contents of `path` if it is a regular file of at most `max` bytes.
/// The checks are made on the opened file, so swapping the file between
/// check and read does not get around them.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, Refused> {
    let file = open(path).map_err(Refused::Io)?;
    let meta = file.metadata().map_err(Refused::Io)?;
    if !meta.is_file() {
        return Err(Refused::NotRegular);
    }
    if meta.len() > max {
        return Err(Refused::TooLarge { size: meta.len() });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // `take`: a file that grows while it is read still stops at the limit
    file.take(max + 1).read_to_end(&mut bytes).map_err(Refused::Io)?;
    if bytes.len() as u64 > max {
        return Err(Refused::TooLarge { size: bytes.len() as u64 });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_special_and_large_files() {
        assert!(matches!(read_regular(Path::new("/dev/zero"), 1 << 20), Err(Refused::NotRegular)));
        assert!(matches!(read_regular(Path::new("/"), 1 << 20), Err(Refused::NotRegular)));
        let path = std::env::temp_dir().join(format!("wasm_nvim-files-test-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_regular(&path, 10).unwrap(), b"0123456789");
        assert!(matches!(read_regular(&path, 9), Err(Refused::TooLarge { size: 10 })));
        let _ = std::fs::remove_file(&path);
    }
}
