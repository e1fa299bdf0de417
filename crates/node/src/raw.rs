//! Thin helpers over raw N-API calls for the hot functions.
//!
//! Why raw: napi-rs 3's generated `#[napi]` wrappers cost ~70-120 ns per call on this
//! machine (a borrow-scope bookkeeping layer), more than a whole JS Map hit; a raw
//! `napi_callback` costs ~10 ns. See docs/native.md for the numbers.

use napi::sys;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

pub type Value = sys::napi_value;
pub type Env = sys::napi_env;

/// A mistake by the caller, thrown into JS as an Error or TypeError with a stable code.
pub struct Fail {
    pub type_error: bool,
    pub code: &'static str,
    pub message: String,
}

pub type Res<T> = Result<T, Fail>;

pub fn type_error(message: impl Into<String>) -> Fail {
    Fail {
        type_error: true,
        code: "ERR_ASTRA_NATIVE_ARG",
        message: message.into(),
    }
}

pub fn error(code: &'static str, message: impl Into<String>) -> Fail {
    Fail {
        type_error: false,
        code,
        message: message.into(),
    }
}

/// Runs a callback body: a `Fail` becomes a thrown JS error, and a panic (a bug: the
/// core has no panicking paths on valid state) is caught here instead of unwinding into
/// V8, and thrown as an Error too.
#[inline(always)]
pub fn call(env: Env, body: impl FnOnce() -> Res<Value>) -> Value {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(fail)) => throw(env, fail),
        Err(_) => throw(
            env,
            error(
                "ERR_ASTRA_NATIVE_PANIC",
                "astra-cache native: internal error (panic); please report it",
            ),
        ),
    }
}

#[cold]
fn throw(env: Env, fail: Fail) -> Value {
    let code = CString::new(fail.code).unwrap_or_default();
    let message = CString::new(fail.message).unwrap_or_default();
    // SAFETY: env is the live env of the current callback; both strings are NUL-terminated
    // and outlive the call (N-API copies them).
    unsafe {
        if fail.type_error {
            sys::napi_throw_type_error(env, code.as_ptr(), message.as_ptr());
        } else {
            sys::napi_throw_error(env, code.as_ptr(), message.as_ptr());
        }
    }
    ptr::null_mut()
}

/// The first N arguments; missing ones are `undefined` (N-API fills them in).
#[inline(always)]
pub fn args<const N: usize>(env: Env, info: sys::napi_callback_info) -> Res<[Value; N]> {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    // SAFETY: argv has room for argc = N values; this/data outputs are not requested.
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok {
        return Err(error(
            "ERR_ASTRA_NATIVE_CALL",
            "astra-cache native: could not read the arguments",
        ));
    }
    Ok(argv)
}

#[inline(always)]
pub fn u32_arg(env: Env, v: Value, what: &str) -> Res<u32> {
    let mut out = 0u32;
    // SAFETY: v is an argument of the current callback; out is a valid u32 location.
    if unsafe { sys::napi_get_value_uint32(env, v, &mut out) } != sys::Status::napi_ok {
        return Err(type_error(format!(
            "astra-cache native: {what} must be a number"
        )));
    }
    Ok(out)
}

#[inline(always)]
pub fn f64_arg(env: Env, v: Value, what: &str) -> Res<f64> {
    let mut out = 0f64;
    // SAFETY: as above, for an f64.
    if unsafe { sys::napi_get_value_double(env, v, &mut out) } != sys::Status::napi_ok {
        return Err(type_error(format!(
            "astra-cache native: {what} must be a number"
        )));
    }
    Ok(out)
}

#[inline(always)]
pub fn int(env: Env, n: i32) -> Res<Value> {
    let mut out = ptr::null_mut();
    // SAFETY: env is live; out receives a new handle in the current scope.
    if unsafe { sys::napi_create_int32(env, n, &mut out) } != sys::Status::napi_ok {
        return Err(error(
            "ERR_ASTRA_NATIVE_CALL",
            "astra-cache native: could not create a number",
        ));
    }
    Ok(out)
}

#[inline(always)]
pub fn double(env: Env, n: f64) -> Res<Value> {
    let mut out = ptr::null_mut();
    // SAFETY: as above.
    if unsafe { sys::napi_create_double(env, n, &mut out) } != sys::Status::napi_ok {
        return Err(error(
            "ERR_ASTRA_NATIVE_CALL",
            "astra-cache native: could not create a number",
        ));
    }
    Ok(out)
}

#[inline(always)]
pub fn undefined(env: Env) -> Res<Value> {
    let mut out = ptr::null_mut();
    // SAFETY: as above.
    if unsafe { sys::napi_get_undefined(env, &mut out) } != sys::Status::napi_ok {
        return Err(error(
            "ERR_ASTRA_NATIVE_CALL",
            "astra-cache native: could not get undefined",
        ));
    }
    Ok(out)
}

/// Writes `values` into the Float64Array `v` (at least `values.len()` elements long).
pub fn write_f64s(env: Env, v: Value, values: &[f64]) -> Res<()> {
    let mut kind = 0;
    let mut len = 0usize;
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0usize;
    // SAFETY: all outputs are valid locations; a non-typed-array yields an error status.
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env,
            v,
            &mut kind,
            &mut len,
            &mut data,
            &mut buffer,
            &mut offset,
        )
    };
    if status != sys::Status::napi_ok || kind != sys::TypedarrayType::float64_array {
        return Err(type_error(
            "astra-cache native: counters() needs a Float64Array",
        ));
    }
    if len < values.len() || data.is_null() {
        return Err(type_error(format!(
            "astra-cache native: counters() needs a Float64Array of at least {} elements, got {len}",
            values.len()
        )));
    }
    // SAFETY: `data` points at `len` >= values.len() f64 elements of the typed array's
    // backing store (N-API applies the byte offset; Float64Array data is 8-byte aligned),
    // which stays alive for this call because the array is one of its arguments. No JS
    // runs on this thread meanwhile; on a SharedArrayBuffer another thread could race,
    // but Rust only writes plain f64 values here and reads nothing back.
    unsafe { ptr::copy_nonoverlapping(values.as_ptr(), data.cast::<f64>(), values.len()) };
    Ok(())
}

/// A JS array of strings, each given as UTF-16 units.
pub fn string_array(env: Env, strings: impl ExactSizeIterator<Item = Vec<u16>>) -> Res<Value> {
    let fail = || {
        error(
            "ERR_ASTRA_NATIVE_CALL",
            "astra-cache native: could not build an array",
        )
    };
    let mut array = ptr::null_mut();
    // SAFETY: env is live; array receives a new handle in the current scope.
    if unsafe { sys::napi_create_array_with_length(env, strings.len(), &mut array) }
        != sys::Status::napi_ok
    {
        return Err(fail());
    }
    for (i, units) in strings.enumerate() {
        let mut s = ptr::null_mut();
        // SAFETY: `units` is valid for units.len() u16 reads; N-API copies them.
        let ok = unsafe {
            sys::napi_create_string_utf16(env, units.as_ptr(), units.len() as isize, &mut s)
                == sys::Status::napi_ok
                && sys::napi_set_element(env, array, i as u32, s) == sys::Status::napi_ok
        };
        if !ok {
            return Err(fail());
        }
    }
    Ok(array)
}

/// Adds a raw function to `exports` under `name`.
pub fn export(env: Env, exports: Value, name: &str, cb: sys::napi_callback) -> napi::Result<()> {
    let cname = CString::new(name).map_err(|_| napi::Error::from_reason("bad export name"))?;
    let mut f = ptr::null_mut();
    // SAFETY: called during module init with the module's env and exports object.
    unsafe {
        let s = sys::napi_create_function(
            env,
            cname.as_ptr(),
            name.len() as isize,
            cb,
            ptr::null_mut(),
            &mut f,
        );
        if s != sys::Status::napi_ok {
            return Err(napi::Error::from_reason(format!(
                "could not create function {name}"
            )));
        }
        if sys::napi_set_named_property(env, exports, cname.as_ptr(), f) != sys::Status::napi_ok {
            return Err(napi::Error::from_reason(format!("could not export {name}")));
        }
    }
    Ok(())
}
