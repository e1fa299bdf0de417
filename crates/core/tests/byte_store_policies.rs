//! The byte store under every eviction policy.
//!
//! S3-FIFO and W-TinyLFU have no simple model, so with no byte budget the store is
//! compared with the plain `Lru::with_policy` core driven by the same operations (same
//! resident keys in the same policy order, same counters, and every value served is the
//! last one written for its key). With a byte budget, the byte invariants are checked after
//! every operation (bytes == sum of stored sizes, size <= capacity, bytes <= max_bytes),
//! and the counters still add up. `evict_one` (the byte budget's eviction) removes exactly
//! the entry the policy names, counted as an eviction, or an expiration if it had expired.

use astra_cache_core::bytes::ByteStore;
use astra_cache_core::shared::Sharded;
use astra_cache_core::{Get, Lru, PolicyKind};
use proptest::prelude::*;
use std::collections::HashMap;

const POLICIES: [PolicyKind; 4] = [PolicyKind::Lru, PolicyKind::S3Fifo, PolicyKind::TinyLfu, PolicyKind::TinyLfuFixed];

#[derive(Clone, Debug)]
enum Op {
    Get(u8),
    Peek(u8),
    Set(u8, usize, f64),
    Delete(u8),
    Clear,
    Advance(f64),
}

fn op(keys: u8) -> impl Strategy<Value = Op> {
    let key = 0u8..keys;
    let ttl = prop_oneof![4 => Just(0.0), 1 => Just(1.0), 1 => Just(20.0), 1 => 0.5f64..50.0];
    prop_oneof![
        8 => key.clone().prop_map(Op::Get),
        1 => key.clone().prop_map(Op::Peek),
        6 => (key.clone(), 0usize..40, ttl).prop_map(|(k, n, t)| Op::Set(k, n, t)),
        1 => key.prop_map(Op::Delete),
        1 => Just(Op::Clear),
        2 => prop_oneof![Just(0.0), 0.0f64..30.0].prop_map(Op::Advance),
    ]
}

fn key_bytes(k: u8) -> Vec<u8> {
    vec![b'k', k]
}

/// A value of `n` bytes that differs per key and per write.
fn value_bytes(k: u8, n: usize, write: usize) -> Vec<u8> {
    (0..n).map(|i| (i + k as usize * 7 + write) as u8).collect()
}

fn policy() -> impl Strategy<Value = PolicyKind> {
    proptest::sample::select(POLICIES.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// No byte budget: the store decides exactly as the core with the same policy and seed.
    #[test]
    fn unlimited_store_decides_as_the_core(
        kind in policy(),
        seed in any::<u32>(),
        capacity in 1u32..9,
        ops in proptest::collection::vec(op(14), 1..700),
    ) {
        let mut store = ByteStore::with_policy(capacity, 0, kind, seed);
        let mut core = Lru::with_policy(capacity, kind, seed);
        let mut written: HashMap<u8, Vec<u8>> = HashMap::new();
        let mut now = 1000.0;
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Get(k) => {
                    let got = store.get(&key_bytes(k), &mut now).map(<[u8]>::to_vec);
                    let hit = matches!(core.get(&key_bytes(k), &mut now), Get::Hit(_));
                    prop_assert_eq!(got.is_some(), hit, "get k{} under {:?}", k, kind);
                    if let Some(v) = got {
                        prop_assert_eq!(Some(&v), written.get(&k), "a value not last written for k{}", k);
                    }
                }
                Op::Peek(k) => {
                    let got = store.peek(&key_bytes(k), &mut now).map(<[u8]>::to_vec);
                    prop_assert_eq!(got.is_some(), core.peek(&key_bytes(k), &mut now).is_some());
                    if let Some(v) = got {
                        prop_assert_eq!(Some(&v), written.get(&k));
                    }
                }
                Op::Set(k, len, t) => {
                    let v = value_bytes(k, len, n);
                    store.set(&key_bytes(k), v.clone().into_boxed_slice(), t, &mut now);
                    core.set(&key_bytes(k), t, &mut now);
                    written.insert(k, v);
                }
                Op::Delete(k) => {
                    let removed = store.delete(&key_bytes(k), &mut now);
                    prop_assert_eq!(removed, matches!(core.delete(&key_bytes(k), &mut now), astra_cache_core::Delete::Removed(_)));
                }
                Op::Clear => {
                    store.clear();
                    core.clear();
                }
                Op::Advance(ms) => now += ms,
            }
            prop_assert_eq!(store.counters(), core.counters());
            prop_assert_eq!(store.len(), core.len());
            prop_assert_eq!(store.lru().keys_mru_to_lru(), core.keys_mru_to_lru(), "resident keys under {:?}", kind);
            if let Err(e) = store.check_invariants() {
                prop_assert!(false, "{}", e);
            }
        }
    }

    /// With a byte budget: byte invariants after every op; lookups and sets all counted;
    /// a value served is always the last one written for its key.
    #[test]
    fn budgeted_store_keeps_its_invariants(
        kind in policy(),
        seed in any::<u32>(),
        capacity in 1u32..12,
        max_bytes in 1u64..150,
        ops in proptest::collection::vec(op(16), 1..700),
    ) {
        let mut store = ByteStore::with_policy(capacity, max_bytes, kind, seed);
        let mut written: HashMap<u8, Vec<u8>> = HashMap::new();
        let (mut gets, mut sets) = (0u64, 0u64);
        let mut now = 1000.0;
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Get(k) => {
                    gets += 1;
                    if let Some(v) = store.get(&key_bytes(k), &mut now) {
                        prop_assert_eq!(Some(&v.to_vec()), written.get(&k));
                    }
                }
                Op::Peek(k) => {
                    if let Some(v) = store.peek(&key_bytes(k), &mut now) {
                        prop_assert_eq!(Some(&v.to_vec()), written.get(&k));
                    }
                }
                Op::Set(k, len, t) => {
                    sets += 1;
                    let v = value_bytes(k, len, n);
                    store.set(&key_bytes(k), v.clone().into_boxed_slice(), t, &mut now);
                    written.insert(k, v);
                }
                Op::Delete(k) => {
                    store.delete(&key_bytes(k), &mut now);
                }
                Op::Clear => store.clear(),
                Op::Advance(ms) => now += ms,
            }
            if let Err(e) = store.check_invariants() {
                prop_assert!(false, "{:?}: {}", kind, e);
            }
            let c = store.counters();
            prop_assert_eq!(c.hits + c.misses, gets);
            prop_assert_eq!(c.sets, sets);
            prop_assert!(store.bytes() <= max_bytes);
        }
    }

    /// `evict_one` removes the policy's next victim, and counts it by whether it expired.
    #[test]
    fn evict_one_takes_the_policys_victim(
        kind in policy(),
        seed in any::<u32>(),
        capacity in 1u32..10,
        ops in proptest::collection::vec((0u8..16, any::<bool>(), 0u8..3), 1..200),
        at in 0.0f64..40.0,
    ) {
        // Two cores driven identically: one names its victim, the other evicts.
        let mut a = Lru::with_policy(capacity, kind, seed);
        let mut b = Lru::with_policy(capacity, kind, seed);
        for (i, &(k, is_get, t)) in ops.iter().enumerate() {
            let now = &mut (i as f64);
            let ttl = [0.0, 5.0, 30.0][t as usize];
            if is_get {
                a.get(&key_bytes(k), now);
                b.get(&key_bytes(k), now);
            } else {
                a.set(&key_bytes(k), ttl, now);
                b.set(&key_bytes(k), ttl, now);
            }
        }
        let now = &mut (ops.len() as f64 + at);
        let Some(victim) = a.next_victim() else {
            prop_assert!(a.is_empty());
            prop_assert_eq!(b.evict_one(now), None);
            return Ok(());
        };
        let expired = a.peek(a.key_at(victim).unwrap(), now).is_none();
        let before = b.counters();
        let e = b.evict_one(now).expect("not empty");
        prop_assert_eq!(e.slot, victim);
        prop_assert_eq!(e.expired, expired);
        prop_assert!(!b.is_occupied(victim));
        let after = b.counters();
        prop_assert_eq!(after.evictions, before.evictions + u64::from(!expired));
        prop_assert_eq!(after.expirations, before.expirations + u64::from(expired));
        prop_assert_eq!(b.len(), a.len() - 1);
    }
}

#[test]
fn max_bytes_is_enforced_under_every_policy() {
    for kind in POLICIES {
        let mut s = ByteStore::with_policy(1000, 100, kind, 7);
        let t = &mut 0.0;
        for i in 0u32..500 {
            let k = (i * 7919 % 60).to_le_bytes();
            s.get(&k, t);
            s.set(&k, vec![1; 10].into(), 0.0, t);
            assert!(s.bytes() <= 100, "{kind:?}: {} bytes", s.bytes());
            s.check_invariants().unwrap();
        }
        let c = s.counters();
        assert!(c.evictions > 0, "{kind:?}: the budget evicted");
        assert!(s.len() <= 10, "{kind:?}");
        assert_eq!(c.sets, 500);
    }
}

#[test]
fn sharded_store_runs_the_policy_in_every_shard() {
    for kind in POLICIES {
        let s = Sharded::with_policy(64, 400, 4, kind, 3);
        assert_eq!(s.policy(), kind);
        let t = &mut 0.0;
        for i in 0u32..2000 {
            let k = (i * 31 % 200).to_le_bytes();
            s.get_with(&k, t, |_| ());
            s.set(&k, vec![2; 9].into(), 0.0, t);
        }
        s.check_invariants().unwrap();
        let totals = s.totals();
        assert!(totals.counters.evictions > 0, "{kind:?}");
        assert_eq!(totals.counters.sets, 2000);
        assert_eq!(totals.counters.hits + totals.counters.misses, 2000);
    }
}
