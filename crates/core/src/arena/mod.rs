//! Where records live: fixed-size pages carved into chunks of one size class each, plus
//! one allocation per record too big for a page. Everything inside is a `u32` number
//! (locations, page ids, chunk indices), never a pointer; only the page table maps a page
//! id to its memory, so the same layout could live in one mapped region (page `id` at
//! offset `id * PAGE`).
//!
//! Locations (`loc`): a small record is at `page << 12 | unit`, `unit` being its offset in
//! the page in 8-byte units (so reading a record needs no size class); a large record is
//! `LARGE | id`. So pages address 2^19 pages × 32 KiB = 16 GiB per cache ([`Arena::alloc`]
//! returns None beyond; the cache keeps its entries under a 14 GiB budget).
//!
//! Pages ([`PAGE`] = 32 KiB): a page holds `PAGE / size` chunks of its class; chunks below
//! `bump` have been handed out at least once, free ones among them form the page's own
//! LIFO list threaded through the chunks (byte 0 = 0 marks a free chunk, bytes 2..4 hold
//! the next one's unit + 1). Each class keeps a doubly linked list of its pages with room ("room list");
//! full pages and the page being evacuated are not on it.
//!
//! Reuse and fragmentation: a freed chunk is reused by the next record of its class; a
//! page left empty is released (one released page's memory is kept as a spare). Free space
//! stranded in half-empty pages is bounded by compaction: when a class's free chunks
//! exceed both 1/8 of its chunks and two pages' worth, [`Arena::evacuation_candidate`]
//! names live records of its sparsest page (among the first few with room), which the
//! cache moves elsewhere ([`Arena::relocate`]) a few per operation until the page is empty
//! and released or the class is back under the bound.

mod classes;
pub(crate) mod record;

pub(crate) use classes::{class_of, class_size, CLASSES, MAX_SMALL};

pub(crate) const PAGE: usize = 32 * 1024;
const UNIT_BITS: u32 = 12;
const UNIT_MASK: u32 = (1 << UNIT_BITS) - 1;
pub(crate) const LARGE: u32 = 1 << 31;
/// Page ids below this keep locations under LARGE.
pub(crate) const MAX_PAGES: u32 = LARGE >> UNIT_BITS;
const NIL: u32 = u32::MAX;
/// Pages examined when choosing one to evacuate.
const CANDIDATES: u32 = 8;
/// Chunks examined per call while looking for the next live record to move.
const SCAN: u32 = 64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// The id is not in use (no memory).
    Free,
    /// On its class's room list.
    Room,
    /// Every chunk is live.
    Full,
    /// Being emptied by compaction: no new records go here.
    Evacuating,
}

struct Page {
    data: Option<Box<[u8]>>,
    class: u8,
    state: State,
    live: u16,
    /// Head of the free-chunk list: its unit + 1 (0 = empty).
    free: u16,
    /// Chunks ever handed out.
    bump: u16,
    prev: u32,
    next: u32,
}

#[derive(Clone, Copy)]
struct Class {
    room: u32,
    pages: u32,
    live: u32,
    evacuating: u32,
    scan: u32,
}

pub(crate) struct Arena {
    pages: Vec<Page>,
    free_ids: Vec<u32>,
    classes: [Class; CLASSES],
    large: Vec<Option<Box<[u8]>>>,
    free_large: Vec<u32>,
    /// Bytes of live chunks (class sizes) and of large records (as [`large_cost`]).
    live_bytes: u64,
    large_bytes: u64,
    /// Page ids this arena may use (MAX_PAGES; lower in tests).
    max_pages: u32,
    /// Bit c set: class c is over the fragmentation bound.
    fragmented: u128,
    /// The memory of the last page released, kept for the next page of any class: a
    /// cache hovering at a page boundary does not free and allocate a page each time.
    spare: Option<Box<[u8]>>,
}

/// What a large record costs: its length rounded to 16 plus the allocator's header.
pub(crate) fn large_cost(len: usize) -> u64 {
    len.next_multiple_of(16) as u64 + 16
}

#[inline]
fn chunks_per_page(class: usize) -> u32 {
    classes::PER_PAGE[class] as u32
}

impl Arena {
    pub fn new() -> Arena {
        Arena::with_max_pages(MAX_PAGES)
    }

    pub fn with_max_pages(max_pages: u32) -> Arena {
        Arena {
            pages: Vec::new(),
            free_ids: Vec::new(),
            classes: [Class { room: NIL, pages: 0, live: 0, evacuating: NIL, scan: 0 }; CLASSES],
            large: Vec::new(),
            free_large: Vec::new(),
            live_bytes: 0,
            large_bytes: 0,
            max_pages: max_pages.min(MAX_PAGES),
            fragmented: 0,
            spare: None,
        }
    }

    /// Drops every record and page.
    pub fn clear(&mut self) {
        *self = Arena::with_max_pages(self.max_pages);
    }

    /// The chunk a record of `len` bytes gets: its class, or an allocation of its own.
    pub fn chunk_for(len: usize) -> usize {
        if len > MAX_SMALL {
            len
        } else {
            class_size(class_of(len))
        }
    }

    /// What a record of `len` bytes costs in this arena.
    pub fn cost(len: usize) -> u64 {
        if len > MAX_SMALL {
            large_cost(len)
        } else {
            class_size(class_of(len)) as u64
        }
    }

    /// Room for a record of `len` bytes (1..): its location, or None when the page space
    /// is exhausted. The caller writes the record into [`Arena::chunk_mut`].
    pub fn alloc(&mut self, len: usize) -> Option<u32> {
        if len > MAX_SMALL {
            return Some(self.alloc_large(len));
        }
        let c = class_of(len);
        let mut id = self.classes[c].room;
        if id == NIL {
            id = self.new_page(c)?;
        }
        let size = class_size(c);
        let cpp = chunks_per_page(c);
        let page = &mut self.pages[id as usize];
        let data = page.data.as_deref_mut().expect("a page in use has memory");
        let unit = if page.free != 0 {
            let u = page.free - 1;
            let at = u as usize * 8;
            page.free = u16::from_le_bytes([data[at + 2], data[at + 3]]);
            u as u32
        } else {
            page.bump += 1;
            (page.bump as usize - 1) as u32 * (size / 8) as u32
        };
        page.live += 1;
        let full = page.live as u32 == cpp;
        if full {
            self.unlink(c, id);
            self.pages[id as usize].state = State::Full;
        }
        self.classes[c].live += 1;
        self.live_bytes += size as u64;
        Some(id << UNIT_BITS | unit)
    }

    fn alloc_large(&mut self, len: usize) -> u32 {
        let data = vec![0u8; len].into_boxed_slice();
        let cost = large_cost(len);
        self.live_bytes += cost;
        self.large_bytes += cost;
        match self.free_large.pop() {
            Some(id) => {
                self.large[id as usize] = Some(data);
                LARGE | id
            }
            None => {
                // Fewer large records than entries, and entries < 2^30.
                self.large.push(Some(data));
                LARGE | (self.large.len() - 1) as u32
            }
        }
    }

    fn new_page(&mut self, c: usize) -> Option<u32> {
        let id = match self.free_ids.pop() {
            Some(id) => id,
            None if (self.pages.len() as u32) < self.max_pages => {
                self.pages.push(Page { data: None, class: 0, state: State::Free, live: 0, free: 0, bump: 0, prev: NIL, next: NIL });
                self.pages.len() as u32 - 1
            }
            None => return None,
        };
        let page = &mut self.pages[id as usize];
        // Chunks are written before they are read (`bump`), so recycled memory is fine.
        page.data = Some(self.spare.take().unwrap_or_else(|| vec![0u8; PAGE].into_boxed_slice()));
        page.class = c as u8;
        page.live = 0;
        page.free = 0;
        page.bump = 0;
        self.classes[c].pages += 1;
        self.link(c, id);
        self.update_fragmented(c);
        Some(id)
    }

    fn release_page(&mut self, id: u32) {
        let page = &mut self.pages[id as usize];
        let c = page.class as usize;
        let data = page.data.take();
        if self.spare.is_none() {
            self.spare = data;
        }
        page.state = State::Free;
        self.classes[c].pages -= 1;
        self.free_ids.push(id);
    }

    /// Puts page `id` at the head of its class's room list.
    fn link(&mut self, c: usize, id: u32) {
        let head = self.classes[c].room;
        let page = &mut self.pages[id as usize];
        page.state = State::Room;
        page.prev = NIL;
        page.next = head;
        if head != NIL {
            self.pages[head as usize].prev = id;
        }
        self.classes[c].room = id;
    }

    fn unlink(&mut self, c: usize, id: u32) {
        let (p, n) = {
            let page = &self.pages[id as usize];
            (page.prev, page.next)
        };
        if p == NIL {
            self.classes[c].room = n;
        } else {
            self.pages[p as usize].next = n;
        }
        if n != NIL {
            self.pages[n as usize].prev = p;
        }
        let page = &mut self.pages[id as usize];
        page.prev = NIL;
        page.next = NIL;
    }

    /// Frees the record at `loc`.
    pub fn free(&mut self, loc: u32) {
        if loc & LARGE != 0 {
            let id = loc & !LARGE;
            let data = self.large[id as usize].take().expect("a live large record");
            let cost = large_cost(data.len());
            self.live_bytes -= cost;
            self.large_bytes -= cost;
            self.free_large.push(id);
            return;
        }
        let id = loc >> UNIT_BITS;
        let page = &mut self.pages[id as usize];
        let c = page.class as usize;
        let size = class_size(c);
        let unit = (loc & UNIT_MASK) as u16;
        let at = unit as usize * 8;
        let data = page.data.as_deref_mut().expect("a page in use has memory");
        data[at] = 0;
        data[at + 2..at + 4].copy_from_slice(&page.free.to_le_bytes());
        page.free = unit + 1;
        let was = page.state;
        page.live -= 1;
        let empty = page.live == 0;
        self.classes[c].live -= 1;
        self.live_bytes -= size as u64;
        match was {
            State::Evacuating if empty => {
                self.classes[c].evacuating = NIL;
                self.release_page(id);
            }
            State::Full => self.link(c, id),
            State::Room if empty => {
                self.unlink(c, id);
                self.release_page(id);
            }
            _ => {}
        }
        self.update_fragmented(c);
    }

    fn update_fragmented(&mut self, c: usize) {
        let class = &self.classes[c];
        let cpp = chunks_per_page(c) as u64;
        let chunks = class.pages as u64 * cpp;
        let free = chunks - class.live as u64;
        let over = free > 2 * cpp && free * 8 > chunks;
        if over {
            self.fragmented |= 1 << c;
        } else {
            self.fragmented &= !(1 << c);
            if class.evacuating != NIL {
                // Back under the bound: the page takes records again.
                let id = class.evacuating;
                self.classes[c].evacuating = NIL;
                self.link(c, id);
            }
        }
    }

    /// Whether some class is over the fragmentation bound.
    #[inline]
    pub fn wants_compaction(&self) -> bool {
        self.fragmented != 0
    }

    /// A live record the cache should move (then call [`Arena::relocate`]), or None when
    /// there is nothing to do in this call (bounded work: a few pages or chunks examined).
    pub fn evacuation_candidate(&mut self) -> Option<u32> {
        if self.fragmented == 0 {
            return None;
        }
        let c = self.fragmented.trailing_zeros() as usize;
        // Allocations since the last free may have brought the class back under the bound.
        self.update_fragmented(c);
        if self.fragmented & 1 << c == 0 {
            return None;
        }
        if self.classes[c].evacuating == NIL {
            let id = self.sparsest_page(c)?;
            self.unlink(c, id);
            if self.pages[id as usize].live == 0 {
                self.release_page(id);
                self.update_fragmented(c);
                return None;
            }
            self.pages[id as usize].state = State::Evacuating;
            self.classes[c].evacuating = id;
            self.classes[c].scan = 0;
        }
        let id = self.classes[c].evacuating;
        let size = class_size(c);
        let page = &self.pages[id as usize];
        let data = page.data.as_deref().expect("a page in use has memory");
        let start = self.classes[c].scan;
        let end = (start + SCAN).min(page.bump as u32);
        for idx in start..end {
            if data[idx as usize * size] & record::LIVE != 0 {
                self.classes[c].scan = idx;
                return Some(id << UNIT_BITS | (idx * (size / 8) as u32));
            }
        }
        self.classes[c].scan = end;
        None
    }

    /// The page with the fewest live chunks among the first few on the room list.
    fn sparsest_page(&self, c: usize) -> Option<u32> {
        let mut best = None;
        let mut id = self.classes[c].room;
        for _ in 0..CANDIDATES {
            if id == NIL {
                break;
            }
            let page = &self.pages[id as usize];
            if best.is_none_or(|(_, live)| page.live < live) {
                best = Some((id, page.live));
            }
            id = page.next;
        }
        best.map(|(id, _)| id)
    }

    /// Moves the record at `loc` to another chunk of its class; its new location.
    pub fn relocate(&mut self, loc: u32) -> u32 {
        let size = class_size(self.pages[(loc >> UNIT_BITS) as usize].class as usize);
        let to = self.alloc(size).expect("compaction runs only while the class has free chunks elsewhere");
        let (from_page, to_page) = ((loc >> UNIT_BITS) as usize, (to >> UNIT_BITS) as usize);
        let (from_at, to_at) = ((loc & UNIT_MASK) as usize * 8, (to & UNIT_MASK) as usize * 8);
        // Never the same page: the evacuating page is off the room list.
        let (from, to_data) = if from_page < to_page {
            let (a, b) = self.pages.split_at_mut(to_page);
            (&a[from_page], &mut b[0])
        } else {
            let (a, b) = self.pages.split_at_mut(from_page);
            (&b[0], &mut a[to_page])
        };
        let src = &from.data.as_deref().expect("page memory")[from_at..from_at + size];
        to_data.data.as_deref_mut().expect("page memory")[to_at..to_at + size].copy_from_slice(src);
        self.free(loc);
        to
    }

    /// The record at `loc`: the bytes from its start to the end of its page (or the whole
    /// large record). Record functions read only their own length of it.
    #[inline(always)]
    pub fn chunk(&self, loc: u32) -> &[u8] {
        if loc & LARGE != 0 {
            return self.large[(loc & !LARGE) as usize].as_deref().expect("a live large record");
        }
        let page = &self.pages[(loc >> UNIT_BITS) as usize];
        &page.data.as_deref().expect("a page in use has memory")[(loc & UNIT_MASK) as usize * 8..]
    }

    #[inline]
    pub fn chunk_mut(&mut self, loc: u32) -> &mut [u8] {
        if loc & LARGE != 0 {
            return self.large[(loc & !LARGE) as usize].as_deref_mut().expect("a live large record");
        }
        let page = &mut self.pages[(loc >> UNIT_BITS) as usize];
        &mut page.data.as_deref_mut().expect("a page in use has memory")[(loc & UNIT_MASK) as usize * 8..]
    }

    /// The size of the chunk at `loc` (its class, or the large record's cost).
    pub fn chunk_size(&self, loc: u32) -> usize {
        if loc & LARGE != 0 {
            return self.chunk(loc).len();
        }
        class_size(self.pages[(loc >> UNIT_BITS) as usize].class as usize)
    }

    /// Whether a record of `len` bytes fits the chunk at `loc` with no waste beyond its
    /// class (so a replaced value may stay where it is).
    #[inline]
    pub fn fits_in_place(&self, loc: u32, len: usize) -> bool {
        if loc & LARGE != 0 || len > MAX_SMALL {
            return false;
        }
        self.pages[(loc >> UNIT_BITS) as usize].class as usize == class_of(len)
    }

    /// Bytes held by live records (chunk sizes; large records as `large_cost`).
    pub fn live_bytes(&self) -> u64 {
        self.live_bytes
    }

    /// Bytes of pages in use (and the spare page) plus large records: what the arena
    /// holds from the allocator.
    pub fn held_bytes(&self) -> u64 {
        (self.page_count() as u64 + u64::from(self.spare.is_some())) * PAGE as u64 + self.large_bytes
    }

    fn page_count(&self) -> u32 {
        self.classes.iter().map(|c| c.pages).sum()
    }

    pub fn heap_bytes(&self) -> usize {
        self.held_bytes() as usize
            + self.pages.capacity() * std::mem::size_of::<Page>()
            + self.large.capacity() * std::mem::size_of::<Option<Box<[u8]>>>()
            + (self.free_ids.capacity() + self.free_large.capacity()) * 4
    }

    /// Live records in pages and large (invariant checks).
    pub fn live_records(&self) -> u64 {
        self.classes.iter().map(|c| c.live as u64).sum::<u64>() + self.large.iter().filter(|l| l.is_some()).count() as u64
    }

    /// Checks pages, lists and byte counts; O(pages × chunks).
    pub fn check(&self) -> Result<(), String> {
        let mut pages = [0u32; CLASSES];
        let mut live = [0u32; CLASSES];
        for (id, page) in self.pages.iter().enumerate() {
            if page.state == State::Free {
                if page.data.is_some() {
                    return Err(format!("free page id {id} holds memory"));
                }
                continue;
            }
            let c = page.class as usize;
            let size = class_size(c);
            let cpp = chunks_per_page(c);
            let data = page.data.as_deref().ok_or_else(|| format!("page {id} in use has no memory"))?;
            if page.bump as u32 > cpp || page.live > page.bump {
                return Err(format!("page {id}: bump {} live {} of {cpp} chunks", page.bump, page.live));
            }
            let marked = (0..page.bump as usize).filter(|&i| data[i * size] & record::LIVE != 0).count();
            if marked != page.live as usize {
                return Err(format!("page {id}: {marked} live chunks, live count {}", page.live));
            }
            let mut free = 0;
            let mut f = page.free;
            while f != 0 {
                let at = (f as usize - 1) * 8;
                if !at.is_multiple_of(size) || at / size >= page.bump as usize || data[at] != 0 {
                    return Err(format!("page {id}: free list reaches byte {at}, not a free chunk"));
                }
                free += 1;
                if free > cpp {
                    return Err(format!("page {id}: free list cycles"));
                }
                f = u16::from_le_bytes([data[at + 2], data[at + 3]]);
            }
            if free + page.live as u32 != page.bump as u32 {
                return Err(format!("page {id}: {free} free + {} live != bump {}", page.live, page.bump));
            }
            let want = match page.state {
                State::Full => page.live as u32 == cpp,
                State::Room => (page.live as u32) < cpp,
                State::Evacuating => self.classes[c].evacuating == id as u32,
                State::Free => true,
            };
            if !want {
                return Err(format!("page {id}: state {:?} with {} of {cpp} chunks live", page.state, page.live));
            }
            pages[c] += 1;
            live[c] += page.live as u32;
        }
        let mut small = 0u64;
        for (c, class) in self.classes.iter().enumerate() {
            if class.pages != pages[c] || class.live != live[c] {
                return Err(format!("class {c}: counts {} pages / {} live, found {} / {}", class.pages, class.live, pages[c], live[c]));
            }
            let mut id = class.room;
            let mut prev = NIL;
            let mut n = 0;
            while id != NIL {
                let page = self.pages.get(id as usize).ok_or_else(|| format!("class {c}: room list reaches page {id}"))?;
                if page.state != State::Room || page.class as usize != c || page.prev != prev {
                    return Err(format!("class {c}: room list reaches page {id} ({:?}, class {})", page.state, page.class));
                }
                n += 1;
                if n > pages[c] {
                    return Err(format!("class {c}: room list cycles"));
                }
                prev = id;
                id = page.next;
            }
            let listed = self.pages.iter().filter(|p| p.state == State::Room && p.class as usize == c).count() as u32;
            if n != listed {
                return Err(format!("class {c}: {listed} pages with room, {n} on the list"));
            }
            small += class.live as u64 * class_size(c) as u64;
        }
        let large: u64 = self.large.iter().flatten().map(|d| large_cost(d.len())).sum();
        if large != self.large_bytes || small + large != self.live_bytes {
            return Err(format!("live bytes {} (large {}), found {} + {large}", self.live_bytes, self.large_bytes, small));
        }
        Ok(())
    }

    /// Free chunk bytes in pages in use, over the bytes of those pages (0 when none).
    pub fn fragmentation(&self) -> f64 {
        let held = self.page_count() as u64 * PAGE as u64;
        if held == 0 {
            return 0.0;
        }
        let small = self.live_bytes - self.large_bytes;
        (held - small) as f64 / held as f64
    }

    /// Whether every class is within the fragmentation bound (tests).
    #[cfg(test)]
    pub fn within_bound(&self) -> bool {
        self.fragmented == 0
    }
}
