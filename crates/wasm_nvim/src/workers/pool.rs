//! The thread pool: a few threads that run the jobs of every worker; they
//! hand results to the editor's thread through [`crate::job::events`].
//!
//! Threads start when jobs need them (up to the pool size) and exit after
//! [`IDLE_EXIT`] without work, so an editor that uses no workers has no
//! thread. A worker with queued jobs waits in the ready queue; a thread
//! runs one of its jobs and puts it back at the end, so workers share the
//! threads fairly. Nothing here touches Lua: the editor's thread polls
//! the events and never waits for a lock a job holds.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::instance::{Instance, Ran};
use crate::error::{Error, Kind, Result};
use crate::job::{Event, Finished};
use crate::key::PluginKey;

/// An idle thread exits after this long.
pub const IDLE_EXIT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct State {
    ready: VecDeque<Arc<Instance>>,
    /// Every open worker instance (for `:Wasm info`, reload and exit).
    instances: Vec<Arc<Instance>>,
    threads: Vec<JoinHandle<()>>,
    live: usize,
    idle: usize,
    size: usize,
    shutdown: bool,
}

pub struct Pool {
    state: Mutex<State>,
    wake: Condvar,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
}

pub use crate::options::default_threads as default_size;

/// Counts of the pool's threads, for `:Wasm info` and `:checkhealth`.
#[derive(Debug, Clone, Copy)]
pub struct Threads {
    pub size: usize,
    pub live: usize,
    pub idle: usize,
}

impl Pool {
    pub fn new(size: usize) -> Self {
        Pool { state: Mutex::new(State { size: size.max(1), ..State::default() }), wake: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_size(&self, size: usize) {
        self.lock().size = size.max(1);
    }

    pub fn threads(&self) -> Threads {
        let st = self.lock();
        Threads { size: st.size, live: st.live, idle: st.idle }
    }

    pub fn add(&self, instance: Arc<Instance>) -> Result<()> {
        let mut st = self.lock();
        if st.shutdown {
            return Err(Error::new(Kind::Cancelled, "Neovim is exiting"));
        }
        st.instances.push(instance);
        Ok(())
    }

    pub fn instance(&self, id: u64) -> Option<Arc<Instance>> {
        self.lock().instances.iter().find(|i| i.id == id).cloned()
    }

    pub fn instances(&self) -> Vec<Arc<Instance>> {
        self.lock().instances.clone()
    }

    /// Puts an instance that just got work on the ready queue, starting a
    /// thread if none is free and the pool is not full.
    pub fn schedule(self: &Arc<Self>, instance: Arc<Instance>) -> Result<()> {
        let mut st = self.lock();
        if st.shutdown {
            return Err(Error::new(Kind::Cancelled, "Neovim is exiting"));
        }
        st.ready.push_back(instance);
        if st.idle < st.ready.len() && st.live < st.size {
            st.threads.retain(|t| !t.is_finished());
            let pool = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name("wasm_nvim-worker".into())
                .stack_size(8 << 20)
                .spawn(move || pool.run());
            match spawned {
                Ok(handle) => {
                    st.live += 1;
                    st.threads.push(handle);
                }
                // With no thread at all the job would never run.
                Err(e) if st.live == 0 => {
                    st.ready.pop_back();
                    return Err(Error::internal(format!("cannot start a worker thread: {e}")));
                }
                Err(_) => {}
            }
        }
        drop(st);
        self.wake.notify_one();
        Ok(())
    }

    /// A worker thread's loop.
    fn run(self: Arc<Self>) {
        while let Some(instance) = self.next() {
            // A panic in wasm_nvim's own code must not take the thread
            // (and the jobs behind it) down silently.
            match crate::panics::catch(|| instance.run_next()) {
                Ok(Ran::Job(finished)) => crate::job::events().emit(Event::Done(finished)),
                Ok(Ran::Idle) => {}
                Err(e) => self.fail_running(&instance, e),
            }
            let more = instance.reschedule();
            let mut st = self.lock();
            if more && !st.shutdown {
                st.ready.push_back(Arc::clone(&instance));
            } else if instance.finished_one_shot() || instance.is_closed() {
                st.instances.retain(|i| !Arc::ptr_eq(i, &instance));
            }
        }
    }

    /// A panic inside the host while running a job: the job fails with it
    /// (its instance is dropped), the thread goes on.
    fn fail_running(&self, instance: &Instance, e: Error) {
        if let Some(control) = instance.take_running() {
            control.set_status(crate::job::Status::Failed);
            crate::job::events().emit(Event::Done(Finished { control, result: Err(e), output: None }));
        }
    }

    /// The next instance with work, or `None` when the thread should exit.
    fn next(&self) -> Option<Arc<Instance>> {
        let mut st = self.lock();
        loop {
            if st.shutdown {
                st.live -= 1;
                return None;
            }
            if let Some(instance) = st.ready.pop_front() {
                return Some(instance);
            }
            st.idle += 1;
            let (guard, waited) = self.wake.wait_timeout(st, IDLE_EXIT).unwrap_or_else(|p| p.into_inner());
            st = guard;
            st.idle -= 1;
            if waited.timed_out() && st.ready.is_empty() {
                st.live -= 1;
                return None;
            }
        }
    }

    /// Closes the workers of the plugin loaded with `key` (it was reloaded
    /// or removed): their jobs end now, with an error saying why.
    pub fn release(&self, key: PluginKey, why: &str) {
        let closing: Vec<Arc<Instance>> = {
            let mut st = self.lock();
            let (gone, kept) = st.instances.drain(..).partition(|i| i.key == key);
            st.instances = kept;
            st.ready.retain(|i| i.key != key);
            gone
        };
        for instance in closing {
            self.close(&instance, Duration::ZERO, why);
        }
    }

    /// Closes one worker: its queued jobs end with a cancellation, its
    /// running job is interrupted after `grace`.
    pub fn close(&self, instance: &Instance, grace: Duration, why: &str) {
        for control in instance.close(grace, why) {
            let result = Err(control.cancelled_error().unwrap_or_else(|| Error::new(Kind::Cancelled, "cancelled")));
            crate::job::events().emit(Event::Done(Finished { control, result, output: None }));
        }
        self.lock().instances.retain(|i| i.id != instance.id);
    }

    /// At exit: every job is interrupted, and the threads are waited for
    /// up to `wait` (a job of a plugin without deadline checks,
    /// `timeout_ms = 0`, cannot be interrupted; its thread is left to end
    /// with the process).
    pub fn shutdown(&self, wait: Duration) -> usize {
        let instances = {
            let mut st = self.lock();
            st.shutdown = true;
            st.ready.clear();
            std::mem::take(&mut st.instances)
        };
        for instance in &instances {
            instance.close(Duration::ZERO, "Neovim is exiting");
        }
        self.wake.notify_all();
        let until = Instant::now() + wait;
        loop {
            let mut st = self.lock();
            if st.live == 0 || Instant::now() >= until {
                let threads = std::mem::take(&mut st.threads);
                let live = st.live;
                drop(st);
                for t in threads {
                    if t.is_finished() {
                        let _ = t.join();
                    }
                }
                return live;
            }
            drop(st);
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
