import { selectEngine, type EngineChoice } from '../native'
import type { Engine, EngineOptions } from './engine'
import { JsEngine } from './js-engine'
import { NativeCallEngine, NativeEngine } from './native-engine'

export type { EngineChoice }

/** Builds the engine a cache asked for, after ASTRA_CACHE_ENGINE and binary availability (see selectEngine). */
export function createEngine<V>(option: unknown, options: EngineOptions): Engine<V> {
  if (selectEngine(option) !== 'native') return new JsEngine<V>(options)
  // NativeEngine serves hits and misses in JS and replays only hits (in LRU order) to Rust;
  // S3-FIFO and W-TinyLFU must see every get (frequencies, sketch), so they take the path
  // where every call reaches Rust.
  return (options.policy ?? 'lru') === 'lru' ? new NativeEngine<V>(options) : new NativeCallEngine<V>(options)
}
