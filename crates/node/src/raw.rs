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
/// Boxed: a `Res<i32>` then stays two words, which the hot calls pass around in registers
/// (an unboxed one made them copy it through the stack).
pub struct Fail(Box<FailInfo>);

pub struct FailInfo {
    type_error: bool,
    code: &'static str,
    message: String,
}

pub type Res<T> = Result<T, Fail>;

#[cold]
pub fn type_error(message: impl Into<String>) -> Fail {
    Fail(Box::new(FailInfo { type_error: true, code: "ERR_ASTRA_NATIVE_ARG", message: message.into() }))
}

#[cold]
pub fn error(code: &'static str, message: impl Into<String>) -> Fail {
    Fail(Box::new(FailInfo { type_error: false, code, message: message.into() }))
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
    let fail = *fail.0;
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

/// A status check: Ok, or an error saying what could not be done.
#[inline(always)]
pub fn check(status: sys::napi_status, what: &str) -> Res<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(fail_call(what))
    }
}

#[cold]
pub fn fail_call(what: &str) -> Fail {
    error("ERR_ASTRA_NATIVE_CALL", format!("astra-cache native: could not {what}"))
}

pub fn boolean(env: Env, b: bool) -> Res<Value> {
    let mut out = ptr::null_mut();
    // SAFETY: env is live; out receives a handle in the current scope.
    check(unsafe { sys::napi_get_boolean(env, b, &mut out) }, "create a boolean")?;
    Ok(out)
}

/// A JS string of UTF-16 units.
pub fn string(env: Env, units: &[u16]) -> Res<Value> {
    let mut out = ptr::null_mut();
    // SAFETY: `units` is valid for units.len() u16 reads; N-API copies them.
    check(unsafe { sys::napi_create_string_utf16(env, units.as_ptr(), units.len() as isize, &mut out) }, "create a string")?;
    Ok(out)
}

/// A JS array of the given values, in order.
pub fn array(env: Env, values: &[Value]) -> Res<Value> {
    let mut out = ptr::null_mut();
    // SAFETY: env is live; out receives a new handle in the current scope.
    check(unsafe { sys::napi_create_array_with_length(env, values.len(), &mut out) }, "build an array")?;
    for (i, &v) in values.iter().enumerate() {
        // SAFETY: out and v are live handles of the current scope.
        check(unsafe { sys::napi_set_element(env, out, i as u32, v) }, "build an array")?;
    }
    Ok(out)
}

/// A plain object whose properties are the given numbers.
pub fn object_of_numbers(env: Env, fields: &[(String, f64)]) -> Res<Value> {
    let mut out = ptr::null_mut();
    // SAFETY: env is live; out receives a new handle in the current scope.
    check(unsafe { sys::napi_create_object(env, &mut out) }, "build an object")?;
    for (name, value) in fields {
        let cname = CString::new(name.as_str()).map_err(|_| fail_call("name a property"))?;
        let v = double(env, *value)?;
        // SAFETY: out and v are live handles; cname is NUL-terminated and outlives the call.
        check(unsafe { sys::napi_set_named_property(env, out, cname.as_ptr(), v) }, "build an object")?;
    }
    Ok(out)
}

/// A u32 argument that may be left out (undefined reads as 0).
pub fn optional_u32(env: Env, v: Value, what: &str) -> Res<u32> {
    let mut t = sys::ValueType::napi_undefined;
    // SAFETY: v is an argument of the current callback (N-API fills missing ones with undefined).
    check(unsafe { sys::napi_typeof(env, v, &mut t) }, "read an argument's type")?;
    if t == sys::ValueType::napi_undefined {
        return Ok(0);
    }
    u32_arg(env, v, what)
}

/// A raw callback and the name it is exported under.
pub type Export = (&'static str, sys::napi_callback);

/// Adds raw functions to `exports`.
pub fn export_all(env: Env, exports: Value, functions: &[Export]) -> napi::Result<()> {
    for &(name, cb) in functions {
        let cname = CString::new(name).map_err(|_| napi::Error::from_reason("bad export name"))?;
        let mut f = ptr::null_mut();
        // SAFETY: called during module init with the module's env and exports object.
        unsafe {
            if sys::napi_create_function(env, cname.as_ptr(), name.len() as isize, cb, ptr::null_mut(), &mut f) != sys::Status::napi_ok {
                return Err(napi::Error::from_reason(format!("could not create function {name}")));
            }
            if sys::napi_set_named_property(env, exports, cname.as_ptr(), f) != sys::Status::napi_ok {
                return Err(napi::Error::from_reason(format!("could not export {name}")));
            }
        }
    }
    Ok(())
}
