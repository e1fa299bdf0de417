//! Every number that crosses the boundary, written once. `layout()` hands them to JS, and
//! src/native.ts refuses a binary whose numbers differ from its own copy
//! (`src/memory/native-layout.ts`), so the two cannot drift apart silently.

use astra_cache_core::{Reason, MAX_CAPACITY, SWEEP_PER_SET};

/// Version of the calling convention; bumped whenever a function's arguments or results change.
/// 4: `mCounters(h)` answers in the area (no Float64Array argument).
pub const BINDING_VERSION: u32 = 4;

// ---- results of get / peek / remove / set (reference storage) ----
/// No entry (get, peek, remove); a set whose value was not kept.
pub const MISS: i32 = -1;
/// `EXPIRED_BASE - slot`: the entry had expired and was removed from `slot`.
pub const EXPIRED_BASE: i32 = -2;

// ---- the per-thread shared area (i32 words; f64s take two) ----
/// [0] removals to read after the call (log entries in non-hook mode, takeRemovals() in
/// hook mode); [1] the type tag of the value a serialized get returned.
pub const STATUS_AT: usize = 0;
pub const STATUS_WORDS: usize = 4;
/// Removal log of a reference-storage set: pairs (slot, reason).
pub const LOG_AT: usize = STATUS_AT + STATUS_WORDS;
pub const LOG_PAIRS: usize = 8;
/// counters(h) and mCounters(h): f64s at COUNTERS_AT (8-byte aligned), in
/// COUNTER_NAMES order; an engine writes the ones it has (`recoveries`: machine-wide only).
pub const COUNTERS_AT: usize = LOG_AT + 2 * LOG_PAIRS;
pub const COUNTER_NAMES: [&str; 10] = ["hits", "misses", "evictions", "expirations", "sets", "size", "bytes", "arenaBytes", "fragmentation", "recoveries"];
/// The time of the next call (f64 ms, 8-byte aligned), written by JS before each keyed
/// call: passing it as an argument cost ~7 ns per call, a word of this area ~1 ns.
/// Negative or NaN: the engine's own clock (clock.rs).
pub const NOW_AT: usize = COUNTERS_AT + 2 * COUNTER_NAMES.len();
/// getMany: key end offsets in, results out.
pub const BATCH: usize = 256;
pub const ENDS_AT: usize = NOW_AT + 2;
pub const OUT_AT: usize = ENDS_AT + BATCH;
pub const AREA_WORDS: usize = OUT_AT + BATCH;

// ---- serialized values: [tag, payload...] ----
pub const TAG_LATIN1: u8 = 0;
pub const TAG_UTF16: u8 = 1;
pub const TAG_BYTES: u8 = 2;
/// Bit set on the serializer's output (JS deserializes it).
pub const TAG_SERIALIZED: u8 = 4;

/// create / sCreate / sOpen flag: report every removal with its key (an onRemove hook).
pub const FLAG_REPORT: u32 = 1;
/// takeRemovals(): entries of this many elements: slot, reason, key, value, tag.
pub const REMOVAL_FIELDS: usize = 5;

const _: () = assert!(COUNTERS_AT.is_multiple_of(2) && NOW_AT.is_multiple_of(2) && NOW_AT >= COUNTERS_AT + 2 * COUNTER_NAMES.len());

/// The reason codes as JS sees them (the enum's discriminants).
pub fn reason_code(r: Reason) -> i32 {
    r as i32
}

/// (name, value) of every constant above, for `layout()`.
pub fn constants() -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = vec![
        ("BINDING_VERSION".into(), BINDING_VERSION as f64),
        ("MISS".into(), MISS as f64),
        ("EXPIRED_BASE".into(), EXPIRED_BASE as f64),
        ("STATUS_AT".into(), STATUS_AT as f64),
        ("LOG_AT".into(), LOG_AT as f64),
        ("LOG_PAIRS".into(), LOG_PAIRS as f64),
        ("COUNTERS_AT".into(), COUNTERS_AT as f64),
        ("COUNTERS".into(), COUNTER_NAMES.len() as f64),
        ("NOW_AT".into(), NOW_AT as f64),
        ("BATCH".into(), BATCH as f64),
        ("ENDS_AT".into(), ENDS_AT as f64),
        ("OUT_AT".into(), OUT_AT as f64),
        ("AREA_WORDS".into(), AREA_WORDS as f64),
        ("TAG_LATIN1".into(), TAG_LATIN1 as f64),
        ("TAG_UTF16".into(), TAG_UTF16 as f64),
        ("TAG_BYTES".into(), TAG_BYTES as f64),
        ("TAG_SERIALIZED".into(), TAG_SERIALIZED as f64),
        ("FLAG_REPORT".into(), FLAG_REPORT as f64),
        ("REMOVAL_FIELDS".into(), REMOVAL_FIELDS as f64),
        ("MAX_CAPACITY".into(), MAX_CAPACITY as f64),
        ("SWEEP_PER_SET".into(), SWEEP_PER_SET as f64),
        ("MAX_KEY_UNITS".into(), crate::text::MAX_KEY_UNITS as f64),
        ("ENTRY_BYTES".into(), astra_cache_core::ENTRY_BYTES as f64),
        ("POLICY_ENTRY_BYTES".into(), astra_cache_core::POLICY_ENTRY_BYTES as f64),
    ];
    for (i, name) in COUNTER_NAMES.iter().enumerate() {
        out.push((format!("COUNTER_{}", name.to_uppercase()), i as f64));
    }
    for r in Reason::ALL {
        out.push((format!("REASON_{}", format!("{r:?}").to_uppercase()), reason_code(r) as f64));
    }
    out
}
