//! Rebuilding a shard from its committed slots (after its lock's owner died, or a holder
//! unwound), and `verify`, which checks every invariant the operations rely on.
//!
//! A slot survives recovery only if its state word is COMMITTED, its block lies in the
//! region, and the checksum over its bytes matches. Two surviving versions of one key (an
//! overwrite interrupted between commit and release) or two slots claiming overlapping
//! bytes: the newer stamp wins. Everything else is derived from the survivors.

use super::layout::*;
use super::shard::Shard;
use std::collections::HashSet;
use std::sync::atomic::Ordering;

impl Shard {
    fn slot_is_sound(&self, i: u32) -> bool {
        let s = *self.slot(i);
        if s.state != COMMITTED {
            return false;
        }
        let need = s.key_len as u64 + s.val_len as u64;
        if need > self.region_bytes || !(s.block as u64).is_multiple_of(MIN_BLOCK as u64) {
            return false;
        }
        let size = (MIN_BLOCK as u64) << order_for(need as usize);
        if !(s.block as u64).is_multiple_of(size) || s.block as u64 + size > self.region_bytes {
            return false;
        }
        let mut probe = s;
        probe.checksum = 0;
        checksum(self.key_of(&s), self.value_of(&s), &probe) == s.checksum
    }

    /// Rebuilds every derived structure from the sound committed slots; returns how many
    /// entries survived.
    pub fn rebuild(&self) -> u32 {
        let mut live: Vec<(u64, u32)> = Vec::new();
        for i in 0..self.nslots {
            if self.slot_is_sound(i) {
                live.push((self.slot(i).stamp, i));
            } else {
                self.state(i).store(FREE, Ordering::Release);
            }
        }
        live.sort_unstable_by(|a, b| b.cmp(a));
        for j in 0..=self.index_mask {
            *self.idx(j) = 0;
        }
        let units = (self.region_bytes >> MIN_SHIFT) as usize;
        let mut used = vec![false; units];
        let h = self.h();
        h.lru_head = NIL;
        h.lru_tail = NIL;
        h.size = 0;
        h.bytes = 0;
        h.sweep = 0;
        let mut kept: Vec<u32> = Vec::with_capacity(live.len());
        let mut keys: HashSet<Vec<u8>> = HashSet::new();
        for &(stamp, i) in &live {
            let s = *self.slot(i);
            let need = s.key_len as usize + s.val_len as usize;
            let first = (s.block >> MIN_SHIFT) as usize;
            let count = 1usize << order_for(need);
            let key = self.key_of(&s).to_vec();
            if used[first..first + count].iter().any(|&u| u) || !keys.insert(key.clone()) {
                self.state(i).store(FREE, Ordering::Release);
                continue;
            }
            used[first..first + count].iter_mut().for_each(|u| *u = true);
            self.index_insert(key_hash(self.seed, &key), i);
            h.size += 1;
            h.bytes += need as u64;
            h.seq = h.seq.max(stamp);
            kept.push(i);
        }
        // kept is newest first: append each at the tail.
        for &i in &kept {
            let t = h.lru_tail;
            let s = self.slot(i);
            s.prev = t;
            s.next = NIL;
            if t == NIL { h.lru_head = i } else { self.slot(t).next = i }
            h.lru_tail = i;
        }
        h.free_heads = [NIL; MAX_ORDERS];
        self.rebuild_slot_free_list(|i| self.slot(i).state == COMMITTED);
        unsafe { std::ptr::write_bytes(self.map, 0, units) };
        let mut prefix = vec![0u32; units + 1];
        for u in 0..units {
            prefix[u + 1] = prefix[u] + used[u] as u32;
        }
        self.free_complement(&prefix, 0, self.max_order);
        self.h().recoveries += 1;
        kept.len() as u32
    }

    /// Frees the largest buddy blocks covering the unused units of [unit, unit + 2^order).
    fn free_complement(&self, prefix: &[u32], unit: u32, order: u32) {
        let end = unit as usize + (1usize << order);
        let used = prefix[end] - prefix[unit as usize];
        if used == 0 {
            self.free_block(unit << MIN_SHIFT, order, false);
        } else if order > 0 && used < (1 << order) {
            self.free_complement(prefix, unit, order - 1);
            self.free_complement(prefix, unit + (1 << (order - 1)), order - 1);
        }
    }

    /// Every broken invariant, described; empty when the shard is sound.
    pub fn verify(&self) -> Vec<String> {
        let mut bad = Vec::new();
        let h = self.h();
        let units = (self.region_bytes >> MIN_SHIFT) as usize;
        let mut owner = vec![u32::MAX; units];
        let mut live = 0u32;
        let mut bytes = 0u64;
        for i in 0..self.nslots {
            if self.slot(i).state != COMMITTED {
                continue;
            }
            if !self.slot_is_sound(i) {
                bad.push(format!("slot {i}: committed but its bytes do not match their checksum"));
                continue;
            }
            live += 1;
            let s = *self.slot(i);
            let need = s.key_len as usize + s.val_len as usize;
            bytes += need as u64;
            let first = (s.block >> MIN_SHIFT) as usize;
            for (u, o) in owner.iter_mut().enumerate().skip(first).take(1 << order_for(need)) {
                if *o != u32::MAX {
                    bad.push(format!("slot {i}: block unit {u} also belongs to slot {o}"));
                }
                *o = i;
            }
            let key = self.key_of(&s);
            match self.peek(key, key_hash(self.seed, key), &mut || 0) {
                Some(j) if j == i => {}
                other => bad.push(format!("slot {i}: index lookup of its key gives {other:?}")),
            }
        }
        if live != h.size {
            bad.push(format!("size {} but {live} committed slots", h.size));
        }
        if bytes != h.bytes {
            bad.push(format!("bytes {} but committed entries hold {bytes}", h.bytes));
        }
        let mut indexed = 0u32;
        for j in 0..=self.index_mask {
            let e = *self.idx(j);
            if e == 0 {
                continue;
            }
            indexed += 1;
            let i = (e as u32).wrapping_sub(1);
            if i >= self.nslots || self.slot(i).state != COMMITTED {
                bad.push(format!("index {j}: points at slot {i}, which holds no entry"));
            } else if (e >> 32) as u32 != self.slot(i).tag {
                bad.push(format!("index {j}: tag differs from slot {i}'s"));
            }
        }
        if indexed != live {
            bad.push(format!("{indexed} index entries for {live} entries"));
        }
        // Eviction list: forward walk reaches every live slot once, back links agree, stamps decrease.
        let (mut n, mut prev, mut i) = (0u32, NIL, h.lru_head);
        let mut last_stamp = u64::MAX;
        while i != NIL && n <= self.nslots {
            if i >= self.nslots || self.slot(i).state != COMMITTED {
                bad.push(format!("eviction list reaches slot {i}, which holds no entry"));
                break;
            }
            if self.slot(i).prev != prev {
                bad.push(format!("eviction list slot {i}: back link {} should be {prev}", self.slot(i).prev));
            }
            if self.slot(i).stamp > last_stamp {
                bad.push(format!("eviction list slot {i}: stamp newer than its predecessor's"));
            }
            last_stamp = self.slot(i).stamp;
            prev = i;
            i = self.slot(i).next;
            n += 1;
        }
        if n != live {
            bad.push(format!("eviction list has {n} entries for {live}"));
        }
        if h.lru_tail != prev {
            bad.push(format!("eviction list tail {} should be {prev}", h.lru_tail));
        }
        // Free slots: a chain of non-committed slots covering all of them.
        let (mut free, mut i) = (0u32, h.free_slot);
        while i != NIL && free <= self.nslots {
            if self.slot(i).state == COMMITTED {
                bad.push(format!("free slot list holds live slot {i}"));
                break;
            }
            free += 1;
            i = self.slot(i).next;
        }
        if free + live != self.nslots {
            bad.push(format!("{free} free slots + {live} live != {} slots", self.nslots));
        }
        // Buddy free lists: marked in the map, disjoint from live blocks, and with the
        // live blocks they cover the region exactly.
        let mut covered = live_units(&owner);
        for order in 0..=self.max_order {
            let (mut unit, mut prevu, mut steps) = (h.free_heads[order as usize], NIL, 0usize);
            while unit != NIL && steps <= units {
                if unit as usize >= units || unit % (1 << order) != 0 {
                    bad.push(format!("free list {order}: bad block unit {unit}"));
                    break;
                }
                if *self.map_at(unit) != order as u8 + 1 {
                    bad.push(format!("free list {order}: unit {unit} not marked free in the map"));
                }
                let (p, next) = self.links(unit);
                if p != prevu {
                    bad.push(format!("free list {order}: unit {unit} back link {p} should be {prevu}"));
                }
                if let Some(o) = owner[unit as usize..unit as usize + (1 << order)].iter().find(|&&o| o != u32::MAX) {
                    bad.push(format!("free block at unit {unit} overlaps slot {o}"));
                }
                covered += 1 << order;
                prevu = unit;
                unit = next;
                steps += 1;
            }
        }
        if covered != units {
            bad.push(format!("live and free blocks cover {covered} of {units} units"));
        }
        bad
    }
}

fn live_units(owner: &[u32]) -> usize {
    owner.iter().filter(|&&o| o != u32::MAX).count()
}
