//! [`Lru`]: the cache itself, whatever its policy and whether or not it stores values.
//!
//! An entry is three things, each its own component with its own invariants:
//! - a slot (`slots.rs`): 12 bytes of policy links and the record's location;
//! - a bucket in the index (`index.rs`): 8 bytes, hash tag and slot number;
//! - a record in the arena (`arena/`): key, optional deadline, value, in a size-class
//!   chunk (or its own allocation when over 16 KiB).
//!
//! Operations follow the engine rules at the top of `src/memory/engine.ts` exactly (the
//! pure-TS engine implements the same rules, and property tests compare the two op for
//! op). Every entry an operation removes is reported to its [`OnRemove`] sink, in order,
//! before its memory is reused.

use crate::arena::{record, Arena};
use crate::index::Index;
use crate::policy::Policy;
use crate::removal::{OnRemove, Reason, Removal};
use crate::slots::{Slots, NIL};
use crate::{Counters, Delete, Get, Now, PolicyKind, MAX_CAPACITY, SWEEP_PER_SET};
use foldhash::fast::RandomState;
use std::hash::BuildHasher;

/// The slot reported for a value that was never stored (larger than the byte budget).
pub const NO_SLOT: u32 = u32::MAX;
/// What every entry costs besides its record: its slot (12 bytes) and its share of the
/// index (8-byte buckets at a load of at most 7/8, rounded up to 10).
pub const ENTRY_BYTES: u64 = 22;
/// What S3-FIFO and W-TinyLFU add per entry (a 4-byte key hash and a byte of queue state).
pub const POLICY_ENTRY_BYTES: u64 = 5;
/// The byte budget every cache has even without `max_bytes`: below what the arena can
/// address (16 GiB of pages) with room for fragmentation.
pub const ARENA_BUDGET: u64 = 14 << 30;
/// Records compaction moves at most per operation.
const COMPACT_MOVES: u32 = 2;

pub struct Lru {
    pub(crate) slots: Slots,
    index: Index,
    pub(crate) arena: Arena,
    /// The LRU list (policy LRU only; the other policies keep their own queues).
    pub(crate) head: u32,
    pub(crate) tail: u32,
    pub(crate) len: u32,
    capacity: u32,
    cursor: u32,
    hasher: RandomState,
    pub(crate) counters: Counters,
    pub(crate) policy: Policy,
    policy_kind: PolicyKind,
    /// The effective byte budget: `max_bytes`, or [`ARENA_BUDGET`].
    budget: u64,
    max_bytes: u64,
    entry_bytes: u64,
}

impl Lru {
    /// An LRU cache of `capacity` entries (clamped to 1..=[`MAX_CAPACITY`]).
    pub fn new(capacity: u32) -> Self {
        Self::with_policy(capacity, PolicyKind::Lru, 0)
    }

    /// A cache evicting by `kind`; `seed` seeds the policy's key hash (sketch, ghost) and
    /// must be the same as the other engine's for the two to decide identically.
    pub fn with_policy(capacity: u32, kind: PolicyKind, seed: u32) -> Self {
        Self::with_budget(capacity, 0, kind, seed)
    }

    /// As [`Lru::with_policy`], with a byte budget (0 = none): after every set the policy's
    /// victims are evicted until [`Lru::bytes`] fits (see [`Lru::set_with`]).
    pub fn with_budget(capacity: u32, max_bytes: u64, kind: PolicyKind, seed: u32) -> Self {
        Self::with_arena(capacity, max_bytes, kind, seed, Arena::new())
    }

    /// A cache whose arena may use only `max_pages` pages (tests of a full arena).
    #[doc(hidden)]
    pub fn with_page_limit(capacity: u32, max_bytes: u64, kind: PolicyKind, seed: u32, max_pages: u32) -> Self {
        Self::with_arena(capacity, max_bytes, kind, seed, Arena::with_max_pages(max_pages))
    }

    fn with_arena(capacity: u32, max_bytes: u64, kind: PolicyKind, seed: u32, arena: Arena) -> Self {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        Lru {
            slots: Slots::new(),
            index: Index::new(),
            arena,
            head: NIL,
            tail: NIL,
            len: 0,
            capacity,
            cursor: 0,
            hasher: RandomState::default(),
            counters: Counters::default(),
            policy: Policy::new(kind, capacity, seed),
            policy_kind: kind,
            budget: if max_bytes == 0 { ARENA_BUDGET } else { max_bytes.min(ARENA_BUDGET) },
            max_bytes,
            entry_bytes: ENTRY_BYTES + if kind == PolicyKind::Lru { 0 } else { POLICY_ENTRY_BYTES },
        }
    }

    pub fn policy(&self) -> PolicyKind {
        self.policy_kind
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The byte budget given at construction (0 = none).
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// What the entries cost: each record's chunk ([`Lru::entry_cost`]) plus the fixed
    /// per-entry bytes (slot, index share, policy data). The quantity `max_bytes` bounds.
    pub fn bytes(&self) -> u64 {
        self.arena.live_bytes() + self.len as u64 * self.entry_bytes
    }

    /// What an entry of this key and value would cost (as counted by [`Lru::bytes`]).
    pub fn entry_cost(&self, key_len: usize, value_len: usize, timed: bool) -> u64 {
        Arena::cost(record::size(key_len, value_len, timed)) + self.entry_bytes
    }

    /// Bytes the arena holds from the allocator (pages in use and large records).
    pub fn arena_bytes(&self) -> u64 {
        self.arena.held_bytes()
    }

    /// The share of page bytes not holding a live record (0..1).
    pub fn fragmentation(&self) -> f64 {
        self.arena.fragmentation()
    }

    /// Bytes of heap held, roughly: slots, index, arena and policy state.
    pub fn heap_bytes(&self) -> usize {
        self.slots.heap_bytes() + self.index.heap_bytes() + self.arena.heap_bytes() + self.policy.heap_bytes()
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The slot holding `key`, live or expired (no counting).
    #[cfg(test)]
    pub(crate) fn find(&self, key: &[u8]) -> Option<u32> {
        self.find_hashed(self.hash(key), key)
    }

    #[inline]
    fn find_hashed(&self, hash: u64, key: &[u8]) -> Option<u32> {
        let (slots, arena) = (&self.slots, &self.arena);
        self.index.find(hash, |s| record::key_is(arena.chunk(slots.loc(s)), key))
    }

    #[inline]
    pub(crate) fn record(&self, slot: u32) -> &[u8] {
        self.arena.chunk(self.slots.loc(slot))
    }

    /// Whether the entry in `slot` has expired; reads the clock only for timed entries.
    #[inline]
    pub(crate) fn is_expired(&self, slot: u32, now: &mut impl Now) -> bool {
        self.slots.is_timed(slot) && now.now() >= record::deadline(self.record(slot))
    }

    /// The value of the entry in `slot` (an occupied slot, e.g. from a hit).
    #[inline]
    pub fn value(&self, slot: u32) -> &[u8] {
        record::value(self.record(slot))
    }

    /// The key stored in `slot`, if the slot is occupied.
    pub fn key_at(&self, slot: u32) -> Option<&[u8]> {
        self.slots.is_occupied(slot).then(|| record::key(self.record(slot)))
    }

    pub fn get(&mut self, key: &[u8], now: &mut impl Now) -> Get {
        self.get_with(key, now, &mut ())
    }

    /// Looks `key` up: a hit moves it to the policy's most recently used position.
    pub fn get_with(&mut self, key: &[u8], now: &mut impl Now, on: &mut impl OnRemove) -> Get {
        let hash = self.hash(key);
        let Some(slot) = self.find_hashed(hash, key) else {
            self.counters.misses += 1;
            if let Policy::Tiny(p) = &mut self.policy {
                p.miss(key);
            }
            return Get::Miss;
        };
        if self.is_expired(slot, now) {
            self.remove_hashed(slot, hash, Reason::Expire, on);
            self.counters.expirations += 1;
            self.counters.misses += 1;
            if let Policy::Tiny(p) = &mut self.policy {
                p.miss(key);
            }
            self.compact();
            return Get::Expired(slot);
        }
        self.counters.hits += 1;
        self.move_to_head(slot);
        Get::Hit(slot)
    }

    /// The slot of a live entry, without counting or reordering.
    pub fn peek(&self, key: &[u8], now: &mut impl Now) -> Option<u32> {
        let slot = self.find_hashed(self.hash(key), key)?;
        (!self.is_expired(slot, now)).then_some(slot)
    }

    /// Inserts or replaces `key` with no value (reference storage: the caller keeps values
    /// by slot); `ttl_ms` 0 means no expiry. Returns the slot now holding the key.
    pub fn set(&mut self, key: &[u8], ttl_ms: f64, now: &mut impl Now) -> Option<u32> {
        self.set_with(key, &[], ttl_ms, now, &mut ())
    }

    /// Inserts or replaces `key` with `value`; `ttl_ms` 0 means no expiry. Returns the slot
    /// now holding the key, or None when the value is not kept: its entry alone costs more
    /// than the byte budget (then the set counts as a set and an eviction, the key's
    /// previous entry is removed and the new value is reported as evicted), or the byte
    /// budget evicted the new entry itself (S3-FIFO and W-TinyLFU may pick it, as they
    /// would at capacity), or the arena's pages are exhausted.
    pub fn set_with(&mut self, key: &[u8], value: &[u8], ttl_ms: f64, now: &mut impl Now, on: &mut impl OnRemove) -> Option<u32> {
        self.counters.sets += 1;
        let len = record::size(key.len(), value.len(), ttl_ms != 0.0);
        if Arena::cost(len) + self.entry_bytes > self.budget {
            self.refuse(key, value, on);
            return None;
        }
        self.sweep(now, on);
        let deadline = if ttl_ms == 0.0 { 0.0 } else { now.now() + ttl_ms };
        // A deadline of exactly 0 means "never", as in the TS engine.
        let timed = deadline != 0.0;
        let hash = self.hash(key);
        let len = if timed || ttl_ms == 0.0 { len } else { record::size(key.len(), value.len(), false) };
        let deadline = timed.then_some(deadline);
        let slot = match self.find_hashed(hash, key) {
            Some(slot) => self.replace(slot, key, value, len, deadline, on)?,
            None => self.insert(key, hash, value, len, deadline, now, on)?,
        };
        let mut kept = true;
        while self.bytes() > self.budget {
            // The budget may evict the new entry itself (not under LRU: it is the newest).
            let Some(victim) = self.next_victim() else { break };
            kept &= victim != slot;
            self.evict(victim, now, on);
        }
        self.compact();
        kept.then_some(slot)
    }

    fn replace(&mut self, slot: u32, key: &[u8], value: &[u8], len: usize, deadline: Option<f64>, on: &mut impl OnRemove) -> Option<u32> {
        let old = self.slots.loc(slot);
        if on.listening() {
            on.removed(&Removal { slot, key, value: record::value(self.arena.chunk(old)), reason: Reason::Set });
        }
        let loc = if self.arena.fits_in_place(old, len) {
            old
        } else {
            let Some(loc) = self.arena.alloc(len) else {
                // No page left for the new record: the key's entry goes (already reported
                // as replaced) and the new value is not kept.
                self.remove(slot, Reason::Set, &mut ());
                self.refuse_new(key, value, on);
                return None;
            };
            self.arena.free(old);
            loc
        };
        record::write(self.arena.chunk_mut(loc), key, value, deadline);
        self.slots.entries[slot as usize].loc = loc;
        self.slots.set_timed(slot, deadline.is_some());
        self.move_to_head(slot);
        Some(slot)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert(&mut self, key: &[u8], hash: u64, value: &[u8], len: usize, deadline: Option<f64>, now: &mut impl Now, on: &mut impl OnRemove) -> Option<u32> {
        if !matches!(self.policy, Policy::Lru) {
            return self.insert_by_policy(key, hash, value, len, deadline, now, on);
        }
        if self.len == self.capacity {
            let victim = self.tail;
            self.evict(victim, now, on);
        }
        let loc = self.store_record(key, value, len, deadline, on)?;
        let slot = self.slots.allocate(loc);
        self.slots.set_timed(slot, deadline.is_some());
        self.index_insert(hash, slot);
        self.link_at_head(slot);
        self.len += 1;
        Some(slot)
    }

    /// Allocates and writes a new record; None (the set refused) when no page is left.
    pub(crate) fn store_record(&mut self, key: &[u8], value: &[u8], len: usize, deadline: Option<f64>, on: &mut impl OnRemove) -> Option<u32> {
        let Some(loc) = self.arena.alloc(len) else {
            self.refuse_new(key, value, on);
            return None;
        };
        record::write(self.arena.chunk_mut(loc), key, value, deadline);
        Some(loc)
    }

    /// Removes `victim` to make room: an eviction, or an expiration if it had expired.
    pub(crate) fn evict(&mut self, victim: u32, now: &mut impl Now, on: &mut impl OnRemove) {
        let reason = if self.is_expired(victim, now) {
            self.counters.expirations += 1;
            Reason::Expire
        } else {
            self.counters.evictions += 1;
            Reason::Evict
        };
        self.remove(victim, reason, on);
    }

    /// Removes the policy's next victim (the entry it would evict at capacity); false when
    /// the cache is empty.
    pub fn evict_one(&mut self, now: &mut impl Now, on: &mut impl OnRemove) -> bool {
        match self.next_victim() {
            Some(victim) => {
                self.evict(victim, now, on);
                true
            }
            None => false,
        }
    }

    /// A set whose value is not stored: counted as an eviction; the key's previous entry,
    /// if any, is removed as replaced.
    fn refuse(&mut self, key: &[u8], value: &[u8], on: &mut impl OnRemove) {
        if let Some(slot) = self.find_hashed(self.hash(key), key) {
            self.remove(slot, Reason::Set, on);
        }
        self.refuse_new(key, value, on);
    }

    fn refuse_new(&mut self, key: &[u8], value: &[u8], on: &mut impl OnRemove) {
        self.counters.evictions += 1;
        on.removed(&Removal { slot: crate::NO_SLOT, key, value, reason: Reason::Evict });
    }

    pub fn delete(&mut self, key: &[u8], now: &mut impl Now) -> Delete {
        self.delete_with(key, now, &mut ())
    }

    /// Removes `key`: `Removed` if it was live, `Expired` if it had expired (counted as an
    /// expiration), `Absent` if there was no entry.
    pub fn delete_with(&mut self, key: &[u8], now: &mut impl Now, on: &mut impl OnRemove) -> Delete {
        let hash = self.hash(key);
        let Some(slot) = self.find_hashed(hash, key) else {
            return Delete::Absent;
        };
        let expired = self.is_expired(slot, now);
        let result = if expired {
            self.counters.expirations += 1;
            self.remove_hashed(slot, hash, Reason::Expire, on);
            Delete::Expired(slot)
        } else {
            self.remove_hashed(slot, hash, Reason::Delete, on);
            Delete::Removed(slot)
        };
        self.compact();
        result
    }

    /// Removes every entry and returns slots, free list, index, arena and sweep cursor to
    /// their initial state; counters are kept.
    pub fn clear(&mut self) {
        self.clear_with(&mut ())
    }

    /// As [`Lru::clear`], reporting every entry (reason `Clear`) in the policy's order.
    pub fn clear_with(&mut self, on: &mut impl OnRemove) {
        if on.listening() {
            for slot in self.slots_in_order() {
                let r = self.record(slot);
                on.removed(&Removal { slot, key: record::key(r), value: record::value(r), reason: Reason::Clear });
            }
        }
        self.slots.clear();
        self.index.clear();
        self.arena.clear();
        self.head = NIL;
        self.tail = NIL;
        self.len = 0;
        self.cursor = 0;
        self.clear_policy();
    }

    /// Keys from most to least recently used, in the policy's order (tests; O(n)).
    pub fn keys_mru_to_lru(&self) -> Vec<Vec<u8>> {
        self.slots_in_order().into_iter().map(|s| record::key(self.record(s)).to_vec()).collect()
    }

    /// Occupied slots in the policy's order: LRU from most to least recently used (O(n)).
    pub fn slots_in_order(&self) -> Vec<u32> {
        if let Some(order) = self.policy_order() {
            return order;
        }
        let mut out = Vec::with_capacity(self.len as usize);
        let mut s = self.head;
        while s != NIL {
            out.push(s);
            s = self.slots.entries[s as usize].next;
        }
        out
    }

    /// Examines SWEEP_PER_SET slots at the cursor, removing expired entries.
    fn sweep(&mut self, now: &mut impl Now, on: &mut impl OnRemove) {
        let high_water = self.slots.high_water();
        if high_water == 0 {
            return;
        }
        for _ in 0..SWEEP_PER_SET {
            if self.cursor >= high_water {
                self.cursor = 0;
            }
            let slot = self.cursor;
            self.cursor += 1;
            // No timed entry: nothing can be expired (the cursor still advances).
            if self.slots.timed_count() != 0 && self.slots.is_occupied(slot) && self.is_expired(slot, now) {
                self.remove(slot, Reason::Expire, on);
                self.counters.expirations += 1;
            }
        }
    }

    /// Moves a few records out of over-fragmented pages (bounded work per operation).
    fn compact(&mut self) {
        if !self.arena.wants_compaction() {
            return;
        }
        for _ in 0..COMPACT_MOVES {
            let Some(loc) = self.arena.evacuation_candidate() else {
                continue;
            };
            let hash = self.hash(record::key(self.arena.chunk(loc)));
            let slots = &self.slots;
            let slot = self.index.find(hash, |s| slots.loc(s) == loc).expect("every live record has its slot in the index");
            let to = self.arena.relocate(loc);
            self.slots.entries[slot as usize].loc = to;
        }
    }

    /// Unlinks and frees an occupied slot, reporting it first.
    pub(crate) fn remove(&mut self, slot: u32, reason: Reason, on: &mut impl OnRemove) {
        let hash = self.hash(record::key(self.record(slot)));
        self.remove_hashed(slot, hash, reason, on);
    }

    fn remove_hashed(&mut self, slot: u32, hash: u64, reason: Reason, on: &mut impl OnRemove) {
        let loc = self.slots.loc(slot);
        if on.listening() {
            let r = self.arena.chunk(loc);
            on.removed(&Removal { slot, key: record::key(r), value: record::value(r), reason });
        }
        self.index.remove(hash, slot);
        match &mut self.policy {
            Policy::Lru => self.unlink(slot),
            Policy::S3(p) => p.unlink(&mut self.slots.entries, slot),
            Policy::Tiny(p) => p.unlink(&mut self.slots.entries, slot),
        }
        self.arena.free(loc);
        self.slots.release(slot);
        self.len -= 1;
    }

    /// Adds `slot` under `hash` to the index.
    pub(crate) fn index_insert(&mut self, hash: u64, slot: u32) {
        let (hasher, slots, arena) = (&self.hasher, &self.slots, &self.arena);
        self.index.insert(hash, slot, |s| hasher.hash_one(record::key(arena.chunk(slots.loc(s)))));
    }

    #[inline]
    fn unlink(&mut self, slot: u32) {
        let e = self.slots.entries[slot as usize];
        if e.prev == NIL {
            self.head = e.next;
        } else {
            self.slots.entries[e.prev as usize].next = e.next;
        }
        if e.next == NIL {
            self.tail = e.prev;
        } else {
            self.slots.entries[e.next as usize].prev = e.prev;
        }
    }

    #[inline]
    fn link_at_head(&mut self, slot: u32) {
        let old = self.head;
        {
            let e = &mut self.slots.entries[slot as usize];
            e.prev = NIL;
            e.next = old;
        }
        if old != NIL {
            self.slots.entries[old as usize].prev = slot;
        }
        self.head = slot;
        if self.tail == NIL {
            self.tail = slot;
        }
    }

    #[inline]
    fn move_to_head(&mut self, slot: u32) {
        // Every hit goes through here (get, set of a present key): the other policies
        // decide what a hit means for them.
        match &mut self.policy {
            Policy::Lru => {}
            Policy::S3(p) => return p.touch(slot),
            Policy::Tiny(p) => return p.touch(&mut self.slots.entries, slot),
        }
        if self.head != slot {
            self.unlink(slot);
            self.link_at_head(slot);
        }
    }

    /// Checks every invariant of slots, index, arena, policy queues and byte accounting;
    /// the first broken one as an error. O(n); for tests and `verify()`.
    pub fn verify(&self) -> Result<(), String> {
        crate::verify::check(self, |s| self.hash(record::key(self.record(s))), self.entry_bytes, self.budget)
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }
}
