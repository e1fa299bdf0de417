//! The sharded store from several std threads at once: counters add up exactly, and the
//! invariants (bytes == sum of stored value sizes, size <= capacity, bytes <= max_bytes)
//! hold while threads run and after.

use astra_cache_core::shared::Sharded;
use astra_cache_core::{Get, Lru, PolicyKind};
use proptest::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

#[derive(Clone, Copy, Debug)]
enum Op {
    Get(u16),
    Peek(u16),
    Set(u16, u8, u8),
    Delete(u16),
}

fn op(keys: u16) -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..keys).prop_map(Op::Get),
        1 => (0..keys).prop_map(Op::Peek),
        4 => (0..keys, 0u8..64, 0u8..3).prop_map(|(k, n, t)| Op::Set(k, n, t)),
        1 => (0..keys).prop_map(Op::Delete),
    ]
}

#[derive(Default, Debug, PartialEq)]
struct Issued {
    gets: u64,
    sets: u64,
}

fn run(store: &Sharded, ops: &[Op], clock: &dyn Fn() -> f64) -> Issued {
    let mut issued = Issued::default();
    for op in ops {
        let mut now = clock();
        match *op {
            Op::Get(k) => {
                issued.gets += 1;
                store.get_with(&k.to_le_bytes(), &mut now, &mut (), |v| {
                    if let Some(v) = v {
                        // A value is always the one written for its key: its first byte.
                        assert!(v.is_empty() || v[0] == k as u8, "value of another key");
                    }
                });
            }
            Op::Peek(k) => store.peek_with(&k.to_le_bytes(), &mut now, |_| ()),
            Op::Set(k, n, t) => {
                issued.sets += 1;
                let v: Vec<u8> = std::iter::repeat_n(k as u8, n as usize).collect();
                let ttl = [0.0, 0.5, 5.0][t as usize];
                store.set(&k.to_le_bytes(), &v, ttl, &mut now, &mut ());
            }
            Op::Delete(k) => {
                store.delete(&k.to_le_bytes(), &mut now, &mut ());
            }
        }
    }
    issued
}

/// Runs each op list on its own thread against one store, checking invariants meanwhile.
fn hammer(store: Arc<Sharded>, lists: Vec<Vec<Op>>) -> Issued {
    let start = std::time::Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let checker = {
        let (store, done) = (store.clone(), done.clone());
        thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                store.verify().unwrap();
                thread::yield_now();
            }
        })
    };
    let workers: Vec<_> = lists
        .into_iter()
        .map(|ops| {
            let store = store.clone();
            thread::spawn(move || run(&store, &ops, &|| start.elapsed().as_secs_f64() * 1000.0))
        })
        .collect();
    let mut total = Issued::default();
    for w in workers {
        let i = w.join().expect("worker panicked");
        total.gets += i.gets;
        total.sets += i.sets;
    }
    done.store(true, Ordering::Relaxed);
    checker.join().expect("invariant broken while threads ran");
    total
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn counters_add_up_across_threads(
        kind in proptest::sample::select(vec![PolicyKind::Lru, PolicyKind::S3Fifo, PolicyKind::TinyLfu]),
        capacity in 1u32..200,
        shards in 1u32..9,
        max_bytes in prop_oneof![Just(0u64), 1u64..2000],
        lists in proptest::collection::vec(proptest::collection::vec(op(64), 0..3000), 1..5),
    ) {
        let store = Arc::new(Sharded::with_policy(capacity, max_bytes, shards, kind, 9));
        let issued = hammer(store.clone(), lists);
        let t = store.totals();
        prop_assert_eq!(t.counters.hits + t.counters.misses, issued.gets);
        prop_assert_eq!(t.counters.sets, issued.sets);
        prop_assert!(t.len <= capacity as u64);
        if let Err(e) = store.verify() {
            prop_assert!(false, "{}", e);
        }
    }

    /// One shard is exactly the single-threaded cache (same ops, same results), under
    /// every policy.
    #[test]
    fn one_shard_is_the_single_cache(
        kind in proptest::sample::select(vec![PolicyKind::Lru, PolicyKind::S3Fifo, PolicyKind::TinyLfu]),
        seed in any::<u32>(),
        capacity in 1u32..8,
        ops in proptest::collection::vec(op(12), 0..500),
    ) {
        let sharded = Sharded::with_policy(capacity, 0, 1, kind, seed);
        let mut single = Lru::with_policy(capacity, kind, seed);
        let mut now = 0.0;
        for op in ops {
            now += 0.25;
            match op {
                Op::Get(k) => {
                    let a = sharded.get_with(&k.to_le_bytes(), &mut now.clone(), &mut (), |v| v.map(<[u8]>::to_vec));
                    let b = match single.get(&k.to_le_bytes(), &mut now.clone()) {
                        Get::Hit(slot) => Some(single.value(slot).to_vec()),
                        _ => None,
                    };
                    prop_assert_eq!(a, b);
                }
                Op::Peek(_) => {}
                Op::Set(k, n, t) => {
                    let v = vec![k as u8; n as usize];
                    let ttl = [0.0, 0.5, 5.0][t as usize];
                    sharded.set(&k.to_le_bytes(), &v, ttl, &mut now.clone(), &mut ());
                    single.set_with(&k.to_le_bytes(), &v, ttl, &mut now.clone(), &mut ());
                }
                Op::Delete(k) => prop_assert_eq!(
                    sharded.delete(&k.to_le_bytes(), &mut now.clone(), &mut ()),
                    matches!(single.delete(&k.to_le_bytes(), &mut now.clone()), astra_cache_core::Delete::Removed(_))
                ),
            }
            let t = sharded.totals();
            prop_assert_eq!(t.counters, single.counters());
            prop_assert_eq!((t.len, t.bytes), (single.len() as u64, single.bytes()));
            prop_assert_eq!(sharded.keys(), single.keys_mru_to_lru());
        }
    }
}

#[test]
fn capacity_and_bytes_are_split_without_exceeding_the_totals() {
    let budget = 10 * Lru::new(1).entry_cost(4, 7, false);
    let s = Sharded::new(10, budget, 4);
    assert_eq!(s.shard_count(), 4);
    for k in 0u32..1000 {
        s.set(&k.to_le_bytes(), &[0; 7], 0.0, &mut 0.0, &mut ());
    }
    let t = s.totals();
    assert!(t.len <= 10 && t.bytes <= budget, "{t:?}");
    s.verify().unwrap();
    // More shards than entries: clamped so every shard holds one.
    assert_eq!(Sharded::new(3, 0, 16).shard_count(), 3);
}

#[test]
fn a_poisoned_shard_is_emptied_and_reused() {
    let s = Sharded::new(16, 0, 1);
    s.set(b"a", &[1], 0.0, &mut 0.0, &mut ());
    s.get_with(b"a", &mut 0.0, &mut (), |v| assert!(v.is_some()));
    s.poison_for_test(b"a");
    // The next lock recovers: entries dropped, counters kept, the store usable.
    s.get_with(b"a", &mut 0.0, &mut (), |v| assert!(v.is_none()));
    s.set(b"b", &[2], 0.0, &mut 0.0, &mut ());
    let t = s.totals();
    assert_eq!((t.counters.hits, t.counters.misses, t.counters.sets, t.len), (1, 1, 2, 1));
    s.verify().unwrap();
}
