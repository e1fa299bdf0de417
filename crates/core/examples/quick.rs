//! Rough per-op timing of the core alone (no N-API): cargo run --release --example quick
use astra_cache_core::Lru;
use std::time::Instant;

fn main() {
    let n = 10_000u32;
    let keys: Vec<Vec<u8>> = (0..n)
        .map(|i| format!("\0key:{i:012}").into_bytes())
        .collect();
    let mut lru = Lru::new(n);
    for k in &keys {
        lru.set(k, 0.0, &mut 1.0);
    }
    let mut best = f64::MAX;
    let mut sink = 0u64;
    for _ in 0..10 {
        let t = Instant::now();
        for _ in 0..10 {
            for k in &keys {
                if let astra_cache_core::Get::Hit(s) = lru.get(k, &mut 1.0) {
                    sink += s as u64;
                }
            }
        }
        best = best.min(t.elapsed().as_nanos() as f64 / (n as f64 * 10.0));
    }
    println!("core get hit: {best:.1} ns ({sink})");
    let other: Vec<Vec<u8>> = (0..n)
        .map(|i| format!("\0new:{i:012}").into_bytes())
        .collect();
    let mut best = f64::MAX;
    for round in 0..10 {
        let ks = if round % 2 == 0 { &other } else { &keys };
        let t = Instant::now();
        for k in ks {
            lru.set(k, 60_000.0, &mut 1.0);
        }
        best = best.min(t.elapsed().as_nanos() as f64 / n as f64);
    }
    println!("core set+evict: {best:.1} ns");
}
