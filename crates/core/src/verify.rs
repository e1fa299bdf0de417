//! The invariant checker behind [`crate::Lru::verify`]: slots, index, arena, policy
//! queues and byte accounting must describe the same set of entries.

use crate::arena::{record, Arena};
use crate::slots::{NIL, VACANT};
use crate::Lru;
use std::collections::HashSet;

pub(crate) fn check(c: &Lru, hash: impl Fn(u32) -> u64, entry_bytes: u64, budget: u64) -> Result<(), String> {
    let slots = &c.slots;
    let high_water = slots.high_water();
    let free = slots.free_list()?;
    let occupied: Vec<u32> = (0..high_water).filter(|&s| slots.is_occupied(s)).collect();
    if occupied.len() + free.len() != high_water as usize {
        return Err(format!("{} occupied + {} free slots != high water {high_water}", occupied.len(), free.len()));
    }
    if occupied.len() != c.len as usize {
        return Err(format!("{} occupied slots, len {}", occupied.len(), c.len));
    }
    if c.len > c.capacity() {
        return Err(format!("len {} > capacity {}", c.len, c.capacity()));
    }
    slots.check_timed()?;

    // Policy order: every occupied slot exactly once, links consistent.
    let order = c.slots_in_order();
    let mut seen = HashSet::new();
    for &s in &order {
        if !slots.is_occupied(s) || !seen.insert(s) {
            return Err(format!("policy order lists slot {s} twice or vacant"));
        }
        let e = slots.entries[s as usize];
        if e.prev != NIL && slots.entries.get(e.prev as usize).is_none_or(|p| p.next != s) {
            return Err(format!("slot {s}: prev {} does not link back", e.prev));
        }
        if e.next != NIL && slots.entries.get(e.next as usize).is_none_or(|n| n.prev != s) {
            return Err(format!("slot {s}: next {} does not link back", e.next));
        }
    }
    if order.len() != c.len as usize {
        return Err(format!("policy order has {} slots, len {}", order.len(), c.len));
    }
    if c.len == 0 && matches!(c.policy, crate::policy::Policy::Lru) && (c.head != NIL || c.tail != NIL) {
        return Err("empty LRU list with a head or tail".into());
    }

    // Records: one live chunk per entry, its timed flag mirrored by the slot.
    let mut locs = HashSet::new();
    let mut cost = 0u64;
    for &s in &occupied {
        let loc = slots.loc(s);
        if !locs.insert(loc) {
            return Err(format!("slot {s} shares location {loc:#x}"));
        }
        let r = c.arena.chunk(loc);
        if r[0] & record::LIVE == 0 {
            return Err(format!("slot {s}: location {loc:#x} is a free chunk"));
        }
        if record::is_timed(r) != slots.is_timed(s) {
            return Err(format!("slot {s}: record and slot disagree on the deadline"));
        }
        let len = record::len(r);
        let size = c.arena.chunk_size(loc);
        if size != Arena::chunk_for(len) {
            return Err(format!("slot {s}: record of {len} bytes in a {size}-byte chunk"));
        }
        cost += Arena::cost(len);
        debug_assert!(slots.entries[s as usize].prev != VACANT);
    }
    c.arena.check()?;
    if c.arena.live_records() != c.len as u64 {
        return Err(format!("{} live records for {} entries", c.arena.live_records(), c.len));
    }
    if cost != c.arena.live_bytes() {
        return Err(format!("records cost {cost} bytes, arena counts {}", c.arena.live_bytes()));
    }
    let bytes = cost + c.len as u64 * entry_bytes;
    if bytes != c.bytes() {
        return Err(format!("bytes() {} but entries cost {bytes}", c.bytes()));
    }
    if bytes > budget {
        return Err(format!("bytes {bytes} over the budget {budget}"));
    }
    c.index().check(c.len, |s| slots.is_occupied(s).then(|| hash(s)))
}
