//! Reference storage: Rust holds keys, order, deadlines and counters; JS holds the values
//! in an array indexed by the slots returned here (`src/memory/native-engine.ts`).
//!
//! Functions (results in `layout.rs`; every keyed call reads `now` from the area, clock.rs):
//! - `create(capacity, policy, seed, flags)`: a handle. `policy` 0 lru, 1 s3fifo,
//!   2 tinylfu, 3 tinylfu with a fixed window; `seed` the u32 seed of the policy's key hash;
//!   `flags` FLAG_REPORT when JS has an onRemove hook.
//! - `get(h, key)`: the slot of a hit (now most recently used); MISS; or
//!   `EXPIRED_BASE - slot` when the entry had expired and was removed from `slot` (JS has
//!   its key and value: nothing else is reported, hook or not).
//! - `peek(h, key)`: the slot of a live entry, else MISS; counts and moves nothing.
//! - `set(h, key, ttlMs)`: the slot now holding the key (MISS: not kept, see the
//!   core's `set_with`). The area's status word then says how many removals to read: log
//!   pairs (slot, reason) of slots other than the returned one without a hook, or
//!   takeRemovals() entries with one.
//! - `remove(h, key)`: the slot of a live entry removed, MISS, or
//!   `EXPIRED_BASE - slot` for an expired one.
//! - `getMany(h, keys, n)`: `keys` is the batch's keys joined into one string, and
//!   area `ends[i]` where key i ends (UTF-16 units); `out[i]` is what `get` would return.

use crate::area::{self, Area};
use crate::clock::{when, When};
use crate::handles::{self, Cache};
use crate::layout::{BATCH, EXPIRED_BASE, FLAG_REPORT, MISS};
use crate::raw::{args, call, int, type_error, u32_arg, undefined, Env, Export, Res, Value};
use crate::removals::ReferenceSink;
use crate::{common, text};
use astra_cache_core::{Delete, Get, Lru};
use napi::sys;

type Info = sys::napi_callback_info;

/// Most UTF-16 units one batch string may hold (BATCH keys of the cache's 4096-unit limit).
const MAX_BATCH_UNITS: usize = BATCH * 4096;

#[inline(always)]
fn reference(handle: u32, c: &mut Cache) -> Res<(&mut Lru, bool)> {
    match c {
        Cache::Reference { lru, report } => Ok((lru, *report)),
        Cache::Serialized { .. } => Err(handles::wrong_storage(handle, "reference")),
    }
}

#[inline(always)]
fn get_code(g: Get) -> i32 {
    match g {
        Get::Hit(slot) => slot as i32,
        Get::Miss => MISS,
        Get::Expired(slot) => EXPIRED_BASE - slot as i32,
    }
}

unsafe extern "C" fn create(env: Env, info: Info) -> Value {
    call(env, || {
        let [c, p, s, f] = args::<4>(env, info)?;
        let capacity = common::capacity_arg(env, c)?;
        let (kind, seed) = common::policy_args(env, p, s)?;
        let report = crate::raw::optional_u32(env, f, "flags")? & FLAG_REPORT != 0;
        let handle = handles::open(Cache::Reference { lru: Box::new(Lru::with_policy(capacity, kind, seed)), report })?;
        crate::raw::double(env, handle as f64)
    })
}

/// A keyed call returning a slot code: `op` on the cache behind the handle and the key.
#[inline(always)]
fn keyed(env: Env, info: Info, op: impl FnOnce(&mut Lru, &[u8], &mut When) -> i32) -> Res<Value> {
    let [h, k] = args::<2>(env, info)?;
    let handle = u32_arg(env, h, "handle")?;
    let mut now = when();
    let code = handles::with(handle, |c| -> Res<i32> {
        let (lru, _) = reference(handle, c)?;
        text::with_key(env, k, |key| op(lru, key, &mut now))
    })??;
    int(env, code)
}

// The result of get says which slot an expired entry left; JS has its key and value.
unsafe extern "C" fn get(env: Env, info: Info) -> Value {
    call(env, || keyed(env, info, |lru, key, now| get_code(lru.get(key, now))))
}

unsafe extern "C" fn peek(env: Env, info: Info) -> Value {
    call(env, || keyed(env, info, |lru, key, now| lru.peek(key, now).map_or(MISS, |s| s as i32)))
}

unsafe extern "C" fn set(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, ttl] = args::<3>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let ttl_ms = common::ttl_arg(env, ttl)?;
        let mut now = when();
        let code = handles::with(handle, |c| -> Res<i32> {
            let (lru, report) = reference(handle, c)?;
            area::with(|a: &Area| {
                let mut sink = ReferenceSink::new(report);
                let code = text::with_key(env, k, |key| lru.set_with(key, &[], ttl_ms, &mut now, &mut sink).map_or(MISS, |s| s as i32))?;
                sink.finish(a, code);
                Ok(code)
            })
        })??;
        int(env, code)
    })
}

unsafe extern "C" fn remove(env: Env, info: Info) -> Value {
    call(env, || {
        keyed(env, info, |lru, key, now| match lru.delete(key, now) {
            Delete::Removed(slot) => slot as i32,
            Delete::Absent => MISS,
            Delete::Expired(slot) => EXPIRED_BASE - slot as i32,
        })
    })
}

unsafe extern "C" fn get_many(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, keys, count] = args::<3>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let n = u32_arg(env, count, "n")? as usize;
        if n > BATCH {
            return Err(type_error(format!("astra-cache native: a batch holds at most {BATCH} keys, got n = {n}")));
        }
        let mut now = when();
        text::with_units(env, keys, MAX_BATCH_UNITS, "keys", |units| {
            area::with(|a| {
                let ends = read_ends(a, n, units.len())?;
                handles::with(handle, |c| -> Res<()> {
                    let (lru, _) = reference(handle, c)?;
                    let mut start = 0usize;
                    for (i, &end) in ends[..n].iter().enumerate() {
                        let end = end as usize;
                        let code = text::encode(&units[start..end], |key| get_code(lru.get(key, &mut now)));
                        a.set_out(i, code);
                        start = end;
                    }
                    Ok(())
                })?
            })
        })??;
        undefined(env)
    })
}

/// Checks ends[0, n): non-decreasing, within `total` units; returns them.
fn read_ends(area: &Area, n: usize, total: usize) -> Res<[u32; BATCH]> {
    let mut ends = [0u32; BATCH];
    let mut start = 0i64;
    for (i, slot) in ends.iter_mut().enumerate().take(n) {
        let end = area.end(i) as i64;
        if end < start || end > total as i64 {
            return Err(type_error(format!("astra-cache native: ends[{i}] = {end} is out of order or past the end of the keys ({total} units)")));
        }
        *slot = end as u32;
        start = end;
    }
    Ok(ends)
}

pub const FUNCTIONS: &[Export] = &[
    ("create", Some(create)),
    ("get", Some(get)),
    ("peek", Some(peek)),
    ("set", Some(set)),
    ("remove", Some(remove)),
    ("getMany", Some(get_many)),
];
