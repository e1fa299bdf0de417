//! Batches: many keys in one N-API crossing.
//!
//! Keys arrive as one string (the keys concatenated, `keys.join('')`) plus their end
//! offsets in UTF-16 units, written by JS into the engine's shared area (hotpath.rs):
//! `ends[i]` = where key i ends, key 0 starts at 0. One string read replaces one per key,
//! and no typed array is passed (each costs ~55 ns to read). Results go to the area's
//! `out`. Both functions first apply the hot path's recorded touches, then run the
//! operations in order, exactly as the single calls would (one `now` for the batch).
//!
//! - `getMany(h, joined, n, now, ringLen)`: `out[i]` = slot (hit), -1 (miss) or
//!   `-(slot + 2)` (expired and removed), as `getAt`.
//! - `setMany(h, joined, n, now, ringLen)`: ttlMs of key i in `ttls[i]`; `out[3i]` = the
//!   slot now holding key i, `out[3i+1..3i+3]` = slots its sweep freed (-1 = none).
//!
//! n is at most 256 (the area's batch size).

use crate::hotpath::{area, drain, ring_len, Area, BATCH};
use crate::key;
use crate::raw::{args, call, f64_arg, type_error, u32_arg, undefined, Env, Res, Value};
use crate::registry;
use astra_cache_core::Get;
use napi::sys;
use std::cell::RefCell;
use std::ptr;

type Info = sys::napi_callback_info;

/// Most UTF-16 units one batch string may hold (256 keys of the cache's 4096-unit limit).
const MAX_BATCH_UNITS: usize = BATCH * 4096;

thread_local! {
    /// The batch string, read whole (reused: no allocation per call once grown).
    static UNITS: RefCell<Vec<u16>> = const { RefCell::new(Vec::new()) };
}

/// Reads the string `v` whole into `units`.
fn read_units(env: Env, v: Value, units: &mut Vec<u16>) -> Res<()> {
    let not_a_string = || type_error("astra-cache native: keys must be a string");
    let mut len = 0usize;
    // SAFETY: a null buffer asks N-API only for the length (in UTF-16 units).
    if unsafe { sys::napi_get_value_string_utf16(env, v, ptr::null_mut(), 0, &mut len) }
        != sys::Status::napi_ok
    {
        return Err(not_a_string());
    }
    if len > MAX_BATCH_UNITS {
        return Err(type_error(format!(
            "astra-cache native: a batch holds at most {MAX_BATCH_UNITS} UTF-16 units of keys, got {len}"
        )));
    }
    units.clear();
    units.reserve(len + 1);
    let mut copied = 0usize;
    // SAFETY: `units` has capacity for len + 1 units (the size passed: N-API writes at
    // most that many, the terminating NUL included) and reports the count it copied.
    let status = unsafe {
        sys::napi_get_value_string_utf16(env, v, units.as_mut_ptr(), len + 1, &mut copied)
    };
    if status != sys::Status::napi_ok {
        return Err(not_a_string());
    }
    // SAFETY: N-API initialized `copied` (<= len) units.
    unsafe { units.set_len(copied.min(len)) };
    Ok(())
}

/// The batch size argument, at most BATCH.
fn batch_n(env: Env, v: Value) -> Res<usize> {
    let n = u32_arg(env, v, "n")? as usize;
    if n > BATCH {
        return Err(type_error(format!(
            "astra-cache native: a batch holds at most {BATCH} keys, got n = {n}"
        )));
    }
    Ok(n)
}

/// Checks ends[0, n): non-decreasing, within `total` units; returns them.
fn read_ends(area: &Area, n: usize, total: usize) -> Res<[u32; BATCH]> {
    let mut ends = [0u32; BATCH];
    let mut start = 0i64;
    for (i, slot) in ends.iter_mut().enumerate().take(n) {
        let end = area.end(i) as i64;
        if end < start || end > total as i64 {
            return Err(type_error(format!(
                "astra-cache native: ends[{i}] = {end} is out of order or past the end of the keys ({total} units)"
            )));
        }
        *slot = end as u32;
        start = end;
    }
    Ok(ends)
}

unsafe extern "C" fn get_many(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, keys, count, t, rl] = args::<5>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let n = batch_n(env, count)?;
        let mut now = f64_arg(env, t, "now")?;
        let ring_n = ring_len(env, rl)?;
        let area = area(handle)?;
        UNITS.with(|u| -> Res<()> {
            let units = &mut *u.try_borrow_mut().map_err(|_| type_error("astra-cache native: re-entrant call"))?;
            read_units(env, keys, units)?;
            let ends = read_ends(&area, n, units.len())?;
            registry::with(handle, |eng| -> Res<()> {
                drain(&mut eng.lru, &area, ring_n)?;
                let mut start = 0usize;
                for (i, &end) in ends[..n].iter().enumerate() {
                    let end = end as usize;
                    let r = key::encode(&units[start..end], |k| eng.lru.get(k, &mut now));
                    area.set_out(
                        i,
                        match r {
                            Get::Hit(slot) => slot as i32,
                            Get::Miss => -1,
                            Get::Expired(slot) => -(slot as i32) - 2,
                        },
                    );
                    start = end;
                }
                Ok(())
            })?
        })?;
        undefined(env)
    })
}

unsafe extern "C" fn set_many(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, keys, count, t, rl] = args::<5>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let n = batch_n(env, count)?;
        let mut now = f64_arg(env, t, "now")?;
        let ring_n = ring_len(env, rl)?;
        let area = area(handle)?;
        if let Some(bad) = (0..n).map(|i| area.ttl(i)).find(|x| x.is_nan() || *x < 0.0) {
            return Err(type_error(format!(
                "astra-cache native: ttls must be numbers >= 0, got {bad}"
            )));
        }
        UNITS.with(|u| -> Res<()> {
            let units = &mut *u.try_borrow_mut().map_err(|_| type_error("astra-cache native: re-entrant call"))?;
            read_units(env, keys, units)?;
            let ends = read_ends(&area, n, units.len())?;
            registry::with(handle, |eng| -> Res<()> {
                drain(&mut eng.lru, &area, ring_n)?;
                let mut start = 0usize;
                for (i, &end) in ends[..n].iter().enumerate() {
                    let end = end as usize;
                    let ttl = area.ttl(i);
                    let r = key::encode(&units[start..end], |k| eng.lru.set(k, ttl, &mut now));
                    area.set_out(3 * i, r.slot as i32);
                    for (j, swept) in r.swept.iter().enumerate() {
                        area.set_out(3 * i + 1 + j, swept.map_or(-1, |x| x as i32));
                    }
                    start = end;
                }
                Ok(())
            })?
        })?;
        undefined(env)
    })
}

pub fn register(env: Env, exports: Value) -> napi::Result<()> {
    let functions: [(&str, sys::napi_callback); 2] =
        [("getMany", Some(get_many)), ("setMany", Some(set_many))];
    for (name, cb) in functions {
        crate::raw::export(env, exports, name, cb)?;
    }
    Ok(())
}
