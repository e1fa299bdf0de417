//! The engine's own clock, used when the cache was not given one: monotonic milliseconds
//! since the first read in this process. Read lazily, only by operations that meet an
//! entry with a deadline.

use std::sync::OnceLock;
use std::time::Instant;

static EPOCH: OnceLock<Instant> = OnceLock::new();

#[inline]
pub fn now_ms() -> f64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    epoch.elapsed().as_secs_f64() * 1000.0
}
