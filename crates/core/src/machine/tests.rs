use super::*;
use proptest::prelude::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(0);

fn opts(capacity: u32, shards: u32, max_bytes: u64) -> MachineOptions {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    MachineOptions {
        dir: std::env::temp_dir(),
        name: format!("test-{}-{n}", std::process::id()),
        capacity,
        shards,
        max_bytes,
        mode: 0o600,
        lock_timeout_ms: 10_000,
    }
}

/// Removes the segment file when the test ends, however it ends.
struct Cleanup(MachineOptions);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = unlink(&self.0.dir, &self.0.name);
    }
}

fn get_str(c: &MachineCache, k: &str, now: u64) -> Option<String> {
    c.get_at(k.as_bytes(), now, |_, v| String::from_utf8(v.to_vec()).unwrap()).unwrap()
}

#[test]
fn set_get_delete_and_lru_eviction() {
    let o = opts(2, 1, 4096);
    let _c = Cleanup(o.clone());
    let c = MachineCache::open(&o).unwrap();
    assert!(c.created());
    c.set_at(b"a", 0, b"1", 0, 1).unwrap();
    c.set_at(b"b", 0, b"2", 0, 1).unwrap();
    assert_eq!(get_str(&c, "a", 1).as_deref(), Some("1"));
    c.set_at(b"c", 0, b"3", 0, 1).unwrap(); // evicts b
    assert_eq!(get_str(&c, "b", 1), None);
    assert!(c.delete_at(b"a", 1).unwrap());
    let n = c.counters().unwrap();
    assert_eq!((n.hits, n.misses, n.evictions, n.sets, n.size), (1, 1, 1, 3, 1));
    assert!(c.verify().unwrap().is_empty());
}

#[test]
fn a_second_attachment_sees_the_same_entries() {
    let o = opts(100, 4, 1 << 16);
    let _c = Cleanup(o.clone());
    let a = MachineCache::open(&o).unwrap();
    let b = MachineCache::open(&o).unwrap();
    assert!(!b.created());
    a.set_at(b"k", 7, b"value", 0, 1).unwrap();
    assert_eq!(b.get_at(b"k", 1, |f, v| (f, v.to_vec())).unwrap(), Some((7, b"value".to_vec())));
}

#[test]
fn ttl_expires_at_deadline() {
    let o = opts(4, 1, 4096);
    let _c = Cleanup(o.clone());
    let c = MachineCache::open(&o).unwrap();
    c.set_at(b"a", 0, b"x", 100, 1000).unwrap();
    assert!(get_str(&c, "a", 1099).is_some());
    assert_eq!(get_str(&c, "a", 1100), None);
    assert_eq!(c.counters().unwrap().expirations, 1);
}

#[test]
fn too_large_values_are_refused_and_bytes_evict() {
    let o = opts(100, 1, 4096);
    let _c = Cleanup(o.clone());
    let c = MachineCache::open(&o).unwrap();
    assert_eq!(c.set_at(b"big", 0, &[1u8; 5000], 0, 1).unwrap(), SetOutcome::TooLarge);
    for i in 0..20 {
        c.set_at(format!("k{i}").as_bytes(), 0, &[2u8; 900], 0, 1).unwrap();
    }
    let n = c.counters().unwrap();
    assert!(n.evictions >= 16, "{n:?}");
    assert!(n.bytes <= 4096);
    assert!(c.verify().unwrap().is_empty());
}

#[test]
fn wrong_parameters_are_refused_naming_the_field() {
    let o = opts(1000, 2, 1 << 16);
    let _c = Cleanup(o.clone());
    let _a = MachineCache::open(&o).unwrap();
    let mut other = o.clone();
    other.capacity = 2000;
    let e = MachineCache::open(&other).err().unwrap();
    assert_eq!(e.code(), "ERR_CACHE_SEGMENT_MISMATCH");
    assert!(e.to_string().contains("was created with capacity 1000, this cache asks 2000"), "{e}");
    let mut other = o.clone();
    other.shards = 4;
    assert!(MachineCache::open(&other).err().unwrap().to_string().contains("shards 2"));
    let bad = MachineOptions { name: "../x".into(), ..o.clone() };
    assert_eq!(MachineCache::open(&bad).err().unwrap().code(), "ERR_CACHE_INVALID_OPTION");
}

#[test]
fn garbage_file_is_not_a_segment() {
    let o = opts(10, 1, 4096);
    let _c = Cleanup(o.clone());
    std::fs::write(segment_path(&o.dir, &o.name).unwrap(), vec![7u8; 8192]).unwrap();
    assert_eq!(MachineCache::open(&o).err().unwrap().code(), "ERR_CACHE_SEGMENT_MISMATCH");
}

#[test]
fn created_with_the_mode_asked() {
    use std::os::unix::fs::PermissionsExt;
    let o = opts(10, 1, 4096);
    let _c = Cleanup(o.clone());
    let _a = MachineCache::open(&o).unwrap();
    let meta = std::fs::metadata(segment_path(&o.dir, &o.name).unwrap()).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_read_entry_gets_a_second_chance_before_eviction() {
    let o = opts(3, 1, 4096);
    let _c = Cleanup(o.clone());
    let c = MachineCache::open(&o).unwrap();
    for k in [b"a", b"b", b"c"] {
        c.set_at(k, 0, b"v", 0, 1).unwrap();
    }
    assert!(get_str(&c, "a", 1).is_some()); // a: the oldest, but read
    c.set_at(b"d", 0, b"v", 0, 1).unwrap(); // a moves to the head; b, unread, goes
    assert_eq!(get_str(&c, "b", 1), None);
    assert_eq!(c.keys().unwrap(), [b"d".to_vec(), b"a".to_vec(), b"c".to_vec()]);
    // a's mark was spent on that chance: unread since, it is evicted in its turn.
    c.set_at(b"e", 0, b"v", 0, 1).unwrap();
    c.set_at(b"f", 0, b"v", 0, 1).unwrap();
    assert_eq!(c.keys().unwrap(), [b"f".to_vec(), b"e".to_vec(), b"d".to_vec()]);
    assert!(c.verify().unwrap().is_empty());
}

#[test]
fn a_segment_of_another_layout_version_is_refused() {
    let o = opts(10, 1, 4096);
    let _c = Cleanup(o.clone());
    drop(MachineCache::open(&o).unwrap());
    let path = segment_path(&o.dir, &o.name).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8..12].copy_from_slice(&(LAYOUT_VERSION - 1).to_le_bytes()); // Header.version, after the magic
    std::fs::write(&path, &bytes).unwrap();
    let e = MachineCache::open(&o).err().unwrap();
    assert_eq!(e.code(), "ERR_CACHE_SEGMENT_MISMATCH");
    assert!(e.to_string().contains(&format!("layout version {}, this build reads {LAYOUT_VERSION}", LAYOUT_VERSION - 1)), "{e}");
}

#[test]
fn a_holder_that_unwound_leaves_a_shard_readers_and_writers_recover() {
    let o = opts(10, 1, 4096);
    let _c = Cleanup(o.clone());
    let c = MachineCache::open(&o).unwrap();
    c.set_at(b"kept", 0, b"yes", 0, 1).unwrap();
    let before = c.shards[0].version().load(Ordering::Relaxed);
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c.with_key(b"x", |_, _| panic!("a holder dies half-way")).unwrap();
    }));
    assert!(unwound.is_err());
    assert_eq!(c.shards[0].version().load(Ordering::Relaxed) & 1, 1, "left odd: readers must not trust the shard");
    // The read cannot validate without the lock, takes it, and rebuilds the shard first.
    assert_eq!(get_str(&c, "kept", 1).as_deref(), Some("yes"));
    let v = c.shards[0].version().load(Ordering::Relaxed);
    assert!(v > before && v & 1 == 0, "even again after the rebuild: {before} -> {v}");
    let n = c.counters().unwrap();
    assert_eq!((n.recoveries, n.hits), (1, 1));
    assert!(c.verify().unwrap().is_empty());
}

/// A holder that is alive but does not let go (a stopped process, a stuck thread) is not
/// recovered from: the others wait lockTimeout and get a coded error for that shard only,
/// and once it lets go the shard works again, with nothing rebuilt.
#[test]
fn a_live_holder_that_does_not_release_times_out_the_others() {
    let o = opts(10, 1, 4096);
    let _c = Cleanup(o.clone());
    let c = std::sync::Arc::new(MachineCache::open(&o).unwrap());
    let impatient = MachineCache::open(&MachineOptions { lock_timeout_ms: 200, ..o.clone() }).unwrap();
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = {
        let c = c.clone();
        std::thread::spawn(move || {
            c.with_key(b"x", |_, _| {
                held_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            })
            .unwrap();
        })
    };
    held_rx.recv().unwrap();
    let e = impatient.set_at(b"y", 0, b"v", 0, 1).unwrap_err();
    assert_eq!(e.code(), "ERR_CACHE_LOCK_TIMEOUT");
    assert_eq!(e.to_string(), "shard 0 lock not acquired within 200 ms");
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    impatient.set_at(b"y", 0, b"v", 0, 1).unwrap();
    assert_eq!(get_str(&c, "y", 1).as_deref(), Some("v"));
    assert_eq!(c.counters().unwrap().recoveries, 0);
    assert!(c.verify().unwrap().is_empty());
}

/// Readers without the lock against writers that keep replacing values (new sizes, so new
/// blocks) and deleting them: every value read is whole, and every count adds up.
#[test]
fn reads_without_the_lock_never_see_a_torn_value() {
    let o = opts(64, 2, 1 << 16);
    let _c = Cleanup(o.clone());
    let c = std::sync::Arc::new(MachineCache::open(&o).unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            let (c, stop) = (c.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut ver = w;
                while !stop.load(Ordering::Relaxed) {
                    ver += 2;
                    let key = format!("k{}", ver % 24);
                    if ver % 11 == 0 {
                        c.delete_at(key.as_bytes(), now_ms()).unwrap();
                    } else {
                        c.set_at(key.as_bytes(), 0, &torture_value(&key, ver), 0, now_ms()).unwrap();
                    }
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                let (mut hits, mut misses) = (0u64, 0u64);
                for i in 0..200_000u64 {
                    let key = format!("k{}", i % 24);
                    match c.get(key.as_bytes(), |_, v| parse_torture(&key, v)).unwrap() {
                        Some(_) => hits += 1,
                        None => misses += 1,
                    }
                }
                (hits, misses)
            })
        })
        .collect();
    let counts: Vec<(u64, u64)> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    writers.into_iter().for_each(|w| w.join().unwrap());
    let n = c.counters().unwrap();
    assert_eq!(n.hits, counts.iter().map(|c| c.0).sum::<u64>());
    assert_eq!(n.misses, counts.iter().map(|c| c.1).sum::<u64>());
    assert!(n.hits > 0);
    assert!(c.verify().unwrap().is_empty());
}

// ---- the store against a model (one shard, region large enough that only count evicts) ----

#[derive(Debug, Clone)]
enum Op {
    Get(u8),
    Peek(u8),
    Set(u8, u8, u8),
    Delete(u8),
    Advance(u8),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..12).prop_map(Op::Get),
        2 => (0u8..12).prop_map(Op::Peek),
        8 => (0u8..12, 0u8..120, 0u8..3).prop_map(|(k, l, t)| Op::Set(k, l, t)),
        2 => (0u8..12).prop_map(Op::Delete),
        2 => (0u8..30).prop_map(Op::Advance),
        1 => Just(Op::Clear),
    ]
}

/// The shard's rules restated plainly: slots with a LIFO free stack, a list from newest
/// (or last given a second chance) to the tail that eviction examines, a read mark per slot.
struct Model {
    cap: usize,
    slots: Vec<Option<(u8, Vec<u8>, u64)>>,
    accessed: Vec<bool>,
    free: Vec<u32>,
    lru: Vec<u32>,
    sweep: usize,
    c: MachineCounters,
}

impl Model {
    fn new(cap: usize) -> Model {
        Model { cap, slots: vec![None; cap + 1], accessed: vec![false; cap + 1], free: (0..=cap as u32).rev().collect(), lru: vec![], sweep: 0, c: MachineCounters::default() }
    }
    fn find(&self, k: u8) -> Option<u32> {
        self.lru.iter().copied().find(|&i| self.slots[i as usize].as_ref().unwrap().0 == k)
    }
    fn expired(&self, i: u32, now: u64) -> bool {
        let d = self.slots[i as usize].as_ref().unwrap().2;
        d != 0 && now >= d
    }
    fn remove(&mut self, i: u32) {
        self.slots[i as usize] = None;
        self.lru.retain(|&j| j != i);
        self.free.push(i);
    }
    fn get(&mut self, k: u8, now: u64) -> Option<Vec<u8>> {
        let Some(i) = self.find(k) else {
            self.c.misses += 1;
            return None;
        };
        if self.expired(i, now) {
            self.remove(i);
            self.c.expirations += 1;
            self.c.misses += 1;
            return None;
        }
        self.c.hits += 1;
        self.accessed[i as usize] = true;
        Some(self.slots[i as usize].as_ref().unwrap().1.clone())
    }
    fn peek(&self, k: u8, now: u64) -> Option<Vec<u8>> {
        let i = self.find(k)?;
        (!self.expired(i, now)).then(|| self.slots[i as usize].as_ref().unwrap().1.clone())
    }
    fn set(&mut self, k: u8, v: Vec<u8>, deadline: u64, now: u64) {
        self.c.sets += 1;
        for _ in 0..2 {
            let i = self.sweep;
            self.sweep = (i + 1) % self.slots.len();
            if self.slots[i].is_some() && self.expired(i as u32, now) {
                self.c.expirations += 1;
                self.remove(i as u32);
            }
        }
        let old = self.find(k);
        if old.is_none() {
            while self.lru.len() >= self.cap {
                let t = *self.lru.last().unwrap();
                if self.expired(t, now) {
                    self.c.expirations += 1;
                } else if self.accessed[t as usize] {
                    // Read since its last chance: another one, at the head.
                    self.accessed[t as usize] = false;
                    self.lru.pop();
                    self.lru.insert(0, t);
                    continue;
                } else {
                    self.c.evictions += 1;
                }
                self.remove(t);
            }
        }
        let i = self.free.pop().unwrap();
        self.slots[i as usize] = Some((k, v, deadline));
        self.accessed[i as usize] = false;
        if let Some(o) = old {
            self.remove(o);
        }
        self.lru.insert(0, i);
    }
    fn delete(&mut self, k: u8, now: u64) -> bool {
        let Some(i) = self.find(k) else { return false };
        let live = !self.expired(i, now);
        if !live {
            self.c.expirations += 1;
        }
        self.remove(i);
        live
    }
    fn clear(&mut self) {
        let c = self.c;
        *self = Model::new(self.cap);
        self.c = c;
    }
    fn keys(&self) -> Vec<Vec<u8>> {
        self.lru.iter().map(|&i| format!("k{}", self.slots[i as usize].as_ref().unwrap().0).into_bytes()).collect()
    }
}

fn value(k: u8, len: u8, now: u64) -> Vec<u8> {
    (0..len).map(|j| k.wrapping_mul(31).wrapping_add(j).wrapping_add(now as u8)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn store_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..150)) {
        let o = opts(6, 1, 4096);
        let _c = Cleanup(o.clone());
        let c = MachineCache::open(&o).unwrap();
        let mut m = Model::new(6);
        let mut now = 1000u64;
        for op in ops {
            match op {
                Op::Get(k) => {
                    let key = format!("k{k}");
                    prop_assert_eq!(c.get_at(key.as_bytes(), now, |_, v| v.to_vec()).unwrap(), m.get(k, now));
                }
                Op::Peek(k) => {
                    let key = format!("k{k}");
                    prop_assert_eq!(c.peek_at(key.as_bytes(), now, |_, v| v.to_vec()).unwrap(), m.peek(k, now));
                }
                Op::Set(k, len, t) => {
                    let ttl = [0u64, 5, 20][t as usize];
                    let v = value(k, len, now);
                    c.set_at(format!("k{k}").as_bytes(), 0, &v, ttl, now).unwrap();
                    m.set(k, v, if ttl == 0 { 0 } else { now + ttl }, now);
                }
                Op::Delete(k) => prop_assert_eq!(c.delete_at(format!("k{k}").as_bytes(), now).unwrap(), m.delete(k, now)),
                Op::Advance(d) => now += d as u64,
                Op::Clear => {
                    c.clear().unwrap();
                    m.clear();
                }
            }
            let problems = c.verify().unwrap();
            prop_assert!(problems.is_empty(), "{:?}", problems);
        }
        let mut got = c.counters().unwrap();
        got.bytes = 0;
        m.c.size = m.lru.len() as u64;
        prop_assert_eq!(got, m.c);
        prop_assert_eq!(c.keys().unwrap(), m.keys());
        // Recovery keeps every entry and the list order.
        let s = &c.shards[0];
        s.rebuild();
        prop_assert!(s.verify().is_empty());
        prop_assert_eq!(c.keys().unwrap(), m.keys());
    }
}

// ---- crash safety: real processes killed with SIGKILL at random moments ----

const TORTURE_DIR: &str = "ASTRA_TORTURE_DIR";

fn torture_options(dir: &str, name: &str) -> MachineOptions {
    MachineOptions { dir: dir.into(), name: name.into(), capacity: 40_000, shards: 4, max_bytes: 32 << 20, mode: 0o600, lock_timeout_ms: 10_000 }
}

/// A value that proves itself whole: key, version, and a body derived from both.
fn torture_value(key: &str, ver: u64) -> Vec<u8> {
    let mut v = format!("{key}|{ver}|").into_bytes();
    let len = (ver as usize * 37) % 700;
    v.extend((0..len).map(|j| b'a' + ((ver as usize + j) % 26) as u8));
    v
}

fn parse_torture(key: &str, v: &[u8]) -> u64 {
    let s = std::str::from_utf8(v).expect("utf8 value");
    let mut parts = s.splitn(3, '|');
    assert_eq!(parts.next(), Some(key), "value of {key} names another key: {s:.60}");
    let ver: u64 = parts.next().unwrap().parse().unwrap();
    assert_eq!(v, torture_value(key, ver).as_slice(), "torn value under {key}");
    ver
}

/// Runs only as a child of `sigkill_writers_at_random_moments` (it sets the env var).
#[test]
fn torture_child() {
    let Ok(dir) = std::env::var(TORTURE_DIR) else { return };
    let name = std::env::var("ASTRA_TORTURE_NAME").unwrap();
    let id: u64 = std::env::var("ASTRA_TORTURE_ID").unwrap().parse().unwrap();
    let c = MachineCache::open(&torture_options(&dir, &name)).unwrap();
    let mut out = std::io::stdout().lock();
    for ver in 1u64.. {
        let k = ver % 40;
        let key = format!("w{id}-{k}");
        c.set_at(key.as_bytes(), 0, &torture_value(&key, ver), 0, now_ms()).unwrap();
        use std::io::Write;
        writeln!(out, "ACK {k} {ver}").unwrap();
        out.flush().unwrap();
        let shared = format!("shared-{}", ver % 16);
        c.set_at(shared.as_bytes(), 0, &torture_value(&shared, ver), 0, now_ms()).unwrap();
        let _ = c.get_at(format!("shared-{}", (ver * 7) % 16).as_bytes(), now_ms(), |_, v| v.len());
    }
}

#[test]
fn sigkill_writers_at_random_moments() {
    let dir = std::env::temp_dir().display().to_string();
    let name = format!("torture-{}", std::process::id());
    let o = torture_options(&dir, &name);
    let _c = Cleanup(o.clone());
    let exe = std::env::current_exe().unwrap();
    let kills_wanted = 200;
    let started = Instant::now();
    let acks: std::sync::Arc<std::sync::Mutex<HashMap<(u64, u64), u64>>> = Default::default();
    let mut readers = Vec::new();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let spawn = |id: u64| {
        Command::new(&exe)
            .args(["machine::tests::torture_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(TORTURE_DIR, &dir)
            .env("ASTRA_TORTURE_NAME", &name)
            .env("ASTRA_TORTURE_ID", id.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut kills = 0;
    let mut id = 0u64;
    let mut live: Vec<std::process::Child> = (0..3).map(|_| { id += 1; spawn(id) }).collect();
    let mut ids: Vec<u64> = (1..=3).collect();
    while kills < kills_wanted && started.elapsed() < Duration::from_secs(40) {
        std::thread::sleep(Duration::from_millis(2 + next() % 25));
        let victim = (next() % live.len() as u64) as usize;
        let mut child = live.swap_remove(victim);
        let cid = ids.swap_remove(victim);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        let stdout = child.stdout.take().unwrap();
        let acks = acks.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut p = line.split(' ');
                if p.next() != Some("ACK") {
                    continue;
                }
                let k: u64 = p.next().unwrap().parse().unwrap();
                let ver: u64 = p.next().unwrap().parse().unwrap();
                let mut a = acks.lock().unwrap();
                let e = a.entry((cid, k)).or_insert(0);
                *e = (*e).max(ver);
            }
        }));
        id += 1;
        live.push(spawn(id));
        ids.push(id);
    }
    for mut c in live {
        c.kill().unwrap();
        c.wait().unwrap();
    }
    for r in readers {
        r.join().unwrap();
    }
    assert!(kills >= 100, "only {kills} kills in the time allowed");
    let c = MachineCache::open(&o).unwrap();
    let problems = c.verify().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let acks = acks.lock().unwrap();
    assert!(acks.len() > 100, "children acknowledged only {} keys", acks.len());
    for (&(cid, k), &ver) in acks.iter() {
        let key = format!("w{cid}-{k}");
        let got = c.get_at(key.as_bytes(), now_ms(), |_, v| parse_torture(&key, v)).unwrap();
        let got = got.unwrap_or_else(|| panic!("acknowledged {key} v{ver} lost"));
        assert!(got >= ver, "{key}: v{got} older than acknowledged v{ver}");
    }
    for s in 0..16 {
        let key = format!("shared-{s}");
        let _ = c.get_at(key.as_bytes(), now_ms(), |_, v| parse_torture(&key, v)).unwrap();
    }
    let n = c.counters().unwrap();
    assert_eq!(n.evictions, 0);
    // Writers spend much of their time inside a shard lock: of 100+ kills some must have hit a
    // holder (28 of 200 in a typical run), or the run tested no lock recovery at all.
    assert!(n.recoveries > 0, "{kills} kills and no shard recovery: no kill hit a lock holder");
    eprintln!("torture: {kills} kills, {} acknowledged keys, {} recoveries, {:?}", acks.len(), n.recoveries, started.elapsed());
}

#[test]
fn a_watcher_vouches_for_the_segment_while_live_and_listening() {
    use WatchOp::*;
    let o = opts(10, 1, 1 << 16);
    let _c = Cleanup(o.clone());
    let (a, b, c) = (MachineCache::open(&o).unwrap(), MachineCache::open(&o).unwrap(), MachineCache::open(&o).unwrap());
    let lease = 1_000;
    assert_eq!(a.watch_at(Start, b"ch", lease, 100), 0, "alone: nobody vouches");
    assert_eq!(b.watch_at(Start, b"ch", lease, 200), 1, "a has been listening");
    assert_eq!(c.watch_at(Start, b"other", lease, 200), 0, "another topic does not count");
    // b loses its subscription at 300 and is back at 400: a listened throughout (since 100).
    b.watch_at(Stop, b"ch", lease, 300);
    assert_eq!(b.watch_at(Start, b"ch", lease, 400), 1);
    // An outage for both: a and b deaf from 500. Whoever is back first is vouched for by
    // nobody (the other is deaf), and the second by nobody either: the first started
    // listening (600) after the second went deaf (500), so it may have missed the same.
    a.watch_at(Stop, b"ch", lease, 500);
    b.watch_at(Stop, b"ch", lease, 500);
    assert_eq!(a.watch_at(Start, b"ch", lease, 600), 0);
    assert_eq!(b.watch_at(Start, b"ch", lease, 610), 0);
    // A lease not renewed within lease_ms stops counting; a beat keeps it.
    b.watch_at(Beat, b"", lease, 1_500);
    let d = MachineCache::open(&o).unwrap();
    assert_eq!(d.watch_at(Start, b"ch", lease, 2_000), 1, "b beat at 1500; a's last beat (600) lapsed");
    // A closed attachment stops counting at once.
    drop(b);
    let e = MachineCache::open(&o).unwrap();
    assert_eq!(e.watch_at(Start, b"ch", lease, 2_100), 1, "only d now");
}

#[test]
fn a_watcher_whose_process_died_stops_counting_at_once() {
    use WatchOp::*;
    let o = opts(10, 1, 1 << 16);
    let _c = Cleanup(o.clone());
    let a = MachineCache::open(&o).unwrap();
    assert_eq!(a.watch_at(Start, b"ch", 60_000, 100), 0);
    // Make a's lease look like a process that has exited (its pid is free now).
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let slot = unsafe { &*(a.map.ptr().add(watch::WATCH_OFF) as *const watch::WatchSlot) };
    let token = slot.token.load(Ordering::Acquire);
    assert_eq!((token >> 32) as u32, std::process::id(), "the lease carries its pid");
    slot.token.store((u64::from(dead) << 32) | (token & 0xffff_ffff), Ordering::Release);
    let b = MachineCache::open(&o).unwrap();
    assert_eq!(b.watch_at(Start, b"ch", 60_000, 200), 0, "a dead process's lease is not counted, however recent");
    // Its slot is free again for the next claimer; a (alive) renews by claiming anew.
    a.watch_at(Beat, b"", 60_000, 300);
    let c = MachineCache::open(&o).unwrap();
    assert_eq!(c.watch_at(Start, b"ch", 60_000, 400), 2);
}
