//! The key index: hashbrown's SwissTable of slot numbers (`u32`), open addressing with a
//! 7-bit hash tag per bucket in its control bytes, probed a group of 16 buckets at a time.
//! The key bytes live in the slot's record (the table compares against them), so a bucket
//! costs 5 bytes (4 for the slot, 1 control byte); the table keeps its load between 7/16
//! and 7/8 (power-of-two sizes), i.e. 5.7 to 11.4 bytes per entry.
//!
//! Hashes are the cache's seeded 64-bit foldhash of the key; the table stores none of
//! them, so a removal passes the key's hash again and growth recomputes it from the key
//! (`rehash`), once per entry per doubling.
//!
//! Why this table and not a linear-probing one of our own: measured on this engine's
//! set-with-eviction path (1,000 and 100,000 entries), a Robin Hood table with backward-
//! shift deletion and 8-byte tagged buckets at load 4/5 cost 1.6-1.9x the time of this
//! one: every insert and delete shifts the rest of its run, where a SwissTable writes one
//! control byte. Deletion leaves a tombstone only inside a run of 16 full buckets, which
//! at this table's load is rare, so tombstones do not force periodic rehashes.
//!
//! Invariants (checked by [`Index::check`]): every occupied slot of the cache is in the
//! table exactly once, under its key's hash, and no vacant slot is.

use hashbrown::HashTable;

pub(crate) struct Index {
    table: HashTable<u32>,
}

impl Index {
    pub fn new() -> Index {
        Index { table: HashTable::new() }
    }

    pub fn clear(&mut self) {
        self.table = HashTable::new();
    }

    /// The slot under `hash` for which `is(slot)` holds.
    #[inline]
    pub fn find(&self, hash: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        self.table.find(hash, |&s| is(s)).copied()
    }

    /// Adds `slot` under `hash` (the key must not be present); `rehash(slot)` gives the hash
    /// of a slot already in the table, when it grows.
    #[inline]
    pub fn insert(&mut self, hash: u64, slot: u32, rehash: impl Fn(u32) -> u64) {
        self.table.insert_unique(hash, slot, |&s| rehash(s));
    }

    /// Removes `slot` from under `hash`; false if it is not there.
    #[inline]
    pub fn remove(&mut self, hash: u64, slot: u32) -> bool {
        match self.table.find_entry(hash, |&s| s == slot) {
            Ok(entry) => {
                entry.remove();
                true
            }
            Err(_) => false,
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.table.capacity() * std::mem::size_of::<u32>() + self.table.capacity() + 16
    }

    /// Checks the structure; `expected(slot) -> Some(hash)` gives each occupied slot's
    /// hash (None for vacant slots). O(n).
    pub fn check(&self, occupied: u32, expected: impl Fn(u32) -> Option<u64>) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for &slot in self.table.iter() {
            let Some(hash) = expected(slot) else {
                return Err(format!("the index holds vacant slot {slot}"));
            };
            if !seen.insert(slot) {
                return Err(format!("slot {slot} is in the index twice"));
            }
            if self.table.find(hash, |&s| s == slot).is_none() {
                return Err(format!("slot {slot} is not findable under its key's hash"));
            }
        }
        if seen.len() != occupied as usize || self.table.len() != occupied as usize {
            return Err(format!("{} index entries for {occupied} entries", self.table.len()));
        }
        Ok(())
    }
}
