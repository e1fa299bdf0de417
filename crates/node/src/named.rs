//! What a serialized cache is ([`Stored`]): a cache of this thread's own, or a shared one,
//! and the process-wide registry of the shared ones, which worker_threads open by name
//! (`InMemoryLRUCache.shared()`).
//!
//! A shared cache is an `Arc<Store>` around a [`Sharded`] cache (see
//! crates/core/src/shared.rs for the locking and its exactness trade-off). Each thread's
//! handle holds its own `Arc`, so `close()` in one thread releases that thread's reference
//! only; the cache is freed with the last reference. The registry keeps only `Weak`
//! references, so it never keeps a cache alive by itself. A private cache needs no lock:
//! only its thread reaches it.
//!
//! A shared cache also holds watcher leases (crates/core/src/machine/watch.rs, the same rules
//! as a machine-wide segment's): a TieredCache over it in one thread then does not clear the
//! entries the others keep in step when it (re)subscribes. Each handle is one attachment.

use crate::raw::{error, Res};
use astra_cache_core::machine::{topic_hash, WatchOp, WatchSlot, WatchState, Watchers, WATCH_SLOTS};
use astra_cache_core::shared::{Sharded, Totals};
use astra_cache_core::{Lru, OnRemove, PolicyKind};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

pub struct Store {
    pub cache: Sharded,
    /// Distinct for every shared cache this process creates (a name closed by all and reopened
    /// is a new cache with new counters): metrics sinks count each one once.
    pub serial: u64,
    /// What a shared cache was opened with; a later open must ask for the same.
    pub default_ttl_ms: f64,
    /// The watcher leases of the threads' TieredCaches over this cache.
    watchers: Box<[WatchSlot]>,
}

/// The cache behind a serialized-storage handle.
pub enum Stored {
    Own(Box<Lru>),
    /// A shared cache, and this handle's watcher lease.
    Shared(Arc<Store>, WatchState),
}

/// A closed handle stops watching (its lease would otherwise count until it lapsed).
impl Drop for Stored {
    fn drop(&mut self) {
        self.watch(WatchOp::Stop, b"", 0);
    }
}

/// Milliseconds since this process first asked (monotonic; the threads share it).
fn process_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

impl Stored {
    /// Runs `f` on the cache holding `key` (a shared cache's shard, under its lock).
    #[inline(always)]
    pub fn with<R>(&mut self, key: &[u8], f: impl FnOnce(&mut Lru) -> R) -> R {
        match self {
            Stored::Own(lru) => f(lru),
            Stored::Shared(store, _) => store.cache.with_shard(key, f),
        }
    }

    pub fn clear(&mut self, on: &mut impl OnRemove) {
        match self {
            Stored::Own(lru) => lru.clear_with(on),
            Stored::Shared(store, _) => store.cache.clear(on),
        }
    }

    pub fn totals(&self) -> Totals {
        match self {
            Stored::Own(lru) => Totals::of(lru),
            Stored::Shared(store, _) => store.cache.totals(),
        }
    }

    pub fn policy(&self) -> PolicyKind {
        match self {
            Stored::Own(lru) => lru.policy(),
            Stored::Shared(store, _) => store.cache.policy(),
        }
    }

    /// Watcher leases (as `MachineCache::watch`); None for a cache of the thread's own.
    pub fn watch(&mut self, op: WatchOp, topic: &[u8], lease_ms: u64) -> Option<u32> {
        match self {
            Stored::Own(_) => None,
            Stored::Shared(store, state) => {
                let watchers = Watchers { slots: &store.watchers };
                Some(watchers.apply(state, op, topic_hash(store.serial, topic), process_ms(), lease_ms))
            }
        }
    }
}

fn names() -> &'static Mutex<HashMap<String, Weak<Store>>> {
    static NAMES: OnceLock<Mutex<HashMap<String, Weak<Store>>>> = OnceLock::new();
    NAMES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The shared cache `name`, created on first open, as a new attachment. An existing cache
/// opened with other options is an error naming the first difference (in the JS option names).
pub fn open(name: &str, capacity: u32, max_bytes: u64, shards: u32, default_ttl_ms: f64, policy: PolicyKind, seed: u32) -> Res<Stored> {
    // The map is consistent after any panic (insert/remove only), so a poisoned lock is usable.
    let mut map = names().lock().unwrap_or_else(|p| p.into_inner());
    map.retain(|_, w| w.strong_count() > 0);
    if let Some(existing) = map.get(name).and_then(Weak::upgrade) {
        check_same(name, &existing, capacity, max_bytes, shards, default_ttl_ms, policy)?;
        return Ok(Stored::Shared(existing, WatchState::default()));
    }
    static SERIAL: AtomicU64 = AtomicU64::new(1);
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    let watchers = (0..WATCH_SLOTS).map(|_| WatchSlot::default()).collect();
    let store = Arc::new(Store { cache: Sharded::with_policy(capacity, max_bytes, shards, policy, seed), serial, default_ttl_ms, watchers });
    map.insert(name.to_owned(), Arc::downgrade(&store));
    Ok(Stored::Shared(store, WatchState::default()))
}

fn check_same(name: &str, s: &Store, capacity: u32, max_bytes: u64, shards: u32, ttl: f64, policy: PolicyKind) -> Res<()> {
    let wanted_shards = shards.clamp(1, capacity.max(1));
    let diff = if s.cache.capacity() != capacity {
        Some(format!("maxsize {} (this call asked for {capacity})", s.cache.capacity()))
    } else if s.cache.max_bytes() != max_bytes {
        Some(format!("maxBytes {} (this call asked for {max_bytes})", s.cache.max_bytes()))
    } else if s.cache.shard_count() != wanted_shards {
        Some(format!("shards {} (this call asked for {shards})", s.cache.shard_count()))
    } else if s.default_ttl_ms.to_bits() != ttl.to_bits() {
        Some(format!("defaultTtl {} s (this call asked for {} s)", s.default_ttl_ms / 1000.0, ttl / 1000.0))
    } else if s.cache.policy() != policy {
        Some(format!("policy '{}' (this call asked for '{}')", policy_name(s.cache.policy()), policy_name(policy)))
    } else {
        None
    };
    match diff {
        None => Ok(()),
        Some(d) => Err(error("ERR_ASTRA_NATIVE_MISMATCH", format!("shared cache \"{name}\" is already open with {d}"))),
    }
}

/// The JS option value of a policy (the fixed-window W-TinyLFU is a test/bench variant).
fn policy_name(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Lru => "lru",
        PolicyKind::S3Fifo => "s3fifo",
        PolicyKind::TinyLfu => "tinylfu",
        PolicyKind::TinyLfuFixed => "tinylfu-fixed",
    }
}
