//! A cache of byte values split into shards, each behind its own lock, for one cache used from
//! several threads at once (the N-API binding's `shared()` caches: worker_threads).
//!
//! Design:
//! - `n` shards, each an [`Lru`] with values in a `std::sync::Mutex`. A key goes to the shard
//!   picked by a seeded hash of its bytes (independent of the shards' own table hashes).
//!   Threads touching different shards never wait for each other; a get must take its
//!   shard's lock exclusively anyway, because a hit reorders the LRU list.
//! - Capacity and `max_bytes` are split across shards (shard i gets `capacity / n`, plus
//!   one for the first `capacity % n` shards), so the totals are never exceeded.
//! - Counters are per shard, updated under the shard's lock, and summed on read: every
//!   operation is counted exactly once, whatever the interleaving.
//!
//! - Every shard runs the cache's eviction policy (LRU, S3-FIFO or W-TinyLFU) over its
//!   own keys, with its share of the capacity.
//!
//! Exactness trade-off: each shard is an exact LRU (or S3-FIFO, W-TinyLFU) of its own
//! keys, but the whole is an approximation of one global cache: the entry evicted is the
//! policy's victim *of its shard*, and a shard can fill (and evict) while another still
//! has room. With keys spread by a good hash over many entries per shard the difference
//! in hit ratio is small; with one shard (`n = 1`) the store is exactly the
//! single-threaded cache.
//!
//! A poisoned shard (a panic while its lock was held: a bug) is emptied, entries dropped
//! and counters kept, and used again: one shard's data is lost, the process is not.

use crate::removal::OnRemove;
use crate::{Counters, Get, Lru, Now, PolicyKind};
use foldhash::fast::RandomState;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

pub struct Sharded {
    shards: Box<[Mutex<Lru>]>,
    hasher: RandomState,
    capacity: u32,
    max_bytes: u64,
    policy: PolicyKind,
}

/// Counters summed over shards, plus the entry count, the entries' bytes (as
/// [`Lru::bytes`]) and the arena bytes held from the allocator.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    pub counters: Counters,
    pub len: u64,
    pub bytes: u64,
    pub arena_bytes: u64,
    /// The share of page bytes not holding a live record, over all shards (0..1).
    pub fragmentation: f64,
    /// Free page bytes summed so far (fragmentation × arena bytes), until `finish`.
    free: f64,
}

impl Totals {
    /// The totals of one cache.
    pub fn of(c: &Lru) -> Totals {
        let mut t = Totals::default();
        t.add(c);
        t.finish()
    }

    fn add(&mut self, c: &Lru) {
        self.counters.add(&c.counters());
        self.len += c.len() as u64;
        self.bytes += c.bytes();
        self.arena_bytes += c.arena_bytes();
        self.free += c.fragmentation() * c.arena_bytes() as f64;
    }

    fn finish(mut self) -> Totals {
        self.fragmentation = if self.arena_bytes > 0 { self.free / self.arena_bytes as f64 } else { 0.0 };
        self
    }
}

impl Sharded {
    /// `shards` is clamped to 1..=capacity (every shard holds at least one entry); a
    /// `max_bytes` smaller than the shard count (but not 0) gives each shard 1 byte.
    pub fn new(capacity: u32, max_bytes: u64, shards: u32) -> Self {
        Self::with_policy(capacity, max_bytes, shards, PolicyKind::Lru, 0)
    }

    /// As [`Sharded::new`], every shard evicting by `kind` (each over its own keys and its
    /// share of the capacity), its key hash seeded with `seed`.
    pub fn with_policy(capacity: u32, max_bytes: u64, shards: u32, kind: PolicyKind, seed: u32) -> Self {
        let capacity = capacity.clamp(1, crate::MAX_CAPACITY);
        let n = shards.clamp(1, capacity);
        let shards = (0..n)
            .map(|i| {
                let cap = capacity / n + u32::from(i < capacity % n);
                let bytes = if max_bytes == 0 {
                    0
                } else {
                    (max_bytes / n as u64 + u64::from((i as u64) < max_bytes % n as u64)).max(1)
                };
                Mutex::new(Lru::with_budget(cap, bytes, kind, seed))
            })
            .collect();
        Sharded {
            shards,
            hasher: RandomState::default(),
            capacity,
            max_bytes,
            policy: kind,
        }
    }

    pub fn policy(&self) -> PolicyKind {
        self.policy
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    pub fn shard_count(&self) -> u32 {
        self.shards.len() as u32
    }

    /// Runs `f` on the shard holding `key`, under its lock.
    #[inline]
    pub fn with_shard<R>(&self, key: &[u8], f: impl FnOnce(&mut Lru) -> R) -> R {
        let i = if self.shards.len() == 1 {
            0
        } else {
            // Each shard's index hashes with a seed of its own: no correlation with this one.
            (self.hasher.hash_one(key) % self.shards.len() as u64) as usize
        };
        f(&mut lock(&self.shards[i]))
    }

    /// Looks `key` up (counting a hit or miss) and hands its value to `f` while the shard
    /// is locked, so the caller can copy it out without an intermediate allocation.
    pub fn get_with<R>(&self, key: &[u8], now: &mut impl Now, on: &mut impl OnRemove, f: impl FnOnce(Option<&[u8]>) -> R) -> R {
        self.with_shard(key, |s| match s.get_with(key, now, on) {
            Get::Hit(slot) => f(Some(s.value(slot))),
            _ => f(None),
        })
    }

    pub fn peek_with<R>(&self, key: &[u8], now: &mut impl Now, f: impl FnOnce(Option<&[u8]>) -> R) -> R {
        self.with_shard(key, |s| f(s.peek(key, now).map(|slot| s.value(slot))))
    }

    /// Stores `value`; false when it was not kept (see [`Lru::set_with`]).
    pub fn set(&self, key: &[u8], value: &[u8], ttl_ms: f64, now: &mut impl Now, on: &mut impl OnRemove) -> bool {
        self.with_shard(key, |s| s.set_with(key, value, ttl_ms, now, on).is_some())
    }

    /// True if a live entry was removed.
    pub fn delete(&self, key: &[u8], now: &mut impl Now, on: &mut impl OnRemove) -> bool {
        self.with_shard(key, |s| matches!(s.delete_with(key, now, on), crate::Delete::Removed(_)))
    }

    /// Empties every shard (one at a time: a concurrent set may land in a shard already
    /// cleared). Counters are kept.
    pub fn clear(&self, on: &mut impl OnRemove) {
        for s in self.shards.iter() {
            lock(s).clear_with(on);
        }
    }

    /// Sums over shards, locking one at a time (not a single instant when others write).
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for s in self.shards.iter() {
            t.add(&lock(s));
        }
        t.finish()
    }

    /// Keys of every shard, each shard in its policy's order (tests; O(n)).
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.shards.iter().flat_map(|s| lock(s).keys_mru_to_lru()).collect()
    }

    /// Every shard's invariants, plus size <= capacity and bytes <= max_bytes overall.
    pub fn verify(&self) -> Result<(), String> {
        for (i, s) in self.shards.iter().enumerate() {
            lock(s).verify().map_err(|e| format!("shard {i}: {e}"))?;
        }
        let t = self.totals();
        if t.len > self.capacity as u64 {
            return Err(format!("size {} > capacity {}", t.len, self.capacity));
        }
        if self.max_bytes != 0 && t.bytes > self.max_bytes.max(self.shards.len() as u64) {
            return Err(format!("bytes {} > max_bytes {}", t.bytes, self.max_bytes));
        }
        Ok(())
    }

    /// Test hook: panics while holding the lock of `key`'s shard, poisoning it.
    #[doc(hidden)]
    pub fn poison_for_test(&self, key: &[u8]) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.with_shard(key, |_| panic!("poisoning a shard on purpose"))
        }));
    }
}

/// Locks a shard; a poisoned one is emptied (its state may be half-updated) and reused.
#[inline]
fn lock(m: &Mutex<Lru>) -> MutexGuard<'_, Lru> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => {
            let mut g = poisoned.into_inner();
            g.clear();
            m.clear_poison();
            g
        }
    }
}
