//! Reading JS strings: the one UTF-16 reader of the binding (keys, batch keys and string
//! values all go through [`with_units`]), and the key encoding.
//!
//! Key encoding (exact for all of Unicode, lone surrogates included, and the same string
//! always gives the same bytes): the string is read as UTF-16 code units. If every unit
//! is below 256 (the common, one-byte case) the key is `[0, units as u8...]`; otherwise it
//! is `[1, units as little-endian u16 pairs...]`. The leading tag keeps the two forms
//! from ever colliding; the one-byte form halves the memory of ASCII keys.

use crate::raw::{type_error, Fail, Res};
use napi::sys;
use std::mem::MaybeUninit;
use std::ptr;

/// Strings shorter than this many UTF-16 units (less 1: N-API's NUL, less 1 more to tell a
/// full buffer from a longer string) are read into a stack buffer in one N-API call. Longer
/// ones cost two more calls and an allocation: 128 put 128-char keys on that path.
const STACK_UNITS: usize = 512;
/// Longest key the binding reads (the cache itself stops at 4096): bounds one call's work.
pub const MAX_KEY_UNITS: usize = 1 << 16;
/// Bytes of an encoded key kept on the stack.
const ENCODED_STACK_BYTES: usize = 1 + 2 * STACK_UNITS;

/// Calls `f` with the UTF-16 units of the string `value` (at most `max_units` of them);
/// a TypeError naming `what` if it is not a string or is longer.
#[inline]
pub fn with_units<R>(env: sys::napi_env, value: sys::napi_value, max_units: usize, what: &str, f: impl FnOnce(&[u16]) -> R) -> Res<R> {
    // Uninitialized on purpose: zeroing 256 bytes per call showed up in profiles.
    let mut units = MaybeUninit::<[u16; STACK_UNITS]>::uninit();
    let mut len = 0usize;
    // SAFETY: `units` is valid for STACK_UNITS u16 writes (bufsize counts the terminating
    // NUL that N-API writes); N-API writes at most bufsize units and reports in `len` how
    // many it copied, excluding the NUL.
    let status = unsafe { sys::napi_get_value_string_utf16(env, value, units.as_mut_ptr().cast(), STACK_UNITS, &mut len) };
    if status != sys::Status::napi_ok {
        return Err(not_a_string(what));
    }
    if len < STACK_UNITS - 1 {
        // SAFETY: N-API initialized the first `len` (< STACK_UNITS) units.
        let read = unsafe { std::slice::from_raw_parts(units.as_ptr().cast::<u16>(), len) };
        return Ok(f(read));
    }
    // The buffer was filled: the string may be longer. Ask for its length, then read it whole.
    let mut full = 0usize;
    // SAFETY: a null buffer asks N-API only for the length, written to `full`.
    if unsafe { sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut full) } != sys::Status::napi_ok {
        return Err(not_a_string(what));
    }
    if full > max_units {
        return Err(type_error(format!("astra-cache native: {what} is {full} UTF-16 units long; the binding accepts at most {max_units}")));
    }
    let mut heap = vec![0u16; full + 1];
    // SAFETY: `heap` is valid for full + 1 u16 writes, the size passed.
    if unsafe { sys::napi_get_value_string_utf16(env, value, heap.as_mut_ptr(), full + 1, &mut len) } != sys::Status::napi_ok {
        return Err(not_a_string(what));
    }
    Ok(f(&heap[..len.min(full)]))
}

/// Calls `f` with the encoded bytes of the key string `value`.
#[inline]
pub fn with_key<R>(env: sys::napi_env, value: sys::napi_value, f: impl FnOnce(&[u8]) -> R) -> Res<R> {
    with_units(env, value, MAX_KEY_UNITS, "key", |units| encode(units, f))
}

/// Whether every unit fits one byte (the latin1 forms of keys and string values).
#[inline]
pub fn one_byte(units: &[u16]) -> bool {
    units.iter().all(|&u| u < 256)
}

/// The encoded form of the key `units` (see the module doc), passed to `f`. Short keys
/// take one pass: their units are narrowed while their high bytes are collected, and only
/// a key with a unit of 256 or more is written again in the two-byte form.
#[inline]
pub fn encode<R>(units: &[u16], f: impl FnOnce(&[u8]) -> R) -> R {
    // Uninitialized on purpose: zeroing the buffer per call cost more than the key's copy.
    let mut bytes = [MaybeUninit::<u8>::uninit(); ENCODED_STACK_BYTES];
    if 2 * units.len() < ENCODED_STACK_BYTES {
        let mut high = 0u16;
        bytes[0].write(0);
        for (o, &u) in bytes[1..=units.len()].iter_mut().zip(units) {
            o.write(u as u8);
            high |= u;
        }
        let n = if high < 256 { 1 + units.len() } else { fill_two_byte(units, &mut bytes) };
        // SAFETY: the first n bytes were written above (the tag and one byte per unit, or
        // fill_two_byte's tag and two bytes per unit).
        return f(unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<u8>(), n) });
    }
    let mut heap = vec![MaybeUninit::<u8>::uninit(); 1 + 2 * units.len()];
    let n = if one_byte(units) {
        heap[0].write(0);
        for (o, &u) in heap[1..].iter_mut().zip(units) {
            o.write(u as u8);
        }
        1 + units.len()
    } else {
        fill_two_byte(units, &mut heap)
    };
    // SAFETY: as above, the first n bytes were written.
    f(unsafe { std::slice::from_raw_parts(heap.as_ptr().cast::<u8>(), n) })
}

/// Writes the two-byte form (tag 1, then each unit little-endian); its length.
#[inline]
fn fill_two_byte(units: &[u16], out: &mut [MaybeUninit<u8>]) -> usize {
    out[0].write(1);
    for (o, &u) in out[1..].chunks_exact_mut(2).zip(units) {
        let [lo, hi] = u.to_le_bytes();
        o[0].write(lo);
        o[1].write(hi);
    }
    1 + 2 * units.len()
}

/// The UTF-16 units of an encoded key (the inverse of `encode`).
pub fn decode(bytes: &[u8]) -> Vec<u16> {
    match bytes.split_first() {
        Some((0, rest)) => rest.iter().map(|&b| b as u16).collect(),
        Some((_, rest)) => rest.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect(),
        None => Vec::new(),
    }
}

#[cold]
fn not_a_string(what: &str) -> Fail {
    type_error(format!("astra-cache native: {what} must be a string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> Vec<u8> {
        let units: Vec<u16> = s.encode_utf16().collect();
        encode(&units, |b| b.to_vec())
    }

    #[test]
    fn one_byte_and_two_byte_forms_never_collide() {
        assert_eq!(enc("ab"), [0, b'a', b'b']);
        assert_eq!(enc("é"), [0, 0xE9]);
        assert_eq!(enc("\u{0100}"), [1, 0x00, 0x01]);
        assert_ne!(enc("\u{0100}"), enc("\u{0}\u{1}"));
        assert_eq!(enc(""), [0]);
        assert_eq!(enc("😀").len(), 5);
    }

    #[test]
    fn decode_inverts_encode() {
        for s in ["", "ab", "é", "\u{0100}", "😀x", "ж"] {
            let units: Vec<u16> = s.encode_utf16().collect();
            assert_eq!(decode(&enc(s)), units);
        }
    }

    #[test]
    fn long_keys_use_the_heap_path() {
        assert_eq!(enc(&"x".repeat(1000)).len(), 1001);
        assert_eq!(enc(&"ж".repeat(1000)).len(), 2001);
    }
}
