//! Every shared trace at its three capacities: W-TinyLFU (adaptive and fixed) minus LRU, in
//! points, and the mean. The fast loop for tuning the policies.
//! `cargo run --release -p astra-cache-core --example policy_sweep -- DIR` where DIR holds
//! the unzipped `{gli,web12,oltp,orm-busy}.keys` (one key per line).
use astra_cache_core::{Get, Lru, PolicyKind};

fn ratio(keys: &[Vec<u8>], cap: u32, kind: PolicyKind, seed: u32) -> (f64, Option<u32>) {
    let mut c = Lru::with_policy(cap, kind, seed);
    let mut hits = 0u64;
    for k in keys {
        match c.get(k, &mut 0.0) {
            Get::Hit(_) => hits += 1,
            _ => {
                c.set(k, 0.0, &mut 0.0);
            }
        }
    }
    (100.0 * hits as f64 / keys.len() as f64, c.window_target())
}

fn main() {
    let dir = std::env::args().nth(1).expect("trace directory");
    let seed = std::env::var("SEED").map(|s| s.parse().unwrap()).unwrap_or(4u32);
    let traces: [(&str, [u32; 3]); 4] = [
        ("gli", [3, 25, 253]),
        ("web12", [14, 138, 1376]),
        ("oltp", [187, 1869, 18688]),
        ("orm-busy", [76, 763, 7635]),
    ];
    let (mut sum, mut sum_fixed, mut n, mut worst) = (0.0, 0.0, 0.0, f64::MAX);
    for (name, caps) in traces {
        let text = std::fs::read_to_string(format!("{dir}/{name}.keys")).unwrap();
        let keys: Vec<Vec<u8>> = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let mut k = vec![0u8];
                k.extend_from_slice(l.as_bytes());
                k
            })
            .collect();
        for cap in caps {
            let (lru, _) = ratio(&keys, cap, PolicyKind::Lru, seed);
            let (tiny, window) = ratio(&keys, cap, PolicyKind::TinyLfu, seed);
            let (fixed, _) = ratio(&keys, cap, PolicyKind::TinyLfuFixed, seed);
            let d = tiny - lru;
            sum += d;
            sum_fixed += fixed - lru;
            n += 1.0;
            worst = worst.min(d);
            println!(
                "{name:>9} @ {cap:>6}: lru {lru:6.2}  tinylfu {d:+6.2}{}  fixed {:+6.2}  window {window:?}",
                if d < -1.0 { " !" } else { "  " },
                fixed - lru
            );
        }
    }
    println!(
        "mean tinylfu {:+.2} (worst {worst:+.2}), fixed {:+.2}",
        sum / n,
        sum_fixed / n
    );
}
