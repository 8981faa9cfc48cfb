//! The Lua side of workers: the raw functions `workers.lua` builds the
//! public API on (`worker()`, `spawn()`, `jobs()`), on the editor's thread.
//! Arguments are encoded and results decoded here, so the worker threads
//! only ever see bytes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mlua::{Function, Lua, MultiValue, Table, Value};

use crate::codec::Format;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::job::{Control, Event, Queued, Status};
use crate::lifecycle;
use crate::limits::Limits;
use crate::shape::{Abi, Shape};
use crate::workers::instance::Instance;

/// How long an owner's `cancel()` lets a job stop by itself.
const OWNER_GRACE: Duration = crate::job::CANCEL_GRACE;

/// How long exit waits for the threads.
const EXIT_WAIT: Duration = Duration::from_secs(2);

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

struct Live {
    control: Arc<Control>,
    abi: Abi,
}

thread_local! {
    /// Jobs whose result has not reached Lua yet.
    static LIVE: RefCell<HashMap<u64, Live>> = RefCell::new(HashMap::new());
}

/// Adds `worker`, `spawn` and `jobs` to the module table.
pub fn install(rt: &'static Host, lua: &Lua, module: &Table) -> Result<()> {
    let raw = lua.create_table()?;
    let pair = |lua: &Lua, r: Result<Value>| -> mlua::Result<(bool, Value)> {
        match r {
            Ok(v) => Ok((true, v)),
            Err(e) => Ok((false, Value::String(lua.create_string(format!("wasm_nvim: {e}"))?))),
        }
    };
    raw.set(
        "open",
        lua.create_function(move |lua, (name, one_shot): (String, bool)| {
            let r = crate::panics::catch(|| open(rt, lua, &name, one_shot)).and_then(|r| r);
            pair(lua, r.map(|id| Value::Number(id as f64)))
        })?,
    )?;
    raw.set(
        "submit",
        lua.create_function(move |lua, args: MultiValue| {
            let r = crate::panics::catch(|| submit(rt, args.as_slices().0)).and_then(|r| r);
            pair(lua, r.map(|id| Value::Number(id as f64)))
        })?,
    )?;
    raw.set(
        "cancel",
        lua.create_function(|_, id: u64| {
            LIVE.with_borrow(|live| {
                if let Some(job) = live.get(&id) {
                    job.control.cancel(OWNER_GRACE, "cancelled by its owner");
                }
            });
            Ok(())
        })?,
    )?;
    raw.set(
        "close",
        lua.create_function(|_, id: u64| {
            if let Some(pool) = crate::workers::pool_if_running()
                && let Some(instance) = pool.instance(id)
            {
                pool.close(&instance, OWNER_GRACE, "the worker was closed");
            }
            Ok(())
        })?,
    )?;
    raw.set(
        "status",
        lua.create_function(|_, id: u64| {
            Ok(LIVE.with_borrow(|live| live.get(&id).map(|j| j.control.status().as_str())))
        })?,
    )?;
    raw.set("pending", lua.create_function(|_, ()| Ok(crate::job::events().waiting()))?)?;
    raw.set("poll", lua.create_function(move |lua, ()| poll(rt, lua))?)?;
    raw.set("info", lua.create_function(|lua, ()| info(lua))?)?;
    raw.set(
        "shutdown",
        lua.create_function(|_, ()| Ok(crate::workers::pool_if_running().map_or(0, |pool| pool.shutdown(EXIT_WAIT))))?,
    )?;
    let chunk: Function = lua.load(include_str!("workers.lua")).set_name("=wasm_nvim/workers.lua").into_function()?;
    let api: Table = chunk.call(raw)?;
    for name in ["worker", "spawn", "jobs"] {
        module.set(name, api.get::<Value>(name)?)?;
    }
    Ok(())
}

/// Opens a worker of plugin `name` (loading the plugin if needed).
fn open(rt: &'static Host, lua: &Lua, name: &str, one_shot: bool) -> Result<u64> {
    if !rt.is_set_up() {
        lifecycle::setup(rt, lua, Value::Nil)?;
    }
    if lifecycle::load(rt, lua, name)?.is_none() {
        return Err(Error::load(format!("no plugin named '{name}'")));
    }
    let plugin = crate::registry::plugin(name).ok_or_else(|| Error::load(format!("plugin '{name}' is not loaded")))?;
    let config = rt.setup().options.workers.clone();
    let mut limits = Limits::clone(&plugin.limits);
    if let Some(mb) = config.memory_mb {
        limits.memory = usize::try_from(mb).unwrap_or(usize::MAX).saturating_mul(1 << 20);
    }
    let pool = crate::workers::pool(config.threads(), || rt.nvim.api.iter().map(|f| f.name.clone()).collect());
    let id = next_id();
    let instance =
        Instance::new(id, plugin.name.clone(), plugin.key, plugin.instance_pre()?, Arc::new(limits), one_shot);
    pool.add(Arc::new(instance))?;
    Ok(id)
}

/// `submit(worker, function, timeout_ms, args...)`: encodes the arguments
/// and queues the job.
fn submit(rt: &'static Host, args: &[Value]) -> Result<u64> {
    let (worker, function, timeout) = match args {
        [Value::Integer(w), Value::String(f), timeout, ..] => (*w as u64, f.to_string_lossy(), timeout),
        [Value::Number(w), Value::String(f), timeout, ..] => (*w as u64, f.to_string_lossy(), timeout),
        _ => return Err(Error::internal("submit(worker, function, timeout_ms, ...)")),
    };
    let call_args = &args[3..];
    let pool = crate::workers::pool_if_running().ok_or_else(|| Error::internal("no worker pool"))?;
    let instance = pool.instance(worker).ok_or_else(|| {
        Error::new(crate::error::Kind::Cancelled, "the worker is closed (or its plugin was reloaded)")
    })?;
    let plugin = crate::registry::by_key(instance.key).ok_or_else(|| {
        Error::new(
            crate::error::Kind::Cancelled,
            format!("plugin '{}' was reloaded: open a new worker", instance.plugin),
        )
    })?;
    let context = |e: Error| e.context(format!("{}.{function} (job)", plugin.name));
    let target = plugin.target(&function).map_err(context)?;
    let spec = plugin.spec(&target).cloned().ok_or_else(|| Error::internal("unknown function"))?;
    let bytes = match &spec.shape {
        Shape::Raw { .. } => {
            return Err(context(Error::abi(
                "a raw function cannot run as a job (it takes plain numbers; call it directly)",
            )));
        }
        Shape::Seed { takes_arg: false, .. } => Vec::new(),
        Shape::Seed { .. } => rt
            .nvim
            .codec
            .encode(&rt.nvim.lua, Format::Json, call_args.first().unwrap_or(&Value::Nil))
            .map_err(|e| context(e.context("argument")))?,
        Shape::Msgpack => {
            let mut bytes = Vec::new();
            if !call_args.is_empty() {
                bytes = rt
                    .nvim
                    .codec
                    .encode_array(&rt.nvim.lua, Format::Msgpack, call_args)
                    .map_err(|e| context(e.context("argument")))?;
            }
            bytes
        }
    };
    let timeout = match timeout {
        Value::Integer(0) => None,
        Value::Integer(ms) if *ms > 0 => Some(Duration::from_millis(*ms as u64)),
        Value::Number(ms) if *ms >= 1.0 => Some(Duration::from_millis(*ms as u64)),
        _ => rt.setup().options.workers.job_timeout(),
    };
    let id = next_id();
    let control = Arc::new(Control::new(id, plugin.name.clone(), spec, rt.nvim.version.packed()));
    let first = instance.push(Queued { control: control.clone(), args: bytes, timeout }).map_err(context)?;
    LIVE.with_borrow_mut(|live| live.insert(id, Live { control, abi: plugin.abi }));
    if first && let Err(e) = pool.schedule(instance) {
        LIVE.with_borrow_mut(|live| live.remove(&id));
        return Err(context(e));
    }
    Ok(id)
}

/// The events since the last poll, as `{ id, done, ok, value | err }` and
/// `{ id, progress }` tables, decoded on the editor's thread.
fn poll(rt: &'static Host, lua: &Lua) -> mlua::Result<Table> {
    let out = lua.create_table()?;
    for event in crate::job::events().take() {
        let t = lua.create_table()?;
        match event {
            Event::Progress(control) => {
                let Some(bytes) = control.take_progress() else { continue };
                let abi = LIVE.with_borrow(|live| live.get(&control.id).map(|j| j.abi));
                if abi.is_none() || control.is_cancelled() {
                    continue;
                }
                t.set("id", control.id)?;
                match rt.nvim.codec.decode(lua, Format::Msgpack, &bytes) {
                    Ok(value) => t.set("progress", value)?,
                    Err(_) => continue, // an undecodable report is dropped; the result will say more
                }
            }
            Event::Done(finished) => {
                let control = finished.control;
                let abi = LIVE.with_borrow_mut(|live| live.remove(&control.id)).map_or(Abi::Msgpack, |j| j.abi);
                rt.show_output(finished.output);
                t.set("id", control.id)?;
                t.set("done", true)?;
                t.set("status", control.status().as_str())?;
                let name = format!("{}.{}", control.plugin, control.function.name);
                let decoded = finished.result.and_then(|bytes| match bytes {
                    None => Ok(Value::Nil),
                    Some(bytes) => match abi {
                        Abi::Seed => rt.nvim.codec.decode(lua, Format::Json, &bytes),
                        Abi::Msgpack => rt.nvim.codec.decode(lua, Format::Msgpack, &bytes),
                    }
                    .map_err(|e| e.context("result")),
                });
                match decoded {
                    Ok(value) => {
                        t.set("ok", true)?;
                        t.set("value", value)?;
                    }
                    Err(e) => {
                        let message = format!("wasm_nvim: {name} (job {}): {e}", control.id);
                        if control.status() != Status::Cancelled {
                            rt.journal(&control.plugin, &format!("{} (job)", control.function.name), &e.to_string());
                        }
                        t.set("ok", false)?;
                        t.set("err", message)?;
                    }
                }
            }
        }
        out.raw_push(t)?;
    }
    Ok(out)
}

/// `jobs()`: the pool's threads and every worker with its jobs.
fn info(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let workers = lua.create_table()?;
    let Some(pool) = crate::workers::pool_if_running() else {
        t.set(
            "threads",
            lua.create_table_from([("size", crate::workers::pool::default_size()), ("live", 0), ("idle", 0)])?,
        )?;
        t.set("workers", workers)?;
        return Ok(t);
    };
    let threads = pool.threads();
    t.set("threads", lua.create_table_from([("size", threads.size), ("live", threads.live), ("idle", threads.idle)])?)?;
    for instance in pool.instances() {
        let s = instance.snapshot();
        let w = lua.create_table()?;
        w.set("id", s.id)?;
        w.set("plugin", s.plugin)?;
        w.set("queued", s.queued)?;
        w.set("memory", s.memory)?;
        w.set("instantiations", s.instantiations)?;
        w.set("one_shot", s.one_shot)?;
        if let Some((id, function, ms)) = s.running {
            let r = lua.create_table()?;
            r.set("id", id)?;
            r.set("function", function)?;
            r.set("ms", ms)?;
            w.set("running", r)?;
        }
        workers.raw_push(w)?;
    }
    t.set("workers", workers)?;
    Ok(t)
}
