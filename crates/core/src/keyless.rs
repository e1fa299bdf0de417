//! Keyless entries, for a caller that keeps its own key → slot index (the N-API hot path
//! in reference storage: JS's Map already knows whether a key is present).
//!
//! Such a caller never hands Rust a key: a set of a present key names its slot
//! ([`Lru::update_slot`]), a set of a new key asks for a slot ([`Lru::insert_keyless`]),
//! a delete names the slot ([`Lru::remove_slot`]). The entries carry no key bytes and are
//! not in the hash table, so a set costs no key copy, hash or probe. Order, deadlines,
//! sweep, eviction and counters are the same code as keyed `set` (`insert_lru`, `sweep`,
//! `move_to_head`), so both give the same slots and counters op for op.
//!
//! LRU only: S3-FIFO's ghost and W-TinyLFU's sketch need the key's hash.

use crate::{deadline_of, Lru, Policy, SetOutcome, EMPTY_KEY};

/// Why a keyless set was refused (nothing changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeylessError {
    /// The cache evicts by S3-FIFO or W-TinyLFU, which need keys.
    NotLru,
    /// `update_slot` was given a slot that holds no entry.
    NotOccupied(u32),
}

impl Lru {
    /// Inserts an entry with no key, as `set` of an absent key would: sweep, then evict
    /// the LRU tail if full, take a slot (the victim's, if any) and make it the most
    /// recently used. `ttl_ms` 0 means no expiry.
    pub fn insert_keyless(
        &mut self,
        ttl_ms: f64,
        now: &mut impl crate::Now,
    ) -> Result<SetOutcome, KeylessError> {
        if !matches!(self.policy, Policy::Lru) {
            return Err(KeylessError::NotLru);
        }
        self.counters.sets += 1;
        let swept = self.sweep(now);
        let deadline = deadline_of(ttl_ms, now);
        let slot = self.insert_lru(EMPTY_KEY, 0, deadline, now);
        Ok(SetOutcome { slot, swept })
    }

    /// A set of the key the caller keeps in `slot`, as `set` of a present key would:
    /// sweep, then a new deadline and most recently used. If the sweep removed that very
    /// entry (it had expired), the key is inserted again, as `set` would after not
    /// finding it; the outcome's slot is where it is now.
    pub fn update_slot(
        &mut self,
        slot: u32,
        ttl_ms: f64,
        now: &mut impl crate::Now,
    ) -> Result<SetOutcome, KeylessError> {
        if !matches!(self.policy, Policy::Lru) {
            return Err(KeylessError::NotLru);
        }
        if !self.is_occupied(slot) {
            return Err(KeylessError::NotOccupied(slot));
        }
        self.counters.sets += 1;
        let swept = self.sweep(now);
        let deadline = deadline_of(ttl_ms, now);
        if !self.is_occupied(slot) {
            let slot = self.insert_lru(EMPTY_KEY, 0, deadline, now);
            return Ok(SetOutcome { slot, swept });
        }
        self.entries[slot as usize].deadline = deadline;
        self.move_to_head(slot);
        Ok(SetOutcome { slot, swept })
    }

    /// Applies an insert the caller deferred (its "set of a new key" recorded with the
    /// hits, see `hpInsert`'s victims in crates/node/src/hotpath.rs): valid only when no
    /// entry has a deadline (so the sweep frees nothing and the victim is evicted, not
    /// expired) and the cache is full with `victim` as its LRU tail, which is then
    /// evicted and its slot reused, exactly as `insert_keyless` would. Refused (nothing
    /// changes) when the cache is not full, `victim` is not the tail, or the tail has a
    /// deadline.
    pub fn insert_keyless_over(&mut self, victim: u32) -> Result<(), KeylessError> {
        if !matches!(self.policy, Policy::Lru) {
            return Err(KeylessError::NotLru);
        }
        let tail_ok = self.len == self.capacity
            && self.tail == victim
            && self.entries[victim as usize].deadline == crate::NEVER;
        if !tail_ok {
            return Err(KeylessError::NotOccupied(victim));
        }
        // NaN: the clock is never read for entries without deadlines; if the caller's
        // promise is wrong, NaN expires nothing rather than reading a time it did not give.
        let mut never_read = f64::NAN;
        let out = self.insert_keyless(0.0, &mut never_read)?;
        debug_assert_eq!(out.slot, victim);
        Ok(())
    }

    /// Calls `f` with up to `k` slots from the LRU tail towards the head (the next
    /// victims, in order, while nothing else changes the order).
    pub fn tail_slots(&self, k: usize, mut f: impl FnMut(usize, u32)) -> usize {
        let mut s = self.tail;
        let mut i = 0;
        while i < k && s != crate::NIL {
            f(i, s);
            s = self.entries[s as usize].prev;
            i += 1;
        }
        i
    }

    /// Occupied slots from most to least recently used (LRU; a keyless caller maps them
    /// to its own keys). Tests and debugging; O(n).
    pub fn slots_mru_to_lru(&self) -> Vec<u32> {
        if let Some(order) = self.policy_order() {
            return order;
        }
        let mut out = Vec::with_capacity(self.len as usize);
        let mut s = self.head;
        while s != crate::NIL {
            out.push(s);
            s = self.entries[s as usize].next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::KeylessError;
    use crate::{Lru, PolicyKind};
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn refuses_free_slots_and_other_policies() {
        let mut c = Lru::new(2);
        assert_eq!(
            c.update_slot(0, 0.0, &mut 0.0),
            Err(KeylessError::NotOccupied(0))
        );
        let s = c.insert_keyless(0.0, &mut 0.0).unwrap().slot;
        c.remove_slot(s, &mut 0.0);
        assert_eq!(
            c.update_slot(s, 0.0, &mut 0.0),
            Err(KeylessError::NotOccupied(s))
        );
        assert_eq!(c.counters().sets, 1, "a refused update counts nothing");
        assert_eq!(c.insert_keyless_over(s), Err(KeylessError::NotOccupied(s)), "not full");
        let mut s3 = Lru::with_policy(2, PolicyKind::S3Fifo, 0);
        assert_eq!(s3.insert_keyless(0.0, &mut 0.0), Err(KeylessError::NotLru));
    }

    proptest! {
        /// A keyless cache driven by a caller-side key → slot map gives the same slots,
        /// sweeps, order and counters as the keyed cache, op for op (with TTLs and time).
        #[test]
        fn keyless_agrees_with_keyed(
            cap in 1u32..6,
            ops in proptest::collection::vec((0u8..4, 0u8..8, 0u8..3, 0u8..3), 1..400),
        ) {
            let mut keyed = Lru::new(cap);
            let mut keyless = Lru::new(cap);
            let mut index: HashMap<u8, u32> = HashMap::new();
            let mut by_slot: HashMap<u32, u8> = HashMap::new();
            let mut t = 0.0f64;
            for (op, k, ttl, dt) in ops {
                t += dt as f64 * 5.0;
                let key = [b'k', k];
                let ttl_ms = ttl as f64 * 7.0;
                match op {
                    0 | 1 => {
                        let a = keyed.set(&key, ttl_ms, &mut t.clone());
                        let no_deadlines = keyless.slots_mru_to_lru().iter().all(|&s| keyless.deadline_at(s) == Some(0.0));
                        let b = match index.get(&k) {
                            Some(&s) => keyless.update_slot(s, ttl_ms, &mut t.clone()).unwrap(),
                            None if op == 1 && ttl_ms == 0.0 && no_deadlines && keyless.len() == cap => {
                                // deferred form: the caller predicted the victim
                                let mut victim = u32::MAX;
                                keyless.tail_slots(1, |_, s| victim = s);
                                keyless.insert_keyless_over(victim).unwrap();
                                crate::SetOutcome { slot: victim, swept: [None, None] }
                            }
                            None => keyless.insert_keyless(ttl_ms, &mut t.clone()).unwrap(),
                        };
                        prop_assert_eq!(a, b);
                        for s in b.swept.iter().flatten() {
                            let gone = by_slot.remove(s).unwrap();
                            index.remove(&gone);
                        }
                        if let Some(old) = by_slot.insert(b.slot, k) {
                            if old != k { index.remove(&old); } // evicted
                        }
                        index.insert(k, b.slot);
                    }
                    2 => {
                        let a = keyed.get(&key, &mut t.clone());
                        match index.get(&k).copied() {
                            Some(s) if keyless.deadline_at(s).is_some_and(|d| d != 0.0 && t >= d) => {
                                prop_assert_eq!(a, crate::Get::Expired(s));
                                keyless.remove_slot(s, &mut t.clone());
                                keyless.add_lookups(0, 1);
                                index.remove(&k);
                                by_slot.remove(&s);
                            }
                            Some(s) => {
                                prop_assert_eq!(a, crate::Get::Hit(s));
                                keyless.touch_slots(&[s as i64]).unwrap();
                                keyless.add_lookups(1, 0);
                            }
                            None => {
                                prop_assert_eq!(a, crate::Get::Miss);
                                keyless.add_lookups(0, 1);
                            }
                        }
                    }
                    _ => {
                        let a = keyed.delete(&key, &mut t.clone());
                        match index.remove(&k) {
                            Some(s) => {
                                by_slot.remove(&s);
                                let live = keyless.remove_slot(s, &mut t.clone()).unwrap();
                                prop_assert_eq!(a, if live { crate::Delete::Removed(s) } else { crate::Delete::Expired(s) });
                            }
                            None => prop_assert_eq!(a, crate::Delete::Absent),
                        }
                    }
                }
                let keys: Vec<Vec<u8>> = keyless
                    .slots_mru_to_lru()
                    .into_iter()
                    .map(|s| vec![b'k', by_slot[&s]])
                    .collect();
                prop_assert_eq!(keyed.keys_mru_to_lru(), keys);
                prop_assert_eq!(keyed.counters(), keyless.counters());
                prop_assert_eq!(keyed.len(), keyless.len());
            }
        }
    }
}
