//! The key hash the policies share with the pure-TS engine (src/memory/policies/hash.ts):
//! both must compute the same 32 bits for the same key so that the sketch and the ghost
//! queue decide identically. It is taken over the key's UTF-16 code units, which the
//! binding's encoding (`[0, latin1...]` or `[1, utf16le...]`) gives back without
//! allocating; any other byte string is hashed byte by byte. FNV-1a per unit, seeded,
//! then murmur3's finalizer so that every output bit depends on every input bit.

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

#[inline]
pub fn key_hash(key: &[u8], seed: u32) -> u32 {
    let mut h = seed ^ FNV_OFFSET;
    match key.split_first() {
        Some((1, rest)) => {
            for pair in rest.chunks_exact(2) {
                let unit = pair[0] as u32 | (pair[1] as u32) << 8;
                h = (h ^ unit).wrapping_mul(FNV_PRIME);
            }
        }
        Some((0, rest)) => {
            for &b in rest {
                h = (h ^ b as u32).wrapping_mul(FNV_PRIME);
            }
        }
        _ => {
            for &b in key {
                h = (h ^ b as u32).wrapping_mul(FNV_PRIME);
            }
        }
    }
    fmix32(h)
}

#[inline]
pub fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_and_utf16_forms_hash_their_code_units() {
        // "ab" as [0, a, b] and the same units as [1, a, 0, b, 0] hash alike: the hash is
        // over code units, whatever the encoding.
        assert_eq!(
            key_hash(&[0, b'a', b'b'], 7),
            key_hash(&[1, b'a', 0, b'b', 0], 7)
        );
        assert_ne!(key_hash(&[0, b'a', b'b'], 7), key_hash(&[0, b'a', b'b'], 8));
        // Pinned value, checked against the TS implementation in __test__/policies-hash.test.ts.
        assert_eq!(key_hash(&[0, b'k', b'e', b'y'], 42), 0x60e9_572c);
        let utf16: Vec<u8> = std::iter::once(1)
            .chain("ключ🔑".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(key_hash(&utf16, 7), 0xea02_8695);
        assert_eq!(key_hash(&[0], 0), 0xab3e_7c0b);
    }
}
