//! One shard's operations over its bytes in the segment. The caller holds the shard's lock
//! (lock.rs) for everything but `read_unlocked` (reads validated by the shard's version,
//! see there); nothing else here synchronises. Every derived structure (index, list links, slot
//! free list, buddy free lists, size and byte counts) can be rebuilt from the committed
//! slots alone (recover.rs), so a writer that dies at any instruction loses at most the
//! entry it was writing.
//!
//! Write order that makes this true: a new entry's bytes and slot fields are written and
//! its `state` word is set to COMMITTED last; an overwrite commits its new version in a
//! fresh slot (with a newer stamp) before the old one is released; a removal clears the
//! `state` word first.
//!
//! Eviction is second-chance (CLOCK over the list): a hit only sets the entry's `accessed`
//! word (read first, written only when clear, so a hot entry's line stays shared among
//! the readers' caches); eviction looks at the list's tail and, if the entry was accessed,
//! clears the word and moves it to the head with a new stamp instead of removing it. New
//! entries go to the head. So the list is ordered by insertion or last second chance, and
//! an entry is evicted only after a whole pass of the list found it unread.

// The accessors hand out `&mut` views of shared memory from `&self`: the shard lock, not
// the borrow checker, gives exclusivity, and no two views of one field are held at once.
#![allow(clippy::mut_from_ref)]

use super::layout::*;
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// Raw view of one shard. Valid while the segment is mapped; used only under the lock.
pub struct Shard {
    pub hdr: *mut ShardHeader,
    pub slots: *mut Slot,
    pub index: *mut u64,
    pub map: *mut u8,
    pub region: *mut u8,
    pub nslots: u32,
    pub index_mask: u64,
    pub region_bytes: u64,
    pub max_order: u32,
    pub seed: u64,
}

/// What a locked lookup found (`get`).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Lookup {
    Hit(u32),
    Miss,
    /// The entry had expired: removed (and counted as an expiration); a miss for the caller.
    Expired,
}

/// What a read without the lock saw (`read_unlocked`).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Seen {
    /// A live entry (slot, flags); its value was copied out.
    Hit(u32, u32),
    Absent,
    /// Found but expired: the locked path removes and counts it.
    Expired,
    /// A writer was (or may have been) active: nothing read can be trusted; retry or lock.
    Busy,
}

/// What `set` did.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum SetOutcome {
    Stored,
    /// Key + value do not fit in a shard's region: not stored (an older value was removed).
    TooLarge,
}

impl Shard {
    /// # Safety
    /// `base` points at a mapped shard laid out by `g`.
    pub unsafe fn at(base: *mut u8, g: &Geometry, seed: u64) -> Shard {
        Shard {
            hdr: base as *mut ShardHeader,
            slots: base.add(g.slots_off) as *mut Slot,
            index: base.add(g.index_off) as *mut u64,
            map: base.add(g.map_off),
            region: base.add(g.region_off),
            nslots: g.slots_per_shard,
            index_mask: g.index_len - 1,
            region_bytes: g.region_bytes,
            max_order: g.max_order(),
            seed,
        }
    }

    #[inline(always)]
    pub fn h(&self) -> &mut ShardHeader {
        unsafe { &mut *self.hdr }
    }
    #[inline(always)]
    pub fn slot(&self, i: u32) -> &mut Slot {
        debug_assert!(i < self.nslots);
        unsafe { &mut *self.slots.add(i as usize) }
    }
    #[inline(always)]
    pub fn idx(&self, i: u64) -> &mut u64 {
        unsafe { &mut *self.index.add((i & self.index_mask) as usize) }
    }
    #[inline(always)]
    pub fn map_at(&self, unit: u32) -> &mut u8 {
        unsafe { &mut *self.map.add(unit as usize) }
    }
    pub fn bytes_at(&self, off: u32, len: usize) -> &mut [u8] {
        unsafe { std::slice::from_raw_parts_mut(self.region.add(off as usize), len) }
    }
    /// Key bytes of a slot (its block is within the region: checked by recovery).
    pub fn key_of(&self, s: &Slot) -> &[u8] {
        self.bytes_at(s.block, s.key_len as usize)
    }
    pub fn value_of(&self, s: &Slot) -> &[u8] {
        unsafe { std::slice::from_raw_parts(self.region.add(s.block as usize + s.key_len as usize), s.val_len as usize) }
    }
    pub fn state(&self, i: u32) -> &AtomicU32 {
        unsafe { AtomicU32::from_ptr(&mut (*self.slots.add(i as usize)).state) }
    }
    /// The slot's second-chance word, written by readers without the lock.
    pub fn accessed(&self, i: u32) -> &AtomicU32 {
        unsafe { AtomicU32::from_ptr(&mut (*self.slots.add(i as usize)).accessed) }
    }
    pub fn version(&self) -> &AtomicU64 {
        unsafe { &(*self.hdr).version }
    }

    /// Marks the entry in slot `i` as read since its last chance: a load, and a store only
    /// when the word is clear, so repeated hits write nothing shared.
    #[inline(always)]
    pub fn touch(&self, i: u32) {
        let a = self.accessed(i);
        if a.load(Ordering::Relaxed) == 0 {
            a.store(1, Ordering::Relaxed);
        }
    }

    /// Fresh, empty shard (the creator, before the segment is published, and clear()).
    pub fn init(&self) {
        let h = self.h();
        h.lru_head = NIL;
        h.lru_tail = NIL;
        h.size = 0;
        h.sweep = 0;
        h.bytes = 0;
        h.free_heads = [NIL; MAX_ORDERS];
        for i in 0..self.nslots {
            let s = self.slot(i);
            *s = Slot { state: FREE, flags: 0, block: 0, key_len: 0, val_len: 0, tag: 0, prev: NIL, next: NIL, deadline: 0, stamp: 0, checksum: 0, accessed: 0, _pad: 0 };
        }
        self.rebuild_slot_free_list(|_| false);
        for i in 0..=self.index_mask {
            *self.idx(i) = 0;
        }
        unsafe { std::ptr::write_bytes(self.map, 0, (self.region_bytes >> MIN_SHIFT) as usize) };
        self.free_block(0, self.max_order, false);
    }

    /// Free slots as a stack, lowest slot on top (so a fresh shard fills 0, 1, 2...).
    pub fn rebuild_slot_free_list(&self, live: impl Fn(u32) -> bool) {
        let mut head = NIL;
        for i in (0..self.nslots).rev() {
            if !live(i) {
                self.slot(i).next = head;
                head = i;
            }
        }
        self.h().free_slot = head;
    }

    // ---- index: linear probing, backward-shift deletion (no tombstones) ----

    fn find(&self, key: &[u8], hash: u64) -> Option<(u64, u32)> {
        let tag = (hash >> 32) as u32;
        let mut i = hash;
        loop {
            let e = *self.idx(i);
            if e == 0 {
                return None;
            }
            if (e >> 32) as u32 == tag {
                let slot = (e as u32) - 1;
                if self.key_of(self.slot(slot)) == key {
                    return Some((i & self.index_mask, slot));
                }
            }
            i += 1;
        }
    }

    pub fn index_insert(&self, hash: u64, slot: u32) {
        let mut i = hash;
        while *self.idx(i) != 0 {
            i += 1;
        }
        *self.idx(i) = ((hash >> 32) << 32) | u64::from(slot + 1);
    }

    fn index_remove_at(&self, mut hole: u64) {
        *self.idx(hole) = 0;
        let mut j = hole;
        loop {
            j = (j + 1) & self.index_mask;
            let e = *self.idx(j);
            if e == 0 {
                return;
            }
            let s = self.slot((e as u32) - 1);
            let home = key_hash(self.seed, self.key_of(s)) & self.index_mask;
            // Move e into the hole unless its home lies cyclically in (hole, j].
            let dist_home = j.wrapping_sub(home) & self.index_mask;
            let dist_hole = j.wrapping_sub(hole) & self.index_mask;
            if dist_home >= dist_hole {
                *self.idx(hole) = e;
                *self.idx(j) = 0;
                hole = j;
            }
        }
    }

    // ---- the eviction list (head = newest or last given a second chance) ----

    fn unlink(&self, i: u32) {
        let (p, n) = {
            let s = self.slot(i);
            (s.prev, s.next)
        };
        if p == NIL { self.h().lru_head = n } else { self.slot(p).next = n }
        if n == NIL { self.h().lru_tail = p } else { self.slot(n).prev = p }
    }

    pub fn push_head(&self, i: u32) {
        let old = self.h().lru_head;
        {
            let s = self.slot(i);
            s.prev = NIL;
            s.next = old;
        }
        if old == NIL { self.h().lru_tail = i } else { self.slot(old).prev = i }
        self.h().lru_head = i;
    }

    // ---- buddy allocator over the region (offsets in 64-byte units internally) ----

    fn list_push(&self, order: u32, unit: u32) {
        let head = self.h().free_heads[order as usize];
        let links = self.bytes_at(unit << MIN_SHIFT, 8);
        links[0..4].copy_from_slice(&NIL.to_le_bytes());
        links[4..8].copy_from_slice(&head.to_le_bytes());
        if head != NIL {
            self.bytes_at(head << MIN_SHIFT, 4).copy_from_slice(&unit.to_le_bytes());
        }
        self.h().free_heads[order as usize] = unit;
        *self.map_at(unit) = order as u8 + 1;
    }

    pub fn links(&self, unit: u32) -> (u32, u32) {
        let b = self.bytes_at(unit << MIN_SHIFT, 8);
        (u32::from_le_bytes(b[0..4].try_into().unwrap()), u32::from_le_bytes(b[4..8].try_into().unwrap()))
    }

    fn list_remove(&self, order: u32, unit: u32) {
        let (p, n) = self.links(unit);
        if p == NIL { self.h().free_heads[order as usize] = n } else { self.bytes_at((p << MIN_SHIFT) + 4, 4).copy_from_slice(&n.to_le_bytes()) }
        if n != NIL {
            self.bytes_at(n << MIN_SHIFT, 4).copy_from_slice(&p.to_le_bytes());
        }
        *self.map_at(unit) = 0;
    }

    /// A block of `order`, or None when the region has none free.
    fn alloc(&self, order: u32) -> Option<u32> {
        let mut o = order;
        while o <= self.max_order && self.h().free_heads[o as usize] == NIL {
            o += 1;
        }
        if o > self.max_order {
            return None;
        }
        let unit = self.h().free_heads[o as usize];
        self.list_remove(o, unit);
        while o > order {
            o -= 1;
            self.list_push(o, unit + (1 << o));
        }
        Some(unit << MIN_SHIFT)
    }

    /// Frees a block, merging with its free buddies when `merge`.
    pub fn free_block(&self, off: u32, order: u32, merge: bool) {
        let mut unit = off >> MIN_SHIFT;
        let mut o = order;
        while merge && o < self.max_order {
            let buddy = unit ^ (1 << o);
            if *self.map_at(buddy) != o as u8 + 1 {
                break;
            }
            self.list_remove(o, buddy);
            unit &= !(1 << o);
            o += 1;
        }
        self.list_push(o, unit);
    }

    // ---- entries ----

    fn expired(s: &Slot, now: u64) -> bool {
        s.deadline != 0 && now >= s.deadline
    }

    /// Removes a live slot: state word first, then everything derived.
    fn remove_slot(&self, i: u32, index_pos: Option<u64>) {
        let (block, need) = {
            let s = self.slot(i);
            (s.block, s.key_len as usize + s.val_len as usize)
        };
        self.state(i).store(FREE, Ordering::Release);
        let pos = index_pos.unwrap_or_else(|| {
            let s = self.slot(i);
            let key = self.key_of(s);
            let hash = key_hash(self.seed, key);
            self.find(key, hash).map(|(p, _)| p).expect("a live slot is indexed")
        });
        self.index_remove_at(pos);
        self.unlink(i);
        let h = self.h();
        h.size -= 1;
        h.bytes -= need as u64;
        self.slot(i).next = h.free_slot;
        h.free_slot = i;
        self.free_block(block, order_for(need), true);
    }

    /// Removes one entry from the tail side (an eviction, or an expiration if it had
    /// expired), first giving a second chance (to the head, new stamp, word cleared) to
    /// each tail entry read since its last chance, and to `keep` (the entry a set is
    /// replacing, NIL for none). Ends: every chance clears a word, so within one pass
    /// the tail is an unread entry other than `keep` (the caller makes sure one exists).
    fn evict_tail(&self, now: u64, keep: u32) -> bool {
        loop {
            let t = self.h().lru_tail;
            if t == NIL {
                return false;
            }
            if Self::expired(self.slot(t), now) {
                self.h().expirations += 1;
            } else if t == keep || self.accessed(t).load(Ordering::Relaxed) != 0 {
                self.accessed(t).store(0, Ordering::Relaxed);
                let stamp = self.next_stamp();
                self.slot(t).stamp = stamp;
                self.unlink(t);
                self.push_head(t);
                continue;
            } else {
                self.h().evictions += 1;
            }
            self.remove_slot(t, None);
            return true;
        }
    }

    fn next_stamp(&self) -> u64 {
        let h = self.h();
        h.seq += 1;
        h.seq
    }

    /// The live entry's slot, marked read; an expired one is removed. (Hits and misses
    /// are counted by the caller, in its lane.)
    pub fn get(&self, key: &[u8], hash: u64, now: &mut impl FnMut() -> u64) -> Lookup {
        let Some((pos, i)) = self.find(key, hash) else {
            return Lookup::Miss;
        };
        if self.slot(i).deadline != 0 && Self::expired(self.slot(i), now()) {
            self.remove_slot(i, Some(pos));
            self.h().expirations += 1;
            return Lookup::Expired;
        }
        self.touch(i);
        Lookup::Hit(i)
    }

    /// Looks `key` up without the lock, handing a live entry's value to `copy`: a
    /// seqlock read. The version is read before and after (acquire ordering around the
    /// reads); what was read counts only if it was even and unchanged, i.e. no holder
    /// could have been writing meanwhile. Until then everything read may be torn, so
    /// every offset is bounds-checked before use and every loop is bounded: a torn read
    /// gives Busy, never a fault or a wrong answer. Writes nothing shared, so a reader
    /// killed here leaves nothing behind.
    /// `copy` must only copy the bytes: they may be torn until the version is checked.
    pub fn read_unlocked(&self, key: &[u8], hash: u64, now: &mut impl FnMut() -> u64, copy: impl FnOnce(&[u8])) -> Seen {
        let v = self.version().load(Ordering::Acquire);
        if v & 1 != 0 {
            return Seen::Busy;
        }
        let seen = self.read_racy(key, hash, now, copy);
        fence(Ordering::Acquire);
        if self.version().load(Ordering::Relaxed) != v {
            return Seen::Busy;
        }
        seen
    }

    fn read_racy(&self, key: &[u8], hash: u64, now: &mut impl FnMut() -> u64, copy: impl FnOnce(&[u8])) -> Seen {
        let tag = (hash >> 32) as u32;
        // At most one lap of the index: a torn view may show no empty word.
        for j in (0..=self.index_mask).map(|n| hash.wrapping_add(n)) {
            // SAFETY (all reads below): inside the mapping; values may be torn, which the
            // version check after the read rejects.
            let e = unsafe { std::ptr::read_volatile(self.index.add((j & self.index_mask) as usize)) };
            if e == 0 {
                return Seen::Absent;
            }
            if (e >> 32) as u32 != tag {
                continue;
            }
            let i = (e as u32).wrapping_sub(1);
            if i >= self.nslots {
                return Seen::Busy;
            }
            let s = unsafe { std::ptr::read_volatile(self.slots.add(i as usize)) };
            let (klen, vlen) = (s.key_len as usize, s.val_len as usize);
            if s.state != COMMITTED || s.block as u64 + klen as u64 + vlen as u64 > self.region_bytes {
                return Seen::Busy;
            }
            if klen != key.len() {
                continue;
            }
            let stored = unsafe { std::slice::from_raw_parts(self.region.add(s.block as usize), klen) };
            if stored != key {
                continue;
            }
            if s.deadline != 0 && now() >= s.deadline {
                return Seen::Expired;
            }
            copy(unsafe { std::slice::from_raw_parts(self.region.add(s.block as usize + klen), vlen) });
            return Seen::Hit(i, s.flags);
        }
        Seen::Busy
    }

    /// The live entry's slot without counting or reordering.
    pub fn peek(&self, key: &[u8], hash: u64, now: &mut impl FnMut() -> u64) -> Option<u32> {
        let (_, i) = self.find(key, hash)?;
        if self.slot(i).deadline != 0 && Self::expired(self.slot(i), now()) {
            return None;
        }
        Some(i)
    }

    pub fn delete(&self, key: &[u8], hash: u64, now: u64) -> bool {
        let Some((pos, i)) = self.find(key, hash) else { return false };
        let live = !Self::expired(self.slot(i), now);
        if !live {
            self.h().expirations += 1;
        }
        self.remove_slot(i, Some(pos));
        live
    }

    /// Examines SWEEP slots from the cursor and removes the expired ones.
    fn sweep(&self, now: u64) {
        for _ in 0..crate::SWEEP_PER_SET {
            let i = self.h().sweep;
            self.h().sweep = if i + 1 >= self.nslots { 0 } else { i + 1 };
            if self.slot(i).state == COMMITTED && Self::expired(self.slot(i), now) {
                self.h().expirations += 1;
                self.remove_slot(i, None);
            }
        }
    }

    /// Stores key -> (flags, value) with `deadline` (0 = never), evicting from the list's tail (second chance) when
    /// the shard is full or its region has no block big enough.
    pub fn set(&self, key: &[u8], hash: u64, flags: u32, value: &[u8], deadline: u64, now: u64) -> SetOutcome {
        self.h().sets += 1;
        self.sweep(now);
        let mut old = self.find(key, hash).map(|(_, i)| i);
        let need = key.len() + value.len();
        if need as u64 > self.region_bytes {
            if let Some(i) = old {
                self.remove_slot(i, None);
            }
            return SetOutcome::TooLarge;
        }
        let cap = self.nslots - 1;
        if old.is_none() {
            while self.h().size >= cap {
                self.evict_tail(now, NIL);
            }
        }
        let order = order_for(need);
        let block = loop {
            if let Some(b) = self.alloc(order) {
                break b;
            }
            if old.is_some() && self.h().size == 1 {
                // Only the entry being replaced holds memory: release it first.
                self.remove_slot(old.take().unwrap(), None);
                continue;
            }
            // Never evict the entry being replaced while others remain.
            self.evict_tail(now, old.unwrap_or(NIL));
        };
        let i = self.h().free_slot;
        debug_assert!(i != NIL, "a spare slot is always free");
        self.h().free_slot = self.slot(i).next;
        self.bytes_at(block, key.len()).copy_from_slice(key);
        self.bytes_at(block + key.len() as u32, value.len()).copy_from_slice(value);
        let stamp = self.next_stamp();
        {
            let s = self.slot(i);
            s.flags = flags;
            s.block = block;
            s.key_len = key.len() as u32;
            s.val_len = value.len() as u32;
            s.tag = (hash >> 32) as u32;
            s.deadline = deadline;
            s.stamp = stamp;
            s.checksum = 0;
            s.accessed = 0;
            let sum = checksum(key, value, s);
            s.checksum = sum;
        }
        self.state(i).store(COMMITTED, Ordering::Release);
        match old {
            Some(o) => {
                // The new version is committed: now release the old one, and let the new
                // slot take its index entry.
                let (pos, _) = self.find(key, hash).expect("old version indexed");
                let (oblock, oneed) = {
                    let s = self.slot(o);
                    (s.block, s.key_len as usize + s.val_len as usize)
                };
                self.state(o).store(FREE, Ordering::Release);
                *self.idx(pos) = ((hash >> 32) << 32) | u64::from(i + 1);
                self.unlink(o);
                let h = self.h();
                h.bytes -= oneed as u64;
                self.slot(o).next = h.free_slot;
                h.free_slot = o;
                self.free_block(oblock, order_for(oneed), true);
            }
            None => {
                self.index_insert(hash, i);
                self.h().size += 1;
            }
        }
        self.h().bytes += need as u64;
        self.push_head(i);
        SetOutcome::Stored
    }

    /// Removes every entry (counters kept).
    pub fn clear(&self) {
        for i in 0..self.nslots {
            self.state(i).store(FREE, Ordering::Release);
        }
        self.init();
    }

    /// Keys from the list's head (newest or last given a chance) to its tail (next
    /// examined by eviction) (tests).
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut i = self.h().lru_head;
        while i != NIL && out.len() <= self.nslots as usize {
            out.push(self.key_of(self.slot(i)).to_vec());
            i = self.slot(i).next;
        }
        out
    }
}
