//! Raw N-API callbacks for serialized storage (`storage: 'serialized'` and `shared()`):
//! values live in Rust memory as bytes, so the JS heap holds nothing per entry.
//!
//! A stored value is `[tag, payload...]`. Tag bits 0-1 say what the payload is: 0 a
//! string whose UTF-16 units are all < 256, one byte each (latin1); 1 any other string,
//! as UTF-16LE after one padding byte (so the units are 2-byte aligned in the
//! allocation); 2 raw bytes (a Buffer or Uint8Array). Bit 2 (`SERIALIZED`) marks the
//! serializer's output, which JS must deserialize; without it the value is the user's own
//! string or Buffer, returned as the same type with no serializer round trip.
//!
//! Functions (handles as in lib.rs; `now` < 0 or NaN means "use the engine clock"):
//! - `sCreate(capacity, maxBytes, policy?, seed?)`: a private cache (one shard: exactly
//!   the single-threaded cache). `policy` as the reference engine's `create` (0 lru,
//!   1 s3fifo, 2 tinylfu, 3 tinylfu with a fixed window; default 0), `seed` the u32 seed
//!   of the policy's key hash (default 0).
//! - `sOpen(name, capacity, maxBytes, shards, defaultTtlMs, policy?, seed?)`: the shared
//!   cache `name`, every shard under `policy` (an existing cache must have the same policy;
//!   its seed is kept).
//! - `sPolicy(h)`: the policy code the cache runs.
//! - `sGet(h, key, now, meta: Int32Array)`: the value (string or Buffer) or undefined;
//!   on a hit `meta[0]` receives the tag. `sPeek` is the same without counting.
//! - `sHas(h, key, now)`, `sRemove(h, key, now)`: booleans.
//! - `sSet(h, key, value, serialized, ttlMs, now)`: value a string or Uint8Array.
//! - `sCounters(h, out: Float64Array)`: [hits, misses, evictions, expirations, sets, size, bytes].
//! - `sClear(h)`, `sClose(h)`, `sKeys(h)` (tests).

use crate::raw::{args, call, f64_arg, type_error, u32_arg, Env, Res, Value};
use crate::shared::{self, Store};
use crate::clock::{self, When};
use crate::key;
use astra_cache_core::shared::Sharded;
use astra_cache_core::{LazyNow, PolicyKind, MAX_CAPACITY};
use napi::sys;
use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

type Info = sys::napi_callback_info;

const LATIN1: u8 = 0;
const UTF16: u8 = 1;
const BYTES: u8 = 2;
const SERIALIZED: u8 = 4;
/// Largest value accepted (bytes after encoding): keeps a length in u32 range and one
/// call's copy bounded.
const MAX_VALUE_BYTES: usize = 1 << 30;
/// Most shards a shared cache may have.
const MAX_SHARDS: u32 = 1024;


#[inline(always)]
fn when(env: Env, v: Value) -> Res<When> {
    let t = f64_arg(env, v, "now")?;
    Ok(if t >= 0.0 {
        When::Given(t)
    } else {
        When::Native(LazyNow::new(clock::now_ms as fn() -> f64))
    })
}

fn fail_call(what: &str) -> crate::raw::Fail {
    crate::raw::error("ERR_ASTRA_NATIVE_CALL", format!("astra-cache native: could not {what}"))
}

#[inline(always)]
fn ok(status: sys::napi_status, what: &str) -> Res<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(fail_call(what))
    }
}

// ---- JS values <-> stored bytes ----

/// The stored form of a JS string or Uint8Array `v`.
pub(crate) fn read_value(env: Env, v: Value, serialized: bool) -> Res<Box<[u8]>> {
    let flag = if serialized { SERIALIZED } else { 0 };
    let mut kind = 0;
    // SAFETY: v is an argument of the current callback; kind is a valid location.
    ok(unsafe { sys::napi_typeof(env, v, &mut kind) }, "read a value's type")?;
    if kind == sys::ValueType::napi_string {
        let mut len = 0usize;
        // SAFETY: a null buffer asks N-API for the length only.
        ok(unsafe { sys::napi_get_value_string_utf16(env, v, ptr::null_mut(), 0, &mut len) }, "read a string")?;
        if len > MAX_VALUE_BYTES / 2 {
            return Err(too_big(len * 2));
        }
        let mut units = vec![0u16; len + 1];
        let mut got = 0usize;
        // SAFETY: units has room for len + 1 u16 (the terminating NUL included).
        ok(unsafe { sys::napi_get_value_string_utf16(env, v, units.as_mut_ptr(), len + 1, &mut got) }, "read a string")?;
        let units = &units[..got.min(len)];
        let out: Vec<u8> = if units.iter().all(|&u| u < 256) {
            std::iter::once(LATIN1 | flag).chain(units.iter().map(|&u| u as u8)).collect()
        } else {
            let mut out = Vec::with_capacity(2 + 2 * units.len());
            out.extend([UTF16 | flag, 0]);
            for u in units {
                out.extend(u.to_le_bytes());
            }
            out
        };
        return Ok(out.into_boxed_slice());
    }
    let mut ta = 0;
    let mut len = 0usize;
    let mut data: *mut c_void = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0usize;
    // SAFETY: all outputs are valid locations; a non-typed-array yields an error status.
    let status = unsafe { sys::napi_get_typedarray_info(env, v, &mut ta, &mut len, &mut data, &mut buffer, &mut offset) };
    if status != sys::Status::napi_ok || ta != sys::TypedarrayType::uint8_array {
        return Err(type_error("astra-cache native: value must be a string or a Uint8Array"));
    }
    if len >= MAX_VALUE_BYTES {
        return Err(too_big(len));
    }
    let mut out = Vec::with_capacity(1 + len);
    out.push(BYTES | flag);
    if len > 0 && !data.is_null() {
        // SAFETY: `data` points at the `len` bytes of the array's view (N-API applied the
        // byte offset), alive for this call since the array is one of its arguments.
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) });
    }
    Ok(out.into_boxed_slice())
}

#[cold]
fn too_big(n: usize) -> crate::raw::Fail {
    type_error(format!("astra-cache native: value of {n} bytes is larger than the {MAX_VALUE_BYTES}-byte limit"))
}

/// The JS value of stored bytes `v` (a string or a Buffer), its tag written to `meta`.
pub(crate) fn make_value(env: Env, v: &[u8]) -> Res<(Value, u8)> {
    let Some((&tag, payload)) = v.split_first() else {
        return Err(fail_call("read a stored value"));
    };
    let mut out = ptr::null_mut();
    match tag & 3 {
        LATIN1 => {
            // SAFETY: payload is valid for payload.len() bytes; N-API copies them.
            ok(unsafe { sys::napi_create_string_latin1(env, payload.as_ptr().cast(), payload.len() as isize, &mut out) }, "create a string")?;
        }
        UTF16 => {
            let bytes = payload.get(1..).unwrap_or(&[]);
            let n = bytes.len() / 2;
            // SAFETY (align_to): any bit pattern is a valid u16.
            let (head, units, _) = unsafe { bytes.align_to::<u16>() };
            if head.is_empty() && units.len() == n && cfg!(target_endian = "little") {
                // SAFETY: units is valid for n u16 reads; N-API copies them.
                ok(unsafe { sys::napi_create_string_utf16(env, units.as_ptr(), n as isize, &mut out) }, "create a string")?;
            } else {
                let copy: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
                // SAFETY: as above, for the copy.
                ok(unsafe { sys::napi_create_string_utf16(env, copy.as_ptr(), copy.len() as isize, &mut out) }, "create a string")?;
            }
        }
        _ => {
            let mut data = ptr::null_mut();
            // SAFETY: payload is valid for payload.len() bytes; N-API copies them into a new Buffer.
            ok(unsafe { sys::napi_create_buffer_copy(env, payload.len(), payload.as_ptr().cast(), &mut data, &mut out) }, "create a Buffer")?;
        }
    }
    Ok((out, tag))
}

/// Writes `tag` into `meta[0]` (an Int32Array of at least one element).
pub(crate) fn write_tag(env: Env, meta: Value, tag: u8) -> Res<()> {
    let mut ta = 0;
    let mut len = 0usize;
    let mut data: *mut c_void = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0usize;
    // SAFETY: all outputs are valid locations; a non-typed-array yields an error status.
    let status = unsafe { sys::napi_get_typedarray_info(env, meta, &mut ta, &mut len, &mut data, &mut buffer, &mut offset) };
    if status != sys::Status::napi_ok || ta != sys::TypedarrayType::int32_array || len < 1 || data.is_null() {
        return Err(type_error("astra-cache native: meta must be an Int32Array of at least 1 element"));
    }
    // SAFETY: data points at >= 1 aligned i32 of the array, alive for this call (an argument).
    unsafe { data.cast::<i32>().write(tag as i32) };
    Ok(())
}

pub(crate) fn boolean(env: Env, b: bool) -> Res<Value> {
    let mut out = ptr::null_mut();
    // SAFETY: env is live; out receives a handle in the current scope.
    ok(unsafe { sys::napi_get_boolean(env, b, &mut out) }, "create a boolean")?;
    Ok(out)
}

// ---- callbacks ----

fn capacity_arg(env: Env, v: Value) -> Res<u32> {
    let capacity = f64_arg(env, v, "capacity")?;
    if !(capacity >= 1.0 && capacity <= MAX_CAPACITY as f64 && capacity.fract() == 0.0) {
        return Err(type_error(format!("astra-cache native: capacity must be an integer from 1 to {MAX_CAPACITY}, got {capacity}")));
    }
    Ok(capacity as u32)
}

fn max_bytes_arg(env: Env, v: Value) -> Res<u64> {
    let b = f64_arg(env, v, "maxBytes")?;
    if !(b >= 0.0 && b <= 2f64.powi(53) && b.fract() == 0.0) {
        return Err(type_error(format!("astra-cache native: maxBytes must be an integer >= 0 (0 = no limit), got {b}")));
    }
    Ok(b as u64)
}

/// An optional u32 argument (undefined reads as 0).
fn optional_u32(env: Env, v: Value, what: &str) -> Res<u32> {
    let mut t = sys::ValueType::napi_undefined;
    // SAFETY: v is an argument of the current callback (N-API fills missing ones with undefined).
    ok(unsafe { sys::napi_typeof(env, v, &mut t) }, "read an argument's type")?;
    if t == sys::ValueType::napi_undefined {
        return Ok(0);
    }
    u32_arg(env, v, what)
}

/// The optional policy code and seed arguments.
fn policy_args(env: Env, p: Value, s: Value) -> Res<(PolicyKind, u32)> {
    let code = optional_u32(env, p, "policy")?;
    let kind = PolicyKind::from_code(code)
        .ok_or_else(|| type_error(format!("astra-cache native: policy must be 0, 1, 2 or 3, got {code}")))?;
    Ok((kind, optional_u32(env, s, "seed")?))
}

/// The binding's code of a policy (inverse of `PolicyKind::from_code`).
pub fn policy_code(kind: PolicyKind) -> u32 {
    match kind {
        PolicyKind::Lru => 0,
        PolicyKind::S3Fifo => 1,
        PolicyKind::TinyLfu => 2,
        PolicyKind::TinyLfuFixed => 3,
    }
}

unsafe extern "C" fn s_create(env: Env, info: Info) -> Value {
    call(env, || {
        let [c, b, p, sd] = args::<4>(env, info)?;
        let (kind, seed) = policy_args(env, p, sd)?;
        let cache = Sharded::with_policy(capacity_arg(env, c)?, max_bytes_arg(env, b)?, 1, kind, seed);
        let store = Store { cache, default_ttl_ms: 0.0 };
        crate::raw::double(env, shared::attach(Arc::new(store))? as f64)
    })
}

unsafe extern "C" fn s_open(env: Env, info: Info) -> Value {
    call(env, || {
        let [n, c, b, s, t, p, sd] = args::<7>(env, info)?;
        let capacity = capacity_arg(env, c)?;
        let max_bytes = max_bytes_arg(env, b)?;
        let shards = f64_arg(env, s, "shards")?;
        if !(shards >= 1.0 && shards <= MAX_SHARDS as f64 && shards.fract() == 0.0) {
            return Err(type_error(format!("astra-cache native: shards must be an integer from 1 to {MAX_SHARDS}, got {shards}")));
        }
        let ttl = f64_arg(env, t, "defaultTtlMs")?;
        let (kind, seed) = policy_args(env, p, sd)?;
        let name = String::from_utf16_lossy(&key::with_key(env, n, key::decode)?);
        let handle = shared::open_named(&name, capacity, max_bytes, shards as u32, ttl, kind, seed)?;
        crate::raw::double(env, handle as f64)
    })
}

unsafe extern "C" fn s_close(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        shared::close(u32_arg(env, h, "handle")?)?;
        crate::raw::undefined(env)
    })
}

fn get_op(env: Env, info: Info, count: bool) -> Res<Value> {
    let [h, k, t, meta] = args::<4>(env, info)?;
    let handle = u32_arg(env, h, "handle")?;
    let mut now = when(env, t)?;
    let found = shared::with(handle, |s| {
        key::with_key(env, k, |key| {
            let make = |v: Option<&[u8]>| v.map(|v| make_value(env, v)).transpose();
            if count {
                s.cache.get_with(key, &mut now, make)
            } else {
                s.cache.peek_with(key, &mut now, make)
            }
        })
    })???;
    match found {
        Some((value, tag)) => {
            write_tag(env, meta, tag)?;
            Ok(value)
        }
        None => crate::raw::undefined(env),
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
        let [h, k, t] = args::<3>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let mut now = when(env, t)?;
        let found = shared::with(handle, |s| key::with_key(env, k, |key| s.cache.peek_with(key, &mut now, |v| v.is_some())))??;
        boolean(env, found)
    })
}

unsafe extern "C" fn s_set(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, v, ser, ttl, t] = args::<6>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let serialized = u32_arg(env, ser, "serialized")? != 0;
        let ttl_ms = f64_arg(env, ttl, "ttlMs")?;
        let mut now = when(env, t)?;
        // Read (and copy) the value before taking any lock.
        let value = read_value(env, v, serialized)?;
        shared::with(handle, |s| key::with_key(env, k, |key| s.cache.set(key, value, ttl_ms, &mut now)))??;
        crate::raw::undefined(env)
    })
}

unsafe extern "C" fn s_remove(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, t] = args::<3>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let mut now = when(env, t)?;
        let removed = shared::with(handle, |s| key::with_key(env, k, |key| s.cache.delete(key, &mut now)))??;
        boolean(env, removed)
    })
}

unsafe extern "C" fn s_clear(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        shared::with(u32_arg(env, h, "handle")?, |s| s.cache.clear())?;
        crate::raw::undefined(env)
    })
}

unsafe extern "C" fn s_counters(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, out] = args::<2>(env, info)?;
        let t = shared::with(u32_arg(env, h, "handle")?, |s| s.cache.totals())?;
        let c = t.counters;
        let values = [c.hits as f64, c.misses as f64, c.evictions as f64, c.expirations as f64, c.sets as f64, t.len as f64, t.bytes as f64];
        crate::raw::write_f64s(env, out, &values)?;
        crate::raw::undefined(env)
    })
}

unsafe extern "C" fn s_policy(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let kind = shared::with(u32_arg(env, h, "handle")?, |s| s.cache.policy())?;
        crate::raw::double(env, policy_code(kind) as f64)
    })
}

unsafe extern "C" fn s_keys(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let keys = shared::with(u32_arg(env, h, "handle")?, |s| s.cache.keys())?;
        crate::raw::string_array(env, keys.iter().map(|k| key::decode(k)))
    })
}

/// (name, callback) pairs for lib.rs's registration.
pub const FUNCTIONS: [(&str, sys::napi_callback); 12] = [
    ("sCreate", Some(s_create)),
    ("sOpen", Some(s_open)),
    ("sClose", Some(s_close)),
    ("sGet", Some(s_get)),
    ("sPeek", Some(s_peek)),
    ("sHas", Some(s_has)),
    ("sSet", Some(s_set)),
    ("sRemove", Some(s_remove)),
    ("sClear", Some(s_clear)),
    ("sCounters", Some(s_counters)),
    ("sKeys", Some(s_keys)),
    ("sPolicy", Some(s_policy)),
];
