//! The byte store against an obviously correct model (O(n) everything), including the
//! `max_bytes` budget: values, byte totals, counters and LRU order after every operation.

use astra_cache_core::bytes::ByteStore;
use astra_cache_core::Counters;
use proptest::prelude::*;

#[derive(Default)]
struct Model {
    capacity: usize,
    max_bytes: u64,
    /// (key, value, slot, deadline), most recently used first.
    order: Vec<(Vec<u8>, Vec<u8>, u32, f64)>,
    occupied: Vec<bool>,
    free: Vec<u32>,
    cursor: usize,
    counters: Counters,
}

fn expired(deadline: f64, now: f64) -> bool {
    deadline != 0.0 && now >= deadline
}

impl Model {
    fn bytes(&self) -> u64 {
        self.order.iter().map(|e| e.1.len() as u64).sum()
    }
    fn pos(&self, key: &[u8]) -> Option<usize> {
        self.order.iter().position(|e| e.0 == key)
    }
    fn remove_at(&mut self, i: usize) {
        let e = self.order.remove(i);
        self.occupied[e.2 as usize] = false;
        self.free.push(e.2);
    }
    fn evict_tail(&mut self, now: f64) {
        let last = self.order.len() - 1;
        if expired(self.order[last].3, now) {
            self.counters.expirations += 1;
        } else {
            self.counters.evictions += 1;
        }
        self.remove_at(last);
    }
    fn get(&mut self, key: &[u8], now: f64) -> Option<Vec<u8>> {
        match self.pos(key) {
            None => {
                self.counters.misses += 1;
                None
            }
            Some(i) if expired(self.order[i].3, now) => {
                self.remove_at(i);
                self.counters.expirations += 1;
                self.counters.misses += 1;
                None
            }
            Some(i) => {
                self.counters.hits += 1;
                let e = self.order.remove(i);
                let v = e.1.clone();
                self.order.insert(0, e);
                Some(v)
            }
        }
    }
    fn peek(&self, key: &[u8], now: f64) -> Option<Vec<u8>> {
        let i = self.pos(key)?;
        (!expired(self.order[i].3, now)).then(|| self.order[i].1.clone())
    }
    fn set(&mut self, key: &[u8], value: &[u8], ttl: f64, now: f64) {
        self.counters.sets += 1;
        if self.max_bytes != 0 && value.len() as u64 > self.max_bytes {
            // Too large for the whole budget: inserted and evicted at once.
            self.counters.evictions += 1;
            if let Some(i) = self.pos(key) {
                self.remove_at(i);
            }
            return;
        }
        let high_water = self.occupied.len();
        if high_water > 0 {
            for _ in 0..2 {
                if self.cursor >= high_water {
                    self.cursor = 0;
                }
                let slot = self.cursor as u32;
                self.cursor += 1;
                if let Some(i) = self.order.iter().position(|e| e.2 == slot) {
                    if expired(self.order[i].3, now) {
                        self.remove_at(i);
                        self.counters.expirations += 1;
                    }
                }
            }
        }
        let deadline = if ttl == 0.0 { 0.0 } else { now + ttl };
        if let Some(i) = self.pos(key) {
            let mut e = self.order.remove(i);
            e.1 = value.to_vec();
            e.3 = deadline;
            self.order.insert(0, e);
        } else {
            if self.order.len() == self.capacity {
                self.evict_tail(now);
            }
            let slot = match self.free.pop() {
                Some(s) => s,
                None => {
                    self.occupied.push(false);
                    (self.occupied.len() - 1) as u32
                }
            };
            self.occupied[slot as usize] = true;
            self.order.insert(0, (key.to_vec(), value.to_vec(), slot, deadline));
        }
        while self.max_bytes != 0 && self.bytes() > self.max_bytes {
            self.evict_tail(now);
        }
    }
    fn delete(&mut self, key: &[u8], now: f64) -> bool {
        let Some(i) = self.pos(key) else { return false };
        let was_expired = expired(self.order[i].3, now);
        self.remove_at(i);
        if was_expired {
            self.counters.expirations += 1;
        }
        !was_expired
    }
    fn clear(&mut self) {
        self.order.clear();
        self.occupied.clear();
        self.free.clear();
        self.cursor = 0;
    }
}

#[derive(Clone, Debug)]
enum Op {
    Get(u8),
    Peek(u8),
    Set(u8, usize, f64),
    Delete(u8),
    Clear,
    Advance(f64),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..10;
    let ttl = prop_oneof![Just(0.0), Just(1.0), Just(20.0), 0.5f64..50.0];
    prop_oneof![
        6 => key.clone().prop_map(Op::Get),
        2 => key.clone().prop_map(Op::Peek),
        6 => (key.clone(), 0usize..40, ttl).prop_map(|(k, n, t)| Op::Set(k, n, t)),
        2 => key.prop_map(Op::Delete),
        1 => Just(Op::Clear),
        3 => prop_oneof![Just(0.0), 0.0f64..30.0].prop_map(Op::Advance),
    ]
}

fn key_bytes(k: u8) -> Vec<u8> {
    vec![b'k', k]
}

/// A value of `n` bytes that differs per key and per write.
fn value_bytes(k: u8, n: usize, write: usize) -> Vec<u8> {
    (0..n).map(|i| (i + k as usize * 7 + write) as u8).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn byte_store_agrees_with_model(
        capacity in 1u32..7,
        max_bytes in prop_oneof![Just(0u64), 1u64..120],
        ops in proptest::collection::vec(op(), 1..600),
    ) {
        let mut store = ByteStore::new(capacity, max_bytes);
        let mut model = Model { capacity: capacity as usize, max_bytes, ..Model::default() };
        let mut now = 1000.0;
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Get(k) => prop_assert_eq!(store.get(&key_bytes(k), &mut now).map(<[u8]>::to_vec), model.get(&key_bytes(k), now)),
                Op::Peek(k) => prop_assert_eq!(store.peek(&key_bytes(k), &mut now).map(<[u8]>::to_vec), model.peek(&key_bytes(k), now)),
                Op::Set(k, len, t) => {
                    let v = value_bytes(k, len, n);
                    store.set(&key_bytes(k), v.clone().into_boxed_slice(), t, &mut now);
                    model.set(&key_bytes(k), &v, t, now);
                }
                Op::Delete(k) => prop_assert_eq!(store.delete(&key_bytes(k), &mut now), model.delete(&key_bytes(k), now)),
                Op::Clear => { store.clear(); model.clear(); }
                Op::Advance(ms) => now += ms,
            }
            prop_assert_eq!(store.counters(), model.counters);
            prop_assert_eq!(store.len() as usize, model.order.len());
            prop_assert_eq!(store.bytes(), model.bytes());
            let order: Vec<Vec<u8>> = model.order.iter().map(|e| e.0.clone()).collect();
            prop_assert_eq!(store.lru().keys_mru_to_lru(), order);
            if let Err(e) = store.check_invariants() {
                prop_assert!(false, "{}", e);
            }
        }
    }
}

#[test]
fn max_bytes_evicts_lru_first_and_counts_evictions() {
    let mut s = ByteStore::new(100, 10);
    let t = &mut 0.0;
    s.set(b"a", vec![1; 4].into(), 0.0, t);
    s.set(b"b", vec![2; 4].into(), 0.0, t);
    assert!(s.get(b"a", t).is_some()); // b is now the LRU
    s.set(b"c", vec![3; 4].into(), 0.0, t); // 12 bytes > 10: b goes
    assert_eq!(s.bytes(), 8);
    assert!(s.peek(b"b", t).is_none());
    assert_eq!(s.counters().evictions, 1);
    // Replacing a value adjusts the byte count both ways.
    s.set(b"a", vec![1; 1].into(), 0.0, t);
    assert_eq!(s.bytes(), 5);
}

#[test]
fn oversized_value_is_not_stored_and_does_not_flush_the_cache() {
    let mut s = ByteStore::new(100, 10);
    let t = &mut 0.0;
    s.set(b"a", vec![1; 4].into(), 0.0, t);
    s.set(b"big", vec![1; 4].into(), 0.0, t);
    s.set(b"big", vec![9; 11].into(), 0.0, t);
    assert!(s.peek(b"big", t).is_none(), "the old value is gone too");
    assert_eq!(s.peek(b"a", t), Some(&[1u8, 1, 1, 1][..]));
    assert_eq!((s.bytes(), s.counters().evictions, s.counters().sets), (4, 1, 3));
    s.check_invariants().unwrap();
}
