//! Values and byte budgets under every eviction policy.
//!
//! S3-FIFO and W-TinyLFU have no simple model, so with no byte budget a cache holding
//! values is compared with a cache holding none driven by the same operations (same
//! slots, same removals in the same order, same resident keys in the policy's order, same
//! counters; every value served is the last one written for its key). With a byte budget,
//! `verify()` runs after every operation (bytes within the budget among the rest) and the
//! counters still add up. The byte budget's evictions take exactly the policy's victim.

use astra_cache_core::shared::Sharded;
use astra_cache_core::{Delete, Get, Lru, PolicyKind, Reason};
use proptest::prelude::*;
use std::collections::HashMap;

const POLICIES: [PolicyKind; 4] = [PolicyKind::Lru, PolicyKind::S3Fifo, PolicyKind::TinyLfu, PolicyKind::TinyLfuFixed];

type Log = Vec<(u32, Vec<u8>, Vec<u8>, Reason)>;

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
    let len = prop_oneof![8 => 0usize..60, 1 => 60usize..3000];
    prop_oneof![
        8 => key.clone().prop_map(Op::Get),
        1 => key.clone().prop_map(Op::Peek),
        6 => (key.clone(), len, ttl).prop_map(|(k, n, t)| Op::Set(k, n, t)),
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

/// The log without values (the key-only cache reports empty ones).
fn keys_and_reasons(log: &Log) -> Vec<(u32, Vec<u8>, Reason)> {
    log.iter().map(|(s, k, _, r)| (*s, k.clone(), *r)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// No byte budget: values change nothing about the decisions.
    #[test]
    fn values_do_not_change_decisions(
        kind in policy(),
        seed in any::<u32>(),
        capacity in 1u32..9,
        ops in proptest::collection::vec(op(14), 1..700),
    ) {
        let mut valued = Lru::with_policy(capacity, kind, seed);
        let mut keyed = Lru::with_policy(capacity, kind, seed);
        let (mut a_log, mut b_log) = (Log::new(), Log::new());
        let mut written: HashMap<u8, Vec<u8>> = HashMap::new();
        let mut now = 1000.0;
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Get(k) => {
                    let a = valued.get_with(&key_bytes(k), &mut now, &mut a_log);
                    prop_assert_eq!(a, keyed.get_with(&key_bytes(k), &mut now, &mut b_log), "get k{} under {:?}", k, kind);
                    if let Get::Hit(slot) = a {
                        prop_assert_eq!(Some(&valued.value(slot).to_vec()), written.get(&k), "a value not last written for k{}", k);
                    }
                }
                Op::Peek(k) => {
                    let a = valued.peek(&key_bytes(k), &mut now);
                    prop_assert_eq!(a, keyed.peek(&key_bytes(k), &mut now));
                    if let Some(slot) = a {
                        prop_assert_eq!(Some(&valued.value(slot).to_vec()), written.get(&k));
                    }
                }
                Op::Set(k, len, t) => {
                    let v = value_bytes(k, len, n);
                    let a = valued.set_with(&key_bytes(k), &v, t, &mut now, &mut a_log);
                    prop_assert_eq!(a, keyed.set_with(&key_bytes(k), &[], t, &mut now, &mut b_log));
                    written.insert(k, v);
                }
                Op::Delete(k) => {
                    prop_assert_eq!(valued.delete_with(&key_bytes(k), &mut now, &mut a_log), keyed.delete_with(&key_bytes(k), &mut now, &mut b_log));
                }
                Op::Clear => {
                    valued.clear_with(&mut a_log);
                    keyed.clear_with(&mut b_log);
                }
                Op::Advance(ms) => now += ms,
            }
            prop_assert_eq!(keys_and_reasons(&a_log), keys_and_reasons(&b_log));
            prop_assert_eq!(valued.counters(), keyed.counters());
            prop_assert_eq!(valued.keys_mru_to_lru(), keyed.keys_mru_to_lru(), "resident keys under {:?}", kind);
            if let Err(e) = valued.verify() {
                prop_assert!(false, "{:?}: {}", kind, e);
            }
        }
    }

    /// With a byte budget: every invariant after every op; lookups and sets all counted;
    /// a value served is always the last one written for its key.
    #[test]
    fn a_byte_budget_keeps_every_invariant(
        kind in policy(),
        seed in any::<u32>(),
        capacity in 1u32..12,
        max_bytes in 1u64..4000,
        ops in proptest::collection::vec(op(16), 1..700),
    ) {
        let mut c = Lru::with_budget(capacity, max_bytes, kind, seed);
        let mut written: HashMap<u8, Vec<u8>> = HashMap::new();
        let (mut gets, mut sets) = (0u64, 0u64);
        let mut now = 1000.0;
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Get(k) => {
                    gets += 1;
                    if let Get::Hit(slot) = c.get(&key_bytes(k), &mut now) {
                        prop_assert_eq!(Some(&c.value(slot).to_vec()), written.get(&k));
                    }
                }
                Op::Peek(k) => {
                    if let Some(slot) = c.peek(&key_bytes(k), &mut now) {
                        prop_assert_eq!(Some(&c.value(slot).to_vec()), written.get(&k));
                    }
                }
                Op::Set(k, len, t) => {
                    sets += 1;
                    let v = value_bytes(k, len, n);
                    c.set_with(&key_bytes(k), &v, t, &mut now, &mut ());
                    written.insert(k, v);
                }
                Op::Delete(k) => {
                    c.delete(&key_bytes(k), &mut now);
                }
                Op::Clear => c.clear(),
                Op::Advance(ms) => now += ms,
            }
            if let Err(e) = c.verify() {
                prop_assert!(false, "{:?}: {}", kind, e);
            }
            let counters = c.counters();
            prop_assert_eq!(counters.hits + counters.misses, gets);
            prop_assert_eq!(counters.sets, sets);
            prop_assert!(c.bytes() <= max_bytes);
        }
    }

    /// A budget of exactly four equal entries evicts, under LRU, exactly what a capacity of
    /// four evicts; under every policy, every eviction is reported and counted once.
    #[test]
    fn budget_evictions_follow_the_policy(
        kind in policy(),
        seed in any::<u32>(),
        ops in proptest::collection::vec((0u8..16, any::<bool>()), 1..300),
    ) {
        // Equal-sized entries: a budget of exactly 4 entries evicts like a capacity of 4.
        let cost = Lru::with_policy(1, kind, seed).entry_cost(2, 8, false);
        let mut by_bytes = Lru::with_budget(1000, 4 * cost, kind, seed);
        let mut by_count = Lru::with_policy(4, kind, seed);
        let (mut a, mut b) = (Log::new(), Log::new());
        for &(k, is_get) in &ops {
            let now = &mut 0.0;
            if is_get {
                by_bytes.get(&key_bytes(k), now);
                by_count.get(&key_bytes(k), now);
            } else {
                by_bytes.set_with(&key_bytes(k), &[7; 8], 0.0, now, &mut a);
                by_count.set_with(&key_bytes(k), &[7; 8], 0.0, now, &mut b);
            }
        }
        let evicted = |log: &Log| log.iter().filter(|e| e.3 == Reason::Evict).map(|e| e.1.clone()).collect::<Vec<_>>();
        if kind == PolicyKind::Lru {
            prop_assert_eq!(evicted(&a), evicted(&b));
            prop_assert_eq!(by_bytes.keys_mru_to_lru(), by_count.keys_mru_to_lru());
        }
        prop_assert_eq!(by_bytes.counters().evictions as usize, evicted(&a).len());
        prop_assert!(by_bytes.len() <= 4);
    }
}

#[test]
fn a_byte_budget_is_enforced_under_every_policy() {
    for kind in POLICIES {
        let per = Lru::with_policy(1, kind, 0).entry_cost(4, 10, false);
        let mut s = Lru::with_budget(1000, 10 * per, kind, 7);
        let t = &mut 0.0;
        for i in 0u32..500 {
            let k = (i * 7919 % 60).to_le_bytes();
            s.get(&k, t);
            s.set_with(&k, &[1; 10], 0.0, t, &mut ());
            assert!(s.bytes() <= 10 * per, "{kind:?}: {} bytes", s.bytes());
            s.verify().unwrap();
        }
        let c = s.counters();
        assert!(c.evictions > 0, "{kind:?}: the budget evicted");
        assert!(s.len() <= 10, "{kind:?}");
        assert_eq!(c.sets, 500);
        assert!(matches!(s.delete(&0u32.to_le_bytes(), t), Delete::Removed(_) | Delete::Absent));
    }
}

#[test]
fn sharded_store_runs_the_policy_in_every_shard() {
    for kind in POLICIES {
        let s = Sharded::with_policy(64, 16 * 40 * 4, 4, kind, 3);
        assert_eq!(s.policy(), kind);
        let t = &mut 0.0;
        for i in 0u32..2000 {
            let k = (i * 31 % 200).to_le_bytes();
            s.get_with(&k, t, &mut (), |_| ());
            s.set(&k, &[2; 9], 0.0, t, &mut ());
        }
        s.verify().unwrap();
        let totals = s.totals();
        assert!(totals.counters.evictions > 0, "{kind:?}");
        assert_eq!(totals.counters.sets, 2000);
        assert_eq!(totals.counters.hits + totals.counters.misses, 2000);
    }
}
