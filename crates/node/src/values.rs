//! Serialized values: a JS string or Uint8Array <-> the bytes stored in the cache.
//!
//! A stored value is `[tag, payload...]` (`layout.rs`). Tag bits 0-1 say what the payload
//! is: 0 a string whose UTF-16 units are all < 256, one byte each (latin1); 1 any other
//! string, as UTF-16LE; 2 raw bytes (a Buffer or Uint8Array). Bit 2 (`TAG_SERIALIZED`)
//! marks the serializer's output, which JS must deserialize; without it the value is the
//! user's own string or Buffer, returned as the same type with no serializer round trip.

use crate::layout::{TAG_BYTES, TAG_LATIN1, TAG_SERIALIZED, TAG_UTF16};
use crate::raw::{check, type_error, Env, Res, Value};
use crate::text;
use napi::sys;
use std::ffi::c_void;
use std::ptr;

/// Largest value accepted (bytes after encoding): keeps a length in u32 range and one
/// call's copy bounded.
pub const MAX_VALUE_BYTES: usize = 1 << 30;

/// The stored form of a JS string or Uint8Array `v`.
pub fn read(env: Env, v: Value, serialized: bool) -> Res<Vec<u8>> {
    let flag = if serialized { TAG_SERIALIZED } else { 0 };
    let mut kind = 0;
    // SAFETY: v is an argument of the current callback; kind is a valid location.
    check(unsafe { sys::napi_typeof(env, v, &mut kind) }, "read a value's type")?;
    if kind == sys::ValueType::napi_string {
        return text::with_units(env, v, MAX_VALUE_BYTES / 2, "value", |units| {
            if text::one_byte(units) {
                std::iter::once(TAG_LATIN1 | flag).chain(units.iter().map(|&u| u as u8)).collect()
            } else {
                let mut out = Vec::with_capacity(1 + 2 * units.len());
                out.push(TAG_UTF16 | flag);
                for u in units {
                    out.extend(u.to_le_bytes());
                }
                out
            }
        });
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
        return Err(type_error(format!("astra-cache native: value of {len} bytes is larger than the {MAX_VALUE_BYTES}-byte limit")));
    }
    let mut out = Vec::with_capacity(1 + len);
    out.push(TAG_BYTES | flag);
    if len > 0 && !data.is_null() {
        // SAFETY: `data` points at the `len` bytes of the array's view (N-API applied the
        // byte offset), alive for this call since the array is one of its arguments.
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) });
    }
    Ok(out)
}

/// The JS value of stored bytes `v` (a string or a Buffer), and its tag.
pub fn make(env: Env, v: &[u8]) -> Res<(Value, u8)> {
    let Some((&tag, payload)) = v.split_first() else {
        return Err(crate::raw::fail_call("read a stored value"));
    };
    let mut out = ptr::null_mut();
    match tag & 3 {
        TAG_LATIN1 => {
            // SAFETY: payload is valid for payload.len() bytes; N-API copies them.
            check(unsafe { sys::napi_create_string_latin1(env, payload.as_ptr().cast(), payload.len() as isize, &mut out) }, "create a string")?;
        }
        TAG_UTF16 => {
            // Records are byte-aligned: copy the units out (N-API needs aligned u16s).
            let units: Vec<u16> = payload.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            // SAFETY: `units` is valid for units.len() u16 reads; N-API copies them.
            check(unsafe { sys::napi_create_string_utf16(env, units.as_ptr(), units.len() as isize, &mut out) }, "create a string")?;
        }
        _ => {
            let mut data = ptr::null_mut();
            // SAFETY: payload is valid for payload.len() bytes; N-API copies them into a new Buffer.
            check(unsafe { sys::napi_create_buffer_copy(env, payload.len(), payload.as_ptr().cast(), &mut data, &mut out) }, "create a Buffer")?;
        }
    }
    Ok((out, tag))
}
