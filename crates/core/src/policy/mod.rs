//! Eviction policies beside LRU: which entry leaves when the cache is full, and what a hit
//! does to the order. LRU is the built-in list of `Lru` itself (no state here, one branch
//! on the hot path); S3-FIFO and W-TinyLFU keep their queues through the same slab links
//! and their per-slot metadata in side vectors, so `Entry` is the same size for everyone.
//!
//! Both engines (this crate and src/memory/policies/*.ts) take identical decisions for the
//! same sequence of operations: the key hash ([`hash::key_hash`]) and every
//! floating-point size computation are specified so that both compute the same bits.

mod engine;
mod ghost;
pub mod hash;
mod list;
mod s3fifo;
mod sketch;
mod tinylfu;

pub(crate) use s3fifo::S3Fifo;
pub(crate) use tinylfu::TinyLfu;

/// The eviction policy of an [`crate::Lru`] (the name stays: LRU is the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    Lru,
    S3Fifo,
    /// W-TinyLFU with Caffeine's adaptive window.
    TinyLfu,
    /// W-TinyLFU with the fixed 1 % window of the reference simulator (tests, benchmarks).
    TinyLfuFixed,
}

impl PolicyKind {
    /// The binding's numeric code: 0 lru, 1 s3fifo, 2 tinylfu, 3 tinylfu with a fixed window.
    pub fn from_code(code: u32) -> Option<PolicyKind> {
        Some(match code {
            0 => PolicyKind::Lru,
            1 => PolicyKind::S3Fifo,
            2 => PolicyKind::TinyLfu,
            3 => PolicyKind::TinyLfuFixed,
            _ => return None,
        })
    }
}

pub(crate) enum Policy {
    Lru,
    S3(Box<S3Fifo>),
    Tiny(Box<TinyLfu>),
}

impl Policy {
    pub fn new(kind: PolicyKind, capacity: u32, seed: u32) -> Policy {
        match kind {
            PolicyKind::Lru => Policy::Lru,
            PolicyKind::S3Fifo => Policy::S3(Box::new(S3Fifo::new(capacity, seed))),
            PolicyKind::TinyLfu => Policy::Tiny(Box::new(TinyLfu::new(capacity, seed, true))),
            PolicyKind::TinyLfuFixed => Policy::Tiny(Box::new(TinyLfu::new(capacity, seed, false))),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            Policy::Lru => 0,
            Policy::S3(p) => p.heap_bytes(),
            Policy::Tiny(p) => p.heap_bytes(),
        }
    }
}

#[cfg(test)]
mod tests;
