//! The N-API binding of astra-cache-core: argument conversion and handles, nothing else.
//!
//! Boundary rules (docs/native-hotpath.md has the measurements behind them): plain sync
//! functions on an integer handle (no class unwrap), keys read into a stack buffer,
//! integers returned, anything more written to one shared block of memory per thread
//! (area.rs) instead of objects or typed-array arguments. The functions are raw
//! `napi_callback`s registered at module init, because napi-rs 3's generated wrappers cost
//! more than the work itself (raw.rs). Their TypeScript types live in `src/native.ts`.
//!
//! Modules, each of one idea (no module uses a module that uses it):
//! - `reference` and `serialized`: the two storages' functions; `common`: functions on any
//!   handle; `removals`: how removed entries reach JS;
//! - `handles` (the one handle table), `named` (shared caches by name), `area` (the shared
//!   block), `layout` (every constant of the boundary), `text` (the one UTF-16 reader and
//!   key encoding), `values` (serialized values), `clock` (`now`), `raw` (N-API helpers).
//!
//! Bad arguments (wrong types, a closed or unknown handle, a handle of the other storage)
//! throw a JS TypeError/Error with a `code`; no panic crosses into JS (raw::call).

mod area;
mod clock;
mod common;
mod handles;
mod layout;
mod machine;
mod named;
mod raw;
mod reference;
mod removals;
mod serialized;
mod text;
mod values;

use napi::bindgen_prelude::Object;
use napi::JsValue;
use napi_derive::napi;

/// The calling convention's version (layout.rs); src/native.ts refuses a binary whose
/// version differs (a stale build). (Also the one `#[napi]` function, so that `napi build`
/// generates `native/index.js`.)
#[napi]
pub fn binding_version() -> u32 {
    layout::BINDING_VERSION
}

/// Registers every raw function on the module's exports: one table per module.
#[napi(module_exports)]
pub fn register(exports: Object) -> napi::Result<()> {
    let value = exports.value();
    let (env, exports) = (value.env, value.value);
    for functions in [common::FUNCTIONS, reference::FUNCTIONS, serialized::FUNCTIONS, removals::FUNCTIONS, machine::FUNCTIONS] {
        raw::export_all(env, exports, functions)?;
    }
    Ok(())
}
