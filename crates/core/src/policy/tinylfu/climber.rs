//! W-TinyLFU's adaptive window: how much of the capacity the LRU window gets.
//!
//! Steering is Caffeine's density rule (`WindowClimber.DensityClimber.steer`): after each
//! sample of `SAMPLE_MULTIPLIER` × capacity requests (at least `MIN_SAMPLE`), move the
//! window by `DENSITY_GAIN` × capacity × ln(window hits per window entry / main hits per
//! main entry), at most `MAX_STEP` × capacity, never below `WINDOW_FLOOR` × capacity. Both
//! densities come from the same sample, so the workload's own swings cancel in the ratio.
//! Density equalizes average, not marginal, value (Caffeine's hill-climber notes): it
//! settles where the window's share of the hits equals its share of the capacity, which can
//! be far from the best window. Two additions cover where that loses to plain LRU (numbers:
//! the hit-ratio bench, docs/policies.md):
//!
//! - Momentum: a step in the same direction as the previous sample's is doubled (up to
//!   the largest step). A ratio that keeps its sign sample after sample is not noise, and
//!   single steps of 3 % × ln(ratio) are too slow to follow a moving hot set
//!   (`synth-hot-shift` @ 369 is 1.1 points below S3-FIFO without it).
//! - An LRU guard: a miniature LRU replays the requests for a hash-sampled share of the
//!   keys (spatial sampling, as Caffeine's `MiniSimClimber` and Waldspurger et al., "Cache
//!   Modeling and Optimization using Miniature Simulation", ATC 2017): at most
//!   `SHADOW_ENTRIES` entries, one per `SHADOW_SHARE` entries of capacity, for the same share
//!   of the keys. When, on those keys, LRU hit where this cache missed more often than the
//!   reverse — by at least 1 % of the sampled requests and by 2 standard deviations of the
//!   disagreements at the end of a sample, or by 3 at one of its quarters — the window grows
//!   by the largest step. A steady hot set beside keys re-used at a quarter of the capacity
//!   (Caffeine's "mixture" trap, `synth-mixture` @ 5,071) makes the main space look denser
//!   than the window at every window size: density alone pins the window at its floor, 33
//!   points below LRU. Caches under `MIN_SHADOW` × `SHADOW_SHARE` entries have no guard (a
//!   miniature of fewer entries says nothing).
//!
//! Every size computation uses f64 + − × ÷ only (and `ln` below), so the pure-TS twin
//! (src/memory/policies/climber.ts) takes the same decisions bit for bit.

use super::super::ghost::Ghost;

/// Window step per unit of log density ratio, as a fraction of capacity.
const DENSITY_GAIN: f64 = 0.03;
/// Largest step, as a fraction of capacity (also the guard's step).
const MAX_STEP: f64 = 0.30;
/// Smallest window, as a fraction of capacity (at least 1 entry): W-TinyLFU's initial 1 %.
/// Caffeine's density law floors at 2 % so that a region too small to earn hits can win
/// capacity back; here the guard does that, and the best fixed window of frequency-heavy
/// shapes is 1 % (`synth-mixture` @ 507: 2 % costs 0.2 points).
const WINDOW_FLOOR: f64 = 0.01;
/// Requests per sample, per entry of capacity: short enough to follow the workload, long
/// enough that both regions see hits.
const SAMPLE_MULTIPLIER: u32 = 4;
/// ...but at least this many requests: with fewer, a small cache's sample holds a handful of
/// hits per region and the densities are noise.
const MIN_SAMPLE: u32 = 2_048;
/// The guard also looks after each quarter of a sample, and ends the sample at once when
/// LRU leads by 3 standard deviations (Caffeine's veto margin, `Rates.VETO_MARGIN_SCALE`):
/// climbing out of a trap then costs a quarter of a sample per step, not a whole one
/// (`synth-mixture` @ 5,071: −0.7 points instead of −1.8).
const LOOKS_PER_SAMPLE: u32 = 4;
/// Doublings of a step that keeps its direction (2^16 × the smallest step exceeds
/// `MAX_STEP` for any capacity that has a window to move).
const MOMENTUM_LIMIT: u32 = 16;
/// Largest miniature LRU. A miniature this small is an estimate of LRU, not LRU: with 64 or
/// 256 entries it overrated LRU by several points on a public trace at 77,000 entries
/// (sampling 1 key in 1,200) and held the window at 100 %, 21 points below S3-FIFO.
const SHADOW_ENTRIES: u32 = 512;
/// One miniature entry per this many entries of capacity, at most: the guard samples at
/// most 1 key in 8, which bounds what it adds to each request.
const SHADOW_SHARE: u32 = 8;
/// Smallest miniature LRU.
const MIN_SHADOW: u32 = 8;

pub(crate) struct Climber {
    /// Samples start once the cache first fills (as Caffeine waits for its sketch): the
    /// hit rate of a warming cache rises whatever the window does.
    started: bool,
    sample: u32,
    requests: u32,
    /// The request count of the guard's next look within the sample.
    next_look: u32,
    hits: u32,
    window_hits: u32,
    /// The direction of the last density step (None before the first) and how many steps
    /// in a row took it before this one.
    rising: Option<bool>,
    run: u32,
    guard: Option<LruGuard>,
}

/// What an access was, for the climber.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// A hit in the window.
    WindowHit,
    /// A hit in the main space.
    MainHit,
    /// A get that missed.
    Miss,
    /// A set of a new key that no get missed just before (not a request of the sample).
    Insert,
}

impl Climber {
    pub fn new(capacity: u32) -> Climber {
        let sample = capacity.saturating_mul(SAMPLE_MULTIPLIER).max(MIN_SAMPLE);
        Climber {
            started: false,
            sample,
            requests: 0,
            next_look: sample / LOOKS_PER_SAMPLE,
            hits: 0,
            window_hits: 0,
            rising: None,
            run: 0,
            guard: LruGuard::new(capacity),
        }
    }

    /// The cache is full: samples count from now on.
    pub fn start(&mut self) {
        self.started = true;
    }

    /// Records an access to the key with policy hash `hash`; after the last request of a
    /// sample, returns the new window size for a cache of `capacity` with window `window`.
    pub fn record(&mut self, hash: u32, access: Access, capacity: u32, window: u32) -> Option<u32> {
        if let Some(g) = self.guard.as_mut() {
            g.observe(hash, access, self.started);
        }
        if !self.started || access == Access::Insert {
            return None;
        }
        self.requests += 1;
        match access {
            Access::WindowHit => {
                self.hits += 1;
                self.window_hits += 1;
            }
            Access::MainHit => self.hits += 1,
            _ => {}
        }
        if self.requests < self.sample && (self.requests < self.next_look || !self.look()) {
            return None;
        }
        Some(self.adjust(capacity, window))
    }

    /// The guard's look within a sample: whether LRU already leads beyond doubt.
    fn look(&mut self) -> bool {
        self.next_look += self.sample / LOOKS_PER_SAMPLE;
        self.guard.as_ref().is_some_and(|g| g.lru_ahead_by(3.0))
    }

    /// The key left the cache other than as the policy's victim (delete, expiry): the
    /// miniature LRU forgets it too, so that it only counts what eviction decides.
    pub fn forget(&mut self, hash: u32) {
        if let Some(g) = self.guard.as_mut() {
            g.forget(hash);
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.guard.as_ref().map_or(0, |g| g.shadow.heap_bytes())
    }

    fn adjust(&mut self, capacity: u32, window: u32) -> u32 {
        let cap = capacity as f64;
        let win = window as f64;
        // +1 hit each: a region without hits still has a finite, comparable density (two
        // empty regions compare equal: no move), as Caffeine's epsilon.
        let window_density = (self.window_hits as f64 + 1.0) / win;
        let main_density = ((self.hits - self.window_hits) as f64 + 1.0) / (cap - win).max(1.0);
        let error = ln(window_density / main_density);
        let rising = error >= 0.0;
        self.run = if self.rising == Some(rising) {
            (self.run + 1).min(MOMENTUM_LIMIT)
        } else {
            0
        };
        self.rising = Some(rising);
        let boost = (1u32 << self.run) as f64;
        let magnitude = (MAX_STEP * cap).min(error.abs() * DENSITY_GAIN * cap * boost);
        let mut step = step_entries(if rising { magnitude } else { -magnitude });
        if let Some(g) = self.guard.as_mut() {
            if g.lru_ahead_by(2.0) {
                step = step.max(step_entries(MAX_STEP * cap));
            }
            g.restart();
        }
        self.requests = 0;
        self.next_look = self.sample / LOOKS_PER_SAMPLE;
        self.hits = 0;
        self.window_hits = 0;
        let largest = if capacity > 1 { cap - 1.0 } else { 1.0 };
        let floor = (WINDOW_FLOOR * cap).max(1.0).min(largest);
        (win + step).clamp(floor, largest) as u32
    }
}

/// The miniature LRU and the disagreements counted against it in the current sample.
struct LruGuard {
    /// An LRU set of sampled key hashes (`access`; `take` is a removal).
    shadow: Ghost,
    /// Keys whose hash is below this are sampled (a share of entries / capacity).
    threshold: u64,
    /// Sampled requests, hits of LRU alone, hits of this cache alone.
    sampled: u32,
    lru_only: u32,
    ours_only: u32,
}

impl LruGuard {
    /// None for caches too small to sample.
    fn new(capacity: u32) -> Option<LruGuard> {
        let entries = (capacity / SHADOW_SHARE).min(SHADOW_ENTRIES);
        (entries >= MIN_SHADOW).then(|| LruGuard {
            shadow: Ghost::new(entries),
            threshold: ((entries as u64) << 32) / capacity as u64,
            sampled: 0,
            lru_only: 0,
            ours_only: 0,
        })
    }

    #[inline]
    fn observe(&mut self, hash: u32, access: Access, counting: bool) {
        if (hash as u64) >= self.threshold {
            return;
        }
        let lru_hit = self.shadow.access(hash);
        if !counting || access == Access::Insert {
            return;
        }
        self.sampled += 1;
        let ours_hit = access != Access::Miss;
        if lru_hit && !ours_hit {
            self.lru_only += 1;
        } else if ours_hit && !lru_hit {
            self.ours_only += 1;
        }
    }

    fn forget(&mut self, hash: u32) {
        if (hash as u64) < self.threshold {
            self.shadow.take(hash);
        }
    }

    /// LRU hit more than this cache by 1 % of the sampled requests and by `z` standard
    /// deviations of the disagreements (a sign test: each disagreement is a coin flip when
    /// both policies are as good).
    fn lru_ahead_by(&self, z: f64) -> bool {
        let lead = self.lru_only as f64 - self.ours_only as f64;
        lead > 0.0
            && lead * 100.0 > self.sampled as f64
            && lead * lead > z * z * (self.lru_only as f64 + self.ours_only as f64)
    }

    fn restart(&mut self) {
        self.sampled = 0;
        self.lru_only = 0;
        self.ours_only = 0;
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
mod tests {
    use super::*;

    #[test]
    fn ln_matches_std_closely() {
        for x in [1e-12, 0.001, 0.3, 1.0, 1.5, 2.0, 7.0, 1234.5, 1e12] {
            assert!((ln(x) - f64::ln(x)).abs() < 1e-12, "{x}");
        }
    }

    #[test]
    fn the_guard_samples_a_share_of_the_keys() {
        assert!(LruGuard::new(63).is_none(), "too small to sample");
        let guard = |capacity| LruGuard::new(capacity).unwrap();
        assert_eq!(guard(64).threshold, 1 << 29, "1 key in 8");
        assert_eq!(guard(100).threshold, (12 << 32) / 100);
        assert_eq!(guard(1 << 20).threshold, 1 << 21, "512 entries' worth");
    }

    #[test]
    fn the_guard_needs_a_clear_lead() {
        let mut g = LruGuard::new(512).unwrap();
        g.sampled = 1000;
        (g.lru_only, g.ours_only) = (30, 10);
        assert!(
            g.lru_ahead_by(2.0),
            "20 more of 40 disagreements, 2 % of the requests"
        );
        assert!(g.lru_ahead_by(3.0));
        (g.lru_only, g.ours_only) = (25, 10);
        assert!(
            g.lru_ahead_by(2.0) && !g.lru_ahead_by(3.0),
            "15 in 35: 2.5 standard deviations"
        );
        (g.lru_only, g.ours_only) = (18, 8);
        assert!(
            !g.lru_ahead_by(2.0),
            "a lead of 10 in 26 is within 2 standard deviations"
        );
        g.sampled = 100_000;
        (g.lru_only, g.ours_only) = (300, 100);
        assert!(!g.lru_ahead_by(2.0), "a lead under 1 % of the requests");
    }

    #[test]
    fn the_miniature_lru_forgets_what_the_cache_lost_to_deletes_and_expiry() {
        let mut g = LruGuard::new(64).unwrap();
        g.observe(7, Access::Miss, true);
        g.forget(7);
        g.observe(7, Access::Miss, true);
        assert_eq!(
            (g.lru_only, g.ours_only),
            (0, 0),
            "both missed the deleted key"
        );
        g.observe(7, Access::Miss, true);
        assert_eq!(
            (g.lru_only, g.ours_only, g.sampled),
            (1, 0, 3),
            "LRU kept it, this cache did not"
        );
        g.observe(8, Access::Insert, true);
        g.observe(8, Access::MainHit, true);
        assert_eq!(
            (g.lru_only, g.ours_only, g.sampled),
            (1, 0, 4),
            "a set is no request; both hit"
        );
    }

    #[test]
    fn a_step_that_keeps_its_direction_doubles() {
        // The window earns 1.3 times the main space's hits per entry at every size: density
        // says grow by about 8 entries, sample after sample.
        let (capacity, mut window) = (1000u32, 20u32);
        let mut c = Climber::new(capacity);
        c.start();
        let mut steps = Vec::new();
        for _ in 0..4 {
            let share = 1.3 * window as f64 / capacity as f64;
            let mut next = None;
            for i in 0..c.sample {
                let in_window = (i as f64 * share).fract() + share >= 1.0;
                let a = if in_window {
                    Access::WindowHit
                } else {
                    Access::MainHit
                };
                // Odd hashes above the sampling threshold: the guard sees none of them.
                next = c.record(u32::MAX - i, a, capacity, window);
            }
            let w = next.expect("a sample ended");
            steps.push(w - window);
            window = w;
        }
        assert!(steps[0] < 20, "{steps:?}");
        for s in steps.windows(2) {
            assert!(s[1] >= 2 * s[0] - 1, "each step about doubles: {steps:?}");
        }
    }

    #[test]
    fn the_guard_grows_the_window_by_the_largest_step_after_a_quarter_sample() {
        // Keys 0..40 over and over in a cache of 1000 that misses every other request and
        // never hits in its window: density says shrink by 91 entries, but the miniature LRU
        // hits all of them, and the guard wins as soon as it first looks.
        let (capacity, window) = (1000u32, 20u32);
        let mut c = Climber::new(capacity);
        c.start();
        let quarter = c.sample / LOOKS_PER_SAMPLE;
        for i in 0..quarter {
            let hash = (i % 40) * 97; // all below the sampling threshold (2^32 × 64 / 1000)
            let a = if i % 2 == 0 {
                Access::Miss
            } else {
                Access::MainHit
            };
            let next = c.record(hash, a, capacity, window);
            assert_eq!(next.is_some(), i + 1 == quarter, "request {i}");
            if let Some(w) = next {
                assert_eq!(w, window + 300);
            }
        }
    }
}
