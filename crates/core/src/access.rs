//! Slot-addressed operations for callers that keep their own key → slot index (the
//! N-API hot path: JS finds a hit in its own Map and only records the access).
//!
//! A recorded access is a slot number; applying a batch of them in order gives exactly
//! the LRU order that calling `get` for each would have given, provided the caller
//! applies them before anything that reads or changes the order (set, delete, eviction,
//! sweep, `keys_mru_to_lru`). Hits and misses seen by such a caller are counted by it and
//! added here with [`Lru::add_lookups`], so [`Lru::counters`] stays the one total.

use crate::{Lru, Now, VACANT};

/// Why a batch of recorded accesses was refused (nothing was applied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadSlot {
    /// Position in the batch.
    pub index: usize,
    /// The value found there.
    pub slot: i64,
}

impl Lru {
    /// Whether `slot` holds an entry.
    #[inline]
    pub fn is_occupied(&self, slot: u32) -> bool {
        self.entries
            .get(slot as usize)
            .is_some_and(|e| e.prev != VACANT)
    }

    /// Moves each slot of `slots` to the most recently used position, in order (a batch of
    /// recorded get hits). Counts nothing. Every slot is checked first: if one is not an
    /// occupied slot, nothing is applied and the first bad one is returned.
    pub fn touch_slots<S: Copy + Into<i64>>(&mut self, slots: &[S]) -> Result<(), BadSlot> {
        for (index, &s) in slots.iter().enumerate() {
            let slot: i64 = s.into();
            if !(0..=u32::MAX as i64).contains(&slot) || !self.is_occupied(slot as u32) {
                return Err(BadSlot { index, slot });
            }
        }
        for &s in slots {
            let slot: i64 = s.into();
            self.move_to_head(slot as u32);
        }
        Ok(())
    }

    /// Removes the entry in `slot` as `delete` would: `Some(true)` if it was live,
    /// `Some(false)` if it had expired (counted as an expiration), `None` if the slot holds
    /// no entry (nothing changes).
    pub fn remove_slot(&mut self, slot: u32, now: &mut impl Now) -> Option<bool> {
        if !self.is_occupied(slot) {
            return None;
        }
        let expired = self.entries[slot as usize].is_expired(now);
        self.remove(slot);
        if expired {
            self.counters.expirations += 1;
        }
        Some(!expired)
    }

    /// Adds hits and misses counted by a caller that served them itself.
    pub fn add_lookups(&mut self, hits: u64, misses: u64) {
        self.counters.hits += hits;
        self.counters.misses += misses;
    }

    /// The deadline stored for `slot` (0 = never), if occupied: lets a caller check that
    /// its own copy agrees.
    pub fn deadline_at(&self, slot: u32) -> Option<f64> {
        self.is_occupied(slot)
            .then(|| self.entries[slot as usize].deadline)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Get, Lru};
    use proptest::prelude::*;

    fn order(c: &Lru) -> Vec<Vec<u8>> {
        c.keys_mru_to_lru()
    }

    #[test]
    fn touches_equal_gets_and_bad_slots_change_nothing() {
        let mut a = Lru::new(4);
        let mut b = Lru::new(4);
        let t = &mut 0.0;
        for k in [b"a", b"b", b"c"] {
            a.set(k, 0.0, t);
            b.set(k, 0.0, t);
        }
        a.get(b"a", t);
        a.get(b"b", t);
        b.touch_slots(&[0i32, 1]).unwrap();
        assert_eq!(order(&a), order(&b));
        let before = order(&b);
        assert_eq!(
            b.touch_slots(&[2i32, 3]),
            Err(super::BadSlot { index: 1, slot: 3 })
        );
        assert_eq!(b.touch_slots(&[-1i32]).unwrap_err().slot, -1);
        assert_eq!(order(&b), before, "a refused batch applies nothing");
    }

    #[test]
    fn remove_slot_counts_like_delete() {
        let mut c = Lru::new(2);
        c.set(b"a", 10.0, &mut 0.0);
        c.set(b"b", 0.0, &mut 0.0);
        assert_eq!(c.remove_slot(0, &mut 10.0), Some(false));
        assert_eq!(c.counters().expirations, 1);
        assert_eq!(c.remove_slot(0, &mut 10.0), None);
        assert_eq!(c.remove_slot(1, &mut 10.0), Some(true));
        assert_eq!(c.remove_slot(99, &mut 10.0), None);
        assert!(c.is_empty());
    }

    proptest! {
        /// Recording hits and applying them later (before every set) gives the same
        /// order, slots and counters as calling get each time.
        #[test]
        fn deferred_touches_agree_with_get(ops in proptest::collection::vec((0u8..3, 0u8..6), 1..300)) {
            let mut eager = Lru::new(4);
            let mut lazy = Lru::new(4);
            let mut ring: Vec<u32> = Vec::new();
            let (mut hits, mut misses) = (0u64, 0u64);
            for (op, k) in ops {
                let key = [b'k', k];
                let t = &mut 0.0;
                if op == 0 {
                    let a = eager.set(&key, 0.0, t);
                    lazy.touch_slots(&ring).unwrap();
                    ring.clear();
                    let b = lazy.set(&key, 0.0, t);
                    prop_assert_eq!(a, b);
                } else {
                    let a = eager.get(&key, t);
                    match lazy.peek(&key, t) {
                        Some(s) => { hits += 1; ring.push(s); prop_assert_eq!(a, Get::Hit(s)); }
                        None => { misses += 1; prop_assert_eq!(a, Get::Miss); }
                    }
                }
            }
            lazy.touch_slots(&ring).unwrap();
            lazy.add_lookups(hits, misses);
            prop_assert_eq!(order(&eager), order(&lazy));
            prop_assert_eq!(eager.counters(), lazy.counters());
        }
    }
}
