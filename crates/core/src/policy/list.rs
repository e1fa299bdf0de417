//! An intrusive FIFO/LRU queue threaded through the slab's `prev`/`next` links. Every
//! policy keeps each resident entry in exactly one queue, so one pair of links suffices.
//! `head` is the newest (most recently used) end, `tail` the oldest.

use crate::{Entry, NIL};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Queue {
    pub head: u32,
    pub tail: u32,
    pub len: u32,
}

impl Queue {
    pub const EMPTY: Queue = Queue {
        head: NIL,
        tail: NIL,
        len: 0,
    };

    #[inline]
    pub fn push_head(&mut self, entries: &mut [Entry], slot: u32) {
        let old = self.head;
        let e = &mut entries[slot as usize];
        e.prev = NIL;
        e.next = old;
        if old != NIL {
            entries[old as usize].prev = slot;
        } else {
            self.tail = slot;
        }
        self.head = slot;
        self.len += 1;
    }

    #[inline]
    pub fn unlink(&mut self, entries: &mut [Entry], slot: u32) {
        let (p, n) = {
            let e = &entries[slot as usize];
            (e.prev, e.next)
        };
        if p == NIL {
            self.head = n;
        } else {
            entries[p as usize].next = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            entries[n as usize].prev = p;
        }
        self.len -= 1;
    }

    #[inline]
    pub fn move_to_head(&mut self, entries: &mut [Entry], slot: u32) {
        if self.head != slot {
            self.unlink(entries, slot);
            self.push_head(entries, slot);
        }
    }

    /// Slots from newest to oldest (tests; O(n)).
    pub fn slots(&self, entries: &[Entry]) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.len as usize);
        let mut s = self.head;
        while s != NIL {
            out.push(s);
            s = entries[s as usize].next;
        }
        out
    }
}
