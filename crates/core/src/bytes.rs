//! A cache of byte-string values: the core's slot API plus the values themselves, kept in
//! a `Vec` indexed by slot, with byte accounting and an optional `max_bytes` budget.
//!
//! Everything the LRU does (order, TTL, sweep, counters) is [`Lru`]'s; this layer only
//! keeps each slot's value in step with what the LRU reports: a value is dropped whenever
//! its slot is freed (expired on get, deleted, swept, evicted) and replaced when a slot is
//! reused. `bytes()` is always the sum of the stored values' lengths.
//!
//! The eviction policy is the [`Lru`]'s ([`ByteStore::with_policy`]): with no byte budget
//! the store decides exactly as `Lru::with_policy` does for the same operations.
//!
//! `max_bytes` (0 = no budget): after a set, the policy's victims ([`Lru::evict_one`]: the
//! entry it would evict at capacity) are evicted until the stored bytes fit, each counted
//! as an eviction, or as an expiration if it had expired. Under LRU the new entry is the
//! most recently used and never the victim; S3-FIFO and W-TinyLFU may pick it (a new key
//! that loses W-TinyLFU's admission, or the oldest of S3-FIFO's small queue), as they
//! would at capacity. A value longer than the whole budget is not stored: the set counts
//! as a set plus an eviction (as if it were inserted and evicted at once) and removes the
//! key's previous entry, so the rest of the cache is not flushed for one oversized value.

use crate::{Counters, Delete, Get, Lru, Now, PolicyKind};

pub struct ByteStore {
    lru: Lru,
    /// `values[slot]` is the value of the entry in that slot; `None` for a free slot.
    values: Vec<Option<Box<[u8]>>>,
    bytes: u64,
    max_bytes: u64,
}

impl ByteStore {
    /// `capacity` as for [`Lru::new`]; `max_bytes` 0 means no byte budget. Evicts by LRU.
    pub fn new(capacity: u32, max_bytes: u64) -> Self {
        Self::with_policy(capacity, max_bytes, PolicyKind::Lru, 0)
    }

    /// A store evicting by `kind`; `seed` seeds the policy's key hash (see [`Lru::with_policy`]).
    pub fn with_policy(capacity: u32, max_bytes: u64, kind: PolicyKind, seed: u32) -> Self {
        ByteStore {
            lru: Lru::with_policy(capacity, kind, seed),
            values: Vec::new(),
            bytes: 0,
            max_bytes,
        }
    }

    pub fn capacity(&self) -> u32 {
        self.lru.capacity()
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    pub fn len(&self) -> u32 {
        self.lru.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lru.is_empty()
    }

    /// Sum of the lengths of the stored values.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn counters(&self) -> Counters {
        self.lru.counters()
    }

    /// The LRU underneath (read-only: tests, key listings).
    pub fn lru(&self) -> &Lru {
        &self.lru
    }

    /// Heap held, roughly: the LRU's structures, the slot vector and the values.
    pub fn heap_bytes(&self) -> usize {
        self.lru.heap_bytes()
            + self.values.capacity() * std::mem::size_of::<Option<Box<[u8]>>>()
            + self.bytes as usize
    }

    /// The value of a live entry (a hit, now the most recently used), else `None`.
    pub fn get(&mut self, key: &[u8], now: &mut impl Now) -> Option<&[u8]> {
        match self.lru.get(key, now) {
            Get::Hit(slot) => self.values.get(slot as usize).and_then(|v| v.as_deref()),
            Get::Miss => None,
            Get::Expired(slot) => {
                self.drop_value(slot);
                None
            }
        }
    }

    /// The value of a live entry, without counting or reordering.
    pub fn peek(&self, key: &[u8], now: &mut impl Now) -> Option<&[u8]> {
        let slot = self.lru.peek(key, now)?;
        self.values.get(slot as usize).and_then(|v| v.as_deref())
    }

    /// Stores `value` under `key` (`ttl_ms` 0 = no expiry), then evicts to fit `max_bytes`.
    pub fn set(&mut self, key: &[u8], value: Box<[u8]>, ttl_ms: f64, now: &mut impl Now) {
        let len = value.len() as u64;
        if self.max_bytes != 0 && len > self.max_bytes {
            if let Some(slot) = self.lru.refuse(key) {
                self.drop_value(slot);
            }
            return;
        }
        let out = self.lru.set(key, ttl_ms, now);
        for slot in out.swept.iter().flatten() {
            self.drop_value(*slot);
        }
        let i = out.slot as usize;
        if i >= self.values.len() {
            self.values.resize_with(i + 1, || None);
        }
        // The slot may be the key's own (replaced) or an evicted entry's (reused): either
        // way its old value goes.
        if let Some(old) = self.values[i].replace(value) {
            self.bytes -= old.len() as u64;
        }
        self.bytes += len;
        if self.max_bytes != 0 {
            // Terminates: bytes fit before this set and the new value alone fits, so at
            // worst the loop stops once the new entry itself is evicted.
            while self.bytes > self.max_bytes {
                match self.lru.evict_one(now) {
                    Some(e) => self.drop_value(e.slot),
                    None => break,
                }
            }
        }
    }

    /// Removes `key`; true if a live entry was removed.
    pub fn delete(&mut self, key: &[u8], now: &mut impl Now) -> bool {
        match self.lru.delete(key, now) {
            Delete::Removed(slot) => {
                self.drop_value(slot);
                true
            }
            Delete::Expired(slot) => {
                self.drop_value(slot);
                false
            }
            Delete::Absent => false,
        }
    }

    /// Removes everything; counters are kept.
    pub fn clear(&mut self) {
        self.lru.clear();
        self.values.clear();
        self.bytes = 0;
    }

    /// Checks that values and slots agree and the byte count is exact (tests; O(n)).
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut sum = 0u64;
        let mut stored = 0u32;
        for (slot, v) in self.values.iter().enumerate() {
            let occupied = self.lru.key_at(slot as u32).is_some();
            match (v, occupied) {
                (Some(v), true) => {
                    sum += v.len() as u64;
                    stored += 1;
                }
                (None, false) => {}
                (Some(_), false) => return Err(format!("slot {slot} is free but holds a value")),
                (None, true) => return Err(format!("slot {slot} holds an entry but no value")),
            }
        }
        if stored != self.lru.len() {
            return Err(format!("{stored} values for {} entries", self.lru.len()));
        }
        if sum != self.bytes {
            return Err(format!("bytes is {} but values sum to {sum}", self.bytes));
        }
        if self.lru.len() > self.lru.capacity() {
            return Err(format!("size {} > capacity {}", self.lru.len(), self.lru.capacity()));
        }
        if self.max_bytes != 0 && self.bytes > self.max_bytes {
            return Err(format!("bytes {} > max_bytes {}", self.bytes, self.max_bytes));
        }
        Ok(())
    }

    fn drop_value(&mut self, slot: u32) {
        if let Some(old) = self.values.get_mut(slot as usize).and_then(Option::take) {
            self.bytes -= old.len() as u64;
        }
    }
}
