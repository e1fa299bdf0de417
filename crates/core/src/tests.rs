use super::*;
use proptest::prelude::*;

fn keys(lru: &Lru) -> Vec<String> {
    lru.keys_mru_to_lru()
        .into_iter()
        .map(|k| String::from_utf8(k).unwrap())
        .collect()
}

#[test]
fn hit_miss_and_lru_order() {
    let mut c = Lru::new(3);
    let t = &mut 0.0;
    assert_eq!(c.get(b"a", t), Get::Miss);
    let a = c.set(b"a", 0.0, t).slot;
    let b = c.set(b"b", 0.0, t).slot;
    c.set(b"c", 0.0, t);
    assert_eq!((a, b), (0, 1));
    assert_eq!(c.get(b"a", t), Get::Hit(0));
    assert_eq!(keys(&c), ["a", "c", "b"]);
    // b is the LRU tail: evicted, and its slot reused by d.
    assert_eq!(c.set(b"d", 0.0, t).slot, 1);
    assert_eq!(keys(&c), ["d", "a", "c"]);
    assert_eq!(c.get(b"b", t), Get::Miss);
    let n = c.counters();
    assert_eq!(
        (n.hits, n.misses, n.evictions, n.expirations, n.sets),
        (1, 2, 1, 0, 4)
    );
}

#[test]
fn peek_does_not_count_or_reorder() {
    let mut c = Lru::new(2);
    let t = &mut 0.0;
    c.set(b"a", 0.0, t);
    c.set(b"b", 0.0, t);
    assert_eq!(c.peek(b"a", t), Some(0));
    assert_eq!(keys(&c), ["b", "a"]);
    assert_eq!(c.counters().hits, 0);
}

#[test]
fn ttl_expires_at_deadline_exactly() {
    let mut c = Lru::new(4);
    c.set(b"a", 100.0, &mut 1000.0);
    assert_eq!(c.get(b"a", &mut 1099.999), Get::Hit(0));
    assert_eq!(c.peek(b"a", &mut 1100.0), None);
    assert_eq!(c.len(), 1, "peek leaves an expired entry in place");
    assert_eq!(c.get(b"a", &mut 1100.0), Get::Expired(0));
    assert_eq!(c.len(), 0);
    let n = c.counters();
    assert_eq!((n.hits, n.misses, n.expirations), (1, 1, 1));
}

#[test]
fn zero_ttl_never_expires_and_clock_is_not_read() {
    let mut c = Lru::new(2);
    let mut reads = 0;
    let mut clock = LazyNow::new(|| {
        reads += 1;
        1.0
    });
    c.set(b"a", 0.0, &mut clock);
    assert_eq!(c.get(b"a", &mut { f64::MAX }), Get::Hit(0));
    assert_eq!(c.get(b"a", &mut { f64::INFINITY }), Get::Hit(0));
    let mut clock2 = LazyNow::new(|| {
        reads += 1;
        1.0
    });
    c.get(b"a", &mut clock2);
    assert_eq!(reads, 0);
}

#[test]
fn delete_reports_live_and_expired() {
    let mut c = Lru::new(4);
    c.set(b"a", 0.0, &mut 0.0);
    c.set(b"b", 10.0, &mut 0.0);
    assert_eq!(c.delete(b"a", &mut 5.0), Delete::Removed(0));
    assert_eq!(c.delete(b"a", &mut 5.0), Delete::Absent);
    assert_eq!(c.delete(b"b", &mut 10.0), Delete::Expired(1));
    assert_eq!(c.counters().expirations, 1);
    // LIFO free list: the most recently freed slot (1) is reused first.
    assert_eq!(c.set(b"c", 0.0, &mut 10.0).slot, 1);
    assert_eq!(c.set(b"d", 0.0, &mut 10.0).slot, 0);
    assert_eq!(c.set(b"e", 0.0, &mut 10.0).slot, 2);
}

#[test]
fn expired_tail_is_counted_as_expiration_not_eviction() {
    let mut c = Lru::new(2);
    c.set(b"a", 5.0, &mut 0.0);
    c.set(b"b", 0.0, &mut 0.0);
    c.set(b"c", 0.0, &mut 0.0); // sweep saw a (live): a is evicted
    assert_eq!(c.counters().evictions, 1);
    let mut c = Lru::new(2);
    c.set(b"a", 0.0, &mut 0.0);
    c.set(b"b", 5.0, &mut 0.0);
    c.get(b"a", &mut 0.0); // b is now the tail
                           // set(b) examined slot 0 twice (high water 1), leaving the cursor at 1: this set's
                           // sweep examines slot 1 (b, expired: reclaimed) then wraps to slot 0 (a, live), so
                           // there is room and no eviction happens.
    let out = c.set(b"c", 0.0, &mut 6.0);
    assert_eq!(out.swept, [Some(1), None]);
    assert_eq!(out.slot, 1);
    assert_eq!((c.counters().evictions, c.counters().expirations), (0, 1));
}

#[test]
fn set_replaces_expired_entry_in_place() {
    let mut c = Lru::new(1);
    c.set(b"a", 5.0, &mut 0.0);
    // The sweep reclaims slot 0 first (a expired), then a is inserted anew into slot 0.
    let out = c.set(b"a", 0.0, &mut 9.0);
    assert_eq!(out.swept, [Some(0), None]);
    assert_eq!(c.counters().expirations, 1);
    assert_eq!(c.get(b"a", &mut 1e9), Get::Hit(0));
}

#[test]
fn clear_keeps_counters_and_resets_slots() {
    let mut c = Lru::new(3);
    c.set(b"a", 0.0, &mut 0.0);
    c.set(b"b", 0.0, &mut 0.0);
    c.get(b"a", &mut 0.0);
    c.clear();
    assert!(c.is_empty());
    assert_eq!(c.get(b"a", &mut 0.0), Get::Miss);
    assert_eq!(c.set(b"z", 0.0, &mut 0.0).slot, 0);
    assert_eq!(c.counters().sets, 3);
    assert_eq!(c.counters().hits, 1);
}

#[test]
fn capacity_is_clamped() {
    assert_eq!(Lru::new(0).capacity(), 1);
    assert_eq!(Lru::new(u32::MAX).capacity(), MAX_CAPACITY);
}

#[test]
fn entry_stays_small() {
    // docs/native.md quotes this size: keep it honest.
    assert_eq!(std::mem::size_of::<Entry>(), 48);
}

#[test]
fn long_keys_live_on_the_heap_and_are_freed() {
    let mut c = Lru::new(2);
    let long = vec![7u8; 100];
    c.set(&long, 0.0, &mut 0.0);
    c.set(b"short", 0.0, &mut 0.0);
    assert!(c.heap_bytes() >= 100);
    assert_eq!(c.get(&long, &mut 0.0), Get::Hit(0));
    c.delete(&long, &mut 0.0);
    assert_eq!(c.key_at(0), None);
    assert_eq!(c.set(&long[..50], 0.0, &mut 0.0).slot, 0);
    assert_eq!(c.peek(&long[..50], &mut 0.0), Some(0));
    assert_eq!(c.peek(&long, &mut 0.0), None);
}

#[test]
fn binary_and_empty_keys() {
    let mut c = Lru::new(4);
    c.set(b"", 0.0, &mut 0.0);
    c.set(&[0, 255, 0], 0.0, &mut 0.0);
    assert_eq!(c.get(b"", &mut 0.0), Get::Hit(0));
    assert_eq!(c.get(&[0, 255, 0], &mut 0.0), Get::Hit(1));
    assert_eq!(c.get(&[0, 255], &mut 0.0), Get::Miss);
}

// ---- the model: obviously correct, O(n) everything ----

#[derive(Default)]
struct Model {
    capacity: usize,
    /// (key, slot, deadline), most recently used first.
    order: Vec<(Vec<u8>, u32, f64)>,
    /// Occupied flag per slot ever used; its length is the high-water mark.
    occupied: Vec<bool>,
    free: Vec<u32>,
    cursor: usize,
    counters: Counters,
}

fn expired(deadline: f64, now: f64) -> bool {
    deadline != 0.0 && now >= deadline
}

impl Model {
    fn pos(&self, key: &[u8]) -> Option<usize> {
        self.order.iter().position(|(k, _, _)| k == key)
    }
    fn remove_at(&mut self, i: usize) -> u32 {
        let (_, slot, _) = self.order.remove(i);
        self.occupied[slot as usize] = false;
        self.free.push(slot);
        slot
    }
    fn get(&mut self, key: &[u8], now: f64) -> Get {
        match self.pos(key) {
            None => {
                self.counters.misses += 1;
                Get::Miss
            }
            Some(i) if expired(self.order[i].2, now) => {
                let slot = self.remove_at(i);
                self.counters.expirations += 1;
                self.counters.misses += 1;
                Get::Expired(slot)
            }
            Some(i) => {
                self.counters.hits += 1;
                let e = self.order.remove(i);
                let slot = e.1;
                self.order.insert(0, e);
                Get::Hit(slot)
            }
        }
    }
    fn peek(&self, key: &[u8], now: f64) -> Option<u32> {
        let i = self.pos(key)?;
        (!expired(self.order[i].2, now)).then_some(self.order[i].1)
    }
    fn set(&mut self, key: &[u8], ttl: f64, now: f64) -> SetOutcome {
        self.counters.sets += 1;
        let mut swept = [None; 2];
        let high_water = self.occupied.len();
        if high_water > 0 {
            for out in swept.iter_mut() {
                if self.cursor >= high_water {
                    self.cursor = 0;
                }
                let slot = self.cursor as u32;
                self.cursor += 1;
                if let Some(i) = self.order.iter().position(|e| e.1 == slot) {
                    if expired(self.order[i].2, now) {
                        self.remove_at(i);
                        self.counters.expirations += 1;
                        *out = Some(slot);
                    }
                }
            }
        }
        let deadline = if ttl == 0.0 { 0.0 } else { now + ttl };
        if let Some(i) = self.pos(key) {
            let mut e = self.order.remove(i);
            e.2 = deadline;
            let slot = e.1;
            self.order.insert(0, e);
            return SetOutcome { slot, swept };
        }
        if self.order.len() == self.capacity {
            let last = self.order.len() - 1;
            if expired(self.order[last].2, now) {
                self.counters.expirations += 1;
            } else {
                self.counters.evictions += 1;
            }
            self.remove_at(last);
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.occupied.push(false);
                (self.occupied.len() - 1) as u32
            }
        };
        self.occupied[slot as usize] = true;
        self.order.insert(0, (key.to_vec(), slot, deadline));
        SetOutcome { slot, swept }
    }
    fn delete(&mut self, key: &[u8], now: f64) -> Delete {
        let Some(i) = self.pos(key) else {
            return Delete::Absent;
        };
        let was_expired = expired(self.order[i].2, now);
        let slot = self.remove_at(i);
        if was_expired {
            self.counters.expirations += 1;
            Delete::Expired(slot)
        } else {
            Delete::Removed(slot)
        }
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
    Set(u8, f64),
    Delete(u8),
    Clear,
    Advance(f64),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..12;
    let ttl = prop_oneof![
        Just(0.0),
        Just(1.0),
        Just(5.0),
        Just(20.0),
        Just(100.0),
        0.5f64..50.0
    ];
    prop_oneof![
        6 => key.clone().prop_map(Op::Get),
        2 => key.clone().prop_map(Op::Peek),
        6 => (key.clone(), ttl).prop_map(|(k, t)| Op::Set(k, t)),
        2 => key.prop_map(Op::Delete),
        1 => Just(Op::Clear),
        3 => prop_oneof![Just(0.0), 0.0f64..30.0].prop_map(Op::Advance),
    ]
}

fn key_bytes(k: u8) -> Vec<u8> {
    // Mix lengths so equal prefixes, and inline and heap keys, are exercised.
    let mut v = b"key".to_vec();
    let pad = if k.is_multiple_of(3) {
        24
    } else {
        (k % 4) as usize
    };
    v.extend(std::iter::repeat_n(b'x', pad));
    v.push(k);
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_model(capacity in 1u32..7, ops in proptest::collection::vec(op(), 1..1000)) {
        let mut lru = Lru::new(capacity);
        let mut model = Model { capacity: capacity as usize, ..Model::default() };
        let mut now = 1000.0;
        for op in ops {
            match op {
                Op::Get(k) => prop_assert_eq!(lru.get(&key_bytes(k), &mut now), model.get(&key_bytes(k), now)),
                Op::Peek(k) => prop_assert_eq!(lru.peek(&key_bytes(k), &mut now), model.peek(&key_bytes(k), now)),
                Op::Set(k, t) => prop_assert_eq!(lru.set(&key_bytes(k), t, &mut now), model.set(&key_bytes(k), t, now)),
                Op::Delete(k) => prop_assert_eq!(lru.delete(&key_bytes(k), &mut now), model.delete(&key_bytes(k), now)),
                Op::Clear => { lru.clear(); model.clear(); }
                Op::Advance(ms) => now += ms,
            }
            prop_assert_eq!(lru.counters(), model.counters);
            prop_assert_eq!(lru.len() as usize, model.order.len());
            let order: Vec<Vec<u8>> = model.order.iter().map(|e| e.0.clone()).collect();
            prop_assert_eq!(lru.keys_mru_to_lru(), order);
            for (k, slot, _) in &model.order {
                prop_assert_eq!(lru.key_at(*slot), Some(&k[..]));
            }
        }
    }
}
