//! Functions on any cache handle, whatever its storage, and the argument checks shared by
//! the storages.
//!
//! - `close(h)`, `size(h)`, `clear(h)` (with a hook, every entry is kept for
//!   takeRemovals(), in the policy's order, and the status word counts them);
//! - `counters(h)`: writes the area's counters (layout.rs COUNTER_NAMES);
//! - `area()`: this thread's shared area as an ArrayBuffer; `layout()`: every constant of
//!   layout.rs, by name (src/native.ts checks them against its own copy at load).

use crate::area;
use crate::handles::{self, Cache};
use crate::layout;
use crate::raw::{args, call, double, f64_arg, object_of_numbers, optional_u32, type_error, u32_arg, undefined, Env, Export, Res, Value};
use crate::removals::{ReferenceSink, SerializedSink};
use crate::text;
use astra_cache_core::machine::WatchOp;
use astra_cache_core::shared::Totals;
use astra_cache_core::{PolicyKind, MAX_CAPACITY};
use napi::sys;

type Info = sys::napi_callback_info;

pub fn capacity_arg(env: Env, v: Value) -> Res<u32> {
    let capacity = f64_arg(env, v, "capacity")?;
    if !(capacity >= 1.0 && capacity <= MAX_CAPACITY as f64 && capacity.fract() == 0.0) {
        return Err(type_error(format!("astra-cache native: capacity must be an integer from 1 to {MAX_CAPACITY}, got {capacity}")));
    }
    Ok(capacity as u32)
}

pub fn ttl_arg(env: Env, v: Value) -> Res<f64> {
    let ttl = f64_arg(env, v, "ttlMs")?;
    if ttl.is_nan() || ttl < 0.0 {
        return Err(type_error(format!("astra-cache native: ttlMs must be a number >= 0, got {ttl}")));
    }
    Ok(ttl)
}

/// The optional policy code (0 lru, 1 s3fifo, 2 tinylfu, 3 tinylfu with a fixed window;
/// default 0) and seed (u32, default 0) arguments.
pub fn policy_args(env: Env, p: Value, s: Value) -> Res<(PolicyKind, u32)> {
    let code = optional_u32(env, p, "policy")?;
    let kind = PolicyKind::from_code(code).ok_or_else(|| type_error(format!("astra-cache native: policy must be 0, 1, 2 or 3, got {code}")))?;
    Ok((kind, optional_u32(env, s, "seed")?))
}

/// A string argument (a name, a path, a topic), decoded from its UTF-16 units.
pub fn string_arg(env: Env, v: Value) -> Res<String> {
    Ok(String::from_utf16_lossy(&text::with_key(env, v, text::decode)?))
}

/// The `op` and `leaseMs` arguments of mWatch and sWatch (crates/core/src/machine/watch.rs):
/// op 0 stops watching, 1 starts, 2 renews the lease.
pub fn watch_args(env: Env, o: Value, l: Value) -> Res<(WatchOp, u64)> {
    let op = match u32_arg(env, o, "op")? {
        0 => WatchOp::Stop,
        1 => WatchOp::Start,
        2 => WatchOp::Beat,
        n => return Err(type_error(format!("astra-cache native: watch op must be 0, 1 or 2, got {n}"))),
    };
    let lease = f64_arg(env, l, "leaseMs")?;
    if !(lease >= 1.0 && lease.is_finite()) {
        return Err(type_error(format!("astra-cache native: leaseMs must be at least 1, got {lease}")));
    }
    Ok((op, lease as u64))
}

fn handle_arg(env: Env, info: Info) -> Res<u32> {
    let [h] = args::<1>(env, info)?;
    u32_arg(env, h, "handle")
}

unsafe extern "C" fn close(env: Env, info: Info) -> Value {
    call(env, || {
        let cache = handles::close(handle_arg(env, info)?)?;
        drop(cache);
        undefined(env)
    })
}

unsafe extern "C" fn size(env: Env, info: Info) -> Value {
    call(env, || {
        let n = handles::with(handle_arg(env, info)?, |c| match c {
            Cache::Reference { lru, .. } => lru.len() as f64,
            Cache::Serialized { store, .. } => store.totals().len as f64,
        })?;
        double(env, n)
    })
}

unsafe extern "C" fn clear(env: Env, info: Info) -> Value {
    call(env, || {
        let handle = handle_arg(env, info)?;
        area::with(|a| {
            handles::with(handle, |c| match c {
                Cache::Reference { lru, report: false } => lru.clear(),
                Cache::Reference { lru, report: true } => {
                    let mut sink = ReferenceSink::new(true);
                    lru.clear_with(&mut sink);
                    sink.finish(a, layout::MISS);
                }
                Cache::Serialized { store, report: false } => store.clear(&mut ()),
                Cache::Serialized { store, report: true } => {
                    let mut sink = SerializedSink::start();
                    store.clear(&mut sink);
                    sink.finish(a);
                }
            })
        })?;
        undefined(env)
    })
}

unsafe extern "C" fn counters(env: Env, info: Info) -> Value {
    call(env, || {
        let values = handles::with(handle_arg(env, info)?, |c| match c {
            Cache::Reference { lru, .. } => Totals::of(lru),
            Cache::Serialized { store, .. } => store.totals(),
        })?;
        let n = values.counters;
        let values = [n.hits as f64, n.misses as f64, n.evictions as f64, n.expirations as f64, n.sets as f64, values.len as f64, values.bytes as f64, values.arena_bytes as f64, values.fragmentation];
        area::with(|a| a.set_counters(&values));
        undefined(env)
    })
}

unsafe extern "C" fn area_buffer(env: Env, info: Info) -> Value {
    call(env, || {
        let [] = args::<0>(env, info)?;
        area::buffer(env)
    })
}

unsafe extern "C" fn layout_object(env: Env, info: Info) -> Value {
    call(env, || {
        let [] = args::<0>(env, info)?;
        object_of_numbers(env, &layout::constants())
    })
}

pub const FUNCTIONS: &[Export] = &[
    ("close", Some(close)),
    ("size", Some(size)),
    ("clear", Some(clear)),
    ("counters", Some(counters)),
    ("area", Some(area_buffer)),
    ("layout", Some(layout_object)),
];
