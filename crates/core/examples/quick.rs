//! Rough per-op timing of the core alone (no N-API): cargo run --release --example quick [n]
use astra_cache_core::{Get, Lru, PolicyKind};
use std::time::Instant;

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let keys: Vec<Vec<u8>> = (0..n).map(|i| format!("\0key:{i:019}").into_bytes()).collect();
    let other: Vec<Vec<u8>> = (0..n).map(|i| format!("\0new:{i:019}").into_bytes()).collect();
    let value = vec![b'v'; 101];
    for (name, with_value) in [("keys only", false), ("100-byte values", true)] {
        let mut lru = Lru::with_policy(n, PolicyKind::Lru, 0);
        let v: &[u8] = if with_value { &value } else { &[] };
        for k in &keys {
            lru.set_with(k, v, 0.0, &mut 1.0, &mut ());
        }
        let mut best = f64::MAX;
        let mut sink = 0u64;
        let mut x = 12345u64;
        for _ in 0..10 {
            let t = Instant::now();
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if let Get::Hit(s) = lru.get(&keys[(x % n as u64) as usize], &mut 1.0) {
                    sink += s as u64;
                }
            }
            best = best.min(t.elapsed().as_nanos() as f64 / n as f64);
        }
        println!("{name}: core get hit (random order): {best:.1} ns ({sink})");
        for ttl in [0.0, 60_000.0] {
        let mut best = f64::MAX;
        for round in 0..10 {
            let ks = if round % 2 == 0 { &other } else { &keys };
            let t = Instant::now();
            for k in ks {
                lru.set_with(k, v, ttl, &mut 1.0, &mut ());
            }
            best = best.min(t.elapsed().as_nanos() as f64 / n as f64);
        }
        println!("{name}: core set+evict (ttl {ttl}): {best:.1} ns; heap {} B/entry", lru.heap_bytes() / n as usize);
        }
    }
}
