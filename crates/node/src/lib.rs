//! The N-API binding of astra-cache-core: argument conversion and handles, nothing else.
//!
//! Boundary rules (docs/native.md has the measurements behind them): plain sync
//! functions on an integer handle (no class unwrap), keys read into a stack buffer,
//! integers returned. The hot functions are raw `napi_callback`s registered at module
//! init, because napi-rs 3's generated wrappers cost more than the work itself (see
//! raw.rs). Their TypeScript types live in `src/native.ts` (`NativeBinding`).
//!
//! In reference storage Rust owns keys, order, deadlines and counters; JS keeps the
//! values in an array indexed by the slot numbers returned here.
//!
//! Each keyed function has an `...At` twin taking `now` (ms, f64) as its last argument,
//! for caches with an injected (or JS-side) clock; the plain ones read the engine's own
//! monotonic clock, and only when an entry with a deadline is involved.
//!
//! Results:
//! - `create(capacity)`: a handle (u32, never 0).
//! - `get`: slot >= 0 hit; -1 miss; `-(slot + 2)` the entry had expired and was removed
//!   from `slot` (JS should drop the value it keeps there).
//! - `peek`: slot >= 0 live; -1 absent or expired.
//! - `set(h, key, ttlMs)`: the slot now holding the key; `-(slot + 1)` when, in addition,
//!   the sweep freed other slots: `takeSwept(h)` then returns them one per call until -1.
//! - `remove` (delete): slot >= 0 a live entry was removed; -1 absent; `-(slot + 2)` an
//!   expired entry was removed.
//! - `counters(h, out)`: fills a Float64Array with [hits, misses, evictions, expirations,
//!   sets, size]; no object is built.
//! - `clear(h)`, `close(h)`, `size(h)`, `nativeNowMs()`, `keys(h)` (MRU to LRU, for tests).
//!
//! Bad arguments (wrong types, a closed or unknown handle, a short counters array) throw
//! a JS TypeError/Error with a `code`; no panic crosses into JS (raw::call).

mod batch;
mod clock;
mod hotpath;
mod key;
mod machine;
mod raw;
mod registry;
mod serialized;
mod shared;

use astra_cache_core::{Delete, Get, LazyNow, Lru, PolicyKind, MAX_CAPACITY};
use napi::bindgen_prelude::Object;
use napi::{sys, JsValue};
use napi_derive::napi;
use clock::When;
use raw::{args, call, f64_arg, int, type_error, u32_arg, Env, Res, Value};
use registry::Engine;

type Info = sys::napi_callback_info;

#[inline(always)]
fn native_now() -> LazyNow<fn() -> f64> {
    LazyNow::new(clock::now_ms as fn() -> f64)
}


#[inline(always)]
fn when(env: Env, v: Option<Value>) -> Res<When> {
    Ok(match v {
        Some(v) => When::Given(f64_arg(env, v, "now")?),
        None => When::Native(native_now()),
    })
}

// ---- keyed operations ----

#[inline(always)]
fn get_op(env: Env, h: Value, k: Value, t: Option<Value>) -> Res<Value> {
    let handle = u32_arg(env, h, "handle")?;
    let mut now = when(env, t)?;
    let slot = registry::with(handle, |e| {
        key::with_key(env, k, |key| match e.lru.get(key, &mut now) {
            Get::Hit(slot) => slot as i32,
            Get::Miss => -1,
            Get::Expired(slot) => -(slot as i32) - 2,
        })
    })??;
    int(env, slot)
}

unsafe extern "C" fn get(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k] = args::<2>(env, info)?;
        get_op(env, h, k, None)
    })
}

unsafe extern "C" fn get_at(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, t] = args::<3>(env, info)?;
        get_op(env, h, k, Some(t))
    })
}

#[inline(always)]
fn peek_op(env: Env, h: Value, k: Value, t: Option<Value>) -> Res<Value> {
    let handle = u32_arg(env, h, "handle")?;
    let mut now = when(env, t)?;
    let slot = registry::with(handle, |e| {
        key::with_key(env, k, |key| {
            e.lru.peek(key, &mut now).map_or(-1, |s| s as i32)
        })
    })??;
    int(env, slot)
}

unsafe extern "C" fn peek(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k] = args::<2>(env, info)?;
        peek_op(env, h, k, None)
    })
}

unsafe extern "C" fn peek_at(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, t] = args::<3>(env, info)?;
        peek_op(env, h, k, Some(t))
    })
}

#[inline(always)]
fn set_op(env: Env, h: Value, k: Value, ttl: Value, t: Option<Value>) -> Res<Value> {
    let handle = u32_arg(env, h, "handle")?;
    let ttl_ms = f64_arg(env, ttl, "ttlMs")?;
    let mut now = when(env, t)?;
    let slot = registry::with(handle, |e| {
        key::with_key(env, k, |key| {
            let out = e.lru.set(key, ttl_ms, &mut now);
            e.swept.clear();
            e.swept.extend(out.swept.iter().flatten());
            if e.swept.is_empty() {
                out.slot as i32
            } else {
                -(out.slot as i32) - 1
            }
        })
    })??;
    int(env, slot)
}

unsafe extern "C" fn set(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, ttl] = args::<3>(env, info)?;
        set_op(env, h, k, ttl, None)
    })
}

unsafe extern "C" fn set_at(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, ttl, t] = args::<4>(env, info)?;
        set_op(env, h, k, ttl, Some(t))
    })
}

#[inline(always)]
fn remove_op(env: Env, h: Value, k: Value, t: Option<Value>) -> Res<Value> {
    let handle = u32_arg(env, h, "handle")?;
    let mut now = when(env, t)?;
    let slot = registry::with(handle, |e| {
        key::with_key(env, k, |key| match e.lru.delete(key, &mut now) {
            Delete::Removed(slot) => slot as i32,
            Delete::Absent => -1,
            Delete::Expired(slot) => -(slot as i32) - 2,
        })
    })??;
    int(env, slot)
}

unsafe extern "C" fn remove(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k] = args::<2>(env, info)?;
        remove_op(env, h, k, None)
    })
}

unsafe extern "C" fn remove_at(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, k, t] = args::<3>(env, info)?;
        remove_op(env, h, k, Some(t))
    })
}

// ---- handle-only operations ----

unsafe extern "C" fn take_swept(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        int(
            env,
            registry::with(handle, |e| e.swept.pop().map_or(-1, |s| s as i32))?,
        )
    })
}

unsafe extern "C" fn size(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        raw::double(env, registry::with(handle, |e| e.lru.len() as f64)?)
    })
}

unsafe extern "C" fn clear(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        registry::with(handle, |e| {
            e.lru.clear();
            e.swept.clear();
        })?;
        raw::undefined(env)
    })
}

unsafe extern "C" fn counters(env: Env, info: Info) -> Value {
    call(env, || {
        let [h, out] = args::<2>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let values = registry::with(handle, |e| {
            let c = e.lru.counters();
            [
                c.hits as f64,
                c.misses as f64,
                c.evictions as f64,
                c.expirations as f64,
                c.sets as f64,
                e.lru.len() as f64,
            ]
        })?;
        raw::write_f64s(env, out, &values)?;
        raw::undefined(env)
    })
}

/// The keys from most to least recently used, as an array of strings (tests and
/// debugging: O(n), allocates).
unsafe extern "C" fn keys(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        let handle = u32_arg(env, h, "handle")?;
        let keys = registry::with(handle, |e| e.lru.keys_mru_to_lru())?;
        raw::string_array(env, keys.iter().map(|k| key::decode(k)))
    })
}

unsafe extern "C" fn create(env: Env, info: Info) -> Value {
    call(env, || {
        let [c, p, s] = args::<3>(env, info)?;
        let capacity = f64_arg(env, c, "capacity")?;
        if !(capacity >= 1.0 && capacity <= MAX_CAPACITY as f64 && capacity.fract() == 0.0) {
            return Err(type_error(format!("astra-cache native: capacity must be an integer from 1 to {MAX_CAPACITY}, got {capacity}")));
        }
        // Optional: policy code (0 lru, 1 s3fifo, 2 tinylfu, 3 tinylfu with a fixed
        // window) and the seed of the policy's key hash (u32), both default 0.
        let code = optional_u32(env, p, "policy")?;
        let kind = PolicyKind::from_code(code).ok_or_else(|| {
            type_error(format!(
                "astra-cache native: policy must be 0, 1, 2 or 3, got {code}"
            ))
        })?;
        let seed = optional_u32(env, s, "seed")?;
        let handle = registry::open(Engine {
            lru: Lru::with_policy(capacity as u32, kind, seed),
            swept: Vec::new(),
            area: None,
        })?;
        raw::double(env, handle as f64)
    })
}

/// A u32 argument that may be left out (undefined reads as 0).
fn optional_u32(env: Env, v: Value, what: &str) -> Res<u32> {
    let mut t = sys::ValueType::napi_undefined;
    // SAFETY: v is an argument of the current callback (N-API fills missing ones with undefined).
    unsafe { sys::napi_typeof(env, v, &mut t) };
    if t == sys::ValueType::napi_undefined {
        return Ok(0);
    }
    u32_arg(env, v, what)
}

unsafe extern "C" fn close(env: Env, info: Info) -> Value {
    call(env, || {
        let [h] = args::<1>(env, info)?;
        registry::close(u32_arg(env, h, "handle")?)?;
        raw::undefined(env)
    })
}

unsafe extern "C" fn native_now_ms(env: Env, _info: Info) -> Value {
    call(env, || raw::double(env, clock::now_ms()))
}

/// Version of the calling convention above; src/native.ts refuses a binary whose version
/// differs (a stale build). Bump it whenever a function's arguments or results change.
/// (Also the one `#[napi]` function, so that `napi build` generates `native/index.js`.)
#[napi]
pub fn binding_version() -> u32 {
    2 // 2: hpBuffers' area gained the call block; hpInsert, hpUpdate, hpOrder
}

/// Registers the raw functions on the module's exports.
#[napi(module_exports)]
pub fn register(exports: Object) -> napi::Result<()> {
    let value = exports.value();
    let (env, exports) = (value.env, value.value);
    let functions: [(&str, sys::napi_callback); 16] = [
        ("create", Some(create)),
        ("close", Some(close)),
        ("get", Some(get)),
        ("getAt", Some(get_at)),
        ("peek", Some(peek)),
        ("peekAt", Some(peek_at)),
        ("set", Some(set)),
        ("setAt", Some(set_at)),
        ("takeSwept", Some(take_swept)),
        ("remove", Some(remove)),
        ("removeAt", Some(remove_at)),
        ("clear", Some(clear)),
        ("size", Some(size)),
        ("counters", Some(counters)),
        ("nativeNowMs", Some(native_now_ms)),
        ("keys", Some(keys)),
    ];
    for (name, cb) in functions {
        raw::export(env, exports, name, cb)?;
    }
    hotpath::register(env, exports)?;
    for (name, cb) in serialized::FUNCTIONS {
        raw::export(env, exports, name, cb)?;
    }
    for (name, cb) in machine::FUNCTIONS {
        raw::export(env, exports, name, cb)?;
    }
    Ok(())
}
