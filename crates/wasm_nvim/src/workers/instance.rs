//! A worker: one instance of a plugin (its own `Store` of the same compiled
//! module) that runs jobs off the editor's thread, one at a time, in the
//! order they were submitted. Its state (globals, a data set it loaded)
//! lives from job to job, so data is sent once and queried many times.
//! A job that traps drops the instance; the next job starts afresh.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use wasmtime::{InstancePre, Store};

use crate::call::invoke_export;
use crate::error::{Error, Result};
use crate::job::{Control, Finished, Queued, Status};
use crate::key::PluginKey;
use crate::limits::Limits;
use crate::shape::{Payload, Reply, Target};
use crate::state::HostState;

/// Most jobs waiting in one worker's queue: past it, submitting fails
/// (a plugin that submits faster than it matches must cancel).
pub const MAX_QUEUED: usize = 10_000;

pub struct Instance {
    pub id: u64,
    pub plugin: Arc<str>,
    /// The key of the loaded plugin this instance was made from.
    pub key: PluginKey,
    /// Made for one job (`spawn`): closed once its queue is empty.
    pub one_shot: bool,
    pre: InstancePre<HostState>,
    limits: Arc<Limits>,
    /// Compiled with deadline checks: a job's deadline can apply.
    metered: bool,
    inner: Mutex<Inner>,
    closed: AtomicBool,
    /// Linear memory of the instance after its last job, in bytes.
    memory: AtomicUsize,
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<Queued>,
    /// In the pool's ready queue or running: not to be queued again.
    scheduled: bool,
    store: Option<Box<Store<HostState>>>,
    running: Option<Arc<Control>>,
    /// Instances created (the first, and one after each trap).
    instantiations: u64,
}

/// What [`Instance::run_next`] did.
pub enum Ran {
    /// Ran (or skipped) a job; more may wait.
    Job(Finished),
    /// Nothing to run.
    Idle,
}

/// A snapshot for `:Wasm info` and `:checkhealth`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub id: u64,
    pub plugin: String,
    pub queued: usize,
    pub running: Option<(u64, String, u64)>,
    pub memory: usize,
    pub instantiations: u64,
    pub one_shot: bool,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").field("id", &self.id).field("plugin", &self.plugin).finish_non_exhaustive()
    }
}

impl Instance {
    pub fn new(
        id: u64,
        plugin: Arc<str>,
        key: PluginKey,
        pre: InstancePre<HostState>,
        limits: Arc<Limits>,
        one_shot: bool,
    ) -> Self {
        Instance {
            id,
            plugin,
            key,
            one_shot,
            pre,
            metered: limits.timeout.is_some(),
            limits,
            inner: Mutex::new(Inner::default()),
            closed: AtomicBool::new(false),
            memory: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock is caught (jobs run outside it);
        // the queue itself stays consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Queues a job; true when the instance must be put on the pool's
    /// ready queue (it was idle).
    pub fn push(&self, job: Queued) -> Result<bool> {
        if self.is_closed() {
            return Err(Error::new(crate::error::Kind::Cancelled, "the worker is closed"));
        }
        let mut inner = self.lock();
        if inner.queue.len() >= MAX_QUEUED {
            return Err(Error::limit(format!(
                "{MAX_QUEUED} jobs are already queued on this worker; cancel the ones whose results are no longer wanted"
            )));
        }
        inner.queue.push_back(job);
        Ok(!std::mem::replace(&mut inner.scheduled, true))
    }

    /// Closes the worker: queued jobs are cancelled, the running one is
    /// interrupted (after `grace`), the instance is dropped once idle.
    /// Returns the queued jobs, for their owners to be told.
    pub fn close(&self, grace: std::time::Duration, why: &str) -> Vec<Arc<Control>> {
        self.closed.store(true, Ordering::Release);
        let mut inner = self.lock();
        if let Some(running) = &inner.running {
            running.cancel(grace, why);
        }
        inner.store = None;
        inner
            .queue
            .drain(..)
            .map(|q| {
                q.control.cancel(grace, why);
                q.control.set_status(Status::Cancelled);
                q.control
            })
            .collect()
    }

    /// After a run: whether the instance has more jobs (stay scheduled) or
    /// goes idle.
    pub fn reschedule(&self) -> bool {
        let mut inner = self.lock();
        let more = !inner.queue.is_empty();
        inner.scheduled = more;
        more
    }

    /// Whether a one-shot instance is done (nothing queued or running).
    pub fn finished_one_shot(&self) -> bool {
        let inner = self.lock();
        self.one_shot && inner.queue.is_empty() && inner.running.is_none()
    }

    /// Runs the next job, on the calling (worker) thread.
    pub fn run_next(&self) -> Ran {
        let (job, store) = {
            let mut inner = self.lock();
            let Some(job) = inner.queue.pop_front() else { return Ran::Idle };
            if let Some(e) = job.control.cancelled_error() {
                job.control.set_status(Status::Cancelled);
                return Ran::Job(Finished { control: job.control, result: Err(e), output: None });
            }
            job.control.set_status(Status::Running);
            let _ = job.control.started.set(Instant::now());
            inner.running = Some(job.control.clone());
            let store = inner.store.take();
            if store.is_none() {
                inner.instantiations += 1;
            }
            (job, store)
        };
        let control = job.control.clone();
        let (result, output, store) = self.call(job, store);
        let mut inner = self.lock();
        inner.running = None;
        if let Some(store) = store
            && !self.is_closed()
        {
            self.memory.store(memory_size(&store), Ordering::Relaxed);
            inner.store = Some(store);
        }
        drop(inner);
        // a cancelled job's result is not wanted, whatever it was
        let result = match control.cancelled_error() {
            Some(cancelled) => Err(cancelled),
            None => result,
        };
        control.set_status(match &result {
            Ok(_) => Status::Done,
            Err(e) if e.kind == crate::error::Kind::Cancelled => Status::Cancelled,
            Err(_) => Status::Failed,
        });
        Ran::Job(Finished { control, result, output })
    }

    /// Calls the job's export in the instance (made first if needed);
    /// gives the store back unless the call trapped.
    #[allow(clippy::type_complexity)]
    fn call(
        &self,
        job: Queued,
        store: Option<Box<Store<HostState>>>,
    ) -> (Result<Option<Vec<u8>>>, Option<crate::output::Output>, Option<Box<Store<HostState>>>) {
        let mut store = match store {
            Some(store) => store,
            None => match instantiate(&self.pre, &self.plugin, self.key, &self.limits) {
                Ok(store) => Box::new(store),
                Err(e) => return (Err(e), None, None),
            },
        };
        let state = store.data_mut();
        state.job = Some(job.control.clone());
        if self.metered {
            // only a module compiled with deadline checks can have one
            Arc::make_mut(&mut state.limits).timeout = job.timeout;
        }
        let target = Target::Named(job.control.function.clone());
        let reply = invoke_export(&mut *store, &target, Payload::Bytes(job.args));
        let state = store.data_mut();
        state.job = None;
        state.values.clear();
        let output = state.take_output();
        let poisoned = state.poisoned;
        let result = reply.map(|reply| match reply {
            Reply::Bytes(bytes) => Some(bytes),
            Reply::None | Reply::Number(_) => None,
        });
        (result, output, (!poisoned).then_some(store))
    }

    /// The job that was running when the host panicked; the instance,
    /// possibly inconsistent, is dropped.
    pub fn take_running(&self) -> Option<Arc<Control>> {
        let mut inner = self.lock();
        inner.store = None;
        inner.running.take()
    }

    pub fn snapshot(&self) -> Snapshot {
        let inner = self.lock();
        Snapshot {
            id: self.id,
            plugin: self.plugin.to_string(),
            queued: inner.queue.len(),
            running: inner.running.as_ref().map(|c| (c.id, c.function.name.clone(), c.running_ms())),
            memory: self.memory.load(Ordering::Relaxed),
            instantiations: inner.instantiations,
            one_shot: self.one_shot,
        }
    }
}

fn memory_size(store: &Store<HostState>) -> usize {
    store.data().guest.as_ref().map_or(0, |g| g.io.memory.data_size(store))
}

/// A new `Store` for a worker, with the module instantiated and its
/// `_initialize` run (what it printed goes with the job's output).
fn instantiate(
    pre: &InstancePre<HostState>,
    name: &Arc<str>,
    key: PluginKey,
    limits: &Arc<Limits>,
) -> Result<Store<HostState>> {
    let mut store = crate::state::instantiate(pre, name, key, limits)?;
    crate::state::initialize(&mut store)?;
    Ok(store)
}
