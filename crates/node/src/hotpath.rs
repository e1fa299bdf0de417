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
//! `[1280, 2048)`, then ttls as 256 f64.
//!
//! Functions (each first applies `ring[0, ringLen)`; a ring holding anything but occupied
//! slots is refused whole, nothing applied):
//! - `hpBuffers(h)`: the area as an ArrayBuffer (a new area each call; the last one counts).
//! - `hpSet(h, key, ttlMs, now, ringLen)`: like `setAt`; returns the slot, or `-(slot + 1)`
//!   when the sweep freed slots, then written to `ring[0..2]` (`-1` = none).
//! - `hpRemove(h, slot, now, ringLen)`: removes the entry in `slot` (a delete, or a get that
//!   found it expired): 1 if it was live, 0 if expired (counted as an expiration).
//! - `hpFlush(h, ringLen, hits, misses)`: applies the touches and adds the hits and misses
//!   JS counted (before counters(), keys(), or when the ring is full).

use crate::key;
use crate::raw::{args, call, error, f64_arg, int, type_error, u32_arg, undefined, Env, Res, Value};
use crate::registry;
use astra_cache_core::Lru;
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
const BYTES: usize = I32_WORDS * 4 + BATCH * 8;

const TOTAL_I32: usize = I32_WORDS + 2 * BATCH;

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
        let lo = self.words[I32_WORDS + 2 * i].load(Relaxed) as u32 as u64;
        let hi = self.words[I32_WORDS + 2 * i + 1].load(Relaxed) as u32 as u64;
        f64::from_bits((hi << 32) | lo)
    }
}

const _: () = assert!(cfg!(target_endian = "little") && std::mem::size_of::<Area>() == BYTES);

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
    let n = u32_arg(env, v, "ringLen")? as usize;
    if n > RING {
        return Err(type_error(format!(
            "astra-cache native: ringLen {n} exceeds the ring's size {RING}"
        )));
    }
    Ok(n)
}

/// Applies `ring[0, n)` to `lru`, in order (all or nothing).
pub fn drain(lru: &mut Lru, area: &Area, n: usize) -> Res<()> {
    if n == 0 {
        return Ok(());
    }
    TOUCHES.with(|t| {
        let mut touches = t.borrow_mut();
        touches.clear();
        touches.extend((0..n).map(|i| area.ring(i)));
        lru.touch_slots(&touches).map_err(|bad| {
            type_error(format!(
                "astra-cache native: ring[{}] = {} is not an occupied slot",
                bad.index, bad.slot
            ))
        })
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
            if out.swept.iter().all(Option::is_none) {
                return Ok(out.slot as i32);
            }
            for (i, s) in out.swept.iter().enumerate() {
                area.set_ring(i, s.map_or(-1, |s| s as i32));
            }
            Ok(-(out.slot as i32) - 1)
        })??;
        int(env, result)
    })
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
    let functions: [(&str, sys::napi_callback); 4] = [
        ("hpBuffers", Some(hp_buffers)),
        ("hpSet", Some(hp_set)),
        ("hpRemove", Some(hp_remove)),
        ("hpFlush", Some(hp_flush)),
    ];
    for (name, cb) in functions {
        crate::raw::export(env, exports, name, cb)?;
    }
    crate::batch::register(env, exports)
}
