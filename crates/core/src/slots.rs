//! The slot table: one fixed-size [`Entry`] per slot, `u32` numbers only.
//!
//! - `entries.len()` is the high-water mark (slots ever used since the last clear).
//! - An occupied entry's `prev`/`next` link it into the eviction policy's queue (see
//!   `policy/list.rs`) and `loc` says where its record lives in the arena.
//! - A vacant entry has `prev == VACANT`; its `next` threads the free list, a LIFO stack
//!   whose top is `free_head` (so a new entry takes the most recently freed slot, as the
//!   engine rules require), and costs no memory besides the entries themselves.
//! - `timed` has one bit per slot, set while the occupied entry has a deadline: the sweep
//!   and eviction read a record's deadline only for timed slots.

pub(crate) const NIL: u32 = u32::MAX;
/// Stored in `prev` of a slot that holds no entry.
pub(crate) const VACANT: u32 = u32::MAX - 1;

/// A slot: policy links and the record's location. 12 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    /// Towards the queue's newer end; [`VACANT`] when the slot is free.
    pub prev: u32,
    /// Towards the older end; the next free slot when vacant.
    pub next: u32,
    /// The record's location in the arena (meaningless when vacant).
    pub loc: u32,
}

pub(crate) struct Slots {
    pub entries: Vec<Entry>,
    free_head: u32,
    timed: Vec<u64>,
    timed_count: u32,
}

impl Slots {
    pub fn new() -> Slots {
        Slots { entries: Vec::new(), free_head: NIL, timed: Vec::new(), timed_count: 0 }
    }

    pub fn clear(&mut self) {
        *self = Slots::new();
    }

    #[inline]
    pub fn high_water(&self) -> u32 {
        self.entries.len() as u32
    }

    #[inline]
    pub fn is_occupied(&self, slot: u32) -> bool {
        self.entries.get(slot as usize).is_some_and(|e| e.prev != VACANT)
    }

    #[inline(always)]
    pub fn loc(&self, slot: u32) -> u32 {
        self.entries[slot as usize].loc
    }

    /// Takes the most recently freed slot, else a new one; the caller links it.
    #[inline]
    pub fn allocate(&mut self, loc: u32) -> u32 {
        let entry = Entry { prev: NIL, next: NIL, loc };
        if self.free_head != NIL {
            let slot = self.free_head;
            self.free_head = self.entries[slot as usize].next;
            self.entries[slot as usize] = entry;
            slot
        } else {
            // Every slot below the high-water mark is occupied or free, and the cache never
            // holds more than MAX_CAPACITY entries, so the number fits in u32.
            let slot = self.entries.len() as u32;
            self.entries.push(entry);
            if self.timed.len() * 64 <= slot as usize {
                self.timed.push(0);
            }
            slot
        }
    }

    /// Marks an (already unlinked) slot free and pushes it on the free list.
    #[inline]
    pub fn release(&mut self, slot: u32) {
        self.set_timed(slot, false);
        let e = &mut self.entries[slot as usize];
        e.prev = VACANT;
        e.next = self.free_head;
        self.free_head = slot;
    }

    #[inline]
    pub fn is_timed(&self, slot: u32) -> bool {
        self.timed[(slot >> 6) as usize] & (1 << (slot & 63)) != 0
    }

    /// Entries with a deadline right now.
    #[inline]
    pub fn timed_count(&self) -> u32 {
        self.timed_count
    }

    #[inline]
    pub fn set_timed(&mut self, slot: u32, timed: bool) {
        let word = &mut self.timed[(slot >> 6) as usize];
        let bit = 1u64 << (slot & 63);
        if (*word & bit != 0) != timed {
            *word ^= bit;
            if timed {
                self.timed_count += 1;
            } else {
                self.timed_count -= 1;
            }
        }
    }

    /// Free slots in stack order, top first (invariant checks; O(free)).
    pub fn free_list(&self) -> Result<Vec<u32>, String> {
        let mut out = Vec::new();
        let mut s = self.free_head;
        while s != NIL {
            let e = self.entries.get(s as usize).ok_or_else(|| format!("free list reaches slot {s} past the high-water mark"))?;
            if e.prev != VACANT {
                return Err(format!("free list reaches occupied slot {s}"));
            }
            out.push(s);
            if out.len() > self.entries.len() {
                return Err("free list has a cycle".into());
            }
            s = e.next;
        }
        Ok(out)
    }

    /// Checks the timed bits against the occupied slots (invariant checks; O(n)).
    pub fn check_timed(&self) -> Result<(), String> {
        let mut count = 0;
        for slot in 0..self.high_water() {
            if self.is_timed(slot) {
                if !self.is_occupied(slot) {
                    return Err(format!("vacant slot {slot} is marked timed"));
                }
                count += 1;
            }
        }
        if count != self.timed_count {
            return Err(format!("{count} timed bits but timed_count {}", self.timed_count));
        }
        Ok(())
    }

    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>() + self.timed.capacity() * 8
    }
}
