//! The byte layout of one entry's record: everything the cache keeps per entry except its
//! slot (links) and its index bucket.
//!
//! ```text
//! byte 0      1 D L L L L L L    bit 7 set: a live record (a free chunk has byte 0 = 0)
//!                                bit 6 (D): a deadline follows the key
//!                                bits 0-5: key length 0..=62, or 63: the length follows
//! [varint]    key length, when bits 0-5 are 63 (LEB128)
//! key bytes
//! [8 bytes]   deadline, f64 little-endian, when D is set
//! varint      value length (LEB128, at most 2^32 - 1)
//! value bytes
//! ```
//! The key comes first so that a lookup compares it without decoding anything else; a
//! 24-byte key with a 100-byte value takes 2 + 24 + 100 bytes. Records are byte-aligned
//! inside 8-byte-aligned chunks: the deadline is read with `from_le_bytes`.

pub(crate) const LIVE: u8 = 0x80;
const TIMED: u8 = 0x40;
const LONG_KEY: u8 = 63;

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn write_varint(out: &mut [u8], mut n: usize) -> usize {
    let mut i = 0;
    while n >= 0x80 {
        out[i] = (n as u8) | 0x80;
        n >>= 7;
        i += 1;
    }
    out[i] = n as u8;
    i + 1
}

#[inline]
fn read_varint(b: &[u8]) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let byte = b[i];
        n |= ((byte & 0x7F) as usize) << shift;
        i += 1;
        if byte & 0x80 == 0 {
            return (n, i);
        }
        shift += 7;
    }
}

/// Bytes a record takes.
pub(crate) fn size(key_len: usize, value_len: usize, timed: bool) -> usize {
    let key_header = if key_len < LONG_KEY as usize { 0 } else { varint_len(key_len) };
    1 + key_header + key_len + if timed { 8 } else { 0 } + varint_len(value_len) + value_len
}

/// Writes a record into `out` (at least `size(...)` bytes).
pub(crate) fn write(out: &mut [u8], key: &[u8], value: &[u8], deadline: Option<f64>) {
    let mut at = 1;
    let mut b0 = LIVE;
    if deadline.is_some() {
        b0 |= TIMED;
    }
    if key.len() < LONG_KEY as usize {
        b0 |= key.len() as u8;
    } else {
        b0 |= LONG_KEY;
        at += write_varint(&mut out[at..], key.len());
    }
    out[0] = b0;
    out[at..at + key.len()].copy_from_slice(key);
    at += key.len();
    if let Some(d) = deadline {
        out[at..at + 8].copy_from_slice(&d.to_le_bytes());
        at += 8;
    }
    at += write_varint(&mut out[at..], value.len());
    out[at..at + value.len()].copy_from_slice(value);
}

/// Where the key starts and how long it is.
#[inline(always)]
fn key_span(r: &[u8]) -> (usize, usize) {
    let short = r[0] & LONG_KEY;
    if short != LONG_KEY {
        (1, short as usize)
    } else {
        let (len, n) = read_varint(&r[1..]);
        (1 + n, len)
    }
}

#[inline(always)]
pub(crate) fn key(r: &[u8]) -> &[u8] {
    let (at, len) = key_span(r);
    &r[at..at + len]
}

#[inline]
pub(crate) fn is_timed(r: &[u8]) -> bool {
    r[0] & TIMED != 0
}

/// The deadline (ms), 0 when the record has none.
#[inline(always)]
pub(crate) fn deadline(r: &[u8]) -> f64 {
    if r[0] & TIMED == 0 {
        return 0.0;
    }
    let (at, len) = key_span(r);
    let d = at + len;
    f64::from_le_bytes(r[d..d + 8].try_into().expect("8 bytes"))
}

#[inline]
pub(crate) fn value(r: &[u8]) -> &[u8] {
    let (at, len) = key_span(r);
    let mut v = at + len;
    if r[0] & TIMED != 0 {
        v += 8;
    }
    let (n, used) = read_varint(&r[v..]);
    &r[v + used..v + used + n]
}

/// The record's own length (its chunk may be longer).
pub(crate) fn len(r: &[u8]) -> usize {
    let (at, klen) = key_span(r);
    let mut v = at + klen;
    if r[0] & TIMED != 0 {
        v += 8;
    }
    let (n, used) = read_varint(&r[v..]);
    v + used + n
}

/// Whether the record's key is `key`: lengths first, then 8 bytes at a time (short keys
/// are the common case; a libc `memcmp` call costs more than the comparison).
#[inline(always)]
pub(crate) fn key_is(r: &[u8], key: &[u8]) -> bool {
    let stored = self::key(r);
    if stored.len() != key.len() {
        return false;
    }
    let mut a = stored.chunks_exact(8);
    let mut b = key.chunks_exact(8);
    for (x, y) in (&mut a).zip(&mut b) {
        let x = u64::from_le_bytes(x.try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(y.try_into().expect("8 bytes"));
        if x != y {
            return false;
        }
    }
    a.remainder().iter().zip(b.remainder()).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_field_at_the_length_boundaries() {
        for klen in [0, 1, 62, 63, 64, 127, 128, 300, 20_000] {
            for vlen in [0, 1, 127, 128, 16_383, 16_384, 70_000] {
                for deadline in [None, Some(12.5), Some(-0.0), Some(f64::MAX)] {
                    let k: Vec<u8> = (0..klen).map(|i| (i * 7) as u8).collect();
                    let v: Vec<u8> = (0..vlen).map(|i| (i * 13) as u8).collect();
                    let n = size(klen, vlen, deadline.is_some());
                    let mut buf = vec![0xEEu8; n + 5];
                    write(&mut buf, &k, &v, deadline);
                    assert_eq!(buf[0] & LIVE, LIVE);
                    assert_eq!(len(&buf), n);
                    assert_eq!(key(&buf), &k[..]);
                    assert_eq!(value(&buf), &v[..]);
                    assert_eq!(is_timed(&buf), deadline.is_some());
                    assert_eq!(super::deadline(&buf).to_bits(), deadline.unwrap_or(0.0).to_bits());
                    assert!(buf[n..].iter().all(|&b| b == 0xEE), "wrote past the record");
                }
            }
        }
        assert_eq!(size(24, 100, false), 126);
    }
}
