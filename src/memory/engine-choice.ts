import { selectEngine, type EngineChoice } from '../native'
import type { Engine, EngineOptions } from './engine'
import { JsEngine } from './js-engine'
import { NativeEngine } from './native-engine'

export type { EngineChoice }

/**
 * Builds the engine a cache asked for, after ASTRA_CACHE_ENGINE and binary availability
 * (see selectEngine). Each engine checks the capacity against what it can hold and throws
 * CacheOptionError naming its limit (JS_ENGINE_MAX_ENTRIES, NATIVE_REFERENCE_MAX_ENTRIES),
 * so an 'auto' cache that falls back to JS is refused at construction, never later.
 */
export function createEngine<V>(option: unknown, options: EngineOptions<V>): Engine<V> {
  return selectEngine(option) === 'native' ? new NativeEngine<V>(options) : new JsEngine<V>(options)
}
