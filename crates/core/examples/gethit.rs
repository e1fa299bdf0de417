//! Profiling aid: get hits only. cargo run --release --example gethit [n] [rounds]
use astra_cache_core::{Get, Lru, PolicyKind};
use std::time::Instant;

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: u32 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(20000);
    let keys: Vec<Vec<u8>> = (0..n).map(|i| format!("\0key:{i:019}").into_bytes()).collect();
    let mut lru = Lru::with_policy(n, PolicyKind::Lru, 0);
    for k in &keys {
        lru.set(k, 0.0, &mut 1.0);
    }
    let order: Vec<usize> = (0..n as usize).map(|i| (i * 7919) % n as usize).collect();
    let t = Instant::now();
    let mut sink = 0u64;
    for _ in 0..rounds {
        for &i in &order {
            if let Get::Hit(s) = lru.get(&keys[i], &mut 1.0) {
                sink += s as u64;
            }
        }
    }
    println!("get hit: {:.1} ns ({sink})", t.elapsed().as_nanos() as f64 / (n as f64 * rounds as f64));
}
