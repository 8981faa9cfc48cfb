//! One job: a call of a plugin export on a worker thread, and what the
//! editor's thread and the worker share about it (status, cancellation,
//! the latest progress report).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Kind};
use crate::shape::FunctionSpec;

/// How long a cancelled job may keep running before it is interrupted: a
/// plugin that checks `job::cancelled()` stops on its own well within it
/// and keeps its state; one that does not loses its instance.
pub const CANCEL_GRACE: Duration = Duration::from_millis(200);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    Queued = 0,
    Running = 1,
    Done = 2,
    Failed = 3,
    Cancelled = 4,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    fn from_u8(v: u8) -> Status {
        match v {
            0 => Status::Queued,
            1 => Status::Running,
            2 => Status::Done,
            3 => Status::Failed,
            _ => Status::Cancelled,
        }
    }
}

/// What the editor's thread and the worker running the job share.
#[derive(Debug)]
pub struct Control {
    pub id: u64,
    pub plugin: Arc<str>,
    pub function: FunctionSpec,
    /// The running Neovim (`nvim.version` answers from it in a worker).
    pub nvim_version: u64,
    status: AtomicU8,
    /// When `cancel()` was asked for, and why.
    cancelled: OnceLock<(Instant, Duration, String)>,
    /// The latest progress report (msgpack), not yet taken by the editor's
    /// thread; reports in between are coalesced.
    progress: Mutex<Option<Vec<u8>>>,
    /// A progress event is queued for the editor's thread.
    pub progress_queued: AtomicBool,
    pub started: OnceLock<Instant>,
}

impl Control {
    pub fn new(id: u64, plugin: Arc<str>, function: FunctionSpec, nvim_version: u64) -> Self {
        Control {
            id,
            plugin,
            function,
            nvim_version,
            status: AtomicU8::new(Status::Queued as u8),
            cancelled: OnceLock::new(),
            progress: Mutex::new(None),
            progress_queued: AtomicBool::new(false),
            started: OnceLock::new(),
        }
    }

    pub fn status(&self) -> Status {
        Status::from_u8(self.status.load(Ordering::Acquire))
    }

    pub fn set_status(&self, status: Status) {
        self.status.store(status as u8, Ordering::Release);
    }

    /// Asks the job to stop: it is interrupted after `grace` if it is
    /// still running then. The first request wins.
    pub fn cancel(&self, grace: Duration, why: &str) {
        let _ = self.cancelled.set((Instant::now(), grace, why.to_string()));
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.get().is_some()
    }

    /// The error of a cancelled job.
    pub fn cancelled_error(&self) -> Option<Error> {
        self.cancelled.get().map(|(_, _, why)| Error::new(Kind::Cancelled, format!("cancelled ({why})")))
    }

    /// Checked at every deadline tick: the error that interrupts a job
    /// cancelled longer than its grace period ago.
    pub fn interrupt(&self) -> Option<Error> {
        let (at, grace, _) = self.cancelled.get()?;
        (at.elapsed() >= *grace).then(|| self.cancelled_error()).flatten()
    }

    /// The error a worker's call into Lua or the Neovim API gets.
    pub fn refuse_neovim(&self) -> Error {
        Error::new(
            Kind::Unavailable,
            format!(
                "not available in a worker job: {}.{} runs off the editor's thread, where Lua and the Neovim API \
                 (single-threaded) cannot be used; pass what the job needs as arguments and use the result on the editor's thread",
                self.plugin, self.function.name
            ),
        )
    }

    /// Keeps `bytes` as the latest progress report; true when the editor's
    /// thread must be told (no report of this job is queued yet).
    pub fn report(&self, bytes: Vec<u8>) -> bool {
        *self.progress.lock().unwrap_or_else(|p| p.into_inner()) = Some(bytes);
        !self.progress_queued.swap(true, Ordering::AcqRel)
    }

    /// The latest progress report, if one came since the last take.
    pub fn take_progress(&self) -> Option<Vec<u8>> {
        self.progress_queued.store(false, Ordering::Release);
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Milliseconds since the job started running (0 while queued).
    pub fn running_ms(&self) -> u64 {
        self.started.get().map_or(0, |t| u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX))
    }
}

/// A job waiting in its worker's queue: the control and the arguments.
#[derive(Debug)]
pub struct Queued {
    pub control: Arc<Control>,
    /// Encoded as the function's ABI wants them (msgpack or JSON).
    pub args: Vec<u8>,
    /// This job's deadline (wasm time); `None`: no deadline.
    pub timeout: Option<Duration>,
}

/// What a finished job gives the editor's thread.
#[derive(Debug)]
pub struct Finished {
    pub control: Arc<Control>,
    /// The encoded result (none for nil), or why it failed.
    pub result: Result<Option<Vec<u8>>, Error>,
    /// What the job printed.
    pub output: Option<crate::output::Output>,
}

/// A message for the editor's thread.
#[derive(Debug)]
pub enum Event {
    Progress(Arc<Control>),
    Done(Finished),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    fn control() -> Control {
        Control::new(
            1,
            "p".into(),
            FunctionSpec { name: "f".into(), shape: Shape::Msgpack, signature: None, doc: None },
            0,
        )
    }

    #[test]
    fn progress_is_coalesced() {
        let c = control();
        assert!(c.report(vec![1]), "the first report is announced");
        assert!(!c.report(vec![2]), "the next one replaces it silently");
        assert_eq!(c.take_progress(), Some(vec![2]));
        assert!(c.report(vec![3]), "announced again once taken");
    }

    #[test]
    fn cancellation_interrupts_after_the_grace_period() {
        let c = control();
        assert!(c.interrupt().is_none());
        c.cancel(Duration::from_secs(60), "newer query");
        assert!(c.is_cancelled() && c.interrupt().is_none(), "within the grace period");
        let c = control();
        c.cancel(Duration::ZERO, "reload");
        c.cancel(Duration::from_secs(60), "later request loses");
        let e = c.interrupt().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(e, "cancelled (reload)");
    }
}

/// Where finished jobs and progress reports wait for the editor's thread,
/// which polls without taking a lock ([`Events::waiting`]) and never waits
/// for a lock a job holds for long.
#[derive(Debug, Default)]
pub struct Events {
    queue: Mutex<std::collections::VecDeque<Event>>,
    /// Events are waiting.
    pending: AtomicBool,
}

impl Events {
    pub fn emit(&self, event: Event) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).push_back(event);
        self.pending.store(true, Ordering::Release);
    }

    pub fn waiting(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    pub fn take(&self) -> std::collections::VecDeque<Event> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        self.pending.store(false, Ordering::Release);
        std::mem::take(&mut *queue)
    }
}

/// The events of this process's jobs, from any thread.
pub fn events() -> &'static Events {
    static EVENTS: OnceLock<Events> = OnceLock::new();
    EVENTS.get_or_init(Events::default)
}
