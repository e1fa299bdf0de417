//! A cache shared by every process of a machine: an LRU + TTL store in a memory-mapped
//! file (default under /dev/shm), sharded, each shard behind a robust process-shared mutex.
//! Linux only (robust mutexes); elsewhere `open` returns [`MachineError::Unsupported`].
//!
//! Crash safety: a process killed at any point (even holding a shard lock, half-way through
//! a write) leaves the cache usable: the next process to take that lock rebuilds the shard
//! from its committed slots (recover.rs), so a torn entry is never returned and every
//! entry whose `set` returned survives (unless evicted or overwritten).
//!
//! Time: TTL deadlines are CLOCK_MONOTONIC milliseconds, one clock for every process of
//! the machine (not across containers in different time namespaces, nor across reboots,
//! which do not keep /dev/shm anyway).

mod layout;
mod lock;
mod recover;
mod segment;
mod shard;
#[cfg(all(test, target_os = "linux"))]
mod tests;

pub use layout::{Geometry, LAYOUT_VERSION};
pub use segment::{segment_path, unlink};
pub use shard::SetOutcome;

use layout::*;
use lock::Taken;
use shard::Shard;

/// Why a machine-wide cache could not be opened or used. `code()` is stable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MachineError {
    Unsupported,
    BadName(String),
    /// The segment exists with other parameters: which one, its value, the one asked.
    Mismatch { path: String, field: &'static str, created: u64, asked: u64 },
    /// Not a segment of this layout (wrong magic/version, truncated, never initialised).
    NotASegment { path: String, why: String },
    /// The segment file belongs to another user.
    NotOwner { path: String, owner: u32, euid: u32 },
    LockTimeout { shard: u32, timeout_ms: u64 },
    Io(String),
}

impl MachineError {
    pub fn code(&self) -> &'static str {
        match self {
            MachineError::Unsupported => "ERR_CACHE_UNSUPPORTED_PLATFORM",
            MachineError::BadName(_) => "ERR_CACHE_INVALID_OPTION",
            MachineError::Mismatch { .. } => "ERR_CACHE_SEGMENT_MISMATCH",
            MachineError::NotASegment { .. } => "ERR_CACHE_SEGMENT_MISMATCH",
            MachineError::NotOwner { .. } => "ERR_CACHE_SEGMENT_PERMISSION",
            MachineError::LockTimeout { .. } => "ERR_CACHE_LOCK_TIMEOUT",
            MachineError::Io(_) => "ERR_CACHE_SEGMENT_IO",
        }
    }
}

impl std::fmt::Display for MachineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MachineError::Unsupported => write!(f, "a machine-wide cache needs Linux (robust process-shared mutexes); this platform has none"),
            MachineError::BadName(n) => write!(f, "machine-wide cache name must be 1-200 characters of A-Z a-z 0-9 . _ - (it names a file), got {n:?}"),
            MachineError::Mismatch { path, field, created, asked } => write!(f, "segment '{path}' was created with {field} {created}, this cache asks {asked}"),
            MachineError::NotASegment { path, why } => write!(f, "'{path}' is not a cache segment of this version: {why}"),
            MachineError::NotOwner { path, owner, euid } => write!(f, "segment '{path}' belongs to uid {owner}, not to this process's uid {euid}: refusing to share memory with another user"),
            MachineError::LockTimeout { shard, timeout_ms } => write!(f, "shard {shard} lock not acquired within {timeout_ms} ms"),
            MachineError::Io(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for MachineError {}

/// How to open (or create) a machine-wide cache.
#[derive(Clone, Debug)]
pub struct MachineOptions {
    pub dir: std::path::PathBuf,
    pub name: String,
    pub capacity: u32,
    pub shards: u32,
    /// Key + value bytes of the whole cache (each shard's region: its share, rounded up to a power of two).
    pub max_bytes: u64,
    /// File mode of a segment this call creates.
    pub mode: u32,
    pub lock_timeout_ms: u64,
}

/// Counters summed over shards.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MachineCounters {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub expirations: u64,
    pub sets: u64,
    pub size: u64,
    pub bytes: u64,
    pub recoveries: u64,
}

/// One process's attachment to a segment. `Send + Sync`: every access goes through a shard lock.
pub struct MachineCache {
    map: segment::Mapping,
    geo: Geometry,
    seed: u64,
    timeout_ms: u64,
    shards: Vec<Shard>,
    path: String,
    created: bool,
}

unsafe impl Send for MachineCache {}
unsafe impl Sync for MachineCache {}

/// Milliseconds of CLOCK_MONOTONIC (the same clock in every process of the machine).
pub fn now_ms() -> u64 {
    #[cfg(target_os = "linux")]
    unsafe {
        let mut t: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t);
        t.tv_sec as u64 * 1000 + t.tv_nsec as u64 / 1_000_000
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Releases the shard lock when dropped. On unwinding the shard stays marked dirty and the
/// next holder rebuilds it.
struct Held<'a> {
    shard: &'a Shard,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.shard.h().dirty = 0;
        }
        unsafe { lock::unlock(self.shard.hdr as *mut lock::RawMutex) };
    }
}

impl MachineCache {
    pub fn open(o: &MachineOptions) -> Result<MachineCache, MachineError> {
        let geo = Geometry::new(o.capacity, o.shards, o.max_bytes);
        let (map, created) = segment::open_or_create(o, &geo)?;
        let header = unsafe { &*(map.ptr() as *const Header) };
        let seed = header.seed;
        let shards = (0..geo.shards)
            .map(|i| unsafe { Shard::at(map.ptr().add(HEADER_BYTES + i as usize * geo.shard_stride), &geo, seed) })
            .collect();
        let path = segment::segment_path(&o.dir, &o.name)?.display().to_string();
        Ok(MachineCache { map, geo, seed, timeout_ms: o.lock_timeout_ms, shards, path, created })
    }

    /// True when this call created the segment (false: attached to an existing one).
    pub fn created(&self) -> bool {
        self.created
    }
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn geometry(&self) -> &Geometry {
        &self.geo
    }
    pub fn segment_bytes(&self) -> usize {
        self.map.len()
    }

    fn take(&self, i: usize) -> Result<Held<'_>, MachineError> {
        let s = &self.shards[i];
        let taken = unsafe { lock::lock(s.hdr as *mut lock::RawMutex, self.timeout_ms, i as u32)? };
        let held = Held { shard: s };
        if matches!(taken, Taken::OwnerDied) || s.h().dirty != 0 {
            s.h().dirty = 1;
            s.rebuild();
        }
        s.h().dirty = 1;
        Ok(held)
    }

    #[inline]
    fn with_key<R>(&self, key: &[u8], f: impl FnOnce(&Shard, u64) -> R) -> Result<R, MachineError> {
        let hash = key_hash(self.seed, key);
        let i = if self.shards.len() == 1 { 0 } else { (((hash >> 32) * self.shards.len() as u64) >> 32) as usize };
        let held = self.take(i)?;
        Ok(f(held.shard, hash))
    }

    /// Reads a live entry: `read(flags, value)` runs under the shard lock (copy out there).
    pub fn get_at<R>(&self, key: &[u8], now: u64, read: impl FnOnce(u32, &[u8]) -> R) -> Result<Option<R>, MachineError> {
        self.with_key(key, |s, h| {
            s.get(key, h, &mut || now).map(|i| {
                let slot = *s.slot(i);
                read(slot.flags, s.value_of(&slot))
            })
        })
    }

    pub fn get<R>(&self, key: &[u8], read: impl FnOnce(u32, &[u8]) -> R) -> Result<Option<R>, MachineError> {
        self.with_key(key, |s, h| {
            s.get(key, h, &mut now_ms).map(|i| {
                let slot = *s.slot(i);
                read(slot.flags, s.value_of(&slot))
            })
        })
    }

    pub fn peek_at<R>(&self, key: &[u8], now: u64, read: impl FnOnce(u32, &[u8]) -> R) -> Result<Option<R>, MachineError> {
        self.with_key(key, |s, h| {
            s.peek(key, h, &mut || now).map(|i| {
                let slot = *s.slot(i);
                read(slot.flags, s.value_of(&slot))
            })
        })
    }

    /// `ttl_ms` 0 = never expires.
    pub fn set_at(&self, key: &[u8], flags: u32, value: &[u8], ttl_ms: u64, now: u64) -> Result<SetOutcome, MachineError> {
        let deadline = if ttl_ms == 0 { 0 } else { now.saturating_add(ttl_ms).max(1) };
        self.with_key(key, |s, h| s.set(key, h, flags, value, deadline, now))
    }

    pub fn delete_at(&self, key: &[u8], now: u64) -> Result<bool, MachineError> {
        self.with_key(key, |s, h| s.delete(key, h, now))
    }

    pub fn clear(&self) -> Result<(), MachineError> {
        for i in 0..self.shards.len() {
            self.take(i)?.shard.clear();
        }
        Ok(())
    }

    pub fn counters(&self) -> Result<MachineCounters, MachineError> {
        let mut c = MachineCounters::default();
        for i in 0..self.shards.len() {
            let held = self.take(i)?;
            let h = held.shard.h();
            c.hits += h.hits;
            c.misses += h.misses;
            c.evictions += h.evictions;
            c.expirations += h.expirations;
            c.sets += h.sets;
            c.size += u64::from(h.size);
            c.bytes += h.bytes;
            c.recoveries += h.recoveries;
        }
        Ok(c)
    }

    /// Every broken invariant of every shard (empty = sound). Takes each shard's lock, so a
    /// shard left by a dead owner is first recovered, as any operation would.
    pub fn verify(&self) -> Result<Vec<String>, MachineError> {
        let mut out = Vec::new();
        for i in 0..self.shards.len() {
            let held = self.take(i)?;
            out.extend(held.shard.verify().into_iter().map(|m| format!("shard {i}: {m}")));
        }
        Ok(out)
    }

    /// Keys per shard, MRU to LRU (tests).
    pub fn keys(&self) -> Result<Vec<Vec<u8>>, MachineError> {
        let mut out = Vec::new();
        for i in 0..self.shards.len() {
            out.extend(self.take(i)?.shard.keys());
        }
        Ok(out)
    }

    /// The segment's key-hash seed (tests).
    pub fn seed(&self) -> u64 {
        self.seed
    }
}
