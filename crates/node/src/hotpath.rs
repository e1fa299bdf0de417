//! The reference-storage hot path: JS serves get hits from its own Map (key → slot) and
//! records each hit's slot in a ring; Rust still owns LRU order, TTL, eviction and
//! counters, and applies the recorded hits ("touches"), in order, before every operation
//! whose result depends on the order. So a hit never crosses N-API, and the order is
//! exactly the one eager gets would have produced.
//!
//! The ring and the batch buffers live in one block of Rust memory per engine (an
//! [`Area`]), handed to JS once as an external ArrayBuffer by `hpBuffers(h)`: reading a
//! typed array argument costs ~55 ns per call on Node 20 (`napi_get_typedarray_info`),
//! more than a JS Map hit, so calls pass only counts. The memory is freed when both the
//! engine's entry here and the ArrayBuffer are gone (an `Arc`), so neither side can see
//! it freed; Rust accesses it only through atomics (relaxed), so even a buffer
//! transferred to another thread cannot cause undefined behaviour, only wrong slots,
//! which are refused.
//!
//! Layout (`Area`, in 32-bit words): ring `[0, 1024)`, ends `[1024, 1280)`, out
//! `[1280, 2048)`, then ttls as 256 f64, then the call block: f64 now, f64 ttlMs,
//! i32 ringLen, i32 slot, then victims i32[64].
//!
//! Functions (each first applies `ring[0, ringLen)`; a ring holding anything but occupied
//! slots is refused whole, nothing applied):
//! - `hpBuffers(h)`: the area as an ArrayBuffer (a new area each call; the last one counts).
//! - `hpSet(h, key, ttlMs, now, ringLen)`: like `setAt`; returns the slot, or `-(slot + 1)`
//!   when the sweep freed slots, then written to `ring[0..2]` (`-1` = none).
//! - `hpInsert(h)` (LRU only): a set of a key absent from JS's index, with no key: Rust
//!   keeps none (keyless entries, crates/core/src/keyless.rs). Its arguments `now`,
//!   `ttlMs` and `ringLen` are read from the area's call block (each N-API argument costs
//!   ~10 ns to read). Returns like `hpSet`; when the returned slot still holds a key in
//!   JS, that key was evicted.
//!   The call block's `slot` word, when > 0, asks for up to that many (at most 64) of
//!   the next victims once the insert is done: they are written LRU tail first to the
//!   victims block and their count to the `slot` word (0 unless the cache is full).
//!   While no entry has a deadline and JS records no hit, a set of a new key with no TTL
//!   then takes the next victim's slot and is recorded in the ring as `-(victim + 2)`
//!   instead of calling: drain applies it as the insert it is (`insert_keyless_over`,
//!   which checks that the victim is the tail).
//! - `hpUpdate(h)` (LRU only): a set of the key JS keeps in the call block's `slot` (new
//!   deadline, most recently used). Returns like `hpSet` (the sweep may have freed `slot`
//!   itself: the key is then reinserted at the returned slot).
//! - `hpOrder(h, ringLen)`: occupied slots from most to least recently used (tests).
//! - `hpRemove(h, slot, now, ringLen)`: removes the entry in `slot` (a delete, or a get that
//!   found it expired): 1 if it was live, 0 if expired (counted as an expiration).
//! - `hpFlush(h, ringLen, hits, misses)`: applies the touches and adds the hits and misses
//!   JS counted (before counters(), keys(), or when the ring is full).

use crate::key;
use crate::raw::{args, call, error, f64_arg, int, type_error, u32_arg, undefined, Env, Res, Value};
use crate::registry;
use astra_cache_core::{KeylessError, Lru, SetOutcome};
use napi::sys;
use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};
use std::sync::Arc;

type Info = sys::napi_callback_info;

pub const RING: usize = 1024;
pub const BATCH: usize = 256;
const ENDS_AT: usize = RING;
const OUT_AT: usize = ENDS_AT + BATCH;
const I32_WORDS: usize = OUT_AT + 3 * BATCH;
const BYTES: usize = TOTAL_I32 * 4;

/// The call block (keyless sets read their arguments here: each N-API argument costs
/// ~10 ns to read, a shared word ~1 ns): f64 now, f64 ttlMs, i32 ringLen, i32 slot.
const CALL_AT: usize = I32_WORDS + 2 * BATCH;
/// The next victims hpInsert hands out (LRU tail first), so that JS can defer inserts.
pub const VICTIMS: usize = 64;
const VICTIMS_AT: usize = CALL_AT + 6;
const TOTAL_I32: usize = VICTIMS_AT + VICTIMS;

/// The memory shared with JS: 32-bit words (the ttls as pairs of them, little-endian),
/// 8-byte aligned so JS can view the ttls as a Float64Array.
#[repr(C, align(8))]
pub struct Area {
    words: [AtomicI32; TOTAL_I32],
}

impl Area {
    fn new() -> Arc<Area> {
        Arc::new(Area {
            words: std::array::from_fn(|_| AtomicI32::new(0)),
        })
    }

    /// Where JS sees the memory (AtomicI32 is an UnsafeCell: writes through it are allowed).
    fn base(&self) -> *mut u8 {
        self.words.as_ptr() as *mut u8
    }

    #[inline]
    pub fn ring(&self, i: usize) -> i32 {
        self.words[i].load(Relaxed)
    }

    #[inline]
    pub fn set_ring(&self, i: usize, v: i32) {
        self.words[i].store(v, Relaxed)
    }

    #[inline]
    pub fn end(&self, i: usize) -> i32 {
        self.words[ENDS_AT + i].load(Relaxed)
    }

    #[inline]
    pub fn set_out(&self, i: usize, v: i32) {
        self.words[OUT_AT + i].store(v, Relaxed)
    }

    /// ttls[i] as JS's Float64Array wrote it (little-endian: low word first).
    #[inline]
    pub fn ttl(&self, i: usize) -> f64 {
        self.f64_at(I32_WORDS + 2 * i)
    }

    #[inline]
    fn f64_at(&self, word: usize) -> f64 {
        let lo = self.words[word].load(Relaxed) as u32 as u64;
        let hi = self.words[word + 1].load(Relaxed) as u32 as u64;
        f64::from_bits((hi << 32) | lo)
    }

    #[inline]
    fn set_call_slot(&self, v: i32) {
        self.words[CALL_AT + 5].store(v, Relaxed)
    }

    #[inline]
    fn set_victim(&self, i: usize, slot: u32) {
        self.words[VICTIMS_AT + i].store(slot as i32, Relaxed)
    }

    /// The call block: (now, ttlMs, ringLen, slot) as JS wrote them for this call.
    #[inline]
    fn call_args(&self) -> (f64, f64, i32, i32) {
        (
            self.f64_at(CALL_AT),
            self.f64_at(CALL_AT + 2),
            self.words[CALL_AT + 4].load(Relaxed),
            self.words[CALL_AT + 5].load(Relaxed),
        )
    }
}

const _: () = assert!(
    cfg!(target_endian = "little") && std::mem::size_of::<Area>() == BYTES && CALL_AT.is_multiple_of(2)
);

thread_local! {
    /// Scratch copy of a ring's touches (reused: no allocation per call).
    static TOUCHES: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
}

/// The area of the engine behind `handle` (one `Arc` clone: for batches, which read the
/// area before reaching the engine).
pub fn area(handle: u32) -> Res<Arc<Area>> {
    registry::with(handle, |e| e.area.clone())?.ok_or_else(|| no_area(handle))
}

/// The engine's lru and its area, borrowed together (the per-call path: no clone).
#[inline]
fn parts(e: &mut registry::Engine, handle: u32) -> Res<(&mut Lru, &Area)> {
    match e.area.as_deref() {
        Some(area) => Ok((&mut e.lru, area)),
        None => Err(no_area(handle)),
    }
}

#[cold]
fn no_area(handle: u32) -> crate::raw::Fail {
    error(
        "ERR_ASTRA_NATIVE_HANDLE",
        format!("astra-cache native: engine handle {handle} has no hot-path buffers (call hpBuffers first, on an open engine)"),
    )
}

/// `ringLen`, checked against the ring's size.
pub fn ring_len(env: Env, v: Value) -> Res<usize> {
    checked_ring_len(u32_arg(env, v, "ringLen")? as i64)
}

fn checked_ring_len(n: i64) -> Res<usize> {
    if !(0..=RING as i64).contains(&n) {
        return Err(type_error(format!(
            "astra-cache native: ringLen {n} exceeds the ring's size {RING} (or is negative)"
        )));
    }
    Ok(n as usize)
}

/// Applies `ring[0, n)` to `lru`, in order. A ring of touches only (slots >= 0) is
/// applied all or nothing; one holding deferred inserts (`-(victim + 2)`, see hpInsert)
/// is applied entry by entry and stops at the first bad one (JS is then out of step and
/// gets the error; memory is never at risk).
pub fn drain(lru: &mut Lru, area: &Area, n: usize) -> Res<()> {
    if n == 0 {
        return Ok(());
    }
    TOUCHES.with(|t| {
        let mut touches = t.borrow_mut();
        touches.clear();
        touches.extend((0..n).map(|i| area.ring(i)));
        let bad = |index: usize, v: i32| {
            type_error(format!(
                "astra-cache native: ring[{index}] = {v} is not an occupied slot (or the LRU tail, for a deferred insert)"
            ))
        };
        if touches.iter().all(|&v| v > -2) {
            return lru
                .touch_slots(&touches)
                .map_err(|b| bad(b.index, b.slot as i32));
        }
        for (index, &v) in touches.iter().enumerate() {
            if v >= 0 {
                lru.touch_slots(&[v]).map_err(|_| bad(index, v))?;
            } else if v <= -2 {
                let victim = (-(v as i64) - 2) as u32;
                lru.insert_keyless_over(victim).map_err(|_| bad(index, v))?;
            } else {
                return Err(bad(index, v));
            }
        }
        Ok(())
    })
}

unsafe extern "C" fn release_area(_env: Env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the pointer Arc::into_raw gave in hp_buffers, released once here.
    drop(unsafe { Arc::from_raw(hint as *const Area) });
}

unsafe extern "C" fn hp_buffers(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        registry::with(handle, |_| ())?; // an open engine of this thread
        let area = Area::new();
        let data = area.base().cast::<c_void>();
        let hint = Arc::into_raw(area.clone()) as *mut c_void;
        let mut buffer = ptr::null_mut();
        // SAFETY: `data` is valid for BYTES bytes for as long as the Arc behind `hint`
        // lives, which release_area drops only when V8 collects the ArrayBuffer.
        let status = unsafe {
            sys::napi_create_external_arraybuffer(
                env,
                data,
                BYTES,
                Some(release_area),
                hint,
                &mut buffer,
            )
        };
        if status != sys::Status::napi_ok {
            // SAFETY: the finalizer was not registered: take the reference back.
            drop(unsafe { Arc::from_raw(hint as *const Area) });
            return Err(error(
                "ERR_ASTRA_NATIVE_CALL",
                "astra-cache native: could not create the hot-path buffer (external ArrayBuffers not allowed here?)",
            ));
        }
        registry::with(handle, |e| e.area = Some(area))?;
        Ok(buffer)
    })
}

unsafe extern "C" fn hp_set(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, ttl, t, rl] = args::<5>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let ttl_ms = f64_arg(env, ttl, "ttlMs")?;
        let mut now = f64_arg(env, t, "now")?;
        let n = ring_len(env, rl)?;
        let result = registry::with(handle, |e| -> Res<i32> {
            let (lru, area) = parts(e, handle)?;
            drain(lru, area, n)?;
            let out = key::with_key(env, k, |key| lru.set(key, ttl_ms, &mut now))?;
            Ok(set_result(area, out))
        })??;
        int(env, result)
    })
}

/// A set's result as hpSet returns it: the slot, or `-(slot + 1)` with the swept slots in
/// `ring[0..2]` (`-1` = none).
#[inline]
fn set_result(area: &Area, out: SetOutcome) -> i32 {
    if out.swept.iter().all(Option::is_none) {
        return out.slot as i32;
    }
    for (i, s) in out.swept.iter().enumerate() {
        area.set_ring(i, s.map_or(-1, |s| s as i32));
    }
    -(out.slot as i32) - 1
}

#[cold]
fn keyless_error(e: KeylessError) -> crate::raw::Fail {
    match e {
        KeylessError::NotLru => type_error(
            "astra-cache native: hpInsert/hpUpdate need an LRU engine (S3-FIFO and W-TinyLFU need keys: use hpSet)",
        ),
        KeylessError::NotOccupied(slot) => type_error(format!(
            "astra-cache native: slot {slot} is not an occupied slot"
        )),
    }
}

unsafe extern "C" fn hp_insert(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let result = registry::with(handle, |e| -> Res<i32> {
            let (lru, area) = parts(e, handle)?;
            let (mut now, ttl_ms, ring_n, wanted) = area.call_args();
            drain(lru, area, checked_ring_len(ring_n as i64)?)?;
            let out = lru.insert_keyless(ttl_ms, &mut now).map_err(keyless_error)?;
            // The next victims, if JS asked (a run of inserts): it may then record its
            // next inserts in the ring instead of calling (drain applies them).
            let k = wanted.clamp(0, VICTIMS as i32) as usize;
            let given = if k > 0 && lru.len() == lru.capacity() {
                lru.tail_slots(k, |i, s| area.set_victim(i, s))
            } else {
                0
            };
            area.set_call_slot(given as i32);
            Ok(set_result(area, out))
        })??;
        int(env, result)
    })
}

unsafe extern "C" fn hp_update(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let result = registry::with(handle, |e| -> Res<i32> {
            let (lru, area) = parts(e, handle)?;
            let (mut now, ttl_ms, ring_n, slot) = area.call_args();
            drain(lru, area, checked_ring_len(ring_n as i64)?)?;
            if slot < 0 {
                return Err(type_error(format!(
                    "astra-cache native: slot {slot} is not an occupied slot"
                )));
            }
            let out = lru.update_slot(slot as u32, ttl_ms, &mut now).map_err(keyless_error)?;
            Ok(set_result(area, out))
        })??;
        int(env, result)
    })
}

unsafe extern "C" fn hp_order(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, rl] = args::<2>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let n = ring_len(env, rl)?;
        let slots = registry::with(handle, |e| -> Res<Vec<u32>> {
            let (lru, area) = parts(e, handle)?;
            drain(lru, area, n)?;
            Ok(lru.slots_mru_to_lru())
        })??;
        int_array(env, &slots)
    })
}

/// A JS array of the numbers `values`.
fn int_array(env: Env, values: &[u32]) -> Res<Value> {
    let fail = || error("ERR_ASTRA_NATIVE_CALL", "astra-cache native: could not build an array");
    let mut array = ptr::null_mut();
    // SAFETY: env is live; array receives a new handle in the current scope.
    if unsafe { sys::napi_create_array_with_length(env, values.len(), &mut array) }
        != sys::Status::napi_ok
    {
        return Err(fail());
    }
    for (i, &v) in values.iter().enumerate() {
        let x = int(env, v as i32)?; // slots are < MAX_CAPACITY = 2^30
        // SAFETY: array and x are live handles of the current scope.
        if unsafe { sys::napi_set_element(env, array, i as u32, x) } != sys::Status::napi_ok {
            return Err(fail());
        }
    }
    Ok(array)
}

unsafe extern "C" fn hp_remove(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, s, t, rl] = args::<4>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let slot = f64_arg(env, s, "slot")?;
        let mut now = f64_arg(env, t, "now")?;
        let n = ring_len(env, rl)?;
        let result = registry::with(handle, |e| -> Res<i32> {
            let (lru, area) = parts(e, handle)?;
            drain(lru, area, n)?;
            let removed = if (0.0..=u32::MAX as f64).contains(&slot) && slot.fract() == 0.0 {
                lru.remove_slot(slot as u32, &mut now)
            } else {
                None
            };
            match removed {
                Some(live) => Ok(live as i32),
                None => Err(type_error(format!(
                    "astra-cache native: slot {slot} is not an occupied slot"
                ))),
            }
        })??;
        int(env, result)
    })
}

unsafe extern "C" fn hp_flush(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, rl, hits, misses] = args::<4>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let n = ring_len(env, rl)?;
        let hits = count_arg(env, hits, "hits")?;
        let misses = count_arg(env, misses, "misses")?;
        registry::with(handle, |e| -> Res<()> {
            let (lru, area) = parts(e, handle)?;
            drain(lru, area, n)?;
            lru.add_lookups(hits, misses);
            Ok(())
        })??;
        undefined(env)
    })
}

/// A non-negative integer count (below 2^53).
fn count_arg(env: Env, v: Value, what: &str) -> Res<u64> {
    let x = f64_arg(env, v, what)?;
    if !((0.0..=9_007_199_254_740_991.0).contains(&x) && x.fract() == 0.0) {
        return Err(type_error(format!(
            "astra-cache native: {what} must be a non-negative integer, got {x}"
        )));
    }
    Ok(x as u64)
}

/// Adds this file's functions (and the batch ones) to the module's exports.
pub fn register(env: Env, exports: Value) -> napi::Result<()> {
    let functions: [(&str, sys::napi_callback); 7] = [
        ("hpBuffers", Some(hp_buffers)),
        ("hpSet", Some(hp_set)),
        ("hpInsert", Some(hp_insert)),
        ("hpUpdate", Some(hp_update)),
        ("hpOrder", Some(hp_order)),
        ("hpRemove", Some(hp_remove)),
        ("hpFlush", Some(hp_flush)),
    ];
    for (name, cb) in functions {
        crate::raw::export(env, exports, name, cb)?;
    }
    crate::batch::register(env, exports)
}
