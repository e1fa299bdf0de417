//! Where everything lives in a segment: byte offsets from the segment's start, no pointers,
//! so every process can map the segment at any address.
//!
//! ```text
//! [Header: 4096 bytes][counter lanes: LANES x 64 bytes, to 8192]
//! [shard 0: ShardHeader | slots | index | free map | region] [shard 1: ...] ...
//! ```
//! - slots: `slots_per_shard` [`Slot`] records (capacity per shard + 1 spare, so an
//!   overwrite can commit its new version before the old one is released).
//! - index: `index_len` u64 words, open addressing with linear probing:
//!   `(hash tag << 32) | (slot + 1)`, 0 = empty.
//! - free map: one byte per 64-byte unit of the region: `order + 1` where a free buddy
//!   block starts, else 0.
//! - region: `region_bytes` (a power of two) of key + value bytes in buddy blocks.

use std::mem::size_of;

pub const MAGIC: u64 = u64::from_le_bytes(*b"ASTRASHM");
/// Bumped whenever anything in this file changes meaning. 2: reads without the lock
/// (shard version counter), hit/miss counter lanes, second-chance eviction (`accessed`).
pub const LAYOUT_VERSION: u32 = 2;
/// The header page, then the counter lanes; the shards start here.
pub const HEADER_BYTES: usize = 8192;
/// Hit and miss counters, one 64-byte lane per thread (chosen from its pid and thread
/// number), so a read adds to a line no other process writes; stats sum the lanes.
pub const LANES_OFF: usize = 4096;
pub const LANES: usize = 64;
/// Smallest buddy block: 64 bytes (order 0).
pub const MIN_SHIFT: u32 = 6;
pub const MIN_BLOCK: usize = 1 << MIN_SHIFT;
/// Free list heads kept per shard (orders 0..MAX_ORDERS-1: up to 64 B << 31).
pub const MAX_ORDERS: usize = 32;
/// "No slot" / "no block" in a link.
pub const NIL: u32 = u32::MAX;

/// Slot states. Only COMMITTED slots hold entries; the word is written last when an entry
/// is stored and first when it is removed.
pub const FREE: u32 = 0;
pub const COMMITTED: u32 = 0x600D_CAFE;

/// Policy codes stored in the header (only LRU, served by second-chance eviction, is built
/// for machine-wide caches).
pub const POLICY_LRU: u32 = 0;

#[repr(C)]
pub struct Header {
    pub magic: u64,
    pub version: u32,
    /// Written last by the creator (release); 1 = initialised.
    pub ready: u32,
    pub capacity: u32,
    pub shards: u32,
    pub policy: u32,
    pub slots_per_shard: u32,
    pub max_bytes: u64,
    pub region_bytes: u64,
    pub index_len: u64,
    pub shard_stride: u64,
    pub total_bytes: u64,
    pub seed: u64,
}

/// One thread's hit and miss counts (atomic adds: exact, and a process killed mid-add
/// either counted or not).
#[repr(C)]
pub struct Lane {
    pub hits: std::sync::atomic::AtomicU64,
    pub misses: std::sync::atomic::AtomicU64,
    pub _pad: [u64; 6],
}

/// Per-shard state, guarded by `mutex` (a robust process-shared pthread mutex).
#[repr(C)]
pub struct ShardHeader {
    pub mutex: [u64; 8],
    /// Odd while a lock holder may be changing the shard, even otherwise; every holder
    /// that may write makes it odd on taking the lock and the next even on release. A
    /// reader without the lock accepts what it read only if the version was even and
    /// unchanged around the read. A holder that died or unwound leaves it odd: the next
    /// holder rebuilds the shard. Alone on its cache line, which only writers write.
    pub version: std::sync::atomic::AtomicU64,
    pub _version_line: [u64; 7],
    pub lru_head: u32,
    pub lru_tail: u32,
    pub free_slot: u32,
    pub size: u32,
    pub sweep: u32,
    pub _pad: u32,
    pub seq: u64,
    pub bytes: u64,
    pub evictions: u64,
    pub expirations: u64,
    pub sets: u64,
    pub recoveries: u64,
    pub free_heads: [u32; MAX_ORDERS],
}

/// One entry's record. `checksum` covers the key and value bytes and the fields that
/// locate them, so recovery can tell a complete entry from a torn one.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Slot {
    pub state: u32,
    pub flags: u32,
    pub block: u32,
    pub key_len: u32,
    pub val_len: u32,
    pub tag: u32,
    pub prev: u32,
    pub next: u32,
    /// CLOCK_MONOTONIC milliseconds; 0 = never expires.
    pub deadline: u64,
    /// When the entry was stored or last given a second chance (per-shard sequence):
    /// recovery rebuilds the list order by sorting on it.
    pub stamp: u64,
    pub checksum: u64,
    /// Set (1) by a read hit without the lock, cleared when eviction gives the entry its
    /// second chance. Not covered by the checksum; only ever accessed atomically.
    pub accessed: u32,
    pub _pad: u32,
}

const _: () = assert!(size_of::<Slot>() == 64);
const _: () = assert!(size_of::<Header>() <= LANES_OFF);
const _: () = assert!(size_of::<Lane>() == 64 && LANES_OFF + LANES * 64 == HEADER_BYTES);
#[cfg(target_os = "linux")]
const _: () = assert!(size_of::<libc::pthread_mutex_t>() <= 64);

/// The sizes derived from a cache's parameters; identical in every process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub capacity: u32,
    pub shards: u32,
    pub max_bytes: u64,
    pub slots_per_shard: u32,
    pub index_len: u64,
    pub region_bytes: u64,
    pub shard_header: usize,
    pub slots_off: usize,
    pub index_off: usize,
    pub map_off: usize,
    pub region_off: usize,
    pub shard_stride: usize,
    pub total_bytes: usize,
}

fn align(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

impl Geometry {
    /// `max_bytes` is the key + value budget of the whole cache, split evenly over shards;
    /// each shard's region is its share rounded up to a power of two (at least 4 KiB).
    pub fn new(capacity: u32, shards: u32, max_bytes: u64) -> Geometry {
        let per_shard = capacity.div_ceil(shards).max(1);
        let slots_per_shard = per_shard + 1;
        let index_len = (u64::from(slots_per_shard) * 2).next_power_of_two();
        let region_bytes = max_bytes.div_ceil(u64::from(shards)).max(4096).next_power_of_two();
        let shard_header = align(size_of::<ShardHeader>(), 64);
        let slots_off = shard_header;
        let index_off = slots_off + slots_per_shard as usize * size_of::<Slot>();
        let map_off = index_off + index_len as usize * 8;
        let region_off = align(map_off + (region_bytes as usize >> MIN_SHIFT), 4096);
        let shard_stride = align(region_off + region_bytes as usize, 4096);
        Geometry {
            capacity,
            shards,
            max_bytes,
            slots_per_shard,
            index_len,
            region_bytes,
            shard_header,
            slots_off,
            index_off,
            map_off,
            region_off,
            shard_stride,
            total_bytes: HEADER_BYTES + shard_stride * shards as usize,
        }
    }

    pub fn max_order(&self) -> u32 {
        self.region_bytes.trailing_zeros() - MIN_SHIFT
    }
}

/// Order of the buddy block holding `bytes` bytes.
pub fn order_for(bytes: usize) -> u32 {
    let b = bytes.max(MIN_BLOCK).next_power_of_two();
    b.trailing_zeros() - MIN_SHIFT
}

/// The key hash: the same in every process (a specified algorithm and the segment's seed).
pub fn key_hash(seed: u64, key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(key, seed)
}

/// The entry checksum over its bytes and where they are.
pub fn checksum(key: &[u8], value: &[u8], slot: &Slot) -> u64 {
    let seed = u64::from(slot.block) ^ (u64::from(slot.key_len) << 32) ^ (u64::from(slot.val_len) << 16) ^ u64::from(slot.flags) ^ slot.deadline.rotate_left(7);
    let h = xxhash_rust::xxh3::xxh3_64_with_seed(key, seed);
    xxhash_rust::xxh3::xxh3_64_with_seed(value, h)
}
