//! Serialized storage (`storage: 'serialized'` and `shared()`): values live in Rust memory
//! as bytes (values.rs), so the JS heap holds nothing per entry.
//!
//! Functions (handles as in handles.rs; every keyed call reads `now` from the area, clock.rs):
//! - `sCreate(capacity, maxBytes, policy?, seed?, flags?)`: a private cache (this thread's
//!   alone: no lock). `policy`, `seed` and `flags` as reference.rs's
//!   `create`; `maxBytes` 0 = no byte budget.
//! - `sOpen(name, capacity, maxBytes, shards, defaultTtlMs, policy?, seed?, flags?)`: the
//!   shared cache `name`, every shard under `policy` (an existing cache must have been
//!   opened with the same options; its seed is kept). `flags` is this handle's.
//! - `sPolicy(h)`: the policy code the cache runs.
//! - `sGet(h, key)`: the value (string or Buffer) or undefined; on a hit the area's
//!   tag word receives the value's tag. `sPeek` is the same without counting.
//! - `sHas(h, key)`, `sRemove(h, key)`: booleans.
//! - `sSet(h, key, value, serialized, ttlMs)`: value a string or Uint8Array; true if
//!   kept (false: larger than the byte budget, or its pages exhausted).
//!
//! With a hook (FLAG_REPORT), every call sets the area's status word to the number of
//! removals it kept for takeRemovals() (values included).

use crate::area;
use crate::clock::{when, When};
use crate::handles::{self, Cache};
use crate::layout::FLAG_REPORT;
use crate::named::{self, Stored};
use crate::raw::{args, boolean, call, double, f64_arg, optional_u32, string, type_error, u32_arg, undefined, Env, Export, Res, Value};
use crate::removals::SerializedSink;
use crate::common::{self, string_arg};
use crate::{text, values};
use astra_cache_core::{Delete, Get, Lru, OnRemove, PolicyKind};
use napi::sys;

type Info = sys::napi_callback_info;

/// Most shards a shared cache may have.
const MAX_SHARDS: u32 = 1024;

fn max_bytes_arg(env: Env, v: Value) -> Res<u64> {
    let b = f64_arg(env, v, "maxBytes")?;
    if !(b >= 0.0 && b <= 2f64.powi(53) && b.fract() == 0.0) {
        return Err(type_error(format!("astra-cache native: maxBytes must be an integer >= 0 (0 = no limit), got {b}")));
    }
    Ok(b as u64)
}

fn report_arg(env: Env, v: Value) -> Res<bool> {
    Ok(optional_u32(env, v, "flags")? & FLAG_REPORT != 0)
}

/// The binding's code of a policy (inverse of `PolicyKind::from_code`).
fn policy_code(kind: PolicyKind) -> u32 {
    match kind {
        PolicyKind::Lru => 0,
        PolicyKind::S3Fifo => 1,
        PolicyKind::TinyLfu => 2,
        PolicyKind::TinyLfuFixed => 3,
    }
}

/// Runs `f` on the serialized cache behind `handle` and whether it reports removals.
#[inline(always)]
fn with_store<R>(env: Env, h: Value, f: impl FnOnce(&mut Stored, bool) -> Res<R>) -> Res<R> {
    let handle = u32_arg(env, h, "handle")?;
    handles::with(handle, |c| match c {
        Cache::Serialized { store, report } => f(store, *report),
        Cache::Reference { .. } => Err(handles::wrong_storage(handle, "serialized")),
    })?
}

/// Runs `op` with the sink the handle asks for: nothing, or one keeping every removal.
#[inline(always)]
fn reporting<R>(report: bool, op: impl FnOnce(&mut dyn OnRemove) -> R) -> R {
    if report {
        let mut sink = SerializedSink::start();
        let r = op(&mut sink);
        area::with(|a| sink.finish(a));
        r
    } else {
        op(&mut ())
    }
}

unsafe extern "C" fn s_create(env: Env, info: Info) -> Value {
    call(env, || {
        let [c, b, p, sd, f] = args::<5>(env, info)?;
        let (kind, seed) = common::policy_args(env, p, sd)?;
        let lru = Lru::with_budget(common::capacity_arg(env, c)?, max_bytes_arg(env, b)?, kind, seed);
        let handle = handles::open(Cache::Serialized { store: Stored::Own(Box::new(lru)), report: report_arg(env, f)? })?;
        double(env, handle as f64)
    })
}

unsafe extern "C" fn s_open(env: Env, info: Info) -> Value {
    call(env, || {
        let [n, c, b, s, t, p, sd, f] = args::<8>(env, info)?;
        let capacity = common::capacity_arg(env, c)?;
        let max_bytes = max_bytes_arg(env, b)?;
        let shards = f64_arg(env, s, "shards")?;
        if !(shards >= 1.0 && shards <= MAX_SHARDS as f64 && shards.fract() == 0.0) {
            return Err(type_error(format!("astra-cache native: shards must be an integer from 1 to {MAX_SHARDS}, got {shards}")));
        }
        let ttl = f64_arg(env, t, "defaultTtlMs")?;
        let (kind, seed) = common::policy_args(env, p, sd)?;
        let report = report_arg(env, f)?;
        let name = String::from_utf16_lossy(&text::with_units(env, n, text::MAX_KEY_UNITS, "name", <[u16]>::to_vec)?);
        let store = named::open(&name, capacity, max_bytes, shards as u32, ttl, kind, seed)?;
        double(env, handles::open(Cache::Serialized { store, report })? as f64)
    })
}

fn get_op(env: Env, info: Info, count: bool) -> Res<Value> {
    let [h, k] = args::<2>(env, info)?;
    let mut now: When = when();
    // The JS value is made from the stored bytes in place (under a shared cache's lock).
    let found = with_store(env, h, |store, report| {
        text::with_key(env, k, |key| {
            store.with(key, |lru| {
                let slot = if count {
                    reporting(report, |on| match lru.get_with(key, &mut now, &mut &mut *on) {
                        Get::Hit(slot) => Some(slot),
                        _ => None,
                    })
                } else {
                    lru.peek(key, &mut now)
                };
                slot.map(|s| values::make(env, lru.value(s))).transpose()
            })
        })?
    })?;
    match found {
        Some((value, tag)) => {
            area::with(|a| a.set_tag(tag));
            Ok(value)
        }
        None => undefined(env),
    }
}

unsafe extern "C" fn s_get(env: Env, info: Info) -> Value {
    call(env, || get_op(env, info, true))
}

unsafe extern "C" fn s_peek(env: Env, info: Info) -> Value {
    call(env, || get_op(env, info, false))
}

unsafe extern "C" fn s_has(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k] = args::<2>(env, info)?;
        let mut now = when();
        let found = with_store(env, h, |store, _| text::with_key(env, k, |key| store.with(key, |lru| lru.peek(key, &mut now).is_some())))?;
        boolean(env, found)
    })
}

unsafe extern "C" fn s_set(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, v, ser, ttl] = args::<5>(env, info)?;
        let serialized = u32_arg(env, ser, "serialized")? != 0;
        let ttl_ms = common::ttl_arg(env, ttl)?;
        let mut now = when();
        // Read (and copy) the value before taking any lock.
        let value = values::read(env, v, serialized)?;
        let kept = with_store(env, h, |store, report| {
            text::with_key(env, k, |key| store.with(key, |lru| reporting(report, |on| lru.set_with(key, &value, ttl_ms, &mut now, &mut &mut *on).is_some())))
        })?;
        boolean(env, kept)
    })
}

unsafe extern "C" fn s_remove(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k] = args::<2>(env, info)?;
        let mut now = when();
        let removed = with_store(env, h, |store, report| {
            text::with_key(env, k, |key| store.with(key, |lru| reporting(report, |on| matches!(lru.delete_with(key, &mut now, &mut &mut *on), Delete::Removed(_)))))
        })?;
        boolean(env, removed)
    })
}

unsafe extern "C" fn s_policy(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let kind = with_store(env, h, |store, _| Ok(store.policy()))?;
        double(env, policy_code(kind) as f64)
    })
}

/// `sWatch(handle, op, topic, leaseMs)`: a shared cache's watcher leases, as machine.rs's
/// mWatch (op 1 answers how many other live watchers of `topic` vouch for it); undefined for
/// a cache of the thread's own.
unsafe extern "C" fn s_watch(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, o, t, l] = args::<4>(env, info)?;
        let (op, lease) = common::watch_args(env, o, l)?;
        let topic = string_arg(env, t)?;
        match with_store(env, h, |store, _| Ok(store.watch(op, topic.as_bytes(), lease)))? {
            Some(n) => double(env, f64::from(n)),
            None => undefined(env),
        }
    })
}

/// `sIdentity(handle)`: a shared cache's identity ("process#<serial>"), equal for every handle
/// of the same cache in any thread; undefined for a cache of the thread's own.
unsafe extern "C" fn s_identity(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let serial = with_store(env, h, |store, _| Ok(if let Stored::Shared(s, _) = store { Some(s.serial) } else { None }))?;
        match serial {
            Some(n) => string(env, &format!("process#{n}").encode_utf16().collect::<Vec<u16>>()),
            None => undefined(env),
        }
    })
}

pub const FUNCTIONS: &[Export] = &[
    ("sIdentity", Some(s_identity)),
    ("sWatch", Some(s_watch)),
    ("sCreate", Some(s_create)),
    ("sOpen", Some(s_open)),
    ("sGet", Some(s_get)),
    ("sPeek", Some(s_peek)),
    ("sHas", Some(s_has)),
    ("sSet", Some(s_set)),
    ("sRemove", Some(s_remove)),
    ("sPolicy", Some(s_policy)),
];
