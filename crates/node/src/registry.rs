//! Engines addressed from JS by a small integer handle, per thread.
//!
//! A handle is `generation << 16 | index`: a closed engine's index is reused only with a
//! new generation, so a stale handle is rejected instead of reaching another engine, and
//! no valid handle is 0 (what NaN or a missing argument turn into).

use crate::raw::{error, Fail, Res};
use astra_cache_core::Lru;
use std::cell::RefCell;

pub struct Engine {
    pub lru: Lru,
    /// Slots freed by the last set's sweep, not yet handed to JS (see `take_swept`).
    pub swept: Vec<u32>,
    /// The hot path's shared area (hotpath.rs), once JS asked for it: kept here so a call
    /// reaches it with the engine's own lookup (a separate one cost ~20 ns per call).
    pub area: Option<std::sync::Arc<crate::hotpath::Area>>,
}

struct Slot {
    generation: u16,
    engine: Option<Engine>,
}

struct Registry {
    slots: Vec<Slot>,
    free: Vec<u16>,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = const { RefCell::new(Registry { slots: Vec::new(), free: Vec::new() }) };
}

const MAX_ENGINES: usize = 1 << 16;

pub fn open(engine: Engine) -> Res<u32> {
    REGISTRY.with(|r| {
        let mut r = r.try_borrow_mut().map_err(|_| busy())?;
        let index =
            match r.free.pop() {
                Some(i) => i,
                None if r.slots.len() < MAX_ENGINES => {
                    r.slots.push(Slot {
                        generation: 0,
                        engine: None,
                    });
                    (r.slots.len() - 1) as u16
                }
                None => return Err(error(
                    "ERR_ASTRA_NATIVE_LIMIT",
                    format!(
                        "astra-cache native: more than {MAX_ENGINES} engines open on this thread"
                    ),
                )),
            };
        let slot = &mut r.slots[index as usize];
        slot.generation = slot.generation.checked_add(1).unwrap_or(1);
        slot.engine = Some(engine);
        Ok(((slot.generation as u32) << 16) | index as u32)
    })
}

/// Runs `f` on the engine behind `handle`, or returns a JS error for a bad or closed handle.
#[inline]
pub fn with<R>(handle: u32, f: impl FnOnce(&mut Engine) -> R) -> Res<R> {
    REGISTRY.with(|r| {
        let mut r = r.try_borrow_mut().map_err(|_| busy())?;
        let slot = r
            .slots
            .get_mut((handle & 0xFFFF) as usize)
            .ok_or_else(|| bad_handle(handle))?;
        if slot.generation as u32 != handle >> 16 {
            return Err(bad_handle(handle));
        }
        let engine = slot.engine.as_mut().ok_or_else(|| bad_handle(handle))?;
        Ok(f(engine))
    })
}

pub fn close(handle: u32) -> Res<()> {
    REGISTRY.with(|r| {
        let mut r = r.try_borrow_mut().map_err(|_| busy())?;
        let index = (handle & 0xFFFF) as usize;
        let slot = r.slots.get_mut(index).ok_or_else(|| bad_handle(handle))?;
        if slot.generation as u32 != handle >> 16 || slot.engine.is_none() {
            return Err(bad_handle(handle));
        }
        slot.engine = None;
        r.free.push(index as u16);
        Ok(())
    })
}

#[cold]
fn bad_handle(handle: u32) -> Fail {
    error(
        "ERR_ASTRA_NATIVE_HANDLE",
        format!("astra-cache native: engine handle {handle} is not open (closed, or from another thread)"),
    )
}

#[cold]
fn busy() -> Fail {
    error(
        "ERR_ASTRA_NATIVE_CALL",
        "astra-cache native: re-entrant call",
    )
}
