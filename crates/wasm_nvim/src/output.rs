//! A plugin's WASI stdout and stderr, captured instead of written to the
//! terminal (raw writes would garble Neovim's TUI).
//!
//! The guest's writes land in a bounded buffer; the host drains it into
//! `:messages` before it runs Lua for the guest and when a call returns, so
//! output keeps its order relative to what the plugin does in Neovim.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Most bytes held between two drains; the rest is dropped and the drop
/// noted. (No more than this is shown per call anyway: [`MAX_SHOWN`].)
pub const MAX_PENDING: usize = 64 * 1024;

/// Most bytes of output shown per outermost call (`:messages`): showing
/// is work Neovim does for the plugin, and a flood of it froze the editor
/// for seconds per MiB.
pub const MAX_SHOWN: usize = 64 * 1024;

/// Text a plugin printed, taken out of its `Store` to be shown.
#[derive(Debug)]
pub struct Output {
    pub plugin: std::sync::Arc<str>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
}

/// The output bytes shown so far in the current outermost call.
#[derive(Debug, Default)]
pub struct Shown(usize);

impl Shown {
    /// `text` cut so that the call shows at most [`MAX_SHOWN`] bytes in
    /// all, with a note where it was cut; `None` once the note was shown.
    pub fn cut(&mut self, text: String) -> Option<String> {
        let left = MAX_SHOWN.saturating_sub(self.0);
        if left == 0 {
            return None; // the note was shown with the text that reached the cap
        }
        self.0 += text.len().min(left);
        if text.len() <= left {
            return Some(text);
        }
        let mut end = left;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Some(format!(
            "{}\n[... output of this call cut: at most {} KiB is shown per call]",
            &text[..end],
            MAX_SHOWN >> 10
        ))
    }
}

#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    dropped: usize,
}

/// One captured stream (a plugin has two: stdout and stderr).
#[derive(Clone, Debug, Default)]
pub struct Capture {
    pending: Arc<Mutex<Pending>>,
    /// Something was written since the last drain: checked without the
    /// lock after every call.
    written: Arc<AtomicBool>,
}

impl Capture {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A poisoned lock only means a writer panicked mid-append; the bytes
        // are still a valid Vec, so keep using them.
        self.pending.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    pub(crate) fn append(&self, data: &[u8]) {
        self.written.store(true, Ordering::Release);
        let mut p = self.lock();
        let room = MAX_PENDING.saturating_sub(p.bytes.len());
        let kept = data.len().min(room);
        p.bytes.extend_from_slice(&data[..kept]);
        p.dropped += data.len() - kept;
    }

    /// Something was written since the last drain.
    pub fn has_output(&self) -> bool {
        self.written.load(Ordering::Acquire)
    }

    /// Takes what was written so far as text (lossy for bytes that are not
    /// UTF-8), without its final newline. `None` when nothing was written.
    pub fn drain(&self) -> Option<String> {
        if !self.written.swap(false, Ordering::Acquire) {
            return None;
        }
        let mut p = self.lock();
        if p.bytes.is_empty() && p.dropped == 0 {
            return None;
        }
        let bytes = std::mem::take(&mut p.bytes);
        let dropped = std::mem::take(&mut p.dropped);
        drop(p);
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if text.ends_with('\n') {
            text.pop();
        }
        if dropped > 0 {
            text.push_str(&format!("\n[{dropped} more bytes of output dropped]"));
        }
        Some(text)
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Never blocks: what does not fit is counted as dropped.
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drain_takes_text_once_and_trims_the_last_newline() {
        let c = Capture::default();
        c.append(b"hello\nworld\n");
        assert_eq!(c.drain().as_deref(), Some("hello\nworld"));
        assert_eq!(c.drain(), None);
    }

    #[test]
    fn overflow_is_dropped_and_reported() {
        let c = Capture::default();
        c.append(&vec![b'x'; MAX_PENDING + 10]);
        let text = c.drain().unwrap_or_default();
        assert!(text.ends_with("[10 more bytes of output dropped]"), "{}", &text[text.len() - 40..]);
    }

    #[test]
    fn invalid_utf8_is_shown_lossily() {
        let c = Capture::default();
        c.append(b"a\xffb");
        assert_eq!(c.drain().as_deref(), Some("a\u{fffd}b"));
    }
}
