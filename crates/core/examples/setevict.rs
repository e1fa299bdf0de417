//! Profiling aid: sets of new keys into a full cache. cargo run --release --example setevict [n] [rounds]
use astra_cache_core::{Lru, PolicyKind};
use std::time::Instant;

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: u32 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(5000);
    let keys: Vec<Vec<u8>> = (0..2 * n).map(|i| format!("\0key:{i:019}").into_bytes()).collect();
    let mut lru = Lru::with_policy(n, PolicyKind::Lru, 0);
    let t = Instant::now();
    for r in 0..rounds {
        let half = (r % 2) as usize * n as usize;
        for k in &keys[half..half + n as usize] {
            lru.set(k, 0.0, &mut 1.0);
        }
    }
    println!("set+evict: {:.1} ns", t.elapsed().as_nanos() as f64 / (n as f64 * rounds as f64));
}
