//! How removals reach JS.
//!
//! - Without an onRemove hook (the usual case), a reference-storage set writes into the
//!   area's log only the slots JS must clear besides the one it returns (entries its sweep
//!   expired), and a serialized cache reports nothing: Rust drops what it held.
//! - With a hook (`FLAG_REPORT` at creation), every removal of a call is kept here, key
//!   and (serialized storage) value included, and the area's status word says how many;
//!   JS then calls `takeRemovals()` once, before anything else, and calls its hook for
//!   each, in order.

use crate::area::Area;
use crate::layout::{reason_code, LOG_PAIRS, REMOVAL_FIELDS};
use crate::raw::{args, array, call, double, int, string, undefined, Env, Value};
use crate::{text, values};
use astra_cache_core::{OnRemove, Removal, NO_SLOT};
use napi::sys;
use std::cell::RefCell;

struct Kept {
    slot: i32,
    reason: i32,
    key: Vec<u8>,
    /// The stored bytes, for serialized storage.
    value: Option<Vec<u8>>,
}

thread_local! {
    static KEPT: RefCell<Vec<Kept>> = const { RefCell::new(Vec::new()) };
}

fn slot_code(slot: u32) -> i32 {
    if slot == NO_SLOT {
        -1
    } else {
        slot as i32
    }
}

/// The sink of a reference-storage call.
pub struct ReferenceSink {
    report: bool,
    logged: usize,
    log: [(i32, i32); LOG_PAIRS],
}

impl ReferenceSink {
    pub fn new(report: bool) -> Self {
        if report {
            KEPT.with(|k| k.borrow_mut().clear());
        }
        ReferenceSink { report, logged: 0, log: [(0, 0); LOG_PAIRS] }
    }

    /// Publishes the removals: all of them, kept for takeRemovals(), with a hook; else the
    /// log entries of slots other than `result` (JS overwrites that slot's value anyway).
    pub fn finish(self, area: &Area, result: i32) {
        if self.report {
            area.set_status(KEPT.with(|k| k.borrow().len()));
            return;
        }
        let mut n = 0;
        for &(slot, reason) in &self.log[..self.logged] {
            if slot != result {
                area.set_log(n, slot, reason);
                n += 1;
            }
        }
        area.set_status(n);
    }
}

impl OnRemove for ReferenceSink {
    #[inline]
    fn removed(&mut self, r: &Removal<'_>) {
        if self.report {
            KEPT.with(|k| k.borrow_mut().push(Kept { slot: slot_code(r.slot), reason: reason_code(r.reason), key: r.key.to_vec(), value: None }));
        } else if self.logged < LOG_PAIRS {
            // A reference-storage call removes at most four entries (two swept, one
            // evicted or replaced, a refused value's previous entry).
            self.log[self.logged] = (slot_code(r.slot), reason_code(r.reason));
            self.logged += 1;
        }
    }
}

/// The sink of a serialized call with a hook: keeps key and value of every removal.
pub struct SerializedSink;

impl SerializedSink {
    pub fn start() -> Self {
        KEPT.with(|k| k.borrow_mut().clear());
        SerializedSink
    }

    pub fn finish(self, area: &Area) {
        area.set_status(KEPT.with(|k| k.borrow().len()));
    }
}

impl OnRemove for SerializedSink {
    fn removed(&mut self, r: &Removal<'_>) {
        KEPT.with(|k| {
            k.borrow_mut().push(Kept { slot: slot_code(r.slot), reason: reason_code(r.reason), key: r.key.to_vec(), value: Some(r.value.to_vec()) })
        });
    }
}

/// `takeRemovals()`: the removals kept by the last reporting call, as one flat array of
/// REMOVAL_FIELDS values per removal: slot, reason, key, value (undefined in reference
/// storage), value tag. Empties the list.
unsafe extern "C" fn take_removals(env: Env, info: sys::napi_callback_info) -> Value {
    call(env, || {
        let [] = args::<0>(env, info)?;
        let kept = KEPT.with(|k| std::mem::take(&mut *k.borrow_mut()));
        let mut out: Vec<Value> = Vec::with_capacity(kept.len() * REMOVAL_FIELDS);
        for k in &kept {
            out.push(int(env, k.slot)?);
            out.push(int(env, k.reason)?);
            out.push(string(env, &text::decode(&k.key))?);
            match &k.value {
                Some(v) => {
                    let (value, tag) = values::make(env, v)?;
                    out.push(value);
                    out.push(double(env, tag as f64)?);
                }
                None => {
                    out.push(undefined(env)?);
                    out.push(double(env, 0.0)?);
                }
            }
        }
        array(env, &out)
    })
}

pub const FUNCTIONS: &[crate::raw::Export] = &[("takeRemovals", Some(take_removals))];
