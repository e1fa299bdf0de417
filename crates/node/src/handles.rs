//! The one handle table: every cache a thread opened, reference or serialized, addressed
//! from JS by a small integer.
//!
//! A handle is `generation << 16 | index`: a closed cache's index is reused only with a
//! new generation, so a stale handle is rejected instead of reaching another cache, and
//! no valid handle is 0 (what NaN or a missing argument turn into). Tables are per thread
//! (a worker gets its own; a handle from another thread is rejected).

use crate::named::Stored;
use crate::raw::{error, Fail, Res};
use astra_cache_core::Lru;
use std::cell::RefCell;

pub enum Cache {
    /// Reference storage: keys, order and deadlines here, values in JS by slot.
    Reference { lru: Box<Lru>, report: bool },
    /// Serialized storage: values here too; the cache may be shared with other threads.
    Serialized { store: Stored, report: bool },
}

struct Entry {
    generation: u16,
    cache: Option<Cache>,
}

#[derive(Default)]
struct Table {
    entries: Vec<Entry>,
    free: Vec<u16>,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table::default());
}

const MAX_HANDLES: usize = 1 << 16;

pub fn open(cache: Cache) -> Res<u32> {
    TABLE.with(|t| {
        let mut t = t.try_borrow_mut().map_err(|_| busy())?;
        let index = match t.free.pop() {
            Some(i) => i,
            None if t.entries.len() < MAX_HANDLES => {
                t.entries.push(Entry { generation: 0, cache: None });
                (t.entries.len() - 1) as u16
            }
            None => return Err(error("ERR_ASTRA_NATIVE_LIMIT", format!("astra-cache native: more than {MAX_HANDLES} caches open on this thread"))),
        };
        let e = &mut t.entries[index as usize];
        e.generation = e.generation.checked_add(1).unwrap_or(1);
        e.cache = Some(cache);
        Ok(((e.generation as u32) << 16) | index as u32)
    })
}

/// Runs `f` on the cache behind `handle`, or returns a JS error for a bad or closed handle.
#[inline(always)]
pub fn with<R>(handle: u32, f: impl FnOnce(&mut Cache) -> R) -> Res<R> {
    TABLE.with(|t| {
        let mut t = t.try_borrow_mut().map_err(|_| busy())?;
        let e = t.entries.get_mut((handle & 0xFFFF) as usize).ok_or_else(|| bad_handle(handle))?;
        if e.generation as u32 != handle >> 16 {
            return Err(bad_handle(handle));
        }
        let cache = e.cache.as_mut().ok_or_else(|| bad_handle(handle))?;
        Ok(f(cache))
    })
}

/// Removes the cache behind `handle` from the table and returns it (the caller drops it
/// outside the table's borrow: freeing a big cache takes a while).
pub fn close(handle: u32) -> Res<Cache> {
    TABLE.with(|t| {
        let mut t = t.try_borrow_mut().map_err(|_| busy())?;
        let index = (handle & 0xFFFF) as usize;
        let e = t.entries.get_mut(index).ok_or_else(|| bad_handle(handle))?;
        if e.generation as u32 != handle >> 16 {
            return Err(bad_handle(handle));
        }
        let cache = e.cache.take().ok_or_else(|| bad_handle(handle))?;
        t.free.push(index as u16);
        Ok(cache)
    })
}

#[cold]
pub fn bad_handle(handle: u32) -> Fail {
    error("ERR_ASTRA_NATIVE_HANDLE", format!("astra-cache native: cache handle {handle} is not open (closed, or from another thread)"))
}

#[cold]
pub fn wrong_storage(handle: u32, wanted: &str) -> Fail {
    error("ERR_ASTRA_NATIVE_HANDLE", format!("astra-cache native: cache handle {handle} is not a {wanted}-storage cache"))
}

#[cold]
fn busy() -> Fail {
    error("ERR_ASTRA_NATIVE_CALL", "astra-cache native: re-entrant call")
}
