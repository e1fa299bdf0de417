//! Hit ratio of a policy on a key-per-line trace read from stdin (get, then set on miss).
//! `zcat trace.keys.gz | cargo run --release -p astra-cache-core --example policy_trace -- lru 1000`
use astra_cache_core::{Get, Lru, PolicyKind};
use std::io::{BufRead, Read};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = match args[1].as_str() {
        "lru" => PolicyKind::Lru,
        "s3fifo" => PolicyKind::S3Fifo,
        "tinylfu" => PolicyKind::TinyLfu,
        "tinylfu-fixed" => PolicyKind::TinyLfuFixed,
        other => panic!("unknown policy {other}"),
    };
    let mut text = String::new();
    std::io::stdin().lock().read_to_string(&mut text).unwrap();
    let keys: Vec<Vec<u8>> = text
        .as_bytes()
        .lines()
        .map(|l| l.unwrap())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut k = vec![0u8];
            k.extend_from_slice(l.as_bytes());
            k
        })
        .collect();
    for cap in args[2..].iter().map(|c| c.parse::<u32>().unwrap()) {
        let seed = std::env::var("SEED")
            .map(|s| s.parse::<u32>().unwrap())
            .unwrap_or(0x1234_5678);
        let mut c = Lru::with_policy(cap, kind, seed);
        let mut hits = 0u64;
        for k in &keys {
            match c.get(k, &mut 0.0) {
                Get::Hit(_) => hits += 1,
                _ => {
                    c.set(k, 0.0, &mut 0.0);
                }
            }
        }
        println!(
            "{} cap {cap}: {:.2}% ({hits} hits) window {:?}",
            args[1],
            100.0 * hits as f64 / keys.len() as f64,
            c.window_target()
        );
    }
}
