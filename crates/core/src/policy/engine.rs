//! The parts of [`Lru`] that differ by policy: insertion with the policy's victim, the
//! next victim for byte budgets, order, clear. (Hits, removal and misses dispatch inline
//! in cache.rs.)

use super::Policy;
use crate::removal::OnRemove;
use crate::{Lru, Now};

impl Lru {
    /// Inserts a key known to be absent under S3-FIFO or W-TinyLFU; returns its slot.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert_by_policy(
        &mut self,
        key: &[u8],
        hash: u64,
        value: &[u8],
        len: usize,
        deadline: Option<f64>,
        now: &mut impl Now,
        on: &mut impl OnRemove,
    ) -> Option<u32> {
        let full = self.len == self.capacity();
        // Decide where the key goes and which entry leaves before allocating, so that the
        // freed slot is the one the new key takes (the LIFO free-list rule).
        let (victim, placement) = match &mut self.policy {
            Policy::S3(p) => {
                let placement = Placement::S3(p.place(key));
                (full.then(|| p.victim(&mut self.slots.entries)), placement)
            }
            Policy::Tiny(p) => {
                let placement = Placement::Tiny(p.place(key));
                (p.prepare(&mut self.slots.entries, full), placement)
            }
            Policy::Lru => unreachable!("LRU inserts inline"),
        };
        if let Some(v) = victim {
            self.evict(v, now, on);
        }
        let loc = self.store_record(key, value, len, deadline, on)?;
        let slot = self.slots.allocate(loc);
        self.slots.set_timed(slot, deadline.is_some());
        self.index_insert(hash, slot);
        match (&mut self.policy, placement) {
            (Policy::S3(p), Placement::S3(pl)) => p.link_new(&mut self.slots.entries, slot, pl),
            (Policy::Tiny(p), Placement::Tiny(pl)) => p.link_new(&mut self.slots.entries, slot, pl),
            _ => unreachable!(),
        }
        self.len += 1;
        Some(slot)
    }

    pub(crate) fn clear_policy(&mut self) {
        match &mut self.policy {
            Policy::Lru => {}
            Policy::S3(p) => p.clear(),
            Policy::Tiny(p) => p.clear(),
        }
    }

    /// Resident slots in the policy's order (None for LRU, which walks its own list).
    pub(crate) fn policy_order(&self) -> Option<Vec<u32>> {
        match &self.policy {
            Policy::Lru => None,
            Policy::S3(p) => Some(p.order(&self.slots.entries)),
            Policy::Tiny(p) => Some(p.order(&self.slots.entries)),
        }
    }

    /// The slot the policy would evict next (LRU: the tail), without changing anything but
    /// the policy's own bookkeeping. For evictions on a byte budget.
    pub(crate) fn next_victim(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        Some(match &mut self.policy {
            Policy::Lru => self.tail,
            Policy::S3(p) => p.victim(&mut self.slots.entries),
            Policy::Tiny(p) => p.prepare(&mut self.slots.entries, true).unwrap_or(self.tail),
        })
    }

    /// W-TinyLFU's current window size target (None for other policies).
    pub fn window_target(&self) -> Option<u32> {
        match &self.policy {
            Policy::Tiny(p) => Some(p.window_max()),
            _ => None,
        }
    }
}

enum Placement {
    S3(super::s3fifo::Placement),
    Tiny(super::tinylfu::Placement),
}
