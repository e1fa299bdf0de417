//! Size classes of the arena's small records: every multiple of 8 bytes up to 256, then
//! eight classes per doubling (steps of 12.5 %) up to [`MAX_SMALL`]. A record of `len`
//! bytes takes the smallest class that holds it, so rounding wastes less than 8 bytes up
//! to 256 bytes and under 12.5 % above.

/// Largest record kept in pages; longer ones get their own allocation.
pub(crate) const MAX_SMALL: usize = 16 * 1024;
/// Classes 0..32 are 8..=256 in steps of 8; then 8 per doubling from 257 to MAX_SMALL.
pub(crate) const CLASSES: usize = 32 + 8 * 6;

/// Chunk sizes by class, and chunks per page by class (lookups on the hot path).
pub(crate) const SIZES: [u16; CLASSES] = {
    let mut t = [0u16; CLASSES];
    let mut c = 0;
    while c < CLASSES {
        t[c] = size_of_class(c) as u16;
        c += 1;
    }
    t
};

/// The chunk size of class `c`.
#[inline]
pub(crate) fn class_size(c: usize) -> usize {
    SIZES[c] as usize
}

/// Chunks per page of each class.
pub(crate) const PER_PAGE: [u16; CLASSES] = {
    let mut t = [0u16; CLASSES];
    let mut c = 0;
    while c < CLASSES {
        t[c] = (super::PAGE / size_of_class(c)) as u16;
        c += 1;
    }
    t
};

const fn size_of_class(c: usize) -> usize {
    if c < 32 {
        (c + 1) * 8
    } else {
        let k = c - 32;
        let p = 8 + k / 8; // the doubling: sizes in (2^p, 2^(p+1)]
        (9 + k % 8) << (p - 3)
    }
}

/// The class of a record of `len` bytes (1..=MAX_SMALL).
#[inline]
pub(crate) fn class_of(len: usize) -> usize {
    debug_assert!((1..=MAX_SMALL).contains(&len));
    if len <= 256 {
        return (len - 1) / 8;
    }
    let p = (usize::BITS - 1 - (len - 1).leading_zeros()) as usize; // floor(log2(len - 1)) >= 8
    32 + (p - 8) * 8 + ((len - 1) >> (p - 3)) - 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_gets_the_smallest_class_that_holds_it() {
        assert_eq!(class_size(CLASSES - 1), MAX_SMALL);
        for c in 1..CLASSES {
            assert!(class_size(c) > class_size(c - 1));
            assert_eq!(class_size(c) % 8, 0);
        }
        for len in 1..=MAX_SMALL {
            let c = class_of(len);
            assert!(class_size(c) >= len, "{len} in class {c} of {}", class_size(c));
            assert!(c == 0 || class_size(c - 1) < len, "{len}: class {c} is not the smallest");
        }
    }
}
