//! The cache engine behind astra-cache, with no N-API in sight: keys, order, deadlines,
//! counters and (in serialized storage) values, for any of three eviction policies.
//!
//! Semantics are exactly those documented at the top of `src/memory/engine.ts`: the
//! pure-TS engine implements the same rules, and property tests compare the two op for op.
//!
//! Layout (see each module): [`Lru`] (cache.rs) keeps a slot table of 12-byte entries with
//! `u32` links (slots.rs), an open-addressing index of 8-byte tagged buckets (index.rs) and
//! an arena of size-class pages holding each entry's key, deadline and value inline
//! (arena/). Every reference inside is a `u32` slot number or location; nothing points
//! into anything else. `verify()` checks all of it.
//!
//! Time is a caller-supplied millisecond `f64` ([`Now`]), read lazily: an operation that
//! never meets an entry with a deadline never asks for the time.

mod arena;
mod cache;
mod index;
mod policy;
pub mod removal;
pub mod machine;
pub mod shared;
mod slots;
mod verify;

pub use cache::{Lru, ARENA_BUDGET, ENTRY_BYTES, NO_SLOT, POLICY_ENTRY_BYTES};
pub use policy::hash::key_hash;
pub use policy::PolicyKind;
pub use removal::{OnRemove, Reason, Removal};
pub(crate) use slots::{Entry, NIL};

/// Slots examined by the sweep at the start of every `set`.
pub const SWEEP_PER_SET: u32 = 2;
/// The largest capacity accepted: slot numbers must stay clear of the link sentinels.
pub const MAX_CAPACITY: u32 = 1 << 30;
/// Largest record kept inside the arena's pages (longer ones get their own allocation).
pub const MAX_INLINE_RECORD: usize = arena::MAX_SMALL;

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

impl Counters {
    /// Adds another set of counters (shards summed into one total).
    pub fn add(&mut self, o: &Counters) {
        self.hits += o.hits;
        self.misses += o.misses;
        self.evictions += o.evictions;
        self.expirations += o.expirations;
        self.sets += o.sets;
    }
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

#[cfg(test)]
mod tests;
