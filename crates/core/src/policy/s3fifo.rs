//! S3-FIFO (Yang et al., SOSP 2023) with libCacheSim's defaults, decision for decision
//! the `s3fifo` policy of `../shared/traces/sim.py`:
//! - small FIFO of 10 % of capacity (at least 1), main FIFO for the rest, ghost FIFO of
//!   the hashes of keys evicted from small, 90 % of capacity;
//! - a hit adds 1 to a 2-bit frequency (capped at 3); nothing moves on a hit;
//! - a new key goes to main if its hash is in the ghost (and leaves the ghost), else to small;
//! - to make room: if main holds more than its share or small is empty, evict from main,
//!   else from small. Small's oldest entry moves to main if it was hit twice or more,
//!   otherwise it is the victim (and its hash joins the ghost). Main's oldest entry is
//!   reinserted at the newest end with frequency - 1 while its frequency is >= 1,
//!   otherwise it is the victim.
//!
//! Bounded work: a victim search moves at most |small| entries (each promoted at most once
//! per residency) and reinserts at most 3·|main| entries, because every reinsertion takes
//! one off a counter that never exceeds 3 and nothing adds to a counter during the search.
//! Amortized it is O(1): a counter unit is bought by a hit (at most one per access) and a
//! promotion by an insertion, so reinsertions + promotions never exceed hits + inserts.

use super::ghost::Ghost;
use super::hash::key_hash;
use super::list::Queue;
use crate::Entry;

/// `meta` bit set for entries in main; the low 2 bits are the frequency.
const IN_MAIN: u8 = 0x80;
const FREQ: u8 = 0x03;

pub(crate) struct S3Fifo {
    small: Queue,
    main: Queue,
    main_cap: u32,
    ghost: Ghost,
    meta: Vec<u8>,
    hashes: Vec<u32>,
    seed: u32,
}

/// Where a key about to be inserted goes, decided before its slot is allocated.
pub(crate) struct Placement {
    hash: u32,
    to_main: bool,
}

impl S3Fifo {
    pub fn new(capacity: u32, seed: u32) -> S3Fifo {
        let small_cap = ((capacity as f64 * 0.10) as u32).max(1);
        let ghost_cap = (capacity as f64 * 0.90) as u32;
        S3Fifo {
            small: Queue::EMPTY,
            main: Queue::EMPTY,
            main_cap: capacity.saturating_sub(small_cap),
            ghost: Ghost::new(ghost_cap),
            meta: Vec::new(),
            hashes: Vec::new(),
            seed,
        }
    }

    pub fn clear(&mut self) {
        self.small = Queue::EMPTY;
        self.main = Queue::EMPTY;
        self.ghost.clear();
        self.meta.clear();
        self.hashes.clear();
    }

    /// A hit (get, or set of a present key): one more frequency unit, capped at 3.
    #[inline]
    pub fn touch(&mut self, slot: u32) {
        let m = &mut self.meta[slot as usize];
        if *m & FREQ < 3 {
            *m += 1;
        }
    }

    /// Before inserting a new key: consults (and consumes) the ghost.
    pub fn place(&mut self, key: &[u8]) -> Placement {
        let hash = key_hash(key, self.seed);
        Placement {
            hash,
            to_main: self.ghost.take(hash),
        }
    }

    /// The entry to evict from a full cache (still linked: the caller removes it).
    pub fn victim(&mut self, entries: &mut [Entry]) -> u32 {
        loop {
            if self.main.len > self.main_cap || self.small.len == 0 {
                if let Some(v) = self.victim_from_main(entries) {
                    return v;
                }
            } else if let Some(v) = self.victim_from_small(entries) {
                return v;
            }
        }
    }

    fn victim_from_main(&mut self, entries: &mut [Entry]) -> Option<u32> {
        while self.main.len > 0 {
            let t = self.main.tail;
            let m = &mut self.meta[t as usize];
            if *m & FREQ == 0 {
                return Some(t);
            }
            *m -= 1;
            self.main.move_to_head(entries, t);
        }
        None
    }

    fn victim_from_small(&mut self, entries: &mut [Entry]) -> Option<u32> {
        while self.small.len > 0 {
            let t = self.small.tail;
            if self.meta[t as usize] & FREQ >= 2 {
                self.small.unlink(entries, t);
                self.meta[t as usize] = IN_MAIN;
                self.main.push_head(entries, t);
            } else {
                self.ghost.push(self.hashes[t as usize]);
                return Some(t);
            }
        }
        None
    }

    pub fn link_new(&mut self, entries: &mut [Entry], slot: u32, p: Placement) {
        let i = slot as usize;
        if i >= self.meta.len() {
            self.meta.resize(i + 1, 0);
            self.hashes.resize(i + 1, 0);
        }
        self.hashes[i] = p.hash;
        if p.to_main {
            self.meta[i] = IN_MAIN;
            self.main.push_head(entries, slot);
        } else {
            self.meta[i] = 0;
            self.small.push_head(entries, slot);
        }
    }

    pub fn unlink(&mut self, entries: &mut [Entry], slot: u32) {
        if self.meta[slot as usize] & IN_MAIN != 0 {
            self.main.unlink(entries, slot);
        } else {
            self.small.unlink(entries, slot);
        }
    }

    /// Small newest to oldest, then main newest to oldest.
    pub fn order(&self, entries: &[Entry]) -> Vec<u32> {
        let mut out = self.small.slots(entries);
        out.extend(self.main.slots(entries));
        out
    }

    pub fn heap_bytes(&self) -> usize {
        self.meta.capacity() + self.hashes.capacity() * 4 + self.ghost.heap_bytes()
    }

    #[cfg(test)]
    pub fn ghost_len(&self) -> usize {
        self.ghost.len()
    }
}
