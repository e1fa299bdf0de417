use super::*;
use proptest::prelude::*;

type Log = Vec<(u32, Vec<u8>, Vec<u8>, Reason)>;

fn keys(lru: &Lru) -> Vec<String> {
    lru.keys_mru_to_lru().into_iter().map(|k| String::from_utf8(k).unwrap()).collect()
}

fn set(c: &mut Lru, k: &[u8], ttl: f64, now: f64) -> u32 {
    c.set(k, ttl, &mut now.clone()).expect("stored")
}

#[test]
fn hit_miss_and_lru_order() {
    let mut c = Lru::new(3);
    let t = &mut 0.0;
    assert_eq!(c.get(b"a", t), Get::Miss);
    let a = set(&mut c, b"a", 0.0, 0.0);
    let b = set(&mut c, b"b", 0.0, 0.0);
    set(&mut c, b"c", 0.0, 0.0);
    assert_eq!((a, b), (0, 1));
    assert_eq!(c.get(b"a", t), Get::Hit(0));
    assert_eq!(keys(&c), ["a", "c", "b"]);
    // b is the LRU tail: evicted, and its slot reused by d.
    assert_eq!(set(&mut c, b"d", 0.0, 0.0), 1);
    assert_eq!(keys(&c), ["d", "a", "c"]);
    assert_eq!(c.get(b"b", t), Get::Miss);
    let n = c.counters();
    assert_eq!((n.hits, n.misses, n.evictions, n.expirations, n.sets), (1, 2, 1, 0, 4));
    c.verify().unwrap();
}

#[test]
fn peek_does_not_count_or_reorder() {
    let mut c = Lru::new(2);
    set(&mut c, b"a", 0.0, 0.0);
    set(&mut c, b"b", 0.0, 0.0);
    assert_eq!(c.peek(b"a", &mut 0.0), Some(0));
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
    c.set(b"b", 0.0, &mut clock);
    c.set(b"c", 0.0, &mut clock); // sweeps and evicts: still no deadline anywhere
    assert_eq!(c.get(b"c", &mut { f64::MAX }), Get::Hit(0));
    let mut clock2 = LazyNow::new(|| {
        reads += 1;
        1.0
    });
    c.get(b"c", &mut clock2);
    c.delete(b"b", &mut clock2);
    assert_eq!(reads, 0);
}

#[test]
fn delete_reports_live_and_expired() {
    let mut c = Lru::new(4);
    set(&mut c, b"a", 0.0, 0.0);
    set(&mut c, b"b", 10.0, 0.0);
    assert_eq!(c.delete(b"a", &mut 5.0), Delete::Removed(0));
    assert_eq!(c.delete(b"a", &mut 5.0), Delete::Absent);
    assert_eq!(c.delete(b"b", &mut 10.0), Delete::Expired(1));
    assert_eq!(c.counters().expirations, 1);
    // LIFO free list: the most recently freed slot (1) is reused first.
    assert_eq!(set(&mut c, b"c", 0.0, 10.0), 1);
    assert_eq!(set(&mut c, b"d", 0.0, 10.0), 0);
    assert_eq!(set(&mut c, b"e", 0.0, 10.0), 2);
}

#[test]
fn expired_tail_is_counted_as_expiration_not_eviction() {
    let mut c = Lru::new(2);
    set(&mut c, b"a", 5.0, 0.0);
    set(&mut c, b"b", 0.0, 0.0);
    set(&mut c, b"c", 0.0, 0.0); // sweep saw a (live): a is evicted
    assert_eq!(c.counters().evictions, 1);
    let mut c = Lru::new(2);
    set(&mut c, b"a", 0.0, 0.0);
    set(&mut c, b"b", 5.0, 0.0);
    c.get(b"a", &mut 0.0); // b is now the tail
    // set(b) examined slot 0 twice (high water 1), leaving the cursor at 1: this set's
    // sweep examines slot 1 (b, expired: reclaimed) then wraps to slot 0 (a, live), so
    // there is room and no eviction happens.
    let mut log = Log::new();
    let slot = c.set_with(b"c", &[], 0.0, &mut 6.0, &mut log).unwrap();
    assert_eq!(log, vec![(1, b"b".to_vec(), vec![], Reason::Expire)]);
    assert_eq!(slot, 1);
    assert_eq!((c.counters().evictions, c.counters().expirations), (0, 1));
}

#[test]
fn set_of_a_key_whose_entry_the_sweep_expires_inserts_it_anew() {
    let mut c = Lru::new(1);
    set(&mut c, b"a", 5.0, 0.0);
    let mut log = Log::new();
    assert_eq!(c.set_with(b"a", b"v", 0.0, &mut 9.0, &mut log), Some(0));
    assert_eq!(log, vec![(0, b"a".to_vec(), vec![], Reason::Expire)], "expired, not replaced");
    assert_eq!(c.counters().expirations, 1);
    assert_eq!(c.get(b"a", &mut 1e9), Get::Hit(0));
}

#[test]
fn removals_are_reported_in_order_with_key_value_and_reason() {
    let mut c = Lru::new(2);
    let mut log = Log::new();
    let t = &mut 0.0;
    c.set_with(b"a", b"1", 0.0, t, &mut log);
    c.set_with(b"b", b"2", 10.0, t, &mut log);
    c.set_with(b"a", b"3", 0.0, t, &mut log); // replaced
    c.set_with(b"c", b"4", 0.0, t, &mut log); // evicts b (the tail)
    c.delete_with(b"a", t, &mut log);
    c.set_with(b"d", b"5", 1.0, t, &mut log);
    c.get_with(b"d", &mut 5.0, &mut log); // expired
    c.set_with(b"e", b"6", 0.0, t, &mut log);
    c.clear_with(&mut log);
    let got: Vec<(&[u8], &[u8], Reason)> = log.iter().map(|(_, k, v, r)| (&k[..], &v[..], *r)).collect();
    assert_eq!(
        got,
        [
            (&b"a"[..], &b"1"[..], Reason::Set),
            (b"b", b"2", Reason::Evict),
            (b"a", b"3", Reason::Delete),
            (b"d", b"5", Reason::Expire),
            (b"e", b"6", Reason::Clear),
            (b"c", b"4", Reason::Clear),
        ]
    );
}

#[test]
fn clear_keeps_counters_and_resets_slots() {
    let mut c = Lru::new(3);
    set(&mut c, b"a", 0.0, 0.0);
    set(&mut c, b"b", 0.0, 0.0);
    c.get(b"a", &mut 0.0);
    c.clear();
    assert!(c.is_empty());
    assert_eq!(c.arena_bytes(), 0, "pages are released");
    assert_eq!(c.get(b"a", &mut 0.0), Get::Miss);
    assert_eq!(set(&mut c, b"z", 0.0, 0.0), 0);
    assert_eq!(c.counters().sets, 3);
    assert_eq!(c.counters().hits, 1);
    c.verify().unwrap();
}

#[test]
fn capacity_is_clamped() {
    assert_eq!(Lru::new(0).capacity(), 1);
    assert_eq!(Lru::new(u32::MAX).capacity(), MAX_CAPACITY);
}

#[test]
fn a_slot_stays_twelve_bytes() {
    // docs/native-storage.md counts it: keep it honest.
    assert_eq!(std::mem::size_of::<Entry>(), 12);
}

#[test]
fn values_of_every_size_round_trip_and_move_between_classes() {
    let mut c = Lru::with_budget(8, 0, PolicyKind::Lru, 0);
    let t = &mut 0.0;
    for len in [0, 1, 7, 100, 255, 256, 257, 5000, MAX_INLINE_RECORD - 10, MAX_INLINE_RECORD, 40_000] {
        let v: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let slot = c.set_with(b"k", &v, 0.0, t, &mut ()).unwrap();
        assert_eq!(c.value(slot), &v[..], "{len}");
        c.set_with(b"k", &v, 5.0, t, &mut ()).unwrap();
        assert_eq!(c.value(slot), &v[..], "{len} with a deadline");
        c.verify().unwrap();
    }
    c.delete(b"k", t);
    assert_eq!(c.arena_bytes() as usize, arena::PAGE, "empty pages are released; one is kept as a spare");
    c.verify().unwrap();
}

#[test]
fn binary_long_and_empty_keys() {
    let mut c = Lru::new(4);
    let long = vec![7u8; 300];
    set(&mut c, b"", 0.0, 0.0);
    set(&mut c, &[0, 255, 0], 0.0, 0.0);
    set(&mut c, &long, 0.0, 0.0);
    assert_eq!(c.get(b"", &mut 0.0), Get::Hit(0));
    assert_eq!(c.get(&[0, 255, 0], &mut 0.0), Get::Hit(1));
    assert_eq!(c.get(&[0, 255], &mut 0.0), Get::Miss);
    assert_eq!(c.get(&long, &mut 0.0), Get::Hit(2));
    assert_eq!(c.get(&long[..299], &mut 0.0), Get::Miss);
    c.verify().unwrap();
}

#[test]
fn byte_budget_evicts_the_lru_and_refuses_a_value_larger_than_it() {
    let cost = Lru::new(1).entry_cost(1, 9, false);
    let mut c = Lru::with_budget(100, 3 * cost + 5, PolicyKind::Lru, 0);
    let t = &mut 0.0;
    let mut log = Log::new();
    for k in [b"a", b"b", b"c"] {
        c.set_with(k, b"xxxxxxxxx", 0.0, t, &mut log);
    }
    assert_eq!(c.bytes(), 3 * cost);
    c.get(b"a", t);
    c.set_with(b"d", b"yyyyyyyyy", 0.0, t, &mut log);
    assert_eq!(log, vec![(1, b"b".to_vec(), b"xxxxxxxxx".to_vec(), Reason::Evict)]);
    assert_eq!(c.counters().evictions, 1);
    log.clear();
    let huge = vec![b'z'; 200];
    assert_eq!(c.set_with(b"a", &huge, 0.0, t, &mut log), None);
    assert_eq!(log, vec![(0, b"a".to_vec(), b"xxxxxxxxx".to_vec(), Reason::Set), (NO_SLOT, b"a".to_vec(), huge, Reason::Evict)]);
    assert_eq!((c.len(), c.counters().evictions, c.counters().sets), (2, 2, 5));
    c.verify().unwrap();
}

#[test]
fn an_exhausted_arena_refuses_the_value_instead_of_failing() {
    // One page: a 16 KiB class holds two chunks.
    let mut c = Lru::with_page_limit(10, 0, PolicyKind::Lru, 0, 1);
    let v = vec![1u8; MAX_INLINE_RECORD - 100];
    let t = &mut 0.0;
    assert!(c.set_with(b"a", &v, 0.0, t, &mut ()).is_some());
    assert!(c.set_with(b"b", &v, 0.0, t, &mut ()).is_some());
    let mut log = Log::new();
    assert_eq!(c.set_with(b"c", &v, 0.0, t, &mut log), None);
    assert_eq!(log, vec![(NO_SLOT, b"c".to_vec(), v.clone(), Reason::Evict)]);
    assert!(c.set_with(b"d", b"small", 0.0, t, &mut ()).is_none(), "another class needs another page");
    assert!(c.set_with(b"e", &vec![2u8; 40_000], 0.0, t, &mut ()).is_some(), "large records are not in pages");
    c.verify().unwrap();
}

#[test]
fn compaction_bounds_fragmentation_after_a_class_shrinks() {
    let n = 200_000u32;
    let mut c = Lru::with_budget(n, 0, PolicyKind::Lru, 0);
    let t = &mut 0.0;
    let v = vec![5u8; 90];
    for i in 0..n {
        c.set_with(format!("key{i}").as_bytes(), &v, 0.0, t, &mut ());
    }
    let full = c.arena_bytes();
    // Keep every 16th entry: pages are left ~94 % empty, with live records in all of them.
    for i in 0..n {
        if i % 16 != 0 {
            c.delete(format!("key{i}").as_bytes(), t);
        }
    }
    c.verify().unwrap();
    // Operations give compaction its bounded steps (each moves at most two records).
    let mut steps = 0;
    while !c.arena.within_bound() {
        c.delete(b"absent", t);
        c.set_with(b"other", b"x", 0.0, t, &mut ());
        steps += 1;
        assert!(steps < 10_000, "compaction does not converge");
    }
    c.verify().unwrap();
    // The bound: free chunks at most 1/8 of a class's chunks (or two pages' worth), plus
    // the one page of the small "other" record.
    assert!(c.fragmentation() < 0.15, "fragmentation {}", c.fragmentation());
    assert!(c.arena_bytes() * 8 < full, "{} of {full} bytes still held", c.arena_bytes());
    for i in (0..n).step_by(16) {
        let slot = c.peek(format!("key{i}").as_bytes(), t).expect("kept");
        assert_eq!(c.value(slot), &v[..]);
    }
}

// ---- the model: obviously correct, O(n) everything ----

#[derive(Default)]
struct Model {
    capacity: usize,
    budget: u64,
    /// (key, value, slot, deadline), most recently used first.
    order: Vec<(Vec<u8>, Vec<u8>, u32, f64)>,
    /// Occupied flag per slot ever used; its length is the high-water mark.
    occupied: Vec<bool>,
    free: Vec<u32>,
    cursor: usize,
    counters: Counters,
    log: Log,
}

fn expired(deadline: f64, now: f64) -> bool {
    deadline != 0.0 && now >= deadline
}

impl Model {
    fn cost(e: &(Vec<u8>, Vec<u8>, u32, f64)) -> u64 {
        Lru::new(1).entry_cost(e.0.len(), e.1.len(), e.3 != 0.0)
    }
    fn bytes(&self) -> u64 {
        self.order.iter().map(Model::cost).sum()
    }
    fn pos(&self, key: &[u8]) -> Option<usize> {
        self.order.iter().position(|e| e.0 == key)
    }
    fn remove_at(&mut self, i: usize, reason: Reason) -> u32 {
        let (key, value, slot, _) = self.order.remove(i);
        self.occupied[slot as usize] = false;
        self.free.push(slot);
        self.log.push((slot, key, value, reason));
        slot
    }
    fn evict_tail(&mut self, now: f64) {
        let last = self.order.len() - 1;
        let reason = if expired(self.order[last].3, now) {
            self.counters.expirations += 1;
            Reason::Expire
        } else {
            self.counters.evictions += 1;
            Reason::Evict
        };
        self.remove_at(last, reason);
    }
    fn get(&mut self, key: &[u8], now: f64) -> Get {
        match self.pos(key) {
            None => {
                self.counters.misses += 1;
                Get::Miss
            }
            Some(i) if expired(self.order[i].3, now) => {
                let slot = self.remove_at(i, Reason::Expire);
                self.counters.expirations += 1;
                self.counters.misses += 1;
                Get::Expired(slot)
            }
            Some(i) => {
                self.counters.hits += 1;
                let e = self.order.remove(i);
                let slot = e.2;
                self.order.insert(0, e);
                Get::Hit(slot)
            }
        }
    }
    fn peek(&self, key: &[u8], now: f64) -> Option<u32> {
        let i = self.pos(key)?;
        (!expired(self.order[i].3, now)).then_some(self.order[i].2)
    }
    fn set(&mut self, key: &[u8], value: &[u8], ttl: f64, now: f64) -> Option<u32> {
        self.counters.sets += 1;
        if self.budget != 0 && Lru::new(1).entry_cost(key.len(), value.len(), ttl != 0.0) > self.budget {
            if let Some(i) = self.pos(key) {
                self.remove_at(i, Reason::Set);
            }
            self.counters.evictions += 1;
            self.log.push((NO_SLOT, key.to_vec(), value.to_vec(), Reason::Evict));
            return None;
        }
        let high_water = self.occupied.len();
        if high_water > 0 {
            for _ in 0..SWEEP_PER_SET {
                if self.cursor >= high_water {
                    self.cursor = 0;
                }
                let slot = self.cursor as u32;
                self.cursor += 1;
                if let Some(i) = self.order.iter().position(|e| e.2 == slot) {
                    if expired(self.order[i].3, now) {
                        self.remove_at(i, Reason::Expire);
                        self.counters.expirations += 1;
                    }
                }
            }
        }
        let deadline = if ttl == 0.0 { 0.0 } else { now + ttl };
        let slot = if let Some(i) = self.pos(key) {
            let mut e = self.order.remove(i);
            self.log.push((e.2, e.0.clone(), e.1.clone(), Reason::Set));
            e.1 = value.to_vec();
            e.3 = deadline;
            let slot = e.2;
            self.order.insert(0, e);
            slot
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
            slot
        };
        while self.budget != 0 && self.bytes() > self.budget {
            self.evict_tail(now);
        }
        self.pos(key).map(|_| slot)
    }
    fn delete(&mut self, key: &[u8], now: f64) -> Delete {
        let Some(i) = self.pos(key) else {
            return Delete::Absent;
        };
        if expired(self.order[i].3, now) {
            self.counters.expirations += 1;
            Delete::Expired(self.remove_at(i, Reason::Expire))
        } else {
            Delete::Removed(self.remove_at(i, Reason::Delete))
        }
    }
    fn clear(&mut self) {
        for (key, value, slot, _) in self.order.drain(..) {
            self.log.push((slot, key, value, Reason::Clear));
        }
        self.occupied.clear();
        self.free.clear();
        self.cursor = 0;
    }
}

#[derive(Clone, Debug)]
enum Op {
    Get(u8),
    Peek(u8),
    Set(u8, f64, usize),
    Delete(u8),
    Clear,
    Advance(f64),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..12;
    let ttl = prop_oneof![Just(0.0), Just(1.0), Just(5.0), Just(20.0), Just(100.0), 0.5f64..50.0];
    // Value lengths across every size class, the class boundaries, and large records.
    let len = prop_oneof![
        6 => 0usize..300,
        2 => 300usize..MAX_INLINE_RECORD,
        1 => prop::sample::select(vec![255usize, 256, 257, 4093, 4096, MAX_INLINE_RECORD - 4, MAX_INLINE_RECORD, 20_000]),
    ];
    prop_oneof![
        6 => key.clone().prop_map(Op::Get),
        2 => key.clone().prop_map(Op::Peek),
        6 => (key.clone(), ttl, len).prop_map(|(k, t, l)| Op::Set(k, t, l)),
        2 => key.prop_map(Op::Delete),
        1 => Just(Op::Clear),
        3 => prop_oneof![Just(0.0), 0.0f64..30.0].prop_map(Op::Advance),
    ]
}

fn key_bytes(k: u8) -> Vec<u8> {
    // Mix lengths: equal prefixes, short and long-form key lengths.
    let mut v = b"key".to_vec();
    let pad = match k % 4 {
        0 => 70,
        1 => 24,
        _ => k as usize % 3,
    };
    v.extend(std::iter::repeat_n(b'x', pad));
    v.push(k);
    v
}

fn value_bytes(k: u8, len: usize, n: usize) -> Vec<u8> {
    (0..len).map(|i| (i + n) as u8 ^ k).collect()
}

fn run_against_model(capacity: u32, budget: u64, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut lru = Lru::with_budget(capacity, budget, PolicyKind::Lru, 0);
    let mut model = Model { capacity: capacity as usize, budget, ..Model::default() };
    let mut log = Log::new();
    let mut now = 1000.0;
    for (n, op) in ops.into_iter().enumerate() {
        match op {
            Op::Get(k) => {
                let got = lru.get_with(&key_bytes(k), &mut now, &mut log);
                prop_assert_eq!(got, model.get(&key_bytes(k), now));
                if let Get::Hit(slot) = got {
                    let want = &model.order[0].1;
                    prop_assert_eq!(lru.value(slot), &want[..]);
                }
            }
            Op::Peek(k) => prop_assert_eq!(lru.peek(&key_bytes(k), &mut now), model.peek(&key_bytes(k), now)),
            Op::Set(k, t, len) => {
                let v = value_bytes(k, len, n);
                prop_assert_eq!(lru.set_with(&key_bytes(k), &v, t, &mut now, &mut log), model.set(&key_bytes(k), &v, t, now));
            }
            Op::Delete(k) => prop_assert_eq!(lru.delete_with(&key_bytes(k), &mut now, &mut log), model.delete(&key_bytes(k), now)),
            Op::Clear => {
                lru.clear_with(&mut log);
                model.clear();
            }
            Op::Advance(ms) => now += ms,
        }
        prop_assert_eq!(&log, &model.log, "removals after op {}", n);
        prop_assert_eq!(lru.counters(), model.counters);
        prop_assert_eq!(lru.len() as usize, model.order.len());
        prop_assert_eq!(lru.bytes(), model.bytes());
        let order: Vec<Vec<u8>> = model.order.iter().map(|e| e.0.clone()).collect();
        prop_assert_eq!(lru.keys_mru_to_lru(), order);
        for (k, v, slot, _) in &model.order {
            prop_assert_eq!(lru.key_at(*slot), Some(&k[..]));
            prop_assert_eq!(lru.value(*slot), &v[..]);
        }
        if let Err(e) = lru.verify() {
            return Err(TestCaseError::fail(format!("after op {n}: {e}")));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_model(capacity in 1u32..7, ops in proptest::collection::vec(op(), 1..600)) {
        run_against_model(capacity, 0, ops)?;
    }

    #[test]
    fn agrees_with_model_under_a_byte_budget(capacity in 1u32..12, budget in 40u64..60_000, ops in proptest::collection::vec(op(), 1..600)) {
        run_against_model(capacity, budget, ops)?;
    }
}
