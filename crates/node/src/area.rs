//! The per-thread shared area: one block of Rust memory handed to JS once (`area()`) as an
//! external ArrayBuffer, through which calls return what does not fit in one integer
//! (removal logs, counters, a value's type tag, batch offsets and results) and take batch
//! offsets. Reading a typed-array argument costs ~55 ns per call on Node 20
//! (`napi_get_typedarray_info`); a word of this block costs JS ~1 ns.
//!
//! Layout: `layout.rs`. One area per thread serves every cache of that thread (calls on a
//! thread never overlap). The memory is reference counted (the thread's copy and one per
//! ArrayBuffer handed out), so JS can never see it freed; Rust touches it only through
//! relaxed atomics, so even a buffer transferred to another thread cannot cause undefined
//! behaviour, only wrong numbers, which the calls check.

use crate::layout::{AREA_WORDS, BATCH, COUNTERS_AT, ENDS_AT, LOG_AT, LOG_PAIRS, NOW_AT, OUT_AT, STATUS_AT};
use crate::raw::{error, Env, Res, Value};
use napi::sys;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};
use std::sync::Arc;

/// 32-bit words, 8-byte aligned so JS can view the counters as a Float64Array.
#[repr(C, align(8))]
pub struct Area {
    words: [AtomicI32; AREA_WORDS],
}

const _: () = assert!(cfg!(target_endian = "little"));

thread_local! {
    static AREA: Arc<Area> = Arc::new(Area { words: std::array::from_fn(|_| AtomicI32::new(0)) });
}

/// Runs `f` with this thread's area.
#[inline(always)]
pub fn with<R>(f: impl FnOnce(&Area) -> R) -> R {
    AREA.with(|a| f(a))
}

impl Area {
    #[inline(always)]
    pub fn set_status(&self, removals: usize) {
        self.words[STATUS_AT].store(removals as i32, Relaxed);
    }

    #[inline(always)]
    pub fn set_tag(&self, tag: u8) {
        self.words[STATUS_AT + 1].store(tag as i32, Relaxed);
    }

    /// Writes log pair `i` (callers stay below LOG_PAIRS).
    #[inline(always)]
    pub fn set_log(&self, i: usize, slot: i32, reason: i32) {
        debug_assert!(i < LOG_PAIRS);
        self.words[LOG_AT + 2 * i].store(slot, Relaxed);
        self.words[LOG_AT + 2 * i + 1].store(reason, Relaxed);
    }

    pub fn set_counters(&self, values: &[f64]) {
        for (i, v) in values.iter().enumerate() {
            let bits = v.to_bits();
            self.words[COUNTERS_AT + 2 * i].store(bits as u32 as i32, Relaxed);
            self.words[COUNTERS_AT + 2 * i + 1].store((bits >> 32) as u32 as i32, Relaxed);
        }
    }

    /// The `now` JS wrote for this call.
    #[inline(always)]
    pub fn now(&self) -> f64 {
        let lo = self.words[NOW_AT].load(Relaxed) as u32 as u64;
        let hi = self.words[NOW_AT + 1].load(Relaxed) as u32 as u64;
        f64::from_bits(hi << 32 | lo)
    }

    #[inline(always)]
    pub fn end(&self, i: usize) -> i32 {
        debug_assert!(i < BATCH);
        self.words[ENDS_AT + i].load(Relaxed)
    }

    #[inline(always)]
    pub fn set_out(&self, i: usize, v: i32) {
        self.words[OUT_AT + i].store(v, Relaxed)
    }

    /// Where JS sees the memory (AtomicI32 is an UnsafeCell: writes through it are allowed).
    fn base(&self) -> *mut u8 {
        self.words.as_ptr() as *mut u8
    }
}

unsafe extern "C" fn release(_env: Env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the pointer Arc::into_raw gave in `buffer`, released once here.
    drop(unsafe { Arc::from_raw(hint as *const Area) });
}

/// This thread's area as a new ArrayBuffer over the same memory.
pub fn buffer(env: Env) -> Res<Value> {
    let area = AREA.with(Arc::clone);
    let data = area.base().cast::<c_void>();
    let hint = Arc::into_raw(area) as *mut c_void;
    let mut out = ptr::null_mut();
    // SAFETY: `data` is valid for AREA_WORDS * 4 bytes for as long as the Arc behind
    // `hint` lives, which `release` drops only when V8 collects the ArrayBuffer.
    let status = unsafe { sys::napi_create_external_arraybuffer(env, data, AREA_WORDS * 4, Some(release), hint, &mut out) };
    if status != sys::Status::napi_ok {
        // SAFETY: the finalizer was not registered: take the reference back.
        drop(unsafe { Arc::from_raw(hint as *const Area) });
        return Err(error("ERR_ASTRA_NATIVE_CALL", "astra-cache native: could not create the shared area (external ArrayBuffers not allowed here?)"));
    }
    Ok(out)
}
