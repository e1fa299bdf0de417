//! Raw N-API callbacks for the machine-wide cache (astra_cache_core::machine): a segment
//! shared by every process of the machine. Values are stored in serialized storage's form
//! (serialized.rs: a tag byte then the payload), so strings and Buffers round-trip as the
//! same type and the thread's shared area receives the tag as for `sGet` (area.rs).
//!
//! Functions (errors carry the core's stable codes, e.g. ERR_CACHE_SEGMENT_MISMATCH):
//! - `mSupported()`: whether this platform can run one at all.
//! - `mOpen(dir, name, capacity, maxBytes, shards, mode, lockTimeoutMs)`: a handle;
//!   creates the segment `<dir>/astra-cache-<name>` unless it exists.
//! - `mGet(h, key)`, `mPeek(h, key)`: the value or undefined (its tag in the area).
//! - `mHas(h, key)`, `mRemove(h, key)`: booleans. `mSet(h, key, value, serialized, ttlMs)`:
//!   true if stored, false if key + value exceed a shard's region.
//! - `mCounters(h)`: into the thread's shared area, as the other engines' counters (hits,
//!   misses, evictions, expirations, sets, size, bytes, recoveries at their COUNTER_NAMES
//!   places). `mVerify(h)`: broken invariants (strings). `mKeys(h)` (tests).
//! - `mSegmentBytes(h)`, `mClear(h)`, `mClose(h)`, `mUnlink(dir, name)`.

use crate::area;
use crate::common::{self, string_arg};
use crate::raw::{args, boolean, call, double, error, f64_arg, string, array, type_error, u32_arg, undefined, Env, Export, Fail, Res, Value};
use crate::text as key;
use crate::values::{make as make_value, read as read_value};
use astra_cache_core::machine::{self, MachineCache, MachineError, MachineOptions, SetOutcome};
use napi::sys;
use std::sync::{Arc, Mutex};

type Info = sys::napi_callback_info;

/// Open caches by handle (index + 1); a closed one leaves None.
static OPEN: Mutex<Vec<Option<Arc<MachineCache>>>> = Mutex::new(Vec::new());

fn fail(e: MachineError) -> Fail {
    error(e.code(), format!("astra-cache: {e}"))
}

fn cache(env: Env, h: Value) -> Res<Arc<MachineCache>> {
    let handle = u32_arg(env, h, "handle")? as usize;
    let open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    match handle.checked_sub(1).and_then(|i| open.get(i)) {
        Some(Some(c)) => Ok(c.clone()),
        _ => Err(error("ERR_ASTRA_NATIVE_HANDLE", format!("astra-cache native: machine cache handle {handle} is closed or unknown"))),
    }
}

/// A JS array of strings.
fn string_array(env: Env, strings: impl Iterator<Item = Vec<u16>>) -> Res<Value> {
    let values = strings.map(|units| string(env, &units)).collect::<Res<Vec<_>>>()?;
    array(env, &values)
}

fn int_arg(env: Env, v: Value, what: &str, max: f64) -> Res<f64> {
    let n = f64_arg(env, v, what)?;
    if !(n >= 0.0 && n <= max && n.fract() == 0.0) {
        return Err(type_error(format!("astra-cache native: {what} must be an integer from 0 to {max}, got {n}")));
    }
    Ok(n)
}

unsafe extern "C" fn m_supported(env: Env, _info: Info) -> Value {
    call(env, || boolean(env, cfg!(target_os = "linux")))
}

unsafe extern "C" fn m_open(env: Env, info: Info) -> Value {
    call(env, || {
        let [d, n, c, b, s, m, t] = args::<7>(env, info)?;
        let capacity = int_arg(env, c, "capacity", astra_cache_core::MAX_CAPACITY as f64)?;
        let shards = int_arg(env, s, "shards", 1024.0)?;
        if capacity < 1.0 || shards < 1.0 {
            return Err(type_error("astra-cache native: capacity and shards must be at least 1"));
        }
        let options = MachineOptions {
            dir: string_arg(env, d)?.into(),
            name: string_arg(env, n)?,
            capacity: capacity as u32,
            shards: shards as u32,
            max_bytes: int_arg(env, b, "maxBytes", 2f64.powi(40))? as u64,
            mode: int_arg(env, m, "mode", 0o777 as f64)? as u32,
            lock_timeout_ms: int_arg(env, t, "lockTimeoutMs", 3.6e6)? as u64,
        };
        let cache = MachineCache::open(&options).map_err(fail)?;
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        open.push(Some(Arc::new(cache)));
        double(env, open.len() as f64)
    })
}

unsafe extern "C" fn m_close(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let handle = u32_arg(env, h, "handle")? as usize;
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = handle.checked_sub(1).and_then(|i| open.get_mut(i)) {
            *slot = None; // unmapped when the last in-flight call drops its Arc
        }
        undefined(env)
    })
}

fn read_op(env: Env, info: Info, count: bool) -> Res<Value> {
    let [h, k] = args::<2>(env, info)?;
    let c = cache(env, h)?;
    let make = |_flags: u32, v: &[u8]| make_value(env, v);
    let found = key::with_key(env, k, |key| if count { c.get(key, make) } else { c.peek_at(key, machine::now_ms(), make) })?.map_err(fail)?;
    match found.transpose()? {
        Some((value, tag)) => {
            area::with(|a| a.set_tag(tag));
            Ok(value)
        }
        None => undefined(env),
    }
}

unsafe extern "C" fn m_get(env: Env, info: Info) -> Value {
    call(env, || read_op(env, info, true))
}

unsafe extern "C" fn m_peek(env: Env, info: Info) -> Value {
    call(env, || read_op(env, info, false))
}

unsafe extern "C" fn m_has(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k] = args::<2>(env, info)?;
        let c = cache(env, h)?;
        let found = key::with_key(env, k, |key| c.peek_at(key, machine::now_ms(), |_, _| ()))?.map_err(fail)?;
        boolean(env, found.is_some())
    })
}

unsafe extern "C" fn m_set(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, v, ser, ttl] = args::<5>(env, info)?;
        let c = cache(env, h)?;
        let serialized = u32_arg(env, ser, "serialized")? != 0;
        let ttl_ms = f64_arg(env, ttl, "ttlMs")?;
        let ttl_ms = if ttl_ms.is_finite() && ttl_ms > 0.0 { ttl_ms.ceil() as u64 } else { 0 };
        // Read (and copy) the value before taking any lock.
        let value = read_value(env, v, serialized)?;
        let outcome = key::with_key(env, k, |key| c.set_at(key, 0, &value, ttl_ms, machine::now_ms()))?.map_err(fail)?;
        boolean(env, outcome == SetOutcome::Stored)
    })
}

unsafe extern "C" fn m_remove(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k] = args::<2>(env, info)?;
        let c = cache(env, h)?;
        let removed = key::with_key(env, k, |key| c.delete_at(key, machine::now_ms()))?.map_err(fail)?;
        boolean(env, removed)
    })
}

unsafe extern "C" fn m_clear(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        cache(env, h)?.clear().map_err(fail)?;
        undefined(env)
    })
}

unsafe extern "C" fn m_counters(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let n = cache(env, h)?.counters().map_err(fail)?;
        // COUNTER_NAMES order; no arena here (arenaBytes, fragmentation: 0).
        let values = [n.hits, n.misses, n.evictions, n.expirations, n.sets, n.size, n.bytes, 0, 0, n.recoveries].map(|x| x as f64);
        const _: () = assert!(crate::layout::COUNTER_NAMES.len() == 10);
        area::with(|a| a.set_counters(&values));
        undefined(env)
    })
}

unsafe extern "C" fn m_verify(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let problems = cache(env, h)?.verify().map_err(fail)?;
        string_array(env, problems.iter().map(|p| p.encode_utf16().collect()))
    })
}

unsafe extern "C" fn m_keys(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let keys = cache(env, h)?.keys().map_err(fail)?;
        string_array(env, keys.iter().map(|k| key::decode(k)))
    })
}

unsafe extern "C" fn m_segment_bytes(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        double(env, cache(env, h)?.segment_bytes() as f64)
    })
}

/// `mIdentity(handle)`: the segment's identity (path and its creation's random seed), equal
/// for every attachment of the same segment; a segment removed and made again differs.
unsafe extern "C" fn m_identity(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let c = cache(env, h)?;
        string(env, &format!("machine#{}#{:016x}", c.path(), c.seed()).encode_utf16().collect::<Vec<u16>>())
    })
}

/// `mWatch(handle, op, topic, leaseMs)`: watcher leases (crates/core/src/machine/watch.rs).
/// op 1 starts watching `topic` and answers how many other live watchers vouch for the
/// segment; 2 renews the lease; 0 stops watching. Answers 0 for 2 and 0.
unsafe extern "C" fn m_watch(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, o, t, l] = args::<4>(env, info)?;
        let (op, lease) = common::watch_args(env, o, l)?;
        let topic = string_arg(env, t)?;
        double(env, f64::from(cache(env, h)?.watch(op, topic.as_bytes(), lease)))
    })
}

unsafe extern "C" fn m_unlink(env: Env, info: Info) -> Value {
    call(env, || {
        let [d, n] = args::<2>(env, info)?;
        let dir: std::path::PathBuf = string_arg(env, d)?.into();
        boolean(env, machine::unlink(&dir, &string_arg(env, n)?).map_err(fail)?)
    })
}

/// (name, callback) pairs for lib.rs's registration.
pub const FUNCTIONS: &[Export] = &[
    ("mSupported", Some(m_supported)),
    ("mOpen", Some(m_open)),
    ("mClose", Some(m_close)),
    ("mGet", Some(m_get)),
    ("mPeek", Some(m_peek)),
    ("mHas", Some(m_has)),
    ("mSet", Some(m_set)),
    ("mRemove", Some(m_remove)),
    ("mClear", Some(m_clear)),
    ("mCounters", Some(m_counters)),
    ("mVerify", Some(m_verify)),
    ("mKeys", Some(m_keys)),
    ("mSegmentBytes", Some(m_segment_bytes)),
    ("mUnlink", Some(m_unlink)),
    ("mIdentity", Some(m_identity)),
    ("mWatch", Some(m_watch)),
];
