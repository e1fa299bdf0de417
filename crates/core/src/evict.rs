//! Evicting one entry on demand, for callers that budget something other than the entry
//! count (the byte store's `max_bytes`). The entry is the one the policy itself would
//! evict at capacity ([`Lru::next_victim`]: the LRU tail, S3-FIFO's FIFO victim,
//! W-TinyLFU's admission loser), so a byte budget changes how often a policy evicts,
//! never whom it picks.

use crate::{Lru, Now, NIL};

/// What [`Lru::evict_one`] removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evicted {
    /// The slot the entry occupied (now free).
    pub slot: u32,
    /// The entry had already expired: counted as an expiration, not an eviction
    /// (the same rule `set` applies to the tail it removes).
    pub expired: bool,
}

impl Lru {
    /// Removes the policy's next victim, counting an eviction (or an expiration if it had
    /// expired); `None` when the cache is empty.
    pub fn evict_one(&mut self, now: &mut impl Now) -> Option<Evicted> {
        let slot = self.next_victim()?;
        let expired = self.entries[slot as usize].is_expired(now);
        if expired {
            self.counters.expirations += 1;
        } else {
            self.counters.evictions += 1;
        }
        self.remove(slot);
        Some(Evicted { slot, expired })
    }

    /// The slot of the LRU tail, if any (tests and invariant checks).
    pub fn tail_slot(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }
}

impl Lru {
    /// Counts a set whose value is dropped at once (the byte store's value larger than its
    /// whole budget): sets + 1 and evictions + 1, as if inserted and evicted; the key's
    /// previous entry, if any, is removed (it was replaced) and its slot returned.
    pub fn refuse(&mut self, key: &[u8]) -> Option<u32> {
        self.counters.sets += 1;
        self.counters.evictions += 1;
        let slot = self.find(key)?;
        self.remove(slot);
        Some(slot)
    }
}
