//! Serialized-storage caches, addressed from JS by handles, and the process-wide registry
//! of named (shared) caches that worker_threads open by name.
//!
//! Every serialized cache is an `Arc<Store>` around a [`Sharded`] byte store: a private
//! cache has one shard (an exact LRU; its lock is never contended), a shared one has
//! several (see crates/core/src/shared.rs for the locking and its exactness trade-off).
//! Handles are per thread, as for reference engines: each thread's table holds its own
//! `Arc`, so `close()` in one thread releases that thread's reference only; the cache
//! is freed when the last handle in any thread closes (or its thread exits). The name
//! registry keeps only `Weak` references, so it never keeps a cache alive by itself.

use crate::raw::{error, Fail, Res};
use astra_cache_core::shared::Sharded;
use astra_cache_core::PolicyKind;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

pub struct Store {
    pub cache: Sharded,
    /// What a shared cache was opened with; a later open must ask for the same.
    pub default_ttl_ms: f64,
}

struct Slot {
    generation: u16,
    store: Option<Arc<Store>>,
}

#[derive(Default)]
struct Handles {
    slots: Vec<Slot>,
    free: Vec<u16>,
}

thread_local! {
    static HANDLES: RefCell<Handles> = RefCell::new(Handles::default());
}

const MAX_HANDLES: usize = 1 << 16;

fn names() -> &'static Mutex<HashMap<String, Weak<Store>>> {
    static NAMES: OnceLock<Mutex<HashMap<String, Weak<Store>>>> = OnceLock::new();
    NAMES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A handle on this thread for `store`.
pub fn attach(store: Arc<Store>) -> Res<u32> {
    HANDLES.with(|h| {
        let mut h = h.try_borrow_mut().map_err(|_| busy())?;
        let index = match h.free.pop() {
            Some(i) => i,
            None if h.slots.len() < MAX_HANDLES => {
                h.slots.push(Slot { generation: 0, store: None });
                (h.slots.len() - 1) as u16
            }
            None => {
                return Err(error(
                    "ERR_ASTRA_NATIVE_LIMIT",
                    format!("astra-cache native: more than {MAX_HANDLES} serialized caches open on this thread"),
                ))
            }
        };
        let slot = &mut h.slots[index as usize];
        slot.generation = slot.generation.checked_add(1).unwrap_or(1);
        slot.store = Some(store);
        Ok(((slot.generation as u32) << 16) | index as u32)
    })
}

/// Opens the shared cache `name`, creating it on first open. An existing cache opened
/// with other options is an error naming the first difference (in the JS option names).
pub fn open_named(name: &str, capacity: u32, max_bytes: u64, shards: u32, default_ttl_ms: f64, policy: PolicyKind, seed: u32) -> Res<u32> {
    let store = {
        // The map is consistent after any panic (insert/remove only), so a poisoned lock is usable.
        let mut map = names().lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, w| w.strong_count() > 0);
        match map.get(name).and_then(Weak::upgrade) {
            Some(existing) => {
                check_same(name, &existing, capacity, max_bytes, shards, default_ttl_ms, policy)?;
                existing
            }
            None => {
                let store = Arc::new(Store {
                    cache: Sharded::with_policy(capacity, max_bytes, shards, policy, seed),
                    default_ttl_ms,
                });
                map.insert(name.to_owned(), Arc::downgrade(&store));
                store
            }
        }
    };
    attach(store)
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
        Some(d) => Err(error(
            "ERR_ASTRA_NATIVE_MISMATCH",
            format!("shared cache \"{name}\" is already open with {d}"),
        )),
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

/// Runs `f` on the store behind `handle`, or returns a JS error for a bad or closed handle.
#[inline]
pub fn with<R>(handle: u32, f: impl FnOnce(&Store) -> R) -> Res<R> {
    HANDLES.with(|h| {
        let h = h.try_borrow().map_err(|_| busy())?;
        let slot = h.slots.get((handle & 0xFFFF) as usize).ok_or_else(|| bad_handle(handle))?;
        if slot.generation as u32 != handle >> 16 {
            return Err(bad_handle(handle));
        }
        let store = slot.store.as_ref().ok_or_else(|| bad_handle(handle))?;
        Ok(f(store))
    })
}

/// Releases this thread's reference; the store is freed with its last reference.
pub fn close(handle: u32) -> Res<()> {
    let released = HANDLES.with(|h| {
        let mut h = h.try_borrow_mut().map_err(|_| busy())?;
        let index = (handle & 0xFFFF) as usize;
        let slot = h.slots.get_mut(index).ok_or_else(|| bad_handle(handle))?;
        if slot.generation as u32 != handle >> 16 || slot.store.is_none() {
            return Err(bad_handle(handle));
        }
        let store = slot.store.take();
        h.free.push(index as u16);
        Ok(store)
    })?;
    // Dropped outside the borrow: freeing a big cache takes a while and must not hold it.
    drop(released);
    Ok(())
}

#[cold]
fn bad_handle(handle: u32) -> Fail {
    error(
        "ERR_ASTRA_NATIVE_HANDLE",
        format!("astra-cache native: serialized cache handle {handle} is not open (closed, or from another thread)"),
    )
}

#[cold]
fn busy() -> Fail {
    error("ERR_ASTRA_NATIVE_CALL", "astra-cache native: re-entrant call")
}
