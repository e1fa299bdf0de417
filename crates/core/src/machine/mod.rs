//! A cache shared by every process of a machine: a TTL store with second-chance (CLOCK)
//! eviction in a memory-mapped file (default under /dev/shm), sharded, each shard behind
//! a robust process-shared mutex. Linux only (robust mutexes); elsewhere `open` returns
//! [`MachineError::Unsupported`].
//!
//! Reads take no lock: they run optimistically against the shard's version counter
//! (shard.rs `read_unlocked`) and write nothing another process writes on a hit (the
//! entry's `accessed` word only when it is clear, the hit count in this thread's own
//! lane), so readers in several processes do not serialise. A read that keeps finding a
//! writer at work falls back to the lock.
//!
//! Crash safety: a process killed at any point (even holding a shard lock, half-way through
//! a write) leaves the cache usable: the next process to take that lock rebuilds the shard
//! from its committed slots (recover.rs), so a torn entry is never returned and every
//! entry whose `set` returned survives (unless evicted or overwritten).
//!
//! Time: TTL deadlines are CLOCK_MONOTONIC milliseconds, one clock for every process of
//! the machine (not across containers in different time namespaces, nor across reboots,
//! which do not keep /dev/shm anyway).

// Off Linux `open` only refuses: the segment code is compiled (one code base) but unused.
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]

mod layout;
mod lock;
mod recover;
mod segment;
mod shard;
mod watch;
#[cfg(all(test, target_os = "linux"))]
mod tests;

pub use layout::{Geometry, LAYOUT_VERSION};
pub use segment::{segment_path, unlink};
pub use shard::SetOutcome;
pub use watch::{topic_hash, WatchSlot, WatchState, Watchers, WATCH_SLOTS};

use layout::*;
use lock::Taken;
use shard::{Lookup, Seen, Shard};
use std::sync::atomic::{AtomicU32, Ordering};

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

/// One process's attachment to a segment. `Send + Sync`: every change goes through a shard
/// lock, and a read without it uses only what the shard's version validated.
pub struct MachineCache {
    map: segment::Mapping,
    /// This attachment's hit/miss lane (each JS thread opens its own attachment).
    lane: *const Lane,
    geo: Geometry,
    seed: u64,
    timeout_ms: u64,
    shards: Vec<Shard>,
    path: String,
    created: bool,
    /// This attachment's watcher lease (watch.rs).
    watch: std::sync::Mutex<watch::WatchState>,
}

/// What [`MachineCache::watch`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchOp {
    /// Start watching: answers how many other live watchers vouch for the segment.
    Start,
    /// Renew the lease (a timer, well within the lease).
    Beat,
    /// Stop watching (the subscription was lost, or the cache closes).
    Stop,
}

/// A closed attachment stops watching (its lease would otherwise count until it lapsed).
impl Drop for MachineCache {
    fn drop(&mut self) {
        self.watch(WatchOp::Stop, b"", 0);
    }
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

/// Releases the shard lock when dropped, making the shard's version even again if this
/// holder made it odd. On unwinding it stays odd: the next holder rebuilds the shard.
struct Held<'a> {
    shard: &'a Shard,
    /// The odd version this holder wrote, or 0 if it wrote none (a holder that only reads).
    odd: u64,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if self.odd != 0 && !std::thread::panicking() {
            self.shard.version().store(self.odd + 1, Ordering::Release);
        }
        unsafe { lock::unlock(self.shard.hdr as *mut lock::RawMutex) };
    }
}

/// Lock-free read attempts before a read takes the lock (a writer holds a shard for about
/// a microsecond; one that died holding it is only cleared by the next lock holder).
const READ_ATTEMPTS: u32 = 8;

/// Values up to this size are copied to the stack before validation; larger ones to the heap.
const STACK_COPY: usize = 512;

static OPENS: AtomicU32 = AtomicU32::new(0);

/// A new attachment's counter lane: from the pid and how many attachments this process
/// opened, so processes and their threads (each opens its own) spread over the lanes;
/// two sharing one only cost speed.
fn next_lane() -> usize {
    let n = OPENS.fetch_add(1, Ordering::Relaxed);
    ((std::process::id().wrapping_mul(0x9E37_79B1) >> 8).wrapping_add(n) % LANES as u32) as usize
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
        let lane = unsafe { (map.ptr().add(LANES_OFF) as *const Lane).add(next_lane()) };
        Ok(MachineCache { map, lane, geo, seed, timeout_ms: o.lock_timeout_ms, shards, path, created, watch: Default::default() })
    }

    /// Watcher leases (watch.rs): `Start` returns how many other live watchers of `topic`
    /// vouch that the entries are in step (0: the caller should drop them); others return 0.
    pub fn watch(&self, op: WatchOp, topic: &[u8], lease_ms: u64) -> u32 {
        self.watch_at(op, topic, lease_ms, now_ms())
    }

    pub fn watch_at(&self, op: WatchOp, topic: &[u8], lease_ms: u64, now: u64) -> u32 {
        // SAFETY: the header page is mapped for the mapping's life; the slots are atomics.
        let slots = unsafe { std::slice::from_raw_parts(self.map.ptr().add(watch::WATCH_OFF) as *const watch::WatchSlot, watch::WATCH_SLOTS) };
        let watchers = watch::Watchers { slots };
        let mut state = self.watch.lock().unwrap_or_else(|p| p.into_inner());
        watchers.apply(&mut state, op, watch::topic_hash(self.seed, topic), now, lease_ms)
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

    /// Takes shard `i`'s lock. `writes`: the holder may change the shard, so the version
    /// goes odd until release. A shard whose last holder died or unwound (version left
    /// odd) is rebuilt first, whatever the new holder means to do.
    fn take(&self, i: usize, writes: bool) -> Result<Held<'_>, MachineError> {
        let s = &self.shards[i];
        let taken = unsafe { lock::lock(s.hdr as *mut lock::RawMutex, self.timeout_ms, i as u32)? };
        let v = s.version().load(Ordering::Relaxed);
        let broken = matches!(taken, Taken::OwnerDied) || v & 1 != 0;
        let mut held = Held { shard: s, odd: 0 };
        if writes || broken {
            held.odd = v | 1;
            s.version().store(held.odd, Ordering::Relaxed);
            std::sync::atomic::fence(Ordering::Release);
        }
        if broken {
            s.rebuild();
        }
        Ok(held)
    }

    #[inline]
    fn shard_of(&self, hash: u64) -> usize {
        if self.shards.len() == 1 { 0 } else { (((hash >> 32) * self.shards.len() as u64) >> 32) as usize }
    }

    #[inline]
    fn with_key<R>(&self, key: &[u8], f: impl FnOnce(&Shard, u64) -> R) -> Result<R, MachineError> {
        let hash = key_hash(self.seed, key);
        let held = self.take(self.shard_of(hash), true)?;
        Ok(f(held.shard, hash))
    }

    fn lane(&self) -> &Lane {
        unsafe { &*self.lane }
    }

    /// A live entry's `read(flags, value)`: without the lock when no writer interferes
    /// (`read` then gets a validated copy), else under the lock. `count`: a get (counts a
    /// hit or miss, marks the entry read) rather than a peek.
    fn read<R>(&self, key: &[u8], now: &mut impl FnMut() -> u64, count: bool, read: impl FnOnce(u32, &[u8]) -> R) -> Result<Option<R>, MachineError> {
        let hash = key_hash(self.seed, key);
        let i = self.shard_of(hash);
        let s = &self.shards[i];
        // Where the value is copied before it is validated (no allocation for small ones).
        let mut stack = [0u8; STACK_COPY];
        let mut heap = Vec::new();
        let mut len = 0;
        for attempt in 0..READ_ATTEMPTS {
            let copy = |v: &[u8]| {
                len = v.len();
                if len <= STACK_COPY {
                    stack[..len].copy_from_slice(v);
                } else {
                    heap.clear();
                    heap.extend_from_slice(v);
                }
            };
            match s.read_unlocked(key, hash, now, copy) {
                Seen::Busy => (0..1u32 << attempt).for_each(|_| std::hint::spin_loop()),
                Seen::Hit(slot, flags) => {
                    if count {
                        s.touch(slot);
                        self.lane().hits.fetch_add(1, Ordering::Relaxed);
                    }
                    return Ok(Some(read(flags, if len <= STACK_COPY { &stack[..len] } else { &heap })));
                }
                Seen::Absent => {
                    if count {
                        self.lane().misses.fetch_add(1, Ordering::Relaxed);
                    }
                    return Ok(None);
                }
                Seen::Expired if !count => return Ok(None),
                Seen::Expired => break,
            }
        }
        // A writer kept the shard busy (or died holding it), or the entry expired and must
        // be removed: under the lock.
        let held = self.take(i, count)?;
        let s = held.shard;
        if !count {
            return Ok(s.peek(key, hash, now).map(|j| {
                let slot = *s.slot(j);
                read(slot.flags, s.value_of(&slot))
            }));
        }
        match s.get(key, hash, now) {
            Lookup::Hit(j) => {
                self.lane().hits.fetch_add(1, Ordering::Relaxed);
                let slot = *s.slot(j);
                Ok(Some(read(slot.flags, s.value_of(&slot))))
            }
            Lookup::Miss | Lookup::Expired => {
                self.lane().misses.fetch_add(1, Ordering::Relaxed);
                Ok(None)
            }
        }
    }

    /// Reads a live entry at time `now`: `read(flags, value)` gets the value's bytes.
    pub fn get_at<R>(&self, key: &[u8], now: u64, read: impl FnOnce(u32, &[u8]) -> R) -> Result<Option<R>, MachineError> {
        self.read(key, &mut || now, true, read)
    }

    pub fn get<R>(&self, key: &[u8], read: impl FnOnce(u32, &[u8]) -> R) -> Result<Option<R>, MachineError> {
        self.read(key, &mut now_ms, true, read)
    }

    /// A live entry without counting it or marking it read.
    pub fn peek_at<R>(&self, key: &[u8], now: u64, read: impl FnOnce(u32, &[u8]) -> R) -> Result<Option<R>, MachineError> {
        self.read(key, &mut || now, false, read)
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
            self.take(i, true)?.shard.clear();
        }
        Ok(())
    }

    pub fn counters(&self) -> Result<MachineCounters, MachineError> {
        let mut c = MachineCounters::default();
        let lanes = unsafe { self.map.ptr().add(LANES_OFF) as *const Lane };
        for l in 0..LANES {
            let lane = unsafe { &*lanes.add(l) };
            c.hits += lane.hits.load(Ordering::Relaxed);
            c.misses += lane.misses.load(Ordering::Relaxed);
        }
        for i in 0..self.shards.len() {
            let held = self.take(i, false)?;
            let h = held.shard.h();
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
            let held = self.take(i, false)?;
            out.extend(held.shard.verify().into_iter().map(|m| format!("shard {i}: {m}")));
        }
        Ok(out)
    }

    /// Keys per shard, from the list's head (newest or last given a chance) to its tail (tests).
    pub fn keys(&self) -> Result<Vec<Vec<u8>>, MachineError> {
        let mut out = Vec::new();
        for i in 0..self.shards.len() {
            out.extend(self.take(i, false)?.shard.keys());
        }
        Ok(out)
    }

    /// The segment's key-hash seed, random per creation (also the segment's identity for metrics).
    pub fn seed(&self) -> u64 {
        self.seed
    }
}
