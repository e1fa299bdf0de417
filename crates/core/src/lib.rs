//! The LRU + TTL engine behind astra-cache, with no N-API in sight.
//!
//! Semantics are exactly those documented at the top of `src/memory/engine.ts`: the
//! pure-TS engine implements the same rules, and property tests compare the two op for op.
//!
//! Layout: entries live in a slab (`Vec<Entry>`) and form an intrusive doubly linked
//! list through `u32` prev/next links (head = most recently used). A `hashbrown`
//! [`HashTable`] of slot numbers, hashed with a randomly seeded `foldhash`, finds a key's
//! slot; the key bytes are stored once, in the entry (the table compares against them).
//! Each entry keeps its hash so that removal and table growth never rehash a key.
//!
//! Time is a caller-supplied millisecond `f64` ([`Now`]), read lazily: an operation that
//! never meets an entry with a deadline never asks for the time.

mod access;
pub mod bytes;
mod evict;
mod keyless;
pub mod machine;
pub mod shared;
pub use evict::Evicted;
pub use access::BadSlot;
pub use keyless::KeylessError;
mod policy;
pub use policy::hash::key_hash;
use policy::Policy;
pub use policy::PolicyKind;

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Slots examined by the sweep at the start of every `set`.
pub const SWEEP_PER_SET: u32 = 2;
/// The largest capacity accepted: slot numbers must stay clear of the link sentinels.
pub const MAX_CAPACITY: u32 = 1 << 30;

/// "No slot" in a prev/next link.
const NIL: u32 = u32::MAX;
/// Stored in `prev` of a slot that holds no entry.
const VACANT: u32 = u32::MAX - 1;
/// A deadline of exactly 0 means "never expires" (as in the TS engine).
const NEVER: f64 = 0.0;

/// A source of the current time in milliseconds, asked at most when an operation needs it.
pub trait Now {
    fn now(&mut self) -> f64;
}

/// A fixed time: the caller already read its clock.
impl Now for f64 {
    #[inline]
    fn now(&mut self) -> f64 {
        *self
    }
}

/// Reads a clock on first use within one operation and remembers the value, so one
/// operation sees one instant.
pub struct LazyNow<F: FnMut() -> f64> {
    read: F,
    value: Option<f64>,
}

impl<F: FnMut() -> f64> LazyNow<F> {
    pub fn new(read: F) -> Self {
        LazyNow { read, value: None }
    }
}

impl<F: FnMut() -> f64> Now for LazyNow<F> {
    #[inline]
    fn now(&mut self) -> f64 {
        match self.value {
            Some(v) => v,
            None => {
                let v = (self.read)();
                self.value = Some(v);
                v
            }
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub expirations: u64,
    pub sets: u64,
}

/// What `get` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Get {
    /// Live entry in this slot (now the most recently used).
    Hit(u32),
    /// No entry for the key.
    Miss,
    /// The entry had expired and was removed: this slot is now free.
    Expired(u32),
}

/// What `delete` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delete {
    /// A live entry was removed from this slot.
    Removed(u32),
    /// No entry for the key.
    Absent,
    /// An expired entry was removed from this slot (counted as an expiration).
    Expired(u32),
}

/// What `set` did: the slot now holding the key, and the slots the sweep freed (at most
/// [`SWEEP_PER_SET`]), so that a caller keeping values beside the slots can drop them.
/// A slot freed by an eviction is always the one reused for the new key, so it is not listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetOutcome {
    pub slot: u32,
    pub swept: [Option<u32>; SWEEP_PER_SET as usize],
}

/// Longest key stored inside the entry itself: the common short key then costs no
/// allocation, and a lookup no extra cache miss to reach its bytes.
const INLINE_KEY: usize = 22;

/// A key's bytes: inline when short, else on the heap. 24 bytes either way.
enum Key {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Heap(Box<[u8]>),
}

impl Key {
    #[inline]
    fn new(key: &[u8]) -> Key {
        if key.len() <= INLINE_KEY {
            let mut bytes = [0u8; INLINE_KEY];
            bytes[..key.len()].copy_from_slice(key);
            Key::Inline {
                len: key.len() as u8,
                bytes,
            }
        } else {
            Key::Heap(key.into())
        }
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..*len as usize],
            Key::Heap(b) => b,
        }
    }

    fn heap_len(&self) -> usize {
        match self {
            Key::Inline { .. } => 0,
            Key::Heap(b) => b.len(),
        }
    }
}

const EMPTY_KEY: Key = Key::Inline {
    len: 0,
    bytes: [0; INLINE_KEY],
};

/// The deadline of an entry set now with `ttl_ms` (0 = no expiry: the clock is not read).
#[inline]
fn deadline_of(ttl_ms: f64, now: &mut impl Now) -> f64 {
    if ttl_ms == 0.0 {
        NEVER
    } else {
        now.now() + ttl_ms
    }
}

struct Entry {
    key: Key,
    hash: u64,
    /// Expiry time in ms; [`NEVER`] (0) means no expiry.
    deadline: f64,
    /// Towards the head (more recently used); [`VACANT`] when the slot is free.
    prev: u32,
    /// Towards the tail (less recently used).
    next: u32,
}

impl Entry {
    #[inline]
    fn is_expired(&self, now: &mut impl Now) -> bool {
        // Only consult the clock for entries that can expire.
        self.deadline != NEVER && now.now() >= self.deadline
    }
}

pub struct Lru {
    table: HashTable<u32>,
    /// Slots ever used since the last clear; `entries.len()` is the high-water mark.
    entries: Vec<Entry>,
    /// Freed slots, most recently freed last (a LIFO stack).
    free: Vec<u32>,
    head: u32,
    tail: u32,
    len: u32,
    capacity: u32,
    cursor: u32,
    hasher: RandomState,
    counters: Counters,
    /// Eviction policy; `Policy::Lru` uses `head`/`tail` above, the others their own queues.
    policy: Policy,
    policy_kind: PolicyKind,
}

impl Lru {
    /// `capacity` is clamped to 1..=[`MAX_CAPACITY`]; the binding validates before calling.
    pub fn new(capacity: u32) -> Self {
        Self::with_policy(capacity, PolicyKind::Lru, 0)
    }

    /// A cache evicting by `kind`; `seed` seeds the policy's key hash (sketch, ghost) and
    /// must be the same as the other engine's for the two to decide identically.
    pub fn with_policy(capacity: u32, kind: PolicyKind, seed: u32) -> Self {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        Lru {
            table: HashTable::new(),
            entries: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            len: 0,
            capacity,
            cursor: 0,
            hasher: RandomState::default(),
            counters: Counters::default(),
            policy: Policy::new(kind, capacity, seed),
            policy_kind: kind,
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

    /// Bytes of heap held, roughly: slab, table, free list and keys.
    pub fn heap_bytes(&self) -> usize {
        let keys: usize = self.entries.iter().map(|e| e.key.heap_len()).sum();
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.table.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.free.capacity() * std::mem::size_of::<u32>()
            + keys
            + self.policy.heap_bytes()
    }

    pub fn get(&mut self, key: &[u8], now: &mut impl Now) -> Get {
        let Some(slot) = self.find(key) else {
            self.counters.misses += 1;
            if let Policy::Tiny(p) = &mut self.policy {
                p.miss(key);
            }
            return Get::Miss;
        };
        if self.entries[slot as usize].is_expired(now) {
            self.remove(slot);
            self.counters.expirations += 1;
            self.counters.misses += 1;
            if let Policy::Tiny(p) = &mut self.policy {
                p.miss(key);
            }
            return Get::Expired(slot);
        }
        self.counters.hits += 1;
        self.move_to_head(slot);
        Get::Hit(slot)
    }

    /// The slot of a live entry, without counting or reordering.
    pub fn peek(&self, key: &[u8], now: &mut impl Now) -> Option<u32> {
        let slot = self.find(key)?;
        if self.entries[slot as usize].is_expired(now) {
            None
        } else {
            Some(slot)
        }
    }

    /// Inserts or replaces `key`; `ttl_ms` 0 means no expiry.
    pub fn set(&mut self, key: &[u8], ttl_ms: f64, now: &mut impl Now) -> SetOutcome {
        self.counters.sets += 1;
        let swept = self.sweep(now);
        let deadline = deadline_of(ttl_ms, now);
        let hash = self.hasher.hash_one(key);
        if let Some(slot) = self.find_hashed(hash, key) {
            self.entries[slot as usize].deadline = deadline;
            self.move_to_head(slot);
            return SetOutcome { slot, swept };
        }
        if !matches!(self.policy, Policy::Lru) {
            let slot = self.insert_by_policy(key, hash, deadline, now);
            return SetOutcome { slot, swept };
        }
        let slot = self.insert_lru(Key::new(key), hash, deadline, now);
        let entries = &self.entries;
        self.table
            .insert_unique(hash, slot, |&s| entries[s as usize].hash);
        SetOutcome { slot, swept }
    }

    /// LRU insertion of an absent entry (keyed by `set`, keyless by `insert_keyless`):
    /// evicts the tail when full, then takes a slot (the victim's: LIFO) and links it at
    /// the head. The caller adds it to the table if it has a key.
    fn insert_lru(&mut self, key: Key, hash: u64, deadline: f64, now: &mut impl Now) -> u32 {
        if self.len == self.capacity {
            let victim = self.tail;
            if self.entries[victim as usize].is_expired(now) {
                self.counters.expirations += 1;
            } else {
                self.counters.evictions += 1;
            }
            self.remove(victim);
        }
        let slot = self.allocate(key, hash, deadline);
        self.link_at_head(slot);
        self.len += 1;
        slot
    }

    pub fn delete(&mut self, key: &[u8], now: &mut impl Now) -> Delete {
        let Some(slot) = self.find(key) else {
            return Delete::Absent;
        };
        let expired = self.entries[slot as usize].is_expired(now);
        self.remove(slot);
        if expired {
            self.counters.expirations += 1;
            Delete::Expired(slot)
        } else {
            Delete::Removed(slot)
        }
    }

    /// Removes every entry and returns slots, free list and sweep cursor to their initial
    /// state; counters are kept.
    pub fn clear(&mut self) {
        self.table.clear();
        self.entries.clear();
        self.free.clear();
        self.head = NIL;
        self.tail = NIL;
        self.len = 0;
        self.cursor = 0;
        self.clear_policy();
    }

    /// Keys from most to least recently used (tests and debugging; O(n)).
    pub fn keys_mru_to_lru(&self) -> Vec<Vec<u8>> {
        if let Some(order) = self.policy_order() {
            return order
                .into_iter()
                .map(|s| self.entries[s as usize].key.as_bytes().to_vec())
                .collect();
        }
        let mut out = Vec::with_capacity(self.len as usize);
        let mut s = self.head;
        while s != NIL {
            let e = &self.entries[s as usize];
            out.push(e.key.as_bytes().to_vec());
            s = e.next;
        }
        out
    }

    /// The key stored in `slot`, if the slot is occupied.
    pub fn key_at(&self, slot: u32) -> Option<&[u8]> {
        let e = self.entries.get(slot as usize)?;
        (e.prev != VACANT).then_some(e.key.as_bytes())
    }

    #[inline]
    fn find(&self, key: &[u8]) -> Option<u32> {
        self.find_hashed(self.hasher.hash_one(key), key)
    }

    #[inline]
    fn find_hashed(&self, hash: u64, key: &[u8]) -> Option<u32> {
        self.table
            .find(hash, |&s| self.entries[s as usize].key.as_bytes() == key)
            .copied()
    }

    fn sweep(&mut self, now: &mut impl Now) -> [Option<u32>; SWEEP_PER_SET as usize] {
        let mut swept = [None; SWEEP_PER_SET as usize];
        let high_water = self.entries.len() as u32;
        if high_water == 0 {
            return swept;
        }
        for out in swept.iter_mut() {
            if self.cursor >= high_water {
                self.cursor = 0;
            }
            let slot = self.cursor;
            self.cursor += 1;
            let e = &self.entries[slot as usize];
            if e.prev != VACANT && e.is_expired(now) {
                self.remove(slot);
                self.counters.expirations += 1;
                *out = Some(slot);
            }
        }
        swept
    }

    fn allocate(&mut self, key: Key, hash: u64, deadline: f64) -> u32 {
        let entry = Entry {
            key,
            hash,
            deadline,
            prev: NIL,
            next: NIL,
        };
        match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = entry;
                slot
            }
            None => {
                // len < capacity <= MAX_CAPACITY here, and every used slot is either
                // occupied or on the free list, so the new slot number fits in u32.
                let slot = self.entries.len() as u32;
                self.entries.push(entry);
                slot
            }
        }
    }

    /// Unlinks and frees an occupied slot, dropping its key.
    fn remove(&mut self, slot: u32) {
        let hash = self.entries[slot as usize].hash;
        // Keyless entries (keyless.rs) are never in the table: skip the probe when it is empty.
        if !self.table.is_empty() {
            if let Ok(found) = self.table.find_entry(hash, |&s| s == slot) {
                found.remove();
            }
        }
        match &mut self.policy {
            Policy::Lru => self.unlink(slot),
            Policy::S3(p) => p.unlink(&mut self.entries, slot),
            Policy::Tiny(p) => p.unlink(&mut self.entries, slot),
        }
        let e = &mut self.entries[slot as usize];
        e.key = EMPTY_KEY;
        e.prev = VACANT;
        e.next = NIL;
        self.free.push(slot);
        self.len -= 1;
    }

    #[inline]
    fn unlink(&mut self, slot: u32) {
        let (p, n) = {
            let e = &self.entries[slot as usize];
            (e.prev, e.next)
        };
        if p == NIL {
            self.head = n;
        } else {
            self.entries[p as usize].next = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.entries[n as usize].prev = p;
        }
    }

    #[inline]
    fn link_at_head(&mut self, slot: u32) {
        let old = self.head;
        {
            let e = &mut self.entries[slot as usize];
            e.prev = NIL;
            e.next = old;
        }
        if old != NIL {
            self.entries[old as usize].prev = slot;
        }
        self.head = slot;
        if self.tail == NIL {
            self.tail = slot;
        }
    }

    #[inline]
    fn move_to_head(&mut self, slot: u32) {
        // Every hit goes through here (get, set of a present key, recorded accesses): the
        // other policies decide what a hit means for them.
        match &mut self.policy {
            Policy::Lru => {}
            Policy::S3(p) => return p.touch(slot),
            Policy::Tiny(p) => return p.touch(&mut self.entries, slot),
        }
        if self.head != slot {
            self.unlink(slot);
            self.link_at_head(slot);
        }
    }
}

#[cfg(test)]
mod tests;
