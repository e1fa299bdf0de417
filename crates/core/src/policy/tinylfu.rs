//! W-TinyLFU (Einziger, Friedman, Manes) as in Caffeine: a small LRU window in front of a
//! segmented-LRU main (probation + protected, protected 80 % of main), TinyLFU admission
//! from a 4-bit count-min sketch ([`Sketch`]), and Caffeine's adaptive window: every
//! 4 × capacity requests, Caffeine's density climber (`WindowClimber.DensityClimber`)
//! compares the hits per entry of the window with those of the main space in that sample
//! and moves capacity towards the region that earns more, in proportion to the log of the
//! ratio.
//!
//! Why density and not Caffeine's older hit-rate hill climber (which this file used
//! before): the hill climber compares one sample's hit rate with the previous one's, and a
//! window step moves the hit rate by less than a sample's noise, so on recency-heavy traces
//! it random-walked and froze (orm-busy @ 763: window 20 %, −2.8 points vs LRU, where a 90 %
//! window ties LRU). Both densities come from the same sample, so the workload's own swings
//! cancel in the ratio; it converges on those traces (−0.04) and stays near 1 % on looping
//! ones. Its known bias (it equalizes average, not marginal, value: window hits are cheap,
//! so it leans towards a larger window) costs about a point on `gli`.
//!
//! With the climber off it takes exactly the decisions of `sim.py --policy wtinylfu`
//! (1 % window), except for the hash functions and the admission jitter's random source.
//!
//! Access accounting (what increments the sketch): every get (hit or miss) and every set of
//! a present key; a set of a new key too, unless the previous get missed that same key (the
//! usual get-then-set-on-miss counts once, as in the reference).
//!
//! Bounded work: each call moves at most 2 entries window→probation and 2
//! protected→probation (after the climber shrinks a segment, it converges one step per
//! call), plus the sketch's amortized halving.

use super::hash::key_hash;
use super::list::Queue;
use super::sketch::Sketch;
use crate::Entry;

const WINDOW: u8 = 0;
const PROBATION: u8 = 1;
const PROTECTED: u8 = 2;
/// A rejected candidate this frequent is still admitted with probability 1/128: keeps an
/// attacker from pinning the main space with hash collisions (Caffeine's jitter).
const JITTER_THRESHOLD: u32 = 6;
/// Moves per call when a segment is above its (new) target.
const MAX_MOVES: u32 = 2;

// Caffeine's density climber constants (`WindowClimber`, `DensityClimber`, `Reading`).
/// Window step per unit of log density ratio, as a fraction of capacity.
const DENSITY_GAIN: f64 = 0.03;
/// Largest step, as a fraction of capacity.
const MAX_STEP: f64 = 0.30;
/// Smallest window, as a fraction of capacity (at least 1 entry): a region too small to
/// earn hits has no measurable density and could never win capacity back.
const WINDOW_FLOOR: f64 = 0.02;
/// Requests per sample, per entry of capacity: short enough to follow the workload, long
/// enough that both regions see hits.
const SAMPLE_MULTIPLIER: u32 = 4;
/// ...but at least this many requests: with fewer, a small cache's sample holds a handful of
/// hits per region and the densities are noise (gli @ 253 random-walked its window 5 → 16 on
/// 1,012-request samples, −1 point).
const MIN_SAMPLE: u32 = 2_048;

struct Climber {
    /// Samples start once the cache first fills (as Caffeine waits for its sketch): the
    /// hit rate of a warming cache rises whatever the window does.
    started: bool,
    hits: u32,
    window_hits: u32,
    misses: u32,
    sample: u32,
}

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
            sketch: Sketch::new(capacity),
            queue: Vec::new(),
            hashes: Vec::new(),
            last_miss: None,
            rng: seed ^ 0x9e37_79b9,
            seed,
            climber: adaptive.then(|| Climber {
                started: false,
                hits: 0,
                window_hits: 0,
                misses: 0,
                sample: capacity.saturating_mul(SAMPLE_MULTIPLIER).max(MIN_SAMPLE),
            }),
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
        self.sample(None);
    }

    /// A hit (get, or set of a present key).
    pub fn touch(&mut self, entries: &mut [Entry], slot: u32) {
        self.sketch.increment(self.hashes[slot as usize]);
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
        self.sample(Some(region));
    }

    /// Before inserting a new key: counts the access unless its get just did.
    pub fn place(&mut self, key: &[u8]) -> Placement {
        let hash = key_hash(key, self.seed);
        if self.last_miss != Some(hash) {
            self.sketch.increment(hash);
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
        if let Some(c) = self.climber.as_mut() {
            c.started = true;
        }
        Some(match candidate {
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
        })
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
        self.queue.capacity() + self.hashes.capacity() * 4 + self.sketch.heap_bytes()
    }

    /// Caffeine's density climber: after each sample of `SAMPLE_MULTIPLIER` × capacity
    /// requests, move the window by `DENSITY_GAIN` × capacity × ln(window density / main
    /// density) (at most `MAX_STEP` × capacity), where a region's density is its hits in the
    /// sample per entry of its target size. `region` is where a hit landed (None: a miss).
    fn sample(&mut self, region: Option<u8>) {
        let Some(c) = self.climber.as_mut() else {
            return;
        };
        if !c.started {
            return;
        }
        match region {
            None => c.misses += 1,
            Some(r) => {
                c.hits += 1;
                if r == WINDOW {
                    c.window_hits += 1;
                }
            }
        }
        if c.hits + c.misses < c.sample {
            return;
        }
        let capacity = self.capacity as f64;
        let window = self.window_max as f64;
        // +1 hit each: a region without hits still has a finite, comparable density (two
        // empty regions compare equal: no move), as Caffeine's epsilon.
        let window_density = (c.window_hits as f64 + 1.0) / window;
        let main_density = ((c.hits - c.window_hits) as f64 + 1.0) / (capacity - window).max(1.0);
        let error = ln(window_density / main_density);
        let magnitude = (MAX_STEP * capacity).min(error.abs() * DENSITY_GAIN * capacity);
        let amount = if error >= 0.0 { magnitude } else { -magnitude };
        c.hits = 0;
        c.window_hits = 0;
        c.misses = 0;
        let largest = if self.capacity > 1 { capacity - 1.0 } else { 1.0 };
        let floor = (WINDOW_FLOOR * capacity).max(1.0).min(largest);
        let target = (window + step_entries(amount)).clamp(floor, largest);
        self.window_max = target as u32;
        self.protected_max = self.protected_target();
    }
}

/// Natural logarithm from + − × ÷ only, which IEEE 754 rounds the same everywhere (the
/// platforms' `ln` / `Math.log` may differ in the last bit, and the TS engine must take the
/// same decisions): x = m · 2^e with m in [1, 2), ln m = 2 atanh((m − 1) / (m + 1)), whose
/// series converges fast (z < 1/3: 16 terms reach 1e-17). x is within 2^±64 here.
fn ln(x: f64) -> f64 {
    if !(x > 0.0 && x.is_finite()) {
        return 0.0;
    }
    let (mut m, mut e) = (x, 0.0);
    while m >= 2.0 {
        m /= 2.0;
        e += 1.0;
    }
    while m < 1.0 {
        m *= 2.0;
        e -= 1.0;
    }
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    let (mut term, mut sum) = (z, 0.0);
    for k in 0..16 {
        sum += term / (2 * k + 1) as f64;
        term *= z2;
    }
    2.0 * sum + e * std::f64::consts::LN_2
}

/// Whole entries to move the window by: the step truncated, but at least one entry in its
/// direction (a small cache's step is under one entry, which would never move).
fn step_entries(amount: f64) -> f64 {
    let t = amount.trunc();
    if t == 0.0 && amount != 0.0 {
        amount.signum()
    } else {
        t
    }
}

#[cfg(test)]
mod ln_tests {
    #[test]
    fn ln_matches_std_closely() {
        for x in [1e-12, 0.001, 0.3, 1.0, 1.5, 2.0, 7.0, 1234.5, 1e12] {
            assert!((super::ln(x) - f64::ln(x)).abs() < 1e-12, "{x}");
        }
    }
}
