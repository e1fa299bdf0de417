//! The engine's own clock, used when the cache was not given one: monotonic milliseconds
//! since the first read in this process. Read lazily, only by operations that meet an
//! entry with a deadline.

use astra_cache_core::{LazyNow, Now};
use std::sync::OnceLock;
use std::time::Instant;

static EPOCH: OnceLock<Instant> = OnceLock::new();

#[inline]
pub fn now_ms() -> f64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    epoch.elapsed().as_secs_f64() * 1000.0
}

/// The time for an operation: an instant the caller passed in (the JS clock, or an injected
/// one), or this engine clock, read lazily only if the operation meets a deadline.
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
