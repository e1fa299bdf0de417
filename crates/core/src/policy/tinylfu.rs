//! W-TinyLFU (Einziger, Friedman, Manes) as in Caffeine: a small LRU window in front of a
//! segmented-LRU main (probation + protected, protected 80 % of main), TinyLFU admission
//! from a 4-bit count-min sketch ([`Sketch`]), and an adaptive window ([`climber`]: Caffeine's
//! density climber, with momentum and a sampled-LRU guard so that recency-heavy workloads
//! get the large window they need).
//!
//! With the climber off it takes exactly the decisions of `sim.py --policy wtinylfu`
//! (1 % window), except for the hash functions and the admission jitter's random source.
//! With it on, the sketch is twice as wide and remembers twice as long (sketch.rs).
//!
//! Access accounting (what increments the sketch): every get (hit or miss) and every set of
//! a present key; a set of a new key too, unless the previous get missed that same key (the
//! usual get-then-set-on-miss counts once, as in the reference).
//!
//! Bounded work: each call moves at most 2 entries window→probation and 2
//! protected→probation (after the climber shrinks a segment, it converges one step per
//! call), plus the sketch's amortized halving.

mod climber;

use super::hash::key_hash;
use super::list::Queue;
use super::sketch::{Sketch, WIDE};
use crate::Entry;
use climber::{Access, Climber};

const WINDOW: u8 = 0;
const PROBATION: u8 = 1;
const PROTECTED: u8 = 2;
/// A rejected candidate this frequent is still admitted with probability 1/128: keeps an
/// attacker from pinning the main space with hash collisions (Caffeine's jitter).
const JITTER_THRESHOLD: u32 = 6;
/// Moves per call when a segment is above its (new) target.
const MAX_MOVES: u32 = 2;

pub(crate) struct TinyLfu {
    capacity: u32,
    window: Queue,
    probation: Queue,
    protected: Queue,
    window_max: u32,
    protected_max: u32,
    sketch: Sketch,
    queue: Vec<u8>,
    hashes: Vec<u32>,
    last_miss: Option<u32>,
    rng: u32,
    seed: u32,
    climber: Option<Climber>,
    /// The victim `prepare` returned, until the engine unlinks it: any other unlink is a
    /// delete or an expiry, which the climber's miniature LRU must see too.
    evicting: Option<u32>,
}

/// What a key about to be inserted needs, decided before its slot is allocated.
pub(crate) struct Placement {
    hash: u32,
}

impl TinyLfu {
    pub fn new(capacity: u32, seed: u32, adaptive: bool) -> TinyLfu {
        let main = (capacity as f64 * 0.99) as u32;
        let mut t = TinyLfu {
            capacity,
            window: Queue::EMPTY,
            probation: Queue::EMPTY,
            protected: Queue::EMPTY,
            window_max: capacity - main,
            protected_max: 0,
            sketch: Sketch::new(capacity, if adaptive { WIDE } else { 1 }),
            queue: Vec::new(),
            hashes: Vec::new(),
            last_miss: None,
            rng: seed ^ 0x9e37_79b9,
            seed,
            climber: adaptive.then(|| Climber::new(capacity)),
            evicting: None,
        };
        t.protected_max = t.protected_target();
        t
    }

    fn protected_target(&self) -> u32 {
        ((self.capacity - self.window_max) as f64 * 0.80) as u32
    }

    pub fn clear(&mut self) {
        let adaptive = self.climber.is_some();
        *self = TinyLfu::new(self.capacity, self.seed, adaptive);
    }

    /// A get that found nothing (or an expired entry).
    pub fn miss(&mut self, key: &[u8]) {
        let h = key_hash(key, self.seed);
        self.sketch.increment(h);
        self.last_miss = Some(h);
        self.climb(h, Access::Miss);
    }

    /// A hit (get, or set of a present key).
    pub fn touch(&mut self, entries: &mut [Entry], slot: u32) {
        let hash = self.hashes[slot as usize];
        self.sketch.increment(hash);
        let region = self.queue[slot as usize];
        match region {
            WINDOW => self.window.move_to_head(entries, slot),
            PROBATION => {
                self.probation.unlink(entries, slot);
                self.queue[slot as usize] = PROTECTED;
                self.protected.push_head(entries, slot);
                self.demote(entries);
            }
            _ => self.protected.move_to_head(entries, slot),
        }
        let access = if region == WINDOW {
            Access::WindowHit
        } else {
            Access::MainHit
        };
        self.climb(hash, access);
    }

    /// Before inserting a new key: counts the access unless its get just did.
    pub fn place(&mut self, key: &[u8]) -> Placement {
        let hash = key_hash(key, self.seed);
        if self.last_miss != Some(hash) {
            self.sketch.increment(hash);
            self.climb(hash, Access::Insert);
        }
        self.last_miss = None;
        Placement { hash }
    }

    /// Makes room in the window for one more entry and, if `full`, returns the entry to
    /// evict (still linked: the caller removes it).
    pub fn prepare(&mut self, entries: &mut [Entry], full: bool) -> Option<u32> {
        self.demote(entries);
        let mut candidate = None;
        let mut moves = 0;
        while self.window.len > 0 && self.window.len >= self.window_max && moves < MAX_MOVES {
            let t = self.window.tail;
            self.window.unlink(entries, t);
            self.queue[t as usize] = PROBATION;
            self.probation.push_head(entries, t);
            candidate.get_or_insert(t);
            moves += 1;
        }
        if !full {
            return None;
        }
        let victim = match candidate {
            Some(c) => {
                let v = self.probation.tail;
                if v == c || self.admit(c, v) {
                    v
                } else {
                    c
                }
            }
            None if self.probation.len > 0 => self.probation.tail,
            None if self.protected.len > 0 => self.protected.tail,
            None => self.window.tail,
        };
        if let Some(c) = self.climber.as_mut() {
            c.start();
            self.evicting = Some(victim);
        }
        Some(victim)
    }

    fn admit(&mut self, candidate: u32, victim: u32) -> bool {
        let cf = self.sketch.frequency(self.hashes[candidate as usize]);
        let vf = self.sketch.frequency(self.hashes[victim as usize]);
        if cf > vf {
            return true;
        }
        if cf < JITTER_THRESHOLD {
            return false;
        }
        // xorshift32: deterministic from the seed, so both engines draw the same numbers.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x & 127 == 0
    }

    fn demote(&mut self, entries: &mut [Entry]) {
        let mut moves = 0;
        while self.protected.len > self.protected_max && moves < MAX_MOVES {
            let t = self.protected.tail;
            self.protected.unlink(entries, t);
            self.queue[t as usize] = PROBATION;
            self.probation.push_head(entries, t);
            moves += 1;
        }
    }

    pub fn link_new(&mut self, entries: &mut [Entry], slot: u32, p: Placement) {
        let i = slot as usize;
        if i >= self.queue.len() {
            self.queue.resize(i + 1, 0);
            self.hashes.resize(i + 1, 0);
        }
        self.hashes[i] = p.hash;
        self.queue[i] = WINDOW;
        self.window.push_head(entries, slot);
    }

    pub fn unlink(&mut self, entries: &mut [Entry], slot: u32) {
        if let Some(c) = self.climber.as_mut() {
            if self.evicting == Some(slot) {
                self.evicting = None;
            } else {
                c.forget(self.hashes[slot as usize]);
            }
        }
        match self.queue[slot as usize] {
            WINDOW => self.window.unlink(entries, slot),
            PROBATION => self.probation.unlink(entries, slot),
            _ => self.protected.unlink(entries, slot),
        }
    }

    /// Window, then probation, then protected, each newest to oldest.
    pub fn order(&self, entries: &[Entry]) -> Vec<u32> {
        let mut out = self.window.slots(entries);
        out.extend(self.probation.slots(entries));
        out.extend(self.protected.slots(entries));
        out
    }

    /// The current window target (tests, reports).
    pub fn window_max(&self) -> u32 {
        self.window_max
    }

    pub fn heap_bytes(&self) -> usize {
        self.queue.capacity()
            + self.hashes.capacity() * 4
            + self.sketch.heap_bytes()
            + self.climber.as_ref().map_or(0, Climber::heap_bytes)
    }

    /// Feeds the climber (adaptive window only) and applies the window it settles on.
    #[inline]
    fn climb(&mut self, hash: u32, access: Access) {
        let Some(c) = self.climber.as_mut() else {
            return;
        };
        if let Some(window) = c.record(hash, access, self.capacity, self.window_max) {
            self.window_max = window;
            self.protected_max = self.protected_target();
        }
    }
}
