//! Time for an operation. Before every keyed call JS writes `now` (ms, f64) into the shared
//! area (layout.rs NOW_AT): the cache's clock (the default coarse clock or an injected
//! one), so both engines see the same instants. A negative (or NaN) `now` asks for this
//! engine clock instead: monotonic milliseconds since the first read in this process, read
//! lazily (only when the operation meets a deadline). The shared caches use it, since each
//! worker's `performance.now()` has its own origin.

use crate::area;
use astra_cache_core::{LazyNow, Now};
use std::sync::OnceLock;
use std::time::Instant;

static EPOCH: OnceLock<Instant> = OnceLock::new();

#[inline]
pub fn now_ms() -> f64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    epoch.elapsed().as_secs_f64() * 1000.0
}

/// The time for an operation: an instant the caller passed in, or the engine clock.
pub enum When {
    Given(f64),
    Native(LazyNow<fn() -> f64>),
}

impl Now for When {
    #[inline(always)]
    fn now(&mut self) -> f64 {
        match self {
            When::Given(t) => *t,
            When::Native(c) => c.now(),
        }
    }
}

/// The time JS gave for this call, or the engine clock when it gave a negative one.
#[inline(always)]
pub fn when() -> When {
    let t = area::with(|a| a.now());
    if t >= 0.0 {
        When::Given(t)
    } else {
        When::Native(LazyNow::new(now_ms as fn() -> f64))
    }
}
