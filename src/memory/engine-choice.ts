import { selectEngine, type EngineChoice } from '../native'
import type { Engine, EngineOptions } from './engine'
import { JsEngine } from './js-engine'
import { NativeEngine } from './native-engine'

export type { EngineChoice }

/** Builds the engine a cache asked for, after ASTRA_CACHE_ENGINE and binary availability (see selectEngine). */
export function createEngine<V>(option: unknown, options: EngineOptions): Engine<V> {
  return selectEngine(option) === 'native' ? new NativeEngine<V>(options) : new JsEngine<V>(options)
}
